//! The request log: a bounded ring of what the mock answered, for tests,
//! rehearsals and the control API. Bodies, headers and tokens are never kept.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Serialize;

/// One answered request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LoggedRequest {
    /// Sequence number, from 1, over the server's life.
    pub seq: u64,
    /// Virtual time of the request (epoch ms).
    pub at_ms: i64,
    /// HTTP method.
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// The raw query string, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// The status answered.
    pub status: u16,
    /// The injected fault that produced the answer, if one did
    /// (`throttled`, `rate_limit`, `limit:<family>`, `in_flight`, `error_500`, `error_503`, `outage`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
}

/// A bounded ring buffer of [`LoggedRequest`]s.
#[derive(Debug)]
pub(crate) struct RequestLog {
    inner: Mutex<Ring>,
}

#[derive(Debug)]
struct Ring {
    capacity: usize,
    next_seq: u64,
    entries: VecDeque<LoggedRequest>,
}

impl RequestLog {
    pub(crate) fn new(capacity: usize) -> Self {
        RequestLog {
            inner: Mutex::new(Ring {
                capacity: capacity.max(1),
                next_seq: 1,
                entries: VecDeque::new(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ring> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records a request; the oldest entry goes when the ring is full.
    pub(crate) fn push(&self, mut entry: LoggedRequest) {
        let mut ring = self.lock();
        entry.seq = ring.next_seq;
        ring.next_seq += 1;
        if ring.entries.len() == ring.capacity {
            ring.entries.pop_front();
        }
        ring.entries.push_back(entry);
    }

    /// Entries with `seq > since`, oldest first, at most `limit`; and the
    /// sequence number the next request will get.
    pub(crate) fn since(&self, since: u64, limit: usize) -> (Vec<LoggedRequest>, u64) {
        let ring = self.lock();
        let skip = ring.entries.partition_point(|e| e.seq <= since);
        (
            ring.entries
                .iter()
                .skip(skip)
                .take(limit)
                .cloned()
                .collect(),
            ring.next_seq,
        )
    }

    /// Forgets every entry (sequence numbers keep counting).
    pub(crate) fn clear(&self) {
        self.lock().entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str) -> LoggedRequest {
        LoggedRequest {
            seq: 0,
            at_ms: 0,
            method: "GET".into(),
            path: path.into(),
            query: None,
            status: 200,
            fault: None,
        }
    }

    #[test]
    fn ring_is_bounded_and_numbered() {
        let log = RequestLog::new(2);
        for p in ["/a", "/b", "/c"] {
            log.push(entry(p));
        }
        let (entries, next) = log.since(0, 10);
        assert_eq!(
            entries
                .iter()
                .map(|e| (e.seq, e.path.as_str()))
                .collect::<Vec<_>>(),
            [(2, "/b"), (3, "/c")]
        );
        assert_eq!(next, 4);
        assert_eq!(log.since(2, 10).0.len(), 1);
        log.clear();
        assert!(log.since(0, 10).0.is_empty());
    }
}
