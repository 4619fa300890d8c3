//! Sending requests: auth header, rate limit, concurrency, retries, decoding.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rand::Rng;
use reqwest::{Method, StatusCode, header};
use secrecy::ExposeSecret;
use serde_json::Value;
use tokio::sync::Semaphore;
use url::Url;

use super::error::ApiError;
use super::family::{Family, Limiter, RateLimits};
use crate::auth::{TokenSource, WorkspaceAuth};

/// How the client behaves; defaults follow the service's published limits.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Requests in flight at once for this workspace (the service allows about 20).
    pub concurrency: usize,
    /// Per-family client-side rate limits.
    pub rate_limits: RateLimits,
    /// TCP connect timeout.
    pub connect_timeout: Duration,
    /// Whole-request timeout.
    pub request_timeout: Duration,
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// First backoff step; doubles each retry, with jitter.
    pub backoff_base: Duration,
    /// Longest backoff step and longest `Retry-After` honoured.
    pub backoff_max: Duration,
    /// Pages after which a listing is declared endless.
    pub max_pages: usize,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            concurrency: 20,
            rate_limits: RateLimits::default(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            max_attempts: 6,
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(60),
            max_pages: 100_000,
        }
    }
}

/// Counters of what the client did, for progress and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// HTTP requests sent, retries included.
    pub requests: u64,
    /// Answers that were 429.
    pub throttled: u64,
    /// Requests retried (any reason).
    pub retries: u64,
}

/// A client for one workspace. Cheap to clone; clones share limits.
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    base: Url,
    tokens: TokenSource,
    inflight: Semaphore,
    limiters: BTreeMap<Family, Limiter>,
    config: ClientConfig,
    requests: AtomicU64,
    throttled: AtomicU64,
    retries: AtomicU64,
}

/// One attempt's failure, and whether (and when) to retry it.
struct Failed {
    error: ApiError,
    retry: bool,
    retry_after: Option<Duration>,
    throttled: bool,
}

impl Client {
    /// A client for a resolved workspace.
    pub fn new(auth: WorkspaceAuth, config: ClientConfig) -> Result<Self, ApiError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("standby/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .gzip(true)
            .pool_max_idle_per_host(config.concurrency.max(1))
            .build()
            .map_err(|e| ApiError::Transport {
                method: "-".into(),
                path: "-".into(),
                message: format!("cannot build the HTTP client: {e}"),
            })?;
        let limiters = Family::ALL
            .into_iter()
            .map(|f| {
                (
                    f,
                    Limiter::new(config.rate_limits.0.get(&f).copied().flatten()),
                )
            })
            .collect();
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base: auth.host.clone(),
                tokens: TokenSource::new(auth),
                inflight: Semaphore::new(config.concurrency.max(1)),
                limiters,
                config,
                requests: AtomicU64::new(0),
                throttled: AtomicU64::new(0),
                retries: AtomicU64::new(0),
            }),
        })
    }

    /// The workspace URL.
    pub fn host(&self) -> &Url {
        &self.inner.base
    }

    /// The resolved workspace (host, profile).
    pub fn auth(&self) -> &WorkspaceAuth {
        self.inner.tokens.auth()
    }

    /// The client's configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// What the client has done so far.
    pub fn stats(&self) -> ClientStats {
        ClientStats {
            requests: self.inner.requests.load(Ordering::Relaxed),
            throttled: self.inner.throttled.load(Ordering::Relaxed),
            retries: self.inner.retries.load(Ordering::Relaxed),
        }
    }

    /// `GET path?query` → JSON.
    pub async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Value, ApiError> {
        self.send(Method::GET, path, query, None).await
    }

    /// Sends a request with retries and returns the JSON answer (`{}` for an empty body).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Value, ApiError> {
        let family = Family::of(method.as_str(), path);
        let limiter = &self.inner.limiters[&family];
        let config = &self.inner.config;
        let mut attempt = 1;
        loop {
            limiter.acquire().await;
            let result = {
                let _permit = self
                    .inner
                    .inflight
                    .acquire()
                    .await
                    .expect("semaphore is never closed");
                self.attempt(&method, path, query, body).await
            };
            let failed = match result {
                Ok(value) => {
                    limiter.succeeded();
                    return Ok(value);
                }
                Err(failed) => failed,
            };
            if failed.throttled {
                self.inner.throttled.fetch_add(1, Ordering::Relaxed);
                let pause = failed
                    .retry_after
                    .unwrap_or_else(|| self.backoff(attempt))
                    .min(config.backoff_max);
                limiter.throttled(Some(pause));
            }
            if !failed.retry || attempt >= config.max_attempts {
                return Err(failed.error);
            }
            self.inner.retries.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(%family, attempt, error = %failed.error, "retrying");
            if !failed.throttled {
                let wait = failed
                    .retry_after
                    .unwrap_or_else(|| self.backoff(attempt))
                    .min(config.backoff_max);
                tokio::time::sleep(wait).await;
            }
            attempt += 1;
        }
    }

    /// Exponential backoff with jitter: half fixed, half random, so retries of
    /// many parallel requests spread out instead of arriving together.
    fn backoff(&self, attempt: u32) -> Duration {
        let config = &self.inner.config;
        let step = config
            .backoff_base
            .saturating_mul(1 << (attempt - 1).min(16))
            .min(config.backoff_max);
        let jitter = rand::thread_rng().gen_range(0.0..=0.5);
        step.mul_f64(0.5 + jitter)
    }

    async fn attempt(
        &self,
        method: &Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Value, Failed> {
        let transport = |message: String| Failed {
            error: ApiError::Transport {
                method: method.to_string(),
                path: path.to_owned(),
                message,
            },
            retry: true,
            retry_after: None,
            throttled: false,
        };
        let mut url = self.inner.base.clone();
        url.set_path(path);
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (k, v.as_str())));
        }
        let token = self
            .inner
            .tokens
            .bearer(&self.inner.http)
            .await
            .map_err(|error| Failed {
                error,
                retry: false,
                retry_after: None,
                throttled: false,
            })?;
        let mut request = self
            .inner
            .http
            .request(method.clone(), url)
            .header(header::ACCEPT, "application/json")
            .bearer_auth(token.expose_secret());
        if let Some(body) = body {
            request = request.json(body);
        }
        self.inner.requests.fetch_add(1, Ordering::Relaxed);
        let response = request.send().await.map_err(|e| transport(describe(&e)))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let bytes = response
            .bytes()
            .await
            .map_err(|e| transport(format!("the answer was cut off: {}", describe(&e))))?;
        if status.is_success() {
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(Value::Object(Default::default()));
            }
            return serde_json::from_slice(&bytes).map_err(|e| Failed {
                error: ApiError::Decode {
                    method: method.to_string(),
                    path: path.to_owned(),
                    message: e.to_string(),
                    excerpt: excerpt(&bytes),
                },
                retry: false,
                retry_after: None,
                throttled: false,
            });
        }
        if status == StatusCode::UNAUTHORIZED {
            self.inner.tokens.invalidate().await;
        }
        let (code, message) = error_body(&bytes, status);
        let throttled = status == StatusCode::TOO_MANY_REQUESTS
            || matches!(
                code.as_deref(),
                Some("REQUEST_LIMIT_EXCEEDED" | "RESOURCE_EXHAUSTED")
            );
        let retry = throttled || matches!(status.as_u16(), 500 | 502 | 503 | 504);
        Err(Failed {
            error: ApiError::Http {
                method: method.to_string(),
                path: path.to_owned(),
                status: status.as_u16(),
                code,
                message,
            },
            retry,
            retry_after,
            throttled,
        })
    }
}

/// `Retry-After` as seconds or an HTTP date.
fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0)
            .then(|| Duration::from_secs_f64(secs.min(3600.0)));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    )
}

/// The API's `error_code` and `message` from any of the shapes it sends.
fn error_body(bytes: &[u8], status: StatusCode) -> (Option<String>, String) {
    if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(bytes) {
        let text = |k: &str| map.get(k).and_then(Value::as_str).map(str::to_owned);
        if let Some(message) = text("message") {
            return (text("error_code"), message);
        }
        if let Some(detail) = text("detail") {
            // SCIM's error shape.
            return (Some(format!("SCIM_{}", status.as_u16())), detail);
        }
        if let Some(error) = text("error") {
            return (text("error_code"), error);
        }
    }
    let reason = status.canonical_reason().unwrap_or("error").to_owned();
    if bytes.is_empty() {
        (None, reason)
    } else {
        (None, format!("{reason}; body starts `{}`", excerpt(bytes)))
    }
}

fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(120)]);
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// reqwest's message, with the kind of failure first and no URL (the path is already in our error).
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}: {detail}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_as_seconds_fraction_or_date() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn error_bodies_of_every_shape() {
        let s = StatusCode::NOT_FOUND;
        assert_eq!(
            error_body(
                br#"{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"no job"}"#,
                s
            ),
            (Some("RESOURCE_DOES_NOT_EXIST".into()), "no job".into())
        );
        assert_eq!(
            error_body(br#"{"detail":"no user","status":"404"}"#, s),
            (Some("SCIM_404".into()), "no user".into())
        );
        assert_eq!(error_body(b"", s), (None, "Not Found".into()));
        assert_eq!(
            error_body(b"<html>", s).1,
            "Not Found; body starts `<html>`"
        );
    }
}
