//! `standby diff` and `standby explain`: two snapshot files in, a drift
//! report out.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;

use super::{Global, Outcome};
use crate::config::{self, Config, ConfigError};
use crate::diff::{self, Baseline, DriftReport, Rules};
use crate::output::{Destination, write_atomic, write_to};
use crate::report::{self, Format, RenderOptions};
use crate::snapshot::{SnapshotAccess, SnapshotFile};

pub(super) const EXAMPLES: &str = "\
Examples:
  standby diff prod.json dr.json
  standby diff prod.json dr.json --config standby.toml --junit drift.xml --markdown drift.md
  standby diff prod.json dr.json --format json -o drift.json
  standby diff prod.json dr.json --write-baseline baseline.json   # accept today's drift
  standby diff prod.json dr.json --baseline baseline.json          # fail only on new drift

Exit codes: 0 no unexpected drift, 1 drift found, 2 the check could not be
done (bad input, a kind incomplete on either side).";

/// Arguments of `standby diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The primary's snapshot file.
    pub primary: PathBuf,
    /// The secondary's snapshot file.
    pub secondary: PathBuf,
    /// Rules from this config file (roles, ignores, rewrites, RPO/RTO).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Which pair of the config: `PAIR` or `PAIR/SECONDARY` (needed when it has several).
    #[arg(long, value_name = "NAME")]
    pub pair: Option<String>,
    /// Format of the report on stdout (or in `-o`).
    #[arg(long, value_name = "FORMAT", default_value = "text")]
    pub format: Format,
    /// Write the main report here instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write a text report here.
    #[arg(long, value_name = "FILE")]
    pub text: Option<PathBuf>,
    /// Also write a Markdown report here (e.g. $GITHUB_STEP_SUMMARY).
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Also write the JSON report here.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Also write a JUnit XML report here.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// JUnit lists failing objects only (for very large workspaces).
    #[arg(long)]
    pub failures_only: bool,
    /// Show both values and a hint for every finding.
    #[arg(long)]
    pub details: bool,
    /// Accept the findings in this baseline file: only new or changed drift fails.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Write today's findings as a baseline file, to accept them from now on.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
}

/// Arguments of `standby explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The finding's id, as reports show it (e.g. `changed/jobs/nightly-etl`).
    pub finding: String,
    /// A JSON report written by `standby diff --json` or `standby check`.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["primary", "secondary"])]
    pub report: Option<PathBuf>,
    /// The primary's snapshot (instead of `--report`).
    #[arg(requires = "secondary")]
    pub primary: Option<PathBuf>,
    /// The secondary's snapshot.
    pub secondary: Option<PathBuf>,
    /// Rules from this config file.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Which pair of the config.
    #[arg(long, value_name = "NAME")]
    pub pair: Option<String>,
}

pub(super) fn run(args: DiffArgs, global: &Global) -> anyhow::Result<Outcome> {
    let config = args.config.as_deref().map(config::load).transpose()?;
    let (rules, config_baseline) = rules_from(config.as_ref(), args.pair.as_deref())?;
    let (mut primary_file, mut secondary_file) = (SnapshotFile::new(), SnapshotFile::new());
    let (primary, secondary) = SnapshotFile::read_pair(
        (&mut primary_file, &args.primary),
        (&mut secondary_file, &args.secondary),
    )?;
    let report = compare(
        &primary,
        &secondary,
        &rules,
        args.baseline.as_deref().or(config_baseline.as_deref()),
    )?;
    if let Some(path) = &args.write_baseline {
        write_atomic(path, |out| Baseline::from_report(&report).write(out))?;
    }
    let options = RenderOptions {
        color: args.output.is_none() && args.format == Format::Text && super::color_stdout(),
        failures_only: args.failures_only,
        verbose: args.details,
    };
    let main = args
        .output
        .as_deref()
        .map_or(Destination::Stdout, Destination::from_arg);
    write_to(&main, |out| {
        report::render(args.format, &report, &options, out)
    })?;
    let plain = RenderOptions {
        color: false,
        ..options
    };
    for (path, format) in [
        (&args.text, Format::Text),
        (&args.markdown, Format::Markdown),
        (&args.json, Format::Json),
        (&args.junit, Format::Junit),
    ] {
        if let Some(path) = path {
            write_atomic(path, |out| report::render(format, &report, &plain, out))?;
        }
    }
    if !global.quiet && (args.output.is_some() || args.format != Format::Text) {
        eprintln!("{}", report::summary_line(&report));
    }
    let outcome = outcome(&report);
    // Freeing the files' buffers and the report's allocations is work the
    // process's exit does anyway.
    std::mem::forget((primary, secondary, report));
    std::mem::forget((primary_file, secondary_file));
    Ok(outcome)
}

pub(super) fn explain(args: ExplainArgs) -> anyhow::Result<Outcome> {
    let report: DriftReport = match (&args.report, &args.primary, &args.secondary) {
        (Some(path), _, _) => {
            let bytes = std::fs::read(path)
                .with_context(|| format!("failed to read `{}`", path.display()))?;
            serde_json::from_slice(&bytes).map_err(|e| {
                anyhow::anyhow!(
                    "`{}` is not a standby JSON report: line {}, column {}: {e}",
                    path.display(),
                    e.line(),
                    e.column()
                )
            })?
        }
        (None, Some(p), Some(s)) => {
            let config = args.config.as_deref().map(config::load).transpose()?;
            let (rules, _) = rules_from(config.as_ref(), args.pair.as_deref())?;
            let (mut pf, mut sf) = (SnapshotFile::new(), SnapshotFile::new());
            let (p, s) = SnapshotFile::read_pair((&mut pf, p), (&mut sf, s))?;
            diff::diff(&p, &s, &rules)
        }
        _ => anyhow::bail!("give `--report FILE`, or the primary and secondary snapshot files"),
    };
    let stdout = std::io::stdout();
    let found = report::explain(&report, &args.finding, &mut stdout.lock())?;
    if found {
        Ok(Outcome::Clean)
    } else {
        let close: Vec<&str> = report
            .findings
            .iter()
            .map(|f| f.id.as_str())
            .filter(|id| id.contains(args.finding.rsplit('/').next().unwrap_or("")))
            .take(5)
            .collect();
        let hint = if close.is_empty() {
            String::new()
        } else {
            format!("\nhint: did you mean {}", close.join(", "))
        };
        anyhow::bail!("no finding `{}` in the report{hint}", args.finding)
    }
}

/// The rules of the selected pair, and its baseline file, or the defaults
/// (a passive secondary, no ignores) without a config.
pub(super) fn rules_from(
    config: Option<&Config>,
    pair: Option<&str>,
) -> anyhow::Result<(Rules, Option<PathBuf>)> {
    match config {
        None if pair.is_some() => anyhow::bail!("`--pair` needs `--config`"),
        None => Ok((Rules::default(), None)),
        Some(config) => {
            let (p, s) = config.select(pair)?;
            Ok((config.rules_for(p, s), s.baseline.clone()))
        }
    }
}

/// Diffs, checks the rules against the snapshots, applies a baseline.
pub(super) fn compare<S: SnapshotAccess>(
    primary: &S,
    secondary: &S,
    rules: &Rules,
    baseline: Option<&Path>,
) -> anyhow::Result<DriftReport> {
    if let Some(ignore) = diff::unmatched_ignores(rules, primary, secondary).first() {
        return Err(ConfigError::unmatched_ignore(ignore).into());
    }
    let mut report = diff::diff(primary, secondary, rules);
    if let Some(path) = baseline {
        Baseline::read(path)?.apply(&mut report);
    }
    Ok(report)
}

/// The exit code a report calls for: unknown kinds mean the check could not
/// be done, whatever else was found.
pub(super) fn outcome(report: &DriftReport) -> Outcome {
    if report.has_unknown() {
        Outcome::CouldNotCheck
    } else if report.has_drift() {
        Outcome::Drift
    } else {
        Outcome::Clean
    }
}
