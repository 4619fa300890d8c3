//! Users: `GET /api/2.0/preview/scim/v2/Users`, SCIM-paged (`startIndex`/`count`).

use super::{Cx, RawKind};
use crate::kind::Kind;

/// The SCIM users endpoint of the workspace.
const PATH: &str = "/api/2.0/preview/scim/v2/Users";

pub(crate) async fn collect(cx: &Cx) -> RawKind {
    match cx.list_scim(Kind::Users, PATH, &[]).await {
        Ok(objects) => RawKind {
            objects,
            error: None,
        },
        Err(e) => RawKind::failed(e),
    }
}
