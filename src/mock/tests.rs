//! Router tests across kinds: requests through [`app`] with
//! `tower::ServiceExt::oneshot`, and a few through a bound server.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;

use super::*;

/// A small workspace with one object of most kinds.
fn fixture() -> Value {
    json!({
        "fixture_version": 1,
        "name": "t",
        "workspace_id": "1234567890123456",
        "durations": {"cluster_start_secs": 300, "cluster_terminate_secs": 60, "run_secs": 600, "run_pending_secs": 30,
                      "warehouse_start_secs": 120, "warehouse_stop_secs": 30},
        "users": [
            {"id": "101", "userName": "alice@x.com", "displayName": "Alice", "active": true},
            {"id": "102", "userName": "bob@x.com", "displayName": "Bob", "active": true},
            {"id": "103", "userName": "carol@x.com", "displayName": "Carol", "active": true}
        ],
        "service_principals": [{"id": "201", "applicationId": "6f1c2d3e-8a4b-4c5d-9e0f-1a2b3c4d5e6f", "displayName": "etl", "active": true}],
        "groups": [
            {"id": "301", "displayName": "admins", "members": [{"value": "101", "display": "Alice", "$ref": "Users/101"}],
             "meta": {"resourceType": "WorkspaceGroup"}},
            {"id": "302", "displayName": "data-eng", "meta": {"resourceType": "WorkspaceGroup"}}
        ],
        "instance_pools": [{"instance_pool_id": "pool-1", "instance_pool_name": "p", "node_type_id": "m5d.xlarge",
                            "min_idle_instances": 2, "max_capacity": 10}],
        "cluster_policies": [{"policy_id": "POL1", "name": "etl", "definition": "{\"spark_version\": {\"type\": \"unlimited\"}}"}],
        "clusters": [
            {"cluster_id": "0101-000000-aaaaaaaa", "cluster_name": "shared", "spark_version": "15.4.x-scala2.12",
             "node_type_id": "i3.xlarge", "num_workers": 2, "state": "TERMINATED", "cluster_source": "UI",
             "spark_conf": {"spark.password": "{{secrets/prod/db-password}}"}},
            {"cluster_id": "0101-000000-bbbbbbbb", "cluster_name": "job-1-run-1", "spark_version": "15.4.x-scala2.12",
             "node_type_id": "i3.xlarge", "num_workers": 1, "state": "TERMINATED", "cluster_source": "JOB"}
        ],
        "workspace_objects": [
            {"path": "/Production", "object_type": "DIRECTORY", "object_id": 11},
            {"path": "/Production/etl/ingest", "object_type": "NOTEBOOK", "object_id": 12, "language": "PYTHON",
             "content": "IyBEYXRhYnJpY2tzIG5vdGVib29rIHNvdXJjZQpwcmludCgxKQo="}
        ],
        "jobs": [
            {"job_id": 1, "creator_user_name": "alice@x.com", "run_as_user_name": "alice@x.com", "created_time": 1,
             "settings": {"name": "etl", "max_concurrent_runs": 1,
                          "schedule": {"quartz_cron_expression": "0 0 2 * * ?", "timezone_id": "UTC", "pause_status": "PAUSED"},
                          "tasks": [{"task_key": "ingest", "notebook_task": {"notebook_path": "/Production/etl/ingest"},
                                     "existing_cluster_id": "0101-000000-aaaaaaaa"}]}},
            {"job_id": 2, "creator_user_name": "alice@x.com", "created_time": 2,
             "settings": {"name": "passive", "max_concurrent_runs": 0,
                          "tasks": [{"task_key": "t", "notebook_task": {"notebook_path": "/Production/etl/ingest"},
                                     "existing_cluster_id": "0101-000000-aaaaaaaa"}]}},
            {"job_id": 3, "creator_user_name": "alice@x.com", "created_time": 3,
             "settings": {"name": "broken", "max_concurrent_runs": 1,
                          "tasks": [{"task_key": "t", "notebook_task": {"notebook_path": "/Missing/notebook"},
                                     "existing_cluster_id": "0101-000000-aaaaaaaa"}]}},
            {"job_id": 4, "creator_user_name": "alice@x.com", "created_time": 4,
             "settings": {"name": "dangling", "tasks": [{"task_key": "t", "notebook_task": {"notebook_path": "/Production/etl/ingest"},
                                     "existing_cluster_id": "0000-000000-gone"}]}}
        ],
        "secret_scopes": [{"name": "prod", "backend_type": "DATABRICKS",
                           "secrets": [{"key": "db-password", "last_updated_timestamp": 5, "value": "aHVudGVyMg=="}],
                           "acls": [{"principal": "data-eng", "permission": "READ"}]}],
        "permissions": [
            {"object_id": "/directories/11", "object_type": "directory", "access_control_list": [
                {"group_name": "data-eng", "all_permissions": [{"permission_level": "CAN_MANAGE", "inherited": false}]}]},
            {"object_id": "/jobs/1", "object_type": "job", "access_control_list": [
                {"user_name": "alice@x.com", "all_permissions": [{"permission_level": "IS_OWNER", "inherited": false}]},
                {"group_name": "admins", "all_permissions": [{"permission_level": "CAN_MANAGE", "inherited": true, "inherited_from_object": ["/jobs/"]}]}]}
        ],
        "catalogs": [{"name": "main"}, {"name": "dev"}, {"name": "ops"}],
        "schemas": [{"name": "sales", "catalog_name": "main", "full_name": "main.sales"}],
        "tables": [
            {"name": "a", "catalog_name": "main", "schema_name": "sales", "full_name": "main.sales.a", "columns": [{"name": "x"}]},
            {"name": "b", "catalog_name": "main", "schema_name": "sales", "full_name": "main.sales.b"}
        ],
        "grants": [{"securable_type": "table", "full_name": "main.sales.a",
                    "privilege_assignments": [{"principal": "data-eng", "privileges": ["SELECT"]}]}],
        "sql_warehouses": [{"id": "wh1", "name": "Analytics", "cluster_size": "Small", "state": "STOPPED", "auto_stop_mins": 0}],
        "repos": (1..=25).map(|i| json!({"id": 1000 + i, "path": format!("/Repos/team/r{i}"), "url": "https://github.com/x/r.git", "provider": "gitHub", "branch": "main"})).collect::<Vec<_>>(),
        "workspace_conf": {"enableIpAccessLists": "true"}
    })
}

fn state_with(options: &MockOptions) -> MockState {
    let fixture = Fixture::parse(&fixture().to_string(), "test").unwrap_or_else(|e| panic!("{e}"));
    MockState::new(fixture, options)
}

fn router() -> (Router, MockState) {
    let state = state_with(&MockOptions::default());
    (app(state.clone()), state)
}

async fn call(
    app: &Router,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, HeaderMap, Value) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .unwrap();
    send(app, request).await
}

async fn send(app: &Router, request: Request<Body>) -> (StatusCode, HeaderMap, Value) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()))
    };
    (status, headers, value)
}

async fn get(app: &Router, uri: &str) -> Value {
    let (status, _, body) = call(app, "GET", uri, None).await;
    assert_eq!(status, StatusCode::OK, "GET {uri}: {body}");
    body
}

async fn post(app: &Router, uri: &str, body: Value) -> Value {
    let (status, _, reply) = call(app, "POST", uri, Some(body)).await;
    assert!(status.is_success(), "POST {uri}: {status} {reply}");
    reply
}

fn assert_error(status: StatusCode, body: &Value, want_status: u16, code: &str) {
    assert_eq!(status.as_u16(), want_status, "{body}");
    assert_eq!(body["error_code"], code, "{body}");
    assert!(body["message"].is_string(), "{body}");
}

#[tokio::test]
async fn host_metadata_and_me() {
    let options = MockOptions {
        token: Some("tok".to_owned().into()),
        ..MockOptions::default()
    };
    let app = app(state_with(&options));
    // No token needed for the host metadata, which the SDK fetches first.
    let (status, _, body) = call(&app, "GET", "/.well-known/databricks-config", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["workspace_id"], "1234567890123456");
    let me = Request::get("/api/2.0/preview/scim/v2/Me")
        .header("authorization", "Bearer tok")
        .body(Body::empty())
        .unwrap();
    let (status, headers, body) = send(&app, me).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["x-databricks-org-id"], "1234567890123456");
    assert_eq!(body["userName"], "alice@x.com");
}

#[tokio::test]
async fn a_wrong_or_missing_token_is_401_in_the_error_shape() {
    let options = MockOptions {
        token: Some("tok".to_owned().into()),
        ..MockOptions::default()
    };
    let state = state_with(&options);
    let app = app(state.clone());
    let (status, _, body) = call(&app, "GET", "/api/2.2/jobs/list", None).await;
    assert_error(status, &body, 401, "UNAUTHENTICATED");
    let wrong = Request::get("/api/2.2/jobs/list")
        .header("authorization", "Bearer nope")
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = send(&app, wrong).await;
    assert_error(status, &body, 401, "UNAUTHENTICATED");
    let control = Request::get("/_standby/clock").body(Body::empty()).unwrap();
    assert_eq!(send(&app, control).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        state
            .requests(0, 10)
            .iter()
            .map(|r| r.status)
            .collect::<Vec<_>>(),
        [401, 401]
    );
}

#[tokio::test]
async fn scim_pages_end_with_an_empty_page_and_echo_start_index() {
    let (app, _) = router();
    let page = get(&app, "/api/2.0/preview/scim/v2/Users?startIndex=1&count=2").await;
    assert_eq!(page["totalResults"], 3);
    assert_eq!(page["startIndex"], 1);
    assert_eq!(page["itemsPerPage"], 2);
    let ids: Vec<&str> = page["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["101", "102"]);
    let page = get(&app, "/api/2.0/preview/scim/v2/Users?startIndex=3&count=2").await;
    assert_eq!(page["Resources"].as_array().unwrap().len(), 1);
    let past = get(&app, "/api/2.0/preview/scim/v2/Users?startIndex=4&count=2").await;
    assert_eq!(past["Resources"], json!([]));
    assert_eq!(past["startIndex"], 4);
    assert_eq!(
        past["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:ListResponse"
    );
    // Filters by the natural key use the index, case-insensitively.
    let found = get(
        &app,
        "/api/2.0/preview/scim/v2/Users?filter=userName%20eq%20%22BOB@x.com%22",
    )
    .await;
    assert_eq!(found["totalResults"], 1);
    assert_eq!(found["Resources"][0]["id"], "102");
    let bad = call(
        &app,
        "GET",
        "/api/2.0/preview/scim/v2/Users?filter=userName%20zz",
        None,
    )
    .await;
    assert_eq!(bad.0, StatusCode::BAD_REQUEST);
    assert_eq!(bad.2["status"], "400");
    let missing = call(&app, "GET", "/api/2.0/preview/scim/v2/Groups/999", None).await;
    assert_eq!(missing.0, StatusCode::NOT_FOUND);
    assert_eq!(
        missing.2["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );
}

#[tokio::test]
async fn scim_writes_keep_memberships_in_step() {
    let (app, _) = router();
    let (status, _, user) = call(
        &app,
        "POST",
        "/api/2.0/preview/scim/v2/Users",
        Some(json!({"userName": "dave@x.com"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let uid = user["id"].as_str().unwrap().to_owned();
    assert_eq!(user["active"], true);
    let dup = call(
        &app,
        "POST",
        "/api/2.0/preview/scim/v2/Users",
        Some(json!({"userName": "DAVE@x.com"})),
    )
    .await;
    assert_eq!(dup.0, StatusCode::CONFLICT);
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                       "Operations": [{"op": "add", "path": "members", "value": [{"value": uid}, {"value": "201"}]}]});
    let (status, _, _) = call(
        &app,
        "PATCH",
        "/api/2.0/preview/scim/v2/Groups/302",
        Some(patch),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let group = get(&app, "/api/2.0/preview/scim/v2/Groups/302").await;
    assert_eq!(group["members"].as_array().unwrap().len(), 2);
    assert_eq!(group["members"][1]["$ref"], "ServicePrincipals/201");
    let user = get(&app, &format!("/api/2.0/preview/scim/v2/Users/{uid}")).await;
    assert_eq!(user["groups"][0]["value"], "302");
    let remove =
        json!({"Operations": [{"op": "remove", "path": format!("members[value eq \"{uid}\"]")}]});
    call(
        &app,
        "PATCH",
        "/api/2.0/preview/scim/v2/Groups/302",
        Some(remove),
    )
    .await;
    let user = get(&app, &format!("/api/2.0/preview/scim/v2/Users/{uid}")).await;
    assert!(user.get("groups").is_none(), "{user}");
    let (status, _, _) = call(
        &app,
        "DELETE",
        "/api/2.0/preview/scim/v2/ServicePrincipals/201",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let group = get(&app, "/api/2.0/preview/scim/v2/Groups/302").await;
    assert!(group.get("members").is_none(), "{group}");
}

#[tokio::test]
async fn jobs_list_pages_by_token_and_omits_it_on_the_last_page() {
    let (app, _) = router();
    let first = get(&app, "/api/2.2/jobs/list?limit=3").await;
    assert_eq!(first["jobs"].as_array().unwrap().len(), 3);
    assert_eq!(first["has_more"], true);
    // Without expand_tasks the list leaves tasks out, and never shows run_as_user_name.
    assert!(first["jobs"][0]["settings"].get("tasks").is_none());
    assert!(first["jobs"][0].get("run_as_user_name").is_none());
    let token = first["next_page_token"].as_str().unwrap();
    let last = get(
        &app,
        &format!("/api/2.2/jobs/list?limit=3&expand_tasks=true&page_token={token}"),
    )
    .await;
    assert_eq!(last["jobs"].as_array().unwrap().len(), 1);
    assert_eq!(last["jobs"][0]["job_id"], 4);
    assert!(last["jobs"][0]["settings"]["tasks"].is_array());
    assert_eq!(last["has_more"], false);
    assert!(last.get("next_page_token").is_none());
    for v in ["2.0", "2.1"] {
        let all = get(&app, &format!("/api/{v}/jobs/list")).await;
        assert_eq!(all["jobs"].as_array().unwrap().len(), 4);
    }
    let named = get(&app, "/api/2.2/jobs/list?name=ETL").await;
    assert_eq!(named["jobs"][0]["job_id"], 1);
    let (status, _, body) = call(&app, "GET", "/api/2.2/jobs/list?limit=101", None).await;
    assert_error(status, &body, 400, "INVALID_PARAMETER_VALUE");
    let (status, _, body) = call(&app, "GET", "/api/2.2/jobs/list?page_token=%25%25", None).await;
    assert_error(status, &body, 400, "INVALID_PARAMETER_VALUE");
}

#[tokio::test]
async fn jobs_get_shows_run_as_and_unknown_ids_are_400() {
    let (app, _) = router();
    let job = get(&app, "/api/2.1/jobs/get?job_id=1").await;
    assert_eq!(job["run_as_user_name"], "alice@x.com");
    assert!(job.get("next_page_token").is_none());
    let (status, _, body) = call(&app, "GET", "/api/2.2/jobs/get?job_id=99", None).await;
    assert_error(status, &body, 400, "INVALID_PARAMETER_VALUE");
    assert_eq!(body["message"], "Job 99 does not exist.");
    let (status, _, body) = call(&app, "GET", "/api/2.2/jobs/get?job_id=abc", None).await;
    assert_error(status, &body, 400, "INVALID_PARAMETER_VALUE");
    let (status, _, body) = call(&app, "GET", "/api/2.2/jobs/get", None).await;
    assert_error(status, &body, 400, "INVALID_PARAMETER_VALUE");
}

#[tokio::test]
async fn jobs_get_22_pages_long_arrays() {
    let (app, _) = router();
    let tasks: Vec<Value> = (0..250)
        .map(|i| json!({"task_key": format!("t{i:03}")}))
        .collect();
    let created = post(
        &app,
        "/api/2.2/jobs/create",
        json!({"name": "big", "tasks": tasks}),
    )
    .await;
    let id = created["job_id"].as_i64().unwrap();
    let mut got = Vec::new();
    let mut uri = format!("/api/2.2/jobs/get?job_id={id}");
    let mut pages = 0;
    loop {
        let page = get(&app, &uri).await;
        pages += 1;
        got.extend(
            page["settings"]["tasks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["task_key"].as_str().unwrap().to_owned()),
        );
        match page.get("next_page_token").and_then(Value::as_str) {
            Some(t) => uri = format!("/api/2.2/jobs/get?job_id={id}&page_token={t}"),
            None => break,
        }
    }
    assert_eq!((pages, got.len()), (3, 250));
    assert_eq!(got[249], "t249");
    let listed = get(&app, "/api/2.2/jobs/list?expand_tasks=true&limit=100").await;
    let big = listed["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["job_id"] == id)
        .unwrap()
        .clone();
    assert_eq!(big["has_more"], true);
    assert_eq!(big["settings"]["tasks"].as_array().unwrap().len(), 100);
    // 2.1 returns the arrays whole.
    let whole = get(&app, &format!("/api/2.1/jobs/get?job_id={id}")).await;
    assert_eq!(whole["settings"]["tasks"].as_array().unwrap().len(), 250);
}

#[tokio::test]
async fn clusters_pages_filters_and_unknown_ids() {
    let (app, _) = router();
    let page = get(&app, "/api/2.1/clusters/list?page_size=1").await;
    assert_eq!(page["clusters"].as_array().unwrap().len(), 1);
    let token = page["next_page_token"].as_str().unwrap();
    let last = get(
        &app,
        &format!("/api/2.1/clusters/list?page_size=1&page_token={token}"),
    )
    .await;
    assert_eq!(last["clusters"][0]["cluster_id"], "0101-000000-bbbbbbbb");
    assert!(last.get("next_page_token").is_none());
    let ui = get(
        &app,
        "/api/2.1/clusters/list?filter_by.cluster_sources=UI&filter_by.cluster_sources=API",
    )
    .await;
    assert_eq!(ui["clusters"].as_array().unwrap().len(), 1);
    let v20 = get(&app, "/api/2.0/clusters/list").await;
    assert_eq!(v20["clusters"].as_array().unwrap().len(), 2);
    let (status, _, body) = call(&app, "GET", "/api/2.1/clusters/get?cluster_id=nope", None).await;
    assert_error(status, &body, 400, "INVALID_PARAMETER_VALUE");
    assert_eq!(body["message"], "Cluster nope does not exist");
}

#[tokio::test]
async fn malformed_requests_get_the_error_shape() {
    let (app, _) = router();
    let bad_json = Request::post("/api/2.2/jobs/create")
        .body(Body::from("{not json"))
        .unwrap();
    let (status, _, body) = send(&app, bad_json).await;
    assert_error(status, &body, 400, "MALFORMED_REQUEST");
    let (status, _, body) = call(
        &app,
        "POST",
        "/api/2.2/jobs/create",
        Some(json!({"max_concurrent_runs": "lots"})),
    )
    .await;
    assert_error(status, &body, 400, "INVALID_PARAMETER_VALUE");
    let (status, _, body) = call(
        &app,
        "POST",
        "/api/2.2/jobs/delete",
        Some(json!({"job_id": [1]})),
    )
    .await;
    assert_error(status, &body, 400, "INVALID_PARAMETER_VALUE");
    let (status, _, body) = call(&app, "POST", "/api/2.1/clusters/start", Some(json!([]))).await;
    assert_error(status, &body, 400, "MALFORMED_REQUEST");
    let (status, _, body) = call(&app, "GET", "/api/2.0/nothing/here", None).await;
    assert_error(status, &body, 404, "ENDPOINT_NOT_FOUND");
    let (status, _, body) = call(&app, "DELETE", "/api/2.2/jobs/list", None).await;
    assert_error(status, &body, 404, "ENDPOINT_NOT_FOUND");
    let (status, _, body) = call(&app, "GET", "/api/2.0/workspace/list?path=/nope", None).await;
    assert_error(status, &body, 404, "RESOURCE_DOES_NOT_EXIST");
    let (status, _, body) = call(&app, "GET", "/api/2.0/workspace/list", None).await;
    assert_error(status, &body, 400, "INVALID_PARAMETER_VALUE");
    let (status, _, body) = call(
        &app,
        "POST",
        "/api/2.0/secrets/put",
        Some(json!({"scope": 5})),
    )
    .await;
    assert_error(status, &body, 400, "INVALID_PARAMETER_VALUE");
}

#[tokio::test]
async fn permissions_for_every_route_and_inherited_entries() {
    let (app, _) = router();
    let job = get(&app, "/api/2.0/permissions/jobs/1").await;
    assert_eq!(job["object_id"], "/jobs/1");
    assert_eq!(job["object_type"], "job");
    assert_eq!(job["access_control_list"][0]["display_name"], "Alice");
    // Without a fixture entry: the default, admins from the root.
    let notebook = get(&app, "/api/2.0/permissions/notebooks/12").await;
    assert_eq!(
        notebook["access_control_list"],
        json!([{"group_name": "admins", "all_permissions": [
            {"permission_level": "CAN_MANAGE", "inherited": true, "inherited_from_object": ["/directories/"]}]}])
    );
    let a = get(&app, "/api/2.0/permissions/warehouses/wh1").await;
    let b = get(&app, "/api/2.0/permissions/sql/warehouses/wh1").await;
    assert_eq!(a, b);
    assert_eq!(a["object_id"], "/sql/warehouses/wh1");
    let (status, _, body) = call(&app, "GET", "/api/2.0/permissions/jobs/77", None).await;
    assert_error(status, &body, 404, "RESOURCE_DOES_NOT_EXIST");
    let (status, _, body) = call(&app, "GET", "/api/2.0/permissions/notebooks/11", None).await;
    assert_error(status, &body, 404, "RESOURCE_DOES_NOT_EXIST");

    let put = json!({"access_control_list": [{"group_name": "data-eng", "permission_level": "CAN_VIEW"}]});
    let (status, _, after) = call(&app, "PUT", "/api/2.0/permissions/jobs/1", Some(put)).await;
    assert_eq!(status, StatusCode::OK);
    let direct: Vec<(&str, &str)> = after["access_control_list"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| {
            e["all_permissions"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|p| p["inherited"] == false)
                .map(move |p| (e, p))
        })
        .map(|(e, p)| {
            (
                e["user_name"]
                    .as_str()
                    .or(e["group_name"].as_str())
                    .unwrap(),
                p["permission_level"].as_str().unwrap(),
            )
        })
        .collect();
    // A PUT without an owner keeps the owner.
    assert_eq!(
        direct,
        [("data-eng", "CAN_VIEW"), ("alice@x.com", "IS_OWNER")]
    );
    let bad = json!({"access_control_list": [{"user_name": "ghost@x.com", "permission_level": "CAN_VIEW"}]});
    let (status, _, body) = call(&app, "PATCH", "/api/2.0/permissions/jobs/1", Some(bad)).await;
    assert_error(status, &body, 400, "INVALID_PARAMETER_VALUE");
    assert_eq!(
        body["message"],
        "Principal: UserName(ghost@x.com) does not exist"
    );
    let bad_level =
        json!({"access_control_list": [{"group_name": "data-eng", "permission_level": "CAN_USE"}]});
    let (status, _, body) = call(
        &app,
        "PATCH",
        "/api/2.0/permissions/jobs/1",
        Some(bad_level),
    )
    .await;
    assert_error(status, &body, 400, "INVALID_PARAMETER_VALUE");
    let levels = get(
        &app,
        "/api/2.0/permissions/clusters/0101-000000-aaaaaaaa/permissionLevels",
    )
    .await;
    assert_eq!(levels["permission_levels"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn workspace_listing_export_and_writes() {
    let (app, _) = router();
    let root = get(&app, "/api/2.0/workspace/list?path=/").await;
    assert_eq!(
        root["objects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["path"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["/Production", "/Repos"]
    );
    // /Production/etl is implied by the notebook's path.
    let etl = get(&app, "/api/2.0/workspace/get-status?path=/Production/etl").await;
    assert_eq!(etl["object_type"], "DIRECTORY");
    let exported = get(
        &app,
        "/api/2.0/workspace/export?path=/Production/etl/ingest&format=SOURCE",
    )
    .await;
    assert_eq!(exported["file_type"], "py");
    assert!(
        exported["content"]
            .as_str()
            .unwrap()
            .starts_with("IyBEYXRh")
    );
    let empty_dir = get(&app, "/api/2.0/workspace/list?path=/Repos/team/r1").await;
    assert!(empty_dir.get("objects").is_none());
    post(
        &app,
        "/api/2.0/workspace/mkdirs",
        json!({"path": "/Shared/new/deep"}),
    )
    .await;
    post(&app, "/api/2.0/workspace/import", json!({"path": "/Shared/new/nb", "format": "SOURCE", "language": "SQL", "content": "LS0gMQ=="})).await;
    let (status, _, body) = call(
        &app,
        "POST",
        "/api/2.0/workspace/import",
        Some(
            json!({"path": "/Shared/new/nb", "format": "SOURCE", "language": "SQL", "content": ""}),
        ),
    )
    .await;
    assert_error(status, &body, 409, "RESOURCE_ALREADY_EXISTS");
    let (status, _, body) = call(
        &app,
        "POST",
        "/api/2.0/workspace/import",
        Some(
            json!({"path": "/No/parent/nb", "format": "SOURCE", "language": "SQL", "content": ""}),
        ),
    )
    .await;
    assert_error(status, &body, 404, "RESOURCE_DOES_NOT_EXIST");
    let (status, _, body) = call(
        &app,
        "POST",
        "/api/2.0/workspace/mkdirs",
        Some(json!({"path": "/Shared/new/nb/sub"})),
    )
    .await;
    assert_error(status, &body, 409, "RESOURCE_ALREADY_EXISTS");
    let (status, _, body) = call(
        &app,
        "POST",
        "/api/2.0/workspace/delete",
        Some(json!({"path": "/Shared/new"})),
    )
    .await;
    assert_error(status, &body, 400, "DIRECTORY_NOT_EMPTY");
    post(
        &app,
        "/api/2.0/workspace/delete",
        json!({"path": "/Shared/new", "recursive": true}),
    )
    .await;
    let (status, _, _) = call(
        &app,
        "GET",
        "/api/2.0/workspace/get-status?path=/Shared/new/nb",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn repos_page_with_the_next_page_token_parameter() {
    let (app, _) = router();
    let first = get(&app, "/api/2.0/repos").await;
    assert_eq!(first["repos"].as_array().unwrap().len(), 20);
    let token = first["next_page_token"].as_str().unwrap();
    let rest = get(&app, &format!("/api/2.0/repos?next_page_token={token}")).await;
    assert_eq!(rest["repos"].as_array().unwrap().len(), 5);
    assert!(rest.get("next_page_token").is_none());
    let prefixed = get(&app, "/api/2.0/repos?path_prefix=/Repos/team/r2").await;
    assert_eq!(prefixed["repos"].as_array().unwrap().len(), 7);
    let status = get(&app, "/api/2.0/workspace/get-status?path=/Repos/team/r3").await;
    assert_eq!(
        (status["object_type"].as_str(), status["object_id"].as_i64()),
        (Some("REPO"), Some(1003))
    );
}

#[tokio::test]
async fn unity_catalog_pages_and_grants() {
    let (app, _) = router();
    let page = get(&app, "/api/2.1/unity-catalog/catalogs?max_results=2").await;
    assert_eq!(page["catalogs"].as_array().unwrap().len(), 2);
    let token = page["next_page_token"].as_str().unwrap();
    let rest = get(
        &app,
        &format!("/api/2.1/unity-catalog/catalogs?max_results=2&page_token={token}"),
    )
    .await;
    assert_eq!(rest["catalogs"][0]["name"], "ops");
    assert!(rest.get("next_page_token").is_none());
    let tables = get(
        &app,
        "/api/2.1/unity-catalog/tables?catalog_name=main&schema_name=sales&max_results=0",
    )
    .await;
    assert_eq!(tables["tables"].as_array().unwrap().len(), 2);
    let omitted = get(
        &app,
        "/api/2.1/unity-catalog/tables?catalog_name=main&schema_name=sales&omit_columns=true",
    )
    .await;
    assert!(omitted["tables"][0].get("columns").is_none());
    let table = get(&app, "/api/2.1/unity-catalog/tables/main.sales.a").await;
    assert_eq!(table["full_name"], "main.sales.a");
    let grants = get(
        &app,
        "/api/2.1/unity-catalog/permissions/TABLE/main.sales.a",
    )
    .await;
    assert_eq!(
        grants["privilege_assignments"][0]["privileges"],
        json!(["SELECT"])
    );
    let none = get(&app, "/api/2.1/unity-catalog/permissions/catalog/main").await;
    assert_eq!(none, json!({}));
    let (status, _, body) = call(
        &app,
        "GET",
        "/api/2.1/unity-catalog/schemas?catalog_name=nope",
        None,
    )
    .await;
    assert_error(status, &body, 404, "CATALOG_DOES_NOT_EXIST");
    let (status, _, body) = call(
        &app,
        "GET",
        "/api/2.1/unity-catalog/tables/main.sales.zz",
        None,
    )
    .await;
    assert_error(status, &body, 404, "TABLE_DOES_NOT_EXIST");
    let changed = call(
        &app,
        "PATCH",
        "/api/2.1/unity-catalog/permissions/table/main.sales.a",
        Some(json!({"changes": [{"principal": "data-eng", "add": ["MODIFY"], "remove": ["SELECT"]}]})),
    )
    .await;
    assert_eq!(
        changed.2["privilege_assignments"][0]["privileges"],
        json!(["MODIFY"])
    );
}

#[tokio::test]
async fn secret_values_are_never_returned() {
    let (app, state) = router();
    post(
        &app,
        "/api/2.0/secrets/put",
        json!({"scope": "prod", "key": "api", "string_value": "s3cr3t-value"}),
    )
    .await;
    let listed = get(&app, "/api/2.0/secrets/list?scope=prod").await;
    assert_eq!(listed["secrets"].as_array().unwrap().len(), 2);
    let (status, _, body) =
        call(&app, "GET", "/api/2.0/secrets/get?scope=prod&key=api", None).await;
    assert_error(status, &body, 403, "PERMISSION_DENIED");
    for text in [
        listed.to_string(),
        state.dump(),
        format!("{:?}", state.read()),
    ] {
        assert!(
            !text.contains("s3cr3t-value")
                && !text.contains("czNjcjN0")
                && !text.contains("aHVudGVyMg"),
            "{text}"
        );
    }
    let (status, _, body) = call(
        &app,
        "POST",
        "/api/2.0/secrets/scopes/create",
        Some(json!({"scope": "prod"})),
    )
    .await;
    assert_error(status, &body, 409, "RESOURCE_ALREADY_EXISTS");
    let (status, _, body) = call(&app, "GET", "/api/2.0/secrets/list?scope=nope", None).await;
    assert_error(status, &body, 404, "RESOURCE_DOES_NOT_EXIST");
    let acls = get(&app, "/api/2.0/secrets/acls/list?scope=prod").await;
    assert_eq!(
        acls["items"],
        json!([{"principal": "data-eng", "permission": "READ"}])
    );
}

#[tokio::test]
async fn workspace_conf_rejects_unknown_keys_as_terraform_expects() {
    let (app, _) = router();
    let conf = get(
        &app,
        "/api/2.0/workspace-conf?keys=enableIpAccessLists,maxTokenLifetimeDays",
    )
    .await;
    assert_eq!(
        conf,
        json!({"enableIpAccessLists": "true", "maxTokenLifetimeDays": null})
    );
    let (status, _, body) = call(
        &app,
        "GET",
        "/api/2.0/workspace-conf?keys=enableIpAccessLists,nope,zap",
        None,
    )
    .await;
    assert_error(status, &body, 400, "INVALID_PARAMETER_VALUE");
    assert_eq!(body["message"], r#"Invalid keys: ["nope", "zap"]"#);
    let (status, _, _) = call(
        &app,
        "PATCH",
        "/api/2.0/workspace-conf",
        Some(json!({"maxTokenLifetimeDays": "30"})),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let conf = get(&app, "/api/2.0/workspace-conf?keys=maxTokenLifetimeDays").await;
    assert_eq!(conf["maxTokenLifetimeDays"], "30");
}

#[tokio::test]
async fn clusters_move_through_their_states_on_the_virtual_clock() {
    let (app, state) = router();
    let id = "0101-000000-aaaaaaaa";
    let spec = json!({"cluster_name": "new", "spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1});
    let created = post(&app, "/api/2.1/clusters/create", spec).await;
    let new_id = created["cluster_id"].as_str().unwrap().to_owned();
    assert_eq!(
        get(&app, &format!("/api/2.1/clusters/get?cluster_id={new_id}")).await["state"],
        "PENDING"
    );
    state.advance(std::time::Duration::from_secs(299));
    assert_eq!(
        get(&app, &format!("/api/2.1/clusters/get?cluster_id={new_id}")).await["state"],
        "PENDING"
    );
    state.advance(std::time::Duration::from_secs(1));
    assert_eq!(
        get(&app, &format!("/api/2.1/clusters/get?cluster_id={new_id}")).await["state"],
        "RUNNING"
    );
    post(
        &app,
        "/api/2.1/clusters/delete",
        json!({"cluster_id": new_id}),
    )
    .await;
    let c = get(&app, &format!("/api/2.1/clusters/get?cluster_id={new_id}")).await;
    assert_eq!(c["state"], "TERMINATING");
    state.advance(std::time::Duration::from_secs(60));
    let c = get(&app, &format!("/api/2.1/clusters/get?cluster_id={new_id}")).await;
    assert_eq!(
        (
            c["state"].as_str(),
            c["termination_reason"]["code"].as_str()
        ),
        (Some("TERMINATED"), Some("USER_REQUEST"))
    );
    // Edit in PENDING is refused; start of a cluster whose secret is missing fails.
    post(&app, "/api/2.1/clusters/start", json!({"cluster_id": id})).await;
    let (status, _, body) = call(
        &app,
        "POST",
        "/api/2.1/clusters/edit",
        Some(json!({"cluster_id": id, "spark_version": "x", "node_type_id": "y"})),
    )
    .await;
    assert_error(status, &body, 400, "INVALID_STATE");
    state.advance(std::time::Duration::from_secs(300));
    assert_eq!(
        get(&app, &format!("/api/2.1/clusters/get?cluster_id={id}")).await["state"],
        "RUNNING"
    );
    post(
        &app,
        "/api/2.0/secrets/delete",
        json!({"scope": "prod", "key": "db-password"}),
    )
    .await;
    post(&app, "/api/2.1/clusters/restart", json!({"cluster_id": id})).await;
    state.advance(std::time::Duration::from_secs(300));
    let c = get(&app, &format!("/api/2.1/clusters/get?cluster_id={id}")).await;
    assert_eq!(
        (
            c["state"].as_str(),
            c["termination_reason"]["code"].as_str()
        ),
        (Some("TERMINATED"), Some("SECRET_RESOLUTION_ERROR"))
    );
    post(
        &app,
        "/api/2.1/clusters/permanent-delete",
        json!({"cluster_id": id}),
    )
    .await;
    assert_eq!(
        call(
            &app,
            "GET",
            &format!("/api/2.1/clusters/get?cluster_id={id}"),
            None
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn pools_keep_idle_instances_and_count_used_ones() {
    let (app, state) = router();
    let pool = get(&app, "/api/2.0/instance-pools/get?instance_pool_id=pool-1").await;
    assert_eq!(pool["stats"]["idle_count"], 2);
    let spec = json!({"cluster_name": "on-pool", "spark_version": "15.4.x-scala2.12", "instance_pool_id": "pool-1", "num_workers": 3});
    post(&app, "/api/2.1/clusters/create", spec).await;
    let pool = get(&app, "/api/2.0/instance-pools/get?instance_pool_id=pool-1").await;
    assert_eq!(pool["stats"]["used_count"], 4);
    state.advance(std::time::Duration::from_secs(3600));
    let usage = state.usage();
    assert_eq!(
        usage["instance_pools"]["pool-1"]["idle_instance_ms"],
        2 * 3_600_000
    );
    // Over capacity: a cluster that does not fit fails to start.
    let big = json!({"cluster_name": "big", "spark_version": "15.4.x-scala2.12", "instance_pool_id": "pool-1", "num_workers": 9});
    let id = post(&app, "/api/2.1/clusters/create", big).await["cluster_id"]
        .as_str()
        .unwrap()
        .to_owned();
    state.advance(std::time::Duration::from_secs(300));
    let c = get(&app, &format!("/api/2.1/clusters/get?cluster_id={id}")).await;
    assert_eq!(
        c["termination_reason"]["code"],
        "INSTANCE_POOL_MAX_CAPACITY_REACHED"
    );
    let (status, _, body) = call(&app, "POST", "/api/2.0/instance-pools/edit", Some(json!({"instance_pool_id": "pool-1", "instance_pool_name": "p", "node_type_id": "other"}))).await;
    assert_error(status, &body, 400, "INVALID_PARAMETER_VALUE");
    post(&app, "/api/2.0/instance-pools/edit", json!({"instance_pool_id": "pool-1", "instance_pool_name": "p", "node_type_id": "m5d.xlarge", "min_idle_instances": 0, "max_capacity": 10})).await;
    assert_eq!(
        get(&app, "/api/2.0/instance-pools/get?instance_pool_id=pool-1").await["stats"]["idle_count"],
        0
    );
}

async fn run_state(app: &Router, run_id: i64) -> Value {
    get(app, &format!("/api/2.2/jobs/runs/get?run_id={run_id}")).await
}

#[tokio::test]
async fn a_run_starts_its_cluster_runs_and_succeeds() {
    let (app, state) = router();
    let run = post(&app, "/api/2.2/jobs/run-now", json!({"job_id": 1})).await;
    let run_id = run["run_id"].as_i64().unwrap();
    assert_eq!(
        run_state(&app, run_id).await["state"]["life_cycle_state"],
        "PENDING"
    );
    // Pending 30 s, then the terminated cluster is started (300 s), then 600 s of running.
    state.advance(std::time::Duration::from_secs(30));
    assert_eq!(
        get(
            &app,
            "/api/2.1/clusters/get?cluster_id=0101-000000-aaaaaaaa"
        )
        .await["state"],
        "PENDING"
    );
    assert_eq!(
        run_state(&app, run_id).await["state"]["life_cycle_state"],
        "PENDING"
    );
    state.advance(std::time::Duration::from_secs(300));
    assert_eq!(
        run_state(&app, run_id).await["state"]["life_cycle_state"],
        "RUNNING"
    );
    // A second run-now while one runs: max_concurrent_runs 1 and no queue → skipped.
    let second = post(&app, "/api/2.2/jobs/run-now", json!({"job_id": 1})).await["run_id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        run_state(&app, second).await["state"]["life_cycle_state"],
        "SKIPPED"
    );
    state.advance(std::time::Duration::from_secs(600));
    let done = run_state(&app, run_id).await;
    assert_eq!(
        (
            done["state"]["life_cycle_state"].as_str(),
            done["state"]["result_state"].as_str()
        ),
        (Some("TERMINATED"), Some("SUCCESS"))
    );
    assert_eq!(
        done["tasks"][0]["cluster_instance"]["cluster_id"],
        "0101-000000-aaaaaaaa"
    );
    assert_eq!(done["setup_duration"], 330_000);
    let listed = get(&app, "/api/2.2/jobs/runs/list?job_id=1&completed_only=true").await;
    assert_eq!(listed["runs"].as_array().unwrap().len(), 2);
    assert!(listed["runs"][0].get("tasks").is_none());
    let active = get(&app, "/api/2.2/jobs/runs/list?active_only=true").await;
    assert!(active.get("runs").is_none());
    let (status, _, body) = call(&app, "GET", "/api/2.2/jobs/runs/get?run_id=5", None).await;
    assert_error(status, &body, 400, "INVALID_PARAMETER_VALUE");
    assert_eq!(body["message"], "Run 5 does not exist.");
}

#[tokio::test]
async fn passive_and_broken_jobs_fail_as_the_service_fails_them() {
    let (app, state) = router();
    let skipped = post(&app, "/api/2.2/jobs/run-now", json!({"job_id": 2})).await["run_id"]
        .as_i64()
        .unwrap();
    let s = run_state(&app, skipped).await;
    assert_eq!(s["state"]["life_cycle_state"], "SKIPPED");
    assert_eq!(
        s["status"]["termination_details"]["code"],
        "MAX_CONCURRENT_RUNS_EXCEEDED"
    );
    let missing_nb = post(&app, "/api/2.2/jobs/run-now", json!({"job_id": 3})).await["run_id"]
        .as_i64()
        .unwrap();
    let dangling = post(&app, "/api/2.2/jobs/run-now", json!({"job_id": 4})).await["run_id"]
        .as_i64()
        .unwrap();
    state.advance(std::time::Duration::from_secs(30));
    let d = run_state(&app, dangling).await;
    assert_eq!(
        (
            d["state"]["life_cycle_state"].as_str(),
            d["state"]["result_state"].as_str()
        ),
        (Some("INTERNAL_ERROR"), Some("FAILED"))
    );
    assert_eq!(
        d["state"]["state_message"],
        "Cluster 0000-000000-gone does not exist"
    );
    state.advance(std::time::Duration::from_secs(300));
    let m = run_state(&app, missing_nb).await;
    assert_eq!(
        (
            m["state"]["life_cycle_state"].as_str(),
            m["state"]["result_state"].as_str()
        ),
        (Some("TERMINATED"), Some("FAILED"))
    );
    assert!(
        m["state"]["state_message"]
            .as_str()
            .unwrap()
            .contains("\"/Missing/notebook\""),
        "{m}"
    );
    let (status, _, body) = call(
        &app,
        "POST",
        "/api/2.2/jobs/run-now",
        Some(json!({"job_id": 42})),
    )
    .await;
    assert_error(status, &body, 400, "INVALID_PARAMETER_VALUE");
}

#[tokio::test]
async fn paused_schedules_do_not_fire_and_unpaused_ones_do() {
    let (app, state) = router();
    state.advance(std::time::Duration::from_secs(2 * 86_400));
    assert!(
        get(&app, "/api/2.2/jobs/runs/list?job_id=1")
            .await
            .get("runs")
            .is_none()
    );
    let update = json!({"job_id": 1, "new_settings": {"schedule": {"quartz_cron_expression": "0 0 2 * * ?", "timezone_id": "UTC", "pause_status": "UNPAUSED"}}});
    post(&app, "/api/2.2/jobs/update", update).await;
    state.advance(std::time::Duration::from_secs(86_400));
    let runs = get(&app, "/api/2.2/jobs/runs/list?job_id=1").await;
    assert_eq!(runs["runs"].as_array().unwrap().len(), 1);
    assert_eq!(runs["runs"][0]["trigger"], "PERIODIC");
}

#[tokio::test]
async fn queued_runs_start_when_a_slot_frees() {
    let (app, state) = router();
    let job = post(&app, "/api/2.2/jobs/create", json!({"name": "q", "queue": {"enabled": true},
        "tasks": [{"task_key": "t", "notebook_task": {"notebook_path": "/Production/etl/ingest"}, "existing_cluster_id": "0101-000000-aaaaaaaa"}]})).await;
    let job_id = job["job_id"].as_i64().unwrap();
    let a = post(&app, "/api/2.2/jobs/run-now", json!({"job_id": job_id})).await["run_id"]
        .as_i64()
        .unwrap();
    let b = post(&app, "/api/2.2/jobs/run-now", json!({"job_id": job_id})).await["run_id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        run_state(&app, b).await["state"]["life_cycle_state"],
        "QUEUED"
    );
    post(&app, "/api/2.2/jobs/runs/cancel", json!({"run_id": a})).await;
    assert_eq!(
        run_state(&app, a).await["state"]["result_state"],
        "CANCELED"
    );
    assert_eq!(
        run_state(&app, b).await["state"]["life_cycle_state"],
        "PENDING"
    );
    state.advance(std::time::Duration::from_secs(30 + 300 + 600));
    assert_eq!(run_state(&app, b).await["state"]["result_state"], "SUCCESS");
}

#[tokio::test]
async fn warehouses_start_and_stop_on_the_clock() {
    let (app, state) = router();
    post(&app, "/api/2.0/sql/warehouses/wh1/start", json!({})).await;
    assert_eq!(
        get(&app, "/api/2.0/sql/warehouses/wh1").await["state"],
        "STARTING"
    );
    state.advance(std::time::Duration::from_secs(120));
    assert_eq!(
        get(&app, "/api/2.0/sql/warehouses/wh1").await["state"],
        "RUNNING"
    );
    post(&app, "/api/2.0/sql/warehouses/wh1/stop", json!({})).await;
    state.advance(std::time::Duration::from_secs(30));
    assert_eq!(
        get(&app, "/api/2.0/sql/warehouses/wh1").await["state"],
        "STOPPED"
    );
    let created = post(
        &app,
        "/api/2.0/sql/warehouses",
        json!({"name": "New", "cluster_size": "Small", "auto_stop_mins": 10}),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    state.advance(std::time::Duration::from_secs(120 + 600 + 30));
    assert_eq!(
        get(&app, &format!("/api/2.0/sql/warehouses/{id}")).await["state"],
        "STOPPED"
    );
    let page = get(&app, "/api/2.0/sql/warehouses?page_size=1").await;
    assert!(page["next_page_token"].is_string());
}

#[tokio::test]
async fn ip_access_lists_and_init_scripts_round_trip() {
    let (app, _) = router();
    let created = post(
        &app,
        "/api/2.0/ip-access-lists",
        json!({"label": "office", "list_type": "ALLOW", "ip_addresses": ["10.0.0.0/8"]}),
    )
    .await;
    let id = created["ip_access_list"]["list_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(created["ip_access_list"]["address_count"], 1);
    let (status, _, body) = call(
        &app,
        "PATCH",
        &format!("/api/2.0/ip-access-lists/{id}"),
        Some(json!({"ip_addresses": ["bad"]})),
    )
    .await;
    assert_error(status, &body, 400, "INVALID_PARAMETER_VALUE");
    call(
        &app,
        "PATCH",
        &format!("/api/2.0/ip-access-lists/{id}"),
        Some(json!({"enabled": false})),
    )
    .await;
    assert_eq!(
        get(&app, &format!("/api/2.0/ip-access-lists/{id}")).await["ip_access_list"]["enabled"],
        false
    );
    let script = post(
        &app,
        "/api/2.0/global-init-scripts",
        json!({"name": "s", "script": "ZWNobyBoaQ==", "enabled": true}),
    )
    .await;
    let sid = script["script_id"].as_str().unwrap().to_owned();
    let listed = get(&app, "/api/2.0/global-init-scripts").await;
    assert!(listed["scripts"][0].get("script").is_none());
    assert_eq!(
        get(&app, &format!("/api/2.0/global-init-scripts/{sid}")).await["script"],
        "ZWNobyBoaQ=="
    );
}

#[tokio::test]
async fn faults_are_reproducible_from_the_seed() {
    async fn statuses(seed: u64) -> Vec<u16> {
        let options = MockOptions {
            faults: FaultConfig {
                fault_rate: 0.3,
                seed,
                ..FaultConfig::default()
            },
            ..MockOptions::default()
        };
        let app = app(state_with(&options));
        let mut out = Vec::new();
        for i in 0..60 {
            let (status, headers, body) = call(
                &app,
                "GET",
                &format!("/api/2.2/jobs/get?job_id={}", i % 4 + 1),
                None,
            )
            .await;
            if status == StatusCode::TOO_MANY_REQUESTS {
                assert_eq!(body["error_code"], "REQUEST_LIMIT_EXCEEDED");
                if let Some(r) = headers.get("retry-after") {
                    assert!(r.to_str().unwrap().parse::<u32>().is_ok());
                }
            }
            out.push(status.as_u16());
        }
        out
    }
    let a = statuses(7).await;
    assert_eq!(a, statuses(7).await);
    assert_ne!(a, statuses(8).await);
    assert!(a.iter().any(|s| *s != 200) && a.contains(&200));
}

#[tokio::test]
async fn control_api_drives_clock_outage_faults_log_and_dump() {
    let (app, state) = router();
    let clock = post(&app, "/_standby/clock/advance", json!({"seconds": 60})).await;
    assert_eq!(clock["now_ms"], DEFAULT_START_MS + 60_000);
    let (status, _, body) = call(
        &app,
        "POST",
        "/_standby/clock/advance",
        Some(json!({"seconds": -1})),
    )
    .await;
    assert_error(status, &body, 400, "INVALID_PARAMETER_VALUE");
    post(&app, "/_standby/outage", json!({"mode": "unavailable"})).await;
    let (status, _, body) = call(&app, "GET", "/api/2.2/jobs/list", None).await;
    assert_error(status, &body, 503, "TEMPORARILY_UNAVAILABLE");
    // The control API still answers during the outage.
    assert_eq!(get(&app, "/_standby/outage").await["mode"], "unavailable");
    let (status, _, _) = call(&app, "DELETE", "/_standby/outage", None).await;
    assert_eq!(status, StatusCode::OK);
    get(&app, "/api/2.2/jobs/list").await;
    let (status, _, _) = call(
        &app,
        "PUT",
        "/_standby/faults",
        Some(json!({"fault_rate": 1.0, "seed": 3})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        call(&app, "GET", "/api/2.2/jobs/list", None)
            .await
            .0
            .as_u16()
            >= 429
    );
    let (status, _, body) = call(
        &app,
        "PUT",
        "/_standby/faults",
        Some(json!({"fault_rate": 2.0})),
    )
    .await;
    assert_error(status, &body, 400, "INVALID_PARAMETER_VALUE");
    let (status, _, body) = call(&app, "PUT", "/_standby/faults", Some(json!({"bogus": 1}))).await;
    assert_error(status, &body, 400, "INVALID_PARAMETER_VALUE");
    state.set_faults(FaultConfig::default()).unwrap();
    let log = get(&app, "/_standby/requests?since=0").await;
    let entries = log["requests"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0]["fault"], "outage");
    assert_eq!(entries[0]["at_ms"], DEFAULT_START_MS + 60_000);
    assert!(entries[2]["fault"].is_string());
    let since = get(
        &app,
        &format!("/_standby/requests?since={}", entries[1]["seq"]),
    )
    .await;
    assert_eq!(since["requests"].as_array().unwrap().len(), 1);
    let dumped = get(&app, "/_standby/fixture").await;
    assert_eq!(dumped["fixture_version"], 1);
    assert_eq!(dumped["jobs"].as_array().unwrap().len(), 4);
    assert_eq!(dumped["clock"]["start_ms"], DEFAULT_START_MS + 60_000);
    assert!(Fixture::parse(&dumped.to_string(), "dump").is_ok());
    let status = get(&app, "/_standby/").await;
    assert_eq!(status["workspace_id"], "1234567890123456");
}

#[tokio::test]
async fn a_bound_server_serves_refuses_and_resets() {
    let fixture = Fixture::parse(&fixture().to_string(), "test").unwrap();
    let server = MockServer::start(fixture, MockOptions::default())
        .await
        .unwrap();
    let url = server.url();
    assert!(url.starts_with("http://127.0.0.1:"));
    let client = reqwest::Client::new();
    let ok = client
        .get(format!("{url}/api/2.2/jobs/list"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    server.set_outage(Some(OutageMode::Reset));
    let reset = reqwest::Client::new()
        .get(format!("{url}/api/2.2/jobs/list"))
        .send()
        .await;
    assert!(reset.is_err(), "{reset:?}");
    server.set_outage(Some(OutageMode::Refuse));
    // Let the listener close its port.
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(server.addr()).await.is_err() {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(tokio::net::TcpStream::connect(server.addr()).await.is_err());
    server.set_outage(None);
    let mut back = None;
    for _ in 0..200 {
        if let Ok(r) = reqwest::Client::new()
            .get(format!("{url}/api/2.2/jobs/list"))
            .send()
            .await
        {
            back = Some(r.status());
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(back, Some(reqwest::StatusCode::OK));
    server.shutdown().await;
}

/// Pages a `page_token` listing to the end.
async fn all_pages(app: &Router, base: &str, items: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut uri = base.to_owned();
    for _ in 0..1000 {
        let page = get(app, &uri).await;
        out.extend(
            page.get(items)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
        );
        match page.get("next_page_token").and_then(Value::as_str) {
            Some(t) => {
                let sep = if base.contains('?') { '&' } else { '?' };
                uri = format!("{base}{sep}page_token={t}");
            }
            None => return out,
        }
    }
    panic!("{base} never ended");
}

/// The fixture's objects without the fields the API leaves out of a listing.
fn without(items: &Value, fields: &[&str]) -> Vec<Value> {
    items
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|mut v| {
            for f in fields {
                v.as_object_mut().unwrap().remove(*f);
            }
            v
        })
        .collect()
}

fn sorted_by(mut v: Vec<Value>, key: &str) -> Vec<Value> {
    v.sort_by_key(|x| x[key].to_string());
    v
}

/// Every read endpoint standby's collectors call gives back exactly the
/// objects of the shipped fixtures.
#[tokio::test]
async fn shipped_fixtures_are_served_back_exactly() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    for name in ["primary.json", "secondary.json"] {
        let path = root.join(name);
        if !path.exists() {
            continue;
        }
        let raw: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let state = MockState::new(load_fixture(&path).unwrap(), &MockOptions::default());
        let app = app(state);
        let scim = |kind: &'static str| {
            format!("/api/2.0/preview/scim/v2/{kind}?startIndex=1&count=10000")
        };
        for (kind, key) in [
            ("Users", "users"),
            ("Groups", "groups"),
            ("ServicePrincipals", "service_principals"),
        ] {
            let listed = get(&app, &scim(kind)).await["Resources"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            assert_eq!(
                sorted_by(listed, "id"),
                sorted_by(without(&raw[key], &[]), "id"),
                "{name} {kind}"
            );
        }
        let jobs = all_pages(
            &app,
            "/api/2.2/jobs/list?limit=100&expand_tasks=true",
            "jobs",
        )
        .await;
        assert_eq!(
            sorted_by(jobs, "job_id"),
            sorted_by(without(&raw["jobs"], &["run_as_user_name"]), "job_id"),
            "{name} jobs"
        );
        for job in raw["jobs"].as_array().unwrap() {
            let got = get(&app, &format!("/api/2.2/jobs/get?job_id={}", job["job_id"])).await;
            assert_eq!(&got, job, "{name} jobs/get");
        }
        let clusters = all_pages(&app, "/api/2.1/clusters/list?page_size=100", "clusters").await;
        assert_eq!(
            sorted_by(clusters, "cluster_id"),
            sorted_by(without(&raw["clusters"], &[]), "cluster_id"),
            "{name} clusters"
        );
        let pools = get(&app, "/api/2.0/instance-pools/list").await;
        assert_eq!(
            sorted_by(
                without(&pools["instance_pools"], &["stats"]),
                "instance_pool_id"
            ),
            sorted_by(
                without(&raw["instance_pools"], &["stats"]),
                "instance_pool_id"
            ),
            "{name} pools"
        );
        let policies = get(&app, "/api/2.0/policies/clusters/list").await;
        assert_eq!(
            sorted_by(without(&policies["policies"], &[]), "policy_id"),
            sorted_by(without(&raw["cluster_policies"], &[]), "policy_id")
        );
        let scripts = get(&app, "/api/2.0/global-init-scripts").await;
        assert_eq!(
            sorted_by(without(&scripts["scripts"], &[]), "script_id"),
            sorted_by(
                without(&raw["global_init_scripts"], &["script"]),
                "script_id"
            )
        );
        for s in raw["global_init_scripts"].as_array().unwrap() {
            assert_eq!(
                &get(
                    &app,
                    &format!(
                        "/api/2.0/global-init-scripts/{}",
                        s["script_id"].as_str().unwrap()
                    )
                )
                .await,
                s
            );
        }
        let repos = all_pages(&app, "/api/2.0/repos", "repos").await;
        assert_eq!(
            repos.len(),
            raw["repos"].as_array().unwrap().len(),
            "{name} repos"
        );
        let warehouses = all_pages(&app, "/api/2.0/sql/warehouses", "warehouses").await;
        assert_eq!(
            sorted_by(warehouses, "id"),
            sorted_by(without(&raw["sql_warehouses"], &[]), "id"),
            "{name} warehouses"
        );
        let lists = get(&app, "/api/2.0/ip-access-lists").await;
        assert_eq!(
            sorted_by(without(&lists["ip_access_lists"], &[]), "list_id"),
            sorted_by(without(&raw["ip_access_lists"], &[]), "list_id")
        );
        // Workspace objects: a recursive listing finds every listed object, content left out.
        let mut found = Vec::new();
        let mut folders = vec!["/".to_owned()];
        while let Some(folder) = folders.pop() {
            let page = get(&app, &format!("/api/2.0/workspace/list?path={folder}")).await;
            for o in page
                .get("objects")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
            {
                if o["object_type"] == "DIRECTORY" {
                    folders.push(o["path"].as_str().unwrap().to_owned());
                }
                found.push(o);
            }
        }
        let want = without(&raw["workspace_objects"], &["content"]);
        for o in &want {
            assert!(found.contains(o), "{name}: {o} not listed");
        }
        for o in raw["workspace_objects"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o.get("content").is_some())
        {
            let path = o["path"].as_str().unwrap();
            let exported = get(
                &app,
                &format!("/api/2.0/workspace/export?path={path}&format=SOURCE"),
            )
            .await;
            assert_eq!(exported["content"], o["content"], "{name} export {path}");
        }
        // Secrets: names and ACLs, never values.
        let scopes = get(&app, "/api/2.0/secrets/scopes/list").await;
        assert_eq!(
            scopes["scopes"].as_array().map_or(0, Vec::len),
            raw["secret_scopes"].as_array().unwrap().len()
        );
        for scope in raw["secret_scopes"].as_array().unwrap() {
            let s = scope["name"].as_str().unwrap();
            let keys = get(&app, &format!("/api/2.0/secrets/list?scope={s}")).await;
            assert_eq!(
                keys.get("secrets").cloned().unwrap_or(json!([])),
                scope.get("secrets").cloned().unwrap_or(json!([])),
                "{name} {s}"
            );
            let acls = get(&app, &format!("/api/2.0/secrets/acls/list?scope={s}")).await;
            let mut got: Vec<String> = acls["items"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(Value::to_string)
                .collect();
            let mut want: Vec<String> = scope["acls"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(Value::to_string)
                .collect();
            got.sort();
            want.sort();
            assert_eq!(got, want, "{name} acls {s}");
        }
        // Permissions: every recorded ACL comes back with the same entries.
        let canon = |v: &Value| {
            let mut entries: Vec<String> = v["access_control_list"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|e| {
                    let who = ["user_name", "group_name", "service_principal_name"]
                        .iter()
                        .find_map(|f| e.get(*f))
                        .unwrap()
                        .to_string();
                    e["all_permissions"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(move |p| format!("{who} {p}"))
                        .collect::<Vec<_>>()
                })
                .collect();
            entries.sort();
            entries
        };
        for acl in raw["permissions"].as_array().unwrap() {
            let object_id = acl["object_id"].as_str().unwrap();
            let got = get(&app, &format!("/api/2.0/permissions{object_id}")).await;
            assert_eq!(
                (&got["object_id"], &got["object_type"]),
                (&acl["object_id"], &acl["object_type"]),
                "{name}"
            );
            assert_eq!(canon(&got), canon(acl), "{name} {object_id}");
        }
        // Unity Catalog.
        let catalogs = all_pages(
            &app,
            "/api/2.1/unity-catalog/catalogs?max_results=0",
            "catalogs",
        )
        .await;
        assert_eq!(
            sorted_by(catalogs.clone(), "name"),
            sorted_by(without(&raw["catalogs"], &[]), "name"),
            "{name} catalogs"
        );
        let mut schemas = Vec::new();
        for c in &catalogs {
            let uri = format!(
                "/api/2.1/unity-catalog/schemas?catalog_name={}&max_results=0",
                c["name"].as_str().unwrap()
            );
            schemas.extend(all_pages(&app, &uri, "schemas").await);
        }
        assert_eq!(
            sorted_by(schemas.clone(), "full_name"),
            sorted_by(without(&raw["schemas"], &[]), "full_name"),
            "{name} schemas"
        );
        let mut tables = Vec::new();
        for s in &schemas {
            let uri = format!(
                "/api/2.1/unity-catalog/tables?catalog_name={}&schema_name={}&max_results=0",
                s["catalog_name"].as_str().unwrap(),
                s["name"].as_str().unwrap()
            );
            tables.extend(all_pages(&app, &uri, "tables").await);
        }
        assert_eq!(
            sorted_by(tables, "full_name"),
            sorted_by(without(&raw["tables"], &[]), "full_name"),
            "{name} tables"
        );
        for g in raw["grants"].as_array().unwrap() {
            let uri = format!(
                "/api/2.1/unity-catalog/permissions/{}/{}",
                g["securable_type"].as_str().unwrap(),
                g["full_name"].as_str().unwrap()
            );
            assert_eq!(
                get(&app, &uri).await["privilege_assignments"],
                g["privilege_assignments"],
                "{name} {uri}"
            );
        }
        let keys: Vec<&String> = raw["workspace_conf"].as_object().unwrap().keys().collect();
        let joined = keys
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(",");
        let conf = get(&app, &format!("/api/2.0/workspace-conf?keys={joined}")).await;
        assert_eq!(conf, raw["workspace_conf"], "{name} workspace-conf");
        let libraries = get(&app, "/api/2.0/libraries/all-cluster-statuses").await;
        assert_eq!(
            libraries["statuses"].as_array().map_or(0, Vec::len),
            raw["cluster_libraries"].as_array().map_or(0, Vec::len)
        );
    }
}

/// The raw body of a GET.
async fn get_text(app: &Router, uri: &str) -> String {
    let request = Request::builder().uri(uri).body(Body::empty()).unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "GET {uri}");
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test]
async fn rendered_acls_follow_acl_and_principal_writes() {
    let (app, _) = router();
    let uri = "/api/2.0/permissions/jobs/1";
    let first = get_text(&app, uri).await;
    // The text is what serializing its own value gives: keys sorted, compact
    // (the bytes a `serde_json::Value` reply had).
    let value: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(first, value.to_string());
    assert_eq!(
        get_text(&app, uri).await,
        first,
        "a second read is the same"
    );
    assert_eq!(value["access_control_list"][0]["display_name"], "Alice");

    // A user's new display name shows in every ACL that names the user.
    let (status, _, _) = call(
        &app,
        "PUT",
        "/api/2.0/preview/scim/v2/Users/101",
        Some(json!({"userName": "alice@x.com", "displayName": "Alice Liddell", "active": true})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let renamed = get(&app, uri).await;
    assert_eq!(
        renamed["access_control_list"][0]["display_name"],
        "Alice Liddell"
    );

    // A PATCH shows at once, and a deleted user's entry loses its display name.
    let patch = json!({"access_control_list": [{"user_name": "bob@x.com", "permission_level": "CAN_VIEW"}]});
    let (status, _, _) = call(&app, "PATCH", uri, Some(patch)).await;
    assert_eq!(status, StatusCode::OK);
    let patched = get(&app, uri).await;
    let bob = patched["access_control_list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["user_name"] == "bob@x.com")
        .cloned()
        .unwrap();
    assert_eq!(bob["display_name"], "Bob");
    let (status, _, _) = call(&app, "DELETE", "/api/2.0/preview/scim/v2/Users/102", None).await;
    assert!(status.is_success(), "{status}");
    let after = get(&app, uri).await;
    let bob = after["access_control_list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["user_name"] == "bob@x.com")
        .cloned()
        .unwrap();
    assert!(bob.get("display_name").is_none(), "{bob}");

    // A deleted job's ACL is gone with it.
    post(&app, "/api/2.2/jobs/delete", json!({"job_id": 1})).await;
    let (status, _, body) = call(&app, "GET", uri, None).await;
    assert_error(status, &body, 404, "RESOURCE_DOES_NOT_EXIST");
}

#[tokio::test]
async fn rendered_listings_follow_workspace_writes() {
    let (app, _) = router();
    let uri = "/api/2.0/workspace/list?path=/Production/etl";
    let paths = |v: &Value| -> Vec<(String, String)> {
        v["objects"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|o| {
                        (
                            o["path"].as_str().unwrap().to_owned(),
                            o["object_type"].as_str().unwrap().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let before = get(&app, uri).await;
    assert_eq!(
        paths(&before),
        [("/Production/etl/ingest".to_owned(), "NOTEBOOK".to_owned())]
    );
    // A new child, an overwrite that changes a child's type, a new folder.
    post(
        &app,
        "/api/2.0/workspace/import",
        json!({"path": "/Production/etl/a.txt", "format": "RAW", "content": "eA=="}),
    )
    .await;
    post(
        &app,
        "/api/2.0/workspace/import",
        json!({"path": "/Production/etl/ingest", "format": "RAW", "content": "eA==", "overwrite": true}),
    )
    .await;
    post(
        &app,
        "/api/2.0/workspace/mkdirs",
        json!({"path": "/Production/etl/sub/deeper"}),
    )
    .await;
    let after = get(&app, uri).await;
    assert_eq!(
        paths(&after),
        [
            ("/Production/etl/a.txt".to_owned(), "FILE".to_owned()),
            ("/Production/etl/ingest".to_owned(), "FILE".to_owned()),
            ("/Production/etl/sub".to_owned(), "DIRECTORY".to_owned()),
        ]
    );
    // A filtered listing is computed, not served from the rendered one.
    let filtered = get(&app, &format!("{uri}&notebooks_modified_after=1")).await;
    assert_eq!(paths(&filtered), paths(&after));
    post(
        &app,
        "/api/2.0/workspace/delete",
        json!({"path": "/Production/etl/sub", "recursive": true}),
    )
    .await;
    post(
        &app,
        "/api/2.0/workspace/delete",
        json!({"path": "/Production/etl/a.txt"}),
    )
    .await;
    let last = get(&app, uri).await;
    assert_eq!(
        paths(&last),
        [("/Production/etl/ingest".to_owned(), "FILE".to_owned())]
    );
}

#[tokio::test]
async fn a_large_workspace_answers_while_its_replies_render() {
    // Enough objects to render on the background threads, not inline.
    let mut objects = Vec::new();
    for i in 0..12_000 {
        objects.push(
            json!({"path": format!("/d{i}"), "object_type": "DIRECTORY", "object_id": 2 * i + 1}),
        );
        objects.push(json!({"path": format!("/d{i}/nb"), "object_type": "NOTEBOOK", "object_id": 2 * i + 2, "language": "PYTHON"}));
    }
    let text = json!({"fixture_version": 1, "workspace_objects": objects}).to_string();
    let fixture = Fixture::parse(&text, "large").unwrap_or_else(|e| panic!("{e}"));
    let state = MockState::new(fixture, &MockOptions::default());
    let app = app(state.clone());
    // Reads and a write while rendering may still be going on.
    let early = get(&app, "/api/2.0/workspace/list?path=/d11999").await;
    post(
        &app,
        "/api/2.0/workspace/mkdirs",
        json!({"path": "/d5/sub"}),
    )
    .await;
    let written = get(&app, "/api/2.0/workspace/list?path=/d5").await;
    state.prerendered().await;
    assert_eq!(
        get(&app, "/api/2.0/workspace/list?path=/d11999").await,
        early
    );
    let after = get(&app, "/api/2.0/workspace/list?path=/d5").await;
    assert_eq!(after, written);
    assert_eq!(
        after["objects"].as_array().map(Vec::len),
        Some(2),
        "{after}"
    );
}
