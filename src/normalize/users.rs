//! Users, keyed by `userName`.
//!
//! Group membership is dropped here: it lives on the group records, so a
//! membership change shows once, on the group.

use serde_json::Value;

use super::canon::{drop_fields, sort_array_by};
use super::{Draft, Resolver, str_field};

/// SCIM ids, server bookkeeping, and memberships (kept on groups instead).
const DROPPED: &[&str] = &["id", "externalId", "meta", "schemas", "groups"];

pub(crate) fn normalize(objects: &[Value], _r: &Resolver) -> Vec<Draft> {
    objects
        .iter()
        .filter_map(|user| {
            let key = str_field(user, "userName")?.to_owned();
            let mut content = user.clone();
            drop_fields(&mut content, DROPPED);
            if let Some(Value::Array(emails)) = content.get_mut("emails") {
                for email in emails.iter_mut() {
                    keep_fields(email, &["value", "type", "primary"]);
                }
            }
            sort_array_by(&mut content, "emails", "value");
            scim_values_in_place(&mut content, "entitlements");
            scim_values_in_place(&mut content, "roles");
            Some(Draft::new(key, content))
        })
        .collect()
}

/// Replaces a SCIM multi-valued attribute (`[{"value": "..."}, ...]`) by the
/// sorted list of its `value` strings: entitlements and roles are sets, and
/// their `display`/`type`/`primary` decorations carry no configuration.
pub(super) fn scim_values_in_place(content: &mut Value, field: &str) {
    let Some(slot) = content.get_mut(field) else {
        return;
    };
    let mut values: Vec<String> = match slot {
        Value::Array(items) => items
            .iter()
            .filter_map(|i| str_field(i, "value"))
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    };
    values.sort();
    values.dedup();
    *slot = Value::Array(values.into_iter().map(Value::String).collect());
}

/// Keeps only the named fields of an object.
fn keep_fields(value: &mut Value, fields: &[&str]) {
    if let Value::Object(map) = value {
        map.retain(|k, _| fields.contains(&k.as_str()));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::normalize::canonicalize;

    fn user(emails: Value, entitlements: Value) -> Value {
        json!({
            "schemas": [
                "urn:ietf:params:scim:schemas:core:2.0:User",
                "urn:ietf:params:scim:schemas:extension:workspace:2.0:User"
            ],
            "id": "7263581120519640",
            "userName": "ana.lopez@example.com",
            "displayName": "Ana Lopez",
            "active": true,
            "externalId": "9f1c8d6e-2b4a-4c3e-8a1f-0d9e7b6c5a41",
            "name": {"givenName": "Ana", "familyName": "Lopez"},
            "emails": emails,
            "groups": [{"display": "data-eng", "type": "direct", "value": "1042", "$ref": "Groups/1042"}],
            "entitlements": entitlements,
            "roles": [{"value": "arn:aws:iam::123456789012:instance-profile/etl", "type": "direct"}],
            "meta": {"resourceType": "User"}
        })
    }

    #[test]
    fn keeps_identity_and_rights_drops_ids_and_memberships() {
        let raw = user(
            json!([
                {"value": "ana.lopez@example.com", "type": "work", "primary": true, "display": "work"},
                {"value": "ana@example.org", "type": "other", "primary": false}
            ]),
            json!([{"value": "workspace-access"}, {"value": "allow-cluster-create", "display": "x"}]),
        );
        let drafts = normalize(&[raw], &Resolver::default());
        assert_eq!(drafts.len(), 1);
        let d = &drafts[0];
        assert_eq!(d.key, "ana.lopez@example.com");
        assert_eq!(d.modified_at, None);
        assert!(d.refs.is_empty());
        assert_eq!(
            d.content,
            json!({
                "userName": "ana.lopez@example.com",
                "displayName": "Ana Lopez",
                "active": true,
                "name": {"givenName": "Ana", "familyName": "Lopez"},
                "emails": [
                    {"value": "ana.lopez@example.com", "type": "work", "primary": true},
                    {"value": "ana@example.org", "type": "other", "primary": false}
                ],
                "entitlements": ["allow-cluster-create", "workspace-access"],
                "roles": ["arn:aws:iam::123456789012:instance-profile/etl"]
            })
        );
    }

    #[test]
    fn set_order_does_not_matter() {
        let a = user(
            json!([{"value": "b@example.com", "type": "work"}, {"value": "a@example.com", "type": "work"}]),
            json!([{"value": "workspace-access"}, {"value": "databricks-sql-access"}]),
        );
        let b = user(
            json!([{"value": "a@example.com", "type": "work"}, {"value": "b@example.com", "type": "work"}]),
            json!([{"value": "databricks-sql-access"}, {"value": "workspace-access"}]),
        );
        let mut a = normalize(&[a], &Resolver::default()).remove(0).content;
        let mut b = normalize(&[b], &Resolver::default()).remove(0).content;
        canonicalize(&mut a);
        canonicalize(&mut b);
        assert_eq!(a, b);
    }

    #[test]
    fn users_without_a_user_name_are_skipped() {
        let raw = json!({"id": "1", "displayName": "ghost"});
        assert!(normalize(&[raw], &Resolver::default()).is_empty());
    }
}
