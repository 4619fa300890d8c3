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

use std::io::{self, Write};

use super::events::RehearsalReport;

/// The output formats of rehearsal reports are the drift report's four:
/// text, Markdown (here a timeline against the RTO line), JSON and JUnit.
pub use crate::report::{Format as ReportFormat, UnknownFormat as UnknownReportFormat};

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
