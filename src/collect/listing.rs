//! Whole listings as one journaled unit each, kept as compact text page by page.
//!
//! A listing held as `serde_json::Value` trees costs about ten times its
//! text (half a GiB for 100,000 SCIM users), so each page's items are turned
//! into [`RawObject`]s as the page arrives (the client's `*_with` listings),
//! and only one page is ever a tree. Paging rules and their guards are the
//! client's.

use std::future::Future;

use super::{Cx, RawObject, compact, unit_name};
use crate::client::{ApiError, TokenPaging};
use crate::kind::Kind;

impl Cx {
    /// A whole `page_token` listing as one journaled unit.
    pub(crate) async fn list_pages(
        &self,
        kind: Kind,
        path: &str,
        query: &[(&str, String)],
        paging: TokenPaging,
    ) -> Result<Vec<RawObject>, ApiError> {
        let name = format!("{}#all", unit_name(path, query));
        self.listing_unit(kind, name, || {
            self.client()
                .list_pages_with(path, query, paging, |item| compact(&item))
        })
        .await
    }

    /// A whole SCIM listing as one journaled unit.
    pub(crate) async fn list_scim(
        &self,
        kind: Kind,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Vec<RawObject>, ApiError> {
        let name = format!("{}#all", unit_name(path, query));
        self.listing_unit(kind, name, || {
            self.client()
                .list_scim_with(path, query, SCIM_COUNT, |item| compact(&item))
        })
        .await
    }

    /// Runs one listing unit, or returns its items from the journal.
    async fn listing_unit<F, Fut>(
        &self,
        kind: Kind,
        name: String,
        fetch: F,
    ) -> Result<Vec<RawObject>, ApiError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Vec<RawObject>, ApiError>>,
    {
        let journal = &self.inner.journal;
        if let Some(items) = journal.get_items(&name) {
            self.inner.observer.unit_done(kind);
            return Ok(items);
        }
        let items = fetch().await?;
        journal.record_items(&name, &items);
        self.inner.observer.unit_done(kind);
        Ok(items)
    }
}

/// SCIM page size asked for (the service's maximum).
const SCIM_COUNT: usize = 10_000;

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use wiremock::matchers::{method, path, query_param, query_param_is_missing};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;
    use crate::collect::jobs::test_support::{cx_with, cx_with_journal};
    use crate::collect::{Journal, parse};

    fn values(items: &[RawObject]) -> Vec<Value> {
        items.iter().map(|o| parse(o)).collect()
    }

    async fn page(server: &MockServer, token: Option<&str>, body: Value) {
        let mock = Mock::given(method("GET")).and(path("/api/2.0/things"));
        let mock = match token {
            Some(t) => mock.and(query_param("page_token", t)),
            None => mock.and(query_param_is_missing("page_token")),
        };
        mock.respond_with(ResponseTemplate::new(200).set_body_json(body))
            .mount(server)
            .await;
    }

    /// Each token page listing answers what the client's listing answers.
    #[tokio::test]
    async fn token_pages_match_the_client() {
        let server = MockServer::start().await;
        page(
            &server,
            None,
            json!({"things": [{"a": 1}, {"b": [1.5, null]}], "next_page_token": "p2"}),
        )
        .await;
        // An empty page with a token does not end the listing.
        page(
            &server,
            Some("p2"),
            json!({"things": [], "next_page_token": "p3"}),
        )
        .await;
        page(
            &server,
            Some("p3"),
            json!({"things": [{"c": "x"}], "next_page_token": ""}),
        )
        .await;
        let cx = cx_with(&server, Vec::new());
        let paging = TokenPaging::page_token("things");
        let ours = cx
            .list_pages(Kind::Jobs, "/api/2.0/things", &[], paging)
            .await
            .expect("a complete listing");
        let client = cx
            .client()
            .list_pages("/api/2.0/things", &[], paging)
            .await
            .expect("a complete listing");
        assert_eq!(values(&ours), client);
        assert_eq!(client.len(), 3);
    }

    #[tokio::test]
    async fn a_repeated_token_ends_the_listing_with_the_clients_error() {
        let server = MockServer::start().await;
        page(
            &server,
            None,
            json!({"things": [{"a": 1}], "next_page_token": "same"}),
        )
        .await;
        page(
            &server,
            Some("same"),
            json!({"things": [{"a": 2}], "next_page_token": "same"}),
        )
        .await;
        let cx = cx_with(&server, Vec::new());
        let paging = TokenPaging::page_token("things");
        let ours = cx
            .list_pages(Kind::Jobs, "/api/2.0/things", &[], paging)
            .await
            .map(|items| items.len());
        let client = cx
            .client()
            .list_pages("/api/2.0/things", &[], paging)
            .await
            .map(|items| items.len());
        match (ours, client) {
            (Err(a), Err(b)) => {
                assert_eq!(a.to_string(), b.to_string());
                assert!(a.to_string().contains("repeated page token `same`"), "{a}");
            }
            other => panic!("expected two pagination errors, got {other:?}"),
        }
    }

    /// Overlapping SCIM pages are de-duplicated by `id`, and the listing ends
    /// at `totalResults`, exactly as the client's does.
    #[tokio::test]
    async fn scim_pages_match_the_client() {
        let server = MockServer::start().await;
        let scim = |start: &str, body: Value| {
            Mock::given(method("GET"))
                .and(path("/api/2.0/preview/scim/v2/Users"))
                .and(query_param("startIndex", start))
                .respond_with(ResponseTemplate::new(200).set_body_json(body))
        };
        scim(
            "1",
            json!({"totalResults": 3, "Resources": [{"id": "1", "userName": "a"}, {"id": "2", "userName": "b"}]}),
        )
        .mount(&server)
        .await;
        // The second page repeats user 2 (a user was deleted between pages).
        scim(
            "3",
            json!({"totalResults": 3, "Resources": [{"id": "2", "userName": "b"}, {"id": "3", "userName": "c"}]}),
        )
        .mount(&server)
        .await;
        let cx = cx_with(&server, Vec::new());
        let ours = cx
            .list_scim(Kind::Users, "/api/2.0/preview/scim/v2/Users", &[])
            .await
            .expect("a complete listing");
        let client = cx
            .client()
            .list_scim("/api/2.0/preview/scim/v2/Users", &[], SCIM_COUNT)
            .await
            .expect("a complete listing");
        assert_eq!(values(&ours), client);
        let names: Vec<_> = client.iter().map(|u| u["userName"].clone()).collect();
        assert_eq!(names, [json!("a"), json!("b"), json!("c")]);
    }

    #[tokio::test]
    async fn scim_pages_past_total_results_end_with_the_clients_error() {
        let server = MockServer::start().await;
        // Every page repeats the same user, so the listing never reaches its
        // total of 3 and must stop once it pages past it.
        Mock::given(method("GET"))
            .and(path("/api/2.0/preview/scim/v2/Users"))
            .respond_with(ResponseTemplate::new(200).set_body_json(
                json!({"totalResults": 3, "Resources": [{"id": "same", "userName": "a"}]}),
            ))
            .mount(&server)
            .await;
        let cx = cx_with(&server, Vec::new());
        let ours = cx
            .list_scim(Kind::Users, "/api/2.0/preview/scim/v2/Users", &[])
            .await
            .map(|items| items.len());
        let client = cx
            .client()
            .list_scim("/api/2.0/preview/scim/v2/Users", &[], SCIM_COUNT)
            .await
            .map(|items| items.len());
        match (ours, client) {
            (Err(a), Err(b)) => {
                assert_eq!(a.to_string(), b.to_string());
                assert!(
                    a.to_string().contains("pages continue past totalResults 3"),
                    "{a}"
                );
            }
            other => panic!("expected two pagination errors, got {other:?}"),
        }
    }

    /// A listing read from the journal is the listing that was recorded.
    #[tokio::test]
    async fn a_journaled_listing_is_replayed_without_requests() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let file = dir.path().join("journal");
        let server = MockServer::start().await;
        page(
            &server,
            None,
            json!({"things": [{"a": 1}, {"z": {"y": [true]}}]}),
        )
        .await;
        let paging = TokenPaging::page_token("things");
        let first = {
            let journal = Journal::open(&file, "h", false).expect("a journal");
            let cx = cx_with_journal(&server, Vec::new(), journal);
            cx.list_pages(Kind::Jobs, "/api/2.0/things", &[], paging)
                .await
                .expect("a complete listing")
        };
        server.reset().await;
        let journal = Journal::open(&file, "h", true).expect("a journal");
        let cx = cx_with_journal(&server, Vec::new(), journal);
        let replayed = cx
            .list_pages(Kind::Jobs, "/api/2.0/things", &[], paging)
            .await
            .expect("the journaled listing");
        assert_eq!(values(&replayed), values(&first));
        assert_eq!(
            server.received_requests().await.unwrap_or_default().len(),
            0
        );
    }
}
