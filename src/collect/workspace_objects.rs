//! Workspace objects: a breadth-first walk of `GET /api/2.0/workspace/list?path=P`
//! from `workspace_root`, one journaled unit per folder, many folders in flight.
//!
//! Raw objects are the listing's `ObjectInfo`s, directories included (their
//! ACLs matter); REPO objects are recorded but never entered (repos are their
//! own kind). A root other than `/` is recorded too, from `get-status`, since
//! everything below inherits its ACL. With `content_hash`, NOTEBOOK and FILE
//! objects get an added `content_sha256` field: the hex SHA-256 of their
//! `export?format=SOURCE` bytes; only the hash is journaled, never the source.
//!
//! A folder or object that answers 404 was deleted while the walk ran and is
//! skipped; any other error makes the kind incomplete with what was read.

use std::collections::{HashMap, HashSet, VecDeque};

use base64::Engine;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{Cx, RawKind, RawObject, compact, parse, unit_name};
use crate::client::{ApiError, take_array};
use crate::kind::Kind;

const LIST: &str = "/api/2.0/workspace/list";
const GET_STATUS: &str = "/api/2.0/workspace/get-status";
const EXPORT: &str = "/api/2.0/workspace/export";

/// One request of the walk.
enum Task {
    /// List the children of a folder.
    List(String),
    /// Hash the object at this index of the collected objects.
    Export { index: usize, path: String },
}

/// What a finished request brought back.
enum Done {
    Listed {
        folder: String,
        result: Result<Vec<Value>, ApiError>,
    },
    Hashed {
        index: usize,
        result: Result<Value, ApiError>,
    },
}

/// The walk's state: what was found and what is still to fetch.
struct Walk {
    hash: bool,
    /// Each object's path (the sort key) and text: a large tree is mostly
    /// notebooks, kept as compact text from the moment they are listed.
    objects: Vec<(String, RawObject)>,
    folders: VecDeque<String>,
    exports: VecDeque<(usize, String)>,
    /// Folders queued once: a server that lists a folder inside itself must not loop the walk.
    queued: HashSet<String>,
}

impl Walk {
    /// Records an object and queues what it needs: a listing for a directory,
    /// an export for a notebook or file when hashing.
    fn admit(&mut self, object: &Value) {
        let Some(path) = object
            .get("path")
            .and_then(Value::as_str)
            .map(str::to_owned)
        else {
            return;
        };
        match object.get("object_type").and_then(Value::as_str) {
            Some("DIRECTORY") if self.queued.insert(path.clone()) => {
                self.folders.push_back(path.clone())
            }
            Some("NOTEBOOK" | "FILE") if self.hash => {
                self.exports.push_back((self.objects.len(), path.clone()))
            }
            // A folder already queued, REPO folders (the repos kind's business), and
            // LIBRARY and DASHBOARD objects (no children) need nothing more.
            _ => {}
        }
        self.objects.push((path, compact(object)));
    }
}

pub(crate) async fn collect(cx: &Cx) -> RawKind {
    let root = root_path(&cx.options().workspace_root);
    let mut walk = Walk {
        hash: cx.options().content_hash,
        objects: Vec::new(),
        folders: VecDeque::new(),
        exports: VecDeque::new(),
        queued: HashSet::new(),
    };
    let mut gone: HashSet<usize> = HashSet::new();
    // Content hashes by object index, added to the objects once the walk is done.
    let mut hashes: HashMap<usize, Value> = HashMap::new();
    let mut error: Option<ApiError> = None;

    if root == "/" {
        walk.queued.insert(root.clone());
        walk.folders.push_back(root.clone());
    } else {
        match cx
            .get(
                Kind::WorkspaceObjects,
                GET_STATUS,
                &[("path", root.clone())],
            )
            .await
        {
            Ok(object) => walk.admit(&object),
            // A missing root is a wrong setting, not an empty workspace.
            Err(e) => return RawKind::failed(e),
        }
    }

    // Listings and exports are separate endpoint families with separate limits,
    // so each gets its own budget of requests in flight: a long export queue
    // never holds back the walk that permission reads are waiting for.
    let budget = cx.fan_out();
    let (mut listing, mut exporting) = (0usize, 0usize);
    let mut inflight = FuturesUnordered::new();
    loop {
        while listing < budget {
            let Some(folder) = walk.folders.pop_front() else {
                break;
            };
            listing += 1;
            inflight.push(run(cx, Task::List(folder)));
        }
        while exporting < budget {
            let Some((index, path)) = walk.exports.pop_front() else {
                break;
            };
            exporting += 1;
            inflight.push(run(cx, Task::Export { index, path }));
        }
        let Some(done) = inflight.next().await else {
            break;
        };
        match done {
            Done::Listed { folder, result } => {
                listing -= 1;
                match result {
                    Ok(children) => children.iter().for_each(|child| walk.admit(child)),
                    // The root always exists; a folder below it was deleted meanwhile.
                    Err(e) if e.is_not_found() && folder != root => {}
                    Err(e) => {
                        error.get_or_insert(e);
                    }
                }
            }
            Done::Hashed { index, result } => {
                exporting -= 1;
                match result {
                    Ok(mut hashed) => {
                        if let Some(sha) = hashed.get_mut("content_sha256").map(Value::take) {
                            hashes.insert(index, sha);
                        }
                    }
                    Err(e) if e.is_not_found() => {
                        gone.insert(index);
                    }
                    Err(e) => {
                        error.get_or_insert(e);
                    }
                }
            }
        }
    }

    let mut objects: Vec<(String, RawObject)> = walk
        .objects
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !gone.contains(i))
        .map(|(i, (path, object))| match hashes.remove(&i) {
            Some(sha) => (path, with_hash(&object, sha)),
            None => (path, object),
        })
        .collect();
    // Completion order depends on timing; the raw list should not.
    objects.sort_by(|(a, _), (b, _)| a.cmp(b));
    let objects = objects.into_iter().map(|(_, object)| object).collect();
    RawKind { objects, error }
}

/// The object with its `content_sha256` added.
fn with_hash(object: &RawObject, sha: Value) -> RawObject {
    let mut object = parse(object);
    if let Some(map) = object.as_object_mut() {
        map.insert("content_sha256".into(), sha);
    }
    compact(&object)
}

async fn run(cx: &Cx, task: Task) -> Done {
    match task {
        Task::List(folder) => {
            let query = [("path", folder.clone())];
            let result = cx
                .get(Kind::WorkspaceObjects, LIST, &query)
                .await
                .and_then(|mut page| {
                    // An empty folder may come back without `objects` at all.
                    take_array(&mut page, "objects", LIST)
                });
            Done::Listed { folder, result }
        }
        Task::Export { index, path } => {
            let query = [("path", path), ("format", "SOURCE".to_owned())];
            let name = unit_name(EXPORT, &query);
            let result = cx
                .unit(Kind::WorkspaceObjects, name, || async {
                    let reply = cx.client().get(EXPORT, &query).await?;
                    Ok(json!({ "content_sha256": source_sha256(&reply)? }))
                })
                .await;
            Done::Hashed { index, result }
        }
    }
}

/// The hex SHA-256 of an export reply's decoded `content`.
fn source_sha256(reply: &Value) -> Result<String, ApiError> {
    let encoded = reply
        .get("content")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|e| ApiError::Decode {
            method: "GET".into(),
            path: EXPORT.into(),
            message: format!("`content` is not base64: {e}"),
            excerpt: encoded.chars().take(60).collect(),
        })?;
    let digest = Sha256::digest(&bytes);
    Ok(digest.iter().map(|b| format!("{b:02x}")).collect())
}

/// The root as the API spells folder paths: leading `/`, no trailing `/`.
fn root_path(configured: &str) -> String {
    let trimmed = configured.trim().trim_end_matches('/');
    if trimmed.is_empty() {
        "/".to_owned()
    } else if trimmed.starts_with('/') {
        trimmed.to_owned()
    } else {
        format!("/{trimmed}")
    }
}

#[cfg(test)]
fn path_of(object: &Value) -> &str {
    object
        .get("path")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// A collection context for collector tests: a PAT client for `uri` with no
/// rate limits and no retries, an in-memory journal, and the given kinds
/// already collected (so a test never runs another kind's collector).
#[cfg(test)]
pub(super) fn test_cx(
    uri: &str,
    options: super::CollectOptions,
    seeded: Vec<(Kind, Vec<Value>)>,
) -> Cx {
    use std::sync::Arc;

    use tokio::sync::OnceCell;

    use crate::auth::{Credentials, WorkspaceAuth};
    use crate::client::{Client, ClientConfig, RateLimits};

    let auth = WorkspaceAuth {
        host: uri.parse().expect("test uri"),
        profile: None,
        credentials: Credentials::Pat("dapi-test".to_owned().into()),
    };
    let config = ClientConfig {
        rate_limits: RateLimits::unlimited(),
        max_attempts: 1,
        concurrency: 4,
        ..ClientConfig::default()
    };
    let client = Client::new(auth, config).expect("client");
    let mut cells: std::collections::BTreeMap<Kind, OnceCell<Arc<RawKind>>> =
        Kind::ALL.iter().map(|k| (*k, OnceCell::new())).collect();
    for (kind, objects) in seeded {
        cells.insert(
            kind,
            OnceCell::new_with(Some(Arc::new(RawKind::complete(objects)))),
        );
    }
    Cx {
        inner: Arc::new(super::CxInner {
            client,
            options,
            journal: Arc::new(super::Journal::in_memory()),
            observer: Arc::new(super::Quiet),
            cells,
        }),
    }
}

#[cfg(test)]
mod tests {
    use wiremock::matchers::{method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;
    use crate::collect::CollectOptions;

    async fn listing(server: &MockServer, folder: &str, reply: ResponseTemplate) {
        Mock::given(method("GET"))
            .and(path(LIST))
            .and(query_param("path", folder))
            .respond_with(reply)
            .expect(1)
            .mount(server)
            .await;
    }

    fn objects(items: Value) -> ResponseTemplate {
        ResponseTemplate::new(200).set_body_json(json!({ "objects": items }))
    }

    #[tokio::test]
    async fn walks_folders_records_directories_and_skips_repo_insides_and_deleted_folders() {
        let server = MockServer::start().await;
        listing(
            &server,
            "/",
            objects(json!([
                {"path": "/Shared", "object_type": "DIRECTORY", "object_id": 10},
                {"path": "/Repos", "object_type": "DIRECTORY", "object_id": 11},
                {"path": "/Gone", "object_type": "DIRECTORY", "object_id": 12}
            ])),
        )
        .await;
        listing(
            &server,
            "/Shared",
            objects(json!([
                {"path": "/Shared/etl", "object_type": "NOTEBOOK", "object_id": 20, "language": "PYTHON",
                 "modified_at": 1_700_000_000_000i64},
                {"path": "/Shared/empty", "object_type": "DIRECTORY", "object_id": 21}
            ])),
        )
        .await;
        listing(
            &server,
            "/Repos",
            objects(json!([{"path": "/Repos/team", "object_type": "REPO", "object_id": 30}])),
        )
        .await;
        // An empty folder has no `objects` field at all.
        listing(
            &server,
            "/Shared/empty",
            ResponseTemplate::new(200).set_body_json(json!({})),
        )
        .await;
        listing(
            &server,
            "/Gone",
            ResponseTemplate::new(404)
                .set_body_json(json!({"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Path (/Gone) doesn't exist."})),
        )
        .await;

        // Any other listing (the repo's insides, a notebook) is a bug.
        Mock::given(method("GET"))
            .and(path(LIST))
            .respond_with(objects(json!([])))
            .with_priority(10)
            .expect(0)
            .named("unexpected listing")
            .mount(&server)
            .await;

        let cx = test_cx(&server.uri(), CollectOptions::default(), Vec::new());
        let raw = collect(&cx).await;
        assert!(raw.is_complete(), "{:?}", raw.error);
        let objects: Vec<Value> = raw.values().collect();
        let paths: Vec<&str> = objects.iter().map(path_of).collect();
        assert_eq!(
            paths,
            [
                "/Gone",
                "/Repos",
                "/Repos/team",
                "/Shared",
                "/Shared/empty",
                "/Shared/etl"
            ]
        );
        // Each folder listed once, nothing else listed, no export without `content_hash`.
        server.verify().await;
    }

    #[tokio::test]
    async fn a_failed_folder_keeps_the_rest_and_marks_the_kind_incomplete() {
        let server = MockServer::start().await;
        listing(
            &server,
            "/",
            objects(json!([
                {"path": "/a", "object_type": "DIRECTORY", "object_id": 1},
                {"path": "/b", "object_type": "DIRECTORY", "object_id": 2}
            ])),
        )
        .await;
        listing(
            &server,
            "/a",
            ResponseTemplate::new(403)
                .set_body_json(json!({"error_code": "PERMISSION_DENIED", "message": "no"})),
        )
        .await;
        listing(
            &server,
            "/b",
            objects(json!([{"path": "/b/n", "object_type": "FILE", "object_id": 3}])),
        )
        .await;

        let raw = collect(&test_cx(
            &server.uri(),
            CollectOptions::default(),
            Vec::new(),
        ))
        .await;
        assert_eq!(raw.error.as_ref().and_then(ApiError::status), Some(403));
        let objects: Vec<Value> = raw.values().collect();
        let paths: Vec<&str> = objects.iter().map(path_of).collect();
        assert_eq!(paths, ["/a", "/b", "/b/n"]);
    }

    #[tokio::test]
    async fn a_subfolder_root_is_recorded_and_sources_are_hashed() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(GET_STATUS))
            .and(query_param("path", "/Shared/prod"))
            .respond_with(ResponseTemplate::new(200).set_body_json(
                json!({"path": "/Shared/prod", "object_type": "DIRECTORY", "object_id": 7}),
            ))
            .mount(&server)
            .await;
        listing(
            &server,
            "/Shared/prod",
            objects(json!([
                {"path": "/Shared/prod/job", "object_type": "NOTEBOOK", "object_id": 8, "language": "SQL"},
                {"path": "/Shared/prod/old", "object_type": "FILE", "object_id": 9}
            ])),
        )
        .await;
        Mock::given(method("GET"))
            .and(path(EXPORT))
            .and(query_param("path", "/Shared/prod/job"))
            .and(query_param("format", "SOURCE"))
            // base64 of "select 1"
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"content": "c2VsZWN0IDE=", "file_type": "sql"})),
            )
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(EXPORT))
            .and(query_param("path", "/Shared/prod/old"))
            .respond_with(
                ResponseTemplate::new(404).set_body_json(
                    json!({"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "gone"}),
                ),
            )
            .mount(&server)
            .await;

        let options = CollectOptions {
            workspace_root: "/Shared/prod/".into(),
            content_hash: true,
            ..CollectOptions::default()
        };
        let raw = collect(&test_cx(&server.uri(), options, Vec::new())).await;
        assert!(raw.is_complete(), "{:?}", raw.error);
        assert_eq!(
            raw.values().collect::<Vec<_>>(),
            vec![
                json!({"path": "/Shared/prod", "object_type": "DIRECTORY", "object_id": 7}),
                // sha256sum of `select 1`; the deleted file is gone.
                json!({"path": "/Shared/prod/job", "object_type": "NOTEBOOK", "object_id": 8, "language": "SQL",
                       "content_sha256": "822ae07d4783158bc1912bb623e5107cc9002d519e1143a9c200ed6ee18b6d0f"}),
            ]
        );
    }

    #[tokio::test]
    async fn a_missing_root_is_an_error_not_an_empty_workspace() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(GET_STATUS))
            .respond_with(
                ResponseTemplate::new(404).set_body_json(
                    json!({"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "no"}),
                ),
            )
            .mount(&server)
            .await;
        let options = CollectOptions {
            workspace_root: "/Nope".into(),
            ..CollectOptions::default()
        };
        let raw = collect(&test_cx(&server.uri(), options, Vec::new())).await;
        assert!(!raw.is_complete());
        assert!(raw.objects.is_empty());
    }

    #[tokio::test]
    async fn a_folder_listed_inside_itself_does_not_loop_the_walk() {
        let server = MockServer::start().await;
        listing(
            &server,
            "/",
            objects(json!([{"path": "/a", "object_type": "DIRECTORY", "object_id": 1}])),
        )
        .await;
        listing(
            &server,
            "/a",
            objects(json!([
                {"path": "/a", "object_type": "DIRECTORY", "object_id": 1},
                {"path": "/", "object_type": "DIRECTORY", "object_id": 0}
            ])),
        )
        .await;
        let raw = collect(&test_cx(
            &server.uri(),
            CollectOptions::default(),
            Vec::new(),
        ))
        .await;
        assert!(raw.is_complete(), "{:?}", raw.error);
        server.verify().await;
    }

    #[test]
    fn root_paths_are_normalized() {
        assert_eq!(root_path("/"), "/");
        assert_eq!(root_path(""), "/");
        assert_eq!(root_path("/Shared/"), "/Shared");
        assert_eq!(root_path("Users/a@b.com"), "/Users/a@b.com");
    }
}
