//! The control API, under `/_standby/` (a prefix the Databricks API never
//! uses). It needs the same bearer token as the API when one is configured,
//! and is exempt from faults, outages (as far as the connection still works)
//! and the request log. Bodies are JSON; errors use the API's error shape.
//!
//! | route | what |
//! |---|---|
//! | `GET /_standby/` | name, workspace id, clock, outage, faults |
//! | `GET /_standby/clock` | `{now_ms, real_time, pending_events, next_event_ms}` |
//! | `POST /_standby/clock/advance` | `{"seconds": 300}` or `{"ms": 300000}`: move the virtual clock and apply what became due |
//! | `POST /_standby/clock/real-time` | `{"enabled": true}`: follow the wall clock (demos) |
//! | `GET /_standby/outage` | `{"mode": null \| "unavailable" \| "refuse" \| "reset"}` |
//! | `POST /_standby/outage` | `{"mode": "unavailable", "for_ms": 5000}`: every call 503; `refuse` closes the port; `reset` resets connections; `for_ms` (real time) lifts it by itself |
//! | `DELETE /_standby/outage` | lift the outage |
//! | `GET /_standby/faults` | the fault settings |
//! | `PUT /_standby/faults` | `{"latency_ms", "fault_rate", "rate_limit", "limits": "none"\|"realistic", "seed"}` (missing fields reset to defaults) |
//! | `GET /_standby/requests?since=N&limit=M` | the request log after sequence number `N`: `{requests, next_seq}` |
//! | `DELETE /_standby/requests` | empty the log |
//! | `GET /_standby/fixture` | the whole state as a fixture (secret values left out) |
//! | `GET /_standby/usage` | idle pool instances, cluster nodes and warehouses over virtual time |
//!
//! While connections are refused, this API is unreachable on that port too:
//! give `for_ms`, or use the in-process [`super::MockState`] methods.

use std::time::Duration;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::routing::{get, post};
use bytes::Bytes;
use serde_json::{Value, json};

use super::error::ApiError;
use super::faults::FaultConfig;
use super::http::{Query, Reply, json, json_value};
use super::state::{MockState, OutageMode};

/// The routes.
pub(crate) fn routes() -> Router<MockState> {
    Router::new()
        .route("/_standby/", get(status))
        .route("/_standby/clock", get(clock))
        .route("/_standby/clock/advance", post(advance))
        .route("/_standby/clock/real-time", post(real_time))
        .route(
            "/_standby/outage",
            get(outage).post(set_outage).delete(lift_outage),
        )
        .route(
            "/_standby/faults",
            get(faults).put(set_faults).post(set_faults),
        )
        .route("/_standby/requests", get(requests).delete(clear_requests))
        .route("/_standby/fixture", get(fixture))
        .route("/_standby/usage", get(usage))
}

fn clock_view(st: &MockState) -> Value {
    let ws = st.read();
    json!({
        "now_ms": ws.now(),
        "real_time": ws.clock.is_real_time(),
        "pending_events": ws.pending_events(),
        "next_event_ms": ws.next_event_at(),
    })
}

async fn status(State(st): State<MockState>) -> Reply {
    Ok(json_value(&json!({
        "name": st.name(),
        "workspace_id": st.workspace_id(),
        "clock": clock_view(&st),
        "outage": st.outage(),
        "faults": st.faults(),
    })))
}

async fn clock(State(st): State<MockState>) -> Reply {
    Ok(json_value(&clock_view(&st)))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    seconds: Option<f64>,
    ms: Option<i64>,
}

async fn advance(State(st): State<MockState>, body: Bytes) -> Reply {
    let req: Advance = super::http::body(&body)?;
    let ms = match (req.seconds, req.ms) {
        (Some(s), None) if s.is_finite() && s >= 0.0 => (s * 1000.0).round() as u64,
        (None, Some(ms)) if ms >= 0 => ms as u64,
        _ => {
            return Err(ApiError::invalid(
                "give one of `seconds` or `ms`, not negative",
            ));
        }
    };
    st.advance(Duration::from_millis(ms));
    Ok(json_value(&clock_view(&st)))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RealTime {
    enabled: bool,
}

async fn real_time(State(st): State<MockState>, body: Bytes) -> Reply {
    let req: RealTime = super::http::body(&body)?;
    st.set_real_time(req.enabled);
    Ok(json_value(&clock_view(&st)))
}

async fn outage(State(st): State<MockState>) -> Reply {
    Ok(json_value(&json!({ "mode": st.outage() })))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SetOutage {
    mode: Option<OutageMode>,
    for_ms: Option<u64>,
}

async fn set_outage(State(st): State<MockState>, body: Bytes) -> Reply {
    let req: SetOutage = super::http::body(&body)?;
    match (req.mode, req.for_ms) {
        (Some(mode), Some(ms)) => st.set_outage_for(mode, Duration::from_millis(ms)),
        (mode, _) => st.set_outage(mode),
    }
    Ok(json_value(&json!({ "mode": st.outage() })))
}

async fn lift_outage(State(st): State<MockState>) -> Reply {
    st.set_outage(None);
    Ok(json_value(&json!({ "mode": null })))
}

async fn faults(State(st): State<MockState>) -> Reply {
    Ok(json_value(
        &serde_json::to_value(st.faults()).unwrap_or(Value::Null),
    ))
}

async fn set_faults(State(st): State<MockState>, body: Bytes) -> Reply {
    let config: FaultConfig = super::http::body(&body)?;
    st.set_faults(config).map_err(ApiError::invalid)?;
    Ok(json_value(
        &serde_json::to_value(st.faults()).unwrap_or(Value::Null),
    ))
}

async fn requests(State(st): State<MockState>, RawQuery(q): RawQuery) -> Reply {
    let q = Query::parse(q.as_deref());
    let since = q.i64("since")?.unwrap_or(0).max(0) as u64;
    let limit = q.i64("limit")?.unwrap_or(1000).clamp(1, 100_000) as usize;
    let (entries, next) = st.requests_page(since, limit);
    Ok(json_value(
        &json!({ "requests": entries, "next_seq": next }),
    ))
}

async fn clear_requests(State(st): State<MockState>) -> Reply {
    st.clear_requests();
    Ok(json_value(&json!({})))
}

async fn fixture(State(st): State<MockState>) -> Reply {
    Ok(json(st.dump()))
}

async fn usage(State(st): State<MockState>) -> Reply {
    Ok(json_value(&st.usage()))
}
