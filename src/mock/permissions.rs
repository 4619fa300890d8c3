//! Object ACLs: `GET|PUT|PATCH /api/2.0/permissions/{type}/{id}` and
//! `…/permissionLevels`, for clusters, policies, pools, jobs, notebooks,
//! directories, files, repos and SQL warehouses (`warehouses/{id}` and
//! `sql/warehouses/{id}` are one object), and `authorization/tokens|passwords`.
//!
//! Each object keeps its direct entries. Inherited entries are what the
//! fixture recorded for the object, or else the fixture format's default:
//! group `admins` CAN_MANAGE from the type's root (`/jobs/`, `/directories/`,
//! …). Folder entries are not propagated to what is under them.

use std::borrow::Cow;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use bytes::Bytes;
use serde_json::{Value, json};

use super::error::{ApiError, StoreError};
use super::fixture::LoadError;
use super::http::{Reply, json_bytes, json_value};
use super::state::MockState;
use super::store::{FastMap, Interner, Rendered, Workspace, push_json_str};

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
    /// How many types there are.
    const COUNT: usize = 10;

    /// Every type, in order.
    const ALL: [ObjType; ObjType::COUNT] = [
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

    /// The type's position in [`ObjType::ALL`].
    fn index(self) -> usize {
        self as usize
    }

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
        if let Some(id) = object_id.strip_prefix("/warehouses/") {
            return Some((ObjType::Warehouses, id));
        }
        ObjType::ALL.into_iter().find_map(|t| {
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

/// One direct entry. Names and levels loaded from a fixture are shared
/// among the entries that repeat them (see [`Interner`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Ace {
    pub(crate) kind: PrincipalKind,
    pub(crate) name: Arc<str>,
    pub(crate) level: Arc<str>,
}

/// One object's ACL.
#[derive(Clone, Debug, Default)]
pub(crate) struct Acl {
    direct: Vec<Ace>,
    /// Inherited entries as the fixture recorded them (`None`: derive them).
    recorded: Option<Box<[RecordedEntry]>>,
    /// The `GET` reply, stamped with [`Workspace::principals_stamp`].
    rendered: Rendered,
}

/// A principal's inherited permissions as a fixture recorded them.
#[derive(Clone, Debug)]
struct RecordedEntry {
    kind: PrincipalKind,
    name: Arc<str>,
    display: Option<Arc<str>>,
    /// The permissions' JSON texts, comma-separated, as the reply shows
    /// them: a few distinct texts repeat across every ACL of a type.
    perms: Arc<str>,
}

/// One permission of a reply being built.
enum Perm<'a> {
    /// A direct entry's level.
    Direct(&'a str),
    /// Inherited from the type's root (the fixture format's default).
    Root(&'static str),
    /// Recorded JSON text (one or more permissions, comma-separated).
    Text(&'a str),
}

/// One principal's entry of a reply being built.
struct ReplyEntry<'a> {
    kind: PrincipalKind,
    name: &'a str,
    display: Option<&'a str>,
    perms: Vec<Perm<'a>>,
}

/// Every ACL that is not the default.
#[derive(Debug, Default)]
pub(crate) struct PermStore {
    /// One map per object type, indexed by [`ObjType::index`], keyed by id:
    /// a read looks an id up as it comes, without building a key.
    acls: [FastMap<Box<str>, Acl>; ObjType::COUNT],
}

impl PermStore {
    /// Forgets an object's ACL (the object was deleted).
    pub(crate) fn forget(&mut self, t: ObjType, id: &str) {
        self.acls[t.index()].remove(id);
    }

    /// An object's ACL.
    fn get(&self, t: ObjType, id: &str) -> Option<&Acl> {
        self.acls[t.index()].get(id)
    }

    /// How many ACLs are stored.
    fn len(&self) -> usize {
        self.acls.iter().map(|m| m.len()).sum()
    }

    /// Every ACL, a type at a time.
    fn iter(&self) -> impl Iterator<Item = (ObjType, &str, &Acl)> {
        ObjType::ALL.iter().flat_map(move |t| {
            self.acls[t.index()]
                .iter()
                .map(move |(id, acl)| (*t, &**id, acl))
        })
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

/// One permission of a fixture entry (texts borrowed from the fixture
/// unless they hold escapes).
#[derive(serde::Deserialize)]
struct RawPermission<'a> {
    #[serde(borrow)]
    permission_level: Cow<'a, str>,
    #[serde(default)]
    inherited: bool,
    #[serde(borrow)]
    inherited_from_object: Option<Vec<Cow<'a, str>>>,
}

/// One entry of a fixture ACL.
#[derive(serde::Deserialize)]
struct RawEntry<'a> {
    #[serde(borrow)]
    user_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    group_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    service_principal_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    display_name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    all_permissions: Vec<RawPermission<'a>>,
}

/// A fixture ACL: the reply shape of `GET`.
#[derive(serde::Deserialize)]
struct RawAcl<'a> {
    #[serde(borrow)]
    object_id: Cow<'a, str>,
    #[serde(borrow, default)]
    access_control_list: Vec<RawEntry<'a>>,
}

/// A fixture ACL, parsed but not yet checked against the objects.
#[derive(Debug)]
pub(crate) struct ParsedAcl {
    t: ObjType,
    id: Box<str>,
    /// The ACL, or what is wrong with its entries (reported after a
    /// missing object, as a one-pass load would).
    acl: Result<Acl, String>,
}

/// Adds a parsed fixture ACL: its object must exist and have no other ACL.
pub(crate) fn insert(ws: &mut Workspace, parsed: ParsedAcl) -> Result<(), LoadError> {
    let ParsedAcl { t, id, acl } = parsed;
    let object_id = || format!("{}{id}", t.prefix());
    if !ws.perm_object_exists(t, &id) {
        return Err(format!("`{}` names no object of the fixture", object_id()).into());
    }
    let acl = acl?;
    match ws.permissions.acls[t.index()].entry(id.clone()) {
        std::collections::hash_map::Entry::Occupied(_) => {
            Err(format!("duplicate permissions for `{}`", object_id()).into())
        }
        std::collections::hash_map::Entry::Vacant(slot) => {
            slot.insert(acl);
            Ok(())
        }
    }
}

impl ParsedAcl {
    /// True for the ACL of a workspace object (notebook, folder, file):
    /// whether its object exists depends on the workspace objects alone.
    pub(crate) fn on_objects(&self) -> bool {
        OBJECT_TYPES.contains(&self.t)
    }
}

/// The types whose objects are workspace objects.
const OBJECT_TYPES: [ObjType; 3] = [ObjType::Notebooks, ObjType::Directories, ObjType::Files];

/// Moves the workspace objects' ACLs from `from` (a store that loaded the
/// objects apart) into `to`, which holds none of them yet.
pub(crate) fn move_object_acls(from: &mut Workspace, to: &mut Workspace) {
    for t in OBJECT_TYPES {
        to.permissions.acls[t.index()] = std::mem::take(&mut from.permissions.acls[t.index()]);
    }
}

/// Makes room for parsed fixture ACLs: a map of a million entries grown
/// step by step rehashes again and again.
pub(crate) fn reserve<'a>(ws: &mut Workspace, parsed: impl Iterator<Item = &'a ParsedAcl>) {
    let mut counts = [0usize; ObjType::COUNT];
    for p in parsed {
        counts[p.t.index()] += 1;
    }
    for (map, n) in ws.permissions.acls.iter_mut().zip(counts) {
        map.reserve(n);
    }
}

/// Parses one fixture ACL; needs nothing of the workspace, so it can run
/// beside the loading of other kinds. Its texts come from `shared`.
pub(crate) fn parse(raw: &str, shared: &mut Interner) -> Result<ParsedAcl, LoadError> {
    let value: RawAcl<'_> = serde_json::from_str(raw)?;
    let object_id = &*value.object_id;
    let (t, id) = ObjType::from_object_id(object_id)
        .ok_or(format!("unknown object type in `{object_id}`"))?;
    let id: Box<str> = id.into();
    let mut direct = Vec::new();
    let mut recorded = Vec::new();
    let mut perms = String::new();
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
            return Ok(ParsedAcl {
                t,
                id,
                acl: Err(
                    "an entry needs exactly one of `user_name`, `group_name`, `service_principal_name`"
                        .to_owned(),
                ),
            });
        };
        let name = shared.get(&name);
        perms.clear();
        for p in entry.all_permissions {
            if p.inherited {
                if !perms.is_empty() {
                    perms.push(',');
                }
                // The reply's shape: keys in order, as a serialized map has them.
                perms.push_str("{\"inherited\":true,");
                if let Some(from) = p.inherited_from_object {
                    perms.push_str("\"inherited_from_object\":[");
                    for (i, f) in from.iter().enumerate() {
                        if i > 0 {
                            perms.push(',');
                        }
                        push_json_str(&mut perms, f);
                    }
                    perms.push_str("],");
                }
                perms.push_str("\"permission_level\":");
                push_json_str(&mut perms, &p.permission_level);
                perms.push('}');
            } else {
                direct.push(Ace {
                    kind,
                    name: name.clone(),
                    level: shared.get(&p.permission_level),
                });
            }
        }
        if !perms.is_empty() {
            recorded.push(RecordedEntry {
                kind,
                name,
                display: entry.display_name.map(|d| shared.get(&d)),
                perms: shared.get(&perms),
            });
        }
    }
    direct.shrink_to_fit();
    let acl = Acl {
        direct,
        recorded: Some(recorded.into_boxed_slice()),
        rendered: Rendered::default(),
    };
    Ok(ParsedAcl {
        t,
        id,
        acl: Ok(acl),
    })
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
    let t = ObjType::from_segment(&segment)
        .ok_or_else(|| ApiError::not_found(format!("{segment} {id} does not exist.")))?;
    // One read lock for the check and the reply, so a delete cannot come between.
    let ws = st.read();
    if !ws.perm_object_exists(t, &id) {
        return Err(StoreError::NotFound(format!(
            "{} {id} does not exist.",
            t.object_type(id.as_str())
        ))
        .into());
    }
    Ok(json_bytes(ws.acl_reply(t, &id)))
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
    Ok(json_bytes(ws.acl_reply(t, id)))
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
        let acl = self.permissions.acls[t.index()]
            .entry(Box::<str>::from(id))
            .or_default();
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
        acl.rendered.clear();
        Ok(())
    }

    /// The display name the ACL reply shows for a principal.
    fn display_of(&self, kind: PrincipalKind, name: &str) -> Option<&str> {
        match kind {
            PrincipalKind::User => self.users.by_key(name).map(|u| &*u.display),
            PrincipalKind::ServicePrincipal => {
                self.service_principals.by_key(name).map(|s| &*s.display)
            }
            PrincipalKind::Group => None,
        }
    }

    /// Changes so far to what ACL replies show of principals (users' and
    /// service principals' display names): a rendered reply is stale when
    /// this differs from its stamp. Both counters only grow, so their sum
    /// changes whenever either does.
    fn principals_stamp(&self) -> u64 {
        self.users
            .changes()
            .wrapping_add(self.service_principals.changes())
    }

    /// The `GET` reply for an object, from its rendered copy when current.
    pub(crate) fn acl_reply(&self, t: ObjType, id: &str) -> Bytes {
        match self.permissions.get(t, id) {
            Some(acl) => acl.rendered.get(self.principals_stamp(), || {
                self.render_acl(t, id, Some(acl))
            }),
            None => Bytes::from(self.render_acl(t, id, None)),
        }
    }

    /// How many ACLs are stored (the work [`Self::prerender_acls`] does).
    pub(crate) fn acl_count(&self) -> usize {
        self.permissions.len()
    }

    /// Renders the replies of up to `count` stored ACLs, from the `from`th
    /// in the map's order; returns how many it went past (fewer than
    /// `count` at the end). Rendering is what a read does, so it is correct
    /// at any time under the read lock; a write between two calls may shift
    /// the order, which only leaves some replies to be rendered when read.
    pub(crate) fn prerender_acls(&self, from: usize, count: usize) -> usize {
        let stamp = self.principals_stamp();
        let mut seen = 0;
        for (t, id, acl) in self.permissions.iter().skip(from).take(count) {
            acl.rendered
                .get(stamp, || self.render_acl(t, id, Some(acl)));
            seen += 1;
        }
        seen
    }

    /// Renders the `GET` reply: direct entries first, then the recorded or
    /// default inherited ones, one entry per principal in first-seen order,
    /// each object's keys in sorted order (as a serialized map has them).
    fn render_acl(&self, t: ObjType, id: &str, acl: Option<&Acl>) -> String {
        fn push<'a>(
            entries: &mut Vec<ReplyEntry<'a>>,
            kind: PrincipalKind,
            name: &'a str,
            perm: Perm<'a>,
            display: Option<&'a str>,
        ) {
            match entries
                .iter_mut()
                .find(|e| e.kind == kind && e.name == name)
            {
                Some(e) => e.perms.push(perm),
                None => entries.push(ReplyEntry {
                    kind,
                    name,
                    display,
                    perms: vec![perm],
                }),
            }
        }
        let mut entries: Vec<ReplyEntry<'_>> = Vec::with_capacity(4);
        for ace in acl.map_or(&[][..], |a| a.direct.as_slice()) {
            let display = self.display_of(ace.kind, &ace.name);
            push(
                &mut entries,
                ace.kind,
                &ace.name,
                Perm::Direct(&ace.level),
                display,
            );
        }
        match acl.and_then(|a| a.recorded.as_ref()) {
            Some(recorded) => {
                for entry in recorded {
                    push(
                        &mut entries,
                        entry.kind,
                        &entry.name,
                        Perm::Text(&entry.perms),
                        entry.display.as_deref(),
                    );
                }
            }
            None => {
                let display = self.display_of(PrincipalKind::Group, "admins");
                push(
                    &mut entries,
                    PrincipalKind::Group,
                    "admins",
                    Perm::Root(t.root()),
                    display,
                );
            }
        }
        let mut out = String::with_capacity(160 + 160 * entries.len());
        out.push_str("{\"access_control_list\":[");
        for (i, e) in entries.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"all_permissions\":[");
            for (j, p) in e.perms.iter().enumerate() {
                if j > 0 {
                    out.push(',');
                }
                match p {
                    Perm::Direct(level) => {
                        out.push_str("{\"inherited\":false,\"permission_level\":");
                        push_json_str(&mut out, level);
                        out.push('}');
                    }
                    Perm::Root(root) => {
                        out.push_str("{\"inherited\":true,\"inherited_from_object\":[");
                        push_json_str(&mut out, root);
                        out.push_str("],\"permission_level\":\"CAN_MANAGE\"}");
                    }
                    Perm::Text(text) => out.push_str(text),
                }
            }
            out.push(']');
            if let Some(d) = e.display {
                out.push_str(",\"display_name\":");
                push_json_str(&mut out, d);
            }
            out.push_str(",\"");
            out.push_str(e.kind.field());
            out.push_str("\":");
            push_json_str(&mut out, e.name);
            out.push('}');
        }
        out.push_str("],\"object_id\":");
        push_json_str(&mut out, &format!("{}{id}", t.prefix()));
        out.push_str(",\"object_type\":");
        push_json_str(&mut out, t.object_type(id));
        out.push('}');
        out
    }

    /// Every non-default ACL, for dumps.
    pub(crate) fn dump_permissions(&self) -> Vec<String> {
        let mut acls: Vec<(ObjType, &str, &Acl)> = self.permissions.iter().collect();
        acls.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        acls.into_iter()
            .map(|(t, id, acl)| self.render_acl(t, id, Some(acl)))
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
