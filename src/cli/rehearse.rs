//! `standby rehearse`: run failover and failback plans against mock
//! workspaces (or check them without running), and report.
//!
//! The mocks are started in this process from fixtures (`--primary`,
//! `--secondary`, or the plan's `seed`s), or are workspaces the user
//! started (`--primary-host`, `--secondary-host`, e.g. `standby mock
//! serve`). A workspace that is not a standby mock is refused unless
//! `--i-know-this-is-a-real-workspace` says otherwise. Several plans run one
//! after the other against the same workspaces (`failover.yaml
//! failback.yaml`), each its own JUnit suite.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use secrecy::SecretString;

use super::{Global, Outcome};
use crate::output::write_atomic;
use crate::rehearsal::{
    self, CancelToken, Event, FnSink, InProcess, Plan, RehearsalEnv, RehearsalReport,
    RehearseError, ReportFormat, Role, RunOptions, RunOutcome, Severity, StepOutcome, Target,
};

pub(super) const EXAMPLES: &str = "\
Examples:
  standby rehearse fixtures/plans/failover.yaml
  standby rehearse --check fixtures/plans/broken-run-before-unpause.yaml
  standby rehearse failover.yaml failback.yaml --primary prod.json --secondary dr.json --junit rehearsal.xml
  standby rehearse failover.yaml --primary-host http://127.0.0.1:8001 --secondary-host http://127.0.0.1:8002
  standby rehearse failover.yaml --format markdown >> \"$GITHUB_STEP_SUMMARY\"

Time is the mocks' virtual clock: hours of a drill take well under a second.
Exit codes: 0 every plan passed, 1 a step failed or the recovery took longer
than the RTO, 2 a plan or an input is invalid, or the run was interrupted.";

/// Arguments of `standby rehearse`.
#[derive(Debug, Args)]
pub struct RehearseArgs {
    /// Plan files (YAML), run one after the other against the same workspaces.
    #[arg(value_name = "PLAN", required = true)]
    pub plans: Vec<PathBuf>,
    /// Only check the plans (syntax, fields, names, order); run nothing.
    #[arg(long)]
    pub check: bool,
    /// Fixture to seed the primary's mock from (default: the plan's `seed`).
    #[arg(long, value_name = "FILE", conflicts_with = "primary_host")]
    pub primary: Option<PathBuf>,
    /// Fixture to seed the secondary's mock from (default: the plan's `seed`).
    #[arg(long, value_name = "FILE", conflicts_with = "secondary_host")]
    pub secondary: Option<PathBuf>,
    /// Drive this running workspace as the primary (a `standby mock serve` mock).
    #[arg(long, value_name = "URL", requires = "secondary_host")]
    pub primary_host: Option<String>,
    /// Drive this running workspace as the secondary.
    #[arg(long, value_name = "URL", requires = "primary_host")]
    pub secondary_host: Option<String>,
    /// Bearer token for `--primary-host` and `--secondary-host`, read from a file (`-` for stdin).
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<PathBuf>,
    /// Allow hosts that are not standby mocks. A rehearsal freezes, pauses,
    /// starts and syncs: against a real workspace it does so for real.
    #[arg(long = "i-know-this-is-a-real-workspace")]
    pub real_workspace: bool,
    /// Run every step even after one fails (no rollbacks then).
    #[arg(long)]
    pub keep_going: bool,
    /// Run even when the static checks find errors, to see what the workspace answers.
    #[arg(long, hide = true)]
    pub skip_static_checks: bool,
    /// Format of the report on stdout.
    #[arg(long, value_name = "FORMAT", default_value = "text")]
    pub format: ReportFormat,
    /// Also write the JUnit report here.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Also write the JSON report here.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Also write the Markdown timeline here.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
}

fn read_token(path: &Path) -> anyhow::Result<SecretString> {
    let mut text = String::new();
    if path == Path::new("-") {
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the token from stdin")?;
    } else {
        text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read token file `{}`", path.display()))?;
    }
    let token = text.trim();
    anyhow::ensure!(
        !token.is_empty(),
        "token file `{}` is empty",
        path.display()
    );
    Ok(SecretString::from(token.to_owned()))
}

fn load_plans(paths: &[PathBuf]) -> Result<Vec<Plan>, Vec<String>> {
    let mut plans = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        match rehearsal::load(p) {
            Ok(plan) => plans.push(plan),
            Err(e) => errors.extend(e.0.iter().map(ToString::to_string)),
        }
    }
    if errors.is_empty() {
        Ok(plans)
    } else {
        Err(errors)
    }
}

/// Where the workspaces come from.
enum Source {
    Hosts(RehearsalEnv),
    Mocks(InProcess),
    None,
}

async fn workspaces(args: &RehearseArgs, first: &Plan, need: bool) -> anyhow::Result<Source> {
    if let (Some(p), Some(s)) = (&args.primary_host, &args.secondary_host) {
        let token = args.token_file.as_deref().map(read_token).transpose()?;
        let target = |role, url: &String| Target {
            role,
            url: url.clone(),
            token: token.clone(),
            label: format!("host {url}"),
            allow_real: args.real_workspace,
        };
        return Ok(Source::Hosts(RehearsalEnv {
            targets: vec![target(Role::Primary, p), target(Role::Secondary, s)],
        }));
    }
    let seed = |given: &Option<PathBuf>, role: Role| -> Option<PathBuf> {
        given.clone().or_else(|| rehearsal::seed_path(first, role))
    };
    let (Some(p), Some(s)) = (
        seed(&args.primary, Role::Primary),
        seed(&args.secondary, Role::Secondary),
    ) else {
        if need {
            anyhow::bail!(
                "no workspaces to rehearse against: give `--primary FIXTURE --secondary FIXTURE`, declare a `seed` for both workspaces in the plan, or pass `--primary-host` and `--secondary-host`"
            );
        }
        return Ok(Source::None);
    };
    let load = |path: &PathBuf| -> anyhow::Result<(crate::mock::Fixture, String)> {
        let f = rehearsal::load_seed(path).map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok((f, format!("mock seeded from {}", path.display())))
    };
    let mocks = rehearsal::start_mocks(load(&p)?, load(&s)?)
        .await
        .context("cannot start the mock workspaces")?;
    Ok(Source::Mocks(mocks))
}

pub(super) async fn run(args: RehearseArgs, global: &Global) -> anyhow::Result<Outcome> {
    let plans = match load_plans(&args.plans) {
        Ok(p) => p,
        Err(errors) => {
            for e in errors {
                eprintln!("{e}");
            }
            return Ok(Outcome::CouldNotCheck);
        }
    };
    let Some(first) = plans.first() else {
        return Ok(Outcome::CouldNotCheck);
    };
    let source = match workspaces(&args, first, !args.check).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e:#}");
            return Ok(Outcome::CouldNotCheck);
        }
    };
    let outcome = if args.check {
        check(&plans, &source, global).await
    } else {
        rehearse_all(&args, &plans, &source, global).await
    };
    if let Source::Mocks(m) = source {
        m.shutdown().await;
    }
    outcome
}

async fn check(plans: &[Plan], source: &Source, global: &Global) -> anyhow::Result<Outcome> {
    let env = match source {
        Source::Hosts(env) => Some(env),
        Source::Mocks(m) => Some(&m.env),
        Source::None => None,
    };
    let mut worst = Outcome::Clean;
    for plan in plans {
        let found = match env {
            Some(env) => match rehearsal::check_against(plan, env).await {
                Ok(d) => d,
                Err(e) => {
                    eprintln!("error: {e}");
                    return Ok(Outcome::CouldNotCheck);
                }
            },
            None => rehearsal::check(plan, &Default::default()),
        };
        for d in &found {
            eprintln!("{d}");
        }
        let errors = found
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();
        if errors > 0 {
            worst = Outcome::CouldNotCheck;
            eprintln!(
                "{}: {errors} error{}",
                plan.file,
                if errors == 1 { "" } else { "s" }
            );
        } else if !global.quiet {
            let against = if env.is_some() {
                "against the seeded workspaces"
            } else {
                "without seeds (names of jobs, clusters and pools not checked)"
            };
            eprintln!(
                "{}: ok, {} steps, checked {against}",
                plan.file,
                plan.steps.len()
            );
        }
    }
    Ok(worst)
}

/// One progress line per finished step, on stderr.
fn progress_line(e: &Event, total: usize, color: bool) -> Option<String> {
    let Event::StepFinished(s) = e else {
        return None;
    };
    let (word, paint) = match s.outcome {
        StepOutcome::Passed => ("ok", "32"),
        StepOutcome::Failed => ("FAILED", "31"),
        StepOutcome::Skipped => ("skipped", "33"),
        StepOutcome::Interrupted => ("INTERRUPTED", "31"),
    };
    let word = if color {
        format!("\x1b[{paint}m{word}\x1b[0m")
    } else {
        word.to_owned()
    };
    let mut line = format!(
        "[{:>w$}/{total}] {} {word} {}",
        s.index + 1,
        rehearsal::format_offset(s.started_ms),
        s.name,
        w = total.to_string().len()
    );
    if let Some(m) = s
        .message
        .as_ref()
        .filter(|_| s.outcome != StepOutcome::Skipped)
    {
        line.push_str(&format!(": {m}"));
    }
    Some(line)
}

async fn rehearse_all(
    args: &RehearseArgs,
    plans: &[Plan],
    source: &Source,
    global: &Global,
) -> anyhow::Result<Outcome> {
    let env = match source {
        Source::Hosts(env) => env,
        Source::Mocks(m) => &m.env,
        Source::None => return Ok(Outcome::CouldNotCheck),
    };
    let cancel = CancelToken::new();
    let watcher = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!(
                    "interrupted: stopping after the current request; the report of what ran follows"
                );
                cancel.cancel();
            }
        })
    };
    let color = super::color_stderr();
    let mut reports: Vec<RehearsalReport> = Vec::new();
    let mut outcome = Outcome::Clean;
    for plan in plans {
        let options = RunOptions {
            keep_going: args.keep_going,
            skip_static_checks: args.skip_static_checks,
            cancel: cancel.clone(),
            rules: None,
        };
        let total = plan.steps.len();
        let quiet = global.quiet;
        let mut sink = FnSink(move |e: &Event| {
            if quiet {
                return;
            }
            match e {
                Event::RunStarted(info) => {
                    eprintln!("rehearsing `{}` ({} steps)", info.plan, info.steps.len());
                    for w in &info.warnings {
                        eprintln!("  {w}");
                    }
                }
                other => {
                    if let Some(line) = progress_line(other, total, color) {
                        eprintln!("{line}");
                    }
                }
            }
        });
        match rehearsal::rehearse(plan, env, &options, &mut sink).await {
            Ok(report) => {
                let this = match report.summary.outcome {
                    RunOutcome::Passed => Outcome::Clean,
                    RunOutcome::Failed => Outcome::Drift,
                    RunOutcome::Interrupted => Outcome::CouldNotCheck,
                };
                outcome = outcome.max(this);
                reports.push(report);
                if this != Outcome::Clean && !args.keep_going {
                    break;
                }
            }
            Err(RehearseError::Invalid(errors)) => {
                for d in &errors.0 {
                    eprintln!("{d}");
                }
                outcome = Outcome::CouldNotCheck;
                break;
            }
            Err(e) => {
                eprintln!("error: {e}");
                outcome = Outcome::CouldNotCheck;
                break;
            }
        }
        if cancel.is_cancelled() {
            break;
        }
    }
    watcher.abort();
    write_reports(args, &reports)?;
    if !global.quiet {
        for r in &reports {
            eprintln!("{}", rehearsal::summary_line(r));
        }
    }
    Ok(outcome)
}

fn write_reports(args: &RehearseArgs, reports: &[RehearsalReport]) -> anyhow::Result<()> {
    if reports.is_empty() {
        return Ok(());
    }
    for (path, format) in [
        (&args.junit, ReportFormat::Junit),
        (&args.json, ReportFormat::Json),
        (&args.markdown, ReportFormat::Markdown),
    ] {
        if let Some(path) = path {
            write_atomic(path, |out| rehearsal::render_all(format, reports, out))?;
            eprintln!("wrote {}", path.display());
        }
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    rehearsal::render_all(args.format, reports, &mut out)?;
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: RehearseArgs,
    }

    fn parse(line: &[&str]) -> Result<RehearseArgs, clap::Error> {
        let mut argv = vec!["rehearse"];
        argv.extend_from_slice(line);
        Cli::try_parse_from(argv).map(|c| c.args)
    }

    #[test]
    fn command_lines() {
        let a = parse(&["plan.yaml"]).unwrap();
        assert_eq!(a.plans, vec![PathBuf::from("plan.yaml")]);
        assert_eq!(a.format, ReportFormat::Text);
        assert!(!a.check && !a.keep_going && !a.real_workspace);
        let a = parse(&["a.yaml", "b.yaml", "--format", "junit", "--keep-going"]).unwrap();
        assert_eq!(a.plans.len(), 2);
        assert_eq!(a.format, ReportFormat::Junit);
        assert!(parse(&[]).is_err(), "a plan is required");
        assert!(parse(&["p.yaml", "--format", "xml"]).is_err());
        assert!(
            parse(&["p.yaml", "--primary-host", "http://x"]).is_err(),
            "both hosts or none"
        );
        assert!(
            parse(&[
                "p.yaml",
                "--primary",
                "f.json",
                "--primary-host",
                "http://x",
                "--secondary-host",
                "http://y"
            ])
            .is_err()
        );
        let a = parse(&[
            "p.yaml",
            "--primary-host",
            "http://x",
            "--secondary-host",
            "http://y",
            "--i-know-this-is-a-real-workspace",
        ])
        .unwrap();
        assert!(a.real_workspace);
    }
}
