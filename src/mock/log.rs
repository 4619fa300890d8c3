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

/// A request to log, borrowed from the request being answered.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry<'a> {
    /// Virtual time of the request (epoch ms).
    pub(crate) at_ms: i64,
    /// HTTP method.
    pub(crate) method: &'a str,
    /// Path without the query.
    pub(crate) path: &'a str,
    /// The raw query string, if any.
    pub(crate) query: Option<&'a str>,
    /// The status answered.
    pub(crate) status: u16,
    /// The injected fault, if one answered.
    pub(crate) fault: Option<&'a str>,
}

fn overwrite(slot: &mut String, text: &str) {
    slot.clear();
    slot.push_str(text);
}

fn overwrite_opt(slot: &mut Option<String>, text: Option<&str>) {
    match (slot.as_mut(), text) {
        (Some(s), Some(t)) => overwrite(s, t),
        (None, Some(t)) => *slot = Some(t.to_owned()),
        (_, None) => *slot = None,
    }
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
    ///
    /// Takes the fields borrowed: once the ring is full, the oldest entry's
    /// strings are overwritten in place, so logging allocates nothing in the
    /// steady state (it runs on every request).
    pub(crate) fn push(&self, entry: Entry<'_>) {
        let mut ring = self.lock();
        let seq = ring.next_seq;
        ring.next_seq += 1;
        let mut slot = if ring.entries.len() == ring.capacity {
            ring.entries.pop_front()
        } else {
            None
        }
        .unwrap_or_else(|| LoggedRequest {
            seq: 0,
            at_ms: 0,
            method: String::new(),
            path: String::new(),
            query: None,
            status: 0,
            fault: None,
        });
        slot.seq = seq;
        slot.at_ms = entry.at_ms;
        overwrite(&mut slot.method, entry.method);
        overwrite(&mut slot.path, entry.path);
        overwrite_opt(&mut slot.query, entry.query);
        slot.status = entry.status;
        overwrite_opt(&mut slot.fault, entry.fault);
        ring.entries.push_back(slot);
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

    fn entry(path: &str) -> Entry<'_> {
        Entry {
            at_ms: 0,
            method: "GET",
            path,
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

    #[test]
    fn recycled_entries_keep_nothing_of_the_old_request() {
        let log = RequestLog::new(1);
        log.push(Entry {
            at_ms: 5,
            method: "POST",
            path: "/a/long/path",
            query: Some("x=1"),
            status: 503,
            fault: Some("error_503"),
        });
        log.push(Entry {
            at_ms: 7,
            ..entry("/b")
        });
        let (entries, _) = log.since(0, 10);
        assert_eq!(
            entries,
            [LoggedRequest {
                seq: 2,
                at_ms: 7,
                method: "GET".into(),
                path: "/b".into(),
                query: None,
                status: 200,
                fault: None,
            }]
        );
        log.push(Entry {
            query: Some("y=2"),
            fault: Some("outage"),
            ..entry("/c")
        });
        let (entries, _) = log.since(2, 10);
        assert_eq!(entries[0].query.as_deref(), Some("y=2"));
        assert_eq!(entries[0].fault.as_deref(), Some("outage"));
    }
}
