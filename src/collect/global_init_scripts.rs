//! Global init scripts: `GET /api/2.0/global-init-scripts` lists them without
//! their bodies, so each is then read with `GET /api/2.0/global-init-scripts/{id}`
//! for its `script` (base64). The body is replaced by its hash before the
//! answer is journaled: scripts can hold credentials, and the journal is a
//! file on disk.

use serde_json::Value;

use super::{Cx, RawKind};
use crate::client::{ApiError, take_array};
use crate::kind::Kind;

const PATH: &str = "/api/2.0/global-init-scripts";

pub(crate) async fn collect(cx: &Cx) -> RawKind {
    let listed = match list(cx).await {
        Ok(listed) => listed,
        Err(e) => return RawKind::failed(e),
    };
    let (mut scripts, error) = super::fan_out(
        cx,
        listed.into_iter().enumerate(),
        |(i, listed)| async move {
            // A script without an id cannot be read; keep what the list said.
            let Some(id) = listed.get("script_id").and_then(Value::as_str) else {
                return Ok(Some((i, listed)));
            };
            let path = format!("{PATH}/{id}");
            let read = cx.unit(
                Kind::GlobalInitScripts,
                super::unit_name(&path, &[]),
                || async {
                    let mut script = cx.client().get(&path, &[]).await?;
                    hash_body(&mut script);
                    Ok(script)
                },
            );
            match read.await {
                Ok(script) => Ok(Some((i, script))),
                Err(e) if e.is_not_found() => Ok(None),
                Err(e) => Err(e),
            }
        },
    )
    .await;
    // fan_out finishes in any order; the listing's order keeps raw output stable.
    scripts.sort_by_key(|(i, _)| *i);
    RawKind::new(scripts.into_iter().map(|(_, s)| s).collect(), error)
}

async fn list(cx: &Cx) -> Result<Vec<Value>, ApiError> {
    let mut page = cx.get(Kind::GlobalInitScripts, PATH, &[]).await?;
    take_array(&mut page, "scripts", PATH)
}

/// Replaces `script` (the base64 body) by `script_sha256`.
fn hash_body(script: &mut Value) {
    if let Some(obj) = script.as_object_mut() {
        if let Some(Value::String(body)) = obj.remove("script") {
            let hash = crate::normalize::script_sha256(&body);
            obj.insert("script_sha256".into(), Value::String(hash));
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::normalize::{Resolver, normalize_kind};

    #[test]
    fn the_journaled_answer_holds_a_hash_not_the_body_and_normalizes_alike() {
        let raw = json!({"script_id": "A1", "name": "agent", "enabled": true, "position": 0,
            "script": "ZXhwb3J0IFRPS0VOPXNlY3JldA=="});
        let mut hashed = raw.clone();
        hash_body(&mut hashed);
        assert!(hashed.get("script").is_none());
        assert!(!hashed.to_string().contains("ZXhwb3J0"));
        let r = Resolver::default();
        assert_eq!(
            normalize_kind(Kind::GlobalInitScripts, &[raw], &r),
            normalize_kind(Kind::GlobalInitScripts, &[hashed], &r)
        );
    }
}
