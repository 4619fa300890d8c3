//! Groups, keyed by `displayName`, with their members and parent groups as
//! natural keys.
//!
//! A member is `{"type": "user"|"service_principal"|"group", "key": ...}`,
//! its kind read from the SCIM `$ref` prefix (`Users/`, `ServicePrincipals/`,
//! `Groups/`) and its id resolved to a `userName`, `applicationId` or group
//! `displayName`. `resource_type` tells a workspace-local group
//! (`WorkspaceGroup`) from an account group (`Group`): recreating one as the
//! other on a secondary is drift.

use serde_json::{Value, json};

use super::canon::{drop_fields, sort_array, sort_values_by};
use super::users::scim_values_in_place;
use super::{Draft, Resolver, str_field};
use crate::kind::Kind;
use crate::snapshot::Reference;

/// SCIM ids and server bookkeeping (`meta.resourceType` is kept as `resource_type`).
const DROPPED: &[&str] = &["id", "externalId", "meta", "schemas"];

pub(crate) fn normalize(objects: &[Value], r: &Resolver) -> Vec<Draft> {
    objects
        .iter()
        .filter_map(|group| {
            let key = str_field(group, "displayName")?.to_owned();
            let mut refs = Vec::new();
            let mut content = group.clone();
            drop_fields(&mut content, DROPPED);
            if let Some(kind) = group.get("meta").and_then(|m| str_field(m, "resourceType")) {
                content["resource_type"] = Value::String(kind.to_owned());
            }
            if let Some(members) = group.get("members").and_then(Value::as_array) {
                let mut out: Vec<Value> = members
                    .iter()
                    .filter_map(|m| member(m, r, &mut refs))
                    .collect();
                sort_values_by(&mut out, "key");
                content["members"] = Value::Array(out);
            }
            if let Some(parents) = group.get("groups").and_then(Value::as_array) {
                let out = parents
                    .iter()
                    .filter_map(|p| str_field(p, "value"))
                    .map(|id| r.reference("groups", Kind::Groups, id, &mut refs))
                    .collect();
                content["groups"] = Value::Array(out);
                sort_array(&mut content, "groups");
            }
            scim_values_in_place(&mut content, "entitlements");
            scim_values_in_place(&mut content, "roles");
            Some(Draft {
                key,
                modified_at: None,
                refs,
                content,
            })
        })
        .collect()
}

/// One member as `{type, key}`, or `None` for an entry without an id.
fn member(m: &Value, r: &Resolver, refs: &mut Vec<Reference>) -> Option<Value> {
    let id = str_field(m, "value")?;
    let kind = match str_field(m, "$ref").and_then(ref_kind) {
        Some(kind) => kind,
        // Without a `$ref`, whichever kind knows the id is the member's kind.
        None => match [Kind::Users, Kind::ServicePrincipals, Kind::Groups]
            .into_iter()
            .find(|k| r.key_of(*k, id).is_some())
        {
            Some(kind) => kind,
            // Unknown kind and unknown id: keep the id visible; no kind to refer to.
            None => return Some(json!({"type": "unknown", "key": {"unresolved_id": id}})),
        },
    };
    let member_type = match kind {
        Kind::Users => "user",
        Kind::ServicePrincipals => "service_principal",
        _ => "group",
    };
    let key = r.reference("members", kind, id, refs);
    Some(json!({"type": member_type, "key": key}))
}

/// The kind a SCIM `$ref` (`Users/123`, or a full URL ending so) points at.
fn ref_kind(reference: &str) -> Option<Kind> {
    let (collection, _id) = reference.rsplit_once('/')?;
    match collection.rsplit('/').next()? {
        "Users" => Some(Kind::Users),
        "ServicePrincipals" => Some(Kind::ServicePrincipals),
        "Groups" => Some(Kind::Groups),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::canonicalize;

    fn resolver() -> Resolver {
        let mut r = Resolver::default();
        r.insert(Kind::Users, "7263581120519640", "ana.lopez@example.com");
        r.insert(Kind::Users, "8812093345120023", "bo.chen@example.com");
        r.insert(
            Kind::ServicePrincipals,
            "5532184401927745",
            "6f2a9c1e-3b7d-4e8f-9a0b-1c2d3e4f5a6b",
        );
        r.insert(Kind::Groups, "1001", "admins");
        r.insert(Kind::Groups, "1042", "data-eng");
        r.insert(Kind::Groups, "1077", "analysts");
        r
    }

    fn data_eng(members: Value, parents: Value) -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "id": "1042",
            "displayName": "data-eng",
            "externalId": "ext-42",
            "members": members,
            "groups": parents,
            "entitlements": [{"value": "workspace-access"}, {"value": "allow-cluster-create"}],
            "meta": {"resourceType": "WorkspaceGroup"}
        })
    }

    fn members() -> Value {
        json!([
            {"display": "Ana Lopez", "value": "7263581120519640", "$ref": "Users/7263581120519640"},
            {"display": "etl-runner", "value": "5532184401927745", "$ref": "ServicePrincipals/5532184401927745"},
            {"display": "analysts", "value": "1077", "$ref": "Groups/1077"},
            {"display": "Bo Chen", "value": "8812093345120023", "$ref": "Users/8812093345120023"}
        ])
    }

    fn reference(field: &str, kind: Kind, key: &str) -> Reference {
        Reference {
            field: field.into(),
            kind,
            key: Some(key.into()),
            unresolved_id: None,
        }
    }

    #[test]
    fn members_and_parents_become_natural_keys() {
        let raw = data_eng(
            members(),
            json!([{"display": "admins", "value": "1001", "$ref": "Groups/1001"}]),
        );
        let drafts = normalize(&[raw], &resolver());
        assert_eq!(drafts.len(), 1);
        let d = &drafts[0];
        assert_eq!(d.key, "data-eng");
        assert_eq!(d.modified_at, None);
        assert_eq!(
            d.content,
            json!({
                "displayName": "data-eng",
                "resource_type": "WorkspaceGroup",
                "members": [
                    {"type": "service_principal", "key": "6f2a9c1e-3b7d-4e8f-9a0b-1c2d3e4f5a6b"},
                    {"type": "user", "key": "ana.lopez@example.com"},
                    {"type": "group", "key": "analysts"},
                    {"type": "user", "key": "bo.chen@example.com"}
                ],
                "groups": ["admins"],
                "entitlements": ["allow-cluster-create", "workspace-access"]
            })
        );
        let mut refs = d.refs.clone();
        refs.sort();
        let mut expected = vec![
            reference("members", Kind::Users, "ana.lopez@example.com"),
            reference(
                "members",
                Kind::ServicePrincipals,
                "6f2a9c1e-3b7d-4e8f-9a0b-1c2d3e4f5a6b",
            ),
            reference("members", Kind::Groups, "analysts"),
            reference("members", Kind::Users, "bo.chen@example.com"),
            reference("groups", Kind::Groups, "admins"),
        ];
        expected.sort();
        assert_eq!(refs, expected);
    }

    #[test]
    fn member_order_does_not_matter() {
        let mut reversed = members();
        if let Value::Array(items) = &mut reversed {
            items.reverse();
        }
        let a = normalize(&[data_eng(members(), json!([]))], &resolver());
        let b = normalize(&[data_eng(reversed, json!([]))], &resolver());
        let (mut a, mut b) = (a[0].content.clone(), b[0].content.clone());
        canonicalize(&mut a);
        canonicalize(&mut b);
        assert_eq!(a, b);
    }

    #[test]
    fn unknown_members_stay_visible() {
        let raw = json!({
            "id": "2001",
            "displayName": "contractors",
            "members": [
                {"display": "Gone User", "value": "9999", "$ref": "Users/9999"},
                {"display": "no ref", "value": "8888"},
                {"display": "no ref but known", "value": "1077"}
            ],
            "groups": [{"display": "deleted", "value": "3003", "$ref": "Groups/3003"}],
            "meta": {"resourceType": "Group"}
        });
        let d = normalize(&[raw], &resolver()).remove(0);
        assert_eq!(
            d.content,
            json!({
                "displayName": "contractors",
                "resource_type": "Group",
                "members": [
                    {"type": "group", "key": "analysts"},
                    {"type": "unknown", "key": {"unresolved_id": "8888"}},
                    {"type": "user", "key": {"unresolved_id": "9999"}}
                ],
                "groups": [{"unresolved_id": "3003"}]
            })
        );
        assert!(d.refs.contains(&Reference {
            field: "members".into(),
            kind: Kind::Users,
            key: None,
            unresolved_id: Some("9999".into())
        }));
        assert!(d.refs.contains(&Reference {
            field: "groups".into(),
            kind: Kind::Groups,
            key: None,
            unresolved_id: Some("3003".into())
        }));
        assert!(
            d.refs
                .contains(&reference("members", Kind::Groups, "analysts"))
        );
        assert_eq!(d.refs.len(), 3);
    }

    #[test]
    fn ref_kind_reads_relative_and_absolute_refs() {
        assert_eq!(ref_kind("Users/1"), Some(Kind::Users));
        assert_eq!(
            ref_kind("https://h.cloud.databricks.com/api/2.0/preview/scim/v2/ServicePrincipals/2"),
            Some(Kind::ServicePrincipals)
        );
        assert_eq!(ref_kind("Groups/3"), Some(Kind::Groups));
        assert_eq!(ref_kind("Widgets/4"), None);
        assert_eq!(ref_kind("Users"), None);
    }
}
