//! Endpoint families and their client-side rate limits.
//!
//! The service limits requests per endpoint family; running each family just
//! under its limit is the fastest capture, because a 429 costs a wait.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

/// A group of endpoints that share one service-side rate limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// SCIM users, groups, service principals.
    Scim,
    /// Jobs create/get/list/reset/run-now.
    Jobs,
    /// Job runs get/list.
    JobRuns,
    /// Permissions API reads.
    PermissionsRead,
    /// Permissions API writes.
    PermissionsWrite,
    /// Workspace list and get-status.
    WorkspaceList,
    /// Workspace export.
    WorkspaceExport,
    /// Secrets API.
    Secrets,
    /// Everything else (clusters, pools, policies, UC, warehouses, ...): no published limit.
    Other,
}

impl Family {
    /// Every family.
    pub const ALL: [Family; 9] = [
        Family::Scim,
        Family::Jobs,
        Family::JobRuns,
        Family::PermissionsRead,
        Family::PermissionsWrite,
        Family::WorkspaceList,
        Family::WorkspaceExport,
        Family::Secrets,
        Family::Other,
    ];

    /// Which family a request belongs to, from its method and path.
    pub fn of(method: &str, path: &str) -> Family {
        let p = path.trim_start_matches('/');
        let rest = p
            .strip_prefix("api/")
            .and_then(|r| r.split_once('/'))
            .map_or(p, |(_version, rest)| rest);
        if rest.starts_with("preview/scim/") {
            Family::Scim
        } else if rest.starts_with("jobs/runs/") {
            Family::JobRuns
        } else if rest.starts_with("jobs/") {
            Family::Jobs
        } else if rest.starts_with("permissions/") {
            if method.eq_ignore_ascii_case("GET") {
                Family::PermissionsRead
            } else {
                Family::PermissionsWrite
            }
        } else if rest.starts_with("workspace/list") || rest.starts_with("workspace/get-status") {
            Family::WorkspaceList
        } else if rest.starts_with("workspace/export") {
            Family::WorkspaceExport
        } else if rest.starts_with("secrets/") {
            Family::Secrets
        } else {
            Family::Other
        }
    }

    /// The snake_case name used in config and logs.
    pub fn name(self) -> &'static str {
        match self {
            Family::Scim => "scim",
            Family::Jobs => "jobs",
            Family::JobRuns => "job_runs",
            Family::PermissionsRead => "permissions_read",
            Family::PermissionsWrite => "permissions_write",
            Family::WorkspaceList => "workspace_list",
            Family::WorkspaceExport => "workspace_export",
            Family::Secrets => "secrets",
            Family::Other => "other",
        }
    }

    /// The service's published limit in requests per second.
    ///
    /// From the Databricks resource-limits page as summarized in the project's
    /// API reference: jobs 20/s, runs get 100/s, permissions 100/s read and
    /// 30/s write, workspace list 50/s and export 60/s, SCIM 255/min,
    /// secrets 1,100/min. Families with no published number get 30/s.
    pub fn default_rate(self) -> f64 {
        match self {
            Family::Scim => 255.0 / 60.0,
            Family::Jobs => 20.0,
            Family::JobRuns => 100.0,
            Family::PermissionsRead => 100.0,
            Family::PermissionsWrite => 30.0,
            Family::WorkspaceList => 50.0,
            Family::WorkspaceExport => 60.0,
            Family::Secrets => 1100.0 / 60.0,
            Family::Other => 30.0,
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Family {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Family::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown endpoint family `{s}` (expected one of: {})",
                    Family::ALL.map(Family::name).join(", ")
                )
            })
    }
}

/// Per-family rate limits in requests per second; `None` means unlimited.
#[derive(Clone, Debug, PartialEq)]
pub struct RateLimits(pub BTreeMap<Family, Option<f64>>);

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits(
            Family::ALL
                .into_iter()
                .map(|f| (f, Some(f.default_rate())))
                .collect(),
        )
    }
}

impl RateLimits {
    /// No client-side limits at all (for tests against local mocks).
    pub fn unlimited() -> Self {
        RateLimits(Family::ALL.into_iter().map(|f| (f, None)).collect())
    }
}

/// A pacing limiter (GCRA) that adapts to 429s: each 429 slows the family
/// down and pauses it for `Retry-After`; successes recover the rate slowly.
#[derive(Debug)]
pub(crate) struct Limiter {
    base_interval: Option<Duration>,
    state: Mutex<LimiterState>,
}

#[derive(Debug)]
struct LimiterState {
    /// Theoretical arrival time of the next request.
    next: Instant,
    /// Multiplier on the interval (≥ 1), raised by 429s.
    slowdown: f64,
    /// No request of this family before this instant (a 429's `Retry-After`).
    paused_until: Option<Instant>,
}

/// Requests allowed back to back before pacing starts.
const BURST: u32 = 4;

impl Limiter {
    pub(crate) fn new(rate: Option<f64>) -> Self {
        let base_interval = rate
            .filter(|r| *r > 0.0 && r.is_finite())
            .map(|r| Duration::from_secs_f64(1.0 / r));
        Limiter {
            base_interval,
            state: Mutex::new(LimiterState {
                next: Instant::now(),
                slowdown: 1.0,
                paused_until: None,
            }),
        }
    }

    /// Waits for this family's next slot.
    pub(crate) async fn acquire(&self) {
        let wait_until = {
            let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let mut start = now;
            if let Some(p) = s.paused_until {
                if p > now {
                    start = p;
                } else {
                    s.paused_until = None;
                }
            }
            match self.base_interval {
                None => start,
                Some(base) => {
                    let interval = base.mul_f64(s.slowdown);
                    let tolerance = interval * (BURST - 1);
                    let tat = s.next.max(start);
                    s.next = tat + interval;
                    tat.checked_sub(tolerance).map_or(start, |t| t.max(start))
                }
            }
        };
        if wait_until > Instant::now() {
            tokio::time::sleep_until(wait_until).await;
        }
    }

    /// A 429 arrived: pause the family and slow it down.
    pub(crate) fn throttled(&self, retry_after: Option<Duration>) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.slowdown = (s.slowdown * 1.25).min(20.0);
        let pause = retry_after.unwrap_or(Duration::from_millis(500));
        let until = Instant::now() + pause;
        s.paused_until = Some(s.paused_until.map_or(until, |p| p.max(until)));
    }

    /// A request of the family succeeded: recover a little of the rate.
    pub(crate) fn succeeded(&self) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if s.slowdown > 1.0 {
            s.slowdown = (s.slowdown * 0.99).max(1.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_by_path() {
        assert_eq!(
            Family::of("GET", "/api/2.0/preview/scim/v2/Users"),
            Family::Scim
        );
        assert_eq!(Family::of("GET", "/api/2.2/jobs/list"), Family::Jobs);
        assert_eq!(Family::of("GET", "/api/2.2/jobs/runs/get"), Family::JobRuns);
        assert_eq!(
            Family::of("GET", "/api/2.0/permissions/jobs/1"),
            Family::PermissionsRead
        );
        assert_eq!(
            Family::of("PUT", "/api/2.0/permissions/jobs/1"),
            Family::PermissionsWrite
        );
        assert_eq!(
            Family::of("GET", "/api/2.0/workspace/list"),
            Family::WorkspaceList
        );
        assert_eq!(Family::of("GET", "/api/2.0/secrets/list"), Family::Secrets);
        assert_eq!(Family::of("GET", "/api/2.1/clusters/list"), Family::Other);
        assert_eq!(
            Family::of("GET", "/api/2.1/unity-catalog/permissions/table/a.b.c"),
            Family::Other
        );
    }

    #[tokio::test(start_paused = true)]
    async fn limiter_paces_at_the_rate_after_a_burst() {
        let limiter = Limiter::new(Some(10.0));
        let start = Instant::now();
        for _ in 0..(BURST + 10) {
            limiter.acquire().await;
        }
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(1000) && took < Duration::from_millis(1400),
            "{took:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn throttling_pauses_for_retry_after() {
        let limiter = Limiter::new(None);
        limiter.throttled(Some(Duration::from_secs(3)));
        let start = Instant::now();
        limiter.acquire().await;
        assert!(start.elapsed() >= Duration::from_secs(3));
    }
}
