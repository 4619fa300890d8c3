//! Reading and writing snapshot files.
//!
//! The writer puts one record per line so nightly snapshots diff well in git,
//! and streams, so a million records never sit twice in memory.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::borrowed::SnapshotRef;
use super::format::{FORMAT_VERSION, Snapshot};

/// Writes a snapshot in its canonical layout.
///
/// Records must already be in [`KindSnapshot::new`](super::KindSnapshot::new)
/// order; the same snapshot value always gives the same bytes.
pub fn write_snapshot(snapshot: &Snapshot, out: &mut dyn Write) -> io::Result<()> {
    out.write_all(b"{\n  \"format_version\": ")?;
    write!(out, "{}", snapshot.format_version)?;
    out.write_all(b",\n  \"metadata\": ")?;
    serde_json::to_writer(&mut *out, &snapshot.metadata)?;
    out.write_all(b",\n  \"kinds\": {")?;
    for (n, (kind, section)) in snapshot.kinds.iter().enumerate() {
        if n > 0 {
            out.write_all(b",")?;
        }
        write!(out, "\n    \"{}\": {{\n      \"status\": ", kind.name())?;
        serde_json::to_writer(&mut *out, &section.status)?;
        write!(
            out,
            ",\n      \"count\": {},\n      \"records\": [",
            section.records.len()
        )?;
        for (i, record) in section.records.iter().enumerate() {
            out.write_all(if i == 0 {
                b"\n        "
            } else {
                b",\n        "
            })?;
            serde_json::to_writer(&mut *out, record)?;
        }
        if section.records.is_empty() {
            out.write_all(b"]\n    }")?;
        } else {
            out.write_all(b"\n      ]\n    }")?;
        }
    }
    if snapshot.kinds.is_empty() {
        out.write_all(b"}\n}\n")
    } else {
        out.write_all(b"\n  }\n}\n")
    }
}

/// A snapshot file that could not be read; names the file and, for syntax
/// errors, the line and column.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be opened or read.
    #[error("failed to read snapshot `{}`", path.display())]
    Io {
        /// The snapshot file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The file is not valid snapshot JSON.
    #[error("`{}` is not a valid snapshot: line {line}, column {column}: {message}", path.display())]
    Syntax {
        /// The snapshot file.
        path: PathBuf,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What was expected.
        message: String,
    },
    /// The file was written by a newer (or unknown) version of standby.
    #[error(
        "`{}` has snapshot format_version {found}, this standby reads version {FORMAT_VERSION}",
        path.display()
    )]
    Version {
        /// The snapshot file.
        path: PathBuf,
        /// The version in the file.
        found: u64,
    },
    /// The file parsed but contradicts itself.
    #[error("`{}` is not a valid snapshot: {message}", path.display())]
    Invalid {
        /// The snapshot file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// Reads a snapshot file.
pub fn read_snapshot(path: &Path) -> Result<Snapshot, ReadError> {
    let bytes = read_bytes(path)?;
    read_snapshot_bytes(path, &bytes)
}

/// The whole file, in one buffer.
fn read_bytes(path: &Path) -> Result<Vec<u8>, ReadError> {
    std::fs::read(path).map_err(|source| ReadError::Io {
        path: path.into(),
        source,
    })
}

/// Parses snapshot bytes; `path` is only used in error messages.
pub fn read_snapshot_bytes(path: &Path, bytes: &[u8]) -> Result<Snapshot, ReadError> {
    check_version(path, bytes)?;
    let snapshot: Snapshot = serde_json::from_slice(bytes).map_err(|e| syntax_error(path, &e))?;
    check(
        path,
        snapshot.format_version,
        snapshot
            .kinds
            .iter()
            .map(|(k, s)| (*k, s.count, s.records.len())),
    )?;
    Ok(snapshot)
}

/// Parses snapshot bytes into records that borrow from them: the same
/// checks and errors as [`read_snapshot_bytes`], without copying the
/// records (see [`SnapshotRef`]). `path` is only used in error messages.
pub fn parse_snapshot<'a>(path: &Path, bytes: &'a [u8]) -> Result<SnapshotRef<'a>, ReadError> {
    check_version(path, bytes)?;
    let snapshot = match super::canonical::parse(bytes) {
        Some(snapshot) => snapshot,
        None => parse_any_layout(path, bytes)?,
    };
    check(
        path,
        snapshot.format_version,
        snapshot
            .kinds
            .iter()
            .map(|(k, s)| (*k, s.count, s.records.len())),
    )?;
    Ok(snapshot)
}

/// The borrowed parse of any valid layout (and the one that names errors),
/// for files the canonical fast path does not take.
fn parse_any_layout<'a>(path: &Path, bytes: &'a [u8]) -> Result<SnapshotRef<'a>, ReadError> {
    serde_json::from_slice(bytes).map_err(|e| {
        // The owned parse states the error the way it always has (a bad
        // reference, say, at its own line and column); bad files are rare
        // enough to parse twice.
        match serde_json::from_slice::<Snapshot>(bytes) {
            Err(owned) => syntax_error(path, &owned),
            Ok(_) => syntax_error(path, &e),
        }
    })
}

/// A snapshot file's bytes, kept for the [`SnapshotRef`] that borrows them.
///
/// A regular file is mapped read-only rather than copied: reading
/// 1.3 GB through `read(2)` costs about 0.6 s of kernel time (a copy and a
/// page fault every 4 KiB), mapping it from the page cache about 0.05 s.
/// The pages are the page cache's, so memory use is the same. Like every
/// reader of mapped files, this assumes nobody rewrites the file in place
/// while it is read (`standby snapshot` replaces files by renaming a new one
/// over them, which leaves a mapping of the old one intact).
#[derive(Debug, Default)]
pub struct SnapshotFile {
    bytes: Bytes,
}

impl SnapshotFile {
    /// An empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads `path` into this buffer (replacing what it held) and parses it.
    pub fn read(&mut self, path: &Path) -> Result<SnapshotRef<'_>, ReadError> {
        let started = std::time::Instant::now();
        self.bytes = Bytes::read(path).map_err(|source| ReadError::Io {
            path: path.into(),
            source,
        })?;
        let mapped = started.elapsed();
        let parsed = parse_snapshot(path, self.bytes.as_slice());
        tracing::debug!(
            path = %path.display(),
            bytes = self.bytes.as_slice().len(),
            ?mapped,
            elapsed = ?started.elapsed(),
            "snapshot read"
        );
        parsed
    }

    /// Reads two files at once, one per thread: reading and parsing are
    /// nearly all of a large diff's time.
    pub fn read_pair<'a>(
        (first, first_path): (&'a mut SnapshotFile, &Path),
        (second, second_path): (&'a mut SnapshotFile, &Path),
    ) -> Result<(SnapshotRef<'a>, SnapshotRef<'a>), ReadError> {
        std::thread::scope(|scope| {
            let handle = scope.spawn(move || first.read(first_path));
            let second = second.read(second_path);
            // A panic on the other thread is a bug: re-raise it here.
            let first = handle
                .join()
                .unwrap_or_else(|payload| std::panic::resume_unwind(payload));
            Ok((first?, second?))
        })
    }
}

/// Reports a newer (or unknown) version before the full parse, so it is
/// named as such instead of as a confusing field error deep inside.
fn check_version(path: &Path, bytes: &[u8]) -> Result<(), ReadError> {
    match probe_version(bytes) {
        Some(found) if found != u64::from(FORMAT_VERSION) => Err(ReadError::Version {
            path: path.into(),
            found,
        }),
        _ => Ok(()),
    }
}

fn syntax_error(path: &Path, e: &serde_json::Error) -> ReadError {
    ReadError::Syntax {
        path: path.into(),
        line: e.line(),
        column: e.column(),
        message: strip_position(&e.to_string()),
    }
}

/// The checks after a successful parse: the version, and each kind's
/// count (`(kind, count, records)`) against its records.
fn check(
    path: &Path,
    format_version: u32,
    counts: impl Iterator<Item = (crate::kind::Kind, usize, usize)>,
) -> Result<(), ReadError> {
    if format_version != FORMAT_VERSION {
        return Err(ReadError::Version {
            path: path.into(),
            found: format_version.into(),
        });
    }
    for (kind, count, held) in counts {
        if count != held {
            return Err(ReadError::Invalid {
                path: path.into(),
                message: format!("kind `{kind}` says count {count} but holds {held} records"),
            });
        }
    }
    Ok(())
}

/// A file's bytes: mapped when the path is a regular file, else read
/// (a pipe such as `<(zcat old.json.gz)` cannot be mapped).
#[derive(Debug, Default)]
pub(crate) enum Bytes {
    #[default]
    Empty,
    Read(Vec<u8>),
    Mapped(memmap2::Mmap),
}

impl Bytes {
    /// The file at `path`, mapped when it is a regular file.
    pub(crate) fn read(path: &Path) -> io::Result<Bytes> {
        let mut file = std::fs::File::open(path)?;
        let meta = file.metadata()?;
        if !meta.is_file() {
            let mut bytes = Vec::new();
            io::Read::read_to_end(&mut file, &mut bytes)?;
            return Ok(Bytes::Read(bytes));
        }
        if meta.len() == 0 {
            // An empty file cannot be mapped; the parser names it as empty.
            return Ok(Bytes::Empty);
        }
        // SAFETY: the mapping is read-only and private. It is undefined
        // behaviour only if another process truncates or rewrites the file in
        // place while it is mapped; standby never does (its writes rename a
        // new file over the old one, which leaves a mapping of the old intact),
        // and the docs of `SnapshotFile` state the assumption.
        let map = unsafe { memmap2::MmapOptions::new().map(&file)? };
        // Maps every page up front, so parsing does not fault page by page:
        // for 1.3 GB in the page cache, 0.15 s, where `MAP_POPULATE` took
        // 0.8 s and faulting on first touch 0.3 s. Linux 5.14 and later; on
        // an older kernel the advice fails and pages fault as they are read.
        #[cfg(target_os = "linux")]
        let _ = map.advise(memmap2::Advice::PopulateRead);
        Ok(Bytes::Mapped(map))
    }

    /// The bytes.
    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            Bytes::Empty => &[],
            Bytes::Read(bytes) => bytes,
            Bytes::Mapped(map) => map,
        }
    }
}

/// Finds `"format_version": N` near the start of the file, where the writer puts it.
fn probe_version(bytes: &[u8]) -> Option<u64> {
    let head = &bytes[..bytes.len().min(4096)];
    let text = std::str::from_utf8(head).ok().or_else(|| {
        // The 4 KiB cut may split a UTF-8 sequence; the prefix before it is enough.
        std::str::from_utf8(&head[..head.len().saturating_sub(3)]).ok()
    })?;
    let at = text.find("\"format_version\"")?;
    let rest = text[at + "\"format_version\"".len()..]
        .trim_start()
        .strip_prefix(':')?;
    let digits: String = rest
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// serde_json appends " at line L column C"; the error already carries both.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::value::RawValue;

    use super::*;
    use crate::kind::Kind;
    use crate::snapshot::{CaptureMetadata, Incomplete, KindSnapshot, Record, Status};

    fn record(key: &str, content: &str) -> Record {
        Record {
            key: key.into(),
            duplicate: false,
            modified_at: Some(5),
            refs: vec![],
            content: RawValue::from_string(content.into()).unwrap(),
        }
    }

    fn sample() -> Snapshot {
        let mut kinds = BTreeMap::new();
        kinds.insert(
            Kind::Jobs,
            KindSnapshot::new(
                Status::Complete,
                vec![
                    record("b", r#"{"x":1}"#),
                    record("a", r#"{"x":2}"#),
                    record("a", r#"{"x":1}"#),
                ],
            ),
        );
        kinds.insert(
            Kind::Users,
            KindSnapshot::new(
                Status::Incomplete {
                    reason: Incomplete {
                        http_status: Some(403),
                        error_code: Some("PERMISSION_DENIED".into()),
                        message: "no".into(),
                    },
                },
                vec![],
            ),
        );
        Snapshot {
            format_version: FORMAT_VERSION,
            metadata: CaptureMetadata {
                host: "https://example.cloud.databricks.com".into(),
                profile: None,
                tool_version: "standby 0.1.0".into(),
                captured_at: "2026-01-01T00:00:00Z".into(),
                captured_at_ms: 0,
                requested_kinds: vec![Kind::Users, Kind::Jobs],
            },
            kinds,
        }
    }

    fn bytes(s: &Snapshot) -> Vec<u8> {
        let mut out = Vec::new();
        write_snapshot(s, &mut out).unwrap();
        out
    }

    #[test]
    fn round_trips_byte_for_byte_and_flags_duplicates() {
        let s = sample();
        let jobs = &s.kinds[&Kind::Jobs].records;
        assert_eq!(
            jobs.iter()
                .map(|r| (r.key.as_str(), r.duplicate))
                .collect::<Vec<_>>(),
            [("a", true), ("a", true), ("b", false)]
        );
        let first = bytes(&s);
        let back = read_snapshot_bytes(Path::new("s.json"), &first).unwrap();
        assert_eq!(bytes(&back), first);
        // The layout is also plain JSON.
        let _: serde_json::Value = serde_json::from_slice(&first).unwrap();
    }

    #[test]
    fn malformed_and_truncated_files_name_file_line_and_column() {
        let good = bytes(&sample());
        let cut = &good[..good.len() / 2];
        let err = read_snapshot_bytes(Path::new("cut.json"), cut)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("`cut.json` is not a valid snapshot: line "),
            "{err}"
        );
        let err = read_snapshot_bytes(
            Path::new("x.json"),
            b"{\"format_version\": 1,\n \"metadata\": 7}",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("line 2, column"), "{err}");
    }

    #[test]
    fn unknown_version_is_named() {
        let text = String::from_utf8(bytes(&sample()))
            .unwrap()
            .replace("\"format_version\": 1", "\"format_version\": 9");
        let err = read_snapshot_bytes(Path::new("new.json"), text.as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`new.json` has snapshot format_version 9, this standby reads version 1"
        );
    }

    /// A snapshot whose records have references, escapes and duplicates.
    fn with_refs() -> Snapshot {
        let mut s = sample();
        let mut job = record("etl \"nightly\"\\x", r#"{"name":"etl \"nightly\"\\x"}"#);
        job.refs = vec![
            crate::snapshot::Reference {
                field: "settings.tasks[a].existing_cluster".into(),
                kind: Kind::Clusters,
                key: Some("shared \"x\"".into()),
                unresolved_id: None,
            },
            crate::snapshot::Reference {
                field: "run_as".into(),
                kind: Kind::ServicePrincipals,
                key: None,
                unresolved_id: Some("1234".into()),
            },
        ];
        let mut jobs = std::mem::take(&mut s.kinds.get_mut(&Kind::Jobs).unwrap().records);
        jobs.push(job);
        s.kinds
            .insert(Kind::Jobs, KindSnapshot::new(Status::Complete, jobs));
        s
    }

    #[test]
    fn borrowed_parse_gives_the_owned_records() {
        use crate::snapshot::{RecordAccess, ReferenceRef};
        let owned = with_refs();
        let text = bytes(&owned);
        let parsed = parse_snapshot(Path::new("s.json"), &text).unwrap();
        assert_eq!(parsed.metadata, owned.metadata);
        assert_eq!(
            parsed.kinds.keys().collect::<Vec<_>>(),
            owned.kinds.keys().collect::<Vec<_>>()
        );
        let refs = |r: &dyn RecordAccess| {
            let mut out: Vec<ReferenceRef<'static>> = Vec::new();
            r.for_each_ref(&mut |x| {
                out.push(ReferenceRef {
                    field: x.field.into_owned().into(),
                    kind: x.kind,
                    key: x.key.map(|k| k.into_owned().into()),
                    unresolved_id: x.unresolved_id.map(|k| k.into_owned().into()),
                })
            });
            out
        };
        for (kind, section) in &owned.kinds {
            let got = &parsed.kinds[kind];
            assert_eq!(got.status, section.status);
            assert_eq!(got.records.len(), section.records.len());
            for (a, b) in got.records.iter().zip(&section.records) {
                assert_eq!(a.key(), b.key());
                assert_eq!(a.duplicate(), b.duplicate());
                assert_eq!(a.modified_at(), b.modified_at());
                assert_eq!(a.content(), b.content());
                assert_eq!(refs(a), refs(b));
            }
        }
        assert_eq!(refs(&parsed.kinds[&Kind::Jobs].records[3]).len(), 2);
    }

    #[test]
    fn borrowed_parse_reports_what_the_owned_parse_reports() {
        let good = String::from_utf8(bytes(&with_refs())).unwrap();
        let bad = [
            good[..good.len() / 2].to_owned(),
            good.replace("\"kind\":\"clusters\"", "\"kind\":\"nope\""),
            good.replace("\"field\":\"run_as\",", ""),
            good.replace("\"unresolved_id\"", "\"unresolved\""),
            good.replace("\"refs\":[", "\"refs\":7,\"x\":["),
            good.replace("\"format_version\": 1", "\"format_version\": 9"),
            good.replace("\"count\": 4", "\"count\": 2"),
            good.replace("\"modified_at\":5", "\"modified_at\":\"5\""),
            good.replace("\"content\":{\"x\":1}", "\"content\":{\"x\":1"),
        ];
        for text in bad {
            assert_ne!(text, good);
            let owned = read_snapshot_bytes(Path::new("b.json"), text.as_bytes())
                .map(|_| ())
                .unwrap_err()
                .to_string();
            let borrowed = parse_snapshot(Path::new("b.json"), text.as_bytes())
                .map(|_| ())
                .unwrap_err()
                .to_string();
            assert_eq!(borrowed, owned);
        }
    }

    #[test]
    fn snapshot_file_reads_and_names_missing_files() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.json"), dir.path().join("b.json"));
        std::fs::write(&a, bytes(&with_refs())).unwrap();
        std::fs::write(&b, b"").unwrap();
        let (mut fa, mut fb) = (SnapshotFile::new(), SnapshotFile::new());
        let err = SnapshotFile::read_pair((&mut fa, &a), (&mut fb, &b)).unwrap_err();
        assert!(
            err.to_string().starts_with(&format!(
                "`{}` is not a valid snapshot: line 1, column 0",
                b.display()
            )),
            "{err}"
        );
        let mut fc = SnapshotFile::new();
        let parsed = fc.read(&a).unwrap();
        assert_eq!(parsed.kinds[&Kind::Jobs].records.len(), 4);
        let mut fd = SnapshotFile::new();
        let err = fd.read(&dir.path().join("none.json")).unwrap_err();
        assert!(matches!(err, ReadError::Io { .. }), "{err}");
    }

    /// A pipe (`<(zcat old.json.gz)`) has no length and cannot be mapped: it
    /// is read, not taken for an empty file.
    #[cfg(unix)]
    #[test]
    fn snapshot_file_reads_a_pipe() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        let text = bytes(&with_refs());
        let writer = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::write(fifo, text).unwrap())
        };
        let mut file = SnapshotFile::new();
        let parsed = file.read(&fifo).unwrap();
        assert_eq!(parsed.kinds[&Kind::Jobs].records.len(), 4);
        writer.join().unwrap();
    }

    #[test]
    fn wrong_count_is_rejected() {
        let text = String::from_utf8(bytes(&sample()))
            .unwrap()
            .replace("\"count\": 3", "\"count\": 2");
        let err = read_snapshot_bytes(Path::new("c.json"), text.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("count 2 but holds 3"), "{err}");
    }
}
