//! Libraries installed on all-purpose clusters, keyed by the cluster's name.
//!
//! Raw objects are `all-cluster-statuses` entries. Only clusters the
//! `clusters` kind captured are kept (the API also reports job clusters);
//! their libraries are a sorted list of the `library` objects, without the
//! install status, which is runtime state. A library marked
//! `UNINSTALL_ON_RESTART` is already removed from the cluster's
//! configuration and is left out.

use serde_json::{Value, json};

use super::compute::normalize_libraries;
use super::{Draft, Resolver, id_field};
use crate::kind::Kind;

/// One draft per captured cluster that has libraries.
pub(crate) fn normalize(objects: &[Value], r: &Resolver) -> Vec<Draft> {
    objects
        .iter()
        .filter_map(|status| {
            let cluster_id = id_field(status, "cluster_id")?;
            let key = r.key_of(Kind::Clusters, &cluster_id)?.to_owned();
            let libraries: Vec<Value> = status
                .get("library_statuses")
                .and_then(Value::as_array)?
                .iter()
                .filter(|s| s.get("status").and_then(Value::as_str) != Some("UNINSTALL_ON_RESTART"))
                .filter_map(|s| s.get("library").cloned())
                .collect();
            if libraries.is_empty() {
                return None;
            }
            let mut refs = Vec::new();
            let cluster = r.reference("cluster", Kind::Clusters, &cluster_id, &mut refs);
            let mut libraries = Value::Array(libraries);
            normalize_libraries(&mut libraries, "libraries", &mut refs);
            Some(Draft {
                key,
                modified_at: None,
                refs,
                content: json!({"cluster": cluster, "libraries": libraries}),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::Reference;

    fn resolver() -> Resolver {
        let mut r = Resolver::default();
        r.insert(Kind::Clusters, "0923-164208-meows279", "analytics");
        r
    }

    fn statuses() -> Value {
        json!([
            {
                "cluster_id": "0923-164208-meows279",
                "library_statuses": [
                    {"library": {"whl": "/Workspace/Shared/libs/etl-1.0-py3-none-any.whl"}, "status": "INSTALLED", "is_library_for_all_clusters": false},
                    {"library": {"maven": {"coordinates": "com.example:lib:1.0", "exclusions": ["org.slf4j:slf4j-api", "log4j:log4j"]}},
                     "status": "INSTALLED", "is_library_for_all_clusters": false},
                    {"library": {"pypi": {"package": "requests==2.32.3"}}, "status": "PENDING", "is_library_for_all_clusters": false,
                     "messages": ["installing"]},
                    {"library": {"pypi": {"package": "old==0.1"}}, "status": "UNINSTALL_ON_RESTART", "is_library_for_all_clusters": false}
                ]
            },
            {
                "cluster_id": "1002-000000-jobrun1",
                "library_statuses": [{"library": {"pypi": {"package": "x"}}, "status": "INSTALLED"}]
            },
            {"cluster_id": "0923-164208-meows279-empty"}
        ])
    }

    #[test]
    fn libraries_of_captured_clusters_sorted_without_status() {
        let raw: Vec<Value> = statuses().as_array().cloned().unwrap_or_default();
        let drafts = normalize(&raw, &resolver());
        assert_eq!(
            drafts.len(),
            1,
            "the job cluster is not captured and is skipped"
        );
        let d = &drafts[0];
        assert_eq!(d.key, "analytics");
        assert_eq!(d.modified_at, None);
        assert_eq!(
            d.content,
            json!({
                "cluster": "analytics",
                "libraries": [
                    {"maven": {"coordinates": "com.example:lib:1.0", "exclusions": ["log4j:log4j", "org.slf4j:slf4j-api"]}},
                    {"pypi": {"package": "requests==2.32.3"}},
                    {"whl": "/Workspace/Shared/libs/etl-1.0-py3-none-any.whl"}
                ]
            })
        );
        assert_eq!(
            d.refs,
            vec![
                Reference {
                    field: "cluster".into(),
                    kind: Kind::Clusters,
                    key: Some("analytics".into()),
                    unresolved_id: None
                },
                Reference {
                    field: "libraries[2].whl".into(),
                    kind: Kind::WorkspaceObjects,
                    key: Some("/Shared/libs/etl-1.0-py3-none-any.whl".into()),
                    unresolved_id: None
                },
            ]
        );
    }

    #[test]
    fn library_order_does_not_matter_and_empty_lists_are_skipped() {
        let mut raw: Vec<Value> = statuses().as_array().cloned().unwrap_or_default();
        let a = normalize(&raw, &resolver()).remove(0).into_record();
        if let Some(list) = raw[0]["library_statuses"].as_array_mut() {
            list.reverse();
        }
        let b = normalize(&raw, &resolver()).remove(0).into_record();
        assert_eq!(a.content.get(), b.content.get());

        let only_uninstalling = json!({"cluster_id": "0923-164208-meows279", "library_statuses": [
            {"library": {"jar": "dbfs:/old.jar"}, "status": "UNINSTALL_ON_RESTART"}
        ]});
        assert!(normalize(&[only_uninstalling], &resolver()).is_empty());
    }
}
