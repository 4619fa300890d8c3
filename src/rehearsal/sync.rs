//! Copying objects of named kinds from one workspace to another through the
//! REST API, the way a DR sync client does (the guide's Step 2 table).
//!
//! Objects are matched by natural key (user name, group name, pool name,
//! policy name, cluster name, workspace path, scope name, job name); ids
//! inside an object are mapped to the target's ids of the same names: a
//! job's existing cluster, its clusters' pools and policy, its warehouse and
//! the job a `run_job_task` runs; a cluster's pools and policy; an ACL's
//! object. Kinds are copied in dependency order ([`SYNC_KINDS`]), so a job
//! synced with its pools finds them.
//!
//! A sync adds and updates; it never deletes. In passive form (the default)
//! it writes what a passive copy must hold: jobs paused with
//! `max_concurrent_runs` 0, pools with `min_idle_instances` 0, clusters
//! terminated. Secret values cannot be read, so keys missing in the target
//! are created holding the plan's placeholder, and the step says which.
//!
//! Problems with single objects do not stop the sync: every kind is copied
//! as far as it goes, and the step fails at the end listing what could not
//! be copied.
//!
//! [`SYNC_KINDS`]: super::plan::SYNC_KINDS

use std::collections::{BTreeMap, BTreeSet};

use reqwest::Method;
use serde_json::{Map, Value, json};

use super::api::Ws;
use super::plan::SYNC_KINDS;
use crate::client::ApiError;
use crate::kind::Kind;

/// What a sync did.
#[derive(Debug, Default)]
pub(crate) struct SyncOutcome {
    /// One line per kind: what was created, updated, left alone.
    pub(crate) details: Vec<String>,
    /// What could not be copied.
    pub(crate) problems: Vec<String>,
}

/// Pool fields a create or edit carries.
const POOL_FIELDS: [&str; 13] = [
    "instance_pool_name",
    "node_type_id",
    "min_idle_instances",
    "max_capacity",
    "idle_instance_autotermination_minutes",
    "custom_tags",
    "preloaded_spark_versions",
    "preloaded_docker_images",
    "aws_attributes",
    "azure_attributes",
    "gcp_attributes",
    "enable_elastic_disk",
    "disk_spec",
];

/// Policy fields a create or edit carries.
const POLICY_FIELDS: [&str; 7] = [
    "name",
    "definition",
    "description",
    "max_clusters_per_user",
    "policy_family_id",
    "policy_family_definition_overrides",
    "libraries",
];

/// Cluster fields the service sets; never sent.
const CLUSTER_READ_ONLY: [&str; 23] = [
    "cluster_id",
    "creator_user_name",
    "cluster_source",
    "state",
    "state_message",
    "start_time",
    "terminated_time",
    "last_state_loss_time",
    "last_restarted_time",
    "last_activity_time",
    "termination_reason",
    "default_tags",
    "spark_context_id",
    "jdbc_port",
    "driver",
    "executors",
    "cluster_memory_mb",
    "cluster_cores",
    "cluster_log_status",
    "spec",
    "effective_spark_version",
    "init_scripts_safe_mode",
    "disk_spec_effective",
];

fn s<'v>(v: &'v Value, field: &str) -> &'v str {
    v.get(field).and_then(Value::as_str).unwrap_or("")
}

/// Name → id over a listing.
fn by_name(items: &[Value], name: &str, id: &str) -> BTreeMap<String, String> {
    items
        .iter()
        .filter(|i| !s(i, name).is_empty())
        .map(|i| (s(i, name).to_owned(), id_text(i.get(id))))
        .collect()
}

/// Id → name over a listing.
fn by_id(items: &[Value], name: &str, id: &str) -> BTreeMap<String, String> {
    items
        .iter()
        .map(|i| (id_text(i.get(id)), s(i, name).to_owned()))
        .collect()
}

/// An id as text, numeric or not.
fn id_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// A cluster's spec as a create or edit sends it: read-only fields gone, and
/// `num_workers` dropped beside `autoscale` (it is the current size then).
fn cluster_spec(c: &Value) -> Value {
    let mut spec = c.as_object().cloned().unwrap_or_default();
    for f in CLUSTER_READ_ONLY {
        spec.remove(f);
    }
    if spec.contains_key("autoscale") {
        spec.remove("num_workers");
    }
    Value::Object(spec)
}

fn pick(src: &Value, fields: &[&str]) -> Map<String, Value> {
    fields
        .iter()
        .filter_map(|f| src.get(*f).map(|v| ((*f).to_owned(), v.clone())))
        .collect()
}

fn names(list: &[String]) -> String {
    if list.len() > 6 {
        let shown: Vec<&str> = list.iter().take(6).map(String::as_str).collect();
        format!("{} and {} more", shown.join(", "), list.len() - 6)
    } else {
        list.join(", ")
    }
}

/// Whether a write creates an object or edits one that exists.
#[derive(Clone, Copy)]
enum Change {
    Created,
    Updated,
}

/// Counts of what happened to one kind.
#[derive(Default)]
struct Tally {
    created: Vec<String>,
    updated: Vec<String>,
    /// Clusters terminated because a passive copy keeps them so.
    terminated: Vec<String>,
    unchanged: usize,
}

impl Tally {
    fn line(&mut self, kind: Kind, to: &str) -> String {
        self.created.sort();
        self.updated.sort();
        let mut parts = Vec::new();
        if !self.created.is_empty() {
            parts.push(format!("created {}", names(&self.created)));
        }
        if !self.updated.is_empty() {
            parts.push(format!("updated {}", names(&self.updated)));
        }
        if self.unchanged > 0 || parts.is_empty() {
            parts.push(format!("{} unchanged", self.unchanged));
        }
        if !self.terminated.is_empty() {
            self.terminated.sort();
            parts.push(format!(
                "terminated (a passive copy runs nothing) {}",
                names(&self.terminated)
            ));
        }
        format!("{kind} → `{to}`: {}", parts.join("; "))
    }
}

/// Copies `kinds` from `from` to `to`.
pub(crate) async fn sync(
    from: &Ws,
    to: &Ws,
    kinds: &[Kind],
    placeholder: Option<&str>,
    passive: bool,
) -> Result<SyncOutcome, ApiError> {
    let mut s = Syncer {
        from,
        to,
        passive,
        out: SyncOutcome::default(),
    };
    for kind in SYNC_KINDS.iter().filter(|k| kinds.contains(k)) {
        match kind {
            Kind::Users => s.users().await?,
            Kind::Groups => s.groups().await?,
            Kind::InstancePools => s.pools().await?,
            Kind::ClusterPolicies => s.policies().await?,
            Kind::Clusters => s.clusters().await?,
            Kind::WorkspaceObjects => s.objects().await?,
            Kind::SecretScopes => s.scopes(placeholder.unwrap_or("")).await?,
            Kind::Jobs => s.jobs().await?,
            Kind::Permissions => s.permissions().await?,
            _ => {}
        }
    }
    Ok(s.out)
}

struct Syncer<'a> {
    from: &'a Ws,
    to: &'a Ws,
    passive: bool,
    out: SyncOutcome,
}

impl Syncer<'_> {
    fn problem(&mut self, text: String) {
        self.out.problems.push(text);
    }

    /// Runs one write; a refusal is a problem with `what`, not an abort.
    /// Writes one object and records it in the tally as created or updated
    /// (a failure is recorded by [`Self::write`]); returns the answer.
    async fn apply(
        &mut self,
        t: &mut Tally,
        change: Change,
        path: &str,
        body: &Value,
        what: &str,
        name: &str,
    ) -> Option<Value> {
        let answer = self
            .write(Method::POST, path, body, &format!("{what} `{name}`"))
            .await?;
        match change {
            Change::Created => t.created.push(name.to_owned()),
            Change::Updated => t.updated.push(name.to_owned()),
        }
        Some(answer)
    }

    async fn write(
        &mut self,
        method: Method,
        path: &str,
        body: &Value,
        what: &str,
    ) -> Option<Value> {
        match self.to.call(method, path, &[], Some(body)).await {
            Ok(v) => Some(v),
            Err(e) => {
                self.problem(format!("{what}: {}", brief(&e)));
                None
            }
        }
    }

    async fn users(&mut self) -> Result<(), ApiError> {
        let src = self.from.scim("Users").await?;
        let have: BTreeSet<String> = self
            .to
            .scim("Users")
            .await?
            .iter()
            .map(|u| s(u, "userName").to_owned())
            .collect();
        let mut t = Tally::default();
        for u in &src {
            let name = s(u, "userName");
            if name.is_empty() || have.contains(name) {
                t.unchanged += 1;
                continue;
            }
            let mut body = pick(
                u,
                &[
                    "userName",
                    "displayName",
                    "name",
                    "emails",
                    "entitlements",
                    "roles",
                    "active",
                ],
            );
            body.insert(
                "schemas".into(),
                json!(["urn:ietf:params:scim:schemas:core:2.0:User"]),
            );
            if self
                .write(
                    Method::POST,
                    "/api/2.0/preview/scim/v2/Users",
                    &Value::Object(body),
                    &format!("user `{name}`"),
                )
                .await
                .is_some()
            {
                t.created.push(name.to_owned());
            }
        }
        self.out.details.push(t.line(Kind::Users, &self.to.name));
        Ok(())
    }

    async fn groups(&mut self) -> Result<(), ApiError> {
        let (src_users, src_sps, src_groups) = (
            self.from.scim("Users").await?,
            self.from.scim("ServicePrincipals").await?,
            self.from.scim("Groups").await?,
        );
        let dst_users = self.to.scim("Users").await?;
        let dst_sps = self.to.scim("ServicePrincipals").await?;
        let mut dst_groups = self.to.scim("Groups").await?;
        let mut t = Tally::default();
        // Missing groups first, so nested groups can be members.
        let have: BTreeSet<String> = dst_groups
            .iter()
            .map(|g| s(g, "displayName").to_owned())
            .collect();
        for g in &src_groups {
            let name = s(g, "displayName");
            if name.is_empty() || have.contains(name) {
                continue;
            }
            let mut body = pick(g, &["displayName", "entitlements", "roles"]);
            body.insert(
                "schemas".into(),
                json!(["urn:ietf:params:scim:schemas:core:2.0:Group"]),
            );
            if let Some(created) = self
                .write(
                    Method::POST,
                    "/api/2.0/preview/scim/v2/Groups",
                    &Value::Object(body),
                    &format!("group `{name}`"),
                )
                .await
            {
                t.created.push(name.to_owned());
                let mut g = created;
                if g.get("displayName").is_none() {
                    g["displayName"] = Value::from(name);
                }
                dst_groups.push(g);
            }
        }
        // Source member id → (kind, natural key) → target id.
        let src_key: BTreeMap<String, (&str, String)> = src_users
            .iter()
            .map(|u| (id_text(u.get("id")), ("user", s(u, "userName").to_owned())))
            .chain(src_sps.iter().map(|p| {
                (
                    id_text(p.get("id")),
                    ("service principal", s(p, "applicationId").to_owned()),
                )
            }))
            .chain(src_groups.iter().map(|g| {
                (
                    id_text(g.get("id")),
                    ("group", s(g, "displayName").to_owned()),
                )
            }))
            .collect();
        let dst_id: BTreeMap<(&str, String), String> = dst_users
            .iter()
            .map(|u| (("user", s(u, "userName").to_owned()), id_text(u.get("id"))))
            .chain(dst_sps.iter().map(|p| {
                (
                    ("service principal", s(p, "applicationId").to_owned()),
                    id_text(p.get("id")),
                )
            }))
            .chain(dst_groups.iter().map(|g| {
                (
                    ("group", s(g, "displayName").to_owned()),
                    id_text(g.get("id")),
                )
            }))
            .collect();
        for g in &src_groups {
            let name = s(g, "displayName");
            // Every workspace user is in `users` by itself.
            if name.is_empty() || name == "users" {
                continue;
            }
            let Some(target) = dst_groups.iter().find(|d| s(d, "displayName") == name) else {
                continue;
            };
            let target_id = id_text(target.get("id"));
            let current: BTreeSet<String> = target
                .get("members")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|m| id_text(m.get("value")))
                .collect();
            let mut add = Vec::new();
            for m in g
                .get("members")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some((kind, key)) = src_key.get(&id_text(m.get("value"))) else {
                    continue;
                };
                match dst_id.get(&(*kind, key.clone())) {
                    Some(id) if !current.contains(id) => add.push((id.clone(), format!("{kind} `{key}`"))),
                    Some(_) => {}
                    None => self.problem(format!(
                        "group `{name}`: member {kind} `{key}` does not exist in `{}`; sync it first",
                        self.to.name
                    )),
                }
            }
            if add.is_empty() {
                t.unchanged += 1;
                continue;
            }
            let body = json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "add", "path": "members", "value": add.iter().map(|(id, _)| json!({"value": id})).collect::<Vec<_>>()}],
            });
            let path = format!("/api/2.0/preview/scim/v2/Groups/{target_id}");
            if self
                .write(Method::PATCH, &path, &body, &format!("group `{name}`"))
                .await
                .is_some()
            {
                let added: Vec<String> = add.into_iter().map(|(_, who)| who).collect();
                t.updated.push(format!("{name} (+{})", added.join(", ")));
            }
        }
        self.out.details.push(t.line(Kind::Groups, &self.to.name));
        Ok(())
    }

    async fn pools(&mut self) -> Result<(), ApiError> {
        let src = self.from.pools().await?;
        let dst = self.to.pools().await?;
        let mut t = Tally::default();
        for p in &src {
            let name = s(p, "instance_pool_name").to_owned();
            let mut spec = pick(p, &POOL_FIELDS);
            if self.passive {
                spec.insert("min_idle_instances".into(), Value::from(0));
            }
            match dst.iter().find(|d| s(d, "instance_pool_name") == name) {
                Some(d) => {
                    let current = pick(d, &POOL_FIELDS);
                    if current == spec {
                        t.unchanged += 1;
                        continue;
                    }
                    if s(d, "node_type_id") != s(p, "node_type_id") {
                        self.problem(format!(
                            "pool `{name}`: node type `{}` in `{}` cannot be changed to `{}`; recreate the pool",
                            s(d, "node_type_id"),
                            self.to.name,
                            s(p, "node_type_id")
                        ));
                        continue;
                    }
                    spec.insert("instance_pool_id".into(), d["instance_pool_id"].clone());
                    self.apply(
                        &mut t,
                        Change::Updated,
                        "/api/2.0/instance-pools/edit",
                        &Value::Object(spec),
                        "pool",
                        &name,
                    )
                    .await;
                }
                None => {
                    self.apply(
                        &mut t,
                        Change::Created,
                        "/api/2.0/instance-pools/create",
                        &Value::Object(spec),
                        "pool",
                        &name,
                    )
                    .await;
                }
            }
        }
        self.out
            .details
            .push(t.line(Kind::InstancePools, &self.to.name));
        Ok(())
    }

    async fn policies(&mut self) -> Result<(), ApiError> {
        let src = self.from.policies().await?;
        let dst = self.to.policies().await?;
        let mut t = Tally::default();
        for p in &src {
            let name = s(p, "name").to_owned();
            let spec = pick(p, &POLICY_FIELDS);
            match dst.iter().find(|d| s(d, "name") == name) {
                Some(d) if pick(d, &POLICY_FIELDS) == spec => t.unchanged += 1,
                Some(d) => {
                    let mut spec = spec;
                    spec.insert("policy_id".into(), d["policy_id"].clone());
                    self.apply(
                        &mut t,
                        Change::Updated,
                        "/api/2.0/policies/clusters/edit",
                        &Value::Object(spec),
                        "policy",
                        &name,
                    )
                    .await;
                }
                None => {
                    self.apply(
                        &mut t,
                        Change::Created,
                        "/api/2.0/policies/clusters/create",
                        &Value::Object(spec),
                        "policy",
                        &name,
                    )
                    .await;
                }
            }
        }
        self.out
            .details
            .push(t.line(Kind::ClusterPolicies, &self.to.name));
        Ok(())
    }

    /// Name maps for compute references: (source id → name, name → target id).
    async fn compute_maps(&self) -> Result<ComputeMaps, ApiError> {
        let (sp, dp) = (self.from.pools().await?, self.to.pools().await?);
        let (sc, dc) = (self.from.policies().await?, self.to.policies().await?);
        let (sk, dk) = (self.from.clusters().await?, self.to.clusters().await?);
        let (sw, dw) = (self.from.warehouses().await?, self.to.warehouses().await?);
        Ok(ComputeMaps {
            pools: Map2::new(&sp, &dp, "instance_pool_name", "instance_pool_id"),
            policies: Map2::new(&sc, &dc, "name", "policy_id"),
            clusters: Map2::new(&sk, &dk, "cluster_name", "cluster_id"),
            warehouses: Map2::new(&sw, &dw, "name", "id"),
            jobs: Map2::default(),
            target: self.to.name.clone(),
        })
    }

    async fn clusters(&mut self) -> Result<(), ApiError> {
        let src = self.from.clusters().await?;
        let dst = self.to.clusters().await?;
        let maps = self.compute_maps().await?;
        let mut t = Tally::default();
        for c in &src {
            let name = s(c, "cluster_name").to_owned();
            let mut spec = cluster_spec(c);
            let mut missing = Vec::new();
            maps.remap_compute(&mut spec, &mut missing);
            if !missing.is_empty() {
                self.problem(format!("cluster `{name}`: {}", missing.join("; ")));
                continue;
            }
            match dst.iter().find(|d| s(d, "cluster_name") == name) {
                Some(d) => {
                    let state = s(d, "state");
                    if cluster_spec(d) == spec {
                        t.unchanged += 1;
                    } else if state == "RUNNING" || state == "TERMINATED" {
                        spec["cluster_id"] = d["cluster_id"].clone();
                        self.apply(
                            &mut t,
                            Change::Updated,
                            "/api/2.1/clusters/edit",
                            &spec,
                            "cluster",
                            &name,
                        )
                        .await;
                    } else {
                        self.problem(format!(
                            "cluster `{name}` is {state} in `{}` and cannot be edited now",
                            self.to.name
                        ));
                    }
                    if self.passive && state != "TERMINATED" && state != "TERMINATING" {
                        let id = d["cluster_id"].clone();
                        if self
                            .write(
                                Method::POST,
                                "/api/2.1/clusters/delete",
                                &json!({"cluster_id": id}),
                                &format!("terminating cluster `{name}`"),
                            )
                            .await
                            .is_some()
                        {
                            t.terminated.push(name.clone());
                        }
                    }
                }
                None => {
                    // Creating starts the cluster; a passive copy keeps it terminated.
                    if let Some(created) = self
                        .apply(
                            &mut t,
                            Change::Created,
                            "/api/2.1/clusters/create",
                            &spec,
                            "cluster",
                            &name,
                        )
                        .await
                    {
                        if self.passive {
                            let id = created.get("cluster_id").cloned().unwrap_or(Value::Null);
                            self.write(
                                Method::POST,
                                "/api/2.1/clusters/delete",
                                &json!({"cluster_id": id}),
                                &format!("terminating cluster `{name}`"),
                            )
                            .await;
                        }
                    }
                }
            }
        }
        self.out.details.push(t.line(Kind::Clusters, &self.to.name));
        Ok(())
    }

    /// Every notebook, file and folder under `/` (repos excluded: they are
    /// Git folders, cloned, not copied), by path.
    async fn tree(ws: &Ws) -> Result<BTreeMap<String, Value>, ApiError> {
        let mut out = BTreeMap::new();
        let mut folders = vec!["/".to_owned()];
        while let Some(folder) = folders.pop() {
            let items = match ws.folder(&folder).await {
                Ok(items) => items,
                Err(ApiError::Http { status: 404, .. }) => continue,
                Err(e) => return Err(e),
            };
            for item in items {
                let path = s(&item, "path").to_owned();
                match s(&item, "object_type") {
                    "DIRECTORY" => {
                        folders.push(path.clone());
                        out.insert(path, item);
                    }
                    "NOTEBOOK" | "FILE" => {
                        out.insert(path, item);
                    }
                    _ => {}
                }
            }
        }
        Ok(out)
    }

    async fn objects(&mut self) -> Result<(), ApiError> {
        let src = Syncer::tree(self.from).await?;
        let dst = Syncer::tree(self.to).await?;
        let mut t = Tally::default();
        for (path, obj) in &src {
            let kind = s(obj, "object_type");
            let existing = dst.get(path);
            if kind == "DIRECTORY" {
                if existing.is_none() {
                    if self
                        .write(
                            Method::POST,
                            "/api/2.0/workspace/mkdirs",
                            &json!({"path": path}),
                            &format!("folder `{path}`"),
                        )
                        .await
                        .is_some()
                    {
                        t.created.push(path.clone());
                    }
                } else {
                    t.unchanged += 1;
                }
                continue;
            }
            let newer = match (existing, obj.get("modified_at").and_then(Value::as_i64)) {
                (None, _) => true,
                (Some(e), Some(m)) => e
                    .get("modified_at")
                    .and_then(Value::as_i64)
                    .is_none_or(|d| m > d),
                (Some(_), None) => false,
            };
            if !newer {
                t.unchanged += 1;
                continue;
            }
            let format = if kind == "NOTEBOOK" { "SOURCE" } else { "AUTO" };
            let exported = match self
                .from
                .get(
                    "/api/2.0/workspace/export",
                    &[("path", path.clone()), ("format", format.into())],
                )
                .await
            {
                Ok(v) => v,
                Err(e) => {
                    self.problem(format!("`{path}` could not be exported: {}", brief(&e)));
                    continue;
                }
            };
            let mut body = json!({
                "path": path,
                "content": exported.get("content").cloned().unwrap_or(Value::from("")),
                "overwrite": true,
            });
            if kind == "NOTEBOOK" {
                body["format"] = Value::from("SOURCE");
                body["language"] = obj
                    .get("language")
                    .cloned()
                    .unwrap_or(Value::from("PYTHON"));
            } else {
                body["format"] = Value::from("RAW");
            }
            if let Some((parent, _)) = path.rsplit_once('/').filter(|(p, _)| !p.is_empty()) {
                if !dst.contains_key(parent) {
                    self.write(
                        Method::POST,
                        "/api/2.0/workspace/mkdirs",
                        &json!({"path": parent}),
                        &format!("folder `{parent}`"),
                    )
                    .await;
                }
            }
            if self
                .write(
                    Method::POST,
                    "/api/2.0/workspace/import",
                    &body,
                    &format!("`{path}`"),
                )
                .await
                .is_some()
            {
                if existing.is_some() {
                    t.updated.push(path.clone());
                } else {
                    t.created.push(path.clone());
                }
            }
        }
        self.out
            .details
            .push(t.line(Kind::WorkspaceObjects, &self.to.name));
        Ok(())
    }

    async fn scopes(&mut self, placeholder: &str) -> Result<(), ApiError> {
        let src = self.from.scopes().await?;
        let dst: BTreeSet<String> = self
            .to
            .scopes()
            .await?
            .iter()
            .map(|x| s(x, "name").to_owned())
            .collect();
        let mut t = Tally::default();
        let mut placeheld = Vec::new();
        for scope in &src {
            let name = s(scope, "name").to_owned();
            if s(scope, "backend_type") == "AZURE_KEYVAULT" {
                if !dst.contains(&name) {
                    self.problem(format!(
                        "secret scope `{name}` is backed by Azure Key Vault; create it in `{}` against that region's vault",
                        self.to.name
                    ));
                }
                continue;
            }
            let mut changed = false;
            if !dst.contains(&name) {
                let body = json!({"scope": name, "scope_backend_type": "DATABRICKS"});
                if self
                    .write(
                        Method::POST,
                        "/api/2.0/secrets/scopes/create",
                        &body,
                        &format!("secret scope `{name}`"),
                    )
                    .await
                    .is_none()
                {
                    continue;
                }
                t.created.push(name.clone());
            }
            let have: BTreeSet<String> = if dst.contains(&name) {
                self.to
                    .secret_keys(&name)
                    .await?
                    .iter()
                    .map(|k| s(k, "key").to_owned())
                    .collect()
            } else {
                BTreeSet::new()
            };
            for key in self.from.secret_keys(&name).await? {
                let key = s(&key, "key").to_owned();
                if have.contains(&key) {
                    continue;
                }
                // Values cannot be read: the key is created holding the
                // plan's placeholder, and the report says which keys do.
                let body = json!({"scope": name, "key": key, "string_value": placeholder});
                if self
                    .write(
                        Method::POST,
                        "/api/2.0/secrets/put",
                        &body,
                        &format!("secret `{name}/{key}`"),
                    )
                    .await
                    .is_some()
                {
                    placeheld.push(format!("{name}/{key}"));
                    changed = true;
                }
            }
            let acls: BTreeMap<String, String> = if dst.contains(&name) {
                self.to
                    .secret_acls(&name)
                    .await?
                    .iter()
                    .map(|a| (s(a, "principal").to_owned(), s(a, "permission").to_owned()))
                    .collect()
            } else {
                BTreeMap::new()
            };
            for acl in self.from.secret_acls(&name).await? {
                let (principal, permission) = (s(&acl, "principal"), s(&acl, "permission"));
                if acls.get(principal).map(String::as_str) == Some(permission) {
                    continue;
                }
                let body = json!({"scope": name, "principal": principal, "permission": permission});
                if self
                    .write(
                        Method::POST,
                        "/api/2.0/secrets/acls/put",
                        &body,
                        &format!("ACL of secret scope `{name}` for `{principal}`"),
                    )
                    .await
                    .is_some()
                {
                    changed = true;
                }
            }
            if t.created.contains(&name) {
                // Creating a scope grants its creator MANAGE; a copy holds
                // the source's ACLs only.
                let source: BTreeSet<String> = self
                    .from
                    .secret_acls(&name)
                    .await?
                    .iter()
                    .map(|a| s(a, "principal").to_owned())
                    .collect();
                for acl in self.to.secret_acls(&name).await? {
                    let principal = s(&acl, "principal");
                    if !source.contains(principal) {
                        let body = json!({"scope": name, "principal": principal});
                        self.write(
                            Method::POST,
                            "/api/2.0/secrets/acls/delete",
                            &body,
                            &format!("ACL of secret scope `{name}` for `{principal}`"),
                        )
                        .await;
                    }
                }
            }
            if changed && !t.created.contains(&name) {
                t.updated.push(name);
            } else if !changed && !t.created.contains(&name) {
                t.unchanged += 1;
            }
        }
        self.out
            .details
            .push(t.line(Kind::SecretScopes, &self.to.name));
        if !placeheld.is_empty() {
            self.out.details.push(format!(
                "secrets created holding the plan's placeholder (values cannot be read; set the real ones in `{}`): {}",
                self.to.name,
                placeheld.join(", ")
            ));
        }
        Ok(())
    }

    async fn jobs(&mut self) -> Result<(), ApiError> {
        let src = self.from.jobs().await?;
        let mut dst = self.to.jobs().await?;
        let mut maps = self.compute_maps().await?;
        let mut t = Tally::default();
        // Missing jobs are created first, so `run_job_task` can name them.
        for j in &src {
            let name = s(j.get("settings").unwrap_or(&Value::Null), "name").to_owned();
            if name.is_empty() || dst.iter().any(|d| job_name(d) == name) {
                continue;
            }
            let body = json!({"name": name, "max_concurrent_runs": 0});
            if let Some(created) = self
                .write(
                    Method::POST,
                    "/api/2.1/jobs/create",
                    &body,
                    &format!("job `{name}`"),
                )
                .await
            {
                t.created.push(name.clone());
                dst.push(json!({"job_id": created.get("job_id").cloned().unwrap_or(Value::Null), "settings": {"name": name}, "created_by_sync": true}));
            }
        }
        maps.jobs = Map2::new_jobs(&src, &dst);
        for j in &src {
            let mut settings = j.get("settings").cloned().unwrap_or(Value::Null);
            let name = s(&settings, "name").to_owned();
            let Some(target) = dst.iter().find(|d| job_name(d) == name) else {
                continue;
            };
            let mut missing = Vec::new();
            maps.remap_job(&mut settings, &mut missing);
            if !missing.is_empty() {
                self.problem(format!("job `{name}`: {}", missing.join("; ")));
                continue;
            }
            if self.passive {
                make_passive(&mut settings);
            }
            let current = target.get("settings").cloned().unwrap_or(Value::Null);
            if current == settings {
                t.unchanged += 1;
                continue;
            }
            let body = json!({"job_id": target["job_id"], "new_settings": settings});
            if self
                .write(
                    Method::POST,
                    "/api/2.1/jobs/reset",
                    &body,
                    &format!("job `{name}`"),
                )
                .await
                .is_some()
                && !t.created.contains(&name)
            {
                t.updated.push(name);
            }
        }
        self.out.details.push(t.line(Kind::Jobs, &self.to.name));
        Ok(())
    }

    /// Direct ACL entries of every object both sides hold.
    async fn permissions(&mut self) -> Result<(), ApiError> {
        let mut pairs: Vec<(String, String, String)> = Vec::new();
        let mut add = |kind: &str, src: &[Value], dst: &[Value], name: &str, id: &str| {
            let dst = by_name(dst, name, id);
            for (sid, key) in by_id(src, name, id) {
                if let Some(did) = dst.get(&key) {
                    pairs.push((
                        format!("{kind}/{sid}"),
                        format!("{kind}/{did}"),
                        format!("{kind}:{key}"),
                    ));
                }
            }
        };
        let (sj, dj) = (self.from.jobs().await?, self.to.jobs().await?);
        let flat = |jobs: &[Value]| -> Vec<Value> {
            jobs.iter()
                .map(|j| json!({"job_id": j.get("job_id"), "name": job_name(j)}))
                .collect()
        };
        add("jobs", &flat(&sj), &flat(&dj), "name", "job_id");
        add(
            "clusters",
            &self.from.clusters().await?,
            &self.to.clusters().await?,
            "cluster_name",
            "cluster_id",
        );
        add(
            "instance-pools",
            &self.from.pools().await?,
            &self.to.pools().await?,
            "instance_pool_name",
            "instance_pool_id",
        );
        add(
            "cluster-policies",
            &self.from.policies().await?,
            &self.to.policies().await?,
            "name",
            "policy_id",
        );
        add(
            "sql/warehouses",
            &self.from.warehouses().await?,
            &self.to.warehouses().await?,
            "name",
            "id",
        );
        let (st, dt) = (Syncer::tree(self.from).await?, Syncer::tree(self.to).await?);
        for (path, obj) in &st {
            let Some(d) = dt.get(path) else { continue };
            let kind = match s(obj, "object_type") {
                "NOTEBOOK" => "notebooks",
                "DIRECTORY" => "directories",
                "FILE" => "files",
                _ => continue,
            };
            pairs.push((
                format!("{kind}/{}", id_text(obj.get("object_id"))),
                format!("{kind}/{}", id_text(d.get("object_id"))),
                format!("{kind}:{path}"),
            ));
        }
        let mut t = Tally::default();
        for (src_obj, dst_obj, key) in pairs {
            let src_acl = match self
                .from
                .get(&format!("/api/2.0/permissions/{src_obj}"), &[])
                .await
            {
                Ok(v) => direct_entries(&v),
                Err(e) => {
                    self.problem(format!("ACL of `{key}` could not be read: {}", brief(&e)));
                    continue;
                }
            };
            let dst_acl = match self
                .to
                .get(&format!("/api/2.0/permissions/{dst_obj}"), &[])
                .await
            {
                Ok(v) => direct_entries(&v),
                Err(e) => {
                    self.problem(format!(
                        "ACL of `{key}` in `{}` could not be read: {}",
                        self.to.name,
                        brief(&e)
                    ));
                    continue;
                }
            };
            if src_acl == dst_acl {
                t.unchanged += 1;
                continue;
            }
            let list: Vec<Value> = src_acl
                .iter()
                .map(|((field, principal), level)| json!({ field.as_str(): principal, "permission_level": level }))
                .collect();
            let body = json!({ "access_control_list": list });
            if self
                .write(
                    Method::PUT,
                    &format!("/api/2.0/permissions/{dst_obj}"),
                    &body,
                    &format!("ACL of `{key}`"),
                )
                .await
                .is_some()
            {
                t.updated.push(key);
            }
        }
        self.out
            .details
            .push(t.line(Kind::Permissions, &self.to.name));
        Ok(())
    }
}

fn job_name(job: &Value) -> &str {
    job.get("settings").map_or("", |st| s(st, "name"))
}

/// Direct (not inherited) entries: (principal field, principal) → level.
fn direct_entries(acl: &Value) -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    for entry in acl
        .get("access_control_list")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some((field, principal)) = ["user_name", "group_name", "service_principal_name"]
            .iter()
            .find_map(|f| {
                entry
                    .get(*f)
                    .and_then(Value::as_str)
                    .map(|p| ((*f).to_owned(), p.to_owned()))
            })
        else {
            continue;
        };
        for p in entry
            .get("all_permissions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if p.get("inherited").and_then(Value::as_bool) == Some(false) {
                if let Some(level) = p.get("permission_level").and_then(Value::as_str) {
                    out.insert((field.clone(), principal.clone()), level.to_owned());
                }
            }
        }
    }
    out
}

/// Pauses what can run by itself and sets concurrency 0.
pub(crate) fn make_passive(settings: &mut Value) {
    if let Value::Object(map) = settings {
        map.insert("max_concurrent_runs".into(), Value::from(0));
        for field in ["schedule", "trigger", "continuous"] {
            if let Some(Value::Object(s)) = map.get_mut(field) {
                s.insert("pause_status".into(), Value::from("PAUSED"));
            }
        }
    }
}

/// Source id → name and name → target id, for one kind.
#[derive(Default)]
struct Map2 {
    src: BTreeMap<String, String>,
    dst: BTreeMap<String, String>,
}

impl Map2 {
    fn new(src: &[Value], dst: &[Value], name: &str, id: &str) -> Map2 {
        Map2 {
            src: by_id(src, name, id),
            dst: by_name(dst, name, id),
        }
    }

    fn new_jobs(src: &[Value], dst: &[Value]) -> Map2 {
        Map2 {
            src: src
                .iter()
                .map(|j| (id_text(j.get("job_id")), job_name(j).to_owned()))
                .collect(),
            dst: dst
                .iter()
                .map(|j| (job_name(j).to_owned(), id_text(j.get("job_id"))))
                .collect(),
        }
    }

    /// The target id for a source id; `Err` names what is missing.
    fn map(&self, id: &str) -> Result<String, Option<String>> {
        let name = self.src.get(id).ok_or(None)?;
        self.dst
            .get(name)
            .cloned()
            .ok_or_else(|| Some(name.clone()))
    }
}

struct ComputeMaps {
    pools: Map2,
    policies: Map2,
    clusters: Map2,
    warehouses: Map2,
    jobs: Map2,
    target: String,
}

impl ComputeMaps {
    /// Replaces the id in `obj[field]`; numeric ids stay numbers.
    fn swap(
        &self,
        obj: &mut Value,
        field: &str,
        map: &Map2,
        what: &str,
        sync_kind: &str,
        missing: &mut Vec<String>,
    ) {
        let Some(v) = obj.get(field) else { return };
        let id = id_text(Some(v));
        if id.is_empty() {
            return;
        }
        match map.map(&id) {
            Ok(new) => {
                obj[field] = if v.is_number() {
                    new.parse::<i64>()
                        .map_or(Value::from(new.clone()), Value::from)
                } else {
                    Value::from(new)
                };
            }
            Err(Some(name)) => missing.push(format!(
                "{what} `{name}` does not exist in `{}`; sync `{sync_kind}` too",
                self.target
            )),
            Err(None) => missing.push(format!("{what} id `{id}` does not resolve in the source")),
        }
    }

    fn remap_compute(&self, spec: &mut Value, missing: &mut Vec<String>) {
        self.swap(
            spec,
            "instance_pool_id",
            &self.pools,
            "pool",
            "instance_pools",
            missing,
        );
        self.swap(
            spec,
            "driver_instance_pool_id",
            &self.pools,
            "pool",
            "instance_pools",
            missing,
        );
        self.swap(
            spec,
            "policy_id",
            &self.policies,
            "policy",
            "cluster_policies",
            missing,
        );
    }

    fn remap_task(&self, task: &mut Value, missing: &mut Vec<String>) {
        self.swap(
            task,
            "existing_cluster_id",
            &self.clusters,
            "cluster",
            "clusters",
            missing,
        );
        if let Some(spec) = task.get_mut("new_cluster") {
            self.remap_compute(spec, missing);
        }
        for t in ["sql_task", "notebook_task", "dbt_task"] {
            if let Some(inner) = task.get_mut(t) {
                self.swap(
                    inner,
                    "warehouse_id",
                    &self.warehouses,
                    "warehouse",
                    "sql_warehouses",
                    missing,
                );
            }
        }
        if let Some(inner) = task.get_mut("run_job_task") {
            self.swap(inner, "job_id", &self.jobs, "job", "jobs", missing);
        }
        if let Some(inner) = task
            .get_mut("for_each_task")
            .and_then(|f| f.get_mut("task"))
        {
            self.remap_task(inner, missing);
        }
    }

    fn remap_job(&self, settings: &mut Value, missing: &mut Vec<String>) {
        if let Some(Value::Array(tasks)) = settings.get_mut("tasks") {
            for task in tasks {
                self.remap_task(task, missing);
            }
        }
        if let Some(Value::Array(clusters)) = settings.get_mut("job_clusters") {
            for c in clusters {
                if let Some(spec) = c.get_mut("new_cluster") {
                    self.remap_compute(spec, missing);
                }
            }
        }
    }
}

/// An API error in one line without the method and path noise.
pub(crate) fn brief(e: &ApiError) -> String {
    match e {
        ApiError::Http {
            status,
            code,
            message,
            ..
        } => match code {
            Some(c) => format!("HTTP {status} {c}: {message}"),
            None => format!("HTTP {status}: {message}"),
        },
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passive_settings_pause_everything_that_runs_by_itself() {
        let mut s = json!({
            "name": "j", "max_concurrent_runs": 3,
            "schedule": {"quartz_cron_expression": "0 0 * * * ?", "timezone_id": "UTC", "pause_status": "UNPAUSED"},
            "continuous": {"pause_status": "UNPAUSED"}
        });
        make_passive(&mut s);
        assert_eq!(s["max_concurrent_runs"], 0);
        assert_eq!(s["schedule"]["pause_status"], "PAUSED");
        assert_eq!(s["continuous"]["pause_status"], "PAUSED");
        assert!(s.get("trigger").is_none());
    }

    #[test]
    fn job_references_map_by_name_and_missing_ones_are_named() {
        let maps = ComputeMaps {
            pools: Map2 {
                src: [("p1".to_owned(), "etl".to_owned())].into(),
                dst: [("etl".to_owned(), "p9".to_owned())].into(),
            },
            policies: Map2::default(),
            clusters: Map2 {
                src: [("c1".to_owned(), "shared".to_owned())].into(),
                dst: BTreeMap::new(),
            },
            warehouses: Map2::default(),
            jobs: Map2 {
                src: [("11".to_owned(), "daily".to_owned())].into(),
                dst: [("daily".to_owned(), "99".to_owned())].into(),
            },
            target: "dr".into(),
        };
        let mut settings = json!({"tasks": [
            {"task_key": "a", "new_cluster": {"instance_pool_id": "p1"}, "run_job_task": {"job_id": 11}},
            {"task_key": "b", "existing_cluster_id": "c1"}
        ]});
        let mut missing = Vec::new();
        maps.remap_job(&mut settings, &mut missing);
        assert_eq!(
            settings["tasks"][0]["new_cluster"]["instance_pool_id"],
            "p9"
        );
        assert_eq!(settings["tasks"][0]["run_job_task"]["job_id"], 99);
        assert_eq!(
            missing,
            vec!["cluster `shared` does not exist in `dr`; sync `clusters` too".to_owned()]
        );
    }

    #[test]
    fn only_direct_acl_entries_count() {
        let acl = json!({"access_control_list": [
            {"user_name": "a@x.com", "all_permissions": [{"permission_level": "CAN_EDIT", "inherited": false}]},
            {"group_name": "admins", "all_permissions": [{"permission_level": "CAN_MANAGE", "inherited": true, "inherited_from_object": ["/directories/"]}]}
        ]});
        let d = direct_entries(&acl);
        assert_eq!(d.len(), 1);
        assert_eq!(
            d[&("user_name".to_owned(), "a@x.com".to_owned())],
            "CAN_EDIT"
        );
    }
}
