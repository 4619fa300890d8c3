//! What a rehearsal tells the world, as typed events, and the report that
//! folds them up.
//!
//! The runner emits [`Event`]s as it goes (the command line prints progress
//! from them); [`RehearsalReport::from_events`] folds a run's events into
//! the one value every renderer reads. Times are virtual: milliseconds since
//! the run started, plus the virtual epoch time it started at, so the same
//! plan against the same seeds gives the same report bytes.

use serde::Serialize;

use super::plan::{Diagnostic, Direction, Role};

/// The JSON report's schema version.
///
/// Changelog:
/// - 1: first version: run facts, steps with outcome, timing, expected and
///   actual, rollbacks, the measured recovery time and replication lag.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// One thing that happened during a rehearsal.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The plan passed its static checks and the first step is about to run.
    RunStarted(RunInfo),
    /// A step started.
    StepStarted {
        /// 0-based position in the plan.
        index: usize,
        /// The step's name.
        name: String,
        /// Virtual ms since the run started.
        at_ms: i64,
    },
    /// A step finished (passed, failed, was skipped or interrupted).
    StepFinished(StepRecord),
    /// A rollback ran after the plan stopped.
    RollbackFinished(RollbackRecord),
    /// The run is over.
    RunFinished(RunSummary),
}

/// What is rehearsed, against what.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunInfo {
    /// The plan's name.
    pub plan: String,
    /// The plan file.
    pub file: String,
    /// Failover or failback.
    pub direction: Direction,
    /// The plan's RPO, seconds.
    pub rpo_secs: u64,
    /// The plan's RTO, seconds.
    pub rto_secs: u64,
    /// Virtual epoch ms at the start (all other times are offsets from it).
    pub start_ms: i64,
    /// The workspaces, in plan order.
    pub workspaces: Vec<WorkspaceInfo>,
    /// Step names, in order.
    pub steps: Vec<String>,
    /// Static-check warnings (errors stop the run before it starts).
    pub warnings: Vec<Diagnostic>,
    /// True when time is virtual (mocks); false against a real workspace.
    pub virtual_time: bool,
}

/// One workspace of the run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WorkspaceInfo {
    /// The plan's name for it.
    pub name: String,
    /// Primary or secondary.
    pub role: Role,
    /// Where it came from: `mock seeded from fixtures/primary.json`, a host.
    pub source: String,
}

/// How a step ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepOutcome {
    /// It did what it should.
    Passed,
    /// It did not; `message`, `expected` and `actual` say how.
    Failed,
    /// It did not run (an earlier step failed, or the run was interrupted).
    Skipped,
    /// It was running when the run was interrupted.
    Interrupted,
}

impl StepOutcome {
    /// The lowercase name reports use.
    pub fn name(self) -> &'static str {
        match self {
            StepOutcome::Passed => "passed",
            StepOutcome::Failed => "failed",
            StepOutcome::Skipped => "skipped",
            StepOutcome::Interrupted => "interrupted",
        }
    }
}

/// One step's result.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StepRecord {
    /// 0-based position in the plan.
    pub index: usize,
    /// The step's name.
    pub name: String,
    /// `action freeze`, `check no_drift`.
    pub kind: String,
    /// The workspace it worked on, after endpoint resolution.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
    /// Virtual ms since the run started, when it started.
    pub started_ms: i64,
    /// Virtual ms it took.
    pub duration_ms: i64,
    /// How it ended.
    pub outcome: StepOutcome,
    /// Why it failed or was skipped, in one line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// What the step expected, when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// What the workspace answered, when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
    /// What it did or saw, one line each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
    /// The plan goes on when this step fails.
    pub continue_on_failure: bool,
}

/// A rollback's result.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RollbackRecord {
    /// The step whose rollback it is.
    pub step: String,
    /// The rollback's action.
    pub action: String,
    /// Virtual ms since the run started.
    pub started_ms: i64,
    /// Virtual ms it took.
    pub duration_ms: i64,
    /// Passed or failed.
    pub outcome: StepOutcome,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// How the run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    /// Every step passed and the recovery fit the RTO.
    Passed,
    /// A step failed, or the recovery took longer than the RTO.
    Failed,
    /// Stopped by the user (Ctrl-C) before the end.
    Interrupted,
}

impl RunOutcome {
    /// The uppercase word reports lead with.
    pub fn word(self) -> &'static str {
        match self {
            RunOutcome::Passed => "PASSED",
            RunOutcome::Failed => "FAILED",
            RunOutcome::Interrupted => "INTERRUPTED",
        }
    }
}

/// The run's measurements and verdict.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunSummary {
    /// Passed, failed or interrupted.
    pub outcome: RunOutcome,
    /// Virtual ms since the start when the last step ended.
    pub end_ms: i64,
    /// Virtual ms from `recovery_from` to the end of the last step that ran.
    pub recovery_ms: i64,
    /// Virtual ms since the start where recovery is measured from.
    pub recovery_start_ms: i64,
    /// The outage step recovery is measured from; `None` means the start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_from: Option<String>,
    /// The RTO, ms.
    pub rto_ms: i64,
    /// `recovery_ms <= rto_ms`.
    pub within_rto: bool,
    /// The replication lag the last `rpo` check measured, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rpo_lag_ms: Option<i64>,
    /// The RPO, ms.
    pub rpo_ms: i64,
    /// Names of the steps that failed, in order.
    pub failed_steps: Vec<String>,
}

/// A whole rehearsal, folded from its events: what every renderer reads.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RehearsalReport {
    /// Always [`REPORT_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// What ran against what.
    pub run: RunInfo,
    /// Every step of the plan, in order (skipped ones included).
    pub steps: Vec<StepRecord>,
    /// Rollbacks that ran, in order.
    pub rollbacks: Vec<RollbackRecord>,
    /// The verdict and measurements.
    pub summary: RunSummary,
}

impl RehearsalReport {
    /// Folds a run's events; `None` when they do not hold a whole run.
    pub fn from_events(events: &[Event]) -> Option<RehearsalReport> {
        let mut run = None;
        let mut steps = Vec::new();
        let mut rollbacks = Vec::new();
        let mut summary = None;
        for e in events {
            match e {
                Event::RunStarted(info) => run = Some(info.clone()),
                Event::StepStarted { .. } => {}
                Event::StepFinished(s) => steps.push(s.clone()),
                Event::RollbackFinished(r) => rollbacks.push(r.clone()),
                Event::RunFinished(s) => summary = Some(s.clone()),
            }
        }
        steps.sort_by_key(|s: &StepRecord| s.index);
        Some(RehearsalReport {
            schema_version: REPORT_SCHEMA_VERSION,
            run: run?,
            steps,
            rollbacks,
            summary: summary?,
        })
    }

    /// True when the rehearsal passed.
    pub fn passed(&self) -> bool {
        self.summary.outcome == RunOutcome::Passed
    }
}

/// Where the runner sends events.
pub trait EventSink: Send {
    /// One event, as it happens.
    fn emit(&mut self, event: &Event);
}

impl EventSink for Vec<Event> {
    fn emit(&mut self, event: &Event) {
        self.push(event.clone());
    }
}

/// A sink that calls a function.
pub struct FnSink<F>(pub F);

impl<F: FnMut(&Event) + Send> EventSink for FnSink<F> {
    fn emit(&mut self, event: &Event) {
        (self.0)(event);
    }
}
