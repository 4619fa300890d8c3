//! Ignore rules: findings a pair's config accepts as not drift, each with a
//! reason. An ignore drops a finding whose kind and key match; with a field
//! glob it drops only the matching field differences, and the finding with
//! them when none is left.

use crate::kind::Kind;
use crate::snapshot::{RecordAccess, SnapshotAccess};

use super::glob::glob_match;
use super::model::{Finding, FindingClass};
use super::rules::{Ignore, Rules};

/// True when `ignore` applies to objects of `kind` with this key.
fn covers(ignore: &Ignore, kind: Kind, key: &str) -> bool {
    ignore.kind.is_none_or(|k| k == kind) && glob_match(&ignore.key, key)
}

/// True when a whole-object ignore covers `kind`/`key`.
pub(crate) fn ignores_object(ignores: &[Ignore], kind: Kind, key: &str) -> bool {
    ignores
        .iter()
        .any(|i| i.field.is_none() && covers(i, kind, key))
}

/// Applies the ignores to one finding; false when it is dropped.
///
/// `unknown` findings are never ignored: an incomplete capture is not drift,
/// it is a check that could not be done.
pub(crate) fn keep(ignores: &[Ignore], finding: &mut Finding) -> bool {
    if finding.class == FindingClass::Unknown {
        return true;
    }
    let had_fields = !finding.fields.is_empty();
    for ignore in ignores {
        if !covers(ignore, finding.kind, &finding.key) {
            continue;
        }
        match &ignore.field {
            None => return false,
            Some(glob) => finding.fields.retain(|f| !glob_match(glob, &f.path)),
        }
    }
    !(had_fields && finding.fields.is_empty())
}

/// The ignores whose key glob matches no object of their kind (or of any
/// kind) in either snapshot: probably a typo, which the config layer reports
/// with the rule's file and line.
pub fn unmatched_ignores<'r, S: SnapshotAccess>(
    rules: &'r Rules,
    primary: &S,
    secondary: &S,
) -> Vec<&'r Ignore> {
    let sections = [primary.sections(), secondary.sections()];
    rules
        .ignores
        .iter()
        .filter(|ignore| {
            !sections.iter().flatten().any(|(kind, _, records)| {
                ignore.kind.is_none_or(|k| k == *kind)
                    && records.iter().any(|r| glob_match(&ignore.key, r.key()))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::diff::model::{FieldDiff, Severity};

    fn ignore(kind: Option<Kind>, key: &str, field: Option<&str>) -> Ignore {
        Ignore {
            kind,
            key: key.into(),
            field: field.map(Into::into),
            reason: "managed by terraform in each region".into(),
            origin: "standby.toml:12".into(),
        }
    }

    fn changed(fields: &[&str]) -> Finding {
        Finding {
            id: "changed/clusters/shared".into(),
            class: FindingClass::Changed,
            severity: Severity::Warning,
            kind: Kind::Clusters,
            key: "shared".into(),
            message: "fields differ".into(),
            fields: fields
                .iter()
                .map(|p| FieldDiff {
                    path: (*p).into(),
                    primary: Some(json!(1)),
                    secondary: Some(json!(2)),
                })
                .collect(),
            rule: None,
            hint: None,
            baselined: false,
        }
    }

    #[test]
    fn field_globs_remove_fields_and_empty_findings() {
        let ignores = [ignore(
            Some(Kind::Clusters),
            "sha*",
            Some("aws_attributes.*"),
        )];
        let mut f = changed(&["aws_attributes.zone_id", "num_workers"]);
        assert!(keep(&ignores, &mut f));
        assert_eq!(f.fields.len(), 1);
        assert_eq!(f.fields[0].path, "num_workers");
        let mut f = changed(&["aws_attributes.zone_id"]);
        assert!(!keep(&ignores, &mut f));
    }

    #[test]
    fn whole_object_ignores_match_kind_and_key() {
        let ignores = [ignore(None, "shared", None)];
        assert!(!keep(&ignores, &mut changed(&["x"])));
        assert!(ignores_object(&ignores, Kind::Jobs, "shared"));
        let other_kind = [ignore(Some(Kind::Jobs), "shared", None)];
        assert!(keep(&other_kind, &mut changed(&["x"])));
        let mut unknown = changed(&[]);
        unknown.class = FindingClass::Unknown;
        assert!(keep(&ignores, &mut unknown));
    }
}
