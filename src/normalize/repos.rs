//! Git folders (repos), keyed by workspace `path`.
//!
//! Content: path, remote url, provider, branch and sparse-checkout patterns
//! (a set, sorted). The repo id and `head_commit_id` (which moves on every
//! pull, and lags on a secondary by design) are dropped.

use serde_json::Value;

use super::canon::sort_array;
use super::catalogs::pick;
use super::{Draft, Resolver, str_field};

/// The compared fields.
const CONTENT: &[&str] = &["path", "url", "provider", "branch", "sparse_checkout"];

pub(crate) fn normalize(objects: &[Value], _r: &Resolver) -> Vec<Draft> {
    objects
        .iter()
        .filter_map(|repo| {
            let key = str_field(repo, "path")?.to_owned();
            let mut content = pick(repo, CONTENT);
            if let Some(sparse) = content.get_mut("sparse_checkout") {
                sort_array(sparse, "patterns");
            }
            Some(Draft::new(key, content))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn keyed_by_path_without_ids_or_commit() {
        let raw = json!({
            "id": 5081234567890123i64, "path": "/Repos/ana@example.com/etl",
            "url": "https://github.com/acme/etl.git", "provider": "gitHub", "branch": "main",
            "head_commit_id": "7e0847ede61f07adede22e2bcce6050216489171",
            "sparse_checkout": {"patterns": ["src", "conf"]}
        });
        let drafts = normalize(&[raw], &Resolver::default());
        assert_eq!(drafts.len(), 1);
        assert_eq!(drafts[0].key, "/Repos/ana@example.com/etl");
        assert_eq!(drafts[0].modified_at, None);
        assert!(drafts[0].refs.is_empty());
        assert_eq!(
            drafts[0].content,
            json!({
                "path": "/Repos/ana@example.com/etl", "url": "https://github.com/acme/etl.git",
                "provider": "gitHub", "branch": "main", "sparse_checkout": {"patterns": ["conf", "src"]}
            })
        );
    }

    #[test]
    fn sparse_checkout_patterns_are_a_set_and_repos_without_a_path_are_skipped() {
        let a = json!({"id": 1, "path": "/Repos/x", "url": "u", "sparse_checkout": {"patterns": ["a", "b"]}});
        let b = json!({"id": 2, "path": "/Repos/x", "url": "u", "sparse_checkout": {"patterns": ["b", "a"]}});
        let r = Resolver::default();
        assert_eq!(
            normalize(&[a], &r)[0].content,
            normalize(&[b], &r)[0].content
        );
        assert!(normalize(&[json!({"id": 3, "url": "u"})], &r).is_empty());
    }
}
