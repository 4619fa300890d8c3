//! A hand-built drift report with every finding class, an unknown kind,
//! baselined findings, replication lag beyond the RPO and values that need
//! escaping in every format; the reports' unit and snapshot tests use it.

use std::collections::BTreeMap;

use serde_json::json;

use crate::diff::{
    DriftReport, FieldDiff, Finding, FindingClass, KeyList, KindStatus, KindSummary, Lag,
    PairFacts, Role, SCHEMA_VERSION, Severity, SideFacts,
};
use crate::kind::Kind;

fn field(
    path: &str,
    primary: Option<serde_json::Value>,
    secondary: Option<serde_json::Value>,
) -> FieldDiff {
    FieldDiff {
        path: path.into(),
        primary,
        secondary,
    }
}

/// A finding with the id the diff would give it.
pub(crate) fn finding(
    class: FindingClass,
    severity: Severity,
    kind: Kind,
    key: &str,
    message: &str,
) -> Finding {
    Finding {
        id: format!("{}/{}/{key}", class.name(), kind.name()),
        class,
        severity,
        kind,
        key: key.into(),
        message: message.into(),
        fields: Vec::new(),
        rule: None,
        hint: None,
        baselined: false,
    }
}

/// The report of a clean pair.
pub(crate) fn clean() -> DriftReport {
    let mut report = drifted();
    report.findings.clear();
    report.lag = Some(Lag {
        max_lag_ms: 95_000,
        worst: Some((Kind::Jobs, "nightly-etl".into())),
        within_rpo: Some(true),
    });
    for summary in report.summary.values_mut() {
        summary.status = KindStatus::Complete;
        summary.findings.clear();
        summary.baselined = 0;
    }
    report
}

/// The drifted report.
pub(crate) fn drifted() -> DriftReport {
    use FindingClass::*;
    let mut findings = Vec::new();

    let mut f = finding(
        PassiveViolation,
        Severity::Critical,
        Kind::Jobs,
        "nightly-etl",
        "schedule is unpaused in the passive secondary: it would run against the same data",
    );
    f.fields = vec![field(
        "settings.schedule.pause_status",
        Some(json!("UNPAUSED")),
        Some(json!("UNPAUSED")),
    )];
    f.rule = Some("passive.jobs.paused".into());
    f.hint = Some("pause the schedule in the secondary until failover: set `settings.schedule.pause_status` to `PAUSED`".into());
    findings.push(f);

    let mut f = finding(
        DanglingReference,
        Severity::Critical,
        Kind::Jobs,
        "ingest-orders",
        "task `ingest` runs on cluster `shared-autoscaling`, which does not exist in the secondary",
    );
    f.fields = vec![field(
        "settings.tasks[ingest].existing_cluster",
        Some(json!("shared-autoscaling")),
        Some(json!("shared-autoscaling")),
    )];
    f.rule = Some("reference.jobs.cluster".into());
    f.hint = Some("replicate cluster `shared-autoscaling` to the secondary, or point the task at a job cluster".into());
    findings.push(f);

    let mut f = finding(
        Changed,
        Severity::Error,
        Kind::Jobs,
        "ingest-orders",
        "configuration differs in 3 fields",
    );
    f.id.push_str("#2");
    f.fields = vec![
        field(
            "settings.tasks[ingest].notebook_task.base_parameters",
            Some(
                json!({"source": "s3://acme-dr-usw2/landing/orders/", "mode": "incremental", "watermark_column": "updated_at", "batch": 500}),
            ),
            Some(
                json!({"source": "s3://acme-dr-usw2/landing/orders/", "mode": "full", "watermark_column": "updated_at", "batch": 500}),
            ),
        ),
        field(
            "settings.tasks[ingest].notebook_task.notebook_path",
            Some(json!("/Repos/prod/etl/ingest_orders")),
            Some(json!("/Repos/prod/etl/ingest_orders_v1")),
        ),
        field("settings.timeout_seconds", Some(json!(3600)), None),
    ];
    f.hint =
        Some("copy the primary's job settings to the secondary (Jobs API `jobs/reset`)".into());
    findings.push(f);

    let mut f = finding(
        ReplicationLag,
        Severity::Warning,
        Kind::Jobs,
        "nightly-etl",
        "the secondary's copy is 20m behind the primary, more than the RPO of 15m",
    );
    f.rule = Some("rpo".into());
    findings.push(f);

    let mut f = finding(
        DuplicateKey,
        Severity::Error,
        Kind::Jobs,
        "daily report",
        "2 jobs named `daily report` in the secondary (job ids 1042, 1043)",
    );
    f.hint = Some("delete or rename one of them; natural keys must be unique".into());
    findings.push(f);

    let mut f = finding(
        Missing,
        Severity::Error,
        Kind::Clusters,
        "shared-autoscaling",
        "in the primary, not in the secondary",
    );
    f.hint = Some("create the cluster in the secondary from the primary's definition".into());
    findings.push(f);

    let mut f = finding(
        Extra,
        Severity::Warning,
        Kind::Clusters,
        "adhoc <debug> & \"tmp\"",
        "in the secondary only: someone changed the wrong workspace",
    );
    f.fields = vec![field(
        "custom_tags.team",
        None,
        Some(json!("data|platform `ops` <on-call>")),
    )];
    findings.push(f);

    let mut f = finding(
        PassiveViolation,
        Severity::Error,
        Kind::InstancePools,
        "pool-d8s-v5",
        "pool keeps idle instances in the passive secondary",
    );
    f.fields = vec![field("min_idle_instances", Some(json!(4)), Some(json!(2)))];
    f.rule = Some("passive.instance_pools.min_idle_instances".into());
    f.hint = Some("set `min_idle_instances` to 0 until failover".into());
    findings.push(f);

    let mut f = finding(
        Unknown,
        Severity::Error,
        Kind::Grants,
        "",
        "capture incomplete in the secondary: `PERMISSION_DENIED` listing grants on catalog `main`",
    );
    f.id = "unknown/grants".into();
    f.hint = Some(
        "give the secondary's service principal `USE CATALOG` on `main` and capture again".into(),
    );
    findings.push(f);

    let mut f = finding(
        Changed,
        Severity::Warning,
        Kind::WorkspaceConf,
        "enableTokensConfig",
        "workspace setting differs",
    );
    f.fields = vec![field("value", Some(json!("true")), Some(json!("false")))];
    f.rule = Some("baseline".into());
    f.baselined = true;
    findings.push(f);

    let mut f = finding(
        Extra,
        Severity::Warning,
        Kind::Users,
        "o'brien+contractor@example.com",
        "in the secondary only: someone changed the wrong workspace",
    );
    f.rule = Some("baseline".into());
    f.baselined = true;
    findings.push(f);

    findings.sort_by(|a, b| {
        a.severity
            .cmp(&b.severity)
            .then_with(|| a.kind.cmp(&b.kind))
            .then_with(|| a.key.cmp(&b.key))
            .then_with(|| a.class.cmp(&b.class))
            .then_with(|| a.id.cmp(&b.id))
    });

    let compared: BTreeMap<Kind, KeyList> = [
        (
            Kind::Users,
            vec![
                "alice@example.com",
                "o'brien+contractor@example.com",
                "svc-etl@example.com",
            ],
        ),
        (Kind::Groups, vec!["admins", "data-engineers"]),
        (
            Kind::Jobs,
            vec![
                "daily report",
                "ingest-orders",
                "nightly-etl",
                "weekly-rollup",
            ],
        ),
        (
            Kind::Clusters,
            vec!["adhoc <debug> & \"tmp\"", "shared-autoscaling"],
        ),
        (Kind::InstancePools, vec!["pool-d8s-v5"]),
        (Kind::Grants, vec![]),
        (
            Kind::Tables,
            vec!["main.sales.orders", "main.sales.returns"],
        ),
        (
            Kind::WorkspaceConf,
            vec!["enableIpAccessLists", "enableTokensConfig"],
        ),
    ]
    .into_iter()
    .map(|(kind, keys)| (kind, keys.into_iter().collect()))
    .collect();

    let mut summary: BTreeMap<Kind, KindSummary> = compared
        .iter()
        .map(|(&kind, keys)| {
            (
                kind,
                KindSummary {
                    compared: keys.len(),
                    ..KindSummary::default()
                },
            )
        })
        .collect();
    for f in &findings {
        if let Some(s) = summary.get_mut(&f.kind) {
            if f.class == Unknown {
                s.status = KindStatus::Unknown;
            } else if f.baselined {
                s.baselined += 1;
            } else {
                *s.findings.entry(f.class).or_default() += 1;
            }
        }
    }

    DriftReport {
        schema_version: SCHEMA_VERSION,
        pair: PairFacts {
            name: "prod-eastus2 → dr-westus2".into(),
            primary: SideFacts {
                host: "https://adb-1234567890123456.7.azuredatabricks.net".into(),
                captured_at: "2024-05-01T02:00:00Z".into(),
                captured_at_ms: 1_714_528_800_000,
            },
            secondary: SideFacts {
                host: "https://adb-6543210987654321.3.azuredatabricks.net".into(),
                captured_at: "2024-05-01T02:04:10Z".into(),
                captured_at_ms: 1_714_529_050_000,
            },
            secondary_role: Role::Passive,
            rpo_secs: Some(900),
            rto_secs: Some(3600),
        },
        summary,
        findings,
        lag: Some(Lag {
            max_lag_ms: 1_200_000,
            worst: Some((Kind::Jobs, "nightly-etl".into())),
            within_rpo: Some(false),
        }),
        compared,
    }
}

/// proptest strategies for arbitrary reports: keys, messages and values
/// full of markup, quotes, control characters and emoji.
pub(crate) mod arb {
    use std::collections::BTreeMap;

    use proptest::prelude::*;
    use serde_json::Value;

    use super::*;

    /// A character, often one that needs escaping somewhere.
    fn tricky_char() -> impl Strategy<Value = char> {
        prop_oneof![
            3 => any::<char>(),
            2 => prop::sample::select(vec![
                '<', '>', '&', '"', '\'', '|', '`', '*', '_', '[', ']', '\\', '$', ' ', '#',
                '\0', '\u{1}', '\u{8}', '\u{b}', '\u{c}', '\u{1b}', '\u{7f}', '\u{85}',
                '\n', '\r', '\t', '\u{fffe}', '\u{ffff}', '\u{fffd}', '😀', 'é', '\u{202e}',
            ]),
            3 => prop::char::range('a', 'z'),
        ]
    }

    /// A string of tricky characters.
    pub(crate) fn text(max: usize) -> impl Strategy<Value = String> {
        prop::collection::vec(tricky_char(), 0..max).prop_map(String::from_iter)
    }

    /// A JSON value, a few levels deep.
    pub(crate) fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            // Decimals like the API's (`0.5`, `100.25`): without serde_json's
            // `float_roundtrip` feature, some other doubles read back one
            // unit in the last place off.
            (any::<i32>(), 0..6i32).prop_map(|(n, e)| Value::from(f64::from(n) / 10f64.powi(e))),
            text(12).prop_map(Value::String),
        ];
        leaf.prop_recursive(2, 12, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(text(6), inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn class() -> impl Strategy<Value = FindingClass> {
        prop::sample::select(vec![
            FindingClass::Missing,
            FindingClass::Extra,
            FindingClass::Changed,
            FindingClass::PassiveViolation,
            FindingClass::DanglingReference,
            FindingClass::DuplicateKey,
            FindingClass::Unknown,
            FindingClass::ReplicationLag,
        ])
    }

    fn severity() -> impl Strategy<Value = Severity> {
        prop::sample::select(vec![Severity::Critical, Severity::Error, Severity::Warning])
    }

    fn kind() -> impl Strategy<Value = Kind> {
        prop::sample::select(vec![Kind::Users, Kind::Jobs, Kind::Clusters, Kind::Grants])
    }

    /// Keys from a small pool (so objects share keys) or anything.
    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(vec!["a", "a (2)", "x\u{1}", "x\\u0001", "x\u{2}", ""])
                .prop_map(String::from),
            text(16),
        ]
    }

    fn field() -> impl Strategy<Value = FieldDiff> {
        // A top-level JSON null is left out: the model writes `Some(null)`
        // as `null`, which reads back as `None` (absent).
        let side = || prop::option::of(value().prop_filter("not null", |v| !v.is_null()));
        (text(40), side(), side()).prop_map(|(path, primary, secondary)| FieldDiff {
            path,
            primary,
            secondary,
        })
    }

    fn one_finding() -> impl Strategy<Value = Finding> {
        (
            (class(), severity(), kind(), key(), text(60)),
            (
                prop::collection::vec(field(), 0..3),
                prop::option::of(text(20)),
                prop::option::of(text(40)),
                any::<bool>(),
                text(8),
            ),
        )
            .prop_map(
                |((class, severity, kind, key, message), (fields, rule, hint, baselined, tag))| {
                    Finding {
                        id: format!("{}/{kind}/{key}#{tag}", class.name()),
                        class,
                        severity,
                        kind,
                        key,
                        message,
                        fields,
                        rule,
                        hint,
                        baselined,
                    }
                },
            )
    }

    fn side() -> impl Strategy<Value = SideFacts> {
        (text(30), text(25), any::<i64>()).prop_map(|(host, captured_at, captured_at_ms)| {
            SideFacts {
                host,
                captured_at,
                captured_at_ms,
            }
        })
    }

    /// An arbitrary report.
    pub(crate) fn report() -> impl Strategy<Value = DriftReport> {
        (
            (
                text(30),
                side(),
                side(),
                any::<bool>(),
                prop::option::of(any::<u64>()),
                prop::option::of(any::<u64>()),
            ),
            prop::collection::vec(one_finding(), 0..10),
            prop::collection::btree_map(
                kind(),
                (any::<bool>(), prop::collection::vec(key(), 0..5)),
                0..4,
            ),
            prop::option::of((
                any::<i64>(),
                prop::option::of((kind(), key())),
                prop::option::of(any::<bool>()),
            )),
        )
            .prop_map(
                |((name, primary, secondary, active, rpo_secs, rto_secs), findings, kinds, lag)| {
                    let mut summary = BTreeMap::new();
                    let mut compared = BTreeMap::new();
                    for (kind, (unknown, keys)) in kinds {
                        let status = if unknown {
                            KindStatus::Unknown
                        } else {
                            KindStatus::Complete
                        };
                        let mut counts = BTreeMap::new();
                        for f in findings.iter().filter(|f| f.kind == kind) {
                            *counts.entry(f.class).or_insert(0) += 1;
                        }
                        summary.insert(
                            kind,
                            KindSummary {
                                status,
                                compared: keys.len(),
                                findings: counts,
                                baselined: findings
                                    .iter()
                                    .filter(|f| f.kind == kind && f.baselined)
                                    .count(),
                            },
                        );
                        compared.insert(kind, keys.into_iter().collect::<KeyList>());
                    }
                    DriftReport {
                        schema_version: SCHEMA_VERSION,
                        pair: PairFacts {
                            name,
                            primary,
                            secondary,
                            secondary_role: if active { Role::Active } else { Role::Passive },
                            rpo_secs,
                            rto_secs,
                        },
                        summary,
                        findings,
                        lag: lag.map(|(max_lag_ms, worst, within_rpo)| Lag {
                            max_lag_ms,
                            worst,
                            within_rpo,
                        }),
                        compared,
                    }
                },
            )
    }
}
