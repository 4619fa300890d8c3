//! Counting a report the way every renderer shows it, and the one-line
//! summary that ends the text report.
//!
//! # The summary line
//!
//! Exactly one format, in two shapes:
//!
//! ```text
//! no drift: <K> kind[s] compared[; <B> baselined][; <U> kind[s] unknown]
//! drift: <N> finding[s] (<c> critical, <e> error, <w> warning) in <D> of <K> kind[s][; <B> baselined][; <U> kind[s] unknown]
//! ```
//!
//! - `K`: the kinds in the report (its summary), unknown ones included;
//! - `N`: failing findings: not baselined and not of class `unknown`;
//!   `c + e + w = N`, all three always shown;
//! - `D`: kinds with at least one failing finding;
//! - `B`: findings the baseline accepts (shown only when not 0);
//! - `U`: kinds incomplete on either side, so not judged (shown only when
//!   not 0; the check then exits 2 even when the line starts `no drift`).
//!
//! As a regular expression:
//! `^(no drift: \d+ kinds? compared|drift: \d+ findings? \(\d+ critical, \d+ error, \d+ warning\) in \d+ of \d+ kinds?)(; \d+ baselined)?(; \d+ kinds? unknown)?$`

use std::collections::BTreeMap;

use crate::diff::{DriftReport, Finding, FindingClass, KindStatus, Severity};
use crate::kind::Kind;

/// Failing findings by severity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct SeverityCounts {
    pub critical: usize,
    pub error: usize,
    pub warning: usize,
}

impl SeverityCounts {
    fn add(&mut self, severity: Severity) {
        match severity {
            Severity::Critical => self.critical += 1,
            Severity::Error => self.error += 1,
            Severity::Warning => self.warning += 1,
        }
    }

    /// All failing findings.
    pub fn total(self) -> usize {
        self.critical + self.error + self.warning
    }

    /// `2 critical, 7 error, 3 warning` (all three, for a fixed shape).
    pub fn all(self) -> String {
        format!(
            "{} critical, {} error, {} warning",
            self.critical, self.error, self.warning
        )
    }

    /// Only the non-zero counts: `2 critical, 3 warning`.
    pub fn nonzero(self) -> String {
        [
            (self.critical, "critical"),
            (self.error, "error"),
            (self.warning, "warning"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, name)| format!("{n} {name}"))
        .collect::<Vec<_>>()
        .join(", ")
    }
}

/// One kind's counts, as every renderer shows them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct KindTally {
    pub kind: Kind,
    /// Either side incomplete (by the summary's status or an `unknown` finding).
    pub unknown: bool,
    /// Objects compared, from the report's summary.
    pub compared: usize,
    /// Failing findings.
    pub failing: SeverityCounts,
    /// Findings the baseline accepts.
    pub baselined: usize,
}

impl KindTally {
    /// `drift`, `unknown` or `ok`.
    pub fn status(&self) -> &'static str {
        if self.unknown {
            "unknown"
        } else if self.failing.total() > 0 {
            "drift"
        } else {
            "ok"
        }
    }
}

/// Whole-report counts.
///
/// Counted from `findings` (the summary's per-class counts are not trusted
/// to agree); only `status` and `compared` come from the summary. Kinds that
/// have findings but no summary entry are counted too.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Tally {
    /// Per kind, in kind order.
    pub kinds: Vec<KindTally>,
    pub failing: SeverityCounts,
    pub baselined: usize,
}

/// Whether a finding fails the check (it is neither baselined nor `unknown`).
pub(crate) fn is_failing(f: &Finding) -> bool {
    !f.baselined && f.class != FindingClass::Unknown
}

impl Tally {
    /// Counts `report`.
    pub fn of(report: &DriftReport) -> Tally {
        let mut kinds: BTreeMap<Kind, KindTally> = BTreeMap::new();
        let blank = |kind| KindTally {
            kind,
            unknown: false,
            compared: 0,
            failing: SeverityCounts::default(),
            baselined: 0,
        };
        for (&kind, summary) in &report.summary {
            let tally = kinds.entry(kind).or_insert_with(|| blank(kind));
            tally.unknown = summary.status == KindStatus::Unknown;
            tally.compared = summary.compared;
        }
        let mut failing = SeverityCounts::default();
        let mut baselined = 0;
        for f in &report.findings {
            let tally = kinds.entry(f.kind).or_insert_with(|| blank(f.kind));
            if f.class == FindingClass::Unknown {
                tally.unknown = true;
            } else if f.baselined {
                tally.baselined += 1;
                baselined += 1;
            } else {
                tally.failing.add(f.severity);
                failing.add(f.severity);
            }
        }
        Tally {
            kinds: kinds.into_values().collect(),
            failing,
            baselined,
        }
    }

    /// Kinds with at least one failing finding.
    pub fn drifted_kinds(&self) -> usize {
        self.kinds.iter().filter(|k| k.failing.total() > 0).count()
    }

    /// Kinds not judged.
    pub fn unknown_kinds(&self) -> usize {
        self.kinds.iter().filter(|k| k.unknown).count()
    }

    /// The summary line (see the module docs for its exact format).
    pub fn line(&self) -> String {
        let k = self.kinds.len();
        let mut line = if self.failing.total() == 0 {
            format!("no drift: {k} {} compared", plural(k, "kind"))
        } else {
            let n = self.failing.total();
            format!(
                "drift: {n} {} ({}) in {} of {k} {}",
                plural(n, "finding"),
                self.failing.all(),
                self.drifted_kinds(),
                plural(k, "kind")
            )
        };
        if self.baselined > 0 {
            line.push_str(&format!("; {} baselined", self.baselined));
        }
        let u = self.unknown_kinds();
        if u > 0 {
            line.push_str(&format!("; {u} {} unknown", plural(u, "kind")));
        }
        line
    }
}

/// Sorting key of a finding within its kind: failing (and unknown) first,
/// then severity, class, key, id.
fn finding_order(f: &Finding) -> (bool, Severity, FindingClass, &str, &str) {
    (
        f.baselined && f.class != FindingClass::Unknown,
        f.severity,
        f.class,
        &f.key,
        &f.id,
    )
}

/// Kinds with something to show (findings, or not judged) and their
/// findings, the kind with the most severe failing or unknown finding first;
/// kinds with baselined findings only come last; ties keep kind order.
pub(crate) fn grouped<'a>(
    report: &'a DriftReport,
    tally: &'a Tally,
) -> Vec<(&'a KindTally, Vec<&'a Finding>)> {
    let mut groups: Vec<(&KindTally, Vec<&Finding>)> = tally
        .kinds
        .iter()
        .map(|k| {
            let mut findings: Vec<&Finding> = report
                .findings
                .iter()
                .filter(|f| f.kind == k.kind)
                .collect();
            findings.sort_by(|a, b| finding_order(a).cmp(&finding_order(b)));
            (k, findings)
        })
        .filter(|(k, findings)| k.unknown || !findings.is_empty())
        .collect();
    // `sort_by_key` is stable: ties keep kind order.
    groups.sort_by_key(|(_, findings)| {
        findings
            .iter()
            .filter(|f| is_failing(f) || f.class == FindingClass::Unknown)
            .map(|f| f.severity)
            .min()
            .map_or((1, Severity::Warning), |s| (0, s))
    });
    groups
}

impl KindTally {
    /// A kind's heading: `jobs: 5 findings (2 critical, 3 error); 1 baselined`,
    /// `grants: unknown, not compared`.
    pub fn heading(&self) -> String {
        let mut parts = Vec::new();
        if self.unknown {
            parts.push("unknown, not compared".to_owned());
        }
        let n = self.failing.total();
        if n > 0 {
            parts.push(format!(
                "{n} {} ({})",
                plural(n, "finding"),
                self.failing.nonzero()
            ));
        }
        if self.baselined > 0 {
            parts.push(format!("{} baselined", self.baselined));
        }
        if parts.is_empty() {
            parts.push("no drift".to_owned());
        }
        format!("{}: {}", self.kind.name(), parts.join("; "))
    }
}

/// The lowercase name of a severity, as reports show it.
pub(crate) fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "critical",
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// `word` or `words`.
pub(crate) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        word.to_owned()
    } else {
        format!("{word}s")
    }
}

/// The one-line summary of a report, as the text report's last line.
///
/// ```text
/// no drift: <K> kind[s] compared[; <B> baselined][; <U> kind[s] unknown]
/// drift: <N> finding[s] (<c> critical, <e> error, <w> warning) in <D> of <K> kind[s][; <B> baselined][; <U> kind[s] unknown]
/// ```
///
/// `K` counts every kind in the report (unknown ones included), `N` the
/// failing findings (not baselined, not `unknown`), `D` the kinds with a
/// failing finding, `B` the baselined findings, `U` the kinds not judged
/// because a side was incomplete. The bracketed parts appear only when they
/// apply; the severity triple always shows all three counts.
pub fn summary_line(report: &DriftReport) -> String {
    Tally::of(report).line()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{KindSummary, PairFacts, Role, SCHEMA_VERSION, SideFacts};

    fn report(kinds: &[(Kind, KindStatus)], findings: Vec<Finding>) -> DriftReport {
        let side = |host: &str| SideFacts {
            host: host.into(),
            captured_at: "2024-05-01T02:00:00Z".into(),
            captured_at_ms: 1_714_528_800_000,
        };
        DriftReport {
            schema_version: SCHEMA_VERSION,
            pair: PairFacts {
                name: "p".into(),
                primary: side("https://a"),
                secondary: side("https://b"),
                secondary_role: Role::Passive,
                rpo_secs: None,
                rto_secs: None,
            },
            summary: kinds
                .iter()
                .map(|&(kind, status)| {
                    (
                        kind,
                        KindSummary {
                            status,
                            ..KindSummary::default()
                        },
                    )
                })
                .collect(),
            findings,
            lag: None,
            compared: BTreeMap::new(),
        }
    }

    fn finding(kind: Kind, class: FindingClass, severity: Severity, baselined: bool) -> Finding {
        Finding {
            id: format!("{}/{kind}/k", class.name()),
            class,
            severity,
            kind,
            key: "k".into(),
            message: "m".into(),
            fields: Vec::new(),
            rule: None,
            hint: None,
            baselined,
        }
    }

    #[test]
    fn clean_report_says_no_drift() {
        let all: Vec<_> = Kind::ALL
            .iter()
            .map(|&k| (k, KindStatus::Complete))
            .collect();
        assert_eq!(
            summary_line(&report(&all, vec![])),
            "no drift: 22 kinds compared"
        );
        let one = [(Kind::Jobs, KindStatus::Complete)];
        assert_eq!(
            summary_line(&report(&one, vec![])),
            "no drift: 1 kind compared"
        );
    }

    #[test]
    fn drift_counts_failing_findings_only() {
        use FindingClass::*;
        let kinds = [
            (Kind::Jobs, KindStatus::Complete),
            (Kind::Clusters, KindStatus::Complete),
            (Kind::Grants, KindStatus::Unknown),
            (Kind::Users, KindStatus::Complete),
        ];
        let findings = vec![
            finding(Kind::Jobs, PassiveViolation, Severity::Critical, false),
            finding(Kind::Jobs, Changed, Severity::Error, false),
            finding(Kind::Clusters, Extra, Severity::Warning, false),
            finding(Kind::Users, Extra, Severity::Warning, true),
            finding(Kind::Grants, Unknown, Severity::Error, false),
        ];
        assert_eq!(
            summary_line(&report(&kinds, findings)),
            "drift: 3 findings (1 critical, 1 error, 1 warning) in 2 of 4 kinds; 1 baselined; 1 kind unknown"
        );
    }

    #[test]
    fn only_baselined_and_unknown_is_no_drift_with_both_suffixes() {
        let kinds = [
            (Kind::Users, KindStatus::Complete),
            (Kind::Tables, KindStatus::Complete),
        ];
        let findings = vec![
            finding(Kind::Users, FindingClass::Changed, Severity::Error, true),
            finding(Kind::Users, FindingClass::Missing, Severity::Error, true),
            // An unknown finding marks the kind unknown even if the summary disagrees.
            finding(Kind::Tables, FindingClass::Unknown, Severity::Error, false),
        ];
        assert_eq!(
            summary_line(&report(&kinds, findings)),
            "no drift: 2 kinds compared; 2 baselined; 1 kind unknown"
        );
    }

    #[test]
    fn singular_forms_and_kinds_missing_from_the_summary() {
        let findings = vec![finding(
            Kind::Repos,
            FindingClass::Missing,
            Severity::Error,
            false,
        )];
        assert_eq!(
            summary_line(&report(&[], findings)),
            "drift: 1 finding (0 critical, 1 error, 0 warning) in 1 of 1 kind"
        );
    }
}
