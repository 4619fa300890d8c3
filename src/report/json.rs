//! The JSON report: the [`DriftReport`] itself, pretty-printed, for
//! programs. Stable: the same report gives the same bytes (maps are sorted,
//! findings come sorted from the diff), with a trailing newline.
//!
//! # Schema (`schema_version` 1)
//!
//! Fields marked *optional* are left out when empty or absent.
//!
//! ```text
//! {
//!   "schema_version": 1,                  // always first; see diff::SCHEMA_VERSION's changelog
//!   "pair": {
//!     "name": "prod → dr",                // the pair's name from the config, or "primary/secondary"
//!     "primary":   { "host": "https://…", "captured_at": "RFC 3339", "captured_at_ms": 1714528800000 },
//!     "secondary": { "host": "https://…", "captured_at": "RFC 3339", "captured_at_ms": 1714529050000 },
//!     "secondary_role": "passive",        // "passive" | "active"
//!     "rpo_secs": 900,                    // optional: recovery point objective, seconds
//!     "rto_secs": 3600                    // optional: recovery time objective, seconds
//!   },
//!   "summary": {                          // one entry per compared kind, in kind order
//!     "jobs": {
//!       "status": "complete",             // "complete" | "unknown" (a side was incomplete: not judged)
//!       "compared": 4,                    // distinct natural keys over both sides
//!       "findings": { "changed": 1 },     // per finding class; classes with none left out
//!       "baselined": 1                    // optional: findings the baseline accepts
//!     }
//!   },
//!   "findings": [                         // most severe first, then kind, key, class, id
//!     {
//!       "id": "changed/jobs/ingest#2",    // stable: `<class>/<kind>/<key>`, `#<n>` for repeats
//!       "class": "changed",               // missing | extra | changed | passive_violation |
//!                                         // dangling_reference | duplicate_key | unknown | replication_lag
//!       "severity": "error",              // critical | error | warning
//!       "kind": "jobs",                   // a kind name, as in `--kinds`
//!       "key": "ingest",                  // the object's natural key
//!       "message": "…",                   // one line a person can read
//!       "fields": [                       // optional: differing fields, sorted by path
//!         { "path": "settings.timeout_seconds",
//!           "primary": 3600,              // optional: absent on that side when left out
//!           "secondary": 0 }              // optional: likewise; any JSON value
//!       ],
//!       "rule": "passive.jobs.paused",    // optional: the rule that applied
//!       "hint": "…",                      // optional: what would fix it
//!       "baselined": true                 // optional: present (true) only when the baseline accepts it
//!     }
//!   ],
//!   "lag": {                              // optional: when modification times allow measuring it
//!     "max_lag_ms": 1200000,              // the largest lag over all objects, ms
//!     "worst": ["jobs", "nightly-etl"],   // [kind, key] of the object lagging most, or null
//!     "within_rpo": false                 // optional: left out without an RPO target
//!   }
//! }
//! ```
//!
//! `DriftReport::compared` (every compared key) is not part of the JSON
//! report: it would make the file as large as the snapshots.

use std::io::{self, Write};

use crate::diff::DriftReport;

use super::{RenderOptions, Renderer};

/// The JSON renderer.
#[derive(Clone, Copy, Debug, Default)]
pub struct Json;

impl Renderer for Json {
    fn render(
        &self,
        report: &DriftReport,
        _options: &RenderOptions,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, report).map_err(io::Error::other)?;
        writeln!(out)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;
    use crate::report::fixture;

    fn render(report: &DriftReport) -> String {
        let mut out = Vec::new();
        Json.render(report, &RenderOptions::default(), &mut out)
            .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn snapshot() {
        insta::with_settings!({ snapshot_path => "../../snapshots", prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!("report__json", render(&fixture::drifted()));
        });
    }

    #[test]
    fn schema_version_first_and_trailing_newline() {
        let text = render(&fixture::drifted());
        assert!(
            text.starts_with("{\n  \"schema_version\": 1,\n  \"pair\": {\n"),
            "{text}"
        );
        assert!(text.ends_with("}\n") && !text.ends_with("\n\n"));
        assert!(
            !text.contains("\"compared\": ["),
            "compared keys are not in the JSON"
        );
        assert!(text.contains("\"worst\": [\n      \"jobs\",\n      \"nightly-etl\"\n    ]"));
    }

    #[test]
    fn parses_back() {
        let report = fixture::drifted();
        let back: DriftReport = serde_json::from_str(&render(&report)).unwrap();
        assert_eq!(
            back,
            DriftReport {
                compared: BTreeMap::new(),
                ..report
            }
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_report_parses_back(report in fixture::arb::report()) {
            let text = render(&report);
            let back: DriftReport = serde_json::from_str(&text)
                .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
            prop_assert_eq!(back, DriftReport { compared: BTreeMap::new(), ..report });
        }
    }
}
