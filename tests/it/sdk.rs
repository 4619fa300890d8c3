//! The official Databricks SDK for Python against `standby mock serve`,
//! unchanged: the conformance script in tests/sdk lists and gets every kind,
//! creates and updates a few, and checks what it reads back.
//!
//! `.ci/run` installs the pinned SDK in a virtual environment and sets
//! `STANDBY_SDK_PYTHON`; without it (a developer's machine) the test says so
//! and passes, but under CI it fails instead, so CI can never skip it.

use std::path::Path;
use std::process::{Command, Stdio};

#[test]
fn the_official_python_sdk_works_against_the_mock() {
    let Some(python) = std::env::var_os("STANDBY_SDK_PYTHON") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must set STANDBY_SDK_PYTHON (see .ci/run)"
        );
        eprintln!(
            "STANDBY_SDK_PYTHON is not set: skipping the SDK conformance test (bash .ci/run sets it)"
        );
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for fixture in ["primary.json", "secondary.json"] {
        let dir = tempfile::tempdir().unwrap();
        let token = "dapi-sdk-conformance-token";
        let token_file = dir.path().join("token");
        std::fs::write(&token_file, token).unwrap();
        let fixture = root.join("fixtures").join(fixture);
        let mut mock = Command::new(env!("CARGO_BIN_EXE_standby"))
            .args(["mock", "serve", "--fixture"])
            .arg(&fixture)
            .arg("--token-file")
            .arg(&token_file)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("mock starts");
        let first = crate::support::first_line(&mut mock);
        let url = first
            .trim()
            .strip_prefix("listening on ")
            .expect("first line names the URL")
            .to_owned();
        let run = Command::new(&python)
            .arg(root.join("tests/sdk/conformance.py"))
            .env("MOCK_URL", &url)
            .env("MOCK_TOKEN", token)
            .env("FIXTURE", &fixture)
            .output()
            .expect("python runs");
        let _ = mock.kill();
        let _ = mock.wait();
        let stdout = String::from_utf8_lossy(&run.stdout);
        assert!(
            run.status.success(),
            "{}: SDK conformance failed:\n{stdout}\n{}",
            fixture.display(),
            String::from_utf8_lossy(&run.stderr)
        );
        let last = stdout.lines().last().unwrap_or_default();
        assert!(last.ends_with(" passed, 0 failed"), "{last}");
    }
}
