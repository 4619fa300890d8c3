//! Unity Catalog grants: for every captured catalog, schema and table,
//! `GET /api/2.1/unity-catalog/permissions/{catalog|schema|table}/{full_name}`,
//! following `next_page_token` when the server pages.
//!
//! The full name goes into the path unescaped (dots stay); only characters
//! that cannot appear raw in a path segment (spaces, `/`, `%`, `#`, `?`, ...)
//! are percent-encoded. Each securable type starts as soon as its own kind
//! is in. Raw objects are `{securable_type, full_name, privilege_assignments}`:
//! the API leaves the securable implicit, so the first two are added. A
//! securable deleted meanwhile (404) is skipped.

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde_json::{Value, json};

use super::{Cx, RawKind};
use crate::client::{ApiError, TokenPaging};
use crate::kind::Kind;
use crate::normalize::str_field;

/// Securable types read, with the kind listing them and its full-name field.
const SECURABLES: [(&str, Kind, &str); 3] = [
    ("catalog", Kind::Catalogs, "name"),
    ("schema", Kind::Schemas, "full_name"),
    ("table", Kind::Tables, "full_name"),
];

/// Characters that cannot appear raw in one path segment; `.` is not among them.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

pub(crate) async fn collect(cx: &Cx) -> RawKind {
    let parts = futures::future::join_all(
        SECURABLES
            .into_iter()
            .map(|(t, kind, field)| read_type(cx, t, kind, field)),
    )
    .await;
    let mut objects = Vec::new();
    let mut error = None;
    for (read, failed) in parts {
        objects.extend(read);
        if let Some(e) = failed {
            error.get_or_insert(e);
        }
    }
    objects.sort_by(|a, b| {
        (str_field(a, "securable_type"), str_field(a, "full_name"))
            .cmp(&(str_field(b, "securable_type"), str_field(b, "full_name")))
    });
    RawKind::new(objects, error)
}

async fn read_type(
    cx: &Cx,
    securable_type: &'static str,
    kind: Kind,
    field: &str,
) -> (Vec<Value>, Option<ApiError>) {
    let raw = match cx.dependency(kind).await {
        Ok(raw) => raw,
        Err(e) => return (Vec::new(), Some(e)),
    };
    // Collected first: an iterator borrowing the dependency must not live across awaits.
    let names: Vec<String> = raw
        .values()
        .filter_map(|o| str_field(&o, field).map(str::to_owned))
        .collect();
    super::fan_out(cx, names, |full_name| async move {
        let path = grants_path(securable_type, &full_name);
        let paging = TokenPaging::page_token("privilege_assignments");
        match cx.list_pages(Kind::Grants, &path, &[], paging).await {
            Ok(assignments) => Ok(Some(json!({
                "securable_type": securable_type,
                "full_name": full_name,
                "privilege_assignments": super::parse_all(assignments),
            }))),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    })
    .await
}

fn grants_path(securable_type: &str, full_name: &str) -> String {
    format!(
        "/api/2.1/unity-catalog/permissions/{securable_type}/{}",
        utf8_percent_encode(full_name, SEGMENT)
    )
}

#[cfg(test)]
mod tests {
    use wiremock::matchers::{method, path, query_param, query_param_is_missing};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;
    use crate::collect::CollectOptions;
    use crate::collect::workspace_objects::test_cx;

    #[test]
    fn full_names_stay_readable_in_the_path() {
        assert_eq!(
            grants_path("table", "main.sales.orders"),
            "/api/2.1/unity-catalog/permissions/table/main.sales.orders"
        );
        assert_eq!(
            grants_path("schema", "my cat.50%/off"),
            "/api/2.1/unity-catalog/permissions/schema/my%20cat.50%25%2Foff"
        );
    }

    #[tokio::test]
    async fn reads_each_securable_with_paging_and_skips_deleted_ones() {
        let server = MockServer::start().await;
        let base = "/api/2.1/unity-catalog/permissions";
        Mock::given(method("GET"))
            .and(path(format!("{base}/catalog/main")))
            .respond_with(ResponseTemplate::new(200).set_body_json(
                json!({"privilege_assignments": [
                    {"principal": "data-eng", "privileges": ["USE_CATALOG"]}
                ]}),
            ))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(format!("{base}/schema/main.sales")))
            .and(query_param_is_missing("page_token"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "privilege_assignments": [{"principal": "analysts", "privileges": ["USE_SCHEMA"]}],
                "next_page_token": "n1"
            })))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(format!("{base}/schema/main.sales")))
            .and(query_param("page_token", "n1"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "privilege_assignments": [{"principal": "data-eng", "privileges": ["ALL_PRIVILEGES"]}]
            })))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(format!("{base}/table/main.sales.gone")))
            .respond_with(
                ResponseTemplate::new(404).set_body_json(
                    json!({"error_code": "TABLE_DOES_NOT_EXIST", "message": "gone"}),
                ),
            )
            .mount(&server)
            .await;
        let seeded = vec![
            (Kind::Catalogs, vec![json!({"name": "main"})]),
            (
                Kind::Schemas,
                vec![json!({"name": "sales", "catalog_name": "main", "full_name": "main.sales"})],
            ),
            (
                Kind::Tables,
                vec![json!({"name": "gone", "full_name": "main.sales.gone"})],
            ),
        ];
        let raw = collect(&test_cx(&server.uri(), CollectOptions::default(), seeded)).await;
        let objects: Vec<serde_json::Value> = raw.values().collect();
        assert!(raw.is_complete(), "{:?}", raw.error);
        assert_eq!(
            objects,
            vec![
                json!({"securable_type": "catalog", "full_name": "main",
                       "privilege_assignments": [{"principal": "data-eng", "privileges": ["USE_CATALOG"]}]}),
                json!({"securable_type": "schema", "full_name": "main.sales",
                       "privilege_assignments": [{"principal": "analysts", "privileges": ["USE_SCHEMA"]},
                                                 {"principal": "data-eng", "privileges": ["ALL_PRIVILEGES"]}]}),
            ]
        );
    }
}
