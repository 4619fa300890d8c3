//! The cluster specification shared by all-purpose clusters, a job task's
//! `new_cluster` and a job's `job_clusters[].new_cluster`, normalized once.
//!
//! Pool and policy ids become references to natural keys, `{{secrets/scope/key}}`
//! in Spark configuration and environment variables become references to the
//! scope and the secret, workspace init scripts become references to workspace
//! files, and server-set fields are dropped.

use serde_json::{Map, Value};

use super::Resolver;
use super::canon::sort_array;
use crate::kind::Kind;
use crate::snapshot::Reference;

/// Fields the server adds to a cluster specification; never configuration.
const SPEC_VOLATILE: &[&str] = &["default_tags"];

/// Normalizes a cluster specification in place.
///
/// `path` is the field path of the specification inside the record's content
/// (`""` for a cluster itself, `settings.tasks[ingest].new_cluster` in a job);
/// reference field paths are built under it.
pub(super) fn normalize_spec(
    spec: &mut Value,
    path: &str,
    r: &Resolver,
    refs: &mut Vec<Reference>,
) {
    let Value::Object(map) = spec else { return };
    for field in SPEC_VOLATILE {
        map.remove(*field);
    }
    // A registry password is a secret; the API should not return it, but if
    // it ever does it must not reach a snapshot.
    if let Some(Value::Object(auth)) = map
        .get_mut("docker_image")
        .and_then(|d| d.get_mut("basic_auth"))
    {
        auth.remove("password");
    }
    reference_field(
        map,
        "instance_pool_id",
        "instance_pool",
        path,
        Kind::InstancePools,
        r,
        refs,
    );
    reference_field(
        map,
        "driver_instance_pool_id",
        "driver_instance_pool",
        path,
        Kind::InstancePools,
        r,
        refs,
    );
    reference_field(
        map,
        "policy_id",
        "policy",
        path,
        Kind::ClusterPolicies,
        r,
        refs,
    );
    for conf in ["spark_conf", "spark_env_vars"] {
        if let Some(Value::Object(entries)) = map.get(conf) {
            for (name, value) in entries {
                if let Value::String(text) = value {
                    secret_refs(text, &join(path, &format!("{conf}.{name}")), refs);
                }
            }
        }
    }
    // Init scripts run in order: the array is a sequence, not a set.
    if let Some(Value::Array(scripts)) = map.get("init_scripts") {
        for (i, script) in scripts.iter().enumerate() {
            let destination = script
                .get("workspace")
                .and_then(|w| w.get("destination"))
                .and_then(Value::as_str);
            if let Some(destination) = destination {
                let field = join(path, &format!("init_scripts[{i}].workspace.destination"));
                Resolver::named(
                    field,
                    Kind::WorkspaceObjects,
                    workspace_path(destination),
                    refs,
                );
            }
        }
    }
    sort_array(spec, "ssh_public_keys");
}

/// Replaces the id at `from` by the natural key of the object it names, under
/// the name `to`; an id that does not resolve stays visible as `{"unresolved_id": ..}`.
///
/// Ids may be strings or numbers (job ids are numbers); anything else is left
/// as it is, since it is not an id the resolver could know.
pub(super) fn reference_field(
    map: &mut Map<String, Value>,
    from: &str,
    to: &str,
    path: &str,
    kind: Kind,
    r: &Resolver,
    refs: &mut Vec<Reference>,
) {
    let id = match map.get(from) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return,
    };
    map.remove(from);
    let value = r.reference(join(path, to), kind, &id, refs);
    map.insert(to.to_owned(), value);
}

/// Records a reference to the scope and to the secret for every
/// `{{secrets/<scope>/<key>}}` inside `text`.
pub(super) fn secret_refs(text: &str, field: &str, refs: &mut Vec<Reference>) {
    for (scope, key) in secret_placeholders(text) {
        Resolver::named(field, Kind::SecretScopes, scope, refs);
        Resolver::named(field, Kind::Secrets, &format!("{scope}/{key}"), refs);
    }
}

/// Every `(scope, key)` named by a `{{secrets/<scope>/<key>}}` placeholder in `text`.
pub(super) fn secret_placeholders(text: &str) -> Vec<(&str, &str)> {
    const OPEN: &str = "{{secrets/";
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        let after = &rest[start + OPEN.len()..];
        let Some(end) = after.find("}}") else { break };
        let valid = |s: &str| !s.is_empty() && !s.contains(['/', ' ', '{']);
        match after[..end].split_once('/') {
            Some((scope, key)) if valid(scope) && valid(key) => {
                found.push((scope, key));
                rest = &after[end + 2..];
            }
            // Not a placeholder; one may still start inside it.
            _ => rest = after,
        }
    }
    found
}

/// The workspace-object key of a workspace path: the API lists objects without
/// the `/Workspace` prefix that FUSE-style paths (`/Workspace/Users/..`) carry.
pub(super) fn workspace_path(path: &str) -> &str {
    match path.strip_prefix("/Workspace") {
        Some(rest) if rest.starts_with('/') => rest,
        _ => path,
    }
}

/// Library fields that hold a file path.
const LIBRARY_FILES: &[&str] = &["jar", "egg", "whl", "requirements"];

/// Sorts a library list (install order is not guaranteed, so it is a set) and
/// records a reference for every library file kept in the workspace
/// (`/Workspace/...`): the cluster cannot start without it after a failover.
///
/// `field` is the path of the array itself, e.g. `settings.tasks[ingest].libraries`.
pub(super) fn normalize_libraries(libraries: &mut Value, field: &str, refs: &mut Vec<Reference>) {
    let Value::Array(items) = libraries else {
        return;
    };
    for library in items.iter_mut() {
        // Canonical first, so a `null` field does not change the sort order.
        super::canonicalize(library);
        if let Some(maven) = library.get_mut("maven") {
            sort_array(maven, "exclusions");
        }
    }
    items.sort_by_cached_key(super::canonical_json);
    for (i, library) in items.iter().enumerate() {
        for file in LIBRARY_FILES {
            if let Some(path) = library
                .get(*file)
                .and_then(Value::as_str)
                .filter(|p| p.starts_with("/Workspace/"))
            {
                Resolver::named(
                    format!("{field}[{i}].{file}"),
                    Kind::WorkspaceObjects,
                    workspace_path(path),
                    refs,
                );
            }
        }
    }
}

/// `prefix.field`, or `field` alone at the top of a record.
pub(super) fn join(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.to_owned()
    } else {
        format!("{prefix}.{field}")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn named(field: &str, kind: Kind, key: &str) -> Reference {
        Reference {
            field: field.into(),
            kind,
            key: Some(key.into()),
            unresolved_id: None,
        }
    }

    #[test]
    fn placeholders_are_found_anywhere_in_a_value() {
        assert_eq!(
            secret_placeholders("jdbc:u={{secrets/prod/user}};p={{secrets/prod/pass}}"),
            vec![("prod", "user"), ("prod", "pass")]
        );
        // Databricks substitutes only the exact form, so a spaced one names nothing.
        assert!(secret_placeholders("{{ secrets/prod/pass }}").is_empty());
        assert!(secret_placeholders("{{secrets/only-scope}}").is_empty());
        assert!(secret_placeholders("{{secrets/a/b/c}}").is_empty());
        assert!(secret_placeholders("{{secrets/a/b").is_empty());
        assert_eq!(
            secret_placeholders("{{secrets/broken {{secrets/s/k}}"),
            vec![("s", "k")]
        );
        assert!(secret_placeholders("plain value").is_empty());
    }

    #[test]
    fn workspace_prefix_is_stripped_only_as_a_whole_segment() {
        assert_eq!(
            workspace_path("/Workspace/Shared/init.sh"),
            "/Shared/init.sh"
        );
        assert_eq!(workspace_path("/Shared/init.sh"), "/Shared/init.sh");
        assert_eq!(workspace_path("/WorkspaceX/init.sh"), "/WorkspaceX/init.sh");
    }

    #[test]
    fn spec_ids_secrets_and_init_scripts_become_references() {
        let mut r = Resolver::default();
        r.insert(Kind::InstancePools, "0101-pool", "etl-pool");
        r.insert(Kind::ClusterPolicies, "E0631F5C0D", "etl-policy");
        let mut spec = json!({
            "spark_version": "15.4.x-scala2.12",
            "instance_pool_id": "0101-pool",
            "driver_instance_pool_id": "0202-gone",
            "policy_id": "E0631F5C0D",
            "spark_conf": {"spark.password": "{{secrets/prod/db-pass}}", "spark.sql.shuffle.partitions": "200"},
            "spark_env_vars": {"API_TOKEN": "{{secrets/ops/token}}"},
            "init_scripts": [
                {"volumes": {"destination": "/Volumes/main/default/scripts/a.sh"}},
                {"workspace": {"destination": "/Workspace/Shared/init/b.sh"}}
            ],
            "docker_image": {"url": "repo/img:1", "basic_auth": {"username": "bot", "password": "hunter2"}},
            "default_tags": {"Vendor": "Databricks"},
            "ssh_public_keys": ["ssh-rsa B", "ssh-rsa A"]
        });
        let mut refs = Vec::new();
        normalize_spec(
            &mut spec,
            "settings.job_clusters[main].new_cluster",
            &r,
            &mut refs,
        );
        assert_eq!(
            spec,
            json!({
                "spark_version": "15.4.x-scala2.12",
                "instance_pool": "etl-pool",
                "driver_instance_pool": {"unresolved_id": "0202-gone"},
                "policy": "etl-policy",
                "spark_conf": {"spark.password": "{{secrets/prod/db-pass}}", "spark.sql.shuffle.partitions": "200"},
                "spark_env_vars": {"API_TOKEN": "{{secrets/ops/token}}"},
                "init_scripts": [
                    {"volumes": {"destination": "/Volumes/main/default/scripts/a.sh"}},
                    {"workspace": {"destination": "/Workspace/Shared/init/b.sh"}}
                ],
                "docker_image": {"url": "repo/img:1", "basic_auth": {"username": "bot"}},
                "ssh_public_keys": ["ssh-rsa A", "ssh-rsa B"]
            })
        );
        let p = "settings.job_clusters[main].new_cluster";
        assert_eq!(
            refs,
            vec![
                named(
                    &format!("{p}.instance_pool"),
                    Kind::InstancePools,
                    "etl-pool"
                ),
                Reference {
                    field: format!("{p}.driver_instance_pool"),
                    kind: Kind::InstancePools,
                    key: None,
                    unresolved_id: Some("0202-gone".into()),
                },
                named(&format!("{p}.policy"), Kind::ClusterPolicies, "etl-policy"),
                named(
                    &format!("{p}.spark_conf.spark.password"),
                    Kind::SecretScopes,
                    "prod"
                ),
                named(
                    &format!("{p}.spark_conf.spark.password"),
                    Kind::Secrets,
                    "prod/db-pass"
                ),
                named(
                    &format!("{p}.spark_env_vars.API_TOKEN"),
                    Kind::SecretScopes,
                    "ops"
                ),
                named(
                    &format!("{p}.spark_env_vars.API_TOKEN"),
                    Kind::Secrets,
                    "ops/token"
                ),
                named(
                    &format!("{p}.init_scripts[1].workspace.destination"),
                    Kind::WorkspaceObjects,
                    "/Shared/init/b.sh"
                ),
            ]
        );
    }
}
