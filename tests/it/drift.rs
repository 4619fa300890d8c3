//! The shipped drifted pair through snapshot → diff → every report format.

use standby::config;
use standby::diff::{self, DriftReport};
use standby::mock::FaultConfig;
use standby::report::{self, Format, RenderOptions};
use standby::snapshot::{self, Snapshot};

use crate::e2e::{capture_all, fixture_path, start_mock};

pub async fn drift_of_fixture_pair() -> DriftReport {
    let primary = start_mock("primary.json", FaultConfig::default()).await;
    let secondary = start_mock("secondary.json", FaultConfig::default()).await;
    let (pu, su) = (primary.url(), secondary.url());
    let (mut a, mut b) = tokio::join!(capture_all(&pu, 2), capture_all(&su, 2));
    // Lag is measured from capture time; pin it to the fixtures' clock so
    // the report does not change with the day the test runs.
    for snap in [&mut a, &mut b] {
        snap.metadata.captured_at_ms = standby::mock::DEFAULT_START_MS;
    }
    // Parsed under its repository path: rule origins appear in reports, and an
    // absolute path would differ between checkouts.
    let text = std::fs::read_to_string(fixture_path("standby.toml")).unwrap();
    let config = config::parse(std::path::Path::new("fixtures/standby.toml"), &text)
        .expect("shipped config");
    let (pair, dr) = config.select(None).unwrap();
    let rules = config.rules_for(pair, dr);
    assert!(diff::unmatched_ignores(&rules, &a, &b).is_empty());
    let mut report = diff::diff(&a, &b, &rules);
    // `standby diff` reads files into records borrowed from their bytes: the
    // same report.
    let (a_bytes, b_bytes) = (file_bytes(&a), file_bytes(&b));
    let a_ref = snapshot::parse_snapshot(std::path::Path::new("a.json"), &a_bytes).unwrap();
    let b_ref = snapshot::parse_snapshot(std::path::Path::new("b.json"), &b_bytes).unwrap();
    assert_eq!(diff::diff(&a_ref, &b_ref, &rules), report);
    // Hosts are the mocks' random ports; capture times are now.
    for side in [&mut report.pair.primary, &mut report.pair.secondary] {
        side.host = "http://127.0.0.1:PORT".into();
        side.captured_at = "2026-01-01T00:00:00Z".into();
        side.captured_at_ms = 0;
    }
    report
}

fn file_bytes(snapshot: &Snapshot) -> Vec<u8> {
    let mut out = Vec::new();
    snapshot::write_snapshot(snapshot, &mut out).unwrap();
    out
}

pub fn render(report: &DriftReport, format: Format) -> String {
    let mut out = Vec::new();
    report::render(format, report, &RenderOptions::default(), &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// The planted drifts of fixtures/README.md and the findings that follow from them.
const EXPECTED: &[(&str, &str, &str)] = &[
    ("passive_violation", "instance_pools", "etl-pool-m5d"),
    ("passive_violation", "jobs", "hourly-clickstream-ingest"),
    ("passive_violation", "jobs", "hourly-clickstream-ingest"),
    ("dangling_reference", "jobs", "daily-sales-etl"),
    ("dangling_reference", "tables", "main.sales.orders_landing"),
    ("dangling_reference", "jobs", "partner-feed-export"),
    (
        "missing",
        "workspace_objects",
        "/Production/etl/publish_sales",
    ),
    ("missing", "permissions", "jobs:ml-churn-training"),
    ("missing", "jobs", "ml-churn-training"),
    (
        "missing",
        "permissions",
        "notebooks:/Production/etl/publish_sales",
    ),
    ("missing", "secret_scopes", "partner-sftp"),
    ("missing", "secret_acls", "partner-sftp/admins"),
    ("missing", "secret_acls", "partner-sftp/data-eng"),
    ("missing", "secrets", "partner-sftp/sftp-password"),
    ("missing", "secrets", "partner-sftp/sftp-user"),
    ("replication_lag", "secrets", "partner-sftp/sftp-password"),
    ("changed", "groups", "data-eng"),
    (
        "changed",
        "permissions",
        "notebooks:/Production/reporting/finance_rollup",
    ),
    ("changed", "groups", "users"),
    ("extra", "users", "ivan.petrov@acme.com"),
];

#[tokio::test]
async fn the_drifted_pair_shows_exactly_the_planted_drift() {
    let report = drift_of_fixture_pair().await;
    let mut found: Vec<(String, String, String)> = report
        .findings
        .iter()
        .map(|f| (f.class.name().to_owned(), f.kind.to_string(), f.key.clone()))
        .collect();
    let mut expected: Vec<(String, String, String)> = EXPECTED
        .iter()
        .map(|(c, k, key)| (c.to_string(), k.to_string(), key.to_string()))
        .collect();
    found.sort();
    expected.sort();
    assert_eq!(found, expected);
    assert!(!report.has_unknown());
    let missing_member = report
        .findings
        .iter()
        .find(|f| f.key == "data-eng")
        .unwrap();
    assert!(
        format!("{:?}", missing_member.fields).contains("grace.chen@acme.com"),
        "{missing_member:?}"
    );
    let table = report
        .findings
        .iter()
        .find(|f| f.key == "main.sales.orders_landing")
        .unwrap();
    assert!(
        table.message.contains("primary region"),
        "{}",
        table.message
    );
}

#[tokio::test]
async fn every_report_format_of_the_drifted_pair() {
    let report = drift_of_fixture_pair().await;
    insta::with_settings!({ snapshot_path => "../../snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("drift_pair_text", render(&report, Format::Text));
        insta::assert_snapshot!("drift_pair_markdown", render(&report, Format::Markdown));
        insta::assert_snapshot!("drift_pair_json", render(&report, Format::Json));
        insta::assert_snapshot!("drift_pair_junit", render(&report, Format::Junit));
    });
}
