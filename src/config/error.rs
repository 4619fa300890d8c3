//! Config errors, each naming the file, the line and column, and the key.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// Why a `standby.toml` could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("failed to read `{}`", path.display())]
    Read {
        /// The config file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML or not a valid config.
    #[error("{}", render_invalid(file, *position, key.as_deref(), message))]
    Invalid {
        /// The config file, as given.
        file: PathBuf,
        /// Where in the file, when the parser could say.
        position: Option<Position>,
        /// The dotted key path, e.g. `pair.secondary.ignore.reason`
        /// (array indices left out: the line says which entry).
        key: Option<String>,
        /// What is wrong, without the location.
        message: String,
    },
    /// An ignore whose key glob matched no object in either snapshot
    /// (found by the caller with `diff::unmatched_ignores`): probably a typo.
    #[error(
        "{origin}: `pair.secondary.ignore.key`: `{glob}` matches no {what} in either snapshot",
        what = match kind {
            Some(k) => format!("`{k}` object"),
            None => "object".to_owned(),
        }
    )]
    UnmatchedIgnore {
        /// Where the ignore was written (`standby.toml:41`).
        origin: String,
        /// The ignore's kind, if it names one.
        kind: Option<crate::kind::Kind>,
        /// The key glob.
        glob: String,
    },
    /// A `--pair` selection that names no pair or secondary of the config.
    #[error("{message} in `{}` (available: {})", file.display(), available.join(", "))]
    NoSuchPair {
        /// The config file.
        file: PathBuf,
        /// What is wrong with the selection.
        message: String,
        /// Every `pair/secondary` the config defines.
        available: Vec<String>,
    },
}

impl ConfigError {
    /// The error for an ignore that matched nothing.
    pub fn unmatched_ignore(ignore: &crate::diff::Ignore) -> Self {
        ConfigError::UnmatchedIgnore {
            origin: ignore.origin.clone(),
            kind: ignore.kind,
            glob: ignore.key.clone(),
        }
    }
}

/// A line and column in the config file, both counted from 1 (columns in characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    /// Line, from 1.
    pub line: usize,
    /// Column in characters, from 1.
    pub column: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

fn render_invalid(
    file: &Path,
    position: Option<Position>,
    key: Option<&str>,
    message: &str,
) -> String {
    // `file:line:column:` first, as compilers write it, so editors and CI
    // logs turn it into a link.
    let mut out = file.display().to_string();
    if let Some(p) = position {
        out.push_str(&format!(":{p}"));
    }
    out.push_str(": ");
    if let Some(key) = key {
        out.push_str(&format!("`{key}`: "));
    }
    out.push_str(message);
    out
}

/// Byte offset → line and column.
pub(super) fn position_of(text: &str, offset: usize) -> Position {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    Position { line, column }
}

/// Maps byte spans of the parsed document back to dotted key paths, so an
/// error found by serde or by validation can name the key it is about.
pub(super) struct Locator<'a> {
    file: &'a Path,
    text: &'a str,
    /// Span of every key, value and array element, with its key path.
    spans: Vec<(Range<usize>, String)>,
    /// Span of every table (a header, or an inline table's braces), with its path.
    tables: Vec<(Range<usize>, String)>,
}

impl<'a> Locator<'a> {
    /// Indexes every key and value of `root`.
    pub(super) fn new(file: &'a Path, text: &'a str, root: &DeTable<'_>) -> Self {
        let mut index = Index::default();
        index.table(root, "");
        Locator {
            file,
            text,
            spans: index.spans,
            tables: index.tables,
        }
    }

    /// The line of a span, as `FILE:LINE` (the `origin` of rules).
    pub(super) fn origin(&self, span: &Range<usize>) -> String {
        format!(
            "{}:{}",
            self.file.display(),
            position_of(self.text, span.start).line
        )
    }

    /// The line number of a span.
    pub(super) fn line(&self, span: &Range<usize>) -> usize {
        position_of(self.text, span.start).line
    }

    /// The key path of the entry whose key or value is exactly `span`, or
    /// else the innermost entry that contains it.
    pub(super) fn key_at(&self, span: &Range<usize>) -> Option<String> {
        let exact = self
            .spans
            .iter()
            .filter(|(s, _)| s == span)
            .max_by_key(|(_, k)| k.len());
        let containing = || {
            self.spans
                .iter()
                .filter(|(s, _)| s.start <= span.start && span.end <= s.end)
                .min_by_key(|(s, k)| (s.len(), usize::MAX - k.len()))
        };
        exact.or_else(containing).map(|(_, k)| k.clone())
    }

    /// An error about the value or key at `span`; `child` names a key under
    /// it (a missing key, say).
    pub(super) fn error(
        &self,
        span: Option<Range<usize>>,
        child: Option<&str>,
        message: impl Into<String>,
    ) -> ConfigError {
        let key = span.as_ref().and_then(|s| self.key_at(s));
        let key = match (key, child) {
            (Some(k), Some(c)) => Some(format!("{k}.{c}")),
            (None, Some(c)) => Some(c.to_owned()),
            (k, None) => k,
        };
        self.error_with_key(span, key, message)
    }

    /// An error at `span` about the given key.
    pub(super) fn error_with_key(
        &self,
        span: Option<Range<usize>>,
        key: Option<String>,
        message: impl Into<String>,
    ) -> ConfigError {
        ConfigError::Invalid {
            file: self.file.to_owned(),
            position: span.map(|s| position_of(self.text, s.start)),
            key,
            message: message.into(),
        }
    }

    /// Turns a `toml` error (syntax or serde) into a config error that names
    /// the key, in TOML's words rather than serde's.
    pub(super) fn toml_error(&self, err: &toml::de::Error) -> ConfigError {
        let span = err.span();
        let raw = err.message().trim().replace('\n', ", ");
        let located = span.as_ref().and_then(|s| self.key_at(s));

        if let Some(rest) = raw.strip_prefix("missing field `") {
            let field = rest.split('`').next().unwrap_or_default();
            let key = join_key(located.as_deref(), field);
            let message = if field == "reason" {
                "required key missing: every ignore needs a reason".to_owned()
            } else {
                "required key missing".to_owned()
            };
            return self.error_with_key(span, Some(key), message);
        }
        if let Some(rest) = raw.strip_prefix("unknown field `") {
            let (field, tail) = rest.split_once('`').unwrap_or((rest, ""));
            let key = match located {
                Some(k) if k == field || k.ends_with(&format!(".{field}")) => k,
                other => join_key(other.as_deref(), field),
            };
            let tail = tail.trim_start_matches(',').trim();
            let tail = tail.replace("there are no fields", "this table takes no keys");
            let message = if tail.is_empty() {
                "unknown key".to_owned()
            } else {
                format!("unknown key, {tail}")
            };
            return self.error_with_key(span, Some(key), message);
        }
        if raw == "invalid type: map, expected a sequence" {
            if let Some(k) = &located {
                return self.error_with_key(
                    span,
                    located.clone(),
                    format!("expected an array of tables: write `[[{k}]]`"),
                );
            }
        }
        if raw == "duplicate key" {
            let key = span.as_ref().and_then(|s| self.duplicate_key(s));
            return self.error_with_key(span, key, "duplicate key");
        }
        self.error_with_key(span, located, serde_to_toml_words(&raw))
    }
}

impl Locator<'_> {
    /// The path of a key the parser saw twice. The parser stops there, so
    /// the key is not indexed: its parent is the inline table around it, or
    /// else the last table header before it.
    fn duplicate_key(&self, span: &Range<usize>) -> Option<String> {
        let name = self.text.get(span.clone())?.trim();
        let line_start = self
            .text
            .get(..span.start)?
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let line = self
            .text
            .get(line_start..)?
            .lines()
            .next()
            .unwrap_or_default();
        if line.trim_start().starts_with('[') {
            // A table defined twice: the header names the whole path.
            let header = line.trim().trim_start_matches('[');
            let header = header.split(']').next().unwrap_or_default();
            return Some(
                header
                    .split('.')
                    .map(str::trim)
                    .collect::<Vec<_>>()
                    .join("."),
            );
        }
        let inline = self
            .tables
            .iter()
            .filter(|(s, _)| s.start < span.start && span.end <= s.end)
            .min_by_key(|(s, _)| s.len());
        let header = || {
            self.tables
                .iter()
                .filter(|(s, _)| {
                    s.start < span.start
                        && self.text.get(s.start..).is_some_and(|t| t.starts_with('['))
                })
                .max_by_key(|(s, _)| s.start)
        };
        let parent = inline.or_else(header).map(|(_, k)| k.as_str());
        Some(join_key(parent, name))
    }
}

fn join_key(parent: Option<&str>, child: &str) -> String {
    match parent {
        Some(p) if !p.is_empty() => format!("{p}.{child}"),
        _ => child.to_owned(),
    }
}

/// serde names Rust shapes; a TOML writer knows tables, arrays and integers.
fn serde_to_toml_words(message: &str) -> String {
    let mut out = message.to_owned();
    for (from, to) in [
        ("invalid type: map", "invalid type: table"),
        ("invalid type: sequence", "invalid type: array"),
        ("expected a sequence", "expected an array"),
        ("expected a map", "expected a table"),
        ("expected i64", "expected an integer"),
        ("expected u64", "expected an integer"),
        ("unknown variant", "unknown value"),
        ("floating point", "float"),
    ] {
        out = out.replace(from, to);
    }
    out
}

/// Spans of a parsed document, collected by walking it once.
#[derive(Default)]
struct Index {
    spans: Vec<(Range<usize>, String)>,
    tables: Vec<(Range<usize>, String)>,
}

impl Index {
    fn table(&mut self, table: &DeTable<'_>, prefix: &str) {
        for (key, value) in table.iter() {
            let path = join_key(Some(prefix), key.get_ref());
            self.spans.push((key.span(), path.clone()));
            self.value(value, &path);
        }
    }

    fn value(&mut self, value: &Spanned<DeValue<'_>>, path: &str) {
        self.spans.push((value.span(), path.to_owned()));
        match value.get_ref() {
            DeValue::Table(t) => {
                self.tables.push((value.span(), path.to_owned()));
                self.table(t, path);
            }
            DeValue::Array(items) => {
                for item in items.iter() {
                    self.value(item, path);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_characters() {
        let text = "a = 1\nbé = \"x\"\n";
        assert_eq!(position_of(text, 0), Position { line: 1, column: 1 });
        assert_eq!(position_of(text, 6), Position { line: 2, column: 1 });
        // After the two-byte `é`, the column counts characters.
        assert_eq!(position_of(text, 9), Position { line: 2, column: 3 });
        // Inside a character or past the end: clamped, no panic.
        assert_eq!(position_of(text, 8), Position { line: 2, column: 2 });
        assert_eq!(position_of(text, 999).line, 3);
    }

    #[test]
    fn unmatched_ignores_name_file_line_and_key() {
        let mut ignore = crate::diff::Ignore {
            kind: Some(crate::kind::Kind::Jobs),
            key: "scratch-*".into(),
            field: None,
            reason: "scratch jobs are not replicated".into(),
            origin: "standby.toml:41".into(),
        };
        assert_eq!(
            ConfigError::unmatched_ignore(&ignore).to_string(),
            "standby.toml:41: `pair.secondary.ignore.key`: `scratch-*` matches no `jobs` object in either snapshot"
        );
        ignore.kind = None;
        assert_eq!(
            ConfigError::unmatched_ignore(&ignore).to_string(),
            "standby.toml:41: `pair.secondary.ignore.key`: `scratch-*` matches no object in either snapshot"
        );
    }

    #[test]
    fn spans_map_back_to_key_paths() {
        let text = "[[pair]]\nname = \"a\"\nprimary = { profile = \"p\" }\n[[pair.secondary]]\nkinds = [\"jobs\", \"x\"]\n[client.rate_limits]\nscim = 1\n";
        let root = DeTable::parse(text).expect("valid toml");
        let loc = Locator::new(Path::new("s.toml"), text, root.get_ref());
        let find = |needle: &str| {
            let start = text.find(needle).expect("needle in text");
            start..start + needle.len()
        };
        assert_eq!(loc.key_at(&find("\"a\"")).as_deref(), Some("pair.name"));
        assert_eq!(
            loc.key_at(&find("profile")).as_deref(),
            Some("pair.primary.profile")
        );
        assert_eq!(
            loc.key_at(&find("\"x\"")).as_deref(),
            Some("pair.secondary.kinds")
        );
        assert_eq!(
            loc.key_at(&find("[[pair.secondary]]")).as_deref(),
            Some("pair.secondary")
        );
        assert_eq!(
            loc.key_at(&find("scim")).as_deref(),
            Some("client.rate_limits.scim")
        );
        assert_eq!(loc.origin(&find("kinds")), "s.toml:5");
    }
}
