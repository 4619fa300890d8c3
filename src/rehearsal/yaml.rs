//! A small YAML reader and writer for plans.
//!
//! Reading turns `saphyr-parser`'s events into a tree whose every node knows
//! its line and column, so the plan reader can say where a wrong field or
//! value is. Only what a plan needs is accepted: one document of mappings,
//! sequences and scalars. Anchors, aliases and tags are refused (a plan has
//! no use for them, and aliases make small files expand without bound), and
//! so are duplicate keys, which YAML parsers otherwise resolve silently.
//!
//! Writing emits block-style YAML whose strings are always double-quoted
//! JSON strings (a subset of YAML's double-quoted style), so what is written
//! reads back as the same values whatever the text holds.

use std::fmt::Write as _;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

/// Plans larger than this are refused before parsing.
pub(crate) const MAX_PLAN_BYTES: usize = 1 << 20;

/// Nesting deeper than this is refused (no plan needs more than a few levels).
const MAX_DEPTH: usize = 64;

/// A 1-based line and column in the plan file.
///
/// Positions never take part in comparisons: a plan printed and read back is
/// the same plan although its steps moved to other lines.
#[derive(Clone, Copy, Debug, Default, Eq, serde::Serialize)]
pub struct Pos {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

impl PartialEq for Pos {
    fn eq(&self, _: &Pos) -> bool {
        true
    }
}

impl Pos {
    fn of(span: &Span) -> Pos {
        Pos {
            line: span.start.line(),
            column: span.start.col() + 1,
        }
    }
}

/// A YAML node with its position.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub(crate) pos: Pos,
    pub(crate) value: Value,
}

/// The shapes a plan node can have.
#[derive(Clone, Debug)]
pub(crate) enum Value {
    /// A scalar: its text, and whether it was quoted or a block scalar
    /// (always a string) or plain (resolved by the YAML 1.2 core schema).
    Scalar { text: String, plain: bool },
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, keys in file order.
    Map(Vec<(Key, Node)>),
}

/// A mapping key (always a scalar in plans).
#[derive(Clone, Debug)]
pub(crate) struct Key {
    pub(crate) text: String,
    pub(crate) pos: Pos,
}

/// A syntax error, with where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub(crate) pos: Pos,
    pub(crate) message: String,
}

/// What a plain scalar means under the YAML 1.2 core schema.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Plain<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'a str),
}

impl Node {
    /// The kind of node, for "expected X, found Y" messages.
    pub(crate) fn describe(&self) -> &'static str {
        match &self.value {
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
            Value::Scalar { plain: false, .. } => "a string",
            Value::Scalar { text, plain: true } => match resolve_plain(text) {
                Plain::Null => "nothing (null)",
                Plain::Bool(_) => "a boolean",
                Plain::Int(_) => "an integer",
                Plain::Float(_) => "a number",
                Plain::Str(_) => "a string",
            },
        }
    }

    /// The node as JSON (plain scalars resolved), for probe values.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::Scalar { text, plain: false } => serde_json::Value::from(text.clone()),
            Value::Scalar { text, plain: true } => match resolve_plain(text) {
                Plain::Null => serde_json::Value::Null,
                Plain::Bool(b) => serde_json::Value::Bool(b),
                Plain::Int(i) => serde_json::Value::from(i),
                Plain::Float(f) => serde_json::Number::from_f64(f)
                    .map_or_else(|| serde_json::Value::from(text.clone()), Into::into),
                Plain::Str(s) => serde_json::Value::from(s),
            },
            Value::Seq(items) => items.iter().map(Node::to_json).collect(),
            Value::Map(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.text.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

/// Resolves a plain scalar by the YAML 1.2 core schema.
pub(crate) fn resolve_plain(text: &str) -> Plain<'_> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Plain::Null,
        "true" | "True" | "TRUE" => return Plain::Bool(true),
        "false" | "False" | "FALSE" => return Plain::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Plain::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Plain::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Plain::Float(f64::NAN),
        _ => {}
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(i) = text.parse::<i64>() {
            return Plain::Int(i);
        }
        return Plain::Str(text);
    }
    if let Some(hex) = text.strip_prefix("0x") {
        if let Ok(i) = i64::from_str_radix(hex, 16) {
            return Plain::Int(i);
        }
    }
    if let Some(oct) = text.strip_prefix("0o") {
        if let Ok(i) = i64::from_str_radix(oct, 8) {
            return Plain::Int(i);
        }
    }
    let looks_float = digits
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
        && digits.bytes().any(|b| b.is_ascii_digit())
        && digits.starts_with(|c: char| c.is_ascii_digit() || c == '.');
    if looks_float {
        if let Ok(f) = text.parse::<f64>() {
            return Plain::Float(f);
        }
    }
    Plain::Str(text)
}

/// One container being built.
enum Open {
    Seq(Pos, Vec<Node>),
    Map(Pos, Vec<(Key, Node)>, Option<Key>),
}

/// Parses one YAML document into a tree.
pub(crate) fn parse(text: &str) -> Result<Node, SyntaxError> {
    if text.len() > MAX_PLAN_BYTES {
        return Err(SyntaxError {
            pos: Pos { line: 1, column: 1 },
            message: format!(
                "the plan is larger than {} KiB; plans are short lists of steps",
                MAX_PLAN_BYTES / 1024
            ),
        });
    }
    let mut stack: Vec<Open> = Vec::new();
    let mut root: Option<Node> = None;
    let mut documents = 0usize;
    for item in Parser::new_from_str(text) {
        let (event, span) = item.map_err(|e| SyntaxError {
            pos: Pos {
                line: e.marker().line(),
                column: e.marker().col() + 1,
            },
            message: format!("invalid YAML: {}", e.info()),
        })?;
        let pos = Pos::of(&span);
        let refuse = |message: &str| {
            Err(SyntaxError {
                pos,
                message: message.to_owned(),
            })
        };
        let node = match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing | Event::DocumentEnd => continue,
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return refuse("a plan is one YAML document; remove the second `---`");
                }
                continue;
            }
            Event::Alias(_) => {
                return refuse("aliases (`*name`) are not supported in plans; write the value out");
            }
            Event::Scalar(value, style, anchor, tag) => {
                if anchor != 0 {
                    return refuse("anchors (`&name`) are not supported in plans");
                }
                if tag.is_some() {
                    return refuse("tags (`!name`) are not supported in plans");
                }
                Node {
                    pos,
                    value: Value::Scalar {
                        text: value.into_owned(),
                        plain: style == ScalarStyle::Plain,
                    },
                }
            }
            Event::SequenceStart(anchor, ref tag) | Event::MappingStart(anchor, ref tag) => {
                if anchor != 0 {
                    return refuse("anchors (`&name`) are not supported in plans");
                }
                if tag.is_some() {
                    return refuse("tags (`!name`) are not supported in plans");
                }
                if stack.len() >= MAX_DEPTH {
                    return refuse("the plan nests too deeply");
                }
                let is_seq = matches!(event, Event::SequenceStart(..));
                stack.push(if is_seq {
                    Open::Seq(pos, Vec::new())
                } else {
                    Open::Map(pos, Vec::new(), None)
                });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Open::Seq(p, items)) => Node {
                    pos: p,
                    value: Value::Seq(items),
                },
                Some(Open::Map(p, entries, _)) => Node {
                    pos: p,
                    value: Value::Map(entries),
                },
                None => return refuse("unbalanced YAML structure"),
            },
        };
        match stack.last_mut() {
            None => {
                if root.is_some() {
                    return refuse("a plan is one YAML document");
                }
                root = Some(node);
            }
            Some(Open::Seq(_, items)) => items.push(node),
            Some(Open::Map(_, entries, pending)) => match pending.take() {
                None => {
                    let Value::Scalar { text, .. } = node.value else {
                        return Err(SyntaxError {
                            pos: node.pos,
                            message: "mapping keys must be plain names, not lists or mappings"
                                .into(),
                        });
                    };
                    if let Some((first, _)) = entries.iter().find(|(k, _)| k.text == text) {
                        return Err(SyntaxError {
                            pos: node.pos,
                            message: format!(
                                "duplicate key `{text}` (first at line {})",
                                first.pos.line
                            ),
                        });
                    }
                    *pending = Some(Key {
                        text,
                        pos: node.pos,
                    });
                }
                Some(key) => entries.push((key, node)),
            },
        }
    }
    root.ok_or(SyntaxError {
        pos: Pos { line: 1, column: 1 },
        message: "the plan is empty".into(),
    })
}

/// Builds YAML text: block mappings and sequences, quoted strings.
#[derive(Default)]
pub(crate) struct Writer {
    out: String,
}

/// A value to write.
#[derive(Clone, Debug)]
pub(crate) enum Out {
    /// A string, written double-quoted.
    Str(String),
    /// A number or boolean, written plain.
    Raw(String),
    /// A list; short lists of scalars go on one line.
    List(Vec<Out>),
    /// A mapping in the given order.
    Map(Vec<(String, Out)>),
}

impl Out {
    /// A string.
    pub(crate) fn s(text: impl Into<String>) -> Out {
        Out::Str(text.into())
    }

    /// Any JSON value, as YAML.
    pub(crate) fn json(value: &serde_json::Value) -> Out {
        match value {
            serde_json::Value::Null => Out::Raw("null".into()),
            serde_json::Value::Bool(b) => Out::Raw(b.to_string()),
            serde_json::Value::Number(n) => Out::Raw(n.to_string()),
            serde_json::Value::String(s) => Out::s(s.clone()),
            serde_json::Value::Array(items) => Out::List(items.iter().map(Out::json).collect()),
            serde_json::Value::Object(map) => {
                Out::Map(map.iter().map(|(k, v)| (k.clone(), Out::json(v))).collect())
            }
        }
    }

    fn is_scalar(&self) -> bool {
        matches!(self, Out::Str(_) | Out::Raw(_))
    }
}

/// A double-quoted YAML string (JSON's escapes are valid YAML escapes).
pub(crate) fn quote(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

impl Writer {
    /// Writes a top-level mapping and returns the text.
    pub(crate) fn document(entries: &[(String, Out)]) -> String {
        let mut w = Writer::default();
        w.map(entries, 0);
        w.out
    }

    fn scalar(out: &Out) -> String {
        match out {
            Out::Str(s) => quote(s),
            Out::Raw(r) => r.clone(),
            Out::List(items) => {
                let inner: Vec<String> = items.iter().map(Writer::scalar).collect();
                format!("[{}]", inner.join(", "))
            }
            Out::Map(entries) if entries.is_empty() => "{}".into(),
            Out::Map(entries) => {
                let inner: Vec<String> = entries
                    .iter()
                    .map(|(k, v)| format!("{}: {}", quote(k), Writer::scalar(v)))
                    .collect();
                format!("{{{}}}", inner.join(", "))
            }
        }
    }

    /// True when a value fits on its key's line.
    fn inline(out: &Out) -> bool {
        match out {
            Out::Str(_) | Out::Raw(_) => true,
            Out::List(items) => items.is_empty() || items.iter().all(Out::is_scalar),
            Out::Map(entries) => entries.is_empty(),
        }
    }

    fn map(&mut self, entries: &[(String, Out)], indent: usize) {
        for (i, (key, value)) in entries.iter().enumerate() {
            if i > 0 || indent == 0 {
                let _ = write!(self.out, "{:indent$}", "");
            }
            self.entry(key, value, indent);
        }
    }

    fn entry(&mut self, key: &str, value: &Out, indent: usize) {
        let key = if is_simple_key(key) {
            key.to_owned()
        } else {
            quote(key)
        };
        if Writer::inline(value) {
            let _ = writeln!(self.out, "{key}: {}", Writer::scalar(value));
            return;
        }
        let _ = writeln!(self.out, "{key}:");
        match value {
            Out::Map(entries) => {
                let _ = write!(self.out, "{:width$}", "", width = indent + 2);
                self.map(entries, indent + 2);
            }
            Out::List(items) => self.list(items, indent),
            _ => {}
        }
    }

    fn list(&mut self, items: &[Out], indent: usize) {
        for item in items {
            let _ = write!(self.out, "{:indent$}- ", "");
            match item {
                Out::Map(entries) if !entries.is_empty() => self.map(entries, indent + 2),
                other => {
                    let _ = writeln!(self.out, "{}", Writer::scalar(other));
                }
            }
        }
    }
}

/// Keys written without quotes: plan field names and identifiers.
fn is_simple_key(key: &str) -> bool {
    !key.is_empty()
        && key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && matches!(resolve_plain(key), Plain::Str(_))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map_keys(node: &Node) -> Vec<(String, usize)> {
        match &node.value {
            Value::Map(e) => e
                .iter()
                .map(|(k, v)| (k.text.clone(), v.pos.line))
                .collect(),
            _ => panic!("not a map"),
        }
    }

    #[test]
    fn nodes_know_their_lines() {
        let root = parse("name: x\nsteps:\n  - action: wait\n    duration: 5m\n").unwrap();
        assert_eq!(
            map_keys(&root),
            vec![("name".into(), 1), ("steps".into(), 3)]
        );
        let Value::Map(entries) = &root.value else {
            panic!()
        };
        let Value::Seq(steps) = &entries[1].1.value else {
            panic!()
        };
        assert_eq!(steps[0].pos.line, 3);
        assert_eq!(
            map_keys(&steps[0]),
            vec![("action".into(), 3), ("duration".into(), 4)]
        );
    }

    #[test]
    fn refuses_what_plans_do_not_need() {
        for (text, needle, line) in [
            ("a: 1\na: 2\n", "duplicate key `a` (first at line 1)", 2),
            ("a: &x 1\nb: *x\n", "anchors", 1),
            ("a: !!str 1\n", "tags", 1),
            ("a: 1\n---\nb: 2\n", "one YAML document", 2),
            ("", "empty", 1),
            ("a: [1, 2\n", "invalid YAML", 2),
            ("? [a]\n: 1\n", "mapping keys", 1),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.message.contains(needle), "{text:?}: {e:?}");
            assert_eq!(e.pos.line, line, "{text:?}: {e:?}");
        }
    }

    #[test]
    fn plain_scalars_follow_the_core_schema() {
        assert_eq!(resolve_plain("~"), Plain::Null);
        assert_eq!(resolve_plain("true"), Plain::Bool(true));
        assert_eq!(resolve_plain("-12"), Plain::Int(-12));
        assert_eq!(resolve_plain("0x1f"), Plain::Int(31));
        assert_eq!(resolve_plain("1.5"), Plain::Float(1.5));
        assert_eq!(resolve_plain("30m"), Plain::Str("30m"));
        assert_eq!(resolve_plain("yes"), Plain::Str("yes"));
        assert_eq!(
            resolve_plain("99999999999999999999"),
            Plain::Str("99999999999999999999")
        );
    }

    #[test]
    fn written_text_reads_back() {
        let doc = Writer::document(&[
            ("name".into(), Out::s("a \"b\"\n\tc: d # e")),
            ("n".into(), Out::Raw("3".into())),
            ("list".into(), Out::List(vec![Out::s("x"), Out::s("")])),
            (
                "steps".into(),
                Out::List(vec![Out::Map(vec![
                    ("action".into(), Out::s("wait")),
                    (
                        "value".into(),
                        Out::json(&serde_json::json!({"a": [1, {"b": null}], "c": {}})),
                    ),
                ])]),
            ),
            ("odd key: x".into(), Out::Map(vec![])),
        ]);
        let root = parse(&doc).unwrap_or_else(|e| panic!("{e:?}\n{doc}"));
        let json = root.to_json();
        assert_eq!(json["name"], "a \"b\"\n\tc: d # e", "{doc}");
        assert_eq!(json["n"], 3);
        assert_eq!(json["list"], serde_json::json!(["x", ""]));
        assert_eq!(
            json["steps"][0]["value"],
            serde_json::json!({"a": [1, {"b": null}], "c": {}}),
            "{doc}"
        );
        assert_eq!(json["odd key: x"], serde_json::json!({}));
    }
}
