//! Probe paths: a small path language into a JSON answer, and the
//! comparison a `probe` check makes.
//!
//! A path is dot-separated fields, each optionally followed by brackets:
//! `[2]` takes an array item, `[field=value]` the first item whose `field`
//! (a string, number or boolean) reads `value`. The empty path is the whole
//! answer. Examples: `state`, `clusters[cluster_name=etl].state`,
//! `runs[0].state.result_state`.

use serde_json::Value;

use super::plan::ProbeOp;

/// One step of a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Segment {
    /// An object member.
    Field(String),
    /// An array item by position.
    Index(usize),
    /// The first array item whose member has this value.
    Filter(String, String),
}

/// Parses a path.
pub(crate) fn parse_path(path: &str) -> Result<Vec<Segment>, String> {
    let mut out = Vec::new();
    if path.is_empty() {
        return Ok(out);
    }
    let bad = |why: &str| format!("invalid path `{path}`: {why}");
    for part in split_outside_brackets(path).map_err(|e| bad(&e))? {
        let (head, mut rest) = match part.find('[') {
            Some(i) => part.split_at(i),
            None => (part, ""),
        };
        if head.is_empty() && rest.is_empty() {
            return Err(bad("empty field name"));
        }
        if !head.is_empty() {
            out.push(Segment::Field(head.to_owned()));
        }
        while !rest.is_empty() {
            let Some(inner_end) = rest.find(']') else {
                return Err(bad("`[` without `]`"));
            };
            if !rest.starts_with('[') {
                return Err(bad("text after `]`; separate fields with `.`"));
            }
            let inner = &rest[1..inner_end];
            rest = &rest[inner_end + 1..];
            match inner.split_once('=') {
                Some((field, value)) if !field.is_empty() => {
                    out.push(Segment::Filter(field.to_owned(), value.to_owned()));
                }
                Some(_) => return Err(bad("a filter needs a field: `[name=value]`")),
                None => match inner.parse::<usize>() {
                    Ok(i) => out.push(Segment::Index(i)),
                    Err(_) => {
                        return Err(bad(
                            "brackets hold an index `[0]` or a filter `[name=value]`",
                        ));
                    }
                },
            }
        }
    }
    Ok(out)
}

/// Splits at dots that are not inside brackets.
fn split_outside_brackets(path: &str) -> Result<Vec<&str>, String> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in path.char_indices() {
        match c {
            '[' if depth == 0 => depth = 1,
            '[' => return Err("nested `[`".into()),
            ']' if depth == 1 => depth = 0,
            ']' => return Err("`]` without `[`".into()),
            '.' if depth == 0 => {
                parts.push(&path[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err("`[` without `]`".into());
    }
    parts.push(&path[start..]);
    if parts.iter().any(|p| p.is_empty()) {
        return Err("empty field name".into());
    }
    Ok(parts)
}

/// The value at a path, or `None` when the path leads nowhere.
pub(crate) fn select<'v>(value: &'v Value, path: &[Segment]) -> Option<&'v Value> {
    let mut cur = value;
    for segment in path {
        cur = match segment {
            Segment::Field(f) => cur.get(f)?,
            Segment::Index(i) => cur.get(*i)?,
            Segment::Filter(field, wanted) => cur.as_array()?.iter().find(|item| {
                item.get(field).is_some_and(|v| match v {
                    Value::String(s) => s == wanted,
                    Value::Bool(b) => wanted.as_str() == if *b { "true" } else { "false" },
                    Value::Number(n) => {
                        n.as_f64().is_some() && wanted.parse::<f64>().ok() == n.as_f64()
                    }
                    _ => false,
                })
            })?,
        };
    }
    Some(cur)
}

/// Whether `found` satisfies `op value`; the error says why not.
pub(crate) fn compare(found: Option<&Value>, op: ProbeOp, value: &Value) -> Result<(), String> {
    let shown =
        |v: Option<&Value>| v.map_or_else(|| "nothing (the path does not exist)".to_owned(), short);
    let fail = || {
        Err(format!(
            "expected {} {}, found {}",
            op.symbol(),
            short(value),
            shown(found)
        ))
    };
    match op {
        ProbeOp::Exists => {
            return if found.is_some() {
                Ok(())
            } else {
                Err("expected the path to exist, found nothing".into())
            };
        }
        ProbeOp::Absent => {
            return match found {
                None => Ok(()),
                Some(v) => Err(format!(
                    "expected the path to be absent, found {}",
                    short(v)
                )),
            };
        }
        _ => {}
    }
    let Some(found) = found else { return fail() };
    let ok = match op {
        ProbeOp::Eq => loosely_equal(found, value),
        ProbeOp::Ne => !loosely_equal(found, value),
        ProbeOp::Lt | ProbeOp::Le | ProbeOp::Gt | ProbeOp::Ge => {
            match (found.as_f64(), value.as_f64()) {
                (Some(a), Some(b)) => match op {
                    ProbeOp::Lt => a < b,
                    ProbeOp::Le => a <= b,
                    ProbeOp::Gt => a > b,
                    _ => a >= b,
                },
                _ => {
                    return Err(format!(
                        "`{}` compares numbers, found {} and {}",
                        op.symbol(),
                        short(found),
                        short(value)
                    ));
                }
            }
        }
        ProbeOp::Contains => match (found, value) {
            (Value::String(s), Value::String(v)) => s.contains(v.as_str()),
            (Value::Array(items), v) => items.iter().any(|i| loosely_equal(i, v)),
            (Value::Object(map), Value::String(k)) => map.contains_key(k),
            _ => false,
        },
        ProbeOp::Exists | ProbeOp::Absent => true,
    };
    if ok { Ok(()) } else { fail() }
}

/// Equal, with numbers compared by value (`1` and `1.0`).
fn loosely_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// A value for a message, cut to a readable length.
pub(crate) fn short(v: &Value) -> String {
    let text = v.to_string();
    if text.chars().count() > 200 {
        format!("{}…", text.chars().take(200).collect::<String>())
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_parse_and_select() {
        let answer = json!({"clusters": [
            {"cluster_name": "a", "state": "TERMINATED", "n": 1},
            {"cluster_name": "etl.x", "state": "RUNNING", "n": 2}
        ]});
        let path = parse_path("clusters[cluster_name=etl.x].state").unwrap();
        assert_eq!(select(&answer, &path), Some(&json!("RUNNING")));
        assert_eq!(
            select(&answer, &parse_path("clusters[n=1].cluster_name").unwrap()),
            Some(&json!("a"))
        );
        assert_eq!(
            select(&answer, &parse_path("clusters[1].n").unwrap()),
            Some(&json!(2))
        );
        assert_eq!(select(&answer, &parse_path("clusters[5]").unwrap()), None);
        assert_eq!(select(&answer, &parse_path("").unwrap()), Some(&answer));
        for bad in ["a..b", "a[", "a]", "a[x]", "a[0]b", "[=1]", "a[[0]]", "."] {
            assert!(parse_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn comparisons_explain_failures() {
        let run = json!("RUNNING");
        assert!(compare(Some(&run), ProbeOp::Eq, &json!("RUNNING")).is_ok());
        let e = compare(Some(&run), ProbeOp::Eq, &json!("TERMINATED")).unwrap_err();
        assert_eq!(e, "expected == \"TERMINATED\", found \"RUNNING\"");
        assert!(compare(Some(&json!(3)), ProbeOp::Ge, &json!(2.5)).is_ok());
        assert!(compare(Some(&json!(1)), ProbeOp::Eq, &json!(1.0)).is_ok());
        assert!(
            compare(Some(&json!("x")), ProbeOp::Gt, &json!(1))
                .unwrap_err()
                .contains("compares numbers")
        );
        assert!(compare(Some(&json!(["a", "b"])), ProbeOp::Contains, &json!("b")).is_ok());
        assert!(compare(None, ProbeOp::Absent, &Value::Null).is_ok());
        assert!(
            compare(None, ProbeOp::Eq, &json!(1))
                .unwrap_err()
                .contains("path does not exist")
        );
    }
}
