//! Unity Catalog under `/api/2.1/unity-catalog/`: catalogs, schemas and
//! tables (lists with `max_results` and page tokens, gets by full name,
//! percent-decoded), and grants on them (`permissions/{type}/{full_name}`,
//! the type in any case). Names are matched case-insensitively, as UC does.
//!
//! `max_results` absent lists everything (the documented legacy behaviour);
//! 0 lets the server pick a page of 100; more is capped at 1,000.

use std::collections::{BTreeMap, HashMap};

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::routing::get;
use bytes::Bytes;
use serde_json::{Value, json};

use super::error::{ApiError, StoreError};
use super::fixture::LoadError;
use super::http::{Out, Query, Reply, json, json_value};
use super::state::MockState;
use super::store::{Doc, Workspace, decode_token, encode_token};

/// The page size the server picks for `max_results=0`.
const SERVER_PAGE: usize = 100;

/// A securable with grants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Securable {
    Catalog,
    Schema,
    Table,
}

impl Securable {
    fn parse(s: &str) -> Option<Securable> {
        match s.to_ascii_lowercase().as_str() {
            "catalog" => Some(Securable::Catalog),
            "schema" => Some(Securable::Schema),
            "table" => Some(Securable::Table),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Securable::Catalog => "catalog",
            Securable::Schema => "schema",
            Securable::Table => "table",
        }
    }
}

type Grants = Vec<(String, Vec<String>)>;

/// Every catalog, schema, table and grant.
#[derive(Debug, Default)]
pub(crate) struct UcStore {
    catalogs: BTreeMap<String, Doc>,
    schemas: BTreeMap<(String, String), Doc>,
    tables: BTreeMap<(String, String, String), Doc>,
    grants: HashMap<(Securable, String), Grants>,
}

impl UcStore {
    /// Catalog documents, for dumps.
    pub(crate) fn dump_catalogs(&self) -> Vec<String> {
        self.catalogs
            .values()
            .map(|d| d.as_str().to_owned())
            .collect()
    }

    /// Schema documents, for dumps.
    pub(crate) fn dump_schemas(&self) -> Vec<String> {
        self.schemas
            .values()
            .map(|d| d.as_str().to_owned())
            .collect()
    }

    /// Table documents, for dumps.
    pub(crate) fn dump_tables(&self) -> Vec<String> {
        self.tables
            .values()
            .map(|d| d.as_str().to_owned())
            .collect()
    }

    /// Grants, for dumps.
    pub(crate) fn dump_grants(&self) -> Vec<String> {
        let mut keys: Vec<&(Securable, String)> = self.grants.keys().collect();
        keys.sort();
        keys.into_iter()
            .filter_map(|k| self.grants.get(k).map(|g| (k, g)))
            .map(|((t, name), g)| json!({"securable_type": t.name(), "full_name": name, "privilege_assignments": assignments(g)}).to_string())
            .collect()
    }

    fn exists(&self, t: Securable, full_name: &str) -> Result<(), StoreError> {
        let parts: Vec<String> = full_name.split('.').map(str::to_lowercase).collect();
        let found = match (t, parts.as_slice()) {
            (Securable::Catalog, [c]) => self.catalogs.contains_key(c),
            (Securable::Schema, [c, s]) => self.schemas.contains_key(&(c.clone(), s.clone())),
            (Securable::Table, [c, s, n]) => {
                self.tables.contains_key(&(c.clone(), s.clone(), n.clone()))
            }
            _ => false,
        };
        if found {
            return Ok(());
        }
        Err(match t {
            Securable::Catalog => catalog_missing(full_name),
            Securable::Schema => StoreError::CatalogNotFound {
                code: "SCHEMA_DOES_NOT_EXIST",
                message: format!("Schema '{full_name}' does not exist."),
            },
            Securable::Table => StoreError::CatalogNotFound {
                code: "TABLE_DOES_NOT_EXIST",
                message: format!("Table '{full_name}' does not exist."),
            },
        })
    }
}

fn catalog_missing(name: &str) -> StoreError {
    StoreError::CatalogNotFound {
        code: "CATALOG_DOES_NOT_EXIST",
        message: format!("Catalog '{name}' does not exist."),
    }
}

fn assignments(g: &Grants) -> Vec<Value> {
    g.iter()
        .map(|(p, privs)| json!({"principal": p, "privileges": privs}))
        .collect()
}

/// The names a loader needs from a UC object.
#[derive(serde::Deserialize)]
struct Names {
    name: Option<String>,
    catalog_name: Option<String>,
    schema_name: Option<String>,
}

fn name_of(field: &str, v: Option<String>) -> Result<String, LoadError> {
    v.filter(|s| !s.is_empty())
        .map(|s| s.to_lowercase())
        .ok_or_else(|| LoadError::Msg(format!("missing `{field}`")))
}

/// Adds one fixture catalog.
pub(crate) fn load_catalog(ws: &mut Workspace, raw: &str) -> Result<(), LoadError> {
    let names: Names = serde_json::from_str(raw)?;
    let name = name_of("name", names.name)?;
    if ws
        .uc
        .catalogs
        .insert(name.clone(), Doc::compact(raw))
        .is_some()
    {
        return Err(format!("duplicate catalog `{name}`").into());
    }
    Ok(())
}

/// Adds one fixture schema; its catalog must be there.
pub(crate) fn load_schema(ws: &mut Workspace, raw: &str) -> Result<(), LoadError> {
    let names: Names = serde_json::from_str(raw)?;
    let catalog = name_of("catalog_name", names.catalog_name)?;
    let name = name_of("name", names.name)?;
    if !ws.uc.catalogs.contains_key(&catalog) {
        return Err(format!("schema `{catalog}.{name}` is in an unknown catalog").into());
    }
    if ws
        .uc
        .schemas
        .insert((catalog.clone(), name.clone()), Doc::compact(raw))
        .is_some()
    {
        return Err(format!("duplicate schema `{catalog}.{name}`").into());
    }
    Ok(())
}

/// Adds one fixture table; its schema must be there.
pub(crate) fn load_table(ws: &mut Workspace, raw: &str) -> Result<(), LoadError> {
    let names: Names = serde_json::from_str(raw)?;
    let catalog = name_of("catalog_name", names.catalog_name)?;
    let schema = name_of("schema_name", names.schema_name)?;
    let name = name_of("name", names.name)?;
    if !ws
        .uc
        .schemas
        .contains_key(&(catalog.clone(), schema.clone()))
    {
        return Err(format!("table `{catalog}.{schema}.{name}` is in an unknown schema").into());
    }
    if ws
        .uc
        .tables
        .insert(
            (catalog.clone(), schema.clone(), name.clone()),
            Doc::compact(raw),
        )
        .is_some()
    {
        return Err(format!("duplicate table `{catalog}.{schema}.{name}`").into());
    }
    Ok(())
}

/// Adds one fixture grant list; its securable must be there.
pub(crate) fn load_grants(ws: &mut Workspace, raw: &str) -> Result<(), LoadError> {
    #[derive(serde::Deserialize)]
    struct Assignment {
        principal: String,
        #[serde(default)]
        privileges: Vec<String>,
    }
    #[derive(serde::Deserialize)]
    struct Entry {
        securable_type: String,
        full_name: String,
        #[serde(default)]
        privilege_assignments: Vec<Assignment>,
    }
    let e: Entry = serde_json::from_str(raw)?;
    let t = Securable::parse(&e.securable_type).ok_or(format!(
        "unsupported `securable_type` `{}`",
        e.securable_type
    ))?;
    ws.uc
        .exists(t, &e.full_name)
        .map_err(|err| err.to_string())?;
    let grants = e
        .privilege_assignments
        .into_iter()
        .map(|a| (a.principal, a.privileges))
        .collect();
    if ws
        .uc
        .grants
        .insert((t, e.full_name.to_lowercase()), grants)
        .is_some()
    {
        return Err(format!("duplicate grants for {} `{}`", t.name(), e.full_name).into());
    }
    Ok(())
}

/// The routes.
pub(crate) fn routes() -> Router<MockState> {
    let p = "/api/2.1/unity-catalog";
    Router::new()
        .route(&format!("{p}/catalogs"), get(list_catalogs))
        .route(&format!("{p}/catalogs/{{name}}"), get(get_catalog))
        .route(&format!("{p}/schemas"), get(list_schemas))
        .route(&format!("{p}/schemas/{{full_name}}"), get(get_schema))
        .route(&format!("{p}/tables"), get(list_tables))
        .route(&format!("{p}/tables/{{full_name}}"), get(get_table))
        .route(
            &format!("{p}/tables/{{full_name}}/exists"),
            get(table_exists),
        )
        .route(
            &format!("{p}/permissions/{{securable_type}}/{{full_name}}"),
            get(get_grants).patch(update_grants),
        )
}

/// `max_results` → page size (`None`: everything).
fn page_size(q: &Query) -> Result<Option<usize>, ApiError> {
    match q.i64("max_results")? {
        None => Ok(None),
        Some(0) => Ok(Some(SERVER_PAGE)),
        Some(n) if n > 0 => Ok(Some((n as usize).min(1000))),
        Some(n) => Err(ApiError::invalid(format!(
            "max_results must not be negative, not {n}"
        ))),
    }
}

/// One page of `(name, doc)` items in name order, after a page token.
fn page<'a>(items: impl Iterator<Item = (&'a str, &'a Doc)>, q: &Query, field: &str) -> Reply {
    let size = page_size(q)?;
    let after = q
        .get("page_token")
        .filter(|t| !t.is_empty())
        .map(decode_token)
        .transpose()?;
    let mut docs = Vec::new();
    let mut next = None;
    for (name, doc) in items.filter(|(n, _)| after.as_deref().is_none_or(|a| *n >= a)) {
        if size.is_some_and(|s| docs.len() == s) {
            next = Some(encode_token(name));
            break;
        }
        docs.push(doc.as_str());
    }
    let mut out = Out::object();
    out.array_nonempty(field, docs);
    Ok(out.opt_string("next_page_token", next.as_deref()).reply())
}

async fn list_catalogs(State(st): State<MockState>, RawQuery(q): RawQuery) -> Reply {
    let q = Query::parse(q.as_deref());
    let ws = st.read();
    page(
        ws.uc.catalogs.iter().map(|(k, d)| (k.as_str(), d)),
        &q,
        "catalogs",
    )
}

async fn list_schemas(State(st): State<MockState>, RawQuery(q): RawQuery) -> Reply {
    let q = Query::parse(q.as_deref());
    let catalog = q.required("catalog_name")?.to_lowercase();
    let ws = st.read();
    if !ws.uc.catalogs.contains_key(&catalog) {
        return Err(catalog_missing(&catalog).into());
    }
    let items = ws
        .uc
        .schemas
        .range((catalog.clone(), String::new())..)
        .take_while(|((c, _), _)| *c == catalog);
    page(items.map(|((_, s), d)| (s.as_str(), d)), &q, "schemas")
}

async fn list_tables(State(st): State<MockState>, RawQuery(q): RawQuery) -> Reply {
    let q = Query::parse(q.as_deref());
    let catalog = q.required("catalog_name")?.to_lowercase();
    let schema = q.required("schema_name")?.to_lowercase();
    let omit_columns = q.bool("omit_columns")?.unwrap_or(false);
    let omit_properties = q.bool("omit_properties")?.unwrap_or(false);
    let ws = st.read();
    ws.uc
        .exists(Securable::Schema, &format!("{catalog}.{schema}"))?;
    let items = ws
        .uc
        .tables
        .range((catalog.clone(), schema.clone(), String::new())..)
        .take_while(|((c, s, _), _)| *c == catalog && *s == schema)
        .map(|((_, _, n), d)| (n.as_str(), d));
    if !omit_columns && !omit_properties {
        return page(items, &q, "tables");
    }
    let trimmed: Vec<(&str, Doc)> = items
        .map(|(n, d)| {
            let mut d = d.clone();
            d.edit(|m| {
                if omit_columns {
                    m.remove("columns");
                }
                if omit_properties {
                    m.remove("properties");
                }
            });
            (n, d)
        })
        .collect();
    page(trimmed.iter().map(|(n, d)| (*n, d)), &q, "tables")
}

async fn get_catalog(State(st): State<MockState>, Path(name): Path<String>) -> Reply {
    let ws = st.read();
    let doc = ws
        .uc
        .catalogs
        .get(&name.to_lowercase())
        .ok_or_else(|| catalog_missing(&name))?;
    Ok(json(doc.as_str().to_owned()))
}

fn split<const N: usize>(full_name: &str) -> Option<[String; N]> {
    let parts: Vec<String> = full_name.split('.').map(str::to_lowercase).collect();
    parts.try_into().ok()
}

async fn get_schema(State(st): State<MockState>, Path(full_name): Path<String>) -> Reply {
    let ws = st.read();
    ws.uc.exists(Securable::Schema, &full_name)?;
    let [c, s] = split::<2>(&full_name)
        .ok_or_else(|| ApiError::invalid(format!("Invalid schema name {full_name}")))?;
    let doc = ws
        .uc
        .schemas
        .get(&(c, s))
        .ok_or_else(|| ApiError::not_found(full_name.clone()))?;
    Ok(json(doc.as_str().to_owned()))
}

async fn get_table(State(st): State<MockState>, Path(full_name): Path<String>) -> Reply {
    let ws = st.read();
    ws.uc.exists(Securable::Table, &full_name)?;
    let [c, s, n] = split::<3>(&full_name)
        .ok_or_else(|| ApiError::invalid(format!("Invalid table name {full_name}")))?;
    let doc = ws
        .uc
        .tables
        .get(&(c, s, n))
        .ok_or_else(|| ApiError::not_found(full_name.clone()))?;
    Ok(json(doc.as_str().to_owned()))
}

async fn table_exists(State(st): State<MockState>, Path(full_name): Path<String>) -> Reply {
    let ws = st.read();
    Ok(json_value(
        &json!({"table_exists": ws.uc.exists(Securable::Table, &full_name).is_ok()}),
    ))
}

fn securable(t: &str) -> Result<Securable, ApiError> {
    Securable::parse(t).ok_or_else(|| ApiError::invalid(format!("Unsupported securable type: {t}")))
}

async fn get_grants(
    State(st): State<MockState>,
    Path((t, full_name)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Reply {
    let q = Query::parse(q.as_deref());
    let t = securable(&t)?;
    let principal = q.get("principal").filter(|p| !p.is_empty());
    let ws = st.read();
    ws.uc.exists(t, &full_name)?;
    let grants = ws
        .uc
        .grants
        .get(&(t, full_name.to_lowercase()))
        .cloned()
        .unwrap_or_default();
    let shown: Grants = grants
        .into_iter()
        .filter(|(p, _)| principal.is_none_or(|w| w == p))
        .collect();
    let mut out = Out::object();
    if !shown.is_empty() {
        out.value("privilege_assignments", &Value::Array(assignments(&shown)));
    }
    Ok(out.reply())
}

#[derive(serde::Deserialize)]
struct Change {
    principal: String,
    #[serde(default)]
    add: Vec<String>,
    #[serde(default)]
    remove: Vec<String>,
}

#[derive(serde::Deserialize)]
struct ChangesRequest {
    #[serde(default)]
    changes: Vec<Change>,
}

async fn update_grants(
    State(st): State<MockState>,
    Path((t, full_name)): Path<(String, String)>,
    body: Bytes,
) -> Reply {
    let req: ChangesRequest = super::http::body(&body)?;
    let t = securable(&t)?;
    let mut ws = st.write();
    ws.uc.exists(t, &full_name)?;
    let grants = ws
        .uc
        .grants
        .entry((t, full_name.to_lowercase()))
        .or_default();
    for change in req.changes {
        let pos = match grants.iter().position(|(p, _)| *p == change.principal) {
            Some(i) => i,
            None => {
                grants.push((change.principal.clone(), Vec::new()));
                grants.len() - 1
            }
        };
        let privs = &mut grants[pos].1;
        for a in change.add {
            let a = a.to_ascii_uppercase();
            if !privs.contains(&a) {
                privs.push(a);
            }
        }
        privs.retain(|p| !change.remove.iter().any(|r| r.eq_ignore_ascii_case(p)));
    }
    grants.retain(|(_, p)| !p.is_empty());
    let shown = grants.clone();
    Ok(json_value(
        &json!({"privilege_assignments": assignments(&shown)}),
    ))
}
