//! The workspace store: every kind's collection, the virtual clock, the
//! queue of timed state changes and the id generator, all behind one lock
//! (held by [`super::state::MockState`]).
//!
//! Objects are kept as compact JSON text ([`Doc`]) in the API's own shape,
//! so reads copy bytes instead of serializing, and a recorded response keeps
//! every field it had. Writes parse, change and re-render the one object.
//! Collections are sorted vectors ([`Coll`]): lookups by binary search and
//! pages by position, without copying or scanning the collection.

use std::borrow::{Borrow, Cow};
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::hash::Hash;
use std::sync::Arc;

use base64::Engine;
use bytes::Bytes;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::catalog::UcStore;
use super::cluster_policies::PolicyStore;
use super::clusters::ClusterStore;
use super::error::StoreError;
use super::global_init_scripts::ScriptStore;
use super::instance_pools::PoolStore;
use super::ip_access_lists::IpListStore;
use super::jobs::JobStore;
use super::permissions::PermStore;
use super::repos::RepoStore;
use super::runs::RunStore;
use super::scim::ScimStore;
use super::secrets::SecretStore;
use super::sql_warehouses::WarehouseStore;
use super::workspace::WsStore;
use super::workspace_conf::ConfStore;

/// One object's JSON text, compact, in the shape its `get` endpoint serves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Doc(Box<str>);

impl Doc {
    /// Renders a value.
    pub(crate) fn from_value(value: &Value) -> Doc {
        // `to_string` would go through `fmt`; the serializer writes directly.
        Doc(serde_json::to_string(value)
            .unwrap_or_else(|_| "{}".to_owned())
            .into_boxed_str())
    }

    /// Renders an object map.
    pub(crate) fn from_map(map: Map<String, Value>) -> Doc {
        Doc::from_value(&Value::Object(map))
    }

    /// Renders a borrowed object map.
    pub(crate) fn from_map_ref(map: &Map<String, Value>) -> Doc {
        Doc(serde_json::to_string(map)
            .unwrap_or_else(|_| "{}".to_owned())
            .into_boxed_str())
    }

    /// Takes JSON text that is known to be compact already.
    pub(crate) fn canonical(text: String) -> Doc {
        Doc(text.into_boxed_str())
    }

    /// Takes JSON text that is known to be valid, dropping insignificant whitespace.
    pub(crate) fn compact(raw: &str) -> Doc {
        Doc(compact_json(raw).into_boxed_str())
    }

    /// The JSON text.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// The object as a map (empty if the text is not an object, which a doc never is).
    pub(crate) fn to_map(&self) -> Map<String, Value> {
        serde_json::from_str(&self.0).unwrap_or_default()
    }

    /// Changes the object in place.
    pub(crate) fn edit(&mut self, change: impl FnOnce(&mut Map<String, Value>)) {
        let mut map = self.to_map();
        change(&mut map);
        *self = Doc::from_map(map);
    }
}

/// The members of a JSON object's text, in order, each value as raw text:
/// one pass, no `Value` built.
pub(crate) fn split_object(raw: &str) -> Result<Vec<(Cow<'_, str>, &RawValue)>, serde_json::Error> {
    struct Fields<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);
    impl<'de> serde::Deserialize<'de> for Fields<'de> {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> serde::de::Visitor<'de> for V {
                type Value = Fields<'de>;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> Result<Fields<'de>, A::Error> {
                    let mut out = Vec::new();
                    while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                        let value: &'de RawValue = map.next_value()?;
                        out.push((key, value));
                    }
                    Ok(Fields(out))
                }
            }
            d.deserialize_map(V)
        }
    }
    serde_json::from_str::<Fields<'_>>(raw).map(|f| f.0)
}

/// Removes whitespace outside strings from valid JSON text.
pub(crate) fn compact_json(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    compact_into(&mut out, raw);
    out
}

/// Appends valid JSON text without the whitespace outside its strings.
pub(crate) fn compact_into(out: &mut String, raw: &str) {
    let bytes = raw.as_bytes();
    if !bytes
        .iter()
        .any(|b| matches!(b, b' ' | b'\n' | b'\r' | b'\t'))
    {
        out.push_str(raw);
        return;
    }
    let mut run_start = 0;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => {
                // To the closing quote, plain text a word at a time: a
                // SCIM user's or group's text is mostly strings, and a
                // byte at a time was most of loading one.
                i += 1;
                loop {
                    i = super::canon::plain_until(bytes, i);
                    match bytes.get(i) {
                        Some(b'\\') => i += 2,
                        Some(b'"') => {
                            i += 1;
                            break;
                        }
                        // A raw control character (not valid JSON): kept.
                        Some(_) => i += 1,
                        None => break,
                    }
                }
            }
            b' ' | b'\n' | b'\r' | b'\t' => {
                // Copy the run before the whitespace; ASCII boundaries are char boundaries.
                out.push_str(&raw[run_start..i]);
                i += 1;
                run_start = i;
            }
            _ => i += 1,
        }
    }
    out.push_str(raw.get(run_start..).unwrap_or(""));
}

/// Appends a string as a JSON string literal, escaped exactly as
/// `serde_json` escapes it (so hand-built replies match serialized ones).
pub(crate) fn push_json_str(out: &mut String, text: &str) {
    if text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push('"');
        out.push_str(text);
        out.push('"');
    } else {
        out.push_str(&Value::from(text).to_string());
    }
}

/// A reply rendered once and then served as shared bytes, for the reads
/// that dominate a capture.
///
/// The owner clears it whenever what it shows changes (it holds `&mut` then,
/// under the store's write lock). Replies that also show state kept
/// elsewhere (an ACL shows users' display names) are stamped with a counter
/// of changes to that state: a copy with another stamp is rendered afresh.
/// The slot has its own small lock so a read (under the store's read lock)
/// can fill it; readers of different objects never meet on it.
#[derive(Default)]
pub(crate) struct Rendered(std::sync::Mutex<Option<(u64, Bytes)>>);

impl Rendered {
    /// The reply for `stamp`, rendered now if there is none for it.
    pub(crate) fn get(&self, stamp: u64, render: impl FnOnce() -> String) -> Bytes {
        let mut slot = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((at, bytes)) = slot.as_ref() {
            if *at == stamp {
                return bytes.clone();
            }
        }
        // Exactly sized: a rendered copy is kept for every object.
        let bytes = Bytes::from(render().into_bytes().into_boxed_slice());
        *slot = Some((stamp, bytes.clone()));
        bytes
    }

    /// Forgets the reply: what it shows has changed.
    pub(crate) fn clear(&mut self) {
        *self
            .0
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }
}

impl Clone for Rendered {
    /// A copy starts empty: it renders its own reply when first read.
    fn clone(&self) -> Self {
        Rendered::default()
    }
}

impl std::fmt::Debug for Rendered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Rendered")
    }
}

/// A hash map with the Fx hash (rustc's, from `rustc-hash`).
///
/// The store's maps are keyed by ids and paths a fixture or a client gives;
/// SipHash's protection against chosen collisions buys nothing in a local
/// mock, and its cost shows in every lookup and at every load.
pub(crate) type FastMap<K, V> = rustc_hash::FxHashMap<K, V>;

/// A hash set with the Fx hash; see [`FastMap`].
pub(crate) type FastSet<K> = rustc_hash::FxHashSet<K>;

/// One shared copy of each distinct string: a million fixture ACLs name a
/// few thousand principals and a handful of permission levels; with a copy
/// of each per entry, the ACLs were a fifth of a large fixture's loaded state.
#[derive(Debug, Default)]
pub(crate) struct Interner(FastSet<Arc<str>>);

impl Interner {
    /// The shared copy of `text`, made on first sight.
    pub(crate) fn get(&mut self, text: &str) -> Arc<str> {
        if let Some(shared) = self.0.get(text) {
            return shared.clone();
        }
        let shared: Arc<str> = text.into();
        self.0.insert(shared.clone());
        shared
    }
}

/// A key of a [`Coll`]: ordered, and comparable with its borrowed form.
pub(crate) trait Key: Ord {
    /// The borrowed form used in lookups.
    type Q: ?Sized;
    /// Compares the key with a borrowed key.
    fn cmp_q(&self, q: &Self::Q) -> Ordering;
}

impl Key for i64 {
    type Q = i64;
    fn cmp_q(&self, q: &i64) -> Ordering {
        self.cmp(q)
    }
}

/// A string id, ordered by length first so numeric ids sort numerically and
/// generated ids (longer or larger) append at the end.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Sid(pub(crate) Box<str>);

impl Sid {
    /// The id text.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Sid {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Sid {
    fn from(s: &str) -> Self {
        Sid(s.into())
    }
}

impl Ord for Sid {
    fn cmp(&self, other: &Self) -> Ordering {
        self.cmp_q(other.as_str())
    }
}

impl PartialOrd for Sid {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Key for Sid {
    type Q = str;
    fn cmp_q(&self, q: &str) -> Ordering {
        self.0
            .len()
            .cmp(&q.len())
            .then_with(|| self.0.as_bytes().cmp(q.as_bytes()))
    }
}

/// A collection sorted by key: binary-search lookups, positional pages.
///
/// Keys and values are kept in two parallel vectors: a lookup's binary
/// search walks only the compact key array (8 bytes an entry for numeric
/// ids), so it stays in cache at a million objects instead of striding
/// through the values.
///
/// While a fixture loads, items are appended unsorted (a duplicate check
/// goes through a hash set) and sorted once at the end, so loading a million
/// objects in any order is O(n log n).
#[derive(Debug)]
pub(crate) struct Coll<K, V> {
    keys: Vec<K>,
    values: Vec<V>,
    loading: Option<FastSet<K>>,
}

impl<K, V> Default for Coll<K, V> {
    fn default() -> Self {
        Coll {
            keys: Vec::new(),
            values: Vec::new(),
            loading: None,
        }
    }
}

impl<K, V> Coll<K, V>
where
    K: Key + Hash + Clone + Borrow<K::Q>,
    K::Q: Hash + Eq,
{
    /// Builds from unsorted pairs; a duplicate key is returned as the error.
    #[cfg(test)]
    pub(crate) fn from_unsorted(items: Vec<(K, V)>) -> Result<Self, K> {
        let mut c = Coll {
            keys: Vec::new(),
            values: Vec::new(),
            loading: Some(FastSet::default()),
        };
        for (k, v) in items {
            if c.contains(k.borrow()) {
                return Err(k);
            }
            c.insert(k, v);
        }
        c.end_load();
        Ok(c)
    }

    /// Makes room for `n` more entries.
    pub(crate) fn reserve(&mut self, n: usize) {
        self.keys.reserve(n);
        self.values.reserve(n);
        if let Some(set) = &mut self.loading {
            set.reserve(n);
        }
    }

    /// Switches to loading: inserts append, lookups use a hash set.
    pub(crate) fn begin_load(&mut self) {
        self.loading = Some(self.keys.iter().cloned().collect());
    }

    /// Ends loading: sorts once.
    pub(crate) fn end_load(&mut self) {
        if self.loading.take().is_some() && !self.keys.is_sorted() {
            // Sorts positions, then moves each entry once, in place: sorting
            // (key, value) pairs moved large values again and again, through
            // three new vectors. Keys are unique, so the order is total.
            let mut order: Vec<usize> = (0..self.keys.len()).collect();
            order.sort_unstable_by(|&a, &b| self.keys[a].cmp(&self.keys[b]));
            // Position `j` takes the entry at `order[j]`, a cycle at a time.
            for start in 0..order.len() {
                let mut j = start;
                loop {
                    let from = order[j];
                    order[j] = j;
                    if from == start {
                        break;
                    }
                    self.keys.swap(j, from);
                    self.values.swap(j, from);
                    j = from;
                }
            }
        }
    }

    fn find(&self, q: &K::Q) -> Result<usize, usize> {
        if self.loading.is_some() {
            // Loading: rare lookups (cross-kind checks use `contains`).
            return self
                .keys
                .iter()
                .position(|k| k.cmp_q(q) == Ordering::Equal)
                .ok_or(self.keys.len());
        }
        self.keys.binary_search_by(|k| k.cmp_q(q))
    }

    /// The value under a key.
    pub(crate) fn get(&self, q: &K::Q) -> Option<&V> {
        if self.loading.as_ref().is_some_and(|set| !set.contains(q)) {
            return None;
        }
        self.find(q).ok().map(|i| &self.values[i])
    }

    /// The value under a key, mutably.
    pub(crate) fn get_mut(&mut self, q: &K::Q) -> Option<&mut V> {
        if self.loading.as_ref().is_some_and(|set| !set.contains(q)) {
            return None;
        }
        self.find(q).ok().map(|i| &mut self.values[i])
    }

    /// True when the key is present.
    pub(crate) fn contains(&self, q: &K::Q) -> bool {
        match &self.loading {
            Some(set) => set.contains(q),
            None => self.find(q).is_ok(),
        }
    }

    /// Inserts or replaces; returns the replaced value.
    pub(crate) fn insert(&mut self, key: K, value: V) -> Option<V> {
        if let Some(set) = &mut self.loading {
            if !set.insert(key.clone()) {
                let i = self.keys.iter().position(|k| *k == key)?;
                return Some(std::mem::replace(&mut self.values[i], value));
            }
            self.keys.push(key);
            self.values.push(value);
            return None;
        }
        if self.keys.last().is_none_or(|k| *k < key) {
            self.keys.push(key);
            self.values.push(value);
            return None;
        }
        match self.keys.binary_search(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.values[i], value)),
            Err(i) => {
                self.keys.insert(i, key);
                self.values.insert(i, value);
                None
            }
        }
    }

    /// Removes a key.
    pub(crate) fn remove(&mut self, q: &K::Q) -> Option<V> {
        if let Some(set) = &mut self.loading {
            set.remove(q);
        }
        let i = self.find(q).ok()?;
        self.keys.remove(i);
        Some(self.values.remove(i))
    }

    /// Number of objects.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// The position of the first key not less than `q`.
    pub(crate) fn lower_bound(&self, q: &K::Q) -> usize {
        match self.find(q) {
            Ok(i) | Err(i) => i,
        }
    }

    /// Up to `n` entries from position `start`.
    pub(crate) fn slice(
        &self,
        start: usize,
        n: usize,
    ) -> impl DoubleEndedIterator<Item = (&K, &V)> + ExactSizeIterator + Clone {
        let start = start.min(self.keys.len());
        let end = start.saturating_add(n).min(self.keys.len());
        self.keys[start..end].iter().zip(&self.values[start..end])
    }

    /// The key at a position.
    pub(crate) fn key_at(&self, i: usize) -> Option<&K> {
        self.keys.get(i)
    }

    /// All entries in key order.
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = (&K, &V)> + ExactSizeIterator {
        self.keys.iter().zip(&self.values)
    }
}

/// Encodes a page token: the key of the first object of the next page.
pub(crate) fn encode_token(key: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.as_bytes())
}

/// Decodes a page token made by [`encode_token`].
pub(crate) fn decode_token(token: &str) -> Result<String, StoreError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.as_bytes())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| StoreError::Invalid(format!("Invalid page token: {token}")))
}

/// A usage meter: a level (instances, nodes) integrated over virtual time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Meter {
    level: i64,
    since_ms: i64,
    total_ms: i64,
}

impl Meter {
    /// Changes the level from time `at` on.
    pub(crate) fn set(&mut self, level: i64, at: i64) {
        self.total_ms = self.read(at);
        self.level = level;
        self.since_ms = at;
    }

    /// Level × milliseconds accumulated by `now`.
    pub(crate) fn read(&self, now: i64) -> i64 {
        self.total_ms
            .saturating_add(self.level.saturating_mul((now - self.since_ms).max(0)))
    }

    /// The current level.
    pub(crate) fn level(&self) -> i64 {
        self.level
    }
}

/// Virtual seconds that state changes take; fixtures may override each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Durations {
    /// PENDING → RUNNING of a cluster (also restart).
    pub cluster_start_secs: u64,
    /// TERMINATING → TERMINATED of a cluster.
    pub cluster_terminate_secs: u64,
    /// STARTING → RUNNING of a SQL warehouse.
    pub warehouse_start_secs: u64,
    /// STOPPING → STOPPED of a SQL warehouse.
    pub warehouse_stop_secs: u64,
    /// RUNNING → TERMINATED of a job run.
    pub run_secs: u64,
    /// PENDING → RUNNING of a job run (before any cluster start).
    pub run_pending_secs: u64,
}

impl Default for Durations {
    fn default() -> Self {
        Durations {
            cluster_start_secs: 300,
            cluster_terminate_secs: 60,
            warehouse_start_secs: 120,
            warehouse_stop_secs: 30,
            run_secs: 600,
            run_pending_secs: 30,
        }
    }
}

/// The virtual clock: epoch milliseconds that move only when told, or with
/// the wall clock in real-time mode.
#[derive(Clone, Debug)]
pub(crate) struct Clock {
    base_ms: i64,
    anchor: Option<std::time::Instant>,
}

impl Clock {
    pub(crate) fn new(start_ms: i64) -> Self {
        Clock {
            base_ms: start_ms,
            anchor: None,
        }
    }

    /// The current virtual time.
    pub(crate) fn now_ms(&self) -> i64 {
        let real = self.anchor.map_or(0, |a| {
            i64::try_from(a.elapsed().as_millis()).unwrap_or(i64::MAX / 2)
        });
        self.base_ms.saturating_add(real)
    }

    /// Moves the clock forward.
    pub(crate) fn advance(&mut self, ms: i64) {
        self.base_ms = self.base_ms.saturating_add(ms.max(0));
    }

    /// Switches real-time mode on or off, keeping the current time.
    pub(crate) fn set_real_time(&mut self, on: bool) {
        let now = self.now_ms();
        self.base_ms = now;
        self.anchor = on.then(std::time::Instant::now);
    }

    /// True in real-time mode.
    pub(crate) fn is_real_time(&self) -> bool {
        self.anchor.is_some()
    }
}

/// A timed state change. Each carries the generation of its object at the
/// time it was scheduled; a change of the object since makes it stale.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Event {
    /// A cluster's pending transition is due.
    Cluster { id: Box<str>, generation: u64 },
    /// A cluster's auto-termination check is due.
    ClusterIdle { id: Box<str>, generation: u64 },
    /// A warehouse's pending transition is due.
    Warehouse { id: Box<str>, generation: u64 },
    /// A job run's pending transition is due.
    Run { run_id: i64, generation: u64 },
    /// A job's schedule fires.
    Schedule { job_id: i64, generation: u64 },
}

/// Deterministic ids: counters, and a hash for the random-looking parts.
#[derive(Clone, Debug)]
pub(crate) struct Ids {
    salt: u64,
    counter: u64,
    /// Next SCIM id (users, groups and service principals share one space).
    pub(crate) scim: u64,
    /// Next job id.
    pub(crate) job: i64,
    /// Next run id (runs and task runs).
    pub(crate) run: i64,
    /// Next workspace object id (repos share it, as they are workspace objects).
    pub(crate) object: i64,
}

impl Ids {
    fn new(salt: u64) -> Self {
        Ids {
            salt,
            counter: 0,
            scim: 1_000_000_000_000_001,
            job: 1001,
            run: 10_001,
            object: 100_001,
        }
    }

    /// The next pseudo-random 64 bits (splitmix64 of salt and counter).
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.counter += 1;
        splitmix64(self.salt ^ self.counter.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    /// A fresh SCIM id.
    pub(crate) fn scim_id(&mut self) -> String {
        let id = self.scim;
        self.scim = self.scim.saturating_add(1);
        id.to_string()
    }

    /// A fresh job id.
    pub(crate) fn job_id(&mut self) -> i64 {
        let id = self.job;
        self.job = self.job.saturating_add(1);
        id
    }

    /// A fresh run id.
    pub(crate) fn run_id(&mut self) -> i64 {
        let id = self.run;
        self.run = self.run.saturating_add(1);
        id
    }

    /// A fresh workspace object id.
    pub(crate) fn object_id(&mut self) -> i64 {
        let id = self.object;
        self.object = self.object.saturating_add(1);
        id
    }

    /// `n` lowercase base-36 characters.
    pub(crate) fn base36(&mut self, n: usize) -> String {
        let mut x = self.next_u64();
        (0..n)
            .map(|_| {
                let d = (x % 36) as u8;
                x /= 36;
                if x == 0 {
                    x = splitmix64(d as u64 ^ self.salt);
                }
                char::from(if d < 10 { b'0' + d } else { b'a' + d - 10 })
            })
            .collect()
    }

    /// 16 hex digits, upper or lower case.
    pub(crate) fn hex16(&mut self, upper: bool) -> String {
        let x = self.next_u64();
        if upper {
            format!("{x:016X}")
        } else {
            format!("{x:016x}")
        }
    }

    /// A version-4 style UUID.
    pub(crate) fn uuid(&mut self) -> String {
        let a = self.next_u64();
        let b = self.next_u64();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | (b >> 48) & 0x3fff,
            b & 0xffff_ffff_ffff
        )
    }

    /// An id shaped like the service's cluster ids: `MMDD-HHMMSS-xxxxxxxx`.
    pub(crate) fn cluster_id(&mut self, now_ms: i64) -> String {
        let (stamp, rand) = (time_stamp(now_ms), self.base36(8));
        format!("{stamp}-{rand}")
    }

    /// An id shaped like the service's pool ids: `MMDD-HHMMSS-word-pool-xxxxxxxx`.
    pub(crate) fn pool_id(&mut self, now_ms: i64) -> String {
        let words = ["brick", "cask", "plume", "slate", "moss", "ember"];
        let word = words[(self.next_u64() % words.len() as u64) as usize];
        let n = self.next_u64() % 100;
        let (stamp, rand) = (time_stamp(now_ms), self.base36(8));
        format!("{stamp}-{word}{n}-pool-{rand}")
    }
}

/// `MMDD-HHMMSS` of an epoch-ms time (UTC).
fn time_stamp(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (_, month, day) = super::schedule::civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    format!(
        "{month:02}{day:02}-{:02}{:02}{:02}",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

/// splitmix64: a fast, well-mixed 64-bit hash step.
pub(crate) fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a over bytes, for salts and fault keys.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// One workspace: every collection and the machinery around them.
#[derive(Debug)]
pub(crate) struct Workspace {
    /// Label from the fixture.
    pub(crate) name: String,
    /// Numeric workspace id, as a string.
    pub(crate) workspace_id: String,
    /// How long state changes take.
    pub(crate) durations: Durations,
    pub(crate) clock: Clock,
    /// Timed state changes by (time, sequence).
    events: BTreeMap<(i64, u64), Event>,
    event_seq: u64,
    pub(crate) ids: Ids,
    pub(crate) users: ScimStore,
    pub(crate) groups: ScimStore,
    pub(crate) service_principals: ScimStore,
    pub(crate) jobs: JobStore,
    pub(crate) runs: RunStore,
    pub(crate) clusters: ClusterStore,
    pub(crate) pools: PoolStore,
    pub(crate) policies: PolicyStore,
    pub(crate) scripts: ScriptStore,
    pub(crate) objects: WsStore,
    pub(crate) repos: RepoStore,
    pub(crate) secrets: SecretStore,
    pub(crate) permissions: PermStore,
    pub(crate) uc: UcStore,
    pub(crate) warehouses: WarehouseStore,
    pub(crate) ip_lists: IpListStore,
    pub(crate) conf: ConfStore,
}

impl Workspace {
    /// An empty workspace.
    pub(crate) fn new(
        name: String,
        workspace_id: String,
        start_ms: i64,
        durations: Durations,
    ) -> Self {
        let salt = fnv1a(workspace_id.as_bytes());
        Workspace {
            name,
            workspace_id,
            durations,
            clock: Clock::new(start_ms),
            events: BTreeMap::new(),
            event_seq: 0,
            ids: Ids::new(salt),
            users: ScimStore::default(),
            groups: ScimStore::default(),
            service_principals: ScimStore::default(),
            jobs: JobStore::default(),
            runs: RunStore::default(),
            clusters: ClusterStore::default(),
            pools: PoolStore::default(),
            policies: PolicyStore::default(),
            scripts: ScriptStore::default(),
            objects: WsStore::default(),
            repos: RepoStore::default(),
            secrets: SecretStore::default(),
            permissions: PermStore::default(),
            uc: UcStore::default(),
            warehouses: WarehouseStore::default(),
            ip_lists: IpListStore::default(),
            conf: ConfStore::default(),
        }
    }

    /// The current virtual time.
    pub(crate) fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Puts every collection into loading mode (see [`Coll`]).
    pub(crate) fn begin_load(&mut self) {
        self.users.items.begin_load();
        self.groups.items.begin_load();
        self.service_principals.items.begin_load();
        self.jobs.items.begin_load();
        self.runs.begin_load();
        self.clusters.items.begin_load();
        self.pools.items.begin_load();
        self.policies.items.begin_load();
        self.scripts.begin_load();
        self.repos.items.begin_load();
        self.warehouses.items.begin_load();
        self.ip_lists.begin_load();
    }

    /// Ends loading mode: every collection is sorted once.
    pub(crate) fn end_load(&mut self) {
        self.users.items.end_load();
        self.groups.items.end_load();
        self.service_principals.items.end_load();
        self.jobs.items.end_load();
        self.runs.end_load();
        self.clusters.items.end_load();
        self.pools.items.end_load();
        self.policies.items.end_load();
        self.scripts.end_load();
        self.repos.items.end_load();
        self.warehouses.items.end_load();
        self.ip_lists.end_load();
    }

    /// Schedules a state change `after_ms` after `at`.
    pub(crate) fn schedule(&mut self, at: i64, after_ms: i64, event: Event) {
        self.event_seq += 1;
        self.events
            .insert((at.saturating_add(after_ms.max(0)), self.event_seq), event);
    }

    /// Number of state changes still to come.
    pub(crate) fn pending_events(&self) -> usize {
        self.events.len()
    }

    /// Time of the next state change, if any.
    pub(crate) fn next_event_at(&self) -> Option<i64> {
        self.events.keys().next().map(|k| k.0)
    }

    /// Applies every state change due by now, in time order, each at its own time.
    pub(crate) fn settle(&mut self) {
        let now = self.now();
        // A bound on work per call, so a schedule firing every second over a
        // year of advanced time cannot hang the server.
        for _ in 0..1_000_000 {
            let Some(entry) = self.events.first_entry() else {
                return;
            };
            let at = entry.key().0;
            if at > now {
                return;
            }
            let event = entry.remove();
            self.apply(at, event);
        }
    }

    fn apply(&mut self, at: i64, event: Event) {
        match event {
            Event::Cluster { id, generation } => self.cluster_due(&id, generation, at),
            Event::ClusterIdle { id, generation } => self.cluster_idle_due(&id, generation, at),
            Event::Warehouse { id, generation } => self.warehouse_due(&id, generation, at),
            Event::Run { run_id, generation } => self.run_due(run_id, generation, at),
            Event::Schedule { job_id, generation } => self.schedule_due(job_id, generation, at),
        }
    }

    /// Advances the virtual clock and applies what became due.
    pub(crate) fn advance(&mut self, ms: i64) {
        self.clock.advance(ms);
        self.settle();
    }

    /// The user the bearer token belongs to (`/Me`, creators of new objects):
    /// the first member of `admins`, else the first user.
    pub(crate) fn caller(&self) -> String {
        self.me_user_name()
            .unwrap_or_else(|| "admin@mock.local".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_keeps_whitespace_inside_strings() {
        assert_eq!(
            compact_json("{ \"a b\" : [ 1, \"x \\\" y\" ]\n}"),
            r#"{"a b":[1,"x \" y"]}"#
        );
        assert_eq!(compact_json(r#"{"a":1}"#), r#"{"a":1}"#);
    }

    #[test]
    fn objects_split_without_values() {
        let fields =
            split_object(r#"{ "b": [1, 2], "a\"x": {"c": null}, "content": "abc" }"#).unwrap();
        let keys: Vec<&str> = fields.iter().map(|(k, _)| k.as_ref()).collect();
        assert_eq!(keys, ["b", "a\"x", "content"]);
        assert_eq!(fields[1].1.get(), r#"{"c": null}"#);
        assert!(split_object("[1]").is_err());
    }

    #[test]
    fn json_strings_are_escaped_as_serde_json_does() {
        for text in [
            "plain",
            "a\"b",
            "back\\slash",
            "tab\tnew\nline",
            "\u{1}",
            "é/ü\u{7f}",
            "",
        ] {
            let mut out = String::new();
            push_json_str(&mut out, text);
            assert_eq!(out, Value::from(text).to_string(), "{text:?}");
        }
    }

    #[test]
    fn rendered_replies_are_kept_per_stamp_until_cleared() {
        let mut r = Rendered::default();
        let calls = std::cell::Cell::new(0);
        let render = |text: &str| {
            calls.set(calls.get() + 1);
            text.to_owned()
        };
        assert_eq!(r.get(1, || render("a")), "a");
        assert_eq!(r.get(1, || render("b")), "a");
        assert_eq!(calls.get(), 1);
        assert_eq!(r.get(2, || render("c")), "c");
        r.clear();
        assert_eq!(r.get(2, || render("d")), "d");
        assert_eq!(calls.get(), 3);
        assert_eq!(r.clone().get(2, || render("e")), "e");
    }

    #[test]
    fn sids_order_numerically_then_lexically() {
        let mut ids = [
            Sid::from("10"),
            Sid::from("9"),
            Sid::from("abc"),
            Sid::from("ab"),
        ];
        ids.sort();
        let order: Vec<&str> = ids.iter().map(Sid::as_str).collect();
        assert_eq!(order, ["9", "10", "ab", "abc"]);
    }

    #[test]
    fn coll_looks_up_pages_and_detects_duplicates() {
        let mut c = Coll::from_unsorted(vec![(3i64, "c"), (1, "a"), (2, "b")]).unwrap();
        assert_eq!(c.get(&2), Some(&"b"));
        assert_eq!(c.slice(1, 5).map(|e| *e.0).collect::<Vec<_>>(), [2, 3]);
        assert_eq!(c.key_at(2), Some(&3));
        assert_eq!(c.lower_bound(&3), 2);
        c.insert(0, "z");
        assert_eq!(c.iter().next().map(|e| *e.0), Some(0));
        assert_eq!(c.remove(&1), Some("a"));
        assert_eq!(c.len(), 3);
        assert!(Coll::from_unsorted(vec![(1i64, 1), (1, 2)]).is_err());
    }

    /// JSON values with strings that hold spaces, quotes, escapes and
    /// control characters, nested a few levels.
    fn json_values() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let text = "[ a\"\\\\\u{1}\n\té{}:,0-9]{0,12}";
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            text.prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                proptest::collection::btree_map(text, inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// Compacting pretty-printed JSON gives the compact print.
        #[test]
        fn compacting_pretty_json_gives_the_compact_print(value in json_values()) {
            let pretty = serde_json::to_string_pretty(&value).unwrap();
            proptest::prop_assert_eq!(compact_json(&pretty), value.to_string());
        }
    }

    proptest::proptest! {
        /// Loading in any order sorts the entries, each value beside its key.
        #[test]
        fn coll_sorts_what_it_loads(keys in proptest::collection::hash_set(proptest::prelude::any::<i64>(), 0..200)) {
            let items: Vec<(i64, String)> = keys.iter().map(|k| (*k, format!("v{k}"))).collect();
            let c = Coll::from_unsorted(items).unwrap();
            let mut sorted: Vec<i64> = keys.into_iter().collect();
            sorted.sort_unstable();
            let got: Vec<(i64, String)> = c.iter().map(|(k, v)| (*k, v.clone())).collect();
            let want: Vec<(i64, String)> = sorted.iter().map(|k| (*k, format!("v{k}"))).collect();
            proptest::prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn tokens_round_trip_and_garbage_is_rejected() {
        assert_eq!(
            decode_token(&encode_token("main.sales")).unwrap(),
            "main.sales"
        );
        assert!(decode_token("%%%").is_err());
    }

    #[test]
    fn ids_are_deterministic_and_well_shaped() {
        let mut a = Ids::new(7);
        let mut b = Ids::new(7);
        assert_eq!(a.uuid(), b.uuid());
        let u = a.uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        let c = a.cluster_id(1_764_000_000_000);
        assert!(c.starts_with("1124-160000-"), "{c}");
        assert_eq!(c.len(), 20);
    }

    #[test]
    fn clock_moves_only_when_told() {
        let mut c = Clock::new(1000);
        assert_eq!(c.now_ms(), 1000);
        c.advance(500);
        c.advance(-5);
        assert_eq!(c.now_ms(), 1500);
        assert!(!c.is_real_time());
    }
}
