//! Capture benchmark: how close `standby snapshot` comes to what the service's
//! limits allow, how it compares with the official Python SDK, and what a
//! large capture costs in requests, time and memory.
//!
//! - **A** (issue 3): an in-process mock with the service's published
//!   per-family limits, its cap of 20 requests in flight and 100 ms latency,
//!   serving 10,000 jobs (each with an ACL) and 20,000 notebooks in 2,000
//!   folders. standby's capture at default settings: wall time against the
//!   floor (the slowest of: each family's calls ÷ its limit, all calls ×
//!   latency ÷ 20, the serial chain of list pages), the share of 429s, and
//!   whether every generated object came back. Then a capture killed once
//!   half the floor has passed, resumed from its journal: the rest's wall
//!   time against the floor.
//! - **B** (issue 3): the same kind of workspace at a tenth of the size,
//!   served by `standby mock serve` in its own process: the official Python
//!   SDK (`benches/sdk_capture.py`) one call at a time and with 10 threads,
//!   then `standby snapshot`, with the 429s each drew from the mock's log.
//! - **C** (issue 4): 10,000 jobs, 5,000 users, 1,000 groups, 20,000
//!   notebooks behind a mock with 20 ms latency and no service limits:
//!   `standby snapshot` at its default concurrency, at `--concurrency 1`,
//!   and at its default concurrency with its client-side rate limits off:
//!   wall time, requests sent against the minimum the data needs,
//!   requests/s and peak RSS.
//! - **D** (issue 3): a workspace that snapshots to about 1,000,000 records
//!   (420,000 notebooks in 8,400 folders and their ACLs, 100,000 users,
//!   5,000 groups, 20,000 jobs and their ACLs) behind a mock with no latency
//!   and no limits: `standby snapshot` with its client-side limits off, as a
//!   child process: wall time, requests, records written and peak RSS
//!   (target: at most 3 GiB).
//!
//! ```text
//! cargo bench --bench capture                               # everything, ~40 min
//! cargo bench --bench capture -- --only a --scale 0.2       # part A at a fifth of the size
//! cargo bench --bench capture -- --scale 0.02               # a quick check of all four
//! cargo bench --bench capture -- --only d                   # the million-record capture, ~2 min
//! ```
//!
//! Parts run in the order B, C, D, A, so that the bench is still small when it
//! starts the child processes whose peak memory it reports.
//!
//! `--scale` multiplies every workload; part B runs at `--sdk-scale` (0.1)
//! times that, so the serial SDK finishes in minutes. Part B needs the SDK
//! pinned in `tests/sdk/requirements.txt`: in `--python`,
//! `$STANDBY_SDK_PYTHON`, or `target/bench-venv` (created when absent, which
//! needs PyPI).
//!
//! Linux only: peak RSS comes from `wait4`, and every child process is
//! started with `PR_SET_PDEATHSIG`, so no mock outlives the bench however it
//! ends (children are also killed and reaped on every normal exit path).
//! Everything listens on and talks to 127.0.0.1 only.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::fs::File;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};
use secrecy::SecretString;
use serde::Deserialize;
use standby::auth::{Credentials, WorkspaceAuth, normalize_host};
use standby::client::{Client, ClientConfig, Family};
use standby::collect::{CollectOptions, Journal, Quiet};
use standby::kind::Kind;
use standby::mock::generate::{GenerateSpec, write_fixture};
use standby::mock::{FaultConfig, Limits, MAX_IN_FLIGHT, MockOptions, MockServer, load_fixture};
use standby::snapshot::{Snapshot, read_snapshot, write_snapshot};

/// The release binary cargo built beside this bench.
const STANDBY: &str = env!("CARGO_BIN_EXE_standby");
const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");
/// Latency of parts A and B (issue 3) and of part C (issue 4).
const LATENCY_AB_MS: u64 = 100;
const LATENCY_C_MS: u64 = 20;
/// Issue 3's targets.
const TARGET_WALL_RATIO: f64 = 1.15;
const TARGET_429_SHARE: f64 = 0.01;
const TARGET_RESUME_RATIO: f64 = 0.55;
const TARGET_SDK_SPEEDUP: f64 = 8.0;
/// Issue 3's "a few GiB" for a 1,000,000-record capture.
const TARGET_MILLION_PEAK_GIB: f64 = 3.0;

/// A part of the benchmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
enum Part {
    /// Capture at the service's limits, killed and resumed (issue 3).
    A,
    /// The official Python SDK side by side (issue 3).
    B,
    /// The large workspace at default concurrency and at 1 (issue 4).
    C,
    /// A capture of about 1,000,000 records: time and peak memory (issue 3).
    D,
}

/// Flags; `cargo bench` adds `--bench`, which is accepted and ignored.
#[derive(Debug, Parser)]
#[command(
    name = "capture",
    about = "standby's capture benchmark (see benches/README.md)"
)]
struct Args {
    /// Parts to run, comma-separated (default: all).
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Part>,
    /// Multiplies every workload (1 = the issues' sizes).
    #[arg(long, default_value_t = 1.0, value_parser = parse_scale)]
    scale: f64,
    /// Part B's size relative to `--scale` (the serial SDK makes every call in turn).
    #[arg(long, default_value_t = 0.1, value_parser = parse_scale)]
    sdk_scale: f64,
    /// Threads of the concurrent SDK run.
    #[arg(long, default_value_t = 10)]
    sdk_threads: usize,
    /// Python with `databricks-sdk` installed (default: $STANDBY_SDK_PYTHON or target/bench-venv).
    #[arg(long, value_name = "PATH")]
    python: Option<PathBuf>,
    /// Seed of the generated workspaces.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Keep the working folder (fixtures, snapshots, logs) and print its path.
    #[arg(long)]
    keep: bool,
    #[arg(long, hide = true)]
    bench: bool,
}

fn parse_scale(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if v.is_finite() && v > 0.0 && v <= 10.0 {
        Ok(v)
    } else {
        Err(format!("{v} is not between 0 and 10"))
    }
}

/// The allocator the `standby` binary ships with (see `src/main.rs`), so
/// the figures are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// What every part shares.
struct Ctx {
    args: Args,
    work: PathBuf,
    token: String,
    token_file: PathBuf,
    /// A copy of the release binary: a rebuild during a long run cannot swap it.
    standby: PathBuf,
}

/// Runs the parts; true when every target was met.
fn run(args: Args) -> Result<bool> {
    // The parts that start child processes go first, while the bench is
    // small: Linux charges a forked child with its parent's peak RSS, and part
    // A holds a whole workspace and its request log in this process.
    let parts: Vec<Part> = [Part::B, Part::C, Part::D, Part::A]
        .into_iter()
        .filter(|p| args.only.is_empty() || args.only.contains(p))
        .collect();
    let base = bench_data_dir();
    std::fs::create_dir_all(&base)
        .with_context(|| format!("cannot create `{}`", base.display()))?;
    let dir = tempfile::Builder::new()
        .prefix("capture-bench-")
        .tempdir_in(&base)
        .context("cannot create the working folder")?;
    let token = random_token();
    let token_file = dir.path().join("token");
    write_private(&token_file, &token)?;
    let standby = dir.path().join("standby");
    std::fs::copy(STANDBY, &standby).with_context(|| format!("cannot copy `{STANDBY}`"))?;
    let ctx = Ctx {
        args,
        work: dir.path().to_owned(),
        token,
        token_file,
        standby,
    };
    // Spawning happens on this thread only (see `Proc`), and the async parts
    // run on it through `block_on`.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;

    let mut report = String::new();
    let started = Instant::now();
    let _ = writeln!(report, "## capture benchmark\n");
    let _ = writeln!(report, "{}\n", Machine::read().markdown());
    let _ = writeln!(
        report,
        "Command: `cargo bench --bench capture --{}{}{}`\n",
        if parts.len() == Part::value_variants().len() {
            String::new()
        } else {
            format!(
                " --only {}",
                parts
                    .iter()
                    .map(|p| format!("{p:?}").to_lowercase())
                    .collect::<Vec<_>>()
                    .join(",")
            )
        },
        format_args!(" --scale {}", num(ctx.args.scale)),
        format_args!(" --sdk-scale {}", num(ctx.args.sdk_scale)),
    );
    print!("{report}");
    let mut checks: Vec<Check> = Vec::new();
    for part in parts {
        let t = Instant::now();
        let result = match part {
            Part::A => rt.block_on(part_a(&ctx)),
            Part::B => part_b(&ctx, &rt),
            Part::C => part_c(&ctx, &rt),
            Part::D => part_d(&ctx, &rt),
        };
        let section = match result {
            Ok((text, part_checks)) => {
                checks.extend(part_checks);
                text
            }
            Err(e) => {
                checks.push(Check::new(
                    format!("part {part:?} ran"),
                    format!("failed: {e:#}"),
                    "",
                    Some(false),
                ));
                format!("### {part:?}\n\nfailed: {e:#}\n")
            }
        };
        let section = format!(
            "{section}\n_part {part:?} took {}_\n\n",
            human(t.elapsed().as_secs_f64())
        );
        print!("{section}");
        std::io::stdout().flush().ok();
        report.push_str(&section);
    }
    let mut summary =
        String::from("### targets\n\n| check | value | target | met |\n|---|---|---|---|\n");
    for c in &checks {
        let met = match c.ok {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "",
        };
        let _ = writeln!(
            summary,
            "| {} | {} | {} | {met} |",
            c.metric, c.value, c.target
        );
    }
    let _ = writeln!(
        summary,
        "\nTotal {}; load average at the end: {}",
        human(started.elapsed().as_secs_f64()),
        loadavg()
    );
    print!("{summary}");
    report.push_str(&summary);
    // Result lines for `benches/run-all.sh`.
    for c in &checks {
        let verdict = match c.ok {
            Some(true) => "ok",
            Some(false) => "MISSED",
            None => "",
        };
        println!(
            "BENCH|capture|{}|{}|{}|{verdict}",
            c.metric.replace('|', "/"),
            c.value.replace('|', "/"),
            c.target.replace('|', "/")
        );
    }
    let saved = base.join("capture-report.md");
    std::fs::write(&saved, &report).ok();
    eprintln!("report saved to {}", saved.display());
    if ctx.args.keep {
        let kept = dir.keep();
        eprintln!("working folder kept: {}", kept.display());
    }
    Ok(checks.iter().all(|c| c.ok != Some(false)))
}

/// One figure against its target; `ok` is `None` for figures without one.
struct Check {
    metric: String,
    value: String,
    target: String,
    ok: Option<bool>,
}

impl Check {
    fn new(
        metric: impl Into<String>,
        value: impl Into<String>,
        target: &str,
        ok: Option<bool>,
    ) -> Self {
        Check {
            metric: metric.into(),
            value: value.into(),
            target: target.to_owned(),
            ok,
        }
    }
}

/// Where benches put their files: `$BENCH_DATA_DIR`, else `target/bench-data`.
fn bench_data_dir() -> PathBuf {
    std::env::var_os("BENCH_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(MANIFEST_DIR).join("target/bench-data"))
}

// ---- workloads -----------------------------------------------------------------------------

fn scaled(n: u64, scale: f64) -> u64 {
    ((n as f64 * scale).round() as u64).max(1)
}

/// Issue 3's workspace: jobs, notebooks and folders at scale, every other kind tiny.
fn issue3_spec(scale: f64, seed: u64) -> GenerateSpec {
    GenerateSpec {
        seed,
        name: "bench-issue3".to_owned(),
        users: 20,
        groups: 5,
        members_per_group: 4,
        service_principals: 2,
        jobs: scaled(10_000, scale),
        tasks_per_job: 3,
        clusters: 5,
        pools: 2,
        policies: 2,
        notebooks: scaled(20_000, scale),
        folders: scaled(2_000, scale),
        secret_scopes: 2,
        secrets_per_scope: 3,
        catalogs: 1,
        schemas: 2,
        tables: 10,
        warehouses: 1,
    }
}

/// Issue 4's workspace: [`GenerateSpec::benchmark`] with every count at scale.
fn issue4_spec(scale: f64, seed: u64) -> GenerateSpec {
    let b = GenerateSpec::benchmark(seed);
    let s = |n| scaled(n, scale);
    GenerateSpec {
        name: "bench-issue4".to_owned(),
        users: s(b.users),
        groups: s(b.groups),
        service_principals: s(b.service_principals),
        jobs: s(b.jobs),
        clusters: s(b.clusters),
        pools: s(b.pools),
        policies: s(b.policies),
        notebooks: s(b.notebooks),
        folders: s(b.folders),
        secret_scopes: s(b.secret_scopes),
        catalogs: s(b.catalogs),
        schemas: s(b.schemas),
        tables: s(b.tables),
        warehouses: s(b.warehouses),
        ..b
    }
}

/// Issue 3's million-record workspace: [`GenerateSpec::benchmark`] with
/// notebooks (each with an ACL), users and jobs grown until the snapshot holds
/// about 1,000,000 records.
fn million_spec(scale: f64, seed: u64) -> GenerateSpec {
    let b = GenerateSpec::benchmark(seed);
    let s = |n| scaled(n, scale);
    GenerateSpec {
        name: "bench-million".to_owned(),
        users: s(100_000),
        groups: s(5_000),
        jobs: s(20_000),
        notebooks: s(420_000),
        folders: s(8_400),
        ..b
    }
}

fn describe(spec: &GenerateSpec) -> String {
    format!(
        "{} jobs, {} notebooks in {} folders, {} users, {} groups, {} clusters, {} tables",
        spec.jobs,
        spec.notebooks,
        spec.folders,
        spec.users,
        spec.groups,
        spec.clusters,
        spec.tables
    )
}

/// What a capture of a generated workspace must find, and the requests it needs.
#[derive(Debug)]
struct Expected {
    counts: Vec<(Kind, u64)>,
    notebooks: u64,
    /// Every folder but the root `/`.
    directories: u64,
    /// One ACL read per job, cluster, pool, policy, warehouse, notebook and folder.
    permission_reads: u64,
    /// One listing per folder, the root included.
    workspace_lists: u64,
    /// `jobs/list` pages of 100.
    job_pages: u64,
}

impl Expected {
    fn of(spec: &GenerateSpec) -> Self {
        // The generator puts leaf folders 100 to a parent under `/Production`.
        let parents = spec.folders.div_ceil(100);
        let directories = if spec.folders > 0 || spec.notebooks > 0 {
            1 + parents + spec.folders
        } else {
            0
        };
        let objects = directories + spec.notebooks;
        let permission_reads =
            spec.jobs + spec.clusters + spec.pools + spec.policies + spec.warehouses + objects;
        Expected {
            counts: vec![
                (Kind::Jobs, spec.jobs),
                (Kind::WorkspaceObjects, objects),
                (Kind::Permissions, permission_reads),
                (Kind::Users, spec.users),
                (Kind::Groups, spec.groups),
                (Kind::ServicePrincipals, spec.service_principals),
                (Kind::Clusters, spec.clusters),
                (Kind::InstancePools, spec.pools),
                (Kind::ClusterPolicies, spec.policies),
                (Kind::SqlWarehouses, spec.warehouses),
            ],
            notebooks: spec.notebooks,
            directories,
            permission_reads,
            workspace_lists: directories + 1,
            job_pages: spec.jobs.div_ceil(100).max(1),
        }
    }

    /// Differences between a snapshot and the generated workspace; empty when nothing was lost.
    fn lost(&self, snapshot: &Snapshot) -> Vec<String> {
        let mut out: Vec<String> = snapshot
            .kinds
            .iter()
            .filter(|(_, k)| !k.status.is_complete())
            .map(|(kind, _)| format!("`{kind}` incomplete"))
            .collect();
        for (kind, want) in &self.counts {
            let got = snapshot.kinds.get(kind).map_or(0, |k| k.count as u64);
            if got != *want {
                out.push(format!("`{kind}` {got} of {want}"));
            }
        }
        out
    }
}

fn generate(spec: &GenerateSpec, path: &Path) -> Result<()> {
    let t = Instant::now();
    let mut file =
        File::create(path).with_context(|| format!("cannot create `{}`", path.display()))?;
    write_fixture(spec, &mut file).with_context(|| format!("cannot write `{}`", path.display()))?;
    eprintln!(
        "  generated {} ({}) in {}",
        path.display(),
        mib(std::fs::metadata(path).map_or(0, |m| m.len())),
        human(t.elapsed().as_secs_f64())
    );
    Ok(())
}

// ---- the request log: calls per family, 429s, the floor --------------------------------------

/// One answered request, from the in-process log or `GET /_standby/requests`.
#[derive(Debug, Deserialize)]
struct Req {
    seq: u64,
    method: String,
    path: String,
    #[serde(default)]
    query: Option<String>,
    status: u16,
    #[serde(default)]
    fault: Option<String>,
}

#[derive(Debug, Deserialize)]
struct LogPage {
    requests: Vec<Req>,
    next_seq: u64,
}

/// What a mock answered during one run.
#[derive(Debug, Default)]
struct Tally {
    total: u64,
    throttled: u64,
    /// Answers ≥ 400 other than 429.
    errors: u64,
    /// Per family: (answered, 429).
    families: BTreeMap<Family, (u64, u64)>,
    /// Why requests were throttled (`limit:permissions_read`, `in_flight`, ...).
    faults: BTreeMap<String, u64>,
    /// Answered requests by method, path and query, to find repeats.
    seen: HashSet<u64>,
    repeats: u64,
    /// Answered pages per listing (method, path, query without the page parameter).
    pages: HashMap<u64, u64>,
    /// Deepest folder listed (`/` is 1), the serial chain of the tree walk.
    walk_depth: u64,
    permission_reads: u64,
    workspace_lists: u64,
    job_pages: u64,
    /// Distinct answered requests that are none of the three above.
    other_distinct: u64,
    /// Log entries the mock's ring dropped before they were read.
    missed: u64,
}

impl Tally {
    fn add(
        &mut self,
        method: &str,
        path: &str,
        query: Option<&str>,
        status: u16,
        fault: Option<&str>,
    ) {
        self.total += 1;
        let family = Family::of(method, path);
        let entry = self.families.entry(family).or_default();
        if status == 429 {
            self.throttled += 1;
            entry.1 += 1;
            *self
                .faults
                .entry(fault.unwrap_or("server").to_owned())
                .or_default() += 1;
            return;
        }
        entry.0 += 1;
        if status >= 400 {
            self.errors += 1;
        }
        let new = self.seen.insert(hash(&(method, path, query)));
        if !new {
            self.repeats += 1;
        }
        let pairs: Vec<(String, String)> =
            url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
                .into_owned()
                .collect();
        if path.ends_with("/list") || path.contains("/scim/v2/") {
            let key: Vec<&(String, String)> = pairs
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "page_token" | "startIndex" | "offset"))
                .collect();
            *self.pages.entry(hash(&(method, path, key))).or_default() += 1;
        }
        if method == "GET" && path.starts_with("/api/2.0/permissions/") {
            self.permission_reads += 1;
        } else if method == "GET" && path == "/api/2.0/workspace/list" {
            self.workspace_lists += 1;
            if let Some((_, folder)) = pairs.iter().find(|(k, _)| k == "path") {
                let depth = folder.split('/').filter(|s| !s.is_empty()).count() as u64 + 1;
                self.walk_depth = self.walk_depth.max(depth);
            }
        } else if method == "GET" && path.ends_with("/jobs/list") {
            self.job_pages += 1;
        } else if new {
            self.other_distinct += 1;
        }
    }

    fn add_req(&mut self, r: &Req) {
        self.add(
            &r.method,
            &r.path,
            r.query.as_deref(),
            r.status,
            r.fault.as_deref(),
        );
    }

    fn answered(&self) -> u64 {
        self.total - self.throttled
    }

    fn share_429(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.throttled as f64 / self.total as f64
        }
    }

    /// The longest run of pages of one listing.
    fn longest_listing(&self) -> u64 {
        self.pages.values().copied().max().unwrap_or(0)
    }

    /// The requests the data needs: one ACL read per object, one listing per
    /// folder, the job pages, and every other distinct request once.
    fn minimum(&self, e: &Expected) -> u64 {
        e.permission_reads + e.workspace_lists + e.job_pages + self.other_distinct
    }
}

fn hash<T: Hash>(value: &T) -> u64 {
    let mut h = DefaultHasher::new();
    value.hash(&mut h);
    h.finish()
}

/// The service limit the mock enforces for a family in `--limits realistic`;
/// `Other` has none. The mock's own table is private: these are the
/// published numbers both sides use (`Family::default_rate`).
fn mock_rate(family: Family) -> Option<f64> {
    (family != Family::Other).then(|| family.default_rate())
}

/// The fastest a capture of this data could be at these limits.
struct Floor {
    terms: Vec<(String, f64)>,
    seconds: f64,
}

impl Floor {
    fn of(t: &Tally, latency_s: f64) -> Floor {
        let mut terms = Vec::new();
        for (family, (answered, _)) in &t.families {
            if let Some(rate) = mock_rate(*family) {
                terms.push((
                    format!("`{family}`: {answered} calls ÷ {} /s", trim(rate)),
                    *answered as f64 / rate,
                ));
            }
        }
        terms.push((
            format!(
                "all {} calls × {} ms ÷ {MAX_IN_FLIGHT} in flight",
                t.answered(),
                trim(latency_s * 1000.0)
            ),
            t.answered() as f64 * latency_s / MAX_IN_FLIGHT as f64,
        ));
        let chain = t.longest_listing().max(t.walk_depth);
        terms.push((
            format!(
                "serial chain: {chain} pages × {} ms (longest listing {}, tree depth {})",
                trim(latency_s * 1000.0),
                t.longest_listing(),
                t.walk_depth
            ),
            chain as f64 * latency_s,
        ));
        let seconds = terms.iter().map(|(_, s)| *s).fold(0.0, f64::max);
        Floor { terms, seconds }
    }
}

/// Reads the request log of a mock in another process, incrementally: its
/// ring keeps only the last 10,000 entries.
struct LogReader {
    http: reqwest::Client,
    url: String,
    token: String,
    since: u64,
}

impl LogReader {
    fn new(url: &str, token: &str) -> Self {
        LogReader {
            http: reqwest::Client::new(),
            url: format!("{url}/_standby/requests"),
            token: token.to_owned(),
            since: 0,
        }
    }

    async fn poll(&mut self, tally: &mut Tally) -> Result<()> {
        const LIMIT: usize = 100_000;
        loop {
            let page: LogPage = self
                .http
                .get(&self.url)
                .query(&[
                    ("since", self.since.to_string()),
                    ("limit", LIMIT.to_string()),
                ])
                .bearer_auth(&self.token)
                .send()
                .await
                .context("cannot read the mock's request log")?
                .error_for_status()
                .context("cannot read the mock's request log")?
                .json()
                .await
                .context("cannot decode the mock's request log")?;
            let Some(first) = page.requests.first() else {
                tally.missed += page.next_seq.saturating_sub(self.since + 1);
                self.since = self.since.max(page.next_seq.saturating_sub(1));
                return Ok(());
            };
            tally.missed += first.seq.saturating_sub(self.since + 1);
            for r in &page.requests {
                tally.add_req(r);
                self.since = r.seq;
            }
            if page.requests.len() < LIMIT {
                return Ok(());
            }
        }
    }
}

// ---- part A: in-process, at the service's limits -------------------------------------------

fn client_for(url: &str, token: &str, config: ClientConfig) -> Result<Client> {
    let auth = WorkspaceAuth {
        host: normalize_host(url)?,
        profile: None,
        credentials: Credentials::Pat(SecretString::from(token.to_owned())),
    };
    Ok(Client::new(auth, config)?)
}

/// The snapshot's bytes without capture times, to compare two captures.
fn canonical(mut s: Snapshot) -> Result<Vec<u8>> {
    s.metadata.captured_at.clear();
    s.metadata.captured_at_ms = 0;
    let mut out = Vec::new();
    write_snapshot(&s, &mut out)?;
    Ok(out)
}

fn tally_since(server: &MockServer, since: u64) -> (Tally, u64) {
    let mut tally = Tally::default();
    let (entries, next) = server.requests_page(since, usize::MAX);
    for r in &entries {
        tally.add(
            &r.method,
            &r.path,
            r.query.as_deref(),
            r.status,
            r.fault.as_deref(),
        );
    }
    (tally, next - 1)
}

type PartResult = Result<(String, Vec<Check>)>;

async fn part_a(ctx: &Ctx) -> PartResult {
    let spec = issue3_spec(ctx.args.scale, ctx.args.seed);
    eprintln!("A: {}", describe(&spec));
    let expected = Expected::of(&spec);
    let path = ctx.work.join("a-fixture.json");
    generate(&spec, &path)?;
    let fixture = load_fixture(&path)?;
    let server = MockServer::start(
        fixture,
        MockOptions {
            token: Some(SecretString::from(ctx.token.clone())),
            faults: FaultConfig {
                latency_ms: LATENCY_AB_MS,
                limits: Limits::Realistic,
                ..FaultConfig::default()
            },
            log_capacity: 10_000_000,
            ..MockOptions::default()
        },
    )
    .await?;
    let result = part_a_runs(ctx, &server, &spec, &expected).await;
    server.shutdown().await;
    result
}

async fn part_a_runs(
    ctx: &Ctx,
    server: &MockServer,
    spec: &GenerateSpec,
    expected: &Expected,
) -> PartResult {
    let url = server.url();
    let host = normalize_host(&url)?
        .as_str()
        .trim_end_matches('/')
        .to_owned();
    let latency = LATENCY_AB_MS as f64 / 1000.0;
    let options = CollectOptions::default;

    // 1. The whole capture, journaled on disk as `standby snapshot` does.
    let (_, since) = tally_since(server, u64::MAX);
    let client = client_for(&url, &ctx.token, ClientConfig::default())?;
    let journal = Arc::new(Journal::open(
        &ctx.work.join("a-full.journal"),
        &host,
        false,
    )?);
    eprintln!("A: full capture running");
    let t = Instant::now();
    let snapshot =
        standby::capture::capture(client.clone(), options(), journal, Arc::new(Quiet)).await;
    let wall = t.elapsed().as_secs_f64();
    let stats = client.stats();
    let (full, _) = tally_since(server, since);
    let floor = Floor::of(&full, latency);
    let lost = expected.lost(&snapshot);
    let full_bytes = canonical(snapshot)?;
    eprintln!(
        "A: full capture {} (floor {}), now killing a second one at {}",
        human(wall),
        human(floor.seconds),
        human(floor.seconds / 2.0)
    );

    // 2. The same capture, aborted once half the floor has passed.
    let (_, since) = tally_since(server, u64::MAX);
    let journal_path = ctx.work.join("a-killed.journal");
    let client = client_for(&url, &ctx.token, ClientConfig::default())?;
    let journal = Arc::new(Journal::open(&journal_path, &host, false)?);
    let task = tokio::spawn(standby::capture::capture(
        client,
        options(),
        journal.clone(),
        Arc::new(Quiet),
    ));
    tokio::time::sleep(Duration::from_secs_f64(floor.seconds / 2.0)).await;
    let finished_early = task.is_finished();
    task.abort();
    let _ = task.await;
    drop(journal);
    let units = std::fs::read(&journal_path)
        .map(|b| b.iter().filter(|c| **c == b'\n').count().saturating_sub(1))
        .unwrap_or(0);
    let (killed, _) = tally_since(server, since);

    // 3. Resumed from the journal: the rest of the work.
    let (_, since) = tally_since(server, u64::MAX);
    eprintln!("A: resuming from {units} journaled units");
    let t = Instant::now();
    let client = client_for(&url, &ctx.token, ClientConfig::default())?;
    let journal = Arc::new(Journal::open(&journal_path, &host, true)?);
    let resumed_snapshot =
        standby::capture::capture(client.clone(), options(), journal, Arc::new(Quiet)).await;
    let rest = t.elapsed().as_secs_f64();
    let (resumed, _) = tally_since(server, since);
    let resumed_lost = expected.lost(&resumed_snapshot);
    let identical = canonical(resumed_snapshot)? == full_bytes;

    let mut s = String::new();
    let _ = writeln!(
        s,
        "### A. Capture at the service's limits (issue 3)\n\n\
         In-process mock, `Limits::Realistic` (per-family limits, {MAX_IN_FLIGHT} in flight), {LATENCY_AB_MS} ms latency; \
         scale {}: {}. standby at default settings (all kinds, concurrency 20, published client-side limits).\n",
        num(ctx.args.scale),
        describe(spec)
    );
    let _ = writeln!(
        s,
        "| family | calls answered | 429 | limit | calls ÷ limit |\n|---|---:|---:|---:|---:|"
    );
    for (family, (answered, throttled)) in &full.families {
        let (limit, secs) = match mock_rate(*family) {
            Some(r) => (format!("{} /s", trim(r)), human(*answered as f64 / r)),
            None => ("none".to_owned(), "–".to_owned()),
        };
        let _ = writeln!(
            s,
            "| `{family}` | {answered} | {throttled} | {limit} | {secs} |"
        );
    }
    let _ = writeln!(s, "\n| floor term | seconds |\n|---|---:|");
    for (what, secs) in &floor.terms {
        let _ = writeln!(s, "| {what} | {secs:.1} |");
    }
    let _ = writeln!(s, "| **floor** | **{:.1}** |\n", floor.seconds);
    let _ = writeln!(
        s,
        "| run | wall | ÷ floor | requests | 429 | 429 share | nothing lost |\n|---|---:|---:|---:|---:|---:|---|"
    );
    let _ = writeln!(
        s,
        "| full capture | {} | **{:.3}** (target ≤ {TARGET_WALL_RATIO}) | {} | {} | **{:.2}%** (target ≤ {}%) | {} |",
        human(wall),
        wall / floor.seconds,
        full.total,
        full.throttled,
        full.share_429() * 100.0,
        TARGET_429_SHARE * 100.0,
        verdict_lost(&lost)
    );
    let _ = writeln!(
        s,
        "| killed at ½ floor ({}) | {} | 0.5 | {} | {} | {:.2}% | {units} units journaled{} |",
        human(floor.seconds / 2.0),
        human(floor.seconds / 2.0),
        killed.total,
        killed.throttled,
        killed.share_429() * 100.0,
        if finished_early {
            " (**finished before the kill**)"
        } else {
            ""
        }
    );
    let _ = writeln!(
        s,
        "| resumed: the rest | {} | **{:.3}** (target ≤ {TARGET_RESUME_RATIO}) | {} | {} | {:.2}% | {}; same bytes as the full capture: {} |",
        human(rest),
        rest / floor.seconds,
        resumed.total,
        resumed.throttled,
        resumed.share_429() * 100.0,
        verdict_lost(&resumed_lost),
        if identical { "yes" } else { "**no**" }
    );
    let _ = writeln!(
        s,
        "\nClient counters (full capture): {} requests, {} throttled, {} retries. 429s by cause: {}. \
         Requests killed + resumed: {} (full: {}).",
        stats.requests,
        stats.throttled,
        stats.retries,
        faults_text(&full),
        killed.total + resumed.total,
        full.total
    );
    let sc = num(ctx.args.scale);
    let checks = vec![
        Check::new(
            format!("A: floor (scale {sc})"),
            format!("{:.1} s", floor.seconds),
            "",
            None,
        ),
        Check::new(
            format!("A: capture wall (scale {sc})"),
            format!("{wall:.1} s"),
            "",
            None,
        ),
        Check::new(
            "A: wall ÷ floor",
            format!("{:.3}", wall / floor.seconds),
            &format!("≤ {TARGET_WALL_RATIO}"),
            Some(wall / floor.seconds <= TARGET_WALL_RATIO),
        ),
        Check::new(
            "A: share of 429 answers",
            format!(
                "{:.2}% ({} of {})",
                full.share_429() * 100.0,
                full.throttled,
                full.total
            ),
            &format!("≤ {}%", TARGET_429_SHARE * 100.0),
            Some(full.share_429() <= TARGET_429_SHARE),
        ),
        Check::new(
            "A: nothing lost",
            verdict_lost(&lost),
            "every generated object",
            Some(lost.is_empty()),
        ),
        Check::new(
            "A: killed at ½ floor, resumed: rest ÷ floor",
            if finished_early {
                "finished before the kill".to_owned()
            } else {
                format!("{:.3} ({rest:.1} s)", rest / floor.seconds)
            },
            &format!("≤ {TARGET_RESUME_RATIO}"),
            Some(!finished_early && rest / floor.seconds <= TARGET_RESUME_RATIO),
        ),
        Check::new(
            "A: resumed capture complete, same bytes",
            format!(
                "{}; same bytes: {}",
                verdict_lost(&resumed_lost),
                if identical { "yes" } else { "no" }
            ),
            "complete and identical",
            Some(resumed_lost.is_empty() && identical),
        ),
    ];
    Ok((s, checks))
}

fn verdict_lost(lost: &[String]) -> String {
    if lost.is_empty() {
        "yes".to_owned()
    } else {
        format!("**no**: {}", lost.join(", "))
    }
}

fn faults_text(t: &Tally) -> String {
    if t.faults.is_empty() {
        return "none".to_owned();
    }
    t.faults
        .iter()
        .map(|(k, v)| format!("`{k}` {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

// ---- child processes -------------------------------------------------------------------------

/// Linux system calls std does not expose: a child's own resource usage, and
/// dying with the parent.
mod sys {
    use std::io;
    use std::os::raw::{c_int, c_long};
    use std::os::unix::process::CommandExt;
    use std::process::Command;

    /// `struct rusage` on 64-bit Linux: two `timeval`s, then 14 `long`s.
    #[repr(C)]
    #[derive(Default)]
    struct RUsage {
        fields: [c_long; 18],
    }

    const WNOHANG: c_int = 1;
    const PR_SET_PDEATHSIG: c_int = 1;
    const SIGKILL: c_long = 9;

    unsafe extern "C" {
        fn wait4(pid: c_int, status: *mut c_int, options: c_int, rusage: *mut RUsage) -> c_int;
        fn prctl(option: c_int, ...) -> c_int;
    }

    /// How a reaped child ended.
    #[derive(Clone, Copy, Debug)]
    pub struct Exit {
        /// Exit code, when it exited.
        pub code: Option<i32>,
        /// The signal that killed it, when one did.
        pub signal: Option<i32>,
        /// Peak resident set size, KiB.
        pub max_rss_kib: u64,
        /// CPU seconds, user + system.
        pub cpu_s: f64,
    }

    /// Reaps `pid` if it has ended.
    pub fn try_wait(pid: u32) -> io::Result<Option<Exit>> {
        let pid = c_int::try_from(pid).map_err(|_| io::Error::other("pid out of range"))?;
        let mut status: c_int = 0;
        let mut usage = RUsage::default();
        // SAFETY: both pointers are to live locals of the right size; wait4 only writes into them.
        let r = unsafe { wait4(pid, &mut status, WNOHANG, &mut usage) };
        match r {
            -1 => Err(io::Error::last_os_error()),
            0 => Ok(None),
            _ => {
                let f = usage.fields;
                let signal = status & 0x7f;
                Ok(Some(Exit {
                    code: (signal == 0).then_some((status >> 8) & 0xff),
                    signal: (signal != 0).then_some(signal),
                    max_rss_kib: u64::try_from(f[4]).unwrap_or(0),
                    cpu_s: (f[0] + f[2]) as f64 + (f[1] + f[3]) as f64 / 1e6,
                }))
            }
        }
    }

    /// Makes the child get SIGKILL when the thread that spawned it ends: a
    /// bench killed outright leaves no mock behind.
    pub fn die_with_parent(cmd: &mut Command) {
        // SAFETY: the hook runs in the child between fork and exec and only
        // calls prctl, which is async-signal-safe.
        unsafe {
            cmd.pre_exec(|| {
                if prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
}

/// A child process, killed and reaped when dropped unless it was reaped already.
///
/// Spawned only from the main thread: `PR_SET_PDEATHSIG` fires when the
/// spawning *thread* ends, and the main thread lives as long as the bench.
struct Proc {
    name: String,
    child: Child,
    reaped: bool,
}

impl Proc {
    fn spawn(name: &str, cmd: &mut Command) -> Result<Proc> {
        // Only the flags configure the children, never the caller's workspace.
        let vars: Vec<_> = std::env::vars_os()
            .filter(|(k, _)| k.to_string_lossy().starts_with("DATABRICKS_"))
            .map(|(k, _)| k)
            .collect();
        for k in vars {
            cmd.env_remove(k);
        }
        cmd.env_remove("STANDBY_LOG").env("NO_COLOR", "1");
        sys::die_with_parent(cmd);
        let child = cmd
            .spawn()
            .with_context(|| format!("cannot start {name}"))?;
        Ok(Proc {
            name: name.to_owned(),
            child,
            reaped: false,
        })
    }

    fn try_finish(&mut self) -> Result<Option<sys::Exit>> {
        let exit = sys::try_wait(self.child.id())
            .with_context(|| format!("cannot wait for {}", self.name))?;
        if exit.is_some() {
            self.reaped = true;
        }
        Ok(exit)
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if !self.reaped {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `standby mock serve` in its own process.
struct MockProc {
    _proc: Proc,
    url: String,
}

fn spawn_mock(
    ctx: &Ctx,
    fixture: &Path,
    latency_ms: u64,
    realistic: bool,
    tag: &str,
) -> Result<MockProc> {
    let log = ctx.work.join(format!("{tag}-mock.log"));
    let mut cmd = Command::new(&ctx.standby);
    cmd.args(["mock", "serve", "--addr", "127.0.0.1:0", "--fixture"])
        .arg(fixture)
        .args(["--latency-ms", &latency_ms.to_string()])
        .args(["--limits", if realistic { "realistic" } else { "none" }])
        .arg("--token-file")
        .arg(&ctx.token_file)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(File::create(&log)?);
    let mut proc = Proc::spawn("`standby mock serve`", &mut cmd)?;
    let stdout = proc
        .child
        .stdout
        .take()
        .context("the mock's stdout is not piped")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let Some(url) = line.trim().strip_prefix("listening on ") else {
        bail!("`standby mock serve` did not start: {}", tail(&log));
    };
    if !url.starts_with("http://127.0.0.1:") {
        bail!("the mock listens on `{url}`, not on 127.0.0.1");
    }
    Ok(MockProc {
        url: url.to_owned(),
        _proc: proc,
    })
}

/// One client process run against a fresh mock.
struct ClientRun {
    wall: f64,
    exit: sys::Exit,
    /// Peak RSS of the client process, and whether it had to come from polling.
    peak: PeakRss,
    tally: Tally,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl ClientRun {
    fn failed(&self) -> Option<String> {
        (self.exit.code != Some(0)).then(|| {
            format!(
                "exit {:?} signal {:?}: {}",
                self.exit.code,
                self.exit.signal,
                tail(&self.stderr)
            )
        })
    }
}

/// Starts a mock, runs the client `build` makes for its URL, reads the mock's
/// log while it runs, and stops the mock.
#[allow(clippy::too_many_arguments)]
fn run_against_mock(
    ctx: &Ctx,
    rt: &tokio::runtime::Runtime,
    tag: &str,
    fixture: &Path,
    latency_ms: u64,
    realistic: bool,
    deadline: Duration,
    build: impl FnOnce(&str) -> Command,
) -> Result<ClientRun> {
    let mock = spawn_mock(ctx, fixture, latency_ms, realistic, tag)?;
    let stdout = ctx.work.join(format!("{tag}.out"));
    let stderr = ctx.work.join(format!("{tag}.err"));
    let mut cmd = build(&mock.url);
    cmd.stdin(Stdio::null())
        .stdout(File::create(&stdout)?)
        .stderr(File::create(&stderr)?);
    let mut reader = LogReader::new(&mock.url, &ctx.token);
    let mut tally = Tally::default();
    // The kernel's name of the process once it has exec'd the program.
    let comm: String = Path::new(cmd.get_program())
        .file_name()
        .map(|n| n.to_string_lossy().chars().take(15).collect())
        .unwrap_or_default();
    let inherited = proc_status_kib("self", "VmRSS:");
    let mut polled = 0;
    let started = Instant::now();
    let mut proc = Proc::spawn(tag, &mut cmd)?;
    let pid = proc.child.id().to_string();
    let (exit, wall) = rt.block_on(async {
        let mut last_poll = Instant::now();
        loop {
            // Before exec the child still has the bench's memory map: skip it.
            if std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == comm)
            {
                polled = polled.max(proc_status_kib(&pid, "VmHWM:"));
            }
            if let Some(exit) = proc.try_finish()? {
                let wall = started.elapsed().as_secs_f64();
                reader.poll(&mut tally).await?;
                return Ok::<_, anyhow::Error>((exit, wall));
            }
            if started.elapsed() > deadline {
                bail!(
                    "{tag} did not finish within {}",
                    human(deadline.as_secs_f64())
                );
            }
            if last_poll.elapsed() >= Duration::from_secs(1) {
                reader.poll(&mut tally).await?;
                last_poll = Instant::now();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })?;
    drop(proc);
    drop(mock);
    Ok(ClientRun {
        wall,
        peak: PeakRss::of(exit.max_rss_kib, inherited, polled),
        exit,
        tally,
        stdout,
        stderr,
    })
}

/// A child's peak resident memory.
///
/// Linux charges a child with the peak RSS of the memory map it was forked
/// with, i.e. the bench's own at that moment, so `wait4`'s figure is exact
/// only when it exceeds that; otherwise the child's `VmHWM`, polled every
/// 20 ms while it ran, stands in (it can miss a peak in its last 20 ms).
#[derive(Clone, Copy, Debug)]
struct PeakRss {
    kib: u64,
    polled: bool,
}

impl PeakRss {
    fn of(wait4_kib: u64, inherited_kib: u64, polled_kib: u64) -> PeakRss {
        if wait4_kib > inherited_kib + inherited_kib / 20 || polled_kib == 0 {
            PeakRss {
                kib: wait4_kib,
                polled: false,
            }
        } else {
            PeakRss {
                kib: polled_kib,
                polled: true,
            }
        }
    }
}

impl std::fmt::Display for PeakRss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", mib(self.kib * 1024))?;
        if self.polled {
            f.write_str(" (polled)")?;
        }
        Ok(())
    }
}

/// A `KiB` line of `/proc/<pid>/status`; 0 when unreadable.
fn proc_status_kib(pid: &str, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// A generous bound on a run: every request in turn, three times over, plus ten minutes.
fn deadline(e: &Expected, latency_ms: u64) -> Duration {
    let requests = e.permission_reads + e.workspace_lists + e.job_pages + 200;
    Duration::from_secs_f64(requests as f64 * (latency_ms as f64 + 20.0) / 1000.0 * 3.0 + 600.0)
}

fn snapshot_command(ctx: &Ctx, url: &str, out: &Path, extra: &[String]) -> Command {
    let mut cmd = Command::new(&ctx.standby);
    cmd.args(["snapshot", "-v", "--host", url, "--token-file"])
        .arg(&ctx.token_file)
        .arg("-o")
        .arg(out)
        .args(extra)
        .env("HOME", &ctx.work);
    cmd
}

/// `requests=N throttled=M` from standby's `-v` log line "capture finished".
fn client_counters(stderr: &Path) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string(stderr).ok()?;
    let line = text
        .lines()
        .rev()
        .find(|l| l.contains("capture finished"))?;
    let field = |name: &str| {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(name))
            .and_then(|v| v.parse().ok())
    };
    Some((field("requests=")?, field("throttled=")?))
}

// ---- part B: the official Python SDK side by side -------------------------------------------

/// What `sdk_capture.py` prints.
#[derive(Debug, Deserialize)]
struct SdkOut {
    sdk_version: String,
    wall_s: f64,
    listing_s: f64,
    jobs: u64,
    notebooks: u64,
    directories: u64,
    acls: u64,
    errors: u64,
    first_error: String,
}

/// A Python with the pinned SDK: `--python`, `$STANDBY_SDK_PYTHON`, or
/// `target/bench-venv`, created from `tests/sdk/requirements.txt` when absent.
fn ensure_python(ctx: &Ctx) -> Result<PathBuf> {
    let python = match ctx
        .args
        .python
        .clone()
        .or_else(|| std::env::var_os("STANDBY_SDK_PYTHON").map(PathBuf::from))
    {
        Some(p) => p,
        None => {
            let venv = Path::new(MANIFEST_DIR).join("target/bench-venv");
            let python = venv.join("bin/python");
            if !python.exists() {
                eprintln!(
                    "B: creating {} with the pinned SDK (needs PyPI)",
                    venv.display()
                );
                let status = |name: &str, cmd: &mut Command| -> Result<()> {
                    // stdout carries the report: the installer's chatter goes to stderr.
                    cmd.stdin(Stdio::null()).stdout(std::io::stderr());
                    let mut proc = Proc::spawn(name, cmd)?;
                    let status = proc.child.wait()?;
                    proc.reaped = true;
                    if !status.success() {
                        bail!("{name} failed ({status})");
                    }
                    Ok(())
                };
                status(
                    "python3 -m venv",
                    Command::new("python3").args(["-m", "venv"]).arg(&venv),
                )?;
                status(
                    "pip install",
                    Command::new(venv.join("bin/pip"))
                        .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
                        .arg(Path::new(MANIFEST_DIR).join("tests/sdk/requirements.txt")),
                )?;
            }
            python
        }
    };
    let out = Command::new(&python)
        .args([
            "-c",
            "import databricks.sdk.version as v; print(v.__version__)",
        ])
        .output()
        .with_context(|| format!("cannot run `{}`", python.display()))?;
    if !out.status.success() {
        bail!(
            "`{}` cannot import databricks.sdk: {}",
            python.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(python)
}

fn part_b(ctx: &Ctx, rt: &tokio::runtime::Runtime) -> PartResult {
    let scale = ctx.args.scale * ctx.args.sdk_scale;
    let spec = issue3_spec(scale, ctx.args.seed);
    eprintln!("B: {}", describe(&spec));
    let expected = Expected::of(&spec);
    let fixture = ctx.work.join("b-fixture.json");
    generate(&spec, &fixture)?;
    let python = ensure_python(ctx)?;
    let script = Path::new(MANIFEST_DIR).join("benches/sdk_capture.py");
    let limit = deadline(&expected, LATENCY_AB_MS);

    eprintln!("B: standby snapshot");
    let out = ctx.work.join("b-standby.json");
    let standby = run_against_mock(
        ctx,
        rt,
        "b-standby",
        &fixture,
        LATENCY_AB_MS,
        true,
        limit,
        |url| snapshot_command(ctx, url, &out, &[]),
    )?;
    if let Some(why) = standby.failed() {
        bail!("standby snapshot failed: {why}");
    }
    let snapshot = read_snapshot(&out)?;
    let standby_lost = expected.lost(&snapshot);

    let sdk = |threads: usize| -> Result<(ClientRun, SdkOut)> {
        eprintln!("B: Python SDK, {threads} thread(s)");
        let tag = format!("b-sdk-{threads}");
        let run = run_against_mock(ctx, rt, &tag, &fixture, LATENCY_AB_MS, true, limit, |url| {
            let mut cmd = Command::new(&python);
            cmd.arg(&script)
                .args(["--url", url, "--token-file"])
                .arg(&ctx.token_file)
                .args(["--threads", &threads.to_string()]);
            cmd
        })?;
        let text = std::fs::read_to_string(&run.stdout)?;
        let out: SdkOut = serde_json::from_str(text.trim())
            .with_context(|| format!("the SDK run printed no result: {}", tail(&run.stderr)))?;
        Ok((run, out))
    };
    let threaded = sdk(ctx.args.sdk_threads)?;
    let serial = sdk(1)?;

    let sdk_lost = |o: &SdkOut| -> Vec<String> {
        let mut v = Vec::new();
        let want_acls = spec.jobs + expected.notebooks + expected.directories;
        for (what, got, want) in [
            ("jobs", o.jobs, spec.jobs),
            ("notebooks", o.notebooks, expected.notebooks),
            ("folders", o.directories, expected.directories),
            ("ACLs", o.acls, want_acls),
        ] {
            if got != want {
                v.push(format!("{what} {got} of {want}"));
            }
        }
        if o.errors > 0 {
            v.push(format!(
                "{} failed calls, first: {}",
                o.errors, o.first_error
            ));
        }
        v
    };

    let mut s = String::new();
    let _ = writeln!(
        s,
        "### B. The official Python SDK side by side (issue 3)\n\n\
         `standby mock serve --latency-ms {LATENCY_AB_MS} --limits realistic` in its own process, a fresh one per run; \
         scale {} ({}): {}. The SDK ({}, `benches/sdk_capture.py`) lists jobs, reads each job's ACL, walks the \
         workspace and reads each notebook's and folder's ACL; standby captures every kind (a superset). \
         Wall time is the client process's, start to exit; 429s are from the mock's request log.\n",
        num(scale),
        format_args!("{} × --scale {}", ctx.args.sdk_scale, ctx.args.scale),
        describe(&spec),
        serial.1.sdk_version
    );
    let _ = writeln!(
        s,
        "| client | wall | standby is faster by | requests | 429 | 429 share | CPU | peak RSS | complete |\n|---|---:|---:|---:|---:|---:|---:|---:|---|"
    );
    let row = |name: &str, run: &ClientRun, lost: &[String], s: &mut String| {
        let _ = writeln!(
            s,
            "| {name} | {} | {:.2}× | {} | {} | {:.2}% | {} | {} | {} |",
            human(run.wall),
            run.wall / standby.wall,
            run.tally.total,
            run.tally.throttled,
            run.tally.share_429() * 100.0,
            human(run.exit.cpu_s),
            run.peak,
            verdict_lost(lost)
        );
    };
    row(
        "`standby snapshot` (defaults)",
        &standby,
        &standby_lost,
        &mut s,
    );
    row(
        &format!("Python SDK, {} threads", ctx.args.sdk_threads),
        &threaded.0,
        &sdk_lost(&threaded.1),
        &mut s,
    );
    row(
        "Python SDK, one call at a time",
        &serial.0,
        &sdk_lost(&serial.1),
        &mut s,
    );
    let _ = writeln!(
        s,
        "\nSDK time inside Python (without interpreter start-up): serial {} (listing {}), {} threads {} (listing {}). \
         standby's client counters: {}. 429s by cause — standby: {}; SDK {} threads: {}; SDK serial: {}.",
        human(serial.1.wall_s),
        human(serial.1.listing_s),
        ctx.args.sdk_threads,
        human(threaded.1.wall_s),
        human(threaded.1.listing_s),
        client_counters(&standby.stderr).map_or("not logged".to_owned(), |(r, t)| format!(
            "{r} requests, {t} throttled"
        )),
        faults_text(&standby.tally),
        ctx.args.sdk_threads,
        faults_text(&threaded.0.tally),
        faults_text(&serial.0.tally),
    );
    let speedup = serial.0.wall / standby.wall;
    let n = ctx.args.sdk_threads;
    let sc = num(scale);
    let checks = vec![
        Check::new(
            format!("B: wall standby / SDK {n} threads / SDK serial (scale {sc})"),
            format!(
                "{:.1} s / {:.1} s / {:.1} s",
                standby.wall, threaded.0.wall, serial.0.wall
            ),
            "",
            None,
        ),
        Check::new(
            "B: standby vs the serial SDK",
            format!("{speedup:.1}× faster"),
            &format!("≥ {TARGET_SDK_SPEEDUP}×"),
            Some(speedup >= TARGET_SDK_SPEEDUP),
        ),
        Check::new(
            format!("B: standby vs the SDK with {n} threads"),
            format!("{:.2}× faster", threaded.0.wall / standby.wall),
            "≥ 1×",
            Some(standby.wall <= threaded.0.wall),
        ),
        Check::new(
            format!("B: 429s standby / SDK {n} threads / SDK serial"),
            format!(
                "{} / {} / {}",
                standby.tally.throttled, threaded.0.tally.throttled, serial.0.tally.throttled
            ),
            &format!("standby fewer than {n} threads, ≤ 1%"),
            Some(
                standby.tally.throttled <= threaded.0.tally.throttled
                    && standby.tally.share_429() <= TARGET_429_SHARE,
            ),
        ),
        Check::new(
            "B: standby captured everything",
            verdict_lost(&standby_lost),
            "every generated object",
            Some(standby_lost.is_empty()),
        ),
    ];
    Ok((s, checks))
}

// ---- part C: the large workspace, default concurrency and 1 ---------------------------------

fn part_c(ctx: &Ctx, rt: &tokio::runtime::Runtime) -> PartResult {
    let spec = issue4_spec(ctx.args.scale, ctx.args.seed);
    eprintln!("C: {}", describe(&spec));
    let expected = Expected::of(&spec);
    let fixture = ctx.work.join("c-fixture.json");
    generate(&spec, &fixture)?;
    let unlimited: Vec<String> = Family::ALL
        .iter()
        .flat_map(|f| ["--rate-limit".to_owned(), format!("{f}=none")])
        .collect();
    let runs: [(&str, &str, Vec<String>); 3] = [
        (
            "c-default",
            "default (`--concurrency 20`, published client limits)",
            Vec::new(),
        ),
        (
            "c-serial",
            "`--concurrency 1`",
            vec!["--concurrency".to_owned(), "1".to_owned()],
        ),
        (
            "c-unlimited",
            "`--concurrency 20`, client limits off (`--rate-limit F=none` × 9)",
            unlimited,
        ),
    ];
    let mut s = String::new();
    let _ = writeln!(
        s,
        "### C. The large generated workspace (issue 4)\n\n\
         `standby mock serve --latency-ms {LATENCY_C_MS}` (no service limits) in its own process, a fresh one per run; \
         scale {}: {}. `standby snapshot` (release binary) as a child process; peak RSS from `wait4`. \
         Minimum = one ACL read per object ({}) + one listing per folder ({}) + {} job pages + every other distinct request once.\n",
        num(ctx.args.scale),
        describe(&spec),
        expected.permission_reads,
        expected.workspace_lists,
        expected.job_pages
    );
    let _ = writeln!(
        s,
        "| run | wall | requests | requests/s | minimum | beyond the minimum | repeats | peak RSS | CPU | complete |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    );
    let mut checks = Vec::new();
    for (tag, name, extra) in runs {
        eprintln!("C: {name}");
        let out = ctx.work.join(format!("{tag}.json"));
        let run = run_against_mock(
            ctx,
            rt,
            tag,
            &fixture,
            LATENCY_C_MS,
            false,
            deadline(&expected, LATENCY_C_MS),
            |url| snapshot_command(ctx, url, &out, &extra),
        )?;
        let lost = match run.failed() {
            Some(why) => vec![format!("failed: {why}")],
            None => expected.lost(&read_snapshot(&out)?),
        };
        let t = &run.tally;
        let minimum = t.minimum(&expected);
        let beyond = t.total as i64 - minimum as i64;
        let _ = writeln!(
            s,
            "| {name} | {} | {} | {:.0} | {minimum} | {beyond} | {} | {} | {} | {} |",
            human(run.wall),
            t.total,
            t.total as f64 / run.wall,
            t.repeats,
            run.peak,
            human(run.exit.cpu_s),
            verdict_lost(&lost)
        );
        if t.missed > 0 {
            let _ = writeln!(
                s,
                "| ↳ the mock's log dropped {} entries before they were read | | | | | | | | | |",
                t.missed
            );
        }
        let label = match tag {
            "c-default" => "default concurrency",
            "c-serial" => "concurrency 1",
            _ => "client limits off",
        };
        checks.push(Check::new(
            format!(
                "C: {label} (scale {}): wall, req/s, peak RSS",
                num(ctx.args.scale)
            ),
            format!(
                "{:.1} s, {:.0} req/s, {}",
                run.wall,
                t.total as f64 / run.wall,
                run.peak
            ),
            "",
            None,
        ));
        checks.push(Check::new(
            format!("C: {label}: requests sent / minimum"),
            format!("{} / {minimum}", t.total),
            "no request beyond the minimum, nothing lost",
            Some(beyond <= 0 && t.missed == 0 && lost.is_empty()),
        ));
    }
    Ok((s, checks))
}

// ---- part D: a million records ---------------------------------------------------------------

fn part_d(ctx: &Ctx, rt: &tokio::runtime::Runtime) -> PartResult {
    let spec = million_spec(ctx.args.scale, ctx.args.seed);
    eprintln!("D: {}", describe(&spec));
    let expected = Expected::of(&spec);
    let fixture = ctx.work.join("d-fixture.json");
    generate(&spec, &fixture)?;
    let unlimited: Vec<String> = Family::ALL
        .iter()
        .flat_map(|f| ["--rate-limit".to_owned(), format!("{f}=none")])
        .collect();
    let out = ctx.work.join("d-million.json");
    let run = run_against_mock(
        ctx,
        rt,
        "d-million",
        &fixture,
        0,
        false,
        deadline(&expected, 0),
        |url| snapshot_command(ctx, url, &out, &unlimited),
    )?;
    let (records, lost) = match run.failed() {
        Some(why) => (0, vec![format!("failed: {why}")]),
        None => {
            let snapshot = read_snapshot(&out)?;
            let records: usize = snapshot.kinds.values().map(|k| k.records.len()).sum();
            (records, expected.lost(&snapshot))
        }
    };
    let written = std::fs::metadata(&out).map_or(0, |m| m.len());
    // At thousands of requests a second the mock's log ring (10,000 entries)
    // overflows between reads, so the client's own count is the one shown.
    let (requests, throttled) =
        client_counters(&run.stderr).unwrap_or((run.tally.total, run.tally.throttled));
    let mut s = String::new();
    let _ = writeln!(
        s,
        "### D. A million records (issue 3)\n\n\
         `standby mock serve` (no latency, no service limits) in its own process; scale {}: {}. \
         `standby snapshot` (release binary, every kind, client-side limits off) as a child process; \
         peak RSS from `wait4`.\n",
        num(ctx.args.scale),
        describe(&spec),
    );
    let _ = writeln!(
        s,
        "| records | snapshot | wall | requests | 429 | requests/s | peak RSS | CPU | complete |\n|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    );
    let _ = writeln!(
        s,
        "| {records} | {} | {} | {requests} | {throttled} | {:.0} | {} | {} | {} |",
        mib(written),
        human(run.wall),
        requests as f64 / run.wall,
        run.peak,
        human(run.exit.cpu_s),
        verdict_lost(&lost)
    );
    let peak_gib = run.peak.kib as f64 / 1024.0 / 1024.0;
    let checks = vec![
        Check::new(
            format!(
                "D: {records} records (scale {}): wall, requests, req/s",
                num(ctx.args.scale)
            ),
            format!(
                "{:.1} s, {requests}, {:.0} req/s",
                run.wall,
                requests as f64 / run.wall
            ),
            "",
            None,
        ),
        Check::new(
            format!("D: {records} records: peak RSS"),
            run.peak.to_string(),
            &format!("≤ {TARGET_MILLION_PEAK_GIB} GiB, every record written"),
            Some(peak_gib <= TARGET_MILLION_PEAK_GIB && lost.is_empty()),
        ),
    ];
    Ok((s, checks))
}

// ---- the machine and small helpers ------------------------------------------------------------

struct Machine {
    cpus: usize,
    model: String,
    memory: String,
    kernel: String,
    load: String,
}

impl Machine {
    fn read() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let model = cpuinfo
            .lines()
            .find_map(|l| {
                l.strip_prefix("model name")
                    .and_then(|r| r.split_once(':'))
                    .map(|(_, m)| m.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown".to_owned());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or_else(
                || "unknown".to_owned(),
                |kib| format!("{:.1} GiB", kib as f64 / 1024.0 / 1024.0),
            );
        Machine {
            cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
            model,
            memory,
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map_or_else(|_| "unknown".to_owned(), |s| s.trim().to_owned()),
            load: loadavg(),
        }
    }

    fn markdown(&self) -> String {
        format!(
            "Machine: {} CPUs (`nproc`), {}, {} memory, Linux {}; load average at the start: {}. standby {}.",
            self.cpus,
            self.model,
            self.memory,
            self.kernel,
            self.load,
            env!("CARGO_PKG_VERSION")
        )
    }
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

fn random_token() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..32)
        .map(|_| char::from_digit(rng.gen_range(0..16), 16).unwrap_or('0'))
        .collect()
}

fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create `{}`", path.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

/// The last lines of a log, for error messages.
fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().rev().take(5).collect();
    let joined = lines.into_iter().rev().collect::<Vec<_>>().join(" | ");
    if joined.is_empty() {
        "(no output)".to_owned()
    } else {
        joined
    }
}

fn human(secs: f64) -> String {
    if secs >= 120.0 {
        let whole = secs.round() as u64;
        format!("{} min {} s", whole / 60, whole % 60)
    } else {
        format!("{secs:.1} s")
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / 1024.0 / 1024.0)
}

/// A scale as given (0.002, 0.1, 1), without float noise.
fn num(v: f64) -> String {
    let s = format!("{v:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// A number without trailing zeros (4.25, 100).
fn trim(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}
