//! Cluster policies: `/api/2.0/policies/clusters/list|get|create|edit|delete`.
//! `definition` is JSON inside a string, checked to parse as an object.

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::routing::{get, post};
use bytes::Bytes;
use serde_json::{Map, Value, json};

use super::error::{ApiError, StoreError};
use super::fixture::LoadError;
use super::http::{Out, Query, Reply, body_object, empty, json, json_value};
use super::permissions::ObjType;
use super::state::MockState;
use super::store::{Coll, Doc, Sid, Workspace};

/// One policy.
#[derive(Debug)]
pub(crate) struct Policy {
    pub(crate) doc: Doc,
    pub(crate) name: Box<str>,
    created: i64,
}

/// Every policy.
#[derive(Debug, Default)]
pub(crate) struct PolicyStore {
    pub(crate) items: Coll<Sid, Policy>,
}

impl PolicyStore {
    /// Every policy document, for dumps.
    pub(crate) fn dump(&self) -> Vec<String> {
        self.items
            .iter()
            .map(|(_, p)| p.doc.as_str().to_owned())
            .collect()
    }

    fn id_by_name(&self, name: &str) -> Option<&str> {
        self.items
            .iter()
            .find(|(_, p)| &*p.name == name)
            .map(|(id, _)| id.as_str())
    }
}

/// Adds one fixture policy.
pub(crate) fn load(ws: &mut Workspace, raw: &str) -> Result<(), LoadError> {
    #[derive(serde::Deserialize)]
    struct Keys {
        policy_id: String,
        name: String,
        definition: Option<String>,
        created_at_timestamp: Option<i64>,
    }
    let keys: Keys = serde_json::from_str(raw)?;
    if keys.policy_id.is_empty() || ws.policies.items.contains(&keys.policy_id) {
        return Err(format!("empty or duplicate `policy_id` `{}`", keys.policy_id).into());
    }
    if let Some(d) = &keys.definition {
        serde_json::from_str::<Map<String, Value>>(d)
            .map_err(|e| format!("`definition` is not a JSON object: {e}"))?;
    }
    let policy = Policy {
        doc: Doc::compact(raw),
        name: keys.name.into(),
        created: keys.created_at_timestamp.unwrap_or(0),
    };
    ws.policies
        .items
        .insert(Sid::from(keys.policy_id.as_str()), policy);
    Ok(())
}

/// The routes.
pub(crate) fn routes() -> Router<MockState> {
    Router::new()
        .route("/api/2.0/policies/clusters/list", get(list))
        .route("/api/2.0/policies/clusters/get", get(get_policy))
        .route("/api/2.0/policies/clusters/create", post(create))
        .route("/api/2.0/policies/clusters/edit", post(edit))
        .route("/api/2.0/policies/clusters/delete", post(delete))
}

fn unknown(id: &str) -> StoreError {
    StoreError::NotFound(format!("Can't find a cluster policy with id: {id}."))
}

async fn list(State(st): State<MockState>, RawQuery(q): RawQuery) -> Reply {
    let q = Query::parse(q.as_deref());
    let by_name = match q.get("sort_column") {
        None | Some("POLICY_CREATION_TIME") => false,
        Some("POLICY_NAME") => true,
        Some(other) => return Err(ApiError::invalid(format!("Invalid sort_column: {other}"))),
    };
    let descending = match q.get("sort_order") {
        None | Some("DESC") => true,
        Some("ASC") => false,
        Some(other) => return Err(ApiError::invalid(format!("Invalid sort_order: {other}"))),
    };
    let ws = st.read();
    let mut policies: Vec<&Policy> = ws.policies.items.iter().map(|(_, p)| p).collect();
    policies.sort_by(|a, b| {
        let o = if by_name {
            a.name.cmp(&b.name)
        } else {
            a.created.cmp(&b.created)
        };
        if descending { o.reverse() } else { o }
    });
    Ok(Out::object()
        .array_nonempty("policies", policies.iter().map(|p| p.doc.as_str()))
        .reply())
}

async fn get_policy(State(st): State<MockState>, RawQuery(q): RawQuery) -> Reply {
    let q = Query::parse(q.as_deref());
    let id = q.required("policy_id")?;
    let ws = st.read();
    Ok(json(
        ws.policies
            .items
            .get(id)
            .ok_or_else(|| unknown(id))?
            .doc
            .as_str()
            .to_owned(),
    ))
}

const FIELDS: [&str; 6] = [
    "name",
    "definition",
    "description",
    "max_clusters_per_user",
    "policy_family_id",
    "policy_family_definition_overrides",
];

fn check(spec: &Map<String, Value>) -> Result<String, ApiError> {
    let name = match spec.get("name") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => return Err(super::http::missing("name")),
    };
    for f in ["definition", "policy_family_definition_overrides"] {
        match spec.get(f) {
            None | Some(Value::Null) => {}
            Some(Value::String(d)) if serde_json::from_str::<Map<String, Value>>(d).is_ok() => {}
            Some(_) => {
                return Err(ApiError::invalid(format!(
                    "{f} must be a JSON object in a string"
                )));
            }
        }
    }
    Ok(name)
}

async fn create(State(st): State<MockState>, body: Bytes) -> Reply {
    let spec = body_object(&body)?;
    let name = check(&spec)?;
    let mut ws = st.write();
    if ws.policies.id_by_name(&name).is_some() {
        return Err(StoreError::AlreadyExists(format!(
            "A cluster policy with name {name} already exists."
        ))
        .into());
    }
    let id = ws.ids.hex16(true);
    let now = ws.now();
    let mut map = Map::new();
    map.insert("policy_id".into(), Value::from(id.clone()));
    for f in FIELDS.iter().chain(&["libraries"]) {
        if let Some(v) = spec.get(*f) {
            map.insert((*f).into(), v.clone());
        }
    }
    map.entry("definition").or_insert(Value::from("{}"));
    map.insert("created_at_timestamp".into(), Value::from(now));
    map.insert("creator_user_name".into(), Value::from(ws.caller()));
    map.insert("is_default".into(), Value::Bool(false));
    ws.policies.items.insert(
        Sid::from(id.as_str()),
        Policy {
            doc: Doc::from_map(map),
            name: name.into(),
            created: now,
        },
    );
    ws.init_acl(ObjType::ClusterPolicies, &id, None)?;
    Ok(json_value(&json!({ "policy_id": id })))
}

async fn edit(State(st): State<MockState>, body: Bytes) -> Reply {
    let spec = body_object(&body)?;
    let id = spec
        .get("policy_id")
        .and_then(Value::as_str)
        .ok_or_else(|| super::http::missing("policy_id"))?
        .to_owned();
    let name = check(&spec)?;
    let mut ws = st.write();
    if ws
        .policies
        .id_by_name(&name)
        .is_some_and(|other| other != id)
    {
        return Err(StoreError::AlreadyExists(format!(
            "A cluster policy with name {name} already exists."
        ))
        .into());
    }
    let policy = ws.policies.items.get_mut(&id).ok_or_else(|| unknown(&id))?;
    policy.doc.edit(|m| {
        for f in FIELDS.iter().chain(&["libraries"]) {
            match spec.get(*f) {
                Some(v) => m.insert((*f).into(), v.clone()),
                None => m.remove(*f),
            };
        }
    });
    policy.name = name.into();
    Ok(empty())
}

async fn delete(State(st): State<MockState>, body: Bytes) -> Reply {
    let spec = body_object(&body)?;
    let id = spec
        .get("policy_id")
        .and_then(Value::as_str)
        .ok_or_else(|| super::http::missing("policy_id"))?
        .to_owned();
    let mut ws = st.write();
    ws.policies
        .items
        .remove(id.as_str())
        .ok_or_else(|| unknown(&id))?;
    ws.permissions.forget(ObjType::ClusterPolicies, &id);
    Ok(empty())
}
