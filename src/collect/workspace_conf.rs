//! Workspace settings: `GET /api/2.0/workspace-conf?keys=k1,k2,...`.
//!
//! The API only answers for the keys asked for, and refuses the whole request
//! with HTTP 400 `Invalid keys: ["k1", ...]` when a key is unknown on this
//! cloud or tier. That request is retried once without those keys; the
//! removed keys are not recorded anywhere, since they simply do not exist there.
//!
//! The reply is one flat object of strings; each key becomes one raw object
//! `{"name": key, "value": value}`.

use serde_json::Value;

use super::{Cx, RawKind};
use crate::client::ApiError;
use crate::kind::Kind;

const PATH: &str = "/api/2.0/workspace-conf";

/// The settings read: the workspace-conf keys the Terraform provider's
/// exporter reads (`tf:exporter/context.go`), as listed in reference §5.10
/// (`shared/reference/databricks-api.md`).
pub const WORKSPACE_CONF_KEYS: &[&str] = &[
    "enableIpAccessLists",
    "enableTokensConfig",
    "maxTokenLifetimeDays",
    "maxUserInactiveDays",
    "enforceUserIsolation",
    "enforceWorkspaceViewAcls",
    "enforceClusterViewAcls",
    "enableJobViewAcls",
    "enableEnforceImdsV2",
    "customerApprovedWSLoginExpirationTime",
    "enableVerboseAuditLogs",
    "enable-X-Frame-Options",
    "enable-X-Content-Type-Options",
    "enable-X-XSS-Protection",
    "enableDeprecatedClusterNamedInitScripts",
    "enableDeprecatedGlobalInitScripts",
    "enableLibraryAndInitScriptOnSharedCluster",
    "enableProjectTypeInWorkspace",
    "enableWorkspaceFilesystem",
    "enableProjectsAllowList",
    "projectsAllowList",
    "reposIpynbResultsExportPermissions",
    "storeInteractiveNotebookResultsInCustomerAccount",
    "enableResultsDownloading",
    "enableUploadDataUis",
    "enableExportNotebook",
    "enableNotebookTableClipboard",
    "enableWebTerminal",
    "enableDbfsFileBrowser",
    "enableLegacyNotebookVisualizations",
    "rStudioUserDefaultHomeBase",
    "enablePipelinesDataSample",
    "enableDatabricksAutologgingAdminConf",
    "mlflowRunArtifactDownloadEnabled",
    "mlflowModelServingEndpointCreationEnabled",
    "mlflowModelRegistryEmailNotificationsEnabled",
];

pub(crate) async fn collect(cx: &Cx) -> RawKind {
    match read(cx).await {
        Ok(objects) => RawKind::complete(objects),
        Err(e) => RawKind::failed(e),
    }
}

async fn read(cx: &Cx) -> Result<Vec<Value>, ApiError> {
    let keys: Vec<&str> = WORKSPACE_CONF_KEYS.to_vec();
    let reply = match get(cx, &keys).await {
        Ok(reply) => reply,
        Err(e) => {
            let Some(invalid) = invalid_keys(&e) else {
                return Err(e);
            };
            let kept: Vec<&str> = keys
                .into_iter()
                .filter(|k| !invalid.iter().any(|i| i == k))
                .collect();
            if kept.len() == WORKSPACE_CONF_KEYS.len() {
                // The server named none of our keys: retrying would fail the same way.
                return Err(e);
            }
            if kept.is_empty() {
                return Ok(Vec::new());
            }
            get(cx, &kept).await?
        }
    };
    let Value::Object(settings) = reply else {
        return Err(ApiError::Decode {
            method: "GET".into(),
            path: PATH.into(),
            message: "the reply should be an object of settings".into(),
            excerpt: reply.to_string().chars().take(60).collect(),
        });
    };
    Ok(settings
        .into_iter()
        .map(|(name, value)| serde_json::json!({ "name": name, "value": value }))
        .collect())
}

async fn get(cx: &Cx, keys: &[&str]) -> Result<Value, ApiError> {
    cx.get(Kind::WorkspaceConf, PATH, &[("keys", keys.join(","))])
        .await
}

/// The keys named by a `400 Invalid keys: ["a", "b"]` answer, if `e` is one.
fn invalid_keys(e: &ApiError) -> Option<Vec<String>> {
    let ApiError::Http {
        status: 400,
        message,
        ..
    } = e
    else {
        return None;
    };
    let rest = &message[message.find("Invalid keys:")? + "Invalid keys:".len()..];
    let list = &rest[rest.find('[')?..];
    let list = &list[..=list.find(']')?];
    let keys: Vec<String> = serde_json::from_str(list).ok()?;
    (!keys.is_empty()).then_some(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(status: u16, message: &str) -> ApiError {
        ApiError::Http {
            method: "GET".into(),
            path: PATH.into(),
            status,
            code: Some("INVALID_PARAMETER_VALUE".into()),
            message: message.into(),
        }
    }

    #[test]
    fn invalid_keys_are_read_from_the_400_message() {
        let e = http(
            400,
            r#"Invalid keys: ["enableEnforceImdsV2", "enableWebTerminal"]"#,
        );
        assert_eq!(
            invalid_keys(&e),
            Some(vec![
                "enableEnforceImdsV2".to_owned(),
                "enableWebTerminal".to_owned()
            ])
        );
    }

    #[test]
    fn other_errors_are_not_invalid_keys() {
        assert_eq!(invalid_keys(&http(403, r#"Invalid keys: ["a"]"#)), None);
        assert_eq!(invalid_keys(&http(400, "Invalid keys: []")), None);
        assert_eq!(invalid_keys(&http(400, "Invalid keys: [unquoted]")), None);
        assert_eq!(invalid_keys(&http(400, "Malformed request")), None);
        assert_eq!(invalid_keys(&http(400, "Invalid keys: ]broken[")), None);
    }
}
