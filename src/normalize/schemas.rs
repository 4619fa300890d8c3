//! Unity Catalog schemas, keyed by `full_name` (`catalog.schema`).
//!
//! Content: name, catalog, owner, comment, properties, storage root; ids,
//! timestamps, creators and server-derived fields are dropped. Each schema
//! refers to its catalog by name. `information_schema` is skipped.

use serde_json::Value;

use super::catalogs::pick;
use super::{Draft, Resolver, str_field};
use crate::kind::Kind;

/// The compared fields.
const CONTENT: &[&str] = &[
    "name",
    "catalog_name",
    "owner",
    "comment",
    "properties",
    "storage_root",
];

pub(crate) fn normalize(objects: &[Value], _r: &Resolver) -> Vec<Draft> {
    objects
        .iter()
        .filter(|s| str_field(s, "name") != Some("information_schema"))
        .filter_map(|schema| {
            let catalog = str_field(schema, "catalog_name");
            let key = match (
                str_field(schema, "full_name"),
                catalog,
                str_field(schema, "name"),
            ) {
                (Some(full), _, _) => full.to_owned(),
                (None, Some(c), Some(n)) => format!("{c}.{n}"),
                _ => return None,
            };
            let mut draft = Draft::new(key, pick(schema, CONTENT));
            draft.modified_at = schema.get("updated_at").and_then(Value::as_i64);
            if let Some(catalog) = catalog {
                Resolver::named("catalog_name", Kind::Catalogs, catalog, &mut draft.refs);
            }
            Some(draft)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::snapshot::Reference;

    #[test]
    fn keyed_by_full_name_with_a_catalog_ref() {
        let raw = json!([
            {
                "name": "sales", "catalog_name": "main", "full_name": "main.sales", "owner": "analysts",
                "comment": "orders and customers", "properties": {"owner_team": "sales"},
                "storage_root": "s3://acme-prod-uc/sales", "storage_location": "s3://acme-prod-uc/sales/__unitystorage/schemas/9a",
                "metastore_id": "11111111-2222-3333-4444-555555555555", "schema_id": "9a",
                "securable_type": "SCHEMA", "browse_only": false,
                "effective_predictive_optimization_flag": {"value": "ENABLE"},
                "created_at": 1_690_000_000_000i64, "created_by": "ana@example.com",
                "updated_at": 1_700_000_000_123i64, "updated_by": "bo@example.com"
            },
            {"name": "information_schema", "catalog_name": "main", "full_name": "main.information_schema"},
            {"name": "default", "catalog_name": "dev"}
        ]);
        let drafts = normalize(raw.as_array().unwrap(), &Resolver::default());
        assert_eq!(drafts.len(), 2);
        assert_eq!(drafts[0].key, "main.sales");
        assert_eq!(drafts[0].modified_at, Some(1_700_000_000_123));
        assert_eq!(
            drafts[0].content,
            json!({
                "name": "sales", "catalog_name": "main", "owner": "analysts", "comment": "orders and customers",
                "properties": {"owner_team": "sales"}, "storage_root": "s3://acme-prod-uc/sales"
            })
        );
        assert_eq!(
            drafts[0].refs,
            vec![Reference {
                field: "catalog_name".into(),
                kind: Kind::Catalogs,
                key: Some("main".into()),
                unresolved_id: None
            }]
        );
        // No `full_name`: built from catalog and name.
        assert_eq!(drafts[1].key, "dev.default");
    }
}
