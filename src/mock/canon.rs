//! Canonical JSON text: compact, every object's keys in sorted order, and
//! strings and numbers written exactly as `serde_json` writes them. Text in
//! this form is byte for byte what parsing it into a `serde_json::Value`
//! (whose maps sort their keys) and printing it again gives, so a loader can
//! keep such text, or drop members from it, without building the `Value`.
//!
//! The generator writes fixtures this way, and a dump does for every kind
//! kept as a `Value`; text in any other form (a recorded reply, a
//! hand-written fixture) is simply not canonical, and its loader takes the
//! general path through a `Value`, so the result is the same either way.

/// One member of a canonical object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Member<'a> {
    /// The key (canonical keys have no escapes, so this is the key itself).
    pub(crate) key: &'a str,
    /// The value's JSON text.
    pub(crate) value: &'a str,
    /// Elements of an array value, members of an object value, else 0.
    pub(crate) items: usize,
}

/// Nesting deeper than this is left to `serde_json` (whose own limit is 128).
const MAX_DEPTH: u32 = 100;

/// The members of `raw` if it is a canonical JSON object, and the members of
/// its member `nested` too when that is an object (else none).
pub(crate) fn canonical_object<'a>(
    raw: &'a str,
    nested: &str,
) -> Option<(Vec<Member<'a>>, Vec<Member<'a>>)> {
    let mut s = Scanner {
        text: raw,
        bytes: raw.as_bytes(),
        pos: 0,
    };
    let mut top = Vec::with_capacity(8);
    let mut inner = Vec::new();
    s.object(0, Some(&mut top), Some((nested, &mut inner)))?;
    (s.pos == raw.len()).then_some((top, inner))
}

/// True when `raw` is canonical JSON text (any value).
#[cfg(test)]
pub(crate) fn is_canonical(raw: &str) -> bool {
    let mut s = Scanner {
        text: raw,
        bytes: raw.as_bytes(),
        pos: 0,
    };
    s.value(0).is_some() && s.pos == raw.len()
}

/// Appends `{"key":value,…}` of the members `keep` accepts: canonical again
/// when the members came from a canonical object (their order is kept).
pub(crate) fn join_members<'a>(
    out: &mut String,
    members: &[Member<'a>],
    value_of: impl FnMut(&Member<'a>) -> Option<std::borrow::Cow<'a, str>>,
) {
    out.push('{');
    push_members(out, members, value_of);
    out.push('}');
}

/// Appends `"key":value,…` of the members `keep` accepts, without braces.
pub(crate) fn push_members<'a>(
    out: &mut String,
    members: &[Member<'a>],
    mut value_of: impl FnMut(&Member<'a>) -> Option<std::borrow::Cow<'a, str>>,
) {
    let mut first = true;
    for m in members {
        let Some(value) = value_of(m) else { continue };
        if !first {
            out.push(',');
        }
        first = false;
        out.push('"');
        out.push_str(m.key);
        out.push_str("\":");
        out.push_str(&value);
    }
}

/// The position of the first byte from `from` on that ends a run of plain
/// string text (`"`, `\\` or a control character), or the end. Eight bytes
/// at a time: strings are most of a fixture's text, and checking them a
/// byte at a time was the largest single cost of loading canonical items.
pub(crate) fn plain_until(bytes: &[u8], from: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // High bit set in each byte of `x` that is zero; exact for the lowest
    // such byte, which is the only one used.
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let mut pos = from;
    while let Some(chunk) = bytes.get(pos..pos + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        let special = zero(x ^ (ONES * u64::from(b'"')))
            | zero(x ^ (ONES * u64::from(b'\\')))
            | (x.wrapping_sub(ONES * 0x20) & !x & HIGHS);
        if special != 0 {
            return pos + (special.trailing_zeros() / 8) as usize;
        }
        pos += 8;
    }
    while bytes
        .get(pos)
        .is_some_and(|&b| b != b'"' && b != b'\\' && b >= 0x20)
    {
        pos += 1;
    }
    pos
}

struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

/// A member sink and the key whose object value is also split.
type Nested<'x, 'a> = Option<(&'x str, &'x mut Vec<Member<'a>>)>;

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// One value; returns its item count (arrays and objects) or 0.
    fn value(&mut self, depth: u32) -> Option<usize> {
        match self.peek()? {
            b'{' => self.object(depth, None, None),
            b'[' => self.array(depth),
            b'"' => self.string(true).map(|_| 0),
            b't' => self.literal("true"),
            b'f' => self.literal("false"),
            b'n' => self.literal("null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn literal(&mut self, word: &str) -> Option<usize> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Some(0)
        } else {
            None
        }
    }

    /// An integer as serde_json prints one it parsed (floats, exponents,
    /// `-0`, leading zeros and values that might not fit 64 bits are not
    /// canonical: they may print differently).
    fn number(&mut self) -> Option<usize> {
        let negative = self.peek() == Some(b'-');
        if negative {
            self.pos += 1;
        }
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        let digits = &self.bytes[start..self.pos];
        let fits = if negative {
            digits.len() <= 18
        } else {
            digits.len() <= 19
        };
        let plain =
            !digits.is_empty() && fits && (digits[0] != b'0' || (digits.len() == 1 && !negative));
        let ends = !matches!(self.peek(), Some(b'.' | b'e' | b'E'));
        (plain && ends).then_some(0)
    }

    /// A string with only the escapes serde_json writes (`escapes` false:
    /// none at all); returns its text between the quotes.
    fn string(&mut self, escapes: bool) -> Option<&'a str> {
        self.pos += 1;
        let start = self.pos;
        loop {
            self.pos = plain_until(self.bytes, self.pos);
            let b = self.peek()?;
            match b {
                b'"' => {
                    let text = self.text.get(start..self.pos)?;
                    self.pos += 1;
                    return Some(text);
                }
                b'\\' if escapes => {
                    match *self.bytes.get(self.pos + 1)? {
                        b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't' => self.pos += 2,
                        b'u' => {
                            // `\u00xx`, lower-case hex, for control characters
                            // without a short escape only.
                            let hex = self.bytes.get(self.pos + 2..self.pos + 6)?;
                            let digit = |h: u8| match h {
                                b'0'..=b'9' => Some(h - b'0'),
                                b'a'..=b'f' => Some(h - b'a' + 10),
                                _ => None,
                            };
                            if hex[0] != b'0' || hex[1] != b'0' {
                                return None;
                            }
                            let code = digit(hex[2])? * 16 + digit(hex[3])?;
                            if code >= 0x20 || matches!(code, 0x08 | 0x09 | 0x0a | 0x0c | 0x0d) {
                                return None;
                            }
                            self.pos += 6;
                        }
                        _ => return None,
                    }
                }
                0..=0x1f | b'\\' => return None,
                _ => self.pos += 1,
            }
        }
    }

    fn array(&mut self, depth: u32) -> Option<usize> {
        if depth >= MAX_DEPTH {
            return None;
        }
        self.pos += 1;
        if self.peek()? == b']' {
            self.pos += 1;
            return Some(0);
        }
        let mut n = 0;
        loop {
            self.value(depth + 1)?;
            n += 1;
            match self.peek()? {
                b',' => self.pos += 1,
                b']' => {
                    self.pos += 1;
                    return Some(n);
                }
                _ => return None,
            }
        }
    }

    /// An object whose keys have no escapes and strictly increase; its
    /// members go to `record` when given, and `nested`'s value's members to
    /// the sink beside it.
    fn object(
        &mut self,
        depth: u32,
        mut record: Option<&mut Vec<Member<'a>>>,
        mut nested: Nested<'_, 'a>,
    ) -> Option<usize> {
        if depth >= MAX_DEPTH || self.peek()? != b'{' {
            return None;
        }
        self.pos += 1;
        if self.peek()? == b'}' {
            self.pos += 1;
            return Some(0);
        }
        let mut previous: Option<&str> = None;
        let mut n = 0;
        loop {
            if self.peek()? != b'"' {
                return None;
            }
            let key = self.string(false)?;
            if previous.is_some_and(|p| p.as_bytes() >= key.as_bytes()) {
                return None;
            }
            previous = Some(key);
            if self.peek()? != b':' {
                return None;
            }
            self.pos += 1;
            let start = self.pos;
            let items = match nested.as_mut() {
                Some((name, sink)) if *name == key && self.peek()? == b'{' => {
                    self.object(depth + 1, Some(sink), None)?
                }
                _ => self.value(depth + 1)?,
            };
            if let Some(out) = record.as_mut() {
                out.push(Member {
                    key,
                    value: self.text.get(start..self.pos)?,
                    items,
                });
            }
            n += 1;
            match self.peek()? {
                b',' => self.pos += 1,
                b'}' => {
                    self.pos += 1;
                    return Some(n);
                }
                _ => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// Text judged canonical prints back as itself once parsed; `expected`
    /// says which texts are judged so (floats, keys with escapes and
    /// integers near the 64-bit limits are left to the general path on
    /// purpose, even where they would print back the same).
    #[test]
    fn canonical_text_is_what_serde_json_prints() {
        for (text, expected) in [
            (r#"{"a":1,"b":[true,false,null],"c":{"d":"e"}}"#, true),
            (r#"{"b":1,"a":2}"#, false),
            (r#"{"a":1,"a":2}"#, false),
            (r#"{"a": 1}"#, false),
            (r#" {"a":1}"#, false),
            (r#"{"a":1} "#, false),
            (r#"{"a":"x\"y\\z\n\t\r\b\f"}"#, true),
            (r#"{"a":"\u0001\u001f"}"#, true),
            (r#"{"a":"\u000a"}"#, false),
            (r#"{"a":"\u0041"}"#, false),
            (r#"{"a":"\u001F"}"#, false),
            (r#"{"a":"\/"}"#, false),
            ("{\"a\":\"é\u{7f}\"}", true),
            (r#"{"a\"b":1}"#, false),
            (r#"{"a":-0}"#, false),
            (r#"{"a":0}"#, true),
            (r#"{"a":-5}"#, true),
            (r#"{"a":007}"#, false),
            (r#"{"a":1.5}"#, false),
            (r#"{"a":1e5}"#, false),
            (r#"{"a":18446744073709551615}"#, false),
            (r#"{"a":18446744073709551616}"#, false),
            (r#"{"a":9999999999999999999}"#, true),
            (r#"{"a":-999999999999999999}"#, true),
            (r#"{"a":[]}"#, true),
            (r#"{"a":{}}"#, true),
            (r#"{}"#, true),
            (r#"[1,2]"#, true),
            (r#"{"a":[1,]}"#, false),
            (r#"{"a":tru}"#, false),
            (r#"{"a":1,}"#, false),
            (r#"{"":1,"a":2}"#, true),
            (r#"{"a":1,"ab":2,"b":3}"#, true),
            (r#"{"B":1,"a":2}"#, true),
            (r#"{"a":2,"B":1}"#, false),
            (r#"{"z":1,"é":2}"#, true),
            (r#"{"é":1,"z":2}"#, false),
        ] {
            assert_eq!(is_canonical(text), expected, "{text}");
            if expected {
                let value: Value = serde_json::from_str(text).unwrap();
                assert_eq!(value.to_string(), text);
            }
        }
    }

    proptest::proptest! {
        /// Eight bytes at a time finds what a byte at a time finds.
        #[test]
        fn plain_text_ends_where_a_byte_scan_says(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40),
            from in 0usize..40,
        ) {
            let from = from.min(bytes.len());
            let slow = bytes[from..]
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                .map_or(bytes.len(), |i| from + i);
            proptest::prop_assert_eq!(plain_until(&bytes, from), slow);
        }
    }

    proptest::proptest! {
        /// Any string as serde_json prints it is canonical; any text between
        /// quotes that is judged canonical prints back as itself.
        #[test]
        fn strings_are_judged_as_serde_json_prints_them(
            text in "\\PC*",
            raw in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::prelude::Just('\\'),
                    proptest::prelude::Just('"'),
                    proptest::prelude::Just('u'),
                    proptest::prelude::Just('0'),
                    proptest::prelude::Just('\u{1}'),
                    proptest::prelude::Just('\n'),
                    proptest::prelude::Just('é'),
                    proptest::char::range('\u{20}', '\u{7e}'),
                ],
                0..24,
            ),
        ) {
            let printed = format!("{{\"a\":{}}}", Value::from(text.as_str()));
            proptest::prop_assert!(is_canonical(&printed), "{}", printed);
            let candidate = format!("{{\"a\":\"{}\"}}", raw.iter().collect::<String>());
            if is_canonical(&candidate) {
                let value: Value = serde_json::from_str(&candidate).unwrap();
                proptest::prop_assert_eq!(value.to_string(), candidate);
            }
        }
    }

    #[test]
    fn members_and_nested_members_are_split() {
        let text = r#"{"a":[1,[2,3]],"s":{"t":[{"k":1},{"k":2}],"u":"v"},"z":{"y":1}}"#;
        let (top, inner) = canonical_object(text, "s").unwrap();
        let keys: Vec<_> = top.iter().map(|m| (m.key, m.items)).collect();
        assert_eq!(keys, [("a", 2), ("s", 2), ("z", 1)]);
        assert_eq!(top[1].value, r#"{"t":[{"k":1},{"k":2}],"u":"v"}"#);
        let inner: Vec<_> = inner.iter().map(|m| (m.key, m.value, m.items)).collect();
        assert_eq!(
            inner,
            [("t", r#"[{"k":1},{"k":2}]"#, 2), ("u", r#""v""#, 0)]
        );
        assert!(canonical_object(r#"{"s":1}"#, "s").unwrap().1.is_empty());
        assert!(canonical_object("[1]", "s").is_none());
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(150), "]".repeat(150));
        assert!(canonical_object(&deep, "s").is_none());
        let mut out = String::new();
        join_members(&mut out, &top, |m| (m.key != "s").then(|| m.value.into()));
        assert_eq!(out, r#"{"a":[1,[2,3]],"z":{"y":1}}"#);
    }
}
