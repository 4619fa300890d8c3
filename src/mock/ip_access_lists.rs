//! IP access lists: `/api/2.0/ip-access-lists` (list, create) and `/{id}`
//! (get, replace, update, delete). Lists are stored and served; the mock does
//! not enforce them (every client is on loopback).

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use bytes::Bytes;
use serde_json::{Map, Value, json};

use super::error::{ApiError, StoreError};
use super::fixture::LoadError;
use super::http::{Out, Reply, body_object, empty, json};
use super::state::MockState;
use super::store::{Coll, Doc, Sid, Workspace};

/// Every list.
#[derive(Debug, Default)]
pub(crate) struct IpListStore {
    items: Coll<Sid, Doc>,
}

impl IpListStore {
    pub(crate) fn begin_load(&mut self) {
        self.items.begin_load();
    }

    pub(crate) fn end_load(&mut self) {
        self.items.end_load();
    }

    /// Every list document, for dumps.
    pub(crate) fn dump(&self) -> Vec<String> {
        self.items
            .iter()
            .map(|(_, d)| d.as_str().to_owned())
            .collect()
    }
}

/// Adds one fixture list.
pub(crate) fn load(ws: &mut Workspace, raw: &str) -> Result<(), LoadError> {
    #[derive(serde::Deserialize)]
    struct Keys {
        list_id: String,
        #[expect(dead_code, reason = "only checked to be a string")]
        label: Option<String>,
        list_type: Option<String>,
    }
    let keys: Keys = serde_json::from_str(raw)?;
    if keys.list_id.is_empty() || ws.ip_lists.items.contains(&keys.list_id) {
        return Err(format!("empty or duplicate `list_id` `{}`", keys.list_id).into());
    }
    if let Some(t) = keys
        .list_type
        .as_deref()
        .filter(|t| *t != "ALLOW" && *t != "BLOCK")
    {
        return Err(format!("unknown `list_type` `{t}`").into());
    }
    ws.ip_lists
        .items
        .insert(Sid::from(keys.list_id.as_str()), Doc::compact(raw));
    Ok(())
}

/// The routes.
pub(crate) fn routes() -> Router<MockState> {
    Router::new()
        .route("/api/2.0/ip-access-lists", get(list).post(create))
        .route(
            "/api/2.0/ip-access-lists/{id}",
            get(get_list).put(replace).patch(update).delete(delete),
        )
}

fn unknown(id: &str) -> StoreError {
    StoreError::NotFound(format!("IP access list {id} does not exist."))
}

/// Checks an address or CIDR block (IPv4 or IPv6).
fn valid_address(a: &str) -> bool {
    let (ip, prefix) = match a.split_once('/') {
        Some((ip, p)) => (ip, Some(p)),
        None => (a, None),
    };
    match ip.parse::<std::net::IpAddr>() {
        Ok(addr) => {
            let max = if addr.is_ipv4() { 32 } else { 128 };
            prefix.is_none_or(|p| p.parse::<u8>().is_ok_and(|p| p <= max))
        }
        Err(_) => false,
    }
}

fn check(spec: &Map<String, Value>, partial: bool) -> Result<(), ApiError> {
    if !partial || spec.contains_key("label") {
        match spec.get("label") {
            Some(Value::String(s)) if !s.is_empty() => {}
            _ => return Err(super::http::missing("label")),
        }
    }
    if !partial || spec.contains_key("list_type") {
        match spec.get("list_type").and_then(Value::as_str) {
            Some("ALLOW" | "BLOCK") => {}
            Some(t) => return Err(ApiError::invalid(format!("Invalid list_type: {t}"))),
            None => return Err(super::http::missing("list_type")),
        }
    }
    if let Some(ips) = spec.get("ip_addresses") {
        let ips = ips
            .as_array()
            .ok_or_else(|| ApiError::invalid("ip_addresses must be an array"))?;
        for ip in ips {
            let text = ip.as_str().unwrap_or_default();
            if !valid_address(text) {
                return Err(ApiError::invalid(format!(
                    "IP address {ip} is not a valid IP address or CIDR block"
                )));
            }
        }
    }
    if let Some(e) = spec.get("enabled") {
        if !e.is_boolean() {
            return Err(ApiError::invalid("enabled must be a boolean"));
        }
    }
    Ok(())
}

fn caller_id(ws: &Workspace) -> i64 {
    ws.me_user_name()
        .and_then(|u| ws.users.id_of(&u).and_then(|id| id.parse().ok()))
        .unwrap_or(0)
}

async fn list(State(st): State<MockState>) -> Reply {
    let ws = st.read();
    Ok(Out::object()
        .array_nonempty(
            "ip_access_lists",
            ws.ip_lists.items.iter().map(|(_, d)| d.as_str()),
        )
        .reply())
}

async fn get_list(State(st): State<MockState>, Path(id): Path<String>) -> Reply {
    let ws = st.read();
    let doc = ws.ip_lists.items.get(&id).ok_or_else(|| unknown(&id))?;
    Ok(Out::object().raw("ip_access_list", doc.as_str()).reply())
}

async fn create(State(st): State<MockState>, body: Bytes) -> Reply {
    let spec = body_object(&body)?;
    check(&spec, false)?;
    let mut ws = st.write();
    let id = ws.ids.uuid();
    let now = ws.now();
    let by = caller_id(&ws);
    let ips = spec.get("ip_addresses").cloned().unwrap_or(json!([]));
    let count = ips.as_array().map_or(0, Vec::len);
    let doc = json!({
        "list_id": id, "label": spec.get("label"), "list_type": spec.get("list_type"), "ip_addresses": ips,
        "address_count": count, "enabled": spec.get("enabled").cloned().unwrap_or(Value::Bool(true)),
        "created_at": now, "created_by": by, "updated_at": now, "updated_by": by,
    });
    let text = Out::object().value("ip_access_list", &doc).finish();
    ws.ip_lists
        .items
        .insert(Sid::from(id.as_str()), Doc::from_value(&doc));
    Ok(json(text))
}

fn apply(st: &MockState, id: &str, body: &Bytes, partial: bool) -> Reply {
    let spec = body_object(body)?;
    check(&spec, partial)?;
    if !partial && !spec.contains_key("enabled") {
        return Err(super::http::missing("enabled"));
    }
    let mut ws = st.write();
    let now = ws.now();
    let by = caller_id(&ws);
    let doc = ws.ip_lists.items.get_mut(id).ok_or_else(|| unknown(id))?;
    doc.edit(|m| {
        for f in ["label", "list_type", "ip_addresses", "enabled"] {
            if let Some(v) = spec.get(f) {
                m.insert(f.into(), v.clone());
            }
        }
        let count = m
            .get("ip_addresses")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        m.insert("address_count".into(), Value::from(count));
        m.insert("updated_at".into(), Value::from(now));
        m.insert("updated_by".into(), Value::from(by));
    });
    Ok(empty())
}

async fn replace(State(st): State<MockState>, Path(id): Path<String>, body: Bytes) -> Reply {
    apply(&st, &id, &body, false)
}

async fn update(State(st): State<MockState>, Path(id): Path<String>, body: Bytes) -> Reply {
    apply(&st, &id, &body, true)
}

async fn delete(State(st): State<MockState>, Path(id): Path<String>) -> Reply {
    st.write()
        .ip_lists
        .items
        .remove(&id)
        .ok_or_else(|| unknown(&id))?;
    Ok(empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_validated() {
        assert!(valid_address("203.0.113.0/24"));
        assert!(valid_address("198.51.100.17"));
        assert!(valid_address("2001:db8::/32"));
        assert!(!valid_address("203.0.113.0/33"));
        assert!(!valid_address("not-an-ip"));
    }
}
