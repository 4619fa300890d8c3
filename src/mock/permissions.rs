//! Object ACLs: `GET|PUT|PATCH /api/2.0/permissions/{type}/{id}` and
//! `…/permissionLevels`, for clusters, policies, pools, jobs, notebooks,
//! directories, files, repos and SQL warehouses (`warehouses/{id}` and
//! `sql/warehouses/{id}` are one object), and `authorization/tokens|passwords`.
//!
//! Each object keeps its direct entries. Inherited entries are what the
//! fixture recorded for the object, or else the fixture format's default:
//! group `admins` CAN_MANAGE from the type's root (`/jobs/`, `/directories/`,
//! …). Folder entries are not propagated to what is under them.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use bytes::Bytes;
use serde_json::{Value, json};

use super::error::{ApiError, StoreError};
use super::fixture::LoadError;
use super::http::{Reply, json, json_value};
use super::state::MockState;
use super::store::Workspace;

/// An object type of the Permissions API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum ObjType {
    Clusters,
    ClusterPolicies,
    InstancePools,
    Jobs,
    Notebooks,
    Directories,
    Files,
    Repos,
    Warehouses,
    Authorization,
}

impl ObjType {
    /// The type from the path segment(s) of a request.
    pub(crate) fn from_segment(segment: &str) -> Option<ObjType> {
        Some(match segment {
            "clusters" => ObjType::Clusters,
            "cluster-policies" => ObjType::ClusterPolicies,
            "instance-pools" => ObjType::InstancePools,
            "jobs" => ObjType::Jobs,
            "notebooks" => ObjType::Notebooks,
            "directories" => ObjType::Directories,
            "files" => ObjType::Files,
            "repos" => ObjType::Repos,
            "warehouses" | "sql/warehouses" => ObjType::Warehouses,
            "authorization" => ObjType::Authorization,
            _ => return None,
        })
    }

    /// The prefix of `object_id` (`/jobs/`, `/sql/warehouses/`, …), also the root object.
    pub(crate) fn prefix(self) -> &'static str {
        match self {
            ObjType::Clusters => "/clusters/",
            ObjType::ClusterPolicies => "/cluster-policies/",
            ObjType::InstancePools => "/instance-pools/",
            ObjType::Jobs => "/jobs/",
            ObjType::Notebooks => "/notebooks/",
            ObjType::Directories => "/directories/",
            ObjType::Files => "/files/",
            ObjType::Repos => "/repos/",
            ObjType::Warehouses => "/sql/warehouses/",
            ObjType::Authorization => "/authorization/",
        }
    }

    /// The `object_type` of the reply.
    fn object_type(self, id: &str) -> &'static str {
        match self {
            ObjType::Clusters => "cluster",
            ObjType::ClusterPolicies => "cluster-policy",
            ObjType::InstancePools => "instance-pool",
            ObjType::Jobs => "job",
            ObjType::Notebooks => "notebook",
            ObjType::Directories => "directory",
            ObjType::Files => "file",
            ObjType::Repos => "repo",
            ObjType::Warehouses => "warehouses",
            ObjType::Authorization if id == "passwords" => "passwords",
            ObjType::Authorization => "tokens",
        }
    }

    /// Where inherited admin rights come from.
    fn root(self) -> &'static str {
        match self {
            ObjType::Notebooks | ObjType::Files => "/directories/",
            other => other.prefix(),
        }
    }

    /// The permission levels the type accepts.
    pub(crate) fn levels(self) -> &'static [&'static str] {
        match self {
            ObjType::Clusters => &["CAN_ATTACH_TO", "CAN_RESTART", "CAN_MANAGE"],
            ObjType::ClusterPolicies => &["CAN_USE"],
            ObjType::InstancePools => &["CAN_ATTACH_TO", "CAN_MANAGE"],
            ObjType::Jobs => &["CAN_VIEW", "CAN_MANAGE_RUN", "CAN_MANAGE", "IS_OWNER"],
            ObjType::Notebooks | ObjType::Directories | ObjType::Files | ObjType::Repos => {
                &["CAN_READ", "CAN_RUN", "CAN_EDIT", "CAN_MANAGE"]
            }
            ObjType::Warehouses => &[
                "CAN_VIEW",
                "CAN_MONITOR",
                "CAN_USE",
                "CAN_MANAGE",
                "IS_OWNER",
            ],
            ObjType::Authorization => &["CAN_USE", "CAN_MANAGE"],
        }
    }

    fn has_owner(self) -> bool {
        matches!(self, ObjType::Jobs | ObjType::Warehouses)
    }

    /// The type of an `object_id` as replies and fixtures write it.
    fn from_object_id(object_id: &str) -> Option<(ObjType, &str)> {
        let all = [
            ObjType::Clusters,
            ObjType::ClusterPolicies,
            ObjType::InstancePools,
            ObjType::Jobs,
            ObjType::Notebooks,
            ObjType::Directories,
            ObjType::Files,
            ObjType::Repos,
            ObjType::Warehouses,
            ObjType::Authorization,
        ];
        if let Some(id) = object_id.strip_prefix("/warehouses/") {
            return Some((ObjType::Warehouses, id));
        }
        all.into_iter().find_map(|t| {
            object_id
                .strip_prefix(t.prefix())
                .filter(|id| !id.is_empty())
                .map(|id| (t, id))
        })
    }
}

/// Who an entry is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum PrincipalKind {
    User,
    Group,
    ServicePrincipal,
}

impl PrincipalKind {
    fn field(self) -> &'static str {
        match self {
            PrincipalKind::User => "user_name",
            PrincipalKind::Group => "group_name",
            PrincipalKind::ServicePrincipal => "service_principal_name",
        }
    }

    fn tag(self) -> &'static str {
        match self {
            PrincipalKind::User => "UserName",
            PrincipalKind::Group => "GroupName",
            PrincipalKind::ServicePrincipal => "ServicePrincipalName",
        }
    }
}

/// One direct entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Ace {
    pub(crate) kind: PrincipalKind,
    pub(crate) name: Box<str>,
    pub(crate) level: Box<str>,
}

/// One object's ACL.
#[derive(Clone, Debug, Default)]
pub(crate) struct Acl {
    direct: Vec<Ace>,
    /// Inherited entries as the fixture recorded them (`None`: derive them).
    recorded: Option<Vec<Value>>,
}

/// A principal and its reply entry, while a reply is built.
type RenderedEntry = ((PrincipalKind, Box<str>), serde_json::Map<String, Value>);

/// Every ACL that is not the default.
#[derive(Debug, Default)]
pub(crate) struct PermStore {
    acls: HashMap<(ObjType, Box<str>), Acl>,
}

impl PermStore {
    /// Forgets an object's ACL (the object was deleted).
    pub(crate) fn forget(&mut self, t: ObjType, id: &str) {
        self.acls.remove(&(t, id.into()));
    }
}

/// An entry of a request's `access_control_list`.
#[derive(Debug, serde::Deserialize)]
struct AceRequest {
    user_name: Option<String>,
    group_name: Option<String>,
    service_principal_name: Option<String>,
    permission_level: Option<String>,
}

/// A request body.
#[derive(Debug, serde::Deserialize)]
struct AclRequest {
    #[serde(default)]
    access_control_list: Vec<AceRequest>,
}

/// Reads the principal of an entry (exactly one of the three name fields).
fn principal_of(entry: &serde_json::Map<String, Value>) -> Option<(PrincipalKind, String)> {
    let mut found = None;
    for kind in [
        PrincipalKind::User,
        PrincipalKind::Group,
        PrincipalKind::ServicePrincipal,
    ] {
        if let Some(name) = entry.get(kind.field()).and_then(Value::as_str) {
            if found.is_some() {
                return None;
            }
            found = Some((kind, name.to_owned()));
        }
    }
    found
}

/// One permission of a fixture entry.
#[derive(serde::Deserialize)]
struct RawPermission {
    permission_level: String,
    #[serde(default)]
    inherited: bool,
    inherited_from_object: Option<Vec<String>>,
}

/// One entry of a fixture ACL.
#[derive(serde::Deserialize)]
struct RawEntry {
    user_name: Option<String>,
    group_name: Option<String>,
    service_principal_name: Option<String>,
    display_name: Option<String>,
    #[serde(default)]
    all_permissions: Vec<RawPermission>,
}

/// A fixture ACL: the reply shape of `GET`.
#[derive(serde::Deserialize)]
struct RawAcl {
    object_id: String,
    #[serde(default)]
    access_control_list: Vec<RawEntry>,
}

/// Adds one fixture ACL (the reply shape of `GET`).
pub(crate) fn load(ws: &mut Workspace, raw: &str) -> Result<(), LoadError> {
    let value: RawAcl = serde_json::from_str(raw)?;
    let object_id = value.object_id.as_str();
    let (t, id) = ObjType::from_object_id(object_id)
        .ok_or(format!("unknown object type in `{object_id}`"))?;
    if !ws.perm_object_exists(t, id) {
        return Err(format!("`{object_id}` names no object of the fixture").into());
    }
    let mut acl = Acl {
        direct: Vec::new(),
        recorded: Some(Vec::new()),
    };
    for entry in value.access_control_list {
        let names = [
            (PrincipalKind::User, entry.user_name),
            (PrincipalKind::Group, entry.group_name),
            (
                PrincipalKind::ServicePrincipal,
                entry.service_principal_name,
            ),
        ];
        let mut given = names.into_iter().filter_map(|(k, n)| n.map(|n| (k, n)));
        let (Some((kind, name)), None) = (given.next(), given.next()) else {
            return Err(
                "an entry needs exactly one of `user_name`, `group_name`, `service_principal_name`"
                    .to_owned()
                    .into(),
            );
        };
        let mut inherited = Vec::new();
        for p in entry.all_permissions {
            if p.inherited {
                let mut perm = json!({"permission_level": p.permission_level, "inherited": true});
                if let Some(from) = p.inherited_from_object {
                    perm["inherited_from_object"] = json!(from);
                }
                inherited.push(perm);
            } else {
                acl.direct.push(Ace {
                    kind,
                    name: name.as_str().into(),
                    level: p.permission_level.into(),
                });
            }
        }
        if !inherited.is_empty() {
            let mut e = serde_json::Map::new();
            e.insert(kind.field().into(), Value::from(name));
            if let Some(d) = entry.display_name {
                e.insert("display_name".into(), Value::from(d));
            }
            e.insert("all_permissions".into(), Value::Array(inherited));
            acl.recorded
                .get_or_insert_with(Vec::new)
                .push(Value::Object(e));
        }
    }
    let key = (t, Box::<str>::from(id));
    if ws.permissions.acls.contains_key(&key) {
        return Err(format!("duplicate permissions for `{object_id}`").into());
    }
    ws.permissions.acls.insert(key, acl);
    Ok(())
}

/// The routes.
pub(crate) fn routes() -> Router<MockState> {
    Router::new()
        .route(
            "/api/2.0/permissions/sql/warehouses/{id}",
            get(get_sql_warehouse)
                .put(put_sql_warehouse)
                .patch(patch_sql_warehouse),
        )
        .route(
            "/api/2.0/permissions/sql/warehouses/{id}/permissionLevels",
            get(levels_sql_warehouse),
        )
        .route(
            "/api/2.0/permissions/{type}/{id}",
            get(get_acl).put(put_acl).patch(patch_acl),
        )
        .route(
            "/api/2.0/permissions/{type}/{id}/permissionLevels",
            get(levels),
        )
}

fn object(st: &MockState, segment: &str, id: &str) -> Result<ObjType, ApiError> {
    let t = ObjType::from_segment(segment)
        .ok_or_else(|| ApiError::not_found(format!("{segment} {id} does not exist.")))?;
    if !st.read().perm_object_exists(t, id) {
        return Err(
            StoreError::NotFound(format!("{} {id} does not exist.", t.object_type(id))).into(),
        );
    }
    Ok(t)
}

async fn get_acl(
    State(st): State<MockState>,
    Path((segment, id)): Path<(String, String)>,
) -> Reply {
    let t = object(&st, &segment, &id)?;
    Ok(json_value(&st.read().render_acl(t, &id)))
}

async fn get_sql_warehouse(st: State<MockState>, Path(id): Path<String>) -> Reply {
    get_acl(st, Path(("sql/warehouses".into(), id))).await
}

async fn put_acl(
    State(st): State<MockState>,
    Path((segment, id)): Path<(String, String)>,
    body: Bytes,
) -> Reply {
    write_acl(&st, &segment, &id, &body, true)
}

async fn put_sql_warehouse(
    State(st): State<MockState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Reply {
    write_acl(&st, "sql/warehouses", &id, &body, true)
}

async fn patch_acl(
    State(st): State<MockState>,
    Path((segment, id)): Path<(String, String)>,
    body: Bytes,
) -> Reply {
    write_acl(&st, &segment, &id, &body, false)
}

async fn patch_sql_warehouse(
    State(st): State<MockState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Reply {
    write_acl(&st, "sql/warehouses", &id, &body, false)
}

async fn levels(State(st): State<MockState>, Path((segment, id)): Path<(String, String)>) -> Reply {
    let t = object(&st, &segment, &id)?;
    let levels: Vec<Value> =
        t.levels().iter().map(|l| json!({"permission_level": l, "description": format!("Can {}", l.trim_start_matches("CAN_").replace('_', " ").to_lowercase())})).collect();
    Ok(json_value(&json!({ "permission_levels": levels })))
}

async fn levels_sql_warehouse(st: State<MockState>, Path(id): Path<String>) -> Reply {
    levels(st, Path(("sql/warehouses".into(), id))).await
}

fn write_acl(st: &MockState, segment: &str, id: &str, body: &Bytes, replace: bool) -> Reply {
    let request: AclRequest = super::http::body(body)?;
    let t = object(st, segment, id)?;
    let mut ws = st.write();
    if !ws.perm_object_exists(t, id) {
        // Deleted since the check above.
        return Err(
            StoreError::NotFound(format!("{} {id} does not exist.", t.object_type(id))).into(),
        );
    }
    let mut entries = Vec::new();
    for e in request.access_control_list {
        let names = [
            (PrincipalKind::User, e.user_name),
            (PrincipalKind::Group, e.group_name),
            (PrincipalKind::ServicePrincipal, e.service_principal_name),
        ];
        let mut given = names.into_iter().filter_map(|(k, n)| n.map(|n| (k, n)));
        let (kind, name) = given.next().ok_or_else(|| {
            ApiError::invalid("Each access control entry needs one of user_name, group_name, service_principal_name")
        })?;
        if given.next().is_some() {
            return Err(ApiError::invalid(
                "An access control entry may name only one principal",
            ));
        }
        let level = e
            .permission_level
            .ok_or_else(|| super::http::missing("permission_level"))?;
        entries.push(Ace {
            kind,
            name: name.into(),
            level: level.into(),
        });
    }
    ws.set_acl(t, id, entries, replace)?;
    Ok(json(ws.render_acl(t, id).to_string()))
}

impl Workspace {
    /// True when the object an ACL is for exists.
    pub(crate) fn perm_object_exists(&self, t: ObjType, id: &str) -> bool {
        match t {
            ObjType::Clusters => self.clusters.items.contains(id),
            ObjType::ClusterPolicies => self.policies.items.contains(id),
            ObjType::InstancePools => self.pools.items.contains(id),
            ObjType::Jobs => id
                .parse::<i64>()
                .is_ok_and(|j| self.jobs.items.contains(&j)),
            ObjType::Notebooks | ObjType::Directories | ObjType::Files => {
                let want = match t {
                    ObjType::Notebooks => "NOTEBOOK",
                    ObjType::Directories => "DIRECTORY",
                    _ => "FILE",
                };
                id.parse::<i64>()
                    .ok()
                    .and_then(|o| self.objects.type_of_id(o))
                    .is_some_and(|ty| ty == want)
            }
            ObjType::Repos => id
                .parse::<i64>()
                .is_ok_and(|r| self.repos.items.contains(&r)),
            ObjType::Warehouses => self.warehouses.items.contains(id),
            ObjType::Authorization => id == "tokens" || id == "passwords",
        }
    }

    /// Checks and applies new direct entries; `replace` is PUT, otherwise PATCH.
    pub(crate) fn set_acl(
        &mut self,
        t: ObjType,
        id: &str,
        entries: Vec<Ace>,
        replace: bool,
    ) -> Result<(), StoreError> {
        for e in &entries {
            if !t.levels().contains(&&*e.level) {
                return Err(StoreError::Invalid(format!(
                    "Permission level {} is not supported for {}. Supported levels: {}",
                    e.level,
                    t.object_type(id),
                    t.levels().join(", ")
                )));
            }
            let exists = match e.kind {
                PrincipalKind::User => self.users.id_of(&e.name).is_some(),
                PrincipalKind::Group => self.groups.id_of(&e.name).is_some(),
                PrincipalKind::ServicePrincipal => self.service_principals.id_of(&e.name).is_some(),
            };
            if !exists {
                return Err(StoreError::Invalid(format!(
                    "Principal: {}({}) does not exist",
                    e.kind.tag(),
                    e.name
                )));
            }
        }
        let key = (t, Box::<str>::from(id));
        let acl = self.permissions.acls.entry(key).or_default();
        let mut direct = if replace {
            // A PUT that names no owner keeps the owner: the service allows none to be removed.
            let owners: Vec<Ace> = acl
                .direct
                .iter()
                .filter(|a| &*a.level == "IS_OWNER")
                .cloned()
                .collect();
            let mut d = entries.clone();
            if t.has_owner() && !entries.iter().any(|e| &*e.level == "IS_OWNER") {
                d.extend(owners);
            }
            d
        } else {
            let mut d = acl.direct.clone();
            for e in &entries {
                let is_owner = &*e.level == "IS_OWNER";
                if is_owner {
                    d.retain(|a| &*a.level != "IS_OWNER");
                }
                d.retain(|a| {
                    !(a.kind == e.kind && a.name == e.name && (&*a.level != "IS_OWNER" || is_owner))
                });
                d.push(e.clone());
            }
            d
        };
        direct.dedup();
        if direct.iter().filter(|a| &*a.level == "IS_OWNER").count() > 1 {
            return Err(StoreError::Invalid(
                "There can be only one owner of an object.".into(),
            ));
        }
        acl.direct = direct;
        Ok(())
    }

    /// The display name the ACL reply shows for a principal.
    fn display_of(&self, kind: PrincipalKind, name: &str) -> Option<String> {
        match kind {
            PrincipalKind::User => self.users.by_key(name).map(|u| u.display.to_string()),
            PrincipalKind::ServicePrincipal => self
                .service_principals
                .by_key(name)
                .map(|s| s.display.to_string()),
            PrincipalKind::Group => None,
        }
    }

    /// The default inherited entry (fixture format): group `admins`
    /// CAN_MANAGE from the root object of the type.
    fn derived_inherited(&self, t: ObjType) -> Vec<(PrincipalKind, Box<str>, Value)> {
        vec![(
            PrincipalKind::Group,
            "admins".into(),
            json!({"permission_level": "CAN_MANAGE", "inherited": true, "inherited_from_object": [t.root()]}),
        )]
    }

    /// The `GET` reply for an object.
    pub(crate) fn render_acl(&self, t: ObjType, id: &str) -> Value {
        let object_id = format!("{}{id}", t.prefix());
        let acl = self.permissions.acls.get(&(t, id.into()));
        // (kind, name) → its entry, in first-seen order.
        let mut entries: Vec<RenderedEntry> = Vec::new();
        let mut push = |kind: PrincipalKind, name: &str, perm: Value, display: Option<String>| {
            let key = (kind, Box::<str>::from(name));
            let pos = match entries.iter().position(|(k, _)| *k == key) {
                Some(p) => p,
                None => {
                    let mut e = serde_json::Map::new();
                    e.insert(kind.field().into(), Value::from(name));
                    if let Some(d) = display {
                        e.insert("display_name".into(), Value::from(d));
                    }
                    e.insert("all_permissions".into(), Value::Array(Vec::new()));
                    entries.push((key, e));
                    entries.len() - 1
                }
            };
            if let Some(Value::Array(perms)) = entries[pos].1.get_mut("all_permissions") {
                perms.push(perm);
            }
        };
        for ace in acl.map_or(&[][..], |a| a.direct.as_slice()) {
            let display = self.display_of(ace.kind, &ace.name);
            push(
                ace.kind,
                &ace.name,
                json!({"permission_level": ace.level, "inherited": false}),
                display,
            );
        }
        match acl.and_then(|a| a.recorded.as_ref()) {
            Some(recorded) => {
                for entry in recorded {
                    let Value::Object(map) = entry else { continue };
                    let Some((kind, name)) = principal_of(map) else {
                        continue;
                    };
                    let display = map
                        .get("display_name")
                        .and_then(Value::as_str)
                        .map(str::to_owned);
                    for perm in map
                        .get("all_permissions")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        push(kind, &name, perm.clone(), display.clone());
                    }
                }
            }
            None => {
                for (kind, name, perm) in self.derived_inherited(t) {
                    let display = self.display_of(kind, &name);
                    push(kind, &name, perm, display);
                }
            }
        }
        let list: Vec<Value> = entries.into_iter().map(|(_, e)| Value::Object(e)).collect();
        json!({ "object_id": object_id, "object_type": t.object_type(id), "access_control_list": list })
    }

    /// Every non-default ACL, for dumps.
    pub(crate) fn dump_permissions(&self) -> Vec<String> {
        let mut keys: Vec<&(ObjType, Box<str>)> = self.permissions.acls.keys().collect();
        keys.sort();
        keys.into_iter()
            .map(|(t, id)| self.render_acl(*t, id).to_string())
            .collect()
    }

    /// Direct entries for a new object: its creator as owner (jobs,
    /// warehouses) or manager, plus any `access_control_list` of the create request.
    pub(crate) fn init_acl(
        &mut self,
        t: ObjType,
        id: &str,
        request: Option<&Value>,
    ) -> Result<(), StoreError> {
        let caller = self.caller();
        let mut entries = Vec::new();
        let level = if t.has_owner() {
            "IS_OWNER"
        } else {
            "CAN_MANAGE"
        };
        if self.users.id_of(&caller).is_some() && t.levels().contains(&level) {
            entries.push(Ace {
                kind: PrincipalKind::User,
                name: caller.into(),
                level: level.into(),
            });
        }
        if let Some(list) = request {
            let parsed: AclRequest = serde_json::from_value(json!({ "access_control_list": list }))
                .map_err(|e| {
                    StoreError::Invalid(format!(
                        "Invalid access_control_list: {}",
                        super::http::strip_position(&e.to_string())
                    ))
                })?;
            for e in parsed.access_control_list {
                let (kind, name) = match (e.user_name, e.group_name, e.service_principal_name) {
                    (Some(n), None, None) => (PrincipalKind::User, n),
                    (None, Some(n), None) => (PrincipalKind::Group, n),
                    (None, None, Some(n)) => (PrincipalKind::ServicePrincipal, n),
                    _ => {
                        return Err(StoreError::Invalid(
                            "An access control entry must name exactly one principal".into(),
                        ));
                    }
                };
                let level = e.permission_level.ok_or_else(|| {
                    StoreError::Invalid("Missing required field: permission_level".into())
                })?;
                if level == "IS_OWNER" {
                    entries.retain(|a| &*a.level != "IS_OWNER");
                }
                entries.push(Ace {
                    kind,
                    name: name.into(),
                    level: level.into(),
                });
            }
        }
        if entries.is_empty() {
            return Ok(());
        }
        self.set_acl(t, id, entries, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_ids_parse_to_types() {
        assert_eq!(
            ObjType::from_object_id("/jobs/12"),
            Some((ObjType::Jobs, "12"))
        );
        assert_eq!(
            ObjType::from_object_id("/sql/warehouses/ab"),
            Some((ObjType::Warehouses, "ab"))
        );
        assert_eq!(
            ObjType::from_object_id("/warehouses/ab"),
            Some((ObjType::Warehouses, "ab"))
        );
        assert_eq!(
            ObjType::from_object_id("/authorization/tokens"),
            Some((ObjType::Authorization, "tokens"))
        );
        assert_eq!(ObjType::from_object_id("/jobs/"), None);
        assert_eq!(ObjType::from_object_id("/pipelines/1"), None);
        assert_eq!(
            ObjType::from_segment("sql/warehouses"),
            ObjType::from_segment("warehouses")
        );
    }
}
