//! Workspace objects (notebooks, files, folders, libraries, dashboards, repo
//! roots), keyed by `path`.
//!
//! Content: path, object type, notebook language and, when the capture hashed
//! sources, `content_sha256`. The `object_id` (differs per workspace),
//! `resource_id`, `size` and creation time are dropped; `modified_at` is kept
//! beside the content.

use serde_json::Value;

use super::catalogs::pick;
use super::{Draft, Resolver, str_field};

/// The compared fields.
const CONTENT: &[&str] = &["path", "object_type", "language", "content_sha256"];

pub(crate) fn normalize(objects: &[Value], _r: &Resolver) -> Vec<Draft> {
    objects
        .iter()
        .filter_map(|object| {
            let key = str_field(object, "path")?.to_owned();
            let mut draft = Draft::new(key, pick(object, CONTENT));
            draft.modified_at = object.get("modified_at").and_then(Value::as_i64);
            Some(draft)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn notebooks_and_folders_keyed_by_path_without_ids() {
        let raw = json!([
            {
                "path": "/Shared/etl/ingest", "object_type": "NOTEBOOK", "language": "PYTHON",
                "object_id": 1_234_567_890_123_456i64, "resource_id": "1234567890123456",
                "created_at": 1_690_000_000_000i64, "modified_at": 1_700_000_000_000i64, "size": 4096,
                "content_sha256": "822ae07d4783158bc1912bb623e5107cc9002d519e1143a9c200ed6ee18b6d0f"
            },
            {"path": "/Shared/etl", "object_type": "DIRECTORY", "object_id": 42, "resource_id": "42"},
            {"object_type": "FILE", "object_id": 7}
        ]);
        let drafts = normalize(raw.as_array().unwrap(), &Resolver::default());
        assert_eq!(drafts.len(), 2);
        assert_eq!(drafts[0].key, "/Shared/etl/ingest");
        assert_eq!(drafts[0].modified_at, Some(1_700_000_000_000));
        assert!(drafts[0].refs.is_empty());
        assert_eq!(
            drafts[0].content,
            json!({
                "path": "/Shared/etl/ingest", "object_type": "NOTEBOOK", "language": "PYTHON",
                "content_sha256": "822ae07d4783158bc1912bb623e5107cc9002d519e1143a9c200ed6ee18b6d0f"
            })
        );
        assert_eq!(drafts[1].key, "/Shared/etl");
        assert_eq!(drafts[1].modified_at, None);
        assert_eq!(
            drafts[1].content,
            json!({"path": "/Shared/etl", "object_type": "DIRECTORY"})
        );
    }

    #[test]
    fn the_same_object_in_two_workspaces_compares_equal() {
        let primary = json!({"path": "/Shared/a", "object_type": "FILE", "object_id": 1, "modified_at": 10, "size": 3});
        let secondary = json!({"path": "/Shared/a", "object_type": "FILE", "object_id": 99, "modified_at": 20, "size": 3});
        let r = Resolver::default();
        assert_eq!(
            normalize(&[primary], &r)[0].content,
            normalize(&[secondary], &r)[0].content
        );
    }
}
