//! Cluster policies: `GET /api/2.0/policies/clusters/list`, one page.

use super::{Cx, RawKind};
use crate::client::take_array;
use crate::kind::Kind;

const PATH: &str = "/api/2.0/policies/clusters/list";

/// Reads every cluster policy.
pub(crate) async fn collect(cx: &Cx) -> RawKind {
    let page = cx.get(Kind::ClusterPolicies, PATH, &[]).await;
    match page.and_then(|mut page| take_array(&mut page, "policies", PATH)) {
        Ok(policies) => RawKind::complete(policies),
        Err(e) => RawKind::failed(e),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;
    use crate::collect::jobs::test_support::cx_with;

    #[tokio::test]
    async fn policies_are_the_raw_objects() {
        let server = MockServer::start().await;
        let policy = json!({"policy_id": "D96308F1BF0003A8", "name": "shared-compute",
                            "definition": "{\"autotermination_minutes\":{\"type\":\"fixed\",\"value\":60}}"});
        Mock::given(method("GET"))
            .and(path(PATH))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"policies": [policy.clone()]})),
            )
            .expect(1)
            .mount(&server)
            .await;
        let raw = collect(&cx_with(&server, Vec::new())).await;
        let objects: Vec<serde_json::Value> = raw.values().collect();
        assert!(raw.is_complete(), "{:?}", raw.error);
        assert_eq!(objects, vec![policy]);
    }

    #[tokio::test]
    async fn a_reply_without_policies_is_empty_and_an_error_is_incomplete() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(PATH))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
            .mount(&server)
            .await;
        let raw = collect(&cx_with(&server, Vec::new())).await;
        assert!(raw.is_complete() && raw.objects.is_empty());

        let failing = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(PATH))
            .respond_with(ResponseTemplate::new(200).set_body_string("{\"policies\": \"oops\"}"))
            .mount(&failing)
            .await;
        let raw = collect(&cx_with(&failing, Vec::new())).await;
        assert!(
            matches!(raw.error, Some(crate::client::ApiError::Decode { .. })),
            "{:?}",
            raw.error
        );
    }
}
