//! SCIM groups: `/api/2.0/preview/scim/v2/Groups`, and the membership
//! bookkeeping that keeps a group's `members` and each member's `groups` in
//! step, as the service does.

use axum::Router;
use serde_json::Value;

use super::error::StoreError;
use super::fixture::LoadError;
use super::scim::{self, ScimKind, group_ref, ids_in, member_ref};
use super::state::MockState;
use super::store::Workspace;

/// Adds one fixture group.
pub(crate) fn load(ws: &mut Workspace, raw: &str) -> Result<(), LoadError> {
    ws.load_scim(ScimKind::Groups, raw)
}

/// The group routes.
pub(crate) fn routes() -> Router<MockState> {
    scim::routes(ScimKind::Groups)
}

/// Removes every `{"value": id}` entry from the array `field` of a map.
fn drop_refs(map: &mut serde_json::Map<String, Value>, field: &str, id: &str) {
    if let Some(Value::Array(items)) = map.get_mut(field) {
        items.retain(|i| i.get("value").and_then(Value::as_str) != Some(id));
        if items.is_empty() {
            map.remove(field);
        }
    }
}

impl Workspace {
    fn principal_mut(&mut self, id: &str) -> Option<&mut scim::ScimEntry> {
        let kind = self.scim_kind_of(id)?;
        kind.store_mut(self).items.get_mut(id)
    }

    /// Sets a group's direct members to `new` (ids of users, service
    /// principals or groups) and updates each member's `groups`.
    pub(crate) fn set_members(&mut self, gid: &str, new: Vec<String>) -> Result<(), StoreError> {
        let group = self
            .groups
            .get(gid)
            .ok_or_else(|| StoreError::NotFound(format!("Group {gid} not found")))?;
        let group_name = group.key.to_string();
        let old = ids_in(group.doc.to_map().get("members"));
        let mut members: Vec<String> = Vec::new();
        for id in new {
            if id == gid {
                return Err(StoreError::Invalid(
                    "A group cannot be a member of itself.".into(),
                ));
            }
            if !members.contains(&id) {
                members.push(id);
            }
        }
        let mut refs = Vec::with_capacity(members.len());
        for id in &members {
            let kind = self
                .scim_kind_of(id)
                .ok_or_else(|| StoreError::Invalid(format!("Member {id} does not exist.")))?;
            let display = kind
                .store(self)
                .get(id)
                .map(|e| e.display.to_string())
                .unwrap_or_default();
            refs.push(member_ref(kind, id, &display));
        }
        if let Some(g) = self.groups.items.get_mut(gid) {
            g.doc.edit(|m| {
                if refs.is_empty() {
                    m.remove("members");
                } else {
                    m.insert("members".into(), Value::Array(refs));
                }
            });
        }
        for id in members.iter().filter(|m| !old.contains(m)) {
            if let Some(p) = self.principal_mut(id) {
                p.doc.edit(|m| {
                    let groups = m
                        .entry("groups")
                        .or_insert_with(|| Value::Array(Vec::new()));
                    if let Value::Array(items) = groups {
                        if !items
                            .iter()
                            .any(|i| i.get("value").and_then(Value::as_str) == Some(gid))
                        {
                            items.push(group_ref(gid, &group_name));
                        }
                    }
                });
            }
        }
        for id in old.iter().filter(|m| !members.contains(m)) {
            if let Some(p) = self.principal_mut(id) {
                p.doc.edit(|m| drop_refs(m, "groups", gid));
            }
        }
        Ok(())
    }

    /// Adds one member to a group.
    pub(crate) fn add_member(&mut self, gid: &str, member: &str) -> Result<(), StoreError> {
        let group = self
            .groups
            .get(gid)
            .ok_or_else(|| StoreError::NotFound(format!("Group {gid} not found")))?;
        let mut members = ids_in(group.doc.to_map().get("members"));
        members.push(member.to_owned());
        self.set_members(gid, members)
    }

    /// Deletes a principal and every membership naming it.
    pub(crate) fn remove_principal(&mut self, kind: ScimKind, id: &str) {
        let Some(entry) = kind.store_mut(self).remove(id) else {
            return;
        };
        let map = entry.doc.to_map();
        for parent in ids_in(map.get("groups")) {
            if let Some(g) = self.groups.items.get_mut(&parent) {
                g.doc.edit(|m| drop_refs(m, "members", id));
            }
        }
        if kind == ScimKind::Groups {
            for member in ids_in(map.get("members")) {
                if let Some(p) = self.principal_mut(&member) {
                    p.doc.edit(|m| drop_refs(m, "groups", id));
                }
            }
        }
    }

    /// After a rename, updates the `display` other resources show for it.
    pub(crate) fn refresh_member_refs(&mut self, kind: ScimKind, id: &str) {
        let Some(entry) = kind.store(self).get(id) else {
            return;
        };
        let display = entry.display.to_string();
        let key = entry.key.to_string();
        let map = entry.doc.to_map();
        let set_display = |m: &mut serde_json::Map<String, Value>, field: &str, shown: &str| {
            if let Some(Value::Array(items)) = m.get_mut(field) {
                for item in items
                    .iter_mut()
                    .filter(|i| i.get("value").and_then(Value::as_str) == Some(id))
                {
                    if let Value::Object(o) = item {
                        o.insert("display".into(), Value::from(shown));
                    }
                }
            }
        };
        for parent in ids_in(map.get("groups")) {
            if let Some(g) = self.groups.items.get_mut(&parent) {
                g.doc.edit(|m| set_display(m, "members", &display));
            }
        }
        if kind == ScimKind::Groups {
            for member in ids_in(map.get("members")) {
                if let Some(p) = self.principal_mut(&member) {
                    p.doc.edit(|m| set_display(m, "groups", &key));
                }
            }
        }
    }
}
