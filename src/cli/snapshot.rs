//! `standby snapshot`: capture one workspace into a snapshot file.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;

use super::{CaptureProgress, Global, Outcome, WorkspaceArgs};
use crate::client::{Client, ClientConfig, Family, RateLimits};
use crate::collect::{CollectOptions, Journal};
use crate::kind::Kind;
use crate::output::{Destination, write_to};
use crate::snapshot::{Snapshot, Status, write_snapshot};

pub(super) const EXAMPLES: &str = "\
Examples:
  standby snapshot --profile prod -o prod.json
  standby snapshot --host https://dbc-123.cloud.databricks.com --kinds jobs,clusters,permissions -o - > jobs.json
  standby snapshot --profile prod -o prod.json --resume     # continue a killed capture

A capture keeps a journal in FILE.journal while it runs; --resume continues
from it without fetching again what it holds.";

/// Arguments of `standby snapshot`.
#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// Which workspace.
    #[command(flatten)]
    pub workspace: WorkspaceArgs,
    /// Kinds to capture, comma-separated (default: all). See `--kinds help`.
    #[arg(long, value_name = "KINDS", default_value = "all")]
    pub kinds: String,
    /// Requests in flight at once (the service allows about 20 per workspace).
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    /// Client-side rate limit of an endpoint family in requests/s, or `none`;
    /// repeatable, e.g. `--rate-limit permissions_read=50`.
    #[arg(long = "rate-limit", value_name = "FAMILY=N")]
    pub rate_limits: Vec<String>,
    /// Workspace folder to list recursively.
    #[arg(long, value_name = "PATH", default_value = "/")]
    pub workspace_root: String,
    /// Export notebooks and files to record a content hash (one more request per object).
    #[arg(long)]
    pub content_hash: bool,
    /// Continue a killed or failed capture from its journal.
    #[arg(long)]
    pub resume: bool,
    /// Journal file (default: OUTPUT.journal; needed with `-o -` to resume).
    #[arg(long, value_name = "PATH")]
    pub journal: Option<PathBuf>,
    /// Where to write the snapshot; `-` for stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
}

/// Resolved settings of one snapshot run.
#[derive(Debug)]
pub struct SnapshotSettings {
    /// The resolved workspace.
    pub auth: crate::auth::WorkspaceAuth,
    /// Client behaviour.
    pub client: ClientConfig,
    /// What to collect.
    pub collect: CollectOptions,
    /// Output destination.
    pub output: Destination,
    /// The journal path, if the capture keeps one on disk.
    pub journal: Option<PathBuf>,
    /// `--resume`.
    pub resume: bool,
}

impl SnapshotArgs {
    /// Validates flags and resolves the workspace.
    pub fn resolve(&self) -> anyhow::Result<SnapshotSettings> {
        let kinds = Kind::parse_list(&self.kinds)?;
        if kinds.is_empty() {
            anyhow::bail!("`--kinds` names no kind");
        }
        let rate_limits = parse_rate_limits(&self.rate_limits)?;
        let output = Destination::from_arg(&self.output);
        let journal = self.journal.clone().or_else(|| match &output {
            Destination::File(p) => Some(PathBuf::from(format!("{}.journal", p.display()))),
            Destination::Stdout => None,
        });
        if self.resume && journal.is_none() {
            anyhow::bail!("`--resume` with `-o -` needs `--journal PATH`");
        }
        // Flags are checked before the workspace is resolved, so a typo is
        // reported as such even on a machine with no credentials.
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let auth = crate::auth::resolve(
            &self.workspace.to_inputs(),
            &|k| std::env::var(k).ok(),
            home.as_deref(),
        )?;
        Ok(SnapshotSettings {
            auth,
            client: ClientConfig {
                concurrency: self.concurrency.into(),
                rate_limits,
                ..ClientConfig::default()
            },
            collect: CollectOptions {
                kinds,
                workspace_root: self.workspace_root.clone(),
                content_hash: self.content_hash,
            },
            output,
            journal,
            resume: self.resume,
        })
    }
}

/// Parses `family=N` overrides on top of the published defaults.
fn parse_rate_limits(specs: &[String]) -> anyhow::Result<RateLimits> {
    let mut limits = RateLimits::default();
    for spec in specs {
        let (family, value) = spec
            .split_once('=')
            .with_context(|| format!("`--rate-limit {spec}`: expected FAMILY=N"))?;
        let family: Family = family
            .trim()
            .parse()
            .map_err(|e: String| anyhow::anyhow!(e))?;
        let value = value.trim();
        let rate = if value == "none" {
            None
        } else {
            let n: f64 = value
                .parse()
                .ok()
                .filter(|n: &f64| n.is_finite() && *n > 0.0)
                .with_context(|| {
                    format!("`--rate-limit {spec}`: expected a positive number or `none`")
                })?;
            Some(n)
        };
        limits.0.insert(family, rate);
    }
    Ok(limits)
}

pub(super) async fn run(args: SnapshotArgs, global: &Global) -> anyhow::Result<Outcome> {
    if args.kinds.trim() == "help" {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", Kind::ALL.map(Kind::name).join("\n"))?;
        return Ok(Outcome::Clean);
    }
    let settings = args.resolve()?;
    let host = settings.auth.host.as_str().trim_end_matches('/').to_owned();
    let profile = settings.auth.profile.clone();
    let journal = match &settings.journal {
        Some(path) => Journal::open(path, &host, settings.resume)?,
        None => Journal::in_memory(),
    };
    if settings.resume && !journal.is_empty() {
        tracing::info!(units = journal.len(), "resuming from the journal");
    }
    let journal = Arc::new(journal);
    let client = Client::new(settings.auth, settings.client)?;
    let progress = Arc::new(CaptureProgress::new(
        &host,
        &settings.collect.kinds,
        global.progress(),
    ));
    let snapshot = crate::capture::capture(
        client.clone(),
        settings.collect,
        journal.clone(),
        progress.clone(),
    )
    .await;
    progress.finish();
    tracing::info!(
        requests = client.stats().requests,
        throttled = client.stats().throttled,
        "capture finished"
    );

    if let Some(err) = first_auth_error(&snapshot) {
        let who = profile
            .map(|p| format!(" (profile `{p}`)"))
            .unwrap_or_default();
        anyhow::bail!(
            "authentication to `{host}`{who} was refused: {err}\nhint: check the token or OAuth client in that profile or in DATABRICKS_TOKEN / DATABRICKS_CLIENT_ID"
        );
    }
    write_to(&settings.output, |out| write_snapshot(&snapshot, out))?;
    let complete = snapshot.kinds.values().all(|s| s.status.is_complete());
    // An incomplete capture keeps its journal: `--resume` retries only what failed.
    if complete {
        if let Ok(journal) = Arc::try_unwrap(journal) {
            journal.finish();
        }
    }
    let incomplete: Vec<String> = snapshot
        .kinds
        .iter()
        .filter_map(|(kind, section)| match &section.status {
            Status::Complete => None,
            Status::Incomplete { reason } => Some(format!("  {kind}: {}", reason.message)),
        })
        .collect();
    if incomplete.is_empty() {
        Ok(Outcome::Clean)
    } else {
        let resume = match &settings.journal {
            Some(path) => format!(
                "\nhint: `--resume` retries only what failed (journal `{}`)",
                path.display()
            ),
            None => String::new(),
        };
        eprintln!(
            "warning: {} kind(s) of `{host}` are incomplete (recorded as such in the snapshot):\n{}{resume}",
            incomplete.len(),
            incomplete.join("\n")
        );
        Ok(Outcome::CouldNotCheck)
    }
}

/// A 401 on any kind means the credentials are wrong: nothing was captured.
fn first_auth_error(snapshot: &Snapshot) -> Option<String> {
    snapshot.kinds.values().find_map(|s| match &s.status {
        Status::Incomplete { reason } if reason.http_status == Some(401) => {
            Some(reason.message.clone())
        }
        _ => None,
    })
}
