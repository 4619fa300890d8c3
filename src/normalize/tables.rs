//! Unity Catalog tables and views, keyed by `full_name` (`catalog.schema.table`).
//!
//! `storage_location` stays for external tables: the DR diff compares it
//! after path rewrites. A managed table's location is chosen by Unity Catalog
//! (under the schema's or catalog's storage root, ending in a table UUID), so
//! it differs between any two metastores and is dropped; the roots are
//! compared on schema and catalog records instead.
//! Columns are sorted by position and keep their definition only. Table
//! properties the engine rewrites on every commit or ANALYZE
//! (`transient_lastDdlTime`, `delta.lastCommitTimestamp`,
//! `delta.lastUpdateVersion`, `spark.sql.statistics.*`) are dropped, as are ids,
//! timestamps, creators, `deleted_at`, access-point and pipeline ids and other
//! server-set fields. `row_filter` and column `mask` stay: a secondary without
//! them exposes data the primary hides. Each table refers to its schema.

use serde_json::Value;

use super::catalogs::pick;
use super::{Draft, Resolver, str_field};
use crate::kind::Kind;

/// The compared table fields.
const CONTENT: &[&str] = &[
    "name",
    "catalog_name",
    "schema_name",
    "table_type",
    "data_source_format",
    "storage_location",
    "columns",
    "owner",
    "comment",
    "view_definition",
    "properties",
    "storage_credential_name",
    "row_filter",
];

/// The compared column fields.
const COLUMN: &[&str] = &[
    "name",
    "type_text",
    "type_name",
    "position",
    "nullable",
    "partition_index",
    "comment",
    "mask",
];

/// Table properties the service rewrites on its own.
const VOLATILE_PROPERTIES: &[&str] = &[
    "transient_lastDdlTime",
    "delta.lastCommitTimestamp",
    "delta.lastUpdateVersion",
];

/// Tables whose storage Unity Catalog places itself.
fn is_managed(table: &Value) -> bool {
    matches!(
        str_field(table, "table_type"),
        Some("MANAGED" | "MANAGED_SHALLOW_CLONE" | "MATERIALIZED_VIEW" | "STREAMING_TABLE")
    )
}

pub(crate) fn normalize(objects: &[Value], _r: &Resolver) -> Vec<Draft> {
    objects
        .iter()
        .filter_map(|table| {
            let catalog = str_field(table, "catalog_name");
            let schema = str_field(table, "schema_name");
            let key = match (
                str_field(table, "full_name"),
                catalog,
                schema,
                str_field(table, "name"),
            ) {
                (Some(full), ..) => full.to_owned(),
                (None, Some(c), Some(s), Some(n)) => format!("{c}.{s}.{n}"),
                _ => return None,
            };
            let mut content = pick(table, CONTENT);
            if is_managed(table) {
                if let Some(obj) = content.as_object_mut() {
                    obj.remove("storage_location");
                }
            }
            if let Some(Value::Array(columns)) = content.get_mut("columns") {
                let mut picked: Vec<Value> = columns.iter().map(|c| pick(c, COLUMN)).collect();
                // Numeric order: position 10 comes after 9, not after 1.
                picked.sort_by_cached_key(|c| {
                    let position = c
                        .get("position")
                        .and_then(Value::as_i64)
                        .unwrap_or(i64::MAX);
                    (position, super::canonical_json(c))
                });
                *columns = picked;
            }
            if let Some(Value::Object(properties)) = content.get_mut("properties") {
                properties.retain(|k, _| !is_volatile_property(k));
            }
            let mut draft = Draft::new(key, content);
            draft.modified_at = table.get("updated_at").and_then(Value::as_i64);
            if let (Some(c), Some(s)) = (catalog, schema) {
                Resolver::named(
                    "schema_name",
                    Kind::Schemas,
                    &format!("{c}.{s}"),
                    &mut draft.refs,
                );
            }
            Some(draft)
        })
        .collect()
}

fn is_volatile_property(key: &str) -> bool {
    VOLATILE_PROPERTIES.contains(&key) || key.starts_with("spark.sql.statistics.")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::snapshot::Reference;

    fn orders(columns: Value, properties: Value) -> Value {
        json!({
            "name": "orders", "catalog_name": "main", "schema_name": "sales", "full_name": "main.sales.orders",
            "table_type": "EXTERNAL", "data_source_format": "DELTA",
            "storage_location": "s3://acme-prod-data/sales/orders", "owner": "data-eng", "comment": "one row per order",
            "columns": columns, "properties": properties, "storage_credential_name": "prod-cred",
            "row_filter": {"function_name": "main.sec.region_filter", "input_column_names": ["region"]},
            "table_id": "1f6e6f0c-0000-4000-8000-000000000001", "metastore_id": "11111111-2222-3333-4444-555555555555",
            "created_at": 1_690_000_000_000i64, "created_by": "ana@example.com",
            "updated_at": 1_700_000_000_000i64, "updated_by": "bo@example.com",
            "data_access_configuration_id": "00000000-0000-0000-0000-000000000000",
            "delta_runtime_properties_kvpairs": {"delta_runtime_properties": {"x": "y"}},
            "effective_predictive_optimization_flag": {"value": "ENABLE"},
            "securable_type": "TABLE", "securable_kind": "TABLE_DELTA_EXTERNAL", "browse_only": false,
            "pipeline_id": "p-1", "access_point": "ap"
        })
    }

    fn column(name: &str, position: i64, type_name: &str) -> Value {
        json!({
            "name": name, "type_text": type_name.to_lowercase(), "type_name": type_name, "position": position,
            "nullable": true, "type_json": format!("{{\"name\":\"{name}\"}}"), "type_precision": 0, "type_scale": 0
        })
    }

    #[test]
    fn keeps_definition_and_location_drops_server_fields_and_volatile_properties() {
        let cols: Vec<Value> = (0..11)
            .map(|i| column(&format!("c{i}"), i, "LONG"))
            .collect();
        let properties = json!({
            "delta.minReaderVersion": "1", "delta.enableChangeDataFeed": "true",
            "transient_lastDdlTime": "1700000000", "delta.lastCommitTimestamp": "1700000000000",
            "delta.lastUpdateVersion": "42", "spark.sql.statistics.numRows": "1000",
            "spark.sql.statistics.totalSize": "2048"
        });
        let drafts = normalize(
            &[orders(Value::Array(cols), properties)],
            &Resolver::default(),
        );
        assert_eq!(drafts.len(), 1);
        let d = &drafts[0];
        assert_eq!(d.key, "main.sales.orders");
        assert_eq!(d.modified_at, Some(1_700_000_000_000));
        assert_eq!(
            d.refs,
            vec![Reference {
                field: "schema_name".into(),
                kind: Kind::Schemas,
                key: Some("main.sales".into()),
                unresolved_id: None
            }]
        );
        let positions: Vec<i64> = d.content["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["position"].as_i64().unwrap())
            .collect();
        assert_eq!(positions, (0..11).collect::<Vec<_>>());
        let mut without_columns = d.content.clone();
        without_columns.as_object_mut().unwrap().remove("columns");
        assert_eq!(
            without_columns,
            json!({
                "name": "orders", "catalog_name": "main", "schema_name": "sales", "table_type": "EXTERNAL",
                "data_source_format": "DELTA", "storage_location": "s3://acme-prod-data/sales/orders",
                "owner": "data-eng", "comment": "one row per order", "storage_credential_name": "prod-cred",
                "row_filter": {"function_name": "main.sec.region_filter", "input_column_names": ["region"]},
                "properties": {"delta.minReaderVersion": "1", "delta.enableChangeDataFeed": "true"}
            })
        );
        assert_eq!(
            d.content["columns"][0],
            json!({"name": "c0", "type_text": "long", "type_name": "LONG", "position": 0, "nullable": true})
        );
    }

    #[test]
    fn column_order_and_volatile_properties_do_not_change_content() {
        let a = orders(
            json!([column("id", 0, "LONG"), column("amount", 1, "DECIMAL")]),
            json!({"delta.lastCommitTimestamp": "1", "transient_lastDdlTime": "5"}),
        );
        let b = orders(
            json!([column("amount", 1, "DECIMAL"), column("id", 0, "LONG")]),
            json!({"delta.lastCommitTimestamp": "2", "spark.sql.statistics.numRows": "7"}),
        );
        let r = Resolver::default();
        assert_eq!(
            normalize(&[a], &r)[0].content,
            normalize(&[b], &r)[0].content
        );
    }

    #[test]
    fn a_view_keeps_its_definition() {
        let view = json!({
            "name": "big_orders", "catalog_name": "main", "schema_name": "sales", "table_type": "VIEW",
            "view_definition": "SELECT * FROM main.sales.orders WHERE amount > 100",
            "columns": [{"name": "id", "type_text": "bigint", "type_name": "LONG", "position": 0, "nullable": true}],
            "owner": "data-eng", "updated_at": 5
        });
        let drafts = normalize(&[view], &Resolver::default());
        assert_eq!(drafts[0].key, "main.sales.big_orders");
        assert_eq!(
            drafts[0].content["view_definition"],
            "SELECT * FROM main.sales.orders WHERE amount > 100"
        );
        assert_eq!(drafts[0].content.get("storage_location"), None);
    }

    #[test]
    fn a_managed_tables_location_is_not_compared_an_external_ones_is() {
        let managed = serde_json::json!({"full_name": "c.s.t", "table_type": "MANAGED",
            "storage_location": "s3://metastore/tables/6f1c2a3b-uuid"});
        let external = serde_json::json!({"full_name": "c.s.x", "table_type": "EXTERNAL",
            "storage_location": "s3://acme-prod-use1/landing/x"});
        let drafts = normalize(&[managed, external], &Resolver::default());
        assert_eq!(drafts[0].content.get("storage_location"), None);
        assert_eq!(
            drafts[1].content["storage_location"],
            "s3://acme-prod-use1/landing/x"
        );
    }
}
