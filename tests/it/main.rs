//! Integration tests: one binary, one module per area.

mod cli;
mod client;
mod determinism;
mod resume;
mod support;
