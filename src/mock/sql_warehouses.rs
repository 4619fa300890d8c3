//! SQL warehouses: `/api/2.0/sql/warehouses` (paged list, create),
//! `/{id}` (get, delete), `/{id}/edit|start|stop`, with the state machine on
//! the virtual clock: STARTING → RUNNING (`warehouse_start_secs`), STOPPING →
//! STOPPED (`warehouse_stop_secs`), auto-stop after `auto_stop_mins`.

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::routing::{get, post};
use bytes::Bytes;
use serde_json::{Map, Value, json};

use super::error::{ApiError, StoreError};
use super::fixture::LoadError;
use super::http::{Out, Query, Reply, body_object, empty, json, json_value};
use super::permissions::ObjType;
use super::state::MockState;
use super::store::{Coll, Doc, Event, Meter, Sid, Workspace, decode_token, encode_token};

/// One warehouse.
#[derive(Debug)]
pub(crate) struct Warehouse {
    doc: Doc,
    state: Box<str>,
    generation: u64,
    auto_stop_mins: i64,
    meter: Meter,
}

impl Warehouse {
    fn new(doc: Doc) -> Warehouse {
        let map = doc.to_map();
        Warehouse {
            state: map
                .get("state")
                .and_then(Value::as_str)
                .unwrap_or("STOPPED")
                .into(),
            auto_stop_mins: map
                .get("auto_stop_mins")
                .and_then(Value::as_i64)
                .unwrap_or(0),
            generation: 0,
            meter: Meter::default(),
            doc,
        }
    }
}

/// Every warehouse.
#[derive(Debug, Default)]
pub(crate) struct WarehouseStore {
    pub(crate) items: Coll<Sid, Warehouse>,
}

impl WarehouseStore {
    /// Every warehouse document, for dumps.
    pub(crate) fn dump(&self) -> Vec<String> {
        self.items
            .iter()
            .map(|(_, w)| w.doc.as_str().to_owned())
            .collect()
    }

    fn id_by_name(&self, name: &str) -> Option<&str> {
        self.items
            .iter()
            .find(|(_, w)| w.doc.to_map().get("name").and_then(Value::as_str) == Some(name))
            .map(|(id, _)| id.as_str())
    }
}

/// Adds one fixture warehouse.
pub(crate) fn load(ws: &mut Workspace, raw: &str) -> Result<(), LoadError> {
    #[derive(serde::Deserialize)]
    struct Keys {
        id: String,
        #[expect(dead_code, reason = "only checked to be a string")]
        name: Option<String>,
    }
    let keys: Keys = serde_json::from_str(raw)?;
    if keys.id.is_empty() || ws.warehouses.items.contains(&keys.id) {
        return Err(format!("empty or duplicate warehouse `id` `{}`", keys.id).into());
    }
    ws.warehouses.items.insert(
        Sid::from(keys.id.as_str()),
        Warehouse::new(Doc::compact(raw)),
    );
    Ok(())
}

impl Workspace {
    fn set_warehouse_state(&mut self, id: &str, state: &str, at: i64) {
        let Some(w) = self.warehouses.items.get_mut(id) else {
            return;
        };
        w.state = state.into();
        w.generation += 1;
        let running = matches!(state, "RUNNING" | "STARTING" | "STOPPING");
        w.meter.set(i64::from(running), at);
        w.doc.edit(|m| {
            m.insert("state".into(), Value::from(state));
            let clusters = i64::from(state == "RUNNING");
            m.insert("num_clusters".into(), Value::from(clusters));
            if state != "RUNNING" {
                m.insert("num_active_sessions".into(), Value::from(0));
            }
        });
        let (generation, delay) = match state {
            "STARTING" => (
                w.generation,
                self.durations.warehouse_start_secs.saturating_mul(1000) as i64,
            ),
            "STOPPING" => (
                w.generation,
                self.durations.warehouse_stop_secs.saturating_mul(1000) as i64,
            ),
            "RUNNING" if w.auto_stop_mins > 0 => {
                (w.generation, w.auto_stop_mins.saturating_mul(60_000))
            }
            _ => return,
        };
        self.schedule(
            at,
            delay,
            Event::Warehouse {
                id: id.into(),
                generation,
            },
        );
    }

    /// A warehouse's timed transition is due.
    pub(crate) fn warehouse_due(&mut self, id: &str, generation: u64, at: i64) {
        let Some(w) = self.warehouses.items.get(id) else {
            return;
        };
        if w.generation != generation {
            return;
        }
        match &*w.state {
            "STARTING" => self.set_warehouse_state(id, "RUNNING", at),
            // Auto-stop after `auto_stop_mins` of running.
            "RUNNING" | "STOPPING" => {
                let next = if &*w.state == "RUNNING" {
                    "STOPPING"
                } else {
                    "STOPPED"
                };
                self.set_warehouse_state(id, next, at);
            }
            _ => {}
        }
    }

    /// After load: warehouses caught mid-transition finish it; running ones may auto-stop.
    pub(crate) fn finish_warehouses(&mut self) {
        let now = self.now();
        let states: Vec<(String, String)> = self
            .warehouses
            .items
            .iter()
            .map(|(id, w)| (id.as_str().to_owned(), w.state.to_string()))
            .collect();
        for (id, state) in states {
            if matches!(state.as_str(), "STARTING" | "STOPPING" | "RUNNING") {
                self.set_warehouse_state(&id, &state, now);
            }
        }
    }

    /// Running milliseconds per warehouse.
    pub(crate) fn warehouse_usage(&self, now: i64) -> Value {
        let map: Map<String, Value> = self
            .warehouses
            .items
            .iter()
            .map(|(id, w)| {
                (
                    id.as_str().to_owned(),
                    json!({"state": &*w.state, "running_ms": w.meter.read(now)}),
                )
            })
            .collect();
        Value::Object(map)
    }
}

/// The routes.
pub(crate) fn routes() -> Router<MockState> {
    let p = "/api/2.0/sql/warehouses";
    Router::new()
        .route(p, get(list).post(create))
        .route(&format!("{p}/{{id}}"), get(get_warehouse).delete(delete))
        .route(&format!("{p}/{{id}}/edit"), post(edit))
        .route(&format!("{p}/{{id}}/start"), post(start))
        .route(&format!("{p}/{{id}}/stop"), post(stop))
}

fn unknown(id: &str) -> StoreError {
    StoreError::NotFound(format!("Warehouse {id} does not exist."))
}

async fn list(State(st): State<MockState>, RawQuery(q): RawQuery) -> Reply {
    let q = Query::parse(q.as_deref());
    let size = match q.i64("page_size")? {
        None | Some(0) => usize::MAX,
        Some(n) if n > 0 => n as usize,
        Some(n) => {
            return Err(ApiError::invalid(format!(
                "page_size must not be negative, not {n}"
            )));
        }
    };
    let ws = st.read();
    let start = match q.get("page_token").filter(|t| !t.is_empty()) {
        Some(t) => ws.warehouses.items.lower_bound(&decode_token(t)?),
        None => 0,
    };
    let page = ws.warehouses.items.slice(start, size);
    let next = ws
        .warehouses
        .items
        .key_at(start + page.len())
        .map(|id| encode_token(id.as_str()));
    let mut out = Out::object();
    out.array_nonempty("warehouses", page.map(|(_, w)| w.doc.as_str()));
    Ok(out.opt_string("next_page_token", next.as_deref()).reply())
}

async fn get_warehouse(State(st): State<MockState>, Path(id): Path<String>) -> Reply {
    let ws = st.read();
    Ok(json(
        ws.warehouses
            .items
            .get(&id)
            .ok_or_else(|| unknown(&id))?
            .doc
            .as_str()
            .to_owned(),
    ))
}

const EDITABLE: [&str; 12] = [
    "name",
    "cluster_size",
    "min_num_clusters",
    "max_num_clusters",
    "auto_stop_mins",
    "enable_photon",
    "enable_serverless_compute",
    "warehouse_type",
    "spot_instance_policy",
    "channel",
    "tags",
    "instance_profile_arn",
];

const SIZES: [&str; 9] = [
    "2X-Small", "X-Small", "Small", "Medium", "Large", "X-Large", "2X-Large", "3X-Large",
    "4X-Large",
];

fn check(spec: &Map<String, Value>, create: bool) -> Result<(), ApiError> {
    if create || spec.contains_key("name") {
        match spec.get("name") {
            Some(Value::String(s)) if !s.is_empty() => {}
            _ => return Err(super::http::missing("name")),
        }
    }
    match spec.get("cluster_size") {
        None if create => return Err(super::http::missing("cluster_size")),
        None => {}
        Some(Value::String(s)) if SIZES.contains(&s.as_str()) => {}
        Some(v) => return Err(ApiError::invalid(format!("Invalid cluster_size: {v}"))),
    }
    let min = spec
        .get("min_num_clusters")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let max = spec
        .get("max_num_clusters")
        .and_then(Value::as_i64)
        .unwrap_or(min.max(1));
    if min < 1 || max < min {
        return Err(ApiError::invalid(
            "min_num_clusters must be at least 1 and at most max_num_clusters",
        ));
    }
    Ok(())
}

async fn create(State(st): State<MockState>, body: Bytes) -> Reply {
    let spec = body_object(&body)?;
    check(&spec, true)?;
    let name = spec
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let mut ws = st.write();
    if ws.warehouses.id_by_name(&name).is_some() {
        return Err(StoreError::AlreadyExists(format!(
            "A SQL warehouse with name {name} already exists."
        ))
        .into());
    }
    let id = ws.ids.hex16(false);
    let mut map = Map::new();
    for f in EDITABLE {
        if let Some(v) = spec.get(f) {
            map.insert(f.into(), v.clone());
        }
    }
    map.insert("id".into(), Value::from(id.clone()));
    map.entry("min_num_clusters").or_insert(Value::from(1));
    map.entry("max_num_clusters").or_insert(Value::from(1));
    map.entry("auto_stop_mins").or_insert(Value::from(120));
    map.entry("warehouse_type")
        .or_insert(Value::from("CLASSIC"));
    map.entry("spot_instance_policy")
        .or_insert(Value::from("COST_OPTIMIZED"));
    map.insert("creator_name".into(), Value::from(ws.caller()));
    map.insert("state".into(), Value::from("STOPPED"));
    map.insert("num_clusters".into(), Value::from(0));
    map.insert("num_active_sessions".into(), Value::from(0));
    map.insert("health".into(), json!({"status": "HEALTHY"}));
    map.insert("jdbc_url".into(), Value::from(format!("jdbc:spark://mock.local:443/default;transportMode=http;ssl=1;AuthMech=3;httpPath=/sql/1.0/warehouses/{id};")));
    map.insert("odbc_params".into(), json!({"hostname": "mock.local", "path": format!("/sql/1.0/warehouses/{id}"), "protocol": "https", "port": 443}));
    ws.warehouses
        .items
        .insert(Sid::from(id.as_str()), Warehouse::new(Doc::from_map(map)));
    let now = ws.now();
    ws.set_warehouse_state(&id, "STARTING", now);
    ws.init_acl(ObjType::Warehouses, &id, None)?;
    ws.settle();
    Ok(json_value(&json!({ "id": id })))
}

async fn edit(State(st): State<MockState>, Path(id): Path<String>, body: Bytes) -> Reply {
    let spec = body_object(&body)?;
    check(&spec, false)?;
    let mut ws = st.write();
    if let Some(name) = spec.get("name").and_then(Value::as_str) {
        if ws
            .warehouses
            .id_by_name(name)
            .is_some_and(|other| other != id)
        {
            return Err(StoreError::AlreadyExists(format!(
                "A SQL warehouse with name {name} already exists."
            ))
            .into());
        }
    }
    let w = ws
        .warehouses
        .items
        .get_mut(&id)
        .ok_or_else(|| unknown(&id))?;
    w.doc.edit(|m| {
        for f in EDITABLE {
            if let Some(v) = spec.get(f) {
                m.insert(f.into(), v.clone());
            }
        }
    });
    if let Some(a) = spec.get("auto_stop_mins").and_then(Value::as_i64) {
        w.auto_stop_mins = a;
    }
    Ok(empty())
}

async fn start(State(st): State<MockState>, Path(id): Path<String>) -> Reply {
    let mut ws = st.write();
    let w = ws.warehouses.items.get(&id).ok_or_else(|| unknown(&id))?;
    if matches!(&*w.state, "STOPPED" | "STOPPING") {
        let now = ws.now();
        ws.set_warehouse_state(&id, "STARTING", now);
        ws.settle();
    }
    Ok(empty())
}

async fn stop(State(st): State<MockState>, Path(id): Path<String>) -> Reply {
    let mut ws = st.write();
    let w = ws.warehouses.items.get(&id).ok_or_else(|| unknown(&id))?;
    if matches!(&*w.state, "RUNNING" | "STARTING") {
        let now = ws.now();
        ws.set_warehouse_state(&id, "STOPPING", now);
        ws.settle();
    }
    Ok(empty())
}

async fn delete(State(st): State<MockState>, Path(id): Path<String>) -> Reply {
    let mut ws = st.write();
    ws.warehouses
        .items
        .remove(&id)
        .ok_or_else(|| unknown(&id))?;
    ws.permissions.forget(ObjType::Warehouses, &id);
    Ok(empty())
}
