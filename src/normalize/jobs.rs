//! Jobs, keyed by `settings.name`.
//!
//! Content is the job's `settings` and `run_as_user_name`. Jobs are what a
//! failover runs, so every id inside a job becomes a reference a diff can
//! check in the secondary: a task's `existing_cluster_id`, the pools and
//! policy of a `new_cluster` or job cluster, a warehouse, a `run_job_task`'s
//! job; notebooks, Python files and init scripts in the workspace, and the
//! secrets named in Spark configuration are references by name. Arrays that
//! are sets (tasks, job clusters, dependencies, parameters, environments,
//! libraries, notification lists) are sorted so their order never shows as drift.
//! `max_concurrent_runs`, `schedule`, `trigger` and `continuous` stay: the
//! DR rules read them (a passive job runs nothing). Jobs have no
//! modification time.

use serde_json::{Map, Value, json};

use super::canon::{drop_fields, sort_array, sort_array_by, sort_values_by};
use super::compute::{join, normalize_libraries, normalize_spec, reference_field, workspace_path};
use super::{Draft, Resolver, str_field};
use crate::kind::Kind;
use crate::snapshot::Reference;

/// Settings fields that say how the job was created, not what it does: jobs
/// created through API 2.0 read back as `SINGLE_TASK`, the same job created
/// later as `MULTI_TASK`, and API 2.2 returns both with a `tasks` array.
const SETTINGS_VOLATILE: &[&str] = &["format"];

/// One draft per named job: settings with ids as natural keys, set-like arrays sorted.
pub(crate) fn normalize(objects: &[Value], r: &Resolver) -> Vec<Draft> {
    objects
        .iter()
        .filter_map(|job| {
            let settings = job.get("settings")?;
            let key = str_field(settings, "name")?.to_owned();
            let mut settings = settings.clone();
            let mut refs = Vec::new();
            normalize_settings(&mut settings, r, &mut refs);
            let content = json!({
                "settings": settings,
                "run_as_user_name": job.get("run_as_user_name").cloned().unwrap_or(Value::Null),
            });
            Some(Draft {
                key,
                modified_at: None,
                refs,
                content,
            })
        })
        .collect()
}

fn normalize_settings(settings: &mut Value, r: &Resolver, refs: &mut Vec<Reference>) {
    drop_fields(settings, SETTINGS_VOLATILE);
    let Value::Object(map) = settings else { return };
    let git = map.get("git_source").is_some_and(Value::is_object);
    if let Some(Value::Array(tasks)) = map.get_mut("tasks") {
        for task in tasks.iter_mut() {
            let path = format!(
                "settings.tasks[{}]",
                str_field(task, "task_key").unwrap_or_default()
            );
            normalize_task(task, &path, git, r, refs);
        }
        sort_values_by(tasks, "task_key");
    }
    if let Some(Value::Array(clusters)) = map.get_mut("job_clusters") {
        for cluster in clusters.iter_mut() {
            let path = format!(
                "settings.job_clusters[{}]",
                str_field(cluster, "job_cluster_key").unwrap_or_default()
            );
            if let Some(spec) = cluster.get_mut("new_cluster") {
                normalize_spec(spec, &format!("{path}.new_cluster"), r, refs);
            }
        }
        sort_values_by(clusters, "job_cluster_key");
    }
    if let Some(Value::Object(run_as)) = map.get("run_as") {
        for (field, kind) in [
            ("user_name", Kind::Users),
            ("service_principal_name", Kind::ServicePrincipals),
            ("group_name", Kind::Groups),
        ] {
            if let Some(name) = run_as.get(field).and_then(Value::as_str) {
                Resolver::named(format!("settings.run_as.{field}"), kind, name, refs);
            }
        }
    }
    sort_notifications(map);
    let settings = &mut *settings;
    sort_array_by(settings, "parameters", "name");
    sort_array_by(settings, "environments", "environment_key");
    if let Some(table_update) = settings
        .get_mut("trigger")
        .and_then(|t| t.get_mut("table_update"))
    {
        sort_array(table_update, "table_names");
    }
}

/// One task (or the task inside a `for_each_task`, recursively), at `path`.
fn normalize_task(
    task: &mut Value,
    path: &str,
    git: bool,
    r: &Resolver,
    refs: &mut Vec<Reference>,
) {
    let Value::Object(map) = task else { return };
    reference_field(
        map,
        "existing_cluster_id",
        "existing_cluster",
        path,
        Kind::Clusters,
        r,
        refs,
    );
    if let Some(spec) = map.get_mut("new_cluster") {
        normalize_spec(spec, &join(path, "new_cluster"), r, refs);
    }
    if let Some(libraries) = map.get_mut("libraries") {
        normalize_libraries(libraries, &join(path, "libraries"), refs);
    }
    // Every kind of task that runs on a SQL warehouse names it the same way.
    for (name, body) in map.iter_mut() {
        if let (true, Value::Object(body)) = (name.ends_with("_task"), body) {
            reference_field(
                body,
                "warehouse_id",
                "warehouse",
                &join(path, name),
                Kind::SqlWarehouses,
                r,
                refs,
            );
        }
    }
    if let Some(Value::Object(run_job)) = map.get_mut("run_job_task") {
        reference_field(
            run_job,
            "job_id",
            "job",
            &join(path, "run_job_task"),
            Kind::Jobs,
            r,
            refs,
        );
    }
    if let Some(notebook) = map.get("notebook_task").filter(|t| from_workspace(t, git)) {
        if let Some(notebook_path) = str_field(notebook, "notebook_path") {
            path_ref(
                join(path, "notebook_task.notebook_path"),
                notebook_path,
                refs,
            );
        }
    }
    if let Some(python) = map
        .get("spark_python_task")
        .filter(|t| from_workspace(t, git))
    {
        let file = str_field(python, "python_file").filter(|f| is_workspace_file(f));
        if let Some(file) = file {
            path_ref(join(path, "spark_python_task.python_file"), file, refs);
        }
    }
    if let Some(file) = map
        .get("sql_task")
        .and_then(|t| t.get("file"))
        .filter(|f| from_workspace(f, git))
    {
        if let Some(file_path) = str_field(file, "path") {
            path_ref(join(path, "sql_task.file.path"), file_path, refs);
        }
    }
    if let Some(inner) = map.get_mut("for_each_task").and_then(|f| f.get_mut("task")) {
        normalize_task(inner, &join(path, "for_each_task.task"), git, r, refs);
    }
    sort_notifications(map);
    let task = &mut *task;
    sort_array_by(task, "depends_on", "task_key");
}

/// True when the file a task runs comes from the workspace: an explicit
/// `source: WORKSPACE`, or no source in a job without `git_source` (with one,
/// the API defaults the source to `GIT`, and the path is inside the repository).
fn from_workspace(task: &Value, git: bool) -> bool {
    match str_field(task, "source") {
        Some(source) => source.eq_ignore_ascii_case("WORKSPACE"),
        None => !git,
    }
}

/// A Python file path that names a workspace file, not DBFS, a volume or a URL.
fn is_workspace_file(path: &str) -> bool {
    path.starts_with('/') && !path.starts_with("/Volumes/") && !path.starts_with("/dbfs/")
}

/// Records a reference to a workspace path. A path inside a `/Repos/<folder>/<repo>`
/// Git folder refers to the repo, since workspace objects are not listed inside repos.
fn path_ref(field: String, path: &str, refs: &mut Vec<Reference>) {
    let path = workspace_path(path);
    if let Some(rest) = path.strip_prefix("/Repos/") {
        let mut parts = rest.splitn(3, '/');
        if let (Some(folder), Some(repo)) = (parts.next(), parts.next()) {
            if !folder.is_empty() && !repo.is_empty() {
                Resolver::named(field, Kind::Repos, &format!("/Repos/{folder}/{repo}"), refs);
                return;
            }
        }
    }
    Resolver::named(field, Kind::WorkspaceObjects, path, refs);
}

/// Sorts the address lists of `email_notifications` and the destination lists
/// of `webhook_notifications` (sets, whatever order they were entered in), and
/// health rules.
fn sort_notifications(map: &mut Map<String, Value>) {
    if let Some(Value::Object(email)) = map.get_mut("email_notifications") {
        for list in email.values_mut() {
            if let Value::Array(addresses) = list {
                addresses.sort_by_cached_key(super::canonical_json);
            }
        }
    }
    if let Some(Value::Object(webhooks)) = map.get_mut("webhook_notifications") {
        for list in webhooks.values_mut() {
            if let Value::Array(destinations) = list {
                sort_values_by(destinations, "id");
            }
        }
    }
    if let Some(health) = map.get_mut("health") {
        sort_array(health, "rules");
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn resolver() -> Resolver {
        let mut r = Resolver::default();
        r.insert(Kind::Clusters, "0923-164208-meows279", "analytics");
        r.insert(Kind::InstancePools, "0101-120000-pool1", "etl-pool");
        r.insert(Kind::ClusterPolicies, "D96308F1BF0003A8", "job-policy");
        r.insert(Kind::SqlWarehouses, "8e6f6a1b2c3d4e5f", "reporting");
        r.insert(Kind::Jobs, "411", "publish");
        r
    }

    fn named(field: &str, kind: Kind, key: &str) -> Reference {
        Reference {
            field: field.into(),
            kind,
            key: Some(key.into()),
            unresolved_id: None,
        }
    }

    /// A `jobs/list?expand_tasks=true` entry as API 2.2 returns it.
    fn raw_job() -> Value {
        json!({
            "job_id": 1017,
            "creator_user_name": "ana@example.com",
            "run_as_user_name": "etl@example.com",
            "created_time": 1727109728000i64,
            "has_more": false,
            "settings": {
                "name": "nightly-etl",
                "format": "MULTI_TASK",
                "max_concurrent_runs": 1,
                "timeout_seconds": 0,
                "schedule": {"quartz_cron_expression": "0 0 2 * * ?", "timezone_id": "UTC", "pause_status": "UNPAUSED"},
                "email_notifications": {"on_failure": ["oncall@example.com", "ana@example.com"], "no_alert_for_skipped_runs": false},
                "webhook_notifications": {"on_failure": [{"id": "b0b"}, {"id": "a1a"}]},
                "run_as": {"user_name": "etl@example.com"},
                "tags": {"team": "data"},
                "parameters": [{"name": "run_date", "default": ""}, {"name": "env", "default": "prod"}],
                "job_clusters": [
                    {"job_cluster_key": "small", "new_cluster": {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1}},
                    {"job_cluster_key": "main", "new_cluster": {
                        "spark_version": "15.4.x-scala2.12",
                        "instance_pool_id": "0101-120000-pool1",
                        "policy_id": "D96308F1BF0003A8",
                        "num_workers": 4,
                        "spark_conf": {"spark.datasource.password": "{{secrets/etl/db-password}}"},
                        "default_tags": {"JobId": "1017"}
                    }}
                ],
                "tasks": [
                    {
                        "task_key": "publish",
                        "depends_on": [{"task_key": "transform"}, {"task_key": "ingest"}],
                        "run_job_task": {"job_id": 411}
                    },
                    {
                        "task_key": "ingest",
                        "existing_cluster_id": "0923-164208-meows279",
                        "notebook_task": {"notebook_path": "/Shared/etl/ingest", "base_parameters": {"day": "{{job.start_time.iso_date}}"}},
                        "libraries": [{"pypi": {"package": "requests==2.32.3"}}, {"whl": "/Workspace/Shared/libs/etl-1.0-py3-none-any.whl"}],
                        "max_retries": 2
                    },
                    {
                        "task_key": "transform",
                        "depends_on": [{"task_key": "ingest"}],
                        "job_cluster_key": "main",
                        "spark_python_task": {"python_file": "/Workspace/Shared/etl/transform.py", "parameters": ["--full"]}
                    },
                    {
                        "task_key": "report",
                        "depends_on": [{"task_key": "publish"}],
                        "sql_task": {"warehouse_id": "8e6f6a1b2c3d4e5f", "file": {"path": "/Shared/sql/report.sql"}}
                    }
                ]
            }
        })
    }

    #[test]
    fn settings_become_content_with_ids_as_natural_keys() {
        let drafts = normalize(&[raw_job()], &resolver());
        assert_eq!(drafts.len(), 1);
        let d = &drafts[0];
        assert_eq!(d.key, "nightly-etl");
        assert_eq!(d.modified_at, None);
        assert_eq!(
            d.content,
            json!({
                "run_as_user_name": "etl@example.com",
                "settings": {
                    "name": "nightly-etl",
                    "max_concurrent_runs": 1,
                    "timeout_seconds": 0,
                    "schedule": {"quartz_cron_expression": "0 0 2 * * ?", "timezone_id": "UTC", "pause_status": "UNPAUSED"},
                    "email_notifications": {"on_failure": ["ana@example.com", "oncall@example.com"], "no_alert_for_skipped_runs": false},
                    "webhook_notifications": {"on_failure": [{"id": "a1a"}, {"id": "b0b"}]},
                    "run_as": {"user_name": "etl@example.com"},
                    "tags": {"team": "data"},
                    "parameters": [{"name": "env", "default": "prod"}, {"name": "run_date", "default": ""}],
                    "job_clusters": [
                        {"job_cluster_key": "main", "new_cluster": {
                            "spark_version": "15.4.x-scala2.12",
                            "instance_pool": "etl-pool",
                            "policy": "job-policy",
                            "num_workers": 4,
                            "spark_conf": {"spark.datasource.password": "{{secrets/etl/db-password}}"}
                        }},
                        {"job_cluster_key": "small", "new_cluster": {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1}}
                    ],
                    "tasks": [
                        {
                            "task_key": "ingest",
                            "existing_cluster": "analytics",
                            "notebook_task": {"notebook_path": "/Shared/etl/ingest", "base_parameters": {"day": "{{job.start_time.iso_date}}"}},
                            "libraries": [{"pypi": {"package": "requests==2.32.3"}}, {"whl": "/Workspace/Shared/libs/etl-1.0-py3-none-any.whl"}],
                            "max_retries": 2
                        },
                        {
                            "task_key": "publish",
                            "depends_on": [{"task_key": "ingest"}, {"task_key": "transform"}],
                            "run_job_task": {"job": "publish"}
                        },
                        {
                            "task_key": "report",
                            "depends_on": [{"task_key": "publish"}],
                            "sql_task": {"warehouse": "reporting", "file": {"path": "/Shared/sql/report.sql"}}
                        },
                        {
                            "task_key": "transform",
                            "depends_on": [{"task_key": "ingest"}],
                            "job_cluster_key": "main",
                            "spark_python_task": {"python_file": "/Workspace/Shared/etl/transform.py", "parameters": ["--full"]}
                        }
                    ]
                }
            })
        );
        let mut refs = d.refs.clone();
        refs.sort();
        let mut expected = vec![
            named(
                "settings.tasks[ingest].existing_cluster",
                Kind::Clusters,
                "analytics",
            ),
            named(
                "settings.tasks[ingest].notebook_task.notebook_path",
                Kind::WorkspaceObjects,
                "/Shared/etl/ingest",
            ),
            named(
                "settings.tasks[ingest].libraries[1].whl",
                Kind::WorkspaceObjects,
                "/Shared/libs/etl-1.0-py3-none-any.whl",
            ),
            named(
                "settings.tasks[publish].run_job_task.job",
                Kind::Jobs,
                "publish",
            ),
            named(
                "settings.tasks[transform].spark_python_task.python_file",
                Kind::WorkspaceObjects,
                "/Shared/etl/transform.py",
            ),
            named(
                "settings.tasks[report].sql_task.warehouse",
                Kind::SqlWarehouses,
                "reporting",
            ),
            named(
                "settings.tasks[report].sql_task.file.path",
                Kind::WorkspaceObjects,
                "/Shared/sql/report.sql",
            ),
            named(
                "settings.job_clusters[main].new_cluster.instance_pool",
                Kind::InstancePools,
                "etl-pool",
            ),
            named(
                "settings.job_clusters[main].new_cluster.policy",
                Kind::ClusterPolicies,
                "job-policy",
            ),
            named(
                "settings.job_clusters[main].new_cluster.spark_conf.spark.datasource.password",
                Kind::SecretScopes,
                "etl",
            ),
            named(
                "settings.job_clusters[main].new_cluster.spark_conf.spark.datasource.password",
                Kind::Secrets,
                "etl/db-password",
            ),
            named("settings.run_as.user_name", Kind::Users, "etl@example.com"),
        ];
        expected.sort();
        assert_eq!(refs, expected);
    }

    #[test]
    fn shuffled_arrays_give_equal_content() {
        let mut shuffled = raw_job();
        let settings = &mut shuffled["settings"];
        if let Some(tasks) = settings["tasks"].as_array_mut() {
            tasks.reverse();
            for task in tasks.iter_mut() {
                if let Some(deps) = task.get_mut("depends_on").and_then(Value::as_array_mut) {
                    deps.reverse();
                }
                if let Some(libs) = task.get_mut("libraries").and_then(Value::as_array_mut) {
                    libs.reverse();
                }
            }
        }
        for field in ["job_clusters", "parameters"] {
            if let Some(items) = settings[field].as_array_mut() {
                items.reverse();
            }
        }
        if let Some(list) = settings["email_notifications"]["on_failure"].as_array_mut() {
            list.reverse();
        }
        shuffled["job_id"] = json!(2048);
        shuffled["created_time"] = json!(1);
        let a = normalize(&[raw_job()], &resolver()).remove(0);
        let b = normalize(&[shuffled], &resolver()).remove(0);
        let (mut refs_a, mut refs_b) = (a.refs.clone(), b.refs.clone());
        refs_a.sort();
        refs_b.sort();
        assert_eq!(refs_a, refs_b);
        assert_eq!(a.into_record().content.get(), b.into_record().content.get());
    }

    #[test]
    fn unresolved_ids_stay_visible_in_content_and_refs() {
        let raw = json!({
            "job_id": 5,
            "settings": {
                "name": "dangling",
                "tasks": [{
                    "task_key": "run",
                    "existing_cluster_id": "0000-000000-gone",
                    "run_job_task": {"job_id": 999},
                    "notebook_task": {"notebook_path": "/Shared/x", "warehouse_id": "nope"},
                    "new_cluster": {"instance_pool_id": "pool-gone", "driver_instance_pool_id": "0101-120000-pool1"}
                }]
            }
        });
        let d = normalize(&[raw], &resolver()).remove(0);
        let task = &d.content["settings"]["tasks"][0];
        assert_eq!(
            task["existing_cluster"],
            json!({"unresolved_id": "0000-000000-gone"})
        );
        assert_eq!(
            task["run_job_task"],
            json!({"job": {"unresolved_id": "999"}})
        );
        assert_eq!(
            task["notebook_task"]["warehouse"],
            json!({"unresolved_id": "nope"})
        );
        assert_eq!(
            task["new_cluster"]["instance_pool"],
            json!({"unresolved_id": "pool-gone"})
        );
        assert_eq!(
            task["new_cluster"]["driver_instance_pool"],
            json!("etl-pool")
        );
        let unresolved: Vec<_> = d
            .refs
            .iter()
            .filter_map(|r| {
                r.unresolved_id
                    .as_deref()
                    .map(|id| (r.field.as_str(), r.kind, id))
            })
            .collect();
        assert_eq!(
            unresolved,
            vec![
                (
                    "settings.tasks[run].existing_cluster",
                    Kind::Clusters,
                    "0000-000000-gone"
                ),
                (
                    "settings.tasks[run].new_cluster.instance_pool",
                    Kind::InstancePools,
                    "pool-gone"
                ),
                (
                    "settings.tasks[run].notebook_task.warehouse",
                    Kind::SqlWarehouses,
                    "nope"
                ),
                ("settings.tasks[run].run_job_task.job", Kind::Jobs, "999"),
            ]
        );
    }

    #[test]
    fn task_new_cluster_secrets_and_init_scripts_are_referenced() {
        let raw = json!({
            "job_id": 6,
            "settings": {
                "name": "with-new-cluster",
                "tasks": [{
                    "task_key": "load",
                    "new_cluster": {
                        "spark_version": "15.4.x-scala2.12",
                        "num_workers": 2,
                        "spark_env_vars": {"DB_URL": "jdbc:postgresql://db/x?password={{secrets/ops/pg}}"},
                        "init_scripts": [{"workspace": {"destination": "/Shared/init/setup.sh"}}],
                        "default_tags": {"RunName": "load"}
                    },
                    "spark_jar_task": {"main_class_name": "com.example.Load"}
                }]
            }
        });
        let d = normalize(&[raw], &resolver()).remove(0);
        assert_eq!(
            d.content["settings"]["tasks"][0]["new_cluster"],
            json!({
                "spark_version": "15.4.x-scala2.12",
                "num_workers": 2,
                "spark_env_vars": {"DB_URL": "jdbc:postgresql://db/x?password={{secrets/ops/pg}}"},
                "init_scripts": [{"workspace": {"destination": "/Shared/init/setup.sh"}}]
            })
        );
        assert_eq!(
            d.refs,
            vec![
                named(
                    "settings.tasks[load].new_cluster.spark_env_vars.DB_URL",
                    Kind::SecretScopes,
                    "ops"
                ),
                named(
                    "settings.tasks[load].new_cluster.spark_env_vars.DB_URL",
                    Kind::Secrets,
                    "ops/pg"
                ),
                named(
                    "settings.tasks[load].new_cluster.init_scripts[0].workspace.destination",
                    Kind::WorkspaceObjects,
                    "/Shared/init/setup.sh"
                ),
            ]
        );
    }

    #[test]
    fn git_sources_repos_and_for_each_tasks() {
        let raw = json!({
            "job_id": 7,
            "settings": {
                "name": "from-git",
                "git_source": {"git_url": "https://github.com/example/etl", "git_provider": "gitHub", "git_branch": "main"},
                "tasks": [
                    {"task_key": "git_nb", "notebook_task": {"notebook_path": "notebooks/ingest"}},
                    {"task_key": "git_py", "spark_python_task": {"python_file": "jobs/run.py"}},
                    {"task_key": "ws_nb", "notebook_task": {"notebook_path": "/Repos/ana@example.com/etl/nb", "source": "WORKSPACE"}},
                    {"task_key": "loop", "for_each_task": {"inputs": "[1,2]", "task": {
                        "task_key": "loop_iteration",
                        "existing_cluster_id": "0923-164208-meows279",
                        "notebook_task": {"notebook_path": "/Shared/one", "source": "WORKSPACE"}
                    }}}
                ]
            }
        });
        let d = normalize(&[raw], &resolver()).remove(0);
        assert_eq!(
            d.refs,
            vec![
                named(
                    "settings.tasks[ws_nb].notebook_task.notebook_path",
                    Kind::Repos,
                    "/Repos/ana@example.com/etl"
                ),
                named(
                    "settings.tasks[loop].for_each_task.task.existing_cluster",
                    Kind::Clusters,
                    "analytics"
                ),
                named(
                    "settings.tasks[loop].for_each_task.task.notebook_task.notebook_path",
                    Kind::WorkspaceObjects,
                    "/Shared/one"
                ),
            ]
        );
        assert_eq!(
            d.content["settings"]["tasks"][2]["for_each_task"]["task"]["existing_cluster"],
            json!("analytics")
        );
    }

    #[test]
    fn python_files_outside_the_workspace_are_not_referenced() {
        let raw = json!({"job_id": 8, "settings": {"name": "py", "tasks": [
            {"task_key": "a", "spark_python_task": {"python_file": "dbfs:/jobs/a.py"}},
            {"task_key": "b", "spark_python_task": {"python_file": "/Volumes/main/default/code/b.py"}},
            {"task_key": "c", "spark_python_task": {"python_file": "s3://bucket/c.py"}}
        ]}});
        assert!(normalize(&[raw], &resolver())[0].refs.is_empty());
    }

    #[test]
    fn listing_fields_are_dropped_and_nameless_jobs_skipped() {
        let listed = json!({"job_id": 9, "has_more": true, "next_page_token": "x", "created_time": 1, "settings": {"name": "n"}});
        let mut drafts = normalize(
            &[
                listed,
                json!({"job_id": 10, "settings": {}}),
                json!({"job_id": 11}),
            ],
            &resolver(),
        );
        assert_eq!(drafts.len(), 1);
        assert_eq!(
            drafts.remove(0).into_record().content.get(),
            r#"{"settings":{"name":"n"}}"#
        );
    }
}
