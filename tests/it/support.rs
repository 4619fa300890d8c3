//! Shared helpers for the integration tests.

use std::time::Duration;

use secrecy::SecretString;
use standby::auth::{Credentials, WorkspaceAuth, normalize_host};
use standby::client::{Client, ClientConfig, RateLimits};

/// The token every test server expects; tests assert it never leaks.
pub const TOKEN: &str = "dapi-TEST-SECRET-0123456789abcdef";

/// A client for a local test server: no client-side rate limits, fast backoff.
pub fn client(uri: &str) -> Client {
    client_with(uri, |_| {})
}

/// Like [`client`], with the config adjusted.
pub fn client_with(uri: &str, adjust: impl FnOnce(&mut ClientConfig)) -> Client {
    let mut config = ClientConfig {
        rate_limits: RateLimits::unlimited(),
        backoff_base: Duration::from_millis(5),
        backoff_max: Duration::from_secs(5),
        max_pages: 50,
        ..ClientConfig::default()
    };
    adjust(&mut config);
    let auth = WorkspaceAuth {
        host: normalize_host(uri).expect("test server URL"),
        profile: Some("test".into()),
        credentials: Credentials::Pat(SecretString::from(TOKEN)),
    };
    Client::new(auth, config).expect("client builds")
}

/// The first line a child prints on its piped stdout (`mock serve` names
/// its URL there).
pub fn first_line(child: &mut std::process::Child) -> String {
    use std::io::BufRead;
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout is piped"))
        .read_line(&mut line)
        .expect("stdout is readable");
    line
}
