//! All-purpose clusters: `GET /api/2.1/clusters/list`, paged.
//!
//! Job, pipeline, SQL and model-serving clusters are not DR objects (they are
//! created by their owners on demand), so only `UI` and `API` clusters are
//! asked for, and the rest are dropped again here in case a server ignores
//! the filter. A busy workspace lists thousands of job clusters from the last
//! 30 days; the filter keeps them off the wire.

use serde_json::Value;

use super::{Cx, RawKind};
use crate::client::TokenPaging;
use crate::kind::Kind;

const PATH: &str = "/api/2.1/clusters/list";

/// `cluster_source` values of clusters that are not DR objects.
const NOT_DR: &[&str] = &["JOB", "PIPELINE", "PIPELINE_MAINTENANCE", "SQL", "MODELS"];

/// Lists all-purpose clusters; incomplete when the pools or policies they name are.
pub(crate) async fn collect(cx: &Cx) -> RawKind {
    let query = [
        ("page_size", "100".to_owned()),
        ("filter_by.cluster_sources", "UI".to_owned()),
        ("filter_by.cluster_sources", "API".to_owned()),
    ];
    // The pools and policies are only needed to resolve ids, so they are
    // awaited beside the listing, not before it.
    let (listed, dependency_error) = futures::join!(
        cx.list_pages(
            Kind::Clusters,
            PATH,
            &query,
            TokenPaging::page_token("clusters")
        ),
        super::jobs::dependency_error(cx, Kind::Clusters),
    );
    match listed {
        Ok(clusters) => RawKind::new(
            super::parse_all(clusters)
                .into_iter()
                .filter(is_dr_cluster)
                .collect(),
            dependency_error,
        ),
        Err(e) => RawKind::failed(e),
    }
}

/// True for clusters a person or a script created to work on: `UI`, `API`,
/// or no source at all (older clusters).
fn is_dr_cluster(cluster: &Value) -> bool {
    cluster
        .get("cluster_source")
        .and_then(Value::as_str)
        .is_none_or(|source| !NOT_DR.contains(&source))
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use wiremock::matchers::{method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;
    use crate::collect::jobs::test_support::{complete, cx_with, failed};

    #[tokio::test]
    async fn lists_all_pages_and_keeps_only_all_purpose_clusters() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(PATH))
            .and(query_param("page_token", "p2"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "clusters": [
                    {"cluster_id": "c3", "cluster_name": "sql-endpoint", "cluster_source": "SQL"},
                    {"cluster_id": "c4", "cluster_name": "legacy"}
                ]
            })))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(PATH))
            .and(query_param("page_size", "100"))
            .and(query_param("filter_by.cluster_sources", "UI"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "clusters": [
                    {"cluster_id": "c1", "cluster_name": "analytics", "cluster_source": "UI"},
                    {"cluster_id": "c2", "cluster_name": "job-123-run-4", "cluster_source": "JOB"}
                ],
                "next_page_token": "p2"
            })))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        let cx = cx_with(
            &server,
            vec![
                (Kind::InstancePools, complete()),
                (Kind::ClusterPolicies, complete()),
            ],
        );
        let raw = collect(&cx).await;
        let objects: Vec<serde_json::Value> = raw.values().collect();
        assert!(raw.is_complete(), "{:?}", raw.error);
        let names: Vec<_> = objects
            .iter()
            .filter_map(|c| c["cluster_name"].as_str())
            .collect();
        assert_eq!(names, ["analytics", "legacy"]);
        let sources: Vec<Vec<String>> = server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .map(|r| {
                r.url
                    .query_pairs()
                    .filter(|(k, _)| k == "filter_by.cluster_sources")
                    .map(|(_, v)| v.into_owned())
                    .collect()
            })
            .collect();
        assert_eq!(sources, vec![vec!["UI".to_owned(), "API".to_owned()]; 2]);
    }

    #[tokio::test]
    async fn an_incomplete_pool_listing_makes_clusters_incomplete_but_keeps_them() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(PATH))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "clusters": [{"cluster_id": "c1", "cluster_name": "analytics", "cluster_source": "API"}]
            })))
            .mount(&server)
            .await;
        let cx = cx_with(
            &server,
            vec![
                (Kind::InstancePools, failed()),
                (Kind::ClusterPolicies, complete()),
            ],
        );
        let raw = collect(&cx).await;
        assert_eq!(raw.objects.len(), 1);
        let error = raw.error.map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("`instance_pools`"), "{error}");
    }

    #[tokio::test]
    async fn a_failed_listing_is_incomplete() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(PATH))
            .respond_with(ResponseTemplate::new(403).set_body_json(json!({
                "error_code": "PERMISSION_DENIED", "message": "no access"
            })))
            .mount(&server)
            .await;
        let cx = cx_with(
            &server,
            vec![
                (Kind::InstancePools, complete()),
                (Kind::ClusterPolicies, complete()),
            ],
        );
        let raw = collect(&cx).await;
        assert!(raw.objects.is_empty());
        assert_eq!(raw.error.and_then(|e| e.status()), Some(403));
    }
}
