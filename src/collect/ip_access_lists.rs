//! IP access lists: `GET /api/2.0/ip-access-lists`, one page.

use serde_json::Value;

use super::{Cx, RawKind};
use crate::client::{ApiError, take_array};
use crate::kind::Kind;

const PATH: &str = "/api/2.0/ip-access-lists";

pub(crate) async fn collect(cx: &Cx) -> RawKind {
    match list(cx).await {
        Ok(objects) => RawKind::complete(objects),
        Err(e) => RawKind::failed(e),
    }
}

async fn list(cx: &Cx) -> Result<Vec<Value>, ApiError> {
    let mut page = cx.get(Kind::IpAccessLists, PATH, &[]).await?;
    take_array(&mut page, "ip_access_lists", PATH)
}
