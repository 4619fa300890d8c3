//! standby: Databricks disaster-recovery auditing.
//!
//! The pipeline, one module a stage: `auth` → `client` → `collect` (raw API
//! objects, one file per kind) → `normalize` (records keyed by natural keys)
//! → `snapshot` (the file) → `diff` (a `DriftReport` with DR semantics) →
//! `report` (text, Markdown, JSON, JUnit). `config` reads `standby.toml`;
//! `mock` is a stateful Databricks API server used by tests, rehearsals and
//! the demo; `capture` runs collect and normalize for one workspace; `cli`
//! is the only module that knows clap.

pub mod auth;
pub mod capture;
pub mod cli;
pub mod client;
pub mod collect;
pub mod config;
pub mod diff;
pub mod duration;
pub mod kind;
pub mod mock;
pub mod normalize;
pub mod output;
mod prefetch;
pub mod rehearsal;
pub mod report;
pub mod snapshot;

pub use kind::Kind;
