//! A stateful mock of a Databricks workspace's REST API, for rehearsals,
//! `standby demo` and the end-to-end tests.
//!
//! It serves the paths, query parameters, JSON shapes, pagination and errors
//! of every kind `standby snapshot` reads, and the writes a sync or failover
//! performs, closely enough that the official Python SDK and standby's own
//! client work against it unchanged. State lives in one [`Workspace`] store
//! per served workspace (one file per object kind here), loaded from a
//! [`Fixture`]; timed state changes (clusters, warehouses, job runs,
//! schedules) run on a virtual clock that moves only when told. Faults
//! (latency, seeded failures, rate limits, outages) and the control API
//! under `/_standby/` (see [`control`]) are part of the state.
//!
//! In process: [`MockServer::start`] binds `127.0.0.1:0` and returns a
//! handle with [`MockServer::url`], the control methods of [`MockState`]
//! and [`MockServer::shutdown`]. Router tests call [`app`] directly.
//!
//! [`Workspace`]: store::Workspace

mod canon;
pub mod control;
mod error;
mod faults;
mod fixture;
mod gate;
pub mod generate;
mod http;
mod log;
mod schedule;
mod server;
mod state;
mod store;

mod catalog;
mod cluster_policies;
mod clusters;
mod global_init_scripts;
mod groups;
mod identity;
mod instance_pools;
mod ip_access_lists;
mod jobs;
mod permissions;
mod repos;
mod runs;
mod scim;
mod secrets;
mod service_principals;
mod sql_warehouses;
mod users;
mod workspace;
mod workspace_conf;

#[cfg(test)]
mod tests;

use axum::Router;
use axum::middleware;

pub use error::{ApiError, StoreError};
pub use faults::{FaultConfig, Limits, MAX_FAULTS_IN_A_ROW, MAX_IN_FLIGHT};
pub use fixture::{DEFAULT_START_MS, FIXTURE_VERSION, Fixture, FixtureError, load_fixture};
pub use gate::CONTROL_PREFIX;
pub use log::LoggedRequest;
pub use server::{MockError, MockServer};
pub use state::{MockOptions, MockState, OutageMode};
pub use store::Durations;

/// The mock's router: every API route, the control API, and the middleware
/// for auth, faults and the request log.
pub fn app(state: MockState) -> Router {
    Router::new()
        .merge(identity::routes())
        .merge(users::routes())
        .merge(groups::routes())
        .merge(service_principals::routes())
        .merge(permissions::routes())
        .merge(jobs::routes())
        .merge(runs::routes())
        .merge(clusters::routes())
        .merge(instance_pools::routes())
        .merge(cluster_policies::routes())
        .merge(global_init_scripts::routes())
        .merge(workspace::routes())
        .merge(repos::routes())
        .merge(secrets::routes())
        .merge(catalog::routes())
        .merge(sql_warehouses::routes())
        .merge(ip_access_lists::routes())
        .merge(workspace_conf::routes())
        .merge(control::routes())
        .fallback(gate::no_route)
        .method_not_allowed_fallback(gate::no_route)
        .layer(axum::extract::DefaultBodyLimit::max(gate::MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(state.clone(), gate::gate))
        .with_state(state)
}

/// A random bearer token for mocks started in-process (demo, rehearsals):
/// they accept nothing else, as a real workspace would.
pub fn random_token() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..32)
        .map(|_| char::from_digit(rng.gen_range(0..16), 16).unwrap_or('0'))
        .collect()
}
