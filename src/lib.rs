//! standby: Databricks disaster-recovery auditing.
//!
//! The pipeline, one module a stage:
//! `auth` → `client` → `collect` (raw API objects) → `normalize` (records keyed
//! by natural keys) → `snapshot` (the file). `mock` is a stateful Databricks
//! API server used by tests, rehearsals and the demo. `cli` is the only module
//! that knows clap.

pub mod auth;
pub mod capture;
pub mod cli;
pub mod client;
pub mod config;
pub mod diff;
pub mod kind;
pub mod output;
pub mod report;
pub mod snapshot;

pub use kind::Kind;
pub mod collect;
pub mod normalize;
pub mod mock;
