//! Object ACLs from the Permissions API, keyed by `<type>:<natural key>`
//! (`jobs:nightly etl`, `directories:/Shared`, `warehouses:bi`).
//!
//! The type comes from the reply's `object_id` prefix (`/sql/warehouses/x` is
//! `warehouses`); the natural key from the resolver, or `<type>:#<id>` with an
//! unresolved reference when the object was not captured. Content splits the
//! entries into `direct` (what a person set on this object, and what the DR
//! diff compares) and `inherited` (from a parent folder or the workspace,
//! each naming where it comes from by natural key), one entry per principal
//! and level, both sorted. Display names are dropped. Every direct principal
//! is a reference, so a principal missing on the secondary is found.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::{Draft, Resolver, str_field};
use crate::kind::Kind;

/// `object_id` prefixes: (path segment, record type, kind of the object).
const TYPES: &[(&str, &str, Kind)] = &[
    ("jobs", "jobs", Kind::Jobs),
    ("clusters", "clusters", Kind::Clusters),
    ("instance-pools", "instance-pools", Kind::InstancePools),
    (
        "cluster-policies",
        "cluster-policies",
        Kind::ClusterPolicies,
    ),
    ("notebooks", "notebooks", Kind::WorkspaceObjects),
    ("directories", "directories", Kind::WorkspaceObjects),
    ("files", "files", Kind::WorkspaceObjects),
    ("repos", "repos", Kind::Repos),
    ("warehouses", "warehouses", Kind::SqlWarehouses),
    ("sql/warehouses", "warehouses", Kind::SqlWarehouses),
];

/// Principal fields of an ACL entry: (field, principal type, kind).
const PRINCIPALS: &[(&str, &str, Kind)] = &[
    ("user_name", "user", Kind::Users),
    ("group_name", "group", Kind::Groups),
    (
        "service_principal_name",
        "service_principal",
        Kind::ServicePrincipals,
    ),
];

/// One principal holding one level.
type Grant<'a> = (&'static str, &'a str, &'a str);

pub(crate) fn normalize(objects: &[Value], r: &Resolver) -> Vec<Draft> {
    objects
        .iter()
        .filter_map(|acl| normalize_one(acl, r))
        .collect()
}

fn normalize_one(acl: &Value, r: &Resolver) -> Option<Draft> {
    let (object_type, kind, id) = parse_object_id(str_field(acl, "object_id")?)?;
    if id.is_empty() {
        return None;
    }
    let mut refs = Vec::new();
    let key = match r.reference("object", kind, id, &mut refs) {
        Value::String(natural) => format!("{object_type}:{natural}"),
        _ => format!("{object_type}:#{id}"),
    };

    let mut direct: BTreeSet<Grant> = BTreeSet::new();
    let mut inherited: BTreeMap<Grant, BTreeSet<String>> = BTreeMap::new();
    let mut direct_principals: BTreeSet<(&str, Kind)> = BTreeSet::new();
    for entry in acl
        .get("access_control_list")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some((principal_type, principal, principal_kind)) = PRINCIPALS
            .iter()
            .find_map(|(field, t, k)| str_field(entry, field).map(|p| (*t, p, *k)))
        else {
            continue;
        };
        match entry.get("all_permissions").and_then(Value::as_array) {
            Some(levels) => {
                for level in levels {
                    let Some(permission_level) = str_field(level, "permission_level") else {
                        continue;
                    };
                    let grant = (principal_type, principal, permission_level);
                    if level
                        .get("inherited")
                        .and_then(Value::as_bool)
                        .unwrap_or(false)
                    {
                        let sources = inherited.entry(grant).or_default();
                        let from = level.get("inherited_from_object").and_then(Value::as_array);
                        sources.extend(
                            from.into_iter()
                                .flatten()
                                .filter_map(Value::as_str)
                                .map(|o| natural_key(o, r)),
                        );
                    } else {
                        direct.insert(grant);
                        direct_principals.insert((principal, principal_kind));
                    }
                }
            }
            // The request shape (a bare level) is direct by definition.
            None => {
                if let Some(permission_level) = str_field(entry, "permission_level") {
                    direct.insert((principal_type, principal, permission_level));
                    direct_principals.insert((principal, principal_kind));
                }
            }
        }
    }
    for (principal, principal_kind) in direct_principals {
        Resolver::named(
            format!("direct[{principal}]"),
            principal_kind,
            principal,
            &mut refs,
        );
    }

    let direct: Vec<Value> = direct.into_iter().map(|g| entry_json(g, None)).collect();
    let inherited: Vec<Value> = inherited
        .into_iter()
        .map(|(g, from)| entry_json(g, Some(from)))
        .collect();
    Some(Draft {
        key,
        modified_at: None,
        refs,
        content: json!({"object": object_type, "direct": direct, "inherited": inherited}),
    })
}

fn entry_json(
    (principal_type, principal, permission_level): Grant,
    from: Option<BTreeSet<String>>,
) -> Value {
    let mut entry = json!({"principal_type": principal_type, "principal": principal, "permission_level": permission_level});
    if let Some(from) = from {
        entry["inherited_from"] = json!(from);
    }
    entry
}

/// `/jobs/123` → (`jobs`, Jobs, `123`); `/sql/warehouses/x` → (`warehouses`, SqlWarehouses, `x`).
fn parse_object_id(object_id: &str) -> Option<(&'static str, Kind, &str)> {
    let rest = object_id.strip_prefix('/').unwrap_or(object_id);
    let (segment, id) = rest.rsplit_once('/')?;
    TYPES
        .iter()
        .find(|(s, ..)| *s == segment)
        .map(|(_, t, k)| (*t, *k, id))
}

/// An object id as `<type>:<natural key>`, `<type>:#<id>` when it does not
/// resolve, or unchanged when it names no single object (`/jobs/`, the
/// workspace-wide jobs ACL).
fn natural_key(object_id: &str, r: &Resolver) -> String {
    match parse_object_id(object_id) {
        Some((object_type, kind, id)) if !id.is_empty() => match r.key_of(kind, id) {
            Some(natural) => format!("{object_type}:{natural}"),
            None => format!("{object_type}:#{id}"),
        },
        _ => object_id.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::Reference;

    fn resolver() -> Resolver {
        let mut r = Resolver::default();
        r.insert(Kind::Jobs, "101", "nightly etl");
        r.insert(Kind::WorkspaceObjects, "42", "/Shared/etl");
        r.insert(Kind::WorkspaceObjects, "43", "/Shared/etl/ingest");
        r.insert(Kind::SqlWarehouses, "d1a2b3c4e5f60789", "bi");
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

    fn notebook_acl(entries: Value) -> Value {
        json!({"object_id": "/notebooks/43", "object_type": "notebook", "access_control_list": entries})
    }

    #[test]
    fn splits_direct_and_inherited_and_resolves_where_inherited_from() {
        let raw = notebook_acl(json!([
            {"user_name": "ana@example.com", "display_name": "Ana Lima",
             "all_permissions": [
                 {"permission_level": "CAN_MANAGE", "inherited": false},
                 {"permission_level": "CAN_READ", "inherited": true, "inherited_from_object": ["/directories/42"]}
             ]},
            {"group_name": "admins",
             "all_permissions": [{"permission_level": "CAN_MANAGE", "inherited": true, "inherited_from_object": ["/directories/0"]}]},
            {"service_principal_name": "4f2c9d1e-1b2a-4c3d-9e8f-0a1b2c3d4e5f", "display_name": "etl-bot",
             "all_permissions": [{"permission_level": "CAN_RUN", "inherited": false}]}
        ]));
        let drafts = normalize(&[raw], &resolver());
        assert_eq!(drafts.len(), 1);
        let d = &drafts[0];
        assert_eq!(d.key, "notebooks:/Shared/etl/ingest");
        assert_eq!(d.modified_at, None);
        assert_eq!(
            d.content,
            json!({
                "object": "notebooks",
                "direct": [
                    {"principal_type": "service_principal", "principal": "4f2c9d1e-1b2a-4c3d-9e8f-0a1b2c3d4e5f", "permission_level": "CAN_RUN"},
                    {"principal_type": "user", "principal": "ana@example.com", "permission_level": "CAN_MANAGE"}
                ],
                "inherited": [
                    {"principal_type": "group", "principal": "admins", "permission_level": "CAN_MANAGE",
                     "inherited_from": ["directories:#0"]},
                    {"principal_type": "user", "principal": "ana@example.com", "permission_level": "CAN_READ",
                     "inherited_from": ["directories:/Shared/etl"]}
                ]
            })
        );
        assert_eq!(
            d.refs,
            vec![
                named("object", Kind::WorkspaceObjects, "/Shared/etl/ingest"),
                named(
                    "direct[4f2c9d1e-1b2a-4c3d-9e8f-0a1b2c3d4e5f]",
                    Kind::ServicePrincipals,
                    "4f2c9d1e-1b2a-4c3d-9e8f-0a1b2c3d4e5f"
                ),
                named("direct[ana@example.com]", Kind::Users, "ana@example.com"),
            ]
        );
    }

    #[test]
    fn entry_order_does_not_change_content() {
        let a = notebook_acl(json!([
            {"user_name": "a@example.com", "all_permissions": [{"permission_level": "CAN_READ", "inherited": false}]},
            {"group_name": "data-eng", "all_permissions": [{"permission_level": "CAN_EDIT", "inherited": false}]}
        ]));
        let b = notebook_acl(json!([
            {"group_name": "data-eng", "display_name": "Data Eng", "all_permissions": [{"permission_level": "CAN_EDIT", "inherited": false}]},
            {"user_name": "a@example.com", "all_permissions": [{"permission_level": "CAN_READ", "inherited": false}]}
        ]));
        let r = resolver();
        assert_eq!(
            normalize(&[a], &r)[0].content,
            normalize(&[b], &r)[0].content
        );
    }

    #[test]
    fn an_unresolved_object_stays_visible_in_key_and_refs() {
        let raw = json!({
            "object_id": "/jobs/999", "object_type": "job",
            "access_control_list": [
                {"user_name": "ana@example.com", "all_permissions": [{"permission_level": "IS_OWNER", "inherited": false}]},
                {"group_name": "admins", "all_permissions": [{"permission_level": "CAN_MANAGE", "inherited": true, "inherited_from_object": ["/jobs/"]}]}
            ]
        });
        let d = &normalize(&[raw], &resolver())[0];
        assert_eq!(d.key, "jobs:#999");
        assert_eq!(
            d.refs[0],
            Reference {
                field: "object".into(),
                kind: Kind::Jobs,
                key: None,
                unresolved_id: Some("999".into())
            }
        );
        assert_eq!(
            d.content["inherited"][0]["inherited_from"],
            json!(["/jobs/"])
        );
    }

    #[test]
    fn warehouse_ids_of_either_spelling_are_warehouses() {
        let raw = json!({
            "object_id": "/sql/warehouses/d1a2b3c4e5f60789", "object_type": "warehouses",
            "access_control_list": [{"group_name": "analysts", "all_permissions": [{"permission_level": "CAN_USE", "inherited": false}]}]
        });
        let d = &normalize(&[raw], &resolver())[0];
        assert_eq!(d.key, "warehouses:bi");
        assert_eq!(
            d.refs[1],
            named("direct[analysts]", Kind::Groups, "analysts")
        );
        assert_eq!(
            parse_object_id("/warehouses/x"),
            Some(("warehouses", Kind::SqlWarehouses, "x"))
        );
        assert_eq!(
            parse_object_id("/instance-pools/0101-p"),
            Some(("instance-pools", Kind::InstancePools, "0101-p"))
        );
        assert_eq!(parse_object_id("/authorization/tokens"), None);
    }

    #[test]
    fn a_job_acl_resolves_to_the_job_name() {
        let raw = json!({"object_id": "/jobs/101", "object_type": "job", "access_control_list": [
            {"user_name": "ana@example.com", "all_permissions": [{"permission_level": "IS_OWNER", "inherited": false}]}
        ]});
        let d = &normalize(&[raw], &resolver())[0];
        assert_eq!(d.key, "jobs:nightly etl");
        assert_eq!(d.content["object"], "jobs");
        assert_eq!(d.refs[0], named("object", Kind::Jobs, "nightly etl"));
    }
}
