//! PLACEHOLDER: being written.

use super::{Cx, RawKind};

pub(crate) async fn collect(_cx: &Cx) -> RawKind {
    RawKind::default()
}
