//! The mock server's own throughput (issue 4): requests per second and
//! latency at 32 concurrent keep-alive connections on loopback, no latency
//! injected, over a mix of read endpoints, at 10,000, 100,000 and 1,000,000
//! objects; start-up from a fixture file; and, side by side, `wiremock`
//! serving the same objects with one `Mock` per object.
//!
//! The mix, weighted as a capture's calls are (per-object permission reads
//! dominate): 45% `GET /api/2.0/permissions/{jobs|directories}/{id}`, 30%
//! `GET /api/2.2/jobs/get`, 20% `GET /api/2.0/workspace/list` of a folder,
//! 5% a SCIM users page of 100 (`startIndex` anywhere). Objects are drawn
//! uniformly from the whole workspace, so larger workspaces are not served
//! from a warmer cache.
//!
//! The client is a minimal HTTP/1.1 keep-alive client written here (one
//! request in flight per connection, `Content-Length` or chunked bodies),
//! in the same process and on the same 2-thread tokio runtime as the server:
//! client and server share the machine's cores, so the figures are a lower
//! bound for the server alone. CPU time per request is process-wide (client
//! and server together).
//!
//! ```text
//! cargo bench --bench mock                                         # the full run
//! cargo bench --bench mock -- --scales 10000 --wiremock 2000 --secs 2   # a quick check
//! cargo bench --bench mock -- --scales 10000 --wiremock "" --threads 1   # one worker thread
//! cargo bench --bench mock -- --scales 1000000 --startup-only --keep    # start-up alone
//! ```
//!
//! The mix is measured in rounds: every scale, and a bare axum route as
//! the ceiling, takes a turn per round, so a machine whose speed drifts over
//! the minutes of a run weighs on every scale alike. Each figure is the
//! median round's. Each endpoint alone is then measured a scale at a time.
//!
//! Start-up is timed as a user meets it: `standby mock serve --fixture`
//! run as its own process, from the command to the answer of a first
//! request (median of 3). The same load in this process is printed beside
//! it, with the CPU time it took (two threads parse at once, so CPU can
//! exceed wall; on a busy machine the CPU figure is the steadier one).
//!
//! Fixtures go to `target/bench-data/mock-*.json` and are deleted at the end
//! unless `--keep` is given. Lines starting with `BENCH|` are the results
//! `benches/run-all.sh` tabulates.

#[path = "snapshot_io.rs"]
#[allow(dead_code)] // Only the shared helpers are used here.
mod snapshot_io;

use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use snapshot_io::{bench_data_dir, machine_busy, result, rss_kb};
use standby::mock::generate::{GenerateSpec, write_fixture};
use standby::mock::{MockOptions, MockServer, load_fixture};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Targets from issue 4.
const RPS_TARGET: f64 = 100_000.0;
const P99_TARGET_US: u32 = 1_000;
const FLAT_TARGET: f64 = 0.10;
const STARTUP_TARGET: Duration = Duration::from_secs(2);
const CONNECTIONS: usize = 32;
/// Start-ups of the binary per scale (the median is reported).
const STARTUP_RUNS: usize = 3;
/// Requests precomputed per run (each connection walks its own stretch).
const REQUESTS: usize = 200_000;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let list = |name: &str, default: &[u64]| -> Vec<u64> {
        args.iter()
            .position(|a| a == name)
            .and_then(|at| args.get(at + 1))
            .map(|v| {
                v.split(',')
                    .filter_map(|x| x.replace('_', "").parse().ok())
                    .collect()
            })
            .unwrap_or_else(|| default.to_vec())
    };
    // Two workers for two cores; `--threads 1` shows how the work scales.
    let threads = list("--threads", &[2]).first().copied().unwrap_or(2).max(1);
    let config = Config {
        scales: list("--scales", &[10_000, 100_000, 1_000_000]),
        threads,
        wiremock: list("--wiremock", &[10_000, 50_000]),
        secs: list("--secs", &[5]).first().copied().unwrap_or(5).max(1),
        keep: args.iter().any(|a| a == "--keep"),
        startup_only: args.iter().any(|a| a == "--startup-only"),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads as usize)
        .enable_all()
        .build();
    let outcome = runtime
        .map_err(anyhow::Error::from)
        .and_then(|rt| rt.block_on(run(&config)));
    if let Err(e) = outcome {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

struct Config {
    scales: Vec<u64>,
    threads: u64,
    wiremock: Vec<u64>,
    secs: u64,
    keep: bool,
    /// Load each fixture and answer one request, without the load runs.
    startup_only: bool,
}

/// The objects a mix can ask for, read from the fixture file.
#[derive(Default)]
struct Targets {
    job_ids: Vec<u64>,
    /// Leaf folders: path and object id.
    folders: Vec<(String, u64)>,
    users: u64,
}

/// One kind of request of the mix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Endpoint {
    Permissions,
    JobsGet,
    WorkspaceList,
    ScimUsers,
}

impl Endpoint {
    fn name(self) -> &'static str {
        match self {
            Endpoint::Permissions => "permissions get",
            Endpoint::JobsGet => "jobs/get",
            Endpoint::WorkspaceList => "workspace list",
            Endpoint::ScimUsers => "SCIM users page",
        }
    }
}

const ENDPOINTS: [Endpoint; 4] = [
    Endpoint::Permissions,
    Endpoint::JobsGet,
    Endpoint::WorkspaceList,
    Endpoint::ScimUsers,
];

/// A request of the mix: its path and query, and the wire bytes.
#[derive(Clone)]
struct Req {
    endpoint: Endpoint,
    target: String,
    wire: Vec<u8>,
}

impl Req {
    fn new(endpoint: Endpoint, target: String) -> Req {
        let wire = format!(
            "GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: standby-bench\r\nAccept: application/json\r\n\r\n"
        )
        .into_bytes();
        Req {
            endpoint,
            target,
            wire,
        }
    }
}

/// One measured load run.
#[derive(Clone, Debug, Default)]
struct LoadResult {
    rps: f64,
    p50_us: u32,
    p99_us: u32,
    p999_us: u32,
    max_us: u32,
    errors: u64,
    bytes_per_req: f64,
    cpu_us_per_req: f64,
    /// Cores this process used while measuring (client and server).
    cores: f64,
    /// Cores the whole machine used meanwhile (this process, others, the kernel).
    machine_cores: f64,
}

/// One scale's figures.
struct ScaleResult {
    objects: u64,
    fixture_mb: f64,
    /// `standby mock serve` from the command to its first reply (median).
    startup: Duration,
    /// In this process: the load, and the load to the first reply.
    load: Duration,
    ready: Duration,
    rss_mb: f64,
    result: LoadResult,
    /// Each endpoint alone: requests/s and CPU per request.
    endpoints: Vec<(Endpoint, LoadResult)>,
}

/// A scale loaded and answering, waiting for its load runs.
struct Loaded {
    /// Its start-up figures; the load runs fill in the rest.
    figures: ScaleResult,
    /// The size asked for (the seed of its mixes).
    scale: u64,
    path: std::path::PathBuf,
    targets: Targets,
    requests: Arc<Vec<Req>>,
    server: MockServer,
}

/// Measured rounds of the mix per scale. The scales take turns, a round
/// each, so a machine that slows down or speeds up over the minutes of a
/// run weighs on every scale alike: flatness compares like with like.
const ROUNDS: usize = 5;

async fn run(config: &Config) -> anyhow::Result<()> {
    let dir = bench_data_dir();
    std::fs::create_dir_all(&dir)?;
    let measure = Duration::from_secs(config.secs);
    let warmup = Duration::from_secs(1);
    let mut loaded = Vec::new();
    for &objects in &config.scales {
        let spec = spec_for(objects);
        let path = dir.join(format!("mock-{objects}.json"));
        if !path.is_file() {
            eprintln!(
                "mock: writing a fixture of {} objects to `{}`",
                spec.object_count(),
                path.display()
            );
            let t = Instant::now();
            let mut file = std::fs::File::create(&path)?;
            write_fixture(&spec, &mut file)?;
            file.flush()?;
            eprintln!("mock: written in {:.1} s", t.elapsed().as_secs_f64());
        }
        let fixture_mb = std::fs::metadata(&path)?.len() as f64 / 1e6;
        let targets = read_targets(&path, spec.users)?;
        let requests = Arc::new(mix(&targets, REQUESTS, objects));

        // Start-up as a user meets it: `standby mock serve --fixture`, from
        // the command to the first reply (a fresh process; median of 3).
        let first = requests.first().context("an empty mix")?;
        let mut startups = Vec::new();
        for _ in 0..STARTUP_RUNS {
            startups.push(binary_startup(&path, first).await?);
        }
        startups.sort_unstable();
        let startup = startups[startups.len() / 2];
        eprintln!(
            "mock: {objects} objects: `standby mock serve` answered its first request in {}",
            startups
                .iter()
                .map(|d| format!("{:.2} s", d.as_secs_f64()))
                .collect::<Vec<_>>()
                .join(", ")
        );

        // In this process: load and validate the file, bind, answer a first request.
        let rss_before = rss_kb("VmRSS");
        let cpu_before = cpu_time();
        let t = Instant::now();
        let fixture = load_fixture(&path)?;
        let load = t.elapsed();
        let load_cpu = cpu_time().saturating_sub(cpu_before);
        let server = MockServer::start(fixture, MockOptions::default()).await?;
        let (status, _) = one_request(server.addr(), &first.wire).await?;
        let ready = t.elapsed();
        if status != 200 {
            bail!("the first request `{}` got {status}", first.target);
        }
        // The replies rendered ahead (ACLs, folder listings) render in the
        // background while the server already answers; the load runs below
        // wait for them so every read costs the same.
        server.prerendered().await;
        let rendered = t.elapsed();
        let rss_mb = rss_kb("VmRSS").saturating_sub(rss_before) as f64 / 1024.0;
        eprintln!(
            "mock: {objects} objects: loaded in {:.2} s (CPU {:.2} s), answering in {:.2} s, all replies rendered in {:.2} s, state {rss_mb:.0} MB",
            load.as_secs_f64(),
            load_cpu.as_secs_f64(),
            ready.as_secs_f64(),
            rendered.as_secs_f64()
        );
        if config.startup_only {
            // Start-up: from reading the file until the first request is
            // answered (correctly: a reply not yet rendered is rendered then).
            println!(
                "BENCH|mock|start-up (command to first reply), {} objects|{:.2} s (in process: load {:.2} s, CPU {:.2} s; first reply {:.2} s; all rendered at {:.2} s)|≤ 2 s|{}",
                spec.object_count(),
                startup.as_secs_f64(),
                load.as_secs_f64(),
                load_cpu.as_secs_f64(),
                ready.as_secs_f64(),
                rendered.as_secs_f64(),
                if startup <= STARTUP_TARGET {
                    "ok"
                } else {
                    "MISSED"
                }
            );
            server.shutdown().await;
            if !config.keep {
                std::fs::remove_file(&path)?;
            }
            continue;
        }
        validate(server.addr(), &requests).await?;
        loaded.push(Loaded {
            figures: ScaleResult {
                objects: spec.object_count(),
                fixture_mb,
                startup,
                load,
                ready,
                rss_mb,
                result: LoadResult::default(),
                endpoints: Vec::new(),
            },
            scale: objects,
            path,
            targets,
            requests,
            server,
        });
    }
    if loaded.is_empty() {
        return Ok(());
    }

    // The mix, every scale (and the bare axum ceiling) in turn, a round at a time.
    let slice = measure / ROUNDS as u32;
    let round_warmup = warmup / 4;
    let mut rounds: Vec<Vec<LoadResult>> = vec![Vec::new(); loaded.len()];
    let mut ceiling_rounds = Vec::new();
    let mut ceiling_server: Option<Ceiling> = None;
    for round in 0..ROUNDS {
        let w = if round == 0 { warmup } else { round_warmup };
        for (l, results) in loaded.iter().zip(&mut rounds) {
            let r = drive(l.server.addr(), l.requests.clone(), w, slice).await;
            eprintln!("mock: round {round}, {} objects: {r:?}", l.figures.objects);
            results.push(r);
        }
        // The ceiling answers with the mix's mean body size, known after a round.
        let c = match ceiling_server.take() {
            Some(c) => c,
            None => Ceiling::start(rounds[0][0].bytes_per_req.round() as usize).await?,
        };
        let r = drive(c.addr, loaded[0].requests.clone(), w, slice).await;
        eprintln!("mock: round {round}, bare axum: {r:?}");
        ceiling_rounds.push(r);
        ceiling_server = Some(c);
    }
    if let Some(c) = ceiling_server {
        c.server.abort();
    }
    let ceiling_row = (!ceiling_rounds.is_empty()).then(|| combine(&ceiling_rounds));

    let largest = loaded.iter().map(|l| l.scale).max().unwrap_or(0);
    let mut scales = Vec::new();
    let mut wiremock_rows = Vec::new();
    for (l, results) in loaded.into_iter().zip(rounds) {
        let mut figures = l.figures;
        let objects = figures.objects;
        figures.result = combine(&results);
        eprintln!(
            "mock: {objects} objects, {ROUNDS} rounds: {:?}",
            figures.result
        );
        // Each endpoint alone, to show which one costs what.
        for e in ENDPOINTS {
            let only = Arc::new(mix_of(&l.targets, REQUESTS / 4, l.scale, Some(e)));
            let r = drive(l.server.addr(), only, warmup / 2, measure / 2).await;
            eprintln!("mock: {objects} objects, {} alone: {r:?}", e.name());
            figures.endpoints.push((e, r));
        }
        if l.scale == largest {
            for &mocks in &config.wiremock {
                wiremock_rows.push(compare_wiremock(&l.server, &l.targets, mocks, measure).await?);
            }
        }
        l.server.shutdown().await;
        if !config.keep {
            std::fs::remove_file(&l.path)?;
        }
        scales.push(figures);
    }
    report(&scales, ceiling_row.as_ref(), &wiremock_rows, config);
    Ok(())
}

/// Rounds of one load run as one: the median round's rate and latencies
/// (a round the machine slowed does not set the figure), the worst
/// maximum, every error.
fn combine(rounds: &[LoadResult]) -> LoadResult {
    let median = |f: &dyn Fn(&LoadResult) -> f64| -> f64 {
        let mut v: Vec<f64> = rounds.iter().map(f).collect();
        v.sort_unstable_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    };
    LoadResult {
        rps: median(&|r| r.rps),
        p50_us: median(&|r| f64::from(r.p50_us)) as u32,
        p99_us: median(&|r| f64::from(r.p99_us)) as u32,
        p999_us: median(&|r| f64::from(r.p999_us)) as u32,
        max_us: rounds.iter().map(|r| r.max_us).max().unwrap_or(0),
        errors: rounds.iter().map(|r| r.errors).sum(),
        bytes_per_req: median(&|r| r.bytes_per_req),
        cpu_us_per_req: median(&|r| r.cpu_us_per_req),
        cores: median(&|r| r.cores),
        machine_cores: median(&|r| r.machine_cores),
    }
}

/// The benchmark workspace's proportions (jobs, users, groups, notebooks in
/// folders, permissions, catalog), scaled to about `objects` objects.
fn spec_for(objects: u64) -> GenerateSpec {
    let base = GenerateSpec::benchmark(7);
    let f = objects as f64 / base.object_count() as f64;
    let s = |x: u64| ((x as f64 * f).round() as u64).max(1);
    GenerateSpec {
        seed: 7,
        name: format!("bench-{objects}"),
        users: s(base.users),
        groups: s(base.groups),
        members_per_group: base.members_per_group,
        service_principals: s(base.service_principals),
        jobs: s(base.jobs),
        tasks_per_job: base.tasks_per_job,
        clusters: s(base.clusters),
        pools: s(base.pools),
        policies: s(base.policies),
        notebooks: s(base.notebooks),
        folders: s(base.folders),
        secret_scopes: s(base.secret_scopes),
        secrets_per_scope: base.secrets_per_scope,
        catalogs: s(base.catalogs),
        schemas: s(base.schemas),
        tables: s(base.tables),
        warehouses: s(base.warehouses),
    }
}

/// Job ids and leaf folders, from the fixture file: the generator writes one
/// object a line, each section opening with a `"name":[` line.
fn read_targets(path: &Path, users: u64) -> anyhow::Result<Targets> {
    use std::io::BufRead;
    // Line by line: reading the whole file at once would leave the freed
    // copy of a 625 MB fixture in the allocator before the load is timed.
    let file = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(path)?);
    let mut targets = Targets {
        users,
        ..Targets::default()
    };
    let mut section = String::new();
    for line in file.lines() {
        let line = line?;
        if let Some(rest) = line.strip_prefix('"') {
            if let Some((name, _)) = rest.split_once("\":[") {
                section = name.to_owned();
            }
            continue;
        }
        let item = line.trim_end_matches(',').trim_end_matches("],");
        match section.as_str() {
            "jobs" => {
                let id = item
                    .split_once("\"job_id\":")
                    .map(|(_, rest)| {
                        rest.bytes()
                            .take_while(u8::is_ascii_digit)
                            .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'))
                    })
                    .filter(|&id| id > 0);
                targets.job_ids.extend(id);
            }
            "workspace_objects" if item.contains("\"DIRECTORY\"") && item.contains("/folder-") => {
                let v: serde_json::Value = serde_json::from_str(item)
                    .with_context(|| format!("a workspace object line: {item}"))?;
                if let (Some(p), Some(id)) = (v["path"].as_str(), v["object_id"].as_u64()) {
                    targets.folders.push((p.to_owned(), id));
                }
            }
            _ => {}
        }
    }
    if targets.job_ids.is_empty() || targets.folders.is_empty() {
        bail!(
            "no jobs or folders found in `{}`: has the generator's layout changed?",
            path.display()
        );
    }
    Ok(targets)
}

/// `count` requests of the mix, drawn uniformly from every object.
fn mix(t: &Targets, count: usize, seed: u64) -> Vec<Req> {
    mix_of(t, count, seed, None)
}

/// `count` requests of one endpoint, or of the mix.
fn mix_of(t: &Targets, count: usize, seed: u64, only: Option<Endpoint>) -> Vec<Req> {
    let mut rng = SmallRng::seed_from_u64(seed);
    (0..count)
        .map(|_| {
            let e = only.unwrap_or_else(|| rng_endpoint(&mut rng));
            pick(t, &mut rng, e)
        })
        .collect()
}

fn rng_endpoint(rng: &mut SmallRng) -> Endpoint {
    match rng.gen_range(0..100) {
        0..45 => Endpoint::Permissions,
        45..75 => Endpoint::JobsGet,
        75..95 => Endpoint::WorkspaceList,
        _ => Endpoint::ScimUsers,
    }
}

fn pick(t: &Targets, rng: &mut SmallRng, e: Endpoint) -> Req {
    let job = t.job_ids[rng.gen_range(0..t.job_ids.len())];
    let (folder, folder_id) = &t.folders[rng.gen_range(0..t.folders.len())];
    let target = match e {
        // Most permission reads of a capture are jobs'; folders' the rest.
        Endpoint::Permissions if rng.gen_range(0..5) == 0 => {
            format!("/api/2.0/permissions/directories/{folder_id}")
        }
        Endpoint::Permissions => format!("/api/2.0/permissions/jobs/{job}"),
        Endpoint::JobsGet => format!("/api/2.2/jobs/get?job_id={job}"),
        Endpoint::WorkspaceList => format!("/api/2.0/workspace/list?path={folder}"),
        Endpoint::ScimUsers => format!(
            "/api/2.0/preview/scim/v2/Users?startIndex={}&count=100",
            rng.gen_range(1..=t.users.saturating_sub(99).max(1))
        ),
    };
    Req::new(e, target)
}

/// Checks one request of each endpoint answers 200 with JSON, and shows sizes.
async fn validate(addr: SocketAddr, requests: &[Req]) -> anyhow::Result<()> {
    let mut seen = Vec::new();
    for r in requests {
        if seen.contains(&r.endpoint) {
            continue;
        }
        seen.push(r.endpoint);
        let (status, body) = one_request(addr, &r.wire).await?;
        if status != 200 || serde_json::from_slice::<serde_json::Value>(&body).is_err() {
            bail!(
                "`{}` answered {status}: {}",
                r.target,
                String::from_utf8_lossy(&body[..body.len().min(300)])
            );
        }
        eprintln!(
            "mock:   {:<16} {:>7} bytes  {}",
            r.endpoint.name(),
            body.len(),
            r.target
        );
    }
    Ok(())
}

/// One request on a fresh connection: status and body.
/// Runs `standby mock serve --fixture path` and times it from the command
/// to the answer of `first` (which must be 200), then stops it.
async fn binary_startup(path: &Path, first: &Req) -> anyhow::Result<Duration> {
    use tokio::io::AsyncBufReadExt;
    let t = Instant::now();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_standby"))
        .args(["mock", "serve", "--fixture"])
        .arg(path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("cannot run `standby mock serve`")?;
    let stdout = child.stdout.take().context("no stdout")?;
    let line = tokio::io::BufReader::new(stdout)
        .lines()
        .next_line()
        .await?
        .context("`standby mock serve` printed nothing")?;
    let addr: SocketAddr = line
        .strip_prefix("listening on http://")
        .and_then(|a| a.parse().ok())
        .with_context(|| format!("an unexpected first line: {line}"))?;
    let (status, _) = one_request(addr, &first.wire).await?;
    let took = t.elapsed();
    child.kill().await?;
    if status != 200 {
        bail!("the first request `{}` got {status}", first.target);
    }
    Ok(took)
}

async fn one_request(addr: SocketAddr, wire: &[u8]) -> anyhow::Result<(u16, Vec<u8>)> {
    let mut stream = TcpStream::connect(addr).await?;
    let mut buf = Vec::with_capacity(1 << 16);
    let (status, head, len) = roundtrip(&mut stream, &mut buf, wire).await?;
    Ok((status, body_of(&buf[head..], len)))
}

/// The body bytes of a response (de-chunked).
fn body_of(raw: &[u8], len: usize) -> Vec<u8> {
    if raw.len() == len {
        return raw.to_vec();
    }
    let mut out = Vec::with_capacity(len);
    let mut pos = 0;
    while let Some(end) = find(&raw[pos..], b"\r\n") {
        let size = chunk_size(&raw[pos..pos + end]).unwrap_or(0);
        pos += end + 2;
        if size == 0 || pos + size > raw.len() {
            break;
        }
        out.extend_from_slice(&raw[pos..pos + size]);
        pos += size + 2;
    }
    out
}

/// Runs 32 connections over `requests` for `warmup + measure`, and measures
/// the requests started after the warm-up.
async fn drive(
    addr: SocketAddr,
    requests: Arc<Vec<Req>>,
    warmup: Duration,
    measure: Duration,
) -> LoadResult {
    let start = Instant::now();
    let (measure_from, end) = (start + warmup, start + warmup + measure);
    let cpu = tokio::spawn(async move {
        tokio::time::sleep_until(measure_from.into()).await;
        let (a, m) = (cpu_time(), machine_busy());
        tokio::time::sleep_until(end.into()).await;
        (
            cpu_time().saturating_sub(a),
            machine_busy().saturating_sub(m),
        )
    });
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|c| {
            let requests = requests.clone();
            tokio::spawn(async move { client(addr, &requests, c, measure_from, end).await })
        })
        .collect();
    let mut lat = Vec::new();
    let (mut errors, mut bytes) = (0u64, 0u64);
    for t in tasks {
        if let Ok(stats) = t.await {
            lat.extend(stats.latencies_us);
            errors += stats.errors;
            bytes += stats.bytes;
        }
    }
    let (cpu, machine) = cpu.await.unwrap_or_default();
    lat.sort_unstable();
    let pct = |q: f64| -> u32 {
        if lat.is_empty() {
            return 0;
        }
        lat[((lat.len() as f64 * q) as usize).min(lat.len() - 1)]
    };
    let n = lat.len() as u64;
    LoadResult {
        rps: n as f64 / measure.as_secs_f64(),
        p50_us: pct(0.50),
        p99_us: pct(0.99),
        p999_us: pct(0.999),
        max_us: lat.last().copied().unwrap_or(0),
        errors,
        bytes_per_req: bytes as f64 / n.max(1) as f64,
        cpu_us_per_req: cpu.as_secs_f64() * 1e6 / n.max(1) as f64,
        cores: cpu.as_secs_f64() / measure.as_secs_f64(),
        machine_cores: machine.as_secs_f64() / measure.as_secs_f64(),
    }
}

#[derive(Default)]
struct ClientStats {
    latencies_us: Vec<u32>,
    errors: u64,
    bytes: u64,
}

/// One keep-alive connection: a request at a time, reconnecting on errors.
async fn client(
    addr: SocketAddr,
    requests: &[Req],
    c: usize,
    measure_from: Instant,
    end: Instant,
) -> ClientStats {
    let mut stats = ClientStats {
        latencies_us: Vec::with_capacity(1 << 16),
        ..ClientStats::default()
    };
    let mut buf = Vec::with_capacity(1 << 17);
    let mut next = c * requests.len() / CONNECTIONS;
    let mut stream: Option<TcpStream> = None;
    loop {
        let t0 = Instant::now();
        if t0 >= end {
            break;
        }
        if stream.is_none() {
            match TcpStream::connect(addr).await {
                Ok(s) => {
                    let _ = s.set_nodelay(true);
                    stream = Some(s);
                }
                Err(_) => {
                    stats.errors += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            }
        }
        let Some(s) = stream.as_mut() else { continue };
        let req = &requests[next % requests.len()];
        next += 1;
        let outcome = roundtrip(s, &mut buf, &req.wire).await;
        let took = t0.elapsed();
        let counted = t0 >= measure_from;
        match outcome {
            Ok((200, _, len)) if counted => {
                stats
                    .latencies_us
                    .push(u32::try_from(took.as_micros()).unwrap_or(u32::MAX));
                stats.bytes += len as u64;
            }
            Ok((200, _, _)) => {}
            Ok(_) => stats.errors += u64::from(counted),
            Err(_) => {
                stats.errors += u64::from(counted);
                stream = None;
            }
        }
    }
    stats
}

/// Writes a request and reads one response into `buf`: status, header
/// length and body length.
async fn roundtrip(
    s: &mut TcpStream,
    buf: &mut Vec<u8>,
    wire: &[u8],
) -> io::Result<(u16, usize, usize)> {
    s.write_all(wire).await?;
    buf.clear();
    let head = loop {
        fill(s, buf).await?;
        if let Some(p) = find(buf, b"\r\n\r\n") {
            break p + 4;
        }
    };
    let (status, length, chunked) = parse_head(&buf[..head])?;
    match (length, chunked) {
        (Some(n), _) => {
            while buf.len() < head + n {
                fill(s, buf).await?;
            }
            Ok((status, head, n))
        }
        (None, true) => loop {
            if let Some(n) = chunked_len(&buf[head..]) {
                return Ok((status, head, n));
            }
            fill(s, buf).await?;
        },
        (None, false) => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "a response without a length",
        )),
    }
}

async fn fill(s: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<()> {
    if buf.capacity() - buf.len() < 16 * 1024 {
        buf.reserve(64 * 1024);
    }
    if s.read_buf(buf).await? == 0 {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Status, `Content-Length` and whether the body is chunked.
fn parse_head(head: &[u8]) -> io::Result<(u16, Option<usize>, bool)> {
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "a malformed response head");
    let text = std::str::from_utf8(head).map_err(|_| bad())?;
    let mut lines = text.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(bad)?;
    let (mut length, mut chunked) = (None, false);
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if name.eq_ignore_ascii_case("content-length") {
            length = value.trim().parse().ok();
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.trim().eq_ignore_ascii_case("chunked");
        }
    }
    Ok((status, length, chunked))
}

fn chunk_size(line: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(line).ok()?;
    let hex = text.split(';').next()?.trim();
    usize::from_str_radix(hex, 16).ok()
}

/// The body length of a complete chunked body (no trailers), or `None` while incomplete.
fn chunked_len(body: &[u8]) -> Option<usize> {
    let (mut pos, mut total) = (0, 0);
    loop {
        let end = find(&body[pos..], b"\r\n")?;
        let size = chunk_size(&body[pos..pos + end])?;
        pos += end + 2;
        if size == 0 {
            return (body.len() >= pos + 2).then_some(total);
        }
        if body.len() < pos + size + 2 {
            return None;
        }
        total += size;
        pos += size + 2;
    }
}

/// A bare axum router that answers every request with one fixed JSON
/// body: the ceiling of framework, kernel and client on this machine.
struct Ceiling {
    addr: SocketAddr,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Ceiling {
    /// Starts it with a body of `bytes` bytes.
    async fn start(bytes: usize) -> anyhow::Result<Ceiling> {
        use axum::serve::{Listener, ListenerExt};

        let mut text = String::from("{\"x\":\"");
        text.push_str(&"a".repeat(bytes.saturating_sub(8)));
        text.push_str("\"}");
        let body = axum::body::Bytes::from(text);
        let app = axum::Router::new().fallback(move || {
            let body = body.clone();
            async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    body,
                )
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await?
            .tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(Ceiling { addr, server })
    }
}

/// One wiremock comparison row.
struct WiremockRow {
    mocks: u64,
    mount: Duration,
    wiremock: LoadResult,
    stateful: LoadResult,
}

/// Serves `mocks` objects' answers from wiremock, one `Mock` each (bodies
/// fetched from the stateful mock, so both serve the same bytes), and runs
/// the same client and mix against both.
async fn compare_wiremock(
    server: &MockServer,
    targets: &Targets,
    mocks: u64,
    measure: Duration,
) -> anyhow::Result<WiremockRow> {
    use wiremock::matchers::{method, path, query_param};
    use wiremock::{Mock, ResponseTemplate};

    // One request per object, in the mix's proportions, no object twice.
    let mut rng = SmallRng::seed_from_u64(mocks);
    let mut chosen: Vec<Req> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut attempts = 0u64;
    while (chosen.len() as u64) < mocks && attempts < mocks * 20 {
        attempts += 1;
        let r = {
            let e = rng_endpoint(&mut rng);
            pick(targets, &mut rng, e)
        };
        if seen.insert(r.target.clone()) {
            chosen.push(r);
        }
    }
    eprintln!(
        "wiremock: fetching {} bodies from the stateful mock",
        chosen.len()
    );
    let mut stream = TcpStream::connect(server.addr()).await?;
    let mut buf = Vec::with_capacity(1 << 17);
    let mut bodies = Vec::with_capacity(chosen.len());
    for r in &chosen {
        let (status, head, len) = roundtrip(&mut stream, &mut buf, &r.wire).await?;
        if status != 200 {
            bail!("`{}` answered {status}", r.target);
        }
        bodies.push(body_of(&buf[head..], len));
    }

    let wm = wiremock::MockServer::builder()
        .disable_request_recording()
        .start()
        .await;
    let t = Instant::now();
    for (r, body) in chosen.iter().zip(bodies) {
        let (p, query) = r.target.split_once('?').unwrap_or((&r.target, ""));
        let mut m = Mock::given(method("GET")).and(path(p));
        for pair in query.split('&').filter(|q| !q.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            m = m.and(query_param(k, v));
        }
        m.respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/json"))
            .mount(&wm)
            .await;
    }
    let mount = t.elapsed();
    eprintln!(
        "wiremock: {} mocks mounted in {:.2} s",
        chosen.len(),
        mount.as_secs_f64()
    );
    // Both servers see the same requests, in the same order.
    let requests: Vec<Req> = (0..REQUESTS.min(chosen.len() * 4))
        .map(|_| chosen[rng.gen_range(0..chosen.len())].clone())
        .collect();
    let stateful = drive(
        server.addr(),
        Arc::new(requests.clone()),
        Duration::from_millis(500),
        measure,
    )
    .await;
    let addr = *wm.address();
    let wiremock = drive(
        addr,
        Arc::new(requests),
        Duration::from_millis(500),
        measure,
    )
    .await;
    eprintln!("wiremock: {mocks} mocks: {wiremock:?}");
    if wiremock.errors > 0 {
        eprintln!(
            "wiremock: {} requests were not answered 200",
            wiremock.errors
        );
    }
    Ok(WiremockRow {
        mocks: chosen.len() as u64,
        mount,
        wiremock,
        stateful,
    })
}

fn report(
    scales: &[ScaleResult],
    ceiling: Option<&LoadResult>,
    wiremock: &[WiremockRow],
    config: &Config,
) {
    println!();
    println!(
        "mock: {CONNECTIONS} keep-alive connections, loopback, no latency; the mix measured {ROUNDS} × {:.1} s per scale,",
        config.secs as f64 / ROUNDS as f64
    );
    println!(
        "the scales and the bare axum route taking turns a round at a time (median round shown; max over all rounds);"
    );
    println!(
        "{} tokio worker thread(s); client in process on the same 2 cores (figures are for client + server);",
        config.threads
    );
    println!("`cores`: cores this process used / cores the whole machine was busy while measuring");
    println!(
        "{:>10} {:>10} {:>8} {:>8} {:>9} | {:>9} {:>8} {:>8} {:>8} {:>8} {:>7} {:>9} {:>7} {:>11}",
        "objects",
        "fixture",
        "load s",
        "ready s",
        "state MB",
        "req/s",
        "p50 µs",
        "p99 µs",
        "p99.9",
        "max µs",
        "errors",
        "bytes/req",
        "cpu µs",
        "cores"
    );
    for s in scales {
        let r = &s.result;
        println!(
            "{:>10} {:>8.0}MB {:>8.2} {:>8.2} {:>9.0} | {:>9.0} {:>8} {:>8} {:>8} {:>8} {:>7} {:>9.0} {:>7.1} {:>5.2}/{:<5.2}",
            s.objects,
            s.fixture_mb,
            s.load.as_secs_f64(),
            s.ready.as_secs_f64(),
            s.rss_mb,
            r.rps,
            r.p50_us,
            r.p99_us,
            r.p999_us,
            r.max_us,
            r.errors,
            r.bytes_per_req,
            r.cpu_us_per_req,
            r.cores,
            r.machine_cores
        );
    }
    if let Some(r) = ceiling {
        println!(
            "{:>10} {:>10} {:>8} {:>8} {:>9} | {:>9.0} {:>8} {:>8} {:>8} {:>8} {:>7} {:>9.0} {:>7.1} {:>5.2}/{:<5.2}",
            "bare axum",
            "-",
            "-",
            "-",
            "-",
            r.rps,
            r.p50_us,
            r.p99_us,
            r.p999_us,
            r.max_us,
            r.errors,
            r.bytes_per_req,
            r.cpu_us_per_req,
            r.cores,
            r.machine_cores
        );
        println!(
            "(`bare axum`: the same client and requests against an axum server with one route that\n answers a fixed body of the mix's mean size: the ceiling of framework, kernel and client here)"
        );
    }
    println!("each endpoint alone (req/s, CPU µs a request for client + server):");
    print!("{:>17}", "endpoint");
    for s in scales {
        print!(" | {:>9} objects", s.objects);
    }
    println!();
    for (n, e) in ENDPOINTS.iter().enumerate() {
        print!("{:>17}", e.name());
        for s in scales {
            match s.endpoints.get(n) {
                Some((_, r)) => print!(" | {:>7.0} {:>7.1}µs", r.rps, r.cpu_us_per_req),
                None => print!(" | {:>17}", "-"),
            }
        }
        println!();
    }
    if !wiremock.is_empty() {
        println!("same client and mix over the same objects, one wiremock `Mock` per object:");
        println!(
            "{:>10} {:>9} | {:>12} {:>10} {:>10} | {:>14} {:>10} {:>10}",
            "mocks",
            "mount s",
            "wiremock r/s",
            "p50 µs",
            "p99 µs",
            "stateful r/s",
            "p50 µs",
            "p99 µs"
        );
        for w in wiremock {
            println!(
                "{:>10} {:>9.2} | {:>12.0} {:>10} {:>10} | {:>14.0} {:>10} {:>10}",
                w.mocks,
                w.mount.as_secs_f64(),
                w.wiremock.rps,
                w.wiremock.p50_us,
                w.wiremock.p99_us,
                w.stateful.rps,
                w.stateful.p50_us,
                w.stateful.p99_us
            );
        }
    }
    for s in scales {
        let r = &s.result;
        let at = format!("{} objects", s.objects);
        result(
            "mock",
            &format!("requests/s, {at}"),
            &format!(
                "{:.0} (process on {:.2} cores, machine busy {:.2})",
                r.rps, r.cores, r.machine_cores
            ),
            "≥ 100,000",
            Some(r.rps >= RPS_TARGET && r.errors == 0),
        );
        result(
            "mock",
            &format!("p50 / p99 latency, {at}"),
            &format!("{} / {} µs", r.p50_us, r.p99_us),
            "p99 ≤ 1 ms",
            Some(r.p99_us <= P99_TARGET_US),
        );
    }
    if scales.len() > 1 {
        let rates: Vec<f64> = scales.iter().map(|s| s.result.rps).collect();
        let (lo, hi) = rates
            .iter()
            .fold((f64::MAX, 0.0f64), |(lo, hi), &r| (lo.min(r), hi.max(r)));
        let spread = 1.0 - lo / hi.max(1.0);
        result(
            "mock",
            &format!(
                "throughput spread, {} to {} objects",
                scales[0].objects,
                scales[scales.len() - 1].objects
            ),
            &format!("{:.1}%", spread * 100.0),
            "≤ 10%",
            Some(spread <= FLAT_TARGET),
        );
    }
    if let Some(s) = scales.iter().max_by_key(|s| s.objects) {
        result(
            "mock",
            &format!(
                "start-up (command to first reply), {} objects ({:.0} MB file)",
                s.objects, s.fixture_mb
            ),
            &format!(
                "{:.2} s (in process: load {:.2} s, first reply {:.2} s)",
                s.startup.as_secs_f64(),
                s.load.as_secs_f64(),
                s.ready.as_secs_f64()
            ),
            "≤ 2 s",
            Some(s.startup <= STARTUP_TARGET),
        );
    }
    if let Some(r) = ceiling {
        result(
            "mock",
            "ceiling: bare axum, same client, fixed body",
            &format!(
                "{:.0} req/s, p99 {} µs (process on {:.2} cores)",
                r.rps, r.p99_us, r.cores
            ),
            "",
            None,
        );
    }
    for w in wiremock {
        result(
            "mock",
            &format!("wiremock, {} mocks (stateful mock, same requests)", w.mocks),
            &format!(
                "{:.0} req/s, p99 {} µs ({:.0} req/s, p99 {} µs)",
                w.wiremock.rps, w.wiremock.p99_us, w.stateful.rps, w.stateful.p99_us
            ),
            "",
            None,
        );
    }
}

/// User + system CPU time of this process, from `/proc/self/stat` (clock ticks of 10 ms).
fn cpu_time() -> Duration {
    let ticks = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            // Fields after the command name, which is in parentheses and may hold spaces.
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            let utime: u64 = f.get(11)?.parse().ok()?;
            let stime: u64 = f.get(12)?.parse().ok()?;
            Some(utime + stime)
        })
        .unwrap_or(0);
    Duration::from_millis(ticks * 10)
}
