//! Clusters (`/api/2.0|2.1/clusters/*`) and their libraries
//! (`/api/2.0/libraries/*`), with the state machine on the virtual clock:
//! PENDING → RUNNING (`cluster_start_secs`), RUNNING → RESTARTING → RUNNING,
//! TERMINATING → TERMINATED (`cluster_terminate_secs`), auto-termination
//! after `autotermination_minutes` without runs.
//!
//! A start fails, ending TERMINATED with a `termination_reason`, when the
//! spec names a pool, policy, secret or workspace init script that does not
//! exist, or the pool is at its `max_capacity`. `clusters/get` of an unknown
//! id is 400 `INVALID_PARAMETER_VALUE` "Cluster <id> does not exist", as the
//! service answers (the SDKs map it to NotFound by its message).

use std::collections::BTreeMap;

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
use super::store::{Coll, Doc, Event, Meter, Sid, Workspace, decode_token, encode_token};

/// A cluster's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CState {
    Pending,
    Running,
    Restarting,
    Resizing,
    Terminating,
    Terminated,
    Error,
    Unknown,
}

impl CState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            CState::Pending => "PENDING",
            CState::Running => "RUNNING",
            CState::Restarting => "RESTARTING",
            CState::Resizing => "RESIZING",
            CState::Terminating => "TERMINATING",
            CState::Terminated => "TERMINATED",
            CState::Error => "ERROR",
            CState::Unknown => "UNKNOWN",
        }
    }

    fn parse(s: &str) -> CState {
        match s {
            "PENDING" => CState::Pending,
            "RUNNING" => CState::Running,
            "RESTARTING" => CState::Restarting,
            "RESIZING" => CState::Resizing,
            "TERMINATING" => CState::Terminating,
            "TERMINATED" => CState::Terminated,
            "ERROR" => CState::Error,
            _ => CState::Unknown,
        }
    }

    /// Ready to run tasks.
    pub(crate) fn is_up(self) -> bool {
        matches!(self, CState::Running | CState::Resizing)
    }

    /// Holds instances.
    fn holds_nodes(self) -> bool {
        matches!(
            self,
            CState::Pending
                | CState::Running
                | CState::Restarting
                | CState::Resizing
                | CState::Terminating
        )
    }

    /// Display form in messages ("Running").
    fn title(self) -> String {
        let s = self.as_str();
        format!("{}{}", &s[..1], s[1..].to_lowercase())
    }
}

/// One cluster and what the state machine needs of it.
#[derive(Debug)]
pub(crate) struct Cluster {
    pub(crate) doc: Doc,
    pub(crate) state: CState,
    generation: u64,
    idle_generation: u64,
    pub(crate) source: Box<str>,
    pinned: bool,
    terminated_time: Option<i64>,
    pool: Option<Box<str>>,
    driver_pool: Option<Box<str>>,
    policy: Option<Box<str>>,
    nodes: i64,
    autotermination_minutes: i64,
    meter: Meter,
}

impl Cluster {
    fn from_doc(doc: Doc) -> Cluster {
        let map = doc.to_map();
        let text = |k: &str| {
            map.get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(Box::<str>::from)
        };
        let workers = map
            .get("num_workers")
            .and_then(Value::as_i64)
            .or_else(|| {
                map.get("autoscale")
                    .and_then(|a| a.get("min_workers"))
                    .and_then(Value::as_i64)
            })
            .unwrap_or(0);
        Cluster {
            state: CState::parse(
                map.get("state")
                    .and_then(Value::as_str)
                    .unwrap_or("TERMINATED"),
            ),
            generation: 0,
            idle_generation: 0,
            source: text("cluster_source").unwrap_or_else(|| "UI".into()),
            pinned: false,
            terminated_time: map.get("terminated_time").and_then(Value::as_i64),
            pool: text("instance_pool_id"),
            driver_pool: text("driver_instance_pool_id"),
            policy: text("policy_id"),
            nodes: workers.max(0).saturating_add(1),
            autotermination_minutes: map
                .get("autotermination_minutes")
                .and_then(Value::as_i64)
                .unwrap_or(0),
            meter: Meter::default(),
            doc,
        }
    }

    /// Instances this cluster takes from a pool.
    pub(crate) fn nodes_from(&self, pool: &str) -> i64 {
        if !self.state.holds_nodes() {
            return 0;
        }
        let workers = if self.pool.as_deref() == Some(pool) {
            self.nodes - 1
        } else {
            0
        };
        let driver_pool = self.driver_pool.as_deref().or(self.pool.as_deref());
        workers + i64::from(driver_pool == Some(pool))
    }
}

/// Every cluster, and the libraries installed on them.
#[derive(Debug, Default)]
pub(crate) struct ClusterStore {
    pub(crate) items: Coll<Sid, Cluster>,
    libraries: BTreeMap<String, Vec<Value>>,
}

impl ClusterStore {
    /// Every cluster document, for dumps.
    pub(crate) fn dump(&self) -> Vec<String> {
        self.items
            .iter()
            .map(|(_, c)| c.doc.as_str().to_owned())
            .collect()
    }

    /// Every library status, for dumps.
    pub(crate) fn dump_libraries(&self) -> Vec<String> {
        self.libraries
            .iter()
            .map(|(id, statuses)| {
                json!({"cluster_id": id, "library_statuses": statuses}).to_string()
            })
            .collect()
    }

    /// The state of a cluster.
    pub(crate) fn state(&self, id: &str) -> Option<CState> {
        self.items.get(id).map(|c| c.state)
    }
}

/// Adds one fixture cluster.
pub(crate) fn load(ws: &mut Workspace, raw: &str) -> Result<(), LoadError> {
    #[derive(serde::Deserialize)]
    struct Keys {
        cluster_id: String,
        #[expect(dead_code, reason = "only checked to be a string")]
        cluster_name: Option<String>,
        state: Option<String>,
    }
    let keys: Keys = serde_json::from_str(raw)?;
    if keys.cluster_id.is_empty() {
        return Err("empty `cluster_id`".to_owned().into());
    }
    if ws.clusters.items.contains(&keys.cluster_id) {
        return Err(format!("duplicate `cluster_id` `{}`", keys.cluster_id).into());
    }
    let mut doc = Doc::compact(raw);
    if keys.state.is_none() {
        doc.edit(|m| {
            m.insert("state".into(), Value::from("TERMINATED"));
        });
    }
    ws.clusters
        .items
        .insert(Sid::from(keys.cluster_id.as_str()), Cluster::from_doc(doc));
    Ok(())
}

/// Adds one fixture library status entry (`{cluster_id, library_statuses}`).
pub(crate) fn load_libraries(ws: &mut Workspace, raw: &str) -> Result<(), LoadError> {
    #[derive(serde::Deserialize)]
    struct Entry {
        cluster_id: String,
        #[serde(default)]
        library_statuses: Vec<Value>,
    }
    let entry: Entry = serde_json::from_str(raw)?;
    if !ws.clusters.items.contains(&entry.cluster_id) {
        return Err(format!("libraries for unknown cluster `{}`", entry.cluster_id).into());
    }
    if ws
        .clusters
        .libraries
        .insert(entry.cluster_id.clone(), entry.library_statuses)
        .is_some()
    {
        return Err(format!("duplicate libraries for cluster `{}`", entry.cluster_id).into());
    }
    Ok(())
}

/// `{{secrets/scope/key}}` references in a string.
pub(crate) fn secret_refs(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{secrets/") {
        let after = &rest[start + 10..];
        let Some(end) = after.find("}}") else { break };
        if let Some((scope, key)) = after[..end].split_once('/') {
            out.push((scope.trim().to_owned(), key.trim().to_owned()));
        }
        rest = &after[end..];
    }
    out
}

impl Workspace {
    /// What would make a cluster with this spec fail to start: a missing
    /// pool, policy, secret or workspace init script. (code, message).
    pub(crate) fn compute_problem(&self, spec: &Value) -> Option<(&'static str, String)> {
        for field in ["instance_pool_id", "driver_instance_pool_id"] {
            if let Some(pool) = spec
                .get(field)
                .and_then(Value::as_str)
                .filter(|p| !p.is_empty())
            {
                if !self.pools.items.contains(pool) {
                    return Some((
                        "INSTANCE_POOL_NOT_FOUND",
                        format!("Instance pool {pool} does not exist."),
                    ));
                }
            }
        }
        if let Some(policy) = spec
            .get("policy_id")
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty())
        {
            if !self.policies.items.contains(policy) {
                return Some((
                    "INVALID_ARGUMENT",
                    format!("Cluster policy {policy} does not exist."),
                ));
            }
        }
        for field in ["spark_conf", "spark_env_vars"] {
            for value in spec
                .get(field)
                .and_then(Value::as_object)
                .into_iter()
                .flat_map(|m| m.values())
            {
                for (scope, key) in value.as_str().map(secret_refs).unwrap_or_default() {
                    if !self.secrets.has_secret(&scope, &key) {
                        return Some((
                            "SECRET_RESOLUTION_ERROR",
                            format!("Secret does not exist with scope: {scope} and key: {key}"),
                        ));
                    }
                }
            }
        }
        for script in spec
            .get("init_scripts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(dest) = script
                .get("workspace")
                .and_then(|w| w.get("destination"))
                .and_then(Value::as_str)
            {
                if self.objects.get(dest).is_none() {
                    return Some((
                        "INIT_SCRIPT_FAILURE",
                        format!("Init script {dest} does not exist."),
                    ));
                }
            }
        }
        None
    }

    /// Moves a cluster to a new state at `at`, re-rendering its document.
    fn set_cluster_state(
        &mut self,
        id: &str,
        state: CState,
        at: i64,
        message: &str,
        reason: Option<Value>,
    ) {
        let Some(c) = self.clusters.items.get_mut(id) else {
            return;
        };
        c.state = state;
        c.generation += 1;
        c.meter
            .set(if state.holds_nodes() { c.nodes } else { 0 }, at);
        if state == CState::Terminated {
            c.terminated_time = Some(at);
        }
        c.doc.edit(|m| {
            m.insert("state".into(), Value::from(state.as_str()));
            m.insert("state_message".into(), Value::from(message));
            match state {
                CState::Pending => {
                    m.insert("start_time".into(), Value::from(at));
                    m.remove("terminated_time");
                    m.remove("termination_reason");
                }
                CState::Running => {
                    m.insert("last_activity_time".into(), Value::from(at));
                }
                CState::Restarting => {
                    m.insert("last_restarted_time".into(), Value::from(at));
                }
                CState::Terminated => {
                    m.insert("terminated_time".into(), Value::from(at));
                }
                _ => {}
            }
            if let Some(r) = reason {
                m.insert("termination_reason".into(), r);
            }
        });
        let pools: Vec<Box<str>> = c.pool.iter().chain(c.driver_pool.iter()).cloned().collect();
        for pool in pools {
            self.refresh_pool(&pool, at);
        }
    }

    fn cluster_generation(&self, id: &str) -> u64 {
        self.clusters.items.get(id).map_or(0, |c| c.generation)
    }

    /// Starts a cluster from TERMINATED (or a new one from PENDING): the
    /// transition to RUNNING comes `cluster_start_secs` later.
    pub(crate) fn start_cluster(&mut self, id: &str, at: i64) {
        self.set_cluster_state(
            id,
            CState::Pending,
            at,
            "Finding instances for new nodes, acquiring more instances if necessary",
            None,
        );
        let generation = self.cluster_generation(id);
        let delay = self.durations.cluster_start_secs.saturating_mul(1000) as i64;
        self.schedule(
            at,
            delay,
            Event::Cluster {
                id: id.into(),
                generation,
            },
        );
    }

    /// Terminates a cluster (TERMINATING now, TERMINATED `cluster_terminate_secs` later).
    pub(crate) fn terminate_cluster(&mut self, id: &str, at: i64, reason: Value) {
        let Some(state) = self.clusters.state(id) else {
            return;
        };
        if matches!(state, CState::Terminated | CState::Terminating) {
            return;
        }
        self.set_cluster_state(
            id,
            CState::Terminating,
            at,
            "Terminating the cluster",
            Some(reason),
        );
        let generation = self.cluster_generation(id);
        let delay = self.durations.cluster_terminate_secs.saturating_mul(1000) as i64;
        self.schedule(
            at,
            delay,
            Event::Cluster {
                id: id.into(),
                generation,
            },
        );
    }

    /// A cluster's timed transition is due.
    pub(crate) fn cluster_due(&mut self, id: &str, generation: u64, at: i64) {
        let Some(c) = self.clusters.items.get(id) else {
            return;
        };
        if c.generation != generation {
            return;
        }
        match c.state {
            CState::Pending | CState::Restarting => {
                let spec = Value::Object(c.doc.to_map());
                let problem = self.compute_problem(&spec).or_else(|| self.pool_full(id));
                if let Some((code, message)) = problem {
                    let reason = json!({"code": code, "type": "CLIENT_ERROR", "parameters": {"databricks_error_message": message}});
                    self.set_cluster_state(id, CState::Terminated, at, &message, Some(reason));
                    self.runs_cluster_gone(id, at, &message);
                    return;
                }
                self.set_cluster_state(id, CState::Running, at, "", None);
                self.touch_cluster(id, at);
                self.runs_cluster_ready(id, at);
            }
            CState::Terminating => {
                self.set_cluster_state(id, CState::Terminated, at, "", None);
                let message = format!("Cluster {id} was terminated.");
                self.runs_cluster_gone(id, at, &message);
            }
            _ => {}
        }
    }

    /// Records activity on a cluster: auto-termination counts from here.
    pub(crate) fn touch_cluster(&mut self, id: &str, at: i64) {
        let Some(c) = self.clusters.items.get_mut(id) else {
            return;
        };
        c.idle_generation += 1;
        let minutes = c.autotermination_minutes;
        let generation = c.idle_generation;
        if minutes > 0 && &*c.source != "JOB" {
            self.schedule(
                at,
                minutes.saturating_mul(60_000),
                Event::ClusterIdle {
                    id: id.into(),
                    generation,
                },
            );
        }
    }

    /// An auto-termination check is due.
    pub(crate) fn cluster_idle_due(&mut self, id: &str, generation: u64, at: i64) {
        let Some(c) = self.clusters.items.get(id) else {
            return;
        };
        if c.idle_generation != generation || !c.state.is_up() {
            return;
        }
        if self.runs_on_cluster(id) {
            self.touch_cluster(id, at);
            return;
        }
        let minutes = c.autotermination_minutes;
        let reason = json!({"code": "INACTIVITY", "type": "SUCCESS", "parameters": {"inactivity_duration_min": minutes.to_string()}});
        self.terminate_cluster(id, at, reason);
    }

    /// A pool of the cluster has no room for it.
    fn pool_full(&self, id: &str) -> Option<(&'static str, String)> {
        let c = self.clusters.items.get(id)?;
        for pool_id in c.pool.iter().chain(c.driver_pool.iter()) {
            let pool = self.pools.items.get(pool_id)?;
            let Some(max) = pool.max_capacity else {
                continue;
            };
            let used: i64 = self
                .clusters
                .items
                .iter()
                .filter(|(cid, _)| cid.as_str() != id)
                .map(|(_, o)| o.nodes_from(pool_id))
                .fold(0i64, i64::saturating_add);
            if used.saturating_add(c.nodes_from(pool_id)) > max {
                return Some((
                    "INSTANCE_POOL_MAX_CAPACITY_REACHED",
                    format!(
                        "Instance pool {pool_id} has reached its maximum capacity of {max} instances."
                    ),
                ));
            }
        }
        None
    }

    /// Creates the JOB cluster of a run, starting.
    pub(crate) fn create_job_cluster(&mut self, spec: &Value, name: &str, at: i64) -> String {
        let id = self.ids.cluster_id(at);
        let mut map = spec.as_object().cloned().unwrap_or_default();
        map.insert("cluster_id".into(), Value::from(id.clone()));
        map.insert("cluster_name".into(), Value::from(name));
        map.insert("cluster_source".into(), Value::from("JOB"));
        map.insert("creator_user_name".into(), Value::from(self.caller()));
        map.insert("state".into(), Value::from("PENDING"));
        self.clusters.items.insert(
            Sid::from(id.as_str()),
            Cluster::from_doc(Doc::from_map(map)),
        );
        self.start_cluster(&id, at);
        id
    }

    /// After load: clusters caught mid-transition finish it; meters start.
    pub(crate) fn finish_compute(&mut self) {
        let now = self.now();
        let ids: Vec<(String, CState, i64)> = self
            .clusters
            .items
            .iter()
            .map(|(id, c)| (id.as_str().to_owned(), c.state, c.nodes))
            .collect();
        for (id, state, nodes) in ids {
            if let Some(c) = self.clusters.items.get_mut(&id) {
                c.meter
                    .set(if state.holds_nodes() { nodes } else { 0 }, now);
                // A fixture records what `list` returned, so its terminated
                // clusters were listed then: the 30 days count from the load.
                if state == CState::Terminated {
                    c.terminated_time = Some(c.terminated_time.map_or(now, |t| t.max(now)));
                }
            }
            match state {
                CState::Pending | CState::Restarting => {
                    let delay = self.durations.cluster_start_secs.saturating_mul(1000) as i64;
                    self.schedule(
                        now,
                        delay,
                        Event::Cluster {
                            id: id.as_str().into(),
                            generation: 0,
                        },
                    );
                }
                CState::Terminating => {
                    let delay = self.durations.cluster_terminate_secs.saturating_mul(1000) as i64;
                    self.schedule(
                        now,
                        delay,
                        Event::Cluster {
                            id: id.as_str().into(),
                            generation: 0,
                        },
                    );
                }
                CState::Running | CState::Resizing => self.touch_cluster(&id, now),
                _ => {}
            }
        }
        let pools: Vec<String> = self
            .pools
            .items
            .iter()
            .map(|(id, _)| id.as_str().to_owned())
            .collect();
        for pool in pools {
            self.refresh_pool(&pool, now);
        }
        self.finish_warehouses();
    }

    /// Usage so far: node-milliseconds of clusters, idle-instance milliseconds
    /// of pools, running milliseconds of warehouses.
    pub(crate) fn usage(&self) -> Value {
        let now = self.now();
        let clusters: Map<String, Value> = self
            .clusters
            .items
            .iter()
            .map(|(id, c)| {
                (
                    id.as_str().to_owned(),
                    json!({"state": c.state.as_str(), "node_ms": c.meter.read(now)}),
                )
            })
            .collect();
        let pools: Map<String, Value> = self
            .pools
            .items
            .iter()
            .map(|(id, p)| {
                (
                    id.as_str().to_owned(),
                    json!({"idle_count": p.idle.level(), "idle_instance_ms": p.idle.read(now)}),
                )
            })
            .collect();
        json!({"now_ms": now, "clusters": clusters, "instance_pools": pools, "sql_warehouses": self.warehouse_usage(now)})
    }
}

/// The fields of a create or edit request that the server owns.
const SERVER_FIELDS: [&str; 20] = [
    "cluster_id",
    "creator_user_name",
    "cluster_source",
    "state",
    "state_message",
    "start_time",
    "terminated_time",
    "last_state_loss_time",
    "last_restarted_time",
    "last_activity_time",
    "termination_reason",
    "default_tags",
    "spark_context_id",
    "jdbc_port",
    "driver",
    "executors",
    "cluster_memory_mb",
    "cluster_cores",
    "cluster_log_status",
    "spec",
];

/// Checks a create/edit spec; returns it without server-owned fields.
fn check_spec(
    ws: &Workspace,
    mut spec: Map<String, Value>,
) -> Result<Map<String, Value>, StoreError> {
    for f in SERVER_FIELDS {
        spec.remove(f);
    }
    match spec.get("spark_version") {
        Some(Value::String(s)) if !s.is_empty() => {}
        _ => {
            return Err(StoreError::Invalid(
                "Missing required field: spark_version".into(),
            ));
        }
    }
    let has_node = spec
        .get("node_type_id")
        .and_then(Value::as_str)
        .is_some_and(|s| !s.is_empty());
    let has_pool = spec
        .get("instance_pool_id")
        .and_then(Value::as_str)
        .is_some_and(|s| !s.is_empty());
    if !has_node && !has_pool {
        return Err(StoreError::Invalid(
            "Missing required field: node_type_id".into(),
        ));
    }
    if let Some(n) = spec.get("num_workers") {
        if n.as_i64().is_none_or(|n| n < 0) {
            return Err(StoreError::Invalid(
                "num_workers must be a non-negative integer".into(),
            ));
        }
    }
    if let Some(a) = spec.get("autoscale") {
        let min = a.get("min_workers").and_then(Value::as_i64);
        let max = a.get("max_workers").and_then(Value::as_i64);
        if !matches!((min, max), (Some(lo), Some(hi)) if 0 <= lo && lo <= hi) {
            return Err(StoreError::Invalid(
                "autoscale needs 0 <= min_workers <= max_workers".into(),
            ));
        }
    }
    for field in ["instance_pool_id", "driver_instance_pool_id"] {
        if let Some(pool) = spec
            .get(field)
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty())
        {
            if !ws.pools.items.contains(pool) {
                return Err(StoreError::Invalid(format!(
                    "Instance pool {pool} does not exist."
                )));
            }
        }
    }
    if let Some(policy) = spec
        .get("policy_id")
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty())
    {
        if !ws.policies.items.contains(policy) {
            return Err(StoreError::Invalid(format!(
                "Cluster policy {policy} does not exist."
            )));
        }
    }
    if !spec.contains_key("driver_node_type_id") {
        if let Some(n) = spec.get("node_type_id").cloned() {
            spec.insert("driver_node_type_id".into(), n);
        }
    }
    Ok(spec)
}

fn unknown(id: &str) -> StoreError {
    StoreError::UnknownId(format!("Cluster {id} does not exist"))
}

/// `cluster_id` of a POST body.
fn cluster_id_of(body: &Map<String, Value>) -> Result<String, ApiError> {
    match body.get("cluster_id") {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(_) => Err(ApiError::invalid("cluster_id must be a string")),
        None => Err(super::http::missing("cluster_id")),
    }
}

/// The routes, for API versions 2.0 and 2.1.
pub(crate) fn routes() -> Router<MockState> {
    let mut r = Router::new()
        .route("/api/2.0/libraries/all-cluster-statuses", get(all_statuses))
        .route("/api/2.0/libraries/cluster-status", get(cluster_status))
        .route("/api/2.0/libraries/install", post(install))
        .route("/api/2.0/libraries/uninstall", post(uninstall));
    for v in ["2.0", "2.1"] {
        let paged = v == "2.1";
        r = r
            .route(
                &format!("/api/{v}/clusters/list"),
                get(move |st: State<MockState>, q: RawQuery| async move { list(st, q, paged).await }),
            )
            .route(&format!("/api/{v}/clusters/get"), get(get_cluster))
            .route(&format!("/api/{v}/clusters/create"), post(create))
            .route(&format!("/api/{v}/clusters/edit"), post(edit))
            .route(&format!("/api/{v}/clusters/start"), post(start))
            .route(&format!("/api/{v}/clusters/restart"), post(restart))
            .route(&format!("/api/{v}/clusters/delete"), post(delete))
            .route(&format!("/api/{v}/clusters/permanent-delete"), post(permanent_delete))
            .route(&format!("/api/{v}/clusters/resize"), post(resize))
            .route(&format!("/api/{v}/clusters/pin"), post(pin))
            .route(&format!("/api/{v}/clusters/unpin"), post(unpin));
    }
    r
}

/// Clusters `list` shows: active, pinned, or terminated in the last 30 days
/// (of virtual time; for fixture clusters, counted from the load).
fn listed(c: &Cluster, now: i64) -> bool {
    c.pinned
        || c.state != CState::Terminated
        || c.terminated_time.is_none_or(|t| now - t <= 30 * 86_400_000)
}

async fn list(State(st): State<MockState>, RawQuery(q): RawQuery, paged: bool) -> Reply {
    let q = Query::parse(q.as_deref());
    let sources: Vec<&str> = q.all("filter_by.cluster_sources").collect();
    let states: Vec<&str> = q.all("filter_by.cluster_states").collect();
    let pinned = q.bool("filter_by.is_pinned")?;
    let policy = q.get("filter_by.policy_id").filter(|p| !p.is_empty());
    let page_size = match q.i64("page_size")? {
        None | Some(0) => 100,
        Some(n) if (1..=100).contains(&n) => n as usize,
        Some(n) => {
            return Err(ApiError::invalid(format!(
                "page_size must be between 1 and 100, not {n}"
            )));
        }
    };
    let ws = st.read();
    let now = ws.now();
    let keep = |c: &Cluster| {
        listed(c, now)
            && (sources.is_empty() || sources.contains(&&*c.source))
            && (states.is_empty() || states.contains(&c.state.as_str()))
            && pinned.is_none_or(|p| p == c.pinned)
            && policy.is_none_or(|p| c.policy.as_deref() == Some(p))
    };
    let mut out = Out::object();
    if !paged {
        let docs = ws
            .clusters
            .items
            .iter()
            .filter(|(_, c)| keep(c))
            .map(|(_, c)| c.doc.as_str());
        return Ok(out.array_nonempty("clusters", docs).reply());
    }
    let start = match q.get("page_token").filter(|t| !t.is_empty()) {
        Some(t) => ws.clusters.items.lower_bound(&decode_token(t)?),
        None => 0,
    };
    let mut page = Vec::with_capacity(page_size);
    let mut next = None;
    for (id, c) in ws.clusters.items.iter().skip(start) {
        if !keep(c) {
            continue;
        }
        if page.len() == page_size {
            next = Some(encode_token(id.as_str()));
            break;
        }
        page.push(c.doc.as_str());
    }
    out.array_nonempty("clusters", page);
    if let Some(n) = next {
        out.string("next_page_token", &n);
    }
    if start > 0 {
        // A token back to the first page: the mock pages forward only.
        out.string("prev_page_token", &encode_token(""));
    }
    Ok(out.reply())
}

async fn get_cluster(State(st): State<MockState>, RawQuery(q): RawQuery) -> Reply {
    let q = Query::parse(q.as_deref());
    let id = q.required("cluster_id")?;
    let ws = st.read();
    let c = ws.clusters.items.get(id).ok_or_else(|| unknown(id))?;
    Ok(json(c.doc.as_str().to_owned()))
}

async fn create(State(st): State<MockState>, body: Bytes) -> Reply {
    let body = body_object(&body)?;
    let mut ws = st.write();
    let mut spec = check_spec(&ws, body)?;
    let acl = spec.remove("access_control_list");
    let now = ws.now();
    let id = ws.ids.cluster_id(now);
    let caller = ws.caller();
    let name = spec
        .get("cluster_name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    spec.insert("cluster_id".into(), Value::from(id.clone()));
    spec.insert("creator_user_name".into(), Value::from(caller.clone()));
    spec.insert("cluster_source".into(), Value::from("API"));
    spec.insert("state".into(), Value::from("PENDING"));
    spec.insert(
        "default_tags".into(),
        json!({"Vendor": "Databricks", "Creator": caller, "ClusterName": name, "ClusterId": id}),
    );
    ws.clusters.items.insert(
        Sid::from(id.as_str()),
        Cluster::from_doc(Doc::from_map(spec)),
    );
    ws.start_cluster(&id, now);
    ws.init_acl(ObjType::Clusters, &id, acl.as_ref())?;
    ws.settle();
    Ok(json_value(&json!({ "cluster_id": id })))
}

async fn edit(State(st): State<MockState>, body: Bytes) -> Reply {
    let body = body_object(&body)?;
    let id = cluster_id_of(&body)?;
    let mut ws = st.write();
    let old = ws.clusters.items.get(&id).ok_or_else(|| unknown(&id))?;
    let state = old.state;
    if !matches!(state, CState::Running | CState::Terminated) {
        return Err(StoreError::InvalidState(format!(
            "Cluster {id} is in unexpected state {}.",
            state.title()
        ))
        .into());
    }
    let old_map = old.doc.to_map();
    let mut spec = check_spec(&ws, body)?;
    for f in SERVER_FIELDS {
        if let Some(v) = old_map.get(f) {
            spec.insert(f.into(), v.clone());
        }
    }
    let name = spec.get("cluster_name").cloned().unwrap_or(Value::from(""));
    if let Some(Value::Object(tags)) = spec.get_mut("default_tags") {
        tags.insert("ClusterName".into(), name);
    }
    let now = ws.now();
    let (pinned, generation, idle, meter) = {
        let o = ws.clusters.items.get(&id).ok_or_else(|| unknown(&id))?;
        (o.pinned, o.generation, o.idle_generation, o.meter)
    };
    let mut c = Cluster::from_doc(Doc::from_map(spec));
    c.pinned = pinned;
    c.generation = generation;
    c.idle_generation = idle;
    c.meter = meter;
    ws.clusters.items.insert(Sid::from(id.as_str()), c);
    if state == CState::Running {
        ws.set_cluster_state(
            &id,
            CState::Restarting,
            now,
            "Restarting the cluster with the new configuration",
            None,
        );
        let generation = ws.cluster_generation(&id);
        let delay = ws.durations.cluster_start_secs.saturating_mul(1000) as i64;
        ws.schedule(
            now,
            delay,
            Event::Cluster {
                id: id.as_str().into(),
                generation,
            },
        );
    }
    ws.settle();
    Ok(empty())
}

async fn start(State(st): State<MockState>, body: Bytes) -> Reply {
    let id = cluster_id_of(&body_object(&body)?)?;
    let mut ws = st.write();
    let c = ws.clusters.items.get(&id).ok_or_else(|| unknown(&id))?;
    if &*c.source == "JOB" {
        return Err(ApiError::invalid(format!(
            "Cluster {id} is a job cluster and cannot be started."
        )));
    }
    // The API: "if the cluster is not TERMINATED, nothing happens".
    if c.state == CState::Terminated {
        let now = ws.now();
        ws.start_cluster(&id, now);
        ws.settle();
    }
    Ok(empty())
}

async fn restart(State(st): State<MockState>, body: Bytes) -> Reply {
    let id = cluster_id_of(&body_object(&body)?)?;
    let mut ws = st.write();
    let c = ws.clusters.items.get(&id).ok_or_else(|| unknown(&id))?;
    if c.state == CState::Running {
        let now = ws.now();
        ws.set_cluster_state(&id, CState::Restarting, now, "Restarting the cluster", None);
        let generation = ws.cluster_generation(&id);
        let delay = ws.durations.cluster_start_secs.saturating_mul(1000) as i64;
        ws.schedule(
            now,
            delay,
            Event::Cluster {
                id: id.as_str().into(),
                generation,
            },
        );
        ws.settle();
    }
    Ok(empty())
}

async fn delete(State(st): State<MockState>, body: Bytes) -> Reply {
    let id = cluster_id_of(&body_object(&body)?)?;
    let mut ws = st.write();
    if !ws.clusters.items.contains(&id) {
        return Err(unknown(&id).into());
    }
    let now = ws.now();
    let caller = ws.caller();
    ws.terminate_cluster(
        &id,
        now,
        json!({"code": "USER_REQUEST", "type": "SUCCESS", "parameters": {"username": caller}}),
    );
    ws.settle();
    Ok(empty())
}

async fn permanent_delete(State(st): State<MockState>, body: Bytes) -> Reply {
    let id = cluster_id_of(&body_object(&body)?)?;
    let mut ws = st.write();
    if !ws.clusters.items.contains(&id) {
        return Err(unknown(&id).into());
    }
    let now = ws.now();
    let message = format!("Cluster {id} was permanently deleted.");
    ws.set_cluster_state(&id, CState::Terminated, now, &message, None);
    ws.runs_cluster_gone(&id, now, &message);
    ws.clusters.items.remove(id.as_str());
    ws.clusters.libraries.remove(&id);
    ws.permissions.forget(ObjType::Clusters, &id);
    Ok(empty())
}

async fn resize(State(st): State<MockState>, body: Bytes) -> Reply {
    let body = body_object(&body)?;
    let id = cluster_id_of(&body)?;
    let mut ws = st.write();
    let c = ws.clusters.items.get_mut(&id).ok_or_else(|| unknown(&id))?;
    if !c.state.is_up() {
        return Err(StoreError::InvalidState(format!(
            "Cluster {id} is in unexpected state {}.",
            c.state.title()
        ))
        .into());
    }
    let num_workers = body.get("num_workers").cloned();
    let autoscale = body.get("autoscale").cloned();
    if num_workers.is_none() && autoscale.is_none() {
        return Err(ApiError::invalid(
            "Either num_workers or autoscale must be given",
        ));
    }
    c.doc.edit(|m| {
        if let Some(n) = num_workers {
            m.insert("num_workers".into(), n);
            m.remove("autoscale");
        }
        if let Some(a) = autoscale {
            m.insert("autoscale".into(), a);
        }
    });
    let (pinned, generation, idle, meter) = (c.pinned, c.generation, c.idle_generation, c.meter);
    let doc = c.doc.clone();
    let mut fresh = Cluster::from_doc(doc);
    fresh.pinned = pinned;
    fresh.generation = generation;
    fresh.idle_generation = idle;
    fresh.meter = meter;
    let now = ws.now();
    ws.clusters.items.insert(Sid::from(id.as_str()), fresh);
    ws.set_cluster_state(&id, CState::Running, now, "", None);
    Ok(empty())
}

async fn pin(State(st): State<MockState>, body: Bytes) -> Reply {
    set_pinned(&st, &body, true)
}

async fn unpin(State(st): State<MockState>, body: Bytes) -> Reply {
    set_pinned(&st, &body, false)
}

fn set_pinned(st: &MockState, body: &Bytes, pinned: bool) -> Reply {
    let id = cluster_id_of(&body_object(body)?)?;
    let mut ws = st.write();
    ws.clusters
        .items
        .get_mut(&id)
        .ok_or_else(|| unknown(&id))?
        .pinned = pinned;
    Ok(empty())
}

async fn all_statuses(State(st): State<MockState>) -> Reply {
    let ws = st.read();
    let statuses: Vec<Value> = ws
        .clusters
        .libraries
        .iter()
        .filter(|(id, _)| ws.clusters.items.contains(id.as_str()))
        .map(|(id, s)| json!({"cluster_id": id, "library_statuses": s}))
        .collect();
    let mut out = Out::object();
    let texts: Vec<String> = statuses.iter().map(Value::to_string).collect();
    Ok(out
        .array_nonempty("statuses", texts.iter().map(String::as_str))
        .reply())
}

async fn cluster_status(State(st): State<MockState>, RawQuery(q): RawQuery) -> Reply {
    let q = Query::parse(q.as_deref());
    let id = q.required("cluster_id")?;
    let ws = st.read();
    if !ws.clusters.items.contains(id) {
        return Err(unknown(id).into());
    }
    let statuses = ws.clusters.libraries.get(id).cloned().unwrap_or_default();
    let mut reply = json!({"cluster_id": id});
    if !statuses.is_empty() {
        reply["library_statuses"] = Value::Array(statuses);
    }
    Ok(json_value(&reply))
}

#[derive(serde::Deserialize)]
struct LibrariesRequest {
    cluster_id: Option<String>,
    #[serde(default)]
    libraries: Vec<Value>,
}

async fn install(State(st): State<MockState>, body: Bytes) -> Reply {
    let req: LibrariesRequest = super::http::body(&body)?;
    let id = req
        .cluster_id
        .ok_or_else(|| super::http::missing("cluster_id"))?;
    let mut ws = st.write();
    let state = ws.clusters.state(&id).ok_or_else(|| unknown(&id))?;
    let status = if state.is_up() {
        "INSTALLED"
    } else {
        "PENDING"
    };
    let entry = ws.clusters.libraries.entry(id).or_default();
    for lib in req.libraries {
        if !lib.is_object() {
            return Err(ApiError::invalid("Each library must be an object"));
        }
        if !entry.iter().any(|s| s.get("library") == Some(&lib)) {
            entry.push(
                json!({"library": lib, "status": status, "is_library_for_all_clusters": false}),
            );
        }
    }
    Ok(empty())
}

async fn uninstall(State(st): State<MockState>, body: Bytes) -> Reply {
    let req: LibrariesRequest = super::http::body(&body)?;
    let id = req
        .cluster_id
        .ok_or_else(|| super::http::missing("cluster_id"))?;
    let mut ws = st.write();
    if !ws.clusters.items.contains(&id) {
        return Err(unknown(&id).into());
    }
    if let Some(entry) = ws.clusters.libraries.get_mut(&id) {
        entry.retain(|s| !req.libraries.iter().any(|l| s.get("library") == Some(l)));
        if entry.is_empty() {
            ws.clusters.libraries.remove(&id);
        }
    }
    Ok(empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_references_are_found() {
        assert_eq!(
            secret_refs("jdbc:{{secrets/prod-etl/db-user}}:{{secrets/a/b}}"),
            [
                ("prod-etl".to_owned(), "db-user".to_owned()),
                ("a".to_owned(), "b".to_owned())
            ]
        );
        assert!(secret_refs("{{secrets/broken").is_empty());
    }

    #[test]
    fn listed_keeps_recent_terminations() {
        let mut c = Cluster::from_doc(Doc::from_value(
            &json!({"cluster_id": "a", "state": "TERMINATED", "terminated_time": 0}),
        ));
        assert!(!listed(&c, 31 * 86_400_000));
        assert!(listed(&c, 29 * 86_400_000));
        c.pinned = true;
        assert!(listed(&c, 31 * 86_400_000));
    }
}
