//! The rules a pair is compared under: plain data, built from `standby.toml`
//! by `config/` (or defaults), consumed by the diff engine.

use crate::kind::Kind;

use super::model::Role;

/// How to compare one primary/secondary pair.
#[derive(Clone, Debug, PartialEq)]
pub struct Rules {
    /// The pair's name, shown in reports.
    pub pair_name: String,
    /// Kinds to compare; `None` compares every kind both snapshots hold.
    pub kinds: Option<Vec<Kind>>,
    /// The secondary's role; `Passive` turns on the passive rules.
    pub secondary_role: Role,
    /// What a passive secondary must look like (ignored for an active one).
    pub passive: PassiveRules,
    /// Recovery point objective, seconds (replication lag beyond it is a finding).
    pub rpo_secs: Option<u64>,
    /// Recovery time objective, seconds (reported; rehearsals measure it).
    pub rto_secs: Option<u64>,
    /// Findings to ignore, each with its reason.
    pub ignores: Vec<Ignore>,
    /// Region-specific values rewritten before comparing (primary → secondary).
    pub rewrites: Vec<Rewrite>,
    /// Principals expected in one workspace only (their absence is not drift).
    pub single_region_principals: Vec<SingleRegionPrincipal>,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            pair_name: "primary/secondary".into(),
            kinds: None,
            secondary_role: Role::Passive,
            passive: PassiveRules::default(),
            rpo_secs: None,
            rto_secs: None,
            ignores: Vec::new(),
            rewrites: Vec::new(),
            single_region_principals: Vec::new(),
        }
    }
}

/// The DR guide's Step 2 rules for a passive secondary; each can be turned off.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PassiveRules {
    /// Jobs have `max_concurrent_runs` 0 (guide: "set the concurrencies to zero").
    pub jobs_concurrency_zero: bool,
    /// Job schedules, triggers and continuous runs are paused.
    pub jobs_paused: bool,
    /// Pools keep `min_idle_instances` 0 until the DR event.
    pub pools_min_idle_zero: bool,
    /// All-purpose clusters are terminated.
    pub clusters_terminated: bool,
    /// SQL warehouses are stopped.
    pub warehouses_stopped: bool,
    /// Job ACLs are held back until the DR event (guide: "hold the data for
    /// jobs"): job permissions present in the secondary are a violation, and
    /// missing ones are expected.
    pub hold_job_acls: bool,
}

impl Default for PassiveRules {
    fn default() -> Self {
        PassiveRules {
            jobs_concurrency_zero: true,
            jobs_paused: true,
            pools_min_idle_zero: true,
            clusters_terminated: true,
            warehouses_stopped: true,
            hold_job_acls: false,
        }
    }
}

/// Ignore findings on objects of a kind whose key matches a glob, optionally
/// only at field paths matching a glob. The reason is required.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ignore {
    /// The kind, or `None` for every kind.
    pub kind: Option<Kind>,
    /// Glob over natural keys (`*` any run of characters, `?` one character).
    pub key: String,
    /// Glob over field paths; `None` ignores the whole object.
    pub field: Option<String>,
    /// Why this is not drift (required, shown in reports).
    pub reason: String,
    /// Where the rule was written (`standby.toml:12`), for errors and reports.
    pub origin: String,
}

/// A region-specific value: strings containing `primary` have it replaced by
/// `secondary` in the primary's content before comparing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rewrite {
    /// The primary's form, e.g. `s3://acme-prod-use1/`.
    pub primary: String,
    /// The secondary's form, e.g. `s3://acme-dr-usw2/`.
    pub secondary: String,
    /// Where the rule was written.
    pub origin: String,
}

/// A principal that exists in one region only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SingleRegionPrincipal {
    /// Glob over user names, group names or application ids.
    pub name: String,
    /// The side that has it.
    pub side: Side,
    /// Where the rule was written.
    pub origin: String,
}

/// One side of a pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Side {
    /// The primary (active) workspace.
    Primary,
    /// The secondary workspace.
    Secondary,
}
