//! Bearer tokens for requests: a PAT as is, or an OAuth M2M token fetched
//! from `{host}/oidc/v1/token`, cached and refreshed before it expires.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::resolve::{Credentials, WorkspaceAuth};
use crate::client::ApiError;

/// Refresh this long before the token's stated expiry, as the SDKs do.
const REFRESH_MARGIN: Duration = Duration::from_secs(40);

/// Hands out bearer tokens for one workspace.
pub struct TokenSource {
    auth: WorkspaceAuth,
    cached: Mutex<Option<(SecretString, Instant)>>,
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSource")
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct TokenReply {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

impl TokenSource {
    /// A token source for the resolved workspace.
    pub fn new(auth: WorkspaceAuth) -> Self {
        TokenSource {
            auth,
            cached: Mutex::new(None),
        }
    }

    /// The resolved workspace.
    pub fn auth(&self) -> &WorkspaceAuth {
        &self.auth
    }

    /// A token valid for at least [`REFRESH_MARGIN`].
    pub async fn bearer(&self, http: &reqwest::Client) -> Result<SecretString, ApiError> {
        let (client_id, client_secret) = match &self.auth.credentials {
            Credentials::Pat(token) => return Ok(token.clone()),
            Credentials::OAuthM2M {
                client_id,
                client_secret,
            } => (client_id, client_secret),
        };
        let mut cached = self.cached.lock().await;
        if let Some((token, expires)) = cached.as_ref() {
            if Instant::now() + REFRESH_MARGIN < *expires {
                return Ok(token.clone());
            }
        }
        let host = self.auth.host.as_str().trim_end_matches('/').to_owned();
        let fail = |message: String| ApiError::Auth {
            host: host.clone(),
            message,
        };
        let url = format!("{host}/oidc/v1/token");
        let response = http
            .post(&url)
            .basic_auth(client_id, Some(client_secret.expose_secret()))
            .form(&[("grant_type", "client_credentials"), ("scope", "all-apis")])
            .send()
            .await
            .map_err(|e| {
                fail(format!(
                    "token request to `{url}` failed: {}",
                    without_url(&e)
                ))
            })?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| fail(format!("token reply was cut off: {}", without_url(&e))))?;
        if !status.is_success() {
            return Err(fail(format!(
                "the token endpoint answered HTTP {} for client id `{client_id}`: {}",
                status.as_u16(),
                oauth_error_text(&body)
            )));
        }
        let reply: TokenReply = serde_json::from_slice(&body)
            .map_err(|e| fail(format!("the token endpoint's reply is not a token: {e}")))?;
        let lifetime = Duration::from_secs(reply.expires_in.unwrap_or(3600));
        let token = SecretString::from(reply.access_token);
        *cached = Some((token.clone(), Instant::now() + lifetime));
        Ok(token)
    }

    /// Forgets a cached OAuth token (after a 401), so the next call fetches a new one.
    pub async fn invalidate(&self) {
        *self.cached.lock().await = None;
    }
}

/// The OAuth error reply's own words (`error_description`, `error`), never the request.
fn oauth_error_text(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct OAuthError {
        error: Option<String>,
        error_description: Option<String>,
        #[serde(rename = "errorSummary")]
        error_summary: Option<String>,
    }
    match serde_json::from_slice::<OAuthError>(body) {
        Ok(e) => [e.error, e.error_description.or(e.error_summary)]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(": "),
        Err(_) => String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
    }
}

/// reqwest errors print the URL; ours carries no credentials, but keep messages short.
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(&format!(" for url ({url})"), "");
    }
    text
}
