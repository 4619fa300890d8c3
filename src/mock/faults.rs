//! Fault injection and limits: latency, a seeded share of failed answers,
//! a per-workspace rate limit, and the service's published per-family limits
//! with its cap on requests in flight.
//!
//! Which request fails is decided from the seed and the request itself (its
//! method, path and query, and how many times that exact request was seen),
//! not from arrival order, so the same client run sees the same faults even
//! when its requests interleave differently.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::error::ApiError;
use super::store::{fnv1a, splitmix64};
use crate::client::Family;

/// Which service limits to enforce.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Limits {
    /// No per-family limits.
    #[default]
    None,
    /// The service's published limits: jobs 20/s, permission reads 100/s and
    /// writes 30/s, workspace list 50/s, SCIM 255/min, secrets 1,100/min,
    /// and about 20 requests in flight per workspace.
    Realistic,
}

/// The fault settings of one workspace; the control API reads and writes this shape.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FaultConfig {
    /// Added to every answer, in real milliseconds.
    pub latency_ms: u64,
    /// Share of requests (0–1) answered with an injected 429, 500 or 503.
    pub fault_rate: f64,
    /// Requests per second per workspace beyond which the answer is 429.
    pub rate_limit: Option<f64>,
    /// Per-family service limits.
    pub limits: Limits,
    /// Seed of the fault draws.
    pub seed: u64,
}

impl FaultConfig {
    /// Checks the values are usable.
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.fault_rate) {
            return Err(format!(
                "`fault_rate` must be between 0 and 1, not {}",
                self.fault_rate
            ));
        }
        if let Some(r) = self.rate_limit {
            if !(r.is_finite() && r > 0.0) {
                return Err(format!(
                    "`rate_limit` must be a positive number of requests per second, not {r}"
                ));
            }
        }
        Ok(())
    }

    fn is_active(&self) -> bool {
        self.latency_ms > 0
            || self.fault_rate > 0.0
            || self.rate_limit.is_some()
            || self.limits == Limits::Realistic
    }
}

/// Injected faults a single request meets at most in a row.
pub const MAX_FAULTS_IN_A_ROW: u8 = 3;

/// The in-flight cap of `--limits realistic`.
pub const MAX_IN_FLIGHT: usize = 20;

/// A token bucket on real time.
#[derive(Debug)]
struct Bucket {
    rate: f64,
    capacity: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn new(rate: f64, capacity: f64) -> Self {
        Bucket {
            rate,
            capacity,
            tokens: capacity,
            last: Instant::now(),
        }
    }

    /// Takes a token, or says how many seconds until one is there.
    fn take(&mut self, now: Instant) -> Result<(), f64> {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.capacity);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err((1.0 - self.tokens) / self.rate)
        }
    }
}

/// The service's limit of a family, per second; `None` where none is published.
fn family_rate(family: Family) -> Option<f64> {
    match family {
        Family::Scim => Some(255.0 / 60.0),
        Family::Jobs => Some(20.0),
        Family::JobRuns => Some(100.0),
        Family::PermissionsRead => Some(100.0),
        Family::PermissionsWrite => Some(30.0),
        Family::WorkspaceList => Some(50.0),
        Family::WorkspaceExport => Some(60.0),
        Family::Secrets => Some(1100.0 / 60.0),
        Family::Other => None,
    }
}

/// Counts a request in flight until dropped.
#[derive(Debug)]
pub(crate) struct InFlight(Arc<AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A request turned away, and the fault's name for the log.
#[derive(Debug)]
pub(crate) struct Rejection {
    pub(crate) error: ApiError,
    pub(crate) fault: String,
}

/// The live fault state of one workspace.
#[derive(Debug)]
pub(crate) struct Faults {
    config: RwLock<FaultConfig>,
    active: AtomicBool,
    /// Per request key: times seen, and faults in a row.
    draws: Mutex<HashMap<u64, (u32, u8)>>,
    workspace_bucket: Mutex<Option<Bucket>>,
    family_buckets: Mutex<HashMap<Family, Bucket>>,
    in_flight: Arc<AtomicUsize>,
}

impl Faults {
    pub(crate) fn new(config: FaultConfig) -> Self {
        let faults = Faults {
            config: RwLock::new(FaultConfig::default()),
            active: AtomicBool::new(false),
            draws: Mutex::new(HashMap::new()),
            workspace_bucket: Mutex::new(None),
            family_buckets: Mutex::new(HashMap::new()),
            in_flight: Arc::new(AtomicUsize::new(0)),
        };
        faults.set(config);
        faults
    }

    /// The current settings.
    pub(crate) fn config(&self) -> FaultConfig {
        self.config
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Replaces the settings; draws and buckets start afresh.
    pub(crate) fn set(&self, config: FaultConfig) {
        let mut bucket = self
            .workspace_bucket
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *bucket = config.rate_limit.map(|r| Bucket::new(r, r.max(1.0)));
        drop(bucket);
        self.family_buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
        self.draws
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
        self.active.store(config.is_active(), Ordering::Release);
        *self
            .config
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = config;
    }

    /// The latency to add to every answer, in real milliseconds.
    pub(crate) fn latency_ms(&self) -> u64 {
        if !self.active.load(Ordering::Acquire) {
            return 0;
        }
        self.config
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .latency_ms
    }

    /// Counts a request in flight (until the guard drops); over the cap of
    /// `--limits realistic` it is turned away.
    pub(crate) fn enter(&self) -> Result<Option<InFlight>, Rejection> {
        if !self.active.load(Ordering::Acquire)
            || self
                .config
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .limits
                != Limits::Realistic
        {
            return Ok(None);
        }
        let before = self.in_flight.fetch_add(1, Ordering::AcqRel);
        let guard = InFlight(self.in_flight.clone());
        if before >= MAX_IN_FLIGHT {
            return Err(Rejection {
                error: ApiError::throttled(
                    format!(
                        "Too many concurrent requests: at most {MAX_IN_FLIGHT} may be in flight per workspace."
                    ),
                    Some(1),
                ),
                fault: "in_flight".into(),
            });
        }
        Ok(Some(guard))
    }

    /// Decides a request's fate: rate limits, family limits, then the seeded draw.
    pub(crate) fn admit(
        &self,
        method: &str,
        path: &str,
        query: Option<&str>,
    ) -> Result<(), Rejection> {
        if !self.active.load(Ordering::Acquire) {
            return Ok(());
        }
        let config = self.config();
        let now = Instant::now();
        if let Some(bucket) = self
            .workspace_bucket
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_mut()
        {
            if let Err(wait) = bucket.take(now) {
                return Err(Rejection {
                    error: ApiError::throttled(
                        "The rate limit of this workspace was exceeded.",
                        Some(retry_secs(wait)),
                    ),
                    fault: "rate_limit".into(),
                });
            }
        }
        if config.limits == Limits::Realistic {
            let family = Family::of(method, path);
            if let Some(rate) = family_rate(family) {
                let mut buckets = self
                    .family_buckets
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let bucket = buckets
                    .entry(family)
                    .or_insert_with(|| Bucket::new(rate, rate.max(5.0)));
                if let Err(wait) = bucket.take(now) {
                    return Err(Rejection {
                        error: ApiError::throttled(
                            format!("The rate limit of `{family}` requests was exceeded."),
                            Some(retry_secs(wait)),
                        ),
                        fault: format!("limit:{family}"),
                    });
                }
            }
        }
        if config.fault_rate > 0.0 {
            if let Some(rejection) = self.draw(&config, method, path, query) {
                return Err(rejection);
            }
        }
        Ok(())
    }

    /// The seeded draw: the n-th sighting of a request always meets the same fate.
    fn draw(
        &self,
        config: &FaultConfig,
        method: &str,
        path: &str,
        query: Option<&str>,
    ) -> Option<Rejection> {
        let mut key = fnv1a(method.as_bytes());
        key = splitmix64(key ^ fnv1a(path.as_bytes()));
        key = splitmix64(key ^ fnv1a(query.unwrap_or("").as_bytes()));
        key = splitmix64(key ^ config.seed);
        let mut draws = self
            .draws
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (seen, failed_in_a_row) = draws.entry(key).or_insert((0, 0));
        *seen += 1;
        let r = splitmix64(key ^ u64::from(*seen).wrapping_mul(0xA076_1D64_78BD_642F));
        let unit = (r >> 11) as f64 / (1u64 << 53) as f64;
        // A request that failed MAX_FAULTS_IN_A_ROW times passes, so a client
        // that retries gets through: faults delay a capture, never break it.
        if unit >= config.fault_rate || *failed_in_a_row >= MAX_FAULTS_IN_A_ROW {
            *failed_in_a_row = 0;
            return None;
        }
        *failed_in_a_row += 1;
        drop(draws);
        let pick = splitmix64(r) % 100;
        Some(if pick < 60 {
            // The service sometimes throttles without a Retry-After.
            let retry_after = (pick % 4 != 0).then_some(1);
            Rejection {
                error: ApiError::throttled(
                    "Too many requests. Please try again later.",
                    retry_after,
                ),
                fault: "throttled".into(),
            }
        } else if pick < 80 {
            Rejection {
                error: ApiError::internal("Internal error (injected fault)."),
                fault: "error_500".into(),
            }
        } else {
            Rejection {
                error: ApiError::unavailable(
                    "The service is temporarily unavailable (injected fault).",
                ),
                fault: "error_503".into(),
            }
        })
    }
}

/// Whole seconds for `Retry-After`: at least 1.
fn retry_secs(wait: f64) -> u32 {
    wait.ceil().clamp(1.0, 3600.0) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fates(faults: &Faults, n: usize) -> Vec<Option<String>> {
        (0..n)
            .map(|i| {
                let path = format!("/api/2.0/permissions/jobs/{}", i % 7);
                faults.admit("GET", &path, None).err().map(|r| r.fault)
            })
            .collect()
    }

    #[test]
    fn draws_are_reproducible_from_the_seed() {
        let config = FaultConfig {
            fault_rate: 0.3,
            seed: 42,
            ..FaultConfig::default()
        };
        let a = fates(&Faults::new(config.clone()), 500);
        let b = fates(&Faults::new(config.clone()), 500);
        assert_eq!(a, b);
        let failed = a.iter().filter(|f| f.is_some()).count();
        assert!(
            (100..200).contains(&failed),
            "about 30% should fail, got {failed}"
        );
        let other = fates(&Faults::new(FaultConfig { seed: 43, ..config }), 500);
        assert_ne!(a, other);
        assert!(a.iter().flatten().any(|f| f == "throttled"));
        assert!(a.iter().flatten().any(|f| f.starts_with("error_")));
    }

    #[test]
    fn a_retried_request_gets_through() {
        let faults = Faults::new(FaultConfig {
            fault_rate: 1.0,
            seed: 5,
            ..FaultConfig::default()
        });
        let fates: Vec<bool> = (0..8)
            .map(|_| faults.admit("GET", "/api/2.2/jobs/list", None).is_ok())
            .collect();
        assert_eq!(
            fates,
            [false, false, false, true, false, false, false, true]
        );
    }

    #[test]
    fn injected_throttling_sometimes_lacks_retry_after() {
        let faults = Faults::new(FaultConfig {
            fault_rate: 1.0,
            seed: 1,
            ..FaultConfig::default()
        });
        let throttled: Vec<ApiError> = (0..400)
            .filter_map(|i| faults.admit("GET", &format!("/x/{i}"), None).err())
            .filter(|r| r.fault == "throttled")
            .map(|r| r.error)
            .collect();
        assert!(throttled.iter().any(|e| e.retry_after == Some(1)));
        assert!(throttled.iter().any(|e| e.retry_after.is_none()));
        assert!(
            throttled
                .iter()
                .all(|e| e.status.as_u16() == 429 && e.code == "REQUEST_LIMIT_EXCEEDED")
        );
    }

    #[tokio::test(start_paused = true)]
    async fn rate_limit_throttles_beyond_the_rate_and_recovers() {
        let faults = Faults::new(FaultConfig {
            rate_limit: Some(5.0),
            ..FaultConfig::default()
        });
        let ok = (0..10)
            .filter(|_| faults.admit("GET", "/api/2.1/clusters/list", None).is_ok())
            .count();
        assert_eq!(ok, 5);
        let rejected = faults.admit("GET", "/x", None).unwrap_err();
        assert_eq!(rejected.error.retry_after, Some(1));
        tokio::time::advance(std::time::Duration::from_secs(1)).await;
        assert!(faults.admit("GET", "/x", None).is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn realistic_limits_per_family_and_in_flight() {
        let faults = Faults::new(FaultConfig {
            limits: Limits::Realistic,
            ..FaultConfig::default()
        });
        // Jobs: 20/s with a burst of 20; clusters have no published limit.
        let ok = (0..25)
            .filter(|_| faults.admit("GET", "/api/2.2/jobs/list", None).is_ok())
            .count();
        assert_eq!(ok, 20);
        assert!((0..100).all(|_| faults.admit("GET", "/api/2.1/clusters/list", None).is_ok()));
        let scim = (0..10)
            .filter(|_| {
                faults
                    .admit("GET", "/api/2.0/preview/scim/v2/Users", None)
                    .is_ok()
            })
            .count();
        assert_eq!(scim, 5);
        // The in-flight cap.
        let mut guards: Vec<_> = (0..MAX_IN_FLIGHT)
            .map(|_| faults.enter().unwrap())
            .collect();
        assert!(guards.iter().all(Option::is_some));
        assert_eq!(faults.enter().unwrap_err().fault, "in_flight");
        guards.pop();
        assert!(faults.enter().is_ok());
    }

    #[test]
    fn config_is_validated() {
        assert!(
            FaultConfig {
                fault_rate: 1.5,
                ..FaultConfig::default()
            }
            .validate()
            .is_err()
        );
        assert!(
            FaultConfig {
                rate_limit: Some(0.0),
                ..FaultConfig::default()
            }
            .validate()
            .is_err()
        );
        assert!(FaultConfig::default().validate().is_ok());
    }
}
