//! The diff engine: a merge join of both snapshots' records per kind, by
//! natural key.
//!
//! Records whose canonical bytes are equal (after rewrites, and without the
//! passive fields) are equal: nothing is parsed or allocated for them beyond
//! the key list reports need. Only the records whose bytes differ are parsed
//! and deep-diffed, so a million-record pair costs about one pass over the
//! bytes, and memory stays near the size of the two snapshots.
//!
//! Three steps per kind: group both sides' key-ordered views by key; a
//! read-only prefilter over the groups (byte comparison, passive state,
//! references; on two threads for large pairs, since the work is bound by
//! memory latency, worst when a file is not in key order) flags the groups
//! that need a closer look; only those are turned into findings, in key
//! order, so the report does not depend on how the work was split.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::{Value, json};

use crate::kind::Kind;
use crate::prefetch;
use crate::snapshot::{CaptureMetadata, RecordAccess, ReferenceRef, SnapshotAccess, Status};

use super::glob::glob_match;
use super::ignore;
use super::model::{
    DriftReport, FieldDiff, Finding, FindingClass, KeyList, KindStatus, KindSummary, Lag,
    PairFacts, Role, SCHEMA_VERSION, Severity, SideFacts,
};
use super::passive::{self, KindRules};
use super::rewrite::Rewriter;
use super::rules::{Rules, Side};
use super::scan;
use super::tree;

/// The severity of each class: what it means for a failover.
pub(crate) fn severity(class: FindingClass) -> Severity {
    match class {
        FindingClass::PassiveViolation => Severity::Critical,
        FindingClass::Missing
        | FindingClass::DanglingReference
        | FindingClass::DuplicateKey
        | FindingClass::Unknown
        | FindingClass::ReplicationLag => Severity::Error,
        FindingClass::Extra | FindingClass::Changed => Severity::Warning,
    }
}

/// The field holding a storage path that must not point at the primary region.
fn storage_field(kind: Kind) -> Option<&'static str> {
    match kind {
        Kind::Tables => Some("storage_location"),
        Kind::Schemas | Kind::Catalogs => Some("storage_root"),
        _ => None,
    }
}

/// Parses a raw JSON value; content that does not parse is kept as its text,
/// so it still compares and shows (it cannot happen with canonical content).
fn parse(raw: &[u8]) -> Value {
    serde_json::from_slice(raw)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(raw).into_owned()))
}

/// A finding before its id is assigned.
fn finding(class: FindingClass, kind: Kind, key: &str, message: String) -> Finding {
    Finding {
        id: String::new(),
        class,
        severity: severity(class),
        kind,
        key: key.to_owned(),
        message,
        fields: Vec::new(),
        rule: None,
        hint: None,
        baselined: false,
    }
}

/// A duration in ms, as people read it: `3h 12m`, `45s`, `250ms`.
fn human_ms(ms: i64) -> String {
    let secs = ms / 1000;
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    match (d, h, m) {
        (0, 0, 0) if secs == 0 => format!("{ms}ms"),
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m {s}s"),
        (0, _, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

/// Compares a primary and a secondary snapshot under a pair's rules: owned
/// snapshots ([`Snapshot`](crate::snapshot::Snapshot)) or snapshots
/// borrowed from their files ([`SnapshotRef`](crate::snapshot::SnapshotRef)).
///
/// Pure and deterministic: the same inputs give the same report, whatever
/// the order of records in the snapshots.
pub fn diff<S: SnapshotAccess>(primary: &S, secondary: &S, rules: &Rules) -> DriftReport {
    let started = std::time::Instant::now();
    let (primary, secondary) = (Input::new(primary), Input::new(secondary));
    let (p_views, s_views) = both_views(&primary, &secondary);
    tracing::debug!(elapsed = ?started.elapsed(), "diff: records in key order");
    let shared = Shared::new(&primary, &secondary, rules, &s_views);
    let mut engine = Engine {
        shared: &shared,
        p_views: &p_views,
        findings: Vec::new(),
        lag: LagTracker::default(),
        bufs: Buffers::default(),
    };
    let report = engine.run();
    tracing::debug!(elapsed = ?started.elapsed(), "diff: done");
    report
}

/// Below this many records in total, work stays on one thread.
const PARALLEL_MIN: usize = 50_000;

/// Runs `a` on another thread and `b` here when `parallel`, else one after the other.
fn join<A: Send, B: Send>(
    parallel: bool,
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    if !parallel {
        return (a(), b());
    }
    std::thread::scope(|scope| {
        let handle = scope.spawn(a);
        let b = b();
        // A panic on the other thread is a bug: re-raise it here.
        let a = handle
            .join()
            .unwrap_or_else(|payload| std::panic::resume_unwind(payload));
        (a, b)
    })
}

/// What the engine reads of one snapshot, owned or borrowed.
struct Input<'a, R> {
    metadata: &'a CaptureMetadata,
    kinds: BTreeMap<Kind, (&'a Status, &'a [R])>,
}

impl<'a, R: RecordAccess> Input<'a, R> {
    fn new<S: SnapshotAccess<Record = R>>(snapshot: &'a S) -> Self {
        Input {
            metadata: snapshot.metadata(),
            kinds: snapshot
                .sections()
                .into_iter()
                .map(|(kind, status, records)| (kind, (status, records)))
                .collect(),
        }
    }

    fn status(&self, kind: Kind) -> Option<&'a Status> {
        self.kinds.get(&kind).map(|(status, _)| *status)
    }
}

/// One record of a key-ordered view, with its key beside it so sorting and
/// merging read keys without a hop through the record (half the cache
/// misses when the file was not in key order).
///
/// `prefix` holds 16 bytes of the key (see [`Windows`]), so most
/// comparisons of a sort never leave the entry: a shuffled file otherwise
/// costs a cache miss into the file for each side of nearly every
/// comparison.
#[derive(Debug)]
struct Entry<'a, R> {
    prefix: u128,
    key: &'a str,
    rec: &'a R,
}

/// Which bytes of a kind's keys go into entry prefixes: the first byte,
/// then 15 bytes after what every key starting with that byte shares (on
/// both sides). Shared bytes order nothing: `notebooks:/Production/team-0`
/// starts 300,000 permission keys, and a prefix of the first bytes alone
/// would tie on all of them.
///
/// Comparing two prefixes orders the keys as comparing the keys does
/// whenever the prefixes differ: keys with different first bytes are
/// ordered by it, and keys with the same one share the bytes skipped.
#[derive(Clone)]
struct Windows {
    /// Per first byte, where the rest of the window starts.
    skip: [u32; 256],
}

impl Windows {
    /// The windows for a kind's records on both sides.
    #[cfg(test)]
    fn new<R: RecordAccess>(sides: [&[R]; 2]) -> Self {
        let mut buckets = KeyBuckets::default();
        for records in sides {
            buckets.add_all(records);
        }
        buckets.windows()
    }

    /// The key's prefix: its first byte, then 15 bytes from its bucket's
    /// skip, big-endian and zero-padded.
    fn prefix(&self, key: &str) -> u128 {
        let key = key.as_bytes();
        let Some(&b) = key.first() else {
            return 0;
        };
        let from = usize::try_from(self.skip[usize::from(b)]).unwrap_or(usize::MAX);
        (u128::from(b) << 120) | (window_at(key, from) >> 8)
    }
}

/// The 16 bytes of `key` from `from`, big-endian and zero-padded past its
/// end: two windows of keys that share their first `from` bytes, when they
/// differ, order the keys as the keys do (a zero of padding sorts first,
/// as a shorter key does; a tie goes to the keys themselves).
fn window_at(key: &[u8], from: usize) -> u128 {
    let mut bytes = [0u8; 16];
    for (out, k) in bytes.iter_mut().zip(key.get(from..).unwrap_or_default()) {
        *out = *k;
    }
    u128::from_be_bytes(bytes)
}

/// Asks for the key of the record `KEY_AHEAD` after the `n`th.
fn prefetch_key_ahead<R: RecordAccess>(records: &[R], n: usize) {
    if let Some(ahead) = records.get(n + KEY_AHEAD) {
        prefetch::bytes(ahead.key().as_bytes(), 1);
    }
}

/// Per first byte of a kind's keys: one key starting with it, and how many
/// leading bytes every key starting with it shares with that one.
struct KeyBuckets<'k> {
    first: [Option<&'k [u8]>; 256],
    common: [u32; 256],
}

impl Default for KeyBuckets<'_> {
    fn default() -> Self {
        KeyBuckets {
            first: [None; 256],
            common: [0; 256],
        }
    }
}

/// Runs of at most this many entries equal in prefix are sorted by
/// comparing keys: they fit in the cache.
const SMALL_RUN: usize = 64;

/// Runs of at most this many entries have their keys asked for all at
/// once: two cache lines each, 512 KiB in all, fit in a core's L2 cache.
const CACHED_RUN: usize = 4096;

/// How many records ahead a loop over records in file order asks for the
/// key it will read: far enough for the load to arrive, near enough to stay
/// in the cache.
const KEY_AHEAD: usize = 8;

impl<'k> KeyBuckets<'k> {
    /// Adds every record's key.
    fn add_all<R: RecordAccess>(&mut self, records: &'k [R]) {
        for (n, rec) in records.iter().enumerate() {
            prefetch_key_ahead(records, n);
            self.add(rec.key().as_bytes());
        }
    }

    fn add(&mut self, key: &'k [u8]) {
        let Some(&b) = key.first() else {
            return;
        };
        let n = usize::from(b);
        match self.first[n] {
            None => {
                self.first[n] = Some(key);
                self.common[n] = u32::try_from(key.len()).unwrap_or(u32::MAX);
            }
            Some(seen) => self.common[n] = common_len(seen, key, self.common[n]),
        }
    }

    /// The buckets of both sets of keys.
    fn merge(mut self, other: &Self) -> Self {
        for n in 0..256 {
            match (self.first[n], other.first[n]) {
                (_, None) => {}
                (None, Some(_)) => {
                    self.first[n] = other.first[n];
                    self.common[n] = other.common[n];
                }
                (Some(a), Some(b)) => {
                    let limit = self.common[n].min(other.common[n]);
                    self.common[n] = common_len(a, b, limit);
                }
            }
        }
        self
    }

    fn windows(&self) -> Windows {
        // Every key shares its first byte with its bucket: the window's
        // rest starts after it at the earliest.
        Windows {
            skip: self.common.map(|c| c.max(1)),
        }
    }
}

/// How many leading bytes `a` and `b` share, counting no further than `limit`.
fn common_len(a: &[u8], b: &[u8], limit: u32) -> u32 {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let n = a
        .iter()
        .zip(b)
        .take(limit)
        .take_while(|(x, y)| x == y)
        .count();
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl<R> Clone for Entry<'_, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<R> Copy for Entry<'_, R> {}

/// Each kind's records in key order.
type Views<'a, R> = BTreeMap<Kind, Vec<Entry<'a, R>>>;

/// Key order, then content and modification time for duplicate keys: the
/// order `KindSnapshot::new` writes, restored if a file was shuffled.
fn entry_order<R: RecordAccess>(a: &Entry<'_, R>, b: &Entry<'_, R>) -> Ordering {
    a.prefix
        .cmp(&b.prefix)
        .then_with(|| a.key.cmp(b.key))
        .then_with(|| a.rec.content().cmp(b.rec.content()))
        .then_with(|| a.rec.modified_at().cmp(&b.rec.modified_at()))
}

/// A snapshot's views. Sorting records already in order is one linear pass,
/// so files in canonical order pay next to nothing.
fn views<'a, R: RecordAccess>(
    side: &Input<'a, R>,
    windows: &BTreeMap<Kind, Windows>,
) -> Views<'a, R> {
    side.kinds
        .iter()
        .map(|(kind, (_, records))| {
            let windows = windows.get(kind);
            let mut view: Vec<Entry<'a, R>> = records
                .iter()
                .enumerate()
                .map(|(n, rec)| {
                    prefetch_key_ahead(records, n);
                    Entry {
                        prefix: windows.map_or(0, |w| w.prefix(rec.key())),
                        key: rec.key(),
                        rec,
                    }
                })
                .collect();
            sort_view(&mut view);
            (*kind, view)
        })
        .collect()
}

/// Sorts a view into [`entry_order`]: by prefix alone first, which reads
/// no key, then each run of equal prefixes by [`sort_run`].
fn sort_view<R: RecordAccess>(view: &mut [Entry<'_, R>]) {
    view.sort_unstable_by_key(|e| e.prefix);
    let mut scratch = Vec::new();
    for range in runs(view, |e| e.prefix) {
        let Some(run) = view.get_mut(range) else {
            continue;
        };
        // A file in key order costs one pass here.
        if !run.is_sorted_by(|a, b| entry_order(a, b).is_le()) {
            sort_run(run, &mut scratch);
        }
    }
}

/// The ranges of `items` where two or more neighbours are equal in `by`.
fn runs<T, K: PartialEq>(items: &[T], by: impl Fn(&T) -> K) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    let mut start = 0;
    while let Some(first) = items.get(start) {
        let at = by(first);
        let n = items
            .get(start..)
            .unwrap_or_default()
            .iter()
            .take_while(|e| by(e) == at)
            .count();
        if n > 1 {
            ranges.push(start..start + n);
        }
        start += n;
    }
    ranges
}

/// Sorts entries into [`entry_order`] 16 bytes of key at a time (a radix
/// sort from the most significant end): the 16 bytes after what the run's
/// keys share become each entry's sort key, and runs still equal go round
/// again. Each round reads every key once, where a comparison sort reads
/// two keys at each of its many comparisons: in a file out of key order,
/// two cache misses.
fn sort_run<'a, R: RecordAccess>(
    run: &mut [Entry<'a, R>],
    scratch: &mut Vec<(u128, Entry<'a, R>)>,
) {
    let cached = run.len() <= CACHED_RUN;
    if cached {
        // Ask for every key at once, so the misses into the file overlap
        // and what follows finds the keys in the cache.
        for e in run.iter() {
            prefetch::bytes(e.key.as_bytes(), 2);
        }
    }
    if run.len() <= SMALL_RUN {
        run.sort_unstable_by(entry_order);
        return;
    }
    let Some(first) = run.first().map(|e| e.key.as_bytes()) else {
        return;
    };
    let mut shared = first.len();
    for (n, e) in run.iter().enumerate() {
        if let Some(ahead) = run.get(n + KEY_AHEAD).filter(|_| !cached) {
            prefetch::bytes(ahead.key.as_bytes(), 1);
        }
        let limit = u32::try_from(shared).unwrap_or(u32::MAX);
        shared = usize::try_from(common_len(first, e.key.as_bytes(), limit)).unwrap_or(shared);
    }
    if run.iter().all(|e| e.key.len() == shared) {
        // One key throughout: duplicates, ordered by content and time.
        run.sort_unstable_by(entry_order);
        return;
    }
    let mut keyed = std::mem::take(scratch);
    keyed.clear();
    keyed.extend(run.iter().enumerate().map(|(n, e)| {
        if let Some(ahead) = run.get(n + KEY_AHEAD).filter(|_| !cached) {
            let rest = ahead.key.as_bytes().get(shared..).unwrap_or_default();
            prefetch::bytes(rest, 1);
        }
        (window_at(e.key.as_bytes(), shared), *e)
    }));
    keyed.sort_unstable_by_key(|(w, _)| *w);
    for (slot, (_, e)) in run.iter_mut().zip(&keyed) {
        *slot = *e;
    }
    let ties = runs(&keyed, |(w, _)| *w);
    *scratch = keyed;
    for range in ties {
        let Some(tied) = run.get_mut(range) else {
            continue;
        };
        if tied.iter().all(|e| e.key.len() >= shared + 16) {
            // They share 16 more bytes: the next round gets further.
            sort_run(tied, scratch);
        } else {
            // A key ends in the window (its padding tied with a zero
            // byte): another round would get no further.
            tied.sort_unstable_by(entry_order);
        }
    }
}

/// Every kind's [`Windows`], over both sides: each side's keys read on a
/// thread of its own when `parallel`.
fn all_windows<R: RecordAccess>(
    primary: &Input<'_, R>,
    secondary: &Input<'_, R>,
    parallel: bool,
) -> BTreeMap<Kind, Windows> {
    fn buckets<'k, R: RecordAccess>(side: &Input<'k, R>) -> BTreeMap<Kind, KeyBuckets<'k>> {
        side.kinds
            .iter()
            .map(|(kind, (_, records))| {
                let mut b = KeyBuckets::default();
                b.add_all(records);
                (*kind, b)
            })
            .collect()
    }
    let (mut p, s) = join(parallel, || buckets(primary), || buckets(secondary));
    for (kind, b) in s {
        let merged = match p.remove(&kind) {
            Some(a) => a.merge(&b),
            None => b,
        };
        p.insert(kind, merged);
    }
    p.into_iter().map(|(kind, b)| (kind, b.windows())).collect()
}

/// Both snapshots' views, sorted side by side on two threads when large.
fn both_views<'a, R: RecordAccess>(
    primary: &Input<'a, R>,
    secondary: &Input<'a, R>,
) -> (Views<'a, R>, Views<'a, R>) {
    let total: usize = [primary, secondary]
        .iter()
        .flat_map(|s| s.kinds.values())
        .map(|(_, records)| records.len())
        .sum();
    let started = std::time::Instant::now();
    let parallel = total >= PARALLEL_MIN;
    let windows = all_windows(primary, secondary, parallel);
    tracing::debug!(elapsed = ?started.elapsed(), "diff: key windows");
    join(
        parallel,
        || views(primary, &windows),
        || views(secondary, &windows),
    )
}

/// The records of one key on both sides: `pv[p..p + pn]` and `sv[s..s + sn]`.
#[derive(Clone, Copy, Debug)]
struct Group {
    p: usize,
    pn: usize,
    s: usize,
    sn: usize,
}

/// Scratch buffers for comparing contents without the passive fields.
#[derive(Default)]
struct Buffers {
    p: Vec<u8>,
    s: Vec<u8>,
}

/// Tracks replication lag. Ties go to the first object in kind and key
/// order, so the result does not depend on the order objects are seen in.
#[derive(Default)]
struct LagTracker<'a> {
    /// At least one object had the times needed to measure.
    measured: bool,
    max: i64,
    worst: Option<(Kind, &'a str, i64, Option<i64>)>,
    /// Objects lagging beyond the RPO.
    beyond: usize,
}

impl<'a> LagTracker<'a> {
    /// Records one object's lag (`lag` ms, positive when the secondary is behind).
    fn observe<R>(
        &mut self,
        shared: &Shared<'_, R>,
        kind: Kind,
        key: &'a str,
        lag: i64,
        times: (i64, Option<i64>),
    ) {
        self.measured = true;
        if lag <= 0 {
            return;
        }
        let beyond = shared.rpo_ms.is_some_and(|rpo| lag > rpo);
        let better = match self.worst {
            None => true,
            Some((k, w, ..)) => lag > self.max || (lag == self.max && (kind, key) < (k, w)),
        };
        if !better && !beyond {
            return;
        }
        // Only lagging objects are checked against the ignores.
        if ignore::ignores_object(&shared.rules.ignores, kind, key) {
            return;
        }
        if beyond {
            self.beyond += 1;
        }
        if better {
            self.max = lag;
            self.worst = Some((kind, key, times.0, times.1));
        }
    }

    /// Combines two trackers of disjoint objects.
    fn merge(&mut self, other: LagTracker<'a>) {
        self.measured |= other.measured;
        self.beyond += other.beyond;
        if let Some((k, w, ..)) = other.worst {
            let better = match self.worst {
                None => true,
                Some((sk, sw, ..)) => {
                    other.max > self.max || (other.max == self.max && (k, w) < (sk, sw))
                }
            };
            if better {
                self.max = other.max;
                self.worst = other.worst;
            }
        }
    }
}

/// Everything the comparison reads and never changes: shared by the
/// threads of the prefilter.
struct Shared<'a, R> {
    primary: &'a Input<'a, R>,
    secondary: &'a Input<'a, R>,
    rules: &'a Rules,
    rewriter: Rewriter,
    passive: bool,
    rpo_ms: Option<i64>,
    s_views: &'a Views<'a, R>,
    /// The secondary's keys of each kind, made the first time a reference
    /// points at the kind: one hash lookup per reference instead of a
    /// binary search missing the cache at every step.
    key_sets: BTreeMap<Kind, OnceLock<KeySet<'a>>>,
}

/// A set of keys hashed with the Fx hash (`rustc-hash`). SipHash, the
/// default, cost ~5% of a large diff; its protection against chosen
/// collisions matters little for keys read from the user's own snapshot
/// files, where the worst case is a slower diff.
type KeySet<'a> = rustc_hash::FxHashSet<&'a str>;

impl<'a, R: RecordAccess> Shared<'a, R> {
    fn new(
        primary: &'a Input<'a, R>,
        secondary: &'a Input<'a, R>,
        rules: &'a Rules,
        s_views: &'a Views<'a, R>,
    ) -> Self {
        let key_sets = s_views
            .keys()
            .map(|kind| (*kind, OnceLock::new()))
            .collect();
        Shared {
            primary,
            secondary,
            rules,
            rewriter: Rewriter::new(&rules.rewrites),
            passive: rules.secondary_role == Role::Passive,
            rpo_ms: rules
                .rpo_secs
                .map(|s| i64::try_from(s.saturating_mul(1000)).unwrap_or(i64::MAX)),
            s_views,
            key_sets,
        }
    }

    /// The kinds to compare: the configured ones, or every kind either side holds.
    fn kinds(&self) -> Vec<Kind> {
        let mut kinds: Vec<Kind> = match &self.rules.kinds {
            Some(list) => list.clone(),
            None => self
                .primary
                .kinds
                .keys()
                .chain(self.secondary.kinds.keys())
                .copied()
                .collect(),
        };
        kinds.sort();
        kinds.dedup();
        kinds
    }

    /// True when the two contents are equal without parsing them: the same
    /// bytes after rewrites, or after leaving out the passive fields.
    fn fast_equal(&self, p: &str, s: &str, rules: &KindRules, bufs: &mut Buffers) -> bool {
        let eq = |a: &str, b: &str| {
            if self.rewriter.is_empty() {
                a == b
            } else {
                self.rewriter.eq_rewritten(a, b)
            }
        };
        if eq(p, s) {
            return true;
        }
        if rules.is_empty() {
            return false;
        }
        scan::strip_into(p.as_bytes(), rules.strip_paths(), &mut bufs.p).is_some()
            && scan::strip_into(s.as_bytes(), rules.strip_paths(), &mut bufs.s).is_some()
            && match (std::str::from_utf8(&bufs.p), std::str::from_utf8(&bufs.s)) {
                (Ok(a), Ok(b)) => eq(a, b),
                _ => false,
            }
    }

    /// True when a secondary reference does not resolve in the secondary.
    /// Not judged when the referenced kind is incomplete, or (for a resolved
    /// key) was not captured: the kind's `unknown` says so.
    fn dangles(&self, r: &ReferenceRef<'_>) -> bool {
        if self
            .secondary
            .status(r.kind)
            .is_some_and(|status| !status.is_complete())
        {
            return false;
        }
        match &r.key {
            // An id the capture could not resolve among complete objects.
            None => true,
            Some(key) => self
                .key_set(r.kind)
                .is_some_and(|set| !set.contains(key.as_ref())),
        }
    }

    /// The secondary's keys of a kind, `None` when it holds no such kind.
    fn key_set(&self, kind: Kind) -> Option<&KeySet<'a>> {
        let cell = self.key_sets.get(&kind)?;
        let view = self.s_views.get(&kind)?;
        Some(cell.get_or_init(|| view.iter().map(|e| e.key).collect()))
    }

    /// The index of a rewrite rule whose primary prefix the secondary's
    /// storage field still starts with.
    fn primary_prefix(&self, s: &R, field: &str) -> Option<usize> {
        if self.rules.rewrites.is_empty() {
            return None;
        }
        let raw = scan::get_path(s.content().as_bytes(), &[field])?;
        let value = scan::as_string(raw)?;
        self.rules
            .rewrites
            .iter()
            .position(|r| !r.primary.is_empty() && value.starts_with(&r.primary))
    }

    /// True when a principal is expected in one region only.
    fn single_region(&self, name: &str, side: Side) -> bool {
        self.rules
            .single_region_principals
            .iter()
            .any(|p| p.side == side && glob_match(&p.name, name))
    }

    /// True when an object present on one side only is a single-region
    /// principal (or an ACL of one).
    fn single_region_object(&self, kind: Kind, key: &str, side: Side) -> bool {
        match kind {
            Kind::Users | Kind::Groups | Kind::ServicePrincipals => self.single_region(key, side),
            Kind::SecretAcls => key
                .split_once('/')
                .is_some_and(|(_, principal)| self.single_region(principal, side)),
            _ => false,
        }
    }

    /// True when a secondary record may need a finding of its own (passive
    /// state, a dangling reference, a storage path at the primary).
    fn secondary_suspect(&self, kind: Kind, rules: &KindRules, s: &R) -> bool {
        let mut violated = false;
        rules.check(s.content().as_bytes(), |_, _| violated = true);
        violated || self.refs_or_storage_suspect(kind, s)
    }

    /// True when a secondary record has a dangling reference or a storage
    /// path at the primary.
    fn refs_or_storage_suspect(&self, kind: Kind, s: &R) -> bool {
        let mut dangling = false;
        s.for_each_ref(&mut |r| dangling = dangling || self.dangles(&r));
        dangling || storage_field(kind).is_some_and(|f| self.primary_prefix(s, f).is_some())
    }

    /// True when a pair of single records needs no closer look: equal
    /// contents (apart from passive fields) and a secondary with nothing to
    /// report. Equal bytes cost a `memcmp` and the secondary's checks;
    /// nothing here parses content.
    fn pair_clean(&self, plan: &KindPlan, p: &R, s: &R, bufs: &mut Buffers) -> bool {
        let (pc, sc) = (p.content(), s.content());
        if self.rewriter.is_empty() && !plan.rules.is_empty() && pc != sc {
            // Compare without the passive fields and check the secondary's
            // in one walk of each content.
            let mut violated = false;
            return plan
                .rules
                .equal_then_check(pc.as_bytes(), sc.as_bytes(), |_, _| violated = true)
                && !violated
                && !self.refs_or_storage_suspect(plan.kind, s);
        }
        self.fast_equal(pc, sc, &plan.rules, bufs)
            && !self.secondary_suspect(plan.kind, &plan.rules, s)
    }
}

/// How one kind is compared: its passive rules and whether job ACLs are held.
struct KindPlan {
    kind: Kind,
    rules: KindRules,
    hold_job_acls: bool,
}

/// Where to cut a kind's two views into halves that share no key: at the
/// primary's middle key (or the secondary's, when the primary is empty).
fn split_point<R: RecordAccess>(pv: &[Entry<'_, R>], sv: &[Entry<'_, R>]) -> (usize, usize) {
    let Some(mid) = pv.get(pv.len() / 2).or_else(|| sv.get(sv.len() / 2)) else {
        return (pv.len(), sv.len());
    };
    let at = (mid.prefix, mid.key);
    let before = |e: &Entry<'_, R>| (e.prefix, e.key) < at;
    (pv.partition_point(before), sv.partition_point(before))
}

/// The merge of `pv[p]` and `sv[s]` into groups of one key each, with the
/// keys in order.
fn group_keys<'a, R: RecordAccess>(
    pv: &[Entry<'a, R>],
    sv: &[Entry<'a, R>],
    p: std::ops::Range<usize>,
    s: std::ops::Range<usize>,
) -> (Vec<Group>, KeyList) {
    let (p_end, s_end) = (p.end.min(pv.len()), s.end.min(sv.len()));
    let (mut i, mut j) = (p.start, s.start);
    let n = (p_end - i).max(s_end - j);
    let bytes: usize = pv
        .get(i..p_end)
        .unwrap_or_default()
        .iter()
        .map(|e| e.key.len())
        .sum();
    let mut keys = KeyList::with_capacity(n, bytes + bytes / 16);
    let mut groups = Vec::with_capacity(n);
    let (pv, sv) = (&pv[..p_end], &sv[..s_end]);
    loop {
        // Keys equal in prefix are compared in the file: a cache miss
        // each when it was not in key order, unless asked for ahead.
        for e in [pv.get(i + KEY_AHEAD), sv.get(j + KEY_AHEAD)]
            .into_iter()
            .flatten()
        {
            prefetch::bytes(e.key.as_bytes(), 1);
        }
        // Prefixes first: keys are read from the file, a cache miss
        // each when it was not in key order.
        let (prefix, key): (u128, &'a str) = match (pv.get(i), sv.get(j)) {
            (None, None) => break,
            (Some(a), None) => (a.prefix, a.key),
            (None, Some(b)) => (b.prefix, b.key),
            (Some(a), Some(b)) => (a.prefix, a.key).min((b.prefix, b.key)),
        };
        let same =
            |e: &Entry<'a, R>| e.prefix == prefix && (std::ptr::eq(e.key, key) || e.key == key);
        let (p, s) = (i, j);
        while pv.get(i).is_some_and(same) {
            i += 1;
        }
        while sv.get(j).is_some_and(same) {
            j += 1;
        }
        groups.push(Group {
            p,
            pn: i - p,
            s,
            sn: j - s,
        });
        keys.push(key);
    }
    (groups, keys)
}

/// The prefilter over a slice of groups: measures lag, and returns the
/// groups that need a closer look (anything but two single, equal records
/// whose secondary is fine). Read-only, so it runs on several threads.
fn prefilter<'a, R: RecordAccess>(
    shared: &Shared<'_, R>,
    plan: &KindPlan,
    pv: &[Entry<'a, R>],
    sv: &[Entry<'a, R>],
    groups: &[Group],
    offset: usize,
) -> (Vec<usize>, LagTracker<'a>) {
    let mut flagged = Vec::new();
    let mut lag = LagTracker::default();
    let mut bufs = Buffers::default();
    for (n, g) in groups.iter().enumerate() {
        let pair = match (g.pn, g.sn, pv.get(g.p), sv.get(g.s)) {
            (1, 1, Some(p), Some(s)) if !p.rec.duplicate() && !s.rec.duplicate() => Some((p, s)),
            _ => None,
        };
        let Some((p, s)) = pair else {
            flagged.push(offset + n);
            continue;
        };
        if plan.hold_job_acls && passive::is_job_acl(plan.kind, p.key) {
            flagged.push(offset + n);
            continue;
        }
        if let (Some(pm), Some(sm)) = (p.rec.modified_at(), s.rec.modified_at()) {
            lag.observe(shared, plan.kind, p.key, pm - sm, (pm, Some(sm)));
        }
        if !shared.pair_clean(plan, p.rec, s.rec, &mut bufs) {
            flagged.push(offset + n);
        }
    }
    (flagged, lag)
}

/// The mutable side of a comparison: findings and lag as they are found.
struct Engine<'s, 'a, R> {
    shared: &'s Shared<'a, R>,
    p_views: &'s Views<'a, R>,
    findings: Vec<Finding>,
    lag: LagTracker<'a>,
    bufs: Buffers,
}

impl<'a, R: RecordAccess> Engine<'_, 'a, R> {
    fn run(&mut self) -> DriftReport {
        let shared = self.shared;
        let mut summary = BTreeMap::new();
        let mut compared = BTreeMap::new();
        for kind in shared.kinds() {
            let (status, keys) = self.kind(kind);
            summary.insert(
                kind,
                KindSummary {
                    status,
                    compared: keys.len(),
                    ..KindSummary::default()
                },
            );
            compared.insert(kind, keys);
        }
        let lag = self.finish_lag();
        let findings = assign_ids(std::mem::take(&mut self.findings));
        for f in &findings {
            if let Some(s) = summary.get_mut(&f.kind) {
                *s.findings.entry(f.class).or_insert(0) += 1;
            }
        }
        DriftReport {
            schema_version: SCHEMA_VERSION,
            pair: PairFacts {
                name: shared.rules.pair_name.clone(),
                primary: side_facts(shared.primary.metadata),
                secondary: side_facts(shared.secondary.metadata),
                secondary_role: shared.rules.secondary_role,
                rpo_secs: shared.rules.rpo_secs,
                rto_secs: shared.rules.rto_secs,
            },
            summary,
            findings,
            lag,
            compared,
        }
    }

    /// Records a finding unless an ignore rule drops it; true when kept.
    fn push(&mut self, mut f: Finding) -> bool {
        let keep = ignore::keep(&self.shared.rules.ignores, &mut f);
        if keep {
            self.findings.push(f);
        }
        keep
    }

    /// Compares one kind; returns its status and compared keys.
    fn kind(&mut self, kind: Kind) -> (KindStatus, KeyList) {
        let shared = self.shared;
        let (p, s) = (shared.primary.status(kind), shared.secondary.status(kind));
        let mut problems = Vec::new();
        for (side, status) in [("primary", p), ("secondary", s)] {
            match status {
                None => problems.push(format!("`{kind}` was not captured in the {side}")),
                Some(status) => {
                    if let Status::Incomplete { reason } = status {
                        let code = reason
                            .error_code
                            .as_deref()
                            .map(|c| format!(" (`{c}`)"))
                            .unwrap_or_default();
                        problems.push(format!(
                            "`{kind}` is incomplete in the {side}: {}{code}",
                            reason.message
                        ));
                    }
                }
            }
        }
        let views = (self.p_views.get(&kind), shared.s_views.get(&kind));
        match views {
            (Some(pv), Some(sv)) if problems.is_empty() => {
                (KindStatus::Complete, self.compare(kind, pv, sv))
            }
            _ => {
                if problems.is_empty() {
                    problems.push(format!("`{kind}` has no records section"));
                }
                let mut f = finding(FindingClass::Unknown, kind, "*", problems.join("; "));
                f.hint = Some(
                    "fix the capture error (permissions, rate limits) and snapshot both sides again"
                        .into(),
                );
                self.push(f);
                (KindStatus::Unknown, KeyList::default())
            }
        }
    }

    /// The merge join of one kind whose capture is complete on both sides.
    fn compare(&mut self, kind: Kind, pv: &[Entry<'a, R>], sv: &[Entry<'a, R>]) -> KeyList {
        let shared = self.shared;
        let plan = KindPlan {
            kind,
            rules: if shared.passive {
                KindRules::new(&shared.rules.passive, kind)
            } else {
                KindRules::default()
            },
            hold_job_acls: shared.passive && shared.rules.passive.hold_job_acls,
        };
        let started = std::time::Instant::now();
        // 1 and 2. Group both sides by key, and take the cheap, byte-level
        // pass over every group; on two threads when large, each with its
        // own range of keys (split where no key straddles the cut).
        let parallel = pv.len() + sv.len() >= PARALLEL_MIN;
        let (p_cut, s_cut) = if parallel {
            split_point(pv, sv)
        } else {
            (pv.len(), sv.len())
        };
        let part = |p: std::ops::Range<usize>, s: std::ops::Range<usize>| {
            let (groups, keys) = group_keys(pv, sv, p, s);
            let (flagged, lag) = prefilter(shared, &plan, pv, sv, &groups, 0);
            (groups, keys, flagged, lag)
        };
        let ((mut groups, mut keys, mut flagged, lag), (tail, tail_keys, tail_flagged, tail_lag)) =
            join(
                parallel,
                || part(0..p_cut, 0..s_cut),
                || part(p_cut..pv.len(), s_cut..sv.len()),
            );
        let offset = groups.len();
        flagged.extend(tail_flagged.into_iter().map(|n| n + offset));
        groups.extend(tail);
        keys.append(&tail_keys);
        self.lag.merge(lag);
        self.lag.merge(tail_lag);
        let prefiltered = started.elapsed();
        let flagged_count = flagged.len();
        // 3. The few flagged groups, in key order, with findings.
        for n in flagged {
            if let Some(&g) = groups.get(n) {
                self.group(&plan, pv, sv, g);
            }
        }
        tracing::debug!(
            %kind,
            groups = groups.len(),
            flagged = flagged_count,
            ?prefiltered,
            elapsed = ?started.elapsed(),
            "diff: kind compared"
        );
        keys
    }

    /// Every finding one key can have.
    fn group(&mut self, plan: &KindPlan, pv: &[Entry<'a, R>], sv: &[Entry<'a, R>], g: Group) {
        let kind = plan.kind;
        let (Some(prun), Some(srun)) = (pv.get(g.p..g.p + g.pn), sv.get(g.s..g.s + g.sn)) else {
            return;
        };
        let Some(key) = prun.first().or(srun.first()).map(|e| e.key) else {
            return;
        };
        let pdup = prun.len() > 1 || prun.iter().any(|e| e.rec.duplicate());
        let sdup = srun.len() > 1 || srun.iter().any(|e| e.rec.duplicate());
        for (dup, side, n) in [
            (pdup, "primary", prun.len()),
            (sdup, "secondary", srun.len()),
        ] {
            if dup {
                let mut f = finding(
                    FindingClass::DuplicateKey,
                    kind,
                    key,
                    format!("{n} objects share the key `{key}` in the {side}"),
                );
                f.rule = Some(side.into());
                f.hint = Some(
                    "rename or remove all but one: objects are matched by name across workspaces"
                        .into(),
                );
                self.push(f);
            }
        }
        let held = plan.hold_job_acls && passive::is_job_acl(kind, key);
        let counterpart = if pdup {
            None
        } else {
            prun.first().map(|e| e.rec)
        };
        if !(pdup || sdup || held) {
            match (prun.first(), srun.first()) {
                (Some(p), None) => self.missing(kind, p),
                (None, Some(s)) => self.extra(kind, s.key),
                // Lag of pairs was measured by the prefilter.
                (Some(p), Some(s)) => self.changed(kind, p.rec, s.rec, &plan.rules),
                (None, None) => {}
            }
        }
        for s in srun {
            self.secondary_checks(kind, s.rec, counterpart, &plan.rules, held);
        }
    }

    fn missing(&mut self, kind: Kind, p: &Entry<'a, R>) {
        let shared = self.shared;
        if shared.single_region_object(kind, p.key, Side::Primary) {
            return;
        }
        let mut f = finding(
            FindingClass::Missing,
            kind,
            p.key,
            "in the primary, not in the secondary".into(),
        );
        f.hint = Some("replicate it to the secondary (sync client or CI/CD deployment)".into());
        // An ignored gap is not lag either.
        if self.push(f) {
            if let Some(pm) = p.rec.modified_at() {
                let lag = shared.secondary.metadata.captured_at_ms - pm;
                self.lag.observe(shared, kind, p.key, lag, (pm, None));
            }
        }
    }

    fn extra(&mut self, kind: Kind, key: &str) {
        if self.shared.single_region_object(kind, key, Side::Secondary) {
            return;
        }
        let mut f = finding(
            FindingClass::Extra,
            kind,
            key,
            "in the secondary only".into(),
        );
        f.hint = Some(
            "remove it from the secondary, or create it in the primary: changes belong in the primary"
                .into(),
        );
        self.push(f);
    }

    fn changed(&mut self, kind: Kind, p: &R, s: &R, rules: &KindRules) {
        let shared = self.shared;
        if shared.fast_equal(p.content(), s.content(), rules, &mut self.bufs) {
            return;
        }
        let mut pv = parse(p.content().as_bytes());
        let sv = parse(s.content().as_bytes());
        shared.rewriter.rewrite_value(&mut pv);
        let principals = matches!(kind, Kind::Groups | Kind::Permissions | Kind::Grants);
        let keep = |field: &str, id: &str, side: Side| {
            !(principals && matches!(field, "principal" | "key") && shared.single_region(id, side))
        };
        let mut fields = Vec::new();
        tree::diff_values(&pv, &sv, &keep, &mut fields);
        fields.retain(|f| !rules.is_passive_field(&f.path));
        // A storage path left at the primary is reported as a dangling
        // reference (with the rewrite rule); not twice.
        if let Some(field) = storage_field(kind) {
            if shared.primary_prefix(s, field).is_some() {
                fields.retain(|f| f.path != field);
            }
        }
        if fields.is_empty() {
            return;
        }
        let message = match fields.as_slice() {
            [one] => format!("`{}` differs", one.path),
            [first, rest @ ..] => {
                format!("{} fields differ, first `{}`", rest.len() + 1, first.path)
            }
            [] => return,
        };
        let mut f = finding(FindingClass::Changed, kind, s.key(), message);
        f.fields = fields;
        f.hint = Some(
            "re-sync it from the primary, or add a rewrite or ignore rule if the difference is expected"
                .into(),
        );
        self.push(f);
    }

    /// Checks that only need the secondary: passive state, references, storage paths.
    fn secondary_checks(
        &mut self,
        kind: Kind,
        s: &'a R,
        p: Option<&'a R>,
        rules: &KindRules,
        held: bool,
    ) {
        let content = s.content().as_bytes();
        let mut violations = Vec::new();
        rules.check(content, |rule, raw| violations.push((rule, raw)));
        for (rule, raw) in violations {
            let shown = match raw {
                None => "unset".to_owned(),
                Some(r) => match scan::as_string(r) {
                    Some(text) => format!("`{text}`"),
                    None => String::from_utf8_lossy(r).into_owned(),
                },
            };
            let mut f = finding(
                FindingClass::PassiveViolation,
                kind,
                s.key(),
                format!(
                    "`{}` is {shown} in a passive secondary (expected {})",
                    rule.dotted,
                    rule.expected()
                ),
            );
            f.fields.push(FieldDiff {
                path: rule.dotted.into(),
                primary: p
                    .and_then(|p| scan::get_path(p.content().as_bytes(), rule.path))
                    .map(parse),
                secondary: raw.map(parse),
            });
            f.rule = Some(rule.rule.into());
            f.hint = Some(rule.hint.into());
            self.push(f);
        }
        if held {
            self.held_job_acl(kind, s);
        }
        self.dangling_refs(kind, s);
        if let Some(field) = storage_field(kind) {
            if let Some(n) = self.shared.primary_prefix(s, field) {
                self.storage_at_primary(kind, s, p, field, n);
            }
        }
    }

    /// Job ACLs held back until failover: direct grants other than the
    /// owner (every job has one) are a violation.
    fn held_job_acl(&mut self, kind: Kind, s: &R) {
        let Some(raw) = scan::get_path(s.content().as_bytes(), &["direct"]) else {
            return;
        };
        let Value::Array(entries) = parse(raw) else {
            return;
        };
        let fields: Vec<FieldDiff> = entries
            .into_iter()
            .enumerate()
            .filter(|(_, e)| e.get("permission_level").and_then(Value::as_str) != Some("IS_OWNER"))
            .map(|(n, e)| FieldDiff {
                path: match e.get("principal").and_then(Value::as_str) {
                    Some(p) => format!("direct[{p}]"),
                    None => format!("direct[{n}]"),
                },
                primary: None,
                secondary: Some(e),
            })
            .collect();
        if fields.is_empty() {
            return;
        }
        let mut f = finding(
            FindingClass::PassiveViolation,
            kind,
            s.key(),
            format!(
                "{} direct job permission(s) applied before the DR event",
                fields.len()
            ),
        );
        f.fields = fields;
        f.rule = Some(passive::HOLD_JOB_ACLS_RULE.into());
        f.hint = Some("remove the grants from the secondary's job; apply them at failover".into());
        self.push(f);
    }

    fn dangling_refs(&mut self, kind: Kind, s: &R) {
        let mut fields = Vec::new();
        let mut names = Vec::new();
        let shared = self.shared;
        s.for_each_ref(&mut |r| {
            if !shared.dangles(&r) {
                return;
            }
            let (target, shown) = match (&r.key, &r.unresolved_id) {
                (Some(key), _) => (
                    json!({"kind": r.kind, "key": key}),
                    format!("{} `{key}`", r.kind),
                ),
                (None, id) => (
                    json!({"kind": r.kind, "unresolved_id": id}),
                    format!("{} id `{}`", r.kind, id.as_deref().unwrap_or("?")),
                ),
            };
            fields.push(FieldDiff {
                path: r.field.into_owned(),
                primary: None,
                secondary: Some(target),
            });
            // A secret reference names its scope and its key: one name each.
            if !names.contains(&shown) {
                names.push(shown);
            }
        });
        if fields.is_empty() {
            return;
        }
        let message = match (names.as_slice(), fields.len()) {
            ([one], 1) => format!(
                "`{}` refers to {one}, which is not in the secondary",
                fields[0].path
            ),
            _ => {
                let shown: Vec<&str> = names.iter().take(3).map(String::as_str).collect();
                let more = names.len().saturating_sub(3);
                let more = if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                };
                format!(
                    "{} references do not resolve in the secondary: {}{more}",
                    fields.len(),
                    shown.join(", ")
                )
            }
        };
        fields.sort_by(|a, b| a.path.cmp(&b.path));
        let mut f = finding(FindingClass::DanglingReference, kind, s.key(), message);
        f.fields = fields;
        f.rule = Some("references".into());
        f.hint = Some(
            "create the referenced objects in the secondary (or fix the references) before failover"
                .into(),
        );
        self.push(f);
    }

    fn storage_at_primary(&mut self, kind: Kind, s: &R, p: Option<&R>, field: &str, n: usize) {
        let shared = self.shared;
        let Some(rule) = shared.rules.rewrites.get(n) else {
            return;
        };
        let secondary = scan::get_path(s.content().as_bytes(), &[field]).map(parse);
        let expected = secondary
            .as_ref()
            .and_then(Value::as_str)
            .and_then(|v| shared.rewriter.rewrite_str(v));
        let mut f = finding(
            FindingClass::DanglingReference,
            kind,
            s.key(),
            format!(
                "`{field}` still points at the primary region (`{}`)",
                rule.primary
            ),
        );
        f.fields.push(FieldDiff {
            path: field.into(),
            primary: p
                .and_then(|p| scan::get_path(p.content().as_bytes(), &[field]))
                .map(parse),
            secondary,
        });
        f.rule = Some(format!("rewrite[{n}]"));
        f.hint = Some(match expected {
            Some(e) => format!(
                "point it at `{e}` in the secondary (rewrite rule from {})",
                rule.origin
            ),
            None => format!("point it at `{}` in the secondary", rule.secondary),
        });
        self.push(f);
    }

    fn finish_lag(&mut self) -> Option<Lag> {
        if !self.lag.measured {
            return None;
        }
        let rpo_ms = self.shared.rpo_ms;
        let within_rpo = rpo_ms.map(|rpo| self.lag.max <= rpo);
        let worst = self.lag.worst;
        if let (Some(false), Some((kind, key, pm, sm)), Some(rpo)) = (within_rpo, worst, rpo_ms) {
            let mut f = finding(
                FindingClass::ReplicationLag,
                kind,
                key,
                format!(
                    "the secondary lags the primary by {} (RPO {}): {} object(s) beyond the RPO, the worst is this one",
                    human_ms(self.lag.max),
                    human_ms(rpo),
                    self.lag.beyond
                ),
            );
            f.fields.push(FieldDiff {
                path: "modified_at".into(),
                primary: Some(json!(pm)),
                secondary: sm.map(|m| json!(m)),
            });
            f.rule = Some("rpo".into());
            f.hint =
                Some("check that the sync job runs, and succeeds, at least once per RPO".into());
            self.push(f);
        }
        Some(Lag {
            max_lag_ms: self.lag.max,
            worst: worst.map(|(kind, key, _, _)| (kind, key.to_owned())),
            within_rpo,
        })
    }
}

fn side_facts(metadata: &CaptureMetadata) -> SideFacts {
    SideFacts {
        host: metadata.host.clone(),
        captured_at: metadata.captured_at.clone(),
        captured_at_ms: metadata.captured_at_ms,
    }
}

/// Gives each finding its stable id (`<class>/<kind>/<key>`, then `#2`,
/// `#3`... for further findings of one class on one object, in the order
/// they were found) and sorts them most severe first.
fn assign_ids(findings: Vec<Finding>) -> Vec<Finding> {
    let mut numbered: Vec<(usize, usize, Finding)> = findings
        .into_iter()
        .enumerate()
        .map(|(n, f)| (n, 0, f))
        .collect();
    numbered.sort_by(|a, b| {
        (a.2.kind, &a.2.key, a.2.class, a.0).cmp(&(b.2.kind, &b.2.key, b.2.class, b.0))
    });
    let mut previous: Option<(Kind, String, FindingClass)> = None;
    let mut n = 0;
    for (_, seq, f) in &mut numbered {
        let same = previous
            .as_ref()
            .is_some_and(|(k, key, c)| *k == f.kind && *key == f.key && *c == f.class);
        n = if same { n + 1 } else { 1 };
        *seq = n;
        f.id = format!("{}/{}/{}", f.class.name(), f.kind, f.key);
        if n > 1 {
            f.id.push_str(&format!("#{n}"));
        }
        if !same {
            previous = Some((f.kind, f.key.clone(), f.class));
        }
    }
    numbered.sort_by(|a, b| {
        (a.2.severity, a.2.kind, &a.2.key, a.2.class, a.1).cmp(&(
            b.2.severity,
            b.2.kind,
            &b.2.key,
            b.2.class,
            b.1,
        ))
    });
    numbered.into_iter().map(|(_, _, f)| f).collect()
}

#[cfg(test)]
mod window_tests {
    use proptest::prelude::*;

    use super::*;
    use crate::snapshot::Record;

    fn record(key: &str) -> Record {
        Record {
            key: key.into(),
            duplicate: false,
            modified_at: None,
            refs: vec![],
            content: serde_json::value::RawValue::from_string("{}".into()).unwrap(),
        }
    }

    fn record_with(key: &str, content: u8, modified_at: Option<i64>) -> Record {
        Record {
            modified_at,
            content: serde_json::value::RawValue::from_string(content.to_string()).unwrap(),
            ..record(key)
        }
    }

    proptest! {
        /// `sort_view` (prefixes, then rounds of 16-byte windows over runs
        /// of equal prefixes) gives exactly the order of a plain sort by
        /// `entry_order`: runs small and large, keys sharing long starts or
        /// ending inside a window, NUL bytes, duplicate keys.
        #[test]
        fn sort_view_is_entry_order(
            keys in prop::collection::vec(
                ("(/Production/team-0|/Production/team-0000/folder-00007|/U|)[0-1\u{0}/]{0,40}", 0u8..3, prop::option::of(0i64..3)),
                0..400,
            ),
        ) {
            let records: Vec<Record> =
                keys.iter().map(|(k, c, m)| record_with(k, *c, *m)).collect();
            let w = Windows::new([&records[..], &[]]);
            let entries: Vec<Entry<'_, Record>> = records
                .iter()
                .map(|rec| Entry { prefix: w.prefix(rec.key()), key: rec.key(), rec })
                .collect();
            let mut got = entries.clone();
            sort_view(&mut got);
            let mut want = entries;
            want.sort_by(entry_order);
            let view = |v: &[Entry<'_, Record>]| -> Vec<(String, String, Option<i64>)> {
                v.iter()
                    .map(|e| (e.key.to_owned(), e.rec.content().to_owned(), e.rec.modified_at()))
                    .collect()
            };
            prop_assert_eq!(view(&got), view(&want));
        }

        /// Prefixes never order two keys against their own order, whatever
        /// the keys share (long common starts, empty keys, NUL bytes,
        /// multi-byte characters).
        #[test]
        fn prefixes_agree_with_key_order(
            p in prop::collection::vec("(notebooks:/Production/team-0|jobs:job-0|/a|)[a-c\u{0}é/]{0,20}", 0..40),
            s in prop::collection::vec("(notebooks:/Production/team-0|directories:|/a|)[a-c\u{0}é/]{0,20}", 0..40),
        ) {
            let (p, s): (Vec<Record>, Vec<Record>) =
                (p.iter().map(|k| record(k)).collect(), s.iter().map(|k| record(k)).collect());
            let w = Windows::new([&p[..], &s[..]]);
            let keys: Vec<&str> = p.iter().chain(&s).map(|r| r.key.as_str()).collect();
            for a in &keys {
                for b in &keys {
                    let (pa, pb) = (w.prefix(a), w.prefix(b));
                    if pa < pb {
                        prop_assert!(a < b, "{a:?} {b:?}");
                    }
                    if a < b {
                        prop_assert!(pa <= pb, "{a:?} {b:?}");
                    }
                }
            }
        }
    }
}
