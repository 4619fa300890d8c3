//! Groups: `GET /api/2.0/preview/scim/v2/Groups`, SCIM-paged.
//!
//! Members are SCIM ids that only the users, service principals and groups of
//! the same capture can turn into natural keys, so a failed users or service
//! principals capture makes groups incomplete too: otherwise every member
//! would show as unresolved and read as drift.

use super::{Cx, RawKind};
use crate::kind::Kind;

/// The SCIM groups endpoint of the workspace.
const PATH: &str = "/api/2.0/preview/scim/v2/Groups";

pub(crate) async fn collect(cx: &Cx) -> RawKind {
    let (listed, users, service_principals) = futures::join!(
        cx.list_scim(Kind::Groups, PATH, &[]),
        cx.dependency(Kind::Users),
        cx.dependency(Kind::ServicePrincipals),
    );
    match listed {
        Ok(objects) => RawKind {
            objects,
            error: users.err().or(service_principals.err()),
        },
        Err(e) => RawKind::failed(e),
    }
}
