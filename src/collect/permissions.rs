//! Object ACLs: one `GET /api/2.0/permissions/{type}/{id}` per job, cluster,
//! pool, policy, notebook, directory, file, repo and SQL warehouse.
//!
//! Each object type starts reading as soon as its own source kind is in, so
//! job ACLs are read while the workspace tree is still being walked and the
//! permission-read limit is used the whole time. Each read is its own
//! journaled unit (the request), so a resumed capture skips it.
//!
//! Raw objects are the API's replies (`object_id` like `/jobs/123`,
//! `object_type`, `access_control_list`); `object_id` is filled in from the
//! request when a reply lacks it. An object deleted meanwhile (404) is skipped;
//! any other error makes the kind incomplete, keeping what was read.

use std::collections::BTreeSet;

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde_json::Value;

use super::{Cx, RawKind, RawObject, compact};
use crate::client::ApiError;
use crate::kind::Kind;
use crate::normalize::{id_field, str_field};

/// The kinds whose objects carry ACLs, in the order their reads are merged.
const SOURCES: [Kind; 7] = [
    Kind::Jobs,
    Kind::Clusters,
    Kind::InstancePools,
    Kind::ClusterPolicies,
    Kind::WorkspaceObjects,
    Kind::Repos,
    Kind::SqlWarehouses,
];

/// Characters that cannot appear raw in one path segment.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

const PREFIX: &str = "/api/2.0/permissions";

/// The reads send no query.
const NO_QUERY: &[(&str, String)] = &[];

pub(crate) async fn collect(cx: &Cx) -> RawKind {
    // All source kinds are awaited concurrently: each type's reads begin the
    // moment its own kind is in, not when the slowest one is.
    let parts =
        futures::future::join_all(SOURCES.into_iter().map(|kind| read_type(cx, kind))).await;
    let mut read = Vec::new();
    let mut error = None;
    for (part, failed) in parts {
        read.extend(part);
        if let Some(e) = failed {
            error.get_or_insert(e);
        }
    }
    // Replies arrive in completion order; the raw list should not depend on it.
    read.sort_by(|(a, _), (b, _)| a.cmp(b));
    RawKind {
        objects: read.into_iter().map(|(_, object)| object).collect(),
        error,
    }
}

/// Reads the ACL of every object of one source kind: each reply with its
/// `object_id` (the sort key), kept as text from the moment it arrives.
async fn read_type(cx: &Cx, kind: Kind) -> (Vec<(Option<String>, RawObject)>, Option<ApiError>) {
    let raw = match cx.dependency(kind).await {
        Ok(raw) => raw,
        Err(e) => return (Vec::new(), Some(e)),
    };
    // Request paths, de-duplicated and in a stable order.
    let paths: BTreeSet<String> = raw
        .values()
        .filter_map(|o| target(kind, &o))
        .map(|(object_type, id)| {
            format!(
                "{PREFIX}/{object_type}/{}",
                utf8_percent_encode(&id, SEGMENT)
            )
        })
        .collect();
    drop(raw);
    super::fan_out(cx, paths, |path| async move {
        match cx.get(Kind::Permissions, &path, NO_QUERY).await {
            Ok(mut reply) => {
                if str_field(&reply, "object_id").is_none() {
                    if let (Value::Object(map), Some(object_id)) =
                        (&mut reply, path.strip_prefix(PREFIX))
                    {
                        map.insert("object_id".into(), Value::String(object_id.to_owned()));
                    }
                }
                let object_id = str_field(&reply, "object_id").map(str::to_owned);
                Ok(Some((object_id, compact(&reply))))
            }
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    })
    .await
}

/// The Permissions API type and id of a source object, when it has an ACL.
fn target(kind: Kind, object: &Value) -> Option<(&'static str, String)> {
    let (object_type, id_name) = match kind {
        Kind::Jobs => ("jobs", "job_id"),
        Kind::Clusters => ("clusters", "cluster_id"),
        Kind::InstancePools => ("instance-pools", "instance_pool_id"),
        Kind::ClusterPolicies => ("cluster-policies", "policy_id"),
        Kind::WorkspaceObjects => match str_field(object, "object_type")? {
            "NOTEBOOK" => ("notebooks", "object_id"),
            "DIRECTORY" => ("directories", "object_id"),
            "FILE" => ("files", "object_id"),
            // REPO ACLs come from the repos kind; libraries and dashboards have other APIs.
            _ => return None,
        },
        Kind::Repos => ("repos", "id"),
        Kind::SqlWarehouses => ("warehouses", "id"),
        _ => return None,
    };
    let id = id_field(object, id_name).filter(|id| !id.is_empty())?;
    Some((object_type, id))
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use wiremock::matchers::{method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;
    use crate::collect::CollectOptions;
    use crate::collect::workspace_objects::test_cx;

    fn acl(object_id: &str, object_type: &str) -> ResponseTemplate {
        ResponseTemplate::new(200).set_body_json(json!({
            "object_id": object_id,
            "object_type": object_type,
            "access_control_list": [
                {"user_name": "ana@example.com", "display_name": "Ana",
                 "all_permissions": [{"permission_level": "IS_OWNER", "inherited": false}]}
            ]
        }))
    }

    async fn mount(server: &MockServer, p: &str, reply: ResponseTemplate) {
        Mock::given(method("GET"))
            .and(path(p))
            .respond_with(reply)
            .expect(1)
            .mount(server)
            .await;
    }

    fn seeded() -> Vec<(Kind, Vec<Value>)> {
        vec![
            (
                Kind::Jobs,
                vec![
                    json!({"job_id": 101, "settings": {"name": "etl"}}),
                    json!({"job_id": 102}),
                ],
            ),
            (
                Kind::Clusters,
                vec![json!({"cluster_id": "0101-abc", "cluster_name": "shared"})],
            ),
            (Kind::InstancePools, Vec::new()),
            (
                Kind::ClusterPolicies,
                vec![json!({"policy_id": "E0631F5C0D000", "name": "small"})],
            ),
            (
                Kind::WorkspaceObjects,
                vec![
                    json!({"path": "/Shared", "object_type": "DIRECTORY", "object_id": 42}),
                    json!({"path": "/Shared/nb", "object_type": "NOTEBOOK", "object_id": 43}),
                    json!({"path": "/Repos/x", "object_type": "REPO", "object_id": 44}),
                ],
            ),
            (Kind::Repos, vec![json!({"id": 44, "path": "/Repos/x"})]),
            (
                Kind::SqlWarehouses,
                vec![json!({"id": "wh1", "name": "bi"})],
            ),
        ]
    }

    #[tokio::test]
    async fn reads_one_acl_per_object_and_skips_deleted_ones() {
        let server = MockServer::start().await;
        mount(
            &server,
            "/api/2.0/permissions/jobs/101",
            acl("/jobs/101", "job"),
        )
        .await;
        mount(
            &server,
            "/api/2.0/permissions/jobs/102",
            ResponseTemplate::new(404).set_body_json(
                json!({"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "no job"}),
            ),
        )
        .await;
        mount(
            &server,
            "/api/2.0/permissions/clusters/0101-abc",
            acl("/clusters/0101-abc", "cluster"),
        )
        .await;
        mount(
            &server,
            "/api/2.0/permissions/cluster-policies/E0631F5C0D000",
            acl("/cluster-policies/E0631F5C0D000", "cluster-policy"),
        )
        .await;
        mount(
            &server,
            "/api/2.0/permissions/directories/42",
            acl("/directories/42", "directory"),
        )
        .await;
        mount(
            &server,
            "/api/2.0/permissions/notebooks/43",
            acl("/notebooks/43", "notebook"),
        )
        .await;
        mount(
            &server,
            "/api/2.0/permissions/repos/44",
            acl("/repos/44", "repo"),
        )
        .await;
        // A reply without `object_id` gets it from the request.
        mount(
            &server,
            "/api/2.0/permissions/warehouses/wh1",
            ResponseTemplate::new(200)
                .set_body_json(json!({"object_type": "warehouses", "access_control_list": []})),
        )
        .await;

        let raw = collect(&test_cx(&server.uri(), CollectOptions::default(), seeded())).await;
        assert!(raw.is_complete(), "{:?}", raw.error);
        let objects: Vec<Value> = raw.values().collect();
        let ids: Vec<&str> = objects
            .iter()
            .filter_map(|o| str_field(o, "object_id"))
            .collect();
        assert_eq!(
            ids,
            [
                "/cluster-policies/E0631F5C0D000",
                "/clusters/0101-abc",
                "/directories/42",
                "/jobs/101",
                "/notebooks/43",
                "/repos/44",
                "/warehouses/wh1"
            ]
        );
        server.verify().await;
    }

    #[tokio::test]
    async fn an_error_keeps_what_was_read_and_marks_the_kind_incomplete() {
        let server = MockServer::start().await;
        mount(
            &server,
            "/api/2.0/permissions/jobs/101",
            acl("/jobs/101", "job"),
        )
        .await;
        mount(
            &server,
            "/api/2.0/permissions/jobs/102",
            ResponseTemplate::new(403).set_body_json(
                json!({"error_code": "PERMISSION_DENIED", "message": "not an admin"}),
            ),
        )
        .await;
        let seeded = vec![
            (
                Kind::Jobs,
                vec![json!({"job_id": 101}), json!({"job_id": 102})],
            ),
            (Kind::Clusters, Vec::new()),
            (Kind::InstancePools, Vec::new()),
            (Kind::ClusterPolicies, Vec::new()),
            (Kind::WorkspaceObjects, Vec::new()),
            (Kind::Repos, Vec::new()),
            (Kind::SqlWarehouses, Vec::new()),
        ];
        let raw = collect(&test_cx(&server.uri(), CollectOptions::default(), seeded)).await;
        assert_eq!(raw.error.as_ref().and_then(ApiError::status), Some(403));
        assert_eq!(raw.objects.len(), 1);
        assert_eq!(
            str_field(&raw.values().next().unwrap_or_default(), "object_id"),
            Some("/jobs/101")
        );
    }

    #[tokio::test]
    async fn each_type_starts_when_its_own_kind_is_in() {
        let server = MockServer::start().await;
        // The workspace walk is slow (a real delay: the order of requests is
        // what is checked); warehouse ACLs must not wait for it.
        Mock::given(method("GET"))
            .and(path("/api/2.0/workspace/list"))
            .and(query_param("path", "/"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"objects": [{"path": "/Shared", "object_type": "DIRECTORY", "object_id": 42}]}))
                    .set_delay(std::time::Duration::from_millis(150)),
            )
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/api/2.0/workspace/list"))
            .and(query_param("path", "/Shared"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
            .mount(&server)
            .await;
        mount(
            &server,
            "/api/2.0/permissions/directories/42",
            acl("/directories/42", "directory"),
        )
        .await;
        mount(
            &server,
            "/api/2.0/permissions/warehouses/wh1",
            acl("/sql/warehouses/wh1", "warehouses"),
        )
        .await;
        // Every source but the workspace tree is already in.
        let seeded = vec![
            (Kind::Jobs, Vec::new()),
            (Kind::Clusters, Vec::new()),
            (Kind::InstancePools, Vec::new()),
            (Kind::ClusterPolicies, Vec::new()),
            (Kind::Repos, Vec::new()),
            (
                Kind::SqlWarehouses,
                vec![json!({"id": "wh1", "name": "bi"})],
            ),
        ];
        let raw = collect(&test_cx(&server.uri(), CollectOptions::default(), seeded)).await;
        assert!(raw.is_complete(), "{:?}", raw.error);
        assert_eq!(raw.objects.len(), 2);
        let requests = server.received_requests().await.unwrap_or_default();
        let at = |p: &str| requests.iter().position(|r| r.url.path() == p);
        let warehouse = at("/api/2.0/permissions/warehouses/wh1").expect("warehouse ACL read");
        let directory = at("/api/2.0/permissions/directories/42").expect("directory ACL read");
        assert!(
            warehouse < directory,
            "warehouse ACLs waited for the workspace walk"
        );
    }

    #[test]
    fn targets_by_kind() {
        assert_eq!(
            target(Kind::Jobs, &json!({"job_id": 7})),
            Some(("jobs", "7".into()))
        );
        assert_eq!(
            target(
                Kind::WorkspaceObjects,
                &json!({"object_type": "FILE", "object_id": 9})
            ),
            Some(("files", "9".into()))
        );
        assert_eq!(
            target(
                Kind::WorkspaceObjects,
                &json!({"object_type": "LIBRARY", "object_id": 9})
            ),
            None
        );
        assert_eq!(target(Kind::SqlWarehouses, &json!({"name": "no id"})), None);
    }
}
