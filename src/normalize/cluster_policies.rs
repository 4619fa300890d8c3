//! Cluster policies, keyed by `name`.
//!
//! `definition` and `policy_family_definition_overrides` are JSON held in
//! strings; they are parsed so key order and spacing never show as drift (a
//! string that does not parse stays a string). Inside a definition, pool ids
//! fixed or allowed by a rule become pool names, so a policy that pins a pool
//! compares equal between workspaces whose pool ids differ; secrets named in
//! Spark settings and workspace init scripts become references. Allow- and
//! block-lists (`values`) are sets and sorted.

use serde_json::Value;

use super::canon::{drop_fields, sort_array};
use super::compute::{normalize_libraries, secret_refs, workspace_path};
use super::{Draft, Resolver, str_field};
use crate::kind::Kind;
use crate::snapshot::Reference;

/// Ids, creation facts and the creator; never configuration.
const VOLATILE: &[&str] = &["policy_id", "created_at_timestamp", "creator_user_name"];

/// The definition fields that hold JSON in a string.
const JSON_FIELDS: &[&str] = &["definition", "policy_family_definition_overrides"];

/// Where a policy rule keeps the values it fixes, defaults or allows.
const RULE_VALUES: &[&str] = &["value", "defaultValue", "values"];

/// One draft per named policy, its definition parsed.
pub(crate) fn normalize(objects: &[Value], r: &Resolver) -> Vec<Draft> {
    objects
        .iter()
        .filter_map(|policy| {
            let key = str_field(policy, "name")?.to_owned();
            let mut content = policy.clone();
            drop_fields(&mut content, VOLATILE);
            let mut refs = Vec::new();
            for field in JSON_FIELDS {
                let Some(slot) = content.get_mut(*field) else {
                    continue;
                };
                let Some(mut parsed) = slot
                    .as_str()
                    .and_then(|text| serde_json::from_str::<Value>(text).ok())
                else {
                    continue;
                };
                normalize_definition(&mut parsed, field, r, &mut refs);
                *slot = parsed;
            }
            if let Some(libraries) = content.get_mut("libraries") {
                normalize_libraries(libraries, "libraries", &mut refs);
            }
            Some(Draft {
                key,
                modified_at: None,
                refs,
                content,
            })
        })
        .collect()
}

/// Rewrites the rules of a parsed definition: `{"<attribute path>": {"type": .., "value": ..}, ..}`.
fn normalize_definition(
    definition: &mut Value,
    field: &str,
    r: &Resolver,
    refs: &mut Vec<Reference>,
) {
    let Value::Object(rules) = definition else {
        return;
    };
    for (attribute, rule) in rules.iter_mut() {
        let Value::Object(rule_map) = rule else {
            continue;
        };
        let is_pool = matches!(
            attribute.as_str(),
            "instance_pool_id" | "driver_instance_pool_id"
        );
        let is_conf =
            attribute.starts_with("spark_conf.") || attribute.starts_with("spark_env_vars.");
        let is_init_script =
            attribute.starts_with("init_scripts.") && attribute.ends_with(".workspace.destination");
        for slot in RULE_VALUES {
            let path = format!("{field}.{attribute}.{slot}");
            match rule_map.get_mut(*slot) {
                Some(Value::Array(values)) => {
                    for value in values.iter_mut() {
                        rule_value(value, &path, is_pool, is_conf, is_init_script, r, refs);
                    }
                }
                Some(value) => rule_value(value, &path, is_pool, is_conf, is_init_script, r, refs),
                None => {}
            }
        }
        sort_array(rule, "values");
    }
}

/// One value of a rule: a pool id becomes the pool's name, a secret or a
/// workspace init script is recorded.
fn rule_value(
    value: &mut Value,
    path: &str,
    is_pool: bool,
    is_conf: bool,
    is_init_script: bool,
    r: &Resolver,
    refs: &mut Vec<Reference>,
) {
    let Value::String(text) = value else { return };
    if is_pool {
        let id = text.clone();
        *value = r.reference(path, Kind::InstancePools, &id, refs);
    } else if is_conf {
        secret_refs(text, path, refs);
    } else if is_init_script {
        Resolver::named(path, Kind::WorkspaceObjects, workspace_path(text), refs);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn resolver() -> Resolver {
        let mut r = Resolver::default();
        r.insert(Kind::InstancePools, "0101-120000-pool1", "etl-pool");
        r.insert(Kind::InstancePools, "0101-120000-pool2", "gpu-pool");
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

    /// A `policies/clusters/list` entry.
    fn raw_policy() -> Value {
        let definition = json!({
            "spark_version": {"type": "allowlist", "values": ["15.4.x-scala2.12", "14.3.x-scala2.12"], "defaultValue": "15.4.x-scala2.12"},
            "autotermination_minutes": {"type": "fixed", "value": 60, "hidden": true},
            "instance_pool_id": {"type": "allowlist", "values": ["0101-120000-pool2", "0101-120000-pool1"], "defaultValue": "0101-120000-pool1"},
            "driver_instance_pool_id": {"type": "fixed", "value": "0202-gone"},
            "spark_conf.spark.hadoop.javax.jdo.option.ConnectionPassword": {"type": "fixed", "value": "{{secrets/metastore/password}}"},
            "init_scripts.0.workspace.destination": {"type": "fixed", "value": "/Workspace/Shared/init/policy.sh"},
            "custom_tags.team": {"type": "fixed", "value": "data"}
        });
        json!({
            "policy_id": "D96308F1BF0003A8",
            "name": "etl-policy",
            "definition": definition.to_string(),
            "policy_family_definition_overrides": "not json {",
            "description": "ETL clusters",
            "max_clusters_per_user": 5,
            "libraries": [{"pypi": {"package": "b"}}, {"pypi": {"package": "a"}}],
            "is_default": false,
            "created_at_timestamp": 1727109728000i64,
            "creator_user_name": "ana@example.com"
        })
    }

    #[test]
    fn definition_is_parsed_and_pool_ids_become_names() {
        let drafts = normalize(&[raw_policy()], &resolver());
        assert_eq!(drafts.len(), 1);
        let d = &drafts[0];
        assert_eq!(d.key, "etl-policy");
        assert_eq!(d.modified_at, None);
        assert_eq!(
            d.content,
            json!({
                "name": "etl-policy",
                "definition": {
                    "spark_version": {"type": "allowlist", "values": ["14.3.x-scala2.12", "15.4.x-scala2.12"], "defaultValue": "15.4.x-scala2.12"},
                    "autotermination_minutes": {"type": "fixed", "value": 60, "hidden": true},
                    "instance_pool_id": {"type": "allowlist", "values": ["etl-pool", "gpu-pool"], "defaultValue": "etl-pool"},
                    "driver_instance_pool_id": {"type": "fixed", "value": {"unresolved_id": "0202-gone"}},
                    "spark_conf.spark.hadoop.javax.jdo.option.ConnectionPassword": {"type": "fixed", "value": "{{secrets/metastore/password}}"},
                    "init_scripts.0.workspace.destination": {"type": "fixed", "value": "/Workspace/Shared/init/policy.sh"},
                    "custom_tags.team": {"type": "fixed", "value": "data"}
                },
                "policy_family_definition_overrides": "not json {",
                "description": "ETL clusters",
                "max_clusters_per_user": 5,
                "libraries": [{"pypi": {"package": "a"}}, {"pypi": {"package": "b"}}],
                "is_default": false
            })
        );
        let conf = "definition.spark_conf.spark.hadoop.javax.jdo.option.ConnectionPassword.value";
        assert_eq!(
            d.refs,
            vec![
                Reference {
                    field: "definition.driver_instance_pool_id.value".into(),
                    kind: Kind::InstancePools,
                    key: None,
                    unresolved_id: Some("0202-gone".into())
                },
                named(
                    "definition.init_scripts.0.workspace.destination.value",
                    Kind::WorkspaceObjects,
                    "/Shared/init/policy.sh"
                ),
                named(
                    "definition.instance_pool_id.defaultValue",
                    Kind::InstancePools,
                    "etl-pool"
                ),
                named(
                    "definition.instance_pool_id.values",
                    Kind::InstancePools,
                    "gpu-pool"
                ),
                named(
                    "definition.instance_pool_id.values",
                    Kind::InstancePools,
                    "etl-pool"
                ),
                named(conf, Kind::SecretScopes, "metastore"),
                named(conf, Kind::Secrets, "metastore/password"),
            ]
        );
    }

    #[test]
    fn formatting_of_the_definition_and_pool_ids_do_not_matter() {
        let mut other = raw_policy();
        let pretty = json!({
            "custom_tags.team": {"value": "data", "type": "fixed"},
            "init_scripts.0.workspace.destination": {"type": "fixed", "value": "/Workspace/Shared/init/policy.sh"},
            "spark_conf.spark.hadoop.javax.jdo.option.ConnectionPassword": {"type": "fixed", "value": "{{secrets/metastore/password}}"},
            "driver_instance_pool_id": {"type": "fixed", "value": "0202-gone"},
            "instance_pool_id": {"type": "allowlist", "values": ["9999-secondary-etl", "9999-secondary-gpu"], "defaultValue": "9999-secondary-etl"},
            "autotermination_minutes": {"hidden": true, "type": "fixed", "value": 60},
            "spark_version": {"type": "allowlist", "values": ["14.3.x-scala2.12", "15.4.x-scala2.12"], "defaultValue": "15.4.x-scala2.12"}
        });
        other["definition"] = json!(serde_json::to_string_pretty(&pretty).unwrap_or_default());
        other["policy_id"] = json!("ABCDEF0123456789");
        let mut r = resolver();
        r.insert(Kind::InstancePools, "9999-secondary-etl", "etl-pool");
        r.insert(Kind::InstancePools, "9999-secondary-gpu", "gpu-pool");
        let a = normalize(&[raw_policy()], &r).remove(0).into_record();
        let b = normalize(&[other], &r).remove(0).into_record();
        assert_eq!(a.content.get(), b.content.get());
    }

    #[test]
    fn policies_without_a_name_are_skipped() {
        assert!(
            normalize(
                &[json!({"policy_id": "X", "definition": "{}"})],
                &resolver()
            )
            .is_empty()
        );
    }
}
