//! Secret key names: `GET /api/2.0/secrets/list?scope=S` for every scope.
//!
//! Only names and `last_updated_timestamp` are listed; values are never
//! requested (there is deliberately no call to `secrets/get` anywhere).
//! The API leaves the scope implicit, so each raw object gets a `scope` field.

use serde_json::Value;

use super::{Cx, RawKind};
use crate::client::{ApiError, take_array};
use crate::kind::Kind;

pub(crate) async fn collect(cx: &Cx) -> RawKind {
    per_scope(cx, Kind::Secrets, "/api/2.0/secrets/list", "secrets").await
}

/// Lists `path?scope=S` for every captured secret scope and returns the
/// objects of the array `items`, each with `"scope": S` added, in scope order.
///
/// A scope deleted since it was listed (404) is skipped; any other error makes
/// `kind` incomplete and keeps what was read.
pub(super) async fn per_scope(
    cx: &Cx,
    kind: Kind,
    path: &'static str,
    items: &'static str,
) -> RawKind {
    let scopes = match cx.dependency(Kind::SecretScopes).await {
        Ok(raw) => raw,
        Err(e) => return RawKind::failed(e),
    };
    let names: Vec<(usize, String)> = scopes
        .values()
        .filter_map(|s| s.get("name").and_then(Value::as_str).map(str::to_owned))
        .enumerate()
        .collect();
    let (mut lists, error) = super::fan_out(cx, names, |(i, scope)| async move {
        let query = [("scope", scope.clone())];
        let mut page = match cx.get(kind, path, &query).await {
            Ok(page) => page,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut objects = take_array(&mut page, items, path)?;
        for object in &mut objects {
            if let Value::Object(map) = object {
                map.insert("scope".into(), Value::String(scope.clone()));
            }
        }
        Ok::<_, ApiError>(Some((i, objects)))
    })
    .await;
    // fan_out finishes in any order; the scope listing's order keeps raw output stable.
    lists.sort_by_key(|(i, _)| *i);
    let objects = lists.into_iter().flat_map(|(_, objects)| objects).collect();
    RawKind::new(objects, error)
}
