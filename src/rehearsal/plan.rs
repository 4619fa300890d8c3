//! The plan language: a YAML file naming a failover or failback procedure,
//! step by step, read into a [`Plan`] with every mistake located by file,
//! line and column, and written back by [`to_yaml`].
//!
//! ```yaml
//! name: failover to us-west-2
//! direction: failover            # or failback
//! rpo: 1h                        # durations: 90s, 30m, 1h, 1h30m, 2d, or seconds
//! rto: 4h
//! config: ../standby.toml        # optional: the pair's rules for drift checks
//! pair: prod/dr-usw2             # optional: which pair of that file
//! workspaces:                    # exactly two: one primary, one secondary
//!   primary: {role: primary, seed: ../primary.json}    # seed: fixture or snapshot
//!   secondary: {role: secondary, seed: ../secondary.json}
//! endpoints:                     # optional: names clients use, and where they point
//!   workspace-url: primary
//! steps:
//!   - name: freeze primary       # unique
//!     action: freeze             # or `check: <check>`
//!     workspace: primary         # a workspace or an endpoint
//!     timeout: 15m               # optional, virtual time
//!     continue_on_failure: false # optional
//!     needs: [sync]              # optional: steps that must come first
//!     rollback: {action: end_outage, workspace: primary}   # optional
//! ```
//!
//! The actions and checks, and their fields, are listed in [`ACTIONS`] and
//! [`CHECKS`]; `standby plan init` writes a commented plan to start from.

pub use crate::duration::{format_duration, parse_duration};
use std::fmt;

use serde::Serialize;

use super::yaml::{self, Key, Node, Out, Plain, Pos, Value, Writer, resolve_plain};
use crate::kind::Kind;

/// A plan, as read from its file.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Plan {
    /// Where it was read from, for messages and to resolve relative paths.
    pub file: String,
    /// What the plan is called in reports.
    pub name: String,
    /// One paragraph for people, optional.
    pub description: Option<String>,
    /// Failover (to the secondary) or failback (to the primary).
    pub direction: Direction,
    /// Recovery point objective, seconds.
    pub rpo_secs: u64,
    /// Recovery time objective, seconds.
    pub rto_secs: u64,
    /// `standby.toml` with the pair's rules, relative to the plan file.
    pub config: Option<String>,
    /// The pair of that file (`PAIR` or `PAIR/SECONDARY`).
    pub pair: Option<String>,
    /// The two workspaces, in file order.
    pub workspaces: Vec<WorkspaceDecl>,
    /// Endpoint aliases and the workspace each points to at the start.
    pub endpoints: Vec<EndpointDecl>,
    /// The steps, in order.
    pub steps: Vec<Step>,
}

/// The direction of a plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Move work from the primary to the secondary.
    Failover,
    /// Move work back to the primary.
    Failback,
}

impl Direction {
    /// The name used in plans.
    pub fn name(self) -> &'static str {
        match self {
            Direction::Failover => "failover",
            Direction::Failback => "failback",
        }
    }
}

/// A workspace's role in the pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The production (normally active) workspace.
    Primary,
    /// The disaster-recovery (normally passive) workspace.
    Secondary,
}

impl Role {
    /// The name used in plans.
    pub fn name(self) -> &'static str {
        match self {
            Role::Primary => "primary",
            Role::Secondary => "secondary",
        }
    }
}

/// A workspace of the plan.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WorkspaceDecl {
    /// The name steps use.
    pub name: String,
    /// Primary or secondary.
    pub role: Role,
    /// A fixture or snapshot to seed its mock from, relative to the plan file.
    pub seed: Option<String>,
    /// Where it was declared.
    pub pos: Pos,
}

/// An endpoint alias: a name clients use, pointing at a workspace.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EndpointDecl {
    /// The alias.
    pub name: String,
    /// The workspace it points to when the plan starts.
    pub target: String,
    /// Where it was declared.
    pub pos: Pos,
}

/// One step.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Step {
    /// Unique within the plan.
    pub name: String,
    /// What the step does.
    pub body: StepBody,
    /// Longest the step may take, in virtual seconds.
    pub timeout_secs: Option<u64>,
    /// Keep going when this step fails (the plan still fails).
    pub continue_on_failure: bool,
    /// Names of steps that must come before this one.
    pub needs: Vec<String>,
    /// Run when the plan stops at or after this step.
    pub rollback: Option<Action>,
    /// A note for people.
    pub note: Option<String>,
    /// Where the step starts.
    pub pos: Pos,
}

/// An action or a check.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepBody {
    /// Changes a workspace (or time).
    Action(Action),
    /// Looks and judges.
    Check(Check),
}

impl StepBody {
    /// `action freeze` or `check rpo`.
    pub fn label(&self) -> String {
        match self {
            StepBody::Action(a) => format!("action {}", a.name()),
            StepBody::Check(c) => format!("check {}", c.name()),
        }
    }
}

/// Which objects of a kind an action applies to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Selection {
    /// Every object of the kind (the field omitted or `all`).
    All,
    /// These, by name.
    Named(Vec<String>),
}

impl Selection {
    /// True when `name` is selected.
    pub fn contains(&self, name: &str) -> bool {
        match self {
            Selection::All => true,
            Selection::Named(names) => names.iter().any(|n| n == name),
        }
    }
}

/// The kinds a `sync` copies, in the order it copies them.
pub const SYNC_KINDS: [Kind; 9] = [
    Kind::Users,
    Kind::Groups,
    Kind::InstancePools,
    Kind::ClusterPolicies,
    Kind::Clusters,
    Kind::WorkspaceObjects,
    Kind::SecretScopes,
    Kind::Jobs,
    Kind::Permissions,
];

/// An action: something the runner does to a workspace, or to time.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Make a workspace process nothing: pools' idle instances to 0,
    /// all-purpose clusters terminated, jobs paused with concurrency 0,
    /// warehouses stopped.
    Freeze {
        /// The workspace (or endpoint).
        workspace: String,
        /// Set pools' `min_idle_instances` to 0.
        pools: bool,
        /// Terminate all-purpose clusters.
        clusters: bool,
        /// Pause schedules, triggers and continuous jobs; concurrency 0.
        jobs: bool,
        /// Stop SQL warehouses.
        warehouses: bool,
    },
    /// The workspace's region goes down: its API answers 503.
    SimulateOutage {
        /// The workspace.
        workspace: String,
    },
    /// The workspace's region is back.
    EndOutage {
        /// The workspace.
        workspace: String,
    },
    /// Wait until no run of the selected jobs is active.
    WaitForRuns {
        /// The workspace.
        workspace: String,
        /// Which jobs.
        jobs: Selection,
    },
    /// Copy objects of the named kinds from one workspace to the other.
    Sync {
        /// Source workspace.
        from: String,
        /// Target workspace.
        to: String,
        /// Kinds to copy, in [`SYNC_KINDS`] order.
        kinds: Vec<Kind>,
        /// The value secret keys are created with (values cannot be read).
        secret_placeholder: Option<String>,
        /// Write objects in their passive form (concurrency 0, paused,
        /// idle 0, clusters terminated); on by default.
        passive: bool,
    },
    /// Set pools' `min_idle_instances`.
    RaisePools {
        /// The workspace.
        workspace: String,
        /// Which pools.
        pools: Selection,
        /// The new value.
        min_idle_instances: u32,
    },
    /// Start all-purpose clusters and wait until they run.
    StartClusters {
        /// The workspace.
        workspace: String,
        /// Which clusters.
        clusters: Selection,
    },
    /// Start SQL warehouses and wait until they run.
    StartWarehouses {
        /// The workspace.
        workspace: String,
        /// Which warehouses.
        warehouses: Selection,
    },
    /// Set jobs' `max_concurrent_runs`.
    SetJobConcurrency {
        /// The workspace.
        workspace: String,
        /// Which jobs.
        jobs: Selection,
        /// The new value.
        max_concurrent_runs: u32,
    },
    /// Unpause jobs' schedules, triggers and continuous runs.
    UnpauseJobs {
        /// The workspace.
        workspace: String,
        /// Which jobs.
        jobs: Selection,
    },
    /// Pause jobs' schedules, triggers and continuous runs.
    PauseJobs {
        /// The workspace.
        workspace: String,
        /// Which jobs.
        jobs: Selection,
    },
    /// Run jobs now and wait for their results; fails unless each succeeds.
    RunJobs {
        /// The workspace.
        workspace: String,
        /// The jobs, by name.
        jobs: Vec<String>,
    },
    /// Point an endpoint alias at another workspace.
    SwitchEndpoint {
        /// The alias.
        endpoint: String,
        /// The workspace.
        to: String,
    },
    /// Let virtual time pass (a manual step, a soak).
    Wait {
        /// How long, seconds.
        duration_secs: u64,
    },
}

/// A check: reads state and passes or fails.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "check", rename_all = "snake_case")]
pub enum Check {
    /// The latest sync into `to` is within the RPO.
    Rpo {
        /// The replicated workspace (defaults from the direction).
        from: Option<String>,
        /// The copy (defaults from the direction).
        to: Option<String>,
    },
    /// No drift between the two for the named kinds.
    NoDrift {
        /// The reference workspace (defaults from the direction).
        from: Option<String>,
        /// The copy (defaults from the direction).
        to: Option<String>,
        /// Kinds compared.
        kinds: Vec<Kind>,
        /// Objects only the copy holds are not drift.
        ignore_extra: bool,
    },
    /// The latest rehearsal run of each job succeeded.
    JobsSucceeded {
        /// The workspace.
        workspace: String,
        /// The jobs.
        jobs: Vec<String>,
    },
    /// The workspace is passive: nothing would process data.
    NoPassiveViolations {
        /// The workspace.
        workspace: String,
    },
    /// The time since the outage (or the start) is within the RTO.
    WithinRto,
    /// A GET, a JSON path into the answer, compared with a value.
    Probe {
        /// The workspace.
        workspace: String,
        /// API path, `/api/...`.
        get: String,
        /// Query parameters.
        query: Vec<(String, String)>,
        /// Path into the answer: `clusters[cluster_name=x].state`, `jobs[0]`.
        path: String,
        /// How to compare.
        op: ProbeOp,
        /// The value compared with (`null` for `exists` and `absent`).
        value: serde_json::Value,
    },
}

/// How a probe compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ProbeOp {
    /// Equal.
    #[serde(rename = "==")]
    Eq,
    /// Not equal.
    #[serde(rename = "!=")]
    Ne,
    /// Less than (numbers).
    #[serde(rename = "<")]
    Lt,
    /// At most.
    #[serde(rename = "<=")]
    Le,
    /// More than.
    #[serde(rename = ">")]
    Gt,
    /// At least.
    #[serde(rename = ">=")]
    Ge,
    /// A string contains, or a list has, the value.
    #[serde(rename = "contains")]
    Contains,
    /// The path exists.
    #[serde(rename = "exists")]
    Exists,
    /// The path does not exist.
    #[serde(rename = "absent")]
    Absent,
}

impl ProbeOp {
    const ALL: [ProbeOp; 9] = [
        ProbeOp::Eq,
        ProbeOp::Ne,
        ProbeOp::Lt,
        ProbeOp::Le,
        ProbeOp::Gt,
        ProbeOp::Ge,
        ProbeOp::Contains,
        ProbeOp::Exists,
        ProbeOp::Absent,
    ];

    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            ProbeOp::Eq => "==",
            ProbeOp::Ne => "!=",
            ProbeOp::Lt => "<",
            ProbeOp::Le => "<=",
            ProbeOp::Gt => ">",
            ProbeOp::Ge => ">=",
            ProbeOp::Contains => "contains",
            ProbeOp::Exists => "exists",
            ProbeOp::Absent => "absent",
        }
    }

    /// True for operators without a value.
    pub fn unary(self) -> bool {
        matches!(self, ProbeOp::Exists | ProbeOp::Absent)
    }
}

/// One action's or check's fields: name, type, whether required, what it means.
pub struct FieldSpec {
    /// The field.
    pub name: &'static str,
    /// What it holds, for messages and `plan init`.
    pub expected: &'static str,
    /// Required or optional.
    pub required: bool,
}

const fn req(name: &'static str, expected: &'static str) -> FieldSpec {
    FieldSpec {
        name,
        expected,
        required: true,
    }
}

const fn opt(name: &'static str, expected: &'static str) -> FieldSpec {
    FieldSpec {
        name,
        expected,
        required: false,
    }
}

const WS: FieldSpec = req("workspace", "a workspace or endpoint name");
const SEL: &str = "`all` or a list of names";

/// Every action and its fields.
pub const ACTIONS: &[(&str, &[FieldSpec])] = &[
    (
        "freeze",
        &[
            WS,
            opt("pools", "a boolean"),
            opt("clusters", "a boolean"),
            opt("jobs", "a boolean"),
            opt("warehouses", "a boolean"),
        ],
    ),
    ("simulate_outage", &[WS]),
    ("end_outage", &[WS]),
    ("wait_for_runs", &[WS, opt("jobs", SEL)]),
    (
        "sync",
        &[
            req("from", "a workspace name"),
            req("to", "a workspace name"),
            req("kinds", "a list of kinds"),
            opt("secret_placeholder", "a string"),
            opt("passive", "a boolean"),
        ],
    ),
    (
        "raise_pools",
        &[
            WS,
            opt("pools", SEL),
            req("min_idle_instances", "a non-negative integer"),
        ],
    ),
    ("start_clusters", &[WS, opt("clusters", SEL)]),
    ("start_warehouses", &[WS, opt("warehouses", SEL)]),
    (
        "set_job_concurrency",
        &[
            WS,
            opt("jobs", SEL),
            req("max_concurrent_runs", "an integer from 0 to 1000"),
        ],
    ),
    ("unpause_jobs", &[WS, opt("jobs", SEL)]),
    ("pause_jobs", &[WS, opt("jobs", SEL)]),
    ("run_jobs", &[WS, req("jobs", "a list of job names")]),
    (
        "switch_endpoint",
        &[
            req("endpoint", "an endpoint name"),
            req("to", "a workspace name"),
        ],
    ),
    ("wait", &[req("duration", "a duration such as `30m`")]),
];

/// Every check and its fields.
pub const CHECKS: &[(&str, &[FieldSpec])] = &[
    (
        "rpo",
        &[
            opt("from", "a workspace name"),
            opt("to", "a workspace name"),
        ],
    ),
    (
        "no_drift",
        &[
            opt("from", "a workspace name"),
            opt("to", "a workspace name"),
            req("kinds", "a list of kinds"),
            opt("ignore_extra", "a boolean"),
        ],
    ),
    ("jobs_succeeded", &[WS, req("jobs", "a list of job names")]),
    ("no_passive_violations", &[WS]),
    ("within_rto", &[]),
    (
        "probe",
        &[
            WS,
            req("get", "an API path such as `/api/2.1/clusters/list`"),
            opt("query", "a mapping of query parameters"),
            opt(
                "path",
                "a path into the answer such as `clusters[cluster_name=x].state`",
            ),
            req(
                "op",
                "one of ==, !=, <, <=, >, >=, contains, exists, absent",
            ),
            opt("value", "the value to compare with"),
        ],
    ),
];

const STEP_FIELDS: &[&str] = &[
    "name",
    "action",
    "check",
    "timeout",
    "continue_on_failure",
    "needs",
    "rollback",
    "note",
];

const PLAN_FIELDS: &[&str] = &[
    "name",
    "description",
    "direction",
    "rpo",
    "rto",
    "config",
    "pair",
    "workspaces",
    "endpoints",
    "steps",
];

impl Action {
    /// The action's name in plans.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Freeze { .. } => "freeze",
            Action::SimulateOutage { .. } => "simulate_outage",
            Action::EndOutage { .. } => "end_outage",
            Action::WaitForRuns { .. } => "wait_for_runs",
            Action::Sync { .. } => "sync",
            Action::RaisePools { .. } => "raise_pools",
            Action::StartClusters { .. } => "start_clusters",
            Action::StartWarehouses { .. } => "start_warehouses",
            Action::SetJobConcurrency { .. } => "set_job_concurrency",
            Action::UnpauseJobs { .. } => "unpause_jobs",
            Action::PauseJobs { .. } => "pause_jobs",
            Action::RunJobs { .. } => "run_jobs",
            Action::SwitchEndpoint { .. } => "switch_endpoint",
            Action::Wait { .. } => "wait",
        }
    }

    /// The workspace (or endpoint) the action works on, if one.
    pub fn workspace(&self) -> Option<&str> {
        match self {
            Action::Freeze { workspace, .. }
            | Action::SimulateOutage { workspace }
            | Action::EndOutage { workspace }
            | Action::WaitForRuns { workspace, .. }
            | Action::RaisePools { workspace, .. }
            | Action::StartClusters { workspace, .. }
            | Action::StartWarehouses { workspace, .. }
            | Action::SetJobConcurrency { workspace, .. }
            | Action::UnpauseJobs { workspace, .. }
            | Action::PauseJobs { workspace, .. }
            | Action::RunJobs { workspace, .. } => Some(workspace),
            Action::Sync { to, .. } => Some(to),
            Action::SwitchEndpoint { .. } | Action::Wait { .. } => None,
        }
    }
}

impl Check {
    /// The check's name in plans.
    pub fn name(&self) -> &'static str {
        match self {
            Check::Rpo { .. } => "rpo",
            Check::NoDrift { .. } => "no_drift",
            Check::JobsSucceeded { .. } => "jobs_succeeded",
            Check::NoPassiveViolations { .. } => "no_passive_violations",
            Check::WithinRto => "within_rto",
            Check::Probe { .. } => "probe",
        }
    }
}

impl Plan {
    /// The workspace with a role.
    pub fn workspace_with(&self, role: Role) -> Option<&WorkspaceDecl> {
        self.workspaces.iter().find(|w| w.role == role)
    }

    /// The workspace a plan moves work away from and the one it moves it to:
    /// (primary, secondary) for a failover, the reverse for a failback.
    pub fn source_and_target(&self) -> (Option<&str>, Option<&str>) {
        let p = self.workspace_with(Role::Primary).map(|w| w.name.as_str());
        let s = self
            .workspace_with(Role::Secondary)
            .map(|w| w.name.as_str());
        match self.direction {
            Direction::Failover => (p, s),
            Direction::Failback => (s, p),
        }
    }
}

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The plan cannot run as written.
    Error,
    /// Worth a look; the plan can run.
    Warning,
}

/// A problem in a plan, with where it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// The plan file.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong, and what would fix it.
    pub message: String,
}

impl Diagnostic {
    /// An error at a position.
    pub fn error(file: &str, pos: Pos, message: impl Into<String>) -> Self {
        Diagnostic {
            file: file.to_owned(),
            line: pos.line.max(1),
            column: pos.column.max(1),
            severity: Severity::Error,
            message: message.into(),
        }
    }

    /// A warning at a position.
    pub fn warning(file: &str, pos: Pos, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(file, pos, message)
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{}:{}:{}: {level}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

/// Every diagnostic of a plan that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct PlanErrors(pub Vec<Diagnostic>);

/// Reads a plan file.
pub fn load(path: &std::path::Path) -> Result<Plan, PlanErrors> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        PlanErrors(vec![Diagnostic::error(
            &file,
            Pos { line: 1, column: 1 },
            format!("cannot read the plan: {e}"),
        )])
    })?;
    parse(&text, &file)
}

/// Parses plan text; `file` names it in diagnostics. Every error found is
/// returned, not only the first (a YAML syntax error stops at once).
pub fn parse(text: &str, file: &str) -> Result<Plan, PlanErrors> {
    let root = yaml::parse(text)
        .map_err(|e| PlanErrors(vec![Diagnostic::error(file, e.pos, e.message)]))?;
    let mut r = Reader {
        file,
        errors: Vec::new(),
    };
    let plan = r.plan(&root);
    match plan {
        Some(plan) if r.errors.is_empty() => Ok(plan),
        _ => {
            if r.errors.is_empty() {
                r.err(root.pos, "the plan could not be read");
            }
            r.errors.sort_by_key(|d| (d.line, d.column));
            r.errors.dedup();
            Err(PlanErrors(r.errors))
        }
    }
}

/// The closest name, for "did you mean" hints (edit distance at most 2,
/// or one name containing the other).
pub(crate) fn closest<'a>(
    wanted: &str,
    names: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    names
        .into_iter()
        .map(|n| (distance(wanted, n), n))
        .filter(|(d, n)| {
            *d <= 2 || (wanted.len() > 3 && (n.contains(wanted) || wanted.contains(n)))
        })
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn hint(wanted: &str, names: &[&str]) -> String {
    closest(wanted, names.iter().copied())
        .map(|n| format!("; did you mean `{n}`?"))
        .unwrap_or_default()
}

fn list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads the YAML tree into a plan, collecting errors.
struct Reader<'f> {
    file: &'f str,
    errors: Vec<Diagnostic>,
}

/// A mapping's entries, looked up by key.
struct Fields<'n> {
    pos: Pos,
    entries: &'n [(Key, Node)],
}

impl<'n> Fields<'n> {
    fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _)| k.text == key)
            .map(|(_, v)| v)
    }
}

impl Reader<'_> {
    fn err(&mut self, pos: Pos, message: impl Into<String>) {
        self.errors
            .push(Diagnostic::error(self.file, pos, message.into()));
    }

    fn fields<'n>(&mut self, node: &'n Node, what: &str) -> Option<Fields<'n>> {
        match &node.value {
            Value::Map(entries) => Some(Fields {
                pos: node.pos,
                entries,
            }),
            _ => {
                self.err(
                    node.pos,
                    format!("{what} must be a mapping, not {}", node.describe()),
                );
                None
            }
        }
    }

    /// Reports keys not in `allowed`.
    fn only(&mut self, fields: &Fields<'_>, allowed: &[&str], what: &str) {
        for (key, _) in fields.entries {
            if !allowed.contains(&key.text.as_str()) {
                let message = format!(
                    "unknown field `{}` in {what} (expected one of: {}){}",
                    key.text,
                    list(allowed),
                    hint(&key.text, allowed)
                );
                self.err(key.pos, message);
            }
        }
    }

    fn missing(&mut self, fields: &Fields<'_>, key: &str, what: &str, expected: &str) {
        self.err(
            fields.pos,
            format!("{what} is missing `{key}` ({expected})"),
        );
    }

    fn string(&mut self, node: &Node, key: &str) -> Option<String> {
        match &node.value {
            Value::Scalar { text, plain: false } => Some(text.clone()),
            Value::Scalar { text, plain: true } => match resolve_plain(text) {
                Plain::Str(_) | Plain::Int(_) | Plain::Float(_) => Some(text.clone()),
                _ => {
                    self.err(
                        node.pos,
                        format!("`{key}` must be a string, not {}", node.describe()),
                    );
                    None
                }
            },
            _ => {
                self.err(
                    node.pos,
                    format!("`{key}` must be a string, not {}", node.describe()),
                );
                None
            }
        }
    }

    fn name(&mut self, node: &Node, key: &str) -> Option<String> {
        let s = self.string(node, key)?;
        if s.trim().is_empty() {
            self.err(node.pos, format!("`{key}` must not be empty"));
            return None;
        }
        Some(s)
    }

    fn boolean(&mut self, node: &Node, key: &str) -> Option<bool> {
        match &node.value {
            Value::Scalar { text, plain: true } => match resolve_plain(text) {
                Plain::Bool(b) => Some(b),
                _ => {
                    self.err(
                        node.pos,
                        format!("`{key}` must be `true` or `false`, not {}", node.describe()),
                    );
                    None
                }
            },
            _ => {
                self.err(
                    node.pos,
                    format!("`{key}` must be `true` or `false`, not {}", node.describe()),
                );
                None
            }
        }
    }

    fn integer(&mut self, node: &Node, key: &str, max: u64) -> Option<u32> {
        if let Value::Scalar { text, plain: true } = &node.value {
            if let Plain::Int(i) = resolve_plain(text) {
                if (0..=max as i64).contains(&i) {
                    return u32::try_from(i).ok();
                }
                self.err(
                    node.pos,
                    format!("`{key}` must be between 0 and {max}, not {i}"),
                );
                return None;
            }
        }
        self.err(
            node.pos,
            format!("`{key}` must be an integer, not {}", node.describe()),
        );
        None
    }

    fn duration(&mut self, node: &Node, key: &str) -> Option<u64> {
        if let Value::Scalar { text, plain } = &node.value {
            if *plain {
                match resolve_plain(text) {
                    Plain::Int(i) if i >= 0 => return Some(i as u64),
                    Plain::Str(_) => {}
                    _ => {
                        self.err(
                            node.pos,
                            format!(
                                "`{key}` must be a duration such as `30m` or a number of seconds, not {}",
                                node.describe()
                            ),
                        );
                        return None;
                    }
                }
            }
            return match parse_duration(text) {
                Ok(secs) => Some(secs),
                Err(e) => {
                    self.err(node.pos, format!("`{key}`: {e}"));
                    None
                }
            };
        }
        self.err(
            node.pos,
            format!(
                "`{key}` must be a duration such as `30m`, not {}",
                node.describe()
            ),
        );
        None
    }

    fn names(&mut self, node: &Node, key: &str) -> Option<Vec<String>> {
        let Value::Seq(items) = &node.value else {
            self.err(
                node.pos,
                format!("`{key}` must be a list, not {}", node.describe()),
            );
            return None;
        };
        let mut out = Vec::new();
        for item in items {
            let name = self.name(item, key)?;
            if out.contains(&name) {
                self.err(item.pos, format!("`{key}` names `{name}` twice"));
                return None;
            }
            out.push(name);
        }
        Some(out)
    }

    fn selection(&mut self, node: &Node, key: &str) -> Option<Selection> {
        match &node.value {
            Value::Scalar { text, .. } if text == "all" => Some(Selection::All),
            Value::Seq(items) if items.is_empty() => {
                self.err(
                    node.pos,
                    format!("`{key}` is an empty list: name at least one, or write `all`"),
                );
                None
            }
            Value::Seq(_) => self.names(node, key).map(Selection::Named),
            _ => {
                self.err(
                    node.pos,
                    format!(
                        "`{key}` must be `all` or a list of names, not {}",
                        node.describe()
                    ),
                );
                None
            }
        }
    }

    fn kinds(&mut self, node: &Node, key: &str, allowed: &[Kind]) -> Option<Vec<Kind>> {
        let names = self.names(node, key)?;
        let Value::Seq(items) = &node.value else {
            return None;
        };
        let allowed_names: Vec<&str> = allowed.iter().map(|k| k.name()).collect();
        let mut kinds = Vec::new();
        for (name, item) in names.iter().zip(items) {
            match name.parse::<Kind>() {
                Ok(kind) if allowed.contains(&kind) => kinds.push(kind),
                _ => self.err(
                    item.pos,
                    format!(
                        "unknown kind `{name}` in `{key}` (expected one of: {}){}",
                        list(&allowed_names),
                        hint(name, &allowed_names)
                    ),
                ),
            }
        }
        if kinds.is_empty() {
            if names.is_empty() {
                self.err(node.pos, format!("`{key}` must name at least one kind"));
            }
            return None;
        }
        kinds.sort_by_key(|k| allowed.iter().position(|a| a == k));
        Some(kinds)
    }

    fn plan(&mut self, root: &Node) -> Option<Plan> {
        let f = self.fields(root, "a plan")?;
        self.only(&f, PLAN_FIELDS, "the plan");
        let what = "the plan";
        let name = match f.get("name") {
            Some(n) => self.name(n, "name"),
            None => {
                self.missing(&f, "name", what, "a string");
                None
            }
        };
        let description = f
            .get("description")
            .and_then(|n| self.string(n, "description"));
        let direction = match f.get("direction") {
            Some(n) => match self.string(n, "direction").as_deref() {
                Some("failover") => Some(Direction::Failover),
                Some("failback") => Some(Direction::Failback),
                Some(other) => {
                    let message = format!(
                        "unknown direction `{other}` (expected `failover` or `failback`){}",
                        hint(other, &["failover", "failback"])
                    );
                    self.err(n.pos, message);
                    None
                }
                None => None,
            },
            None => {
                self.missing(&f, "direction", what, "`failover` or `failback`");
                None
            }
        };
        let duration = |r: &mut Self, key: &str| match f.get(key) {
            Some(n) => r.duration(n, key),
            None => {
                r.missing(&f, key, what, "a duration such as `1h`");
                None
            }
        };
        let rpo = duration(self, "rpo");
        let rto = duration(self, "rto");
        let config = f.get("config").and_then(|n| self.name(n, "config"));
        let pair = f.get("pair").and_then(|n| self.name(n, "pair"));
        let workspaces = match f.get("workspaces") {
            Some(n) => self.workspaces(n),
            None => {
                self.missing(&f, "workspaces", what, "a mapping of two workspaces");
                None
            }
        };
        let endpoints = match f.get("endpoints") {
            Some(n) => self.endpoints(n),
            None => Some(Vec::new()),
        };
        let steps = match f.get("steps") {
            Some(n) => self.steps(n),
            None => {
                self.missing(&f, "steps", what, "a list of steps");
                None
            }
        };
        Some(Plan {
            file: self.file.to_owned(),
            name: name?,
            description,
            direction: direction?,
            rpo_secs: rpo?,
            rto_secs: rto?,
            config,
            pair,
            workspaces: workspaces?,
            endpoints: endpoints?,
            steps: steps?,
        })
    }

    fn workspaces(&mut self, node: &Node) -> Option<Vec<WorkspaceDecl>> {
        let f = self.fields(node, "`workspaces`")?;
        let mut out = Vec::new();
        for (key, value) in f.entries {
            let what = format!("workspace `{}`", key.text);
            let Some(w) = self.fields(value, &what) else {
                continue;
            };
            self.only(&w, &["role", "seed"], &what);
            let role = match w.get("role") {
                Some(n) => match self.string(n, "role").as_deref() {
                    Some("primary") => Some(Role::Primary),
                    Some("secondary") => Some(Role::Secondary),
                    Some(other) => {
                        let message = format!(
                            "unknown role `{other}` (expected `primary` or `secondary`){}",
                            hint(other, &["primary", "secondary"])
                        );
                        self.err(n.pos, message);
                        None
                    }
                    None => None,
                },
                None => {
                    self.missing(&w, "role", &what, "`primary` or `secondary`");
                    None
                }
            };
            let seed = w.get("seed").and_then(|n| self.name(n, "seed"));
            if let Some(role) = role {
                out.push(WorkspaceDecl {
                    name: key.text.clone(),
                    role,
                    seed,
                    pos: key.pos,
                });
            }
        }
        for role in [Role::Primary, Role::Secondary] {
            let with: Vec<&WorkspaceDecl> = out.iter().filter(|w| w.role == role).collect();
            match with.as_slice() {
                [_] => {}
                [] if out.len() == f.entries.len() => self.err(
                    node.pos,
                    format!(
                        "`workspaces` needs one workspace with role `{}`",
                        role.name()
                    ),
                ),
                [] => {}
                [_, second, ..] => self.err(
                    second.pos,
                    format!(
                        "`workspaces` has more than one workspace with role `{}`: a plan rehearses one pair",
                        role.name()
                    ),
                ),
            }
        }
        Some(out)
    }

    fn endpoints(&mut self, node: &Node) -> Option<Vec<EndpointDecl>> {
        let f = self.fields(node, "`endpoints`")?;
        let mut out = Vec::new();
        for (key, value) in f.entries {
            if let Some(target) = self.name(value, &key.text) {
                out.push(EndpointDecl {
                    name: key.text.clone(),
                    target,
                    pos: key.pos,
                });
            }
        }
        Some(out)
    }

    fn steps(&mut self, node: &Node) -> Option<Vec<Step>> {
        let Value::Seq(items) = &node.value else {
            self.err(
                node.pos,
                format!("`steps` must be a list, not {}", node.describe()),
            );
            return None;
        };
        if items.is_empty() {
            self.err(node.pos, "`steps` is empty: a plan needs at least one step");
            return None;
        }
        let before = self.errors.len();
        let mut steps = Vec::new();
        for (i, item) in items.iter().enumerate() {
            if let Some(step) = self.step(item, i) {
                steps.push(step);
            }
        }
        (self.errors.len() == before).then_some(steps)
    }

    fn step(&mut self, node: &Node, index: usize) -> Option<Step> {
        let f = self.fields(node, &format!("step {}", index + 1))?;
        let name = match f.get("name") {
            Some(n) => self.name(n, "name"),
            None => {
                self.missing(&f, "name", &format!("step {}", index + 1), "a string");
                None
            }
        };
        let what = match &name {
            Some(n) => format!("step `{n}`"),
            None => format!("step {}", index + 1),
        };
        let body = match (f.get("action"), f.get("check")) {
            (Some(a), None) => self.action(&f, a, &what, STEP_FIELDS).map(StepBody::Action),
            (None, Some(c)) => self.check(&f, c, &what).map(StepBody::Check),
            (Some(_), Some(c)) => {
                self.err(
                    c.pos,
                    format!("{what} has both `action` and `check`: a step does one thing"),
                );
                None
            }
            (None, None) => {
                let names: Vec<&str> = ACTIONS.iter().chain(CHECKS).map(|(n, _)| *n).collect();
                self.err(
                    f.pos,
                    format!(
                        "{what} needs `action: <{}>` or `check: <...>`",
                        names.join("|")
                    ),
                );
                None
            }
        };
        let timeout = f.get("timeout").and_then(|n| self.duration(n, "timeout"));
        let continue_on_failure = f
            .get("continue_on_failure")
            .and_then(|n| self.boolean(n, "continue_on_failure"))
            .unwrap_or(false);
        let needs = f
            .get("needs")
            .and_then(|n| self.names(n, "needs"))
            .unwrap_or_default();
        let note = f.get("note").and_then(|n| self.string(n, "note"));
        let rollback = match f.get("rollback") {
            Some(n) => {
                let rf = self.fields(n, "`rollback`")?;
                match rf.get("action") {
                    Some(a) => self.action(&rf, a, &format!("the rollback of {what}"), &["action"]),
                    None => {
                        self.missing(&rf, "action", "`rollback`", "an action name");
                        None
                    }
                }
            }
            None => None,
        };
        Some(Step {
            name: name?,
            body: body?,
            timeout_secs: timeout,
            continue_on_failure,
            needs,
            rollback,
            note,
            pos: node.pos,
        })
    }

    /// Checks that every field is a common one or the operation's own.
    fn spec(
        &mut self,
        f: &Fields<'_>,
        specs: &[(&'static str, &'static [FieldSpec])],
        name_node: &Node,
        key: &str,
        what: &str,
        common: &[&str],
    ) -> Option<(&'static str, &'static [FieldSpec])> {
        let op = self.string(name_node, key)?;
        let Some(&(name, fields)) = specs.iter().find(|(n, _)| *n == op) else {
            let names: Vec<&str> = specs.iter().map(|(n, _)| *n).collect();
            let message = format!(
                "unknown {key} `{op}` in {what} (expected one of: {}){}",
                list(&names),
                hint(&op, &names)
            );
            self.err(name_node.pos, message);
            return None;
        };
        let allowed: Vec<&str> = common
            .iter()
            .copied()
            .chain(fields.iter().map(|s| s.name))
            .collect();
        self.only(f, &allowed, &format!("{what} ({key} `{name}`)"));
        let mut ok = true;
        for spec in fields.iter().filter(|s| s.required) {
            if f.get(spec.name).is_none() {
                self.missing(
                    f,
                    spec.name,
                    &format!("{what} ({key} `{name}`)"),
                    spec.expected,
                );
                ok = false;
            }
        }
        ok.then_some((name, fields))
    }

    fn action(
        &mut self,
        f: &Fields<'_>,
        node: &Node,
        what: &str,
        common: &[&str],
    ) -> Option<Action> {
        let (name, _) = self.spec(f, ACTIONS, node, "action", what, common)?;
        let ws = |r: &mut Self| f.get("workspace").and_then(|n| r.name(n, "workspace"));
        let sel = |r: &mut Self, key: &str| match f.get(key) {
            Some(n) => r.selection(n, key),
            None => Some(Selection::All),
        };
        let flag = |r: &mut Self, key: &str, default: bool| match f.get(key) {
            Some(n) => r.boolean(n, key),
            None => Some(default),
        };
        Some(match name {
            "freeze" => Action::Freeze {
                workspace: ws(self)?,
                pools: flag(self, "pools", true)?,
                clusters: flag(self, "clusters", true)?,
                jobs: flag(self, "jobs", true)?,
                warehouses: flag(self, "warehouses", true)?,
            },
            "simulate_outage" => Action::SimulateOutage {
                workspace: ws(self)?,
            },
            "end_outage" => Action::EndOutage {
                workspace: ws(self)?,
            },
            "wait_for_runs" => Action::WaitForRuns {
                workspace: ws(self)?,
                jobs: sel(self, "jobs")?,
            },
            "sync" => {
                let from = f.get("from").and_then(|n| self.name(n, "from"));
                let to = f.get("to").and_then(|n| self.name(n, "to"));
                let kinds = f
                    .get("kinds")
                    .and_then(|n| self.kinds(n, "kinds", &SYNC_KINDS));
                let secret_placeholder = f
                    .get("secret_placeholder")
                    .and_then(|n| self.name(n, "secret_placeholder"));
                let passive = flag(self, "passive", true);
                if let (Some(kinds), None) = (&kinds, &secret_placeholder) {
                    if kinds.contains(&Kind::SecretScopes) {
                        self.err(
                            f.pos,
                            format!(
                                "{what} syncs `secret_scopes` but has no `secret_placeholder`: secret values cannot be read, so keys are created with the value the plan names"
                            ),
                        );
                        return None;
                    }
                }
                Action::Sync {
                    from: from?,
                    to: to?,
                    kinds: kinds?,
                    secret_placeholder,
                    passive: passive?,
                }
            }
            "raise_pools" => Action::RaisePools {
                workspace: ws(self)?,
                pools: sel(self, "pools")?,
                min_idle_instances: f
                    .get("min_idle_instances")
                    .and_then(|n| self.integer(n, "min_idle_instances", 10_000))?,
            },
            "start_clusters" => Action::StartClusters {
                workspace: ws(self)?,
                clusters: sel(self, "clusters")?,
            },
            "start_warehouses" => Action::StartWarehouses {
                workspace: ws(self)?,
                warehouses: sel(self, "warehouses")?,
            },
            "set_job_concurrency" => Action::SetJobConcurrency {
                workspace: ws(self)?,
                jobs: sel(self, "jobs")?,
                max_concurrent_runs: f
                    .get("max_concurrent_runs")
                    .and_then(|n| self.integer(n, "max_concurrent_runs", 1000))?,
            },
            "unpause_jobs" => Action::UnpauseJobs {
                workspace: ws(self)?,
                jobs: sel(self, "jobs")?,
            },
            "pause_jobs" => Action::PauseJobs {
                workspace: ws(self)?,
                jobs: sel(self, "jobs")?,
            },
            "run_jobs" => {
                let jobs = f.get("jobs").and_then(|n| self.names(n, "jobs"))?;
                if jobs.is_empty() {
                    self.err(f.pos, format!("{what}: `jobs` must name at least one job"));
                    return None;
                }
                Action::RunJobs {
                    workspace: ws(self)?,
                    jobs,
                }
            }
            "switch_endpoint" => Action::SwitchEndpoint {
                endpoint: f.get("endpoint").and_then(|n| self.name(n, "endpoint"))?,
                to: f.get("to").and_then(|n| self.name(n, "to"))?,
            },
            "wait" => Action::Wait {
                duration_secs: f
                    .get("duration")
                    .and_then(|n| self.duration(n, "duration"))?,
            },
            _ => return None,
        })
    }

    fn check(&mut self, f: &Fields<'_>, node: &Node, what: &str) -> Option<Check> {
        let (name, _) = self.spec(f, CHECKS, node, "check", what, STEP_FIELDS)?;
        let opt_name = |r: &mut Self, key: &str| match f.get(key) {
            Some(n) => r.name(n, key).map(Some),
            None => Some(None),
        };
        let ws = |r: &mut Self| f.get("workspace").and_then(|n| r.name(n, "workspace"));
        Some(match name {
            "rpo" => Check::Rpo {
                from: opt_name(self, "from")?,
                to: opt_name(self, "to")?,
            },
            "no_drift" => Check::NoDrift {
                from: opt_name(self, "from")?,
                to: opt_name(self, "to")?,
                kinds: f
                    .get("kinds")
                    .and_then(|n| self.kinds(n, "kinds", &Kind::ALL))?,
                ignore_extra: match f.get("ignore_extra") {
                    Some(n) => self.boolean(n, "ignore_extra")?,
                    None => false,
                },
            },
            "jobs_succeeded" => Check::JobsSucceeded {
                workspace: ws(self)?,
                jobs: f.get("jobs").and_then(|n| self.names(n, "jobs"))?,
            },
            "no_passive_violations" => Check::NoPassiveViolations {
                workspace: ws(self)?,
            },
            "within_rto" => Check::WithinRto,
            "probe" => {
                let workspace = ws(self);
                let get = f.get("get").and_then(|n| self.name(n, "get"));
                if let (Some(g), Some(n)) = (&get, f.get("get")) {
                    if !g.starts_with("/api/") || g.contains(['?', '#']) {
                        self.err(
                            n.pos,
                            format!("`get` must be an API path starting with `/api/`, without a query (use `query`), not `{g}`"),
                        );
                        return None;
                    }
                }
                let query = match f.get("query") {
                    Some(n) => self.query(n)?,
                    None => Vec::new(),
                };
                let path = match f.get("path") {
                    Some(n) => {
                        let p = self.string(n, "path")?;
                        if let Err(e) = super::probe::parse_path(&p) {
                            self.err(n.pos, format!("`path`: {e}"));
                            return None;
                        }
                        p
                    }
                    None => String::new(),
                };
                let op_node = f.get("op")?;
                let op_text = self.string(op_node, "op")?;
                let Some(op) = ProbeOp::ALL.into_iter().find(|o| o.symbol() == op_text) else {
                    let names: Vec<&str> = ProbeOp::ALL.iter().map(|o| o.symbol()).collect();
                    self.err(
                        op_node.pos,
                        format!(
                            "unknown `op` `{op_text}` (expected one of: {})",
                            list(&names)
                        ),
                    );
                    return None;
                };
                let value = match (f.get("value"), op.unary()) {
                    (Some(n), true) => {
                        self.err(n.pos, format!("`op: {}` takes no `value`", op.symbol()));
                        return None;
                    }
                    (None, true) => serde_json::Value::Null,
                    (Some(n), false) => n.to_json(),
                    (None, false) => {
                        self.missing(f, "value", what, "the value to compare with");
                        return None;
                    }
                };
                Check::Probe {
                    workspace: workspace?,
                    get: get?,
                    query,
                    path,
                    op,
                    value,
                }
            }
            _ => return None,
        })
    }

    fn query(&mut self, node: &Node) -> Option<Vec<(String, String)>> {
        let f = self.fields(node, "`query`")?;
        let mut out = Vec::new();
        for (key, value) in f.entries {
            match &value.value {
                Value::Scalar { text, .. } => out.push((key.text.clone(), text.clone())),
                _ => {
                    self.err(
                        value.pos,
                        format!(
                            "query parameter `{}` must be a single value, not {}",
                            key.text,
                            value.describe()
                        ),
                    );
                    return None;
                }
            }
        }
        Some(out)
    }
}

/// Writes a plan as YAML that [`parse`] reads back as the same plan.
pub fn to_yaml(plan: &Plan) -> String {
    let mut top: Vec<(String, Out)> = vec![("name".into(), Out::s(&plan.name))];
    if let Some(d) = &plan.description {
        top.push(("description".into(), Out::s(d)));
    }
    top.push(("direction".into(), Out::s(plan.direction.name())));
    top.push(("rpo".into(), Out::s(format_duration(plan.rpo_secs))));
    top.push(("rto".into(), Out::s(format_duration(plan.rto_secs))));
    if let Some(c) = &plan.config {
        top.push(("config".into(), Out::s(c)));
    }
    if let Some(p) = &plan.pair {
        top.push(("pair".into(), Out::s(p)));
    }
    top.push((
        "workspaces".into(),
        Out::Map(
            plan.workspaces
                .iter()
                .map(|w| {
                    let mut fields = vec![("role".into(), Out::s(w.role.name()))];
                    if let Some(seed) = &w.seed {
                        fields.push(("seed".into(), Out::s(seed)));
                    }
                    (w.name.clone(), Out::Map(fields))
                })
                .collect(),
        ),
    ));
    if !plan.endpoints.is_empty() {
        top.push((
            "endpoints".into(),
            Out::Map(
                plan.endpoints
                    .iter()
                    .map(|e| (e.name.clone(), Out::s(&e.target)))
                    .collect(),
            ),
        ));
    }
    top.push((
        "steps".into(),
        Out::List(plan.steps.iter().map(step_out).collect()),
    ));
    Writer::document(&top)
}

fn names_out(names: &[String]) -> Out {
    Out::List(names.iter().map(Out::s).collect())
}

fn selection_out(fields: &mut Vec<(String, Out)>, key: &str, sel: &Selection) {
    if let Selection::Named(names) = sel {
        fields.push((key.into(), names_out(names)));
    }
}

fn kinds_out(kinds: &[Kind]) -> Out {
    Out::List(kinds.iter().map(|k| Out::s(k.name())).collect())
}

fn step_out(step: &Step) -> Out {
    let mut fields: Vec<(String, Out)> = vec![("name".into(), Out::s(&step.name))];
    match &step.body {
        StepBody::Action(a) => action_out(a, &mut fields),
        StepBody::Check(c) => check_out(c, &mut fields),
    }
    if let Some(t) = step.timeout_secs {
        fields.push(("timeout".into(), Out::s(format_duration(t))));
    }
    if step.continue_on_failure {
        fields.push(("continue_on_failure".into(), Out::Raw("true".into())));
    }
    if !step.needs.is_empty() {
        fields.push(("needs".into(), names_out(&step.needs)));
    }
    if let Some(r) = &step.rollback {
        let mut rb = Vec::new();
        action_out(r, &mut rb);
        fields.push(("rollback".into(), Out::Map(rb)));
    }
    if let Some(n) = &step.note {
        fields.push(("note".into(), Out::s(n)));
    }
    Out::Map(fields)
}

fn action_out(action: &Action, f: &mut Vec<(String, Out)>) {
    f.push(("action".into(), Out::s(action.name())));
    let ws = |f: &mut Vec<(String, Out)>, w: &str| f.push(("workspace".into(), Out::s(w)));
    let flag = |f: &mut Vec<(String, Out)>, k: &str, v: bool, default: bool| {
        if v != default {
            f.push((k.into(), Out::Raw(v.to_string())));
        }
    };
    match action {
        Action::Freeze {
            workspace,
            pools,
            clusters,
            jobs,
            warehouses,
        } => {
            ws(f, workspace);
            flag(f, "pools", *pools, true);
            flag(f, "clusters", *clusters, true);
            flag(f, "jobs", *jobs, true);
            flag(f, "warehouses", *warehouses, true);
        }
        Action::SimulateOutage { workspace } | Action::EndOutage { workspace } => ws(f, workspace),
        Action::WaitForRuns { workspace, jobs }
        | Action::UnpauseJobs { workspace, jobs }
        | Action::PauseJobs { workspace, jobs } => {
            ws(f, workspace);
            selection_out(f, "jobs", jobs);
        }
        Action::Sync {
            from,
            to,
            kinds,
            secret_placeholder,
            passive,
        } => {
            f.push(("from".into(), Out::s(from)));
            f.push(("to".into(), Out::s(to)));
            f.push(("kinds".into(), kinds_out(kinds)));
            if let Some(p) = secret_placeholder {
                f.push(("secret_placeholder".into(), Out::s(p)));
            }
            flag(f, "passive", *passive, true);
        }
        Action::RaisePools {
            workspace,
            pools,
            min_idle_instances,
        } => {
            ws(f, workspace);
            selection_out(f, "pools", pools);
            f.push((
                "min_idle_instances".into(),
                Out::Raw(min_idle_instances.to_string()),
            ));
        }
        Action::StartClusters {
            workspace,
            clusters,
        } => {
            ws(f, workspace);
            selection_out(f, "clusters", clusters);
        }
        Action::StartWarehouses {
            workspace,
            warehouses,
        } => {
            ws(f, workspace);
            selection_out(f, "warehouses", warehouses);
        }
        Action::SetJobConcurrency {
            workspace,
            jobs,
            max_concurrent_runs,
        } => {
            ws(f, workspace);
            selection_out(f, "jobs", jobs);
            f.push((
                "max_concurrent_runs".into(),
                Out::Raw(max_concurrent_runs.to_string()),
            ));
        }
        Action::RunJobs { workspace, jobs } => {
            ws(f, workspace);
            f.push(("jobs".into(), names_out(jobs)));
        }
        Action::SwitchEndpoint { endpoint, to } => {
            f.push(("endpoint".into(), Out::s(endpoint)));
            f.push(("to".into(), Out::s(to)));
        }
        Action::Wait { duration_secs } => {
            f.push(("duration".into(), Out::s(format_duration(*duration_secs))));
        }
    }
}

fn check_out(check: &Check, f: &mut Vec<(String, Out)>) {
    f.push(("check".into(), Out::s(check.name())));
    let opt = |f: &mut Vec<(String, Out)>, k: &str, v: &Option<String>| {
        if let Some(v) = v {
            f.push((k.into(), Out::s(v)));
        }
    };
    match check {
        Check::Rpo { from, to } => {
            opt(f, "from", from);
            opt(f, "to", to);
        }
        Check::NoDrift {
            from,
            to,
            kinds,
            ignore_extra,
        } => {
            opt(f, "from", from);
            opt(f, "to", to);
            f.push(("kinds".into(), kinds_out(kinds)));
            if *ignore_extra {
                f.push(("ignore_extra".into(), Out::Raw("true".into())));
            }
        }
        Check::JobsSucceeded { workspace, jobs } => {
            f.push(("workspace".into(), Out::s(workspace)));
            f.push(("jobs".into(), names_out(jobs)));
        }
        Check::NoPassiveViolations { workspace } => {
            f.push(("workspace".into(), Out::s(workspace)));
        }
        Check::WithinRto => {}
        Check::Probe {
            workspace,
            get,
            query,
            path,
            op,
            value,
        } => {
            f.push(("workspace".into(), Out::s(workspace)));
            f.push(("get".into(), Out::s(get)));
            if !query.is_empty() {
                f.push((
                    "query".into(),
                    Out::Map(query.iter().map(|(k, v)| (k.clone(), Out::s(v))).collect()),
                ));
            }
            if !path.is_empty() {
                f.push(("path".into(), Out::s(path)));
            }
            f.push(("op".into(), Out::s(op.symbol())));
            if !op.unary() {
                f.push(("value".into(), Out::json(value)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "\
name: drill
direction: failover
rpo: 1h
rto: 4h
workspaces:
  prod: {role: primary}
  dr: {role: secondary}
steps:
  - name: wait a bit
    action: wait
    duration: 5m
";

    fn errors(text: &str) -> Vec<Diagnostic> {
        parse(text, "plan.yaml")
            .expect_err("plan should be invalid")
            .0
    }

    fn one_error(text: &str) -> Diagnostic {
        let errors = errors(text);
        assert_eq!(errors.len(), 1, "{errors:#?}");
        errors.into_iter().next().unwrap_or_else(|| unreachable!())
    }

    #[test]
    fn a_minimal_plan_reads() {
        let plan = parse(MINIMAL, "plan.yaml").unwrap();
        assert_eq!(plan.name, "drill");
        assert_eq!(plan.rto_secs, 4 * 3600);
        assert_eq!(
            plan.steps[0].body,
            StepBody::Action(Action::Wait { duration_secs: 300 })
        );
        assert_eq!(plan.steps[0].pos.line, 9);
        assert_eq!(plan.source_and_target(), (Some("prod"), Some("dr")));
    }

    #[test]
    fn unknown_actions_and_fields_are_located_with_a_hint() {
        let e = one_error(&MINIMAL.replace("action: wait", "action: wiat"));
        assert_eq!((e.line, e.column), (10, 13));
        assert!(
            e.message
                .contains("unknown action `wiat` in step `wait a bit`"),
            "{e}"
        );
        assert!(e.message.contains("did you mean `wait`?"), "{e}");
        assert!(e.to_string().starts_with("plan.yaml:10:13: error: "), "{e}");

        let e = one_error(&MINIMAL.replace("duration: 5m", "duration: 5m\n    workspce: dr"));
        assert_eq!(e.line, 12);
        assert!(
            e.message
                .contains("unknown field `workspce` in step `wait a bit` (action `wait`)"),
            "{e}"
        );
        assert!(
            e.message.contains("expected one of: `name`, `action`"),
            "{e}"
        );

        let e = one_error(&MINIMAL.replace("rto: 4h", "rto: 4h\nrtp: 1h"));
        assert!(e.message.contains("unknown field `rtp` in the plan"), "{e}");
        assert!(e.message.contains("did you mean `rto`?"), "{e}");
    }

    #[test]
    fn wrong_types_say_what_was_expected() {
        for (from, to, needle, line) in [
            (
                "duration: 5m",
                "duration: [5m]",
                "`duration` must be a duration such as `30m`, not a list",
                11,
            ),
            (
                "duration: 5m",
                "duration: 5 minutes",
                "invalid duration `5 minutes`",
                11,
            ),
            (
                "rpo: 1h",
                "rpo: true",
                "`rpo` must be a duration such as `30m` or a number of seconds, not a boolean",
                3,
            ),
            (
                "direction: failover",
                "direction: failovr",
                "did you mean `failover`?",
                2,
            ),
            (
                "  dr: {role: secondary}",
                "  dr: {role: standby}",
                "unknown role `standby`",
                7,
            ),
            (
                "  dr: {role: secondary}",
                "  dr: secondary",
                "workspace `dr` must be a mapping, not a string",
                7,
            ),
        ] {
            let e = one_error(&MINIMAL.replace(from, to));
            assert!(e.message.contains(needle), "{to}: {e}");
            assert_eq!(e.line, line, "{to}: {e}");
        }
    }

    #[test]
    fn missing_and_conflicting_fields() {
        let e = one_error(&MINIMAL.replace("    duration: 5m\n", ""));
        assert!(
            e.message
                .contains("step `wait a bit` (action `wait`) is missing `duration`"),
            "{e}"
        );
        let e = one_error(&MINIMAL.replace("action: wait", "action: wait\n    check: within_rto"));
        assert!(e.message.contains("both `action` and `check`"), "{e}");
        let e = one_error(&MINIMAL.replace("  dr: {role: secondary}\n", ""));
        assert!(
            e.message
                .contains("needs one workspace with role `secondary`"),
            "{e}"
        );
        let both = errors(&MINIMAL.replace("steps:\n", "steps: []\nx:\n"));
        assert!(both[0].message.contains("`steps` is empty"), "{both:#?}");
        assert!(both[1].message.contains("unknown field `x`"), "{both:#?}");
        let all = errors(
            &MINIMAL
                .replace("name: drill\n", "")
                .replace("rpo: 1h\n", ""),
        );
        assert_eq!(all.len(), 2, "{all:#?}");
    }

    #[test]
    fn sync_of_secrets_needs_a_placeholder() {
        let text = MINIMAL.replace(
            "    action: wait\n    duration: 5m\n",
            "    action: sync\n    from: prod\n    to: dr\n    kinds: [secret_scopes, jobs, notebooks]\n",
        );
        let errors = errors(&text);
        assert!(
            errors
                .iter()
                .any(|e| e.message.contains("unknown kind `notebooks`")),
            "{errors:#?}"
        );
        let e = one_error(&text.replace(", notebooks", ""));
        assert!(e.message.contains("no `secret_placeholder`"), "{e}");
    }

    #[test]
    fn durations_read_and_print() {
        assert_eq!(parse_duration("1h30m"), Ok(5400));
        assert_eq!(parse_duration("2d"), Ok(172_800));
        assert!(parse_duration("30m1h").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("99999999999d").is_err());
        for secs in [0, 1, 59, 60, 3600, 5400, 86_401, 90_061] {
            assert_eq!(parse_duration(&format_duration(secs)), Ok(secs));
        }
    }

    #[test]
    fn a_printed_plan_reads_back() {
        let text = MINIMAL.to_owned()
            + "  - name: \"probe: it's # up\"\n    check: probe\n    workspace: dr\n    get: /api/2.0/clusters/list\n    query: {a: \"1\"}\n    path: clusters[cluster_name=x].state\n    op: \"==\"\n    value: {s: [1, true, null]}\n    continue_on_failure: true\n    needs: [wait a bit]\n    rollback: {action: pause_jobs, workspace: dr, jobs: [a]}\n    note: |\n      two\n      lines\n";
        let plan = parse(&text, "plan.yaml").unwrap();
        let printed = to_yaml(&plan);
        let again = parse(&printed, "plan.yaml").unwrap_or_else(|e| panic!("{e}\n{printed}"));
        assert_eq!(again, plan, "{printed}");
    }
}
