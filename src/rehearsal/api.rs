//! The runner's view of a workspace: REST calls through standby's client,
//! the listings steps need, and the clock.
//!
//! Against a standby mock, time is the mock's virtual clock, read and moved
//! through its control API (`/_standby/clock`), and an outage is the mock's
//! own (`/_standby/outage`: every API call answers 503). Against a real
//! workspace (allowed only when the user says so), time is the wall clock
//! and an outage is simulated here: the runner answers 503 for the
//! workspace itself and sends nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use super::plan::Role;
use crate::client::{ApiError, Client, TokenPaging, take_array};

/// Cluster sources that are not all-purpose clusters (not DR objects).
const NOT_ALL_PURPOSE: [&str; 5] = ["JOB", "PIPELINE", "PIPELINE_MAINTENANCE", "SQL", "MODELS"];

/// One workspace of a rehearsal.
#[derive(Debug)]
pub(crate) struct Ws {
    /// The plan's name for it.
    pub(crate) name: String,
    /// Its role.
    pub(crate) role: Role,
    /// What it is, for reports: `fixture fixtures/primary.json`, a host.
    pub(crate) label: String,
    pub(crate) client: Client,
    /// True for a standby mock (virtual clock, real outages).
    pub(crate) mock: bool,
    /// A simulated outage (real workspaces only).
    down: AtomicBool,
}

impl Ws {
    pub(crate) fn new(name: String, role: Role, label: String, client: Client, mock: bool) -> Ws {
        Ws {
            name,
            role,
            label,
            client,
            mock,
            down: AtomicBool::new(false),
        }
    }

    /// True while an outage simulated here (real workspaces) lasts.
    pub(crate) fn simulated_down(&self) -> bool {
        self.down.load(Ordering::Acquire)
    }

    /// Sends an API request (never a control request).
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Value, ApiError> {
        if self.down.load(Ordering::Acquire) {
            return Err(ApiError::Http {
                method: method.to_string(),
                path: path.to_owned(),
                status: 503,
                code: Some("TEMPORARILY_UNAVAILABLE".into()),
                message: format!(
                    "`{}` is down (an outage simulated by standby; nothing was sent)",
                    self.name
                ),
            });
        }
        self.client.send(method, path, query, body).await
    }

    pub(crate) async fn get(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Value, ApiError> {
        self.call(Method::GET, path, query, None).await
    }

    pub(crate) async fn post(&self, path: &str, body: &Value) -> Result<Value, ApiError> {
        self.call(Method::POST, path, &[], Some(body)).await
    }

    /// Starts or lifts an outage.
    pub(crate) async fn set_outage(&self, down: bool) -> Result<(), ApiError> {
        if self.mock {
            let method = if down { Method::POST } else { Method::DELETE };
            let body = json!({"mode": "unavailable"});
            self.client
                .send(method, "/_standby/outage", &[], down.then_some(&body))
                .await?;
        } else {
            self.down.store(down, Ordering::Release);
        }
        Ok(())
    }

    async fn list(
        &self,
        path: &str,
        query: &[(&str, String)],
        items: &'static str,
    ) -> Result<Vec<Value>, ApiError> {
        if self.down.load(Ordering::Acquire) {
            self.get(path, query).await?;
        }
        self.client
            .list_pages(path, query, TokenPaging::page_token(items))
            .await
    }

    async fn one_page(
        &self,
        path: &str,
        query: &[(&str, String)],
        items: &str,
    ) -> Result<Vec<Value>, ApiError> {
        let mut page = self.get(path, query).await?;
        take_array(&mut page, items, path)
    }

    /// Every job with its whole settings.
    pub(crate) async fn jobs(&self) -> Result<Vec<Value>, ApiError> {
        self.list(
            "/api/2.1/jobs/list",
            &[("expand_tasks", "true".into()), ("limit", "100".into())],
            "jobs",
        )
        .await
    }

    /// All-purpose clusters.
    pub(crate) async fn clusters(&self) -> Result<Vec<Value>, ApiError> {
        let all = self
            .list(
                "/api/2.1/clusters/list",
                &[("page_size", "100".into())],
                "clusters",
            )
            .await?;
        Ok(all
            .into_iter()
            .filter(|c| {
                !NOT_ALL_PURPOSE.contains(
                    &c.get("cluster_source")
                        .and_then(Value::as_str)
                        .unwrap_or(""),
                )
            })
            .collect())
    }

    pub(crate) async fn pools(&self) -> Result<Vec<Value>, ApiError> {
        self.one_page("/api/2.0/instance-pools/list", &[], "instance_pools")
            .await
    }

    pub(crate) async fn policies(&self) -> Result<Vec<Value>, ApiError> {
        self.one_page("/api/2.0/policies/clusters/list", &[], "policies")
            .await
    }

    pub(crate) async fn warehouses(&self) -> Result<Vec<Value>, ApiError> {
        self.list(
            "/api/2.0/sql/warehouses",
            &[("page_size", "100".into())],
            "warehouses",
        )
        .await
    }

    pub(crate) async fn scopes(&self) -> Result<Vec<Value>, ApiError> {
        self.one_page("/api/2.0/secrets/scopes/list", &[], "scopes")
            .await
    }

    pub(crate) async fn secret_keys(&self, scope: &str) -> Result<Vec<Value>, ApiError> {
        self.one_page(
            "/api/2.0/secrets/list",
            &[("scope", scope.into())],
            "secrets",
        )
        .await
    }

    pub(crate) async fn secret_acls(&self, scope: &str) -> Result<Vec<Value>, ApiError> {
        self.one_page(
            "/api/2.0/secrets/acls/list",
            &[("scope", scope.into())],
            "items",
        )
        .await
    }

    pub(crate) async fn scim(&self, what: &str) -> Result<Vec<Value>, ApiError> {
        let path = format!("/api/2.0/preview/scim/v2/{what}");
        if self.down.load(Ordering::Acquire) {
            self.get(&path, &[]).await?;
        }
        self.client.list_scim(&path, &[], 1000).await
    }

    /// The objects of one folder.
    pub(crate) async fn folder(&self, path: &str) -> Result<Vec<Value>, ApiError> {
        self.one_page(
            "/api/2.0/workspace/list",
            &[("path", path.into())],
            "objects",
        )
        .await
    }

    /// Active runs (queued, pending, running) of every job.
    pub(crate) async fn active_runs(&self) -> Result<Vec<Value>, ApiError> {
        self.list(
            "/api/2.1/jobs/runs/list",
            &[("active_only", "true".into()), ("limit", "25".into())],
            "runs",
        )
        .await
    }
}

/// A cooperative stop signal: Ctrl-C sets it, the runner stops at the next
/// safe point (between requests, before the next step or clock move).
#[derive(Clone, Debug, Default)]
pub struct CancelToken {
    inner: Arc<(AtomicBool, tokio::sync::Notify)>,
}

impl CancelToken {
    /// A token nobody has cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the runner to stop.
    pub fn cancel(&self) {
        self.inner.0.store(true, Ordering::Release);
        self.inner.1.notify_waiters();
    }

    /// True once [`CancelToken::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.inner.0.load(Ordering::Acquire)
    }

    /// Sleeps for `d` of wall time, or less when cancelled.
    async fn sleep(&self, d: Duration) {
        if self.is_cancelled() {
            return;
        }
        tokio::select! {
            () = tokio::time::sleep(d) => {}
            () = self.inner.1.notified() => {}
        }
    }
}

/// The rehearsal's clock.
#[derive(Debug)]
pub(crate) enum Clock {
    /// The mocks' virtual clocks, moved together; the first is the reference.
    Virtual(Vec<Client>),
    /// The wall clock (a real workspace is part of the rehearsal).
    Wall,
}

/// How often a wait against a real workspace polls.
const WALL_POLL: Duration = Duration::from_secs(10);

impl Clock {
    async fn read(client: &Client) -> Result<(i64, Option<i64>), ApiError> {
        let v = client.get("/_standby/clock", &[]).await?;
        let now = v
            .get("now_ms")
            .and_then(Value::as_i64)
            .ok_or_else(|| ApiError::Decode {
                method: "GET".into(),
                path: "/_standby/clock".into(),
                message: "no `now_ms`".into(),
                excerpt: v.to_string().chars().take(60).collect(),
            })?;
        Ok((now, v.get("next_event_ms").and_then(Value::as_i64)))
    }

    /// Now, epoch ms.
    pub(crate) async fn now(&self) -> Result<i64, ApiError> {
        match self {
            Clock::Virtual(clients) => match clients.first() {
                Some(c) => Ok(Clock::read(c).await?.0),
                None => Ok(0),
            },
            Clock::Wall => Ok(crate::capture::epoch_ms(std::time::SystemTime::now())),
        }
    }

    /// The earliest time something is due in any mock, as reference time.
    pub(crate) async fn next_event(&self) -> Result<Option<i64>, ApiError> {
        let Clock::Virtual(clients) = self else {
            return Ok(None);
        };
        let mut reference = None;
        let mut best: Option<i64> = None;
        for c in clients {
            let (now, next) = Clock::read(c).await?;
            let base = *reference.get_or_insert(now);
            if let Some(next) = next {
                let at = base + (next - now).max(1);
                best = Some(best.map_or(at, |b| b.min(at)));
            }
        }
        Ok(best)
    }

    /// Moves time forward by `ms` (virtual), or waits (wall, interruptible;
    /// at most one poll interval, the caller loops).
    pub(crate) async fn advance(&self, ms: i64, cancel: &CancelToken) -> Result<(), ApiError> {
        if ms <= 0 {
            return Ok(());
        }
        match self {
            Clock::Virtual(clients) => {
                for c in clients {
                    c.send(
                        Method::POST,
                        "/_standby/clock/advance",
                        &[],
                        Some(&json!({ "ms": ms })),
                    )
                    .await?;
                }
            }
            Clock::Wall => {
                cancel
                    .sleep(Duration::from_millis(ms as u64).min(WALL_POLL))
                    .await;
            }
        }
        Ok(())
    }

    /// True when time only moves when told.
    pub(crate) fn is_virtual(&self) -> bool {
        matches!(self, Clock::Virtual(_))
    }
}

/// Probes a URL's control API: true for a standby mock.
pub(crate) async fn is_mock(client: &Client) -> bool {
    Clock::read(client).await.is_ok()
}
