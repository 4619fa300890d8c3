//! Integration tests: one binary, one module per area.

mod cli;
mod client;
mod determinism;
mod drift;
mod e2e;
mod leaks;
mod recipes;
mod rehearsal;
mod resume;
mod sdk;
mod support;
