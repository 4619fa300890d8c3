//! The `~/.databrickscfg` INI file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A parsed `.databrickscfg`: profile name → key → value.
#[derive(Clone, Debug, Default)]
pub struct ConfigFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// Sections in file order do not matter; keys are as written.
    pub profiles: BTreeMap<String, BTreeMap<String, String>>,
}

/// A config file that could not be read or parsed.
#[derive(Debug, thiserror::Error)]
pub enum ConfigFileError {
    /// The file could not be read.
    #[error("failed to read `{}`", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A line that is neither a section, a `key = value`, a comment nor blank.
    #[error("`{}` line {line}: expected `[profile]` or `key = value`, found `{text}`", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The offending line (values are never shown: they may be tokens).
        text: String,
    },
}

impl ConfigFile {
    /// Reads and parses a config file.
    pub fn read(path: &Path) -> Result<Self, ConfigFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigFileError::Io {
            path: path.into(),
            source,
        })?;
        Self::parse(path, &text)
    }

    /// Parses config text; `path` is used in errors only.
    pub fn parse(path: &Path, text: &str) -> Result<Self, ConfigFileError> {
        let mut profiles: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        let mut current: Option<String> = None;
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                let name = name.trim().to_owned();
                profiles.entry(name.clone()).or_default();
                current = Some(name);
                continue;
            }
            let syntax = || ConfigFileError::Syntax {
                path: path.into(),
                line: n + 1,
                // Only the part before `=` is shown: the value may be a secret.
                text: line
                    .split(['=', ':'])
                    .next()
                    .unwrap_or("")
                    .trim()
                    .chars()
                    .take(40)
                    .collect(),
            };
            let (key, value) = line
                .split_once('=')
                .or_else(|| line.split_once(':'))
                .ok_or_else(syntax)?;
            let section = current.clone().ok_or_else(syntax)?;
            profiles
                .entry(section)
                .or_default()
                .insert(key.trim().to_owned(), value.trim().to_owned());
        }
        Ok(ConfigFile {
            path: path.into(),
            profiles,
        })
    }

    /// The profile used when none is named: `[__settings__] default_profile`, else `DEFAULT`.
    pub fn default_profile(&self) -> String {
        self.profiles
            .get("__settings__")
            .and_then(|s| s.get("default_profile"))
            .cloned()
            .unwrap_or_else(|| "DEFAULT".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sections_comments_and_both_separators() {
        let cfg = ConfigFile::parse(
            Path::new("c"),
            "; comment\n[DEFAULT]\nhost = https://a\n\n[prod]\n# x\ntoken: dapi123\nhost=https://b\n",
        )
        .unwrap();
        assert_eq!(cfg.profiles["DEFAULT"]["host"], "https://a");
        assert_eq!(cfg.profiles["prod"]["token"], "dapi123");
        assert_eq!(cfg.profiles["prod"]["host"], "https://b");
        assert_eq!(cfg.default_profile(), "DEFAULT");
    }

    #[test]
    fn bad_lines_name_file_and_line_but_not_the_value() {
        let err = ConfigFile::parse(Path::new("cfg"), "[p]\nhost = x\ngarbage dapiSECRET\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("`cfg` line 3:"), "{err}");
        let err = ConfigFile::parse(Path::new("cfg"), "token = dapiSECRET\n")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("dapiSECRET"), "{err}");
    }
}
