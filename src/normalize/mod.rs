//! Raw API objects → snapshot records, one file per object kind.
//!
//! Records are keyed by natural keys; ids are replaced by references to the
//! referenced object's natural key (an id that does not resolve stays visible
//! as `{"unresolved_id": ...}`); volatile fields are dropped; modification
//! times are kept beside the content, not in it. Pure and deterministic.

mod canon;
mod compute;
mod resolve;

mod catalogs;
mod cluster_libraries;
mod cluster_policies;
mod clusters;
mod global_init_scripts;
mod grants;
mod groups;
mod instance_pools;
mod ip_access_lists;
mod jobs;
mod permissions;
mod repos;
mod schemas;
mod secret_acls;
mod secret_scopes;
mod secrets;
mod service_principals;
mod sql_warehouses;
mod tables;
mod users;
mod workspace_conf;
mod workspace_objects;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;
use serde_json::value::RawValue;

pub use canon::{canonical_json, canonicalize};
pub use resolve::Resolver;

pub(crate) use global_init_scripts::script_sha256;

use crate::collect::{RawWorkspace, parse};
use crate::kind::Kind;
use crate::snapshot::{KindSnapshot, Record, Reference, Status};

/// A record before its content is frozen into canonical bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct Draft {
    /// Natural key.
    pub key: String,
    /// Last modification time, epoch ms.
    pub modified_at: Option<i64>,
    /// References to other objects.
    pub refs: Vec<Reference>,
    /// The content to compare; canonicalized when frozen.
    pub content: Value,
}

impl Draft {
    /// A draft with no modification time and no references.
    pub fn new(key: impl Into<String>, content: Value) -> Self {
        Draft {
            key: key.into(),
            modified_at: None,
            refs: Vec::new(),
            content,
        }
    }

    /// Freezes the draft: canonical content bytes.
    pub fn into_record(mut self) -> Record {
        canonicalize(&mut self.content);
        let text = canonical_json(&self.content);
        Record {
            key: self.key,
            duplicate: false,
            modified_at: self.modified_at,
            refs: self.refs,
            content: RawValue::from_string(text).expect("serde_json output is valid JSON"),
        }
    }
}

/// Normalizes every requested kind of a raw capture into snapshot sections.
///
/// Takes the capture by value to free it as it goes: after the id maps are
/// built, each kind's raw text is dropped once its records exist, and objects
/// are parsed one at a time, so the trees of a whole kind never coexist.
pub fn normalize(mut raw: RawWorkspace) -> BTreeMap<Kind, KindSnapshot> {
    let resolver = Resolver::new(&raw);
    let mut requested = std::mem::take(&mut raw.requested);
    requested.sort();
    requested.dedup();
    // Kinds collected only because a requested one depends on them were
    // needed for the id maps alone.
    raw.kinds.retain(|kind, _| requested.contains(kind));
    requested
        .into_iter()
        .map(|kind| {
            let Some(kind_raw) = raw.kinds.remove(&kind) else {
                return (kind, KindSnapshot::new(Status::Complete, Vec::new()));
            };
            let status = match &kind_raw.error {
                None => Status::Complete,
                Some(e) => Status::Incomplete {
                    reason: e.to_incomplete(),
                },
            };
            // The capture is normally the only owner: then each object's
            // text is freed as soon as its record exists.
            let records = match Arc::try_unwrap(kind_raw) {
                Ok(owned) => records(
                    kind,
                    owned.objects.into_iter().map(|o| parse(&o)),
                    &resolver,
                ),
                Err(shared) => records(kind, shared.values(), &resolver),
            };
            (kind, KindSnapshot::new(status, records))
        })
        .collect()
}

/// The records of one kind's objects, normalized one object at a time.
fn records(kind: Kind, objects: impl Iterator<Item = Value>, r: &Resolver) -> Vec<Record> {
    objects
        .flat_map(|object| normalize_kind(kind, std::slice::from_ref(&object), r))
        .map(Draft::into_record)
        .collect()
}

/// Dispatches to the normalizer of one kind: the registry line of each kind.
///
/// Every normalizer maps each object on its own (none looks at another
/// object of its kind), so [`normalize`] feeds them one object at a time.
pub fn normalize_kind(kind: Kind, objects: &[Value], r: &Resolver) -> Vec<Draft> {
    match kind {
        Kind::Users => users::normalize(objects, r),
        Kind::Groups => groups::normalize(objects, r),
        Kind::ServicePrincipals => service_principals::normalize(objects, r),
        Kind::Jobs => jobs::normalize(objects, r),
        Kind::Clusters => clusters::normalize(objects, r),
        Kind::ClusterLibraries => cluster_libraries::normalize(objects, r),
        Kind::InstancePools => instance_pools::normalize(objects, r),
        Kind::ClusterPolicies => cluster_policies::normalize(objects, r),
        Kind::GlobalInitScripts => global_init_scripts::normalize(objects, r),
        Kind::WorkspaceObjects => workspace_objects::normalize(objects, r),
        Kind::Repos => repos::normalize(objects, r),
        Kind::SecretScopes => secret_scopes::normalize(objects, r),
        Kind::Secrets => secrets::normalize(objects, r),
        Kind::SecretAcls => secret_acls::normalize(objects, r),
        Kind::Permissions => permissions::normalize(objects, r),
        Kind::Catalogs => catalogs::normalize(objects, r),
        Kind::Schemas => schemas::normalize(objects, r),
        Kind::Tables => tables::normalize(objects, r),
        Kind::Grants => grants::normalize(objects, r),
        Kind::SqlWarehouses => sql_warehouses::normalize(objects, r),
        Kind::IpAccessLists => ip_access_lists::normalize(objects, r),
        Kind::WorkspaceConf => workspace_conf::normalize(objects, r),
    }
}

/// A string field of a raw object.
pub(crate) fn str_field<'a>(v: &'a Value, field: &str) -> Option<&'a str> {
    v.get(field).and_then(Value::as_str)
}

/// An id field that may be a number or a string, as text.
pub(crate) fn id_field(v: &Value, field: &str) -> Option<String> {
    match v.get(field)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
