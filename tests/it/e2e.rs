//! `standby snapshot` against the stateful mock serving the shipped fixtures:
//! every kind complete, every fixture object captured under its natural key,
//! the same bytes under injected faults, and no token or secret anywhere.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use secrecy::SecretString;
use serde_json::Value;
use standby::collect::{CollectOptions, Journal, Quiet};
use standby::kind::Kind;
use standby::mock::{FaultConfig, MockOptions, MockServer, load_fixture};
use standby::snapshot::{Snapshot, write_snapshot};

use crate::support::{TOKEN, client_with};

pub fn fixture_path(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

pub async fn start_mock(name: &str, faults: FaultConfig) -> MockServer {
    let fixture = load_fixture(fixture_path(name)).expect("shipped fixture loads");
    let options = MockOptions {
        token: Some(SecretString::from(TOKEN)),
        faults,
        ..MockOptions::default()
    };
    MockServer::start(fixture, options)
        .await
        .expect("mock starts")
}

pub async fn capture_all(url: &str, max_attempts: u32) -> Snapshot {
    let client = client_with(url, |c| c.max_attempts = max_attempts);
    standby::capture::capture(
        client,
        CollectOptions::default(),
        Arc::new(Journal::in_memory()),
        Arc::new(Quiet),
    )
    .await
}

/// The snapshot's bytes with the run-specific metadata blanked.
pub fn stable_bytes(snapshot: &Snapshot) -> String {
    let mut out = Vec::new();
    write_snapshot(snapshot, &mut out).unwrap();
    let mut text = String::from_utf8(out).unwrap();
    let meta = serde_json::to_string(&snapshot.metadata).unwrap();
    text = text.replace(&meta, "\"<metadata>\"");
    text
}

fn keys(snapshot: &Snapshot, kind: Kind) -> BTreeSet<String> {
    snapshot.kinds[&kind]
        .records
        .iter()
        .map(|r| r.key.clone())
        .collect()
}

fn strings(items: &Value, f: impl Fn(&Value) -> Option<String>) -> BTreeSet<String> {
    items
        .as_array()
        .map(|a| a.iter().filter_map(&f).collect())
        .unwrap_or_default()
}

fn field(path: &'static [&'static str]) -> impl Fn(&Value) -> Option<String> {
    move |v| {
        let mut cur = v;
        for p in path {
            cur = cur.get(*p)?;
        }
        cur.as_str().map(str::to_owned)
    }
}

#[tokio::test]
async fn the_snapshot_reproduces_every_fixture_object() {
    let mock = start_mock("primary.json", FaultConfig::default()).await;
    let snap = capture_all(&mock.url(), 2).await;
    for (kind, section) in &snap.kinds {
        assert!(
            section.status.is_complete(),
            "{kind} incomplete: {:?}",
            section.status
        );
    }
    assert_eq!(snap.kinds.len(), Kind::ALL.len());
    let fx: Value =
        serde_json::from_slice(&std::fs::read(fixture_path("primary.json")).unwrap()).unwrap();

    assert_eq!(
        keys(&snap, Kind::Users),
        strings(&fx["users"], field(&["userName"]))
    );
    assert_eq!(
        keys(&snap, Kind::Groups),
        strings(&fx["groups"], field(&["displayName"]))
    );
    assert_eq!(
        keys(&snap, Kind::ServicePrincipals),
        strings(&fx["service_principals"], field(&["applicationId"]))
    );
    assert_eq!(
        keys(&snap, Kind::Jobs),
        strings(&fx["jobs"], field(&["settings", "name"]))
    );
    let all_purpose = |c: &Value| {
        let source = c["cluster_source"].as_str().unwrap_or("UI");
        (source == "UI" || source == "API")
            .then(|| c["cluster_name"].as_str().map(str::to_owned))
            .flatten()
    };
    assert_eq!(
        keys(&snap, Kind::Clusters),
        strings(&fx["clusters"], all_purpose)
    );
    assert_eq!(
        keys(&snap, Kind::InstancePools),
        strings(&fx["instance_pools"], field(&["instance_pool_name"]))
    );
    assert_eq!(
        keys(&snap, Kind::ClusterPolicies),
        strings(&fx["cluster_policies"], field(&["name"]))
    );
    assert_eq!(
        keys(&snap, Kind::GlobalInitScripts),
        strings(&fx["global_init_scripts"], field(&["name"]))
    );
    assert_eq!(
        keys(&snap, Kind::Repos),
        strings(&fx["repos"], field(&["path"]))
    );
    assert_eq!(
        keys(&snap, Kind::SecretScopes),
        strings(&fx["secret_scopes"], field(&["name"]))
    );
    let mut secrets = BTreeSet::new();
    let mut acls = BTreeSet::new();
    for scope in fx["secret_scopes"].as_array().unwrap() {
        let name = scope["name"].as_str().unwrap();
        for s in scope["secrets"].as_array().into_iter().flatten() {
            secrets.insert(format!("{name}/{}", s["key"].as_str().unwrap()));
        }
        for a in scope["acls"].as_array().into_iter().flatten() {
            acls.insert(format!("{name}/{}", a["principal"].as_str().unwrap()));
        }
    }
    assert_eq!(keys(&snap, Kind::Secrets), secrets);
    assert_eq!(keys(&snap, Kind::SecretAcls), acls);
    assert_eq!(
        keys(&snap, Kind::Tables),
        strings(&fx["tables"], field(&["full_name"]))
    );
    let schemas = strings(&fx["schemas"], field(&["full_name"]));
    assert_eq!(
        keys(&snap, Kind::Schemas),
        schemas
            .into_iter()
            .filter(|s| !s.ends_with(".information_schema"))
            .collect()
    );
    let catalogs = strings(&fx["catalogs"], |c| {
        (c["catalog_type"] != "SYSTEM_CATALOG" && c["name"] != "system")
            .then(|| c["name"].as_str().map(str::to_owned))
            .flatten()
    });
    assert_eq!(keys(&snap, Kind::Catalogs), catalogs);
    assert_eq!(
        keys(&snap, Kind::SqlWarehouses),
        strings(&fx["sql_warehouses"], field(&["name"]))
    );
    let ip = strings(&fx["ip_access_lists"], |l| {
        Some(format!(
            "{}:{}",
            l["list_type"].as_str()?,
            l["label"].as_str()?
        ))
    });
    assert_eq!(keys(&snap, Kind::IpAccessLists), ip);
    let conf: BTreeSet<String> = fx["workspace_conf"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, v)| v.as_str().is_some_and(|s| !s.is_empty()))
        .map(|(k, _)| k.clone())
        .collect();
    assert!(keys(&snap, Kind::WorkspaceConf).is_subset(&conf));
    let grants = strings(&fx["grants"], |g| {
        Some(format!(
            "{}:{}",
            g["securable_type"].as_str()?.to_lowercase(),
            g["full_name"].as_str()?
        ))
    });
    assert!(grants.is_subset(&keys(&snap, Kind::Grants)), "{grants:?}");

    // Every listed workspace object is captured; the rest are its implied parent folders.
    let listed = strings(&fx["workspace_objects"], field(&["path"]));
    let captured = keys(&snap, Kind::WorkspaceObjects);
    let in_repo = |p: &String| {
        keys(&snap, Kind::Repos)
            .iter()
            .any(|r| p.starts_with(&format!("{r}/")))
    };
    for path in listed.iter().filter(|p| !in_repo(p)) {
        assert!(
            captured.contains(path),
            "workspace object `{path}` not captured"
        );
    }
    for path in &captured {
        assert!(
            listed.contains(path) || listed.iter().any(|l| l.starts_with(&format!("{path}/"))),
            "`{path}`"
        );
    }
    // Normalized content is a fixpoint: normalizing it again changes nothing.
    for section in snap.kinds.values() {
        for record in &section.records {
            let mut again: Value = serde_json::from_str(record.content.get()).unwrap();
            standby::normalize::canonicalize(&mut again);
            assert_eq!(
                standby::normalize::canonical_json(&again),
                record.content.get(),
                "{}",
                record.key
            );
        }
    }
    // Every job has an ACL record, under the job's name.
    for job in keys(&snap, Kind::Jobs) {
        assert!(
            keys(&snap, Kind::Permissions).contains(&format!("jobs:{job}")),
            "no ACL for job `{job}`"
        );
    }
    mock.shutdown().await;
}

#[tokio::test]
async fn the_primary_fixture_snapshot() {
    let mock = start_mock("primary.json", FaultConfig::default()).await;
    let snap = capture_all(&mock.url(), 2).await;
    insta::with_settings!({ snapshot_path => "../../snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("snapshot_primary", stable_bytes(&snap));
    });
    mock.shutdown().await;
}

#[tokio::test]
async fn faults_and_rate_limits_do_not_change_a_byte() {
    let clean = start_mock("secondary.json", FaultConfig::default()).await;
    let reference = stable_bytes(&capture_all(&clean.url(), 2).await);
    clean.shutdown().await;
    let faults = FaultConfig {
        fault_rate: 0.3,
        rate_limit: Some(400.0),
        seed: 7,
        ..FaultConfig::default()
    };
    let faulty = start_mock("secondary.json", faults).await;
    let client = client_with(&faulty.url(), |c| {
        c.max_attempts = 30;
        c.backoff_base = std::time::Duration::from_millis(1);
        c.backoff_max = std::time::Duration::from_millis(50);
    });
    let snap = standby::capture::capture(
        client.clone(),
        CollectOptions::default(),
        Arc::new(Journal::in_memory()),
        Arc::new(Quiet),
    )
    .await;
    assert!(
        client.stats().retries > 10,
        "faults were injected: {:?}",
        client.stats()
    );
    assert_eq!(stable_bytes(&snap), reference);
    faulty.shutdown().await;
}
