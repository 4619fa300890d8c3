//! Workspace settings, keyed by setting name.
//!
//! The collector turns the workspace-conf reply into `{name, value}` objects.
//! A null or `""` value means the setting was never set (the service default
//! applies), so it is skipped, as the Terraform provider does: a setting left
//! unset in one workspace and never returned by the other compare equal.

use serde_json::{Value, json};

use super::{Draft, Resolver, str_field};

pub(crate) fn normalize(objects: &[Value], _r: &Resolver) -> Vec<Draft> {
    objects
        .iter()
        .filter_map(|setting| {
            let name = str_field(setting, "name")?;
            let value = setting.get("value")?;
            if value.is_null() || value.as_str() == Some("") {
                return None;
            }
            Some(Draft::new(name, json!({"name": name, "value": value})))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_values_are_kept_unset_ones_skipped() {
        let raw = [
            json!({"name": "enableIpAccessLists", "value": "true"}),
            json!({"name": "maxTokenLifetimeDays", "value": "90"}),
            json!({"name": "enableWebTerminal", "value": null}),
            json!({"name": "projectsAllowList", "value": ""}),
        ];
        let drafts = normalize(&raw, &Resolver::default());
        assert_eq!(drafts.len(), 2);
        assert_eq!(drafts[0].key, "enableIpAccessLists");
        assert_eq!(drafts[0].modified_at, None);
        assert!(drafts[0].refs.is_empty());
        assert_eq!(
            drafts[0].content,
            json!({"name": "enableIpAccessLists", "value": "true"})
        );
        assert_eq!(drafts[1].key, "maxTokenLifetimeDays");
        assert_eq!(
            drafts[1].content,
            json!({"name": "maxTokenLifetimeDays", "value": "90"})
        );
    }
}
