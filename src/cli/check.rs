//! `standby check`: the nightly CI command. For every pair in the config,
//! snapshot the primary and its secondaries concurrently, diff each
//! secondary against the primary, write the reports the config names.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use indicatif::MultiProgress;

use super::{CaptureProgress, Global, Outcome};
use crate::auth::WorkspaceAuth;
use crate::client::Client;
use crate::collect::{CollectOptions, Journal};
use crate::config::{self, Config, PairConfig, SecondaryConfig, WorkspaceRef};
use crate::diff::DriftReport;
use crate::kind::Kind;
use crate::output::write_atomic;
use crate::report::{self, Format, RenderOptions};
use crate::snapshot::{Snapshot, Status, write_snapshot};

pub(super) const EXAMPLES: &str = "\
Examples:
  standby check                          # ./standby.toml, every pair
  standby check --config ci/standby.toml --pair prod/dr-usw2
  standby check --format markdown >> \"$GITHUB_STEP_SUMMARY\"

Exit codes: 0 no unexpected drift, 1 drift found, 2 the check could not be
done (bad config, auth failure, a kind incomplete on either side).";

/// Arguments of `standby check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The config file naming the workspace pairs.
    #[arg(long, value_name = "FILE", default_value = "standby.toml")]
    pub config: PathBuf,
    /// Only this pair: `PAIR` or `PAIR/SECONDARY`.
    #[arg(long, value_name = "NAME")]
    pub pair: Option<String>,
    /// Format of the report printed on stdout (files follow the config).
    #[arg(long, value_name = "FORMAT", default_value = "text")]
    pub format: Format,
}

/// What one secondary's check produced.
#[derive(Debug)]
pub struct CheckResult {
    /// `PAIR/SECONDARY`.
    pub name: String,
    /// The drift report, when both sides could be captured.
    pub report: Option<DriftReport>,
    /// The exit code this secondary calls for.
    pub outcome: Outcome,
    /// Report files written.
    pub written: Vec<PathBuf>,
}

pub(super) async fn run(args: CheckArgs, global: &Global) -> anyhow::Result<Outcome> {
    let config = config::load(&args.config)?;
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let resolve = |ws: &WorkspaceRef| {
        crate::auth::resolve(
            &ws.to_auth_inputs(),
            &|k| std::env::var(k).ok(),
            home.as_deref(),
        )
        .with_context(|| format!("cannot resolve workspace {}", ws.describe()))
    };
    let results = check(&config, args.pair.as_deref(), &resolve, global).await?;
    let color = args.format == Format::Text && super::color_stdout();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for r in &results {
        if let Some(report) = &r.report {
            report::render(
                args.format,
                report,
                &RenderOptions {
                    color,
                    ..Default::default()
                },
                &mut out,
            )?;
        }
    }
    drop(out);
    if !global.quiet {
        for r in &results {
            let line = r
                .report
                .as_ref()
                .map_or_else(|| "not checked".to_owned(), report::summary_line);
            eprintln!("{}: {line}", r.name);
            for path in &r.written {
                eprintln!("  wrote {}", path.display());
            }
        }
    }
    Ok(results
        .iter()
        .map(|r| r.outcome)
        .max()
        .unwrap_or(Outcome::Clean))
}

/// Checks every selected pair. `resolve` turns a config workspace into a
/// resolved one (the demo maps them to its in-process mocks).
pub async fn check(
    config: &Config,
    selection: Option<&str>,
    resolve: &dyn Fn(&WorkspaceRef) -> anyhow::Result<WorkspaceAuth>,
    global: &Global,
) -> anyhow::Result<Vec<CheckResult>> {
    let mut targets: BTreeMap<String, (&PairConfig, Vec<&SecondaryConfig>)> = BTreeMap::new();
    match selection {
        Some(_) => {
            let (p, s) = config.select(selection)?;
            let all_of_pair = selection.is_some_and(|w| !w.contains('/'));
            let secondaries = if all_of_pair {
                p.secondaries.iter().collect()
            } else {
                vec![s]
            };
            targets.insert(p.name.clone(), (p, secondaries));
        }
        None => {
            for (p, s) in config.targets() {
                targets
                    .entry(p.name.clone())
                    .or_insert((p, Vec::new()))
                    .1
                    .push(s);
            }
        }
    }
    let multi = MultiProgress::new();
    let mut results = Vec::new();
    for (pair, secondaries) in targets.into_values() {
        results.extend(check_pair(config, pair, &secondaries, resolve, global, &multi).await?);
    }
    Ok(results)
}

async fn check_pair(
    config: &Config,
    pair: &PairConfig,
    secondaries: &[&SecondaryConfig],
    resolve: &dyn Fn(&WorkspaceRef) -> anyhow::Result<WorkspaceAuth>,
    global: &Global,
    multi: &MultiProgress,
) -> anyhow::Result<Vec<CheckResult>> {
    // The primary is captured once for all its secondaries, with the union of their kinds.
    let mut kinds: Vec<Kind> = Vec::new();
    for s in secondaries {
        kinds.extend(s.kinds.clone().unwrap_or_else(|| Kind::ALL.to_vec()));
    }
    kinds.sort();
    kinds.dedup();
    let primary_auth = resolve(&pair.primary)?;
    let mut sides = vec![(primary_auth, kinds)];
    for s in secondaries {
        sides.push((
            resolve(&s.workspace)?,
            s.kinds.clone().unwrap_or_else(|| Kind::ALL.to_vec()),
        ));
    }
    let captures = sides.into_iter().map(|(auth, kinds)| {
        let client_config = config.client.client_config();
        let progress = global.progress();
        async move {
            let host = auth.host.as_str().trim_end_matches('/').to_owned();
            let client = Client::new(auth, client_config)?;
            let observer = Arc::new(CaptureProgress::with_multi(&host, &kinds, progress, multi));
            let options = CollectOptions {
                kinds,
                ..CollectOptions::default()
            };
            let snap = crate::capture::capture(
                client,
                options,
                Arc::new(Journal::in_memory()),
                observer.clone(),
            )
            .await;
            observer.finish();
            anyhow::Ok(snap)
        }
    });
    let mut snapshots = futures::future::try_join_all(captures).await?.into_iter();
    let primary = snapshots.next().expect("the primary was captured");
    if config.snapshots.keep {
        save(&config.snapshots.primary_path(&pair.name), &primary)?;
    }
    let mut results = Vec::new();
    for (secondary_config, secondary) in secondaries.iter().zip(snapshots) {
        let name = format!("{}/{}", pair.name, secondary_config.name);
        if config.snapshots.keep {
            save(
                &config
                    .snapshots
                    .secondary_path(&pair.name, &secondary_config.name),
                &secondary,
            )?;
        }
        if let Some(message) = refused(&primary).or_else(|| refused(&secondary)) {
            eprintln!("error: {name}: {message}");
            results.push(CheckResult {
                name,
                report: None,
                outcome: Outcome::CouldNotCheck,
                written: Vec::new(),
            });
            continue;
        }
        let rules = config.rules_for(pair, secondary_config);
        let report = super::diff::compare(
            &primary,
            &secondary,
            &rules,
            secondary_config.baseline.as_deref(),
        )?;
        let mut written = Vec::new();
        let options = RenderOptions {
            failures_only: config.reports.failures_only,
            ..RenderOptions::default()
        };
        for &format in &config.reports.formats {
            let path = config
                .reports
                .path(&pair.name, &secondary_config.name, format);
            create_parent(&path)?;
            write_atomic(&path, |out| report::render(format, &report, &options, out))?;
            written.push(path);
        }
        let outcome = super::diff::outcome(&report);
        results.push(CheckResult {
            name,
            report: Some(report),
            outcome,
            written,
        });
    }
    Ok(results)
}

/// The 401 that makes a whole capture worthless, if one happened.
fn refused(snapshot: &Snapshot) -> Option<String> {
    snapshot.kinds.values().find_map(|k| match &k.status {
        Status::Incomplete { reason } if reason.http_status == Some(401) => Some(format!(
            "authentication to `{}` was refused: {}",
            snapshot.metadata.host, reason.message
        )),
        _ => None,
    })
}

fn save(path: &std::path::Path, snapshot: &Snapshot) -> anyhow::Result<()> {
    create_parent(path)?;
    write_atomic(path, |out| write_snapshot(snapshot, out))?;
    Ok(())
}

fn create_parent(path: &std::path::Path) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("failed to create `{}`", dir.display()))?;
    }
    Ok(())
}
