//! Writing output files atomically: a temporary file beside the target,
//! flushed and synced, then renamed over it. An interrupted or failed write
//! (a full disk, a kill) never leaves a half-written file under the real name.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Where output goes: a file (written atomically) or standard output (`-`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    /// Standard output.
    Stdout,
    /// A file path, replaced atomically.
    File(PathBuf),
}

impl Destination {
    /// Parses a command-line path, where `-` means standard output.
    pub fn from_arg(arg: &Path) -> Self {
        if arg == Path::new("-") {
            Destination::Stdout
        } else {
            Destination::File(arg.to_path_buf())
        }
    }
}

/// An error while writing an output file; names the file.
#[derive(Debug, thiserror::Error)]
#[error("failed to write `{}`", path.display())]
pub struct WriteError {
    /// The file that could not be written.
    pub path: PathBuf,
    /// The underlying I/O error.
    #[source]
    pub source: io::Error,
}

/// Writes `path` atomically with the bytes `fill` produces.
///
/// The temporary file is removed when anything fails, so a full disk leaves
/// the previous file (if any) untouched.
pub fn write_atomic<F>(path: &Path, fill: F) -> Result<(), WriteError>
where
    F: FnOnce(&mut dyn Write) -> io::Result<()>,
{
    let wrap = |source| WriteError {
        path: path.to_path_buf(),
        source,
    };
    // A device or pipe (`/dev/stdout`, a FIFO) is written in place: renaming
    // over it would replace the device with a regular file.
    if fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
        let mut out = BufWriter::new(
            fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(wrap)?,
        );
        return fill(&mut out).and_then(|()| out.flush()).map_err(wrap);
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().ok_or_else(|| {
        wrap(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a file path",
        ))
    })?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let file = File::create(&tmp)?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        fill(&mut out)?;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(wrap)
}

/// Writes to a [`Destination`]: atomically to a file, or straight to stdout.
pub fn write_to<F>(dest: &Destination, fill: F) -> Result<(), WriteError>
where
    F: FnOnce(&mut dyn Write) -> io::Result<()>,
{
    match dest {
        Destination::File(path) => write_atomic(path, fill),
        Destination::Stdout => {
            let stdout = io::stdout();
            let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
            fill(&mut out)
                .and_then(|()| out.flush())
                .map_err(|source| WriteError {
                    path: PathBuf::from("<stdout>"),
                    source,
                })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_keeps_the_old_file_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        write_atomic(&path, |w| w.write_all(b"old")).unwrap();
        let err = write_atomic(&path, |w| {
            w.write_all(b"half")?;
            Err(io::Error::other("disk full"))
        })
        .unwrap_err();
        assert!(err.to_string().contains("out.json"), "{err}");
        assert_eq!(fs::read(&path).unwrap(), b"old");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "temporary file left behind");
    }

    #[test]
    fn devices_are_written_in_place_and_a_full_one_is_an_error() {
        let err = write_atomic(Path::new("/dev/full"), |w| w.write_all(&[0; 1 << 21])).unwrap_err();
        assert!(err.to_string().contains("/dev/full"), "{err}");
        let meta = fs::metadata("/dev/full").unwrap();
        assert!(!meta.is_file(), "/dev/full must still be a device");
    }
}
