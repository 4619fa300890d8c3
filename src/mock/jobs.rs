//! Jobs: `/api/2.0|2.1|2.2/jobs/list|get|create|reset|update|delete`.
//!
//! Each job keeps three renderings, so reads copy text: the list item with
//! tasks (`expand_tasks=true`), the list item without tasks and job clusters,
//! and `run_as_user_name`, which only `get` shows. Version 2.2 pages the
//! arrays of a job (`tasks`, `job_clusters`, `parameters`, `environments`)
//! 100 at a time, in `get` through `page_token` (omitted on the last page)
//! and in `list` by truncating with `has_more: true`. An unknown `job_id` is
//! 400 `INVALID_PARAMETER_VALUE` "Job <id> does not exist.", as the service
//! answers. Schedules and periodic triggers fire on the virtual clock unless
//! paused.

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::routing::{get, post};
use bytes::Bytes;
use serde_json::{Map, Value, json};

use super::canon::{Member, canonical_object, join_members, push_members};
use super::error::{ApiError, StoreError};
use super::fixture::LoadError;
use super::http::{Out, Query, Reply, body_object, empty, json_bytes, json_value};
use super::permissions::ObjType;
use super::schedule::Timing;
use super::state::MockState;
use super::store::{Coll, Doc, Event, FastMap, Workspace, decode_token, encode_token};

/// Arrays that version 2.2 pages.
const PAGED: [&str; 4] = ["tasks", "job_clusters", "parameters", "environments"];

/// Items of a paged array per page.
const ARRAY_PAGE: usize = 100;

/// One job.
#[derive(Debug)]
#[cfg_attr(test, derive(PartialEq))]
pub(crate) struct Job {
    /// The `get` reply with every array whole: the list item with
    /// `run_as_user_name` spliced in first, as shared bytes, so a `get`
    /// copies nothing.
    full: Bytes,
    /// Where the list item's members start in `full` (after its `{` and
    /// the spliced `run_as_user_name`): the list item is `{` and the rest.
    members: usize,
    /// `run_as_user_name` as JSON text.
    run_as: Option<Box<str>>,
    /// The list item without tasks and job clusters.
    /// The list item without tasks and job clusters, rendered when first
    /// listed (loading a large fixture does not spend its time on it).
    summary: std::sync::OnceLock<Doc>,
    /// The list item with arrays cut to 100 and `has_more`, when any is longer.
    truncated: Option<Doc>,
    pub(crate) name: Box<str>,
    pub(crate) max_concurrent_runs: i64,
    pub(crate) queue: bool,
    pub(crate) timing: Option<Timing>,
    pub(crate) generation: u64,
}

impl Job {
    /// Renders a job from its `get` shape.
    fn build(mut map: Map<String, Value>) -> Job {
        let run_as = map
            .remove("run_as_user_name")
            .map(|v| v.to_string().into_boxed_str());
        map.remove("has_more");
        map.remove("next_page_token");
        let created = map.get("created_time").and_then(Value::as_i64).unwrap_or(0);
        let empty = Value::Object(Map::new());
        let settings = map.get("settings").unwrap_or(&empty);
        let name = settings
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("Untitled")
            .into();
        let max_concurrent_runs = settings
            .get("max_concurrent_runs")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        let queue = settings
            .get("queue")
            .and_then(|q| q.get("enabled"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let timing = Timing::of_settings(settings, created);
        let long = PAGED.iter().any(|f| {
            settings
                .get(*f)
                .and_then(Value::as_array)
                .is_some_and(|a| a.len() > ARRAY_PAGE)
        });
        let truncated = long.then(|| {
            let mut t = map.clone();
            if let Some(Value::Object(s)) = t.get_mut("settings") {
                for f in PAGED {
                    if let Some(Value::Array(a)) = s.get_mut(f) {
                        a.truncate(ARRAY_PAGE);
                    }
                }
            }
            t.insert("has_more".into(), Value::Bool(true));
            Doc::from_map(t)
        });
        // The summary is the job without tasks and job clusters: take them
        // out, render, and put them back (no deep copy).
        let mut removed = Vec::new();
        if let Some(Value::Object(s)) = map.get_mut("settings") {
            for f in ["tasks", "job_clusters"] {
                if let Some(v) = s.remove(f) {
                    removed.push((f, v));
                }
            }
        }
        let summary = Doc::from_map_ref(&map);
        if let Some(Value::Object(s)) = map.get_mut("settings") {
            for (f, v) in removed {
                s.insert(f.into(), v);
            }
        }
        let base = serde_json::to_string(&map).unwrap_or_else(|_| "{}".to_owned());
        let (full, members) = splice_run_as(base, run_as.as_deref());
        Job {
            full,
            members,
            run_as,
            summary: summary.into(),
            truncated,
            name,
            max_concurrent_runs,
            queue,
            timing,
            generation: 0,
        }
    }

    /// Renders a job from its `get` shape as canonical text (see
    /// [`super::canon`]), without building a `Value`: the same job
    /// [`Job::build`] makes of the parsed text. `None` when the text is not
    /// canonical, has no integer `job_id`, settings that are not an object,
    /// or an array long enough to be paged: the general path handles those
    /// (and reports what is wrong).
    fn from_canonical(raw: &str) -> Option<(i64, Job)> {
        let (top, settings) = canonical_object(raw, "settings")?;
        let member = |key: &str| top.iter().find(|m| m.key == key);
        let setting = |key: &str| settings.iter().find(|m| m.key == key);
        let id: i64 = member("job_id")?.value.parse().ok()?;
        if member("settings").is_some_and(|m| !m.value.starts_with('{')) {
            return None;
        }
        let long = settings
            .iter()
            .any(|m| PAGED.contains(&m.key) && m.value.starts_with('[') && m.items > ARRAY_PAGE);
        if long {
            return None;
        }
        // `Value::as_i64` and friends, on the members' text.
        let int = |m: Option<&Member<'_>>| m.and_then(|m| m.value.parse::<i64>().ok());
        let created = int(member("created_time")).unwrap_or(0);
        let name = match setting("name") {
            Some(m) if m.value.starts_with('"') => serde_json::from_str::<String>(m.value).ok()?,
            _ => "Untitled".to_owned(),
        };
        let max_concurrent_runs = int(setting("max_concurrent_runs")).unwrap_or(1);
        let small = |key: &str| -> Option<Option<Value>> {
            setting(key)
                .map(|m| serde_json::from_str::<Value>(m.value).ok())
                .map_or(Some(None), |v| v.map(Some))
        };
        let queue = small("queue")?
            .and_then(|q| q.get("enabled").and_then(Value::as_bool))
            .unwrap_or(false);
        // A schedule reads only these two settings.
        let mut timed = Map::new();
        for key in ["schedule", "trigger"] {
            if let Some(v) = small(key)? {
                timed.insert(key.to_owned(), v);
            }
        }
        let timing = Timing::of_settings(&Value::Object(timed), created);
        let dropped =
            |m: &Member<'_>| matches!(m.key, "run_as_user_name" | "has_more" | "next_page_token");
        let run_as: Option<Box<str>> = member("run_as_user_name").map(|m| m.value.into());
        // Written straight after the opening: the job texts are most of a
        // large fixture, copied once. The same members as `raw`, reordered,
        // less any dropped: `raw.len()` is room enough, and exact (no slack
        // for `Bytes` to keep) unless a member is dropped.
        let mut full = String::with_capacity(raw.len());
        let opened = open_job(&mut full, run_as.as_deref());
        push_members(&mut full, &top, |m| (!dropped(m)).then(|| m.value.into()));
        let members = close_job(&mut full, opened);
        let full = Bytes::from(full);
        let job = Job {
            full,
            members,
            run_as,
            summary: std::sync::OnceLock::new(),
            truncated: None,
            name: name.into(),
            max_concurrent_runs,
            queue,
            timing,
            generation: 0,
        };
        Some((id, job))
    }

    /// The list item without tasks and job clusters.
    fn summary(&self) -> &str {
        self.summary
            .get_or_init(|| {
                let base = format!("{{{}", self.base_rest());
                if let Some((top, settings)) = canonical_object(&base, "settings") {
                    let mut out = String::with_capacity(base.len());
                    join_members(&mut out, &top, |m| {
                        if m.key != "settings" {
                            return Some(m.value.into());
                        }
                        let mut s = String::with_capacity(m.value.len());
                        join_members(&mut s, &settings, |n| {
                            (!matches!(n.key, "tasks" | "job_clusters")).then(|| n.value.into())
                        });
                        Some(s.into())
                    });
                    return Doc::canonical(out);
                }
                // Text a `Value` would print otherwise (floats): through one.
                let mut map: Map<String, Value> = serde_json::from_str(&base).unwrap_or_default();
                if let Some(Value::Object(s)) = map.get_mut("settings") {
                    s.remove("tasks");
                    s.remove("job_clusters");
                }
                Doc::from_map(map)
            })
            .as_str()
    }

    /// The `get` shape, whole.
    pub(crate) fn full_text(&self) -> String {
        String::from_utf8_lossy(&self.full).into_owned()
    }

    /// The list item with every array whole, after its `{`.
    fn base_rest(&self) -> &str {
        // Always valid: `full` was made from a `String`.
        self.full
            .get(self.members..)
            .and_then(|rest| std::str::from_utf8(rest).ok())
            .unwrap_or("}")
    }

    /// The list item with every array whole, as a map.
    fn base_map(&self) -> Map<String, Value> {
        serde_json::from_str(&format!("{{{}", self.base_rest())).unwrap_or_default()
    }

    /// The job's settings.
    pub(crate) fn settings(&self) -> Value {
        self.base_map()
            .remove("settings")
            .unwrap_or(Value::Object(Map::new()))
    }

    /// `run_as_user_name`, if set.
    pub(crate) fn run_as(&self) -> Option<String> {
        self.run_as
            .as_deref()
            .and_then(|r| serde_json::from_str::<String>(r).ok())
    }
}

/// The opening of a job's text with `run_as_user_name` spliced in.
const RUN_AS_KEY: &str = "{\"run_as_user_name\":";

/// Opens a job's text: `{`, or `{"run_as_user_name":…,` when set; returns
/// where the object's own members start.
fn open_job(out: &mut String, run_as: Option<&str>) -> usize {
    match run_as {
        Some(r) => {
            out.push_str(RUN_AS_KEY);
            out.push_str(r);
            out.push(',');
        }
        None => out.push('{'),
    }
    out.len()
}

/// Closes a text [`open_job`] opened, after its members (if any); returns
/// where they start: the list item is `{` and the text from there.
fn close_job(out: &mut String, members: usize) -> usize {
    if out.len() == members && out.ends_with(',') {
        // `run_as_user_name` alone: no comma after it, and no members.
        out.pop();
        out.push('}');
        return out.len() - 1;
    }
    out.push('}');
    members
}

/// Adds `"run_as_user_name": …` at the front of an object's text; returns
/// the text and where the object's own members start in it.
fn splice_run_as(base: String, run_as: Option<&str>) -> (Bytes, usize) {
    if run_as.is_none() {
        return (Bytes::from(base), 1);
    }
    let inner = base.get(1..base.len().saturating_sub(1)).unwrap_or("");
    let room = RUN_AS_KEY.len() + run_as.map_or(0, str::len) + base.len();
    let mut out = String::with_capacity(room);
    let opened = open_job(&mut out, run_as);
    out.push_str(inner);
    let members = close_job(&mut out, opened);
    (Bytes::from(out), members)
}

/// Every job.
#[derive(Debug, Default)]
pub(crate) struct JobStore {
    pub(crate) items: Coll<i64, Job>,
    /// Lower-cased name → job ids, for `list?name=`.
    by_name: FastMap<Box<str>, Vec<i64>>,
}

impl JobStore {
    fn put(&mut self, id: i64, job: Job) -> u64 {
        let mut generation = 0;
        if self.items.contains(&id) {
            generation = self.items.get(&id).map_or(0, |old| old.generation + 1);
            self.unindex(id);
        }
        let key: Box<str> = job.name.to_lowercase().into();
        let ids = self.by_name.entry(key).or_default();
        if let Err(i) = ids.binary_search(&id) {
            ids.insert(i, id);
        }
        let mut job = job;
        job.generation = generation;
        self.items.insert(id, job);
        generation
    }

    fn unindex(&mut self, id: i64) {
        if let Some(old) = self
            .items
            .contains(&id)
            .then(|| self.items.get(&id))
            .flatten()
        {
            let key = old.name.to_lowercase();
            if let Some(ids) = self.by_name.get_mut(key.as_str()) {
                ids.retain(|j| *j != id);
                if ids.is_empty() {
                    self.by_name.remove(key.as_str());
                }
            }
        }
    }

    /// Every job in its `get` shape, for dumps.
    pub(crate) fn dump(&self) -> Vec<String> {
        self.items.iter().map(|(_, j)| j.full_text()).collect()
    }
}

/// Adds one fixture job (the `get` shape).
pub(crate) fn load(ws: &mut Workspace, raw: &str) -> Result<(), LoadError> {
    if let Some((id, job)) = Job::from_canonical(raw) {
        // The checks below, in their order: only the duplicate can fail here.
        if ws.jobs.items.contains(&id) {
            return Err(format!("duplicate `job_id` {id}").into());
        }
        ws.ids.job = ws.ids.job.max(id.saturating_add(1));
        ws.jobs.put(id, job);
        return Ok(());
    }
    let map: Map<String, Value> = serde_json::from_str(raw)?;
    let id = map
        .get("job_id")
        .and_then(Value::as_i64)
        .ok_or("missing integer `job_id`".to_owned())?;
    if !map.get("settings").is_none_or(Value::is_object) {
        return Err("`settings` must be an object".to_owned().into());
    }
    if ws.jobs.items.contains(&id) {
        return Err(format!("duplicate `job_id` {id}").into());
    }
    ws.ids.job = ws.ids.job.max(id.saturating_add(1));
    ws.jobs.put(id, Job::build(map));
    Ok(())
}

impl Workspace {
    /// After load: schedules of unpaused jobs start from the current time.
    pub(crate) fn finish_jobs(&mut self) {
        let ids: Vec<i64> = self
            .jobs
            .items
            .iter()
            .filter(|(_, j)| j.timing.is_some())
            .map(|(id, _)| *id)
            .collect();
        let now = self.now();
        for id in ids {
            self.arm_schedule(id, now);
        }
        self.finish_runs();
    }

    /// Queues a job's next scheduled firing after `after`.
    pub(crate) fn arm_schedule(&mut self, job_id: i64, after: i64) {
        let Some(job) = self.jobs.items.get(&job_id) else {
            return;
        };
        let Some(next) = job.timing.as_ref().and_then(|t| t.next_after(after)) else {
            return;
        };
        let generation = job.generation;
        self.schedule(next, 0, Event::Schedule { job_id, generation });
    }

    /// A job's schedule fires.
    pub(crate) fn schedule_due(&mut self, job_id: i64, generation: u64, at: i64) {
        let Some(job) = self.jobs.items.get(&job_id) else {
            return;
        };
        if job.generation != generation || job.timing.is_none() {
            return;
        }
        let _ = self.trigger_run(job_id, "PERIODIC", Value::Null, at);
        self.arm_schedule(job_id, at);
    }
}

/// Makes settings complete as the service stores them, and checks them.
fn normalize_settings(mut settings: Map<String, Value>) -> Result<Map<String, Value>, StoreError> {
    let invalid = |m: String| Err(StoreError::Invalid(m));
    match settings.get("name") {
        None | Some(Value::Null) => {
            settings.insert("name".into(), Value::from("Untitled"));
        }
        Some(Value::String(_)) => {}
        Some(_) => return invalid("name must be a string".into()),
    }
    match settings.get("max_concurrent_runs") {
        None | Some(Value::Null) => {
            settings.insert("max_concurrent_runs".into(), Value::from(1));
        }
        Some(v) => match v.as_i64() {
            Some(n) if (0..=1000).contains(&n) => {}
            _ => {
                return invalid(format!(
                    "max_concurrent_runs must be an integer between 0 and 1000, not {v}"
                ));
            }
        },
    }
    for (field, key) in [("tasks", "task_key"), ("job_clusters", "job_cluster_key")] {
        let Some(items) = settings.get(field) else {
            continue;
        };
        let Some(items) = items.as_array() else {
            return invalid(format!("{field} must be an array"));
        };
        let mut seen = Vec::new();
        for item in items {
            let Some(k) = item
                .get(key)
                .and_then(Value::as_str)
                .filter(|k| !k.is_empty())
            else {
                return invalid(format!("Missing required field: {field}.{key}"));
            };
            if seen.contains(&k) {
                return invalid(format!("{key} {k} is not unique"));
            }
            seen.push(k);
        }
    }
    let cluster_keys: Vec<String> = settings
        .get("job_clusters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| {
            c.get("job_cluster_key")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .collect();
    let task_keys: Vec<String> = settings
        .get("tasks")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| t.get("task_key").and_then(Value::as_str).map(str::to_owned))
        .collect();
    for task in settings
        .get("tasks")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(k) = task.get("job_cluster_key").and_then(Value::as_str) {
            if !cluster_keys.iter().any(|c| c == k) {
                return invalid(format!(
                    "The job cluster key {k} is not defined in job_clusters"
                ));
            }
        }
        for dep in task
            .get("depends_on")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(d) = dep.get("task_key").and_then(Value::as_str) {
                if !task_keys.iter().any(|t| t == d) {
                    return invalid(format!("Task dependency {d} is not a task of this job"));
                }
            }
        }
    }
    if let Some(s) = settings.get("schedule").filter(|s| !s.is_null()) {
        if !s
            .get("quartz_cron_expression")
            .is_some_and(Value::is_string)
            || !s.get("timezone_id").is_some_and(Value::is_string)
        {
            return invalid("schedule needs quartz_cron_expression and timezone_id".into());
        }
        if let Some(p) = s.get("pause_status") {
            if p != "PAUSED" && p != "UNPAUSED" {
                return invalid(format!("Invalid pause_status: {p}"));
            }
        }
    }
    settings
        .entry("email_notifications")
        .or_insert_with(|| json!({}));
    settings
        .entry("webhook_notifications")
        .or_insert_with(|| json!({}));
    settings
        .entry("timeout_seconds")
        .or_insert_with(|| json!(0));
    settings
        .entry("format")
        .or_insert_with(|| json!("MULTI_TASK"));
    Ok(settings)
}

/// `run_as_user_name` for settings: the `run_as` principal, else the creator.
fn run_as_name(settings: &Map<String, Value>, creator: &str) -> String {
    settings
        .get("run_as")
        .and_then(|r| {
            r.get("user_name")
                .or_else(|| r.get("service_principal_name"))
        })
        .and_then(Value::as_str)
        .unwrap_or(creator)
        .to_owned()
}

/// `Job <id> does not exist.`
pub(crate) fn unknown(id: i64) -> StoreError {
    StoreError::UnknownId(format!("Job {id} does not exist."))
}

/// `job_id` of a POST body.
pub(crate) fn job_id_of(body: &Map<String, Value>) -> Result<i64, ApiError> {
    match body.get("job_id") {
        None | Some(Value::Null) => Err(super::http::missing("job_id")),
        Some(v) => v
            .as_i64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .ok_or_else(|| ApiError::invalid(format!("Invalid job_id: {v}"))),
    }
}

/// The routes, for API versions 2.0, 2.1 and 2.2.
pub(crate) fn routes() -> Router<MockState> {
    let mut r = Router::new();
    for (v, version) in [("2.0", 20u8), ("2.1", 21), ("2.2", 22)] {
        r = r
            .route(
                &format!("/api/{v}/jobs/list"),
                get(move |st: State<MockState>, q: RawQuery| async move { list(st, q, version).await }),
            )
            .route(
                &format!("/api/{v}/jobs/get"),
                get(move |st: State<MockState>, q: RawQuery| async move { get_job(st, q, version).await }),
            )
            .route(&format!("/api/{v}/jobs/create"), post(create))
            .route(&format!("/api/{v}/jobs/reset"), post(reset))
            .route(&format!("/api/{v}/jobs/update"), post(update))
            .route(&format!("/api/{v}/jobs/delete"), post(delete));
    }
    r
}

async fn list(State(st): State<MockState>, RawQuery(q): RawQuery, version: u8) -> Reply {
    let q = Query::parse(q.as_deref());
    let limit = match q.i64("limit")? {
        None | Some(0) => 20,
        Some(n) if (1..=100).contains(&n) => n as usize,
        Some(n) => {
            return Err(ApiError::invalid(format!(
                "Invalid limit {n}: limit must be between 1 and 100"
            )));
        }
    };
    let offset = q.i64("offset")?.unwrap_or(0);
    if offset < 0 {
        return Err(ApiError::invalid("offset must not be negative"));
    }
    let expand = version == 20 || q.bool("expand_tasks")?.unwrap_or(false);
    let token = q.get("page_token").filter(|t| !t.is_empty());
    let name = q.get("name").filter(|n| !n.is_empty());
    let ws = st.read();
    // The ids in order: all jobs, or those with the name.
    let named: Option<&[i64]> = name.map(|n| {
        ws.jobs
            .by_name
            .get(n.to_lowercase().as_str())
            .map_or(&[][..], Vec::as_slice)
    });
    let total = named.map_or(ws.jobs.items.len(), <[i64]>::len);
    let start = match token {
        Some(t) => {
            let key: i64 = decode_token(t)?
                .parse()
                .map_err(|_| ApiError::invalid(format!("Invalid page token: {t}")))?;
            match named {
                Some(ids) => ids.partition_point(|id| *id < key),
                None => ws.jobs.items.lower_bound(&key),
            }
        }
        None => offset as usize,
    };
    let id_at = |i: usize| -> Option<i64> {
        match named {
            Some(ids) => ids.get(i).copied(),
            None => ws.jobs.items.key_at(i).copied(),
        }
    };
    // Each item in two pieces: the whole list item is `{` and the rest.
    let mut docs = Vec::with_capacity(limit);
    for i in start..start.saturating_add(limit).min(total) {
        let Some(job) = id_at(i).and_then(|id| ws.jobs.items.get(&id)) else {
            continue;
        };
        let doc = match (&job.truncated, expand) {
            (_, false) => ("", job.summary()),
            (Some(t), true) if version == 22 => ("", t.as_str()),
            _ => ("{", job.base_rest()),
        };
        docs.push(doc);
    }
    let end = start.saturating_add(limit).min(total);
    let mut out = Out::object();
    out.array_pieces("jobs", docs)
        .value("has_more", &Value::Bool(end < total));
    if end < total {
        if let Some(next) = id_at(end) {
            out.string("next_page_token", &encode_token(&next.to_string()));
        }
    }
    if start > 0 && token.is_some() {
        if let Some(prev) = id_at(start.saturating_sub(limit)) {
            out.string("prev_page_token", &encode_token(&prev.to_string()));
        }
    }
    Ok(out.reply())
}

async fn get_job(State(st): State<MockState>, RawQuery(q): RawQuery, version: u8) -> Reply {
    let q = Query::parse(q.as_deref());
    let id = q.required_i64("job_id")?;
    let ws = st.read();
    let job = ws.jobs.items.get(&id).ok_or_else(|| unknown(id))?;
    if version != 22 || job.truncated.is_none() {
        return Ok(json_bytes(job.full.clone()));
    }
    // 2.2: the arrays 100 at a time.
    let page: usize = match q.get("page_token").filter(|t| !t.is_empty()) {
        Some(t) => decode_token(t)?
            .parse()
            .map_err(|_| ApiError::invalid(format!("Invalid page token: {t}")))?,
        None => 0,
    };
    let mut map = job.base_map();
    let mut more = false;
    if let Some(Value::Object(settings)) = map.get_mut("settings") {
        for f in PAGED {
            if let Some(Value::Array(items)) = settings.get_mut(f) {
                let from = page.saturating_mul(ARRAY_PAGE).min(items.len());
                let to = (from + ARRAY_PAGE).min(items.len());
                more |= to < items.len();
                *items = items[from..to].to_vec();
            }
        }
    }
    if more {
        map.insert(
            "next_page_token".into(),
            Value::from(encode_token(&(page + 1).to_string())),
        );
    }
    let (text, _) = splice_run_as(Value::Object(map).to_string(), job.run_as.as_deref());
    Ok(json_bytes(text))
}

async fn create(State(st): State<MockState>, body: Bytes) -> Reply {
    let mut settings = body_object(&body)?;
    let acl = settings.remove("access_control_list");
    let settings = normalize_settings(settings)?;
    let mut ws = st.write();
    let id = ws.ids.job_id();
    let creator = ws.caller();
    let now = ws.now();
    let run_as = run_as_name(&settings, &creator);
    let map = json!({
        "job_id": id,
        "creator_user_name": creator,
        "run_as_user_name": run_as,
        "created_time": now,
        "settings": settings,
    });
    let Value::Object(map) = map else {
        return Err(ApiError::internal("job rendering failed"));
    };
    ws.jobs.put(id, Job::build(map));
    if let Err(e) = ws.init_acl(ObjType::Jobs, &id.to_string(), acl.as_ref()) {
        ws.jobs.unindex(id);
        ws.jobs.items.remove(&id);
        return Err(e.into());
    }
    ws.arm_schedule(id, now);
    Ok(json_value(&json!({ "job_id": id })))
}

/// Replaces a job's settings, keeping its identity.
fn replace_settings(ws: &mut Workspace, id: i64, settings: Map<String, Value>) {
    let Some(job) = ws.jobs.items.get(&id) else {
        return;
    };
    let mut map = job.base_map();
    let creator = map
        .get("creator_user_name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    map.insert(
        "run_as_user_name".into(),
        Value::from(run_as_name(&settings, &creator)),
    );
    map.insert("settings".into(), Value::Object(settings));
    ws.jobs.put(id, Job::build(map));
    let now = ws.now();
    ws.arm_schedule(id, now);
}

#[derive(serde::Deserialize)]
struct ResetRequest {
    new_settings: Option<Map<String, Value>>,
    #[serde(default)]
    fields_to_remove: Vec<String>,
}

async fn reset(State(st): State<MockState>, body: Bytes) -> Reply {
    let map = body_object(&body)?;
    let id = job_id_of(&map)?;
    let req: ResetRequest = super::http::body(&body)?;
    let settings = normalize_settings(
        req.new_settings
            .ok_or_else(|| super::http::missing("new_settings"))?,
    )?;
    let mut ws = st.write();
    if !ws.jobs.items.contains(&id) {
        return Err(unknown(id).into());
    }
    replace_settings(&mut ws, id, settings);
    Ok(empty())
}

/// Merges an array of objects by a key: same key replaces, new keys append.
fn merge_by_key(old: &mut Vec<Value>, new: Vec<Value>, key: &str) {
    for item in new {
        let k = item.get(key).cloned();
        match old
            .iter_mut()
            .find(|o| k.is_some() && o.get(key) == k.as_ref())
        {
            Some(slot) => *slot = item,
            None => old.push(item),
        }
    }
}

async fn update(State(st): State<MockState>, body: Bytes) -> Reply {
    let map = body_object(&body)?;
    let id = job_id_of(&map)?;
    let req: ResetRequest = super::http::body(&body)?;
    let mut ws = st.write();
    let job = ws.jobs.items.get(&id).ok_or_else(|| unknown(id))?;
    let mut settings = match job.settings() {
        Value::Object(s) => s,
        _ => Map::new(),
    };
    for (field, value) in req.new_settings.unwrap_or_default() {
        let key = match field.as_str() {
            "tasks" => Some("task_key"),
            "job_clusters" => Some("job_cluster_key"),
            _ => None,
        };
        match (key, value) {
            (Some(k), Value::Array(items)) => {
                let slot = settings
                    .entry(field)
                    .or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(old) = slot {
                    merge_by_key(old, items, k);
                }
            }
            (_, value) => {
                settings.insert(field, value);
            }
        }
    }
    for path in &req.fields_to_remove {
        match path.split_once('/') {
            Some((field @ ("tasks" | "job_clusters"), k)) => {
                let key = if field == "tasks" {
                    "task_key"
                } else {
                    "job_cluster_key"
                };
                if let Some(Value::Array(items)) = settings.get_mut(field) {
                    items.retain(|i| i.get(key).and_then(Value::as_str) != Some(k));
                }
            }
            Some(_) => {
                return Err(ApiError::invalid(format!(
                    "Invalid field to remove: {path}"
                )));
            }
            None => {
                settings.remove(path);
            }
        }
    }
    let settings = normalize_settings(settings)?;
    replace_settings(&mut ws, id, settings);
    Ok(empty())
}

async fn delete(State(st): State<MockState>, body: Bytes) -> Reply {
    let map = body_object(&body)?;
    let id = job_id_of(&map)?;
    let mut ws = st.write();
    if !ws.jobs.items.contains(&id) {
        return Err(unknown(id).into());
    }
    let now = ws.now();
    ws.cancel_job_runs(id, now, false);
    ws.jobs.unindex(id);
    ws.jobs.items.remove(&id);
    ws.permissions.forget(ObjType::Jobs, &id.to_string());
    ws.settle();
    Ok(empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_as_is_spliced_into_get() {
        let spliced = |base: &str, run_as| {
            let (text, members) = splice_run_as(base.to_owned(), run_as);
            let text = String::from_utf8(text.to_vec()).unwrap();
            let item = format!("{{{}", &text[members..]);
            (text, item)
        };
        let a = Some(r#""a@x.com""#);
        assert_eq!(
            spliced(r#"{"job_id":1}"#, a),
            (
                r#"{"run_as_user_name":"a@x.com","job_id":1}"#.to_owned(),
                r#"{"job_id":1}"#.to_owned()
            )
        );
        assert_eq!(
            spliced("{}", a),
            (
                r#"{"run_as_user_name":"a@x.com"}"#.to_owned(),
                "{}".to_owned()
            )
        );
        assert_eq!(
            spliced(r#"{"job_id":1}"#, None),
            (r#"{"job_id":1}"#.to_owned(), r#"{"job_id":1}"#.to_owned())
        );
    }

    #[test]
    fn long_jobs_are_truncated_in_lists_and_summaries_drop_tasks() {
        let tasks: Vec<Value> = (0..150)
            .map(|i| json!({"task_key": format!("t{i}")}))
            .collect();
        let map = json!({"job_id": 5, "run_as_user_name": "a", "settings": {"name": "big", "tasks": tasks}});
        let job = Job::build(map.as_object().unwrap().clone());
        let truncated: Value =
            serde_json::from_str(job.truncated.as_ref().unwrap().as_str()).unwrap();
        assert_eq!(
            truncated["settings"]["tasks"].as_array().unwrap().len(),
            100
        );
        assert_eq!(truncated["has_more"], true);
        assert!(!job.summary().contains("tasks"));
        assert!(!job.base_rest().contains("run_as_user_name"));
        assert!(job.full_text().starts_with(r#"{"run_as_user_name":"a","#));
    }

    #[test]
    fn canonical_jobs_build_as_parsed_ones_do() {
        let spec = crate::mock::generate::GenerateSpec::default();
        let fixture = crate::mock::generate::generate(&spec);
        let mut texts: Vec<String> = fixture["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .map(Value::to_string)
            .collect();
        assert!(!texts.is_empty());
        let tasks: Vec<Value> = (0..101)
            .map(|i| json!({"task_key": format!("t{i:03}")}))
            .collect();
        for v in [
            json!({"job_id": 7}),
            json!({"job_id": 7, "settings": {}}),
            json!({"job_id": -7, "created_time": "x", "has_more": true, "next_page_token": "a",
                   "settings": {"name": "a\"b\u{1}é", "queue": {"enabled": false}, "max_concurrent_runs": true,
                                "trigger": {"periodic": {"interval": 2, "unit": "HOURS"}},
                                "tasks": [{"task_key": "x"}], "job_clusters": []}}),
            json!({"job_id": 8, "run_as_user_name": "r", "created_time": 5,
                   "settings": {"name": 5, "queue": true, "schedule": {"quartz_cron_expression": "0 0 2 * * ?"}}}),
            json!({"job_id": 9, "settings": {"tasks": tasks}}),
            json!({"job_id": 9, "settings": null}),
            json!({"job_id": "9"}),
        ] {
            texts.push(v.to_string());
        }
        texts.push(r#"{"job_id": 10}"#.to_owned());
        texts.push(r#"{"settings":{},"job_id":11}"#.to_owned());
        texts.push(r#"{"job_id":12,"settings":{"name":"\u0041"}}"#.to_owned());
        let mut fast = 0;
        for text in &texts {
            let Some((id, job)) = Job::from_canonical(text) else {
                continue;
            };
            fast += 1;
            let map: Map<String, Value> = serde_json::from_str(text).unwrap();
            assert_eq!(
                map.get("job_id").and_then(Value::as_i64),
                Some(id),
                "{text}"
            );
            let built = Job::build(map);
            assert_eq!(job.summary(), built.summary(), "{text}");
            assert_eq!(job, built, "{text}");
        }
        // The generator's jobs and the canonical variants above take the fast path.
        assert_eq!(fast, texts.len() - 6, "{texts:#?}");
    }

    #[test]
    fn run_as_is_spliced_in_front() {
        let cases = [
            ("{}", None, "{}", "{}"),
            (r#"{"a":1}"#, None, r#"{"a":1}"#, r#"{"a":1}"#),
            ("{}", Some(r#""r""#), r#"{"run_as_user_name":"r"}"#, "{}"),
            (
                r#"{"a":1,"b":2}"#,
                Some(r#""r""#),
                r#"{"run_as_user_name":"r","a":1,"b":2}"#,
                r#"{"a":1,"b":2}"#,
            ),
        ];
        for (base, run_as, full, item) in cases {
            let (bytes, members) = splice_run_as(base.to_owned(), run_as);
            let text = std::str::from_utf8(&bytes).unwrap();
            assert_eq!(text, full);
            assert_eq!(format!("{{{}", &text[members..]), item, "{base} {run_as:?}");
        }
    }

    #[test]
    fn settings_are_checked() {
        let ok = normalize_settings(json!({"name": "a"}).as_object().unwrap().clone()).unwrap();
        assert_eq!(ok["max_concurrent_runs"], 1);
        assert_eq!(ok["format"], "MULTI_TASK");
        let bad = |v: Value| normalize_settings(v.as_object().unwrap().clone()).is_err();
        assert!(bad(json!({"max_concurrent_runs": 1001})));
        assert!(bad(
            json!({"tasks": [{"task_key": "a"}, {"task_key": "a"}]})
        ));
        assert!(bad(
            json!({"tasks": [{"task_key": "a", "job_cluster_key": "nope"}]})
        ));
        assert!(bad(
            json!({"tasks": [{"task_key": "a", "depends_on": [{"task_key": "b"}]}]})
        ));
        assert!(bad(
            json!({"schedule": {"quartz_cron_expression": "0 0 * * * ?"}})
        ));
        assert!(bad(json!({"name": 5})));
    }

    #[test]
    fn update_merges_tasks_by_key() {
        let mut old = vec![json!({"task_key": "a", "x": 1}), json!({"task_key": "b"})];
        merge_by_key(
            &mut old,
            vec![json!({"task_key": "a", "x": 2}), json!({"task_key": "c"})],
            "task_key",
        );
        assert_eq!(
            old,
            vec![
                json!({"task_key": "a", "x": 2}),
                json!({"task_key": "b"}),
                json!({"task_key": "c"})
            ]
        );
    }
}
