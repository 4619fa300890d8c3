//! SCIM users: `/api/2.0/preview/scim/v2/Users`, and `/Me`, the user the
//! token belongs to, answered with the `X-Databricks-Org-Id` header the
//! Python SDK reads the workspace id from.

use axum::Router;
use axum::extract::State;
use axum::http::HeaderValue;
use axum::routing::get;

use super::error::ApiError;
use super::fixture::LoadError;
use super::http::{Reply, json};
use super::scim::{self, ScimKind};
use super::state::MockState;
use super::store::Workspace;

/// Adds one fixture user.
pub(crate) fn load(ws: &mut Workspace, raw: &str) -> Result<(), LoadError> {
    ws.load_scim(ScimKind::Users, raw)
}

/// The user routes.
pub(crate) fn routes() -> Router<MockState> {
    scim::routes(ScimKind::Users).route("/api/2.0/preview/scim/v2/Me", get(me))
}

/// `GET /Me`: the caller (the first admin), or a stand-in when the workspace has no users.
async fn me(State(st): State<MockState>) -> Reply {
    let body = {
        let ws = st.read();
        match ws
            .me_user_name()
            .and_then(|name| ws.users.by_key(&name).map(|u| u.doc.as_str().to_owned()))
        {
            Some(doc) => doc,
            None => serde_json::json!({
                "id": "1",
                "userName": ws.caller(),
                "displayName": "Mock Admin",
                "active": true,
                "schemas": [ScimKind::Users.schema()],
            })
            .to_string(),
        }
    };
    let mut response = json(body);
    let org = HeaderValue::from_str(st.workspace_id())
        .map_err(|_| ApiError::internal("invalid workspace id"))?;
    response.headers_mut().insert("x-databricks-org-id", org);
    Ok(response)
}
