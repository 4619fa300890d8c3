//! Snapshots read without copying: records borrow their keys, contents and
//! references from the file's bytes, so a parsed file costs its bytes plus
//! about 80 bytes a record, instead of its bytes plus a copy of them in
//! millions of small allocations (slow to make and free, twice the memory).
//! `standby diff` reads files this way; capture and normalize build the
//! owned [`Snapshot`].
//!
//! [`SnapshotAccess`] and [`RecordAccess`] are what the diff reads of a
//! snapshot, owned or borrowed, so one engine serves both.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::canonical;
use super::format::{CaptureMetadata, Record, Snapshot, Status};
use crate::kind::Kind;

/// A snapshot whose records borrow from the file's bytes; see
/// [`parse_snapshot`](super::parse_snapshot). Same fields and rules as
/// [`Snapshot`] (the names are Snapshot's, so serde's messages are too).
#[derive(Debug, Deserialize)]
#[serde(rename = "Snapshot", deny_unknown_fields)]
pub struct SnapshotRef<'a> {
    /// Always [`FORMAT_VERSION`](super::FORMAT_VERSION) once parsed.
    pub format_version: u32,
    /// Where and when the capture ran.
    pub metadata: CaptureMetadata,
    /// Every kind that was asked for, complete or not.
    #[serde(borrow)]
    pub kinds: BTreeMap<Kind, KindRef<'a>>,
}

/// The records of one kind, borrowed; see [`KindSnapshot`](super::KindSnapshot).
#[derive(Debug, Deserialize)]
#[serde(rename = "KindSnapshot", deny_unknown_fields)]
pub struct KindRef<'a> {
    /// Complete, or incomplete with the reason.
    pub status: Status,
    /// Number of records, as the file says (checked against the records).
    pub count: usize,
    /// Records in file order (key order when the writer was standby).
    #[serde(borrow)]
    pub records: Vec<RecordRef<'a>>,
}

/// One record, borrowed from the file; see [`Record`].
///
/// Fields are private: only parsing makes one, and the references it keeps
/// as raw JSON have been checked by then.
#[derive(Debug, Deserialize)]
#[serde(rename = "Record", deny_unknown_fields)]
pub struct RecordRef<'a> {
    /// Borrowed unless the file escapes a character of it.
    #[serde(borrow)]
    key: Cow<'a, str>,
    #[serde(default)]
    duplicate: bool,
    #[serde(default)]
    modified_at: Option<i64>,
    /// The `refs` array as written, checked to be a valid list of references
    /// and parsed again (without allocating) when the diff reads it: a
    /// parsed copy would cost ~150 bytes a record.
    #[serde(default, borrow, deserialize_with = "checked_refs")]
    refs: Option<&'a str>,
    /// True when `refs` is in the writer's layout, which
    /// [`canonical::each_ref`] reads faster than serde_json.
    #[serde(skip)]
    pub(super) refs_canonical: bool,
    /// The content's JSON text, checked to be one valid value.
    #[serde(borrow, deserialize_with = "raw_text")]
    content: &'a str,
}

impl<'a> RecordRef<'a> {
    /// A record from parts the caller has checked: `refs` a valid list of
    /// references (see [`check_refs`]; `refs_canonical` when
    /// [`canonical::each_ref`] reads it), `content` one valid JSON value.
    pub(super) fn from_checked(
        key: Cow<'a, str>,
        duplicate: bool,
        modified_at: Option<i64>,
        refs: Option<&'a str>,
        refs_canonical: bool,
        content: &'a str,
    ) -> Self {
        RecordRef {
            key,
            duplicate,
            modified_at,
            refs,
            refs_canonical,
            content,
        }
    }
}

/// A reference, borrowed; see [`Reference`](super::Reference).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename = "Reference", deny_unknown_fields)]
pub struct ReferenceRef<'a> {
    /// Field path inside the content.
    #[serde(borrow)]
    pub field: Cow<'a, str>,
    /// The kind referred to.
    pub kind: Kind,
    /// The natural key referred to; `None` when the id did not resolve at capture.
    #[serde(default, borrow, deserialize_with = "borrowed_opt")]
    pub key: Option<Cow<'a, str>>,
    /// The raw id, when the reference could not be resolved.
    #[serde(default, borrow, deserialize_with = "borrowed_opt")]
    pub unresolved_id: Option<Cow<'a, str>>,
}

/// A string borrowed from the input unless it holds escapes.
struct Text<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// `Option<Cow<str>>` that borrows (serde's own impl always copies).
fn borrowed_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    Ok(Option::<Text<'de>>::deserialize(d)?.map(|t| t.0))
}

/// The raw `refs` array, after checking that it is one.
fn checked_refs<'de, D: Deserializer<'de>>(d: D) -> Result<Option<&'de str>, D::Error> {
    let raw = <&'de RawValue>::deserialize(d)?.get();
    check_refs(raw).map_err(de::Error::custom)?;
    Ok(Some(raw))
}

/// Checks that `raw` is a valid list of references.
pub(super) fn check_refs(raw: &str) -> Result<(), serde_json::Error> {
    each_ref(raw, |_| {})
}

/// A JSON value's text, borrowed from the input.
fn raw_text<'de, D: Deserializer<'de>>(d: D) -> Result<&'de str, D::Error> {
    Ok(<&'de RawValue>::deserialize(d)?.get())
}

/// Calls `f` with each reference of a raw `refs` array, in order, without
/// collecting them.
fn each_ref<'a>(raw: &'a str, f: impl FnMut(ReferenceRef<'a>)) -> Result<(), serde_json::Error> {
    struct Each<F>(F);
    impl<'de, F: FnMut(ReferenceRef<'de>)> Visitor<'de> for Each<F> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a sequence")
        }
        fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
            while let Some(r) = seq.next_element::<ReferenceRef<'de>>()? {
                (self.0)(r);
            }
            Ok(())
        }
    }
    impl<'de, F: FnMut(ReferenceRef<'de>)> DeserializeSeed<'de> for Each<F> {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_seq(self)
        }
    }
    let mut de = serde_json::Deserializer::from_str(raw);
    Each(f).deserialize(&mut de)?;
    de.end()
}

/// What the diff reads of one record, owned or borrowed.
pub trait RecordAccess: Sync {
    /// The natural key.
    fn key(&self) -> &str;
    /// True when the file flags another record of the kind with the same key.
    fn duplicate(&self) -> bool;
    /// Last modification time in epoch ms.
    fn modified_at(&self) -> Option<i64>;
    /// The canonical content as JSON text.
    fn content(&self) -> &str;
    /// Calls `f` with each reference, in order.
    fn for_each_ref<'s>(&'s self, f: &mut dyn FnMut(ReferenceRef<'s>));
}

/// What the diff reads of a snapshot, owned or borrowed.
pub trait SnapshotAccess: Sync {
    /// The record type.
    type Record: RecordAccess;
    /// Where and when the capture ran.
    fn metadata(&self) -> &CaptureMetadata;
    /// Every kind's status and records, in kind order.
    fn sections(&self) -> Vec<(Kind, &Status, &[Self::Record])>;
}

impl RecordAccess for Record {
    fn key(&self) -> &str {
        &self.key
    }
    fn duplicate(&self) -> bool {
        self.duplicate
    }
    fn modified_at(&self) -> Option<i64> {
        self.modified_at
    }
    fn content(&self) -> &str {
        self.content.get()
    }
    fn for_each_ref<'s>(&'s self, f: &mut dyn FnMut(ReferenceRef<'s>)) {
        for r in &self.refs {
            f(ReferenceRef {
                field: Cow::Borrowed(&r.field),
                kind: r.kind,
                key: r.key.as_deref().map(Cow::Borrowed),
                unresolved_id: r.unresolved_id.as_deref().map(Cow::Borrowed),
            });
        }
    }
}

impl RecordAccess for RecordRef<'_> {
    fn key(&self) -> &str {
        &self.key
    }
    fn duplicate(&self) -> bool {
        self.duplicate
    }
    fn modified_at(&self) -> Option<i64> {
        self.modified_at
    }
    fn content(&self) -> &str {
        self.content
    }
    fn for_each_ref<'s>(&'s self, f: &mut dyn FnMut(ReferenceRef<'s>)) {
        if let Some(raw) = self.refs {
            let text: &'s str = raw;
            // Checked when the record was parsed: neither can fail.
            if self.refs_canonical {
                let _ = canonical::each_ref(text, f);
            } else {
                let _ = each_ref(text, f);
            }
        }
    }
}

impl SnapshotAccess for Snapshot {
    type Record = Record;
    fn metadata(&self) -> &CaptureMetadata {
        &self.metadata
    }
    fn sections(&self) -> Vec<(Kind, &Status, &[Record])> {
        self.kinds
            .iter()
            .map(|(kind, k)| (*kind, &k.status, k.records.as_slice()))
            .collect()
    }
}

impl<'a> SnapshotAccess for SnapshotRef<'a> {
    type Record = RecordRef<'a>;
    fn metadata(&self) -> &CaptureMetadata {
        &self.metadata
    }
    fn sections(&self) -> Vec<(Kind, &Status, &[RecordRef<'a>])> {
        self.kinds
            .iter()
            .map(|(kind, k)| (*kind, &k.status, k.records.as_slice()))
            .collect()
    }
}

impl SnapshotRef<'_> {
    /// The records of one kind, or `None` when the kind was not captured.
    pub fn kind(&self, kind: Kind) -> Option<&KindRef<'_>> {
        self.kinds.get(&kind)
    }
}
