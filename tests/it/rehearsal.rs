//! Rehearsals of the shipped plans against in-process mocks seeded from the
//! shipped fixture pair: the failover and failback plans pass (after their
//! sync steps fix the planted drift), the broken plan fails at the right
//! step, a plan without the sync fails where it touches the drift, Ctrl-C
//! still yields a report, and the plan language's laws hold.

use std::path::{Path, PathBuf};
use std::process::Output;

use proptest::prelude::*;
use standby::rehearsal::{
    self, Action, CancelToken, Event, EventSink, InProcess, Plan, RehearsalReport, RehearseError,
    ReportFormat, RunOptions, RunOutcome, Selection, Severity, StepBody, StepOutcome,
};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// A shipped plan, loaded by its path relative to the crate (reports name it).
fn shipped(name: &str) -> Plan {
    let relative = format!("fixtures/plans/{name}");
    let text = std::fs::read_to_string(fixture(&format!("plans/{name}"))).expect("shipped plan");
    rehearsal::parse(&text, &relative).unwrap_or_else(|e| panic!("{e}"))
}

async fn mocks() -> InProcess {
    let seed = |name: &str| {
        (
            rehearsal::load_seed(&fixture(name)).expect("shipped fixture"),
            format!("mock seeded from fixtures/{name}"),
        )
    };
    rehearsal::start_mocks(seed("primary.json"), seed("secondary.json"))
        .await
        .expect("mocks start")
}

async fn run_on(
    m: &InProcess,
    plan: &Plan,
    options: &RunOptions,
) -> (Result<RehearsalReport, RehearseError>, Vec<Event>) {
    let mut events: Vec<Event> = Vec::new();
    let report = rehearsal::rehearse(plan, &m.env, options, &mut events).await;
    (report, events)
}

async fn run(
    plan: &Plan,
    options: &RunOptions,
) -> (Result<RehearsalReport, RehearseError>, Vec<Event>) {
    let m = mocks().await;
    let out = run_on(&m, plan, options).await;
    m.shutdown().await;
    out
}

fn render(format: ReportFormat, report: &RehearsalReport) -> String {
    let mut out = Vec::new();
    rehearsal::render(format, report, &mut out).expect("renders");
    String::from_utf8(out).expect("utf-8")
}

fn step<'r>(report: &'r RehearsalReport, name: &str) -> &'r rehearsal::StepRecord {
    report
        .steps
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no step `{name}`"))
}

fn failures(report: &RehearsalReport) -> String {
    report
        .steps
        .iter()
        .filter(|s| s.outcome == StepOutcome::Failed)
        .map(|s| format!("{}: {:?}", s.name, s.message))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every step started is finished, in order, on a clock that never goes back.
fn events_are_well_formed(events: &[Event]) {
    assert!(
        matches!(events.first(), Some(Event::RunStarted(_))),
        "{events:#?}"
    );
    assert!(
        matches!(events.last(), Some(Event::RunFinished(_))),
        "{events:#?}"
    );
    let mut open: Option<usize> = None;
    let mut last_at = 0;
    for e in events {
        match e {
            Event::StepStarted { index, at_ms, .. } => {
                assert_eq!(open, None, "step {index} started inside another");
                assert!(*at_ms >= last_at);
                open = Some(*index);
                last_at = *at_ms;
            }
            Event::StepFinished(s) => {
                if s.outcome != StepOutcome::Skipped {
                    assert_eq!(open.take(), Some(s.index), "{s:#?}");
                }
                assert!(s.started_ms >= 0 && s.duration_ms >= 0);
            }
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shipped_failover_plan_passes_within_the_rto() {
    let plan = shipped("failover.yaml");
    let started = std::time::Instant::now();
    let (report, events) = run(&plan, &RunOptions::default()).await;
    let wall = started.elapsed();
    let report = report.unwrap_or_else(|e| panic!("{e}"));
    assert!(report.passed(), "{}", failures(&report));
    events_are_well_formed(&events);
    assert_eq!(report.steps.len(), plan.steps.len());
    let s = &report.summary;
    assert!(s.within_rto && s.recovery_ms > 30 * 60_000, "{s:#?}");
    assert_eq!(s.recovery_from.as_deref(), Some("us-east-1 goes down"));
    assert_eq!(
        s.rpo_lag_ms,
        Some(60_000),
        "the sync ended a minute before the outage"
    );
    // The sync fixed the planted drift it can fix, and said so.
    let sync = step(&report, "sync primary to secondary")
        .details
        .join("\n");
    for fixed in [
        "created /Production/etl/publish_sales",
        "created partner-sftp",
        "created ml-churn-training",
        "updated hourly-clickstream-ingest",
        "updated etl-pool-m5d",
        "+user `grace.chen@acme.com`",
        "notebooks:/Production/reporting/finance_rollup",
        "placeholder",
    ] {
        assert!(sync.contains(fixed), "`{fixed}` not in:\n{sync}");
    }
    // Hours of virtual time, well under a few seconds of wall time even in debug builds.
    assert!(wall.as_secs() < 10, "took {wall:?}");
    insta::with_settings!({ snapshot_path => "../../snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("rehearsal_failover_text", render(ReportFormat::Text, &report));
        insta::assert_snapshot!("rehearsal_failover_junit", render(ReportFormat::Junit, &report));
        insta::assert_snapshot!("rehearsal_failover_markdown", render(ReportFormat::Markdown, &report));
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shipped_failback_plan_passes_alone_and_after_failover() {
    let failback = shipped("failback.yaml");
    let (alone, events) = run(&failback, &RunOptions::default()).await;
    let alone = alone.unwrap_or_else(|e| panic!("{e}"));
    assert!(alone.passed(), "{}", failures(&alone));
    events_are_well_formed(&events);
    assert_eq!(
        alone.summary.recovery_from, None,
        "failback is measured from its start"
    );

    let m = mocks().await;
    let (over, _) = run_on(&m, &shipped("failover.yaml"), &RunOptions::default()).await;
    let over = over.unwrap_or_else(|e| panic!("{e}"));
    assert!(over.passed(), "{}", failures(&over));
    let (back, _) = run_on(&m, &failback, &RunOptions::default()).await;
    m.shutdown().await;
    let back = back.unwrap_or_else(|e| panic!("{e}"));
    assert!(back.passed(), "{}", failures(&back));
    assert!(
        back.run.start_ms >= over.run.start_ms + over.summary.end_ms,
        "the chain runs on one clock"
    );
    let mut junit = Vec::new();
    rehearsal::render_all(ReportFormat::Junit, &[over, back.clone()], &mut junit).unwrap();
    let junit = String::from_utf8(junit).unwrap();
    assert_eq!(
        junit.matches("<testsuite ").count(),
        2,
        "one suite per plan run"
    );
    insta::with_settings!({ snapshot_path => "../../snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("rehearsal_failback_text", render(ReportFormat::Text, &alone));
        insta::assert_snapshot!("rehearsal_failback_junit", render(ReportFormat::Junit, &alone));
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_broken_plan_fails_at_the_run_before_concurrency_is_raised() {
    let plan = shipped("broken-run-before-unpause.yaml");
    // Statically: the run step, by file and line, naming the job and the cause.
    let (report, events) = run(&plan, &RunOptions::default()).await;
    assert!(events.is_empty(), "nothing runs when the plan is invalid");
    let Err(RehearseError::Invalid(errors)) = report else {
        panic!("expected static errors, got {report:?}");
    };
    let first = &errors.0[0];
    assert_eq!(first.file, "fixtures/plans/broken-run-before-unpause.yaml");
    assert_eq!(first.line, 36, "{first}");
    assert_eq!(first.severity, Severity::Error);
    assert!(
        first.message.contains("step `run critical jobs` runs job `daily-sales-etl` while its max_concurrent_runs is still 0 in `secondary` (set by step `sync primary to secondary`)"),
        "{first}"
    );
    // Run anyway: the workspace skips the runs, and the step says why.
    let options = RunOptions {
        skip_static_checks: true,
        ..RunOptions::default()
    };
    let (report, _) = run(&plan, &options).await;
    let report = report.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.summary.outcome, RunOutcome::Failed);
    assert_eq!(
        report.summary.failed_steps,
        vec!["run critical jobs".to_owned()]
    );
    let failed = step(&report, "run critical jobs");
    let message = failed.message.as_deref().unwrap_or_default();
    assert!(message.contains("`daily-sales-etl`: SKIPPED: Skipping this run because the limit of 0 maximum concurrent runs has been reached"), "{message}");
    assert!(
        message.contains("raise it with `set_job_concurrency`"),
        "{message}"
    );
    assert_eq!(
        failed.expected.as_deref(),
        Some("each run of `daily-sales-etl`, `partner-feed-export` TERMINATED with result SUCCESS")
    );
    for later in [
        "raise job concurrency",
        "unpause schedules",
        "point clients at us-west-2",
    ] {
        assert_eq!(
            step(&report, later).outcome,
            StepOutcome::Skipped,
            "{later}"
        );
    }
    let junit = render(ReportFormat::Junit, &report);
    assert!(
        junit.contains(r#"<failure message="2 of 2 job runs did not succeed"#),
        "{junit}"
    );
    assert!(
        junit.contains("<skipped message=\"not run: step `run critical jobs` failed"),
        "{junit}"
    );
}

/// The failover plan without its sync step (and without the job only the
/// primary has, which the static checks would reject first).
fn failover_without_sync() -> Plan {
    let mut plan = shipped("failover.yaml");
    plan.steps.retain(|s| s.name != "sync primary to secondary");
    plan
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_sync_the_rehearsal_fails_where_it_touches_the_drift() {
    // As written, the static checks see a job run the secondary does not have.
    let (report, _) = run(&failover_without_sync(), &RunOptions::default()).await;
    let Err(RehearseError::Invalid(errors)) = report else {
        panic!("expected static errors, got {report:?}");
    };
    assert!(
        errors.0.iter().any(|d| d.message.contains(
            "names job `ml-churn-training`, which `secondary` does not have at this step"
        ) && d.message.contains(
            "`primary` has it: sync `jobs` from `primary` to `secondary` before this step"
        )),
        "{errors}"
    );

    let mut plan = failover_without_sync();
    for s in &mut plan.steps {
        match &mut s.body {
            StepBody::Action(Action::RunJobs { jobs, .. })
            | StepBody::Check(rehearsal::Check::JobsSucceeded { jobs, .. }) => {
                jobs.retain(|j| j != "ml-churn-training");
            }
            _ => {}
        }
    }
    // Fail fast: the first check that looks at the secondary names the drift.
    let (report, _) = run(&plan, &RunOptions::default()).await;
    let report = report.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        report.summary.failed_steps,
        vec!["secondary matches primary".to_owned()]
    );
    let actual = step(&report, "secondary matches primary")
        .actual
        .clone()
        .unwrap_or_default();
    assert!(
        actual.contains("missing workspace_objects `/Production/etl/publish_sales`"),
        "{actual}"
    );
    assert!(
        actual.contains("missing secret_scopes `partner-sftp`"),
        "{actual}"
    );

    // Keep going: the job runs fail on the missing notebook and secret scope.
    let options = RunOptions {
        keep_going: true,
        ..RunOptions::default()
    };
    let (report, _) = run(&plan, &options).await;
    let report = report.unwrap_or_else(|e| panic!("{e}"));
    let runs = step(&report, "run critical jobs");
    assert_eq!(runs.outcome, StepOutcome::Failed);
    let actual = runs.actual.clone().unwrap_or_default();
    assert!(
        actual.contains("`daily-sales-etl`: TERMINATED FAILED in task `publish_sales`: Unable to access the notebook \"/Production/etl/publish_sales\""),
        "{actual}"
    );
    assert!(
        actual.contains("`partner-feed-export`: INTERNAL_ERROR FAILED"),
        "{actual}"
    );
    assert!(actual.contains("scope: partner-sftp"), "{actual}");
    let passive = step(&report, "secondary is passive");
    assert_eq!(passive.outcome, StepOutcome::Failed);
    let why = passive.actual.clone().unwrap_or_default();
    assert!(
        why.contains("hourly-clickstream-ingest") && why.contains("etl-pool-m5d"),
        "{why}"
    );
    assert_eq!(
        step(&report, "latest sync within RPO").outcome,
        StepOutcome::Failed,
        "no sync ran: the seeds lag"
    );
}

/// Cancels the run when a given step starts (what Ctrl-C does).
struct CancelAt {
    step: usize,
    token: CancelToken,
    events: Vec<Event>,
}

impl EventSink for CancelAt {
    fn emit(&mut self, event: &Event) {
        if let Event::StepStarted { index, .. } = event {
            if *index == self.step {
                self.token.cancel();
            }
        }
        self.events.push(event.clone());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_run_still_reports_what_ran() {
    let plan = shipped("failover.yaml");
    let token = CancelToken::new();
    let mut sink = CancelAt {
        step: 3,
        token: token.clone(),
        events: Vec::new(),
    };
    let options = RunOptions {
        cancel: token,
        ..RunOptions::default()
    };
    let m = mocks().await;
    let report = rehearsal::rehearse(&plan, &m.env, &options, &mut sink).await;
    m.shutdown().await;
    let report = report.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.summary.outcome, RunOutcome::Interrupted);
    assert!(
        report.steps[..3]
            .iter()
            .all(|s| s.outcome == StepOutcome::Passed)
    );
    assert_eq!(report.steps[3].outcome, StepOutcome::Interrupted);
    assert!(
        report.steps[4..]
            .iter()
            .all(|s| s.outcome == StepOutcome::Skipped)
    );
    assert!(
        report.rollbacks.is_empty(),
        "nothing more runs after Ctrl-C"
    );
    events_are_well_formed(&sink.events);
    assert!(render(ReportFormat::Junit, &report).contains("<error message=\"interrupted"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_step_rolls_back_what_ran_last_first() {
    let mut plan = shipped("failover.yaml");
    // Make the last check fail: the cluster is running, the plan expects it not to be.
    for s in &mut plan.steps {
        if let StepBody::Check(rehearsal::Check::Probe { value, .. }) = &mut s.body {
            *value = serde_json::json!("TERMINATED");
        }
    }
    let (report, _) = run(&plan, &RunOptions::default()).await;
    let report = report.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        report.summary.failed_steps,
        vec!["clients reach a running cluster".to_owned()]
    );
    let step = step(&report, "clients reach a running cluster");
    assert_eq!(step.expected.as_deref(), Some("== \"TERMINATED\""));
    assert_eq!(step.actual.as_deref(), Some("\"RUNNING\""));
    let rolled: Vec<(&str, &str)> = report
        .rollbacks
        .iter()
        .map(|r| (r.step.as_str(), r.action.as_str()))
        .collect();
    assert_eq!(
        rolled,
        vec![
            ("unpause schedules", "pause_jobs"),
            ("raise job concurrency", "set_job_concurrency"),
            ("freeze primary", "unpause_jobs"),
        ]
    );
    assert!(
        report
            .rollbacks
            .iter()
            .all(|r| r.outcome == StepOutcome::Passed || r.step == "freeze primary")
    );
}

// ---------------------------------------------------------------------------
// The plan language's laws.

fn name() -> impl Strategy<Value = String> {
    // Names with YAML's troublemakers: quotes, colons, hashes, dashes,
    // braces, leading spaces, newlines, unicode, and words YAML resolves.
    prop_oneof![
        "[a-z][a-z0-9 _-]{0,12}",
        "[ -~]{1,16}",
        Just("yes".to_owned()),
        Just("null".to_owned()),
        Just("- item: x # y".to_owned()),
        Just("multi\nline\ttab".to_owned()),
        Just("ünï 😀 \"q\" 'a'".to_owned()),
        Just("123".to_owned()),
    ]
    .prop_filter("not blank", |s| !s.trim().is_empty())
}

fn selection() -> impl Strategy<Value = Selection> {
    prop_oneof![
        Just(Selection::All),
        prop::collection::btree_set(name(), 1..3)
            .prop_map(|s| Selection::Named(s.into_iter().collect())),
    ]
}

fn action() -> impl Strategy<Value = Action> {
    let ws = prop_oneof![
        Just("prod".to_owned()),
        Just("dr".to_owned()),
        Just("url".to_owned())
    ];
    prop_oneof![
        (ws.clone(), any::<[bool; 4]>()).prop_map(|(workspace, f)| Action::Freeze {
            workspace,
            pools: f[0],
            clusters: f[1],
            jobs: f[2],
            warehouses: f[3],
        }),
        ws.clone()
            .prop_map(|workspace| Action::SimulateOutage { workspace }),
        (ws.clone(), selection())
            .prop_map(|(workspace, jobs)| Action::UnpauseJobs { workspace, jobs }),
        (ws.clone(), selection(), 0u32..100).prop_map(|(workspace, pools, n)| Action::RaisePools {
            workspace,
            pools,
            min_idle_instances: n,
        }),
        (ws.clone(), prop::collection::btree_set(name(), 1..4)).prop_map(|(workspace, jobs)| {
            Action::RunJobs {
                workspace,
                jobs: jobs.into_iter().collect(),
            }
        }),
        (any::<bool>(), prop::option::of(name())).prop_map(|(passive, placeholder)| Action::Sync {
            from: "prod".into(),
            to: "dr".into(),
            kinds: if placeholder.is_some() {
                vec![standby::Kind::WorkspaceObjects, standby::Kind::SecretScopes]
            } else {
                vec![standby::Kind::Jobs]
            },
            secret_placeholder: placeholder,
            passive,
        }),
        (0u64..400_000).prop_map(|duration_secs| Action::Wait { duration_secs }),
        Just(Action::SwitchEndpoint {
            endpoint: "url".into(),
            to: "dr".into()
        }),
    ]
}

fn check() -> impl Strategy<Value = rehearsal::Check> {
    use rehearsal::{Check, ProbeOp};
    let json = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i32>().prop_map(serde_json::Value::from),
        name().prop_map(serde_json::Value::from),
        prop::collection::vec(name(), 0..3).prop_map(|v| serde_json::json!({"list": v, "n": 1.5})),
    ];
    prop_oneof![
        Just(Check::WithinRto),
        Just(Check::Rpo {
            from: None,
            to: Some("dr".into())
        }),
        (any::<bool>()).prop_map(|ignore_extra| Check::NoDrift {
            from: Some("prod".into()),
            to: None,
            kinds: vec![standby::Kind::Jobs, standby::Kind::Clusters],
            ignore_extra,
        }),
        (
            json,
            prop::collection::btree_map(name(), name(), 0..3),
            "[a-z]{1,5}(\\[[a-z]{1,3}=[a-z ]{1,4}\\])?(\\.[a-z]{1,4})?"
        )
            .prop_map(|(value, query, path)| Check::Probe {
                workspace: "url".into(),
                get: "/api/2.1/clusters/list".into(),
                query: query.into_iter().collect(),
                path,
                op: ProbeOp::Eq,
                value,
            }),
        Just(Check::Probe {
            workspace: "dr".into(),
            get: "/api/2.0/x".into(),
            query: Vec::new(),
            path: String::new(),
            op: ProbeOp::Exists,
            value: serde_json::Value::Null,
        }),
    ]
}

fn plan() -> impl Strategy<Value = Plan> {
    let step = (
        name(),
        prop_oneof![
            action().prop_map(StepBody::Action),
            check().prop_map(StepBody::Check)
        ],
        prop::option::of(0u64..100_000),
        any::<bool>(),
        prop::option::of(name()),
        prop::option::of(action()),
    );
    (
        name(),
        prop::option::of(name()),
        any::<bool>(),
        (0u64..1_000_000, 0u64..1_000_000),
        prop::collection::vec(step, 1..6),
    )
        .prop_map(|(plan_name, description, failback, (rpo, rto), steps)| {
            let text = "name: x\ndirection: failover\nrpo: 1h\nrto: 1h\nworkspaces:\n  prod: {role: primary}\n  dr: {role: secondary}\nendpoints:\n  url: prod\nsteps:\n  - {name: a, action: wait, duration: 1s}\n";
            let mut plan = rehearsal::parse(text, "p.yaml").expect("base plan");
            plan.name = plan_name;
            plan.description = description;
            plan.direction = if failback { rehearsal::Direction::Failback } else { rehearsal::Direction::Failover };
            plan.rpo_secs = rpo;
            plan.rto_secs = rto;
            let template = plan.steps[0].clone();
            plan.steps = steps
                .into_iter()
                .enumerate()
                .map(|(i, (name, body, timeout, cont, note, rollback))| rehearsal::Step {
                    name: format!("{i} {name}"),
                    body,
                    timeout_secs: timeout,
                    continue_on_failure: cont,
                    needs: Vec::new(),
                    rollback,
                    note,
                    ..template.clone()
                })
                .collect();
            plan
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn a_printed_plan_reads_back_as_the_same_plan(plan in plan()) {
        let text = rehearsal::to_yaml(&plan);
        let again = rehearsal::parse(&text, "p.yaml").map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(&again, &plan, "{}", text);
        prop_assert_eq!(rehearsal::to_yaml(&again), text);
    }

    #[test]
    fn mangled_plans_give_located_errors_never_panics(
        cut in 0usize..2000,
        insert in prop_oneof![Just(":"), Just("- "), Just("\t"), Just("{"), Just("'"), Just("\n  x: ["), Just("&a "), Just("*a"), Just("!!str "), Just("\u{0}"), Just("steps: 3\n")],
        drop in 0usize..40,
    ) {
        let original = std::fs::read_to_string(fixture("plans/failover.yaml")).unwrap();
        let mut text = original.clone();
        let at = text.char_indices().map(|(i, _)| i).nth(cut % text.chars().count()).unwrap_or(0);
        text.insert_str(at, insert);
        let end = text[at..].char_indices().map(|(i, _)| at + i).nth(drop).unwrap_or(text.len());
        if drop % 3 == 0 { text.replace_range(at..end, ""); }
        match rehearsal::parse(&text, "mangled.yaml") {
            Ok(plan) => {
                // Still a plan: the static checks run on it without panicking.
                let _ = rehearsal::check(&plan, &Default::default());
            }
            Err(errors) => {
                prop_assert!(!errors.0.is_empty());
                let lines = text.lines().count().max(1);
                for d in &errors.0 {
                    prop_assert_eq!(&d.file, "mangled.yaml");
                    prop_assert!(d.line >= 1 && d.line <= lines + 1, "{} (of {} lines)", d, lines);
                    let prefix = format!("mangled.yaml:{}:", d.line);
                    prop_assert!(d.to_string().starts_with(&prefix), "{}", d);
                }
            }
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let _ = rehearsal::parse(&text, "any.yaml");
    }
}

/// Steps that touch different objects at the same instant: any order, same end state.
fn independent_steps() -> Vec<rehearsal::Step> {
    let text = "\
name: independent
direction: failover
rpo: 1h
rto: 4h
workspaces:
  primary: {role: primary}
  secondary: {role: secondary}
steps:
  - {name: etl pool, action: raise_pools, workspace: secondary, pools: [etl-pool-m5d], min_idle_instances: 3}
  - {name: ml pool, action: raise_pools, workspace: secondary, pools: [ml-pool-g5], min_idle_instances: 1}
  - {name: daily, action: set_job_concurrency, workspace: secondary, jobs: [daily-sales-etl], max_concurrent_runs: 2}
  - {name: finance, action: set_job_concurrency, workspace: secondary, jobs: [finance-month-end], max_concurrent_runs: 1}
  - {name: unpause partner, action: unpause_jobs, workspace: secondary, jobs: [partner-feed-export]}
  - {name: pause hourly, action: pause_jobs, workspace: secondary, jobs: [hourly-clickstream-ingest]}
  - {name: prod pools, action: raise_pools, workspace: primary, pools: [ml-pool-g5], min_idle_instances: 4}
";
    rehearsal::parse(text, "independent.yaml")
        .expect("plan")
        .steps
}

async fn end_state(steps: Vec<rehearsal::Step>) -> (String, String) {
    let mut plan = rehearsal::parse(
        "name: s\ndirection: failover\nrpo: 1h\nrto: 4h\nworkspaces:\n  primary: {role: primary}\n  secondary: {role: secondary}\nsteps:\n  - {name: x, action: wait, duration: 1s}\n",
        "s.yaml",
    )
    .expect("plan");
    plan.steps = steps;
    let m = mocks().await;
    let options = RunOptions {
        skip_static_checks: true,
        ..RunOptions::default()
    };
    let (report, _) = run_on(&m, &plan, &options).await;
    let report = report.expect("runs");
    assert!(report.passed(), "{}", failures(&report));
    let state = (m.primary.dump(), m.secondary.dump());
    m.shutdown().await;
    state
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]

    #[test]
    fn shuffled_independent_steps_give_the_same_end_state(order in Just(independent_steps()).prop_shuffle()) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let (want_p, want_s) = rt.block_on(end_state(independent_steps()));
        let (got_p, got_s) = rt.block_on(end_state(order));
        prop_assert!(want_p == got_p, "primary end state differs");
        prop_assert!(want_s == got_s, "secondary end state differs");
    }
}

// ---------------------------------------------------------------------------
// The command line.

fn standby(args: &[&str]) -> Output {
    let home = tempfile::tempdir().unwrap();
    crate::cli::standby(args, &[], home.path())
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn bad_plans_exit_2_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string(fixture("plans/failover.yaml")).unwrap();
    /// A file name, the edits that break the plan, and what the error says.
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
    let cases: &[Case<'_>] = &[
        (
            "syntax.yaml",
            &[("    from: primary\n", "    from: [primary\n")],
            "invalid YAML",
        ),
        (
            "unknown-action.yaml",
            &[("action: freeze", "action: freze")],
            "did you mean `freeze`?",
        ),
        (
            "wrong-type.yaml",
            &[("min_idle_instances: 2", "min_idle_instances: two")],
            "must be an integer",
        ),
        (
            "unknown-field.yaml",
            &[("    timeout: 15m\n", "    timeout: 15m\n    timout: 1h\n")],
            "unknown field `timout`",
        ),
        (
            "dangling.yaml",
            &[(
                "  - name: primary runs finished\n",
                "  - name: primary runs finished\n    needs: [freeze primry]\n",
            )],
            "needs unknown step `freeze primry`",
        ),
        (
            "cyclic.yaml",
            &[
                (
                    "  - name: primary runs finished\n",
                    "  - name: primary runs finished\n    needs: [freeze primary]\n",
                ),
                (
                    "  - name: freeze primary\n",
                    "  - name: freeze primary\n    needs: [primary runs finished]\n",
                ),
            ],
            "cyclic `needs`",
        ),
    ];
    for (file, edits, needle) in cases {
        let mut plan = base.clone();
        for (from, to) in *edits {
            assert!(plan.contains(from), "{file}: `{from}` not in the plan");
            plan = plan.replacen(from, to, 1);
        }
        let path = dir.path().join(file);
        std::fs::write(&path, plan).unwrap();
        let out = standby(&[
            "rehearse",
            "--check",
            path.to_str().unwrap(),
            "--primary",
            "fixtures/primary.json",
            "--secondary",
            "fixtures/secondary.json",
        ]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{file}: {err}");
        let prefix = format!("{}:", path.display());
        let line = err
            .lines()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("{file}: {err}"));
        let rest = &line[prefix.len()..];
        let line_no: usize = rest
            .split(':')
            .next()
            .unwrap_or("")
            .parse()
            .unwrap_or_else(|_| panic!("{file}: {line}"));
        assert!(line_no > 1, "{file}: {line}");
        assert!(rest.contains("error:"), "{file}: {line}");
        assert!(err.contains(needle), "{file}: {err}");
        assert!(!err.contains("panicked"), "{file}: {err}");
    }
}

#[test]
fn shipped_plans_run_from_the_command_line() {
    let out = standby(&[
        "rehearse",
        "-q",
        "fixtures/plans/failover.yaml",
        "fixtures/plans/failback.yaml",
        "--format",
        "junit",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).matches("<testsuite ").count(), 2);

    let out = standby(&[
        "rehearse",
        "--check",
        "fixtures/plans/broken-run-before-unpause.yaml",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains(
            "broken-run-before-unpause.yaml:36:5: error: impossible order: step `run critical jobs`"
        ),
        "{}",
        text(&out.stderr)
    );

    let out = standby(&[
        "rehearse",
        "-q",
        "--skip-static-checks",
        "fixtures/plans/broken-run-before-unpause.yaml",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("FAILED  run critical jobs"),
        "{}",
        text(&out.stdout)
    );

    let out = standby(&["plan", "init", "failback"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(rehearsal::parse(&text(&out.stdout), "init.yaml").is_ok());
}

#[test]
fn a_host_that_is_not_a_mock_is_refused_without_the_flag() {
    let out = standby(&[
        "rehearse",
        "fixtures/plans/failover.yaml",
        "--primary-host",
        "http://127.0.0.1:9",
        "--secondary-host",
        "http://127.0.0.1:9",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("is not a standby mock"),
        "{}",
        text(&out.stderr)
    );
    assert!(text(&out.stderr).contains("--i-know-this-is-a-real-workspace"));
}

/// Captures a shipped fixture through the API into a snapshot file.
async fn snapshot_of(name: &str, dir: &Path) -> PathBuf {
    let fixture = rehearsal::load_seed(&fixture(name)).expect("fixture");
    let server = standby::mock::MockServer::start(fixture, standby::mock::MockOptions::default())
        .await
        .expect("mock");
    let snap = standby::capture::capture(
        crate::support::client(&server.url()),
        standby::collect::CollectOptions::default(),
        std::sync::Arc::new(standby::collect::Journal::in_memory()),
        std::sync::Arc::new(standby::collect::Quiet),
    )
    .await;
    server.shutdown().await;
    let path = dir.join(name);
    let mut out = Vec::new();
    standby::snapshot::write_snapshot(&snap, &mut out).expect("writes");
    std::fs::write(&path, out).expect("saved");
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mocks_seeded_from_snapshots_rehearse_like_the_fixtures() {
    let dir = tempfile::tempdir().unwrap();
    let p = snapshot_of("primary.json", dir.path()).await;
    let s = snapshot_of("secondary.json", dir.path()).await;
    let seed = |path: &PathBuf| {
        (
            rehearsal::load_seed(path).unwrap_or_else(|e| panic!("{e}")),
            format!("mock seeded from snapshot {}", path.display()),
        )
    };
    let m = rehearsal::start_mocks(seed(&p), seed(&s))
        .await
        .expect("mocks");
    let (report, _) = run_on(&m, &shipped("failover.yaml"), &RunOptions::default()).await;
    m.shutdown().await;
    let report = report.unwrap_or_else(|e| panic!("{e}"));
    assert!(report.passed(), "{}", failures(&report));
    let sync = step(&report, "sync primary to secondary")
        .details
        .join("\n");
    assert!(
        sync.contains("created /Production/etl/publish_sales"),
        "{sync}"
    );
    assert!(sync.contains("created partner-sftp"), "{sync}");
    assert!(sync.contains("created ml-churn-training"), "{sync}");
}
