//! Unity Catalog catalogs: `GET /api/2.1/unity-catalog/catalogs?max_results=0`,
//! paged.
//!
//! The `system` catalog (type `SYSTEM_CATALOG`) is left out of the raw list:
//! it is not a DR object, and leaving it out here spares the schemas, tables
//! and grants collectors from walking it.
//!
//! A workspace with no Unity Catalog metastore answers 404
//! `METASTORE_DOES_NOT_EXIST`: it has no catalogs, which is a complete answer,
//! not a failed capture.

use serde_json::Value;

use super::{Cx, RawKind};
use crate::client::{ApiError, TokenPaging};
use crate::kind::Kind;

pub(crate) async fn collect(cx: &Cx) -> RawKind {
    match list(cx).await {
        Ok(objects) => RawKind::complete(objects),
        Err(ApiError::Http {
            status: 404,
            code: Some(code),
            ..
        }) if code == "METASTORE_DOES_NOT_EXIST" => {
            tracing::info!("no Unity Catalog metastore is assigned to this workspace: no catalogs");
            RawKind::complete(Vec::new())
        }
        Err(e) => RawKind::failed(e),
    }
}

async fn list(cx: &Cx) -> Result<Vec<Value>, ApiError> {
    let query = [("max_results", "0".to_owned())];
    let catalogs = cx
        .list_pages(
            Kind::Catalogs,
            "/api/2.1/unity-catalog/catalogs",
            &query,
            TokenPaging::page_token("catalogs"),
        )
        .await?;
    Ok(super::parse_all(catalogs)
        .into_iter()
        .filter(|c| !is_system(c))
        .collect())
}

/// The metastore's own `system` catalog.
fn is_system(catalog: &Value) -> bool {
    catalog.get("catalog_type").and_then(Value::as_str) == Some("SYSTEM_CATALOG")
        || catalog.get("name").and_then(Value::as_str) == Some("system")
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use wiremock::matchers::{method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;
    use crate::collect::CollectOptions;
    use crate::collect::workspace_objects::test_cx;

    #[tokio::test]
    async fn follows_empty_pages_with_tokens_and_drops_the_system_catalog() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/2.1/unity-catalog/catalogs"))
            .and(query_param("max_results", "0"))
            .and(query_param("page_token", "t1"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "catalogs": [{"name": "main", "catalog_type": "MANAGED_CATALOG"},
                             {"name": "system", "catalog_type": "SYSTEM_CATALOG"}]
            })))
            .mount(&server)
            .await;
        // A page may be empty yet carry a token.
        Mock::given(method("GET"))
            .and(path("/api/2.1/unity-catalog/catalogs"))
            .and(query_param("max_results", "0"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"catalogs": [], "next_page_token": "t1"})),
            )
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
        assert_eq!(
            objects,
            vec![json!({"name": "main", "catalog_type": "MANAGED_CATALOG"})]
        );
    }

    #[tokio::test]
    async fn a_workspace_without_a_metastore_has_no_catalogs() {
        let server = MockServer::start().await;
        Mock::given(path("/api/2.1/unity-catalog/catalogs"))
            .respond_with(ResponseTemplate::new(404).set_body_json(json!({
                "error_code": "METASTORE_DOES_NOT_EXIST",
                "message": "No metastore assigned for the current workspace."
            })))
            .mount(&server)
            .await;
        let raw = collect(&test_cx(
            &server.uri(),
            CollectOptions::default(),
            Vec::new(),
        ))
        .await;
        assert!(
            raw.is_complete() && raw.objects.is_empty(),
            "{:?}",
            raw.error
        );
    }

    #[tokio::test]
    async fn any_other_404_is_an_incomplete_capture() {
        let server = MockServer::start().await;
        Mock::given(path("/api/2.1/unity-catalog/catalogs"))
            .respond_with(
                ResponseTemplate::new(404)
                    .set_body_json(json!({"error_code": "ENDPOINT_NOT_FOUND", "message": "no"})),
            )
            .mount(&server)
            .await;
        let raw = collect(&test_cx(
            &server.uri(),
            CollectOptions::default(),
            Vec::new(),
        ))
        .await;
        assert!(!raw.is_complete());
    }
}
