//! All-purpose clusters, keyed by `cluster_name`.
//!
//! The collector already left out job, pipeline, SQL and model-serving
//! clusters. `state` stays: the DR rules need it (a passive cluster is
//! terminated). Runtime fields (times, sizes, driver and executors, the last
//! termination) are dropped, and so is `num_workers` when `autoscale` is set,
//! because it is then the current size, not configuration.

use serde_json::Value;

use super::canon::drop_fields;
use super::compute::normalize_spec;
use super::{Draft, Resolver, str_field};

/// Ids, runtime state and server-set fields of a cluster; never configuration.
///
/// `cluster_source` says how the cluster was created (UI or API), which
/// legitimately differs between a hand-made primary and a scripted secondary.
/// `spec` repeats the configuration the cluster was last created or edited with.
const VOLATILE: &[&str] = &[
    "cluster_id",
    "cluster_source",
    "creator_user_name",
    "state_message",
    "start_time",
    "terminated_time",
    "last_state_loss_time",
    "last_restarted_time",
    "last_activity_time",
    "termination_reason",
    "spark_context_id",
    "jdbc_port",
    "default_tags",
    "driver",
    "executors",
    "cluster_memory_mb",
    "cluster_cores",
    "cluster_log_status",
    "effective_spark_version",
    "spec",
];

/// One draft per named cluster: configuration and state, runtime fields dropped.
pub(crate) fn normalize(objects: &[Value], r: &Resolver) -> Vec<Draft> {
    objects
        .iter()
        .filter_map(|cluster| {
            let key = str_field(cluster, "cluster_name")?.to_owned();
            let mut content = cluster.clone();
            drop_fields(&mut content, VOLATILE);
            if content.get("autoscale").is_some_and(|a| !a.is_null()) {
                drop_fields(&mut content, &["num_workers"]);
            }
            let mut refs = Vec::new();
            normalize_spec(&mut content, "", r, &mut refs);
            Some(Draft {
                key,
                modified_at: None,
                refs,
                content,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::kind::Kind;
    use crate::snapshot::Reference;

    fn resolver() -> Resolver {
        let mut r = Resolver::default();
        r.insert(Kind::InstancePools, "0101-120000-pool1", "general-pool");
        r.insert(Kind::ClusterPolicies, "D96308F1BF0003A8", "shared-compute");
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

    /// A `clusters/list` entry as the 2.1 API returns it for a UI cluster.
    fn raw_cluster() -> Value {
        json!({
            "cluster_id": "0923-164208-meows279",
            "cluster_name": "analytics",
            "creator_user_name": "ana@example.com",
            "cluster_source": "UI",
            "spark_version": "15.4.x-scala2.12",
            "node_type_id": "i3.xlarge",
            "driver_node_type_id": "i3.xlarge",
            "instance_pool_id": "0101-120000-pool1",
            "policy_id": "D96308F1BF0003A8",
            "autoscale": {"min_workers": 2, "max_workers": 8},
            "num_workers": 5,
            "autotermination_minutes": 60,
            "spark_conf": {"spark.hadoop.fs.azure.account.key": "{{secrets/storage/account-key}}"},
            "spark_env_vars": {"PYSPARK_PYTHON": "/databricks/python3/bin/python3"},
            "custom_tags": {"team": "analytics"},
            "default_tags": {"Vendor": "Databricks", "ClusterId": "0923-164208-meows279", "Creator": "ana@example.com"},
            "init_scripts": [{"workspace": {"destination": "/Shared/init/install.sh"}}],
            "data_security_mode": "USER_ISOLATION",
            "runtime_engine": "PHOTON",
            "aws_attributes": {"availability": "SPOT_WITH_FALLBACK", "zone_id": "auto", "first_on_demand": 1},
            "state": "TERMINATED",
            "state_message": "Inactive cluster terminated (inactive for 60 minutes).",
            "start_time": 1727109728000i64,
            "terminated_time": 1727120000000i64,
            "last_state_loss_time": 1727109900000i64,
            "last_restarted_time": 1727109900000i64,
            "termination_reason": {"code": "INACTIVITY", "type": "SUCCESS", "parameters": {"inactivity_duration_min": "60"}},
            "spark_context_id": 4020997813441462000i64,
            "jdbc_port": 10000,
            "cluster_memory_mb": 0,
            "cluster_cores": 0.0,
            "driver": {"private_ip": "10.0.1.2", "node_id": "abc"},
            "executors": [{"private_ip": "10.0.1.3"}],
            "effective_spark_version": "15.4.x-scala2.12",
            "spec": {"cluster_name": "analytics", "num_workers": 2}
        })
    }

    #[test]
    fn keeps_configuration_and_state_drops_runtime_fields() {
        let drafts = normalize(&[raw_cluster()], &resolver());
        assert_eq!(drafts.len(), 1);
        let d = &drafts[0];
        assert_eq!(d.key, "analytics");
        assert_eq!(d.modified_at, None);
        assert_eq!(
            d.content,
            json!({
                "cluster_name": "analytics",
                "spark_version": "15.4.x-scala2.12",
                "node_type_id": "i3.xlarge",
                "driver_node_type_id": "i3.xlarge",
                "instance_pool": "general-pool",
                "policy": "shared-compute",
                "autoscale": {"min_workers": 2, "max_workers": 8},
                "autotermination_minutes": 60,
                "spark_conf": {"spark.hadoop.fs.azure.account.key": "{{secrets/storage/account-key}}"},
                "spark_env_vars": {"PYSPARK_PYTHON": "/databricks/python3/bin/python3"},
                "custom_tags": {"team": "analytics"},
                "init_scripts": [{"workspace": {"destination": "/Shared/init/install.sh"}}],
                "data_security_mode": "USER_ISOLATION",
                "runtime_engine": "PHOTON",
                "aws_attributes": {"availability": "SPOT_WITH_FALLBACK", "zone_id": "auto", "first_on_demand": 1},
                "state": "TERMINATED"
            })
        );
        assert_eq!(
            d.refs,
            vec![
                named("instance_pool", Kind::InstancePools, "general-pool"),
                named("policy", Kind::ClusterPolicies, "shared-compute"),
                named(
                    "spark_conf.spark.hadoop.fs.azure.account.key",
                    Kind::SecretScopes,
                    "storage"
                ),
                named(
                    "spark_conf.spark.hadoop.fs.azure.account.key",
                    Kind::Secrets,
                    "storage/account-key"
                ),
                named(
                    "init_scripts[0].workspace.destination",
                    Kind::WorkspaceObjects,
                    "/Shared/init/install.sh"
                ),
            ]
        );
    }

    #[test]
    fn fixed_size_keeps_num_workers_and_unknown_ids_stay_visible() {
        let raw = json!({
            "cluster_id": "1001-000000-abc", "cluster_name": "fixed", "num_workers": 3,
            "spark_version": "14.3.x-scala2.12", "instance_pool_id": "0202-999999-gone",
            "driver_instance_pool_id": "0101-120000-pool1", "state": "RUNNING"
        });
        let drafts = normalize(&[raw], &resolver());
        assert_eq!(
            drafts[0].content,
            json!({
                "cluster_name": "fixed", "num_workers": 3, "spark_version": "14.3.x-scala2.12",
                "instance_pool": {"unresolved_id": "0202-999999-gone"},
                "driver_instance_pool": "general-pool", "state": "RUNNING"
            })
        );
        assert_eq!(
            drafts[0].refs[0],
            Reference {
                field: "instance_pool".into(),
                kind: Kind::InstancePools,
                key: None,
                unresolved_id: Some("0202-999999-gone".into())
            }
        );
    }

    #[test]
    fn same_configuration_with_other_ids_compares_equal() {
        let mut other = raw_cluster();
        other["cluster_id"] = json!("1111-222222-other");
        other["instance_pool_id"] = json!("9999-pool-secondary");
        other["policy_id"] = json!("AAAAAAAAAAAAAAAA");
        other["num_workers"] = json!(2);
        other["start_time"] = json!(1);
        let mut r = resolver();
        r.insert(Kind::InstancePools, "9999-pool-secondary", "general-pool");
        r.insert(Kind::ClusterPolicies, "AAAAAAAAAAAAAAAA", "shared-compute");
        let a = normalize(&[raw_cluster()], &r).remove(0).into_record();
        let b = normalize(&[other], &r).remove(0).into_record();
        assert_eq!(a.content.get(), b.content.get());
    }

    #[test]
    fn clusters_without_a_name_are_skipped() {
        assert!(
            normalize(
                &[json!({"cluster_id": "x", "state": "RUNNING"})],
                &resolver()
            )
            .is_empty()
        );
    }
}
