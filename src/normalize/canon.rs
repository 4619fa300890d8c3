//! Canonical JSON: no nulls, no empty objects or arrays, keys sorted.
//!
//! An absent field, a `null` and an empty `{}` mean the same to the service,
//! so they must compare equal between two workspaces.

use serde_json::Value;

/// Removes nulls and empty containers, recursively. Idempotent.
pub fn canonicalize(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for v in map.values_mut() {
                canonicalize(v);
            }
            map.retain(|_, v| !is_empty(v));
        }
        Value::Array(items) => {
            for v in items.iter_mut() {
                canonicalize(v);
            }
        }
        _ => {}
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// Compact JSON with keys in sorted order (serde_json's map is a BTreeMap
/// here; a test below fails if a dependency ever turns on `preserve_order`).
pub fn canonical_json(value: &Value) -> String {
    serde_json::to_string(value).expect("a Value always serializes")
}

/// Removes the named fields from an object.
pub(crate) fn drop_fields(value: &mut Value, fields: &[&str]) {
    if let Value::Object(map) = value {
        for f in fields {
            map.remove(*f);
        }
    }
}

/// Sorts an array field of an object by the string at `by` in each element,
/// then by the element's canonical text, so equal sets compare equal.
pub(crate) fn sort_array_by(value: &mut Value, field: &str, by: &str) {
    if let Some(Value::Array(items)) = value.get_mut(field) {
        sort_values_by(items, by);
    }
}

/// Sorts values by the string (or number) at `by`, then by canonical text.
pub(crate) fn sort_values_by(items: &mut [Value], by: &str) {
    items.sort_by_cached_key(|v| {
        let key = match v.get(by) {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        };
        (key, canonical_json(v))
    });
}

/// Sorts an array of scalars (or anything) by canonical text.
pub(crate) fn sort_array(value: &mut Value, field: &str) {
    if let Some(Value::Array(items)) = value.get_mut(field) {
        items.sort_by_cached_key(canonical_json);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn keys_are_sorted_and_empties_dropped() {
        let mut v: Value =
            serde_json::from_str(r#"{"b":1,"a":{"z":null,"y":[]},"c":[{}, 2]}"#).unwrap();
        canonicalize(&mut v);
        assert_eq!(canonical_json(&v), r#"{"b":1,"c":[{},2]}"#);
        let once = v.clone();
        canonicalize(&mut v);
        assert_eq!(v, once);
    }

    #[test]
    fn sorting_by_key_then_text() {
        let mut v = json!({"acl": [{"p": "b"}, {"p": "a", "x": 2}, {"p": "a", "x": 1}]});
        sort_array_by(&mut v, "acl", "p");
        assert_eq!(
            v,
            json!({"acl": [{"p": "a", "x": 1}, {"p": "a", "x": 2}, {"p": "b"}]})
        );
    }

    fn json() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            "[a-z{}/_ ]{0,8}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 64, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::btree_map("[a-z_]{1,6}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn normalizing_twice_changes_nothing(v in json()) {
            let mut once = v.clone();
            canonicalize(&mut once);
            let mut twice = once.clone();
            canonicalize(&mut twice);
            proptest::prop_assert_eq!(&twice, &once);
            // Canonical text parses back to the same canonical text.
            let text = canonical_json(&once);
            let back: Value = serde_json::from_str(&text).unwrap();
            proptest::prop_assert_eq!(canonical_json(&back), text);
        }
    }
}
