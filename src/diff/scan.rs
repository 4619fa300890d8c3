//! A small reader over the bytes of canonical record content.
//!
//! The diff's fast path must not build a `serde_json::Value` per record: a
//! million records would cost seconds and gigabytes. These functions walk the
//! JSON text in place (find one member's raw value, copy an object without
//! some members into a reused buffer) and never allocate. They assume valid
//! JSON (the snapshot reader validated it) but never panic on anything else:
//! malformed input gives `None`, and callers fall back to a full parse.

/// Index of the first byte at or after `i` that is not JSON whitespace.
fn ws(b: &[u8], mut i: usize) -> usize {
    while let Some(c) = b.get(i) {
        if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
            i += 1;
        } else {
            break;
        }
    }
    i
}

/// True when one of the 8 bytes of `w` is `c` (the exact "has zero byte" test).
fn has_byte(w: u64, c: u8) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let x = w ^ (ONES * u64::from(c));
    x.wrapping_sub(ONES) & !x & HIGHS != 0
}

/// With `i` at an opening quote, the index just after the closing quote.
pub(crate) fn skip_string(b: &[u8], i: usize) -> Option<usize> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let mut j = i + 1;
    loop {
        // Strings are most of the bytes: skip 8 at a time while none of them
        // is a quote or a backslash.
        while let Some(chunk) = b.get(j..j + 8) {
            let Ok(bytes) = <[u8; 8]>::try_from(chunk) else {
                break;
            };
            let w = u64::from_le_bytes(bytes);
            if has_byte(w, b'"') || has_byte(w, b'\\') {
                break;
            }
            j += 8;
        }
        match *b.get(j)? {
            b'"' => return Some(j + 1),
            // Whatever follows a backslash is part of the escape, never the end.
            b'\\' => j += 2,
            _ => j += 1,
        }
    }
}

/// With `i` at (or before, across whitespace) a value, `(start, end)` of it.
pub(crate) fn value_span(b: &[u8], i: usize) -> Option<(usize, usize)> {
    let start = ws(b, i);
    match *b.get(start)? {
        b'"' => Some((start, skip_string(b, start)?)),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = start;
            loop {
                match *b.get(j)? {
                    b'"' => {
                        j = skip_string(b, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.checked_sub(1)?;
                        if depth == 0 {
                            return Some((start, j + 1));
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
        _ => {
            let mut j = start;
            while let Some(&c) = b.get(j) {
                if matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                    break;
                }
                j += 1;
            }
            (j > start).then_some((start, j))
        }
    }
}

/// One member of an object: the key's span (quotes included) and the value's span.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Member {
    /// Start of the key's opening quote.
    pub key_start: usize,
    /// Just after the key's closing quote.
    pub key_end: usize,
    /// Start of the value.
    pub value_start: usize,
    /// Just after the value.
    pub value_end: usize,
}

/// The raw text of a key span without its quotes (escapes left as written).
fn key_text(b: &[u8], key_start: usize, key_end: usize) -> &[u8] {
    b.get(key_start + 1..key_end.saturating_sub(1))
        .unwrap_or_default()
}

impl Member {
    /// The key's raw text without quotes (escapes left as written).
    pub fn key<'a>(&self, b: &'a [u8]) -> &'a [u8] {
        key_text(b, self.key_start, self.key_end)
    }
}

/// Walks the members of the object starting at `i`: `f` gets the key's span
/// and where the value starts, and returns where the value ends (so a caller
/// descending into the value scans it once). Returns the index just after
/// the object, or `None` when the object is malformed or `f` gave up.
fn walk_members(
    b: &[u8],
    i: usize,
    mut f: impl FnMut(usize, usize, usize) -> Option<usize>,
) -> Option<usize> {
    let mut j = ws(b, i);
    if b.get(j) != Some(&b'{') {
        return None;
    }
    j = ws(b, j + 1);
    if b.get(j) == Some(&b'}') {
        return Some(j + 1);
    }
    loop {
        let key_start = j;
        let key_end = skip_string(b, key_start)?;
        j = ws(b, key_end);
        if b.get(j) != Some(&b':') {
            return None;
        }
        let value_start = ws(b, j + 1);
        let value_end = f(key_start, key_end, value_start)?;
        j = ws(b, value_end);
        match *b.get(j)? {
            b',' => j = ws(b, j + 1),
            b'}' => return Some(j + 1),
            _ => return None,
        }
    }
}

/// Calls `f` for each member of the object starting at `i`; returns the index
/// just after the object, or `None` when `i` is not at a well-formed object.
pub(crate) fn for_each_member(
    b: &[u8],
    i: usize,
    mut f: impl FnMut(Member) -> Option<()>,
) -> Option<usize> {
    walk_members(b, i, |key_start, key_end, start| {
        let (value_start, value_end) = value_span(b, start)?;
        f(Member {
            key_start,
            key_end,
            value_start,
            value_end,
        })?;
        Some(value_end)
    })
}

/// The raw text of the value at `path` (object members only), if present.
pub(crate) fn get_path<'a>(b: &'a [u8], path: &[&str]) -> Option<&'a [u8]> {
    let (mut start, mut end) = value_span(b, 0)?;
    for segment in path {
        let mut found = None;
        for_each_member(b.get(..end)?, start, |m| {
            if found.is_none() && m.key(b) == segment.as_bytes() {
                found = Some((m.value_start, m.value_end));
            }
            Some(())
        })?;
        (start, end) = found?;
    }
    b.get(start..end)
}

/// A bit mask selecting the first `n` of at most 32 paths.
fn mask(n: usize) -> Option<u32> {
    match n {
        0..32 => Some((1u32 << n) - 1),
        32 => Some(u32::MAX),
        _ => None,
    }
}

/// Finds several member paths in one walk: `out[n]` receives the raw value
/// at `paths[n]`, or `None` when absent. `None` when `b` is malformed.
pub(crate) fn find_paths<'a>(
    b: &'a [u8],
    paths: &[&[&str]],
    out: &mut [Option<&'a [u8]>],
) -> Option<()> {
    out.iter_mut().for_each(|o| *o = None);
    if out.len() < paths.len() {
        return None;
    }
    find_in(b, ws(b, 0), paths, mask(paths.len())?, 0, out)?;
    Some(())
}

fn find_in<'a>(
    b: &'a [u8],
    i: usize,
    paths: &[&[&str]],
    active: u32,
    depth: usize,
    out: &mut [Option<&'a [u8]>],
) -> Option<usize> {
    walk_members(b, i, |key_start, key_end, value_start| {
        let key = key_text(b, key_start, key_end);
        let mut deeper = 0u32;
        let mut here: u32 = 0;
        for (n, path) in paths.iter().enumerate() {
            if active & (1 << n) != 0 && path.get(depth).is_some_and(|s| s.as_bytes() == key) {
                if path.len() == depth + 1 {
                    here |= 1 << n;
                } else {
                    deeper |= 1 << n;
                }
            }
        }
        let value_end = if deeper != 0 && b.get(value_start) == Some(&b'{') {
            find_in(b, value_start, paths, deeper, depth + 1, out)?
        } else {
            value_span(b, value_start)?.1
        };
        for n in 0..paths.len() {
            if here & (1 << n) != 0 {
                *out.get_mut(n)? = b.get(value_start..value_end);
            }
        }
        Some(value_end)
    })
}

/// Writes the object `b` into `out` without the members at `paths` (each a
/// list of object keys from the top). `None` when `b` is not an object or a
/// path is too deep to track; `out` is cleared first.
///
/// Both sides of a comparison are written the same way, so equal outputs mean
/// equal content apart from those members.
pub(crate) fn strip_into(b: &[u8], paths: &[&[&str]], out: &mut Vec<u8>) -> Option<()> {
    out.clear();
    strip_object(b, ws(b, 0), paths, mask(paths.len())?, 0, out)?;
    Some(())
}

fn strip_object(
    b: &[u8],
    i: usize,
    paths: &[&[&str]],
    active: u32,
    depth: usize,
    out: &mut Vec<u8>,
) -> Option<usize> {
    out.push(b'{');
    let mut first = true;
    let end = walk_members(b, i, |key_start, key_end, value_start| {
        let key = key_text(b, key_start, key_end);
        let mut deeper = 0u32;
        for (n, path) in paths.iter().enumerate() {
            if active & (1 << n) == 0 {
                continue;
            }
            if path.get(depth).is_some_and(|s| s.as_bytes() == key) {
                if path.len() == depth + 1 {
                    // This member is stripped entirely.
                    return Some(value_span(b, value_start)?.1);
                }
                deeper |= 1 << n;
            }
        }
        if !first {
            out.push(b',');
        }
        first = false;
        out.extend_from_slice(b.get(key_start..key_end)?);
        out.push(b':');
        if deeper != 0 && b.get(value_start) == Some(&b'{') {
            strip_object(b, value_start, paths, deeper, depth + 1, out)
        } else {
            let (_, value_end) = value_span(b, value_start)?;
            out.extend_from_slice(b.get(value_start..value_end)?);
            Some(value_end)
        }
    })?;
    out.push(b'}');
    Some(end)
}

/// Decodes a raw JSON string value (quotes included); `None` for other values.
pub(crate) fn as_string(raw: &[u8]) -> Option<std::borrow::Cow<'_, str>> {
    let inner = raw.strip_prefix(b"\"")?.strip_suffix(b"\"")?;
    if inner.contains(&b'\\') {
        serde_json::from_slice::<String>(raw)
            .ok()
            .map(std::borrow::Cow::Owned)
    } else {
        std::str::from_utf8(inner)
            .ok()
            .map(std::borrow::Cow::Borrowed)
    }
}

/// True when a raw JSON value is the number zero (`0`, `0.0`, `-0`...).
pub(crate) fn is_zero(raw: &[u8]) -> bool {
    raw == b"0"
        || serde_json::from_slice::<serde_json::Value>(raw)
            .ok()
            .and_then(|v| v.as_f64())
            .is_some_and(|n| n == 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const JOB: &str = r#"{"settings":{"max_concurrent_runs":1,"name":"etl \"x\"","schedule":{"pause_status":"UNPAUSED","quartz_cron_expression":"0 0 2 * * ?"},"tasks":[{"task_key":"a}"}]}}"#;

    #[test]
    fn get_path_finds_nested_members_and_skips_strings_with_braces() {
        let b = JOB.as_bytes();
        assert_eq!(
            get_path(b, &["settings", "max_concurrent_runs"]),
            Some(&b"1"[..])
        );
        assert_eq!(
            get_path(b, &["settings", "schedule", "pause_status"]),
            Some(&br#""UNPAUSED""#[..])
        );
        assert_eq!(
            get_path(b, &["settings", "tasks"]),
            Some(&br#"[{"task_key":"a}"}]"#[..])
        );
        assert_eq!(get_path(b, &["settings", "trigger"]), None);
        assert_eq!(get_path(b, &["settings", "name", "x"]), None);
        assert_eq!(
            as_string(get_path(b, &["settings", "name"]).unwrap()).as_deref(),
            Some("etl \"x\"")
        );
    }

    #[test]
    fn find_paths_resolves_several_paths_in_one_walk() {
        let mut out = [None; 4];
        find_paths(
            JOB.as_bytes(),
            &[
                &["settings", "max_concurrent_runs"],
                &["settings", "schedule"],
                &["settings", "schedule", "pause_status"],
                &["settings", "trigger", "pause_status"],
            ],
            &mut out,
        )
        .unwrap();
        assert_eq!(out[0], Some(&b"1"[..]));
        assert!(out[1].unwrap().starts_with(b"{\"pause_status\""));
        assert_eq!(out[2], Some(&br#""UNPAUSED""#[..]));
        assert_eq!(out[3], None);
    }

    #[test]
    fn strip_removes_members_at_paths_only() {
        let mut out = Vec::new();
        strip_into(
            JOB.as_bytes(),
            &[
                &["settings", "max_concurrent_runs"],
                &["settings", "schedule", "pause_status"],
                &["settings", "continuous", "pause_status"],
            ],
            &mut out,
        )
        .unwrap();
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            r#"{"settings":{"name":"etl \"x\"","schedule":{"quartz_cron_expression":"0 0 2 * * ?"},"tasks":[{"task_key":"a}"}]}}"#
        );
        strip_into(br#"{"state":"RUNNING"}"#, &[&["state"]], &mut out).unwrap();
        assert_eq!(out, b"{}");
    }

    #[test]
    fn malformed_input_gives_none_not_a_panic() {
        let mut out = Vec::new();
        for bad in [
            &b""[..],
            b"{",
            b"{\"a\"",
            b"{\"a\":",
            b"{\"a\":1,",
            b"]",
            b"{\"a\":[}",
            b"\"",
            b"[1,2",
        ] {
            assert_eq!(get_path(bad, &["a"]), None, "{bad:?}");
            assert!(strip_into(bad, &[&["a"]], &mut out).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn strings_with_escapes_end_at_the_right_quote() {
        let text = br#""a long string without specials, then \" and \\" tail"#;
        assert_eq!(skip_string(text, 0), Some(text.len() - 5));
        for n in 0..20 {
            let s = format!("\"{}\\\"{}\"x", "a".repeat(n), "b".repeat(n));
            assert_eq!(skip_string(s.as_bytes(), 0), Some(s.len() - 1), "{s}");
        }
        assert_eq!(skip_string(b"\"unterminated \\\"", 0), None);
    }

    #[test]
    fn zero_detection() {
        assert!(is_zero(b"0"));
        assert!(is_zero(b"0.0"));
        assert!(!is_zero(b"1"));
        assert!(!is_zero(b"\"0\""));
    }
}
