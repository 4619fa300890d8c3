//! Unity Catalog catalogs, keyed by `name`.
//!
//! Content keeps what a person set (owner, comment, properties, options,
//! isolation mode, type, storage root, sharing and connection names);
//! metastore ids, timestamps, creators, `full_name`, `securable_*`,
//! `browse_only`, the effective predictive-optimization flag, the
//! server-derived `storage_location` and `provisioning_info` are dropped.
//! The `system` catalog is no DR object and is skipped.

use serde_json::{Map, Value};

use super::{Draft, Resolver, str_field};

/// The compared fields.
const CONTENT: &[&str] = &[
    "name",
    "owner",
    "comment",
    "properties",
    "options",
    "isolation_mode",
    "catalog_type",
    "storage_root",
    "connection_name",
    "share_name",
    "provider_name",
];

pub(crate) fn normalize(objects: &[Value], _r: &Resolver) -> Vec<Draft> {
    objects
        .iter()
        .filter(|c| {
            str_field(c, "catalog_type") != Some("SYSTEM_CATALOG")
                && str_field(c, "name") != Some("system")
        })
        .filter_map(|catalog| {
            let key = str_field(catalog, "name")?.to_owned();
            let mut draft = Draft::new(key, pick(catalog, CONTENT));
            draft.modified_at = catalog.get("updated_at").and_then(Value::as_i64);
            Some(draft)
        })
        .collect()
}

/// The named fields of an object, as a new object (absent fields stay absent).
///
/// Shared by the kinds whose content is a fixed set of fields.
pub(super) fn pick(object: &Value, fields: &[&str]) -> Value {
    let mut out = Map::new();
    for field in fields {
        if let Some(v) = object.get(*field) {
            out.insert((*field).to_owned(), v.clone());
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn keeps_settings_drops_server_fields_and_skips_system() {
        let raw = json!([
            {
                "name": "main", "owner": "data-platform", "comment": "prod data",
                "properties": {"team": "core"}, "isolation_mode": "ISOLATED",
                "catalog_type": "MANAGED_CATALOG", "storage_root": "s3://acme-prod-uc/main",
                "storage_location": "s3://acme-prod-uc/main/__unitystorage/catalogs/6b0c",
                "metastore_id": "11111111-2222-3333-4444-555555555555", "full_name": "main",
                "securable_type": "CATALOG", "securable_kind": "CATALOG_STANDARD", "browse_only": false,
                "effective_predictive_optimization_flag": {"value": "ENABLE", "inherited_from_type": "METASTORE"},
                "created_at": 1_690_000_000_000i64, "created_by": "ana@example.com",
                "updated_at": 1_700_000_000_000i64, "updated_by": "ana@example.com", "id": "6b0c"
            },
            {"name": "system", "catalog_type": "SYSTEM_CATALOG", "owner": "System user"},
            {"name": "shared_in", "catalog_type": "DELTASHARING_CATALOG", "provider_name": "acme", "share_name": "s1"},
            {"comment": "no name"}
        ]);
        let drafts = normalize(raw.as_array().unwrap(), &Resolver::default());
        assert_eq!(drafts.len(), 2);
        assert_eq!(drafts[0].key, "main");
        assert_eq!(drafts[0].modified_at, Some(1_700_000_000_000));
        assert!(drafts[0].refs.is_empty());
        assert_eq!(
            drafts[0].content,
            json!({
                "name": "main", "owner": "data-platform", "comment": "prod data",
                "properties": {"team": "core"}, "isolation_mode": "ISOLATED",
                "catalog_type": "MANAGED_CATALOG", "storage_root": "s3://acme-prod-uc/main"
            })
        );
        assert_eq!(
            drafts[1].content,
            json!({"name": "shared_in", "catalog_type": "DELTASHARING_CATALOG", "provider_name": "acme", "share_name": "s1"})
        );
        assert_eq!(drafts[1].modified_at, None);
    }
}
