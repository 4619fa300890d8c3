//! The binary as a user meets it: exit codes, one-line errors, no leaked tokens.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::json;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::TOKEN;

/// Runs `standby` with a clean environment (no user config, no DATABRICKS_*).
pub fn standby(args: &[&str], env: &[(&str, &str)], home: &Path) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_standby"));
    cmd.args(args)
        .env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("standby runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_and_version_exit_0() {
    let home = tempfile::tempdir().unwrap();
    for args in [
        &["--help"][..],
        &["--version"],
        &["snapshot", "--help"],
        &["help", "snapshot"],
    ] {
        let out = standby(args, &[], home.path());
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(!out.stdout.is_empty(), "{args:?}");
    }
    let out = standby(&["snapshot", "--help"], &[], home.path());
    assert!(
        text(&out.stdout).contains("standby snapshot --profile prod -o prod.json"),
        "help shows an example"
    );
}

#[test]
fn bad_command_lines_exit_2_with_an_error_on_stderr() {
    let home = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["frobnicate"], "unrecognized subcommand"),
        (&["snapshot"], "--output <FILE>"),
        (
            &["snapshot", "-o", "x.json", "--kinds", "jobs,notebookz"],
            "unknown kind `notebookz`",
        ),
        (
            &["snapshot", "-o", "x.json", "--concurrency", "0"],
            "--concurrency",
        ),
        (
            &["snapshot", "-o", "x.json", "--rate-limit", "jobs"],
            "expected FAMILY=N",
        ),
        (
            &["snapshot", "-o", "x.json", "--rate-limit", "nope=3"],
            "unknown endpoint family `nope`",
        ),
        (
            &["snapshot", "-o", "x.json"],
            "no workspace host: set `DATABRICKS_HOST`",
        ),
        (
            &["snapshot", "-o", "x.json", "--profile", "prod"],
            "failed to read",
        ),
        (
            &["snapshot", "-o", "-", "--resume"],
            "needs `--journal PATH`",
        ),
    ];
    for (args, expected) in cases {
        let out = standby(args, &[], home.path());
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(expected),
            "{args:?}: expected `{expected}` in:\n{stderr}"
        );
        assert!(out.stdout.is_empty(), "{args:?}: stdout must stay empty");
    }
}

#[test]
fn missing_unreadable_and_malformed_inputs_exit_2_with_a_one_line_error() {
    let home = tempfile::tempdir().unwrap();
    let p = |name: &str| home.path().join(name).to_str().unwrap().to_owned();
    std::fs::write(
        p("garbage.json"),
        "{\"format_version\": 1,\n  \"metadata\": [",
    )
    .unwrap();
    std::fs::write(p("bad.toml"), "[[pair]]\nname = \"prod\"\nprimary = 7\n").unwrap();
    std::fs::write(
        p("bad.yaml"),
        "name: x\nsteps:\n  - name: a\n    action: teleport\n",
    )
    .unwrap();
    std::fs::create_dir(p("a-directory")).unwrap();
    let cases: &[(Vec<String>, &str)] = &[
        (
            vec!["diff".into(), p("nope.json"), p("nope2.json")],
            "failed to read snapshot",
        ),
        (
            vec!["diff".into(), p("garbage.json"), p("garbage.json")],
            "garbage.json` is not a valid snapshot: line 2",
        ),
        (
            vec!["diff".into(), p("a-directory"), p("a-directory")],
            "failed to read snapshot",
        ),
        (
            vec![
                "diff".into(),
                p("garbage.json"),
                p("garbage.json"),
                "--format".into(),
                "xml".into(),
            ],
            "unknown report format `xml`",
        ),
        (
            vec!["check".into(), "--config".into(), p("nope.toml")],
            "nope.toml",
        ),
        (
            vec!["check".into(), "--config".into(), p("bad.toml")],
            "bad.toml:3",
        ),
        (
            vec![
                "explain".into(),
                "x".into(),
                "--report".into(),
                p("nope.json"),
            ],
            "nope.json",
        ),
        (vec!["rehearse".into(), p("nope.yaml")], "nope.yaml"),
        (
            vec!["rehearse".into(), "--check".into(), p("bad.yaml")],
            "bad.yaml:4",
        ),
        (
            vec![
                "mock".into(),
                "serve".into(),
                "--fixture".into(),
                p("garbage.json"),
            ],
            "garbage.json",
        ),
        (
            vec![
                "mock".into(),
                "serve".into(),
                "--fixture".into(),
                p("nope.json"),
            ],
            "cannot read fixture",
        ),
        (
            vec!["plan".into(), "init".into(), "sideways".into()],
            "sideways",
        ),
    ];
    for (args, expected) in cases {
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = standby(&argv, &[], home.path());
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{argv:?}: {stderr}");
        assert!(
            stderr.contains(expected),
            "{argv:?}: expected `{expected}` in:\n{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{argv:?}: {stderr}");
        let first = stderr.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("error") || first.contains("error:"),
            "{argv:?}: the first line says error:\n{stderr}"
        );
        // Each cause once: an error that prints its source in its own
        // message and again as the chain's next link says it twice.
        let causes: Vec<&str> = first.split(": ").collect();
        assert!(
            causes.windows(2).all(|w| w[0] != w[1]),
            "{argv:?}: a cause repeated:\n{stderr}"
        );
    }
}

#[test]
fn a_missing_token_names_what_to_set() {
    let home = tempfile::tempdir().unwrap();
    let out = standby(
        &[
            "snapshot",
            "-o",
            "x.json",
            "--host",
            "dbc-1.cloud.databricks.com",
        ],
        &[],
        home.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("no credentials for `https://dbc-1.cloud.databricks.com`"),
        "{stderr}"
    );
    assert!(stderr.contains("DATABRICKS_TOKEN"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one-line error: {stderr}");
}

#[tokio::test]
async fn a_401_exits_2_names_host_and_profile_and_never_the_token() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!({"error_code": "UNAUTHENTICATED", "message": "Invalid access token."}),
        ))
        .mount(&server)
        .await;
    let home = tempfile::tempdir().unwrap();
    let cfg = format!("[dr]\nhost = {}\ntoken = {TOKEN}\n", server.uri());
    std::fs::write(home.path().join(".databrickscfg"), cfg).unwrap();
    let out_file = home.path().join("snap.json");
    let out = standby(
        &[
            "snapshot",
            "--profile",
            "dr",
            "-vv",
            "-o",
            out_file.to_str().unwrap(),
            "--kinds",
            "users,jobs",
        ],
        &[],
        home.path(),
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "authentication to `{}` (profile `dr`) was refused",
            server.uri()
        )),
        "{stderr}"
    );
    assert!(
        !stderr.contains(TOKEN),
        "token leaked into stderr:\n{stderr}"
    );
    assert!(
        !out_file.exists(),
        "no snapshot is written when nothing could be read"
    );
}

#[test]
fn the_demo_reports_the_planted_drift_and_exits_1() {
    let home = tempfile::tempdir().unwrap();
    let out_dir = home.path().join("demo");
    let out = standby(
        &["demo", "--out", out_dir.to_str().unwrap()],
        &[],
        home.path(),
    );
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}\n{stdout}",
        text(&out.stderr)
    );
    assert!(
        stdout
            .lines()
            .any(|l| l == "drift: 20 findings (3 critical, 13 error, 4 warning) in 10 of 22 kinds"),
        "summary line:\n{stdout}"
    );
    for file in ["drift.txt", "drift.md", "drift.json", "drift.junit.xml"] {
        let path = out_dir.join("prod").join("dr-usw2").join(file);
        assert!(
            path.metadata().is_ok_and(|m| m.len() > 100),
            "{} written",
            path.display()
        );
    }
    for snap in ["primary.json", "dr-usw2.json"] {
        let path = out_dir.join("snapshots").join("prod").join(snap);
        standby::snapshot::read_snapshot(&path).expect("the demo's snapshots read back");
    }
    assert!(
        stdout.contains("the demo pair has drift on purpose"),
        "{stdout}"
    );
}

#[test]
fn mock_generate_writes_a_deterministic_fixture_the_mock_loads() {
    let home = tempfile::tempdir().unwrap();
    let path = |n: &str| home.path().join(n).to_str().unwrap().to_owned();
    let args = [
        "mock",
        "generate",
        "--seed",
        "9",
        "--jobs",
        "30",
        "--notebooks",
        "60",
        "--folders",
        "6",
    ];
    for name in ["a.json", "b.json"] {
        let out = standby(
            &[&args[..], &["-o", &path(name)]].concat(),
            &[],
            home.path(),
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    }
    let a = std::fs::read(path("a.json")).unwrap();
    assert_eq!(
        a,
        std::fs::read(path("b.json")).unwrap(),
        "same seed, same bytes"
    );
    standby::mock::load_fixture(path("a.json")).expect("the mock loads it");
    let v: serde_json::Value = serde_json::from_slice(&a).unwrap();
    assert_eq!(v["jobs"].as_array().unwrap().len(), 30);
    let notebooks = v["workspace_objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["object_type"] == "NOTEBOOK")
        .count();
    assert_eq!(notebooks, 60);
}

#[test]
fn a_closed_stdout_is_not_a_crash() {
    let home = tempfile::tempdir().unwrap();
    for args in [
        &["demo", "--out"][..],
        &["snapshot", "--kinds", "help", "-o"],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_standby"))
            .args(args)
            .arg(home.path().join("out"))
            .env_clear()
            .env("HOME", home.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take()); // the reader goes away, as with `| head -1`
        let out = child.wait_with_output().unwrap();
        let stderr = text(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{args:?}: {:?} {stderr}",
            out.status
        );
    }
}

#[test]
fn the_readme_plan_example_passes_its_checks_and_its_rehearsal() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let start = readme
        .find("```yaml\nname: failover to us-west-2")
        .expect("the README has a plan example")
        + 8;
    let end = start + readme[start..].find("```\n").unwrap();
    // The example's relative paths name the shipped fixtures, as from fixtures/plans/.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("plans")).unwrap();
    for file in ["standby.toml", "primary.json", "secondary.json"] {
        std::fs::copy(root.join("fixtures").join(file), dir.path().join(file)).unwrap();
    }
    let plan = dir.path().join("plans").join("example.yaml");
    std::fs::write(&plan, &readme[start..end]).unwrap();
    for args in [&["rehearse", "--check"][..], &["rehearse"]] {
        let out = standby(&[args, &[plan.to_str().unwrap()]].concat(), &[], dir.path());
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}\n{}",
            text(&out.stdout),
            text(&out.stderr)
        );
    }
}

/// `mock serve` exits 0 on SIGINT or SIGTERM sent the moment its port is
/// printed, even when started with SIGINT ignored, as a non-interactive
/// shell starts its background jobs (`standby mock serve … &`).
#[cfg(unix)]
#[test]
fn mock_serve_exits_0_on_a_signal_sent_as_soon_as_the_port_is_printed() {
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/primary.json");
    for signal in ["INT", "TERM"] {
        let mut mock = Command::new("sh")
            .arg("-c")
            .arg(r#"trap "" INT; exec "$0" mock serve --fixture "$1""#)
            .arg(env!("CARGO_BIN_EXE_standby"))
            .arg(&fixture)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("mock starts");
        let first = crate::support::first_line(&mut mock);
        assert!(
            first.starts_with("listening on http://127.0.0.1:"),
            "{first}"
        );
        let sent = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(mock.id().to_string())
            .status()
            .expect("kill runs");
        assert!(sent.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(status) = mock.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = mock.kill();
                let _ = mock.wait();
                panic!("SIG{signal}: `mock serve` still running 20 s after the signal");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(status.code(), Some(0), "SIG{signal}: {status:?}");
    }
}
