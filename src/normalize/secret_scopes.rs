//! Secret scopes, keyed by scope name.
//!
//! `keyvault_metadata` (Azure Key Vault backed scopes) is kept: a secondary
//! scope pointing at the primary region's vault is worth seeing.

use serde_json::{Value, json};

use super::{Draft, Resolver, str_field};

pub(crate) fn normalize(objects: &[Value], _r: &Resolver) -> Vec<Draft> {
    objects
        .iter()
        .filter_map(|scope| {
            let key = str_field(scope, "name")?.to_owned();
            let content = json!({
                "name": key,
                "backend_type": scope.get("backend_type"),
                "keyvault_metadata": scope.get("keyvault_metadata"),
            });
            Some(Draft::new(key, content))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::canonicalize;

    #[test]
    fn databricks_and_key_vault_scopes() {
        let raw = [
            json!({"name": "etl", "backend_type": "DATABRICKS"}),
            json!({
                "name": "kv-prod",
                "backend_type": "AZURE_KEYVAULT",
                "keyvault_metadata": {
                    "resource_id": "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-prod",
                    "dns_name": "https://kv-prod.vault.azure.net/"
                }
            }),
        ];
        let drafts = normalize(&raw, &Resolver::default());
        assert_eq!(drafts.len(), 2);
        assert_eq!(drafts[0].key, "etl");
        assert_eq!(drafts[0].modified_at, None);
        assert!(drafts[0].refs.is_empty());
        let mut etl = drafts[0].content.clone();
        canonicalize(&mut etl);
        assert_eq!(etl, json!({"name": "etl", "backend_type": "DATABRICKS"}));
        assert_eq!(drafts[1].key, "kv-prod");
        assert_eq!(
            drafts[1].content,
            json!({
                "name": "kv-prod",
                "backend_type": "AZURE_KEYVAULT",
                "keyvault_metadata": {
                    "resource_id": "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-prod",
                    "dns_name": "https://kv-prod.vault.azure.net/"
                }
            })
        );
    }

    #[test]
    fn scopes_without_a_name_are_skipped() {
        assert!(
            normalize(
                &[json!({"backend_type": "DATABRICKS"})],
                &Resolver::default()
            )
            .is_empty()
        );
    }
}
