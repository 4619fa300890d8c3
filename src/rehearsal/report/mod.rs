//! Rehearsal reports: one renderer per format, each reading a
//! [`RehearsalReport`] (folded from the runner's events) and nothing else.
//!
//! Every renderer is deterministic: times are virtual (offsets from the
//! run's start, shown as `T+h:mm:ss`), so the same plan against the same
//! seeds gives the same bytes. Several reports (`standby rehearse a.yaml
//! b.yaml`) render as one document: JUnit's `<testsuites>` with a suite per
//! plan run, a JSON list, text and Markdown one after the other.

mod json;
mod junit;
mod markdown;
mod text;

use std::fmt;
use std::io::{self, Write};
use std::str::FromStr;

use super::events::RehearsalReport;

/// An output format of rehearsal reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReportFormat {
    /// For a terminal or CI log: one line per step, failures in full.
    Text,
    /// A Markdown page with the steps on a time axis against the RTO line.
    Markdown,
    /// `{"schema_version": 1, "rehearsals": [...]}`.
    Json,
    /// JUnit XML: a suite per plan run, a case per step.
    Junit,
}

impl ReportFormat {
    /// Every format, in the order help texts list them.
    pub const ALL: [ReportFormat; 4] = [
        ReportFormat::Text,
        ReportFormat::Markdown,
        ReportFormat::Json,
        ReportFormat::Junit,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ReportFormat::Text => "text",
            ReportFormat::Markdown => "markdown",
            ReportFormat::Json => "json",
            ReportFormat::Junit => "junit",
        }
    }
}

impl fmt::Display for ReportFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A format name that is not one of [`ReportFormat::ALL`].
#[derive(Debug, thiserror::Error)]
#[error("unknown report format `{0}` (expected one of: text, markdown, json, junit)")]
pub struct UnknownReportFormat(pub String);

impl FromStr for ReportFormat {
    type Err = UnknownReportFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ReportFormat::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| UnknownReportFormat(s.to_owned()))
    }
}

/// Renders one rehearsal.
pub fn render(
    format: ReportFormat,
    report: &RehearsalReport,
    out: &mut dyn Write,
) -> io::Result<()> {
    render_all(format, std::slice::from_ref(report), out)
}

/// Renders the rehearsals of one invocation as one document.
pub fn render_all(
    format: ReportFormat,
    reports: &[RehearsalReport],
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        ReportFormat::Text => text::render(reports, out),
        ReportFormat::Markdown => markdown::render(reports, out),
        ReportFormat::Json => json::render(reports, out),
        ReportFormat::Junit => junit::render(reports, out),
    }
}

/// The line a text report ends with, and the command line prints last.
pub fn summary_line(report: &RehearsalReport) -> String {
    let s = &report.summary;
    let passed = report
        .steps
        .iter()
        .filter(|x| x.outcome == super::events::StepOutcome::Passed)
        .count();
    let failed = s.failed_steps.len();
    let skipped = report.steps.len() - passed - failed;
    let rto = if s.within_rto { "within" } else { "beyond" };
    format!(
        "rehearsal {}: {passed} passed, {failed} failed, {skipped} not run; recovery {} {rto} RTO {}",
        s.outcome.word().to_lowercase(),
        hms_short(s.recovery_ms),
        super::plan::format_duration(report.run.rto_secs)
    )
}

/// `T+1:05:00` for an offset in virtual ms since the run started.
pub fn at(ms: i64) -> String {
    let secs = ms.max(0) / 1000;
    format!("T+{}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

/// `50m30s` for a duration in ms (whole seconds, rounded up).
pub(crate) fn hms_short(ms: i64) -> String {
    super::runner::fmt_ms(ms)
}

/// The virtual start as RFC 3339.
pub(crate) fn start_time(report: &RehearsalReport) -> String {
    let t = std::time::UNIX_EPOCH
        + std::time::Duration::from_millis(u64::try_from(report.run.start_ms).unwrap_or(0));
    crate::capture::rfc3339(t)
}
