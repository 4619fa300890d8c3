//! Global init scripts: `/api/2.0/global-init-scripts` (list without the
//! script body; `get` adds it as base64), create, update, delete. Scripts are
//! listed in `position` order.

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use base64::Engine;
use bytes::Bytes;
use serde_json::{Map, Value, json};

use super::error::{ApiError, StoreError};
use super::fixture::LoadError;
use super::http::{Out, Reply, body_object, empty, json, json_value};
use super::state::MockState;
use super::store::{Coll, Doc, Sid, Workspace};

/// One script: its listing (no body) and the base64 body.
#[derive(Debug)]
pub(crate) struct Script {
    doc: Doc,
    script: Box<str>,
    position: i64,
}

/// Every script.
#[derive(Debug, Default)]
pub(crate) struct ScriptStore {
    items: Coll<Sid, Script>,
}

impl ScriptStore {
    pub(crate) fn begin_load(&mut self) {
        self.items.begin_load();
    }

    pub(crate) fn end_load(&mut self) {
        self.items.end_load();
    }

    /// Every script with its body, for dumps.
    pub(crate) fn dump(&self) -> Vec<String> {
        self.items.iter().map(|(_, s)| with_body(s)).collect()
    }

    fn ordered(&self) -> Vec<&Script> {
        let mut scripts: Vec<&Script> = self.items.iter().map(|(_, s)| s).collect();
        scripts.sort_by_key(|s| s.position);
        scripts
    }

    /// Renumbers positions 0.. in order, moving `first` before the rest at its position.
    fn renumber(&mut self, moved: Option<&str>) {
        let mut order: Vec<(i64, u8, String)> = self
            .items
            .iter()
            .map(|(id, s)| {
                (
                    s.position,
                    u8::from(Some(id.as_str()) != moved),
                    id.as_str().to_owned(),
                )
            })
            .collect();
        order.sort();
        for (i, (_, _, id)) in order.into_iter().enumerate() {
            if let Some(s) = self.items.get_mut(id.as_str()) {
                if s.position != i as i64 {
                    s.position = i as i64;
                    let p = s.position;
                    s.doc.edit(|m| {
                        m.insert("position".into(), Value::from(p));
                    });
                }
            }
        }
    }
}

fn with_body(s: &Script) -> String {
    let mut m = s.doc.to_map();
    m.insert("script".into(), Value::from(&*s.script));
    Value::Object(m).to_string()
}

/// Adds one fixture script (with or without its body).
pub(crate) fn load(ws: &mut Workspace, raw: &str) -> Result<(), LoadError> {
    let mut map: Map<String, Value> = serde_json::from_str(raw)?;
    let id = map
        .get("script_id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or("missing `script_id`".to_owned())?
        .to_owned();
    map.get("name")
        .and_then(Value::as_str)
        .ok_or("missing `name`".to_owned())?;
    if ws.scripts.items.contains(&id) {
        return Err(format!("duplicate `script_id` `{id}`").into());
    }
    let script = match map.remove("script") {
        Some(Value::String(s)) => s,
        None => String::new(),
        Some(_) => return Err("`script` must be a base64 string".to_owned().into()),
    };
    base64::engine::general_purpose::STANDARD
        .decode(&script)
        .map_err(|_| "`script` is not base64".to_owned())?;
    let position = map.get("position").and_then(Value::as_i64).unwrap_or(0);
    ws.scripts.items.insert(
        Sid::from(id.as_str()),
        Script {
            doc: Doc::from_map(map),
            script: script.into(),
            position,
        },
    );
    Ok(())
}

/// The routes.
pub(crate) fn routes() -> Router<MockState> {
    Router::new()
        .route("/api/2.0/global-init-scripts", get(list).post(create))
        .route(
            "/api/2.0/global-init-scripts/{id}",
            get(get_script).patch(update).put(update).delete(delete),
        )
}

fn unknown(id: &str) -> StoreError {
    StoreError::NotFound(format!("The global init script {id} does not exist."))
}

async fn list(State(st): State<MockState>) -> Reply {
    let ws = st.read();
    Ok(Out::object()
        .array_nonempty(
            "scripts",
            ws.scripts.ordered().into_iter().map(|s| s.doc.as_str()),
        )
        .reply())
}

async fn get_script(State(st): State<MockState>, Path(id): Path<String>) -> Reply {
    let ws = st.read();
    Ok(json(with_body(
        ws.scripts.items.get(&id).ok_or_else(|| unknown(&id))?,
    )))
}

/// Checks name and base64 script of a create or update.
fn check(spec: &Map<String, Value>) -> Result<(String, String), ApiError> {
    let name = match spec.get("name") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => return Err(super::http::missing("name")),
    };
    let script = match spec.get("script") {
        Some(Value::String(s)) => s.clone(),
        _ => return Err(super::http::missing("script")),
    };
    base64::engine::general_purpose::STANDARD
        .decode(&script)
        .map_err(|_| ApiError::invalid("script must be base64 encoded"))?;
    if let Some(p) = spec.get("position") {
        if p.as_i64().is_none_or(|p| p < 0) {
            return Err(ApiError::invalid("position must be a non-negative integer"));
        }
    }
    Ok((name, script))
}

async fn create(State(st): State<MockState>, body: Bytes) -> Reply {
    let spec = body_object(&body)?;
    let (name, script) = check(&spec)?;
    let mut ws = st.write();
    let id = ws.ids.hex16(true);
    let now = ws.now();
    let caller = ws.caller();
    let position = spec
        .get("position")
        .and_then(Value::as_i64)
        .unwrap_or(ws.scripts.items.len() as i64);
    let doc = json!({
        "script_id": id, "name": name, "enabled": spec.get("enabled").and_then(Value::as_bool).unwrap_or(false),
        "position": position, "created_at": now, "created_by": caller, "updated_at": now, "updated_by": caller,
    });
    ws.scripts.items.insert(
        Sid::from(id.as_str()),
        Script {
            doc: Doc::from_value(&doc),
            script: script.into(),
            position,
        },
    );
    ws.scripts.renumber(Some(&id));
    Ok(json_value(&json!({ "script_id": id })))
}

async fn update(State(st): State<MockState>, Path(id): Path<String>, body: Bytes) -> Reply {
    let spec = body_object(&body)?;
    let (name, script) = check(&spec)?;
    let mut ws = st.write();
    let now = ws.now();
    let caller = ws.caller();
    let s = ws.scripts.items.get_mut(&id).ok_or_else(|| unknown(&id))?;
    s.script = script.into();
    if let Some(p) = spec.get("position").and_then(Value::as_i64) {
        s.position = p;
    }
    let position = s.position;
    s.doc.edit(|m| {
        m.insert("name".into(), Value::from(name));
        if let Some(e) = spec.get("enabled") {
            m.insert("enabled".into(), e.clone());
        }
        m.insert("position".into(), Value::from(position));
        m.insert("updated_at".into(), Value::from(now));
        m.insert("updated_by".into(), Value::from(caller));
    });
    ws.scripts.renumber(Some(&id));
    Ok(empty())
}

async fn delete(State(st): State<MockState>, Path(id): Path<String>) -> Reply {
    let mut ws = st.write();
    ws.scripts.items.remove(&id).ok_or_else(|| unknown(&id))?;
    ws.scripts.renumber(None);
    Ok(empty())
}
