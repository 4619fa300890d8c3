//! SQL warehouses: `GET /api/2.0/sql/warehouses`, paged with
//! `page_token`/`next_page_token`.

use super::{Cx, RawKind};
use crate::client::TokenPaging;
use crate::kind::Kind;

const PATH: &str = "/api/2.0/sql/warehouses";

pub(crate) async fn collect(cx: &Cx) -> RawKind {
    match cx
        .list_pages(
            Kind::SqlWarehouses,
            PATH,
            &[],
            TokenPaging::page_token("warehouses"),
        )
        .await
    {
        Ok(objects) => RawKind {
            objects,
            error: None,
        },
        Err(e) => RawKind::failed(e),
    }
}
