//! Databricks unified authentication, resolved as the official SDKs do:
//! command-line flags, then `DATABRICKS_*` variables, then a profile in
//! `~/.databrickscfg`. Personal access tokens and OAuth machine-to-machine.

mod config_file;
mod oauth;
mod resolve;

pub use config_file::{ConfigFile, ConfigFileError};
pub use oauth::TokenSource;
pub use resolve::{AuthError, AuthInputs, Credentials, WorkspaceAuth, normalize_host, resolve};
