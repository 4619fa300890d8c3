//! Job runs: `jobs/run-now` and `jobs/runs/list|get|cancel|cancel-all|delete`
//! (API 2.0, 2.1, 2.2), with their life cycle on the virtual clock.
//!
//! A run is PENDING for `run_pending_secs`, then waits for its compute: a
//! terminated `existing_cluster_id` is started (as the service does), a job
//! cluster is created; RUNNING for `run_secs` (or until `timeout_seconds`),
//! then TERMINATED with a result. `max_concurrent_runs` is enforced: at the
//! limit a run is QUEUED when the job's queue is enabled, otherwise SKIPPED;
//! with 0 every run is skipped. A run fails as the service fails it when its
//! compute names a cluster, pool, policy, secret or init script that does not
//! exist (INTERNAL_ERROR), or a task names a missing notebook or file
//! (TERMINATED, FAILED). Runs from fixtures are served as recorded.

use std::collections::{BTreeSet, HashMap};

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::routing::{get, post};
use bytes::Bytes;
use serde_json::{Map, Value, json};

use super::error::{ApiError, StoreError};
use super::fixture::LoadError;
use super::http::{Out, Query, Reply, body_object, empty, json, json_value};
use super::jobs::job_id_of;
use super::state::MockState;
use super::store::{Coll, Doc, Event, Workspace, decode_token, encode_token};

/// Runs kept at most; the oldest finished ones go first.
const MAX_RUNS: usize = 100_000;

/// Where a live run is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Life {
    Queued,
    Pending,
    Running,
    Terminated,
    Skipped,
    InternalError,
}

impl Life {
    fn as_str(self) -> &'static str {
        match self {
            Life::Queued => "QUEUED",
            Life::Pending => "PENDING",
            Life::Running => "RUNNING",
            Life::Terminated => "TERMINATED",
            Life::Skipped => "SKIPPED",
            Life::InternalError => "INTERNAL_ERROR",
        }
    }

    fn is_active(self) -> bool {
        matches!(self, Life::Queued | Life::Pending | Life::Running)
    }
}

/// How a run ends: life-cycle state, result, termination code and type, message.
struct Ending {
    life: Life,
    result: &'static str,
    code: &'static str,
    code_type: &'static str,
    message: String,
}

/// A run the mock drives.
#[derive(Debug)]
struct Live {
    generation: u64,
    life: Life,
    result: Option<&'static str>,
    message: String,
    code: &'static str,
    code_type: &'static str,
    user_cancelled: bool,
    run_name: String,
    creator: String,
    trigger: &'static str,
    start_time: i64,
    exec_start: Option<i64>,
    end_time: Option<i64>,
    settings: Value,
    job_parameters: Value,
    task_run_ids: Vec<i64>,
    /// Clusters the run waits for or runs on.
    clusters: Vec<String>,
    job_cluster: Option<String>,
    failed_task: Option<String>,
}

/// One run: its rendered document, and its live state when the mock drives it.
#[derive(Debug)]
pub(crate) struct Run {
    doc: Doc,
    job_id: i64,
    start_time: i64,
    active: bool,
    live: Option<Box<Live>>,
}

/// Every run.
#[derive(Debug, Default)]
pub(crate) struct RunStore {
    items: Coll<i64, Run>,
    by_job: HashMap<i64, BTreeSet<i64>>,
    active: BTreeSet<i64>,
    idempotency: HashMap<String, i64>,
    max_task_run_id: i64,
}

impl RunStore {
    pub(crate) fn begin_load(&mut self) {
        self.items.begin_load();
    }

    pub(crate) fn end_load(&mut self) {
        self.items.end_load();
    }

    fn insert(&mut self, run_id: i64, run: Run) {
        self.by_job.entry(run.job_id).or_default().insert(run_id);
        if run.active {
            self.active.insert(run_id);
        } else {
            self.active.remove(&run_id);
        }
        self.items.insert(run_id, run);
        if self.items.len() > MAX_RUNS {
            let oldest = self
                .items
                .iter()
                .find(|(id, r)| !r.active && **id != run_id)
                .map(|(id, _)| *id);
            if let Some(id) = oldest {
                self.remove(id);
            }
        }
    }

    fn remove(&mut self, run_id: i64) -> Option<Run> {
        let run = self.items.remove(&run_id)?;
        if let Some(ids) = self.by_job.get_mut(&run.job_id) {
            ids.remove(&run_id);
        }
        self.active.remove(&run_id);
        Some(run)
    }

    fn active_count(&self, job_id: i64) -> usize {
        self.by_job.get(&job_id).map_or(0, |ids| {
            ids.iter()
                .filter(|id| {
                    self.items.get(id).is_some_and(|r| {
                        r.active && !r.live.as_ref().is_some_and(|l| l.life == Life::Queued)
                    })
                })
                .count()
        })
    }
}

/// Adds one fixture run (the `runs/get` shape); it is served as recorded.
pub(crate) fn load(ws: &mut Workspace, raw: &str) -> Result<(), LoadError> {
    let map: Map<String, Value> = serde_json::from_str(raw)?;
    let run_id = map
        .get("run_id")
        .and_then(Value::as_i64)
        .ok_or("missing integer `run_id`".to_owned())?;
    let job_id = map
        .get("job_id")
        .and_then(Value::as_i64)
        .ok_or("missing integer `job_id`".to_owned())?;
    if ws.runs.items.contains(&run_id) {
        return Err(format!("duplicate `run_id` {run_id}").into());
    }
    let life = map
        .get("state")
        .and_then(|s| s.get("life_cycle_state"))
        .and_then(Value::as_str)
        .unwrap_or("TERMINATED");
    let active = matches!(
        life,
        "QUEUED" | "PENDING" | "RUNNING" | "TERMINATING" | "BLOCKED" | "WAITING_FOR_RETRY"
    );
    let start_time = map.get("start_time").and_then(Value::as_i64).unwrap_or(0);
    let max_task = map
        .get("tasks")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| t.get("run_id").and_then(Value::as_i64))
        .max()
        .unwrap_or(0);
    ws.runs.max_task_run_id = ws.runs.max_task_run_id.max(max_task);
    ws.ids.run = ws.ids.run.max(run_id.saturating_add(1));
    ws.runs.insert(
        run_id,
        Run {
            doc: Doc::compact(raw),
            job_id,
            start_time,
            active,
            live: None,
        },
    );
    Ok(())
}

/// Compute settings a task runs on: its own `new_cluster`, its job cluster,
/// or an existing cluster id.
enum Compute<'a> {
    Existing(&'a str),
    Spec(&'a Value),
    None,
}

fn task_compute<'a>(settings: &'a Value, task: &'a Value) -> Compute<'a> {
    if let Some(id) = task.get("existing_cluster_id").and_then(Value::as_str) {
        return Compute::Existing(id);
    }
    if let Some(spec) = task.get("new_cluster") {
        return Compute::Spec(spec);
    }
    if let Some(key) = task.get("job_cluster_key").and_then(Value::as_str) {
        let spec = settings
            .get("job_clusters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|c| c.get("job_cluster_key").and_then(Value::as_str) == Some(key))
            .and_then(|c| c.get("new_cluster"));
        if let Some(spec) = spec {
            return Compute::Spec(spec);
        }
    }
    Compute::None
}

fn tasks(settings: &Value) -> impl Iterator<Item = &Value> {
    settings
        .get("tasks")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|t| !t.get("disabled").and_then(Value::as_bool).unwrap_or(false))
}

impl Workspace {
    /// After load: run ids above every recorded one.
    pub(crate) fn finish_runs(&mut self) {
        self.ids.run = self
            .ids
            .run
            .max(self.runs.max_task_run_id.saturating_add(1));
    }

    /// Every run document, for dumps.
    pub(crate) fn dump_runs(&self) -> Vec<String> {
        self.runs
            .items
            .iter()
            .map(|(_, r)| r.doc.as_str().to_owned())
            .collect()
    }

    /// Starts a run of a job (run-now, a schedule); returns its id.
    pub(crate) fn trigger_run(
        &mut self,
        job_id: i64,
        trigger: &'static str,
        params: Value,
        at: i64,
    ) -> Result<i64, StoreError> {
        let job = self
            .jobs
            .items
            .get(&job_id)
            .ok_or_else(|| super::jobs::unknown(job_id))?;
        let settings = job.settings();
        let limit = job.max_concurrent_runs.max(0);
        let queue = job.queue;
        let creator = job.run_as().unwrap_or_else(|| self.caller());
        let run_name = job.name.to_string();
        let active = self.runs.active_count(job_id) as i64;
        let run_id = self.ids.run_id();
        let task_run_ids: Vec<i64> = tasks(&settings).map(|_| self.ids.run_id()).collect();
        let (life, message, code, code_type) = if limit == 0 || (active >= limit && !queue) {
            (
                Life::Skipped,
                format!(
                    "Skipping this run because the limit of {limit} maximum concurrent runs has been reached."
                ),
                "MAX_CONCURRENT_RUNS_EXCEEDED",
                "CLIENT_ERROR",
            )
        } else if active >= limit {
            (
                Life::Queued,
                format!("Queued: the job has reached its limit of {limit} concurrent runs."),
                "",
                "",
            )
        } else {
            (Life::Pending, String::new(), "", "")
        };
        let live = Live {
            generation: 0,
            life,
            result: None,
            message,
            code,
            code_type,
            user_cancelled: false,
            run_name,
            creator,
            trigger,
            start_time: at,
            exec_start: None,
            end_time: (life == Life::Skipped).then_some(at),
            settings,
            job_parameters: params,
            task_run_ids,
            clusters: Vec::new(),
            job_cluster: None,
            failed_task: None,
        };
        let run = Run {
            doc: render(run_id, job_id, &live),
            job_id,
            start_time: at,
            active: life.is_active(),
            live: Some(Box::new(live)),
        };
        self.runs.insert(run_id, run);
        if life == Life::Pending {
            let delay = self.durations.run_pending_secs.saturating_mul(1000) as i64;
            self.schedule(
                at,
                delay,
                Event::Run {
                    run_id,
                    generation: 0,
                },
            );
        }
        Ok(run_id)
    }

    /// Changes a live run and re-renders it.
    fn update_run(&mut self, run_id: i64, change: impl FnOnce(&mut Live)) {
        let Some(run) = self.runs.items.get_mut(&run_id) else {
            return;
        };
        let Some(live) = run.live.as_mut() else {
            return;
        };
        change(live);
        live.generation += 1;
        let active = live.life.is_active();
        run.doc = render(run_id, run.job_id, live);
        run.active = active;
        if active {
            self.runs.active.insert(run_id);
        } else {
            self.runs.active.remove(&run_id);
        }
    }

    fn live(&self, run_id: i64) -> Option<&Live> {
        self.runs.items.get(&run_id).and_then(|r| r.live.as_deref())
    }

    /// Ends a run; frees its job cluster and lets a queued run of the job start.
    fn end_run(&mut self, run_id: i64, at: i64, ending: Ending) {
        let Ending {
            life,
            result,
            code,
            code_type,
            message,
        } = ending;
        let (job_id, job_cluster, clusters) =
            match (self.runs.items.get(&run_id), self.live(run_id)) {
                (Some(r), Some(l)) => (r.job_id, l.job_cluster.clone(), l.clusters.clone()),
                _ => return,
            };
        self.update_run(run_id, |l| {
            l.life = life;
            l.result = Some(result);
            l.code = code;
            l.code_type = code_type;
            l.message = message;
            l.end_time = Some(at);
            l.exec_start.get_or_insert(at);
        });
        if let Some(c) = job_cluster {
            self.terminate_cluster(&c, at, json!({"code": "JOB_FINISHED", "type": "SUCCESS"}));
        }
        for c in clusters {
            self.touch_cluster(&c, at);
        }
        self.start_queued(job_id, at);
    }

    /// Starts the oldest queued run of a job if a slot is free.
    fn start_queued(&mut self, job_id: i64, at: i64) {
        let Some(job) = self.jobs.items.get(&job_id) else {
            return;
        };
        let limit = job.max_concurrent_runs.max(0) as usize;
        if self.runs.active_count(job_id) >= limit {
            return;
        }
        let queued = self.runs.by_job.get(&job_id).and_then(|ids| {
            ids.iter()
                .copied()
                .find(|id| self.live(*id).is_some_and(|l| l.life == Life::Queued))
        });
        if let Some(run_id) = queued {
            self.update_run(run_id, |l| {
                l.life = Life::Pending;
                l.message.clear();
            });
            let generation = self.live(run_id).map_or(0, |l| l.generation);
            let delay = self.durations.run_pending_secs.saturating_mul(1000) as i64;
            self.schedule(at, delay, Event::Run { run_id, generation });
        }
    }

    /// A run's timed transition is due.
    pub(crate) fn run_due(&mut self, run_id: i64, generation: u64, at: i64) {
        let Some(live) = self.live(run_id) else {
            return;
        };
        if live.generation != generation {
            return;
        }
        match live.life {
            Life::Pending => self.acquire_compute(run_id, at),
            Life::Running => {
                let timed_out = live
                    .settings
                    .get("timeout_seconds")
                    .and_then(Value::as_i64)
                    .is_some_and(|t| {
                        t > 0
                            && t.saturating_mul(1000)
                                < self.durations.run_secs.saturating_mul(1000) as i64
                    });
                if timed_out {
                    let secs = live
                        .settings
                        .get("timeout_seconds")
                        .and_then(Value::as_i64)
                        .unwrap_or(0);
                    self.end_run(
                        run_id,
                        at,
                        Ending {
                            life: Life::Terminated,
                            result: "TIMEDOUT",
                            code: "RUN_EXECUTION_ERROR",
                            code_type: "CLIENT_ERROR",
                            message: format!("Run timed out after {secs} seconds."),
                        },
                    );
                } else {
                    self.end_run(
                        run_id,
                        at,
                        Ending {
                            life: Life::Terminated,
                            result: "SUCCESS",
                            code: "SUCCESS",
                            code_type: "SUCCESS",
                            message: String::new(),
                        },
                    );
                }
            }
            _ => {}
        }
    }

    /// Leaving PENDING: check the compute, start what is stopped, and wait for it.
    fn acquire_compute(&mut self, run_id: i64, at: i64) {
        let Some(live) = self.live(run_id) else {
            return;
        };
        let settings = live.settings.clone();
        let mut existing: Vec<String> = Vec::new();
        let mut spec: Option<Value> = None;
        for task in tasks(&settings) {
            match task_compute(&settings, task) {
                Compute::Existing(id) => {
                    let Some(cluster) = self.clusters.items.get(id) else {
                        let message = format!("Cluster {id} does not exist");
                        self.end_run(
                            run_id,
                            at,
                            Ending {
                                life: Life::InternalError,
                                result: "FAILED",
                                code: "CLUSTER_DOES_NOT_EXIST",
                                code_type: "CLIENT_ERROR",
                                message,
                            },
                        );
                        return;
                    };
                    if let Some((_, message)) =
                        self.compute_problem(&Value::Object(cluster.doc.to_map()))
                    {
                        self.end_run(
                            run_id,
                            at,
                            Ending {
                                life: Life::InternalError,
                                result: "FAILED",
                                code: "INVALID_CLUSTER_REQUEST",
                                code_type: "CLIENT_ERROR",
                                message,
                            },
                        );
                        return;
                    }
                    if !existing.iter().any(|e| e == id) {
                        existing.push(id.to_owned());
                    }
                }
                Compute::Spec(s) => {
                    if let Some((_, message)) = self.compute_problem(s) {
                        self.end_run(
                            run_id,
                            at,
                            Ending {
                                life: Life::InternalError,
                                result: "FAILED",
                                code: "INVALID_CLUSTER_REQUEST",
                                code_type: "CLIENT_ERROR",
                                message,
                            },
                        );
                        return;
                    }
                    spec.get_or_insert_with(|| s.clone());
                }
                Compute::None => {}
            }
        }
        for id in &existing {
            if self.clusters.state(id) == Some(super::clusters::CState::Terminated) {
                self.start_cluster(id, at);
            }
        }
        let job_cluster = spec.map(|s| {
            let job_id = self.runs.items.get(&run_id).map_or(0, |r| r.job_id);
            self.create_job_cluster(&s, &format!("job-{job_id}-run-{run_id}"), at)
        });
        let mut clusters = existing;
        clusters.extend(job_cluster.clone());
        self.update_run(run_id, |l| {
            l.clusters = clusters;
            l.job_cluster = job_cluster;
            l.message = "Waiting for cluster".into();
        });
        self.begin_if_ready(run_id, at);
    }

    /// Starts executing once every cluster of the run is up.
    fn begin_if_ready(&mut self, run_id: i64, at: i64) {
        let Some(live) = self.live(run_id) else {
            return;
        };
        if live.life != Life::Pending
            || !live
                .clusters
                .iter()
                .all(|c| self.clusters.state(c).is_some_and(|s| s.is_up()))
        {
            return;
        }
        // Tasks fail at once when what they run is missing.
        if let Some((task, message)) = self.task_problem(&live.settings, live.creator.clone()) {
            self.update_run(run_id, |l| {
                l.failed_task = Some(task);
                l.exec_start = Some(at);
            });
            self.end_run(
                run_id,
                at,
                Ending {
                    life: Life::Terminated,
                    result: "FAILED",
                    code: "RUN_EXECUTION_ERROR",
                    code_type: "CLIENT_ERROR",
                    message,
                },
            );
            return;
        }
        let timeout_ms = live
            .settings
            .get("timeout_seconds")
            .and_then(Value::as_i64)
            .filter(|t| *t > 0)
            .map(|t| t.saturating_mul(1000));
        let clusters = live.clusters.clone();
        self.update_run(run_id, |l| {
            l.life = Life::Running;
            l.exec_start = Some(at);
            l.message.clear();
        });
        for c in clusters {
            self.touch_cluster(&c, at);
        }
        let run_ms = self.durations.run_secs.saturating_mul(1000) as i64;
        let delay = timeout_ms.map_or(run_ms, |t| t.min(run_ms));
        let generation = self.live(run_id).map_or(0, |l| l.generation);
        self.schedule(at, delay, Event::Run { run_id, generation });
    }

    /// The first task whose notebook, file, job or warehouse is missing.
    fn task_problem(&self, settings: &Value, run_as: String) -> Option<(String, String)> {
        let git = settings.get("git_source").is_some();
        for task in tasks(settings) {
            let key = task
                .get("task_key")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            if let Some(nb) = task.get("notebook_task") {
                let from_git = git || nb.get("source").and_then(Value::as_str) == Some("GIT");
                let path = nb
                    .get("notebook_path")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if !from_git
                    && self
                        .objects
                        .get(path)
                        .is_none_or(|o| o.object_type != "NOTEBOOK")
                {
                    return Some((
                        key,
                        format!(
                            "Unable to access the notebook \"{path}\". Either it does not exist, or the identity used to run this job, {run_as}, lacks the required permissions."
                        ),
                    ));
                }
            }
            if let Some(file) = task
                .get("spark_python_task")
                .and_then(|t| t.get("python_file"))
                .and_then(Value::as_str)
            {
                if !git && file.starts_with('/') && self.objects.get(file).is_none() {
                    return Some((key, format!("File {file} does not exist.")));
                }
            }
            if let Some(job) = task
                .get("run_job_task")
                .and_then(|t| t.get("job_id"))
                .and_then(Value::as_i64)
            {
                if !self.jobs.items.contains(&job) {
                    return Some((key, format!("Job {job} does not exist.")));
                }
            }
            if let Some(wh) = task
                .get("sql_task")
                .and_then(|t| t.get("warehouse_id"))
                .and_then(Value::as_str)
            {
                if !self.warehouses.items.contains(wh) {
                    return Some((key, format!("SQL warehouse {wh} does not exist.")));
                }
            }
        }
        None
    }

    /// A cluster came up: runs waiting for it may start.
    pub(crate) fn runs_cluster_ready(&mut self, cluster: &str, at: i64) {
        let waiting: Vec<i64> = self
            .runs
            .active
            .iter()
            .copied()
            .filter(|id| {
                self.live(*id).is_some_and(|l| {
                    l.life == Life::Pending && l.clusters.iter().any(|c| c == cluster)
                })
            })
            .collect();
        for run_id in waiting {
            self.begin_if_ready(run_id, at);
        }
    }

    /// A cluster went away: runs on it or waiting for it fail.
    pub(crate) fn runs_cluster_gone(&mut self, cluster: &str, at: i64, message: &str) {
        let affected: Vec<i64> = self
            .runs
            .active
            .iter()
            .copied()
            .filter(|id| {
                self.live(*id)
                    .is_some_and(|l| l.clusters.iter().any(|c| c == cluster))
            })
            .collect();
        for run_id in affected {
            self.end_run(
                run_id,
                at,
                Ending {
                    life: Life::InternalError,
                    result: "FAILED",
                    code: "CLUSTER_ERROR",
                    code_type: "CLIENT_ERROR",
                    message: message.to_owned(),
                },
            );
        }
    }

    /// True when a run executes on the cluster.
    pub(crate) fn runs_on_cluster(&self, cluster: &str) -> bool {
        self.runs.active.iter().any(|id| {
            self.live(*id)
                .is_some_and(|l| l.life == Life::Running && l.clusters.iter().any(|c| c == cluster))
        })
    }

    /// Cancels a run; a finished run is left alone.
    fn cancel_run(&mut self, run_id: i64, at: i64) {
        let Some(run) = self.runs.items.get_mut(&run_id) else {
            return;
        };
        if !run.active {
            return;
        }
        if run.live.is_none() {
            // A recorded run: rewrite its state.
            run.doc.edit(|m| {
                m.insert("state".into(), json!({"life_cycle_state": "TERMINATED", "result_state": "CANCELED", "state_message": "", "user_cancelled_or_timedout": true}));
                m.insert("status".into(), json!({"state": "TERMINATED", "termination_details": {"code": "USER_CANCELED", "type": "SUCCESS", "message": ""}}));
                m.insert("end_time".into(), Value::from(at));
            });
            run.active = false;
            self.runs.active.remove(&run_id);
            return;
        }
        self.update_run(run_id, |l| l.user_cancelled = true);
        self.end_run(
            run_id,
            at,
            Ending {
                life: Life::Terminated,
                result: "CANCELED",
                code: "USER_CANCELED",
                code_type: "SUCCESS",
                message: "Run cancelled.".into(),
            },
        );
    }

    /// Cancels a job's active runs (only the queued ones with `queued_only`).
    pub(crate) fn cancel_job_runs(&mut self, job_id: i64, at: i64, queued_only: bool) {
        let ids: Vec<i64> = self
            .runs
            .by_job
            .get(&job_id)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default();
        for id in ids {
            let queued = self.live(id).is_some_and(|l| l.life == Life::Queued);
            if !queued_only || queued {
                self.cancel_run(id, at);
            }
        }
    }
}

/// The `runs/get` shape of a live run.
fn render(run_id: i64, job_id: i64, l: &Live) -> Doc {
    let terminal = !l.life.is_active();
    let mut state = json!({
        "life_cycle_state": l.life.as_str(),
        "state_message": l.message,
        "user_cancelled_or_timedout": l.user_cancelled || l.result == Some("TIMEDOUT"),
    });
    if let Some(r) = l.result {
        state["result_state"] = Value::from(r);
    }
    let status_state = match l.life {
        Life::Queued => "QUEUED",
        Life::Pending => "PENDING",
        Life::Running => "RUNNING",
        _ => "TERMINATED",
    };
    let mut status = json!({ "state": status_state });
    if terminal {
        status["termination_details"] =
            json!({"code": l.code, "type": l.code_type, "message": l.message});
    }
    if l.life == Life::Queued {
        status["queue_details"] =
            json!({"code": "ACTIVE_RUNS_LIMIT_REACHED", "message": l.message});
    }
    let end = l.end_time.unwrap_or(0);
    let setup = l.exec_start.map_or(0, |e| e - l.start_time);
    let execution = match (l.exec_start, l.end_time) {
        (Some(s), Some(e)) => e - s,
        _ => 0,
    };
    let cluster_instance = l.clusters.first().map(|c| json!({"cluster_id": c}));
    let task_runs: Vec<Value> = tasks(&l.settings)
        .zip(&l.task_run_ids)
        .map(|(task, id)| {
            let mut t = task.as_object().cloned().unwrap_or_default();
            let key = t
                .get("task_key")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let mut task_state = state.clone();
            if let Some(failed) = &l.failed_task {
                if *failed != key {
                    task_state["result_state"] = Value::from("UPSTREAM_FAILED");
                }
            }
            t.insert("run_id".into(), Value::from(*id));
            t.insert("state".into(), task_state);
            t.insert("status".into(), status.clone());
            t.insert("start_time".into(), Value::from(l.start_time));
            t.insert("end_time".into(), Value::from(end));
            t.insert("setup_duration".into(), Value::from(setup));
            t.insert("execution_duration".into(), Value::from(execution));
            t.insert("cleanup_duration".into(), Value::from(0));
            t.insert("attempt_number".into(), Value::from(0));
            let compute = match task_compute(&l.settings, task) {
                Compute::Existing(c) => Some(json!({"cluster_id": c})),
                Compute::Spec(_) => l.job_cluster.as_ref().map(|c| json!({"cluster_id": c})),
                Compute::None => None,
            };
            if let Some(c) = compute {
                t.insert("cluster_instance".into(), c);
            }
            Value::Object(t)
        })
        .collect();
    let mut run = json!({
        "job_id": job_id,
        "run_id": run_id,
        "number_in_job": run_id,
        "original_attempt_run_id": run_id,
        "creator_user_name": l.creator,
        "run_name": l.run_name,
        "run_type": "JOB_RUN",
        "trigger": l.trigger,
        "format": "MULTI_TASK",
        "state": state,
        "status": status,
        "start_time": l.start_time,
        "setup_duration": setup,
        "execution_duration": execution,
        "cleanup_duration": 0,
        "end_time": end,
        "run_duration": if terminal { end - l.start_time } else { 0 },
        "tasks": task_runs,
    });
    for f in ["job_clusters", "schedule", "git_source"] {
        if let Some(v) = l.settings.get(f) {
            run[f] = v.clone();
        }
    }
    if let Some(c) = cluster_instance {
        run["cluster_instance"] = c;
    }
    if !l.job_parameters.is_null() {
        run["job_parameters"] = l.job_parameters.clone();
    }
    Doc::from_value(&run)
}

/// The routes, for API versions 2.0, 2.1 and 2.2.
pub(crate) fn routes() -> Router<MockState> {
    let mut r = Router::new();
    for v in ["2.0", "2.1", "2.2"] {
        r = r
            .route(&format!("/api/{v}/jobs/run-now"), post(run_now))
            .route(&format!("/api/{v}/jobs/runs/list"), get(list))
            .route(&format!("/api/{v}/jobs/runs/get"), get(get_run))
            .route(&format!("/api/{v}/jobs/runs/cancel"), post(cancel))
            .route(&format!("/api/{v}/jobs/runs/cancel-all"), post(cancel_all))
            .route(&format!("/api/{v}/jobs/runs/delete"), post(delete));
    }
    r
}

fn unknown_run(id: i64) -> StoreError {
    StoreError::UnknownId(format!("Run {id} does not exist."))
}

fn run_id_of(body: &Map<String, Value>) -> Result<i64, ApiError> {
    match body.get("run_id") {
        None | Some(Value::Null) => Err(super::http::missing("run_id")),
        Some(v) => v
            .as_i64()
            .ok_or_else(|| ApiError::invalid(format!("Invalid run_id: {v}"))),
    }
}

async fn run_now(State(st): State<MockState>, body: Bytes) -> Reply {
    let map = body_object(&body)?;
    let job_id = job_id_of(&map)?;
    let token = map
        .get("idempotency_token")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let params = [
        "job_parameters",
        "notebook_params",
        "python_params",
        "jar_params",
        "python_named_params",
        "sql_params",
    ]
    .into_iter()
    .find_map(|f| map.get(f).cloned())
    .unwrap_or(Value::Null);
    let mut ws = st.write();
    if let Some(existing) = token.as_ref().and_then(|t| ws.runs.idempotency.get(t)) {
        return Ok(json_value(
            &json!({"run_id": existing, "number_in_job": existing}),
        ));
    }
    let now = ws.now();
    let run_id = ws.trigger_run(job_id, "ONE_TIME", params, now)?;
    if let Some(t) = token {
        ws.runs.idempotency.insert(t, run_id);
    }
    ws.settle();
    Ok(json_value(
        &json!({"run_id": run_id, "number_in_job": run_id}),
    ))
}

async fn list(State(st): State<MockState>, RawQuery(q): RawQuery) -> Reply {
    let q = Query::parse(q.as_deref());
    let job_id = q.i64("job_id")?;
    let active_only = q.bool("active_only")?.unwrap_or(false);
    let completed_only = q.bool("completed_only")?.unwrap_or(false);
    if active_only && completed_only {
        return Err(ApiError::invalid(
            "active_only and completed_only cannot both be true",
        ));
    }
    let limit = match q.i64("limit")? {
        None | Some(0) => 20,
        Some(n) if (1..=25).contains(&n) => n as usize,
        Some(n) => {
            return Err(ApiError::invalid(format!(
                "Invalid limit {n}: limit must be between 1 and 25"
            )));
        }
    };
    let offset = q.i64("offset")?.unwrap_or(0).max(0) as usize;
    let run_type = q.get("run_type").filter(|t| !t.is_empty());
    let from = q.i64("start_time_from")?;
    let to = q.i64("start_time_to")?;
    let expand = q.bool("expand_tasks")?.unwrap_or(false);
    let token: Option<i64> = match q.get("page_token").filter(|t| !t.is_empty()) {
        Some(t) => Some(
            decode_token(t)?
                .parse()
                .map_err(|_| ApiError::invalid(format!("Invalid page token: {t}")))?,
        ),
        None => None,
    };
    let ws = st.read();
    let ids: Box<dyn Iterator<Item = i64>> = match job_id {
        Some(j) => Box::new(
            ws.runs
                .by_job
                .get(&j)
                .into_iter()
                .flat_map(|s| s.iter().rev().copied()),
        ),
        None => Box::new(ws.runs.items.iter().rev().map(|(id, _)| *id)),
    };
    let matching = ids
        .filter(|id| token.is_none_or(|t| *id <= t))
        .filter(|id| {
            ws.runs.items.get(id).is_some_and(|r| {
                (!active_only || r.active)
                    && (!completed_only || !r.active)
                    && from.is_none_or(|f| r.start_time >= f)
                    && to.is_none_or(|t| r.start_time < t)
                    && run_type.is_none_or(|rt| {
                        r.doc
                            .to_map()
                            .get("run_type")
                            .and_then(Value::as_str)
                            .unwrap_or("JOB_RUN")
                            == rt
                    })
            })
        });
    let mut page: Vec<i64> = matching
        .skip(if token.is_some() { 0 } else { offset })
        .take(limit + 1)
        .collect();
    let next = (page.len() > limit).then(|| page.pop()).flatten();
    let docs: Vec<String> = page
        .iter()
        .filter_map(|id| ws.runs.items.get(id))
        .map(|r| {
            if expand {
                r.doc.as_str().to_owned()
            } else {
                let mut m = r.doc.to_map();
                m.remove("tasks");
                m.remove("job_clusters");
                Value::Object(m).to_string()
            }
        })
        .collect();
    let mut out = Out::object();
    out.array_nonempty("runs", docs.iter().map(String::as_str))
        .value("has_more", &Value::Bool(next.is_some()));
    if let Some(n) = next {
        out.string("next_page_token", &encode_token(&n.to_string()));
    }
    Ok(out.reply())
}

async fn get_run(State(st): State<MockState>, RawQuery(q): RawQuery) -> Reply {
    let q = Query::parse(q.as_deref());
    let id = q.required_i64("run_id")?;
    let ws = st.read();
    let run = ws.runs.items.get(&id).ok_or_else(|| unknown_run(id))?;
    Ok(json(run.doc.as_str().to_owned()))
}

async fn cancel(State(st): State<MockState>, body: Bytes) -> Reply {
    let id = run_id_of(&body_object(&body)?)?;
    let mut ws = st.write();
    if !ws.runs.items.contains(&id) {
        return Err(unknown_run(id).into());
    }
    let now = ws.now();
    ws.cancel_run(id, now);
    ws.settle();
    Ok(empty())
}

async fn cancel_all(State(st): State<MockState>, body: Bytes) -> Reply {
    let map = body_object(&body)?;
    let all_queued = map
        .get("all_queued_runs")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut ws = st.write();
    let now = ws.now();
    match map.get("job_id") {
        Some(_) => {
            let job_id = job_id_of(&map)?;
            if !ws.jobs.items.contains(&job_id) {
                return Err(super::jobs::unknown(job_id).into());
            }
            ws.cancel_job_runs(job_id, now, all_queued);
        }
        None if all_queued => {
            let jobs: Vec<i64> = ws.runs.by_job.keys().copied().collect();
            for j in jobs {
                ws.cancel_job_runs(j, now, true);
            }
        }
        None => {
            return Err(ApiError::invalid(
                "Either job_id or all_queued_runs must be given",
            ));
        }
    }
    ws.settle();
    Ok(empty())
}

async fn delete(State(st): State<MockState>, body: Bytes) -> Reply {
    let id = run_id_of(&body_object(&body)?)?;
    let mut ws = st.write();
    let run = ws.runs.items.get(&id).ok_or_else(|| unknown_run(id))?;
    if run.active {
        return Err(
            StoreError::InvalidState(format!("Run {id} is active and cannot be deleted.")).into(),
        );
    }
    ws.runs.remove(id);
    Ok(empty())
}
