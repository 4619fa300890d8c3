//! The fast path of [`parse_snapshot`](super::parse_snapshot): a file in
//! exactly the layout [`write_snapshot`](super::write_snapshot) writes (one
//! record a line, fields in the writer's order) is read line by line, with
//! each record's content checked by the lean validator in [`json_check`]
//! instead of serde_json's deserializer, which spent about half of a large
//! diff's time on it.
//!
//! Anything else (another layout, a value this path does not handle, any
//! error at all) gives `None`, and the caller parses the file with
//! serde_json, which accepts every valid layout and states every error. So
//! this path needs no error messages, and it must never accept a file that
//! serde_json rejects or read one differently: tests compare the two.
//!
//! [`json_check`]: super::json_check

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::de::DeserializeOwned;

use super::borrowed::{KindRef, RecordRef, ReferenceRef, SnapshotRef, check_refs};
use super::format::{FORMAT_VERSION, Status};
use super::json_check::{number_end, plain_string_end, string_end, value_end};
use crate::kind::Kind;

/// Parses a file in the writer's layout, or `None` (see the module docs).
pub(super) fn parse(bytes: &[u8]) -> Option<SnapshotRef<'_>> {
    // One check of the whole file makes every slice at an ASCII byte a
    // `str`, and lets the validator skip UTF-8 inside strings.
    let text = std::str::from_utf8(bytes).ok()?;
    let mut at = Cursor { text, pos: 0 };
    at.expect("{\n")?;
    let version: u32 = at.field("  \"format_version\": ", ",")?;
    if version != FORMAT_VERSION {
        return None;
    }
    let metadata = at.field("  \"metadata\": ", ",")?;
    let mut kinds = BTreeMap::new();
    match at.line()? {
        "  \"kinds\": {}" => {}
        "  \"kinds\": {" => loop {
            let name = at.line()?.strip_prefix("    ")?.strip_suffix(": {")?;
            let kind: Kind = serde_json::from_str(name).ok()?;
            let status: Status = at.field("      \"status\": ", ",")?;
            let count: usize = at.field("      \"count\": ", ",")?;
            let records = match at.line()? {
                "      \"records\": []" => Vec::new(),
                "      \"records\": [" => records(&mut at, count)?,
                _ => return None,
            };
            let section = KindRef {
                status,
                count,
                records,
            };
            if kinds.insert(kind, section).is_some() {
                // serde_json keeps the last; not worth matching here.
                return None;
            }
            match at.line()? {
                "    }," => {}
                "    }" => {
                    at.expect("  }\n")?;
                    break;
                }
                _ => return None,
            }
        },
        _ => return None,
    }
    // The writer ends the file with one newline; tolerate its absence.
    match &text[at.pos..] {
        "}\n" | "}" => {}
        _ => return None,
    }
    Some(SnapshotRef {
        format_version: version,
        metadata,
        kinds,
    })
}

/// A position in the file's text.
struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// The rest of the current line, without its newline; moves past it.
    /// Only for the few lines around the records: these are short.
    fn line(&mut self) -> Option<&'a str> {
        let rest = self.text.get(self.pos..)?;
        let end = rest.find('\n')?;
        self.pos += end + 1;
        rest.get(..end)
    }

    fn expect(&mut self, want: &str) -> Option<()> {
        self.pos = skip(self.text, self.pos, want)?;
        Some(())
    }

    /// A line `prefix VALUE suffix` whose value serde_json reads as `T`.
    fn field<T: DeserializeOwned>(&mut self, prefix: &str, suffix: &str) -> Option<T> {
        let value = self.line()?.strip_prefix(prefix)?.strip_suffix(suffix)?;
        serde_json::from_str(value).ok()
    }
}

/// The records of one kind, through the closing `      ]` line. Records are
/// found by their grammar, not by searching for line ends: one pass over
/// the bytes instead of two.
fn records<'a>(at: &mut Cursor<'a>, count: usize) -> Option<Vec<RecordRef<'a>>> {
    // The count is checked against the records later; here it only sizes
    // the vector, so a wrong one must not reserve a huge amount.
    let mut out = Vec::with_capacity(count.min(1 << 24));
    let text = at.text;
    let mut pos = skip(text, at.pos, "        ")?;
    loop {
        let (record, end) = parse_record(text, pos)?;
        out.push(record);
        if let Some(next) = skip(text, end, ",\n        ") {
            pos = next;
        } else {
            at.pos = skip(text, end, "\n      ]\n")?;
            return Some(out);
        }
    }
}

/// One record at `at`, `{"key":K[,"duplicate":true][,"modified_at":N][,"refs":[..]],"content":V}`,
/// and the index just past it.
fn parse_record(text: &str, at: usize) -> Option<(RecordRef<'_>, usize)> {
    let bytes = text.as_bytes();
    let key_start = skip(text, at, "{\"key\":\"")?;
    let (key, key_end) = match plain_string_end(bytes, key_start) {
        Some(end) => (Cow::Borrowed(text.get(key_start..end - 1)?), end),
        None => {
            let end = string_end(bytes, key_start)?;
            let quoted = text.get(key_start - 1..end)?;
            (
                Cow::Owned(serde_json::from_str::<String>(quoted).ok()?),
                end,
            )
        }
    };
    let mut at = key_end;
    let mut duplicate = false;
    if let Some(after) = skip(text, at, ",\"duplicate\":true") {
        duplicate = true;
        at = after;
    }
    let mut modified_at = None;
    if let Some(start) = skip(text, at, ",\"modified_at\":") {
        at = number_end(bytes, start)?;
        // An integer only: serde_json reads nothing else into an `i64`.
        let number = text.get(start..at)?;
        if number.contains(['.', 'e', 'E']) {
            return None;
        }
        modified_at = Some(number.parse::<i64>().ok()?);
    }
    let mut refs = None;
    let mut refs_canonical = false;
    if let Some(start) = skip(text, at, ",\"refs\":") {
        at = value_end(bytes, start)?;
        let raw = text.get(start..at)?;
        refs_canonical = each_ref(raw, &mut |_| {}).is_some();
        if !refs_canonical {
            check_refs(raw).ok()?;
        }
        refs = Some(raw);
    }
    let start = skip(text, at, ",\"content\":")?;
    let end = value_end(bytes, start)?;
    if bytes.get(end) != Some(&b'}') {
        return None;
    }
    let content = text.get(start..end)?;
    let record =
        RecordRef::from_checked(key, duplicate, modified_at, refs, refs_canonical, content);
    Some((record, end + 1))
}

/// The index just past `word` when `text` has it at `at`.
fn skip(text: &str, at: usize, word: &str) -> Option<usize> {
    text.get(at..)?.starts_with(word).then_some(at + word.len())
}

/// Calls `f` with each reference of a `refs` array in the writer's layout
/// (`[{"field":F,"kind":K[,"key":K][,"unresolved_id":I]},...]`, strings
/// without escapes); `None` as soon as it is anything else, valid or not,
/// after which `f` may have seen some of the references. A record whose
/// references pass this once is read by it ever after; the others by
/// serde_json.
pub(super) fn each_ref<'a>(raw: &'a str, f: &mut dyn FnMut(ReferenceRef<'a>)) -> Option<()> {
    let bytes = raw.as_bytes();
    let mut at = skip(raw, 0, "[")?;
    if raw.len() == 2 && bytes.get(1) == Some(&b']') {
        return Some(());
    }
    loop {
        let field = plain_string(raw, skip(raw, at, "{\"field\":")?)?;
        let name = plain_string(raw, skip(raw, field.1, ",\"kind\":")?)?;
        let kind = Kind::ALL.into_iter().find(|k| k.name() == name.0)?;
        at = name.1;
        let mut key = None;
        if let Some(start) = skip(raw, at, ",\"key\":") {
            let (text, end) = plain_string(raw, start)?;
            key = Some(Cow::Borrowed(text));
            at = end;
        }
        let mut unresolved_id = None;
        if let Some(start) = skip(raw, at, ",\"unresolved_id\":") {
            let (text, end) = plain_string(raw, start)?;
            unresolved_id = Some(Cow::Borrowed(text));
            at = end;
        }
        at = skip(raw, at, "}")?;
        f(ReferenceRef {
            field: Cow::Borrowed(field.0),
            kind,
            key,
            unresolved_id,
        });
        match bytes.get(at)? {
            b',' => at += 1,
            b']' if at + 1 == raw.len() => return Some(()),
            _ => return None,
        }
    }
}

/// A string without escapes starting (at its quote) at `at`: its text and
/// the index past it.
fn plain_string(raw: &str, at: usize) -> Option<(&str, usize)> {
    let start = skip(raw, at, "\"")?;
    let end = plain_string_end(raw.as_bytes(), start)?;
    Some((raw.get(start..end - 1)?, end))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use proptest::prelude::*;
    use serde_json::value::RawValue;

    use super::*;
    use crate::snapshot::{
        CaptureMetadata, Incomplete, KindSnapshot, Record, Reference, Snapshot, write_snapshot,
    };

    fn record(key: &str, content: &str, modified_at: Option<i64>) -> Record {
        Record {
            key: key.into(),
            duplicate: false,
            modified_at,
            refs: vec![],
            content: RawValue::from_string(content.into()).unwrap(),
        }
    }

    /// Every optional field, escapes, duplicates, an empty and an
    /// incomplete kind.
    fn sample() -> Vec<u8> {
        let mut job = record(
            "etl \"nightly\"\\x é",
            r#"{"name":"etl \"nightly\"\\x é","n":-1.5e3,"a":[true,false,null,{}]}"#,
            Some(-7),
        );
        job.refs = vec![
            Reference {
                field: "settings.tasks[a].existing_cluster".into(),
                kind: Kind::Clusters,
                key: Some("shared \"x\"".into()),
                unresolved_id: None,
            },
            Reference {
                field: "run_as".into(),
                kind: Kind::ServicePrincipals,
                key: None,
                unresolved_id: Some("1234".into()),
            },
        ];
        let mut plain = record("c", r#"{"x":3}"#, None);
        plain.refs = vec![
            Reference {
                field: "a".into(),
                kind: Kind::Clusters,
                key: Some("k".into()),
                unresolved_id: None,
            },
            Reference {
                field: "b".into(),
                kind: Kind::Users,
                key: Some("u".into()),
                unresolved_id: Some("7".into()),
            },
        ];
        let jobs = vec![
            job,
            plain,
            record("b", r#"{"x":1}"#, None),
            record("b", r#"{"x":2}"#, Some(1_764_000_000_000)),
            record("", "[]", None),
        ];
        let mut kinds = BTreeMap::new();
        kinds.insert(Kind::Jobs, KindSnapshot::new(Status::Complete, jobs));
        kinds.insert(Kind::Clusters, KindSnapshot::new(Status::Complete, vec![]));
        kinds.insert(
            Kind::Users,
            KindSnapshot::new(
                Status::Incomplete {
                    reason: Incomplete {
                        http_status: Some(403),
                        error_code: Some("PERMISSION_DENIED".into()),
                        message: "no \"access\"".into(),
                    },
                },
                vec![],
            ),
        );
        let snapshot = Snapshot {
            format_version: FORMAT_VERSION,
            metadata: CaptureMetadata {
                host: "https://example.cloud.databricks.com".into(),
                profile: Some("dr".into()),
                tool_version: "standby 0.1.0".into(),
                captured_at: "2026-01-01T00:00:00Z".into(),
                captured_at_ms: 0,
                requested_kinds: vec![Kind::Users, Kind::Jobs, Kind::Clusters],
            },
            kinds,
        };
        let mut out = Vec::new();
        write_snapshot(&snapshot, &mut out).unwrap();
        out
    }

    fn empty() -> Vec<u8> {
        let snapshot = Snapshot {
            format_version: FORMAT_VERSION,
            metadata: CaptureMetadata {
                host: "h".into(),
                profile: None,
                tool_version: "t".into(),
                captured_at: "c".into(),
                captured_at_ms: 1,
                requested_kinds: vec![],
            },
            kinds: BTreeMap::new(),
        };
        let mut out = Vec::new();
        write_snapshot(&snapshot, &mut out).unwrap();
        out
    }

    /// The serde_json parse, which accepts any layout.
    fn slow(bytes: &[u8]) -> Result<SnapshotRef<'_>, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// Everything a reader sees of a parsed snapshot, as text.
    fn seen(s: &SnapshotRef<'_>) -> String {
        use crate::snapshot::RecordAccess;
        let mut out = format!("{:?}\n", s.metadata);
        for (kind, section) in &s.kinds {
            out += &format!("{kind} {:?} {}\n", section.status, section.count);
            for r in &section.records {
                out += &format!(
                    "{:?} {} {:?} {}",
                    r.key(),
                    r.duplicate(),
                    r.modified_at(),
                    r.content()
                );
                r.for_each_ref(&mut |x| out += &format!(" {x:?}"));
                out += "\n";
            }
        }
        out
    }

    #[test]
    fn the_writers_layout_takes_the_fast_path_and_reads_the_same() {
        for bytes in [sample(), empty()] {
            let fast = parse(&bytes).expect("the writer's layout takes the fast path");
            let slow = slow(&bytes).unwrap();
            assert_eq!(seen(&fast), seen(&slow));
        }
        let bytes = sample();
        let fast = parse(&bytes).unwrap();
        let jobs = &fast.kinds[&Kind::Jobs].records;
        // The escaped key was unescaped; the others borrow from the file.
        use crate::snapshot::RecordAccess;
        assert_eq!(jobs[4].key(), "etl \"nightly\"\\x é");
        let within = |k: &str| bytes.as_ptr_range().contains(&k.as_ptr());
        assert!(within(jobs[1].key()) && !within(jobs[4].key()));
        // References in the writer's layout are read without serde_json;
        // one with an escape is left to it.
        assert!(jobs[3].refs_canonical && !jobs[4].refs_canonical);
        // Without the final newline, still the writer's file.
        assert!(parse(&bytes[..bytes.len() - 1]).is_some());
    }

    #[test]
    fn other_layouts_go_to_serde_json() {
        let text = String::from_utf8(sample()).unwrap();
        let pretty =
            serde_json::to_vec_pretty(&serde_json::from_str::<serde_json::Value>(&text).unwrap())
                .unwrap();
        let crlf = text.replace('\n', "\r\n");
        let reordered = text.replace(r#"{"key":"","content":[]}"#, r#"{"content":[],"key":""}"#);
        assert_ne!(reordered, text);
        for bytes in [pretty, crlf.into_bytes(), reordered.into_bytes()] {
            assert!(parse(&bytes).is_none());
            // Still valid, and read by the caller's slow path.
            let read = crate::snapshot::parse_snapshot(Path::new("s.json"), &bytes).unwrap();
            assert_eq!(read.kinds[&Kind::Jobs].records.len(), 5);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        /// Whatever the damage, the fast path never accepts a file serde_json
        /// rejects, nor reads one differently.
        #[test]
        fn never_disagrees_with_serde(
            edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..4)
        ) {
            let mut bytes = sample();
            for (at, byte, op) in edits {
                let at = at.index(bytes.len());
                match op {
                    0 => { bytes.remove(at); }
                    1 => bytes.insert(at, byte),
                    _ => bytes[at] = byte,
                }
                if bytes.is_empty() { break; }
            }
            if let Some(fast) = parse(&bytes) {
                let slow = slow(&bytes);
                prop_assert!(slow.is_ok(), "fast path accepted a file serde rejects: {:?}", String::from_utf8_lossy(&bytes));
                prop_assert_eq!(seen(&fast), seen(&slow.unwrap()));
            }
        }
    }
}
