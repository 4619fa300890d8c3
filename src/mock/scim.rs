//! What users, groups and service principals share: the SCIM store, list
//! pagination (`startIndex`/`count`, with the empty page past the end that
//! the Python SDK waits for), filters, attribute projection, PATCH
//! operations and the SCIM error shape.

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::routing::get;
use bytes::Bytes;
use serde_json::{Map, Value};

use super::error::{ApiError, StoreError};
use super::http::{Out, Query, Reply, body_object, json, json_status, no_content};
use super::state::MockState;
use super::store::{Coll, Doc, FastMap, Sid, Workspace};

/// Most resources one SCIM page returns (the SDKs ask for 10,000).
pub(crate) const MAX_COUNT: usize = 10_000;

/// Which SCIM resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ScimKind {
    Users,
    Groups,
    ServicePrincipals,
}

impl ScimKind {
    /// The attribute that is the natural key.
    pub(crate) fn key_attr(self) -> &'static str {
        match self {
            ScimKind::Users => "userName",
            ScimKind::Groups => "displayName",
            ScimKind::ServicePrincipals => "applicationId",
        }
    }

    /// Singular name used in messages.
    pub(crate) fn noun(self) -> &'static str {
        match self {
            ScimKind::Users => "User",
            ScimKind::Groups => "Group",
            ScimKind::ServicePrincipals => "ServicePrincipal",
        }
    }

    /// The path segment and `$ref` prefix (`Users`, `Groups`, `ServicePrincipals`).
    pub(crate) fn segment(self) -> &'static str {
        match self {
            ScimKind::Users => "Users",
            ScimKind::Groups => "Groups",
            ScimKind::ServicePrincipals => "ServicePrincipals",
        }
    }

    /// The core schema URN.
    pub(crate) fn schema(self) -> &'static str {
        match self {
            ScimKind::Users => "urn:ietf:params:scim:schemas:core:2.0:User",
            ScimKind::Groups => "urn:ietf:params:scim:schemas:core:2.0:Group",
            ScimKind::ServicePrincipals => "urn:ietf:params:scim:schemas:core:2.0:ServicePrincipal",
        }
    }

    /// The kind's store.
    pub(crate) fn store(self, ws: &Workspace) -> &ScimStore {
        match self {
            ScimKind::Users => &ws.users,
            ScimKind::Groups => &ws.groups,
            ScimKind::ServicePrincipals => &ws.service_principals,
        }
    }

    /// The kind's store, mutably.
    pub(crate) fn store_mut(self, ws: &mut Workspace) -> &mut ScimStore {
        match self {
            ScimKind::Users => &mut ws.users,
            ScimKind::Groups => &mut ws.groups,
            ScimKind::ServicePrincipals => &mut ws.service_principals,
        }
    }
}

/// One resource: its document and the names other kinds look it up by.
#[derive(Debug)]
pub(crate) struct ScimEntry {
    pub(crate) doc: Doc,
    /// The natural key as stored.
    pub(crate) key: Box<str>,
    /// `displayName` (users and service principals show it in ACLs).
    pub(crate) display: Box<str>,
}

/// The resources of one SCIM kind, by id and by natural key.
#[derive(Debug, Default)]
pub(crate) struct ScimStore {
    pub(crate) items: Coll<Sid, ScimEntry>,
    /// Lower-cased natural key → id (SCIM matches names case-insensitively).
    by_key: FastMap<Box<str>, Sid>,
    /// Entries put or removed so far: replies that show keys or display
    /// names of this kind (ACLs) are stale when it moved.
    changes: u64,
}

impl ScimStore {
    /// Makes room for `n` more entries.
    pub(crate) fn reserve(&mut self, n: usize) {
        self.items.reserve(n);
        self.by_key.reserve(n);
    }

    /// The id of the resource with this natural key.
    pub(crate) fn id_of(&self, key: &str) -> Option<&str> {
        self.by_key
            .get(key.to_lowercase().as_str())
            .map(Sid::as_str)
    }

    /// The entry with this id.
    pub(crate) fn get(&self, id: &str) -> Option<&ScimEntry> {
        self.items.get(id)
    }

    /// The entry with this natural key.
    pub(crate) fn by_key(&self, key: &str) -> Option<&ScimEntry> {
        self.id_of(key).and_then(|id| self.items.get(id))
    }

    /// How many entries were put or removed so far.
    pub(crate) fn changes(&self) -> u64 {
        self.changes
    }

    /// Adds or replaces an entry (the caller checked the key is free).
    pub(crate) fn put(&mut self, id: &str, entry: ScimEntry) {
        self.changes += 1;
        if let Some(old) = self
            .items
            .contains(id)
            .then(|| self.items.get(id))
            .flatten()
        {
            self.by_key.remove(old.key.to_lowercase().as_str());
        }
        self.by_key
            .insert(entry.key.to_lowercase().into(), Sid::from(id));
        self.items.insert(Sid::from(id), entry);
    }

    /// Removes an entry.
    pub(crate) fn remove(&mut self, id: &str) -> Option<ScimEntry> {
        let entry = self.items.remove(id)?;
        self.changes += 1;
        self.by_key.remove(entry.key.to_lowercase().as_str());
        Some(entry)
    }

    /// Every document, for dumps.
    pub(crate) fn dump(&self) -> Vec<String> {
        self.items
            .iter()
            .map(|(_, e)| e.doc.as_str().to_owned())
            .collect()
    }
}

/// The fields a loader needs from a SCIM item.
#[derive(serde::Deserialize)]
struct Keys {
    id: Option<String>,
    #[serde(rename = "userName")]
    user_name: Option<String>,
    #[serde(rename = "displayName")]
    display_name: Option<String>,
    #[serde(rename = "applicationId")]
    application_id: Option<String>,
}

impl Workspace {
    /// Adds one fixture item of a SCIM kind.
    pub(crate) fn load_scim(
        &mut self,
        kind: ScimKind,
        raw: &str,
    ) -> Result<(), super::fixture::LoadError> {
        let keys: Keys = serde_json::from_str(raw)?;
        let key = match kind {
            ScimKind::Users => keys.user_name.clone(),
            ScimKind::Groups => keys.display_name.clone(),
            ScimKind::ServicePrincipals => keys.application_id.clone(),
        }
        .filter(|k| !k.is_empty())
        .ok_or_else(|| format!("missing `{}`", kind.key_attr()))?;
        let mut doc = Doc::compact(raw);
        let id = match keys.id.filter(|i| !i.is_empty()) {
            Some(id) => id,
            None => {
                let id = self.ids.scim_id();
                doc.edit(|m| {
                    m.insert("id".into(), Value::from(id.clone()));
                });
                id
            }
        };
        if self.scim_kind_of(&id).is_some() {
            return Err(format!("duplicate SCIM id `{id}`").into());
        }
        let store = kind.store(self);
        if store.id_of(&key).is_some() {
            return Err(format!("duplicate {} `{key}`", kind.key_attr()).into());
        }
        if let Ok(n) = id.parse::<u64>() {
            self.ids.scim = self.ids.scim.max(n.saturating_add(1));
        }
        let display = keys.display_name.unwrap_or_else(|| key.clone());
        kind.store_mut(self).put(
            &id,
            ScimEntry {
                doc,
                key: key.into(),
                display: display.into(),
            },
        );
        Ok(())
    }

    /// Which SCIM kind an id belongs to (ids are unique across the three).
    pub(crate) fn scim_kind_of(&self, id: &str) -> Option<ScimKind> {
        [
            ScimKind::Users,
            ScimKind::ServicePrincipals,
            ScimKind::Groups,
        ]
        .into_iter()
        .find(|k| k.store(self).items.contains(id))
    }

    /// The caller's user name: the first user in `admins`, else the first user.
    pub(crate) fn me_user_name(&self) -> Option<String> {
        let from_admins = self.groups.by_key("admins").and_then(|g| {
            let doc = g.doc.to_map();
            let members = doc
                .get("members")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            members.iter().find_map(|m| {
                let id = m.get("value").and_then(Value::as_str)?;
                self.users.get(id).map(|u| u.key.to_string())
            })
        });
        from_admins.or_else(|| {
            self.users
                .items
                .iter()
                .next()
                .map(|(_, u)| u.key.to_string())
        })
    }
}

/// How many cache lines of each document a SCIM page asks for ahead.
const DOC_PREFETCH_LINES: usize = 16;
/// The SCIM list answer: `startIndex` (1-based) and `count` paging, an
/// empty `Resources` past the end, `startIndex` echoed.
pub(crate) fn list(ws: &Workspace, kind: ScimKind, q: &Query) -> Reply {
    let scim = |e: ApiError| e.into_scim();
    let start = q.i64("startIndex").map_err(scim)?.unwrap_or(1).max(1) as usize;
    let count = q
        .i64("count")
        .map_err(scim)?
        .map_or(MAX_COUNT, |c| c.clamp(0, MAX_COUNT as i64) as usize);
    let store = kind.store(ws);
    let filter = q.get("filter").filter(|f| !f.trim().is_empty());
    let projection = Projection::of(q);
    let sort = q.get("sortBy").filter(|s| !s.is_empty());

    let mut out = Out::object();
    out.array(
        "schemas",
        [r#""urn:ietf:params:scim:api:messages:2.0:ListResponse""#],
    );
    if filter.is_none() && sort.is_none() && projection.is_none() {
        // The fast path: a positional slice of stored text, copied once
        // into a buffer of the page's size.
        let page = store.items.slice(start - 1, count);
        // Asks for every document's first bytes while summing their sizes:
        // in a large workspace they are far apart in memory, and the copy
        // below would otherwise wait on each in turn. A typical user is
        // 7 lines; the cap keeps a huge document (a user in thousands of
        // groups) from flooding the queue, and the copy streams the rest.
        let size: usize = page
            .clone()
            .map(|(_, e)| {
                let doc = e.doc.as_str();
                crate::prefetch::bytes(doc.as_bytes(), DOC_PREFETCH_LINES);
                doc.len() + 1
            })
            .sum();
        out.reserve(size + 128);
        out.value("totalResults", &Value::from(store.items.len()))
            .value("startIndex", &Value::from(start))
            .value("itemsPerPage", &Value::from(page.len()))
            .array("Resources", page.map(|(_, e)| e.doc.as_str()));
        return Ok(json_status(StatusCode::OK, out.finish()));
    }

    let matches: Vec<&ScimEntry> = match filter {
        None => store.items.iter().map(|(_, e)| e).collect(),
        Some(text) => {
            let filter = Filter::parse(text).map_err(|m| ApiError::invalid(m).into_scim())?;
            match filter.exact_lookup(kind) {
                Some((true, v)) => store.items.get(v.as_str()).into_iter().collect(),
                Some((false, v)) => store.by_key(&v).into_iter().collect(),
                None => store
                    .items
                    .iter()
                    .map(|(_, e)| e)
                    .filter(|e| filter.matches(&Value::Object(e.doc.to_map())))
                    .collect(),
            }
        }
    };
    let mut docs: Vec<Value> = Vec::new();
    let mut raw: Vec<&str> = Vec::new();
    let needs_values = sort.is_some() || projection.is_some();
    if needs_values {
        docs = matches
            .iter()
            .map(|e| Value::Object(e.doc.to_map()))
            .collect();
        if let Some(attr) = sort {
            let descending = q
                .get("sortOrder")
                .is_some_and(|o| o.eq_ignore_ascii_case("descending"));
            docs.sort_by(|a, b| {
                let ka = sort_key(a, attr);
                let kb = sort_key(b, attr);
                if descending { kb.cmp(&ka) } else { ka.cmp(&kb) }
            });
        }
    } else {
        raw = matches.iter().map(|e| e.doc.as_str()).collect();
    }
    let total = matches.len();
    let begin = (start - 1).min(total);
    let end = begin.saturating_add(count).min(total);
    out.value("totalResults", &Value::from(total))
        .value("startIndex", &Value::from(start))
        .value("itemsPerPage", &Value::from(end - begin));
    if needs_values {
        let page: Vec<String> = docs[begin..end]
            .iter()
            .map(|d| match &projection {
                Some(p) => p.apply(d).to_string(),
                None => d.to_string(),
            })
            .collect();
        out.array("Resources", page.iter().map(String::as_str));
    } else {
        out.array("Resources", raw[begin..end].iter().copied());
    }
    Ok(json_status(StatusCode::OK, out.finish()))
}

fn sort_key(v: &Value, attr: &str) -> String {
    lookup(v, attr)
        .into_iter()
        .next()
        .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_lowercase))
        .unwrap_or_default()
}

/// `attributes` / `excludedAttributes` of a list or get.
#[derive(Debug)]
pub(crate) enum Projection {
    Only(Vec<String>),
    Except(Vec<String>),
}

impl Projection {
    /// The projection a query asks for, if any.
    pub(crate) fn of(q: &Query) -> Option<Projection> {
        let names = |s: &str| -> Vec<String> {
            s.split(',')
                .map(|a| a.trim().split('.').next().unwrap_or("").to_lowercase())
                .filter(|a| !a.is_empty())
                .collect()
        };
        if let Some(a) = q.get("attributes").filter(|a| !a.trim().is_empty()) {
            return Some(Projection::Only(names(a)));
        }
        q.get("excludedAttributes")
            .filter(|a| !a.trim().is_empty())
            .map(|a| Projection::Except(names(a)))
    }

    /// The projected resource; `id` and `schemas` always stay.
    pub(crate) fn apply(&self, v: &Value) -> Value {
        let Value::Object(map) = v else {
            return v.clone();
        };
        let keep = |k: &str| {
            let lk = k.to_lowercase();
            lk == "id"
                || lk == "schemas"
                || match self {
                    Projection::Only(names) => names.contains(&lk),
                    Projection::Except(names) => !names.contains(&lk),
                }
        };
        Value::Object(
            map.iter()
                .filter(|(k, _)| keep(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )
    }
}

/// The values at a dotted attribute path, case-insensitively, through arrays.
fn lookup<'a>(v: &'a Value, path: &str) -> Vec<&'a Value> {
    let mut current = vec![v];
    for segment in path.split('.') {
        let mut next = Vec::new();
        for c in current {
            let items: Vec<&Value> = match c {
                Value::Array(a) => a.iter().collect(),
                other => vec![other],
            };
            for item in items {
                if let Value::Object(m) = item {
                    if let Some((_, found)) =
                        m.iter().find(|(k, _)| k.eq_ignore_ascii_case(segment))
                    {
                        match found {
                            Value::Array(a) => next.extend(a.iter()),
                            other => next.push(other),
                        }
                    }
                }
            }
        }
        current = next;
    }
    current
}

/// A SCIM filter: comparisons joined by `and`/`or`, with `not (…)` and parentheses.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Filter {
    Cmp {
        attr: String,
        op: String,
        value: Value,
    },
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Open,
    Close,
}

fn tokenize(text: &str) -> Result<Vec<Tok>, String> {
    let mut toks = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                toks.push(Tok::Open);
            }
            ')' => {
                chars.next();
                toks.push(Tok::Close);
            }
            '"' => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None => {
                            return Err(format!("Invalid filter: unterminated string in `{text}`"));
                        }
                        Some('\\') => s.extend(chars.next()),
                        Some('"') => break,
                        Some(c) => s.push(c),
                    }
                }
                toks.push(Tok::Str(s));
            }
            _ => {
                let mut w = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || c == '(' || c == ')' || c == '"' {
                        break;
                    }
                    w.push(c);
                    chars.next();
                }
                toks.push(Tok::Word(w));
            }
        }
    }
    Ok(toks)
}

impl Filter {
    /// Parses a filter; the error is the message for a 400.
    pub(crate) fn parse(text: &str) -> Result<Filter, String> {
        let toks = tokenize(text)?;
        let mut pos = 0;
        let f = parse_or(&toks, &mut pos, text)?;
        if pos != toks.len() {
            return Err(format!("Invalid filter: unexpected input in `{text}`"));
        }
        Ok(f)
    }

    /// `id eq "x"` → (true, x); `<natural key> eq "x"` → (false, x): answered from the indexes.
    fn exact_lookup(&self, kind: ScimKind) -> Option<(bool, String)> {
        match self {
            Filter::Cmp {
                attr,
                op,
                value: Value::String(v),
            } if op == "eq" => {
                if attr.eq_ignore_ascii_case("id") {
                    Some((true, v.clone()))
                } else if attr.eq_ignore_ascii_case(kind.key_attr()) {
                    Some((false, v.clone()))
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    /// True when the resource matches.
    pub(crate) fn matches(&self, v: &Value) -> bool {
        match self {
            Filter::And(a, b) => a.matches(v) && b.matches(v),
            Filter::Or(a, b) => a.matches(v) || b.matches(v),
            Filter::Not(a) => !a.matches(v),
            Filter::Cmp { attr, op, value } => {
                let found = lookup(v, attr);
                if op == "pr" {
                    return found.iter().any(|f| !f.is_null());
                }
                if op == "ne" {
                    return !found.iter().any(|f| compare(f, "eq", value));
                }
                found.iter().any(|f| compare(f, op, value))
            }
        }
    }
}

fn compare(found: &Value, op: &str, want: &Value) -> bool {
    match (found, want) {
        (Value::String(f), Value::String(w)) => {
            let (f, w) = (f.to_lowercase(), w.to_lowercase());
            match op {
                "eq" => f == w,
                "co" => f.contains(&w),
                "sw" => f.starts_with(&w),
                "ew" => f.ends_with(&w),
                "gt" => f > w,
                "ge" => f >= w,
                "lt" => f < w,
                "le" => f <= w,
                _ => false,
            }
        }
        // `active eq true` may meet a stored "true".
        (Value::String(f), Value::Bool(w)) => op == "eq" && f.eq_ignore_ascii_case(&w.to_string()),
        (f, w) => op == "eq" && f == w,
    }
}

fn parse_or(toks: &[Tok], pos: &mut usize, text: &str) -> Result<Filter, String> {
    let mut left = parse_and(toks, pos, text)?;
    while matches!(toks.get(*pos), Some(Tok::Word(w)) if w.eq_ignore_ascii_case("or")) {
        *pos += 1;
        left = Filter::Or(Box::new(left), Box::new(parse_and(toks, pos, text)?));
    }
    Ok(left)
}

fn parse_and(toks: &[Tok], pos: &mut usize, text: &str) -> Result<Filter, String> {
    let mut left = parse_term(toks, pos, text)?;
    while matches!(toks.get(*pos), Some(Tok::Word(w)) if w.eq_ignore_ascii_case("and")) {
        *pos += 1;
        left = Filter::And(Box::new(left), Box::new(parse_term(toks, pos, text)?));
    }
    Ok(left)
}

fn parse_term(toks: &[Tok], pos: &mut usize, text: &str) -> Result<Filter, String> {
    let bad = || format!("Invalid filter: `{text}`");
    match toks.get(*pos) {
        Some(Tok::Open) => {
            *pos += 1;
            let f = parse_or(toks, pos, text)?;
            if toks.get(*pos) != Some(&Tok::Close) {
                return Err(bad());
            }
            *pos += 1;
            Ok(f)
        }
        Some(Tok::Word(w)) if w.eq_ignore_ascii_case("not") => {
            *pos += 1;
            Ok(Filter::Not(Box::new(parse_term(toks, pos, text)?)))
        }
        Some(Tok::Word(attr)) => {
            let attr = attr.clone();
            *pos += 1;
            let op = match toks.get(*pos) {
                Some(Tok::Word(op)) => op.to_lowercase(),
                _ => return Err(bad()),
            };
            if !["eq", "ne", "co", "sw", "ew", "pr", "gt", "ge", "lt", "le"].contains(&op.as_str())
            {
                return Err(bad());
            }
            *pos += 1;
            if op == "pr" {
                return Ok(Filter::Cmp {
                    attr,
                    op,
                    value: Value::Null,
                });
            }
            let value = match toks.get(*pos) {
                Some(Tok::Str(s)) => Value::from(s.clone()),
                Some(Tok::Word(w)) => match w.as_str() {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    "null" => Value::Null,
                    n => n
                        .parse::<f64>()
                        .ok()
                        .and_then(serde_json::Number::from_f64)
                        .map(Value::Number)
                        .ok_or_else(bad)?,
                },
                _ => return Err(bad()),
            };
            *pos += 1;
            Ok(Filter::Cmp { attr, op, value })
        }
        _ => Err(bad()),
    }
}

/// The body of a PATCH request.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct PatchRequest {
    #[serde(rename = "Operations", alias = "operations", default)]
    pub(crate) operations: Vec<PatchOp>,
}

/// One PATCH operation.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct PatchOp {
    pub(crate) op: String,
    #[serde(default)]
    pub(crate) path: Option<String>,
    #[serde(default)]
    pub(crate) value: Option<Value>,
}

/// Attributes the server owns; requests cannot set them.
const READ_ONLY: [&str; 3] = ["id", "meta", "schemas"];

/// The stored key that matches an attribute name case-insensitively, or the name itself.
fn key_for(map: &Map<String, Value>, attr: &str) -> String {
    map.keys()
        .find(|k| k.eq_ignore_ascii_case(attr))
        .cloned()
        .unwrap_or_else(|| attr.to_owned())
}

/// Coerces tf's `[{"value": "false"}]` for single-valued booleans.
fn coerce_single(attr: &str, value: Value) -> Value {
    if !attr.eq_ignore_ascii_case("active") {
        return value;
    }
    let inner = match &value {
        Value::Array(a) if a.len() == 1 => a[0].get("value").cloned().unwrap_or(Value::Null),
        _ => value.clone(),
    };
    match inner {
        Value::String(s) if s.eq_ignore_ascii_case("true") => Value::Bool(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Value::Bool(false),
        other => other,
    }
}

/// Multi-valued attributes (arrays of `{value, …}`).
fn is_multi(attr: &str) -> bool {
    ["members", "groups", "entitlements", "roles", "emails"]
        .iter()
        .any(|a| a.eq_ignore_ascii_case(attr))
}

/// Applies PATCH operations to a resource map. Membership side effects are
/// the caller's: it compares `members` before and after.
pub(crate) fn apply_patch(map: &mut Map<String, Value>, ops: &[PatchOp]) -> Result<(), StoreError> {
    for op in ops {
        let kind = op.op.to_lowercase();
        match (kind.as_str(), op.path.as_deref()) {
            ("add" | "replace", None) => {
                let Some(Value::Object(values)) = &op.value else {
                    return Err(StoreError::Invalid(
                        "PATCH without `path` needs an object `value`".into(),
                    ));
                };
                for (attr, v) in values {
                    if READ_ONLY.iter().any(|r| r.eq_ignore_ascii_case(attr)) {
                        continue;
                    }
                    set_attr(map, attr, v.clone(), kind == "add")?;
                }
            }
            ("add" | "replace", Some(path)) => {
                let value = op
                    .value
                    .clone()
                    .ok_or_else(|| StoreError::Invalid(format!("missing `value` for `{path}`")))?;
                if READ_ONLY.iter().any(|r| r.eq_ignore_ascii_case(path)) {
                    return Err(StoreError::Invalid(format!(
                        "attribute `{path}` is read-only"
                    )));
                }
                if path.contains('[') {
                    return Err(StoreError::Invalid(format!(
                        "unsupported PATCH path `{path}`"
                    )));
                }
                set_attr(map, path, value, kind == "add")?;
            }
            ("remove", Some(path)) => remove_attr(map, path)?,
            ("remove", None) => return Err(StoreError::Invalid("`remove` needs a `path`".into())),
            (other, _) => {
                return Err(StoreError::Invalid(format!(
                    "unsupported PATCH op `{other}`"
                )));
            }
        }
    }
    Ok(())
}

fn set_attr(
    map: &mut Map<String, Value>,
    attr: &str,
    value: Value,
    add: bool,
) -> Result<(), StoreError> {
    if let Some((parent, child)) = attr.split_once('.') {
        // `name.givenName`
        let key = key_for(map, parent);
        let entry = map.entry(key).or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(inner) = entry {
            inner.insert(child.to_owned(), value);
            return Ok(());
        }
        return Err(StoreError::Invalid(format!(
            "attribute `{parent}` is not complex"
        )));
    }
    let key = key_for(map, attr);
    if add && is_multi(attr) {
        let items = match value {
            Value::Array(a) => a,
            other => vec![other],
        };
        let slot = map.entry(key).or_insert_with(|| Value::Array(Vec::new()));
        let Value::Array(existing) = slot else {
            return Err(StoreError::Invalid(format!(
                "attribute `{attr}` is not multi-valued"
            )));
        };
        for item in items {
            let v = item.get("value").cloned();
            if v.is_none() || !existing.iter().any(|e| e.get("value") == v.as_ref()) {
                existing.push(item);
            }
        }
        return Ok(());
    }
    let value = coerce_single(attr, value);
    map.insert(key, value);
    Ok(())
}

fn remove_attr(map: &mut Map<String, Value>, path: &str) -> Result<(), StoreError> {
    // `members[value eq "123"]` or `members[value eq "1" or value eq "2"]`
    if let Some((attr, rest)) = path.split_once('[') {
        let cond = rest
            .strip_suffix(']')
            .ok_or_else(|| StoreError::Invalid(format!("invalid PATCH path `{path}`")))?;
        let filter = Filter::parse(cond).map_err(StoreError::Invalid)?;
        let key = key_for(map, attr);
        if let Some(Value::Array(items)) = map.get_mut(&key) {
            items.retain(|item| !filter.matches(item));
        }
        return Ok(());
    }
    let key = key_for(map, path);
    map.remove(&key);
    Ok(())
}

/// A member reference as stored in a group: `{value, display, $ref}`.
pub(crate) fn member_ref(kind: ScimKind, id: &str, display: &str) -> Value {
    serde_json::json!({ "display": display, "value": id, "$ref": format!("{}/{id}", kind.segment()) })
}

/// A group reference as stored in a principal's `groups`.
pub(crate) fn group_ref(id: &str, name: &str) -> Value {
    serde_json::json!({ "display": name, "type": "direct", "value": id, "$ref": format!("Groups/{id}") })
}

/// The ids in a `members` (or `groups`) array.
pub(crate) fn ids_in(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|m| m.get("value").and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The routes of one SCIM kind: list, create, get, replace, patch, delete.
pub(crate) fn routes(kind: ScimKind) -> Router<MockState> {
    let base = format!("/api/2.0/preview/scim/v2/{}", kind.segment());
    Router::new()
        .route(
            &base,
            get(
                move |State(st): State<MockState>, RawQuery(q): RawQuery| async move {
                    list(&st.read(), kind, &Query::parse(q.as_deref()))
                },
            )
            .post(move |State(st): State<MockState>, body: Bytes| async move {
                create(&st, kind, &body)
            }),
        )
        .route(
            &format!("{base}/{{id}}"),
            get(
                move |State(st): State<MockState>,
                      Path(id): Path<String>,
                      RawQuery(q): RawQuery| async move {
                    get_one(&st.read(), kind, &id, &Query::parse(q.as_deref()))
                },
            )
            .put(
                move |State(st): State<MockState>, Path(id): Path<String>, body: Bytes| async move {
                    replace(&st, kind, &id, &body)
                },
            )
            .patch(
                move |State(st): State<MockState>, Path(id): Path<String>, body: Bytes| async move {
                    patch(&st, kind, &id, &body)
                },
            )
            .delete(
                move |State(st): State<MockState>, Path(id): Path<String>| async move {
                    delete(&st, kind, &id)
                },
            ),
        )
}

fn scim_err(e: impl Into<ApiError>) -> ApiError {
    e.into().into_scim()
}

fn not_found(kind: ScimKind, id: &str) -> ApiError {
    ApiError::not_found(format!("{} {id} not found", kind.noun())).into_scim()
}

fn get_one(ws: &Workspace, kind: ScimKind, id: &str, q: &Query) -> Reply {
    let entry = kind.store(ws).get(id).ok_or_else(|| not_found(kind, id))?;
    match Projection::of(q) {
        None => Ok(json(entry.doc.as_str().to_owned())),
        Some(p) => Ok(json(
            p.apply(&Value::Object(entry.doc.to_map())).to_string(),
        )),
    }
}

/// Reads a create or replace body: the natural key, and the body minus server-owned attributes.
fn read_body(
    ws: &mut Workspace,
    kind: ScimKind,
    body: &Bytes,
) -> Result<(String, Map<String, Value>), ApiError> {
    let mut map = body_object(body).map_err(scim_err)?;
    for attr in READ_ONLY {
        map.remove(attr);
    }
    let key_attr = kind.key_attr();
    let key = match map.get(key_attr) {
        Some(Value::String(k)) if !k.is_empty() => k.clone(),
        None if kind == ScimKind::ServicePrincipals => {
            let generated = ws.ids.uuid();
            map.insert(key_attr.into(), Value::from(generated.clone()));
            generated
        }
        _ => {
            return Err(
                ApiError::invalid(format!("Missing required field: {key_attr}")).into_scim(),
            );
        }
    };
    Ok((key, map))
}

/// Server-set attributes of a new or replaced resource.
fn complete(kind: ScimKind, id: &str, key: &str, map: &mut Map<String, Value>) {
    map.insert("id".into(), Value::from(id));
    let mut schemas = vec![Value::from(kind.schema())];
    match kind {
        ScimKind::Users => {
            schemas.push(Value::from(
                "urn:ietf:params:scim:schemas:extension:workspace:2.0:User",
            ));
            map.entry("active").or_insert(Value::Bool(true));
            map.entry("displayName").or_insert_with(|| Value::from(key));
            map.entry("emails").or_insert_with(
                || serde_json::json!([{"value": key, "type": "work", "primary": true}]),
            );
        }
        ScimKind::ServicePrincipals => {
            map.entry("active").or_insert(Value::Bool(true));
            map.entry("displayName").or_insert_with(|| Value::from(key));
        }
        ScimKind::Groups => {
            map.insert(
                "meta".into(),
                serde_json::json!({"resourceType": "WorkspaceGroup"}),
            );
        }
    }
    map.insert("schemas".into(), Value::Array(schemas));
}

fn entry_of(map: Map<String, Value>, key: &str) -> ScimEntry {
    let display = map
        .get("displayName")
        .and_then(Value::as_str)
        .unwrap_or(key)
        .to_owned();
    ScimEntry {
        doc: Doc::from_map(map),
        key: key.into(),
        display: display.into(),
    }
}

fn create(st: &MockState, kind: ScimKind, body: &Bytes) -> Reply {
    let mut ws = st.write();
    let (key, mut map) = read_body(&mut ws, kind, body)?;
    if kind.store(&ws).id_of(&key).is_some() {
        return Err(scim_err(StoreError::AlreadyExists(format!(
            "{} with {} {key} already exists.",
            kind.noun(),
            kind.key_attr()
        ))));
    }
    // Memberships are set through the groups, after the resource exists.
    let members = if kind == ScimKind::Groups {
        map.remove("members")
    } else {
        None
    };
    let parents = ids_in(map.remove("groups").as_ref());
    for id in ids_in(members.as_ref()).iter().chain(&parents) {
        ws.scim_kind_of(id)
            .ok_or_else(|| scim_err(StoreError::Invalid(format!("Member {id} does not exist."))))?;
    }
    if parents.iter().any(|p| ws.groups.get(p).is_none()) {
        return Err(scim_err(StoreError::Invalid(
            "Groups may only contain ids of groups.".into(),
        )));
    }
    let id = ws.ids.scim_id();
    complete(kind, &id, &key, &mut map);
    kind.store_mut(&mut ws).put(&id, entry_of(map, &key));
    if members.is_some() {
        ws.set_members(&id, ids_in(members.as_ref()))
            .map_err(scim_err)?;
    }
    for parent in parents {
        ws.add_member(&parent, &id).map_err(scim_err)?;
    }
    let doc = kind
        .store(&ws)
        .get(&id)
        .map(|e| e.doc.as_str().to_owned())
        .unwrap_or_default();
    Ok(json_status(StatusCode::CREATED, doc))
}

fn replace(st: &MockState, kind: ScimKind, id: &str, body: &Bytes) -> Reply {
    let mut ws = st.write();
    let old = kind
        .store(&ws)
        .get(id)
        .ok_or_else(|| not_found(kind, id))?
        .doc
        .to_map();
    let (key, mut map) = read_body(&mut ws, kind, body)?;
    if kind.store(&ws).id_of(&key).is_some_and(|other| other != id) {
        return Err(scim_err(StoreError::AlreadyExists(format!(
            "{} with {} {key} already exists.",
            kind.noun(),
            kind.key_attr()
        ))));
    }
    let members = if kind == ScimKind::Groups {
        Some(map.remove("members"))
    } else {
        None
    };
    // A principal's own `groups` is read-only: memberships change through groups.
    map.remove("groups");
    if let Some(g) = old.get("groups") {
        map.insert("groups".into(), g.clone());
    }
    if let Some(m) = old.get("members") {
        map.insert("members".into(), m.clone());
    }
    complete(kind, id, &key, &mut map);
    kind.store_mut(&mut ws).put(id, entry_of(map, &key));
    ws.refresh_member_refs(kind, id);
    if let Some(members) = members {
        ws.set_members(id, ids_in(members.as_ref()))
            .map_err(scim_err)?;
    }
    let doc = kind
        .store(&ws)
        .get(id)
        .map(|e| e.doc.as_str().to_owned())
        .unwrap_or_default();
    Ok(json(doc))
}

fn patch(st: &MockState, kind: ScimKind, id: &str, body: &Bytes) -> Reply {
    let request: PatchRequest = super::http::body(body).map_err(scim_err)?;
    let mut ws = st.write();
    let old = kind
        .store(&ws)
        .get(id)
        .ok_or_else(|| not_found(kind, id))?
        .doc
        .to_map();
    let mut map = old.clone();
    apply_patch(&mut map, &request.operations).map_err(scim_err)?;
    let key = match map.get(kind.key_attr()) {
        Some(Value::String(k)) if !k.is_empty() => k.clone(),
        _ => {
            return Err(
                ApiError::invalid(format!("{} cannot be removed", kind.key_attr())).into_scim(),
            );
        }
    };
    if kind.store(&ws).id_of(&key).is_some_and(|other| other != id) {
        return Err(scim_err(StoreError::AlreadyExists(format!(
            "{} with {} {key} already exists.",
            kind.noun(),
            kind.key_attr()
        ))));
    }
    let new_members = ids_in(map.get("members"));
    let old_members = ids_in(old.get("members"));
    for m in new_members.iter().filter(|m| !old_members.contains(m)) {
        ws.scim_kind_of(m)
            .ok_or_else(|| scim_err(StoreError::Invalid(format!("Member {m} does not exist."))))?;
    }
    // Memberships are applied through the group so both sides stay in step.
    match old.get("members") {
        Some(m) => map.insert("members".into(), m.clone()),
        None => map.remove("members"),
    };
    match old.get("groups") {
        Some(g) => map.insert("groups".into(), g.clone()),
        None => map.remove("groups"),
    };
    for attr in READ_ONLY {
        if let Some(v) = old.get(attr) {
            map.insert(attr.into(), v.clone());
        }
    }
    kind.store_mut(&mut ws).put(id, entry_of(map, &key));
    ws.refresh_member_refs(kind, id);
    if kind == ScimKind::Groups && new_members != old_members {
        ws.set_members(id, new_members).map_err(scim_err)?;
    }
    let doc = kind
        .store(&ws)
        .get(id)
        .map(|e| e.doc.as_str().to_owned())
        .unwrap_or_default();
    Ok(json(doc))
}

fn delete(st: &MockState, kind: ScimKind, id: &str) -> Reply {
    let mut ws = st.write();
    if kind.store(&ws).get(id).is_none() {
        return Err(not_found(kind, id));
    }
    ws.remove_principal(kind, id);
    Ok(no_content())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn filters_parse_and_match() {
        let user = json!({"userName": "Alice@x.com", "active": true, "emails": [{"value": "a@x.com"}], "displayName": "Alice"});
        let ok = |f: &str| Filter::parse(f).unwrap().matches(&user);
        assert!(ok(r#"userName eq "alice@x.com""#));
        assert!(ok(r#"username sw "ali" and active eq true"#));
        assert!(ok(r#"displayName eq "Bob" or emails.value co "@x""#));
        assert!(ok(r#"not (displayName eq "Bob")"#));
        assert!(ok("displayName pr"));
        assert!(!ok(r#"displayName ne "Alice""#));
        assert!(Filter::parse(r#"userName eq"#).is_err());
        assert!(Filter::parse(r#"userName zz "x""#).is_err());
        assert!(Filter::parse(r#"(userName eq "x""#).is_err());
        assert_eq!(
            Filter::parse(r#"displayName eq "admins""#)
                .unwrap()
                .exact_lookup(ScimKind::Groups),
            Some((false, "admins".into()))
        );
    }

    #[test]
    fn patch_adds_removes_and_replaces() {
        let mut g = json!({"displayName": "eng", "members": [{"value": "1"}, {"value": "2"}]})
            .as_object()
            .unwrap()
            .clone();
        let req: PatchRequest = serde_json::from_value(json!({"Operations": [
            {"op": "add", "path": "members", "value": [{"value": "3"}, {"value": "1"}]},
            {"op": "remove", "path": "members[value eq \"2\"]"},
            {"op": "replace", "value": {"displayName": "engineering"}},
            {"op": "Add", "path": "entitlements", "value": [{"value": "workspace-access"}]},
        ]}))
        .unwrap();
        apply_patch(&mut g, &req.operations).unwrap();
        assert_eq!(ids_in(g.get("members")), ["1", "3"]);
        assert_eq!(g["displayName"], "engineering");
        assert_eq!(g["entitlements"], json!([{"value": "workspace-access"}]));

        let mut u = json!({"userName": "a", "active": true})
            .as_object()
            .unwrap()
            .clone();
        let deactivate = [PatchOp {
            op: "replace".into(),
            path: Some("active".into()),
            value: Some(json!([{"value": "false"}])),
        }];
        apply_patch(&mut u, &deactivate).unwrap();
        assert_eq!(u["active"], false);
        let bad = [PatchOp {
            op: "move".into(),
            path: None,
            value: None,
        }];
        assert!(apply_patch(&mut u, &bad).is_err());
        let read_only = [PatchOp {
            op: "replace".into(),
            path: Some("id".into()),
            value: Some(json!("9")),
        }];
        assert!(apply_patch(&mut u, &read_only).is_err());
    }

    #[test]
    fn projection_keeps_id_and_schemas() {
        let v = json!({"id": "1", "schemas": [], "userName": "a", "emails": [], "groups": []});
        let q = Query::parse(Some("attributes=userName"));
        assert_eq!(
            Projection::of(&q).unwrap().apply(&v),
            json!({"id": "1", "schemas": [], "userName": "a"})
        );
        let q = Query::parse(Some("excludedAttributes=groups,emails"));
        assert_eq!(
            Projection::of(&q).unwrap().apply(&v),
            json!({"id": "1", "schemas": [], "userName": "a"})
        );
    }
}
