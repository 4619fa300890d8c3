//! PLACEHOLDER: being written.

use serde_json::Value;

use super::{Draft, Resolver};

pub(crate) fn normalize(_objects: &[Value], _r: &Resolver) -> Vec<Draft> {
    Vec::new()
}
