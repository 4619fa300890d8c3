//! A strict JSON validator for the canonical fast path of
//! [`parse_snapshot`](super::parse_snapshot): it answers only "is there one
//! valid JSON value here, and where does it end", with no error message,
//! because every `None` sends the file to serde_json, which states the error
//! (file, line, column) exactly as it always has.
//!
//! The one rule it must keep: never accept what serde_json rejects. Where
//! the two could differ (nesting depth, `\u` escapes of surrogates), it is
//! the stricter, since rejecting only costs the slow path. A property test
//! holds it to that against serde_json on random input.
//!
//! It works on bytes that are already valid UTF-8 (the caller checked the
//! whole file once), so bytes above 0x7F inside strings need no look.

/// Deepest nesting accepted; serde_json allows 128 levels in all and a
/// record's content sits 4 levels down, so anything deeper goes to serde_json.
const MAX_DEPTH: u32 = 100;

/// The end (exclusive) of the one JSON value starting exactly at `at` (no
/// whitespace before it), or `None` when no valid value starts there.
pub(super) fn value_end(s: &[u8], mut i: usize) -> Option<usize> {
    // One bit per open container, innermost lowest: 1 for an object.
    let mut stack: u128 = 0;
    let mut depth: u32 = 0;
    if let Some(b' ' | b'\n' | b'\r' | b'\t') = s.get(i) {
        return None;
    }
    'value: loop {
        i = skip_ws(s, i);
        match *s.get(i)? {
            b'"' => i = string_end(s, i + 1)?,
            b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return None;
                }
                stack = (stack << 1) | 1;
                i = skip_ws(s, i + 1);
                if s.get(i) == Some(&b'}') {
                    i += 1;
                    depth -= 1;
                    stack >>= 1;
                } else {
                    i = member_key(s, i)?;
                    continue 'value;
                }
            }
            b'[' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return None;
                }
                stack <<= 1;
                i = skip_ws(s, i + 1);
                if s.get(i) == Some(&b']') {
                    i += 1;
                    depth -= 1;
                    stack >>= 1;
                } else {
                    continue 'value;
                }
            }
            b't' => i = literal(s, i, b"true")?,
            b'f' => i = literal(s, i, b"false")?,
            b'n' => i = literal(s, i, b"null")?,
            b'-' | b'0'..=b'9' => i = number_end(s, i)?,
            _ => return None,
        }
        // After a value: a separator, or the end of containers.
        loop {
            if depth == 0 {
                return Some(i);
            }
            i = skip_ws(s, i);
            let in_object = stack & 1 == 1;
            match (*s.get(i)?, in_object) {
                (b',', true) => {
                    i = member_key(s, skip_ws(s, i + 1))?;
                    continue 'value;
                }
                (b',', false) => {
                    i += 1;
                    continue 'value;
                }
                (b'}', true) | (b']', false) => {
                    i += 1;
                    depth -= 1;
                    stack >>= 1;
                }
                _ => return None,
            }
        }
    }
}

/// A member's key and colon, starting at the key's opening quote; returns
/// where its value may start (whitespace allowed before it).
fn member_key(s: &[u8], i: usize) -> Option<usize> {
    if s.get(i) != Some(&b'"') {
        return None;
    }
    let i = skip_ws(s, string_end(s, i + 1)?);
    (s.get(i) == Some(&b':')).then_some(i + 1)
}

fn skip_ws(s: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\n' | b'\r' | b'\t') = s.get(i) {
        i += 1;
    }
    i
}

fn literal(s: &[u8], i: usize, word: &[u8]) -> Option<usize> {
    let end = i + word.len();
    (s.get(i..end) == Some(word)).then_some(end)
}

/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
pub(super) fn number_end(s: &[u8], mut i: usize) -> Option<usize> {
    if s.get(i) == Some(&b'-') {
        i += 1;
    }
    match s.get(i)? {
        b'0' => i += 1,
        b'1'..=b'9' => i = digits_end(s, i + 1),
        _ => return None,
    }
    if s.get(i) == Some(&b'.') {
        i = at_least_one_digit(s, i + 1)?;
    }
    if let Some(b'e' | b'E') = s.get(i) {
        i += 1;
        if let Some(b'+' | b'-') = s.get(i) {
            i += 1;
        }
        i = at_least_one_digit(s, i)?;
    }
    Some(i)
}

fn digits_end(s: &[u8], mut i: usize) -> usize {
    while s.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    i
}

fn at_least_one_digit(s: &[u8], i: usize) -> Option<usize> {
    let end = digits_end(s, i);
    (end > i).then_some(end)
}

/// The end (just past the closing quote) of a string whose opening quote
/// is just before `i`.
pub(super) fn string_end(s: &[u8], i: usize) -> Option<usize> {
    scan_string(s, i, true)
}

/// Like [`string_end`], but `None` at the first escape as well: for
/// strings read without unescaping.
pub(super) fn plain_string_end(s: &[u8], i: usize) -> Option<usize> {
    scan_string(s, i, false)
}

fn scan_string(s: &[u8], mut i: usize, escapes: bool) -> Option<usize> {
    loop {
        // Eight bytes at a time: most strings are plain text, and the
        // mask's lowest flagged byte is exactly the first one to look at.
        if let Some(Ok(word)) = s.get(i..i + 8).map(<[u8; 8]>::try_from) {
            let mask = special_bytes(u64::from_le_bytes(word));
            if mask == 0 {
                i += 8;
                continue;
            }
            i += (mask.trailing_zeros() / 8) as usize;
        }
        match *s.get(i)? {
            b'"' => return Some(i + 1),
            b'\\' if escapes => i = escape_end(s, i + 1)?,
            0..=0x1F | b'\\' => return None,
            _ => i += 1,
        }
    }
}

/// The high bit of each byte of `w` (read little-endian) that may be a
/// quote, a backslash or a control character. The lowest flagged byte
/// always is one; bytes above it may be flagged falsely (a borrow carries
/// into them), which only costs a byte-by-byte look.
fn special_bytes(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let quote = has_zero(w ^ (ONES * u64::from(b'"')));
    let backslash = has_zero(w ^ (ONES * u64::from(b'\\')));
    let control = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
    quote | backslash | control
}

/// Past one escape, `i` just after its backslash.
fn escape_end(s: &[u8], i: usize) -> Option<usize> {
    match s.get(i)? {
        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Some(i + 1),
        b'u' => {
            let hex = s.get(i + 1..i + 5)?;
            let text = std::str::from_utf8(hex).ok()?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            let unit = u16::from_str_radix(text, 16).ok()?;
            // Surrogates: serde_json's rules for pairing them are its own;
            // let it decide.
            (!(0xD800..=0xDFFF).contains(&unit)).then_some(i + 5)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde::de::IgnoredAny;

    use super::*;

    fn whole(text: &str) -> bool {
        value_end(text.as_bytes(), 0) == Some(text.len())
    }

    fn serde_ok(text: &str) -> bool {
        serde_json::from_str::<IgnoredAny>(text).is_ok()
    }

    #[test]
    fn accepts_json_and_finds_its_end() {
        for text in [
            r#"{"a":[1,-2.5e+3,true,false,null,"x\"\\\/\b\f\n\r\t\u00e9"],"b":{}}"#,
            "[]",
            "0",
            "-0.0E5",
            "\"héllo wörld, a longer string than eight\"",
            "{ \"a\" : [ 1 , 2 ] , \"b\" : { } }",
        ] {
            assert!(whole(text), "{text}");
            assert!(serde_ok(text), "{text}");
        }
        assert_eq!(value_end(b"{\"a\":1},\"next\"", 0), Some(7));
        assert_eq!(value_end(b"[1] x", 0), Some(3));
    }

    #[test]
    fn rejects_what_serde_rejects() {
        for text in [
            "",
            "{",
            "{\"a\"}",
            "{\"a\":}",
            "{\"a\":1,}",
            "[1,]",
            "[1 2]",
            "01",
            "1.",
            "1e",
            "-",
            "tru",
            "nul",
            "\"a",
            "\"a\u{1}b\"",
            "\"bad \\x escape\"",
            "\"\\u12G4\"",
            "{1:2}",
            "[}",
            "{]",
            " 1",
        ] {
            assert!(!whole(text), "{text:?}");
        }
    }

    #[test]
    fn deep_nesting_and_surrogates_are_left_to_serde() {
        let deep = format!("{}{}", "[".repeat(101), "]".repeat(101));
        assert!(!whole(&deep));
        let ok = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert!(whole(&ok));
        assert!(!whole(r#""\ud83d\ude00""#));
    }

    /// JSON-ish text: valid documents, mutated, so most cases sit near the
    /// edge between valid and invalid.
    fn jsonish() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just("null".to_owned()),
            any::<bool>().prop_map(|b| b.to_string()),
            any::<i64>().prop_map(|n| n.to_string()),
            any::<f64>().prop_map(|f| serde_json::to_string(&f).unwrap()),
            "[a-z\"\\\\/\\x00-\\x1fé😀 ]{0,12}".prop_map(|s| serde_json::to_string(&s).unwrap()),
        ];
        let value = leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4)
                    .prop_map(|v| format!("[{}]", v.join(","))),
                prop::collection::vec(("[a-z]{0,3}", inner), 0..4).prop_map(|v| {
                    let members: Vec<String> = v
                        .into_iter()
                        .map(|(k, v)| format!("{}:{v}", serde_json::to_string(&k).unwrap()))
                        .collect();
                    format!("{{{}}}", members.join(", "))
                }),
            ]
        });
        (
            value,
            prop::collection::vec((any::<prop::sample::Index>(), 0u8..128), 0..3),
        )
            .prop_map(|(text, edits)| {
                let mut bytes = text.into_bytes();
                for (at, byte) in edits {
                    if bytes.is_empty() {
                        break;
                    }
                    let at = at.index(bytes.len());
                    match byte % 3 {
                        0 => {
                            bytes.remove(at);
                        }
                        1 => bytes.insert(at, byte),
                        _ => bytes[at] = byte,
                    }
                }
                String::from_utf8_lossy(&bytes).into_owned()
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        #[test]
        fn never_accepts_what_serde_rejects(text in jsonish()) {
            if whole(&text) {
                prop_assert!(serde_ok(&text), "accepted {text:?}");
            }
        }

        #[test]
        fn accepts_what_serde_writes(text in jsonish()) {
            // serde_json's own output of a value it read: always accepted.
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
                let canonical = serde_json::to_string(&v).unwrap();
                prop_assert!(whole(&canonical), "rejected {canonical:?}");
            }
        }
    }
}
