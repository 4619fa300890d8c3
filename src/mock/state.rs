//! The state one served workspace shares between requests: the store behind
//! a lock, the fault settings, the outage switch and the request log, plus
//! the in-process control API that tests, rehearsals and the demo use.
//!
//! The lock is a plain `std::sync::RwLock`; no handler awaits while holding it.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::faults::{FaultConfig, Faults};
use super::fixture::Fixture;
use super::log::{LoggedRequest, RequestLog};
use super::store::Workspace;

/// How a served workspace is configured.
#[derive(Clone, Debug)]
pub struct MockOptions {
    /// Where to listen; port 0 picks a free port.
    pub addr: std::net::SocketAddr,
    /// The bearer token requests must carry; `None` accepts any request.
    pub token: Option<SecretString>,
    /// Latency, fault rate and limits.
    pub faults: FaultConfig,
    /// Move the virtual clock with the wall clock (for demos).
    pub real_time: bool,
    /// Entries the request log keeps.
    pub log_capacity: usize,
}

impl Default for MockOptions {
    fn default() -> Self {
        MockOptions {
            addr: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            token: None,
            faults: FaultConfig::default(),
            real_time: false,
            log_capacity: 10_000,
        }
    }
}

/// An outage of the whole workspace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutageMode {
    /// Every API call is answered 503 `TEMPORARILY_UNAVAILABLE`.
    Unavailable,
    /// The port is closed: connections are refused (open ones are dropped).
    Refuse,
    /// Connections are accepted and reset.
    Reset,
}

impl OutageMode {
    fn code(self) -> u8 {
        match self {
            OutageMode::Unavailable => 1,
            OutageMode::Refuse => 2,
            OutageMode::Reset => 3,
        }
    }

    fn from_code(code: u8) -> Option<OutageMode> {
        match code {
            1 => Some(OutageMode::Unavailable),
            2 => Some(OutageMode::Refuse),
            3 => Some(OutageMode::Reset),
            _ => None,
        }
    }
}

#[derive(Debug)]
pub(crate) struct Shared {
    ws: RwLock<Workspace>,
    /// The virtual time while not in real-time mode, mirrored from the
    /// store's clock by every method that moves it, so the request log can
    /// stamp a request without taking the store's lock.
    clock_ms: AtomicI64,
    /// Real-time mode (the time then moves by itself: read the store's clock).
    real_time: AtomicBool,
    pub(crate) faults: Faults,
    pub(crate) log: RequestLog,
    token: Option<SecretString>,
    outage: AtomicU8,
    outage_epoch: AtomicU64,
    outage_tx: watch::Sender<Option<OutageMode>>,
    name: String,
    workspace_id: String,
    /// True once every stored ACL reply and folder listing has been rendered
    /// (after that, replies are only rendered again after writes).
    prerendered: watch::Sender<bool>,
}

/// One served workspace's state; cheap to clone, clones share it.
#[derive(Clone, Debug)]
pub struct MockState(pub(crate) Arc<Shared>);

impl MockState {
    /// State for a fixture.
    pub fn new(fixture: Fixture, options: &MockOptions) -> MockState {
        let mut ws = fixture.ws;
        if options.real_time {
            ws.clock.set_real_time(true);
        }
        let (outage_tx, _) = watch::channel(None);
        let state = MockState(Arc::new(Shared {
            clock_ms: AtomicI64::new(ws.now()),
            real_time: AtomicBool::new(ws.clock.is_real_time()),
            name: ws.name.clone(),
            workspace_id: ws.workspace_id.clone(),
            ws: RwLock::new(ws),
            faults: Faults::new(options.faults.clone()),
            log: RequestLog::new(options.log_capacity),
            token: options.token.clone(),
            outage: AtomicU8::new(0),
            outage_epoch: AtomicU64::new(0),
            outage_tx,
            prerendered: watch::Sender::new(false),
        }));
        state.prerender();
        state
    }

    /// Renders the replies a capture reads most (every ACL, every folder's
    /// listing) so they are ready before they are read and every read costs
    /// the same. A large workspace renders on two background threads while
    /// it is already served: a read of a reply not yet rendered renders it
    /// itself, exactly as after a write, so replies are the same either way.
    fn prerender(&self) {
        /// Items rendered under one hold of the read lock, so a write waits
        /// for at most one chunk (a few ms).
        const CHUNK: usize = 4096;
        /// Below this many items, rendering inline is quicker than a thread.
        const INLINE: usize = 16_384;
        let (acls, objects) = {
            let ws = self.read();
            (ws.acl_count(), ws.object_count())
        };
        // The chunks of ACLs, then those of objects, as one sequence.
        let acl_chunks = acls.div_ceil(CHUNK);
        let chunks = acl_chunks + objects.div_ceil(CHUNK);
        let render = move |ws: &Workspace, chunk: usize| {
            if chunk < acl_chunks {
                ws.prerender_acls(chunk * CHUNK, CHUNK);
            } else {
                ws.prerender_listings((chunk - acl_chunks) * CHUNK, CHUNK);
            }
        };
        if acls + objects < INLINE {
            let ws = self.read();
            (0..chunks).for_each(|chunk| render(&ws, chunk));
            self.0.prerendered.send_replace(true);
            return;
        }
        let next = Arc::new(AtomicUsize::new(0));
        let running = Arc::new(AtomicUsize::new(2));
        for n in 0..2 {
            // A weak reference: a server dropped while rendering stops it.
            let shared = Arc::downgrade(&self.0);
            let (next, left) = (next.clone(), running.clone());
            let work = move || {
                loop {
                    let chunk = next.fetch_add(1, Ordering::Relaxed);
                    let Some(shared) = shared.upgrade() else {
                        return;
                    };
                    let state = MockState(shared);
                    if chunk >= chunks {
                        if left.fetch_sub(1, Ordering::AcqRel) == 1 {
                            state.0.prerendered.send_replace(true);
                        }
                        return;
                    }
                    render(&state.read(), chunk);
                }
            };
            let spawned = std::thread::Builder::new()
                .name(format!("mock-render-{n}"))
                .spawn(work);
            if spawned.is_err() {
                // No thread: replies render when first read instead.
                if running.fetch_sub(1, Ordering::AcqRel) == 1 {
                    self.0.prerendered.send_replace(true);
                }
            }
        }
    }

    /// Waits until the replies rendered at start-up are all rendered (at
    /// once for a small workspace). Reads are correct before that; this is
    /// for measurements that want every read to cost the same.
    pub async fn prerendered(&self) {
        let mut rx = self.0.prerendered.subscribe();
        let _ = rx.wait_for(|done| *done).await;
    }

    /// Reads the store.
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Workspace> {
        self.0
            .ws
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Writes the store.
    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, Workspace> {
        self.0
            .ws
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The fixture's label.
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// The numeric workspace id.
    pub fn workspace_id(&self) -> &str {
        &self.0.workspace_id
    }

    /// True when the `Authorization` header carries the configured token
    /// (or no token is configured).
    pub(crate) fn authorized(&self, header: Option<&str>) -> bool {
        let Some(expected) = &self.0.token else {
            return true;
        };
        let Some(value) = header else { return false };
        let Some((scheme, given)) = value.split_once(' ') else {
            return false;
        };
        scheme.eq_ignore_ascii_case("bearer")
            && constant_time_eq(given.trim().as_bytes(), expected.expose_secret().as_bytes())
    }

    /// The virtual time, epoch ms.
    pub fn now_ms(&self) -> i64 {
        if self.0.real_time.load(Ordering::Acquire) {
            return self.read().now();
        }
        self.0.clock_ms.load(Ordering::Acquire)
    }

    /// Advances the virtual clock and applies every state change that became due.
    pub fn advance(&self, by: Duration) -> i64 {
        // At most a century per call keeps every time computation far from overflow.
        const CENTURY_MS: i64 = 100 * 366 * 86_400_000;
        let mut ws = self.write();
        ws.advance(
            i64::try_from(by.as_millis())
                .unwrap_or(CENTURY_MS)
                .min(CENTURY_MS),
        );
        self.0.clock_ms.store(ws.now(), Ordering::Release);
        ws.now()
    }

    /// Switches real-time mode (the clock follows the wall clock) on or off.
    pub fn set_real_time(&self, on: bool) {
        let mut ws = self.write();
        ws.clock.set_real_time(on);
        self.0.clock_ms.store(ws.now(), Ordering::Release);
        self.0.real_time.store(on, Ordering::Release);
        ws.settle();
    }

    /// True in real-time mode.
    pub fn is_real_time(&self) -> bool {
        self.read().clock.is_real_time()
    }

    /// Applies state changes that came due by the wall clock (real-time mode).
    pub(crate) fn tick(&self) {
        let due = {
            let ws = self.read();
            ws.next_event_at().is_some_and(|at| at <= ws.now())
        };
        if due {
            self.write().settle();
        }
    }

    /// Starts an outage; `None` lifts it.
    pub fn set_outage(&self, mode: Option<OutageMode>) {
        self.0.outage_epoch.fetch_add(1, Ordering::AcqRel);
        self.0
            .outage
            .store(mode.map_or(0, OutageMode::code), Ordering::Release);
        self.0.outage_tx.send_replace(mode);
    }

    /// Starts an outage that lifts itself after `duration` of real time
    /// (needs a tokio runtime; without one it lasts until lifted).
    pub fn set_outage_for(&self, mode: OutageMode, duration: Duration) {
        self.set_outage(Some(mode));
        let epoch = self.0.outage_epoch.load(Ordering::Acquire);
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            let state = self.clone();
            rt.spawn(async move {
                tokio::time::sleep(duration).await;
                if state.0.outage_epoch.load(Ordering::Acquire) == epoch {
                    state.set_outage(None);
                }
            });
        }
    }

    /// The current outage, if any.
    pub fn outage(&self) -> Option<OutageMode> {
        OutageMode::from_code(self.0.outage.load(Ordering::Acquire))
    }

    /// Watches outage changes (the listener closes and reopens its port on them).
    pub(crate) fn watch_outage(&self) -> watch::Receiver<Option<OutageMode>> {
        self.0.outage_tx.subscribe()
    }

    /// Replaces the fault settings.
    pub fn set_faults(&self, config: FaultConfig) -> Result<(), String> {
        config.validate()?;
        self.0.faults.set(config);
        Ok(())
    }

    /// The fault settings.
    pub fn faults(&self) -> FaultConfig {
        self.0.faults.config()
    }

    /// Logged requests after sequence number `since`, oldest first.
    pub fn requests(&self, since: u64, limit: usize) -> Vec<LoggedRequest> {
        self.0.log.since(since, limit).0
    }

    /// Logged requests after `since`, and the sequence number the next request gets.
    pub fn requests_page(&self, since: u64, limit: usize) -> (Vec<LoggedRequest>, u64) {
        self.0.log.since(since, limit)
    }

    /// Empties the request log.
    pub fn clear_requests(&self) {
        self.0.log.clear();
    }

    /// The whole state as fixture text (secret values are never included).
    pub fn dump(&self) -> String {
        self.read().dump()
    }

    /// What idle pool instances, clusters and warehouses have run for so far.
    pub fn usage(&self) -> serde_json::Value {
        self.read().usage()
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_token_is_checked() {
        let options = MockOptions {
            token: Some(SecretString::from("s3cret")),
            ..MockOptions::default()
        };
        let state = MockState::new(Fixture::empty("t"), &options);
        assert!(state.authorized(Some("Bearer s3cret")));
        assert!(state.authorized(Some("bearer s3cret")));
        assert!(!state.authorized(Some("Bearer wrong")));
        assert!(!state.authorized(Some("Basic s3cret")));
        assert!(!state.authorized(None));
        let open = MockState::new(Fixture::empty("t"), &MockOptions::default());
        assert!(open.authorized(None));
    }

    #[test]
    fn outage_switches() {
        let state = MockState::new(Fixture::empty("t"), &MockOptions::default());
        let rx = state.watch_outage();
        state.set_outage(Some(OutageMode::Reset));
        assert_eq!(state.outage(), Some(OutageMode::Reset));
        assert_eq!(*rx.borrow(), Some(OutageMode::Reset));
        state.set_outage(None);
        assert_eq!(state.outage(), None);
    }

    #[test]
    fn clock_advances_on_request() {
        let state = MockState::new(Fixture::empty("t"), &MockOptions::default());
        let t0 = state.now_ms();
        assert_eq!(state.advance(Duration::from_secs(60)), t0 + 60_000);
        assert_eq!(state.now_ms(), t0 + 60_000);
        assert!(!state.is_real_time());
        state.set_real_time(true);
        assert!(state.now_ms() >= t0 + 60_000);
        state.set_real_time(false);
        let stopped = state.now_ms();
        assert_eq!(state.now_ms(), stopped);
        assert_eq!(state.advance(Duration::from_secs(1)), stopped + 1000);
    }
}
