//! The client's wire behaviours, pinned with wiremock: pagination schemes,
//! retries, Retry-After, errors, malformed answers, endless listings.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use standby::client::{ApiError, TokenPaging};
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{TOKEN, client, client_with};

fn ok(body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

#[tokio::test]
async fn scim_pages_until_an_empty_page_and_sends_the_bearer_token() {
    let server = MockServer::start().await;
    let users = "/api/2.0/preview/scim/v2/Users";
    for (start, ids) in [("1", vec!["1", "2"]), ("3", vec!["3"]), ("4", vec![])] {
        let resources: Vec<_> = ids
            .iter()
            .map(|id| json!({"id": id, "userName": format!("u{id}@x")}))
            .collect();
        Mock::given(method("GET"))
            .and(path(users))
            .and(query_param("startIndex", start))
            .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
            .respond_with(ok(
                json!({"startIndex": start.parse::<u32>().unwrap(), "Resources": resources}),
            ))
            .expect(1)
            .mount(&server)
            .await;
    }
    let items = client(&server.uri())
        .list_scim(users, &[], 2)
        .await
        .unwrap();
    assert_eq!(items.len(), 3);
}

#[tokio::test]
async fn scim_stops_at_total_results_without_an_extra_page() {
    let server = MockServer::start().await;
    let p = "/api/2.0/preview/scim/v2/Groups";
    Mock::given(path(p))
        .and(query_param("startIndex", "1"))
        .respond_with(ok(
            json!({"totalResults": 2, "Resources": [{"id": "a"}, {"id": "b"}]}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let items = client(&server.uri()).list_scim(p, &[], 100).await.unwrap();
    assert_eq!(items.len(), 2);
}

#[tokio::test]
async fn page_tokens_are_followed_and_empty_pages_with_a_token_continue() {
    let server = MockServer::start().await;
    let p = "/api/2.1/unity-catalog/catalogs";
    Mock::given(path(p))
        .and(query_param_is_missing("page_token"))
        .respond_with(ok(
            json!({"catalogs": [{"name": "a"}], "next_page_token": "t1"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path(p))
        .and(query_param("page_token", "t1"))
        .respond_with(ok(json!({"catalogs": [], "next_page_token": "t2"})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path(p))
        .and(query_param("page_token", "t2"))
        .respond_with(ok(
            json!({"catalogs": [{"name": "b"}], "next_page_token": ""}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let items = client(&server.uri())
        .list_pages(
            p,
            &[("max_results", "0".into())],
            TokenPaging::page_token("catalogs"),
        )
        .await
        .unwrap();
    assert_eq!(items, vec![json!({"name": "a"}), json!({"name": "b"})]);
}

#[tokio::test]
async fn repos_send_next_page_token_as_the_request_parameter() {
    let server = MockServer::start().await;
    Mock::given(path("/api/2.0/repos"))
        .and(query_param_is_missing("next_page_token"))
        .respond_with(ok(json!({"repos": [{"id": 1}], "next_page_token": "n"})))
        .mount(&server)
        .await;
    Mock::given(path("/api/2.0/repos"))
        .and(query_param("next_page_token", "n"))
        .respond_with(ok(json!({"repos": [{"id": 2}]})))
        .expect(1)
        .mount(&server)
        .await;
    let paging = TokenPaging {
        items: "repos",
        request_param: "next_page_token",
        response_field: "next_page_token",
    };
    let items = client(&server.uri())
        .list_pages("/api/2.0/repos", &[], paging)
        .await
        .unwrap();
    assert_eq!(items.len(), 2);
}

#[tokio::test]
async fn a_repeated_page_token_ends_the_listing_as_endless() {
    let server = MockServer::start().await;
    Mock::given(path("/api/2.2/jobs/list"))
        .respond_with(ok(
            json!({"jobs": [{"job_id": 1}], "next_page_token": "same"}),
        ))
        .expect(2)
        .mount(&server)
        .await;
    let err = client(&server.uri())
        .list_pages("/api/2.2/jobs/list", &[], TokenPaging::page_token("jobs"))
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::Pagination { .. }), "{err}");
    assert!(err.to_string().contains("repeated page token"), "{err}");
}

#[tokio::test]
async fn ever_new_page_tokens_stop_at_the_page_cap() {
    use std::sync::atomic::AtomicU64;
    let server = MockServer::start().await;
    let n = Arc::new(AtomicU64::new(0));
    let counter = n.clone();
    Mock::given(path("/api/2.1/clusters/list"))
        .respond_with(move |_: &wiremock::Request| {
            let i = counter.fetch_add(1, Ordering::SeqCst);
            ok(json!({"clusters": [], "next_page_token": format!("t{i}")}))
        })
        .mount(&server)
        .await;
    let err = client_with(&server.uri(), |c| c.max_pages = 7)
        .list_pages(
            "/api/2.1/clusters/list",
            &[],
            TokenPaging::page_token("clusters"),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("more than 7 pages"), "{err}");
    assert_eq!(n.load(Ordering::SeqCst), 7);
}

#[tokio::test]
async fn scim_pages_past_total_results_are_endless() {
    let server = MockServer::start().await;
    let p = "/api/2.0/preview/scim/v2/Users";
    // Every page repeats one known user: nothing new ever arrives, and the
    // server keeps answering past totalResults.
    Mock::given(path(p))
        .respond_with(ok(
            json!({"totalResults": 5, "Resources": [{"id": "same"}]}),
        ))
        .mount(&server)
        .await;
    let err = client(&server.uri())
        .list_scim(p, &[], 1)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("past totalResults 5"), "{err}");
}

#[tokio::test]
async fn retry_after_on_429_is_honoured() {
    let server = MockServer::start().await;
    Mock::given(path("/api/2.0/instance-pools/list"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "1")
                .set_body_json(
                    json!({"error_code": "REQUEST_LIMIT_EXCEEDED", "message": "slow down"}),
                ),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/2.0/instance-pools/list"))
        .respond_with(ok(json!({"instance_pools": []})))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server.uri());
    let start = Instant::now();
    c.get("/api/2.0/instance-pools/list", &[]).await.unwrap();
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "Retry-After: 1 was not waited: {:?}",
        start.elapsed()
    );
    assert_eq!(c.stats().throttled, 1);
}

#[tokio::test]
async fn a_429_without_retry_after_still_backs_off_and_retries() {
    let server = MockServer::start().await;
    Mock::given(path("/api/2.0/policies/clusters/list"))
        .respond_with(ResponseTemplate::new(429))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(path("/api/2.0/policies/clusters/list"))
        .respond_with(ok(json!({"policies": []})))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server.uri());
    c.get("/api/2.0/policies/clusters/list", &[]).await.unwrap();
    assert_eq!(c.stats().requests, 3);
    assert_eq!(c.stats().retries, 2);
}

#[tokio::test]
async fn server_errors_are_retried_then_succeed() {
    let server = MockServer::start().await;
    for status in [500, 502, 503, 504] {
        Mock::given(path("/api/2.0/ip-access-lists"))
            .respond_with(ResponseTemplate::new(status))
            .up_to_n_times(1)
            .expect(1)
            .mount(&server)
            .await;
    }
    Mock::given(path("/api/2.0/ip-access-lists"))
        .respond_with(ok(json!({"ip_access_lists": [{"label": "office"}]})))
        .expect(1)
        .mount(&server)
        .await;
    let value = client(&server.uri())
        .get("/api/2.0/ip-access-lists", &[])
        .await
        .unwrap();
    assert_eq!(value["ip_access_lists"][0]["label"], "office");
}

#[tokio::test]
async fn attempts_are_bounded() {
    let server = MockServer::start().await;
    Mock::given(path("/api/2.0/ip-access-lists"))
        .respond_with(ResponseTemplate::new(503))
        .expect(3)
        .mount(&server)
        .await;
    let err = client_with(&server.uri(), |c| c.max_attempts = 3)
        .get("/api/2.0/ip-access-lists", &[])
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(503));
}

#[tokio::test]
async fn client_errors_are_not_retried_and_keep_what_the_server_said() {
    let server = MockServer::start().await;
    Mock::given(path("/api/2.2/jobs/get"))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"error_code": "INVALID_PARAMETER_VALUE", "message": "Job 7 does not exist."}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/2.0/preview/scim/v2/Me"))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!({"error_code": "UNAUTHENTICATED", "message": "Invalid access token."}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server.uri());
    let err = c
        .get("/api/2.2/jobs/get", &[("job_id", "7".into())])
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert_eq!(
        err.to_string(),
        "GET `/api/2.2/jobs/get` answered HTTP 400 INVALID_PARAMETER_VALUE: Job 7 does not exist."
    );
    let err = c.get("/api/2.0/preview/scim/v2/Me", &[]).await.unwrap_err();
    assert!(err.is_unauthenticated());
    assert!(!err.to_string().contains(TOKEN));
}

#[tokio::test]
async fn malformed_and_truncated_json_are_decode_errors_with_an_excerpt() {
    let server = MockServer::start().await;
    Mock::given(path("/api/2.0/secrets/scopes/list"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string("{\"scopes\": [{\"name\": \"a\"}, {\"na"),
        )
        .mount(&server)
        .await;
    Mock::given(path("/api/2.0/workspace-conf"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>login</html>"))
        .mount(&server)
        .await;
    let c = client(&server.uri());
    let err = c
        .get("/api/2.0/secrets/scopes/list", &[])
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::Decode { .. }), "{err}");
    assert!(err.to_string().contains("EOF while parsing"), "{err}");
    let err = c.get("/api/2.0/workspace-conf", &[]).await.unwrap_err();
    assert!(
        err.to_string().contains("body starts `<html>login</html>`"),
        "{err}"
    );
}

#[tokio::test]
async fn a_field_of_the_wrong_type_is_a_decode_error_not_an_empty_list() {
    let server = MockServer::start().await;
    Mock::given(path("/api/2.2/jobs/list"))
        .respond_with(ok(json!({"jobs": {"oops": 1}})))
        .mount(&server)
        .await;
    let err = client(&server.uri())
        .list_pages("/api/2.2/jobs/list", &[], TokenPaging::page_token("jobs"))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("`jobs` should be an array"),
        "{err}"
    );
}

#[tokio::test]
async fn connection_refused_is_retried_then_reported() {
    // Bind then drop a listener: the port is free and refuses connections.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = client_with(&format!("http://127.0.0.1:{port}"), |c| c.max_attempts = 2)
        .get("/api/2.0/ip-access-lists", &[])
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::Transport { .. }), "{err}");
    assert!(err.to_string().contains("could not connect"), "{err}");
}

#[tokio::test]
async fn concurrency_is_bounded() {
    use axum::routing::get;
    let inflight = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (i, p) = (inflight.clone(), peak.clone());
    let app = axum::Router::new().route(
        "/api/2.0/permissions/jobs/{id}",
        get(move || {
            let (i, p) = (i.clone(), p.clone());
            async move {
                let now = i.fetch_add(1, Ordering::SeqCst) + 1;
                p.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                i.fetch_sub(1, Ordering::SeqCst);
                axum::Json(json!({"access_control_list": []}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let c = client_with(&format!("http://{addr}"), |c| c.concurrency = 4);
    let calls = (0..40).map(|n| {
        let c = c.clone();
        async move { c.get(&format!("/api/2.0/permissions/jobs/{n}"), &[]).await }
    });
    for r in futures::future::join_all(calls).await {
        r.unwrap();
    }
    assert_eq!(peak.load(Ordering::SeqCst), 4, "peak in flight");
}

#[tokio::test]
async fn oauth_m2m_exchanges_client_credentials_once_and_sends_the_access_token() {
    use secrecy::SecretString;
    use standby::auth::{Credentials, WorkspaceAuth, normalize_host};
    use standby::client::{Client, ClientConfig, RateLimits};
    use wiremock::matchers::body_string_contains;

    let server = MockServer::start().await;
    // Basic auth of `sp-app-id:sp-oauth-secret`.
    let basic = "Basic c3AtYXBwLWlkOnNwLW9hdXRoLXNlY3JldA==";
    Mock::given(method("POST"))
        .and(path("/oidc/v1/token"))
        .and(header("authorization", basic))
        .and(body_string_contains("grant_type=client_credentials"))
        .and(body_string_contains("scope=all-apis"))
        .respond_with(ok(
            json!({"access_token": "eyJ-ACCESS", "token_type": "Bearer", "expires_in": 3600}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/2.0/instance-pools/list"))
        .and(header("authorization", "Bearer eyJ-ACCESS"))
        .respond_with(ok(json!({"instance_pools": []})))
        .expect(3)
        .mount(&server)
        .await;
    let auth = WorkspaceAuth {
        host: normalize_host(&server.uri()).unwrap(),
        profile: None,
        credentials: Credentials::OAuthM2M {
            client_id: "sp-app-id".into(),
            client_secret: SecretString::from("sp-oauth-secret"),
        },
    };
    let c = Client::new(
        auth,
        ClientConfig {
            rate_limits: RateLimits::unlimited(),
            ..ClientConfig::default()
        },
    )
    .unwrap();
    for _ in 0..3 {
        c.get("/api/2.0/instance-pools/list", &[]).await.unwrap();
    }
    assert!(!format!("{c:?}").contains("sp-oauth-secret"));
}

#[tokio::test]
async fn a_refused_oauth_exchange_names_the_client_not_the_secret() {
    use secrecy::SecretString;
    use standby::auth::{Credentials, WorkspaceAuth, normalize_host};
    use standby::client::{Client, ClientConfig};

    let server = MockServer::start().await;
    Mock::given(path("/oidc/v1/token"))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!({"error": "invalid_client", "error_description": "Client authentication failed"}),
        ))
        .mount(&server)
        .await;
    let auth = WorkspaceAuth {
        host: normalize_host(&server.uri()).unwrap(),
        profile: Some("dr".into()),
        credentials: Credentials::OAuthM2M {
            client_id: "sp-app-id".into(),
            client_secret: SecretString::from("sp-oauth-secret"),
        },
    };
    let err = Client::new(auth, ClientConfig::default())
        .unwrap()
        .get("/api/2.0/instance-pools/list", &[])
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(err.is_unauthenticated(), "{text}");
    assert!(
        text.contains("`sp-app-id`") && text.contains("invalid_client"),
        "{text}"
    );
    assert!(!text.contains("sp-oauth-secret"), "{text}");
}
