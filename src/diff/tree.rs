//! Field-level differences between two parsed contents, for the few records
//! whose bytes differ.
//!
//! Paths read like `settings.tasks[ingest].notebook_task.notebook_path`:
//! object members joined by `.`; arrays of objects that all carry a unique
//! identifying field (the first of [`ID_FIELDS`] that works on both sides)
//! are matched by it and shown as `[that value]`, so a task inserted in the
//! middle is one difference, not a cascade; other arrays by index, `[3]`.

use serde_json::{Map, Value};

use super::model::FieldDiff;
use super::rules::Side;

/// Fields that identify an element of an array of objects, in order of preference.
pub(crate) const ID_FIELDS: [&str; 7] = [
    "task_key",
    "job_cluster_key",
    "name",
    "key",
    "principal",
    "path",
    "value",
];

/// Decides whether an array element present on one side only is reported:
/// called with the identifying field, its value and the side that has it.
pub(crate) type KeepLone<'a> = &'a dyn Fn(&str, &str, Side) -> bool;

/// Appends the differences between `p` and `s` to `out`, sorted by path.
pub(crate) fn diff_values(p: &Value, s: &Value, keep: KeepLone<'_>, out: &mut Vec<FieldDiff>) {
    let start = out.len();
    let mut path = String::new();
    walk(p, s, &mut path, keep, out);
    out[start..].sort_by(|a, b| a.path.cmp(&b.path));
}

fn push(out: &mut Vec<FieldDiff>, path: &str, p: Option<&Value>, s: Option<&Value>) {
    out.push(FieldDiff {
        // A difference at the top (content of another type) has no path.
        path: if path.is_empty() {
            "$".into()
        } else {
            path.to_owned()
        },
        primary: p.cloned(),
        secondary: s.cloned(),
    });
}

fn walk(p: &Value, s: &Value, path: &mut String, keep: KeepLone<'_>, out: &mut Vec<FieldDiff>) {
    match (p, s) {
        (Value::Object(a), Value::Object(b)) => objects(a, b, path, keep, out),
        (Value::Array(a), Value::Array(b)) => arrays(a, b, path, keep, out),
        _ if p == s => {}
        _ => push(out, path, Some(p), Some(s)),
    }
}

fn objects(
    a: &Map<String, Value>,
    b: &Map<String, Value>,
    path: &mut String,
    keep: KeepLone<'_>,
    out: &mut Vec<FieldDiff>,
) {
    let len = path.len();
    let mut left = a.iter().peekable();
    let mut right = b.iter().peekable();
    // serde_json's map iterates in key order: a merge join.
    loop {
        let (key, pv, sv) = match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some((k, _)), None) => (*k, left.next().map(|x| x.1), None),
            (None, Some((k, _))) => (*k, None, right.next().map(|x| x.1)),
            (Some((ka, _)), Some((kb, _))) => match ka.cmp(kb) {
                std::cmp::Ordering::Less => (*ka, left.next().map(|x| x.1), None),
                std::cmp::Ordering::Greater => (*kb, None, right.next().map(|x| x.1)),
                std::cmp::Ordering::Equal => {
                    (*ka, left.next().map(|x| x.1), right.next().map(|x| x.1))
                }
            },
        };
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
        match (pv, sv) {
            (Some(x), Some(y)) => walk(x, y, path, keep, out),
            (x, y) => push(out, path, x, y),
        }
        path.truncate(len);
    }
}

/// The identifying value of an array element under `field`, as text.
fn id_of<'v>(v: &'v Value, field: &str) -> Option<std::borrow::Cow<'v, str>> {
    match v.get(field)? {
        Value::String(s) => Some(std::borrow::Cow::Borrowed(s)),
        Value::Number(n) => Some(std::borrow::Cow::Owned(n.to_string())),
        _ => None,
    }
}

/// The first identifying field every element of both arrays has, unique per side.
fn id_field(a: &[Value], b: &[Value]) -> Option<&'static str> {
    if !a.iter().chain(b).all(Value::is_object) {
        return None;
    }
    ID_FIELDS.into_iter().find(|field| {
        [a, b].into_iter().all(|side| {
            let mut ids = Vec::with_capacity(side.len());
            for v in side {
                match id_of(v, field) {
                    Some(id) => ids.push(id),
                    None => return false,
                }
            }
            ids.sort();
            ids.windows(2).all(|w| w[0] != w[1])
        })
    })
}

fn arrays(
    a: &[Value],
    b: &[Value],
    path: &mut String,
    keep: KeepLone<'_>,
    out: &mut Vec<FieldDiff>,
) {
    let len = path.len();
    let Some(field) = id_field(a, b) else {
        for i in 0..a.len().max(b.len()) {
            path.push_str(&format!("[{i}]"));
            match (a.get(i), b.get(i)) {
                (Some(x), Some(y)) => walk(x, y, path, keep, out),
                (x, y) => push(out, path, x, y),
            }
            path.truncate(len);
        }
        return;
    };
    let mut left: Vec<(std::borrow::Cow<'_, str>, &Value)> = a
        .iter()
        .filter_map(|v| Some((id_of(v, field)?, v)))
        .collect();
    let mut right: Vec<(std::borrow::Cow<'_, str>, &Value)> = b
        .iter()
        .filter_map(|v| Some((id_of(v, field)?, v)))
        .collect();
    left.sort_by(|x, y| x.0.cmp(&y.0));
    right.sort_by(|x, y| x.0.cmp(&y.0));
    let (mut i, mut j) = (0, 0);
    loop {
        let (id, pv, sv) = match (left.get(i), right.get(j)) {
            (None, None) => break,
            (Some(x), None) => {
                i += 1;
                (&x.0, Some(x.1), None)
            }
            (None, Some(y)) => {
                j += 1;
                (&y.0, None, Some(y.1))
            }
            (Some(x), Some(y)) => match x.0.cmp(&y.0) {
                std::cmp::Ordering::Less => {
                    i += 1;
                    (&x.0, Some(x.1), None)
                }
                std::cmp::Ordering::Greater => {
                    j += 1;
                    (&y.0, None, Some(y.1))
                }
                std::cmp::Ordering::Equal => {
                    i += 1;
                    j += 1;
                    (&x.0, Some(x.1), Some(y.1))
                }
            },
        };
        path.push('[');
        path.push_str(id);
        path.push(']');
        match (pv, sv) {
            (Some(x), Some(y)) => walk(x, y, path, keep, out),
            (Some(x), None) => {
                if keep(field, id, Side::Primary) {
                    push(out, path, Some(x), None);
                }
            }
            (None, Some(y)) => {
                if keep(field, id, Side::Secondary) {
                    push(out, path, None, Some(y));
                }
            }
            (None, None) => {}
        }
        path.truncate(len);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn diff(p: Value, s: Value) -> Vec<(String, Option<Value>, Option<Value>)> {
        let mut out = Vec::new();
        diff_values(&p, &s, &|_, _, _| true, &mut out);
        out.into_iter()
            .map(|d| (d.path, d.primary, d.secondary))
            .collect()
    }

    #[test]
    fn tasks_are_matched_by_task_key() {
        let p = json!({"settings": {"name": "etl", "tasks": [
            {"task_key": "ingest", "notebook_task": {"notebook_path": "/Production/etl/ingest"}},
            {"task_key": "publish", "notebook_task": {"notebook_path": "/Production/etl/publish"}}
        ]}});
        let s = json!({"settings": {"name": "etl", "tasks": [
            {"task_key": "ingest", "notebook_task": {"notebook_path": "/Production/etl/ingest_v2"}},
            {"task_key": "clean", "notebook_task": {"notebook_path": "/Production/etl/clean"}},
            {"task_key": "publish", "notebook_task": {"notebook_path": "/Production/etl/publish"}}
        ]}});
        assert_eq!(
            diff(p, s),
            vec![
                (
                    "settings.tasks[clean]".into(),
                    None,
                    Some(
                        json!({"task_key": "clean", "notebook_task": {"notebook_path": "/Production/etl/clean"}})
                    )
                ),
                (
                    "settings.tasks[ingest].notebook_task.notebook_path".into(),
                    Some(json!("/Production/etl/ingest")),
                    Some(json!("/Production/etl/ingest_v2"))
                ),
            ]
        );
    }

    #[test]
    fn scalar_arrays_and_ambiguous_ids_go_by_index() {
        assert_eq!(
            diff(
                json!({"ip_addresses": ["10.0.0.0/8"]}),
                json!({"ip_addresses": ["10.0.0.0/8", "192.168.0.0/16"]})
            ),
            vec![(
                "ip_addresses[1]".into(),
                None,
                Some(json!("192.168.0.0/16"))
            )]
        );
        // Two elements share `name`, so `name` cannot identify them; `value` can.
        let p = json!({"a": [{"name": "x", "value": "1"}, {"name": "x", "value": "2"}]});
        let s = json!({"a": [{"name": "x", "value": "1"}, {"name": "y", "value": "2"}]});
        assert_eq!(
            diff(p, s),
            vec![("a[2].name".into(), Some(json!("x")), Some(json!("y")))]
        );
    }

    #[test]
    fn members_missing_on_one_side_and_type_changes() {
        assert_eq!(
            diff(
                json!({"a": 1, "b": {"c": true}}),
                json!({"b": {"c": "true"}, "d": [1]})
            ),
            vec![
                ("a".into(), Some(json!(1)), None),
                ("b.c".into(), Some(json!(true)), Some(json!("true"))),
                ("d".into(), None, Some(json!([1]))),
            ]
        );
        assert!(diff(json!({"a": [1, {"b": 2}]}), json!({"a": [1, {"b": 2}]})).is_empty());
    }

    #[test]
    fn lone_elements_can_be_skipped() {
        let p =
            json!({"direct": [{"principal": "alice@acme.com", "permission_level": "CAN_VIEW"}]});
        let s = json!({"direct": [{"principal": "dr-oncall", "permission_level": "CAN_VIEW"}]});
        let mut out = Vec::new();
        diff_values(
            &p,
            &s,
            &|field, id, side| {
                !(field == "principal" && id == "dr-oncall" && side == Side::Secondary)
            },
            &mut out,
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].path, "direct[alice@acme.com]");
    }
}
