//! The command line: clap arguments → resolved settings → one command → exit
//! code. The only module that knows clap.

mod check;
mod demo;
mod diff;
mod exit;
mod logging;
mod mock;
mod plan;
mod progress;
mod rehearse;
mod snapshot;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

pub use exit::Outcome;
pub use progress::CaptureProgress;

const EXAMPLES: &str = "\
Examples:
  standby snapshot --profile prod -o prod.json
  DATABRICKS_HOST=https://dbc-123.cloud.databricks.com DATABRICKS_TOKEN=... standby snapshot -o - --kinds jobs,clusters
  standby mock serve --fixture fixtures/primary.json

Exit codes: 0 clean, 1 drift or a failed rehearsal, 2 the check could not be done.";

/// Databricks disaster-recovery auditor: snapshot workspaces, compare a
/// passive copy with its primary, rehearse failover.
#[derive(Debug, Parser)]
#[command(name = "standby", version, after_help = EXAMPLES, propagate_version = true)]
pub struct Cli {
    /// More logs on stderr (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// No progress bar, errors only.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// standby's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Capture a normalized inventory of one workspace into a snapshot file.
    #[command(after_help = snapshot::EXAMPLES)]
    Snapshot(snapshot::SnapshotArgs),
    /// Run the whole job on the shipped example: two mock workspaces, snapshot, diff, reports.
    #[command(after_help = demo::EXAMPLES)]
    Demo(demo::DemoArgs),
    /// Snapshot every workspace pair of standby.toml, diff, write the reports (nightly CI).
    #[command(after_help = check::EXAMPLES)]
    Check(check::CheckArgs),
    /// Compare a primary and a secondary snapshot into a drift report.
    #[command(after_help = diff::EXAMPLES)]
    Diff(diff::DiffArgs),
    /// Show one finding in full: both values side by side and what would fix it.
    Explain(diff::ExplainArgs),
    /// Rehearse failover and failback plans against mock workspaces (or only check them).
    #[command(after_help = rehearse::EXAMPLES)]
    Rehearse(rehearse::RehearseArgs),
    /// Rehearsal plans: `standby plan init failover|failback` writes one to start from.
    Plan {
        /// The plan command.
        #[command(subcommand)]
        command: plan::PlanCommand,
    },
    /// A stateful mock Databricks workspace, for rehearsals, demos and tests.
    Mock {
        /// The mock command.
        #[command(subcommand)]
        command: MockCommand,
    },
}

/// `standby mock` commands.
#[derive(Debug, Subcommand)]
pub enum MockCommand {
    /// Serve fixture workspaces over HTTP until SIGINT/SIGTERM.
    #[command(after_help = mock::EXAMPLES)]
    Serve(mock::MockServeArgs),
    /// Write a large, deterministic fixture for benchmarks and scale tests.
    Generate(mock::MockGenerateArgs),
}

/// Which workspace, and how to authenticate. Tokens never come as a bare
/// value: from `DATABRICKS_TOKEN`, a profile, or `--token-file`.
#[derive(Debug, Args, Clone, Default)]
pub struct WorkspaceArgs {
    /// Profile in ~/.databrickscfg (or DATABRICKS_CONFIG_FILE); [DEFAULT] when none is named.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Workspace URL, e.g. https://dbc-123.cloud.databricks.com (else DATABRICKS_HOST or the profile).
    #[arg(long, value_name = "URL")]
    pub host: Option<String>,
    /// Read the access token from this file (`-` for stdin) instead of DATABRICKS_TOKEN.
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<PathBuf>,
}

impl WorkspaceArgs {
    /// The auth layer's view of these flags.
    pub fn to_inputs(&self) -> crate::auth::AuthInputs {
        crate::auth::AuthInputs {
            host: self.host.clone(),
            profile: self.profile.clone(),
            token_file: self.token_file.clone(),
            config_file: None,
        }
    }
}

/// Parses the command line, runs the command and returns the exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                Outcome::CouldNotCheck.code()
            } else {
                0
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    logging::init(cli.verbose, cli.quiet);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return Outcome::CouldNotCheck.into();
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(outcome) => outcome.into(),
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            Outcome::CouldNotCheck.into()
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<Outcome> {
    let global = Global { quiet: cli.quiet };
    match cli.command {
        Command::Snapshot(args) => snapshot::run(args, &global).await,
        Command::Check(args) => check::run(args, &global).await,
        Command::Demo(args) => demo::run(args, &global).await,
        Command::Rehearse(args) => rehearse::run(args, &global).await,
        Command::Plan { command } => plan::run(command),
        Command::Diff(args) => diff::run(args, &global),
        Command::Explain(args) => diff::explain(args),
        Command::Mock { command } => {
            let code = match command {
                MockCommand::Serve(args) => mock::serve(args).await?,
                MockCommand::Generate(args) => mock::generate(args)?,
            };
            Ok(if code == ExitCode::SUCCESS {
                Outcome::Clean
            } else {
                Outcome::CouldNotCheck
            })
        }
    }
}

/// Flags every command sees.
#[derive(Clone, Copy, Debug)]
pub struct Global {
    /// `-q`.
    pub quiet: bool,
}

impl Global {
    /// Whether to draw progress bars.
    pub fn progress(&self) -> bool {
        !self.quiet && std::io::stderr().is_terminal()
    }
}

/// Colour on stderr: a terminal, and `NO_COLOR` unset.
pub fn color_stderr() -> bool {
    no_color_unset() && std::io::stderr().is_terminal()
}

/// Colour on stdout: a terminal, and `NO_COLOR` unset.
pub fn color_stdout() -> bool {
    no_color_unset() && std::io::stdout().is_terminal()
}

fn no_color_unset() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// A closed stdout (`standby ... | head`) is not an error (ripgrep does the same).
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
