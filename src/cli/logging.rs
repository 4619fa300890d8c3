//! `-v`/`-vv` tracing logs on stderr.
//!
//! Only standby's own targets are raised: HTTP library internals at debug
//! level would print connection details a user does not need. No log line
//! carries a token (headers are never logged).

use tracing_subscriber::EnvFilter;

/// Installs the stderr logger; `verbose` is the number of `-v` flags.
pub fn init(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "warn,standby=info",
        (false, _) => "warn,standby=debug",
    };
    let filter = EnvFilter::try_from_env("STANDBY_LOG").unwrap_or_else(|_| EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(crate::cli::color_stderr())
        .with_target(false)
        .try_init();
}
