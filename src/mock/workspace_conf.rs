//! Workspace settings: `GET /api/2.0/workspace-conf?keys=a,b` (a flat object
//! of strings; `null` for a known setting that is unset) and `PATCH` of
//! `{"key": "value"}`. Unknown keys are 400 `Invalid keys: ["k1", …]`, the
//! message terraform parses to retry without them.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::routing::get;
use bytes::Bytes;
use serde_json::{Map, Value};

use super::error::ApiError;
use super::http::{Query, Reply, body_object, json_value, no_content};
use super::state::MockState;
use super::store::Workspace;

// Settings the service knows on every cloud: the list standby's collector
// reads, defined once for both sides.
use crate::collect::WORKSPACE_CONF_KEYS as KNOWN;

/// Every setting: known keys, set or not.
#[derive(Debug)]
pub(crate) struct ConfStore {
    values: BTreeMap<String, Option<String>>,
}

impl Default for ConfStore {
    fn default() -> Self {
        ConfStore {
            values: KNOWN.iter().map(|k| ((*k).to_owned(), None)).collect(),
        }
    }
}

impl ConfStore {
    /// The set values as a JSON object, for dumps.
    pub(crate) fn dump(&self) -> String {
        let map: Map<String, Value> = self
            .values
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| (k.clone(), Value::from(v.clone()))))
            .collect();
        Value::Object(map).to_string()
    }

    fn invalid_keys<'a>(&self, keys: impl Iterator<Item = &'a str>) -> Option<ApiError> {
        let unknown: Vec<String> = keys
            .filter(|k| !self.values.contains_key(*k))
            .map(|k| format!("\"{k}\""))
            .collect();
        (!unknown.is_empty())
            .then(|| ApiError::invalid(format!("Invalid keys: [{}]", unknown.join(", "))))
    }
}

/// Loads the fixture's settings (strings; `null` means unset). Keys not known
/// to the service are accepted: a fixture may record settings of another cloud.
pub(crate) fn load(ws: &mut Workspace, conf: Map<String, Value>) -> Result<(), String> {
    for (k, v) in conf {
        let value = match v {
            Value::String(s) => Some(s),
            Value::Null => None,
            other => return Err(format!("the value of `{k}` must be a string, not {other}")),
        };
        ws.conf.values.insert(k, value);
    }
    Ok(())
}

/// The routes.
pub(crate) fn routes() -> Router<MockState> {
    Router::new().route("/api/2.0/workspace-conf", get(get_conf).patch(set_conf))
}

async fn get_conf(State(st): State<MockState>, RawQuery(q): RawQuery) -> Reply {
    let q = Query::parse(q.as_deref());
    let keys: Vec<&str> = q
        .required("keys")?
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .collect();
    let ws = st.read();
    if let Some(e) = ws.conf.invalid_keys(keys.iter().copied()) {
        return Err(e);
    }
    let map: Map<String, Value> = keys
        .iter()
        .map(|k| {
            (
                (*k).to_owned(),
                ws.conf
                    .values
                    .get(*k)
                    .cloned()
                    .flatten()
                    .map_or(Value::Null, Value::from),
            )
        })
        .collect();
    Ok(json_value(&Value::Object(map)))
}

async fn set_conf(State(st): State<MockState>, body: Bytes) -> Reply {
    let map = body_object(&body)?;
    let mut ws = st.write();
    if let Some(e) = ws.conf.invalid_keys(map.keys().map(String::as_str)) {
        return Err(e);
    }
    let mut updates = Vec::new();
    for (k, v) in map {
        let value = match v {
            Value::String(s) => s,
            Value::Bool(b) => b.to_string(),
            other => {
                return Err(ApiError::invalid(format!(
                    "The value of {k} must be a string, not {other}"
                )));
            }
        };
        updates.push((k, value));
    }
    for (k, v) in updates {
        ws.conf.values.insert(k, Some(v));
    }
    Ok(no_content())
}
