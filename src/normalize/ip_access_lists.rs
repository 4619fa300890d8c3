//! IP access lists, keyed by `<list_type>:<label>` (a label alone may name
//! both an allow list and a block list).

use serde_json::{Value, json};

use super::canon::sort_array;
use super::{Draft, Resolver, str_field};

pub(crate) fn normalize(objects: &[Value], _r: &Resolver) -> Vec<Draft> {
    objects
        .iter()
        .filter_map(|list| {
            let label = str_field(list, "label")?;
            let list_type = str_field(list, "list_type")?;
            let mut content = json!({
                "label": label,
                "list_type": list_type,
                "ip_addresses": list.get("ip_addresses"),
                "enabled": list.get("enabled"),
            });
            sort_array(&mut content, "ip_addresses");
            Some(Draft {
                key: format!("{list_type}:{label}"),
                modified_at: list.get("updated_at").and_then(Value::as_i64),
                refs: Vec::new(),
                content,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn office(addresses: Value) -> Value {
        json!({
            "list_id": "8b0d5e2c-7a41-4b7a-9f5c-3e1d2c4b6a80",
            "label": "office",
            "list_type": "ALLOW",
            "ip_addresses": addresses,
            "address_count": 2,
            "enabled": true,
            "created_at": 1_760_000_000_000_i64,
            "created_by": 7_263_581_120_519_640_i64,
            "updated_at": 1_764_115_200_000_i64,
            "updated_by": 7_263_581_120_519_640_i64
        })
    }

    #[test]
    fn keyed_by_type_and_label_addresses_sorted() {
        let drafts = normalize(
            &[office(json!(["203.0.113.0/24", "198.51.100.7"]))],
            &Resolver::default(),
        );
        assert_eq!(drafts.len(), 1);
        let d = &drafts[0];
        assert_eq!(d.key, "ALLOW:office");
        assert_eq!(d.modified_at, Some(1_764_115_200_000));
        assert!(d.refs.is_empty());
        assert_eq!(
            d.content,
            json!({
                "label": "office",
                "list_type": "ALLOW",
                "ip_addresses": ["198.51.100.7", "203.0.113.0/24"],
                "enabled": true
            })
        );
    }

    #[test]
    fn address_order_does_not_matter() {
        let a = normalize(
            &[office(json!(["203.0.113.0/24", "198.51.100.7"]))],
            &Resolver::default(),
        );
        let b = normalize(
            &[office(json!(["198.51.100.7", "203.0.113.0/24"]))],
            &Resolver::default(),
        );
        assert_eq!(a, b);
    }
}
