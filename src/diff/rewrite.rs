//! Region-specific values: the primary's strings rewritten into the
//! secondary's form before comparing (`s3://acme-prod-use1/` →
//! `s3://acme-dr-usw2/`).
//!
//! Semantics, the same on parsed values and on raw JSON text: every string of
//! the primary's content (object keys too: Spark conf keys name buckets) is
//! scanned left to right; at each character, the longest rule whose `primary`
//! starts there (the first listed among equals) is replaced by its
//! `secondary`, and scanning resumes after the replaced text, so a rule never
//! rewrites another rule's output.

use serde_json::{Map, Value};

use super::rules::Rewrite;

/// One rule, with its text as it appears escaped inside a JSON string.
#[derive(Debug)]
struct Pattern {
    from: String,
    to: String,
    from_json: String,
    to_json: String,
}

/// Compiled rewrite rules (primary → secondary, or reversed).
#[derive(Debug)]
pub(crate) struct Rewriter {
    /// In priority order: longest `from` first, config order among equals.
    patterns: Vec<Pattern>,
    /// Bytes a pattern's escaped form can start with.
    starts: [bool; 256],
}

/// The escaped inner text of a JSON string (what serde_json writes between the quotes).
fn json_inner(s: &str) -> String {
    let quoted = serde_json::to_string(s).unwrap_or_default();
    quoted
        .get(1..quoted.len().saturating_sub(1))
        .unwrap_or_default()
        .to_owned()
}

impl Rewriter {
    /// Compiles rules in the primary → secondary direction.
    pub fn new(rules: &[Rewrite]) -> Self {
        Self::from_pairs(
            rules
                .iter()
                .map(|r| (r.primary.as_str(), r.secondary.as_str())),
        )
    }

    /// Compiles `(from, to)` pairs; empty `from` texts are skipped (they
    /// would match everywhere).
    pub fn from_pairs<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> Self {
        let mut patterns: Vec<Pattern> = pairs
            .filter(|(from, _)| !from.is_empty())
            .map(|(from, to)| Pattern {
                from: from.to_owned(),
                to: to.to_owned(),
                from_json: json_inner(from),
                to_json: json_inner(to),
            })
            .collect();
        patterns.sort_by_key(|p| std::cmp::Reverse(p.from.len()));
        let mut starts = [false; 256];
        for p in &patterns {
            if let Some(&c) = p.from_json.as_bytes().first() {
                starts[usize::from(c)] = true;
            }
        }
        Rewriter { patterns, starts }
    }

    /// True when there is nothing to rewrite.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// The rewritten string, or `None` when no rule applies.
    pub fn rewrite_str(&self, s: &str) -> Option<String> {
        if self.is_empty() {
            return None;
        }
        let mut out: Option<String> = None;
        let mut copied = 0;
        let mut i = 0;
        while i < s.len() {
            let rest = s.get(i..).unwrap_or_default();
            if let Some(p) = self.patterns.iter().find(|p| rest.starts_with(&p.from)) {
                let o = out.get_or_insert_with(|| String::with_capacity(s.len()));
                o.push_str(s.get(copied..i).unwrap_or_default());
                o.push_str(&p.to);
                i += p.from.len();
                copied = i;
            } else {
                i += rest.chars().next().map_or(1, char::len_utf8);
            }
        }
        let mut o = out?;
        o.push_str(s.get(copied..).unwrap_or_default());
        Some(o)
    }

    /// Rewrites every string (keys and values) of `v` in place.
    pub fn rewrite_value(&self, v: &mut Value) {
        if self.is_empty() {
            return;
        }
        match v {
            Value::String(s) => {
                if let Some(new) = self.rewrite_str(s) {
                    *s = new;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|x| self.rewrite_value(x)),
            Value::Object(map) => {
                let needs_new_keys = map.keys().any(|k| self.rewrite_str(k).is_some());
                if needs_new_keys {
                    let old = std::mem::take(map);
                    let mut new = Map::new();
                    for (k, mut x) in old {
                        self.rewrite_value(&mut x);
                        new.insert(self.rewrite_str(&k).unwrap_or(k), x);
                    }
                    *map = new;
                } else {
                    map.values_mut().for_each(|x| self.rewrite_value(x));
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }

    /// True when the JSON text `p`, rewritten, is byte-for-byte `s`; no allocation.
    ///
    /// Matches are tried only at character boundaries inside strings, so an
    /// escape sequence is never split. `true` implies the parsed values are
    /// equal after [`Rewriter::rewrite_value`]; `false` may still be equal
    /// (a rewritten key sorting differently), which the caller's full
    /// comparison settles.
    pub fn eq_rewritten(&self, p: &str, s: &str) -> bool {
        // Most records hold no region-specific text at all: a (SIMD) substring
        // search then leaves a plain comparison.
        if !self.patterns.iter().any(|x| p.contains(&x.from_json)) {
            return p == s;
        }
        let (p, s) = (p.as_bytes(), s.as_bytes());
        let mut i = 0;
        let mut j = 0;
        let mut in_string = false;
        while let Some(&c) = p.get(i) {
            if in_string && self.starts[usize::from(c)] {
                let rest = p.get(i..).unwrap_or_default();
                if let Some(pat) = self
                    .patterns
                    .iter()
                    .find(|x| rest.starts_with(x.from_json.as_bytes()))
                {
                    if !s
                        .get(j..)
                        .is_some_and(|r| r.starts_with(pat.to_json.as_bytes()))
                    {
                        return false;
                    }
                    i += pat.from_json.len();
                    j += pat.to_json.len();
                    continue;
                }
            }
            let len = match c {
                b'"' => {
                    in_string = !in_string;
                    1
                }
                b'\\' if in_string => {
                    if p.get(i + 1) == Some(&b'u') {
                        6
                    } else {
                        2
                    }
                }
                _ => 1,
            };
            match (p.get(i..i + len), s.get(j..j + len)) {
                (Some(a), Some(b)) if a == b => {}
                _ => return false,
            }
            i += len;
            j += len;
        }
        j == s.len()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn rw(pairs: &[(&str, &str)]) -> Rewriter {
        Rewriter::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn rewrites_values_and_keys_longest_first_without_cascading() {
        let r = rw(&[
            ("s3://acme-prod-use1/", "s3://acme-dr-usw2/"),
            ("acme-prod-use1", "acme-dr-usw2"),
            ("s3://acme-dr-usw2/", "never-applied"),
        ]);
        let mut v = json!({
            "storage_location": "s3://acme-prod-use1/landing/orders",
            "spark_conf": {"spark.hadoop.fs.s3a.bucket.acme-prod-use1.endpoint": "s3.us-east-1.amazonaws.com"},
            "n": 3
        });
        r.rewrite_value(&mut v);
        assert_eq!(
            v,
            json!({
                "storage_location": "s3://acme-dr-usw2/landing/orders",
                "spark_conf": {"spark.hadoop.fs.s3a.bucket.acme-dr-usw2.endpoint": "s3.us-east-1.amazonaws.com"},
                "n": 3
            })
        );
        assert_eq!(r.rewrite_str("nothing here"), None);
    }

    #[test]
    fn byte_comparison_agrees_with_value_rewrite() {
        let r = rw(&[("s3://prod/", "s3://dr/"), ("\"q\"", "'q'")]);
        let p = r#"{"a":"s3://prod/x","b":["s3://prod/","\"q\" s3://prod/"],"c":"s3:\/\/prod\/"}"#;
        let s = r#"{"a":"s3://dr/x","b":["s3://dr/","'q' s3://dr/"],"c":"s3:\/\/prod\/"}"#;
        assert!(r.eq_rewritten(p, s));
        assert!(!r.eq_rewritten(p, p));
        // Outside strings nothing is rewritten.
        let r = rw(&[("1", "2")]);
        assert!(!r.eq_rewritten(r#"{"a":1}"#, r#"{"a":2}"#));
        assert!(r.eq_rewritten(r#"{"a":"1"}"#, r#"{"a":"2"}"#));
        // An escape sequence is never split: `n` does not match inside `\n`.
        let r = rw(&[("n", "m")]);
        assert!(r.eq_rewritten(r#"{"a":"\n"}"#, r#"{"a":"\n"}"#));
        assert!(!r.eq_rewritten(r#"{"a":"\n"}"#, r#"{"a":"\m"}"#));
    }

    proptest! {
        #[test]
        fn rewriting_both_ways_is_an_identity(
            parts in proptest::collection::vec(prop_oneof![
                Just("s3://acme-prod-use1/".to_owned()),
                "[a-z/:._\"\\\\-]{0,8}",
            ], 0..6)
        ) {
            let from = "s3://acme-prod-use1/";
            let to = "s3://acme-dr-usw2/";
            let text: String = parts.concat();
            prop_assume!(!text.contains(to) && !text.contains("acme-dr-usw2"));
            let there = rw(&[(from, to)]);
            let back = rw(&[(to, from)]);
            let mut map = serde_json::Map::new();
            map.insert(text.clone(), json!([text.clone(), {"k": text.clone()}]));
            let mut v = Value::Object(map);
            let original = v.clone();
            there.rewrite_value(&mut v);
            let forward_text = serde_json::to_string(&v).unwrap();
            // The raw comparison agrees with the parsed rewrite.
            let original_text = serde_json::to_string(&original).unwrap();
            prop_assert!(there.eq_rewritten(&original_text, &forward_text));
            prop_assert!(back.eq_rewritten(&forward_text, &original_text));
            back.rewrite_value(&mut v);
            prop_assert_eq!(v, original);
        }
    }
}
