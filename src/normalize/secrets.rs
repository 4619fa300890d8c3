//! Secret key names (never values), keyed by `scope/key`.
//!
//! The collector adds `scope` to each listed `{key, last_updated_timestamp}`.
//! The timestamp is the modification time, kept beside the content: a
//! secondary's secret values are expected to differ, but a secret updated
//! long after the primary's is replication lag worth reporting.

use serde_json::{Value, json};

use super::{Draft, Resolver, str_field};
use crate::kind::Kind;

pub(crate) fn normalize(objects: &[Value], _r: &Resolver) -> Vec<Draft> {
    objects
        .iter()
        .filter_map(|secret| {
            let scope = str_field(secret, "scope")?;
            let key = str_field(secret, "key")?;
            let mut refs = Vec::new();
            Resolver::named("scope", Kind::SecretScopes, scope, &mut refs);
            Some(Draft {
                key: format!("{scope}/{key}"),
                modified_at: secret.get("last_updated_timestamp").and_then(Value::as_i64),
                refs,
                content: json!({"scope": scope, "key": key}),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::Reference;

    #[test]
    fn key_is_scope_slash_key_and_time_is_kept_apart() {
        let raw = json!({"key": "db-password", "last_updated_timestamp": 1_764_115_200_000_i64, "scope": "etl"});
        let drafts = normalize(&[raw], &Resolver::default());
        assert_eq!(drafts.len(), 1);
        let d = &drafts[0];
        assert_eq!(d.key, "etl/db-password");
        assert_eq!(d.modified_at, Some(1_764_115_200_000));
        assert_eq!(d.content, json!({"scope": "etl", "key": "db-password"}));
        assert_eq!(
            d.refs,
            vec![Reference {
                field: "scope".into(),
                kind: Kind::SecretScopes,
                key: Some("etl".into()),
                unresolved_id: None
            }]
        );
    }

    #[test]
    fn secrets_missing_scope_or_key_are_skipped() {
        let raw = [json!({"key": "orphan"}), json!({"scope": "etl"})];
        assert!(normalize(&raw, &Resolver::default()).is_empty());
    }
}
