//! Id → natural key maps, built from the raw capture, so references inside
//! objects compare equal across workspaces whose ids differ.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::{id_field, str_field};
use crate::collect::RawWorkspace;
use crate::kind::Kind;
use crate::snapshot::Reference;

/// Resolves ids of one workspace to natural keys.
#[derive(Debug, Default)]
pub struct Resolver {
    maps: HashMap<Kind, HashMap<String, String>>,
}

/// (kind, id field, natural key field) for each kind that other objects refer to by id.
const ID_FIELDS: &[(Kind, &str, &str)] = &[
    (Kind::Users, "id", "userName"),
    (Kind::ServicePrincipals, "id", "applicationId"),
    (Kind::Groups, "id", "displayName"),
    (Kind::Clusters, "cluster_id", "cluster_name"),
    (
        Kind::InstancePools,
        "instance_pool_id",
        "instance_pool_name",
    ),
    (Kind::ClusterPolicies, "policy_id", "name"),
    (Kind::WorkspaceObjects, "object_id", "path"),
    (Kind::Repos, "id", "path"),
    (Kind::SqlWarehouses, "id", "name"),
];

impl Resolver {
    /// Builds the maps from whatever kinds the capture holds.
    pub fn new(raw: &RawWorkspace) -> Self {
        let mut maps: HashMap<Kind, HashMap<String, String>> = HashMap::new();
        for &(kind, id, name) in ID_FIELDS {
            let map = maps.entry(kind).or_default();
            for obj in raw.values(kind) {
                if let (Some(id), Some(name)) = (id_field(&obj, id), str_field(&obj, name)) {
                    map.insert(id, name.to_owned());
                }
            }
        }
        let jobs = maps.entry(Kind::Jobs).or_default();
        for obj in raw.values(Kind::Jobs) {
            let name = obj.get("settings").and_then(|s| str_field(s, "name"));
            if let (Some(id), Some(name)) = (id_field(&obj, "job_id"), name) {
                jobs.insert(id, name.to_owned());
            }
        }
        Resolver { maps }
    }

    /// Adds one id → key pair (tests and fixtures build resolvers by hand).
    pub fn insert(&mut self, kind: Kind, id: impl Into<String>, key: impl Into<String>) {
        self.maps
            .entry(kind)
            .or_default()
            .insert(id.into(), key.into());
    }

    /// The natural key of the object of `kind` with this id.
    pub fn key_of(&self, kind: Kind, id: &str) -> Option<&str> {
        self.maps.get(&kind)?.get(id).map(String::as_str)
    }

    /// Replaces an id by the referenced object's natural key and records the
    /// reference; an id that does not resolve becomes `{"unresolved_id": id}`.
    pub fn reference(
        &self,
        field: impl Into<String>,
        kind: Kind,
        id: &str,
        refs: &mut Vec<Reference>,
    ) -> Value {
        match self.key_of(kind, id) {
            Some(key) => {
                refs.push(Reference {
                    field: field.into(),
                    kind,
                    key: Some(key.to_owned()),
                    unresolved_id: None,
                });
                Value::String(key.to_owned())
            }
            None => {
                refs.push(Reference {
                    field: field.into(),
                    kind,
                    key: None,
                    unresolved_id: Some(id.to_owned()),
                });
                json!({ "unresolved_id": id })
            }
        }
    }

    /// Records a reference that is already a natural key (a notebook path, a secret scope name).
    pub fn named(field: impl Into<String>, kind: Kind, key: &str, refs: &mut Vec<Reference>) {
        refs.push(Reference {
            field: field.into(),
            kind,
            key: Some(key.to_owned()),
            unresolved_id: None,
        });
    }
}
