//! SCIM service principals: `/api/2.0/preview/scim/v2/ServicePrincipals`,
//! keyed by `applicationId` (generated as a UUID when a create omits it).

use axum::Router;

use super::fixture::LoadError;
use super::scim::{self, ScimKind};
use super::state::MockState;
use super::store::Workspace;

/// Adds one fixture service principal.
pub(crate) fn load(ws: &mut Workspace, raw: &str) -> Result<(), LoadError> {
    ws.load_scim(ScimKind::ServicePrincipals, raw)
}

/// The service principal routes.
pub(crate) fn routes() -> Router<MockState> {
    scim::routes(ScimKind::ServicePrincipals)
}
