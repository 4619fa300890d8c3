//! Two snapshots and a pair's rules in, a [`DriftReport`] out, with DR
//! semantics: expected passive differences, passive violations, dangling
//! references, replication lag. Synchronous, pure, deterministic; never
//! formats text for people.

mod model;
mod rules;

pub use model::{
    DriftReport, FieldDiff, Finding, FindingClass, KindStatus, KindSummary, Lag, PairFacts,
    Role, SCHEMA_VERSION, Severity, SideFacts,
};
pub use rules::{Ignore, PassiveRules, Rewrite, Rules, Side, SingleRegionPrincipal};
