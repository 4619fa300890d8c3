//! `standby demo`: the whole job on the shipped example, with nothing but the
//! binary. Two mock workspaces (Acme's primary and its drifted DR copy) are
//! served in-process from embedded fixtures, captured, compared with the
//! shipped `standby.toml`; then the shipped failover plan is rehearsed on
//! fresh mocks of the same pair, and every report is written to one folder.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use secrecy::SecretString;

use super::check::check;
use super::{Global, Outcome};
use crate::auth::{Credentials, WorkspaceAuth, normalize_host};
use crate::config::{self, WorkspaceRef};
use crate::diff::Rules;
use crate::mock::{Fixture, MockOptions, MockServer};
use crate::output::write_atomic;
use crate::rehearsal::{self, RehearsalReport, ReportFormat, RunOptions};
use crate::report::{self, Format, RenderOptions};

const PRIMARY: &str = include_str!("../../fixtures/primary.json");
const SECONDARY: &str = include_str!("../../fixtures/secondary.json");
const CONFIG: &str = include_str!("../../fixtures/standby.toml");
const FAILOVER: &str = include_str!("../../fixtures/plans/failover.yaml");

pub(super) const EXAMPLES: &str = "\
Examples:
  standby demo                      # reports in ./standby-demo/
  standby demo --out /tmp/dr-demo

The demo pair has drift on purpose, so the demo exits 1, as `standby check`
would. It needs no network, no credentials and no files.";

/// Arguments of `standby demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Folder for every report and snapshot (files of an earlier demo are replaced).
    #[arg(long, value_name = "DIR", default_value = "standby-demo")]
    pub out: PathBuf,
}

pub(super) async fn run(args: DemoArgs, global: &Global) -> anyhow::Result<Outcome> {
    let token = crate::mock::random_token();
    let options = MockOptions {
        token: Some(SecretString::from(token.clone())),
        ..MockOptions::default()
    };
    let primary =
        MockServer::start(fixture(PRIMARY, "fixtures/primary.json")?, options.clone()).await?;
    let secondary =
        MockServer::start(fixture(SECONDARY, "fixtures/secondary.json")?, options).await?;

    let mut config = config::parse(Path::new("fixtures/standby.toml"), CONFIG)?;
    config.reports.directory = args.out.clone();
    config.snapshots.keep = true;
    config.snapshots.directory = args.out.join("snapshots");
    let (pair, dr) = config.select(None)?;
    let mocks = [
        (pair.primary.clone(), primary.url()),
        (dr.workspace.clone(), secondary.url()),
    ];
    let resolve = |ws: &WorkspaceRef| {
        let url = mocks
            .iter()
            .find(|(w, _)| w == ws)
            .map(|(_, url)| url.clone())
            .with_context(|| {
                format!(
                    "the demo config names an unknown workspace {}",
                    ws.describe()
                )
            })?;
        Ok(WorkspaceAuth {
            host: normalize_host(&url)?,
            profile: None,
            credentials: Credentials::Pat(SecretString::from(token.clone())),
        })
    };
    if !global.quiet {
        eprintln!(
            "standby demo: primary {} and passive copy {} (in-process mocks)",
            primary.url(),
            secondary.url()
        );
    }
    let results = check(&config, None, &resolve, global).await?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let color = super::color_stdout();
    for r in &results {
        if let Some(report) = &r.report {
            report::render(
                Format::Text,
                report,
                &RenderOptions {
                    color,
                    ..Default::default()
                },
                &mut out,
            )?;
        }
    }
    primary.shutdown().await;
    secondary.shutdown().await;

    // The rehearsal gets mocks of its own: the drift check must not see the
    // plan's changes, nor the plan the check's.
    let rehearsal = rehearse_failover(&config.rules_for(pair, dr)).await?;
    writeln!(out)?;
    rehearsal::render(ReportFormat::Text, &rehearsal, &mut out)?;
    let mut rehearsal_files = Vec::new();
    for (format, name) in [
        (ReportFormat::Text, "rehearsal.txt"),
        (ReportFormat::Markdown, "rehearsal-timeline.md"),
        (ReportFormat::Json, "rehearsal.json"),
        (ReportFormat::Junit, "rehearsal.junit.xml"),
    ] {
        let path = args.out.join(name);
        write_atomic(&path, |w| rehearsal::render(format, &rehearsal, w))?;
        rehearsal_files.push(path);
    }

    let mut written: Vec<&PathBuf> = results
        .iter()
        .flat_map(|r| &r.written)
        .chain(&rehearsal_files)
        .collect();
    written.sort();
    writeln!(out)?;
    writeln!(out, "reports written to {}/:", args.out.display())?;
    for path in written {
        writeln!(out, "  {}", path.display())?;
    }
    writeln!(
        out,
        "  {}/ (the two snapshots)",
        config.snapshots.directory.display()
    )?;
    let drift = results
        .iter()
        .map(|r| r.outcome)
        .max()
        .unwrap_or(Outcome::Clean);
    let outcome = if rehearsal.passed() {
        drift
    } else {
        drift.max(Outcome::Drift)
    };
    if outcome == Outcome::Drift {
        writeln!(
            out,
            "exit 1: the demo pair has drift on purpose (see fixtures/README.md)"
        )?;
    }
    out.flush()?;
    Ok(outcome)
}

/// Rehearses the shipped failover plan on fresh mocks of the demo pair.
async fn rehearse_failover(rules: &Rules) -> anyhow::Result<RehearsalReport> {
    let plan = rehearsal::parse(FAILOVER, "fixtures/plans/failover.yaml")?;
    let mocks = rehearsal::start_mocks(
        (
            fixture(PRIMARY, "fixtures/primary.json")?,
            "primary".to_owned(),
        ),
        (
            fixture(SECONDARY, "fixtures/secondary.json")?,
            "secondary".to_owned(),
        ),
    )
    .await?;
    let options = RunOptions {
        rules: Some(rules.clone()),
        ..RunOptions::default()
    };
    let mut events = Vec::new();
    let report = rehearsal::rehearse(&plan, &mocks.env, &options, &mut events).await;
    mocks.shutdown().await;
    Ok(report?)
}

fn fixture(text: &str, origin: &str) -> anyhow::Result<Fixture> {
    Ok(Fixture::parse(text, origin)?)
}
