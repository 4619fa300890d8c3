//! `GET /.well-known/databricks-config`: the host metadata the SDKs ask for
//! first, without a token. It carries the workspace id as a numeric string,
//! after which the SDKs send `X-Databricks-Workspace-Id` on every call.
//! No `oidc_endpoint` is given: the mock speaks bearer tokens only.

use axum::Router;
use axum::extract::State;
use axum::routing::get;

use super::http::{Reply, json_value};
use super::state::MockState;

/// The host-metadata route.
pub(crate) fn routes() -> Router<MockState> {
    Router::new().route("/.well-known/databricks-config", get(host_metadata))
}

async fn host_metadata(State(st): State<MockState>) -> Reply {
    Ok(json_value(
        &serde_json::json!({ "workspace_id": st.workspace_id() }),
    ))
}
