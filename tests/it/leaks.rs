//! No token and no secret value in the snapshot, the `-vv` logs, or any
//! error message.

use reqwest::Method;
use serde_json::json;
use standby::mock::FaultConfig;

use crate::cli::standby;
use crate::e2e::start_mock;
use crate::support::{TOKEN, client};

const SECRET_VALUE: &str = "hunter2-PLAINTEXT-SECRET-VALUE";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_and_secret_values_never_reach_snapshots_logs_or_errors() {
    let mock = start_mock(
        "primary.json",
        FaultConfig {
            fault_rate: 0.2,
            seed: 3,
            ..FaultConfig::default()
        },
    )
    .await;
    // Put a secret value the way a sync would; the API never returns it.
    let c = client(&mock.url());
    for (scope, key) in [("prod-etl", "db-password"), ("prod-etl", "brand-new")] {
        let body = json!({"scope": scope, "key": key, "string_value": SECRET_VALUE});
        c.send(Method::POST, "/api/2.0/secrets/put", &[], Some(&body))
            .await
            .unwrap();
    }
    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("snap.json");
    let url = mock.url();
    let env = [
        ("DATABRICKS_HOST", url.as_str()),
        ("DATABRICKS_TOKEN", TOKEN),
    ];
    // The mock serves on the other worker while this one waits for the binary.
    let run = tokio::task::block_in_place(|| {
        standby(
            &["snapshot", "-vv", "-o", out.to_str().unwrap()],
            &env,
            home.path(),
        )
    });
    let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
    assert_eq!(run.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("kind captured"),
        "-vv logs were produced:\n{stderr}"
    );
    let snapshot = std::fs::read_to_string(&out).unwrap();
    assert!(
        snapshot.contains("\"prod-etl/brand-new\""),
        "the new key name is captured"
    );
    let b64 = base64_of(SECRET_VALUE);
    for (what, text) in [
        ("snapshot", &snapshot),
        ("stderr", &stderr),
        ("stdout", &String::from_utf8_lossy(&run.stdout).into_owned()),
    ] {
        assert!(!text.contains(TOKEN), "token in {what}");
        assert!(
            !text.contains(SECRET_VALUE) && !text.contains(&b64),
            "secret value in {what}"
        );
    }
    // An error path: a wrong token is refused without echoing either token.
    let bad = [
        ("DATABRICKS_HOST", url.as_str()),
        ("DATABRICKS_TOKEN", "dapi-WRONG-TOKEN-value"),
    ];
    let run = tokio::task::block_in_place(|| {
        standby(
            &["snapshot", "-vv", "-o", "-", "--kinds", "jobs"],
            &bad,
            home.path(),
        )
    });
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(
        !stderr.contains("dapi-WRONG-TOKEN-value") && !stderr.contains(TOKEN),
        "{stderr}"
    );
    mock.shutdown().await;
}

fn base64_of(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[test]
fn debug_output_of_credentials_is_redacted() {
    use secrecy::SecretString;
    use standby::auth::Credentials;
    let pat = Credentials::Pat(SecretString::from(TOKEN));
    let m2m = Credentials::OAuthM2M {
        client_id: "app-1".into(),
        client_secret: SecretString::from(TOKEN),
    };
    for text in [
        format!("{pat:?}"),
        format!("{m2m:?}"),
        format!("{:?}", crate::support::client("http://127.0.0.1:1")),
    ] {
        assert!(!text.contains(TOKEN), "{text}");
    }
}
