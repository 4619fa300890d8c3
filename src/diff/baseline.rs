//! The baseline: today's known drift, accepted into a file, so a nightly
//! check fails only on drift that is new or has changed since.
//!
//! A finding is accepted when the baseline holds its id with the same
//! fingerprint (a hash of its class and its field differences with both
//! values): the same object drifting differently fails again.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::model::{DriftReport, Finding, FindingClass};

/// The baseline file format version.
///
/// Changelog:
/// - 1: first version: accepted findings by id, each with its fingerprint
///   and, for people reading the file, its message.
pub const BASELINE_VERSION: u32 = 1;

/// Accepted findings: id → fingerprint.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Baseline {
    entries: BTreeMap<String, Entry>,
}

/// One accepted finding as stored in the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    /// The finding's stable id.
    id: String,
    /// `sha256:` and the hex digest of the finding's class and field differences.
    fingerprint: String,
    /// The finding's message when it was accepted (informative only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

/// The baseline file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BaselineFile {
    baseline_version: u32,
    findings: Vec<Entry>,
}

/// Only the version, read first so a newer file is reported as such.
#[derive(Deserialize)]
struct VersionProbe {
    baseline_version: Option<u64>,
}

/// A baseline file that could not be read; names the file and, for syntax
/// errors, the line and column.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// The file could not be read.
    #[error("failed to read baseline `{}`", path.display())]
    Io {
        /// The baseline file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The file is not a valid baseline.
    #[error("`{}` is not a valid baseline: line {line}, column {column}: {message}", path.display())]
    Syntax {
        /// The baseline file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What was expected.
        message: String,
    },
    /// The file has another format version.
    #[error(
        "`{}` has baseline_version {found}, this standby reads version {BASELINE_VERSION}",
        path.display()
    )]
    Version {
        /// The baseline file.
        path: PathBuf,
        /// The version in the file.
        found: u64,
    },
    /// The same id is accepted twice.
    #[error("`{}` is not a valid baseline: finding `{id}` is listed twice", path.display())]
    DuplicateId {
        /// The baseline file.
        path: PathBuf,
        /// The repeated id.
        id: String,
    },
}

/// The fingerprint of a finding: `sha256:` and the hex digest of its class
/// and every field difference (path and both values, canonical JSON).
pub fn fingerprint(finding: &Finding) -> String {
    let mut h = Sha256::new();
    h.update(finding.class.name().as_bytes());
    h.update(b"\n");
    for field in &finding.fields {
        h.update(field.path.as_bytes());
        for value in [&field.primary, &field.secondary] {
            h.update(b"\t");
            match value {
                // serde_json maps are sorted: the same value, the same text.
                Some(v) => h.update(serde_json::to_string(v).unwrap_or_default().as_bytes()),
                None => h.update(b"-"),
            }
        }
        h.update(b"\n");
    }
    let digest = h.finalize();
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for byte in digest {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// Strips serde_json's " at line L column C" suffix (reported separately).
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(n) => message[..n].to_owned(),
        None => message.to_owned(),
    }
}

impl Baseline {
    /// Accepts every finding of a report (an `unknown` kind is never accepted:
    /// it is a check that could not be done, not drift).
    pub fn from_report(report: &DriftReport) -> Baseline {
        let entries = report
            .findings
            .iter()
            .filter(|f| f.class != FindingClass::Unknown)
            .map(|f| {
                (
                    f.id.clone(),
                    Entry {
                        id: f.id.clone(),
                        fingerprint: fingerprint(f),
                        message: Some(f.message.clone()),
                    },
                )
            })
            .collect();
        Baseline { entries }
    }

    /// Number of accepted findings.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing is accepted.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Marks the report's findings the baseline accepts (same id, same
    /// fingerprint) and counts them per kind; everything else is unmarked,
    /// so applying twice gives the same report.
    pub fn apply(&self, report: &mut DriftReport) {
        for summary in report.summary.values_mut() {
            summary.baselined = 0;
        }
        for f in &mut report.findings {
            f.baselined = f.class != FindingClass::Unknown
                && self
                    .entries
                    .get(&f.id)
                    .is_some_and(|e| e.fingerprint == fingerprint(f));
            if f.baselined {
                if let Some(summary) = report.summary.get_mut(&f.kind) {
                    summary.baselined += 1;
                }
            }
        }
    }

    /// Reads a baseline file.
    pub fn read(path: &Path) -> Result<Baseline, BaselineError> {
        let bytes = std::fs::read(path).map_err(|source| BaselineError::Io {
            path: path.into(),
            source,
        })?;
        Self::from_slice(path, &bytes)
    }

    /// Parses baseline bytes; `path` is only used in error messages.
    pub fn from_slice(path: &Path, bytes: &[u8]) -> Result<Baseline, BaselineError> {
        let syntax = |e: serde_json::Error| BaselineError::Syntax {
            path: path.into(),
            line: e.line(),
            column: e.column(),
            message: strip_position(&e.to_string()),
        };
        if let Ok(VersionProbe {
            baseline_version: Some(found),
        }) = serde_json::from_slice(bytes)
        {
            if found != u64::from(BASELINE_VERSION) {
                return Err(BaselineError::Version {
                    path: path.into(),
                    found,
                });
            }
        }
        let file: BaselineFile = serde_json::from_slice(bytes).map_err(syntax)?;
        let mut entries = BTreeMap::new();
        for entry in file.findings {
            if entries.contains_key(&entry.id) {
                return Err(BaselineError::DuplicateId {
                    path: path.into(),
                    id: entry.id,
                });
            }
            entries.insert(entry.id.clone(), entry);
        }
        Ok(Baseline { entries })
    }

    /// Writes the baseline as pretty JSON sorted by id (same baseline, same bytes).
    pub fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        let file = BaselineFile {
            baseline_version: BASELINE_VERSION,
            findings: self.entries.values().cloned().collect(),
        };
        serde_json::to_writer_pretty(&mut *out, &file)?;
        out.write_all(b"\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_file_line_and_column() {
        let path = Path::new("standby-baseline.json");
        let err = Baseline::from_slice(
            path,
            b"{\n  \"baseline_version\": 1,\n  \"findings\": [\n    {\"id\": 3}\n  ]\n}",
        )
        .unwrap_err();
        match &err {
            BaselineError::Syntax { line, column, .. } => assert_eq!((*line, *column), (4, 12)),
            other => panic!("unexpected {other:?}"),
        }
        let text = err.to_string();
        assert!(
            text.starts_with(
                "`standby-baseline.json` is not a valid baseline: line 4, column 12: invalid type"
            ),
            "{text}"
        );

        let err = Baseline::from_slice(
            path,
            br#"{"baseline_version": 2, "findings": [], "new": 1}"#,
        )
        .unwrap_err();
        assert!(
            matches!(err, BaselineError::Version { found: 2, .. }),
            "{err:?}"
        );

        let err = Baseline::from_slice(
            path,
            br#"{"baseline_version": 1, "findings": [], "extra": true}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("unknown field `extra`"), "{err}");

        let twice = br#"{"baseline_version": 1, "findings": [
            {"id": "missing/jobs/a", "fingerprint": "sha256:00"},
            {"id": "missing/jobs/a", "fingerprint": "sha256:01"}]}"#;
        let err = Baseline::from_slice(path, twice).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`standby-baseline.json` is not a valid baseline: finding `missing/jobs/a` is listed twice"
        );

        let err = Baseline::read(Path::new("/nonexistent/standby-baseline.json")).unwrap_err();
        assert!(matches!(err, BaselineError::Io { .. }));
    }

    #[test]
    fn empty_baseline_round_trips() {
        let mut out = Vec::new();
        Baseline::default().write(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            "{\n  \"baseline_version\": 1,\n  \"findings\": []\n}\n"
        );
        let back = Baseline::from_slice(Path::new("b.json"), &out).unwrap();
        assert!(back.is_empty());
    }
}
