//! Helpers the people-facing renderers share: how a value, a duration or a
//! piece of workspace data is shown, shortened and wrapped.
//!
//! Workspace data (keys, messages, values) comes from the API and can hold
//! anything, terminal escape sequences included; [`visible`] makes control
//! characters visible so a job named `"\u{1b}[2J"` cannot clear a terminal or
//! break a table.

use serde_json::Value;

/// How an absent value is shown.
pub(crate) const ABSENT: &str = "(absent)";

/// A value on one line: compact JSON (strings quoted, so `"1"` and `1`
/// differ), or [`ABSENT`].
pub(crate) fn compact(value: Option<&Value>) -> String {
    match value {
        // Serializing a `Value` cannot fail: its map keys are strings.
        Some(v) => serde_json::to_string(v).unwrap_or_default(),
        None => ABSENT.to_owned(),
    }
}

/// A value over several lines: pretty JSON for objects and arrays.
pub(crate) fn pretty(value: Option<&Value>) -> String {
    match value {
        Some(v @ (Value::Object(_) | Value::Array(_))) => {
            serde_json::to_string_pretty(v).unwrap_or_default()
        }
        other => compact(other),
    }
}

/// Replaces control characters with a visible `\u{..}` escape; tabs become a space.
pub(crate) fn visible(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\t' => out.push(' '),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

/// Shortens `s` to at most `max` characters by cutting out its middle.
///
/// The middle, because paths and values usually differ at their ends
/// (`/Repos/prod/.../ingest_v2`) and the start says what the value is.
pub(crate) fn truncate_middle(s: &str, max: usize) -> String {
    const CUT: &str = "...";
    let len = s.chars().count();
    if len <= max {
        return s.to_owned();
    }
    if max <= CUT.len() {
        return s.chars().take(max).collect();
    }
    let keep = max - CUT.len();
    let head = keep.div_ceil(2);
    let tail = keep - head;
    let mut out: String = s.chars().take(head).collect();
    out.push_str(CUT);
    out.extend(s.chars().skip(len - tail));
    out
}

/// Word-wraps `text` to `width` columns, every line prefixed by `indent`
/// (the first by `first`); words longer than a line are broken.
///
/// Widths are counted in characters: wide characters (CJK, emoji) take two
/// columns on a terminal, so such lines can run over.
pub(crate) fn wrap(text: &str, width: usize, first: &str, indent: &str) -> Vec<String> {
    let indent_len = indent.chars().count();
    let mut lines = Vec::new();
    let mut line = first.to_owned();
    let mut len = first.chars().count();
    let mut has_words = false;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let word: Vec<char> = word.chars().collect();
        let mut rest = word.as_slice();
        while !rest.is_empty() {
            let sep = usize::from(has_words);
            if len + sep + rest.len() <= width {
                if has_words {
                    line.push(' ');
                }
                line.extend(rest);
                len += sep + rest.len();
                has_words = true;
                break;
            }
            if !has_words {
                // Longer than a whole line: break the word (at least one
                // character a line, so a tiny width still ends).
                let room = width.saturating_sub(len).clamp(1, rest.len());
                line.extend(&rest[..room]);
                rest = &rest[room..];
            }
            lines.push(std::mem::replace(&mut line, indent.to_owned()));
            len = indent_len;
            has_words = false;
        }
    }
    if has_words || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// A duration in milliseconds for people: `450ms`, `7m 30s`, `2h`, `3d 4h`.
pub(crate) fn duration_ms(ms: i64) -> String {
    if ms < 0 {
        return format!("-{}", duration_ms(ms.saturating_neg()));
    }
    if ms < 1000 {
        return format!("{ms}ms");
    }
    duration_secs(u64::try_from(ms / 1000).unwrap_or(u64::MAX))
}

/// A duration in seconds for people, the two largest units: `45s`, `15m`, `1h 30m`, `2d`.
pub(crate) fn duration_secs(secs: u64) -> String {
    let units = [(86_400, "d"), (3_600, "h"), (60, "m"), (1, "s")];
    let mut parts = Vec::new();
    let mut rest = secs;
    for (size, unit) in units {
        let n = rest / size;
        rest %= size;
        if n > 0 || !parts.is_empty() {
            parts.push((n, unit));
        }
        if parts.len() == 2 {
            break;
        }
    }
    let shown: Vec<String> = parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect();
    if shown.is_empty() {
        "0s".to_owned()
    } else {
        shown.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn compact_quotes_strings_and_marks_absence() {
        assert_eq!(compact(Some(&json!("1"))), "\"1\"");
        assert_eq!(compact(Some(&json!(1))), "1");
        assert_eq!(
            compact(Some(&json!({"b": 1, "a": [true]}))),
            r#"{"a":[true],"b":1}"#
        );
        assert_eq!(compact(None), "(absent)");
    }

    #[test]
    fn visible_escapes_terminal_controls() {
        assert_eq!(visible("a\u{1b}[2Jb\tc"), "a\\u{1b}[2Jb c");
        assert_eq!(visible("line\nnext\u{85}"), "line\\u{a}next\\u{85}");
        assert_eq!(visible("plain é 😀"), "plain é 😀");
    }

    #[test]
    fn truncate_middle_keeps_both_ends() {
        assert_eq!(truncate_middle("short", 10), "short");
        let cut = truncate_middle("/Repos/prod/etl/very/long/path/ingest_v2", 20);
        assert_eq!(cut, "/Repos/pr...ngest_v2");
        assert_eq!(cut.chars().count(), 20);
        assert_eq!(truncate_middle("ééééééééé", 5), "é...é");
        assert_eq!(truncate_middle("abcdef", 2), "ab");
    }

    #[test]
    fn wrap_breaks_at_words_and_splits_long_words() {
        assert_eq!(
            wrap("one two three four", 10, "  ", "  "),
            vec!["  one two", "  three", "  four"]
        );
        assert_eq!(
            wrap("abcdefghijklmnop xy", 8, "> ", "  "),
            vec!["> abcdef", "  ghijkl", "  mnop", "  xy"]
        );
        assert_eq!(wrap("", 10, "- ", "  "), vec!["- "]);
        for line in wrap(&"x".repeat(300), 80, "    ", "    ") {
            assert!(line.chars().count() <= 80, "{line}");
        }
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration_ms(450), "450ms");
        assert_eq!(duration_ms(450_000), "7m 30s");
        assert_eq!(duration_ms(1_200_000), "20m");
        assert_eq!(duration_secs(3_600), "1h");
        assert_eq!(duration_secs(90_061), "1d 1h");
        assert_eq!(duration_secs(0), "0s");
        assert_eq!(duration_ms(-60_000), "-1m");
    }
}
