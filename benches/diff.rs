//! Diff of two 1,000,000-record snapshots (issue 5): wall time and peak
//! memory of the release binary, `standby diff A B --format json -o out.json`,
//! side by side with merely reading both files, for three pairs:
//!
//! - `drift`: a passive secondary with 1% of records changed, 0.5% removed
//!   and 0.5% added;
//! - `identical`: the secondary with no drift (jobs in their passive form,
//!   as a DR copy holds them, so passive fields are compared the slow way);
//! - `shuffled`: the drift pair with every kind's records in random order.
//!
//! "Merely reading" is `SnapshotFile::read_pair`, the very code `standby
//! diff` reads its two files with, so the difference is the diff's own cost.
//!
//! Each run is a child process timed by a wrapper child (this binary with
//! `--rusage`), whose `getrusage(RUSAGE_CHILDREN)` gives the peak RSS of that
//! one run. The findings of each pair are counted by class from `out.json`
//! and must equal the drift planted. A third child (`--phases`) repeats the
//! work in process to show where the time goes (read, diff, render).
//!
//! ```text
//! cargo bench --bench diff                                        # 1,000,000 records
//! cargo bench --bench diff -- --records 50000 --reps 1              # a quick check
//! ```
//!
//! Files go to `target/bench-data` (about 5 × 1.4 GB at full scale) and are
//! deleted at the end unless `--keep` is given. Lines starting with `BENCH|`
//! are the results `benches/run-all.sh` tabulates.

#[path = "snapshot_io.rs"]
#[allow(dead_code)] // Only the record generator and the helpers are used here.
mod snapshot_io;

use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use snapshot_io::records::{self, Planted};
use snapshot_io::{bench_data_dir, flag_value, machine_busy, result};
use standby::diff::{self, Rules};
use standby::report::{self, Format, RenderOptions};
use standby::snapshot::{SnapshotFile, write_snapshot};

/// Targets from issue 5.
const WALL_TARGET: Duration = Duration::from_secs(3);
const RSS_TARGET_KB: u64 = 3 * 1024 * 1024;
const SHUFFLE_TARGET: f64 = 1.2;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.first().map(String::as_str) {
        Some("--rusage") => rusage_wrapper(&args[1..]),
        Some("--read") => read_both(&args[1..]),
        Some("--phases") => phases(&args[1..]),
        _ => run(
            flag_value(&args, "--records")
                .unwrap_or(1_000_000)
                .max(10_000),
            flag_value(&args, "--reps").unwrap_or(3).max(1),
            args.iter().any(|a| a == "--keep"),
        ),
    };
    if let Err(e) = outcome {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

/// One pair of snapshot files and what its diff must find.
struct Pair {
    name: &'static str,
    primary: PathBuf,
    secondary: PathBuf,
    planted: Planted,
}

/// One measured child run.
#[derive(Clone, Copy, Debug, Default)]
struct Usage {
    wall: Duration,
    maxrss_kb: u64,
    cpu: Duration,
    exit: i32,
}

fn run(n: usize, reps: usize, keep: bool) -> anyhow::Result<()> {
    let dir = bench_data_dir();
    std::fs::create_dir_all(&dir)?;
    let standby = standby_binary()?;
    // Five files of about 1.4 KB a record, and some slack.
    let need_kb = (n as u64) * 5 * 1_500 / 1_024 + 512 * 1_024;
    let free_kb = free_kb(&dir)?;
    if free_kb < need_kb {
        bail!(
            "`{}` has {} MB free, the bench needs about {} MB",
            dir.display(),
            free_kb / 1024,
            need_kb / 1024
        );
    }
    let file = |name: &str| dir.join(format!("diff-{name}.json"));
    let (a, a_shuf, b, b_shuf, c) = (
        file("primary"),
        file("primary-shuffled"),
        file("drifted"),
        file("drifted-shuffled"),
        file("clean"),
    );
    let t = Instant::now();
    eprintln!(
        "diff: generating 5 snapshot files of {n} records in `{}`",
        dir.display()
    );
    let mut snap = records::snapshot(records::primary(n), "https://primary.example.com");
    write(&snap, &a)?;
    records::shuffle(&mut snap, 1);
    write(&snap, &a_shuf)?;
    drop(snap);
    let (kinds, planted) = records::drifted_secondary(n);
    let mut snap = records::snapshot(kinds, "https://secondary.example.com");
    write(&snap, &b)?;
    records::shuffle(&mut snap, 2);
    write(&snap, &b_shuf)?;
    drop(snap);
    let snap = records::snapshot(records::clean_secondary(n), "https://secondary.example.com");
    write(&snap, &c)?;
    drop(snap);
    // Flush the files to disk now, so write-back does not run under the
    // first measurements.
    for path in [&a, &a_shuf, &b, &b_shuf, &c] {
        std::fs::File::open(path)?.sync_all()?;
    }
    let a_bytes = std::fs::metadata(&a)?.len();
    eprintln!(
        "diff: generated in {:.1} s; the primary is {:.0} MB, {:.0} bytes a record; planted {planted:?}",
        t.elapsed().as_secs_f64(),
        a_bytes as f64 / 1e6,
        a_bytes as f64 / n as f64
    );

    let pairs = [
        Pair {
            name: "drift (sorted)",
            primary: a.clone(),
            secondary: b.clone(),
            planted,
        },
        Pair {
            name: "identical",
            primary: a.clone(),
            secondary: c.clone(),
            planted: Planted::default(),
        },
        Pair {
            name: "drift (shuffled)",
            primary: a_shuf.clone(),
            secondary: b_shuf.clone(),
            planted,
        },
    ];
    let outcome = measure(&standby, &dir, &pairs, n, reps, a_bytes);
    if !keep {
        for path in [&a, &a_shuf, &b, &b_shuf, &c] {
            let _ = std::fs::remove_file(path);
        }
        let _ = std::fs::remove_file(dir.join("diff-out.json"));
        let _ = std::fs::remove_file(dir.join("diff-phases-out.json"));
    }
    outcome
}

fn measure(
    standby: &Path,
    dir: &Path,
    pairs: &[Pair],
    n: usize,
    reps: usize,
    a_bytes: u64,
) -> anyhow::Result<()> {
    let exe = std::env::current_exe()?;
    let out = dir.join("diff-out.json");
    let mut reads: BTreeMap<&str, Vec<Usage>> = BTreeMap::new();
    let mut diffs: BTreeMap<&str, Vec<Usage>> = BTreeMap::new();
    let mut checks: BTreeMap<&str, (bool, String)> = BTreeMap::new();
    let (started, busy_before) = (Instant::now(), machine_busy());
    for rep in 0..reps {
        for pair in pairs {
            eprintln!("diff: {} (run {} of {reps})", pair.name, rep + 1);
            let read = wrapped(
                &exe,
                &[
                    exe.as_os_str(),
                    "--read".as_ref(),
                    pair.primary.as_os_str(),
                    pair.secondary.as_os_str(),
                ],
            )?;
            if read.exit != 0 {
                bail!("reading `{}` failed", pair.name);
            }
            reads.entry(pair.name).or_default().push(read);
            let _ = std::fs::remove_file(&out);
            let usage = wrapped(
                &exe,
                &[
                    standby.as_os_str(),
                    "diff".as_ref(),
                    pair.primary.as_os_str(),
                    pair.secondary.as_os_str(),
                    "--format".as_ref(),
                    "json".as_ref(),
                    "-o".as_ref(),
                    out.as_os_str(),
                ],
            )?;
            eprintln!(
                "diff:   read only {:.2} s, {} MB; standby diff {:.2} s, {} MB",
                read.wall.as_secs_f64(),
                read.maxrss_kb / 1024,
                usage.wall.as_secs_f64(),
                usage.maxrss_kb / 1024
            );
            diffs.entry(pair.name).or_default().push(usage);
            if rep == 0 {
                checks.insert(pair.name, check_findings(&out, pair.planted, usage.exit)?);
            }
        }
    }
    let children: Duration = reads
        .values()
        .chain(diffs.values())
        .flatten()
        .map(|u| u.cpu)
        .sum();
    let others = machine_busy()
        .saturating_sub(busy_before)
        .saturating_sub(children);
    let measured = started.elapsed();
    // Where the time goes, in process (not the measured figures).
    let mut phase_lines = Vec::new();
    for pair in pairs {
        let o = Command::new(&exe)
            .arg("--phases")
            .arg(&pair.primary)
            .arg(&pair.secondary)
            .arg(dir.join("diff-phases-out.json"))
            .output()?;
        let text = String::from_utf8_lossy(&o.stdout);
        phase_lines.push((pair.name, text.trim().to_owned()));
    }

    let median_run = |runs: &[Usage]| -> Usage {
        let mut r = runs.to_vec();
        r.sort_by_key(|u| u.wall);
        r[r.len() / 2]
    };
    let mb = |kb: u64| kb as f64 / 1024.0;
    println!();
    println!(
        "diff: two snapshots of {n} records ({:.0} MB each, {:.0} bytes a record), median of {reps} run(s), page cache warm",
        a_bytes as f64 / 1e6,
        a_bytes as f64 / n as f64
    );
    println!(
        "{:<18} {:>10} {:>10} | {:>10} {:>10} {:>9} | {:>8} | findings (got = planted)",
        "pair", "read s", "read MB", "diff s", "diff MB", "diff cpu", "diff/read"
    );
    for pair in pairs {
        let r = median_run(&reads[pair.name]);
        let d = median_run(&diffs[pair.name]);
        println!(
            "{:<18} {:>10.2} {:>10.0} | {:>10.2} {:>10.0} {:>9.2} | {:>8.2} | {}",
            pair.name,
            r.wall.as_secs_f64(),
            mb(r.maxrss_kb),
            d.wall.as_secs_f64(),
            mb(d.maxrss_kb),
            d.cpu.as_secs_f64(),
            d.wall.as_secs_f64() / r.wall.as_secs_f64(),
            checks[pair.name].1
        );
    }
    println!(
        "while measuring ({:.0} s), the rest of the machine was busy {:.1} core-seconds ({:.2} cores on average)",
        measured.as_secs_f64(),
        others.as_secs_f64(),
        others.as_secs_f64() / measured.as_secs_f64()
    );
    println!("in process, one run each (read primary, read secondary, diff, render, drop):");
    for (name, line) in &phase_lines {
        println!("  {name:<18} {line}");
    }

    let scale = format!("{n} records");
    for pair in pairs {
        let d = median_run(&diffs[pair.name]);
        let r = median_run(&reads[pair.name]);
        result(
            "diff",
            &format!("standby diff wall, {}, {scale}", pair.name),
            &format!(
                "{:.2} s (read only {:.2} s)",
                d.wall.as_secs_f64(),
                r.wall.as_secs_f64()
            ),
            "≤ 3 s",
            Some(d.wall <= WALL_TARGET),
        );
        result(
            "diff",
            &format!("standby diff peak RSS, {}, {scale}", pair.name),
            &format!(
                "{:.0} MB (read only {:.0} MB)",
                mb(d.maxrss_kb),
                mb(r.maxrss_kb)
            ),
            "≤ 3 GB",
            Some(d.maxrss_kb <= RSS_TARGET_KB),
        );
        let (ok, text) = &checks[pair.name];
        result(
            "diff",
            &format!("findings = planted, {}", pair.name),
            text,
            "exactly",
            Some(*ok),
        );
    }
    let sorted = median_run(&diffs[pairs[0].name]).wall.as_secs_f64();
    let shuffled = median_run(&diffs[pairs[2].name]).wall.as_secs_f64();
    result(
        "diff",
        &format!("shuffled ÷ sorted wall, {scale}"),
        &format!("{:.2}×", shuffled / sorted),
        "≤ 1.2×",
        Some(shuffled / sorted <= SHUFFLE_TARGET),
    );
    Ok(())
}

/// Counts the report's findings by class and compares them with the drift
/// planted (and the exit code: 1 with drift, 0 without).
fn check_findings(out: &Path, planted: Planted, exit: i32) -> anyhow::Result<(bool, String)> {
    let bytes = std::fs::read(out).with_context(|| format!("no report at `{}`", out.display()))?;
    let report: serde_json::Value = serde_json::from_slice(&bytes)?;
    let mut got: BTreeMap<String, usize> = BTreeMap::new();
    for f in report["findings"].as_array().into_iter().flatten() {
        let class = f["class"].as_str().unwrap_or("?").to_owned();
        *got.entry(class).or_default() += 1;
    }
    let mut want = BTreeMap::new();
    for (class, n) in [
        ("changed", planted.changed),
        ("missing", planted.removed),
        ("extra", planted.added),
    ] {
        if n > 0 {
            want.insert(class.to_owned(), n);
        }
    }
    let want_exit = if want.is_empty() { 0 } else { 1 };
    let show = |m: &BTreeMap<String, usize>| {
        if m.is_empty() {
            "none".to_owned()
        } else {
            m.iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let ok = got == want && exit == want_exit;
    let text = if ok {
        format!("{} (exit {exit})", show(&got))
    } else {
        format!(
            "got {} (exit {exit}), planted {} (exit {want_exit})",
            show(&got),
            show(&want)
        )
    };
    Ok((ok, text))
}

/// Runs `cmd` under the `--rusage` wrapper and parses its report.
fn wrapped(exe: &Path, cmd: &[&std::ffi::OsStr]) -> anyhow::Result<Usage> {
    let o = Command::new(exe).arg("--rusage").args(cmd).output()?;
    let text = String::from_utf8_lossy(&o.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("RUSAGE "))
        .with_context(|| {
            format!(
                "no usage report from {cmd:?}: {}",
                String::from_utf8_lossy(&o.stderr)
            )
        })?;
    let field = |name: &str| -> u64 {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(name)?.strip_prefix('=')?.parse().ok())
            .unwrap_or(0)
    };
    Ok(Usage {
        wall: Duration::from_micros(field("wall_us")),
        maxrss_kb: field("maxrss_kb"),
        cpu: Duration::from_micros(field("cpu_us")),
        exit: i32::try_from(field("exit")).unwrap_or(-1),
    })
}

/// `--rusage PROG ARGS…`: runs one child, then prints its wall time, peak
/// RSS and CPU time. This process has no other child, so the kernel's
/// totals for terminated children are that child's.
fn rusage_wrapper(cmd: &[String]) -> anyhow::Result<()> {
    let (prog, args) = cmd.split_first().context("`--rusage` needs a command")?;
    let t = Instant::now();
    let status = Command::new(prog)
        .args(args)
        .stdout(std::process::Stdio::null())
        .status()
        .with_context(|| format!("cannot run `{prog}`"))?;
    let wall = t.elapsed();
    let (maxrss_kb, cpu) = children_usage();
    println!(
        "RUSAGE wall_us={} maxrss_kb={maxrss_kb} cpu_us={} exit={}",
        wall.as_micros(),
        cpu.as_micros(),
        status.code().unwrap_or(255)
    );
    Ok(())
}

/// Peak RSS (KiB) and user + system CPU of terminated children.
#[cfg(target_os = "linux")]
fn children_usage() -> (u64, Duration) {
    // `struct rusage` on 64-bit Linux: two timevals, then 14 longs.
    #[repr(C)]
    #[derive(Default)]
    struct Timeval {
        sec: i64,
        usec: i64,
    }
    #[repr(C)]
    #[derive(Default)]
    struct Rusage {
        utime: Timeval,
        stime: Timeval,
        maxrss: i64,
        rest: [i64; 13],
    }
    unsafe extern "C" {
        fn getrusage(who: i32, usage: *mut Rusage) -> i32;
    }
    const RUSAGE_CHILDREN: i32 = -1;
    let mut ru = Rusage::default();
    // SAFETY: `ru` is a valid, writable `struct rusage` for the call's duration.
    let rc = unsafe { getrusage(RUSAGE_CHILDREN, &mut ru) };
    if rc != 0 {
        return (0, Duration::ZERO);
    }
    let us = |t: &Timeval| (t.sec.max(0) as u64) * 1_000_000 + t.usec.max(0) as u64;
    (
        ru.maxrss.max(0) as u64,
        Duration::from_micros(us(&ru.utime) + us(&ru.stime)),
    )
}

#[cfg(not(target_os = "linux"))]
fn children_usage() -> (u64, Duration) {
    (0, Duration::ZERO)
}

/// `--read A B`: reads both snapshots with the code `standby diff` reads
/// them with ([`SnapshotFile::read_pair`]: one thread a file, records
/// borrowed from the file's bytes), and nothing else; exits without freeing
/// them, as `standby diff` does.
fn read_both(args: &[String]) -> anyhow::Result<()> {
    let [a, b] = args else {
        bail!("`--read` needs two files");
    };
    let (mut fa, mut fb) = (SnapshotFile::new(), SnapshotFile::new());
    let both = SnapshotFile::read_pair((&mut fa, Path::new(a)), (&mut fb, Path::new(b)))?;
    std::hint::black_box(&both);
    std::mem::forget(both);
    std::mem::forget((fa, fb));
    Ok(())
}

/// `--phases A B OUT`: the CLI's work in process, timed step by step.
fn phases(args: &[String]) -> anyhow::Result<()> {
    let [a, b, out] = args else {
        bail!("`--phases` needs two files and an output file");
    };
    let t = Instant::now();
    let (mut fa, mut fb) = (SnapshotFile::new(), SnapshotFile::new());
    let pa = fa.read(Path::new(a))?;
    let t_a = t.elapsed();
    let pb = fb.read(Path::new(b))?;
    let t_b = t.elapsed();
    let drift = diff::diff(&pa, &pb, &Rules::default());
    let t_diff = t.elapsed();
    let mut w = BufWriter::new(std::fs::File::create(out)?);
    report::render(Format::Json, &drift, &RenderOptions::default(), &mut w)?;
    w.flush()?;
    let t_render = t.elapsed();
    let findings = drift.findings.len();
    drop((drift, pa, pb));
    drop((fa, fb));
    let t_drop = t.elapsed();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "read A {:.0} ms, read B {:.0} ms, diff {:.0} ms, render {:.0} ms, drop {:.0} ms; {findings} findings; peak {:.0} MB",
        ms(t_a),
        ms(t_b - t_a),
        ms(t_diff - t_b),
        ms(t_render - t_diff),
        ms(t_drop - t_render),
        snapshot_io::rss_kb("VmHWM") as f64 / 1024.0
    );
    Ok(())
}

fn write(snapshot: &standby::snapshot::Snapshot, path: &Path) -> anyhow::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    write_snapshot(snapshot, &mut out)?;
    out.flush()?;
    Ok(())
}

/// The release binary cargo built beside this bench, or `$STANDBY_BIN`.
fn standby_binary() -> anyhow::Result<PathBuf> {
    let path = std::env::var_os("STANDBY_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_standby")),
        PathBuf::from,
    );
    if !path.is_file() {
        bail!(
            "no binary at `{}`: run `cargo bench --bench diff` (which builds it), or set `STANDBY_BIN`",
            path.display()
        );
    }
    Ok(path)
}

/// Free space of the file system holding `dir`, in KiB, from `df -Pk`.
fn free_kb(dir: &Path) -> anyhow::Result<u64> {
    let o = Command::new("df").arg("-Pk").arg(dir).output()?;
    let text = String::from_utf8_lossy(&o.stdout);
    text.lines()
        .nth(1)
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse().ok())
        .with_context(|| format!("cannot read free space from `df`: {text}"))
}
