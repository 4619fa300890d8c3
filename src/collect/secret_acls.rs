//! Secret scope ACLs: `GET /api/2.0/secrets/acls/list?scope=S` for every scope.
//!
//! The API leaves the scope implicit, so each raw object gets a `scope` field.

use super::{Cx, RawKind};
use crate::kind::Kind;

pub(crate) async fn collect(cx: &Cx) -> RawKind {
    super::secrets::per_scope(cx, Kind::SecretAcls, "/api/2.0/secrets/acls/list", "items").await
}
