//! Jobs: `GET /api/2.2/jobs/list?limit=100&expand_tasks=true`, paged, then
//! `GET /api/2.2/jobs/get` for every job whose arrays the list truncated.
//!
//! API 2.2 returns at most 100 tasks, job clusters, parameters and
//! environments per job and page. A listed job with `has_more: true` is
//! incomplete; its full definition comes from `jobs/get`, whose pages carry
//! the next slice of each array and are appended here, so the raw object is
//! always the whole job. One job's pages are one journaled unit.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::{Cx, RawKind, RawObject, compact, parse, unit_name};
use crate::client::{ApiError, Client, TokenPaging, take_array};
use crate::kind::Kind;

const LIST: &str = "/api/2.2/jobs/list";
const GET: &str = "/api/2.2/jobs/get";

/// The arrays of `settings` that `jobs/get` pages.
const PAGED_ARRAYS: &[&str] = &["tasks", "job_clusters", "parameters", "environments"];

/// Pages of one job after which its listing is declared endless. A job holds
/// at most 1,000 tasks, so 100 per page needs about 10; this only guards
/// against a server that keeps inventing tokens.
const JOB_PAGE_CAP: usize = 1_000;

/// Lists every job, reads truncated ones whole, and is incomplete when a kind jobs refer to is.
pub(crate) async fn collect(cx: &Cx) -> RawKind {
    // The kinds whose ids jobs name are only needed to resolve them, so they
    // are awaited beside the listing, not before it.
    let ((objects, error), dependency_error) =
        futures::join!(list(cx), dependency_error(cx, Kind::Jobs));
    RawKind {
        objects,
        error: error.or(dependency_error),
    }
}

/// The first error among the kinds `kind` needs: when one of them is
/// incomplete, ids pointing into it cannot be told from dangling ones, so the
/// dependent kind is incomplete too (its objects are still kept).
pub(super) async fn dependency_error(cx: &Cx, kind: Kind) -> Option<ApiError> {
    // Every kind of a capture is already running, so awaiting them one by one
    // waits no longer than awaiting them together.
    for &needed in kind.needs() {
        if let Err(e) = cx.dependency(needed).await {
            return Some(e);
        }
    }
    None
}

/// Every job, truncated ones replaced by their full definition.
async fn list(cx: &Cx) -> (Vec<RawObject>, Option<ApiError>) {
    let query = [
        ("limit", "100".to_owned()),
        ("expand_tasks", "true".to_owned()),
    ];
    let listed = match cx
        .list_pages(Kind::Jobs, LIST, &query, TokenPaging::page_token("jobs"))
        .await
    {
        Ok(listed) => listed,
        Err(e) => return (Vec::new(), Some(e)),
    };
    let mut slots: Vec<Option<RawObject>> = Vec::with_capacity(listed.len());
    let mut truncated = Vec::new();
    for job in listed {
        let tree = parse(&job);
        if tree.get("has_more").and_then(Value::as_bool) == Some(true) {
            truncated.push((slots.len(), tree));
            slots.push(None);
        } else {
            slots.push(Some(job));
        }
    }
    let (full, error) = super::fan_out(cx, truncated, |(slot, listed)| async move {
        let Some(job_id) = job_id(&listed) else {
            return Err(ApiError::Decode {
                method: "GET".into(),
                path: LIST.into(),
                message:
                    "a job with `has_more` has no `job_id`, so its full definition cannot be read"
                        .into(),
                excerpt: listed.to_string().chars().take(60).collect(),
            });
        };
        match get_full(cx, &job_id).await {
            Ok(job) => Ok(Some((slot, job))),
            // Deleted since it was listed.
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    })
    .await;
    for (slot, job) in full {
        slots[slot] = Some(compact(&job));
    }
    // Keep listing order, so the raw capture is the same from run to run.
    (slots.into_iter().flatten().collect(), error)
}

/// A job's id, a number on the wire (a string is accepted too).
fn job_id(job: &Value) -> Option<String> {
    match job.get("job_id")? {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// One job with all pages of its arrays, as one journaled unit.
async fn get_full(cx: &Cx, job_id: &str) -> Result<Value, ApiError> {
    let query = [("job_id", job_id.to_owned())];
    let name = format!("{}#all", unit_name(GET, &query));
    cx.unit(Kind::Jobs, name, || fetch_pages(cx.client(), job_id))
        .await
}

/// Reads `jobs/get` page by page, appending each page's arrays to the first.
///
/// The SDKs stop when the token is absent (Python loops forever on `""`);
/// here an empty token ends too, and a repeated token or too many pages end
/// with [`ApiError::Pagination`] instead of a hang.
async fn fetch_pages(client: &Client, job_id: &str) -> Result<Value, ApiError> {
    let mut job = client.get(GET, &[("job_id", job_id.to_owned())]).await?;
    let cap = client.config().max_pages.clamp(1, JOB_PAGE_CAP);
    let mut seen = HashSet::new();
    let mut pages = 1;
    while let Some(token) = take_token(&mut job) {
        if !seen.insert(token.clone()) {
            return Err(endless(
                job_id,
                format!("the server repeated page token `{}`", short(&token)),
            ));
        }
        if pages >= cap {
            return Err(endless(job_id, format!("more than {cap} pages")));
        }
        let mut page = client
            .get(GET, &[("job_id", job_id.to_owned()), ("page_token", token)])
            .await?;
        append_arrays(&mut job, &mut page)?;
        if let Some(next) = page.get_mut("next_page_token").map(Value::take) {
            if let Value::Object(map) = &mut job {
                map.insert("next_page_token".into(), next);
            }
        }
        pages += 1;
    }
    Ok(job)
}

/// Removes and returns the job's `next_page_token` when there is a next page.
fn take_token(job: &mut Value) -> Option<String> {
    match job.as_object_mut()?.remove("next_page_token")? {
        Value::String(token) if !token.is_empty() => Some(token),
        _ => None,
    }
}

/// Appends the paged arrays of `page.settings` to `job.settings`.
fn append_arrays(job: &mut Value, page: &mut Value) -> Result<(), ApiError> {
    let Some(page_settings) = page.get_mut("settings") else {
        return Ok(());
    };
    let Some(job) = job.as_object_mut() else {
        return Err(malformed("the job is not an object"));
    };
    let settings = job
        .entry("settings")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(settings) = settings.as_object_mut() else {
        return Err(malformed("`settings` is not an object"));
    };
    for field in PAGED_ARRAYS {
        let more = take_array(page_settings, field, GET)?;
        if more.is_empty() {
            continue;
        }
        match settings
            .entry(*field)
            .or_insert_with(|| Value::Array(Vec::new()))
        {
            Value::Array(items) => items.extend(more),
            slot @ Value::Null => *slot = Value::Array(more),
            _ => return Err(malformed(&format!("`settings.{field}` is not an array"))),
        }
    }
    Ok(())
}

fn malformed(message: &str) -> ApiError {
    ApiError::Decode {
        method: "GET".into(),
        path: GET.into(),
        message: message.into(),
        excerpt: String::new(),
    }
}

fn endless(job_id: &str, reason: String) -> ApiError {
    ApiError::Pagination {
        path: GET.into(),
        reason: format!("{reason} for job `{job_id}`"),
    }
}

fn short(text: &str) -> String {
    text.chars().take(60).collect()
}

/// Builds a [`Cx`] against a wiremock server for collector tests, with the
/// dependencies of the kind under test already collected.
#[cfg(test)]
pub(super) mod test_support {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use secrecy::SecretString;
    use tokio::sync::OnceCell;
    use wiremock::MockServer;

    use crate::auth::{Credentials, WorkspaceAuth};
    use crate::client::{ApiError, Client, ClientConfig, RateLimits};
    use crate::collect::{CollectOptions, Cx, CxInner, Journal, Quiet, RawKind};
    use crate::kind::Kind;

    /// A context whose client talks to `server` with no pacing, one attempt and
    /// a small page cap, and whose dependency cells already hold `deps`.
    pub(crate) fn cx_with(server: &MockServer, deps: Vec<(Kind, RawKind)>) -> Cx {
        cx_with_journal(server, deps, Journal::in_memory())
    }

    /// [`cx_with`], keeping finished units in `journal`.
    pub(crate) fn cx_with_journal(
        server: &MockServer,
        deps: Vec<(Kind, RawKind)>,
        journal: Journal,
    ) -> Cx {
        let auth = WorkspaceAuth {
            host: server.uri().parse().expect("wiremock gives a valid URL"),
            profile: None,
            credentials: Credentials::Pat(SecretString::from("dapi-test")),
        };
        let config = ClientConfig {
            rate_limits: RateLimits::unlimited(),
            max_attempts: 1,
            max_pages: 20,
            ..ClientConfig::default()
        };
        let client = Client::new(auth, config).expect("a client for a local server");
        let cells = deps
            .into_iter()
            .map(|(k, raw)| (k, OnceCell::new_with(Some(Arc::new(raw)))))
            .collect::<BTreeMap<_, _>>();
        Cx {
            inner: Arc::new(CxInner {
                client,
                options: CollectOptions::default(),
                journal: Arc::new(journal),
                observer: Arc::new(Quiet),
                cells,
            }),
        }
    }

    /// A dependency that was collected completely (with no objects).
    pub(crate) fn complete() -> RawKind {
        RawKind::complete(Vec::new())
    }

    /// A dependency whose capture failed.
    pub(crate) fn failed() -> RawKind {
        RawKind::failed(ApiError::Http {
            method: "GET".into(),
            path: "/api/2.0/x".into(),
            status: 500,
            code: None,
            message: "boom".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use wiremock::matchers::{method, path, query_param, query_param_is_missing};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::test_support::{complete, cx_with, failed};
    use super::*;

    fn deps() -> Vec<(Kind, RawKind)> {
        Kind::Jobs
            .needs()
            .iter()
            .map(|&k| (k, complete()))
            .collect()
    }

    fn task(key: &str) -> Value {
        json!({"task_key": key, "notebook_task": {"notebook_path": format!("/Shared/{key}")}})
    }

    async fn mount_list(server: &MockServer, jobs: Value) {
        Mock::given(method("GET"))
            .and(path(LIST))
            .and(query_param("limit", "100"))
            .and(query_param("expand_tasks", "true"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"jobs": jobs, "has_more": false})),
            )
            .mount(server)
            .await;
    }

    #[tokio::test]
    async fn truncated_jobs_are_read_whole_across_pages() {
        let server = MockServer::start().await;
        mount_list(
            &server,
            json!([
                {"job_id": 1, "settings": {"name": "small", "tasks": [task("a")]}, "has_more": false},
                {"job_id": 2, "settings": {"name": "big", "tasks": [task("t1")]}, "has_more": true}
            ]),
        )
        .await;
        Mock::given(method("GET"))
            .and(path(GET))
            .and(query_param("job_id", "2"))
            .and(query_param_is_missing("page_token"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "job_id": 2, "run_as_user_name": "etl@example.com",
                "settings": {"name": "big", "tasks": [task("t1"), task("t2")],
                              "job_clusters": [{"job_cluster_key": "main", "new_cluster": {"num_workers": 1}}]},
                "next_page_token": "page-2"
            })))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(GET))
            .and(query_param("job_id", "2"))
            .and(query_param("page_token", "page-2"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "job_id": 2,
                "settings": {"name": "big", "tasks": [task("t3")],
                              "parameters": [{"name": "day", "default": "today"}]},
                "next_page_token": ""
            })))
            .expect(1)
            .mount(&server)
            .await;
        let raw = collect(&cx_with(&server, deps())).await;
        let objects: Vec<serde_json::Value> = raw.values().collect();
        assert!(raw.is_complete(), "{:?}", raw.error);
        assert_eq!(raw.objects.len(), 2);
        assert_eq!(objects[0]["settings"]["name"], "small");
        let big = &objects[1];
        let keys: Vec<_> = big["settings"]["tasks"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| t["task_key"].clone())
            .collect();
        assert_eq!(keys, [json!("t1"), json!("t2"), json!("t3")]);
        assert_eq!(
            big["settings"]["job_clusters"][0]["job_cluster_key"],
            "main"
        );
        assert_eq!(
            big["settings"]["parameters"],
            json!([{"name": "day", "default": "today"}])
        );
        assert_eq!(big["run_as_user_name"], "etl@example.com");
        assert!(big.get("next_page_token").is_none());
    }

    #[tokio::test]
    async fn a_repeated_page_token_makes_jobs_incomplete_without_hanging() {
        let server = MockServer::start().await;
        mount_list(
            &server,
            json!([
                {"job_id": 1, "settings": {"name": "ok"}},
                {"job_id": 7, "settings": {"name": "loop", "tasks": [task("a")]}, "has_more": true}
            ]),
        )
        .await;
        Mock::given(method("GET"))
            .and(path(GET))
            .and(query_param("job_id", "7"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "job_id": 7, "settings": {"name": "loop", "tasks": [task("a")]}, "next_page_token": "same"
            })))
            .mount(&server)
            .await;
        let raw = collect(&cx_with(&server, deps())).await;
        assert_eq!(
            raw.objects.len(),
            1,
            "the job that could not be read whole is left out"
        );
        match raw.error {
            Some(ApiError::Pagination { reason, .. }) => {
                assert!(
                    reason.contains("repeated page token `same`") && reason.contains("`7`"),
                    "{reason}"
                )
            }
            other => panic!("expected a pagination error, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn endless_distinct_tokens_hit_the_page_cap() {
        let server = MockServer::start().await;
        mount_list(
            &server,
            json!([{"job_id": 9, "settings": {"name": "endless"}, "has_more": true}]),
        )
        .await;
        let served = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = served.clone();
        Mock::given(method("GET"))
            .and(path(GET))
            .respond_with(move |_: &wiremock::Request| {
                let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                ResponseTemplate::new(200)
                    .set_body_json(json!({"job_id": 9, "settings": {"name": "endless"}, "next_page_token": format!("t{n}")}))
            })
            .mount(&server)
            .await;
        let raw = collect(&cx_with(&server, deps())).await;
        assert!(raw.objects.is_empty());
        match raw.error {
            Some(ApiError::Pagination { reason, .. }) => {
                assert!(reason.contains("more than 20 pages"), "{reason}")
            }
            other => panic!("expected a pagination error, got {other:?}"),
        }
        assert_eq!(
            served.load(std::sync::atomic::Ordering::SeqCst),
            20,
            "the page cap (20 in tests) bounds the requests"
        );
    }

    #[tokio::test]
    async fn a_job_deleted_after_listing_is_skipped() {
        let server = MockServer::start().await;
        mount_list(
            &server,
            json!([
                {"job_id": 1, "settings": {"name": "kept"}},
                {"job_id": 3, "settings": {"name": "gone"}, "has_more": true}
            ]),
        )
        .await;
        Mock::given(method("GET"))
            .and(path(GET))
            .respond_with(ResponseTemplate::new(400).set_body_json(json!({
                "error_code": "INVALID_PARAMETER_VALUE", "message": "Job 3 does not exist."
            })))
            .mount(&server)
            .await;
        let raw = collect(&cx_with(&server, deps())).await;
        let objects: Vec<serde_json::Value> = raw.values().collect();
        assert!(raw.is_complete(), "{:?}", raw.error);
        assert_eq!(raw.objects.len(), 1);
        assert_eq!(objects[0]["settings"]["name"], "kept");
    }

    #[tokio::test]
    async fn a_failed_get_or_dependency_makes_jobs_incomplete_but_keeps_the_rest() {
        let server = MockServer::start().await;
        mount_list(
            &server,
            json!([
                {"job_id": 1, "settings": {"name": "kept"}},
                {"job_id": 4, "settings": {"name": "broken"}, "has_more": true}
            ]),
        )
        .await;
        Mock::given(method("GET"))
            .and(path(GET))
            .respond_with(
                ResponseTemplate::new(500)
                    .set_body_json(json!({"error_code": "INTERNAL_ERROR", "message": "x"})),
            )
            .mount(&server)
            .await;
        let raw = collect(&cx_with(&server, deps())).await;
        assert_eq!(raw.objects.len(), 1);
        assert_eq!(raw.error.as_ref().and_then(ApiError::status), Some(500));

        let mut with_failed_clusters = deps();
        with_failed_clusters.retain(|(k, _)| *k != Kind::Clusters);
        with_failed_clusters.push((Kind::Clusters, failed()));
        let quiet = MockServer::start().await;
        mount_list(&quiet, json!([{"job_id": 1, "settings": {"name": "kept"}}])).await;
        let raw = collect(&cx_with(&quiet, with_failed_clusters)).await;
        assert_eq!(raw.objects.len(), 1);
        let error = raw.error.map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("`clusters`"), "{error}");
    }

    #[tokio::test]
    async fn a_failed_listing_is_incomplete_and_empty() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(LIST))
            .respond_with(ResponseTemplate::new(403).set_body_json(json!({
                "error_code": "PERMISSION_DENIED", "message": "not allowed"
            })))
            .mount(&server)
            .await;
        let raw = collect(&cx_with(&server, deps())).await;
        assert!(raw.objects.is_empty());
        assert_eq!(raw.error.as_ref().and_then(ApiError::status), Some(403));
    }
}
