//! The runner: drives two workspaces through a plan, step by step, over the
//! REST API, and emits [`Event`]s.
//!
//! Before the first step both workspaces are captured (the seeded
//! snapshots) and the plan's static checks run against them; a plan with
//! errors does not start. Time is the mocks' virtual clock: a wait moves it
//! to the next thing due in either mock (a cluster up, a run ending), never
//! sleeps, so a rehearsal of hours of virtual time takes milliseconds.
//! Recovery time is measured from the first `simulate_outage` step (or the
//! start) to the end of the last step that ran, and compared with the RTO.
//!
//! By default the first failing step stops the plan (the rest are reported
//! as skipped) and the rollbacks of the failed step and of the steps before
//! it run, last first; `keep_going` runs every step instead. Cancelling
//! (Ctrl-C) stops at the next safe point, runs nothing more, and the report
//! of what ran is still returned.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use secrecy::SecretString;
use serde_json::{Value, json};

use super::api::{CancelToken, Clock, Ws, is_mock};
use super::check::{Inventory, check};
use super::events::{
    Event, EventSink, RehearsalReport, RollbackRecord, RunInfo, RunOutcome, RunSummary,
    StepOutcome, StepRecord, WorkspaceInfo,
};
use super::plan::{
    Action, Check, Diagnostic, Plan, PlanErrors, Role, Selection, Severity, Step, StepBody,
    format_duration,
};
use super::probe;
use super::sync::{self, brief, make_passive};
use crate::auth::{Credentials, WorkspaceAuth, normalize_host};
use crate::client::{ApiError, Client, ClientConfig, RateLimits};
use crate::collect::{CollectOptions, Journal, Quiet};
use crate::diff::{self, FindingClass, Role as DiffRole, Rules};
use crate::kind::Kind;
use crate::mock::{Fixture, MockError, MockOptions, MockServer};
use crate::snapshot::Snapshot;

/// The longest a step without a `timeout` may take, virtual time.
const DEFAULT_STEP_CAP_MS: i64 = 24 * 3_600_000;
/// Clock moves one wait may make before it gives up (a guard, not a limit
/// plans meet: schedules firing every minute for a day are 1,440).
const MAX_TICKS: usize = 100_000;
/// Findings listed in a failure message before "and N more".
const SHOWN_FINDINGS: usize = 8;

/// One workspace a rehearsal drives.
#[derive(Clone, Debug)]
pub struct Target {
    /// Which of the plan's workspaces this is.
    pub role: Role,
    /// Its base URL.
    pub url: String,
    /// The bearer token, if the workspace needs one.
    pub token: Option<SecretString>,
    /// What it is, for reports (`mock seeded from fixtures/primary.json`).
    pub label: String,
    /// Allow a workspace that is not a standby mock (a real one: freezing
    /// it pauses real jobs).
    pub allow_real: bool,
}

/// The two workspaces of a rehearsal.
#[derive(Clone, Debug)]
pub struct RehearsalEnv {
    /// One per role.
    pub targets: Vec<Target>,
}

/// How to run.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Run every step even after one fails (no rollbacks then).
    pub keep_going: bool,
    /// Run even when static checks find errors (to see what the workspace
    /// answers); the errors are then reported as warnings.
    pub skip_static_checks: bool,
    /// Stops the run at the next safe point.
    pub cancel: CancelToken,
    /// The pair's rules for drift checks; `None` reads the plan's `config`.
    pub rules: Option<Rules>,
}

/// Why a rehearsal could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum RehearseError {
    /// The plan has errors (syntax, fields, static checks).
    #[error("{0}")]
    Invalid(PlanErrors),
    /// An input is unusable: a seed, a host, the config.
    #[error("{0}")]
    Inputs(String),
}

/// Mocks started in this process for a rehearsal, and the env naming them.
#[derive(Debug)]
pub struct InProcess {
    /// The primary's mock.
    pub primary: MockServer,
    /// The secondary's mock.
    pub secondary: MockServer,
    /// Points at both.
    pub env: RehearsalEnv,
}

impl InProcess {
    /// Stops both mocks.
    pub async fn shutdown(self) {
        self.primary.shutdown().await;
        self.secondary.shutdown().await;
    }
}

/// Starts a mock per fixture on free local ports, with a token made for
/// this run, and returns the env that drives them.
pub async fn start_mocks(
    primary: (Fixture, String),
    secondary: (Fixture, String),
) -> Result<InProcess, MockError> {
    let token = crate::mock::random_token();
    let options = MockOptions {
        token: Some(SecretString::from(token.clone())),
        ..MockOptions::default()
    };
    let p = MockServer::start(primary.0, options.clone()).await?;
    let s = MockServer::start(secondary.0, options).await?;
    let target = |role, server: &MockServer, label: String| Target {
        role,
        url: server.url(),
        token: Some(SecretString::from(token.clone())),
        label,
        allow_real: false,
    };
    let env = RehearsalEnv {
        targets: vec![
            target(Role::Primary, &p, primary.1),
            target(Role::Secondary, &s, secondary.1),
        ],
    };
    Ok(InProcess {
        primary: p,
        secondary: s,
        env,
    })
}

/// Loads a seed file: a fixture (`fixture_version`) or a standby snapshot
/// (`format_version`), which becomes a fixture with generated ids.
pub fn load_seed(path: &Path) -> Result<Fixture, RehearseError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path)
        .map_err(|e| RehearseError::Inputs(format!("cannot read seed `{shown}`: {e}")))?;
    let head: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    if head.get("format_version").is_some() && head.get("fixture_version").is_none() {
        let snapshot = crate::snapshot::read_snapshot_bytes(path, &bytes)
            .map_err(|e| RehearseError::Inputs(format!("{e:#}")))?;
        return super::seed::fixture_from_snapshot(&snapshot, &shown)
            .map_err(RehearseError::Inputs);
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| RehearseError::Inputs(format!("seed `{shown}` is not UTF-8 text")))?;
    Fixture::parse(&text, &shown).map_err(|e| RehearseError::Inputs(e.to_string()))
}

/// Where a plan's seed for a role is, relative to the plan file.
pub fn seed_path(plan: &Plan, role: Role) -> Option<PathBuf> {
    let seed = plan.workspace_with(role)?.seed.as_ref()?;
    Some(relative_to_plan(plan, seed))
}

fn relative_to_plan(plan: &Plan, path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        return p.to_owned();
    }
    let joined = Path::new(&plan.file)
        .parent()
        .unwrap_or(Path::new(""))
        .join(p);
    // `fixtures/plans/../primary.json` reads better as `fixtures/primary.json`.
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            std::path::Component::ParentDir
                if matches!(
                    out.components().next_back(),
                    Some(std::path::Component::Normal(_))
                ) =>
            {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The pair's rules from the plan's `config` and `pair`, or defaults.
pub fn plan_rules(plan: &Plan) -> Result<Rules, RehearseError> {
    let mut rules = match &plan.config {
        Some(path) => {
            let config = crate::config::load(&relative_to_plan(plan, path))
                .map_err(|e| RehearseError::Inputs(format!("{e:#}")))?;
            let (pair, secondary) = config
                .select(plan.pair.as_deref())
                .map_err(|e| RehearseError::Inputs(format!("{e:#}")))?;
            config.rules_for(pair, secondary)
        }
        None => Rules::default(),
    };
    rules.rpo_secs = Some(plan.rpo_secs);
    rules.rto_secs = Some(plan.rto_secs);
    Ok(rules)
}

/// A client for a rehearsal target: no retries against mocks (an outage is
/// the point, and waits are virtual), the usual policy against real ones.
fn client_for(target: &Target) -> Result<Client, RehearseError> {
    let host = normalize_host(&target.url)
        .map_err(|e| RehearseError::Inputs(format!("invalid host `{}`: {e}", target.url)))?;
    let token = target
        .token
        .clone()
        .unwrap_or_else(|| SecretString::from("standby-rehearsal"));
    let auth = WorkspaceAuth {
        host,
        profile: None,
        credentials: Credentials::Pat(token),
    };
    let config = ClientConfig {
        rate_limits: RateLimits::unlimited(),
        max_attempts: 1,
        request_timeout: Duration::from_secs(30),
        ..ClientConfig::default()
    };
    Client::new(auth, config).map_err(|e| RehearseError::Inputs(e.to_string()))
}

/// Connects to the env's workspaces, in plan order.
async fn connect(plan: &Plan, env: &RehearsalEnv) -> Result<Vec<Ws>, RehearseError> {
    let mut out = Vec::new();
    for decl in &plan.workspaces {
        let target = env
            .targets
            .iter()
            .find(|t| t.role == decl.role)
            .ok_or_else(|| {
                RehearseError::Inputs(format!(
                    "no workspace given for `{}` (role {})",
                    decl.name,
                    decl.role.name()
                ))
            })?;
        let client = client_for(target)?;
        let mock = is_mock(&client).await;
        if !mock && !target.allow_real {
            return Err(RehearseError::Inputs(format!(
                "`{}` is not a standby mock (it has no `/_standby/` control API); a rehearsal freezes, pauses and starts things, so against a real workspace pass `--i-know-this-is-a-real-workspace`",
                target.url
            )));
        }
        out.push(Ws::new(
            decl.name.clone(),
            decl.role,
            target.label.clone(),
            client,
            mock,
        ));
    }
    Ok(out)
}

/// Kinds the seeded snapshots hold: what static checks and lag need.
const SEED_KINDS: [Kind; 6] = [
    Kind::Jobs,
    Kind::Clusters,
    Kind::InstancePools,
    Kind::ClusterPolicies,
    Kind::SqlWarehouses,
    Kind::WorkspaceObjects,
];

async fn capture(ws: &Ws, kinds: &[Kind], now_ms: i64) -> Snapshot {
    if ws.simulated_down() {
        // Nothing is sent to a workspace whose outage is simulated here.
        let reason = crate::snapshot::Incomplete {
            http_status: Some(503),
            error_code: Some("TEMPORARILY_UNAVAILABLE".into()),
            message: format!("`{}` is down (an outage simulated by standby)", ws.name),
        };
        return Snapshot {
            format_version: crate::snapshot::FORMAT_VERSION,
            metadata: crate::snapshot::CaptureMetadata {
                host: ws.label.clone(),
                profile: None,
                tool_version: concat!("standby ", env!("CARGO_PKG_VERSION")).to_owned(),
                captured_at: String::new(),
                captured_at_ms: now_ms,
                requested_kinds: kinds.to_vec(),
            },
            kinds: kinds
                .iter()
                .map(|k| {
                    (
                        *k,
                        crate::snapshot::KindSnapshot::new(
                            crate::snapshot::Status::Incomplete {
                                reason: reason.clone(),
                            },
                            Vec::new(),
                        ),
                    )
                })
                .collect(),
        };
    }
    let mut snap = crate::capture::capture(
        ws.client.clone(),
        CollectOptions {
            kinds: kinds.to_vec(),
            ..CollectOptions::default()
        },
        Arc::new(Journal::in_memory()),
        Arc::new(Quiet),
    )
    .await;
    // Lag is measured against the capture time: on the rehearsal's clock.
    snap.metadata.captured_at_ms = now_ms;
    snap
}

/// Captures each workspace of the env and runs the static checks, without
/// running anything: `standby rehearse --check` with seeds.
pub async fn check_against(
    plan: &Plan,
    env: &RehearsalEnv,
) -> Result<Vec<Diagnostic>, RehearseError> {
    let wss = connect(plan, env).await?;
    let clock = clock_for(&wss).await;
    let now = clock.now().await.unwrap_or(0);
    let mut seeds = BTreeMap::new();
    for ws in &wss {
        let snap = capture(ws, &SEED_KINDS, now).await;
        seeds.insert(ws.name.clone(), Inventory::from_snapshot(&snap));
    }
    Ok(check(plan, &seeds))
}

async fn clock_for(wss: &[Ws]) -> Clock {
    if wss.iter().all(|w| w.mock) {
        Clock::Virtual(wss.iter().map(|w| w.client.clone()).collect())
    } else {
        // A real workspace runs on the wall clock: mocks beside it follow it.
        for w in wss.iter().filter(|w| w.mock) {
            let _ = w
                .client
                .send(
                    Method::POST,
                    "/_standby/clock/real-time",
                    &[],
                    Some(&json!({"enabled": true})),
                )
                .await;
        }
        Clock::Wall
    }
}

/// Runs a plan against an env, emitting events into `sink`; returns the
/// report folded from them.
pub async fn rehearse(
    plan: &Plan,
    env: &RehearsalEnv,
    options: &RunOptions,
    sink: &mut dyn EventSink,
) -> Result<RehearsalReport, RehearseError> {
    let rules = match &options.rules {
        Some(r) => r.clone(),
        None => plan_rules(plan)?,
    };
    let wss = connect(plan, env).await?;
    let clock = clock_for(&wss).await;
    let t0 = clock
        .now()
        .await
        .map_err(|e| RehearseError::Inputs(format!("cannot read the clock: {e}")))?;
    let mut seeds = BTreeMap::new();
    let mut inventories = BTreeMap::new();
    for ws in &wss {
        let snap = capture(ws, &SEED_KINDS, t0).await;
        inventories.insert(ws.name.clone(), Inventory::from_snapshot(&snap));
        seeds.insert(ws.name.clone(), snap);
    }
    let mut diagnostics = check(plan, &inventories);
    if diagnostics.iter().any(|d| d.severity == Severity::Error) {
        if !options.skip_static_checks {
            diagnostics.retain(|d| d.severity == Severity::Error);
            return Err(RehearseError::Invalid(PlanErrors(diagnostics)));
        }
        for d in &mut diagnostics {
            d.severity = Severity::Warning;
        }
    }
    let mut runner = Runner {
        plan,
        endpoints: plan
            .endpoints
            .iter()
            .map(|e| (e.name.clone(), e.target.clone()))
            .collect(),
        wss,
        clock,
        t0,
        rules,
        cancel: options.cancel.clone(),
        outage: None,
        last_sync: BTreeMap::new(),
        runs: BTreeMap::new(),
        seeds,
        rpo_lag_ms: None,
    };
    let mut events = Vec::new();
    let mut emit = |e: Event, sink: &mut dyn EventSink| {
        sink.emit(&e);
        events.push(e);
    };
    emit(
        Event::RunStarted(RunInfo {
            plan: plan.name.clone(),
            file: plan.file.clone(),
            direction: plan.direction,
            rpo_secs: plan.rpo_secs,
            rto_secs: plan.rto_secs,
            start_ms: t0,
            workspaces: runner
                .wss
                .iter()
                .map(|w| WorkspaceInfo {
                    name: w.name.clone(),
                    role: w.role,
                    source: w.label.clone(),
                })
                .collect(),
            steps: plan.steps.iter().map(|s| s.name.clone()).collect(),
            warnings: diagnostics,
            virtual_time: runner.clock.is_virtual(),
        }),
        sink,
    );
    let mut failed: Vec<String> = Vec::new();
    let mut stopped_by: Option<String> = None;
    let mut interrupted = false;
    let mut done: Vec<usize> = Vec::new();
    let mut last_end = 0i64;
    for (index, step) in plan.steps.iter().enumerate() {
        let skip_reason = if interrupted || runner.cancel.is_cancelled() {
            interrupted = true;
            Some("the run was interrupted before this step".to_owned())
        } else {
            stopped_by.as_ref().map(|s| {
                format!("not run: step `{s}` failed (use `--keep-going` to run every step)")
            })
        };
        if let Some(reason) = skip_reason {
            emit(
                Event::StepFinished(StepRecord {
                    index,
                    name: step.name.clone(),
                    kind: step.body.label(),
                    workspace: None,
                    started_ms: last_end,
                    duration_ms: 0,
                    outcome: StepOutcome::Skipped,
                    message: Some(reason),
                    expected: None,
                    actual: None,
                    details: Vec::new(),
                    continue_on_failure: step.continue_on_failure,
                }),
                sink,
            );
            continue;
        }
        let start = runner.now().await.unwrap_or(runner.t0);
        emit(
            Event::StepStarted {
                index,
                name: step.name.clone(),
                at_ms: start - runner.t0,
            },
            sink,
        );
        let deadline = start
            + step
                .timeout_secs
                .map_or(DEFAULT_STEP_CAP_MS, |t| (t as i64).saturating_mul(1000));
        let workspace = runner.step_workspace(step);
        let mut result = runner.step(step, start, deadline).await;
        let end = runner.now().await.unwrap_or(start);
        if let (Ok(_), Some(t)) = (&result, step.timeout_secs) {
            if end - start > (t as i64) * 1000 {
                result = Err(Failure::new(format!(
                    "took {} (virtual), longer than its timeout of {}",
                    fmt_ms(end - start),
                    format_duration(t)
                ))
                .expected(format!("done within {}", format_duration(t)))
                .actual(format!("took {}", fmt_ms(end - start))));
            }
        }
        last_end = end - runner.t0;
        let (outcome, message, expected, actual, details) = match result {
            Ok(details) => (StepOutcome::Passed, None, None, None, details),
            Err(f) if f.interrupted => {
                interrupted = true;
                (
                    StepOutcome::Interrupted,
                    Some(f.message),
                    None,
                    None,
                    f.details,
                )
            }
            Err(f) => (
                StepOutcome::Failed,
                Some(f.message),
                f.expected,
                f.actual,
                f.details,
            ),
        };
        if outcome == StepOutcome::Failed {
            failed.push(step.name.clone());
            if !step.continue_on_failure && !options.keep_going {
                stopped_by = Some(step.name.clone());
            }
        }
        if outcome == StepOutcome::Passed {
            done.push(index);
        }
        emit(
            Event::StepFinished(StepRecord {
                index,
                name: step.name.clone(),
                kind: step.body.label(),
                workspace,
                started_ms: start - runner.t0,
                duration_ms: end - start,
                outcome,
                message,
                expected,
                actual,
                details,
                continue_on_failure: step.continue_on_failure,
            }),
            sink,
        );
    }
    // Compensate, last first: the failed step's own rollback, then those of
    // the steps that passed before it.
    if let (Some(stopper), false) = (&stopped_by, interrupted) {
        let mut order: Vec<&Step> = plan.steps.iter().filter(|s| &s.name == stopper).collect();
        order.extend(done.iter().rev().map(|i| &plan.steps[*i]));
        for step in order {
            let Some(action) = &step.rollback else {
                continue;
            };
            if runner.cancel.is_cancelled() {
                interrupted = true;
                break;
            }
            let start = runner.now().await.unwrap_or(runner.t0);
            let result = runner
                .action(step, action, start, start + DEFAULT_STEP_CAP_MS)
                .await;
            let end = runner.now().await.unwrap_or(start);
            let (outcome, message) = match result {
                Ok(_) => (StepOutcome::Passed, None),
                Err(f) => (StepOutcome::Failed, Some(f.message)),
            };
            emit(
                Event::RollbackFinished(RollbackRecord {
                    step: step.name.clone(),
                    action: action.name().to_owned(),
                    started_ms: start - runner.t0,
                    duration_ms: end - start,
                    outcome,
                    message,
                }),
                sink,
            );
        }
    }
    let (recovery_start, recovery_from) = match &runner.outage {
        Some((at, step)) => (at - runner.t0, Some(step.clone())),
        None => (0, None),
    };
    let recovery_ms = (last_end - recovery_start).max(0);
    let rto_ms = (plan.rto_secs as i64).saturating_mul(1000);
    let within_rto = recovery_ms <= rto_ms;
    let outcome = if interrupted {
        RunOutcome::Interrupted
    } else if failed.is_empty() && within_rto {
        RunOutcome::Passed
    } else {
        RunOutcome::Failed
    };
    emit(
        Event::RunFinished(RunSummary {
            outcome,
            end_ms: last_end,
            recovery_ms,
            recovery_start_ms: recovery_start,
            recovery_from,
            rto_ms,
            within_rto,
            rpo_lag_ms: runner.rpo_lag_ms,
            rpo_ms: (plan.rpo_secs as i64).saturating_mul(1000),
            failed_steps: failed,
        }),
        sink,
    );
    RehearsalReport::from_events(&events)
        .ok_or_else(|| RehearseError::Inputs("the run produced no report".into()))
}

/// Why a step failed.
#[derive(Debug)]
struct Failure {
    message: String,
    expected: Option<String>,
    actual: Option<String>,
    details: Vec<String>,
    interrupted: bool,
}

impl Failure {
    fn new(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            expected: None,
            actual: None,
            details: Vec::new(),
            interrupted: false,
        }
    }

    fn expected(mut self, e: impl Into<String>) -> Failure {
        self.expected = Some(e.into());
        self
    }

    fn actual(mut self, a: impl Into<String>) -> Failure {
        self.actual = Some(a.into());
        self
    }

    fn interrupted() -> Failure {
        Failure {
            interrupted: true,
            ..Failure::new("interrupted (Ctrl-C) while this step ran")
        }
    }
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Failure {
        let b = brief(&e);
        Failure::new(format!("the workspace refused a call: {e}"))
            .expected("the API answers")
            .actual(b)
    }
}

type StepResult = Result<Vec<String>, Failure>;

/// Virtual ms as `1h05m`, `42s`, `0s`.
pub(crate) fn fmt_ms(ms: i64) -> String {
    let secs = (ms.max(0) + 999) / 1000;
    format_duration(secs as u64)
}

fn s<'v>(v: &'v Value, field: &str) -> &'v str {
    v.get(field).and_then(Value::as_str).unwrap_or("")
}

struct Runner<'p> {
    plan: &'p Plan,
    wss: Vec<Ws>,
    endpoints: BTreeMap<String, String>,
    clock: Clock,
    t0: i64,
    rules: Rules,
    cancel: CancelToken,
    /// When the first outage started, and the step that started it.
    outage: Option<(i64, String)>,
    /// End time of the latest sync per (from, to).
    last_sync: BTreeMap<(String, String), i64>,
    /// The latest run of each job started by the plan, per workspace.
    runs: BTreeMap<(String, String), i64>,
    /// The seeded snapshots, by workspace name.
    seeds: BTreeMap<String, Snapshot>,
    rpo_lag_ms: Option<i64>,
}

impl Runner<'_> {
    async fn now(&self) -> Result<i64, Failure> {
        Ok(self.clock.now().await?)
    }

    /// The workspace a name means now (endpoints resolve to their target).
    fn ws(&self, name: &str) -> Result<&Ws, Failure> {
        let name = self.endpoints.get(name).map_or(name, String::as_str);
        self.wss
            .iter()
            .find(|w| w.name == name)
            .ok_or_else(|| Failure::new(format!("unknown workspace `{name}`")))
    }

    fn step_workspace(&self, step: &Step) -> Option<String> {
        let name = match &step.body {
            StepBody::Action(a) => a.workspace()?,
            StepBody::Check(
                Check::JobsSucceeded { workspace, .. }
                | Check::NoPassiveViolations { workspace }
                | Check::Probe { workspace, .. },
            ) => workspace,
            StepBody::Check(_) => return None,
        };
        self.ws(name).ok().map(|w| w.name.clone())
    }

    /// Moves time to the next thing due (or the deadline); fails at the
    /// deadline, or when cancelled.
    async fn tick(&self, deadline: i64, waiting_for: &str, state: &str) -> Result<(), Failure> {
        if self.cancel.is_cancelled() {
            return Err(Failure::interrupted());
        }
        let now = self.now().await?;
        if now >= deadline {
            return Err(Failure::new(format!("timed out waiting for {waiting_for}"))
                .expected(waiting_for.to_owned())
                .actual(state.to_owned()));
        }
        let next = self
            .clock
            .next_event()
            .await?
            .unwrap_or(deadline)
            .clamp(now + 1, deadline);
        self.clock.advance(next - now, &self.cancel).await?;
        Ok(())
    }

    async fn step(&mut self, step: &Step, start: i64, deadline: i64) -> StepResult {
        if self.cancel.is_cancelled() {
            return Err(Failure::interrupted());
        }
        match &step.body {
            StepBody::Action(a) => self.action(step, a, start, deadline).await,
            StepBody::Check(c) => self.check(c, start).await,
        }
    }

    async fn action(
        &mut self,
        step: &Step,
        action: &Action,
        start: i64,
        deadline: i64,
    ) -> StepResult {
        match action {
            Action::Freeze {
                workspace,
                pools,
                clusters,
                jobs,
                warehouses,
            } => {
                self.freeze(workspace, *pools, *clusters, *jobs, *warehouses, deadline)
                    .await
            }
            Action::SimulateOutage { workspace } => {
                let ws = self.ws(workspace)?;
                ws.set_outage(true).await?;
                let name = ws.name.clone();
                if self.outage.is_none() {
                    self.outage = Some((start, step.name.clone()));
                }
                Ok(vec![format!(
                    "`{name}` is down: every API call answers 503 until `end_outage`; recovery time is measured from here"
                )])
            }
            Action::EndOutage { workspace } => {
                let ws = self.ws(workspace)?;
                ws.set_outage(false).await?;
                Ok(vec![format!("`{}` answers again", ws.name)])
            }
            Action::WaitForRuns { workspace, jobs } => {
                self.wait_for_runs(workspace, jobs, deadline).await
            }
            Action::Sync {
                from,
                to,
                kinds,
                secret_placeholder,
                passive,
            } => {
                let (f, t) = (self.ws(from)?, self.ws(to)?);
                let outcome =
                    sync::sync(f, t, kinds, secret_placeholder.as_deref(), *passive).await?;
                let key = (f.name.clone(), t.name.clone());
                if !outcome.problems.is_empty() {
                    let n = outcome.problems.len();
                    let mut fail = Failure::new(format!(
                        "{n} object{} could not be copied: {}",
                        if n == 1 { "" } else { "s" },
                        outcome.problems.join("; ")
                    ))
                    .expected(format!("every object of {} copied", kinds_text(kinds)))
                    .actual(outcome.problems.join("\n"));
                    fail.details = outcome.details;
                    return Err(fail);
                }
                let end = self.now().await?;
                self.last_sync.insert(key, end);
                Ok(outcome.details)
            }
            Action::RaisePools {
                workspace,
                pools,
                min_idle_instances,
            } => {
                self.raise_pools(workspace, pools, *min_idle_instances)
                    .await
            }
            Action::StartClusters {
                workspace,
                clusters,
            } => self.start_clusters(workspace, clusters, deadline).await,
            Action::StartWarehouses {
                workspace,
                warehouses,
            } => self.start_warehouses(workspace, warehouses, deadline).await,
            Action::SetJobConcurrency {
                workspace,
                jobs,
                max_concurrent_runs,
            } => {
                let n = *max_concurrent_runs;
                self.update_jobs(
                    workspace,
                    jobs,
                    &format!("max_concurrent_runs {n}"),
                    |settings| {
                        let changed = settings.get("max_concurrent_runs").and_then(Value::as_i64)
                            != Some(i64::from(n));
                        changed.then(|| json!({ "max_concurrent_runs": n }))
                    },
                )
                .await
            }
            Action::UnpauseJobs { workspace, jobs } => {
                self.update_jobs(workspace, jobs, "unpaused", |settings| {
                    pause_change(settings, "UNPAUSED")
                })
                .await
            }
            Action::PauseJobs { workspace, jobs } => {
                self.update_jobs(workspace, jobs, "paused", |settings| {
                    pause_change(settings, "PAUSED")
                })
                .await
            }
            Action::RunJobs { workspace, jobs } => self.run_jobs(workspace, jobs, deadline).await,
            Action::SwitchEndpoint { endpoint, to } => {
                let target = self.ws(to)?.name.clone();
                let old = self.endpoints.insert(endpoint.clone(), target.clone());
                Ok(vec![format!(
                    "`{endpoint}` → `{target}` (was `{}`): clients and later steps naming `{endpoint}` use `{target}`",
                    old.unwrap_or_default()
                )])
            }
            Action::Wait { duration_secs } => {
                let until = start + (*duration_secs as i64).saturating_mul(1000);
                for _ in 0..MAX_TICKS {
                    if self.cancel.is_cancelled() {
                        return Err(Failure::interrupted());
                    }
                    let now = self.now().await?;
                    if now >= until {
                        break;
                    }
                    self.clock.advance(until - now, &self.cancel).await?;
                }
                Ok(vec![format!("{} passed", format_duration(*duration_secs))])
            }
        }
    }

    async fn freeze(
        &self,
        workspace: &str,
        pools: bool,
        clusters: bool,
        jobs: bool,
        warehouses: bool,
        deadline: i64,
    ) -> StepResult {
        let ws = self.ws(workspace)?;
        let mut details = Vec::new();
        if pools {
            let mut changed = Vec::new();
            for p in ws.pools().await? {
                let min = p
                    .get("min_idle_instances")
                    .and_then(Value::as_i64)
                    .unwrap_or(0);
                if min > 0 {
                    edit_pool(ws, &p, 0).await?;
                    changed.push(format!("{} (was {min})", s(&p, "instance_pool_name")));
                }
            }
            changed.sort();
            details.push(if changed.is_empty() {
                "pools: every pool already keeps 0 idle instances".into()
            } else {
                format!("pools: min_idle_instances 0 on {}", changed.join(", "))
            });
        }
        if jobs {
            let mut n = 0;
            for j in ws.jobs().await? {
                let settings = j.get("settings").cloned().unwrap_or(Value::Null);
                let mut passive = settings.clone();
                make_passive(&mut passive);
                if passive != settings {
                    let mut new = json!({"max_concurrent_runs": 0});
                    for f in ["schedule", "trigger", "continuous"] {
                        if let Some(v) = passive.get(f) {
                            new[f] = v.clone();
                        }
                    }
                    ws.post(
                        "/api/2.1/jobs/update",
                        &json!({"job_id": j["job_id"], "new_settings": new}),
                    )
                    .await?;
                    n += 1;
                }
            }
            details.push(format!("jobs: {n} paused with max_concurrent_runs 0"));
        }
        let mut waiting_clusters = Vec::new();
        if clusters {
            for c in ws.clusters().await? {
                if !matches!(s(&c, "state"), "TERMINATED" | "TERMINATING") {
                    ws.post(
                        "/api/2.1/clusters/delete",
                        &json!({"cluster_id": c["cluster_id"]}),
                    )
                    .await?;
                }
                if s(&c, "state") != "TERMINATED" {
                    waiting_clusters.push(s(&c, "cluster_name").to_owned());
                }
            }
        }
        let mut waiting_warehouses = Vec::new();
        if warehouses {
            for w in ws.warehouses().await? {
                if matches!(s(&w, "state"), "RUNNING" | "STARTING") {
                    ws.post(
                        &format!("/api/2.0/sql/warehouses/{}/stop", s(&w, "id")),
                        &json!({}),
                    )
                    .await?;
                    waiting_warehouses.push(s(&w, "name").to_owned());
                }
            }
        }
        for _ in 0..MAX_TICKS {
            let mut busy = Vec::new();
            if !waiting_clusters.is_empty() {
                for c in ws.clusters().await? {
                    if waiting_clusters.iter().any(|n| n == s(&c, "cluster_name"))
                        && s(&c, "state") != "TERMINATED"
                    {
                        busy.push(format!(
                            "cluster {} is {}",
                            s(&c, "cluster_name"),
                            s(&c, "state")
                        ));
                    }
                }
            }
            if !waiting_warehouses.is_empty() {
                for w in ws.warehouses().await? {
                    if waiting_warehouses.iter().any(|n| n == s(&w, "name"))
                        && s(&w, "state") != "STOPPED"
                    {
                        busy.push(format!("warehouse {} is {}", s(&w, "name"), s(&w, "state")));
                    }
                }
            }
            if busy.is_empty() {
                break;
            }
            self.tick(
                deadline,
                "clusters terminated and warehouses stopped",
                &busy.join(", "),
            )
            .await?;
        }
        waiting_clusters.sort();
        waiting_warehouses.sort();
        if clusters {
            details.push(if waiting_clusters.is_empty() {
                "clusters: every all-purpose cluster already terminated".into()
            } else {
                format!("clusters terminated: {}", waiting_clusters.join(", "))
            });
        }
        if warehouses {
            details.push(if waiting_warehouses.is_empty() {
                "warehouses: every warehouse already stopped".into()
            } else {
                format!("warehouses stopped: {}", waiting_warehouses.join(", "))
            });
        }
        Ok(details)
    }

    async fn wait_for_runs(&self, workspace: &str, jobs: &Selection, deadline: i64) -> StepResult {
        let ws = self.ws(workspace)?;
        let ids = job_ids(ws, jobs).await?;
        let mut first = None;
        for _ in 0..MAX_TICKS {
            let active: Vec<Value> = ws
                .active_runs()
                .await?
                .into_iter()
                .filter(|r| ids.values().any(|id| Some(id) == r.get("job_id")))
                .collect();
            if active.is_empty() {
                let n = first.unwrap_or(0);
                return Ok(vec![if n == 0 {
                    "no run was active".to_owned()
                } else {
                    format!("{n} active run{} ended", if n == 1 { "" } else { "s" })
                }]);
            }
            first.get_or_insert(active.len());
            let state: Vec<String> = active
                .iter()
                .map(|r| {
                    format!(
                        "{} {}",
                        s(r, "run_name"),
                        r.pointer("/state/life_cycle_state")
                            .and_then(Value::as_str)
                            .unwrap_or("?")
                    )
                })
                .collect();
            self.tick(
                deadline,
                "active runs to end",
                &format!("still active: {}", state.join(", ")),
            )
            .await?;
        }
        Err(Failure::new("active runs never ended"))
    }

    async fn raise_pools(&self, workspace: &str, pools: &Selection, n: u32) -> StepResult {
        let ws = self.ws(workspace)?;
        let all = ws.pools().await?;
        missing_names(ws, pools, &all, "instance_pool_name", "pool")?;
        let mut changed = Vec::new();
        for p in all
            .iter()
            .filter(|p| pools.contains(s(p, "instance_pool_name")))
        {
            edit_pool(ws, p, i64::from(n)).await?;
            changed.push(s(p, "instance_pool_name").to_owned());
        }
        changed.sort();
        Ok(vec![format!(
            "min_idle_instances {n} on {}",
            changed.join(", ")
        )])
    }

    async fn start_clusters(
        &self,
        workspace: &str,
        clusters: &Selection,
        deadline: i64,
    ) -> StepResult {
        let ws = self.ws(workspace)?;
        let all = ws.clusters().await?;
        missing_names(ws, clusters, &all, "cluster_name", "cluster")?;
        let mut selected: Vec<String> = all
            .iter()
            .filter(|c| clusters.contains(s(c, "cluster_name")))
            .map(|c| s(c, "cluster_name").to_owned())
            .collect();
        selected.sort();
        // A cluster still terminating (a sync or freeze just stopped it) is
        // started once it is terminated; one that stops after its start
        // failed to start.
        let mut started: Vec<String> = Vec::new();
        for _ in 0..MAX_TICKS {
            let now = ws.clusters().await?;
            let mut busy = Vec::new();
            let mut failed = Vec::new();
            for c in now
                .iter()
                .filter(|c| selected.iter().any(|n| n == s(c, "cluster_name")))
            {
                let name = s(c, "cluster_name").to_owned();
                match s(c, "state") {
                    "RUNNING" => {}
                    "TERMINATED" | "ERROR" if started.contains(&name) => failed.push(format!(
                        "cluster `{name}` did not start: {}",
                        cluster_reason(c)
                    )),
                    "TERMINATED" => {
                        ws.post(
                            "/api/2.1/clusters/start",
                            &json!({"cluster_id": c["cluster_id"]}),
                        )
                        .await?;
                        started.push(name.clone());
                        busy.push(format!("{name} starting"));
                    }
                    other => busy.push(format!("{name} {other}")),
                }
            }
            if !failed.is_empty() {
                return Err(Failure::new(failed.join("; "))
                    .expected("every selected cluster RUNNING")
                    .actual(failed.join("\n")));
            }
            if busy.is_empty() {
                return Ok(vec![format!("running: {}", selected.join(", "))]);
            }
            self.tick(deadline, "clusters to run", &busy.join(", "))
                .await?;
        }
        Err(Failure::new("clusters never started"))
    }

    async fn start_warehouses(
        &self,
        workspace: &str,
        warehouses: &Selection,
        deadline: i64,
    ) -> StepResult {
        let ws = self.ws(workspace)?;
        let all = ws.warehouses().await?;
        missing_names(ws, warehouses, &all, "name", "warehouse")?;
        let mut selected: Vec<String> = all
            .iter()
            .filter(|w| warehouses.contains(s(w, "name")))
            .map(|w| s(w, "name").to_owned())
            .collect();
        selected.sort();
        for w in all.iter().filter(|w| warehouses.contains(s(w, "name"))) {
            if matches!(s(w, "state"), "STOPPED" | "STOPPING") {
                ws.post(
                    &format!("/api/2.0/sql/warehouses/{}/start", s(w, "id")),
                    &json!({}),
                )
                .await?;
            }
        }
        for _ in 0..MAX_TICKS {
            let busy: Vec<String> = ws
                .warehouses()
                .await?
                .iter()
                .filter(|w| {
                    selected.iter().any(|n| n == s(w, "name")) && s(w, "state") != "RUNNING"
                })
                .map(|w| format!("{} {}", s(w, "name"), s(w, "state")))
                .collect();
            if busy.is_empty() {
                return Ok(vec![format!("running: {}", selected.join(", "))]);
            }
            self.tick(deadline, "warehouses to run", &busy.join(", "))
                .await?;
        }
        Err(Failure::new("warehouses never started"))
    }

    /// Sends `jobs/update` to every selected job `change` has a change for.
    async fn update_jobs(
        &self,
        workspace: &str,
        jobs: &Selection,
        what: &str,
        change: impl Fn(&Value) -> Option<Value>,
    ) -> StepResult {
        let ws = self.ws(workspace)?;
        let all = ws.jobs().await?;
        let flat: Vec<Value> = all
            .iter()
            .map(|j| json!({"name": j.pointer("/settings/name").cloned().unwrap_or(Value::Null)}))
            .collect();
        missing_names(ws, jobs, &flat, "name", "job")?;
        let mut changed = Vec::new();
        let mut same = 0;
        for j in &all {
            let name = j
                .pointer("/settings/name")
                .and_then(Value::as_str)
                .unwrap_or("");
            if !jobs.contains(name) {
                continue;
            }
            let settings = j.get("settings").cloned().unwrap_or(Value::Null);
            match change(&settings) {
                Some(new) => {
                    ws.post(
                        "/api/2.1/jobs/update",
                        &json!({"job_id": j["job_id"], "new_settings": new}),
                    )
                    .await?;
                    changed.push(name.to_owned());
                }
                None => same += 1,
            }
        }
        changed.sort();
        let mut line = if changed.is_empty() {
            format!("no job needed a change ({what})")
        } else {
            format!("{what}: {}", changed.join(", "))
        };
        if same > 0 && !changed.is_empty() {
            line.push_str(&format!(" ({same} already so)"));
        }
        Ok(vec![line])
    }

    async fn run_jobs(&mut self, workspace: &str, jobs: &[String], deadline: i64) -> StepResult {
        let ws = self.ws(workspace)?;
        let ws_name = ws.name.clone();
        let ids = job_ids(ws, &Selection::Named(jobs.to_vec())).await?;
        let mut runs: Vec<(String, i64)> = Vec::new();
        for job in jobs {
            let Some(id) = ids.get(job) else { continue };
            let answer = ws
                .post("/api/2.1/jobs/run-now", &json!({"job_id": id}))
                .await?;
            let run_id = answer
                .get("run_id")
                .and_then(Value::as_i64)
                .ok_or_else(|| Failure::new(format!("run-now of `{job}` returned no run id")))?;
            runs.push((job.clone(), run_id));
        }
        for (job, run) in &runs {
            self.runs.insert((ws_name.clone(), job.clone()), *run);
        }
        let ws = self.ws(&ws_name)?;
        let mut finished: BTreeMap<String, Value> = BTreeMap::new();
        for _ in 0..MAX_TICKS {
            let mut busy = Vec::new();
            for (job, run_id) in &runs {
                if finished.contains_key(job) {
                    continue;
                }
                let run = ws
                    .get("/api/2.1/jobs/runs/get", &[("run_id", run_id.to_string())])
                    .await?;
                let life = run
                    .pointer("/state/life_cycle_state")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if matches!(life, "TERMINATED" | "SKIPPED" | "INTERNAL_ERROR") {
                    finished.insert(job.clone(), run);
                } else {
                    busy.push(format!("{job} {life}"));
                }
            }
            if busy.is_empty() {
                break;
            }
            self.tick(deadline, "job runs to finish", &busy.join(", "))
                .await?;
        }
        let mut ok = Vec::new();
        let mut bad = Vec::new();
        let mut lines = Vec::new();
        let mut skipped_at_zero = false;
        for (job, _) in &runs {
            let Some(run) = finished.get(job) else {
                continue;
            };
            match run_verdict(run) {
                Ok(()) => ok.push(job.clone()),
                Err(why) => {
                    skipped_at_zero |= skipped_at_concurrency_zero(run);
                    bad.push(format!("`{job}`"));
                    lines.push(format!("`{job}`: {why}"));
                }
            }
        }
        if bad.is_empty() {
            return Ok(vec![format!("succeeded: {}", ok.join(", "))]);
        }
        let mut message = format!(
            "{} of {} job run{} did not succeed: {}",
            bad.len(),
            runs.len(),
            if runs.len() == 1 { "" } else { "s" },
            lines.join("; ")
        );
        if skipped_at_zero {
            message.push_str(&format!(
                " (max_concurrent_runs is 0 in `{ws_name}`: raise it with `set_job_concurrency` before running jobs)"
            ));
        }
        let mut f = Failure::new(message)
            .expected(format!(
                "each run of {} TERMINATED with result SUCCESS",
                bad.join(", ")
            ))
            .actual(lines.join("\n"));
        if !ok.is_empty() {
            f.details.push(format!("succeeded: {}", ok.join(", ")));
        }
        Err(f)
    }

    async fn check(&mut self, check: &Check, start: i64) -> StepResult {
        let (source, target) = self.plan.source_and_target();
        let pick = |given: &Option<String>, default: Option<&str>| -> Result<String, Failure> {
            given
                .as_deref()
                .or(default)
                .map(str::to_owned)
                .ok_or_else(|| Failure::new("the plan has no such workspace"))
        };
        match check {
            Check::Rpo { from, to } => {
                let from = self.ws(&pick(from, source)?)?.name.clone();
                let to = self.ws(&pick(to, target)?)?.name.clone();
                self.rpo(&from, &to, start)
            }
            Check::NoDrift {
                from,
                to,
                kinds,
                ignore_extra,
            } => {
                let from = self.ws(&pick(from, source)?)?.name.clone();
                let to = self.ws(&pick(to, target)?)?.name.clone();
                self.no_drift(&from, &to, kinds, *ignore_extra, start).await
            }
            Check::JobsSucceeded { workspace, jobs } => {
                let ws = self.ws(workspace)?;
                let mut bad = Vec::new();
                let mut ok = Vec::new();
                for job in jobs {
                    let Some(run_id) = self.runs.get(&(ws.name.clone(), job.clone())) else {
                        bad.push(format!(
                            "`{job}` was not run in `{}` during this rehearsal",
                            ws.name
                        ));
                        continue;
                    };
                    let run = ws
                        .get("/api/2.1/jobs/runs/get", &[("run_id", run_id.to_string())])
                        .await?;
                    match run_verdict(&run) {
                        Ok(()) => ok.push(job.clone()),
                        Err(why) => bad.push(format!("`{job}`: {why}")),
                    }
                }
                if bad.is_empty() {
                    Ok(vec![format!("latest runs succeeded: {}", ok.join(", "))])
                } else {
                    Err(Failure::new(bad.join("; "))
                        .expected(format!(
                            "the latest run of each of {} succeeded",
                            jobs.join(", ")
                        ))
                        .actual(bad.join("\n")))
                }
            }
            Check::NoPassiveViolations { workspace } => {
                let ws = self.ws(workspace)?;
                let snap = capture(
                    ws,
                    &[
                        Kind::Jobs,
                        Kind::Clusters,
                        Kind::InstancePools,
                        Kind::SqlWarehouses,
                    ],
                    start,
                )
                .await;
                incomplete(&snap, &ws.name)?;
                let rules = Rules {
                    secondary_role: DiffRole::Passive,
                    kinds: Some(vec![
                        Kind::Jobs,
                        Kind::Clusters,
                        Kind::InstancePools,
                        Kind::SqlWarehouses,
                    ]),
                    ..self.rules.clone()
                };
                let report = diff::diff(&snap, &snap, &rules);
                let found: Vec<String> = report
                    .findings
                    .iter()
                    .filter(|f| f.class == FindingClass::PassiveViolation)
                    .map(|f| format!("{} `{}`: {}", f.kind, f.key, f.message))
                    .collect();
                if found.is_empty() {
                    Ok(vec![format!(
                        "`{}` is passive: nothing would process data",
                        ws.name
                    )])
                } else {
                    Err(Failure::new(format!(
                        "`{}` is not passive: {}",
                        ws.name,
                        listed(&found)
                    ))
                    .expected("jobs paused at max_concurrent_runs 0, pools at 0 idle, clusters terminated, warehouses stopped")
                    .actual(found.join("\n")))
                }
            }
            Check::WithinRto => {
                let now = self.now().await?;
                let from = self.outage.as_ref().map_or(self.t0, |(at, _)| *at);
                let elapsed = now - from;
                let rto = (self.plan.rto_secs as i64).saturating_mul(1000);
                let since = self
                    .outage
                    .as_ref()
                    .map_or("the start".to_owned(), |(_, s)| {
                        format!("the outage (step `{s}`)")
                    });
                if elapsed <= rto {
                    Ok(vec![format!(
                        "{} since {since}, within the RTO of {}",
                        fmt_ms(elapsed),
                        format_duration(self.plan.rto_secs)
                    )])
                } else {
                    Err(Failure::new(format!(
                        "{} since {since}, beyond the RTO of {}",
                        fmt_ms(elapsed),
                        format_duration(self.plan.rto_secs)
                    ))
                    .expected(format!("at most {}", format_duration(self.plan.rto_secs)))
                    .actual(fmt_ms(elapsed)))
                }
            }
            Check::Probe {
                workspace,
                get,
                query,
                path,
                op,
                value,
            } => {
                let ws = self.ws(workspace)?;
                let q: Vec<(&str, String)> =
                    query.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
                let shown = format!(
                    "GET {get} on `{}`{}",
                    ws.name,
                    if path.is_empty() {
                        String::new()
                    } else {
                        format!(", `{path}`")
                    }
                );
                let answer = match ws.get(get, &q).await {
                    Ok(a) => a,
                    Err(e) => {
                        return Err(Failure::new(format!(
                            "{shown}: the call failed: {}",
                            brief(&e)
                        ))
                        .expected(format!("{} {}", op.symbol(), probe::short(value)))
                        .actual(brief(&e)));
                    }
                };
                let segments = probe::parse_path(path).map_err(Failure::new)?;
                let found = probe::select(&answer, &segments);
                match probe::compare(found, *op, value) {
                    Ok(()) if path.is_empty() => Ok(vec![format!("{shown}: answered")]),
                    Ok(()) => Ok(vec![format!(
                        "{shown} = {}",
                        found.map_or_else(|| "nothing".to_owned(), probe::short)
                    )]),
                    Err(why) => Err(Failure::new(format!("{shown}: {why}"))
                        .expected(format!("{} {}", op.symbol(), probe::short(value)))
                        .actual(found.map_or_else(
                            || "nothing (the path does not exist)".to_owned(),
                            probe::short,
                        ))),
                }
            }
        }
    }

    fn rpo(&mut self, from: &str, to: &str, now: i64) -> StepResult {
        let rpo_ms = (self.plan.rpo_secs as i64).saturating_mul(1000);
        // Changes made after the outage began were never made: measure to it.
        let reference = self.outage.as_ref().map_or(now, |(at, _)| *at);
        let (lag, how) = match self.last_sync.get(&(from.to_owned(), to.to_owned())) {
            Some(at) => (
                (reference - at).max(0),
                format!(
                    "the last sync from `{from}` to `{to}` ended at T+{}",
                    fmt_ms(at - self.t0)
                ),
            ),
            None => {
                let (Some(p), Some(s)) = (self.seeds.get(from), self.seeds.get(to)) else {
                    return Err(Failure::new("no seeded snapshot to measure from"));
                };
                let report = diff::diff(p, s, &self.rules_between(from));
                match report.lag {
                    Some(l) => (
                        l.max_lag_ms.max(0),
                        match l.worst {
                            Some((k, key)) => format!(
                                "no sync ran in this rehearsal; by modification times the seeded `{to}` lags `{from}` most on {k} `{key}`"
                            ),
                            None => format!(
                                "no sync ran in this rehearsal; the seeded `{to}` does not lag `{from}`"
                            ),
                        },
                    ),
                    None => {
                        return Err(Failure::new(format!(
                            "cannot measure the replication lag of `{to}`: no sync from `{from}` ran in this rehearsal and the seeded snapshots carry no modification times to compare"
                        )));
                    }
                }
            }
        };
        self.rpo_lag_ms = Some(lag);
        let line = format!(
            "{how}: {} of changes at risk (RPO {})",
            fmt_ms(lag),
            format_duration(self.plan.rpo_secs)
        );
        if lag <= rpo_ms {
            Ok(vec![line])
        } else {
            Err(Failure::new(line)
                .expected(format!(
                    "at most {} behind",
                    format_duration(self.plan.rpo_secs)
                ))
                .actual(format!("{} behind", fmt_ms(lag))))
        }
    }

    /// The pair's rules for comparing `from` (as the reference) with the
    /// other workspace: rewrites turned around when `from` is the secondary.
    fn rules_between(&self, from: &str) -> Rules {
        let mut rules = self.rules.clone();
        let from_secondary = self
            .wss
            .iter()
            .any(|w| w.name == from && w.role == Role::Secondary);
        if from_secondary {
            for r in &mut rules.rewrites {
                std::mem::swap(&mut r.primary, &mut r.secondary);
            }
            for p in &mut rules.single_region_principals {
                p.side = match p.side {
                    diff::Side::Primary => diff::Side::Secondary,
                    diff::Side::Secondary => diff::Side::Primary,
                };
            }
        }
        rules
    }

    async fn no_drift(
        &mut self,
        from: &str,
        to: &str,
        kinds: &[Kind],
        ignore_extra: bool,
        now: i64,
    ) -> StepResult {
        let (f, t) = (self.ws(from)?, self.ws(to)?);
        let a = capture(f, kinds, now).await;
        let b = capture(t, kinds, now).await;
        incomplete(&a, from)?;
        incomplete(&b, to)?;
        let rules = Rules {
            kinds: Some(kinds.to_vec()),
            secondary_role: DiffRole::Passive,
            ..self.rules_between(from)
        };
        let report = diff::diff(&a, &b, &rules);
        let found: Vec<String> = report
            .findings
            .iter()
            .filter(|f| !f.baselined)
            .filter(|f| match f.class {
                FindingClass::PassiveViolation | FindingClass::ReplicationLag => false,
                FindingClass::Extra => !ignore_extra,
                _ => true,
            })
            .map(|f| {
                (
                    format!("{} {} `{}`", f.class.name(), f.kind, f.key),
                    f.message.clone(),
                )
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|(head, message)| format!("{head}: {message}"))
            .collect();
        let compared: usize = report.summary.values().map(|s| s.compared).sum();
        if found.is_empty() {
            Ok(vec![format!(
                "{compared} objects of {} compared: `{to}` matches `{from}`",
                kinds_text(kinds)
            )])
        } else {
            Err(
                Failure::new(format!("`{to}` differs from `{from}`: {}", listed(&found)))
                    .expected(format!("no drift in {}", kinds_text(kinds)))
                    .actual(found.join("\n")),
            )
        }
    }
}

/// Fails when a capture could not read every kind (a workspace that is down).
fn incomplete(snap: &Snapshot, name: &str) -> Result<(), Failure> {
    for (kind, section) in &snap.kinds {
        if let crate::snapshot::Status::Incomplete { reason } = &section.status {
            return Err(Failure::new(format!(
                "`{name}` could not be read ({kind}): {}",
                reason.message
            ))
            .expected(format!("`{name}` answers"))
            .actual(reason.message.clone()));
        }
    }
    Ok(())
}

fn listed(items: &[String]) -> String {
    if items.len() > SHOWN_FINDINGS {
        format!(
            "{}; and {} more",
            items[..SHOWN_FINDINGS].join("; "),
            items.len() - SHOWN_FINDINGS
        )
    } else {
        items.join("; ")
    }
}

fn kinds_text(kinds: &[Kind]) -> String {
    kinds
        .iter()
        .map(|k| k.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A schedule, trigger or continuous setting with a new pause status, when
/// one differs.
fn pause_change(settings: &Value, status: &str) -> Option<Value> {
    let mut new = serde_json::Map::new();
    for f in ["schedule", "trigger", "continuous"] {
        if let Some(Value::Object(obj)) = settings.get(f) {
            if obj.get("pause_status").and_then(Value::as_str) != Some(status) {
                let mut obj = obj.clone();
                obj.insert("pause_status".into(), Value::from(status));
                new.insert(f.into(), Value::Object(obj));
            }
        }
    }
    (!new.is_empty()).then_some(Value::Object(new))
}

async fn edit_pool(ws: &Ws, pool: &Value, min_idle: i64) -> Result<(), ApiError> {
    let mut spec = serde_json::Map::new();
    for f in [
        "instance_pool_id",
        "instance_pool_name",
        "node_type_id",
        "max_capacity",
        "idle_instance_autotermination_minutes",
        "custom_tags",
    ] {
        if let Some(v) = pool.get(f) {
            spec.insert(f.into(), v.clone());
        }
    }
    spec.insert("min_idle_instances".into(), Value::from(min_idle));
    ws.post("/api/2.0/instance-pools/edit", &Value::Object(spec))
        .await
        .map(|_| ())
}

/// Names in a selection that the listing lacks: a failure naming them.
fn missing_names(
    ws: &Ws,
    sel: &Selection,
    items: &[Value],
    field: &str,
    what: &str,
) -> Result<(), Failure> {
    let Selection::Named(names) = sel else {
        return Ok(());
    };
    let have: Vec<&str> = items.iter().map(|i| s(i, field)).collect();
    let missing: Vec<&String> = names
        .iter()
        .filter(|n| !have.contains(&n.as_str()))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let m: Vec<String> = missing.iter().map(|n| format!("`{n}`")).collect();
    Err(
        Failure::new(format!("`{}` has no {what} {}", ws.name, m.join(", ")))
            .expected(format!("{what} {} in `{}`", m.join(", "), ws.name))
            .actual(format!(
                "{what}s in `{}`: {}",
                ws.name,
                if have.is_empty() {
                    "none".to_owned()
                } else {
                    have.join(", ")
                }
            )),
    )
}

/// Job name → id for a selection; names the workspace lacks fail.
async fn job_ids(ws: &Ws, jobs: &Selection) -> Result<BTreeMap<String, Value>, Failure> {
    let all = ws.jobs().await?;
    let flat: Vec<Value> = all
        .iter()
        .map(|j| json!({"name": j.pointer("/settings/name").cloned().unwrap_or(Value::Null)}))
        .collect();
    missing_names(ws, jobs, &flat, "name", "job")?;
    Ok(all
        .iter()
        .filter_map(|j| {
            let name = j.pointer("/settings/name").and_then(Value::as_str)?;
            jobs.contains(name).then(|| {
                (
                    name.to_owned(),
                    j.get("job_id").cloned().unwrap_or(Value::Null),
                )
            })
        })
        .collect())
}

/// Why a cluster stopped, from its termination reason or state message.
fn cluster_reason(c: &Value) -> String {
    c.pointer("/termination_reason/parameters/databricks_error_message")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .or_else(|| {
            c.get("state_message")
                .and_then(Value::as_str)
                .filter(|m| !m.is_empty())
        })
        .or_else(|| {
            c.pointer("/termination_reason/code")
                .and_then(Value::as_str)
        })
        .unwrap_or("it terminated")
        .to_owned()
}

/// Ok when a finished run succeeded; else what happened, naming the task.
fn run_verdict(run: &Value) -> Result<(), String> {
    let life = run
        .pointer("/state/life_cycle_state")
        .and_then(Value::as_str)
        .unwrap_or("?");
    let result = run.pointer("/state/result_state").and_then(Value::as_str);
    if life == "TERMINATED" && result == Some("SUCCESS") {
        return Ok(());
    }
    if !matches!(life, "TERMINATED" | "SKIPPED" | "INTERNAL_ERROR") {
        return Err(format!("still {life}"));
    }
    let message = run
        .pointer("/state/state_message")
        .and_then(Value::as_str)
        .unwrap_or("");
    let task = run
        .get("tasks")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|t| t.pointer("/state/result_state").and_then(Value::as_str) == Some("FAILED"))
        .map(|t| s(t, "task_key").to_owned());
    let mut out = match result {
        Some(r) => format!("{life} {r}"),
        None => life.to_owned(),
    };
    if let Some(t) = task.filter(|_| life == "TERMINATED") {
        out.push_str(&format!(" in task `{t}`"));
    }
    if !message.is_empty() {
        out.push_str(&format!(": {message}"));
    }
    Err(out)
}

/// True for a run skipped because the job's concurrency limit is 0.
fn skipped_at_concurrency_zero(run: &Value) -> bool {
    run.pointer("/state/life_cycle_state")
        .and_then(Value::as_str)
        == Some("SKIPPED")
        && run
            .pointer("/status/termination_details/code")
            .and_then(Value::as_str)
            == Some("MAX_CONCURRENT_RUNS_EXCEEDED")
        && run
            .pointer("/state/state_message")
            .and_then(Value::as_str)
            .is_some_and(|m| m.contains("limit of 0 "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_verdicts_name_the_failing_task_and_the_reason() {
        let ok = json!({"state": {"life_cycle_state": "TERMINATED", "result_state": "SUCCESS"}});
        assert_eq!(run_verdict(&ok), Ok(()));
        let failed = json!({
            "state": {"life_cycle_state": "TERMINATED", "result_state": "FAILED", "state_message": "Unable to access the notebook \"/x\"."},
            "tasks": [
                {"task_key": "a", "state": {"result_state": "UPSTREAM_FAILED"}},
                {"task_key": "b", "state": {"result_state": "FAILED"}}
            ]
        });
        assert_eq!(
            run_verdict(&failed),
            Err("TERMINATED FAILED in task `b`: Unable to access the notebook \"/x\".".to_owned())
        );
        let skipped = json!({
            "state": {"life_cycle_state": "SKIPPED", "state_message": "Skipping this run because the limit of 0 maximum concurrent runs has been reached."},
            "status": {"termination_details": {"code": "MAX_CONCURRENT_RUNS_EXCEEDED"}}
        });
        assert!(
            run_verdict(&skipped)
                .unwrap_err()
                .starts_with("SKIPPED: Skipping this run")
        );
        assert!(skipped_at_concurrency_zero(&skipped));
        assert!(!skipped_at_concurrency_zero(&failed));
    }

    #[test]
    fn pause_changes_only_what_differs() {
        let settings = json!({"schedule": {"quartz_cron_expression": "0 0 * * * ?", "timezone_id": "UTC", "pause_status": "PAUSED"}});
        assert_eq!(pause_change(&settings, "PAUSED"), None);
        let change = pause_change(&settings, "UNPAUSED").unwrap();
        assert_eq!(change["schedule"]["pause_status"], "UNPAUSED");
        assert_eq!(change["schedule"]["timezone_id"], "UTC");
        assert_eq!(pause_change(&json!({"name": "x"}), "UNPAUSED"), None);
    }

    #[test]
    fn durations_round_up_to_seconds() {
        assert_eq!(fmt_ms(0), "0s");
        assert_eq!(fmt_ms(1), "1s");
        assert_eq!(fmt_ms(930_000), "15m30s");
        assert_eq!(fmt_ms(-5), "0s");
    }
}
