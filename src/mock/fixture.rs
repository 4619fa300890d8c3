//! Fixtures: one workspace in the API's own JSON shapes (format version 1,
//! `notes/fixture-format.md`), loaded into a ready store, and dumped back.
//!
//! Loading validates everything and names the file, line and column of the
//! offending item; objects are kept as the compact text of the item, so a
//! response recorded from a real workspace is served back unchanged.

use std::path::Path;

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::store::{Durations, Workspace};

/// The fixture format this build reads and writes.
///
/// Version 1: the first version.
pub const FIXTURE_VERSION: u32 = 1;

/// Where the virtual clock starts when a fixture does not say
/// (2025-11-24T16:00:00Z), so runs of tests see the same times.
pub const DEFAULT_START_MS: i64 = 1_764_000_000_000;

/// A loaded, validated workspace, ready to be served.
#[derive(Debug)]
pub struct Fixture {
    pub(crate) ws: Workspace,
}

/// Why a fixture could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// The file could not be read (why is the source, printed after it
    /// in an error chain, not repeated here).
    #[error("cannot read fixture `{path}`")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The text is not a valid fixture.
    #[error("invalid fixture `{origin}` at line {line}, column {column}: {message}")]
    Invalid {
        /// The file (or label) the text came from.
        origin: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
}

/// Reads and validates a fixture file.
pub fn load_fixture(path: impl AsRef<Path>) -> Result<Fixture, FixtureError> {
    let path = path.as_ref();
    let read_error = |source| FixtureError::Read {
        path: path.display().to_string(),
        source,
    };
    // Mapped rather than copied: reading copies every byte out of the page
    // cache, a good part of a large fixture's start-up.
    let bytes = crate::snapshot::FileBytes::read(path).map_err(read_error)?;
    // The message `fs::read_to_string` gives, as before large files were mapped.
    let text = std::str::from_utf8(bytes.as_slice()).map_err(|_| {
        read_error(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        ))
    })?;
    Fixture::parse(text, &path.display().to_string())
}

/// Why one item of a collection is invalid, from a kind's loader.
#[derive(Debug)]
pub(crate) enum LoadError {
    /// A message about the item as a whole.
    Msg(String),
    /// A serde error inside the item (its position is relative to the item).
    Json(serde_json::Error),
}

impl From<String> for LoadError {
    fn from(m: String) -> Self {
        LoadError::Msg(m)
    }
}

impl From<serde_json::Error> for LoadError {
    fn from(e: serde_json::Error) -> Self {
        LoadError::Json(e)
    }
}

/// The clock section.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockSpec {
    start_ms: Option<i64>,
}

/// The top level, borrowing each object's text from the input.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFixture<'a> {
    fixture_version: u32,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    workspace_id: Option<String>,
    #[serde(default)]
    clock: Option<ClockSpec>,
    #[serde(default)]
    durations: Option<Durations>,
    #[serde(borrow, default)]
    users: Vec<&'a RawValue>,
    #[serde(borrow, default)]
    groups: Vec<&'a RawValue>,
    #[serde(borrow, default)]
    service_principals: Vec<&'a RawValue>,
    #[serde(borrow, default)]
    jobs: Vec<&'a RawValue>,
    #[serde(borrow, default)]
    runs: Vec<&'a RawValue>,
    #[serde(borrow, default)]
    clusters: Vec<&'a RawValue>,
    #[serde(borrow, default)]
    cluster_libraries: Vec<&'a RawValue>,
    #[serde(borrow, default)]
    instance_pools: Vec<&'a RawValue>,
    #[serde(borrow, default)]
    cluster_policies: Vec<&'a RawValue>,
    #[serde(borrow, default)]
    global_init_scripts: Vec<&'a RawValue>,
    #[serde(borrow, default)]
    workspace_objects: Vec<&'a RawValue>,
    #[serde(borrow, default)]
    repos: Vec<&'a RawValue>,
    #[serde(borrow, default)]
    secret_scopes: Vec<&'a RawValue>,
    #[serde(borrow, default)]
    permissions: Vec<&'a RawValue>,
    #[serde(borrow, default)]
    catalogs: Vec<&'a RawValue>,
    #[serde(borrow, default)]
    schemas: Vec<&'a RawValue>,
    #[serde(borrow, default)]
    tables: Vec<&'a RawValue>,
    #[serde(borrow, default)]
    grants: Vec<&'a RawValue>,
    #[serde(borrow, default)]
    sql_warehouses: Vec<&'a RawValue>,
    #[serde(borrow, default)]
    ip_access_lists: Vec<&'a RawValue>,
    #[serde(default)]
    workspace_conf: Option<serde_json::Map<String, Value>>,
}

/// The arrays of a fixture, in [`RawFixture`]'s field order.
const SECTIONS: [&str; 20] = [
    "users",
    "groups",
    "service_principals",
    "jobs",
    "runs",
    "clusters",
    "cluster_libraries",
    "instance_pools",
    "cluster_policies",
    "global_init_scripts",
    "workspace_objects",
    "repos",
    "secret_scopes",
    "permissions",
    "catalogs",
    "schemas",
    "tables",
    "grants",
    "sql_warehouses",
    "ip_access_lists",
];

/// Sections whose loader parses the whole item with `serde_json` (or a
/// stricter scanner), so it rejects any text that is not exactly one JSON
/// value; items of the others are checked apart on the line-split path.
const SELF_CHECKING: [&str; 7] = [
    "users",
    "groups",
    "service_principals",
    "jobs",
    "workspace_objects",
    "permissions",
    "tables",
];

/// A fixture split into its top-level settings and each array's item texts
/// (slices of the fixture text, without surrounding whitespace).
struct Parts<'t> {
    fixture_version: u32,
    name: Option<String>,
    workspace_id: Option<String>,
    clock: Option<ClockSpec>,
    durations: Option<Durations>,
    workspace_conf: Option<serde_json::Map<String, Value>>,
    /// Items, by index in [`SECTIONS`].
    items: [Vec<&'t str>; SECTIONS.len()],
    /// True when split by lines: items are not yet known to be JSON.
    split_by_lines: bool,
}

impl<'t> Parts<'t> {
    /// The items of a section.
    fn of(&self, section: &str) -> &[&'t str] {
        SECTIONS
            .iter()
            .position(|s| *s == section)
            .map_or(&[], |i| &self.items[i])
    }

    /// From a full parse (what the text means, whatever its layout).
    fn from_raw(raw: RawFixture<'t>) -> Parts<'t> {
        let items = [
            raw.users,
            raw.groups,
            raw.service_principals,
            raw.jobs,
            raw.runs,
            raw.clusters,
            raw.cluster_libraries,
            raw.instance_pools,
            raw.cluster_policies,
            raw.global_init_scripts,
            raw.workspace_objects,
            raw.repos,
            raw.secret_scopes,
            raw.permissions,
            raw.catalogs,
            raw.schemas,
            raw.tables,
            raw.grants,
            raw.sql_warehouses,
            raw.ip_access_lists,
        ]
        .map(|v| v.into_iter().map(RawValue::get).collect());
        Parts {
            fixture_version: raw.fixture_version,
            name: raw.name,
            workspace_id: raw.workspace_id,
            clock: raw.clock,
            durations: raw.durations,
            workspace_conf: raw.workspace_conf,
            items,
            split_by_lines: false,
        }
    }

    /// Splits a fixture written one array item per line (as `generate` and
    /// dumps write them) without parsing the items: the top-level parse of
    /// a large fixture is a long single-threaded step, and each item is
    /// parsed again by its loader anyway.
    ///
    /// The text with every item replaced by `0` (its skeleton) must parse
    /// as a fixture with as many items in each array as were split off;
    /// then, once each item is shown to be one JSON value, the text is valid
    /// and means what a full parse would make of it. `None` when the layout
    /// is not one item per line (the caller then parses the text whole).
    fn by_lines(text: &'t str) -> Option<Parts<'t>> {
        const WS: [char; 4] = [' ', '\t', '\r', '\n'];
        let mut items: [Vec<&'t str>; SECTIONS.len()] = Default::default();
        let mut skeleton = String::with_capacity(1 << 16);
        let mut open: Option<usize> = None;
        for line in text.split('\n') {
            match open {
                None => {
                    open = opening(line.trim_matches(WS));
                    skeleton.push_str(line);
                }
                Some(section) => {
                    let body = line.trim_start_matches(WS);
                    let end = body
                        .trim_end_matches(|c| WS.contains(&c) || c == ',' || c == ']')
                        .len();
                    let (item, rest) = body.split_at(end);
                    if !item.is_empty() {
                        items[section].push(item);
                        skeleton.push('0');
                    }
                    skeleton.push_str(rest);
                    if rest.contains(']') {
                        open = None;
                    }
                }
            }
            skeleton.push('\n');
        }
        let raw: RawFixture<'_> = serde_json::from_str(&skeleton).ok()?;
        let shape = Parts::from_raw(raw);
        let same = shape
            .items
            .iter()
            .zip(&items)
            .all(|(a, b)| a.len() == b.len());
        same.then_some(Parts {
            fixture_version: shape.fixture_version,
            name: shape.name,
            workspace_id: shape.workspace_id,
            clock: shape.clock,
            durations: shape.durations,
            workspace_conf: shape.workspace_conf,
            items,
            split_by_lines: true,
        })
    }
}

/// The section a line opens when it is `"name": [` with items to follow.
fn opening(line: &str) -> Option<usize> {
    let rest = line.strip_prefix('"')?;
    let (name, rest) = rest.split_once('"')?;
    let rest = rest.trim_start().strip_prefix(':')?.trim_start();
    if rest != "[" {
        return None;
    }
    SECTIONS.iter().position(|s| *s == name)
}

/// A parsed fixture ACL and its index in `permissions`.
type IndexedAcl = (usize, Result<super::permissions::ParsedAcl, LoadError>);

/// Fixture ACLs parsed a chunk at a time by both loading threads, sorted by
/// the thread that stores them: the one holding the workspace objects
/// stores theirs, the other the rest (and every ACL that did not parse).
struct AclChunks<'t> {
    items: &'t [&'t str],
    next: std::sync::atomic::AtomicUsize,
    state: std::sync::Mutex<ChunkState>,
    all_parsed: std::sync::Condvar,
}

#[derive(Default)]
struct ChunkState {
    parsed: usize,
    /// A parsing thread panicked: nobody waits for its chunk.
    failed: bool,
    /// By chunk: the workspace objects' ACLs, and the others.
    objects: Vec<(usize, Vec<IndexedAcl>)>,
    others: Vec<(usize, Vec<IndexedAcl>)>,
}

/// ACLs per chunk: large enough to keep the lock cold, small enough to
/// share the work evenly at the end.
const ACL_CHUNK: usize = 4096;

impl<'t> AclChunks<'t> {
    fn new(items: &'t [&'t str]) -> Self {
        AclChunks {
            items,
            next: std::sync::atomic::AtomicUsize::new(0),
            state: std::sync::Mutex::default(),
            all_parsed: std::sync::Condvar::new(),
        }
    }

    /// A guard for a loading thread: if the thread panics, whatever it was
    /// doing, the state is marked failed so the other thread does not wait
    /// for its chunks forever.
    fn watch(&self) -> impl Drop + '_ {
        struct Watch<'a, 't>(&'a AclChunks<'t>);
        impl Drop for Watch<'_, '_> {
            fn drop(&mut self) {
                if std::thread::panicking() {
                    self.0.lock().failed = true;
                    self.0.all_parsed.notify_all();
                }
            }
        }
        Watch(self)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ChunkState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Parses chunks until none is left, waits until the other thread has
    /// parsed its last, and returns the ACLs this thread stores (`objects`:
    /// the workspace objects'), chunk by chunk in order; `None` if the
    /// other thread failed.
    fn parse_then_take(&self, objects: bool) -> Option<Vec<Vec<IndexedAcl>>> {
        let chunks = self.items.len().div_ceil(ACL_CHUNK);
        // One per thread, kept across chunks: the names repeat across the
        // whole section, not only within a chunk.
        let mut shared = super::store::Interner::default();
        loop {
            let chunk = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if chunk >= chunks {
                break;
            }
            let start = chunk * ACL_CHUNK;
            let end = (start + ACL_CHUNK).min(self.items.len());
            let (mut on_objects, mut others) = (Vec::new(), Vec::new());
            for (index, item) in self.items[start..end].iter().enumerate() {
                let parsed = super::permissions::parse(item, &mut shared);
                let ours = parsed.as_ref().is_ok_and(|p| p.on_objects());
                let slot = if ours { &mut on_objects } else { &mut others };
                slot.push((start + index, parsed));
            }
            let mut state = self.lock();
            state.parsed += 1;
            state.objects.push((chunk, on_objects));
            state.others.push((chunk, others));
            if state.parsed == chunks {
                self.all_parsed.notify_all();
            }
        }
        let mut state = self.lock();
        while state.parsed < chunks && !state.failed {
            state = self
                .all_parsed
                .wait(state)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        if state.failed {
            return None;
        }
        let mut mine = std::mem::take(if objects {
            &mut state.objects
        } else {
            &mut state.others
        });
        drop(state);
        mine.sort_unstable_by_key(|(chunk, _)| *chunk);
        // Left in chunks: one vector of them all would be another copy of
        // every parsed ACL, grown by doubling.
        Some(mine.into_iter().map(|(_, acls)| acls).collect())
    }
}

/// Stores parsed ACLs in order, up to the first bad one (index, why).
fn store_acls(ws: &mut Workspace, chunks: Vec<Vec<IndexedAcl>>) -> Result<(), (usize, LoadError)> {
    super::permissions::reserve(
        ws,
        chunks.iter().flatten().filter_map(|(_, a)| a.as_ref().ok()),
    );
    for (index, acl) in chunks.into_iter().flatten() {
        acl.and_then(|acl| super::permissions::insert(ws, acl))
            .map_err(|e| (index, e))?;
    }
    Ok(())
}

/// The earlier of two threads' first failures (`at`: where one stands in
/// the order a load on one thread would meet it).
fn earliest<E, K: Ord>(a: Result<(), E>, b: Result<(), E>, at: impl Fn(&E) -> K) -> Option<E> {
    match (a, b) {
        (Err(a), Err(b)) => Some(if at(&a) <= at(&b) { a } else { b }),
        (Err(e), Ok(())) | (Ok(()), Err(e)) => Some(e),
        (Ok(()), Ok(())) => None,
    }
}

/// A kind's loader: adds one item (its JSON text) to the workspace.
type Loader = fn(&mut Workspace, &str) -> Result<(), LoadError>;

impl Fixture {
    /// Parses and validates fixture text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Fixture, FixtureError> {
        let started = std::time::Instant::now();
        if let Some(parts) = Parts::by_lines(text) {
            tracing::debug!(elapsed = ?started.elapsed(), bytes = text.len(), "fixture: split by lines");
            match Fixture::build(text, origin, parts, started) {
                Ok(fixture) => return Ok(fixture),
                // An item on the line-split path may be more than one (two
                // on a line): the full parse below decides, and names the
                // first real error exactly.
                Err(e) => {
                    tracing::debug!(error = %e, "fixture: split by lines failed; parsing it whole")
                }
            }
        }
        Fixture::parse_whole(text, origin, started)
    }

    /// Parses the text whole (any layout), then loads it.
    fn parse_whole(
        text: &str,
        origin: &str,
        started: std::time::Instant,
    ) -> Result<Fixture, FixtureError> {
        let raw: RawFixture<'_> =
            serde_json::from_str(text).map_err(|e| FixtureError::Invalid {
                origin: origin.to_owned(),
                line: e.line(),
                column: e.column(),
                message: super::http::strip_position(&e.to_string()),
            })?;
        tracing::debug!(elapsed = ?started.elapsed(), bytes = text.len(), "fixture: top level parsed");
        Fixture::build(text, origin, Parts::from_raw(raw), started)
    }

    /// Loads the split fixture into a workspace.
    fn build(
        text: &str,
        origin: &str,
        raw: Parts<'_>,
        started: std::time::Instant,
    ) -> Result<Fixture, FixtureError> {
        let invalid = |line: usize, column: usize, message: String| FixtureError::Invalid {
            origin: origin.to_owned(),
            line,
            column,
            message,
        };
        if raw.fixture_version != FIXTURE_VERSION {
            return Err(invalid(
                1,
                1,
                format!(
                    "unsupported `fixture_version` {} (this standby reads version {FIXTURE_VERSION})",
                    raw.fixture_version
                ),
            ));
        }
        let name = raw.name.clone().unwrap_or_else(|| "workspace".to_owned());
        let workspace_id = match &raw.workspace_id {
            Some(id) if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) => id.clone(),
            Some(id) => {
                return Err(invalid(
                    1,
                    1,
                    format!("`workspace_id` must be a numeric string, not `{id}`"),
                ));
            }
            None => (super::store::fnv1a(name.as_bytes()) % 9_000_000_000_000_000
                + 1_000_000_000_000_000)
                .to_string(),
        };
        let start_ms = raw
            .clock
            .as_ref()
            .and_then(|c| c.start_ms)
            .unwrap_or(DEFAULT_START_MS);
        let mut ws = Workspace::new(
            name,
            workspace_id,
            start_ms,
            raw.durations.unwrap_or_default(),
        );
        ws.begin_load();

        // Order matters: principals before groups (members), objects before
        // the permissions and libraries that name them.
        let sections: [(&str, &[&str], Loader); 18] = [
            ("users", raw.of("users"), super::users::load),
            (
                "service_principals",
                raw.of("service_principals"),
                super::service_principals::load,
            ),
            ("groups", raw.of("groups"), super::groups::load),
            (
                "instance_pools",
                raw.of("instance_pools"),
                super::instance_pools::load,
            ),
            (
                "cluster_policies",
                raw.of("cluster_policies"),
                super::cluster_policies::load,
            ),
            ("clusters", raw.of("clusters"), super::clusters::load),
            (
                "cluster_libraries",
                raw.of("cluster_libraries"),
                super::clusters::load_libraries,
            ),
            (
                "global_init_scripts",
                raw.of("global_init_scripts"),
                super::global_init_scripts::load,
            ),
            (
                "workspace_objects",
                raw.of("workspace_objects"),
                super::workspace::load,
            ),
            ("repos", raw.of("repos"), super::repos::load),
            ("jobs", raw.of("jobs"), super::jobs::load),
            ("runs", raw.of("runs"), super::runs::load),
            (
                "secret_scopes",
                raw.of("secret_scopes"),
                super::secrets::load,
            ),
            (
                "sql_warehouses",
                raw.of("sql_warehouses"),
                super::sql_warehouses::load,
            ),
            (
                "ip_access_lists",
                raw.of("ip_access_lists"),
                super::ip_access_lists::load,
            ),
            ("catalogs", raw.of("catalogs"), super::catalog::load_catalog),
            ("schemas", raw.of("schemas"), super::catalog::load_schema),
            ("tables", raw.of("tables"), super::catalog::load_table),
        ];
        let report = |section: &str, index: usize, item: &str, e: LoadError| {
            let offset = (item.as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
            let (line, column) = position(text, offset);
            let (line, column, message) = match e {
                LoadError::Msg(m) => (line, column, m),
                LoadError::Json(e) if e.line() == 1 => (
                    line,
                    column + e.column().saturating_sub(1),
                    super::http::strip_position(&e.to_string()),
                ),
                LoadError::Json(e) => (
                    line + e.line() - 1,
                    e.column(),
                    super::http::strip_position(&e.to_string()),
                ),
            };
            invalid(line, column, format!("`{section}` item {index}: {message}"))
        };
        // Workspace objects depend on no other kind, and no other kind's
        // loader reads them or moves their id counter (only repos raise it,
        // after them, and the larger counter is kept): a second thread loads
        // and links them in a scratch store while this one loads every other
        // kind and finishes them. Then both parse ACLs (whose text depends on
        // nothing) a chunk at a time, so neither waits long for the other,
        // and each stores those whose objects it holds. Each thread stops at
        // its first bad item, and the first in section (then item) order is
        // reported, as a load on one thread would.
        let on_side = |section: &str| section == "workspace_objects";
        let scratch_id = ws.workspace_id.clone();
        let permissions = raw.of("permissions");
        let acls = AclChunks::new(permissions);
        // Loads the sections one thread owns, in order, up to the first bad item.
        let load = |ws: &mut Workspace, side: bool| -> Result<(), (&str, usize, &str, LoadError)> {
            sections
                .iter()
                .filter(|(section, _, _)| on_side(section) == side)
                .try_for_each(|(section, items, loader)| {
                    let started = std::time::Instant::now();
                    ws.reserve(section, items.len());
                    // On the line-split path, an item whose loader does not
                    // parse it whole is first shown to be one JSON value.
                    let check = raw.split_by_lines && !SELF_CHECKING.contains(section);
                    items.iter().enumerate().try_for_each(|(index, item)| {
                        if check {
                            serde_json::from_str::<&RawValue>(item)
                                .map_err(|e| (*section, index, *item, e.into()))?;
                        }
                        loader(ws, item).map_err(|e| (*section, index, *item, e))
                    })?;
                    if !items.is_empty() {
                        tracing::debug!(section, items = items.len(), elapsed = ?started.elapsed(), "fixture: section loaded");
                    }
                    Ok(())
                })
        };
        let grants = raw.of("grants");
        let (side, main) = std::thread::scope(|scope| {
            let side = scope.spawn(|| {
                let _watch = acls.watch();
                let mut scratch =
                    Workspace::new(String::new(), scratch_id, start_ms, Durations::default());
                scratch.begin_load();
                let loaded = load(&mut scratch, true);
                // Linking the objects into their folders is the longest
                // step of finishing them: done here, while other kinds load.
                let orphans = scratch.objects.link_loaded();
                tracing::debug!(elapsed = ?started.elapsed(), "fixture: objects linked into folders");
                let stored = acls.parse_then_take(true).map(|mine| store_acls(&mut scratch, mine));
                tracing::debug!(elapsed = ?started.elapsed(), "fixture: side thread done");
                (scratch, loaded, orphans, stored)
            });
            let _watch = acls.watch();
            let loaded = load(&mut ws, false).and_then(|()| {
                for (index, item) in grants.iter().enumerate() {
                    if raw.split_by_lines {
                        serde_json::from_str::<&RawValue>(item)
                            .map_err(|e| ("grants", index, *item, e.into()))?;
                    }
                    super::catalog::load_grants(&mut ws, item)
                        .map_err(|e| ("grants", index, *item, e))?;
                }
                Ok(())
            });
            if loaded.is_ok() {
                ws.finish_kinds();
            }
            tracing::debug!(elapsed = ?started.elapsed(), "fixture: main sections loaded");
            let stored = acls
                .parse_then_take(false)
                .map(|mine| store_acls(&mut ws, mine));
            (side.join(), (loaded, stored))
        });
        tracing::debug!(elapsed = ?started.elapsed(), "fixture: objects and ACLs loaded");
        let thread_failed = || invalid(1, 1, "a thread loading the fixture failed".to_owned());
        let (mut scratch, side_loaded, orphans, side_stored) = side.map_err(|_| thread_failed())?;
        let (main_loaded, main_stored) = main;
        // Grants come after every section in order; the side thread holds none.
        let order = |section: &str| {
            sections
                .iter()
                .position(|(name, _, _)| *name == section)
                .unwrap_or(sections.len())
        };
        let first = earliest(main_loaded, side_loaded, |e| (order(e.0), e.1));
        if let Some((section, index, item, e)) = first {
            return Err(report(section, index, item, e));
        }
        let (Some(main_stored), Some(side_stored)) = (main_stored, side_stored) else {
            return Err(thread_failed());
        };
        let acl_error = earliest(main_stored, side_stored, |e| e.0);
        if let Some((index, e)) = acl_error {
            return Err(report("permissions", index, permissions[index], e));
        }
        ws.objects = std::mem::take(&mut scratch.objects);
        ws.ids.object = ws.ids.object.max(scratch.ids.object);
        super::permissions::move_object_acls(&mut scratch, &mut ws);
        if let Some(conf) = raw.workspace_conf {
            super::workspace_conf::load(&mut ws, conf)
                .map_err(|m| invalid(1, 1, format!("`workspace_conf`: {m}")))?;
        }
        ws.finish_objects(Some(orphans));
        tracing::debug!(elapsed = ?started.elapsed(), "fixture: loaded");
        Ok(Fixture { ws })
    }

    /// An empty workspace with default settings.
    pub fn empty(name: &str) -> Fixture {
        let text = format!(
            r#"{{"fixture_version": {FIXTURE_VERSION}, "name": {}}}"#,
            Value::from(name)
        );
        // A fixed, valid text: parsing cannot fail, but fall back to a bare store anyway.
        Fixture::parse(&text, name).unwrap_or_else(|_| {
            let mut ws = Workspace::new(
                name.to_owned(),
                "1000000000000000".into(),
                DEFAULT_START_MS,
                Durations::default(),
            );
            ws.finish_load();
            Fixture { ws }
        })
    }

    /// The fixture's label.
    pub fn name(&self) -> &str {
        &self.ws.name
    }

    /// The numeric workspace id it serves.
    pub fn workspace_id(&self) -> &str {
        &self.ws.workspace_id
    }

    /// The workspace as fixture text (secret values are never included).
    pub fn to_json(&self) -> String {
        self.ws.dump()
    }
}

/// 1-based line and column of a byte offset.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    (
        line,
        String::from_utf8_lossy(&before[line_start..])
            .chars()
            .count()
            + 1,
    )
}

impl Workspace {
    /// Makes room for `n` items of a section up front: growing a map of a
    /// million entries step by step rehashes it again and again.
    fn reserve(&mut self, section: &str, n: usize) {
        match section {
            "users" => self.users.reserve(n),
            "groups" => self.groups.reserve(n),
            "jobs" => self.jobs.items.reserve(n),
            "workspace_objects" => self.objects.reserve(n),
            _ => {}
        }
    }

    /// Cross-kind work after every item is in: implied folders, derived
    /// state, schedules, counters above every id the fixture used.
    fn finish_load(&mut self) {
        self.finish_kinds();
        self.finish_objects(None);
    }

    /// Every kind's finish but the workspace objects': collections sorted,
    /// schedules armed, compute metered. Reads no workspace object, so it
    /// runs while they load.
    fn finish_kinds(&mut self) {
        let started = std::time::Instant::now();
        self.end_load();
        tracing::debug!(elapsed = ?started.elapsed(), "fixture: collections sorted");
        self.finish_jobs();
        self.finish_compute();
        tracing::debug!(elapsed = ?started.elapsed(), "fixture: kinds finished");
        // The replies a capture reads most are rendered when the state is
        // served (`MockState::new`), not here: a large workspace is served
        // while they render, and a fixture only dumped never renders them.
    }

    /// The workspace as fixture text, one object per line.
    pub(crate) fn dump(&self) -> String {
        let mut out = String::with_capacity(1 << 16);
        out.push_str("{\n");
        let head = serde_json::json!({
            "fixture_version": FIXTURE_VERSION,
            "name": self.name,
            "workspace_id": self.workspace_id,
            "clock": {"start_ms": self.now()},
            "durations": self.durations,
        });
        if let Value::Object(map) = head {
            for (k, v) in map {
                out.push_str(&format!("  {}: {},\n", Value::from(k), v));
            }
        }
        let sections: Vec<(&str, Vec<String>)> = vec![
            ("users", self.users.dump()),
            ("groups", self.groups.dump()),
            ("service_principals", self.service_principals.dump()),
            ("jobs", self.jobs.dump()),
            ("runs", self.dump_runs()),
            ("clusters", self.clusters.dump()),
            ("cluster_libraries", self.clusters.dump_libraries()),
            ("instance_pools", self.pools.dump()),
            ("cluster_policies", self.policies.dump()),
            ("global_init_scripts", self.scripts.dump()),
            ("workspace_objects", self.objects.dump()),
            ("repos", self.repos.dump()),
            ("secret_scopes", self.secrets.dump()),
            ("permissions", self.dump_permissions()),
            ("catalogs", self.uc.dump_catalogs()),
            ("schemas", self.uc.dump_schemas()),
            ("tables", self.uc.dump_tables()),
            ("grants", self.uc.dump_grants()),
            ("sql_warehouses", self.warehouses.dump()),
            ("ip_access_lists", self.ip_lists.dump()),
        ];
        for (name, items) in sections {
            out.push_str(&format!("  \"{name}\": ["));
            for (i, item) in items.iter().enumerate() {
                out.push_str(if i == 0 { "\n    " } else { ",\n    " });
                out.push_str(item);
            }
            out.push_str(if items.is_empty() { "],\n" } else { "\n  ],\n" });
        }
        out.push_str(&format!("  \"workspace_conf\": {}\n}}\n", self.conf.dump()));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> FixtureError {
        Fixture::parse(text, "t.json").unwrap_err()
    }

    #[test]
    fn unknown_top_level_keys_are_located() {
        let e = err("{\n  \"fixture_version\": 1,\n  \"jobz\": []\n}");
        match e {
            FixtureError::Invalid {
                line,
                message,
                origin,
                ..
            } => {
                assert_eq!((line, origin.as_str()), (3, "t.json"));
                assert!(message.contains("unknown field `jobz`"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn version_and_workspace_id_are_checked() {
        assert!(
            err(r#"{"fixture_version": 2}"#)
                .to_string()
                .contains("unsupported `fixture_version` 2")
        );
        assert!(
            err(r#"{"fixture_version": 1, "workspace_id": "abc"}"#)
                .to_string()
                .contains("numeric string")
        );
        assert!(err("{}").to_string().contains("fixture_version"));
    }

    #[test]
    fn a_bad_item_is_reported_at_its_line_and_column() {
        let text = "{\"fixture_version\": 1,\n \"users\": [\n  {\"id\": \"1\", \"userName\": \"a@x.com\"},\n  {\"id\": \"2\", \"userName\": 5}\n ]}";
        match err(text) {
            FixtureError::Invalid {
                line,
                column,
                message,
                ..
            } => {
                assert_eq!(line, 4);
                assert!(column > 3, "{column}");
                assert!(message.starts_with("`users` item 1:"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn errors_name_the_first_bad_item_in_section_order_despite_two_threads() {
        // Users load on this thread and jobs on the other: users come first.
        let e =
            err(r#"{"fixture_version": 1, "users": [{"id": "1"}], "jobs": [{"settings": {}}]}"#);
        assert!(e.to_string().contains("`users` item 0"), "{e}");
        // A bad job comes before a bad run.
        let e = err(r#"{"fixture_version": 1, "jobs": [{"settings": {}}], "runs": [5]}"#);
        assert!(e.to_string().contains("`jobs` item 0"), "{e}");
        // ACLs are parsed in chunks by both threads, then checked in order.
        let jobs: Vec<String> = (1..=5000)
            .map(|n| format!(r#"{{"job_id": {n}}}"#))
            .collect();
        let acls: Vec<String> = (1..=5000)
            .map(|n| match n {
                4201 => r#"{"object_id": "/jobs/999999"}"#.to_owned(),
                4501 => r#"{"object_id": "/nope/1"}"#.to_owned(),
                n => format!(r#"{{"object_id": "/jobs/{n}"}}"#),
            })
            .collect();
        let text = format!(
            r#"{{"fixture_version": 1, "jobs": [{}], "permissions": [{}]}}"#,
            jobs.join(","),
            acls.join(",")
        );
        let e = err(&text);
        assert!(
            e.to_string()
                .contains("`permissions` item 4200: `/jobs/999999` names no object"),
            "{e}"
        );
        let ok = text
            .replace("/jobs/999999", "/jobs/4201")
            .replace("/nope/1", "/jobs/4501");
        let f = Fixture::parse(&ok, "t.json").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(f.ws.jobs.items.len(), 5000);
    }

    #[test]
    fn acl_errors_are_reported_in_order_whichever_thread_stores_them() {
        // Folder ACLs are stored by the thread holding the objects, job ACLs
        // by the other; chunks of 4,096 are parsed by both.
        let folders: Vec<String> = (1..=5000)
            .map(|n| {
                format!(r#"{{"path": "/f{n}", "object_type": "DIRECTORY", "object_id": {n}}}"#)
            })
            .collect();
        let jobs: Vec<String> = (1..=5000)
            .map(|n| format!(r#"{{"job_id": {n}}}"#))
            .collect();
        let fixture = |bad_folder: usize, bad_job: usize| {
            let acls: Vec<String> = (1..=10_000)
                .map(|i| match i {
                    i if i == bad_folder => r#"{"object_id": "/directories/999999"}"#.to_owned(),
                    i if i == bad_job => r#"{"object_id": "/jobs/999999"}"#.to_owned(),
                    i if i % 2 == 0 => format!(r#"{{"object_id": "/directories/{}"}}"#, i / 2),
                    i => format!(r#"{{"object_id": "/jobs/{}"}}"#, i.div_ceil(2)),
                })
                .collect();
            format!(
                "{{\"fixture_version\": 1,\n\"workspace_objects\": [\n{}\n],\n\"jobs\": [\n{}\n],\n\"permissions\": [\n{}\n]\n}}\n",
                folders.join(",\n"),
                jobs.join(",\n"),
                acls.join(",\n")
            )
        };
        for (bad_folder, bad_job, reported) in [
            (9000, 4500, "item 4499: `/jobs/999999`"),
            (4500, 9001, "item 4499: `/directories/999999`"),
            (100, 9001, "item 99: `/directories/999999`"),
        ] {
            let text = fixture(bad_folder, bad_job);
            for text in [text.clone(), text.replace(",\n", ",")] {
                let e = err(&text).to_string();
                assert!(
                    e.contains(&format!("`permissions` {reported} names no object")),
                    "{e}"
                );
            }
        }
        // A bad section item, or a bad grant, comes before any bad ACL.
        let text = fixture(100, 101).replace(
            "\"permissions\"",
            "\"grants\": [{\"securable_type\": \"nope\"}],\n\"permissions\"",
        );
        assert!(
            err(&text).to_string().contains("`grants` item 0"),
            "{}",
            err(&text)
        );
        let text = fixture(100, 101).replace("{\"job_id\": 7}", "{\"job_id\": \"x\"}");
        assert!(
            err(&text).to_string().contains("`jobs` item 6"),
            "{}",
            err(&text)
        );
        let text = fixture(100, 101).replace("\"object_id\": 7}", "\"object_id\": \"x\"}");
        assert!(
            err(&text)
                .to_string()
                .contains("`workspace_objects` item 6"),
            "{}",
            err(&text)
        );
    }

    /// A tiny generated workspace in both one-item-per-line layouts: the
    /// generator's and a dump's.
    fn line_layouts() -> &'static [String; 2] {
        static TEXTS: std::sync::OnceLock<[String; 2]> = std::sync::OnceLock::new();
        TEXTS.get_or_init(|| {
            let spec = super::super::generate::GenerateSpec {
                users: 3,
                groups: 2,
                members_per_group: 2,
                service_principals: 1,
                jobs: 3,
                tasks_per_job: 2,
                clusters: 1,
                pools: 1,
                policies: 1,
                notebooks: 4,
                folders: 2,
                secret_scopes: 1,
                secrets_per_scope: 1,
                catalogs: 1,
                schemas: 1,
                tables: 2,
                warehouses: 1,
                ..Default::default()
            };
            let mut generated = Vec::new();
            super::super::generate::write_fixture(&spec, &mut generated).unwrap();
            let generated = String::from_utf8(generated).unwrap();
            let dumped = Fixture::parse(&generated, "g.json").unwrap().to_json();
            [generated, dumped]
        })
    }

    /// The outcome of loading, comparable: the dump, or the error.
    fn outcome(r: Result<Fixture, FixtureError>) -> Result<String, String> {
        r.map(|f| f.to_json()).map_err(|e| e.to_string())
    }

    #[test]
    fn both_line_layouts_are_split_by_lines_and_load_as_a_whole_parse_does() {
        for text in line_layouts() {
            let parts = Parts::by_lines(text).expect("split by lines");
            assert_eq!(parts.of("users").len(), 3);
            for section in SECTIONS {
                for item in parts.of(section) {
                    assert!(
                        item.starts_with('{') && item.ends_with('}'),
                        "{section}: {item}"
                    );
                }
            }
            // Loaded from the split, with no fallback to the whole parse.
            let split = Fixture::build(text, "t.json", parts, std::time::Instant::now());
            assert!(split.is_ok(), "{:?}", split.err());
            let whole = Fixture::parse_whole(text, "t.json", std::time::Instant::now());
            assert_eq!(outcome(Fixture::parse(text, "t.json")), outcome(whole));
        }
        // A pretty-printed fixture is not in the layout: it is parsed whole.
        let pretty = r#"{
  "fixture_version": 1,
  "users": [
    {
      "id": "1",
      "userName": "a@x.com"
    }
  ]
}"#;
        assert!(Parts::by_lines(pretty).is_none());
        assert!(Fixture::parse(pretty, "t.json").is_ok());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Whatever is done to a fixture's lines (two items on one line, a
        /// comma lost or added, a line repeated, dropped or moved, a section
        /// opened inside a setting), loading it means what a whole parse
        /// means: the same workspace, or the same error at the same place.
        #[test]
        fn a_line_split_fixture_means_what_a_whole_parse_does(
            dumped in proptest::bool::ANY,
            edits in proptest::collection::vec((0usize..1_000, 0u8..7), 1..4),
        ) {
            let mut lines: Vec<String> = line_layouts()[usize::from(dumped)]
                .lines()
                .map(str::to_owned)
                .collect();
            for (at, edit) in edits {
                let i = at % lines.len();
                match edit {
                    0 if i + 1 < lines.len() => {
                        let next = lines.remove(i + 1);
                        lines[i].push_str(&next);
                    }
                    1 => {
                        if let Some(p) = lines[i].rfind(',') {
                            lines[i].remove(p);
                        }
                    }
                    2 => lines[i].push(','),
                    3 => {
                        let copy = lines[i].clone();
                        lines.insert(i, copy);
                    }
                    4 if lines.len() > 1 => {
                        lines.remove(i);
                    }
                    5 if i + 1 < lines.len() => lines.swap(i, i + 1),
                    _ => {
                        let conf = r#""workspace_conf": {"users":["#;
                        lines.insert(i, conf.to_owned());
                        lines.insert(i + 1, r#"{"id": "77", "userName": "z@x.com"}"#.to_owned());
                        lines.insert(i + 2, "]},".to_owned());
                    }
                }
            }
            let text = lines.join("\n");
            let whole = Fixture::parse_whole(&text, "t.json", std::time::Instant::now());
            proptest::prop_assert_eq!(outcome(Fixture::parse(&text, "t.json")), outcome(whole));
        }
    }

    #[test]
    fn a_thread_that_panics_holding_a_chunk_does_not_leave_the_other_waiting() {
        let items = vec![r#"{"object_id": "/jobs/1"}"#; 3 * ACL_CHUNK];
        let acls = AclChunks::new(&items);
        // The first chunk is claimed by a thread that then panics.
        acls.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        std::thread::scope(|scope| {
            let doomed = scope.spawn(|| {
                let _watch = acls.watch();
                panic!("a loader bug");
            });
            assert!(doomed.join().is_err());
        });
        assert!(acls.parse_then_take(false).is_none());
    }

    #[test]
    fn missing_file_names_the_file() {
        let e = load_fixture("/nonexistent/fixture.json").unwrap_err();
        assert!(e.to_string().contains("`/nonexistent/fixture.json`"), "{e}");
    }

    #[test]
    fn empty_fixture_has_defaults() {
        let f = Fixture::empty("blank");
        assert_eq!(f.name(), "blank");
        assert_eq!(f.workspace_id().len(), 16);
        assert_eq!(f.ws.now(), DEFAULT_START_MS);
    }

    #[test]
    fn shipped_fixtures_load_and_dump_round_trips() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        for name in ["primary.json", "secondary.json"] {
            let path = root.join(name);
            if !path.exists() {
                continue;
            }
            let f = load_fixture(&path).unwrap_or_else(|e| panic!("{e}"));
            let dumped = f.to_json();
            let again = Fixture::parse(&dumped, "dump").unwrap_or_else(|e| panic!("{e}\n{dumped}"));
            assert_eq!(
                again.to_json(),
                dumped,
                "{name}: a dump must load back to the same state"
            );
        }
    }
}
