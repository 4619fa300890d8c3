//! Service principals, keyed by `applicationId` (the same UUID in every
//! workspace of the account, unlike the SCIM `id`).

use serde_json::Value;

use super::canon::drop_fields;
use super::users::scim_values_in_place;
use super::{Draft, Resolver, str_field};

/// SCIM ids, server bookkeeping, and memberships (kept on groups instead).
const DROPPED: &[&str] = &["id", "externalId", "meta", "schemas", "groups"];

pub(crate) fn normalize(objects: &[Value], _r: &Resolver) -> Vec<Draft> {
    objects
        .iter()
        .filter_map(|sp| {
            let key = str_field(sp, "applicationId")?.to_owned();
            let mut content = sp.clone();
            drop_fields(&mut content, DROPPED);
            scim_values_in_place(&mut content, "entitlements");
            scim_values_in_place(&mut content, "roles");
            Some(Draft::new(key, content))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn sp(entitlements: Value) -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServicePrincipal"],
            "id": "5532184401927745",
            "applicationId": "6f2a9c1e-3b7d-4e8f-9a0b-1c2d3e4f5a6b",
            "displayName": "etl-runner",
            "active": true,
            "externalId": "0d9e7b6c-5a41-4c3e-8a1f-9f1c8d6e2b4a",
            "groups": [{"display": "admins", "value": "1001", "$ref": "Groups/1001"}],
            "entitlements": entitlements,
            "roles": []
        })
    }

    #[test]
    fn keyed_by_application_id_with_sorted_entitlements() {
        let drafts = normalize(
            &[sp(
                json!([{"value": "workspace-access"}, {"value": "allow-cluster-create"}]),
            )],
            &Resolver::default(),
        );
        assert_eq!(drafts.len(), 1);
        let d = &drafts[0];
        assert_eq!(d.key, "6f2a9c1e-3b7d-4e8f-9a0b-1c2d3e4f5a6b");
        assert_eq!(d.modified_at, None);
        assert!(d.refs.is_empty());
        assert_eq!(
            d.content,
            json!({
                "applicationId": "6f2a9c1e-3b7d-4e8f-9a0b-1c2d3e4f5a6b",
                "displayName": "etl-runner",
                "active": true,
                "entitlements": ["allow-cluster-create", "workspace-access"],
                "roles": []
            })
        );
    }

    #[test]
    fn entitlement_order_does_not_matter() {
        let a = normalize(
            &[sp(json!([{"value": "b"}, {"value": "a"}]))],
            &Resolver::default(),
        );
        let b = normalize(
            &[sp(json!([{"value": "a"}, {"value": "b"}]))],
            &Resolver::default(),
        );
        assert_eq!(a, b);
    }
}
