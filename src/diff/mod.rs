//! Two snapshots and a pair's rules in, a [`DriftReport`] out, with DR
//! semantics: expected passive differences, passive violations, dangling
//! references, replication lag. Synchronous, pure, deterministic; never
//! formats text for people.

mod baseline;
mod engine;
mod glob;
mod ignore;
mod model;
mod passive;
mod rewrite;
mod rules;
mod scan;
mod tree;

#[cfg(test)]
mod tests;

pub use baseline::{BASELINE_VERSION, Baseline, BaselineError, fingerprint};
pub use engine::diff;
pub use ignore::unmatched_ignores;
pub use model::{
    DriftReport, FieldDiff, Finding, FindingClass, KeyList, KindStatus, KindSummary, Lag,
    PairFacts, Role, SCHEMA_VERSION, Severity, SideFacts,
};
pub use rules::{Ignore, PassiveRules, Rewrite, Rules, Side, SingleRegionPrincipal};
