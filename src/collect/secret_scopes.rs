//! Secret scopes: `GET /api/2.0/secrets/scopes/list`, one page.

use serde_json::Value;

use super::{Cx, RawKind};
use crate::client::{ApiError, take_array};
use crate::kind::Kind;

const PATH: &str = "/api/2.0/secrets/scopes/list";

pub(crate) async fn collect(cx: &Cx) -> RawKind {
    match list(cx).await {
        Ok(objects) => RawKind::complete(objects),
        Err(e) => RawKind::failed(e),
    }
}

async fn list(cx: &Cx) -> Result<Vec<Value>, ApiError> {
    let mut page = cx.get(Kind::SecretScopes, PATH, &[]).await?;
    take_array(&mut page, "scopes", PATH)
}
