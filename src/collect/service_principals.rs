//! Service principals: `GET /api/2.0/preview/scim/v2/ServicePrincipals`, SCIM-paged.

use super::{Cx, RawKind};
use crate::kind::Kind;

/// The SCIM service principals endpoint of the workspace.
const PATH: &str = "/api/2.0/preview/scim/v2/ServicePrincipals";

pub(crate) async fn collect(cx: &Cx) -> RawKind {
    match cx.list_scim(Kind::ServicePrincipals, PATH, &[]).await {
        Ok(objects) => RawKind {
            objects,
            error: None,
        },
        Err(e) => RawKind::failed(e),
    }
}
