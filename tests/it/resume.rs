//! A capture that failed part-way resumes from its journal: nothing fetched
//! before is fetched again, and the result equals an uninterrupted capture.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::json;
use standby::collect::{CollectOptions, Journal, Quiet};
use standby::kind::Kind;
use standby::snapshot::{Snapshot, write_snapshot};

use crate::support::client_with;

#[derive(Default)]
struct Server {
    failing: AtomicBool,
    requests: AtomicUsize,
    seen: Mutex<Vec<String>>,
}

const SCOPES: usize = 30;

async fn start(server: Arc<Server>) -> String {
    let app = axum::Router::new()
        .route(
            "/api/2.0/secrets/scopes/list",
            get(|State(s): State<Arc<Server>>| async move {
                s.requests.fetch_add(1, Ordering::SeqCst);
                let scopes: Vec<_> =
                    (0..SCOPES).map(|i| json!({"name": format!("scope-{i:02}"), "backend_type": "DATABRICKS"})).collect();
                axum::Json(json!({ "scopes": scopes })).into_response()
            }),
        )
        .route(
            "/api/2.0/secrets/list",
            get(|State(s): State<Arc<Server>>, Query(q): Query<HashMap<String, String>>| async move {
                s.requests.fetch_add(1, Ordering::SeqCst);
                let scope = q.get("scope").cloned().unwrap_or_default();
                s.seen.lock().unwrap().push(scope.clone());
                let n: usize = scope.trim_start_matches("scope-").parse().unwrap_or(0);
                if s.failing.load(Ordering::SeqCst) && n >= SCOPES / 2 {
                    return (StatusCode::SERVICE_UNAVAILABLE, "down").into_response();
                }
                let secrets: Vec<_> = (0..3)
                    .map(|k| json!({"key": format!("key-{k}"), "last_updated_timestamp": 1_700_000_000_000i64 + k}))
                    .collect();
                axum::Json(json!({ "secrets": secrets })).into_response()
            }),
        )
        .with_state(server);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

async fn capture(url: &str, journal: Journal) -> Snapshot {
    let options = CollectOptions {
        kinds: vec![Kind::SecretScopes, Kind::Secrets],
        ..CollectOptions::default()
    };
    let client = client_with(url, |c| c.max_attempts = 1);
    standby::capture::capture(client, options, Arc::new(journal), Arc::new(Quiet)).await
}

fn kinds_bytes(mut s: Snapshot) -> String {
    s.metadata.captured_at.clear();
    s.metadata.captured_at_ms = 0;
    s.metadata.host.clear();
    let mut out = Vec::new();
    write_snapshot(&s, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn resume_fetches_only_what_failed_and_matches_an_uninterrupted_capture() {
    let server = Arc::new(Server::default());
    let url = start(server.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snap.json.journal");

    server.failing.store(true, Ordering::SeqCst);
    let first = capture(&url, Journal::open(&path, &url, false).unwrap()).await;
    assert!(
        !first.kinds[&Kind::Secrets].status.is_complete(),
        "half the scopes failed"
    );
    assert!(first.kinds[&Kind::SecretScopes].status.is_complete());

    server.failing.store(false, Ordering::SeqCst);
    server.requests.store(0, Ordering::SeqCst);
    server.seen.lock().unwrap().clear();
    let resumed = capture(&url, Journal::open(&path, &url, true).unwrap()).await;
    assert!(resumed.kinds.values().all(|k| k.status.is_complete()));
    let mut refetched = server.seen.lock().unwrap().clone();
    refetched.sort();
    let expected: Vec<String> = (SCOPES / 2..SCOPES)
        .map(|i| format!("scope-{i:02}"))
        .collect();
    assert_eq!(
        refetched, expected,
        "only the scopes that failed are fetched again"
    );
    assert_eq!(
        server.requests.load(Ordering::SeqCst),
        SCOPES / 2,
        "the scope list itself came from the journal"
    );

    let fresh = capture(&url, Journal::in_memory()).await;
    assert_eq!(kinds_bytes(resumed), kinds_bytes(fresh));
}
