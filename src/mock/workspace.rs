//! Workspace objects: `GET /api/2.0/workspace/list|get-status|export`,
//! `POST /api/2.0/workspace/import|mkdirs|delete`.
//!
//! Objects are indexed by path and by `object_id`; each folder keeps its
//! children, so a listing costs the size of the folder, not of the tree.
//! Folders a fixture does not list but its paths imply are created on load;
//! repos appear as `REPO` objects at their paths. Contents (base64) are kept
//! apart from the `ObjectInfo` and returned by `export` only.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::Arc;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use base64::Engine;
use bytes::Bytes;
use serde_json::{Map, Value, json};

use super::canon::canonical_object;
use super::error::{ApiError, StoreError};
use super::fixture::LoadError;
use super::http::{Out, Query, Reply, empty, json, json_bytes, json_value};
use super::permissions::ObjType;
use super::state::MockState;
use super::store::{Doc, FastMap, Rendered, Workspace, compact_into, push_json_str, split_object};

/// One workspace object.
#[derive(Debug)]
pub(crate) struct WsObj {
    /// The `ObjectInfo` as `list` and `get-status` return it.
    pub(crate) doc: Doc,
    pub(crate) object_id: i64,
    /// `NOTEBOOK`, `DIRECTORY`, `FILE`, `LIBRARY`, `REPO`, `DASHBOARD`.
    pub(crate) object_type: &'static str,
    pub(crate) language: Option<Box<str>>,
    pub(crate) modified_at: Option<i64>,
    /// Base64 source, for `export`.
    content: Option<Box<str>>,
    /// Children and listing, once the object has a child (folders and
    /// repos only): apart, so the many notebooks and files do not carry
    /// the room for them.
    folder: Option<Box<Folder>>,
}

/// What a folder or repo with children has.
#[derive(Debug, Default)]
struct Folder {
    /// Full paths of the children, sorted; each shares its text with the
    /// child's key in [`WsStore`].
    children: BTreeSet<Arc<str>>,
    /// The `list` reply (without `notebooks_modified_after`); cleared when
    /// a child comes, goes or changes.
    listing: Rendered,
}

impl WsObj {
    /// The children's paths, sorted.
    fn children(&self) -> impl Iterator<Item = &Arc<str>> {
        self.folder.iter().flat_map(|f| f.children.iter())
    }

    /// The children, to add to.
    fn children_mut(&mut self) -> &mut BTreeSet<Arc<str>> {
        &mut self.folder.get_or_insert_with(Box::default).children
    }

    /// Forgets the rendered listing: a child came, went or changed.
    fn forget_listing(&mut self) {
        if let Some(f) = &mut self.folder {
            f.listing.clear();
        }
    }
}

/// Every workspace object.
#[derive(Debug, Default)]
pub(crate) struct WsStore {
    /// Paths are shared by the three indexes (here, `by_id` and the
    /// parent's children): one copy of each path, not three.
    by_path: FastMap<Arc<str>, WsObj>,
    by_id: FastMap<i64, Arc<str>>,
}

impl WsStore {
    /// The object at a path.
    pub(crate) fn get(&self, path: &str) -> Option<&WsObj> {
        self.by_path.get(path)
    }

    /// The `object_type` of an object id.
    pub(crate) fn type_of_id(&self, id: i64) -> Option<&str> {
        self.by_id
            .get(&id)
            .and_then(|p| self.by_path.get(p))
            .map(|o| o.object_type)
    }

    /// Links every object into its parent folder's children where the
    /// parent is loaded; returns the other paths (the root's children when
    /// the root is not there yet, and paths whose folders are implied).
    ///
    /// Needs only the objects, so a large fixture's objects are linked on
    /// their loading thread while other kinds load.
    pub(crate) fn link_loaded(&mut self) -> Vec<Arc<str>> {
        let mut groups: FastMap<&str, Vec<&Arc<str>>> = FastMap::default();
        for path in self.by_path.keys() {
            if let Some(parent) = parent_of(path) {
                groups.entry(parent).or_default().push(path);
            }
        }
        // One lookup per folder, not per object; each folder's children
        // are built in one go (a `BTreeSet` collected from sorted paths).
        let mut links = Vec::with_capacity(groups.len());
        let mut orphans = Vec::new();
        for (parent, mut kids) in groups {
            if let Some((parent, _)) = self.by_path.get_key_value(parent) {
                kids.sort_unstable();
                let kids: BTreeSet<Arc<str>> = kids.into_iter().cloned().collect();
                links.push((parent.clone(), kids));
            } else {
                orphans.extend(kids.into_iter().cloned());
            }
        }
        for (parent, mut kids) in links {
            if let Some(p) = self.by_path.get_mut(&*parent) {
                p.children_mut().append(&mut kids);
            }
        }
        orphans
    }

    /// Makes room for `n` more objects.
    pub(crate) fn reserve(&mut self, n: usize) {
        self.by_path.reserve(n);
        self.by_id.reserve(n);
    }

    /// Indexes an object; returns its path as shared by the indexes.
    fn insert(&mut self, path: &str, obj: WsObj) -> Arc<str> {
        let path: Arc<str> = path.into();
        self.by_id.insert(obj.object_id, path.clone());
        self.by_path.insert(path.clone(), obj);
        path
    }

    /// Every object but the root, with its content, by path: for dumps.
    pub(crate) fn dump(&self) -> Vec<String> {
        let mut paths: Vec<&str> = self
            .by_path
            .keys()
            .map(|p| &**p)
            .filter(|p| *p != "/")
            .collect();
        paths.sort_unstable();
        paths
            .into_iter()
            .filter_map(|p| self.by_path.get(p))
            .map(|o| match &o.content {
                None => o.doc.as_str().to_owned(),
                Some(c) => {
                    let mut map = o.doc.to_map();
                    map.insert("content".into(), Value::from(&**c));
                    Value::Object(map).to_string()
                }
            })
            .collect()
    }
}

/// The parent folder of a path (`None` for the root).
pub(crate) fn parent_of(path: &str) -> Option<&str> {
    if path == "/" {
        return None;
    }
    match path.rfind('/') {
        Some(0) => Some("/"),
        Some(i) => Some(&path[..i]),
        None => None,
    }
}

/// Checks a path is absolute and normal; returns it without a trailing slash.
pub(crate) fn check_path(path: &str) -> Result<String, StoreError> {
    let trimmed = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    };
    let bad_segment = trimmed != "/"
        && trimmed
            .split('/')
            .skip(1)
            .any(|s| s.is_empty() || s == "." || s == "..");
    if !trimmed.starts_with('/') || bad_segment {
        return Err(StoreError::Invalid(format!(
            "Path ({path}) is not a valid absolute path."
        )));
    }
    Ok(if trimmed.is_empty() {
        "/".to_owned()
    } else {
        trimmed.to_owned()
    })
}

fn not_found(path: &str) -> StoreError {
    StoreError::NotFound(format!("Path ({path}) doesn't exist."))
}

const TYPES: [&str; 6] = [
    "NOTEBOOK",
    "DIRECTORY",
    "FILE",
    "LIBRARY",
    "REPO",
    "DASHBOARD",
];

/// Adds one fixture object. Its `content` is kept apart; the rest is the `ObjectInfo`.
pub(crate) fn load(ws: &mut Workspace, raw: &str) -> Result<(), LoadError> {
    // Each member's key and value text. Canonical text (what the generator
    // and a dump write) is split by the canonical scanner, which also
    // checks it whole; anything else goes through serde_json. A million
    // objects spent more time here than in the rest of their loading.
    let fields: Vec<(Cow<'_, str>, &str)> = match canonical_object(raw, "") {
        Some((members, _)) => members
            .into_iter()
            .map(|m| (Cow::Borrowed(m.key), m.value))
            .collect(),
        None => split_object(raw)?
            .into_iter()
            .map(|(k, v)| (k, v.get()))
            .collect(),
    };
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| *v);
    let text = |name: &str| -> Result<Option<Cow<'_, str>>, LoadError> {
        field(name)
            .map(
                |raw| match raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
                    // Valid JSON text already: a string without escapes is its
                    // own content, borrowed from the fixture.
                    Some(plain) if !plain.contains('\\') => Ok(Cow::Borrowed(plain)),
                    _ => serde_json::from_str::<String>(raw).map(Cow::Owned),
                },
            )
            .transpose()
            .map_err(|_| format!("`{name}` must be a string").into())
    };
    let int = |name: &str| -> Result<Option<i64>, LoadError> {
        field(name)
            .map(|raw| {
                // A JSON integer is Rust's integer syntax; serde_json for
                // the rest (and the error).
                raw.parse::<i64>()
                    .or_else(|_| serde_json::from_str::<i64>(raw))
                    .map_err(|_| ())
            })
            .transpose()
            .map_err(|()| format!("`{name}` must be an integer").into())
    };
    let raw_path = text("path")?.ok_or("missing `path`".to_owned())?;
    let object_type = text("object_type")?.ok_or("missing `object_type`".to_owned())?;
    let content = text("content")?;
    let language = text("language")?;
    let modified_at = int("modified_at")?;
    let given_id = int("object_id")?;
    let path = check_path(&raw_path).map_err(|e| e.to_string())?;
    if path == "/" {
        return Err("the root folder `/` is implied; do not list it"
            .to_owned()
            .into());
    }
    let Some(object_type) = TYPES.iter().copied().find(|t| *t == object_type) else {
        return Err(format!("unknown `object_type` `{object_type}`").into());
    };
    if ws.objects.by_path.contains_key(path.as_str()) {
        return Err(format!("duplicate path `{path}`").into());
    }
    let object_id = match given_id {
        Some(id) => id,
        None => ws.ids.object_id(),
    };
    if ws.objects.by_id.contains_key(&object_id) {
        return Err(format!("duplicate `object_id` {object_id}").into());
    }
    ws.ids.object = ws.ids.object.max(object_id.saturating_add(1));
    if let Some(c) = &content {
        // Decoded only to check it, into a buffer reused across the load.
        thread_local! {
            static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        SCRATCH
            .with_borrow_mut(|buf| {
                buf.clear();
                base64::engine::general_purpose::STANDARD.decode_vec(c.as_bytes(), buf)
            })
            .map_err(|_| format!("`content` of `{path}` is not base64"))?;
    }
    let doc = if content.is_none() && given_id.is_some() && path == raw_path {
        Doc::compact(raw)
    } else {
        // Without `content`, with the normal path and the generated id
        // first; built as `join_object` would, compact by construction.
        let mut out = String::with_capacity(raw.len());
        out.push_str("{\"path\":");
        push_json_str(&mut out, &path);
        out.push_str(",\"object_id\":");
        out.push_str(&object_id.to_string());
        for (k, v) in fields
            .iter()
            .filter(|(k, _)| k != "content" && k != "path" && k != "object_id")
        {
            out.push(',');
            push_json_str(&mut out, k);
            out.push(':');
            compact_into(&mut out, v);
        }
        out.push('}');
        Doc::canonical(out)
    };
    ws.objects.insert(
        &path,
        WsObj {
            doc,
            object_id,
            object_type,
            language: language.as_deref().map(Into::into),
            modified_at,
            content: content.as_deref().map(Into::into),
            folder: None,
        },
    );
    Ok(())
}

impl Workspace {
    fn new_object(
        &mut self,
        path: &str,
        object_type: &'static str,
        language: Option<&str>,
        now: Option<i64>,
    ) -> WsObj {
        let object_id = self.ids.object_id();
        let mut m = Map::new();
        m.insert("path".into(), Value::from(path));
        m.insert("object_type".into(), Value::from(object_type));
        m.insert("object_id".into(), Value::from(object_id));
        m.insert("resource_id".into(), Value::from(object_id.to_string()));
        if let Some(l) = language {
            m.insert("language".into(), Value::from(l));
        }
        if let Some(t) = now {
            m.insert("created_at".into(), Value::from(t));
            m.insert("modified_at".into(), Value::from(t));
        }
        WsObj {
            doc: Doc::from_map(m),
            object_id,
            object_type,
            language: language.map(Into::into),
            modified_at: now,
            content: None,
            folder: None,
        }
    }

    /// After load: the root, implied folders, repos' `REPO` objects, and
    /// every folder's children (`orphans`: when the fixture's objects were
    /// linked already, see [`WsStore::link_loaded`], the paths left over).
    pub(crate) fn finish_objects(&mut self, orphans: Option<Vec<Arc<str>>>) {
        if !self.objects.by_path.contains_key("/") {
            let root = self.new_object("/", "DIRECTORY", None, None);
            self.objects.insert("/", root);
        }
        let mut orphans = orphans.unwrap_or_else(|| self.objects.link_loaded());
        let repos: Vec<(i64, String)> = self
            .repos
            .items
            .iter()
            .filter_map(|(id, r)| r.path.as_deref().map(|p| (*id, p.to_owned())))
            .collect();
        for (id, path) in repos {
            if !self.objects.by_path.contains_key(path.as_str())
                && !self.objects.by_id.contains_key(&id)
            {
                let mut obj = self.new_object(&path, "REPO", None, None);
                obj.object_id = id;
                obj.doc.edit(|m| {
                    m.insert("object_id".into(), Value::from(id));
                    m.insert("resource_id".into(), Value::from(id.to_string()));
                });
                // Linked with the orphans below (an existing parent is only linked).
                orphans.push(self.objects.insert(&path, obj));
            }
        }
        // Only a path whose parent is missing creates folders, with ids in
        // the order of such paths, sorted (a parent the plan found missing
        // may have come since: then the path is only linked). Sorted, a
        // folder comes before everything under it, so once a parent existed
        // before, the chain above it is linked already.
        orphans.sort_unstable();
        for mut child in orphans {
            while let Some(parent) = parent_of(&child) {
                let (parent, existed) = match self.objects.by_path.get_key_value(parent) {
                    Some((key, _)) => (key.clone(), true),
                    None => {
                        let dir = self.new_object(parent, "DIRECTORY", None, None);
                        (self.objects.insert(parent, dir), false)
                    }
                };
                if let Some(p) = self.objects.by_path.get_mut(&*parent) {
                    p.children_mut().insert(child);
                }
                if existed {
                    break;
                }
                child = parent;
            }
        }
    }

    /// Creates a folder and its parents; a non-folder in the way is an error.
    pub(crate) fn mkdirs(&mut self, path: &str) -> Result<(), StoreError> {
        let path = check_path(path)?;
        let mut missing = Vec::new();
        let mut current = path.as_str();
        loop {
            match self.objects.get(current) {
                Some(o) if o.object_type == "DIRECTORY" => break,
                Some(_) => {
                    return Err(StoreError::AlreadyExists(format!(
                        "Path ({current}) already exists."
                    )));
                }
                None => missing.push(current.to_owned()),
            }
            match parent_of(current) {
                Some(p) => current = p,
                None => break,
            }
        }
        let now = self.now();
        for dir in missing.into_iter().rev() {
            let obj = self.new_object(&dir, "DIRECTORY", None, Some(now));
            self.attach(&dir, obj);
        }
        Ok(())
    }

    /// Inserts an object and links it into its parent.
    fn attach(&mut self, path: &str, obj: WsObj) {
        let path = self.objects.insert(path, obj);
        if let Some(parent) = parent_of(&path).and_then(|p| self.objects.by_path.get_mut(p)) {
            parent.forget_listing();
            parent.children_mut().insert(path);
        }
    }

    /// Forgets the parent's listing after a change to the object at `path`.
    fn changed_in_parent(&mut self, path: &str) {
        if let Some(parent) = parent_of(path).and_then(|p| self.objects.by_path.get_mut(p)) {
            parent.forget_listing();
        }
    }

    /// Removes an object (and, for a folder, everything under it).
    fn remove_tree(&mut self, path: &str) {
        let Some(obj) = self.objects.by_path.remove(path) else {
            return;
        };
        self.objects.by_id.remove(&obj.object_id);
        let t = match obj.object_type {
            "NOTEBOOK" => Some(ObjType::Notebooks),
            "DIRECTORY" => Some(ObjType::Directories),
            "FILE" => Some(ObjType::Files),
            "REPO" => Some(ObjType::Repos),
            _ => None,
        };
        if let Some(t) = t {
            self.permissions.forget(t, &obj.object_id.to_string());
        }
        if obj.object_type == "REPO" {
            self.repos.items.remove(&obj.object_id);
        }
        for child in obj.folder.map(|f| f.children).unwrap_or_default() {
            self.remove_tree(&child);
        }
        if let Some(parent) = parent_of(path).and_then(|p| self.objects.by_path.get_mut(p)) {
            if let Some(f) = &mut parent.folder {
                f.children.remove(path);
                f.listing.clear();
            }
        }
    }

    /// Adds a repo's `REPO` object (its folder must exist or is created).
    pub(crate) fn attach_repo(&mut self, id: i64, path: &str) -> Result<(), StoreError> {
        let path = check_path(path)?;
        if self.objects.get(&path).is_some() {
            return Err(StoreError::AlreadyExists(format!(
                "Path ({path}) already exists."
            )));
        }
        if let Some(parent) = parent_of(&path) {
            self.mkdirs(parent)?;
        }
        let mut obj = self.new_object(&path, "REPO", None, None);
        obj.object_id = id;
        obj.doc.edit(|m| {
            m.insert("object_id".into(), Value::from(id));
            m.insert("resource_id".into(), Value::from(id.to_string()));
        });
        self.attach(&path, obj);
        Ok(())
    }

    /// Removes a repo's `REPO` object.
    pub(crate) fn detach_repo(&mut self, path: &str) {
        self.remove_tree(path);
    }
}

/// The routes.
pub(crate) fn routes() -> Router<MockState> {
    Router::new()
        .route("/api/2.0/workspace/list", get(list))
        .route("/api/2.0/workspace/get-status", get(get_status))
        .route("/api/2.0/workspace/export", get(export))
        .route("/api/2.0/workspace/import", post(import))
        .route("/api/2.0/workspace/mkdirs", post(mkdirs))
        .route("/api/2.0/workspace/delete", post(delete))
}

async fn list(State(st): State<MockState>, RawQuery(q): RawQuery) -> Reply {
    let q = Query::parse(q.as_deref());
    let path = check_path(q.required("path")?)?;
    let after = q.i64("notebooks_modified_after")?;
    let ws = st.read();
    let obj = ws.objects.get(&path).ok_or_else(|| not_found(&path))?;
    let mut out = Out::object();
    if obj.object_type != "DIRECTORY" && obj.object_type != "REPO" {
        return Ok(out.array("objects", [obj.doc.as_str()]).reply());
    }
    let Some(t) = after else {
        // The whole listing is what a capture reads: rendered once per change.
        return Ok(json_bytes(ws.listing(obj)));
    };
    let children = obj
        .children()
        .filter_map(|c| ws.objects.get(c))
        .filter(|o| o.object_type != "NOTEBOOK" || o.modified_at.is_some_and(|m| m > t))
        .map(|o| o.doc.as_str());
    Ok(out.array_nonempty("objects", children).reply())
}

impl Workspace {
    /// A folder's (or repo's) whole `list` reply, from its rendered copy.
    fn listing(&self, folder: &WsObj) -> Bytes {
        let render = || {
            let children = folder
                .children()
                .filter_map(|c| self.objects.get(c))
                .map(|o| o.doc.as_str());
            Out::object().array_nonempty("objects", children).finish()
        };
        match &folder.folder {
            Some(f) => f.listing.get(0, render),
            // Never had a child: nothing worth keeping.
            None => Bytes::from(render()),
        }
    }

    /// How many workspace objects are stored (the work
    /// [`Self::prerender_listings`] goes through).
    pub(crate) fn object_count(&self) -> usize {
        self.objects.by_path.len()
    }

    /// Renders the listings of the folders among up to `count` objects,
    /// from the `from`th in the map's order; returns how many objects it
    /// went past (fewer than `count` at the end). Like
    /// [`Self::prerender_acls`], correct at any time under the read lock.
    pub(crate) fn prerender_listings(&self, from: usize, count: usize) -> usize {
        let mut seen = 0;
        for folder in self.objects.by_path.values().skip(from).take(count) {
            if folder.children().next().is_some() {
                self.listing(folder);
            }
            seen += 1;
        }
        seen
    }
}

async fn get_status(State(st): State<MockState>, RawQuery(q): RawQuery) -> Reply {
    let q = Query::parse(q.as_deref());
    let path = check_path(q.required("path")?)?;
    let ws = st.read();
    let obj = ws.objects.get(&path).ok_or_else(|| not_found(&path))?;
    Ok(json(obj.doc.as_str().to_owned()))
}

/// The source a notebook exports when the fixture gave none.
fn default_source(language: Option<&str>) -> &'static str {
    match language {
        Some("SCALA") => "// Databricks notebook source\n",
        Some("SQL") => "-- Databricks notebook source\n",
        _ => "# Databricks notebook source\n",
    }
}

async fn export(State(st): State<MockState>, RawQuery(q): RawQuery) -> Reply {
    let q = Query::parse(q.as_deref());
    let path = check_path(q.required("path")?)?;
    let direct = q.bool("direct_download")?.unwrap_or(false);
    let format = q.get("format").unwrap_or("SOURCE").to_ascii_uppercase();
    if ![
        "SOURCE",
        "HTML",
        "JUPYTER",
        "DBC",
        "R_MARKDOWN",
        "AUTO",
        "RAW",
    ]
    .contains(&format.as_str())
    {
        return Err(ApiError::invalid(format!(
            "Invalid export format: {format}"
        )));
    }
    let ws = st.read();
    let obj = ws.objects.get(&path).ok_or_else(|| not_found(&path))?;
    let content: String = match obj.object_type {
        "NOTEBOOK" | "FILE" => match &obj.content {
            Some(c) => c.to_string(),
            None if obj.object_type == "NOTEBOOK" => base64::engine::general_purpose::STANDARD
                .encode(default_source(obj.language.as_deref())),
            None => String::new(),
        },
        "DIRECTORY" if format == "DBC" || format == "SOURCE" => {
            return Err(ApiError::invalid(format!(
                "Exporting the folder ({path}) is not supported by this mock."
            )));
        }
        other => {
            return Err(ApiError::invalid(format!(
                "Cannot export an object of type {other}: {path}"
            )));
        }
    };
    if direct {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(content.as_bytes())
            .unwrap_or_default();
        let mut response = bytes.into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        );
        return Ok(response);
    }
    let file_type = if obj.object_type == "NOTEBOOK" {
        match obj.language.as_deref() {
            Some("SCALA") => "scala",
            Some("SQL") => "sql",
            Some("R") => "r",
            _ => "py",
        }
    } else {
        path.rsplit_once('.').map_or("", |(_, ext)| ext)
    };
    Ok(json_value(
        &json!({ "content": content, "file_type": file_type }),
    ))
}

#[derive(serde::Deserialize)]
struct ImportRequest {
    path: Option<String>,
    format: Option<String>,
    language: Option<String>,
    content: Option<String>,
    #[serde(default)]
    overwrite: bool,
}

/// Reads an import request: JSON with base64 `content`, or the multipart
/// form the Python SDK's `upload` sends (raw content).
fn import_request(headers: &HeaderMap, body: &Bytes) -> Result<ImportRequest, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let Some(boundary) = super::http::multipart_boundary(content_type) else {
        return super::http::body(body);
    };
    let mut req = ImportRequest {
        path: None,
        format: None,
        language: None,
        content: None,
        overwrite: false,
    };
    for (name, value) in super::http::multipart_fields(&boundary, body)? {
        let text = || String::from_utf8_lossy(&value).into_owned();
        match name.as_str() {
            "path" => req.path = Some(text()),
            "format" => req.format = Some(text()),
            "language" => req.language = Some(text()),
            "overwrite" => req.overwrite = text().eq_ignore_ascii_case("true"),
            "content" => {
                req.content = Some(base64::engine::general_purpose::STANDARD.encode(&value))
            }
            _ => {}
        }
    }
    Ok(req)
}

async fn import(State(st): State<MockState>, headers: HeaderMap, body: Bytes) -> Reply {
    let req = import_request(&headers, &body)?;
    let raw_path = req.path.ok_or_else(|| super::http::missing("path"))?;
    let mut path = check_path(&raw_path)?;
    let content = req.content.unwrap_or_default();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(content.as_bytes())
        .map_err(|_| ApiError::invalid("The content must be base64 encoded."))?;
    let format = req
        .format
        .unwrap_or_else(|| "SOURCE".into())
        .to_ascii_uppercase();
    let header_language = |b: &[u8]| -> Option<&'static str> {
        let text = String::from_utf8_lossy(&b[..b.len().min(64)]).into_owned();
        if text.starts_with("# Databricks notebook source") {
            Some("PYTHON")
        } else if text.starts_with("// Databricks notebook source") {
            Some("SCALA")
        } else if text.starts_with("-- Databricks notebook source") {
            Some("SQL")
        } else {
            None
        }
    };
    let (object_type, language) = match format.as_str() {
        "SOURCE" => {
            let language = req
                .language
                .as_deref()
                .map(str::to_ascii_uppercase)
                .ok_or_else(|| {
                    ApiError::invalid(
                        "The language is required when importing a notebook in SOURCE format.",
                    )
                })?;
            if !["PYTHON", "SCALA", "SQL", "R"].contains(&language.as_str()) {
                return Err(ApiError::invalid(format!("Invalid language: {language}")));
            }
            ("NOTEBOOK", Some(language))
        }
        "AUTO" => match req
            .language
            .as_deref()
            .map(str::to_ascii_uppercase)
            .or_else(|| header_language(&bytes).map(str::to_owned))
        {
            Some(l) => ("NOTEBOOK", Some(l)),
            None => ("FILE", None),
        },
        "RAW" => ("FILE", None),
        "JUPYTER" | "HTML" | "DBC" | "R_MARKDOWN" => (
            "NOTEBOOK",
            Some(
                req.language
                    .as_deref()
                    .map_or("PYTHON".to_owned(), str::to_ascii_uppercase),
            ),
        ),
        other => return Err(ApiError::invalid(format!("Invalid import format: {other}"))),
    };
    if object_type == "NOTEBOOK" && format != "SOURCE" {
        for ext in [
            ".py", ".scala", ".sql", ".r", ".ipynb", ".html", ".dbc", ".Rmd",
        ] {
            if let Some(stripped) = path.strip_suffix(ext) {
                path = stripped.to_owned();
                break;
            }
        }
    }
    let mut ws = st.write();
    let parent =
        parent_of(&path).ok_or_else(|| ApiError::invalid("Cannot import to the root folder."))?;
    match ws.objects.get(parent) {
        Some(p) if p.object_type == "DIRECTORY" => {}
        _ => {
            return Err(StoreError::NotFound(format!(
                "The parent folder ({parent}) does not exist."
            ))
            .into());
        }
    }
    let now = ws.now();
    let encoded = base64::engine::general_purpose::STANDARD.encode(&bytes);
    match ws.objects.by_path.get_mut(path.as_str()) {
        Some(existing)
            if existing.object_type == "DIRECTORY"
                || existing.object_type == "REPO"
                || !req.overwrite =>
        {
            return Err(StoreError::AlreadyExists(format!("Path ({path}) already exists.")).into());
        }
        Some(existing) => {
            existing.content = Some(encoded.into());
            existing.modified_at = Some(now);
            existing.object_type = object_type;
            existing.language = language.as_deref().map(Into::into);
            let size = bytes.len();
            existing.doc.edit(|m| {
                m.insert("modified_at".into(), Value::from(now));
                m.insert("object_type".into(), Value::from(object_type));
                match &language {
                    Some(l) => m.insert("language".into(), Value::from(l.clone())),
                    None => m.remove("language"),
                };
                if object_type == "FILE" {
                    m.insert("size".into(), Value::from(size));
                }
            });
            ws.changed_in_parent(&path);
        }
        None => {
            let mut obj = ws.new_object(&path, object_type, language.as_deref(), Some(now));
            if object_type == "FILE" {
                obj.doc.edit(|m| {
                    m.insert("size".into(), Value::from(bytes.len()));
                });
            }
            obj.content = Some(encoded.into());
            ws.attach(&path, obj);
        }
    }
    Ok(empty())
}

#[derive(serde::Deserialize)]
struct PathRequest {
    path: Option<String>,
    #[serde(default)]
    recursive: bool,
}

async fn mkdirs(State(st): State<MockState>, body: Bytes) -> Reply {
    let req: PathRequest = super::http::body(&body)?;
    let path = req.path.ok_or_else(|| super::http::missing("path"))?;
    st.write().mkdirs(&path)?;
    Ok(empty())
}

async fn delete(State(st): State<MockState>, body: Bytes) -> Reply {
    let req: PathRequest = super::http::body(&body)?;
    let path = check_path(&req.path.ok_or_else(|| super::http::missing("path"))?)?;
    if path == "/" {
        return Err(ApiError::invalid("The root folder cannot be deleted."));
    }
    let mut ws = st.write();
    let obj = ws.objects.get(&path).ok_or_else(|| not_found(&path))?;
    if obj.object_type == "DIRECTORY" && obj.children().next().is_some() && !req.recursive {
        return Err(StoreError::NotEmpty(format!("Folder ({path}) is not empty.")).into());
    }
    ws.remove_tree(&path);
    Ok(empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_checked_and_parents_found() {
        assert_eq!(check_path("/a/b/").unwrap(), "/a/b");
        assert_eq!(check_path("/").unwrap(), "/");
        assert!(check_path("a/b").is_err());
        assert!(check_path("/a//b").is_err());
        assert!(check_path("/a/../b").is_err());
        assert_eq!(parent_of("/a/b"), Some("/a"));
        assert_eq!(parent_of("/a"), Some("/"));
        assert_eq!(parent_of("/"), None);
    }
}
