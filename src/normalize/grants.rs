//! Unity Catalog grants, keyed by `<securable_type>:<full_name>` (`table:main.sales.orders`).
//!
//! Content: the securable and its direct privilege assignments, one per
//! principal with its privileges as a sorted set; principal ids are dropped
//! (principals are named by their account-level names). The record refers
//! to its catalog, schema or table.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::{Draft, Resolver, str_field};
use crate::kind::Kind;

pub(crate) fn normalize(objects: &[Value], _r: &Resolver) -> Vec<Draft> {
    objects
        .iter()
        .filter_map(|grant| {
            // The API spells the type in either case (`table`, `TABLE`).
            let securable_type = str_field(grant, "securable_type")?.to_ascii_lowercase();
            let full_name = str_field(grant, "full_name")?;
            let mut by_principal: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
            for assignment in grant.get("privilege_assignments").and_then(Value::as_array).into_iter().flatten() {
                let Some(principal) = str_field(assignment, "principal") else { continue };
                // Pages can repeat a principal; its privileges are one set.
                let privileges = by_principal.entry(principal).or_default();
                for privilege in assignment.get("privileges").and_then(Value::as_array).into_iter().flatten() {
                    // Plain strings here; the effective-permissions shape nests them in objects.
                    if let Some(p) = privilege.as_str().or_else(|| str_field(privilege, "privilege")) {
                        privileges.insert(p);
                    }
                }
            }
            let assignments: Vec<Value> = by_principal
                .into_iter()
                .filter(|(_, privileges)| !privileges.is_empty())
                .map(|(principal, privileges)| json!({"principal": principal, "privileges": privileges}))
                .collect();
            let mut draft = Draft::new(
                format!("{securable_type}:{full_name}"),
                json!({"securable_type": securable_type, "full_name": full_name, "assignments": assignments}),
            );
            let kind = match securable_type.as_str() {
                "catalog" => Some(Kind::Catalogs),
                "schema" => Some(Kind::Schemas),
                "table" => Some(Kind::Tables),
                _ => None,
            };
            if let Some(kind) = kind {
                Resolver::named("full_name", kind, full_name, &mut draft.refs);
            }
            Some(draft)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::Reference;

    #[test]
    fn assignments_sorted_by_principal_with_sorted_privileges() {
        let raw = json!({
            "securable_type": "TABLE", "full_name": "main.sales.orders",
            "privilege_assignments": [
                {"principal": "data-eng", "principal_id": "7a1", "privileges": ["MODIFY", "SELECT"]},
                {"principal": "analysts", "principal_id": "7a2", "privileges": ["SELECT"]},
                {"principal": "4f2c9d1e-1b2a-4c3d-9e8f-0a1b2c3d4e5f", "privileges": ["ALL_PRIVILEGES"]},
                {"principal": "nobody", "privileges": []}
            ]
        });
        let drafts = normalize(&[raw], &Resolver::default());
        assert_eq!(drafts.len(), 1);
        let d = &drafts[0];
        assert_eq!(d.key, "table:main.sales.orders");
        assert_eq!(d.modified_at, None);
        assert_eq!(
            d.content,
            json!({
                "securable_type": "table", "full_name": "main.sales.orders",
                "assignments": [
                    {"principal": "4f2c9d1e-1b2a-4c3d-9e8f-0a1b2c3d4e5f", "privileges": ["ALL_PRIVILEGES"]},
                    {"principal": "analysts", "privileges": ["SELECT"]},
                    {"principal": "data-eng", "privileges": ["MODIFY", "SELECT"]}
                ]
            })
        );
        assert_eq!(
            d.refs,
            vec![Reference {
                field: "full_name".into(),
                kind: Kind::Tables,
                key: Some("main.sales.orders".into()),
                unresolved_id: None
            }]
        );
    }

    #[test]
    fn order_of_assignments_and_privileges_does_not_matter() {
        let a = json!({"securable_type": "schema", "full_name": "main.sales", "privilege_assignments": [
            {"principal": "b", "privileges": ["USE_SCHEMA", "CREATE_TABLE"]}, {"principal": "a", "privileges": ["USE_SCHEMA"]}
        ]});
        // Split across pages, repeated principal, another order.
        let b = json!({"securable_type": "SCHEMA", "full_name": "main.sales", "privilege_assignments": [
            {"principal": "a", "privileges": ["USE_SCHEMA"]}, {"principal": "b", "privileges": ["CREATE_TABLE"]},
            {"principal": "b", "privileges": ["USE_SCHEMA"]}
        ]});
        let r = Resolver::default();
        let (da, db) = (normalize(&[a], &r), normalize(&[b], &r));
        assert_eq!(da[0].key, "schema:main.sales");
        assert_eq!(da[0].key, db[0].key);
        assert_eq!(da[0].content, db[0].content);
        assert_eq!(da[0].refs[0].kind, Kind::Schemas);
    }

    #[test]
    fn a_catalog_without_grants_still_has_a_record() {
        let raw =
            json!({"securable_type": "catalog", "full_name": "main", "privilege_assignments": []});
        let d = &normalize(&[raw], &Resolver::default())[0];
        assert_eq!(d.key, "catalog:main");
        assert_eq!(
            d.content,
            json!({"securable_type": "catalog", "full_name": "main", "assignments": []})
        );
        assert_eq!(d.refs[0].kind, Kind::Catalogs);
    }
}
