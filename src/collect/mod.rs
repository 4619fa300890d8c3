//! Collecting raw API objects, one file per object kind.
//!
//! Every kind runs concurrently and starts as soon as the kinds it depends
//! on are in (permissions of jobs start when jobs are listed, not when the
//! whole workspace is). Each finished unit of work goes to the [`Journal`],
//! so a killed capture resumes without fetching it again.

mod journal;
mod listing;

mod catalogs;
mod cluster_libraries;
mod cluster_policies;
mod clusters;
mod global_init_scripts;
mod grants;
mod groups;
mod instance_pools;
mod ip_access_lists;
mod jobs;
mod permissions;
mod repos;
mod schemas;
mod secret_acls;
mod secret_scopes;
mod secrets;
mod service_principals;
mod sql_warehouses;
mod tables;
mod users;
mod workspace_conf;
mod workspace_objects;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::Value;
use serde_json::value::RawValue;
use tokio::sync::OnceCell;

pub use journal::{Journal, JournalError};
pub use workspace_conf::WORKSPACE_CONF_KEYS;

use crate::client::{ApiError, Client};
use crate::kind::Kind;

/// One raw API object as compact JSON text.
///
/// A capture keeps every object of every kind until it is normalized, and a
/// `serde_json::Value` tree costs several times its text (a million objects
/// would take gigabytes), so objects are kept as text and parsed when read.
pub type RawObject = Box<RawValue>;

/// An object's compact JSON text.
pub(crate) fn compact(value: &Value) -> RawObject {
    // Serializing a `Value` cannot fail (its keys are strings); `null` keeps
    // this total rather than trusting that.
    serde_json::value::to_raw_value(value).unwrap_or_else(|_| RawValue::NULL.to_owned())
}

/// Parses an object's text back into a tree.
pub fn parse(object: &RawValue) -> Value {
    // The text was written by [`compact`] or read from a journal line that
    // parsed, so it is valid JSON; `null` keeps this total.
    serde_json::from_str(object.get()).unwrap_or(Value::Null)
}

/// Parses objects back into trees, for collectors that look into every one.
pub(crate) fn parse_all(objects: Vec<RawObject>) -> Vec<Value> {
    objects.iter().map(|o| parse(o)).collect()
}

/// The raw objects of one kind, as the API returned them, and the error that
/// stopped the capture of the kind, if one did.
#[derive(Debug, Default)]
pub struct RawKind {
    /// API objects (collectors add the parent key, e.g. `scope`, where the API
    /// leaves it implicit), as compact text: [`RawKind::values`] parses them.
    pub objects: Vec<RawObject>,
    /// Set when the kind is incomplete.
    pub error: Option<ApiError>,
}

impl RawKind {
    /// Objects and the error that made the kind incomplete, if any.
    pub fn new(objects: Vec<Value>, error: Option<ApiError>) -> Self {
        RawKind {
            objects: objects.iter().map(compact).collect(),
            error,
        }
    }

    /// A complete capture.
    pub fn complete(objects: Vec<Value>) -> Self {
        RawKind::new(objects, None)
    }

    /// A capture that failed before anything was read.
    pub fn failed(error: ApiError) -> Self {
        RawKind {
            objects: Vec::new(),
            error: Some(error),
        }
    }

    /// True when no error stopped the capture.
    pub fn is_complete(&self) -> bool {
        self.error.is_none()
    }

    /// The objects, each parsed when the iterator reaches it.
    pub fn values(&self) -> impl Iterator<Item = Value> + '_ {
        self.objects.iter().map(|o| parse(o))
    }
}

/// Every collected kind: the requested ones and those they depend on.
#[derive(Debug, Default)]
pub struct RawWorkspace {
    /// The kinds asked for.
    pub requested: Vec<Kind>,
    /// Raw objects per kind.
    pub kinds: BTreeMap<Kind, Arc<RawKind>>,
}

impl RawWorkspace {
    /// The raw objects of a kind, parsed one by one; none when the kind was not collected.
    pub fn values(&self, kind: Kind) -> impl Iterator<Item = Value> + '_ {
        self.kinds.get(&kind).into_iter().flat_map(|k| k.values())
    }
}

/// What to collect and how.
#[derive(Clone, Debug)]
pub struct CollectOptions {
    /// The kinds to capture.
    pub kinds: Vec<Kind>,
    /// Workspace folder to list recursively (`/` for everything).
    pub workspace_root: String,
    /// Export notebooks and files to record a content hash (one extra call each).
    pub content_hash: bool,
}

impl Default for CollectOptions {
    fn default() -> Self {
        CollectOptions {
            kinds: Kind::ALL.to_vec(),
            workspace_root: "/".into(),
            content_hash: false,
        }
    }
}

/// Told about progress; the command line shows it as a progress bar.
pub trait Observer: Send + Sync {
    /// One unit of work (a request, or a unit found in the journal) finished.
    fn unit_done(&self, _kind: Kind) {}
    /// A kind finished, with its object count and whether it is complete.
    fn kind_done(&self, _kind: Kind, _objects: usize, _complete: bool) {}
}

/// An observer that ignores everything.
pub struct Quiet;
impl Observer for Quiet {}

/// The shared context every collector gets.
#[derive(Clone)]
pub(crate) struct Cx {
    inner: Arc<CxInner>,
}

struct CxInner {
    client: Client,
    options: CollectOptions,
    journal: Arc<Journal>,
    observer: Arc<dyn Observer>,
    cells: BTreeMap<Kind, OnceCell<Arc<RawKind>>>,
}

type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

impl Cx {
    pub(crate) fn client(&self) -> &Client {
        &self.inner.client
    }

    pub(crate) fn options(&self) -> &CollectOptions {
        &self.inner.options
    }

    /// How many units a collector should keep in flight; the client's
    /// semaphore bounds real requests, this only keeps the pipe full.
    pub(crate) fn fan_out(&self) -> usize {
        self.inner.client.config().concurrency.max(1) * 2
    }

    /// The raw objects of another kind, collecting it first if needed.
    pub(crate) fn raw(&self, kind: Kind) -> BoxFut<'_, Arc<RawKind>> {
        Box::pin(async move {
            let cell = &self.inner.cells[&kind];
            cell.get_or_init(|| async {
                let raw = collect_kind(kind, self).await;
                self.inner
                    .observer
                    .kind_done(kind, raw.objects.len(), raw.is_complete());
                Arc::new(raw)
            })
            .await
            .clone()
        })
    }

    /// The raw objects of a dependency, or the error that makes the dependent
    /// kind incomplete too.
    pub(crate) async fn dependency(&self, kind: Kind) -> Result<Arc<RawKind>, ApiError> {
        let raw = self.raw(kind).await;
        match &raw.error {
            None => Ok(raw),
            Some(e) => Err(ApiError::Pagination {
                path: kind.name().into(),
                reason: format!("depends on `{kind}`, which is incomplete: {e}"),
            }),
        }
    }

    /// Runs one unit of work for `kind`, or returns its answer from the journal.
    pub(crate) async fn unit<F, Fut>(
        &self,
        kind: Kind,
        name: String,
        fetch: F,
    ) -> Result<Value, ApiError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Value, ApiError>>,
    {
        if let Some(value) = self.inner.journal.get(&name) {
            self.inner.observer.unit_done(kind);
            return Ok(value);
        }
        let value = fetch().await?;
        self.inner.journal.record(&name, &value);
        self.inner.observer.unit_done(kind);
        Ok(value)
    }

    /// `GET` as one journaled unit.
    pub(crate) async fn get(
        &self,
        kind: Kind,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Value, ApiError> {
        let name = unit_name(path, query);
        self.unit(kind, name, || self.client().get(path, query))
            .await
    }
}

/// A unit's journal name: the request it stands for.
pub(crate) fn unit_name(path: &str, query: &[(&str, String)]) -> String {
    let mut name = path.to_owned();
    for (i, (k, v)) in query.iter().enumerate() {
        name.push(if i == 0 { '?' } else { '&' });
        name.push_str(k);
        name.push('=');
        name.push_str(v);
    }
    name
}

/// Collects the requested kinds (and what they depend on) from one workspace.
pub async fn collect(
    client: Client,
    options: CollectOptions,
    journal: Arc<Journal>,
    observer: Arc<dyn Observer>,
) -> RawWorkspace {
    let mut wanted: Vec<Kind> = Vec::new();
    let mut stack = options.kinds.clone();
    while let Some(kind) = stack.pop() {
        if !wanted.contains(&kind) {
            wanted.push(kind);
            stack.extend_from_slice(kind.needs());
        }
    }
    wanted.sort();
    let cells = wanted.iter().map(|k| (*k, OnceCell::new())).collect();
    let requested = options.kinds.clone();
    let cx = Cx {
        inner: Arc::new(CxInner {
            client,
            options,
            journal,
            observer,
            cells,
        }),
    };
    let raws = futures::future::join_all(wanted.iter().map(|k| cx.raw(*k))).await;
    RawWorkspace {
        requested,
        kinds: wanted.into_iter().zip(raws).collect(),
    }
}

/// Dispatches to the collector of one kind: the registry line of each kind.
async fn collect_kind(kind: Kind, cx: &Cx) -> RawKind {
    match kind {
        Kind::Users => users::collect(cx).await,
        Kind::Groups => groups::collect(cx).await,
        Kind::ServicePrincipals => service_principals::collect(cx).await,
        Kind::Jobs => jobs::collect(cx).await,
        Kind::Clusters => clusters::collect(cx).await,
        Kind::ClusterLibraries => cluster_libraries::collect(cx).await,
        Kind::InstancePools => instance_pools::collect(cx).await,
        Kind::ClusterPolicies => cluster_policies::collect(cx).await,
        Kind::GlobalInitScripts => global_init_scripts::collect(cx).await,
        Kind::WorkspaceObjects => workspace_objects::collect(cx).await,
        Kind::Repos => repos::collect(cx).await,
        Kind::SecretScopes => secret_scopes::collect(cx).await,
        Kind::Secrets => secrets::collect(cx).await,
        Kind::SecretAcls => secret_acls::collect(cx).await,
        Kind::Permissions => permissions::collect(cx).await,
        Kind::Catalogs => catalogs::collect(cx).await,
        Kind::Schemas => schemas::collect(cx).await,
        Kind::Tables => tables::collect(cx).await,
        Kind::Grants => grants::collect(cx).await,
        Kind::SqlWarehouses => sql_warehouses::collect(cx).await,
        Kind::IpAccessLists => ip_access_lists::collect(cx).await,
        Kind::WorkspaceConf => workspace_conf::collect(cx).await,
    }
}

/// Runs `fetch` for each item with up to `cx.fan_out()` in flight, keeping
/// what succeeded and the first error (which makes the kind incomplete).
///
/// `Ok(None)` from `fetch` means "gone meanwhile" (a 404 for an object that
/// was listed a moment ago) and is skipped.
pub(crate) async fn fan_out<I, T, F, Fut>(cx: &Cx, items: I, fetch: F) -> (Vec<T>, Option<ApiError>)
where
    I: IntoIterator,
    F: Fn(I::Item) -> Fut,
    Fut: Future<Output = Result<Option<T>, ApiError>>,
{
    use futures::StreamExt;
    let mut stream = futures::stream::iter(items)
        .map(fetch)
        .buffer_unordered(cx.fan_out());
    let mut out = Vec::new();
    let mut first_error = None;
    while let Some(result) = stream.next().await {
        match result {
            Ok(Some(item)) => out.push(item),
            Ok(None) => {}
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    (out, first_error)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Keeping objects as text must not change them: what a normalizer sees
    /// after the round trip is what the API sent, numbers included.
    #[test]
    fn compact_text_parses_back_to_the_same_object() {
        let objects = [
            json!({"job_id": u64::MAX, "min": i64::MIN, "ratio": 0.1, "big": 1e300, "tiny": 5e-324}),
            json!({"path": "/Users/zoë@example.com/\"quoted\"\n\u{1F600}", "empty": {}, "list": [], "null": null}),
            json!([{"b": 1, "a": [true, false, {"c": [1.5, -0.0]}]}]),
            json!("just a string"),
        ];
        for object in objects {
            let text = compact(&object);
            assert_eq!(parse(&text), object, "{}", text.get());
            assert!(!text.get().contains('\n'), "compact text: {}", text.get());
        }
        let kind = RawKind::complete(vec![json!({"a": 1}), json!({"b": 2})]);
        assert_eq!(
            kind.values().collect::<Vec<_>>(),
            [json!({"a": 1}), json!({"b": 2})]
        );
    }
}
