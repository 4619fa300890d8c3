//! Libraries installed on clusters: `GET /api/2.0/libraries/all-cluster-statuses`,
//! one page for every cluster.
//!
//! Raw objects are the API's `statuses[]` entries, `{cluster_id, library_statuses}`.
//! Job clusters appear here too; the normalizer keeps only clusters the
//! `clusters` kind captured, which is why an incomplete `clusters` capture
//! makes this kind incomplete as well.

use super::{Cx, RawKind};
use crate::client::take_array;
use crate::kind::Kind;

const PATH: &str = "/api/2.0/libraries/all-cluster-statuses";

/// Reads every cluster's library statuses; incomplete when `clusters` is.
pub(crate) async fn collect(cx: &Cx) -> RawKind {
    let (page, dependency_error) = futures::join!(
        cx.get(Kind::ClusterLibraries, PATH, &[]),
        super::jobs::dependency_error(cx, Kind::ClusterLibraries)
    );
    match page.and_then(|mut page| take_array(&mut page, "statuses", PATH)) {
        Ok(statuses) => RawKind::new(statuses, dependency_error),
        Err(e) => RawKind::failed(e),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;
    use crate::collect::jobs::test_support::{complete, cx_with, failed};

    fn statuses() -> serde_json::Value {
        json!({"statuses": [{
            "cluster_id": "0923-164208-meows279",
            "library_statuses": [{"library": {"pypi": {"package": "requests==2.32.3"}}, "status": "INSTALLED",
                                  "is_library_for_all_clusters": false}]
        }]})
    }

    #[tokio::test]
    async fn statuses_are_the_raw_objects() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(PATH))
            .respond_with(ResponseTemplate::new(200).set_body_json(statuses()))
            .expect(1)
            .mount(&server)
            .await;
        let raw = collect(&cx_with(&server, vec![(Kind::Clusters, complete())])).await;
        let objects: Vec<serde_json::Value> = raw.values().collect();
        assert!(raw.is_complete(), "{:?}", raw.error);
        assert_eq!(
            objects,
            statuses()["statuses"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        );
    }

    #[tokio::test]
    async fn incomplete_clusters_make_libraries_incomplete() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(PATH))
            .respond_with(ResponseTemplate::new(200).set_body_json(statuses()))
            .mount(&server)
            .await;
        let raw = collect(&cx_with(&server, vec![(Kind::Clusters, failed())])).await;
        assert_eq!(raw.objects.len(), 1);
        let error = raw.error.map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("`clusters`"), "{error}");
    }

    #[tokio::test]
    async fn an_error_answer_is_incomplete() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(PATH))
            .respond_with(
                ResponseTemplate::new(403)
                    .set_body_json(json!({"error_code": "PERMISSION_DENIED", "message": "no"})),
            )
            .mount(&server)
            .await;
        let raw = collect(&cx_with(&server, vec![(Kind::Clusters, complete())])).await;
        assert!(raw.objects.is_empty());
        assert_eq!(raw.error.and_then(|e| e.status()), Some(403));
    }
}
