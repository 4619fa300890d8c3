//! Unity Catalog tables (views included): per captured schema,
//! `GET /api/2.1/unity-catalog/tables?catalog_name=C&schema_name=S&max_results=0`,
//! paged. A schema deleted since it was listed (404) is skipped.

use serde_json::Value;

use super::{Cx, RawKind};
use crate::client::TokenPaging;
use crate::kind::Kind;
use crate::normalize::str_field;

const PATH: &str = "/api/2.1/unity-catalog/tables";

pub(crate) async fn collect(cx: &Cx) -> RawKind {
    let schemas = match cx.dependency(Kind::Schemas).await {
        Ok(raw) => raw,
        Err(e) => return RawKind::failed(e),
    };
    // Collected first: an iterator borrowing the dependency must not live across awaits.
    let pairs: Vec<(String, String)> = schemas
        .values()
        .filter_map(|s| {
            Some((
                str_field(&s, "catalog_name")?.to_owned(),
                str_field(&s, "name")?.to_owned(),
            ))
        })
        .collect();
    let (lists, error) = super::fan_out(cx, pairs, |(catalog, schema)| async move {
        let query = [
            ("catalog_name", catalog),
            ("schema_name", schema),
            ("max_results", "0".to_owned()),
        ];
        match cx
            .list_pages(
                Kind::Tables,
                PATH,
                &query,
                TokenPaging::page_token("tables"),
            )
            .await
        {
            Ok(tables) => Ok(Some(super::parse_all(tables))),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    })
    .await;
    let mut objects: Vec<Value> = lists.into_iter().flatten().collect();
    // Schemas finish in any order; the raw list should not depend on it.
    objects.sort_by(|a, b| str_field(a, "full_name").cmp(&str_field(b, "full_name")));
    RawKind::new(objects, error)
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use wiremock::matchers::{method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;
    use crate::client::ApiError;
    use crate::collect::CollectOptions;
    use crate::collect::workspace_objects::test_cx;

    #[tokio::test]
    async fn lists_each_schema_and_keeps_what_was_read_on_error() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(PATH))
            .and(query_param("catalog_name", "main"))
            .and(query_param("schema_name", "sales"))
            .and(query_param("max_results", "0"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"tables": [
                {"name": "orders", "catalog_name": "main", "schema_name": "sales", "full_name": "main.sales.orders"}
            ]})))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(PATH))
            .and(query_param("schema_name", "locked"))
            .respond_with(
                ResponseTemplate::new(403)
                    .set_body_json(json!({"error_code": "PERMISSION_DENIED", "message": "no"})),
            )
            .mount(&server)
            .await;
        let seeded = vec![(
            Kind::Schemas,
            vec![
                json!({"name": "sales", "catalog_name": "main", "full_name": "main.sales"}),
                json!({"name": "locked", "catalog_name": "main", "full_name": "main.locked"}),
            ],
        )];
        let raw = collect(&test_cx(&server.uri(), CollectOptions::default(), seeded)).await;
        let objects: Vec<serde_json::Value> = raw.values().collect();
        assert_eq!(raw.error.as_ref().and_then(ApiError::status), Some(403));
        assert_eq!(raw.objects.len(), 1);
        assert_eq!(objects[0]["full_name"], "main.sales.orders");
    }
}
