//! `standby plan init failover|failback`: writes the DR guide's procedure as
//! a plan to start from, every action and check shown with comments.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};

use super::Outcome;
use crate::output::write_atomic;
use crate::rehearsal::{self, Direction};

pub(super) const EXAMPLES: &str = "\
Examples:
  standby plan init failover > failover.yaml
  standby plan init failback -o failback.yaml
  standby rehearse --check failover.yaml";

/// `standby plan` commands.
#[derive(Debug, Subcommand)]
pub enum PlanCommand {
    /// Write the DR guide's failover or failback procedure as a plan to start from.
    #[command(after_help = EXAMPLES)]
    Init(PlanInitArgs),
}

/// Which procedure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DirectionArg {
    /// The guide's "Test failover" list.
    Failover,
    /// The guide's "Test restore (failback)" list.
    Failback,
}

/// Arguments of `standby plan init`.
#[derive(Debug, Args)]
pub struct PlanInitArgs {
    /// Failover or failback.
    #[arg(value_enum)]
    pub direction: DirectionArg,
    /// Write the plan here instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace the file if it exists.
    #[arg(long, requires = "output")]
    pub force: bool,
}

pub(super) fn run(command: PlanCommand) -> anyhow::Result<Outcome> {
    let PlanCommand::Init(args) = command;
    let direction = match args.direction {
        DirectionArg::Failover => Direction::Failover,
        DirectionArg::Failback => Direction::Failback,
    };
    let text = rehearsal::template(direction);
    match &args.output {
        Some(path) => {
            if path.exists() && !args.force {
                anyhow::bail!("`{}` exists; pass `--force` to replace it", path.display());
            }
            write_atomic(path, |out| out.write_all(text.as_bytes()))
                .with_context(|| format!("cannot write the plan to `{}`", path.display()))?;
            eprintln!(
                "wrote {}; check it with `standby rehearse --check {}`",
                path.display(),
                path.display()
            );
        }
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
        }
    }
    Ok(Outcome::Clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_refuses_to_overwrite_without_force() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("failover.yaml");
        let args = |force| PlanInitArgs {
            direction: DirectionArg::Failover,
            output: Some(path.clone()),
            force,
        };
        run(PlanCommand::Init(args(false))).unwrap();
        let written = std::fs::read_to_string(&path).unwrap();
        assert!(rehearsal::parse(&written, "failover.yaml").is_ok());
        let e = run(PlanCommand::Init(args(false))).unwrap_err().to_string();
        assert!(e.contains("pass `--force`"), "{e}");
        run(PlanCommand::Init(args(true))).unwrap();
    }
}
