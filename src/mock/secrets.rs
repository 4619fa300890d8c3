//! Secrets: scopes, keys and scope ACLs under `/api/2.0/secrets/`.
//!
//! Values can be put and are kept (so a rehearsal can check a secret exists),
//! but no endpoint ever returns one: `secrets/get` answers 403, lists carry
//! key names and timestamps only, and dumps leave values out.

use std::collections::BTreeMap;
use std::fmt;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::routing::{get, post};
use base64::Engine;
use bytes::Bytes;
use serde_json::{Value, json};

use super::error::{ApiError, StoreError};
use super::fixture::LoadError;
use super::http::{Out, Query, Reply, empty, json_value};
use super::state::MockState;
use super::store::Workspace;

/// A secret value: its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct SecretValue(Box<[u8]>);

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretValue(<{} bytes redacted>)", self.0.len())
    }
}

/// One secret.
#[derive(Clone, Debug)]
struct Secret {
    last_updated_timestamp: i64,
    #[expect(dead_code, reason = "kept so a put is a real write; never read back")]
    value: Option<SecretValue>,
}

/// One scope.
#[derive(Clone, Debug, Default)]
struct Scope {
    backend_type: String,
    keyvault_metadata: Option<Value>,
    secrets: BTreeMap<String, Secret>,
    acls: BTreeMap<String, String>,
}

/// Every scope.
#[derive(Debug, Default)]
pub(crate) struct SecretStore {
    scopes: BTreeMap<String, Scope>,
}

impl SecretStore {
    /// True when the scope has the key.
    pub(crate) fn has_secret(&self, scope: &str, key: &str) -> bool {
        self.scopes
            .get(scope)
            .is_some_and(|s| s.secrets.contains_key(key))
    }

    /// Every scope with keys and ACLs, without values, for dumps.
    pub(crate) fn dump(&self) -> Vec<String> {
        self.scopes
            .iter()
            .map(|(name, s)| {
                let secrets: Vec<Value> =
                    s.secrets.iter().map(|(k, v)| json!({"key": k, "last_updated_timestamp": v.last_updated_timestamp})).collect();
                let acls: Vec<Value> = s.acls.iter().map(|(p, perm)| json!({"principal": p, "permission": perm})).collect();
                let mut scope = json!({"name": name, "backend_type": s.backend_type, "secrets": secrets, "acls": acls});
                if let Some(k) = &s.keyvault_metadata {
                    scope["keyvault_metadata"] = k.clone();
                }
                scope.to_string()
            })
            .collect()
    }
}

const PERMISSIONS: [&str; 3] = ["READ", "WRITE", "MANAGE"];

/// Adds one fixture scope with its secrets and ACLs.
pub(crate) fn load(ws: &mut Workspace, raw: &str) -> Result<(), LoadError> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RawSecret {
        key: String,
        #[serde(default)]
        last_updated_timestamp: i64,
        value: Option<String>,
    }
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RawAcl {
        principal: String,
        permission: String,
    }
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RawScope {
        name: String,
        backend_type: Option<String>,
        keyvault_metadata: Option<Value>,
        #[serde(default)]
        secrets: Vec<RawSecret>,
        #[serde(default)]
        acls: Vec<RawAcl>,
    }
    let raw: RawScope = serde_json::from_str(raw)?;
    if ws.secrets.scopes.contains_key(&raw.name) {
        return Err(format!("duplicate scope `{}`", raw.name).into());
    }
    let mut scope = Scope {
        backend_type: raw.backend_type.unwrap_or_else(|| "DATABRICKS".into()),
        keyvault_metadata: raw.keyvault_metadata,
        ..Scope::default()
    };
    for s in raw.secrets {
        let value = match s.value {
            Some(v) => Some(SecretValue(
                base64::engine::general_purpose::STANDARD
                    .decode(v.as_bytes())
                    .map_err(|_| format!("the value of secret `{}` is not base64", s.key))?
                    .into(),
            )),
            None => None,
        };
        scope.secrets.insert(
            s.key,
            Secret {
                last_updated_timestamp: s.last_updated_timestamp,
                value,
            },
        );
    }
    for a in raw.acls {
        if !PERMISSIONS.contains(&a.permission.as_str()) {
            return Err(format!("unknown secret ACL permission `{}`", a.permission).into());
        }
        scope.acls.insert(a.principal, a.permission);
    }
    ws.secrets.scopes.insert(raw.name, scope);
    Ok(())
}

/// The routes.
pub(crate) fn routes() -> Router<MockState> {
    Router::new()
        .route("/api/2.0/secrets/scopes/list", get(list_scopes))
        .route("/api/2.0/secrets/scopes/create", post(create_scope))
        .route("/api/2.0/secrets/scopes/delete", post(delete_scope))
        .route("/api/2.0/secrets/list", get(list_secrets))
        .route("/api/2.0/secrets/put", post(put_secret))
        .route("/api/2.0/secrets/delete", post(delete_secret))
        .route("/api/2.0/secrets/get", get(get_secret))
        .route("/api/2.0/secrets/acls/list", get(list_acls))
        .route("/api/2.0/secrets/acls/get", get(get_acl))
        .route("/api/2.0/secrets/acls/put", post(put_acl))
        .route("/api/2.0/secrets/acls/delete", post(delete_acl))
}

fn no_scope(name: &str) -> StoreError {
    StoreError::NotFound(format!("Scope {name} does not exist!"))
}

fn valid_name(name: &str, extra: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c) || extra.contains(c))
}

#[derive(serde::Deserialize)]
struct ScopeRequest {
    scope: Option<String>,
    initial_manage_principal: Option<String>,
    scope_backend_type: Option<String>,
    backend_azure_keyvault: Option<Value>,
    key: Option<String>,
    string_value: Option<String>,
    bytes_value: Option<String>,
    principal: Option<String>,
    permission: Option<String>,
}

fn scope_of(req: &ScopeRequest) -> Result<String, ApiError> {
    req.scope
        .clone()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| super::http::missing("scope"))
}

async fn list_scopes(State(st): State<MockState>) -> Reply {
    let ws = st.read();
    let scopes: Vec<String> = ws
        .secrets
        .scopes
        .iter()
        .map(|(name, s)| {
            let mut v = json!({"name": name, "backend_type": s.backend_type});
            if let Some(k) = &s.keyvault_metadata {
                v["keyvault_metadata"] = k.clone();
            }
            v.to_string()
        })
        .collect();
    Ok(Out::object()
        .array_nonempty("scopes", scopes.iter().map(String::as_str))
        .reply())
}

async fn create_scope(State(st): State<MockState>, body: Bytes) -> Reply {
    let req: ScopeRequest = super::http::body(&body)?;
    let name = scope_of(&req)?;
    if !valid_name(&name, "@") {
        return Err(ApiError::invalid(format!(
            "Scope name {name} is invalid: it may contain alphanumerics, dashes, underscores, periods and at signs, up to 128 characters"
        )));
    }
    let backend = req
        .scope_backend_type
        .unwrap_or_else(|| "DATABRICKS".into());
    if backend != "DATABRICKS" && backend != "AZURE_KEYVAULT" {
        return Err(ApiError::invalid(format!(
            "Invalid scope_backend_type: {backend}"
        )));
    }
    let mut ws = st.write();
    if ws.secrets.scopes.contains_key(&name) {
        return Err(StoreError::AlreadyExists(format!("Scope {name} already exists!")).into());
    }
    let manager = req.initial_manage_principal.unwrap_or_else(|| ws.caller());
    let mut scope = Scope {
        backend_type: backend,
        keyvault_metadata: req.backend_azure_keyvault,
        ..Scope::default()
    };
    scope.acls.insert(manager, "MANAGE".into());
    ws.secrets.scopes.insert(name, scope);
    Ok(empty())
}

async fn delete_scope(State(st): State<MockState>, body: Bytes) -> Reply {
    let req: ScopeRequest = super::http::body(&body)?;
    let name = scope_of(&req)?;
    st.write()
        .secrets
        .scopes
        .remove(&name)
        .ok_or_else(|| no_scope(&name))?;
    Ok(empty())
}

async fn list_secrets(State(st): State<MockState>, RawQuery(q): RawQuery) -> Reply {
    let q = Query::parse(q.as_deref());
    let name = q.required("scope")?;
    let ws = st.read();
    let scope = ws.secrets.scopes.get(name).ok_or_else(|| no_scope(name))?;
    let secrets: Vec<String> = scope
        .secrets
        .iter()
        .map(|(k, s)| {
            json!({"key": k, "last_updated_timestamp": s.last_updated_timestamp}).to_string()
        })
        .collect();
    Ok(Out::object()
        .array_nonempty("secrets", secrets.iter().map(String::as_str))
        .reply())
}

async fn put_secret(State(st): State<MockState>, body: Bytes) -> Reply {
    let req: ScopeRequest = super::http::body(&body)?;
    let name = scope_of(&req)?;
    let key = req.key.clone().ok_or_else(|| super::http::missing("key"))?;
    if !valid_name(&key, "") {
        return Err(ApiError::invalid(format!(
            "Secret key {key} is invalid: it may contain alphanumerics, dashes, underscores and periods, up to 128 characters"
        )));
    }
    let value: Vec<u8> = match (req.string_value, req.bytes_value) {
        (Some(s), None) => s.into_bytes(),
        (None, Some(b)) => base64::engine::general_purpose::STANDARD
            .decode(b.as_bytes())
            .map_err(|_| ApiError::invalid("bytes_value must be base64 encoded"))?,
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "Only one of string_value and bytes_value may be given",
            ));
        }
        (None, None) => {
            return Err(ApiError::invalid(
                "One of string_value and bytes_value is required",
            ));
        }
    };
    if value.len() > 128 * 1024 {
        return Err(ApiError::invalid("A secret value may be at most 128 KB"));
    }
    let mut ws = st.write();
    let now = ws.now();
    let scope = ws
        .secrets
        .scopes
        .get_mut(&name)
        .ok_or_else(|| no_scope(&name))?;
    if scope.backend_type != "DATABRICKS" {
        return Err(ApiError::invalid(format!(
            "Scope {name} is backed by Azure Key Vault and is read-only"
        )));
    }
    if !scope.secrets.contains_key(&key) && scope.secrets.len() >= 1000 {
        return Err(ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "MAX_SECRETS_PER_SCOPE_EXCEEDED",
            format!("Scope {name} already holds 1000 secrets"),
        ));
    }
    scope.secrets.insert(
        key,
        Secret {
            last_updated_timestamp: now,
            value: Some(SecretValue(value.into())),
        },
    );
    Ok(empty())
}

async fn delete_secret(State(st): State<MockState>, body: Bytes) -> Reply {
    let req: ScopeRequest = super::http::body(&body)?;
    let name = scope_of(&req)?;
    let key = req.key.ok_or_else(|| super::http::missing("key"))?;
    let mut ws = st.write();
    let scope = ws
        .secrets
        .scopes
        .get_mut(&name)
        .ok_or_else(|| no_scope(&name))?;
    scope.secrets.remove(&key).ok_or_else(|| {
        StoreError::NotFound(format!("Secret {key} does not exist in scope {name}!"))
    })?;
    Ok(empty())
}

/// Secret values are never returned, as from outside a notebook or job.
async fn get_secret() -> Reply {
    Err(StoreError::PermissionDenied(
        "Secret values can only be read from within a notebook or job.".into(),
    )
    .into())
}

async fn list_acls(State(st): State<MockState>, RawQuery(q): RawQuery) -> Reply {
    let q = Query::parse(q.as_deref());
    let name = q.required("scope")?;
    let ws = st.read();
    let scope = ws.secrets.scopes.get(name).ok_or_else(|| no_scope(name))?;
    let items: Vec<String> = scope
        .acls
        .iter()
        .map(|(p, perm)| json!({"principal": p, "permission": perm}).to_string())
        .collect();
    Ok(Out::object()
        .array_nonempty("items", items.iter().map(String::as_str))
        .reply())
}

async fn get_acl(State(st): State<MockState>, RawQuery(q): RawQuery) -> Reply {
    let q = Query::parse(q.as_deref());
    let name = q.required("scope")?;
    let principal = q.required("principal")?;
    let ws = st.read();
    let scope = ws.secrets.scopes.get(name).ok_or_else(|| no_scope(name))?;
    let perm = scope.acls.get(principal).ok_or_else(|| {
        StoreError::NotFound(format!("No ACL for principal {principal} in scope {name}"))
    })?;
    Ok(json_value(
        &json!({"principal": principal, "permission": perm}),
    ))
}

async fn put_acl(State(st): State<MockState>, body: Bytes) -> Reply {
    let req: ScopeRequest = super::http::body(&body)?;
    let name = scope_of(&req)?;
    let principal = req
        .principal
        .filter(|p| !p.is_empty())
        .ok_or_else(|| super::http::missing("principal"))?;
    let permission = req
        .permission
        .ok_or_else(|| super::http::missing("permission"))?;
    if !PERMISSIONS.contains(&permission.as_str()) {
        return Err(ApiError::invalid(format!(
            "Invalid permission {permission}: expected READ, WRITE or MANAGE"
        )));
    }
    let mut ws = st.write();
    let known = ws.users.id_of(&principal).is_some()
        || ws.groups.id_of(&principal).is_some()
        || ws.service_principals.id_of(&principal).is_some()
        || principal == "users";
    if !known {
        return Err(StoreError::NotFound(format!("Principal {principal} does not exist")).into());
    }
    let scope = ws
        .secrets
        .scopes
        .get_mut(&name)
        .ok_or_else(|| no_scope(&name))?;
    scope.acls.insert(principal, permission);
    Ok(empty())
}

async fn delete_acl(State(st): State<MockState>, body: Bytes) -> Reply {
    let req: ScopeRequest = super::http::body(&body)?;
    let name = scope_of(&req)?;
    let principal = req
        .principal
        .ok_or_else(|| super::http::missing("principal"))?;
    let mut ws = st.write();
    let scope = ws
        .secrets
        .scopes
        .get_mut(&name)
        .ok_or_else(|| no_scope(&name))?;
    scope.acls.remove(&principal).ok_or_else(|| {
        StoreError::NotFound(format!("No ACL for principal {principal} in scope {name}"))
    })?;
    Ok(empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_values_never_print() {
        let v = SecretValue(b"hunter2".to_vec().into());
        assert!(!format!("{v:?}").contains("hunter2"));
    }
}
