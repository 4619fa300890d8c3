//! Global init scripts, keyed by name.
//!
//! The body is compared by its SHA-256 only (`script_sha256`, hex, of the
//! decoded bytes): scripts can hold credentials, and a hash is all a drift
//! check needs.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{Draft, Resolver, str_field};

pub(crate) fn normalize(objects: &[Value], _r: &Resolver) -> Vec<Draft> {
    objects
        .iter()
        .filter_map(|script| {
            let key = str_field(script, "name")?.to_owned();
            let content = json!({
                "name": key,
                "enabled": script.get("enabled"),
                "position": script.get("position"),
                "script_sha256": str_field(script, "script_sha256")
                    .map(str::to_owned)
                    .or_else(|| str_field(script, "script").map(script_sha256)),
            });
            Some(Draft {
                key,
                modified_at: script.get("updated_at").and_then(Value::as_i64),
                refs: Vec::new(),
                content,
            })
        })
        .collect()
}

/// Hex SHA-256 of the decoded script; a body that is not base64 (never seen)
/// is hashed as sent, so a change to it still shows as drift.
pub(crate) fn script_sha256(b64: &str) -> String {
    let compact: String = b64.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = STANDARD
        .decode(compact.as_bytes())
        .unwrap_or_else(|_| b64.as_bytes().to_vec());
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::canonicalize;

    /// `#!/bin/bash\necho hello\n`, base64.
    const BODY: &str = "IyEvYmluL2Jhc2gKZWNobyBoZWxsbwo=";

    fn script(body: Option<&str>) -> Value {
        json!({
            "script_id": "A1B2C3D4E5F60718",
            "name": "install-agent",
            "enabled": true,
            "position": 0,
            "created_at": 1_760_000_000_000_i64,
            "created_by": "ana.lopez@example.com",
            "updated_at": 1_764_115_200_000_i64,
            "updated_by": "ana.lopez@example.com",
            "script": body
        })
    }

    #[test]
    fn body_is_hashed_never_kept() {
        let drafts = normalize(&[script(Some(BODY))], &Resolver::default());
        assert_eq!(drafts.len(), 1);
        let d = &drafts[0];
        assert_eq!(d.key, "install-agent");
        assert_eq!(d.modified_at, Some(1_764_115_200_000));
        assert!(d.refs.is_empty());
        // sha256 of the decoded bytes `#!/bin/bash\necho hello\n`.
        let expected = format!("{:x}", Sha256::digest(b"#!/bin/bash\necho hello\n"));
        assert_eq!(
            d.content,
            json!({"name": "install-agent", "enabled": true, "position": 0, "script_sha256": expected})
        );
        assert!(!d.content.to_string().contains(BODY));
    }

    #[test]
    fn hash_is_a_known_value() {
        assert_eq!(
            script_sha256(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            script_sha256("aGVsbG8="),
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
    }

    #[test]
    fn a_script_read_without_its_body_has_no_hash() {
        let mut content = normalize(&[script(None)], &Resolver::default())
            .remove(0)
            .content;
        canonicalize(&mut content);
        assert_eq!(
            content,
            json!({"name": "install-agent", "enabled": true, "position": 0})
        );
    }
}
