//! The plans `standby plan init` writes: the DR guide's "Test failover" and
//! "Test restore (failback)" lists as steps, every action and check of the
//! language shown once, with comments to edit from.

use super::plan::Direction;

/// A failover plan to start from.
pub const FAILOVER: &str = r#"# A failover rehearsal plan: the DR guide's "Test failover" list as steps.
# Edit the names (workspaces, pools, clusters, jobs) to yours, then:
#
#   standby rehearse --check failover.yaml                     # static checks
#   standby rehearse failover.yaml --primary prod.json --secondary dr.json
#
# Durations: 90s, 30m, 1h, 1h30m, 2d (or a number of seconds); all time in a
# rehearsal is virtual. Every step has a unique `name`, an `action` or a
# `check`, and optionally `timeout`, `continue_on_failure`, `needs` (steps
# that must come first), `rollback` (an action run if the plan stops) and
# `note`. A `workspace` field takes a workspace or an endpoint name.
name: failover to the DR region
direction: failover
rpo: 1h                            # recovery point objective
rto: 4h                            # recovery time objective
# config: standby.toml             # the pair's rules (rewrites, ignores) for drift checks
# pair: prod/dr
workspaces:
  primary:
    role: primary
    # seed: primary.json           # a fixture to seed its mock from (or --primary)
  secondary:
    role: secondary
    # seed: secondary.json
endpoints:
  workspace-url: primary           # what clients use; `switch_endpoint` moves it
steps:
  # The sync client's last run before the outage. Secret values cannot be
  # read: missing keys are created holding the placeholder.
  - name: sync primary to secondary
    action: sync
    from: primary
    to: secondary
    kinds: [users, groups, instance_pools, cluster_policies, clusters, workspace_objects, secret_scopes, jobs, permissions]
    secret_placeholder: set-me-after-failover
    timeout: 30m

  # 1. Run tests to confirm that the platform is up to date.
  - name: secondary matches primary
    check: no_drift
    kinds: [jobs, clusters, instance_pools, cluster_policies, workspace_objects, secret_scopes, secrets]
  - name: secondary is passive
    check: no_passive_violations
    workspace: secondary

  # 2. Disable pools and clusters on the primary so that, if the failed
  #    service returns online, it does not start processing new data.
  - name: freeze primary
    action: freeze                 # pools 0 idle, clusters terminated, jobs paused at concurrency 0, warehouses stopped
    workspace: primary
    timeout: 15m
  - name: primary runs finished
    action: wait_for_runs
    workspace: primary
    timeout: 1h
  - name: primary region goes down
    action: simulate_outage        # the API answers 503; recovery time is measured from here
    workspace: primary

  # 3. Recovery process: the date of the latest synced data, then the data
  #    sources, the streaming recovery point, the users (manual work).
  - name: latest sync within RPO
    check: rpo
  - name: stabilize data sources
    action: wait
    duration: 30m

  # 4. Start relevant pools (or raise min_idle_instances).
  - name: raise pools
    action: raise_pools
    workspace: secondary
    pools: all                     # or a list of pool names
    min_idle_instances: 1

  # 5. Start relevant clusters.
  - name: start clusters
    action: start_clusters
    workspace: secondary
    clusters: all
    timeout: 15m
  # - name: start warehouses
  #   action: start_warehouses
  #   workspace: secondary
  #   warehouses: all

  # 6. Change the concurrent runs of jobs and run the relevant ones.
  - name: raise job concurrency
    action: set_job_concurrency
    workspace: secondary
    jobs: all
    max_concurrent_runs: 1
    rollback: {action: set_job_concurrency, workspace: secondary, max_concurrent_runs: 0}
  - name: run critical jobs
    action: run_jobs
    workspace: secondary
    jobs: [daily-etl]              # the jobs that must run first
    timeout: 1h
  - name: critical jobs succeeded
    check: jobs_succeeded
    workspace: secondary
    jobs: [daily-etl]
  - name: unpause schedules
    action: unpause_jobs
    workspace: secondary
    rollback: {action: pause_jobs, workspace: secondary}

  # 7. Point REST, JDBC and ODBC clients at the new control plane.
  - name: point clients at the DR region
    action: switch_endpoint
    endpoint: workspace-url
    to: secondary
  - name: clients reach the workspace
    check: probe                   # a GET, a path into the answer, a comparison
    workspace: workspace-url
    get: /api/2.1/clusters/list
    path: clusters[0].state        # or clusters[cluster_name=etl].state
    op: "=="                       # ==, !=, <, <=, >, >=, contains, exists, absent
    value: RUNNING
  - name: recovered within RTO
    check: within_rto
"#;

/// A failback plan to start from.
pub const FAILBACK: &str = r#"# A failback rehearsal plan: the DR guide's "Test restore (failback)" list
# as steps. Edit the names to yours, then:
#
#   standby rehearse --check failback.yaml
#   standby rehearse failover.yaml failback.yaml --primary prod.json --secondary dr.json
#
# Failback runs in a maintenance window: its recovery time is measured from
# its first step. A failback must sync what changed in the secondary back to
# the primary before the primary takes work again.
name: failback to the primary region
direction: failback
rpo: 1h
rto: 4h
# config: standby.toml
# pair: prod/dr
workspaces:
  primary:
    role: primary
  secondary:
    role: secondary
endpoints:
  workspace-url: secondary         # clients use the DR workspace until the switch
steps:
  # 1. Get confirmation that the primary region is restored.
  - name: primary region is back
    action: end_outage
    workspace: primary
  - name: primary answers
    check: probe
    workspace: primary
    get: /api/2.1/clusters/list
    op: exists

  # 2 and 5. Stop all work in the DR region.
  - name: freeze secondary
    action: freeze
    workspace: secondary
    timeout: 15m
  - name: secondary runs finished
    action: wait_for_runs
    workspace: secondary
    timeout: 2h

  # 3. Sync new or modified assets in the secondary back to the primary
  #    (in passive form: the primary takes work again only below).
  - name: sync secondary back to primary
    action: sync
    from: secondary
    to: primary
    kinds: [instance_pools, cluster_policies, clusters, workspace_objects, secret_scopes, jobs]
    secret_placeholder: set-me-after-failback
    timeout: 30m
  - name: primary holds what the secondary holds
    check: no_drift
    kinds: [jobs, clusters, instance_pools, cluster_policies, workspace_objects, secret_scopes, secrets]
    ignore_extra: true             # objects only the primary holds are kept

  # 6. Change the jobs and users URL to the primary region.
  - name: point clients at the primary region
    action: switch_endpoint
    endpoint: workspace-url
    to: primary

  # 7 and 8. Test the primary, start its pools, clusters and jobs.
  - name: raise pools
    action: raise_pools
    workspace: primary
    min_idle_instances: 1
  - name: start clusters
    action: start_clusters
    workspace: primary
    timeout: 15m
  - name: raise job concurrency
    action: set_job_concurrency
    workspace: primary
    max_concurrent_runs: 1
  - name: run critical jobs
    action: run_jobs
    workspace: primary
    jobs: [daily-etl]
    timeout: 1h
  - name: critical jobs succeeded
    check: jobs_succeeded
    workspace: primary
    jobs: [daily-etl]
  - name: unpause schedules
    action: unpause_jobs
    workspace: primary
  - name: secondary is passive again
    check: no_passive_violations
    workspace: secondary
  - name: back within RTO
    check: within_rto
"#;

/// The template for a direction.
pub fn template(direction: Direction) -> &'static str {
    match direction {
        Direction::Failover => FAILOVER,
        Direction::Failback => FAILBACK,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn templates_read_and_pass_the_static_checks() {
        for d in [Direction::Failover, Direction::Failback] {
            let plan = super::super::plan::parse(template(d), "template.yaml")
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(plan.direction, d);
            let found = super::super::check::check(&plan, &BTreeMap::new());
            assert!(found.is_empty(), "{d:?}: {found:#?}");
        }
    }
}
