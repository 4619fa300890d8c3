//! Instance pools, keyed by `instance_pool_name`.
//!
//! `min_idle_instances` and `max_capacity` stay: the DR rules need them
//! (a passive pool keeps no idle instances).

use serde_json::Value;

use super::canon::{drop_fields, sort_array};
use super::{Draft, Resolver, str_field};

/// Server-set or per-workspace fields that never mean drift.
const VOLATILE: &[&str] = &[
    "instance_pool_id",
    "default_tags",
    "stats",
    "status",
    "state",
];

pub(crate) fn normalize(objects: &[Value], _r: &Resolver) -> Vec<Draft> {
    objects
        .iter()
        .filter_map(|pool| {
            let key = str_field(pool, "instance_pool_name")?.to_owned();
            let mut content = pool.clone();
            drop_fields(&mut content, VOLATILE);
            sort_array(&mut content, "preloaded_spark_versions");
            Some(Draft::new(key, content))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn drops_ids_and_stats_keeps_dr_fields() {
        let raw = json!({
            "instance_pool_id": "0101-pool", "instance_pool_name": "etl", "node_type_id": "i3.xlarge",
            "min_idle_instances": 2, "max_capacity": 10, "state": "ACTIVE",
            "stats": {"idle_count": 2}, "default_tags": {"DatabricksInstancePoolId": "0101-pool"}
        });
        let drafts = normalize(&[raw], &Resolver::default());
        assert_eq!(drafts.len(), 1);
        assert_eq!(drafts[0].key, "etl");
        assert_eq!(
            drafts[0].content,
            json!({"instance_pool_name": "etl", "node_type_id": "i3.xlarge", "min_idle_instances": 2, "max_capacity": 10})
        );
    }
}
