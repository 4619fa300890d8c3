//! Seeding a mock from a standby snapshot: the team's own capture becomes a
//! fixture, so a rehearsal runs against what the workspaces really hold.
//!
//! A snapshot keys objects by natural key and replaces ids with references
//! by name, so every object gets a generated id (a hash of its key: the
//! same snapshot gives the same fixture) and every reference by name is
//! turned back into the id of the object it names: a job's clusters, pools,
//! policy, warehouse and `run_job_task`, a cluster's pools and policy, a
//! group's members. A reference the capture could not resolve stays the raw
//! id it was, and dangles in the mock as it did in the workspace.
//!
//! Seeded: users, service principals, groups, instance pools, cluster
//! policies, all-purpose clusters, SQL warehouses, notebooks, files and
//! folders (notebooks with a placeholder source: snapshots keep no
//! content), secret scopes with their key names and ACLs (values are never
//! captured), jobs. Not seeded: permissions, repos, cluster libraries,
//! global init scripts, Unity Catalog, IP access lists and workspace
//! settings (no rehearsal action reads them).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::kind::Kind;
use crate::mock::{FIXTURE_VERSION, Fixture};
use crate::snapshot::Snapshot;

/// 64-bit FNV-1a: stable ids from natural keys.
fn hash(kind: Kind, key: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in kind.name().bytes().chain([0]).chain(key.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// A 16-digit numeric id (SCIM ids, job ids, object ids).
fn numeric(kind: Kind, key: &str) -> i64 {
    (hash(kind, key) % 9_000_000_000_000_000 + 1_000_000_000_000_000) as i64
}

/// The generated id of an object, in the shape its kind uses.
fn id(kind: Kind, key: &str) -> Value {
    let h = hash(kind, key);
    match kind {
        Kind::Jobs | Kind::WorkspaceObjects => Value::from(numeric(kind, key)),
        Kind::Clusters => Value::from(format!("0101-000000-{:08x}", h as u32)),
        Kind::InstancePools => Value::from(format!("0101-000000-pool-{:08x}", h as u32)),
        Kind::ClusterPolicies => Value::from(format!("{:016X}", h)),
        Kind::SqlWarehouses => Value::from(format!("{:016x}", h)),
        _ => Value::from(numeric(kind, key).to_string()),
    }
}

fn records(snapshot: &Snapshot, kind: Kind) -> Vec<(String, Option<i64>, Value)> {
    snapshot
        .kind(kind)
        .map(|k| {
            k.records
                .iter()
                .filter(|r| !r.duplicate)
                .map(|r| {
                    (
                        r.key.clone(),
                        r.modified_at,
                        serde_json::from_str(r.content.get()).unwrap_or(Value::Null),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Renames `from` to `to` in an object, mapping the name it holds to an id.
fn unname(obj: &mut Value, from: &str, to: &str, kind: Kind) {
    let Value::Object(map) = obj else { return };
    let Some(v) = map.remove(from) else { return };
    let id_value = match &v {
        Value::String(name) => id(kind, name),
        // `{"unresolved_id": "…"}`: dangling at capture, dangling here.
        Value::Object(o) => o.get("unresolved_id").cloned().unwrap_or(Value::Null),
        other => other.clone(),
    };
    map.insert(to.to_owned(), id_value);
}

fn unname_compute(spec: &mut Value) {
    unname(
        spec,
        "instance_pool",
        "instance_pool_id",
        Kind::InstancePools,
    );
    unname(
        spec,
        "driver_instance_pool",
        "driver_instance_pool_id",
        Kind::InstancePools,
    );
    unname(spec, "policy", "policy_id", Kind::ClusterPolicies);
}

fn unname_task(task: &mut Value) {
    unname(
        task,
        "existing_cluster",
        "existing_cluster_id",
        Kind::Clusters,
    );
    if let Some(spec) = task.get_mut("new_cluster") {
        unname_compute(spec);
    }
    for t in ["sql_task", "notebook_task", "dbt_task"] {
        if let Some(inner) = task.get_mut(t) {
            unname(inner, "warehouse", "warehouse_id", Kind::SqlWarehouses);
        }
    }
    if let Some(inner) = task.get_mut("run_job_task") {
        unname(inner, "job", "job_id", Kind::Jobs);
    }
    if let Some(inner) = task
        .get_mut("for_each_task")
        .and_then(|f| f.get_mut("task"))
    {
        unname_task(inner);
    }
}

/// Entitlements and roles as SCIM complex values.
fn complex(obj: &mut Value, field: &str) {
    if let Some(Value::Array(items)) = obj.get_mut(field) {
        for item in items.iter_mut() {
            if let Value::String(s) = item {
                *item = json!({ "value": s });
            }
        }
    }
}

/// Builds a fixture from a snapshot; `label` names it in errors.
pub fn fixture_from_snapshot(snapshot: &Snapshot, label: &str) -> Result<Fixture, String> {
    let mut fx: Map<String, Value> = Map::new();
    fx.insert("fixture_version".into(), Value::from(FIXTURE_VERSION));
    fx.insert("name".into(), Value::from(label));
    fx.insert(
        "clock".into(),
        json!({ "start_ms": snapshot.metadata.captured_at_ms }),
    );
    let mut section = |name: &str, items: Vec<Value>| {
        fx.insert(name.into(), Value::Array(items));
    };

    let users: Vec<Value> = records(snapshot, Kind::Users)
        .into_iter()
        .map(|(key, _, mut c)| {
            complex(&mut c, "entitlements");
            complex(&mut c, "roles");
            c["id"] = id(Kind::Users, &key);
            c["userName"] = Value::from(key);
            c
        })
        .collect();
    section("users", users);
    let sps: Vec<Value> = records(snapshot, Kind::ServicePrincipals)
        .into_iter()
        .map(|(key, _, mut c)| {
            complex(&mut c, "entitlements");
            complex(&mut c, "roles");
            c["id"] = id(Kind::ServicePrincipals, &key);
            c["applicationId"] = Value::from(key);
            c
        })
        .collect();
    section("service_principals", sps);
    let groups: Vec<Value> = records(snapshot, Kind::Groups)
        .into_iter()
        .map(|(key, _, mut c)| {
            complex(&mut c, "entitlements");
            complex(&mut c, "roles");
            let members: Vec<Value> = c
                .get("members")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|m| {
                    let name = m.get("key")?.as_str()?;
                    let (kind, segment) = match m.get("type").and_then(Value::as_str)? {
                        "user" => (Kind::Users, "Users"),
                        "service_principal" => (Kind::ServicePrincipals, "ServicePrincipals"),
                        "group" => (Kind::Groups, "Groups"),
                        _ => return None,
                    };
                    let id = id(kind, name);
                    let id = id.as_str().unwrap_or_default().to_owned();
                    Some(json!({"value": id, "display": name, "$ref": format!("{segment}/{id}")}))
                })
                .collect();
            let resource = c
                .get("resource_type")
                .cloned()
                .unwrap_or(Value::from("WorkspaceGroup"));
            if let Value::Object(map) = &mut c {
                map.remove("resource_type");
                map.insert("members".into(), Value::Array(members));
                map.insert("meta".into(), json!({ "resourceType": resource }));
            }
            c["id"] = id(Kind::Groups, &key);
            c["displayName"] = Value::from(key);
            c
        })
        .collect();
    section("groups", groups);

    let pools: Vec<Value> = records(snapshot, Kind::InstancePools)
        .into_iter()
        .map(|(key, _, mut c)| {
            c["instance_pool_id"] = id(Kind::InstancePools, &key);
            c["state"] = Value::from("ACTIVE");
            c
        })
        .collect();
    section("instance_pools", pools);
    let policies: Vec<Value> = records(snapshot, Kind::ClusterPolicies)
        .into_iter()
        .map(|(key, _, mut c)| {
            // The API carries policy definitions as JSON text.
            for f in ["definition", "policy_family_definition_overrides"] {
                if let Some(v) = c.get(f).filter(|v| !v.is_string() && !v.is_null()) {
                    c[f] = Value::from(v.to_string());
                }
            }
            c["policy_id"] = id(Kind::ClusterPolicies, &key);
            c["name"] = Value::from(key);
            c
        })
        .collect();
    section("cluster_policies", policies);
    let clusters: Vec<Value> = records(snapshot, Kind::Clusters)
        .into_iter()
        .map(|(key, _, mut c)| {
            unname_compute(&mut c);
            c["cluster_id"] = id(Kind::Clusters, &key);
            c["cluster_name"] = Value::from(key);
            c["cluster_source"] = Value::from("API");
            if c.get("state").is_none() {
                c["state"] = Value::from("TERMINATED");
            }
            c
        })
        .collect();
    section("clusters", clusters);
    let warehouses: Vec<Value> = records(snapshot, Kind::SqlWarehouses)
        .into_iter()
        .map(|(key, _, mut c)| {
            c["id"] = id(Kind::SqlWarehouses, &key);
            c["name"] = Value::from(key);
            c
        })
        .collect();
    section("sql_warehouses", warehouses);

    let objects: Vec<Value> = records(snapshot, Kind::WorkspaceObjects)
        .into_iter()
        .filter(|(_, _, c)| {
            matches!(
                c.get("object_type").and_then(Value::as_str),
                Some("NOTEBOOK" | "FILE" | "DIRECTORY")
            )
        })
        .map(|(key, modified, c)| {
            let mut o = json!({
                "path": key,
                "object_type": c["object_type"],
                "object_id": id(Kind::WorkspaceObjects, &key),
            });
            if let Some(l) = c.get("language") {
                o["language"] = l.clone();
            }
            if let Some(m) = modified {
                o["modified_at"] = Value::from(m);
                o["created_at"] = Value::from(m);
            }
            o
        })
        .collect();
    section("workspace_objects", objects);

    let mut scopes: BTreeMap<String, Value> = records(snapshot, Kind::SecretScopes)
        .into_iter()
        .map(|(key, _, c)| {
            let backend = c
                .get("backend_type")
                .cloned()
                .unwrap_or(Value::from("DATABRICKS"));
            (
                key.clone(),
                json!({"name": key, "backend_type": backend, "secrets": [], "acls": []}),
            )
        })
        .collect();
    for (_, modified, c) in records(snapshot, Kind::Secrets) {
        let scope = c.get("scope").and_then(Value::as_str).unwrap_or_default();
        if let Some(Value::Array(keys)) = scopes.get_mut(scope).and_then(|s| s.get_mut("secrets")) {
            keys.push(json!({"key": c["key"], "last_updated_timestamp": modified.unwrap_or(0)}));
        }
    }
    for (_, _, c) in records(snapshot, Kind::SecretAcls) {
        let scope = c.get("scope").and_then(Value::as_str).unwrap_or_default();
        if let Some(Value::Array(acls)) = scopes.get_mut(scope).and_then(|s| s.get_mut("acls")) {
            acls.push(json!({"principal": c["principal"], "permission": c["permission"]}));
        }
    }
    section("secret_scopes", scopes.into_values().collect());

    let jobs: Vec<Value> = records(snapshot, Kind::Jobs)
        .into_iter()
        .map(|(key, _, c)| {
            let mut settings = c.get("settings").cloned().unwrap_or(json!({}));
            if let Some(Value::Array(tasks)) = settings.get_mut("tasks") {
                tasks.iter_mut().for_each(unname_task);
            }
            if let Some(Value::Array(clusters)) = settings.get_mut("job_clusters") {
                for jc in clusters {
                    if let Some(spec) = jc.get_mut("new_cluster") {
                        unname_compute(spec);
                    }
                }
            }
            settings["name"] = Value::from(key.clone());
            let run_as = c.get("run_as_user_name").cloned().unwrap_or(Value::Null);
            let mut job = json!({
                "job_id": id(Kind::Jobs, &key),
                "created_time": snapshot.metadata.captured_at_ms,
                "settings": settings,
            });
            if !run_as.is_null() {
                job["run_as_user_name"] = run_as.clone();
                job["creator_user_name"] = run_as;
            }
            job
        })
        .collect();
    section("jobs", jobs);

    let text = serde_json::to_string_pretty(&Value::Object(fx)).map_err(|e| e.to_string())?;
    Fixture::parse(&text, label)
        .map_err(|e| format!("the snapshot `{label}` does not make a valid mock workspace: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_by_name_become_the_ids_of_the_named_objects() {
        let mut task = json!({
            "task_key": "t",
            "existing_cluster": "shared",
            "new_cluster": {"instance_pool": "etl", "driver_instance_pool": {"unresolved_id": "0101-gone"}, "policy": "p"},
            "sql_task": {"warehouse": "wh"},
            "run_job_task": {"job": "daily"}
        });
        unname_task(&mut task);
        assert_eq!(task["existing_cluster_id"], id(Kind::Clusters, "shared"));
        assert_eq!(
            task["new_cluster"]["instance_pool_id"],
            id(Kind::InstancePools, "etl")
        );
        assert_eq!(
            task["new_cluster"]["driver_instance_pool_id"], "0101-gone",
            "dangling stays dangling"
        );
        assert_eq!(
            task["new_cluster"]["policy_id"],
            id(Kind::ClusterPolicies, "p")
        );
        assert_eq!(
            task["sql_task"]["warehouse_id"],
            id(Kind::SqlWarehouses, "wh")
        );
        assert!(task["run_job_task"]["job_id"].is_i64());
        assert!(task.get("existing_cluster").is_none());
        // Same key, same id; different kinds, different ids.
        assert_eq!(id(Kind::Jobs, "a"), id(Kind::Jobs, "a"));
        assert_ne!(id(Kind::Users, "a"), id(Kind::Groups, "a"));
    }
}
