//! Rehearsals: a failover or failback plan, checked statically and then run
//! step by step against two workspaces (in-process mocks by default),
//! emitting typed events that reporters turn into text, JSON, JUnit and a
//! Markdown timeline.
//!
//! - the plan language ([`parse`], [`load`], [`to_yaml`]): YAML read into a
//!   [`Plan`] with every mistake located by file, line and column;
//! - [`check`]: static checks, against the seeded snapshots when known;
//! - [`rehearse`]: the runner, driving workspaces through the REST API on
//!   the mocks' virtual clock and emitting [`Event`]s; [`start_mocks`] and
//!   [`load_seed`] (a fixture or a snapshot) give it workspaces;
//! - [`render`] / [`render_all`]: text, JSON, JUnit and Markdown reports of
//!   a [`RehearsalReport`], folded from the events only;
//! - [`template`]: the plans `standby plan init` writes.

mod api;
mod check;
mod events;
mod plan;
mod probe;
mod report;
mod runner;
mod seed;
mod sync;
mod templates;
mod yaml;

pub use api::CancelToken;
pub use check::{ComputeRefs, Inventory, JobFacts, check};
pub use events::{
    Event, EventSink, FnSink, REPORT_SCHEMA_VERSION, RehearsalReport, RollbackRecord, RunInfo,
    RunOutcome, RunSummary, StepOutcome, StepRecord, WorkspaceInfo,
};
pub use plan::{
    ACTIONS, Action, CHECKS, Check, Diagnostic, Direction, EndpointDecl, FieldSpec, Plan,
    PlanErrors, ProbeOp, Role, SYNC_KINDS, Selection, Severity, Step, StepBody, WorkspaceDecl,
    format_duration, load, parse, parse_duration, to_yaml,
};
pub use report::{
    ReportFormat, UnknownReportFormat, at as format_offset, render, render_all, summary_line,
};
pub use runner::{
    InProcess, RehearsalEnv, RehearseError, RunOptions, Target, check_against, load_seed,
    plan_rules, rehearse, seed_path, start_mocks,
};
pub use seed::fixture_from_snapshot;
pub use templates::template;
pub use yaml::Pos;
