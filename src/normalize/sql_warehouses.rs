//! SQL warehouses, keyed by name.
//!
//! `state` stays: a passive workspace's warehouses are expected stopped, and
//! a running one is itself a finding. Sizes and scaling stay too, since a
//! secondary too small to take the load is not a working standby.

use serde_json::Value;

use super::canon::{drop_fields, sort_array_by};
use super::{Draft, Resolver, str_field};

/// Ids, creators, connection details and live load that never mean drift.
const VOLATILE: &[&str] = &[
    "id",
    "creator_name",
    "num_clusters",
    "num_active_sessions",
    "health",
    "jdbc_url",
    "odbc_params",
];

pub(crate) fn normalize(objects: &[Value], _r: &Resolver) -> Vec<Draft> {
    objects
        .iter()
        .filter_map(|warehouse| {
            let key = str_field(warehouse, "name")?.to_owned();
            let mut content = warehouse.clone();
            drop_fields(&mut content, VOLATILE);
            if let Some(tags) = content.get_mut("tags") {
                sort_array_by(tags, "custom_tags", "key");
            }
            Some(Draft::new(key, content))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn warehouse(tags: Value) -> Value {
        json!({
            "id": "d1e2f3a4b5c6d7e8",
            "name": "bi-serving",
            "creator_name": "ana.lopez@example.com",
            "cluster_size": "Medium",
            "min_num_clusters": 1,
            "max_num_clusters": 4,
            "auto_stop_mins": 15,
            "enable_photon": true,
            "enable_serverless_compute": false,
            "warehouse_type": "PRO",
            "spot_instance_policy": "COST_OPTIMIZED",
            "channel": {"name": "CHANNEL_NAME_CURRENT"},
            "tags": {"custom_tags": tags},
            "state": "STOPPED",
            "num_clusters": 0,
            "num_active_sessions": 0,
            "health": {"status": "HEALTHY"},
            "jdbc_url": "jdbc:spark://h.cloud.databricks.com:443/default;transportMode=http;ssl=1;httpPath=/sql/1.0/warehouses/d1e2f3a4b5c6d7e8",
            "odbc_params": {"hostname": "h.cloud.databricks.com", "path": "/sql/1.0/warehouses/d1e2f3a4b5c6d7e8", "protocol": "https", "port": 443}
        })
    }

    fn tags() -> Value {
        json!([{"key": "team", "value": "bi"}, {"key": "cost-center", "value": "42"}])
    }

    #[test]
    fn keeps_sizing_and_state_drops_ids_and_load() {
        let drafts = normalize(&[warehouse(tags())], &Resolver::default());
        assert_eq!(drafts.len(), 1);
        let d = &drafts[0];
        assert_eq!(d.key, "bi-serving");
        assert_eq!(d.modified_at, None);
        assert!(d.refs.is_empty());
        assert_eq!(
            d.content,
            json!({
                "name": "bi-serving",
                "cluster_size": "Medium",
                "min_num_clusters": 1,
                "max_num_clusters": 4,
                "auto_stop_mins": 15,
                "enable_photon": true,
                "enable_serverless_compute": false,
                "warehouse_type": "PRO",
                "spot_instance_policy": "COST_OPTIMIZED",
                "channel": {"name": "CHANNEL_NAME_CURRENT"},
                "tags": {"custom_tags": [{"key": "cost-center", "value": "42"}, {"key": "team", "value": "bi"}]},
                "state": "STOPPED"
            })
        );
    }

    #[test]
    fn tag_order_does_not_matter() {
        let mut reversed = tags();
        if let Value::Array(items) = &mut reversed {
            items.reverse();
        }
        let a = normalize(&[warehouse(tags())], &Resolver::default());
        let b = normalize(&[warehouse(reversed)], &Resolver::default());
        assert_eq!(a, b);
    }
}
