//! The snapshot data model.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::kind::Kind;

/// The snapshot file format version.
///
/// Changelog:
/// - 1: first version: metadata, per-kind status, records with key,
///   duplicate flag, modification time, references and canonical content.
pub const FORMAT_VERSION: u32 = 1;

/// One workspace's normalized inventory.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    /// Always [`FORMAT_VERSION`] when written by this build.
    pub format_version: u32,
    /// Where and when the capture ran.
    pub metadata: CaptureMetadata,
    /// Every kind that was asked for, complete or not.
    pub kinds: BTreeMap<Kind, KindSnapshot>,
}

/// Where, when and how a snapshot was captured.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaptureMetadata {
    /// The workspace URL (never with credentials).
    pub host: String,
    /// The profile used, when one was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// `standby <version>`.
    pub tool_version: String,
    /// When the capture started, RFC 3339 UTC.
    pub captured_at: String,
    /// Capture start in epoch milliseconds; the diff measures replication lag from it.
    pub captured_at_ms: i64,
    /// The kinds that were asked for.
    pub requested_kinds: Vec<Kind>,
}

/// The records of one kind and whether the capture of that kind completed.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindSnapshot {
    /// Complete, or incomplete with the reason.
    pub status: Status,
    /// Number of records (kept in the file so a reader can check it).
    pub count: usize,
    /// Records sorted by key, then by content for duplicate keys.
    pub records: Vec<Record>,
}

/// Whether a kind was captured completely.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state", deny_unknown_fields)]
pub enum Status {
    /// Every object of the kind was read.
    Complete,
    /// The capture failed part-way; the records are what was read.
    Incomplete {
        /// Why it failed.
        reason: Incomplete,
    },
}

impl Status {
    /// True for [`Status::Complete`].
    pub fn is_complete(&self) -> bool {
        matches!(self, Status::Complete)
    }
}

/// Why a kind is incomplete: what the server said, when it said anything.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Incomplete {
    /// The HTTP status, when the failure was an HTTP answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// The API's `error_code`, when it sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// A readable message (never a token or secret value).
    pub message: String,
}

/// One object, keyed by its natural key.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// The natural key (user name, job name, workspace path, `scope/key`, ...).
    pub key: String,
    /// Set when another record of the same kind has the same key: kept apart, never merged.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub duplicate: bool,
    /// Last modification time in epoch ms, kept outside the compared content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_at: Option<i64>,
    /// References from this object to other objects, by natural key.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refs: Vec<Reference>,
    /// The compared content: canonical JSON (sorted keys, no volatile fields, no ids).
    pub content: Box<RawValue>,
}

impl Record {
    /// Content bytes, canonical, so equal content is equal bytes.
    pub fn content_bytes(&self) -> &[u8] {
        self.content.get().as_bytes()
    }
}

impl Clone for Record {
    fn clone(&self) -> Self {
        Record {
            key: self.key.clone(),
            duplicate: self.duplicate,
            modified_at: self.modified_at,
            refs: self.refs.clone(),
            content: self.content.clone(),
        }
    }
}

impl PartialEq for Record {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
            && self.duplicate == other.duplicate
            && self.modified_at == other.modified_at
            && self.refs == other.refs
            && self.content.get() == other.content.get()
    }
}

/// A reference from one object to another, by natural key.
///
/// The diff checks that every reference of a secondary resolves in the
/// secondary; an id that could not be resolved at capture stays visible.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reference {
    /// Field path inside the content, e.g. `settings.tasks[ingest].existing_cluster`.
    pub field: String,
    /// The kind referred to.
    pub kind: Kind,
    /// The natural key referred to; `None` when the id did not resolve at capture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The raw id, when the reference could not be resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unresolved_id: Option<String>,
}

impl Snapshot {
    /// The records of one kind, or `None` when the kind was not captured.
    pub fn kind(&self, kind: Kind) -> Option<&KindSnapshot> {
        self.kinds.get(&kind)
    }
}

impl KindSnapshot {
    /// Builds a kind's section: sorts records by key then content bytes, and
    /// flags records that share a key (duplicates are kept apart, never merged).
    pub fn new(status: Status, mut records: Vec<Record>) -> Self {
        records.sort_by(|a, b| {
            a.key
                .cmp(&b.key)
                .then_with(|| a.content_bytes().cmp(b.content_bytes()))
                .then_with(|| a.modified_at.cmp(&b.modified_at))
        });
        let mut i = 0;
        while i < records.len() {
            let mut j = i + 1;
            while j < records.len() && records[j].key == records[i].key {
                j += 1;
            }
            let dup = j - i > 1;
            for r in &mut records[i..j] {
                r.duplicate = dup;
                r.refs.sort();
                r.refs.dedup();
            }
            i = j;
        }
        KindSnapshot {
            status,
            count: records.len(),
            records,
        }
    }
}
