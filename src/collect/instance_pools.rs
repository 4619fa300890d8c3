//! Instance pools: `GET /api/2.0/instance-pools/list`, one page.

use super::{Cx, RawKind};
use crate::client::ApiError;
use crate::kind::Kind;

pub(crate) async fn collect(cx: &Cx) -> RawKind {
    match list(cx).await {
        Ok(objects) => RawKind::complete(objects),
        Err(e) => RawKind::failed(e),
    }
}

async fn list(cx: &Cx) -> Result<Vec<serde_json::Value>, ApiError> {
    let mut page = cx
        .get(Kind::InstancePools, "/api/2.0/instance-pools/list", &[])
        .await?;
    crate::client::take_array(&mut page, "instance_pools", "/api/2.0/instance-pools/list")
}
