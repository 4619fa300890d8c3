//! `standby mock serve`: serve fixtures as mock Databricks workspaces until
//! SIGINT or SIGTERM.
//!
//! Each `--fixture` is one workspace on its own port: with `--addr` port 0
//! (the default) each gets a free port; with a fixed port P, the N-th fixture
//! (from 0) gets P+N. The first lines on stdout are one
//! `listening on http://127.0.0.1:PORT` per workspace, in `--fixture` order,
//! flushed at once so a script can read the ports; nothing else goes to stdout.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use secrecy::SecretString;
use tokio::io::AsyncWriteExt;

use crate::mock::{FaultConfig, Fixture, Limits, MockOptions, MockServer, load_fixture};

/// Examples shown under `standby mock serve --help`.
pub const EXAMPLES: &str = "\
Examples:
  standby mock serve --fixture fixtures/primary.json
  standby mock serve --fixture fixtures/primary.json --fixture fixtures/secondary.json --token-file token.txt
  standby mock serve --fixture big.json --latency-ms 20 --fault-rate 0.1 --limits realistic --seed 7

Each fixture is served on its own port; stdout's first lines are
`listening on http://127.0.0.1:PORT`, one per fixture, in order. The control
API (virtual clock, outages, faults, request log, state dump) is under
/_standby/ on each port.";

/// Which service limits `--limits` enforces.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LimitsArg {
    /// No per-endpoint limits.
    #[default]
    None,
    /// The service's published limits: jobs 20/s, permission reads 100/s and
    /// writes 30/s, workspace list 50/s, SCIM 255/min, secrets 1,100/min, and
    /// about 20 requests in flight per workspace.
    Realistic,
}

/// Arguments of `standby mock serve`.
#[derive(Debug, Args)]
pub struct MockServeArgs {
    /// A workspace fixture (JSON, fixture format 1); repeat for several
    /// workspaces, each on its own port. Without any, one empty workspace.
    #[arg(long = "fixture", value_name = "FILE")]
    pub fixtures: Vec<PathBuf>,
    /// Address to listen on; port 0 picks free ports, a fixed port P serves
    /// the N-th fixture on P+N.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub addr: SocketAddr,
    /// Require this bearer token, read from a file (`-` for stdin; surrounding
    /// whitespace is ignored). Tokens are never given on the command line.
    /// Without it, any request is accepted.
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<PathBuf>,
    /// Delay every answer by this many milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub latency_ms: u64,
    /// Share of requests (0 to 1) answered 429 (with or without Retry-After),
    /// 500 or 503, drawn from --seed.
    #[arg(long, value_name = "RATE", default_value_t = 0.0, value_parser = parse_rate)]
    pub fault_rate: f64,
    /// Requests per second per workspace beyond which the answer is 429.
    #[arg(long, value_name = "N", value_parser = parse_positive)]
    pub rate_limit: Option<f64>,
    /// Enforce the service's per-endpoint limits.
    #[arg(long, value_name = "MODE", value_enum, default_value_t = LimitsArg::None)]
    pub limits: LimitsArg,
    /// Seed of the fault draws: the same seed fails the same requests.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed: u64,
    /// Move the virtual clock with the wall clock (clusters start, jobs run
    /// and schedules fire by themselves), for demos.
    #[arg(long)]
    pub real_time: bool,
}

fn parse_rate(s: &str) -> Result<f64, String> {
    let r: f64 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if (0.0..=1.0).contains(&r) {
        Ok(r)
    } else {
        Err(format!("{r} is not between 0 and 1"))
    }
}

fn parse_positive(s: &str) -> Result<f64, String> {
    let r: f64 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if r.is_finite() && r > 0.0 {
        Ok(r)
    } else {
        Err(format!("{r} is not a positive number"))
    }
}

/// Reads the token file; the token itself never appears in messages.
fn read_token(path: &Path) -> anyhow::Result<SecretString> {
    let text = if path == Path::new("-") {
        std::io::read_to_string(std::io::stdin()).context("cannot read the token from stdin")?
    } else {
        std::fs::read_to_string(path)
            .with_context(|| format!("cannot read token file `{}`", path.display()))?
    };
    let token = text.trim();
    if token.is_empty() {
        bail!("token file `{}` is empty", path.display());
    }
    Ok(SecretString::from(token.to_owned()))
}

/// The address of the N-th workspace.
fn addr_for(base: SocketAddr, index: usize) -> anyhow::Result<SocketAddr> {
    if base.port() == 0 {
        return Ok(base);
    }
    let port = u16::try_from(usize::from(base.port()) + index).with_context(|| {
        format!(
            "no port left for fixture {} above {}",
            index + 1,
            base.port()
        )
    })?;
    Ok(SocketAddr::new(base.ip(), port))
}

/// Serves every fixture until SIGINT or SIGTERM; exit 0 then.
pub async fn serve(args: MockServeArgs) -> anyhow::Result<ExitCode> {
    let token = args.token_file.as_deref().map(read_token).transpose()?;
    let faults = FaultConfig {
        latency_ms: args.latency_ms,
        fault_rate: args.fault_rate,
        rate_limit: args.rate_limit,
        limits: match args.limits {
            LimitsArg::None => Limits::None,
            LimitsArg::Realistic => Limits::Realistic,
        },
        seed: args.seed,
    };
    faults.validate().map_err(anyhow::Error::msg)?;
    // Listening starts before the port is printed: a script that reads the
    // port and signals at once must not find the signal ignored (background
    // jobs of a non-interactive shell start with SIGINT ignored) or fatal.
    let signals = Signals::listen()?;
    let mut fixtures = Vec::new();
    for path in &args.fixtures {
        fixtures.push((load_fixture(path)?, path.display().to_string()));
    }
    if fixtures.is_empty() {
        fixtures.push((Fixture::empty("empty"), "(empty workspace)".to_owned()));
    }
    let mut servers = Vec::new();
    for (index, (fixture, origin)) in fixtures.into_iter().enumerate() {
        let options = MockOptions {
            addr: addr_for(args.addr, index)?,
            token: token.clone(),
            faults: faults.clone(),
            real_time: args.real_time,
            ..MockOptions::default()
        };
        let name = fixture.name().to_owned();
        let server = MockServer::start(fixture, options)
            .await
            .with_context(|| format!("cannot serve `{origin}`"))?;
        eprintln!(
            "serving `{name}` from {origin} at {} (control API under /_standby/)",
            server.url()
        );
        servers.push(server);
    }
    let mut stdout = tokio::io::stdout();
    let lines: String = servers
        .iter()
        .map(|s| format!("listening on {}\n", s.url()))
        .collect();
    stdout
        .write_all(lines.as_bytes())
        .await
        .context("cannot write to stdout")?;
    stdout.flush().await.context("cannot write to stdout")?;

    signals.wait().await?;
    for server in servers {
        server.shutdown().await;
    }
    Ok(ExitCode::SUCCESS)
}

/// SIGINT (Ctrl-C) and SIGTERM, listened for from creation on.
struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    /// Installs the handlers now, so a signal sent from here on is caught.
    fn listen() -> anyhow::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Signals {
                interrupt: signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?,
                terminate: signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?,
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    /// Waits for either signal.
    async fn wait(mut self) -> anyhow::Result<()> {
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
        #[cfg(not(unix))]
        tokio::signal::ctrl_c()
            .await
            .context("cannot listen for Ctrl-C")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: MockServeArgs,
    }

    fn parse(line: &[&str]) -> Result<MockServeArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("serve").chain(line.iter().copied())).map(|c| c.args)
    }

    #[test]
    fn command_lines() {
        let a = parse(&[]).unwrap();
        assert_eq!(a.addr, "127.0.0.1:0".parse().unwrap());
        assert!(a.fixtures.is_empty() && a.token_file.is_none() && !a.real_time);
        let a = parse(&[
            "--fixture",
            "a.json",
            "--fixture",
            "b.json",
            "--fault-rate",
            "0.3",
            "--limits",
            "realistic",
            "--seed",
            "9",
        ])
        .unwrap();
        assert_eq!(a.fixtures.len(), 2);
        assert_eq!(
            (a.fault_rate, a.limits, a.seed),
            (0.3, LimitsArg::Realistic, 9)
        );
        let a = parse(&[
            "--rate-limit",
            "50",
            "--latency-ms",
            "20",
            "--real-time",
            "--token-file",
            "t",
        ])
        .unwrap();
        assert_eq!(
            (a.rate_limit, a.latency_ms, a.real_time),
            (Some(50.0), 20, true)
        );
        for bad in [
            &["--fault-rate", "1.5"][..],
            &["--fault-rate", "x"],
            &["--rate-limit", "0"],
            &["--limits", "strict"],
            &["--addr", "nowhere"],
            &["--token", "abc"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn ports_for_several_fixtures() {
        let base: SocketAddr = "127.0.0.1:8000".parse().unwrap();
        assert_eq!(addr_for(base, 2).unwrap().port(), 8002);
        let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
        assert_eq!(addr_for(any, 5).unwrap().port(), 0);
        assert!(addr_for("127.0.0.1:65535".parse().unwrap(), 1).is_err());
    }

    #[test]
    fn token_files_are_trimmed_and_never_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "dapi-abc\n").unwrap();
        use secrecy::ExposeSecret;
        assert_eq!(read_token(&path).unwrap().expose_secret(), "dapi-abc");
        std::fs::write(&path, " \n").unwrap();
        assert!(
            read_token(&path)
                .unwrap_err()
                .to_string()
                .contains("is empty")
        );
        let missing = read_token(&dir.path().join("nope")).unwrap_err();
        assert!(missing.to_string().contains("cannot read token file"));
    }

    #[tokio::test]
    async fn a_bad_fixture_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.json");
        std::fs::write(&path, "{\"fixture_version\": 1,\n \"jobz\": []}").unwrap();
        let args = parse(&["--fixture", path.to_str().unwrap()]).unwrap();
        let e = serve(args).await.unwrap_err();
        let text = format!("{e:#}");
        assert!(
            text.contains("bad.json") && text.contains("line 2"),
            "{text}"
        );
    }
}

/// Arguments of `standby mock generate`: a large deterministic fixture.
#[derive(Debug, clap::Args)]
pub struct MockGenerateArgs {
    /// Start from the capture benchmark's workspace (10,000 jobs, 5,000 users,
    /// 1,000 groups, 20,000 notebooks in 2,000 folders) instead of a small one.
    #[arg(long)]
    pub benchmark: bool,
    /// Seed of every id and attribute: the same flags give the same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// SCIM users.
    #[arg(long)]
    pub users: Option<u64>,
    /// SCIM groups.
    #[arg(long)]
    pub groups: Option<u64>,
    /// Service principals.
    #[arg(long)]
    pub service_principals: Option<u64>,
    /// Jobs (each with permissions).
    #[arg(long)]
    pub jobs: Option<u64>,
    /// All-purpose clusters.
    #[arg(long)]
    pub clusters: Option<u64>,
    /// Instance pools.
    #[arg(long)]
    pub pools: Option<u64>,
    /// Notebooks, spread over `--folders`.
    #[arg(long)]
    pub notebooks: Option<u64>,
    /// Folders holding the notebooks.
    #[arg(long)]
    pub folders: Option<u64>,
    /// Unity Catalog tables.
    #[arg(long)]
    pub tables: Option<u64>,
    /// Where to write the fixture; `-` for stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: std::path::PathBuf,
}

/// `standby mock generate`: writes a generated fixture (streamed, bounded memory).
pub fn generate(args: MockGenerateArgs) -> anyhow::Result<ExitCode> {
    use crate::mock::generate::{GenerateSpec, write_fixture};
    let mut spec = if args.benchmark {
        GenerateSpec::benchmark(args.seed)
    } else {
        GenerateSpec::default()
    };
    spec.seed = args.seed;
    for (slot, value) in [
        (&mut spec.users, args.users),
        (&mut spec.groups, args.groups),
        (&mut spec.service_principals, args.service_principals),
        (&mut spec.jobs, args.jobs),
        (&mut spec.clusters, args.clusters),
        (&mut spec.pools, args.pools),
        (&mut spec.notebooks, args.notebooks),
        (&mut spec.folders, args.folders),
        (&mut spec.tables, args.tables),
    ] {
        if let Some(v) = value {
            *slot = v;
        }
    }
    if spec.notebooks > 0 && spec.folders == 0 {
        anyhow::bail!("`--notebooks` needs at least one folder (`--folders`)");
    }
    let dest = crate::output::Destination::from_arg(&args.output);
    crate::output::write_to(&dest, |out| write_fixture(&spec, out))?;
    eprintln!(
        "generated {} objects (seed {})",
        spec.object_count(),
        spec.seed
    );
    Ok(ExitCode::SUCCESS)
}
