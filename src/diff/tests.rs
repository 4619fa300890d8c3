//! The diff's behaviour end to end: each finding class on a minimal pair,
//! baselines, and the laws (proptest) the issue asks for.

use std::collections::BTreeMap;
use std::path::Path;

use proptest::prelude::*;
use serde_json::{Value, json};

use super::rewrite::Rewriter;
use super::*;
use crate::kind::Kind;
use crate::normalize::Draft;
use crate::snapshot::{
    CaptureMetadata, FORMAT_VERSION, Incomplete, KindSnapshot, Record, Reference, Snapshot, Status,
};

/// A canonical record, as the normalizers freeze them.
fn rec(key: &str, content: Value) -> Record {
    Draft::new(key, content).into_record()
}

fn rec_at(key: &str, content: Value, modified_at: i64) -> Record {
    let mut d = Draft::new(key, content);
    d.modified_at = Some(modified_at);
    d.into_record()
}

fn rec_refs(key: &str, content: Value, refs: Vec<Reference>) -> Record {
    let mut d = Draft::new(key, content);
    d.refs = refs;
    d.into_record()
}

fn named(field: &str, kind: Kind, key: &str) -> Reference {
    Reference {
        field: field.into(),
        kind,
        key: Some(key.into()),
        unresolved_id: None,
    }
}

fn snapshot(host: &str, captured_at_ms: i64, kinds: Vec<(Kind, Vec<Record>)>) -> Snapshot {
    Snapshot {
        format_version: FORMAT_VERSION,
        metadata: CaptureMetadata {
            host: host.into(),
            profile: None,
            tool_version: "standby 0.1.0".into(),
            captured_at: "2025-11-24T16:00:00Z".into(),
            captured_at_ms,
            requested_kinds: kinds.iter().map(|(k, _)| *k).collect(),
        },
        kinds: kinds
            .into_iter()
            .map(|(k, records)| (k, KindSnapshot::new(Status::Complete, records)))
            .collect(),
    }
}

const T0: i64 = 1_764_000_000_000;

fn primary(kinds: Vec<(Kind, Vec<Record>)>) -> Snapshot {
    snapshot("https://acme-prod.cloud.databricks.com", T0, kinds)
}

fn secondary(kinds: Vec<(Kind, Vec<Record>)>) -> Snapshot {
    snapshot("https://acme-dr.cloud.databricks.com", T0 + 60_000, kinds)
}

fn active() -> Rules {
    Rules {
        secondary_role: Role::Active,
        ..Rules::default()
    }
}

/// `(id, class, severity)` of every finding, in report order.
fn ids(report: &DriftReport) -> Vec<&str> {
    report.findings.iter().map(|f| f.id.as_str()).collect()
}

fn job(name: &str, concurrency: i64, pause: &str, notebook: &str) -> Value {
    json!({"settings": {
        "name": name,
        "max_concurrent_runs": concurrency,
        "schedule": {"quartz_cron_expression": "0 0 2 * * ?", "timezone_id": "UTC", "pause_status": pause},
        "tasks": [
            {"task_key": "ingest", "notebook_task": {"notebook_path": notebook, "source": "WORKSPACE"},
             "job_cluster_key": "etl"},
            {"task_key": "publish", "depends_on": [{"task_key": "ingest"}],
             "notebook_task": {"notebook_path": "/Production/etl/publish_sales", "source": "WORKSPACE"},
             "job_cluster_key": "etl"}
        ],
        "job_clusters": [{"job_cluster_key": "etl", "new_cluster": {
            "spark_version": "15.4.x-scala2.12", "instance_pool": "etl-pool-m5d", "num_workers": 4}}]
    }, "run_as_user_name": "6f1c2d3e-8a4b-4c5d-9e0f-1a2b3c4d5e6f"})
}

fn user(name: &str, display: &str) -> Value {
    json!({"userName": name, "displayName": display, "active": true,
           "emails": [{"value": name, "type": "work", "primary": true}],
           "entitlements": ["workspace-access"]})
}

#[test]
fn identical_snapshots_have_no_findings() {
    let make = || {
        vec![
            (
                Kind::Users,
                vec![rec("alice@acme.com", user("alice@acme.com", "Alice"))],
            ),
            (
                Kind::Jobs,
                vec![rec(
                    "daily-sales-etl",
                    job("daily-sales-etl", 0, "PAUSED", "/Production/etl/ingest"),
                )],
            ),
        ]
    };
    let report = diff(&primary(make()), &secondary(make()), &Rules::default());
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    assert!(!report.has_drift());
    assert_eq!(report.summary[&Kind::Jobs].compared, 1);
    assert_eq!(report.summary[&Kind::Jobs].status, KindStatus::Complete);
    assert_eq!(
        report.compared[&Kind::Users],
        vec!["alice@acme.com".to_owned()]
    );
    assert_eq!(
        report.pair.secondary.host,
        "https://acme-dr.cloud.databricks.com"
    );
    assert_eq!(report.pair.secondary_role, Role::Passive);
    assert_eq!(report.schema_version, SCHEMA_VERSION);
}

#[test]
fn missing_and_extra_objects() {
    let p = primary(vec![(
        Kind::Users,
        vec![
            rec("alice@acme.com", user("alice@acme.com", "Alice")),
            rec("grace.chen@acme.com", user("grace.chen@acme.com", "Grace")),
        ],
    )]);
    let s = secondary(vec![(
        Kind::Users,
        vec![
            rec("alice@acme.com", user("alice@acme.com", "Alice")),
            rec("ivan.petrov@acme.com", user("ivan.petrov@acme.com", "Ivan")),
        ],
    )]);
    let report = diff(&p, &s, &active());
    // Errors before warnings.
    assert_eq!(
        ids(&report),
        vec![
            "missing/users/grace.chen@acme.com",
            "extra/users/ivan.petrov@acme.com"
        ]
    );
    assert_eq!(report.findings[0].severity, Severity::Error);
    assert_eq!(report.findings[1].severity, Severity::Warning);
    assert!(report.findings[0].hint.is_some());
    let summary = &report.summary[&Kind::Users];
    assert_eq!(summary.compared, 3);
    assert_eq!(summary.findings[&FindingClass::Missing], 1);
    assert_eq!(summary.findings[&FindingClass::Extra], 1);
    assert_eq!(
        report.compared[&Kind::Users],
        vec![
            "alice@acme.com",
            "grace.chen@acme.com",
            "ivan.petrov@acme.com"
        ]
    );
    assert!(report.has_drift());
}

#[test]
fn changed_objects_have_field_paths_by_task_key() {
    let p = primary(vec![(
        Kind::Jobs,
        vec![rec(
            "daily-sales-etl",
            job("daily-sales-etl", 1, "UNPAUSED", "/Production/etl/ingest"),
        )],
    )]);
    let s = secondary(vec![(
        Kind::Jobs,
        vec![rec(
            "daily-sales-etl",
            job(
                "daily-sales-etl",
                1,
                "UNPAUSED",
                "/Production/etl/ingest_v2",
            ),
        )],
    )]);
    let report = diff(&p, &s, &active());
    assert_eq!(ids(&report), vec!["changed/jobs/daily-sales-etl"]);
    let f = &report.findings[0];
    assert_eq!(f.severity, Severity::Warning);
    assert_eq!(f.fields.len(), 1);
    assert_eq!(
        f.fields[0].path,
        "settings.tasks[ingest].notebook_task.notebook_path"
    );
    assert_eq!(f.fields[0].primary, Some(json!("/Production/etl/ingest")));
    assert_eq!(
        f.fields[0].secondary,
        Some(json!("/Production/etl/ingest_v2"))
    );
    assert_eq!(
        f.message,
        "`settings.tasks[ingest].notebook_task.notebook_path` differs"
    );
}

#[test]
fn passive_values_are_expected_and_active_values_are_violations() {
    let p = primary(vec![
        (
            Kind::Jobs,
            vec![
                rec(
                    "daily-sales-etl",
                    job("daily-sales-etl", 3, "UNPAUSED", "/Production/etl/ingest"),
                ),
                rec(
                    "hourly-clickstream-ingest",
                    job(
                        "hourly-clickstream-ingest",
                        1,
                        "UNPAUSED",
                        "/Production/etl/ingest",
                    ),
                ),
            ],
        ),
        (
            Kind::InstancePools,
            vec![rec(
                "etl-pool-m5d",
                json!({"instance_pool_name": "etl-pool-m5d", "min_idle_instances": 2, "node_type_id": "m5d.xlarge"}),
            )],
        ),
        (
            Kind::Clusters,
            vec![rec(
                "shared-analytics",
                json!({"cluster_name": "shared-analytics", "state": "RUNNING", "num_workers": 2}),
            )],
        ),
        (
            Kind::SqlWarehouses,
            vec![rec(
                "Analytics SQL",
                json!({"name": "Analytics SQL", "state": "RUNNING", "cluster_size": "Small"}),
            )],
        ),
    ]);
    let s = secondary(vec![
        (
            Kind::Jobs,
            vec![
                // A correct passive copy: concurrency 0, paused.
                rec(
                    "daily-sales-etl",
                    job("daily-sales-etl", 0, "PAUSED", "/Production/etl/ingest"),
                ),
                // Not passive at all.
                rec(
                    "hourly-clickstream-ingest",
                    job(
                        "hourly-clickstream-ingest",
                        1,
                        "UNPAUSED",
                        "/Production/etl/ingest",
                    ),
                ),
            ],
        ),
        (
            Kind::InstancePools,
            vec![rec(
                "etl-pool-m5d",
                json!({"instance_pool_name": "etl-pool-m5d", "min_idle_instances": 2, "node_type_id": "m5d.xlarge"}),
            )],
        ),
        (
            Kind::Clusters,
            vec![rec(
                "shared-analytics",
                json!({"cluster_name": "shared-analytics", "state": "TERMINATED", "num_workers": 2}),
            )],
        ),
        (
            Kind::SqlWarehouses,
            vec![rec(
                "Analytics SQL",
                json!({"name": "Analytics SQL", "state": "RUNNING", "cluster_size": "Small"}),
            )],
        ),
    ]);
    let report = diff(&p, &s, &Rules::default());
    assert_eq!(
        ids(&report),
        vec![
            "passive_violation/jobs/hourly-clickstream-ingest",
            "passive_violation/jobs/hourly-clickstream-ingest#2",
            "passive_violation/instance_pools/etl-pool-m5d",
            "passive_violation/sql_warehouses/Analytics SQL",
        ]
    );
    let f = &report.findings[0];
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(f.rule.as_deref(), Some("passive.jobs.max_concurrent_runs"));
    assert_eq!(f.fields[0].path, "settings.max_concurrent_runs");
    assert_eq!(f.fields[0].primary, Some(json!(1)));
    assert_eq!(f.fields[0].secondary, Some(json!(1)));
    assert!(
        f.hint
            .as_deref()
            .unwrap_or_default()
            .contains("max_concurrent_runs")
    );
    assert_eq!(
        report.findings[1].rule.as_deref(),
        Some("passive.jobs.schedule.pause_status")
    );
    assert_eq!(
        report.findings[1].fields[0].secondary,
        Some(json!("UNPAUSED"))
    );
    assert_eq!(
        report.findings[1].message,
        "`settings.schedule.pause_status` is `UNPAUSED` in a passive secondary (expected `PAUSED`)"
    );
    assert_eq!(
        report.findings[2].rule.as_deref(),
        Some("passive.instance_pools.min_idle_instances")
    );
    assert_eq!(
        report.findings[3].rule.as_deref(),
        Some("passive.sql_warehouses.state")
    );

    // An active secondary: no passive rules, plain comparison.
    let report = diff(&p, &s, &active());
    assert_eq!(
        ids(&report),
        vec![
            "changed/jobs/daily-sales-etl",
            "changed/clusters/shared-analytics"
        ]
    );
    let paths: Vec<&str> = report.findings[0]
        .fields
        .iter()
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(
        paths,
        vec![
            "settings.max_concurrent_runs",
            "settings.schedule.pause_status"
        ]
    );
}

#[test]
fn passive_stripping_keeps_other_differences() {
    let p = primary(vec![(
        Kind::Jobs,
        vec![rec("etl", job("etl", 3, "UNPAUSED", "/a"))],
    )]);
    let s = secondary(vec![(
        Kind::Jobs,
        vec![rec("etl", job("etl", 0, "PAUSED", "/b"))],
    )]);
    let report = diff(&p, &s, &Rules::default());
    assert_eq!(ids(&report), vec!["changed/jobs/etl"]);
    let paths: Vec<&str> = report.findings[0]
        .fields
        .iter()
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(
        paths,
        vec!["settings.tasks[ingest].notebook_task.notebook_path"]
    );
}

#[test]
fn held_job_acls() {
    let acl = |direct: Value| {
        json!({"object": "jobs", "direct": direct,
               "inherited": [{"principal_type": "group", "principal": "admins", "permission_level": "CAN_MANAGE", "inherited_from": ["jobs:/"]}]})
    };
    let owner = json!({"principal_type": "service_principal", "principal": "6f1c2d3e-8a4b-4c5d-9e0f-1a2b3c4d5e6f", "permission_level": "IS_OWNER"});
    let grant = json!({"principal_type": "group", "principal": "data-eng", "permission_level": "CAN_MANAGE_RUN"});
    let p = primary(vec![(
        Kind::Permissions,
        vec![
            rec("jobs:daily-sales-etl", acl(json!([owner, grant]))),
            rec("jobs:ml-churn-training", acl(json!([owner, grant]))),
            rec(
                "notebooks:/Production/etl/ingest",
                json!({"object": "notebooks", "direct": [grant]}),
            ),
        ],
    )]);
    let s = secondary(vec![(
        Kind::Permissions,
        vec![
            // Held back correctly: only the owner.
            rec("jobs:daily-sales-etl", acl(json!([owner]))),
            // Applied too early.
            rec("jobs:weekly-maintenance", acl(json!([owner, grant]))),
        ],
    )]);
    let mut rules = Rules::default();
    rules.passive.hold_job_acls = true;
    let report = diff(&p, &s, &rules);
    assert_eq!(
        ids(&report),
        vec![
            "passive_violation/permissions/jobs:weekly-maintenance",
            "missing/permissions/notebooks:/Production/etl/ingest",
        ]
    );
    let f = &report.findings[0];
    assert_eq!(f.rule.as_deref(), Some("passive.permissions.hold_job_acls"));
    assert_eq!(f.fields.len(), 1);
    assert_eq!(f.fields[0].path, "direct[data-eng]");

    // Without the rule, job ACLs are compared like any other object.
    let report = diff(&p, &s, &Rules::default());
    assert_eq!(
        ids(&report),
        vec![
            "missing/permissions/jobs:ml-churn-training",
            "missing/permissions/notebooks:/Production/etl/ingest",
            "changed/permissions/jobs:daily-sales-etl",
            "extra/permissions/jobs:weekly-maintenance",
        ]
    );
    assert_eq!(report.findings[2].fields[0].path, "direct[data-eng]");
}

#[test]
fn dangling_references() {
    let refs = vec![
        named(
            "settings.tasks[publish].notebook_task.notebook_path",
            Kind::WorkspaceObjects,
            "/Production/etl/publish_sales",
        ),
        named(
            "settings.tasks[ingest].notebook_task.notebook_path",
            Kind::WorkspaceObjects,
            "/Production/etl/ingest",
        ),
        named(
            "settings.job_clusters[etl].new_cluster.instance_pool",
            Kind::InstancePools,
            "etl-pool-m5d",
        ),
    ];
    let content = job("daily-sales-etl", 0, "PAUSED", "/Production/etl/ingest");
    let notebook = |path: &str| {
        rec(
            path,
            json!({"path": path, "object_type": "NOTEBOOK", "language": "PYTHON"}),
        )
    };
    let p = primary(vec![
        (
            Kind::Jobs,
            vec![rec_refs("daily-sales-etl", content.clone(), refs.clone())],
        ),
        (
            Kind::WorkspaceObjects,
            vec![
                notebook("/Production/etl/ingest"),
                notebook("/Production/etl/publish_sales"),
            ],
        ),
    ]);
    // The secondary lacks the publish notebook; pools were not captured at all.
    let s = secondary(vec![
        (
            Kind::Jobs,
            vec![rec_refs("daily-sales-etl", content.clone(), refs.clone())],
        ),
        (
            Kind::WorkspaceObjects,
            vec![notebook("/Production/etl/ingest")],
        ),
    ]);
    let rules = Rules {
        kinds: Some(vec![Kind::Jobs]),
        ..Rules::default()
    };
    let report = diff(&p, &s, &rules);
    assert_eq!(
        ids(&report),
        vec!["dangling_reference/jobs/daily-sales-etl"]
    );
    let f = &report.findings[0];
    assert_eq!(f.severity, Severity::Error);
    assert_eq!(f.fields.len(), 1);
    assert_eq!(
        f.fields[0].path,
        "settings.tasks[publish].notebook_task.notebook_path"
    );
    assert_eq!(
        f.fields[0].secondary,
        Some(json!({"kind": "workspace_objects", "key": "/Production/etl/publish_sales"}))
    );
    assert!(
        f.message.contains("/Production/etl/publish_sales"),
        "{}",
        f.message
    );

    // An id the capture could not resolve always dangles; an incomplete
    // target kind is not judged.
    let unresolved = Reference {
        field: "settings.tasks[ingest].existing_cluster".into(),
        kind: Kind::Clusters,
        key: None,
        unresolved_id: Some("0923-164208-meows279".into()),
    };
    let mut s = secondary(vec![
        (
            Kind::Jobs,
            vec![rec_refs(
                "daily-sales-etl",
                content.clone(),
                vec![unresolved, refs[0].clone()],
            )],
        ),
        (
            Kind::WorkspaceObjects,
            vec![notebook("/Production/etl/ingest")],
        ),
    ]);
    let report = diff(&p, &s, &rules);
    assert_eq!(report.findings.len(), 1);
    let paths: Vec<&str> = report.findings[0]
        .fields
        .iter()
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(
        paths,
        vec![
            "settings.tasks[ingest].existing_cluster",
            "settings.tasks[publish].notebook_task.notebook_path"
        ]
    );
    s.kinds.get_mut(&Kind::WorkspaceObjects).unwrap().status = Status::Incomplete {
        reason: Incomplete {
            http_status: Some(429),
            error_code: None,
            message: "rate limited".into(),
        },
    };
    let report = diff(&p, &s, &rules);
    assert_eq!(report.findings.len(), 1);
    assert_eq!(report.findings[0].fields.len(), 1);
    assert_eq!(
        report.findings[0].fields[0].path,
        "settings.tasks[ingest].existing_cluster"
    );
}

fn rewrite() -> Rewrite {
    Rewrite {
        primary: "s3://acme-prod-use1/".into(),
        secondary: "s3://acme-dr-usw2/".into(),
        origin: "standby.toml:14".into(),
    }
}

fn table(name: &str, location: &str) -> Value {
    json!({"name": name, "catalog_name": "main", "schema_name": "sales", "table_type": "EXTERNAL",
           "data_source_format": "DELTA", "storage_location": location, "owner": "data-eng",
           "columns": [{"name": "order_id", "type_text": "bigint", "type_name": "LONG", "position": 0}]})
}

#[test]
fn rewrites_and_storage_left_at_the_primary() {
    let p = primary(vec![(
        Kind::Tables,
        vec![
            rec(
                "main.sales.orders",
                table("orders", "s3://acme-prod-use1/sales/orders"),
            ),
            rec(
                "main.sales.orders_landing",
                table("orders_landing", "s3://acme-prod-use1/landing/orders"),
            ),
        ],
    )]);
    let s = secondary(vec![(
        Kind::Tables,
        vec![
            rec(
                "main.sales.orders",
                table("orders", "s3://acme-dr-usw2/sales/orders"),
            ),
            rec(
                "main.sales.orders_landing",
                table("orders_landing", "s3://acme-prod-use1/landing/orders"),
            ),
        ],
    )]);
    // Without the rewrite, both tables differ.
    let report = diff(&p, &s, &active());
    assert_eq!(ids(&report), vec!["changed/tables/main.sales.orders"]);

    let rules = Rules {
        rewrites: vec![rewrite()],
        ..active()
    };
    let report = diff(&p, &s, &rules);
    assert_eq!(
        ids(&report),
        vec!["dangling_reference/tables/main.sales.orders_landing"]
    );
    let f = &report.findings[0];
    assert_eq!(f.rule.as_deref(), Some("rewrite[0]"));
    assert_eq!(
        f.message,
        "`storage_location` still points at the primary region (`s3://acme-prod-use1/`)"
    );
    assert_eq!(
        f.fields[0].secondary,
        Some(json!("s3://acme-prod-use1/landing/orders"))
    );
    assert!(
        f.hint
            .as_deref()
            .unwrap_or_default()
            .contains("s3://acme-dr-usw2/landing/orders")
    );
}

#[test]
fn single_region_principals_are_not_drift() {
    let group = |members: Value| json!({"displayName": "data-eng", "members": members});
    let m = |key: &str| json!({"type": "user", "key": key});
    let p = primary(vec![
        (
            Kind::Users,
            vec![
                rec("alice@acme.com", user("alice@acme.com", "Alice")),
                rec(
                    "oncall-use1@acme.com",
                    user("oncall-use1@acme.com", "On-call east"),
                ),
            ],
        ),
        (
            Kind::Groups,
            vec![rec(
                "data-eng",
                group(json!([m("alice@acme.com"), m("oncall-use1@acme.com")])),
            )],
        ),
    ]);
    let s = secondary(vec![
        (
            Kind::Users,
            vec![
                rec("alice@acme.com", user("alice@acme.com", "Alice")),
                rec(
                    "oncall-usw2@acme.com",
                    user("oncall-usw2@acme.com", "On-call west"),
                ),
            ],
        ),
        (
            Kind::Groups,
            vec![rec(
                "data-eng",
                group(json!([m("alice@acme.com"), m("oncall-usw2@acme.com")])),
            )],
        ),
    ]);
    let report = diff(&p, &s, &active());
    assert_eq!(report.findings.len(), 3, "{:#?}", report.findings);
    let rules = Rules {
        single_region_principals: vec![
            SingleRegionPrincipal {
                name: "oncall-use1@*".into(),
                side: Side::Primary,
                origin: "standby.toml:20".into(),
            },
            SingleRegionPrincipal {
                name: "oncall-usw2@*".into(),
                side: Side::Secondary,
                origin: "standby.toml:21".into(),
            },
        ],
        ..active()
    };
    let report = diff(&p, &s, &rules);
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
}

#[test]
fn duplicate_keys_are_reported_per_side_and_not_compared() {
    let p = primary(vec![(
        Kind::Jobs,
        vec![
            rec("etl", job("etl", 0, "PAUSED", "/a")),
            rec("etl", job("etl", 0, "PAUSED", "/b")),
            rec("report", job("report", 0, "PAUSED", "/c")),
        ],
    )]);
    let s = secondary(vec![(
        Kind::Jobs,
        vec![
            rec("etl", job("etl", 0, "PAUSED", "/c")),
            rec("report", job("report", 0, "PAUSED", "/x")),
            rec("report", job("report", 0, "PAUSED", "/y")),
        ],
    )]);
    let report = diff(&p, &s, &Rules::default());
    assert_eq!(
        ids(&report),
        vec!["duplicate_key/jobs/etl", "duplicate_key/jobs/report"]
    );
    assert_eq!(report.findings[0].rule.as_deref(), Some("primary"));
    assert_eq!(report.findings[1].rule.as_deref(), Some("secondary"));
    assert_eq!(report.summary[&Kind::Jobs].compared, 2);
}

#[test]
fn incomplete_or_one_sided_kinds_are_unknown() {
    let p = primary(vec![
        (
            Kind::Users,
            vec![rec("alice@acme.com", user("alice@acme.com", "Alice"))],
        ),
        (Kind::Jobs, vec![rec("etl", job("etl", 0, "PAUSED", "/a"))]),
    ]);
    let mut s = secondary(vec![(Kind::Users, vec![])]);
    s.kinds.get_mut(&Kind::Users).unwrap().status = Status::Incomplete {
        reason: Incomplete {
            http_status: Some(403),
            error_code: Some("PERMISSION_DENIED".into()),
            message: "user is not an admin".into(),
        },
    };
    let report = diff(&p, &s, &Rules::default());
    assert_eq!(ids(&report), vec!["unknown/users/*", "unknown/jobs/*"]);
    assert_eq!(
        report.findings[0].message,
        "`users` is incomplete in the secondary: user is not an admin (`PERMISSION_DENIED`)"
    );
    assert_eq!(
        report.findings[1].message,
        "`jobs` was not captured in the secondary"
    );
    assert_eq!(report.summary[&Kind::Users].status, KindStatus::Unknown);
    assert_eq!(report.summary[&Kind::Jobs].status, KindStatus::Unknown);
    assert!(report.has_unknown());
    // Unknown is not drift (the exit code says the check could not be done).
    assert!(!report.has_drift());
}

#[test]
fn ignores_drop_findings_or_fields() {
    let p = primary(vec![(
        Kind::Clusters,
        vec![
            rec(
                "ml-gpu-dev",
                json!({"cluster_name": "ml-gpu-dev", "num_workers": 1, "aws_attributes": {"zone_id": "us-east-1a"}}),
            ),
            rec("scratch-1", json!({"cluster_name": "scratch-1"})),
        ],
    )]);
    let s = secondary(vec![(
        Kind::Clusters,
        vec![rec(
            "ml-gpu-dev",
            json!({"cluster_name": "ml-gpu-dev", "num_workers": 1, "aws_attributes": {"zone_id": "us-west-2a"}}),
        )],
    )]);
    let ignore = |key: &str, field: Option<&str>| Ignore {
        kind: Some(Kind::Clusters),
        key: key.into(),
        field: field.map(Into::into),
        reason: "region-specific".into(),
        origin: "standby.toml:30".into(),
    };
    let rules = Rules {
        ignores: vec![
            ignore("scratch-*", None),
            ignore("*", Some("aws_attributes.zone_id")),
        ],
        ..Rules::default()
    };
    let report = diff(&p, &s, &rules);
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    assert!(unmatched_ignores(&rules, &p, &s).is_empty());
    let typo = Rules {
        ignores: vec![ignore("scratch_*", None)],
        ..Rules::default()
    };
    assert_eq!(unmatched_ignores(&typo, &p, &s), vec![&typo.ignores[0]]);
}

#[test]
fn replication_lag_against_the_rpo() {
    let hour = 3_600_000;
    let nb = |path: &str| json!({"path": path, "object_type": "NOTEBOOK", "language": "SQL"});
    let p = primary(vec![(
        Kind::WorkspaceObjects,
        vec![
            rec_at("/Production/a", nb("/Production/a"), T0 - hour),
            rec_at("/Production/b", nb("/Production/b"), T0 - 30 * 60_000),
            rec_at("/Production/new", nb("/Production/new"), T0 - 5 * 60_000),
        ],
    )]);
    let s = secondary(vec![(
        Kind::WorkspaceObjects,
        vec![
            rec_at("/Production/a", nb("/Production/a"), T0 - 3 * hour),
            rec_at("/Production/b", nb("/Production/b"), T0 - 10 * 60_000),
        ],
    )]);
    let rules = Rules {
        rpo_secs: Some(4 * 3600),
        ..active()
    };
    let report = diff(&p, &s, &rules);
    assert_eq!(
        ids(&report),
        vec!["missing/workspace_objects//Production/new"]
    );
    assert_eq!(
        report.lag,
        Some(Lag {
            max_lag_ms: 2 * hour,
            worst: Some((Kind::WorkspaceObjects, "/Production/a".into())),
            within_rpo: Some(true),
        })
    );
    let rules = Rules {
        rpo_secs: Some(3600),
        ..active()
    };
    let report = diff(&p, &s, &rules);
    assert_eq!(
        ids(&report),
        vec![
            "replication_lag/workspace_objects//Production/a",
            "missing/workspace_objects//Production/new"
        ]
    );
    let f = &report.findings[0];
    assert_eq!(f.fields[0].primary, Some(json!(T0 - hour)));
    assert!(f.message.contains("by 2h 0m (RPO 1h 0m)"), "{}", f.message);
    assert_eq!(report.lag.as_ref().and_then(|l| l.within_rpo), Some(false));
}

#[test]
fn baseline_accepts_known_drift_and_fails_on_changes() {
    let p = primary(vec![(
        Kind::Clusters,
        vec![
            rec("a", json!({"cluster_name": "a", "num_workers": 2})),
            rec("b", json!({"cluster_name": "b", "num_workers": 2})),
        ],
    )]);
    let s = secondary(vec![(
        Kind::Clusters,
        vec![rec("a", json!({"cluster_name": "a", "num_workers": 3}))],
    )]);
    let report = diff(&p, &s, &active());
    assert!(report.has_drift());
    let baseline = Baseline::from_report(&report);
    assert_eq!(baseline.len(), 2);

    // Through the file.
    let mut bytes = Vec::new();
    baseline.write(&mut bytes).unwrap();
    let baseline = Baseline::from_slice(Path::new("standby-baseline.json"), &bytes).unwrap();

    let mut again = diff(&p, &s, &active());
    baseline.apply(&mut again);
    assert!(!again.has_drift());
    assert!(again.findings.iter().all(|f| f.baselined));
    assert_eq!(again.summary[&Kind::Clusters].baselined, 2);

    // Same object, different drift: fails again; the rest stays accepted.
    let s2 = secondary(vec![(
        Kind::Clusters,
        vec![rec("a", json!({"cluster_name": "a", "num_workers": 4}))],
    )]);
    let mut changed = diff(&p, &s2, &active());
    baseline.apply(&mut changed);
    assert!(changed.has_drift());
    let failing: Vec<&str> = changed
        .findings
        .iter()
        .filter(|f| !f.baselined)
        .map(|f| f.id.as_str())
        .collect();
    assert_eq!(failing, vec!["changed/clusters/a"]);
    assert_eq!(changed.summary[&Kind::Clusters].baselined, 1);
}

// ---- laws ----

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<bool>().prop_map(Value::from),
        (0i64..4).prop_map(Value::from),
        "[a-c]{0,3}".prop_map(Value::from),
        "[a-c]{0,2}".prop_map(|s| Value::from(format!("s3://prod/{s}"))),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map("[a-d]", inner.clone(), 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            // Arrays of objects with an identifying field.
            proptest::collection::btree_map("[a-d]", inner, 0..3).prop_map(|m| {
                Value::Array(
                    m.into_iter()
                        .map(|(name, v)| json!({"name": name, "v": v}))
                        .collect(),
                )
            }),
        ]
    })
}

fn content() -> impl Strategy<Value = Value> {
    proptest::collection::btree_map("[a-e]", value(), 1..4)
        .prop_map(|m| Value::Object(m.into_iter().collect()))
}

/// Two kinds' worth of `(key, content)` with unique keys.
fn side() -> impl Strategy<Value = BTreeMap<(Kind, String), Value>> {
    proptest::collection::btree_map(
        (
            prop_oneof![Just(Kind::Users), Just(Kind::WorkspaceObjects)],
            "[a-f]{1,2}",
        ),
        content(),
        0..10,
    )
}

/// Gives some records modification times in a narrow range, so lags tie.
fn with_times(snapshot: &mut Snapshot, seed: u64) {
    for (n, r) in snapshot
        .kinds
        .values_mut()
        .flat_map(|k| k.records.iter_mut())
        .enumerate()
    {
        let x = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(n as u64)
            >> 33;
        r.modified_at = (x % 3 != 0).then_some(T0 + (x % 4) as i64 * 1000);
    }
}

fn build(host: &str, objects: &BTreeMap<(Kind, String), Value>) -> Snapshot {
    let mut kinds: BTreeMap<Kind, Vec<Record>> = [
        (Kind::Users, Vec::new()),
        (Kind::WorkspaceObjects, Vec::new()),
    ]
    .into();
    for ((kind, key), content) in objects {
        kinds
            .entry(*kind)
            .or_default()
            .push(rec(key, content.clone()));
    }
    snapshot(host, T0, kinds.into_iter().collect())
}

/// What the mirror law compares of a finding: class, kind, key and
/// `(path, primary, secondary)` of each field.
type Seen = (
    FindingClass,
    Kind,
    String,
    Vec<(String, Option<Value>, Option<Value>)>,
);

/// A finding seen from the other side: missing ↔ extra, values swapped.
fn mirrored(f: &Finding) -> Seen {
    let class = match f.class {
        FindingClass::Missing => FindingClass::Extra,
        FindingClass::Extra => FindingClass::Missing,
        other => other,
    };
    let fields = f
        .fields
        .iter()
        .map(|d| (d.path.clone(), d.secondary.clone(), d.primary.clone()))
        .collect();
    (class, f.kind, f.key.clone(), fields)
}

fn plain(f: &Finding) -> Seen {
    let fields = f
        .fields
        .iter()
        .map(|d| (d.path.clone(), d.primary.clone(), d.secondary.clone()))
        .collect();
    (f.class, f.kind, f.key.clone(), fields)
}

proptest! {
    #[test]
    fn diff_of_a_snapshot_with_itself_is_empty(a in side()) {
        let s = build("a", &a);
        let report = diff(&s, &s, &Rules::default());
        prop_assert!(report.findings.is_empty(), "{:#?}", report.findings);
    }

    #[test]
    fn diff_mirrors_when_sides_swap(a in side(), b in side()) {
        let (sa, sb) = (build("a", &a), build("b", &b));
        let ab = diff(&sa, &sb, &active());
        let ba = diff(&sb, &sa, &active());
        let mut left: Vec<_> = ab.findings.iter().map(mirrored).collect();
        let mut right: Vec<_> = ba.findings.iter().map(plain).collect();
        left.sort_by(|x, y| format!("{x:?}").cmp(&format!("{y:?}")));
        right.sort_by(|x, y| format!("{x:?}").cmp(&format!("{y:?}")));
        prop_assert_eq!(left, right);
        prop_assert_eq!(ab.compared, ba.compared);
    }

    #[test]
    fn rewrites_applied_both_ways_are_an_identity(a in side()) {
        let rw = Rewriter::new(&[Rewrite {
            primary: "s3://prod/".into(),
            secondary: "s3://dr/".into(),
            origin: "standby.toml:1".into(),
        }]);
        let b: BTreeMap<_, _> = a
            .iter()
            .map(|(k, v)| {
                let mut v = v.clone();
                rw.rewrite_value(&mut v);
                (k.clone(), v)
            })
            .collect();
        let forward = Rules {
            rewrites: vec![Rewrite { primary: "s3://prod/".into(), secondary: "s3://dr/".into(), origin: "f".into() }],
            ..active()
        };
        let backward = Rules {
            rewrites: vec![Rewrite { primary: "s3://dr/".into(), secondary: "s3://prod/".into(), origin: "b".into() }],
            ..active()
        };
        let (sa, sb) = (build("a", &a), build("b", &b));
        prop_assert!(diff(&sa, &sb, &forward).findings.is_empty());
        prop_assert!(diff(&sb, &sa, &backward).findings.is_empty());
    }

    #[test]
    fn record_order_does_not_matter(
        a in side(),
        b in side(),
        dup in content(),
        seed in any::<u64>(),
    ) {
        let mut sa = build("a", &a);
        let mut sb = build("b", &b);
        // A duplicate key on one side, so the sorted order of duplicates matters too.
        if let Some(users) = sb.kinds.get_mut(&Kind::Users) {
            if let Some(first) = users.records.first() {
                let key = first.key.clone();
                let mut records = std::mem::take(&mut users.records);
                records.push(rec(&key, dup));
                *users = KindSnapshot::new(Status::Complete, records);
            }
        }
        with_times(&mut sa, seed);
        with_times(&mut sb, seed ^ 0x9e37);
        let rules = Rules { rpo_secs: Some(1), ..Rules::default() };
        let sorted = diff(&sa, &sb, &rules);
        // Shuffle every kind's records (a file written by something else);
        // the duplicate flags are cleared too, as such a file might lack them.
        let mut state = seed | 1;
        for snapshot in [&mut sa, &mut sb] {
            for section in snapshot.kinds.values_mut() {
                for i in (1..section.records.len()).rev() {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    let j = usize::try_from(state % (i as u64 + 1)).unwrap();
                    section.records.swap(i, j);
                }
                for r in &mut section.records {
                    r.duplicate = false;
                }
            }
        }
        let shuffled = diff(&sa, &sb, &rules);
        prop_assert_eq!(sorted, shuffled);
    }
}

#[test]
fn large_pairs_find_exactly_the_planted_drift() {
    // Enough records for the two-thread paths (sorting and the prefilter).
    let n = 30_000;
    let nb = |i: usize, lang: &str| {
        rec_at(
            &format!("/Production/nb{i:06}"),
            json!({"path": format!("/Production/nb{i:06}"), "object_type": "NOTEBOOK", "language": lang}),
            T0 - 1000,
        )
    };
    let p: Vec<Record> = (0..n)
        .filter(|i| i % 1000 != 7)
        .map(|i| nb(i, "PYTHON"))
        .collect();
    let s: Vec<Record> = (0..n)
        .filter(|i| i % 1000 != 3)
        .map(|i| nb(i, if i % 500 == 0 { "SQL" } else { "PYTHON" }))
        .collect();
    let p = primary(vec![(Kind::WorkspaceObjects, p)]);
    let mut s = secondary(vec![(Kind::WorkspaceObjects, s)]);
    let report = diff(&p, &s, &Rules::default());
    let count = |class| {
        report.summary[&Kind::WorkspaceObjects]
            .findings
            .get(&class)
            .copied()
    };
    assert_eq!(count(FindingClass::Missing), Some(30));
    assert_eq!(count(FindingClass::Extra), Some(30));
    assert_eq!(count(FindingClass::Changed), Some(60));
    assert_eq!(report.findings.len(), 120);
    assert_eq!(report.summary[&Kind::WorkspaceObjects].compared, n);
    assert_eq!(
        report.findings[0].id,
        "missing/workspace_objects//Production/nb000003"
    );
    // Reversed order in the secondary's file: the same report.
    s.kinds
        .get_mut(&Kind::WorkspaceObjects)
        .unwrap()
        .records
        .reverse();
    assert_eq!(diff(&p, &s, &Rules::default()), report);
}

#[test]
fn configured_kinds_missing_from_both_snapshots_are_unknown() {
    let p = primary(vec![]);
    let s = secondary(vec![]);
    let rules = Rules {
        kinds: Some(vec![Kind::Repos]),
        ..Rules::default()
    };
    let report = diff(&p, &s, &rules);
    assert_eq!(ids(&report), vec!["unknown/repos/*"]);
    assert_eq!(
        report.findings[0].message,
        "`repos` was not captured in the primary; `repos` was not captured in the secondary"
    );
    assert!(diff(&p, &s, &Rules::default()).summary.is_empty());
}
