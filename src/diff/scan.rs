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
        b'{' | b'[' => Some((start, container_end(b, start)?)),
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

/// Marks (with its high bit) each byte of `w` that is `c`; exact, unlike
/// [`has_byte`]'s borrow trick, so the lowest mark is the first such byte.
fn bytes_equal(w: u64, c: u8) -> u64 {
    const LOWS: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let x = w ^ (0x0101_0101_0101_0101 * u64::from(c));
    !(((x & LOWS) + LOWS) | x) & !LOWS
}

/// Marks the bytes of `w` that matter when skipping a container: quotes,
/// backslashes, brackets and braces (`[`/`{` and `]`/`}` differ only in
/// bit 5).
fn structural(w: u64) -> u64 {
    let folded = w & 0xdfdf_dfdf_dfdf_dfdf;
    bytes_equal(w, b'"')
        | bytes_equal(w, b'\\')
        | bytes_equal(folded, b'[')
        | bytes_equal(folded, b']')
}

/// What one byte does to a container skip.
enum Step {
    /// Nothing to note.
    On,
    /// A backslash in a string: the next byte is part of the escape.
    Escape,
    /// The container ends just after this byte.
    End,
    /// More closes than opens (cannot happen from the start of a container).
    Bad,
}

/// The state of a container skip: nesting depth and whether inside a string.
struct Nesting {
    depth: usize,
    in_string: bool,
}

impl Nesting {
    fn step(&mut self, c: u8) -> Step {
        if self.in_string {
            match c {
                b'"' => self.in_string = false,
                b'\\' => return Step::Escape,
                _ => {}
            }
            return Step::On;
        }
        match c {
            b'"' => self.in_string = true,
            b'{' | b'[' => self.depth += 1,
            b'}' | b']' => match self.depth.checked_sub(1) {
                None => return Step::Bad,
                Some(0) => return Step::End,
                Some(d) => self.depth = d,
            },
            _ => {}
        }
        Step::On
    }
}

/// With `start` at `{` or `[`, the index just after the matching close.
///
/// Reads 8 bytes at a time and visits only the bytes that matter (in or out
/// of strings), since skipping nested values is most of the work of reading
/// a record's content in place.
fn container_end(b: &[u8], start: usize) -> Option<usize> {
    let mut state = Nesting {
        depth: 0,
        in_string: false,
    };
    let mut j = start;
    // Bytes before this one are escaped (the byte after a backslash).
    let mut escaped_to = start;
    while let Some(Ok(bytes)) = b.get(j..j + 8).map(<[u8; 8]>::try_from) {
        let mut marks = structural(u64::from_le_bytes(bytes));
        while marks != 0 {
            let at = j + (marks.trailing_zeros() / 8) as usize;
            marks &= marks - 1;
            if at < escaped_to {
                continue;
            }
            match state.step(*b.get(at)?) {
                Step::On => {}
                Step::Escape => escaped_to = at + 2,
                Step::End => return Some(at + 1),
                Step::Bad => return None,
            }
        }
        j = (j + 8).max(escaped_to);
    }
    // Fewer than 8 bytes left: one at a time.
    j = j.max(escaped_to);
    loop {
        match state.step(*b.get(j)?) {
            Step::On => j += 1,
            Step::Escape => j += 2,
            Step::End => return Some(j + 1),
            Step::Bad => return None,
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

/// The members of one object, read one at a time (for walking two objects
/// side by side, which [`walk_members`]'s callback cannot do).
struct Members<'b> {
    b: &'b [u8],
    /// Where the next member starts, or (after the first) where the last
    /// value ended.
    j: usize,
    first: bool,
}

impl<'b> Members<'b> {
    /// The members of the object at (or after whitespace) `i`.
    fn new(b: &'b [u8], i: usize) -> Option<Self> {
        let j = ws(b, i);
        if b.get(j) != Some(&b'{') {
            return None;
        }
        Some(Members {
            b,
            j: ws(b, j + 1),
            first: true,
        })
    }

    /// The next member's key span and value start; `Some(None)` after the
    /// last one (then `self.j` is just after the object), `None` when the
    /// object is malformed. The caller sets `self.j` to the value's end.
    fn next(&mut self) -> Option<Option<(usize, usize, usize)>> {
        let b = self.b;
        if self.first {
            self.first = false;
            if b.get(self.j) == Some(&b'}') {
                self.j += 1;
                return Some(None);
            }
        } else {
            let j = ws(b, self.j);
            match *b.get(j)? {
                b',' => self.j = ws(b, j + 1),
                b'}' => {
                    self.j = j + 1;
                    return Some(None);
                }
                _ => return None,
            }
        }
        let key_start = self.j;
        let key_end = skip_string(b, key_start)?;
        let j = ws(b, key_end);
        if b.get(j) != Some(&b':') {
            return None;
        }
        Some(Some((key_start, key_end, ws(b, j + 1))))
    }
}

/// Which of the `active` paths a key at `depth` ends (`full`) or leads
/// into (`deeper`).
fn classify(paths: &[&[&str]], active: u32, depth: usize, key: &[u8]) -> (u32, u32) {
    let (mut full, mut deeper) = (0u32, 0u32);
    for (n, path) in paths.iter().enumerate() {
        if active & (1 << n) != 0 && path.get(depth).is_some_and(|s| s.as_bytes() == key) {
            if path.len() == depth + 1 {
                full |= 1 << n;
            } else {
                deeper |= 1 << n;
            }
        }
    }
    (full, deeper)
}

/// Stores `b[start..end]` in each `out[n]` whose bit is set in `mask`.
fn record<'a>(b: &'a [u8], mask: u32, start: usize, end: usize, out: &mut [Option<&'a [u8]>]) {
    for (n, o) in out.iter_mut().enumerate().take(32) {
        if mask & (1 << n) != 0 {
            *o = b.get(start..end);
        }
    }
}

/// True when the objects `p` and `s` are equal apart from the members at
/// the paths whose bit is set in `strip`, with the same meaning as comparing
/// their [`strip_into`] outputs; in the same walk, `out[n]` receives the raw
/// value at `paths[n]` in `s`, as [`find_paths`] would give it.
///
/// One walk over each side instead of three (two strips and a probe), and
/// only `p`'s side is walked byte by byte: a member of `s` that is not
/// stripped must hold exactly the bytes of `p`'s, so it is compared with
/// `memcmp` and skipped by length. `out` is only meaningful when the result
/// is true; false also covers malformed input (callers then take the slow
/// path, which reads it properly).
pub(crate) fn eq_stripped<'a>(
    p: &[u8],
    s: &'a [u8],
    paths: &[&[&str]],
    strip: u32,
    out: &mut [Option<&'a [u8]>],
) -> bool {
    out.iter_mut().for_each(|o| *o = None);
    if out.len() < paths.len() {
        return false;
    }
    let Some(active) = mask(paths.len()) else {
        return false;
    };
    eq_object(p, 0, s, 0, paths, strip, active, 0, out).is_some()
}

/// One level of [`eq_stripped`]: the ends of both objects when equal.
#[allow(clippy::too_many_arguments)] // One recursive walk; a struct would only rename them.
fn eq_object<'a>(
    p: &[u8],
    pi: usize,
    s: &'a [u8],
    si: usize,
    paths: &[&[&str]],
    strip: u32,
    active: u32,
    depth: usize,
    out: &mut [Option<&'a [u8]>],
) -> Option<(usize, usize)> {
    let mut pm = Members::new(p, pi)?;
    let mut sm = Members::new(s, si)?;
    loop {
        // The next member of `p` that is kept.
        let pnext = loop {
            let Some((ks, ke, vs)) = pm.next()? else {
                break None;
            };
            let (full, deeper) = classify(paths, active, depth, key_text(p, ks, ke));
            if full & strip != 0 {
                pm.j = value_span(p, vs)?.1;
                continue;
            }
            break Some((ks, ke, vs, deeper));
        };
        // The next member of `s` that is kept, noting the probed values of
        // those that are not.
        let snext = loop {
            let Some((ks, ke, vs)) = sm.next()? else {
                break None;
            };
            let (full, deeper) = classify(paths, active, depth, key_text(s, ks, ke));
            if full & strip != 0 {
                let end = if deeper != 0 && s.get(vs) == Some(&b'{') {
                    find_in(s, vs, paths, deeper, depth + 1, out)?
                } else {
                    value_span(s, vs)?.1
                };
                record(s, full, vs, end, out);
                sm.j = end;
                continue;
            }
            break Some((ks, ke, vs, full));
        };
        let (Some((pks, pke, pvs, deeper)), Some((sks, ske, svs, full))) = (pnext, snext) else {
            // Equal only when both objects ended here.
            return (pnext.is_none() && snext.is_none()).then_some((pm.j, sm.j));
        };
        if p.get(pks..pke)? != s.get(sks..ske)? {
            return None;
        }
        let (pe, se) = if deeper != 0 && p.get(pvs) == Some(&b'{') && s.get(svs) == Some(&b'{') {
            eq_object(p, pvs, s, svs, paths, strip, deeper, depth + 1, out)?
        } else {
            let pe = value_span(p, pvs)?.1;
            let value = p.get(pvs..pe)?;
            let se = svs + value.len();
            // A longer number in `s` (`1` against `12`) fails at the
            // separator check of `sm.next()`.
            if s.get(svs..se)? != value {
                return None;
            }
            (pe, se)
        };
        record(s, full, svs, se, out);
        pm.j = pe;
        sm.j = se;
    }
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

    /// The byte-at-a-time container skip that `container_end` replaced.
    fn container_end_reference(b: &[u8], start: usize) -> Option<usize> {
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
                        return Some(j + 1);
                    }
                }
                _ => {}
            }
            j += 1;
        }
    }

    /// Deterministic pseudo-random bytes drawn from `alphabet`.
    fn random_text(seed: &mut u64, alphabet: &[u8], len: usize) -> Vec<u8> {
        (0..len)
            .map(|_| {
                *seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                alphabet[(*seed >> 33) as usize % alphabet.len()]
            })
            .collect()
    }

    #[test]
    fn container_skip_agrees_with_the_byte_at_a_time_skip() {
        let alphabet = b"{}[]\"\\abc{|} ,:";
        let mut seed = 7;
        for n in 0..20_000 {
            let mut text = vec![if n % 2 == 0 { b'{' } else { b'[' }];
            text.extend(random_text(&mut seed, alphabet, n % 70));
            assert_eq!(
                container_end(&text, 0),
                container_end_reference(&text, 0),
                "{:?}",
                String::from_utf8_lossy(&text)
            );
        }
        let job = JOB.as_bytes();
        assert_eq!(container_end(job, 0), Some(job.len()));
    }

    #[test]
    fn eq_stripped_agrees_with_comparing_stripped_copies() {
        let paths: [&[&str]; 4] = [
            &["settings", "max_concurrent_runs"],
            &["settings", "schedule", "pause_status"],
            &["settings", "max_concurrent_runs"],
            &["settings", "schedule"],
        ];
        let strip = 0b11;
        let variants = [
            JOB.to_owned(),
            JOB.replace(r#""max_concurrent_runs":1,"#, r#""max_concurrent_runs":0,"#),
            JOB.replace(r#""max_concurrent_runs":1,"#, ""),
            JOB.replace(
                r#""pause_status":"UNPAUSED","#,
                r#""pause_status":"PAUSED","#,
            ),
            JOB.replace(r#""pause_status":"UNPAUSED","#, ""),
            JOB.replace(
                r#""pause_status":"UNPAUSED","#,
                r#""pause_status" : "PAUSED" , "#,
            ),
            JOB.replace(r#""etl \"x\"""#, r#""etl""#),
            JOB.replace(r#""max_concurrent_runs":1"#, r#""max_concurrent_runs":12"#),
            JOB.replace("a}", "a]"),
            JOB.replace(r#","tasks""#, r#" , "tasks""#),
            r#"{"settings":{"schedule":{}}}"#.to_owned(),
            r#"{"settings":{"schedule":{"pause_status":"PAUSED"}}}"#.to_owned(),
            r#"{"settings":{"schedule":null}}"#.to_owned(),
            r#"{"settings":1}"#.to_owned(),
            r#"{"settings":12}"#.to_owned(),
            r#"{}"#.to_owned(),
            r#"[]"#.to_owned(),
            r#"{"settings":{"#.to_owned(),
        ];
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for p in &variants {
            for s in &variants {
                let mut out = [None; 4];
                let equal = eq_stripped(p.as_bytes(), s.as_bytes(), &paths, strip, &mut out);
                let expected = strip_into(p.as_bytes(), &paths[..2], &mut a).is_some()
                    && strip_into(s.as_bytes(), &paths[..2], &mut b).is_some()
                    && a == b;
                assert_eq!(equal, expected, "{p} / {s}");
                if equal {
                    let mut probed = [None; 4];
                    find_paths(s.as_bytes(), &paths, &mut probed).unwrap();
                    assert_eq!(out, probed, "{p} / {s}");
                }
            }
        }
    }

    #[test]
    fn zero_detection() {
        assert!(is_zero(b"0"));
        assert!(is_zero(b"0.0"));
        assert!(!is_zero(b"1"));
        assert!(!is_zero(b"\"0\""));
    }
}
