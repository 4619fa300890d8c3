//! Same workspace state, same snapshot bytes: whatever order the server
//! returns objects in and whatever page size it uses.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::routing::get;
use proptest::prelude::*;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use serde_json::{Value, json};
use standby::collect::{CollectOptions, Journal, Quiet};
use standby::kind::Kind;
use standby::snapshot::write_snapshot;

use crate::support::client;

/// A workspace served in a given order and page size.
struct Served {
    users: Vec<Value>,
    groups: Vec<Value>,
    sps: Vec<Value>,
    warehouses: Vec<Value>,
    page: usize,
}

fn workspace() -> (Vec<Value>, Vec<Value>, Vec<Value>, Vec<Value>) {
    let users: Vec<Value> = (0..23)
        .map(|i| {
            json!({"id": format!("u{i}"), "userName": format!("user{i}@acme.com"), "active": i % 5 != 0,
                   "entitlements": [{"value": "workspace-access"}, {"value": "databricks-sql-access"}]})
        })
        .collect();
    let sps: Vec<Value> = (0..4)
        .map(|i| json!({"id": format!("s{i}"), "applicationId": format!("00000000-0000-0000-0000-00000000000{i}"), "displayName": format!("sp{i}")}))
        .collect();
    let groups: Vec<Value> = (0..7)
        .map(|g| {
            let members: Vec<Value> = (0..23)
                .filter(|u| u % 7 == g)
                .map(|u| json!({"value": format!("u{u}"), "$ref": format!("Users/u{u}")}))
                .chain([json!({"value": format!("s{}", g % 4), "$ref": format!("ServicePrincipals/s{}", g % 4)})])
                .collect();
            json!({"id": format!("g{g}"), "displayName": format!("team-{g}"), "members": members})
        })
        .collect();
    let warehouses: Vec<Value> = (0..9)
        .map(|i| json!({"id": format!("w{i}"), "name": format!("wh-{i}"), "cluster_size": "Small", "state": "STOPPED",
                        "tags": {"custom_tags": [{"key": "b", "value": "2"}, {"key": "a", "value": "1"}]}}))
        .collect();
    (users, groups, sps, warehouses)
}

async fn scim(
    items: &[Value],
    page: usize,
    q: &std::collections::HashMap<String, String>,
) -> axum::Json<Value> {
    let start: usize = q
        .get("startIndex")
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let chunk: Vec<&Value> = items.iter().skip(start - 1).take(page).collect();
    axum::Json(
        json!({"totalResults": items.len(), "startIndex": start, "itemsPerPage": chunk.len(), "Resources": chunk}),
    )
}

async fn serve(served: Served) -> String {
    let state = Arc::new(served);
    let app = axum::Router::new()
        .route(
            "/api/2.0/preview/scim/v2/Users",
            get(|State(s): State<Arc<Served>>, Query(q)| async move { scim(&s.users, s.page, &q).await }),
        )
        .route(
            "/api/2.0/preview/scim/v2/Groups",
            get(|State(s): State<Arc<Served>>, Query(q)| async move { scim(&s.groups, s.page, &q).await }),
        )
        .route(
            "/api/2.0/preview/scim/v2/ServicePrincipals",
            get(|State(s): State<Arc<Served>>, Query(q)| async move { scim(&s.sps, s.page, &q).await }),
        )
        .route(
            "/api/2.0/sql/warehouses",
            get(|State(s): State<Arc<Served>>, Query(q): Query<std::collections::HashMap<String, String>>| async move {
                let start: usize = q.get("page_token").and_then(|t| t.parse().ok()).unwrap_or(0);
                let end = (start + s.page).min(s.warehouses.len());
                let mut body = json!({"warehouses": s.warehouses[start..end]});
                if end < s.warehouses.len() {
                    body["next_page_token"] = json!(end.to_string());
                }
                axum::Json(body)
            }),
        )
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

async fn snapshot_bytes(seed: u64, page: usize) -> Vec<u8> {
    let (mut users, mut groups, mut sps, mut warehouses) = workspace();
    let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
    users.shuffle(&mut rng);
    groups.shuffle(&mut rng);
    sps.shuffle(&mut rng);
    warehouses.shuffle(&mut rng);
    for g in &mut groups {
        if let Some(Value::Array(m)) = g.get_mut("members") {
            m.shuffle(&mut rng);
        }
    }
    let url = serve(Served {
        users,
        groups,
        sps,
        warehouses,
        page,
    })
    .await;
    let options = CollectOptions {
        kinds: vec![
            Kind::Users,
            Kind::Groups,
            Kind::ServicePrincipals,
            Kind::SqlWarehouses,
        ],
        ..CollectOptions::default()
    };
    let mut snap = standby::capture::capture(
        client(&url),
        options,
        Arc::new(Journal::in_memory()),
        Arc::new(Quiet),
    )
    .await;
    assert!(
        snap.kinds.values().all(|k| k.status.is_complete()),
        "{:?}",
        snap.kinds.values().map(|k| &k.status).collect::<Vec<_>>()
    );
    let counts: Vec<usize> = snap.kinds.values().map(|k| k.records.len()).collect();
    assert_eq!(
        counts,
        [23, 7, 4, 9],
        "users, groups, service principals, warehouses"
    );
    // Metadata times differ run to run by design; everything else must not.
    snap.metadata.captured_at = String::new();
    snap.metadata.captured_at_ms = 0;
    snap.metadata.host = String::new();
    let mut out = Vec::new();
    write_snapshot(&snap, &mut out).unwrap();
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn page_order_and_size_never_change_the_bytes(seed in any::<u64>(), page in 1usize..30) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let reference = rt.block_on(snapshot_bytes(0, 1000));
        let other = rt.block_on(snapshot_bytes(seed, page));
        prop_assert_eq!(String::from_utf8(other).unwrap(), String::from_utf8(reference).unwrap());
    }
}
