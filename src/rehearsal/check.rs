//! Static checks: what can be known about a plan before anything runs.
//!
//! The plan is walked step by step over a model of each workspace, built
//! from its seeded snapshot ([`Inventory`]) when one is known: which jobs,
//! clusters, pools, policies and warehouses exist, each job's concurrency,
//! which workspace is down, where each endpoint points. A step that names
//! what does not exist at that point, runs a job whose concurrency is still
//! 0, starts a cluster before its pool is there, or works on a workspace
//! that is down is an error at that step; so is a failback without a sync
//! back, a plan that leaves the workspace it hands over to frozen, and
//! `needs` that dangle, point forward or form a cycle.
//!
//! What only a run can tell (a missing notebook, a missing secret) is left
//! to the runner: the seeded snapshot holds it, but a plan that does not
//! touch it is still a valid plan.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::plan::{
    Action, Check, Diagnostic, Direction, Plan, Role, Selection, Step, StepBody, closest,
};
use super::yaml::Pos;
use crate::kind::Kind;
use crate::snapshot::Snapshot;

/// What a static check needs to know about one workspace, from its snapshot.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Inventory {
    /// Kinds captured completely (others are not checked).
    pub complete: BTreeSet<Kind>,
    /// Jobs by name.
    pub jobs: BTreeMap<String, JobFacts>,
    /// All-purpose clusters by name, with the pools and policy they use.
    pub clusters: BTreeMap<String, ComputeRefs>,
    /// Pools by name, with `min_idle_instances`.
    pub pools: BTreeMap<String, i64>,
    /// Cluster policy names.
    pub policies: BTreeSet<String>,
    /// SQL warehouse names.
    pub warehouses: BTreeSet<String>,
}

/// What a job needs and how it is set.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JobFacts {
    /// `max_concurrent_runs` (the service's default, 1, when absent).
    pub max_concurrent_runs: i64,
    /// True when a schedule, trigger or continuous setting is paused.
    pub paused: bool,
    /// True when the job has a schedule, trigger or continuous setting.
    pub scheduled: bool,
    /// The compute it names.
    pub refs: ComputeRefs,
}

/// Compute objects named by a job or cluster.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ComputeRefs {
    /// Existing all-purpose clusters.
    pub clusters: BTreeSet<String>,
    /// Instance pools.
    pub pools: BTreeSet<String>,
    /// Cluster policies.
    pub policies: BTreeSet<String>,
    /// SQL warehouses.
    pub warehouses: BTreeSet<String>,
}

impl Inventory {
    /// The facts of a snapshot; kinds it lacks or captured incompletely are unknown.
    pub fn from_snapshot(snapshot: &Snapshot) -> Inventory {
        let mut inv = Inventory::default();
        for (kind, section) in &snapshot.kinds {
            if section.status.is_complete() {
                inv.complete.insert(*kind);
            }
        }
        let records = |kind: Kind| {
            snapshot
                .kind(kind)
                .map(|k| k.records.as_slice())
                .unwrap_or_default()
        };
        for r in records(Kind::Jobs) {
            let content: Value = serde_json::from_str(r.content.get()).unwrap_or(Value::Null);
            let settings = content.get("settings").unwrap_or(&Value::Null);
            let mut paused = false;
            let mut scheduled = false;
            for field in ["schedule", "trigger", "continuous"] {
                if let Some(s) = settings.get(field).filter(|s| s.is_object()) {
                    scheduled = true;
                    paused |= s.get("pause_status").and_then(Value::as_str) == Some("PAUSED");
                }
            }
            inv.jobs.insert(
                r.key.clone(),
                JobFacts {
                    max_concurrent_runs: settings
                        .get("max_concurrent_runs")
                        .and_then(Value::as_i64)
                        .unwrap_or(1),
                    paused,
                    scheduled,
                    refs: compute_refs(&r.refs),
                },
            );
        }
        for r in records(Kind::Clusters) {
            inv.clusters.insert(r.key.clone(), compute_refs(&r.refs));
        }
        for r in records(Kind::InstancePools) {
            let content: Value = serde_json::from_str(r.content.get()).unwrap_or(Value::Null);
            let min = content
                .get("min_idle_instances")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            inv.pools.insert(r.key.clone(), min);
        }
        inv.policies = records(Kind::ClusterPolicies)
            .iter()
            .map(|r| r.key.clone())
            .collect();
        inv.warehouses = records(Kind::SqlWarehouses)
            .iter()
            .map(|r| r.key.clone())
            .collect();
        inv
    }
}

fn compute_refs(refs: &[crate::snapshot::Reference]) -> ComputeRefs {
    let mut out = ComputeRefs::default();
    for r in refs {
        let Some(key) = &r.key else { continue };
        let set = match r.kind {
            Kind::Clusters => &mut out.clusters,
            Kind::InstancePools => &mut out.pools,
            Kind::ClusterPolicies => &mut out.policies,
            Kind::SqlWarehouses => &mut out.warehouses,
            _ => continue,
        };
        set.insert(key.clone());
    }
    out
}

/// Why something is in its state: a step, or the seed.
type Cause = String;

/// The model of one workspace while the plan is walked.
#[derive(Clone, Debug)]
struct Model {
    role: Role,
    /// Kinds whose names are known (from the seed or a sync of known objects).
    known: BTreeSet<Kind>,
    jobs: BTreeMap<String, JobState>,
    clusters: BTreeMap<String, ComputeRefs>,
    pools: BTreeSet<String>,
    policies: BTreeSet<String>,
    warehouses: BTreeSet<String>,
    /// Concurrency of jobs not in `jobs` (set by `all` selections and syncs).
    default_concurrency: Option<(i64, Cause)>,
    /// Why the whole workspace's jobs are at concurrency 0, if they are.
    jobs_frozen_by: Option<(Cause, Pos)>,
    /// Why schedules are paused, if a step paused them.
    jobs_paused_by: Option<(Cause, Pos)>,
    /// Why pools are at 0 idle, if a step set them so.
    pools_frozen_by: Option<(Cause, Pos)>,
    /// The step that took it down.
    down_since: Option<String>,
    /// Jobs run so far.
    ran: BTreeSet<String>,
}

#[derive(Clone, Debug)]
struct JobState {
    concurrency: Option<(i64, Cause)>,
    refs: ComputeRefs,
}

impl Model {
    fn new(role: Role, inv: Option<&Inventory>, decl_pos: Pos) -> Model {
        let mut m = Model {
            role,
            known: BTreeSet::new(),
            jobs: BTreeMap::new(),
            clusters: BTreeMap::new(),
            pools: BTreeSet::new(),
            policies: BTreeSet::new(),
            warehouses: BTreeSet::new(),
            default_concurrency: None,
            jobs_frozen_by: None,
            jobs_paused_by: None,
            pools_frozen_by: None,
            down_since: None,
            ran: BTreeSet::new(),
        };
        let seed = "the seed".to_owned();
        match inv {
            Some(inv) => {
                m.known = inv.complete.clone();
                for (name, facts) in &inv.jobs {
                    m.jobs.insert(
                        name.clone(),
                        JobState {
                            concurrency: Some((facts.max_concurrent_runs, seed.clone())),
                            refs: facts.refs.clone(),
                        },
                    );
                }
                m.clusters = inv.clusters.clone();
                m.pools = inv.pools.keys().cloned().collect();
                m.policies = inv.policies.clone();
                m.warehouses = inv.warehouses.clone();
                if !inv.jobs.is_empty() && inv.jobs.values().all(|j| j.max_concurrent_runs == 0) {
                    m.jobs_frozen_by = Some(("its seed (a passive copy)".into(), decl_pos));
                }
            }
            None if role == Role::Secondary => {
                // Without a seed, trust the DR guide: a secondary is passive.
                m.default_concurrency = Some((0, "the seed (a passive copy)".into()));
                m.jobs_frozen_by = Some(("its seed (a passive copy)".into(), decl_pos));
            }
            None => {}
        }
        m
    }

    fn concurrency(&self, job: &str) -> Option<&(i64, Cause)> {
        self.jobs
            .get(job)
            .and_then(|j| j.concurrency.as_ref())
            .or(self.default_concurrency.as_ref())
    }

    fn set_concurrency(&mut self, sel: &Selection, value: i64, cause: &str) {
        match sel {
            Selection::All => {
                for j in self.jobs.values_mut() {
                    j.concurrency = Some((value, cause.to_owned()));
                }
                self.default_concurrency = Some((value, cause.to_owned()));
            }
            Selection::Named(names) => {
                for n in names {
                    self.jobs
                        .entry(n.clone())
                        .or_insert_with(|| JobState {
                            concurrency: None,
                            refs: ComputeRefs::default(),
                        })
                        .concurrency = Some((value, cause.to_owned()));
                }
            }
        }
    }
}

/// Runs every static check; `seeds` holds the inventory of each workspace
/// whose seed is known.
pub fn check(plan: &Plan, seeds: &BTreeMap<String, Inventory>) -> Vec<Diagnostic> {
    let mut c = Checker {
        plan,
        out: Vec::new(),
        models: BTreeMap::new(),
        endpoints: BTreeMap::new(),
    };
    c.declarations(seeds);
    c.needs();
    c.walk();
    c.out.sort_by_key(|d| (d.line, d.column, d.severity));
    c.out.dedup();
    c.out
}

struct Checker<'p> {
    plan: &'p Plan,
    out: Vec<Diagnostic>,
    models: BTreeMap<String, Model>,
    endpoints: BTreeMap<String, String>,
}

fn names_of<'a>(it: impl IntoIterator<Item = &'a String>) -> String {
    let v: Vec<String> = it.into_iter().map(|n| format!("`{n}`")).collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

fn did_you_mean<'a>(wanted: &str, names: impl IntoIterator<Item = &'a String>) -> String {
    closest(wanted, names.into_iter().map(String::as_str))
        .map(|n| format!("; did you mean `{n}`?"))
        .unwrap_or_default()
}

impl Checker<'_> {
    fn error(&mut self, pos: Pos, message: String) {
        self.out
            .push(Diagnostic::error(&self.plan.file, pos, message));
    }

    fn warning(&mut self, pos: Pos, message: String) {
        self.out
            .push(Diagnostic::warning(&self.plan.file, pos, message));
    }

    fn declarations(&mut self, seeds: &BTreeMap<String, Inventory>) {
        for w in &self.plan.workspaces {
            self.models.insert(
                w.name.clone(),
                Model::new(w.role, seeds.get(&w.name), w.pos),
            );
        }
        for e in &self.plan.endpoints {
            if self.models.contains_key(&e.name) {
                self.error(
                    e.pos,
                    format!(
                        "endpoint `{}` has the name of a workspace: name it after what clients call it",
                        e.name
                    ),
                );
            }
            if !self.models.contains_key(&e.target) {
                let message = format!(
                    "endpoint `{}` points to unknown workspace `{}` (expected one of: {}){}",
                    e.name,
                    e.target,
                    names_of(self.models.keys()),
                    did_you_mean(&e.target, self.models.keys())
                );
                self.error(e.pos, message);
            }
            self.endpoints.insert(e.name.clone(), e.target.clone());
        }
    }

    /// Duplicate step names, and `needs` that dangle, point forward or cycle.
    fn needs(&mut self) {
        let steps = &self.plan.steps;
        let mut index: BTreeMap<&str, usize> = BTreeMap::new();
        let mut problems = Vec::new();
        for (i, s) in steps.iter().enumerate() {
            if let Some(first) = index.get(s.name.as_str()) {
                problems.push((
                    s.pos,
                    format!(
                        "duplicate step name `{}` (first at line {}): steps are named uniquely so reports and `needs` can refer to them",
                        s.name, steps[*first].pos.line
                    ),
                ));
            } else {
                index.insert(&s.name, i);
            }
        }
        // Cycles first: a cycle always has a forward edge, and the cycle is
        // the better explanation.
        let mut in_cycle = BTreeSet::new();
        for start in 0..steps.len() {
            if in_cycle.contains(&start) {
                continue;
            }
            if let Some(cycle) = find_cycle(steps, &index, start) {
                let names: Vec<&str> = cycle.iter().map(|i| steps[*i].name.as_str()).collect();
                problems.push((
                    steps[cycle[0]].pos,
                    format!("cyclic `needs`: {} → {}", names.join(" → "), names[0]),
                ));
                in_cycle.extend(cycle);
            }
        }
        for (i, s) in steps.iter().enumerate() {
            for need in &s.needs {
                match index.get(need.as_str()) {
                    None => problems.push((
                        s.pos,
                        format!(
                            "step `{}` needs unknown step `{need}`{}",
                            s.name,
                            did_you_mean(need, steps.iter().map(|s| &s.name))
                        ),
                    )),
                    Some(&j) if j >= i && !in_cycle.contains(&i) => problems.push((
                        s.pos,
                        format!(
                            "impossible order: step `{}` needs `{need}`, which comes later (line {}); move it before this step",
                            s.name, steps[j].pos.line
                        ),
                    )),
                    Some(_) => {}
                }
            }
        }
        for (pos, message) in problems {
            self.error(pos, message);
        }
    }

    /// Resolves a workspace or endpoint name at this point of the plan.
    fn resolve(&mut self, step: &Step, name: &str) -> Option<String> {
        if self.models.contains_key(name) {
            return Some(name.to_owned());
        }
        if let Some(target) = self.endpoints.get(name) {
            return self.models.contains_key(target).then(|| target.clone());
        }
        let known: Vec<String> = self
            .models
            .keys()
            .chain(self.endpoints.keys())
            .cloned()
            .collect();
        let message = format!(
            "step `{}` names unknown workspace `{name}` (expected a workspace or endpoint: {}){}",
            step.name,
            names_of(&known),
            did_you_mean(name, &known)
        );
        self.error(step.pos, message);
        None
    }

    fn up(&mut self, step: &Step, ws: &str) -> bool {
        match self.models.get(ws).and_then(|m| m.down_since.clone()) {
            Some(since) => {
                self.error(
                    step.pos,
                    format!(
                        "impossible order: step `{}` works on `{ws}`, which is down since step `{since}`; end the outage first (`end_outage`) or use the other workspace",
                        step.name
                    ),
                );
                false
            }
            None => true,
        }
    }

    /// Reports named objects the workspace does not hold at this step.
    fn exist(&mut self, step: &Step, ws: &str, kind: Kind, names: &[String]) {
        let Some(m) = self.models.get(ws) else { return };
        if !m.known.contains(&kind) {
            return;
        }
        let have: BTreeSet<String> = match kind {
            Kind::Jobs => m.jobs.keys().cloned().collect(),
            Kind::Clusters => m.clusters.keys().cloned().collect(),
            Kind::InstancePools => m.pools.clone(),
            Kind::SqlWarehouses => m.warehouses.clone(),
            _ => return,
        };
        let what = match kind {
            Kind::Jobs => "job",
            Kind::Clusters => "cluster",
            Kind::InstancePools => "pool",
            _ => "warehouse",
        };
        for name in names {
            if !have.contains(name) {
                let message = format!(
                    "step `{}` names {what} `{name}`, which `{ws}` does not have at this step (it has: {}){}{}",
                    step.name,
                    names_of(&have),
                    did_you_mean(name, &have),
                    self.sync_hint(ws, kind, name)
                );
                self.error(step.pos, message);
            }
        }
    }

    /// "; sync `jobs` into `dr` first" when the other workspace has it.
    fn sync_hint(&self, ws: &str, kind: Kind, name: &str) -> String {
        let other = self.models.iter().find(|(n, _)| n.as_str() != ws);
        let Some((other_name, other)) = other else {
            return String::new();
        };
        let has = match kind {
            Kind::Jobs => other.jobs.contains_key(name),
            Kind::Clusters => other.clusters.contains_key(name),
            Kind::InstancePools => other.pools.contains(name),
            Kind::ClusterPolicies => other.policies.contains(name),
            Kind::SqlWarehouses => other.warehouses.contains(name),
            _ => false,
        };
        if has {
            format!(
                "; `{other_name}` has it: sync `{kind}` from `{other_name}` to `{ws}` before this step"
            )
        } else {
            String::new()
        }
    }

    /// Reports compute a job or cluster uses that the workspace lacks.
    fn compute_exists(&mut self, step: &Step, ws: &str, user: &str, refs: &ComputeRefs) {
        let Some(m) = self.models.get(ws) else { return };
        let mut problems = Vec::new();
        for (kind, what, names, have) in [
            (Kind::Clusters, "cluster", &refs.clusters, None),
            (Kind::InstancePools, "pool", &refs.pools, Some(&m.pools)),
            (
                Kind::ClusterPolicies,
                "policy",
                &refs.policies,
                Some(&m.policies),
            ),
            (
                Kind::SqlWarehouses,
                "warehouse",
                &refs.warehouses,
                Some(&m.warehouses),
            ),
        ] {
            if !m.known.contains(&kind) {
                continue;
            }
            for name in names {
                let present = match have {
                    Some(set) => set.contains(name),
                    None => m.clusters.contains_key(name),
                };
                if !present {
                    problems.push(format!(
                        "impossible order: step `{}`: {user} uses {what} `{name}`, which does not exist in `{ws}` at this step{}",
                        step.name,
                        self.sync_hint(ws, kind, name)
                    ));
                }
            }
        }
        for p in problems {
            self.error(step.pos, p);
        }
    }

    fn walk(&mut self) {
        let plan = self.plan;
        let (source, target) = plan.source_and_target();
        let failback = plan.direction == Direction::Failback;
        let mut synced_back = false;
        let mut reported = false;
        for step in &plan.steps {
            if let Some(rb) = &step.rollback {
                if let Some(ws) = rb.workspace() {
                    self.resolve(step, ws);
                }
                if let Action::SwitchEndpoint { endpoint, to } = rb {
                    self.endpoint_and_target(step, endpoint, to);
                }
            }
            let StepBody::Action(a) = &step.body else {
                if let StepBody::Check(c) = &step.body {
                    self.check_step(step, c);
                }
                continue;
            };
            if let Action::Sync { from, to, .. } = a {
                let from = self.resolve(step, from);
                let to = self.resolve(step, to);
                synced_back |= from.as_deref() == source && to.as_deref() == target;
            }
            let activates = self.action(step, a);
            if failback && !synced_back && !reported && activates.as_deref() == target {
                let (s, t) = (source.unwrap_or("?"), target.unwrap_or("?"));
                self.error(
                    step.pos,
                    format!(
                        "failback without a sync back: step `{}` brings `{t}` back before any step syncs from `{s}` to `{t}`; objects changed in `{s}` during the outage would be lost",
                        step.name
                    ),
                );
                reported = true;
            }
        }
        if failback && !synced_back && !reported {
            let (s, t) = (source.unwrap_or("?"), target.unwrap_or("?"));
            self.error(
                Pos { line: 1, column: 1 },
                format!(
                    "failback without a sync back: no step syncs from `{s}` to `{t}`; objects changed in `{s}` during the outage would be lost"
                ),
            );
        }
        self.left_frozen();
    }

    fn endpoint_and_target(&mut self, step: &Step, endpoint: &str, to: &str) -> Option<String> {
        if !self.endpoints.contains_key(endpoint) {
            let known: Vec<String> = self.endpoints.keys().cloned().collect();
            let message = format!(
                "step `{}` switches unknown endpoint `{endpoint}` (declared: {}){}",
                step.name,
                names_of(&known),
                did_you_mean(endpoint, &known)
            );
            self.error(step.pos, message);
            return None;
        }
        if !self.models.contains_key(to) {
            let known: Vec<String> = self.models.keys().cloned().collect();
            let message = format!(
                "step `{}` switches `{endpoint}` to unknown workspace `{to}` (expected one of: {}){}",
                step.name,
                names_of(&known),
                did_you_mean(to, &known)
            );
            self.error(step.pos, message);
            return None;
        }
        Some(to.to_owned())
    }

    /// Applies an action to the model; returns the workspace it brings into
    /// service, if it does.
    fn action(&mut self, step: &Step, action: &Action) -> Option<String> {
        let cause = format!("step `{}`", step.name);
        if let Action::Sync {
            from,
            to,
            kinds,
            passive,
            ..
        } = action
        {
            let from = self.resolve(step, from)?;
            let to = self.resolve(step, to)?;
            if from == to {
                self.error(
                    step.pos,
                    format!("step `{}` syncs `{from}` to itself", step.name),
                );
                return None;
            }
            if !(self.up(step, &from) & self.up(step, &to)) {
                return None;
            }
            self.sync(&from, &to, kinds, *passive, &cause, step.pos);
            return None;
        }
        if let Action::SwitchEndpoint { endpoint, to } = action {
            let to = self.endpoint_and_target(step, endpoint, to)?;
            if let Some(since) = self.models.get(&to).and_then(|m| m.down_since.clone()) {
                self.error(
                    step.pos,
                    format!(
                        "impossible order: step `{}` points `{endpoint}` at `{to}`, which is down since step `{since}`",
                        step.name
                    ),
                );
            }
            self.endpoints.insert(endpoint.clone(), to.clone());
            return Some(to);
        }
        let ws_name = action.workspace()?;
        let ws = self.resolve(step, ws_name)?;
        match action {
            Action::SimulateOutage { .. } => {
                if let Some(since) = self.models.get(&ws).and_then(|m| m.down_since.clone()) {
                    self.warning(
                        step.pos,
                        format!(
                            "step `{}`: `{ws}` is already down since step `{since}`",
                            step.name
                        ),
                    );
                }
                if let Some(m) = self.models.get_mut(&ws) {
                    m.down_since = Some(step.name.clone());
                }
                return None;
            }
            Action::EndOutage { .. } => {
                if let Some(m) = self.models.get_mut(&ws) {
                    m.down_since = None;
                }
                return None;
            }
            _ => {}
        }
        if !self.up(step, &ws) {
            return None;
        }
        match action {
            Action::Freeze {
                pools,
                jobs,
                clusters: _,
                warehouses: _,
                ..
            } => {
                let m = self.models.get_mut(&ws)?;
                if *jobs {
                    m.set_concurrency(&Selection::All, 0, &cause);
                    m.jobs_frozen_by = Some((cause.clone(), step.pos));
                    m.jobs_paused_by = Some((cause.clone(), step.pos));
                }
                if *pools {
                    m.pools_frozen_by = Some((cause, step.pos));
                }
                None
            }
            Action::WaitForRuns { jobs, .. } => {
                if let Selection::Named(names) = jobs {
                    self.exist(step, &ws, Kind::Jobs, names);
                }
                None
            }
            Action::RaisePools {
                pools,
                min_idle_instances,
                ..
            } => {
                if let Selection::Named(names) = pools {
                    self.exist(step, &ws, Kind::InstancePools, names);
                }
                let m = self.models.get_mut(&ws)?;
                if *min_idle_instances > 0 {
                    m.pools_frozen_by = None;
                    return Some(ws);
                }
                None
            }
            Action::StartClusters { clusters, .. } => {
                let names: Vec<String> = match clusters {
                    Selection::Named(names) => {
                        self.exist(step, &ws, Kind::Clusters, names);
                        names.clone()
                    }
                    Selection::All => self.models.get(&ws)?.clusters.keys().cloned().collect(),
                };
                for name in names {
                    let refs = self.models.get(&ws)?.clusters.get(&name).cloned();
                    if let Some(refs) = refs {
                        let refs = ComputeRefs {
                            clusters: BTreeSet::new(),
                            ..refs
                        };
                        self.compute_exists(step, &ws, &format!("cluster `{name}`"), &refs);
                    }
                }
                Some(ws)
            }
            Action::StartWarehouses { warehouses, .. } => {
                if let Selection::Named(names) = warehouses {
                    self.exist(step, &ws, Kind::SqlWarehouses, names);
                }
                Some(ws)
            }
            Action::SetJobConcurrency {
                jobs,
                max_concurrent_runs,
                ..
            } => {
                if let Selection::Named(names) = jobs {
                    self.exist(step, &ws, Kind::Jobs, names);
                }
                let m = self.models.get_mut(&ws)?;
                m.set_concurrency(jobs, i64::from(*max_concurrent_runs), &cause);
                if *max_concurrent_runs > 0 {
                    m.jobs_frozen_by = None;
                    return Some(ws);
                }
                m.jobs_frozen_by = Some((cause, step.pos));
                None
            }
            Action::UnpauseJobs { jobs, .. } => {
                if let Selection::Named(names) = jobs {
                    self.exist(step, &ws, Kind::Jobs, names);
                }
                self.models.get_mut(&ws)?.jobs_paused_by = None;
                Some(ws)
            }
            Action::PauseJobs { jobs, .. } => {
                if let Selection::Named(names) = jobs {
                    self.exist(step, &ws, Kind::Jobs, names);
                }
                if *jobs == Selection::All {
                    self.models.get_mut(&ws)?.jobs_paused_by = Some((cause, step.pos));
                }
                None
            }
            Action::RunJobs { jobs, .. } => {
                self.exist(step, &ws, Kind::Jobs, jobs);
                for job in jobs {
                    let m = self.models.get(&ws)?;
                    let refs = m.jobs.get(job).map(|j| j.refs.clone());
                    if let Some((0, why)) = m.concurrency(job).cloned() {
                        let message = format!(
                            "impossible order: step `{}` runs job `{job}` while its max_concurrent_runs is still 0 in `{ws}` (set by {why}), so the run would be skipped; add a `set_job_concurrency` step for `{ws}` before this one",
                            step.name
                        );
                        self.error(step.pos, message);
                    }
                    if let Some(refs) = refs {
                        self.compute_exists(step, &ws, &format!("job `{job}`"), &refs);
                    }
                }
                self.models.get_mut(&ws)?.ran.extend(jobs.iter().cloned());
                Some(ws)
            }
            _ => None,
        }
    }

    fn sync(&mut self, from: &str, to: &str, kinds: &[Kind], passive: bool, cause: &str, pos: Pos) {
        let Some(src) = self.models.get(from).cloned() else {
            return;
        };
        let Some(dst) = self.models.get_mut(to) else {
            return;
        };
        for kind in kinds {
            if !src.known.contains(kind) {
                // The target's names of this kind become unknown too.
                dst.known.remove(kind);
            }
            match kind {
                Kind::Jobs => {
                    for (name, job) in &src.jobs {
                        let concurrency = if passive {
                            Some((0, cause.to_owned()))
                        } else {
                            job.concurrency.clone()
                        };
                        dst.jobs.insert(
                            name.clone(),
                            JobState {
                                concurrency,
                                refs: job.refs.clone(),
                            },
                        );
                    }
                    if passive {
                        dst.jobs_frozen_by = Some((cause.to_owned(), pos));
                        dst.jobs_paused_by = Some((cause.to_owned(), pos));
                        if !src.known.contains(kind) {
                            dst.default_concurrency = Some((0, cause.to_owned()));
                        }
                    }
                }
                Kind::Clusters => {
                    for (name, refs) in &src.clusters {
                        dst.clusters.insert(name.clone(), refs.clone());
                    }
                }
                Kind::InstancePools => {
                    dst.pools.extend(src.pools.iter().cloned());
                    if passive {
                        dst.pools_frozen_by = Some((cause.to_owned(), pos));
                    }
                }
                Kind::ClusterPolicies => dst.policies.extend(src.policies.iter().cloned()),
                _ => {}
            }
        }
    }

    fn check_step(&mut self, step: &Step, check: &Check) {
        match check {
            Check::Rpo { from, to } | Check::NoDrift { from, to, .. } => {
                let mut names = Vec::new();
                for name in [from, to].into_iter().flatten() {
                    if let Some(ws) = self.resolve(step, name) {
                        names.push(ws);
                    }
                }
                if names.len() == 2 && names[0] == names[1] {
                    self.error(
                        step.pos,
                        format!("step `{}` compares `{}` with itself", step.name, names[0]),
                    );
                }
                if matches!(check, Check::NoDrift { .. }) {
                    let (s, t) = self.plan.source_and_target();
                    let from = names
                        .first()
                        .cloned()
                        .or(from.clone())
                        .or(s.map(str::to_owned));
                    let to = to.clone().or(t.map(str::to_owned));
                    for ws in [from, to].into_iter().flatten() {
                        self.up(step, &ws);
                    }
                }
            }
            Check::JobsSucceeded { workspace, jobs } => {
                let Some(ws) = self.resolve(step, workspace) else {
                    return;
                };
                self.up(step, &ws);
                let ran = self
                    .models
                    .get(&ws)
                    .map(|m| m.ran.clone())
                    .unwrap_or_default();
                for job in jobs {
                    if !ran.contains(job) {
                        self.error(
                            step.pos,
                            format!(
                                "step `{}` checks job `{job}`, but no earlier step runs it in `{ws}` (`run_jobs`)",
                                step.name
                            ),
                        );
                    }
                }
            }
            Check::NoPassiveViolations { workspace } => {
                if let Some(ws) = self.resolve(step, workspace) {
                    self.up(step, &ws);
                }
            }
            Check::Probe { workspace, .. } => {
                self.resolve(step, workspace);
            }
            Check::WithinRto => {}
        }
    }

    /// The workspace the plan hands over to must not be left frozen.
    fn left_frozen(&mut self) {
        let mut active: BTreeSet<String> = self.endpoints.values().cloned().collect();
        if active.is_empty() {
            if let (_, Some(t)) = self.plan.source_and_target() {
                active.insert(t.to_owned());
            }
        }
        let mut problems = Vec::new();
        for ws in &active {
            let Some(m) = self.models.get(ws) else {
                continue;
            };
            let role = m.role.name();
            if let Some((why, pos)) = &m.jobs_frozen_by {
                problems.push((
                    *pos,
                    format!(
                        "the plan never unfreezes what it froze: `{ws}` ({role}) is where work runs at the end, but its jobs keep max_concurrent_runs 0 from {why}; add `set_job_concurrency` for `{ws}` after it"
                    ),
                ));
            }
            if let Some((why, pos)) = &m.jobs_paused_by {
                problems.push((
                    *pos,
                    format!(
                        "the plan never unfreezes what it froze: `{ws}` ({role}) is where work runs at the end, but its job schedules stay paused by {why}; add `unpause_jobs` for `{ws}` after it"
                    ),
                ));
            }
            if let Some((why, pos)) = &m.pools_frozen_by {
                problems.push((
                    *pos,
                    format!(
                        "the plan never unfreezes what it froze: `{ws}` ({role}) is where work runs at the end, but its pools keep min_idle_instances 0 from {why}; add `raise_pools` for `{ws}` after it"
                    ),
                ));
            }
            if let Some(since) = &m.down_since {
                problems.push((
                    Pos { line: 1, column: 1 },
                    format!(
                        "the plan ends with `{ws}` down (since step `{since}`), yet that is where work runs at the end"
                    ),
                ));
            }
        }
        for (pos, message) in problems {
            self.error(pos, message);
        }
    }
}

/// A cycle of `needs` through `start`, as step indexes, if there is one.
fn find_cycle(steps: &[Step], index: &BTreeMap<&str, usize>, start: usize) -> Option<Vec<usize>> {
    // Depth-first search with an explicit stack (plans are short, but input
    // is untrusted: no recursion).
    let mut path = vec![start];
    let mut next_edge = vec![0usize];
    let mut visited = BTreeSet::new();
    while let Some(&node) = path.last() {
        let edge = next_edge.last().copied().unwrap_or(0);
        let needs = &steps[node].needs;
        if edge >= needs.len() {
            visited.insert(node);
            path.pop();
            next_edge.pop();
            continue;
        }
        if let Some(e) = next_edge.last_mut() {
            *e += 1;
        }
        let Some(&to) = index.get(needs[edge].as_str()) else {
            continue;
        };
        if to == start {
            return Some(path);
        }
        if !visited.contains(&to) && !path.contains(&to) {
            path.push(to);
            next_edge.push(0);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::plan::parse;
    use super::*;

    const HEAD: &str = "\
name: t
direction: failover
rpo: 1h
rto: 4h
workspaces:
  prod: {role: primary}
  dr: {role: secondary}
endpoints:
  url: prod
steps:
";

    fn inventory() -> BTreeMap<String, Inventory> {
        let mut prod = Inventory {
            complete: Kind::ALL.into_iter().collect(),
            ..Inventory::default()
        };
        prod.pools.insert("etl-pool".into(), 2);
        prod.clusters.insert(
            "etl".into(),
            ComputeRefs {
                pools: ["etl-pool".to_owned()].into(),
                ..ComputeRefs::default()
            },
        );
        prod.jobs.insert(
            "daily".into(),
            JobFacts {
                max_concurrent_runs: 1,
                paused: false,
                scheduled: true,
                refs: ComputeRefs {
                    clusters: ["etl".to_owned()].into(),
                    ..ComputeRefs::default()
                },
            },
        );
        let mut dr = Inventory {
            complete: Kind::ALL.into_iter().collect(),
            ..Inventory::default()
        };
        dr.jobs.insert(
            "hourly".into(),
            JobFacts {
                max_concurrent_runs: 0,
                paused: true,
                scheduled: true,
                refs: ComputeRefs::default(),
            },
        );
        [("prod".to_owned(), prod), ("dr".to_owned(), dr)].into()
    }

    fn diagnostics(steps: &str) -> Vec<String> {
        let text = format!("{HEAD}{steps}");
        let plan = parse(&text, "p.yaml").unwrap_or_else(|e| panic!("{e}"));
        check(&plan, &inventory())
            .into_iter()
            .map(|d| d.to_string())
            .collect()
    }

    const GOOD: &str = "  - {name: sync, action: sync, from: prod, to: dr, kinds: [instance_pools, clusters, jobs]}
  - {name: freeze prod, action: freeze, workspace: prod}
  - {name: outage, action: simulate_outage, workspace: prod}
  - {name: pools, action: raise_pools, workspace: dr, min_idle_instances: 1}
  - {name: start, action: start_clusters, workspace: dr, clusters: [etl]}
  - {name: concurrency, action: set_job_concurrency, workspace: dr, max_concurrent_runs: 1}
  - {name: run, action: run_jobs, workspace: dr, jobs: [daily]}
  - {name: ok, check: jobs_succeeded, workspace: dr, jobs: [daily]}
  - {name: unpause, action: unpause_jobs, workspace: dr}
  - {name: switch, action: switch_endpoint, endpoint: url, to: dr, needs: [run]}
";

    #[test]
    fn a_good_plan_has_no_findings() {
        assert_eq!(diagnostics(GOOD), Vec::<String>::new());
    }

    #[test]
    fn a_run_while_concurrency_is_zero_is_an_impossible_order() {
        let steps = GOOD.replace(
            "  - {name: concurrency, action: set_job_concurrency, workspace: dr, max_concurrent_runs: 1}\n",
            "",
        ) + "  - {name: concurrency, action: set_job_concurrency, workspace: dr, max_concurrent_runs: 1}\n";
        let d = diagnostics(&steps);
        assert_eq!(d.len(), 1, "{d:#?}");
        assert!(d[0].starts_with("p.yaml:16:5: error: impossible order: step `run` runs job `daily` while its max_concurrent_runs is still 0 in `dr` (set by step `sync`)"), "{d:#?}");
    }

    #[test]
    fn a_run_before_its_pool_or_job_exists() {
        let d = diagnostics(&GOOD.replace("instance_pools, clusters, jobs", "clusters"));
        assert!(d.iter().any(|m| m.contains("cluster `etl` uses pool `etl-pool`, which does not exist in `dr` at this step; `prod` has it: sync `instance_pools` from `prod` to `dr`")), "{d:#?}");
        assert!(
            d.iter().any(|m| m.contains(
                "names job `daily`, which `dr` does not have at this step (it has: `hourly`)"
            )),
            "{d:#?}"
        );
    }

    #[test]
    fn unknown_names_and_down_workspaces() {
        let d = diagnostics(
            &GOOD
                .replace("clusters: [etl]", "clusters: [etll]")
                .replace("workspace: prod}", "workspace: prd}"),
        );
        assert!(
            d.iter()
                .any(|m| m.contains("names cluster `etll`") && m.contains("did you mean `etl`?")),
            "{d:#?}"
        );
        assert!(
            d.iter().any(
                |m| m.contains("unknown workspace `prd`") && m.contains("did you mean `prod`?")
            ),
            "{d:#?}"
        );
        let d = diagnostics(
            &(GOOD.to_owned()
                + "  - {name: late, action: pause_jobs, workspace: url}\n  - {name: bad, action: raise_pools, workspace: prod, min_idle_instances: 1}\n"),
        );
        assert_eq!(d.len(), 2, "{d:#?}");
        assert!(
            d[0].contains("schedules stay paused by step `late`"),
            "{d:#?}"
        );
        assert!(
            d[1].contains("step `bad` works on `prod`, which is down since step `outage`"),
            "{d:#?}"
        );
    }

    #[test]
    fn needs_that_dangle_point_forward_or_cycle() {
        let d = diagnostics(&GOOD.replace("needs: [run]", "needs: [rn]"));
        assert!(
            d.iter()
                .any(|m| m.contains("needs unknown step `rn`; did you mean `run`?")),
            "{d:#?}"
        );
        let d = diagnostics(&GOOD.replace("name: run,", "name: run, needs: [ok],"));
        assert!(
            d.iter().any(|m| m
                .contains("impossible order: step `run` needs `ok`, which comes later (line 18)")),
            "{d:#?}"
        );
        let d = diagnostics(&GOOD.replace("name: run,", "name: run, needs: [switch],"));
        assert!(
            d.iter()
                .any(|m| m.contains("cyclic `needs`: run → switch → run")),
            "{d:#?}"
        );
        let d = diagnostics(&GOOD.replace("name: ok,", "name: run,"));
        assert!(
            d.iter()
                .any(|m| m.contains("duplicate step name `run` (first at line 17)")),
            "{d:#?}"
        );
    }

    #[test]
    fn the_plan_must_unfreeze_where_work_ends_up() {
        let d = diagnostics(&GOOD.replace(
            "  - {name: unpause, action: unpause_jobs, workspace: dr}\n",
            "",
        ));
        assert_eq!(d.len(), 1, "{d:#?}");
        assert!(d[0].contains("p.yaml:11:5: error: the plan never unfreezes what it froze: `dr` (secondary) is where work runs at the end, but its job schedules stay paused by step `sync`"), "{d:#?}");
        let d = diagnostics(&GOOD.replace(
            "  - {name: pools, action: raise_pools, workspace: dr, min_idle_instances: 1}\n",
            "",
        ));
        assert!(
            d.iter().any(|m| m.contains(
                "its pools keep min_idle_instances 0 from step `sync`; add `raise_pools`"
            )),
            "{d:#?}"
        );
        // Freezing the primary that stays behind is what a failover does.
        assert!(!diagnostics(GOOD).iter().any(|m| m.contains("`prod`")));
    }

    #[test]
    fn failback_needs_a_sync_back() {
        let text = format!("{HEAD}  - {{name: concurrency, action: set_job_concurrency, workspace: prod, max_concurrent_runs: 1}}\n")
            .replace("direction: failover", "direction: failback");
        let plan = parse(&text, "p.yaml").unwrap();
        let d: Vec<String> = check(&plan, &BTreeMap::new())
            .iter()
            .map(ToString::to_string)
            .collect();
        assert!(d.iter().any(|m| m.contains("p.yaml:11:5: error: failback without a sync back: step `concurrency` brings `prod` back before any step syncs from `dr` to `prod`")), "{d:#?}");
        assert_eq!(d.len(), 1, "{d:#?}");
    }
}
