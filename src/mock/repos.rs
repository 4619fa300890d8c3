//! Repos (Git folders): `GET /api/2.0/repos` paged with the
//! `next_page_token` *request* parameter, `GET|PATCH|DELETE /repos/{id}`,
//! `POST /repos`. Each repo is also a `REPO` workspace object at its path.

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::routing::get;
use bytes::Bytes;
use serde_json::{Map, Value, json};

use super::error::{ApiError, StoreError};
use super::fixture::LoadError;
use super::http::{Out, Query, Reply, body_object, empty, json};
use super::permissions::ObjType;
use super::state::MockState;
use super::store::{Coll, Doc, Workspace, decode_token, encode_token};

/// Repos per page.
const PAGE: usize = 20;

/// One repo.
#[derive(Debug)]
pub(crate) struct Repo {
    doc: Doc,
    pub(crate) path: Option<String>,
}

/// Every repo.
#[derive(Debug, Default)]
pub(crate) struct RepoStore {
    pub(crate) items: Coll<i64, Repo>,
}

impl RepoStore {
    /// Every repo document, for dumps.
    pub(crate) fn dump(&self) -> Vec<String> {
        self.items
            .iter()
            .map(|(_, r)| r.doc.as_str().to_owned())
            .collect()
    }
}

/// Adds one fixture repo.
pub(crate) fn load(ws: &mut Workspace, raw: &str) -> Result<(), LoadError> {
    #[derive(serde::Deserialize)]
    struct Keys {
        id: i64,
        path: Option<String>,
    }
    let keys: Keys = serde_json::from_str(raw)?;
    if ws.repos.items.contains(&keys.id) {
        return Err(format!("duplicate repo `id` {}", keys.id).into());
    }
    if let Some(p) = &keys.path {
        super::workspace::check_path(p).map_err(|e| e.to_string())?;
    }
    ws.ids.object = ws.ids.object.max(keys.id.saturating_add(1));
    ws.repos.items.insert(
        keys.id,
        Repo {
            doc: Doc::compact(raw),
            path: keys.path,
        },
    );
    Ok(())
}

/// The routes.
pub(crate) fn routes() -> Router<MockState> {
    Router::new()
        .route("/api/2.0/repos", get(list).post(create))
        .route(
            "/api/2.0/repos/{id}",
            get(get_repo).patch(update).delete(delete),
        )
}

fn unknown(id: &str) -> StoreError {
    StoreError::NotFound(format!("Repo {id} does not exist."))
}

fn parse_id(id: &str) -> Result<i64, StoreError> {
    id.parse().map_err(|_| unknown(id))
}

async fn list(State(st): State<MockState>, RawQuery(q): RawQuery) -> Reply {
    let q = Query::parse(q.as_deref());
    let prefix = q.get("path_prefix").filter(|p| !p.is_empty());
    let ws = st.read();
    let start = match q.get("next_page_token").filter(|t| !t.is_empty()) {
        Some(t) => {
            let key: i64 = decode_token(t)?
                .parse()
                .map_err(|_| ApiError::invalid(format!("Invalid page token: {t}")))?;
            ws.repos.items.lower_bound(&key)
        }
        None => 0,
    };
    let mut page = Vec::new();
    let mut next = None;
    for (id, r) in ws.repos.items.iter().skip(start) {
        if prefix.is_some_and(|p| !r.path.as_deref().is_some_and(|rp| rp.starts_with(p))) {
            continue;
        }
        if page.len() == PAGE {
            next = Some(encode_token(&id.to_string()));
            break;
        }
        page.push(r.doc.as_str());
    }
    let mut out = Out::object();
    out.array_nonempty("repos", page);
    Ok(out.opt_string("next_page_token", next.as_deref()).reply())
}

async fn get_repo(State(st): State<MockState>, Path(id): Path<String>) -> Reply {
    let n = parse_id(&id)?;
    let ws = st.read();
    Ok(json(
        ws.repos
            .items
            .get(&n)
            .ok_or_else(|| unknown(&id))?
            .doc
            .as_str()
            .to_owned(),
    ))
}

/// `gitHub`, `gitLab`, … from a URL's host.
fn provider_of(url: &str) -> &'static str {
    if url.contains("github.com") {
        "gitHub"
    } else if url.contains("gitlab") {
        "gitLab"
    } else if url.contains("bitbucket") {
        "bitbucketCloud"
    } else if url.contains("dev.azure.com") || url.contains("visualstudio.com") {
        "azureDevOpsServices"
    } else {
        "gitHub"
    }
}

async fn create(State(st): State<MockState>, body: Bytes) -> Reply {
    let spec = body_object(&body)?;
    let url = match spec.get("url") {
        Some(Value::String(u)) if !u.is_empty() => u.clone(),
        _ => return Err(super::http::missing("url")),
    };
    let mut ws = st.write();
    let name = url
        .trim_end_matches('/')
        .trim_end_matches(".git")
        .rsplit('/')
        .next()
        .unwrap_or("repo")
        .to_owned();
    let path = match spec.get("path").and_then(Value::as_str) {
        Some(p) => super::workspace::check_path(p)?,
        None => format!("/Repos/{}/{name}", ws.caller()),
    };
    let id = ws.ids.object_id();
    ws.attach_repo(id, &path)?;
    let provider = spec
        .get("provider")
        .and_then(Value::as_str)
        .map_or_else(|| provider_of(&url).to_owned(), str::to_owned);
    let commit = format!(
        "{}{}{}",
        ws.ids.hex16(false),
        ws.ids.hex16(false),
        &ws.ids.hex16(false)[..8]
    );
    let mut doc = json!({"id": id, "path": path, "url": url, "provider": provider, "branch": "main", "head_commit_id": commit});
    if let Some(s) = spec.get("sparse_checkout") {
        doc["sparse_checkout"] = s.clone();
    }
    ws.repos.items.insert(
        id,
        Repo {
            doc: Doc::from_value(&doc),
            path: Some(path),
        },
    );
    ws.init_acl(ObjType::Repos, &id.to_string(), None)?;
    Ok(json(doc.to_string()))
}

async fn update(State(st): State<MockState>, Path(id): Path<String>, body: Bytes) -> Reply {
    let spec: Map<String, Value> = body_object(&body)?;
    let n = parse_id(&id)?;
    let mut ws = st.write();
    let commit = format!(
        "{}{}{}",
        ws.ids.hex16(false),
        ws.ids.hex16(false),
        &ws.ids.hex16(false)[..8]
    );
    let repo = ws.repos.items.get_mut(&n).ok_or_else(|| unknown(&id))?;
    if spec.get("branch").is_some() && spec.get("tag").is_some() {
        return Err(ApiError::invalid("Only one of branch and tag may be given"));
    }
    repo.doc.edit(|m| {
        if let Some(b) = spec.get("branch") {
            m.insert("branch".into(), b.clone());
            m.insert("head_commit_id".into(), Value::from(commit.clone()));
        }
        if spec.get("tag").is_some() {
            m.remove("branch");
            m.insert("head_commit_id".into(), Value::from(commit));
        }
        if let Some(s) = spec.get("sparse_checkout") {
            m.insert("sparse_checkout".into(), s.clone());
        }
    });
    Ok(empty())
}

async fn delete(State(st): State<MockState>, Path(id): Path<String>) -> Reply {
    let n = parse_id(&id)?;
    let mut ws = st.write();
    let repo = ws.repos.items.remove(&n).ok_or_else(|| unknown(&id))?;
    if let Some(p) = repo.path {
        ws.detach_repo(&p);
    }
    ws.permissions.forget(ObjType::Repos, &id);
    Ok(empty())
}
