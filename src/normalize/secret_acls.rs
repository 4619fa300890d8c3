//! Secret scope ACLs, keyed by `scope/principal`.
//!
//! The API names a principal without saying what it is, so the reference's
//! kind is guessed from its shape: a UUID is a service principal's
//! `applicationId`, a name with `@` is a user, anything else is a group.

use serde_json::{Value, json};

use super::{Draft, Resolver, str_field};
use crate::kind::Kind;

pub(crate) fn normalize(objects: &[Value], _r: &Resolver) -> Vec<Draft> {
    objects
        .iter()
        .filter_map(|acl| {
            let scope = str_field(acl, "scope")?;
            let principal = str_field(acl, "principal")?;
            let mut refs = Vec::new();
            Resolver::named("scope", Kind::SecretScopes, scope, &mut refs);
            Resolver::named("principal", principal_kind(principal), principal, &mut refs);
            Some(Draft {
                key: format!("{scope}/{principal}"),
                modified_at: None,
                refs,
                content: json!({"scope": scope, "principal": principal, "permission": acl.get("permission")}),
            })
        })
        .collect()
}

/// The kind a secret ACL principal most likely is, from its shape alone.
fn principal_kind(principal: &str) -> Kind {
    if is_uuid(principal) {
        Kind::ServicePrincipals
    } else if principal.contains('@') {
        Kind::Users
    } else {
        Kind::Groups
    }
}

/// True for the 8-4-4-4-12 hex form of a UUID.
fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, len)| p.len() == len && p.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::Reference;

    fn named(field: &str, kind: Kind, key: &str) -> Reference {
        Reference {
            field: field.into(),
            kind,
            key: Some(key.into()),
            unresolved_id: None,
        }
    }

    #[test]
    fn principals_are_referred_to_by_shape() {
        let raw = [
            json!({"principal": "data-eng", "permission": "READ", "scope": "etl"}),
            json!({"principal": "ana.lopez@example.com", "permission": "MANAGE", "scope": "etl"}),
            json!({"principal": "6f2a9c1e-3b7d-4e8f-9a0b-1c2d3e4f5a6b", "permission": "WRITE", "scope": "etl"}),
        ];
        let drafts = normalize(&raw, &Resolver::default());
        assert_eq!(drafts.len(), 3);
        assert_eq!(drafts[0].key, "etl/data-eng");
        assert_eq!(drafts[0].modified_at, None);
        assert_eq!(
            drafts[0].content,
            json!({"scope": "etl", "principal": "data-eng", "permission": "READ"})
        );
        assert_eq!(
            drafts[0].refs,
            vec![
                named("scope", Kind::SecretScopes, "etl"),
                named("principal", Kind::Groups, "data-eng")
            ]
        );
        assert_eq!(drafts[1].key, "etl/ana.lopez@example.com");
        assert_eq!(
            drafts[1].refs[1],
            named("principal", Kind::Users, "ana.lopez@example.com")
        );
        assert_eq!(drafts[2].key, "etl/6f2a9c1e-3b7d-4e8f-9a0b-1c2d3e4f5a6b");
        assert_eq!(
            drafts[2].content,
            json!({"scope": "etl", "principal": "6f2a9c1e-3b7d-4e8f-9a0b-1c2d3e4f5a6b", "permission": "WRITE"})
        );
        assert_eq!(
            drafts[2].refs[1],
            named(
                "principal",
                Kind::ServicePrincipals,
                "6f2a9c1e-3b7d-4e8f-9a0b-1c2d3e4f5a6b"
            )
        );
    }

    #[test]
    fn uuid_shape_is_exact() {
        assert!(is_uuid("6F2A9C1E-3B7D-4E8F-9A0B-1C2D3E4F5A6B"));
        assert!(!is_uuid("6f2a9c1e-3b7d-4e8f-9a0b-1c2d3e4f5a6"));
        assert!(!is_uuid("data-eng-team-one-two"));
        assert!(!is_uuid("6f2a9c1e3b7d4e8f9a0b1c2d3e4f5a6b"));
    }
}
