//! The drift report: what the diff found, as plain data. Renderers in
//! `report/` consume it; nothing here formats text for people.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::kind::Kind;

/// The JSON report's schema version.
///
/// Changelog:
/// - 1: first version: pair facts, per-kind summary, findings with class,
///   severity, field diffs and the rule that applied, replication lag.
pub const SCHEMA_VERSION: u32 = 1;

/// Everything the diff of one primary/secondary pair found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriftReport {
    /// Always [`SCHEMA_VERSION`] when written by this build.
    pub schema_version: u32,
    /// Which pair, which snapshots, which targets.
    pub pair: PairFacts,
    /// Counts per kind, in kind order.
    pub summary: BTreeMap<Kind, KindSummary>,
    /// Findings, most severe first, then by kind, key, class and id.
    pub findings: Vec<Finding>,
    /// Replication lag of the secondary, when modification times allow measuring it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lag: Option<Lag>,
    /// Natural keys of every compared object per kind (both sides, sorted,
    /// de-duplicated), for renderers that list passing objects (JUnit).
    /// Not part of the JSON report.
    #[serde(skip)]
    pub compared: BTreeMap<Kind, KeyList>,
}

/// A list of keys in one buffer: a million keys cost two allocations (and
/// two frees) instead of a million each.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct KeyList {
    text: String,
    /// Where each key ends in `text`.
    ends: Vec<usize>,
}

impl KeyList {
    /// An empty list with room for `keys` keys of about `bytes` bytes in all.
    pub fn with_capacity(keys: usize, bytes: usize) -> Self {
        KeyList {
            text: String::with_capacity(bytes),
            ends: Vec::with_capacity(keys),
        }
    }

    /// Appends a key.
    pub fn push(&mut self, key: &str) {
        self.text.push_str(key);
        self.ends.push(self.text.len());
    }

    /// Appends every key of `other`, in order.
    pub fn append(&mut self, other: &KeyList) {
        let offset = self.text.len();
        self.text.push_str(&other.text);
        self.ends.extend(other.ends.iter().map(|end| end + offset));
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when the list holds no key.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The keys, in the order they were pushed.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(&self.ends)
            .map(|(start, &end)| self.text.get(start..end).unwrap_or_default())
    }
}

impl<'a> IntoIterator for &'a KeyList {
    type Item = &'a str;
    type IntoIter = Box<dyn Iterator<Item = &'a str> + 'a>;
    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

impl<S: AsRef<str>> FromIterator<S> for KeyList {
    fn from_iter<I: IntoIterator<Item = S>>(keys: I) -> Self {
        let mut list = KeyList::default();
        for key in keys {
            list.push(key.as_ref());
        }
        list
    }
}

impl<S: AsRef<str>> PartialEq<Vec<S>> for KeyList {
    fn eq(&self, other: &Vec<S>) -> bool {
        self.len() == other.len() && self.iter().zip(other).all(|(a, b)| a == b.as_ref())
    }
}

impl fmt::Debug for KeyList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Facts about the compared pair, shown in every report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairFacts {
    /// The pair's name from the config (or `primary/secondary` without one).
    pub name: String,
    /// The primary's snapshot facts.
    pub primary: SideFacts,
    /// The secondary's snapshot facts.
    pub secondary: SideFacts,
    /// The secondary's role: `passive` unless the config says `active`.
    pub secondary_role: Role,
    /// Recovery point objective, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpo_secs: Option<u64>,
    /// Recovery time objective, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rto_secs: Option<u64>,
}

/// One side's snapshot facts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SideFacts {
    /// Workspace URL.
    pub host: String,
    /// Capture time, RFC 3339.
    pub captured_at: String,
    /// Capture time, epoch ms.
    pub captured_at_ms: i64,
}

/// The role of a workspace in a pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Runs workloads.
    Active,
    /// Holds a copy; runs nothing until failover.
    Passive,
}

/// Per-kind counts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindSummary {
    /// `complete`, or `unknown` when either side's capture of the kind is incomplete.
    pub status: KindStatus,
    /// Objects compared (distinct keys over both sides).
    pub compared: usize,
    /// Findings per class, classes with none omitted.
    pub findings: BTreeMap<FindingClass, usize>,
    /// Findings accepted by the baseline (not failing).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub baselined: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Whether a kind could be compared.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KindStatus {
    /// Both sides captured completely.
    #[default]
    Complete,
    /// At least one side is incomplete: the kind was not judged.
    Unknown,
}

/// The class of a finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingClass {
    /// In the primary, not in the secondary: a replication gap.
    Missing,
    /// In the secondary only: someone changed the wrong workspace.
    Extra,
    /// In both, configured differently (after normalization and rewrites).
    Changed,
    /// The passive copy is not passive (it would double-process data).
    PassiveViolation,
    /// Something in the secondary would not run after failover.
    DanglingReference,
    /// Two objects share one natural key on one side.
    DuplicateKey,
    /// A kind incomplete on either side: not judged.
    Unknown,
    /// The secondary lags the primary by more than the RPO.
    ReplicationLag,
}

impl FindingClass {
    /// The snake_case name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            FindingClass::Missing => "missing",
            FindingClass::Extra => "extra",
            FindingClass::Changed => "changed",
            FindingClass::PassiveViolation => "passive_violation",
            FindingClass::DanglingReference => "dangling_reference",
            FindingClass::DuplicateKey => "duplicate_key",
            FindingClass::Unknown => "unknown",
            FindingClass::ReplicationLag => "replication_lag",
        }
    }
}

/// How bad a finding is; reports sort by it, most severe first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Failover would break or double-process data.
    Critical,
    /// The copy is wrong; failover would behave differently.
    Error,
    /// Worth a look; fails the check unless ignored.
    Warning,
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    /// Stable id (same inputs, same id), for `standby explain` and baselines:
    /// `<class>/<kind>/<key>` plus `#<n>` to tell apart several findings of one class on one object.
    pub id: String,
    /// The finding's class.
    pub class: FindingClass,
    /// How bad it is.
    pub severity: Severity,
    /// The object kind.
    pub kind: Kind,
    /// The object's natural key.
    pub key: String,
    /// One line a person can read: what is wrong.
    pub message: String,
    /// Field-level differences, sorted by path.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldDiff>,
    /// The rule that applied (`passive.jobs.max_concurrent_runs`, `rewrite[0]`, a config ignore ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// What would fix it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// True when the baseline accepts this finding: reported, but not failing.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub baselined: bool,
}

/// One differing field: its path and both values (`None` = absent on that side).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldDiff {
    /// Path such as `settings.tasks[ingest].notebook_task.notebook_path`.
    pub path: String,
    /// The primary's value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<Value>,
    /// The secondary's value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secondary: Option<Value>,
}

/// How far the secondary is behind the primary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lag {
    /// The largest lag over all objects with modification times, ms.
    pub max_lag_ms: i64,
    /// The kind and key of the object that lags most.
    pub worst: Option<(Kind, String)>,
    /// Whether the lag is within the RPO (`None` without an RPO target).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within_rpo: Option<bool>,
}

impl DriftReport {
    /// True when a finding that is not baselined remains.
    pub fn has_drift(&self) -> bool {
        self.findings
            .iter()
            .any(|f| !f.baselined && f.class != FindingClass::Unknown)
    }

    /// True when some kind could not be judged.
    pub fn has_unknown(&self) -> bool {
        self.summary
            .values()
            .any(|s| s.status == KindStatus::Unknown)
    }
}
