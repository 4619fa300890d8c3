//! Instance pools: `/api/2.0/instance-pools/list|get|create|edit|delete`.
//!
//! A pool keeps `min_idle_instances` idle instances, which exist and cost
//! (the usage meter counts idle instance-time); `stats.used_count` follows the
//! clusters that run on the pool, and `max_capacity` bounds them.

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::routing::{get, post};
use bytes::Bytes;
use serde_json::{Map, Value, json};

use super::error::{ApiError, StoreError};
use super::fixture::LoadError;
use super::http::{Out, Query, Reply, body_object, empty, json, json_value};
use super::permissions::ObjType;
use super::state::MockState;
use super::store::{Coll, Doc, Meter, Sid, Workspace};

/// One pool.
#[derive(Debug)]
pub(crate) struct Pool {
    pub(crate) doc: Doc,
    pub(crate) min_idle: i64,
    pub(crate) max_capacity: Option<i64>,
    /// Idle instances over time.
    pub(crate) idle: Meter,
}

impl Pool {
    fn from_doc(doc: Doc) -> Pool {
        let map = doc.to_map();
        Pool {
            min_idle: map
                .get("min_idle_instances")
                .and_then(Value::as_i64)
                .unwrap_or(0)
                .max(0),
            max_capacity: map.get("max_capacity").and_then(Value::as_i64),
            idle: Meter::default(),
            doc,
        }
    }
}

/// Every pool.
#[derive(Debug, Default)]
pub(crate) struct PoolStore {
    pub(crate) items: Coll<Sid, Pool>,
}

impl PoolStore {
    /// Every pool document, for dumps.
    pub(crate) fn dump(&self) -> Vec<String> {
        self.items
            .iter()
            .map(|(_, p)| p.doc.as_str().to_owned())
            .collect()
    }
}

/// Adds one fixture pool.
pub(crate) fn load(ws: &mut Workspace, raw: &str) -> Result<(), LoadError> {
    #[derive(serde::Deserialize)]
    struct Keys {
        instance_pool_id: String,
        #[expect(dead_code, reason = "only checked to be a string")]
        instance_pool_name: Option<String>,
        min_idle_instances: Option<i64>,
        max_capacity: Option<i64>,
    }
    let keys: Keys = serde_json::from_str(raw)?;
    if keys.instance_pool_id.is_empty() || ws.pools.items.contains(&keys.instance_pool_id) {
        return Err(format!(
            "empty or duplicate `instance_pool_id` `{}`",
            keys.instance_pool_id
        )
        .into());
    }
    if let (Some(min), Some(max)) = (keys.min_idle_instances, keys.max_capacity) {
        if min > max {
            return Err(format!("`min_idle_instances` {min} exceeds `max_capacity` {max}").into());
        }
    }
    ws.pools.items.insert(
        Sid::from(keys.instance_pool_id.as_str()),
        Pool::from_doc(Doc::compact(raw)),
    );
    Ok(())
}

impl Workspace {
    /// Recomputes a pool's `stats` and idle meter after a change at `at`.
    pub(crate) fn refresh_pool(&mut self, id: &str, at: i64) {
        let used: i64 = self
            .clusters
            .items
            .iter()
            .map(|(_, c)| c.nodes_from(id))
            .fold(0i64, i64::saturating_add);
        let Some(pool) = self.pools.items.get_mut(id) else {
            return;
        };
        let idle = match pool.max_capacity {
            Some(max) => pool.min_idle.min(max.saturating_sub(used).max(0)),
            None => pool.min_idle,
        };
        pool.idle.set(idle, at);
        let stats = json!({"used_count": used, "idle_count": idle, "pending_used_count": 0, "pending_idle_count": 0});
        if pool.doc.to_map().get("stats") != Some(&stats) {
            pool.doc.edit(|m| {
                m.insert("stats".into(), stats);
            });
        }
    }
}

/// The routes.
pub(crate) fn routes() -> Router<MockState> {
    Router::new()
        .route("/api/2.0/instance-pools/list", get(list))
        .route("/api/2.0/instance-pools/get", get(get_pool))
        .route("/api/2.0/instance-pools/create", post(create))
        .route("/api/2.0/instance-pools/edit", post(edit))
        .route("/api/2.0/instance-pools/delete", post(delete))
}

fn unknown(id: &str) -> StoreError {
    StoreError::NotFound(format!("Can't find an instance pool with id: {id}."))
}

async fn list(State(st): State<MockState>) -> Reply {
    let ws = st.read();
    Ok(Out::object()
        .array_nonempty(
            "instance_pools",
            ws.pools.items.iter().map(|(_, p)| p.doc.as_str()),
        )
        .reply())
}

async fn get_pool(State(st): State<MockState>, RawQuery(q): RawQuery) -> Reply {
    let q = Query::parse(q.as_deref());
    let id = q.required("instance_pool_id")?;
    let ws = st.read();
    Ok(json(
        ws.pools
            .items
            .get(id)
            .ok_or_else(|| unknown(id))?
            .doc
            .as_str()
            .to_owned(),
    ))
}

/// Checks the fields of a create or edit.
fn check(spec: &Map<String, Value>) -> Result<(), ApiError> {
    for field in ["instance_pool_name", "node_type_id"] {
        match spec.get(field) {
            Some(Value::String(s)) if !s.is_empty() => {}
            _ => return Err(super::http::missing(field)),
        }
    }
    let int =
        |f: &str| -> Result<Option<i64>, ApiError> {
            match spec.get(f) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => v.as_i64().filter(|n| *n >= 0).map(Some).ok_or_else(|| {
                    ApiError::invalid(format!("{f} must be a non-negative integer"))
                }),
            }
        };
    if let (Some(min), Some(max)) = (int("min_idle_instances")?, int("max_capacity")?) {
        if min > max {
            return Err(ApiError::invalid(format!(
                "min_idle_instances ({min}) cannot exceed max_capacity ({max})"
            )));
        }
    }
    int("idle_instance_autotermination_minutes")?;
    Ok(())
}

async fn create(State(st): State<MockState>, body: Bytes) -> Reply {
    let mut spec = body_object(&body)?;
    check(&spec)?;
    for f in [
        "instance_pool_id",
        "state",
        "stats",
        "default_tags",
        "status",
    ] {
        spec.remove(f);
    }
    let mut ws = st.write();
    let now = ws.now();
    let id = ws.ids.pool_id(now);
    let creator = ws
        .me_user_name()
        .and_then(|u| ws.users.id_of(&u).map(str::to_owned))
        .unwrap_or_default();
    spec.insert("instance_pool_id".into(), Value::from(id.clone()));
    spec.insert("state".into(), Value::from("ACTIVE"));
    spec.entry("min_idle_instances").or_insert(Value::from(0));
    spec.insert(
        "default_tags".into(),
        json!({"Vendor": "Databricks", "DatabricksInstancePoolCreatorId": creator, "DatabricksInstancePoolId": id}),
    );
    ws.pools
        .items
        .insert(Sid::from(id.as_str()), Pool::from_doc(Doc::from_map(spec)));
    ws.refresh_pool(&id, now);
    ws.init_acl(ObjType::InstancePools, &id, None)?;
    Ok(json_value(&json!({ "instance_pool_id": id })))
}

async fn edit(State(st): State<MockState>, body: Bytes) -> Reply {
    let spec = body_object(&body)?;
    let id = spec
        .get("instance_pool_id")
        .and_then(Value::as_str)
        .ok_or_else(|| super::http::missing("instance_pool_id"))?
        .to_owned();
    check(&spec)?;
    let mut ws = st.write();
    let pool = ws.pools.items.get(&id).ok_or_else(|| unknown(&id))?;
    let mut map = pool.doc.to_map();
    if map.get("node_type_id") != spec.get("node_type_id") {
        return Err(ApiError::invalid("node_type_id cannot be changed"));
    }
    for f in [
        "instance_pool_name",
        "min_idle_instances",
        "max_capacity",
        "idle_instance_autotermination_minutes",
        "custom_tags",
    ] {
        match spec.get(f) {
            Some(v) => map.insert(f.into(), v.clone()),
            None if f != "instance_pool_name" => map.remove(f),
            None => None,
        };
    }
    let meter = pool.idle;
    let mut fresh = Pool::from_doc(Doc::from_map(map));
    fresh.idle = meter;
    ws.pools.items.insert(Sid::from(id.as_str()), fresh);
    let now = ws.now();
    ws.refresh_pool(&id, now);
    Ok(empty())
}

async fn delete(State(st): State<MockState>, body: Bytes) -> Reply {
    let spec = body_object(&body)?;
    let id = spec
        .get("instance_pool_id")
        .and_then(Value::as_str)
        .ok_or_else(|| super::http::missing("instance_pool_id"))?
        .to_owned();
    let mut ws = st.write();
    ws.pools
        .items
        .remove(id.as_str())
        .ok_or_else(|| unknown(&id))?;
    ws.permissions.forget(ObjType::InstancePools, &id);
    Ok(empty())
}
