//! Snapshot write and read throughput (issue 3): a snapshot of 1,000,000
//! records (users, notebooks and their folders, ACL entries, jobs, in the
//! shapes `normalize` gives them, frozen with [`Draft::into_record`]) written
//! with [`write_snapshot`] to a file under `target/bench-data`, then parsed
//! with [`read_snapshot_bytes`] on one thread (MB/s per core), with peak
//! memory of both sides.
//!
//! The parse runs in a child process (this binary with `--read-child`), so
//! its peak RSS is the reader's own and not the generator's.
//!
//! ```text
//! cargo bench --bench snapshot_io                       # 1,000,000 records
//! cargo bench --bench snapshot_io -- --records 50000    # a quick check
//! ```
//!
//! Lines starting with `BENCH|` are the results `benches/run-all.sh` tabulates.
//!
//! The record generator lives here, in [`records`], and `benches/diff.rs`
//! includes this file as a module to plant drift in the same records.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use standby::snapshot::{parse_snapshot, read_snapshot_bytes, write_snapshot};

/// Targets from issue 3.
const WRITE_TARGET_MBS: f64 = 500.0;
const PARSE_TARGET_MBS: f64 = 600.0;

/// The allocator the `standby` binary ships with (see `src/main.rs`), so
/// the figures are the binary's. The diff and mock benches include this
/// file as a module, and with it this allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(at) = args.iter().position(|a| a == "--read-child") {
        let Some(path) = args.get(at + 1) else {
            eprintln!("error: `--read-child` needs a file");
            std::process::exit(2);
        };
        read_child(Path::new(path), args.iter().any(|a| a == "--borrowed"));
        return;
    }
    let records = flag_value(&args, "--records")
        .unwrap_or(1_000_000)
        .max(10_000);
    let reps = flag_value(&args, "--reps").unwrap_or(3).max(1);
    let keep = args.iter().any(|a| a == "--keep");
    if let Err(e) = run(records, reps, keep) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run(n: usize, reps: usize, keep: bool) -> anyhow::Result<()> {
    let dir = bench_data_dir();
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("snapshot-io.json");
    eprintln!("snapshot io: building {n} records (Draft::into_record, 2 threads)");
    let t = Instant::now();
    let snapshot = records::snapshot(records::primary(n), "https://primary.example.com");
    let build = t.elapsed();
    let rss_built = rss_kb("VmRSS");

    // To a file, through a 1 MiB buffer, as `standby snapshot` writes it (no fsync:
    // the page cache absorbs it, as it does for the CLI).
    let mut to_file = Vec::new();
    for _ in 0..reps {
        // A new file each time, as `standby snapshot` writes one: truncating
        // the last run's file would be timed otherwise.
        let _ = std::fs::remove_file(&path);
        let t = Instant::now();
        let file = std::fs::File::create(&path)?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        write_snapshot(&snapshot, &mut out)?;
        out.flush()?;
        drop(out);
        to_file.push(t.elapsed());
    }
    let rss_write_peak = rss_kb("VmHWM");

    // Serialization alone, into memory (sized once, so no reallocation is timed).
    let mut buf = Vec::with_capacity(n * 1_600 + (1 << 20));
    let mut to_memory = Vec::new();
    for _ in 0..reps {
        buf.clear();
        let t = Instant::now();
        write_snapshot(&snapshot, &mut buf)?;
        to_memory.push(t.elapsed());
    }
    let bytes = buf.len();
    drop(buf);
    let mb = bytes as f64 / 1e6;
    let counts: Vec<(String, usize)> = snapshot
        .kinds
        .iter()
        .map(|(k, s)| (k.to_string(), s.records.len()))
        .collect();
    drop(snapshot);

    // The parses, each in a child with a clean heap: the owned snapshot
    // (`read_snapshot_bytes`), and records borrowed from the bytes
    // (`parse_snapshot`, what `standby diff` reads files with).
    let exe = std::env::current_exe()?;
    let child = |borrowed: bool| -> anyhow::Result<(f64, f64, f64)> {
        let mut cmd = Command::new(&exe);
        cmd.arg("--read-child")
            .arg(&path)
            .arg("--reps")
            .arg(reps.to_string());
        if borrowed {
            cmd.arg("--borrowed");
        }
        let out = cmd.output()?;
        if !out.status.success() {
            anyhow::bail!(
                "the read child failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let child = String::from_utf8_lossy(&out.stdout);
        let field = |name: &str| -> anyhow::Result<f64> {
            child
                .split_whitespace()
                .find_map(|w| w.strip_prefix(name)?.strip_prefix('=')?.parse().ok())
                .ok_or_else(|| anyhow::anyhow!("the read child did not report `{name}`: {child}"))
        };
        Ok((field("fs_read_ms")?, field("parse_ms")?, field("peak_kb")?))
    };
    let (fs_read_ms, parse_ms, read_peak_kb) = child(false)?;
    let (_, borrowed_ms, borrowed_peak_kb) = child(true)?;
    let borrowed_mbs = mb / (borrowed_ms / 1e3);

    let mem_mbs = mb / median(&to_memory).as_secs_f64();
    let file_mbs = mb / median(&to_file).as_secs_f64();
    let parse_mbs = mb / (parse_ms / 1e3);
    println!();
    println!(
        "snapshot io: {n} records, {mb:.0} MB, {:.0} bytes a record",
        bytes as f64 / n as f64
    );
    for (kind, count) in &counts {
        println!("  {kind:<18} {count:>9} records");
    }
    println!(
        "  build (Draft::into_record)      {:>8.2} s",
        build.as_secs_f64()
    );
    println!(
        "  write_snapshot → memory         {:>8.0} MB/s  ({} ms, median of {reps})",
        mem_mbs,
        median(&to_memory).as_millis()
    );
    println!(
        "  write_snapshot → file           {:>8.0} MB/s  ({} ms, median of {reps}, target ≥ {WRITE_TARGET_MBS} MB/s)",
        file_mbs,
        median(&to_file).as_millis()
    );
    println!(
        "  fs::read of the file            {:>8.0} MB/s  ({fs_read_ms:.0} ms, page cache)",
        mb / (fs_read_ms / 1e3)
    );
    println!(
        "  read_snapshot_bytes (1 thread)  {:>8.0} MB/s  ({parse_ms:.0} ms, median of {reps}, target ≥ {PARSE_TARGET_MBS} MB/s)",
        parse_mbs
    );
    println!(
        "  parse_snapshot (1 thread)       {:>8.0} MB/s  ({borrowed_ms:.0} ms, median of {reps}; records borrowed from the bytes, as `standby diff` reads)",
        borrowed_mbs
    );
    println!(
        "  peak RSS: writer {:.0} MB (snapshot in memory {:.0} MB), reader {:.0} MB (file {mb:.0} MB + parsed), borrowed reader {:.0} MB (file + index)",
        rss_write_peak as f64 / 1024.0,
        rss_built as f64 / 1024.0,
        read_peak_kb / 1024.0,
        borrowed_peak_kb / 1024.0
    );
    let scale = format!("{n} records");
    result(
        "snapshot io",
        &format!("write_snapshot to file, {scale}"),
        &format!("{file_mbs:.0} MB/s"),
        &format!("≥ {WRITE_TARGET_MBS:.0} MB/s"),
        Some(file_mbs >= WRITE_TARGET_MBS),
    );
    result(
        "snapshot io",
        &format!("write_snapshot to memory, {scale}"),
        &format!("{mem_mbs:.0} MB/s"),
        "",
        None,
    );
    result(
        "snapshot io",
        &format!("read_snapshot_bytes per core, {scale}"),
        &format!("{parse_mbs:.0} MB/s"),
        &format!("≥ {PARSE_TARGET_MBS:.0} MB/s"),
        Some(parse_mbs >= PARSE_TARGET_MBS),
    );
    result(
        "snapshot io",
        &format!("parse_snapshot (borrowed) per core, {scale}"),
        &format!("{borrowed_mbs:.0} MB/s"),
        &format!("≥ {PARSE_TARGET_MBS:.0} MB/s"),
        Some(borrowed_mbs >= PARSE_TARGET_MBS),
    );
    result(
        "snapshot io",
        &format!("peak RSS writer / reader / borrowed reader, {scale}"),
        &format!(
            "{:.0} / {:.0} / {:.0} MB",
            rss_write_peak as f64 / 1024.0,
            read_peak_kb / 1024.0,
            borrowed_peak_kb / 1024.0
        ),
        &format!("file {mb:.0} MB"),
        None,
    );
    if !keep {
        std::fs::remove_file(&path)?;
    }
    Ok(())
}

/// The child: reads the file, parses it `--reps` times (into the owned
/// snapshot, or `borrowed` into records borrowed from the bytes), reports
/// the median parse time and its own peak RSS.
fn read_child(path: &Path, borrowed: bool) {
    let args: Vec<String> = std::env::args().collect();
    let reps = flag_value(&args, "--reps").unwrap_or(3).max(1);
    let t = Instant::now();
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: cannot read `{}`: {e}", path.display());
            std::process::exit(1);
        }
    };
    let fs_read = t.elapsed();
    let mut times = Vec::new();
    for _ in 0..reps {
        // Dropping is not parsing: keep it out of the timing.
        let parsed = if borrowed {
            let t = Instant::now();
            let parsed = parse_snapshot(path, &bytes);
            times.push(t.elapsed());
            parsed.map(|s| drop(std::hint::black_box(s)))
        } else {
            let t = Instant::now();
            let parsed = read_snapshot_bytes(path, &bytes);
            times.push(t.elapsed());
            parsed.map(|s| drop(std::hint::black_box(s)))
        };
        if let Err(e) = parsed {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
    println!(
        "fs_read_ms={:.1} parse_ms={:.1} peak_kb={}",
        fs_read.as_secs_f64() * 1e3,
        median(&times).as_secs_f64() * 1e3,
        rss_kb("VmHWM")
    );
}

/// `--name N` (digits may contain `_` or `,`).
pub fn flag_value(args: &[String], name: &str) -> Option<usize> {
    let at = args.iter().position(|a| a == name)?;
    args.get(at + 1)?.replace(['_', ','], "").parse().ok()
}

/// Where benches put their files: `$BENCH_DATA_DIR`, else `target/bench-data`.
pub fn bench_data_dir() -> PathBuf {
    std::env::var_os("BENCH_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-data"))
}

/// A line of `/proc/self/status` in KiB (0 when unreadable).
pub fn rss_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Busy CPU time of the whole machine (every state but idle and iowait),
/// from `/proc/stat` (clock ticks of 10 ms): shows when other work shared the cores.
pub fn machine_busy() -> Duration {
    let ticks = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| {
            let line = s.lines().next()?.strip_prefix("cpu ")?.to_owned();
            let f: Vec<u64> = line
                .split_whitespace()
                .filter_map(|v| v.parse().ok())
                .collect();
            // user nice system idle iowait irq softirq steal (guest is inside user).
            Some(f.iter().take(8).sum::<u64>() - f.get(3)? - f.get(4)?)
        })
        .unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

pub fn median(times: &[Duration]) -> Duration {
    let mut t = times.to_vec();
    t.sort();
    t.get(t.len() / 2).copied().unwrap_or_default()
}

/// One result line for `benches/run-all.sh`: `BENCH|bench|metric|value|target|verdict`.
pub fn result(bench: &str, metric: &str, value: &str, target: &str, ok: Option<bool>) {
    let verdict = match ok {
        Some(true) => "ok",
        Some(false) => "MISSED",
        None => "",
    };
    println!("BENCH|{bench}|{metric}|{value}|{target}|{verdict}");
}

/// Deterministic snapshot records in the shapes `normalize` gives them, and
/// drift planted into a copy for the diff bench.
///
/// Records come in blocks of 20: 4 users, 5 notebooks in one folder, an ACL
/// entry per notebook, 4 jobs, the folder, and the folder's ACL. A few
/// hundred groups and service principals come first. References point only
/// at records the drift never removes (groups, service principals, users and
/// notebooks below [`ANCHORS`], a record's own notebook or folder), so
/// removing a record never leaves a dangling reference behind: the diff's
/// findings are exactly the drift planted.
pub mod records {
    use std::collections::BTreeMap;

    use rand::SeedableRng;
    use rand::rngs::SmallRng;
    use rand::seq::SliceRandom;
    use serde_json::{Value, json};
    use standby::kind::Kind;
    use standby::normalize::Draft;
    use standby::snapshot::{
        CaptureMetadata, FORMAT_VERSION, KindSnapshot, Record, Reference, Snapshot, Status,
    };

    /// Groups and service principals generated before the blocks.
    pub const GROUPS: u64 = 200;
    /// Service principals.
    pub const SERVICE_PRINCIPALS: u64 = 50;
    /// Users and notebooks with a lower index are referenced by other
    /// records, and are never removed.
    pub const ANCHORS: u64 = 1_000;
    const BLOCK: u64 = 20;
    /// Epoch ms of the capture; modification times lie before it.
    pub const CAPTURED_AT_MS: i64 = 1_764_000_000_000;

    const WORDS: [&str; 16] = [
        "orders",
        "billing",
        "churn",
        "clicks",
        "finance",
        "growth",
        "ingest",
        "inventory",
        "leads",
        "ledger",
        "marketing",
        "ops",
        "payments",
        "reports",
        "risk",
        "shipping",
    ];
    const FIRST: [&str; 12] = [
        "alex", "blake", "casey", "dana", "eli", "fran", "harper", "jules", "kai", "morgan",
        "quinn", "remy",
    ];
    const LAST: [&str; 12] = [
        "adams", "chen", "diaz", "fischer", "garcia", "ito", "kim", "lopez", "novak", "okafor",
        "patel", "tanaka",
    ];
    const LANGUAGES: [&str; 4] = ["PYTHON", "SQL", "SCALA", "R"];
    const NODE_TYPES: [&str; 3] = ["m5d.xlarge", "i3.xlarge", "r5d.2xlarge"];
    const TIERS: [&str; 3] = ["gold", "silver", "bronze"];
    const LEVELS: [&str; 4] = ["CAN_READ", "CAN_RUN", "CAN_EDIT", "CAN_MANAGE"];

    /// What record `i` of a snapshot is.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Shape {
        /// Group `n` (an anchor).
        Group(u64),
        /// Service principal `n` (an anchor).
        ServicePrincipal(u64),
        /// User `n`.
        User(u64),
        /// Notebook `n` (in folder `n / 5`).
        Notebook(u64),
        /// The ACL entry of notebook `n`.
        NotebookAcl(u64),
        /// Job `n`.
        Job(u64),
        /// Folder `n`.
        Folder(u64),
        /// The ACL entry of folder `n`.
        FolderAcl(u64),
    }

    /// The shape of record `i`.
    pub fn shape(i: u64) -> Shape {
        if i < GROUPS {
            return Shape::Group(i);
        }
        if i < GROUPS + SERVICE_PRINCIPALS {
            return Shape::ServicePrincipal(i - GROUPS);
        }
        let j = i - GROUPS - SERVICE_PRINCIPALS;
        let (b, slot) = (j / BLOCK, j % BLOCK);
        match slot {
            0..4 => Shape::User(b * 4 + slot),
            4..9 => Shape::Notebook(b * 5 + slot - 4),
            9..14 => Shape::NotebookAcl(b * 5 + slot - 9),
            14..18 => Shape::Job(b * 4 + slot - 14),
            18 => Shape::Folder(b),
            _ => Shape::FolderAcl(b),
        }
    }

    /// SplitMix64: the hash behind every choice, so the same index gives the same record.
    pub fn mix(mut x: u64) -> u64 {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^ (x >> 31)
    }

    fn word(x: u64) -> &'static str {
        WORDS[(x % WORDS.len() as u64) as usize]
    }

    fn group_name(g: u64) -> String {
        if g == 0 {
            "admins".into()
        } else {
            format!("team-{g:04}-{}", word(g))
        }
    }

    fn sp_id(s: u64) -> String {
        let h = mix(s ^ 0x5350);
        format!(
            "{:08x}-{:04x}-4{:03x}-{:x}{:03x}-{:012x}",
            h >> 32,
            (h >> 16) & 0xFFFF,
            h & 0xFFF,
            8 + (h >> 60) % 4,
            (h >> 48) & 0xFFF,
            s
        )
    }

    fn user_name(u: u64) -> String {
        let h = mix(u ^ 0x5553);
        format!(
            "{}.{}{u}@example.com",
            FIRST[(h % 12) as usize],
            LAST[(h / 12 % 12) as usize]
        )
    }

    fn folder_path(f: u64) -> String {
        format!("/Production/team-{:04}/folder-{f:06}-{}", f / 100, word(f))
    }

    fn notebook_path(n: u64) -> String {
        format!("{}/notebook-{n:07}-{}", folder_path(n / 5), word(mix(n)))
    }

    fn job_name(j: u64) -> String {
        format!("job-{j:07}-{}-{}", word(j), word(mix(j)))
    }

    /// A reference by natural key.
    fn reference(field: String, kind: Kind, key: String) -> Reference {
        Reference {
            field,
            kind,
            key: Some(key),
            unresolved_id: None,
        }
    }

    /// A principal an ACL may name: an anchor group, service principal or user.
    fn principal(h: u64) -> (String, &'static str, Kind) {
        match h % 4 {
            0 | 1 => (group_name(1 + h / 4 % (GROUPS - 1)), "group", Kind::Groups),
            2 => (
                sp_id(h / 4 % SERVICE_PRINCIPALS),
                "service_principal",
                Kind::ServicePrincipals,
            ),
            _ => (user_name(h / 4 % ANCHORS), "user", Kind::Users),
        }
    }

    /// An ACL record's content and references: direct grants to a few
    /// principals, the entries inherited from the root, `/Production` and
    /// the `parent` folder.
    fn acl(object: &str, key: String, target: (Kind, String), parent: &str, h: u64) -> Draft {
        let mut refs = vec![reference("object".into(), target.0, target.1)];
        let mut direct = Vec::new();
        let mut seen = Vec::new();
        for n in 0..(1 + h % 3) {
            let (p, ty, kind) = principal(mix(h ^ n));
            if seen.contains(&p) {
                continue;
            }
            seen.push(p.clone());
            refs.push(reference(format!("direct[{p}]"), kind, p.clone()));
            direct.push(json!({
                "permission_level": LEVELS[((h >> (8 * n)) % 4) as usize],
                "principal": p,
                "principal_type": ty,
            }));
        }
        let mut inherited = vec![json!({
            "inherited_from": ["/directories/"],
            "permission_level": "CAN_MANAGE",
            "principal": "admins",
            "principal_type": "group",
        })];
        for n in 0..5 {
            let (p, ty, _) = principal(mix(h ^ (0x100 + n)));
            let from = if n < 3 {
                "directories:/Production".to_owned()
            } else {
                format!("directories:{parent}")
            };
            inherited.push(json!({
                "inherited_from": [from],
                "permission_level": LEVELS[((h >> (4 * n)) % 3) as usize],
                "principal": p,
                "principal_type": ty,
            }));
        }
        Draft {
            key,
            modified_at: None,
            refs,
            content: json!({"direct": direct, "inherited": inherited, "object": object}),
        }
    }

    fn user(u: u64) -> Draft {
        let h = mix(u ^ 0x5553);
        let name = user_name(u);
        let (first, last) = (FIRST[(h % 12) as usize], LAST[(h / 12 % 12) as usize]);
        let mut entitlements = vec!["workspace-access", "databricks-sql-access"];
        if h % 3 == 0 {
            entitlements.push("allow-cluster-create");
        }
        let mut content = json!({
            "active": true,
            "displayName": format!("{} {} {u}", capitalize(first), capitalize(last)),
            "emails": [{"primary": true, "type": "work", "value": name}],
            "entitlements": entitlements,
            "name": {"familyName": capitalize(last), "givenName": capitalize(first)},
            "userName": name,
        });
        if h % 4 == 0 {
            content["roles"] = json!([format!(
                "arn:aws:iam::482917365012:instance-profile/{}-{}",
                word(h),
                word(h >> 8)
            )]);
        }
        Draft::new(name, content)
    }

    fn capitalize(s: &str) -> String {
        let mut c = s.chars();
        match c.next() {
            Some(f) => f.to_uppercase().chain(c).collect(),
            None => String::new(),
        }
    }

    fn notebook(n: u64) -> Draft {
        let path = notebook_path(n);
        let mut d = Draft::new(
            path.clone(),
            json!({
                "language": LANGUAGES[(mix(n) % 4) as usize],
                "object_type": "NOTEBOOK",
                "path": path,
            }),
        );
        d.modified_at = Some(CAPTURED_AT_MS - 3_600_000 - (mix(n) % 86_400_000) as i64);
        d
    }

    fn folder(f: u64) -> Draft {
        let path = folder_path(f);
        Draft::new(
            path.clone(),
            json!({"object_type": "DIRECTORY", "path": path}),
        )
    }

    /// A job with four notebook tasks on a shared job cluster, a schedule
    /// (most jobs), notifications and tags: about 3 KB, like real ETL jobs.
    /// `passive` gives the form a passive secondary holds (no concurrency,
    /// schedule paused).
    fn job(j: u64, passive: bool) -> Draft {
        let h = mix(j ^ 0x4A4F);
        let name = job_name(j);
        let sp = sp_id(h % SERVICE_PRINCIPALS);
        let team = group_name(1 + h % (GROUPS - 1));
        let mut refs = vec![reference(
            "settings.run_as.service_principal_name".into(),
            Kind::ServicePrincipals,
            sp.clone(),
        )];
        let steps = ["ingest", "clean", "enrich", "publish"];
        let mut tasks = Vec::new();
        for (t, step) in steps.iter().enumerate() {
            let nb = notebook_path(mix(h ^ t as u64) % ANCHORS);
            let key = format!("{step}_{}", word(h >> (4 * t)));
            refs.push(reference(
                format!("settings.tasks[{key}].notebook_task.notebook_path"),
                Kind::WorkspaceObjects,
                nb.clone(),
            ));
            let mut task = json!({
                "job_cluster_key": "etl_cluster",
                "notebook_task": {
                    "base_parameters": {"run_date": "{{job.start_time.iso_date}}", "env": "prod"},
                    "notebook_path": nb,
                    "source": "WORKSPACE",
                },
                "run_if": "ALL_SUCCESS",
                "task_key": key,
                "timeout_seconds": 0,
            });
            if t > 0 {
                task["depends_on"] =
                    json!([{"task_key": format!("{}_{}", steps[t - 1], word(h >> (4 * (t - 1))))}]);
            }
            if t == 0 {
                task["max_retries"] = json!(2);
                task["min_retry_interval_millis"] = json!(60_000);
                task["libraries"] = json!([{"pypi": {"package": "great-expectations==0.18.19"}}]);
            }
            tasks.push(task);
        }
        let mut settings = json!({
            "email_notifications": {
                "no_alert_for_skipped_runs": true,
                "on_failure": [format!("{team}-alerts@example.com")],
            },
            "job_clusters": [{
                "job_cluster_key": "etl_cluster",
                "new_cluster": {
                    "aws_attributes": {"availability": "SPOT_WITH_FALLBACK", "first_on_demand": 1, "zone_id": "auto"},
                    "custom_tags": {"cost-center": format!("cc-{}", 4000 + h % 900), "pipeline": word(h)},
                    "data_security_mode": "SINGLE_USER",
                    "enable_elastic_disk": true,
                    "node_type_id": NODE_TYPES[(h % 3) as usize],
                    "num_workers": 2 + h % 8,
                    "runtime_engine": "PHOTON",
                    "spark_conf": {
                        "spark.databricks.delta.optimizeWrite.enabled": "true",
                        "spark.sql.shuffle.partitions": "200",
                    },
                    "spark_version": "15.4.x-scala2.12",
                },
            }],
            "health": {"rules": [{"metric": "RUN_DURATION_SECONDS", "op": "GREATER_THAN", "value": 7_200}]},
            "max_concurrent_runs": if passive { 0 } else { 1 },
            "parameters": [
                {"default": "prod", "name": "env"},
                {"default": format!("main.{}", word(h >> 12)), "name": "target_schema"},
            ],
            "name": name,
            "queue": {"enabled": true},
            "run_as": {"service_principal_name": sp},
            "tags": {"team": team, "tier": TIERS[(h % 3) as usize]},
            "tasks": tasks,
            "timeout_seconds": 3_600 * (1 + h % 4),
        });
        if h % 5 != 0 {
            settings["schedule"] = json!({
                "pause_status": if passive { "PAUSED" } else { "UNPAUSED" },
                "quartz_cron_expression": format!("0 {} {} * * ?", h % 60, (h >> 8) % 24),
                "timezone_id": "UTC",
            });
        }
        Draft {
            key: name,
            modified_at: None,
            refs,
            content: json!({ "settings": settings }),
        }
    }

    fn group(g: u64) -> Draft {
        let name = group_name(g);
        Draft::new(
            name.clone(),
            json!({"displayName": name, "entitlements": ["workspace-access"], "resource_type": "WorkspaceGroup"}),
        )
    }

    fn service_principal(s: u64) -> Draft {
        let id = sp_id(s);
        Draft::new(
            id.clone(),
            json!({"active": true, "applicationId": id, "displayName": format!("sp-{s:03}-{}", word(s))}),
        )
    }

    /// The draft of record `i`; `passive` for a passive secondary's copy.
    pub fn draft(i: u64, passive: bool) -> (Kind, Draft) {
        match shape(i) {
            Shape::Group(g) => (Kind::Groups, group(g)),
            Shape::ServicePrincipal(s) => (Kind::ServicePrincipals, service_principal(s)),
            Shape::User(u) => (Kind::Users, user(u)),
            Shape::Notebook(n) => (Kind::WorkspaceObjects, notebook(n)),
            Shape::NotebookAcl(n) => {
                let path = notebook_path(n);
                (
                    Kind::Permissions,
                    acl(
                        "notebooks",
                        format!("notebooks:{path}"),
                        (Kind::WorkspaceObjects, path),
                        &folder_path(n / 5),
                        mix(n ^ 0x41434C),
                    ),
                )
            }
            Shape::Job(j) => (Kind::Jobs, job(j, passive)),
            Shape::Folder(f) => (Kind::WorkspaceObjects, folder(f)),
            Shape::FolderAcl(f) => {
                let path = folder_path(f);
                (
                    Kind::Permissions,
                    acl(
                        "directories",
                        format!("directories:{path}"),
                        (Kind::WorkspaceObjects, path),
                        &format!("/Production/team-{:04}", f / 100),
                        mix(f ^ 0x444952),
                    ),
                )
            }
        }
    }

    /// True when no generated record refers to record `i`, so removing it
    /// leaves nothing dangling.
    pub fn removable(i: u64) -> bool {
        match shape(i) {
            Shape::User(u) => u >= ANCHORS,
            Shape::NotebookAcl(_) | Shape::FolderAcl(_) | Shape::Job(_) => true,
            Shape::Group(_)
            | Shape::ServicePrincipal(_)
            | Shape::Notebook(_)
            | Shape::Folder(_) => false,
        }
    }

    /// Changes one compared field of a draft (never a passive field, never a reference).
    fn change(kind: Kind, d: &mut Draft) {
        let c = &mut d.content;
        match kind {
            Kind::Users => c["active"] = json!(false),
            Kind::WorkspaceObjects => c["language"] = json!("SCALA_CHANGED"),
            Kind::Permissions => {
                if let Some(Value::Object(first)) = c["inherited"].get_mut(0) {
                    first.insert("permission_level".into(), json!("CAN_VIEW"));
                }
            }
            Kind::Jobs => c["settings"]["timeout_seconds"] = json!(12_345),
            _ => c["changed"] = json!(true),
        }
    }

    /// The drift planted into a secondary, per record.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Drift {
        /// Copied as is (jobs in their passive form).
        Same,
        /// One compared field differs.
        Changed,
        /// Not in the secondary.
        Removed,
    }

    /// The drift of record `i`: 1% changed, 0.5% removed (among records
    /// nothing refers to), the rest the same. Anchors and folders
    /// (whose content is only their path) never change.
    pub fn drift(i: u64) -> Drift {
        let h = mix(i ^ 0xD21F7);
        let changeable = !matches!(
            shape(i),
            Shape::Group(_) | Shape::ServicePrincipal(_) | Shape::Folder(_)
        );
        if changeable && h % 100 == 0 {
            Drift::Changed
        } else if removable(i) && (h >> 20) % 140 == 0 {
            // 70% of records are removable: 1/140 of them is 0.5% of all.
            Drift::Removed
        } else {
            Drift::Same
        }
    }

    /// Record `k` of those only the secondary holds: users, jobs and
    /// notebooks that nothing refers to.
    pub fn added(k: u64) -> (Kind, Draft) {
        let base = 1_000_000_000 + k;
        match k % 3 {
            0 => (Kind::Users, user(base)),
            1 => (Kind::Jobs, job(base, true)),
            _ => {
                let path = format!("/Staging/adhoc-{k:07}/notebook-{}", word(mix(k)));
                (
                    Kind::WorkspaceObjects,
                    Draft::new(
                        path.clone(),
                        json!({"language": "PYTHON", "object_type": "NOTEBOOK", "path": path}),
                    ),
                )
            }
        }
    }

    /// Records by kind, unsorted.
    pub type Kinds = BTreeMap<Kind, Vec<Record>>;

    /// Builds records `0..n` with `f` on two threads (each index may give none).
    fn build(n: u64, f: impl Fn(u64) -> Option<(Kind, Draft)> + Sync) -> Kinds {
        let threads = std::thread::available_parallelism().map_or(2, usize::from) as u64;
        let chunk = n.div_ceil(threads).max(1);
        let parts: Vec<Kinds> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let f = &f;
                    scope.spawn(move || {
                        let mut out = Kinds::new();
                        for i in (t * chunk)..((t + 1) * chunk).min(n) {
                            if let Some((kind, d)) = f(i) {
                                out.entry(kind).or_default().push(d.into_record());
                            }
                        }
                        out
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
        let mut all = Kinds::new();
        for part in parts {
            for (kind, mut records) in part {
                all.entry(kind).or_default().append(&mut records);
            }
        }
        all
    }

    /// The primary's `n` records.
    pub fn primary(n: usize) -> Kinds {
        build(n as u64, |i| Some(draft(i, false)))
    }

    /// What a secondary holds with no drift: the primary's records, jobs passive.
    pub fn clean_secondary(n: usize) -> Kinds {
        build(n as u64, |i| Some(draft(i, true)))
    }

    /// The planted drift of a secondary: changed, removed and added counts.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct Planted {
        /// Records with one compared field changed.
        pub changed: usize,
        /// Records of the primary missing from the secondary.
        pub removed: usize,
        /// Records only the secondary holds.
        pub added: usize,
    }

    /// A drifted secondary of `n` records: 1% changed, 0.5% removed, 0.5% added.
    pub fn drifted_secondary(n: usize) -> (Kinds, Planted) {
        let total = n as u64;
        let extra = total / 200;
        let mut kinds = build(total + extra, |i| {
            if i >= total {
                return Some(added(i - total));
            }
            let (kind, mut d) = draft(i, true);
            match drift(i) {
                Drift::Same => Some((kind, d)),
                Drift::Changed => {
                    change(kind, &mut d);
                    Some((kind, d))
                }
                Drift::Removed => None,
            }
        });
        let mut planted = Planted {
            added: extra as usize,
            ..Planted::default()
        };
        for i in 0..total {
            match drift(i) {
                Drift::Changed => planted.changed += 1,
                Drift::Removed => planted.removed += 1,
                Drift::Same => {}
            }
        }
        for records in kinds.values_mut() {
            records.shrink_to_fit();
        }
        (kinds, planted)
    }

    /// A snapshot of the records, each kind in canonical order and complete.
    pub fn snapshot(kinds: Kinds, host: &str) -> Snapshot {
        let sections: BTreeMap<Kind, KindSnapshot> = kinds
            .into_iter()
            .map(|(kind, records)| (kind, KindSnapshot::new(Status::Complete, records)))
            .collect();
        Snapshot {
            format_version: FORMAT_VERSION,
            metadata: CaptureMetadata {
                host: host.into(),
                profile: None,
                tool_version: format!("standby {}", env!("CARGO_PKG_VERSION")),
                captured_at: "2025-11-24T16:00:00Z".into(),
                captured_at_ms: CAPTURED_AT_MS,
                requested_kinds: sections.keys().copied().collect(),
            },
            kinds: sections,
        }
    }

    /// The same snapshot with each kind's records in a seeded random order
    /// (as a writer that did not sort would leave them).
    pub fn shuffle(snapshot: &mut Snapshot, seed: u64) {
        let mut rng = SmallRng::seed_from_u64(seed);
        for section in snapshot.kinds.values_mut() {
            section.records.shuffle(&mut rng);
        }
    }
}
