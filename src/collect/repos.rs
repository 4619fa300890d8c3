//! Git folders (repos): `GET /api/2.0/repos`, paged with `next_page_token` as
//! the request parameter too (the repos API's own spelling).
//!
//! Raw objects are the API's repo objects (`id`, `path`, `url`, `provider`,
//! `branch`, `head_commit_id`, `sparse_checkout`). The API lists only repos
//! the caller can manage.

use super::{Cx, RawKind, RawObject};
use crate::client::{ApiError, TokenPaging};
use crate::kind::Kind;

const PAGING: TokenPaging = TokenPaging {
    items: "repos",
    request_param: "next_page_token",
    response_field: "next_page_token",
};

pub(crate) async fn collect(cx: &Cx) -> RawKind {
    match list(cx).await {
        Ok(objects) => RawKind {
            objects,
            error: None,
        },
        Err(e) => RawKind::failed(e),
    }
}

async fn list(cx: &Cx) -> Result<Vec<RawObject>, ApiError> {
    cx.list_pages(Kind::Repos, "/api/2.0/repos", &[], PAGING)
        .await
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use wiremock::matchers::{method, path, query_param, query_param_is_missing};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;
    use crate::collect::CollectOptions;
    use crate::collect::workspace_objects::test_cx;

    #[tokio::test]
    async fn pages_with_next_page_token_as_the_request_parameter() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/2.0/repos"))
            .and(query_param_is_missing("next_page_token"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "repos": [{"id": 1, "path": "/Repos/a/x", "url": "https://github.com/a/x", "provider": "gitHub"}],
                "next_page_token": "p2"
            })))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/api/2.0/repos"))
            .and(query_param("next_page_token", "p2"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "repos": [{"id": 2, "path": "/Repos/b/y", "url": "https://github.com/b/y", "provider": "gitHub"}]
            })))
            .expect(1)
            .mount(&server)
            .await;
        let raw = collect(&test_cx(
            &server.uri(),
            CollectOptions::default(),
            Vec::new(),
        ))
        .await;
        let objects: Vec<serde_json::Value> = raw.values().collect();
        assert!(raw.is_complete(), "{:?}", raw.error);
        assert_eq!(raw.objects.len(), 2);
        assert_eq!(objects[1]["path"], "/Repos/b/y");
    }
}
