//! The capture journal: every finished unit of work (a whole listing, one
//! permissions read, one folder listing) appended as a JSON line, so a killed
//! capture resumes with `--resume` without fetching any of it again.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

/// A journal that could not be opened or does not belong to this capture.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// I/O on the journal file.
    #[error("failed to use the capture journal `{}`", path.display())]
    Io {
        /// The journal.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The journal was written by a capture of another workspace.
    #[error("the capture journal `{}` is for `{found}`, not `{expected}`: delete it or drop `--resume`", path.display())]
    OtherWorkspace {
        /// The journal.
        path: PathBuf,
        /// Its host.
        found: String,
        /// This capture's host.
        expected: String,
    },
}

#[derive(Serialize, Deserialize)]
struct Header {
    journal: u32,
    host: String,
}

/// A journal line as read: the answer stays text until a unit asks for it,
/// since a resumed capture of a large workspace holds every answer at once.
#[derive(Deserialize)]
struct Entry {
    unit: String,
    value: Box<RawValue>,
}

/// A journal line as written, borrowing the answer instead of copying it.
#[derive(Serialize)]
struct EntryRef<'a, T: ?Sized> {
    unit: &'a str,
    value: &'a T,
}

/// Finished units of a capture, on disk when a path is given.
#[derive(Debug, Default)]
pub struct Journal {
    done: Mutex<HashMap<String, Box<RawValue>>>,
    file: Option<(PathBuf, Mutex<BufWriter<File>>)>,
}

impl Journal {
    /// A journal kept in memory only (`-o -`, tests).
    pub fn in_memory() -> Self {
        Journal::default()
    }

    /// Opens the journal at `path`: with `resume`, reads what is there and
    /// appends; without, starts it afresh.
    pub fn open(path: &Path, host: &str, resume: bool) -> Result<Self, JournalError> {
        let io = |source| JournalError::Io {
            path: path.into(),
            source,
        };
        let mut done = HashMap::new();
        let mut valid_len = 0u64;
        if resume && path.exists() {
            let reader = BufReader::new(File::open(path).map_err(io)?);
            let mut lines = reader.split(b'\n');
            let header: Option<Header> = lines
                .next()
                .transpose()
                .map_err(io)?
                .and_then(|l| serde_json::from_slice(&l).ok());
            match header {
                Some(h) if h.host != host => {
                    return Err(JournalError::OtherWorkspace {
                        path: path.into(),
                        found: h.host,
                        expected: host.into(),
                    });
                }
                Some(_) => {
                    valid_len = std::fs::read(path)
                        .map_err(io)?
                        .iter()
                        .position(|b| *b == b'\n')
                        .map_or(0, |p| p as u64 + 1);
                    for line in lines {
                        let line = line.map_err(io)?;
                        // A kill can cut the last line short; it is simply fetched again.
                        match serde_json::from_slice::<Entry>(&line) {
                            Ok(entry) => {
                                valid_len += line.len() as u64 + 1;
                                done.insert(entry.unit, entry.value);
                            }
                            Err(_) => break,
                        }
                    }
                }
                None => {}
            }
        }
        let file = if valid_len > 0 {
            let file = OpenOptions::new().write(true).open(path).map_err(io)?;
            // Drop a torn last line so appends start on a line of their own.
            file.set_len(valid_len).map_err(io)?;
            let mut file = file;
            std::io::Seek::seek(&mut file, std::io::SeekFrom::End(0)).map_err(io)?;
            file
        } else {
            let mut file = File::create(path).map_err(io)?;
            let header = serde_json::to_vec(&Header {
                journal: 1,
                host: host.into(),
            })
            .map_err(|e| io(e.into()))?;
            file.write_all(&header)
                .and_then(|()| file.write_all(b"\n"))
                .map_err(io)?;
            file
        };
        Ok(Journal {
            done: Mutex::new(done),
            file: Some((path.into(), Mutex::new(BufWriter::new(file)))),
        })
    }

    /// Units already done (for progress reporting).
    pub fn len(&self) -> usize {
        self.done.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// True when nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The recorded answer of a unit, if it was done before.
    pub fn get(&self, unit: &str) -> Option<Value> {
        let done = self.done.lock().unwrap_or_else(|e| e.into_inner());
        // The line parsed when the journal was opened, so its value parses again.
        serde_json::from_str(done.get(unit)?.get()).ok()
    }

    /// The recorded items of a listing unit, each as its own text, so a
    /// resumed listing is never one large tree.
    pub(crate) fn get_items(&self, unit: &str) -> Option<Vec<Box<RawValue>>> {
        let done = self.done.lock().unwrap_or_else(|e| e.into_inner());
        serde_json::from_str(done.get(unit)?.get()).ok()
    }

    /// Records a finished listing unit: its items as one JSON array.
    pub(crate) fn record_items(&self, unit: &str, items: &[Box<RawValue>]) {
        self.write(&EntryRef { unit, value: items });
    }

    /// Records a finished unit. A journal write failure only costs resumability,
    /// so it is logged, not fatal.
    pub fn record(&self, unit: &str, value: &Value) {
        self.write(&EntryRef { unit, value });
    }

    /// Appends one line; a failure is logged, not fatal.
    fn write<T: Serialize + ?Sized>(&self, entry: &EntryRef<'_, T>) {
        if let Some((path, file)) = &self.file {
            let mut file = file.lock().unwrap_or_else(|e| e.into_inner());
            let result = serde_json::to_writer(&mut *file, entry)
                .map_err(std::io::Error::from)
                .and_then(|()| file.write_all(b"\n"))
                .and_then(|()| file.flush());
            if let Err(e) = result {
                tracing::warn!(journal = %path.display(), error = %e, "cannot write the capture journal");
            }
        }
    }

    /// Removes the journal file after a capture that finished and was written.
    pub fn finish(self) {
        if let Some((path, _)) = self.file {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn resumes_what_was_recorded_and_drops_a_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let j = Journal::open(&path, "h", false).unwrap();
        j.record("a", &json!([1]));
        j.record("b", &json!({"x": 2}));
        drop(j);
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("{\"unit\":\"c\",\"val");
        std::fs::write(&path, text).unwrap();
        let j = Journal::open(&path, "h", true).unwrap();
        assert_eq!(j.get("a"), Some(json!([1])));
        assert_eq!(j.get("b"), Some(json!({"x": 2})));
        assert_eq!(j.get("c"), None);
        j.record("c", &json!(3));
        drop(j);
        let j = Journal::open(&path, "h", true).unwrap();
        assert_eq!(j.len(), 3);
        assert!(matches!(
            Journal::open(&path, "other", true),
            Err(JournalError::OtherWorkspace { .. })
        ));
        let fresh = Journal::open(&path, "h", false).unwrap();
        assert!(fresh.is_empty());
    }
}
