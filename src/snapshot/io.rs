//! Reading and writing snapshot files.
//!
//! The writer puts one record per line so nightly snapshots diff well in git,
//! and streams, so a million records never sit twice in memory.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

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
    let bytes = std::fs::read(path).map_err(|source| ReadError::Io {
        path: path.into(),
        source,
    })?;
    read_snapshot_bytes(path, &bytes)
}

/// Parses snapshot bytes; `path` is only used in error messages.
pub fn read_snapshot_bytes(path: &Path, bytes: &[u8]) -> Result<Snapshot, ReadError> {
    // Check the version before the full parse, so a newer file is reported as
    // such instead of as a confusing field error deep inside it.
    if let Some(found) = probe_version(bytes) {
        if found != u64::from(FORMAT_VERSION) {
            return Err(ReadError::Version {
                path: path.into(),
                found,
            });
        }
    }
    let snapshot: Snapshot = serde_json::from_slice(bytes).map_err(|e| ReadError::Syntax {
        path: path.into(),
        line: e.line(),
        column: e.column(),
        message: strip_position(&e.to_string()),
    })?;
    if snapshot.format_version != FORMAT_VERSION {
        return Err(ReadError::Version {
            path: path.into(),
            found: snapshot.format_version.into(),
        });
    }
    for (kind, section) in &snapshot.kinds {
        if section.count != section.records.len() {
            return Err(ReadError::Invalid {
                path: path.into(),
                message: format!(
                    "kind `{kind}` says count {} but holds {} records",
                    section.count,
                    section.records.len()
                ),
            });
        }
    }
    Ok(snapshot)
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

    #[test]
    fn wrong_count_is_rejected() {
        let text = String::from_utf8(bytes(&sample()))
            .unwrap()
            .replace("\"count\": 3", "\"count\": 2");
        let err = read_snapshot_bytes(Path::new("c.json"), text.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("count 2 but holds 3"), "{err}");
    }
}
