//! The text report: what ran, in order, each step on one line with its
//! virtual start and duration; what a step did indented under it; failures
//! with what was expected and what the workspace answered; the recovery
//! time against the RTO last.

use std::io::{self, Write};

use super::super::events::{RehearsalReport, StepOutcome};
use super::super::plan::format_duration;
use super::{at, hms_short, start_time, summary_line};

pub(super) fn render(reports: &[RehearsalReport], out: &mut dyn Write) -> io::Result<()> {
    for (i, r) in reports.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        one(r, out)?;
    }
    Ok(())
}

fn mark(outcome: StepOutcome) -> &'static str {
    match outcome {
        StepOutcome::Passed => "ok",
        StepOutcome::Failed => "FAILED",
        StepOutcome::Skipped => "skipped",
        StepOutcome::Interrupted => "INTERRUPTED",
    }
}

/// Writes `text` indented, one line per line of it.
fn block(out: &mut dyn Write, indent: &str, label: &str, text: &str) -> io::Result<()> {
    let pad = " ".repeat(label.chars().count());
    for (i, line) in text.lines().enumerate() {
        if i == 0 {
            writeln!(out, "{indent}{label}{line}")?;
        } else {
            writeln!(out, "{indent}{pad}{line}")?;
        }
    }
    Ok(())
}

fn one(r: &RehearsalReport, out: &mut dyn Write) -> io::Result<()> {
    let run = &r.run;
    writeln!(
        out,
        "rehearsal `{}` ({}): {}",
        run.plan,
        run.direction.name(),
        r.summary.outcome.word()
    )?;
    writeln!(
        out,
        "plan {}; RPO {}, RTO {}; {} time from {}",
        run.file,
        format_duration(run.rpo_secs),
        format_duration(run.rto_secs),
        if run.virtual_time {
            "virtual"
        } else {
            "wall-clock"
        },
        start_time(r)
    )?;
    let width = run
        .workspaces
        .iter()
        .map(|w| w.name.len())
        .max()
        .unwrap_or(0);
    for w in &run.workspaces {
        writeln!(
            out,
            "  {:width$}  {:9}  {}",
            w.name,
            w.role.name(),
            w.source
        )?;
    }
    for d in &run.warnings {
        writeln!(out, "  {d}")?;
    }
    writeln!(out)?;
    let n = r.steps.len().to_string().len();
    for s in &r.steps {
        let took = if s.outcome == StepOutcome::Skipped {
            "-".to_owned()
        } else {
            hms_short(s.duration_ms)
        };
        let ws = s
            .workspace
            .as_ref()
            .map(|w| format!(" [{w}]"))
            .unwrap_or_default();
        writeln!(
            out,
            "{:>n$}. {} {:>7} {:7} {}{ws} ({})",
            s.index + 1,
            at(s.started_ms),
            took,
            mark(s.outcome),
            s.name,
            s.kind
        )?;
        let indent = " ".repeat(n + 2);
        if let Some(m) = &s.message {
            block(out, &indent, "  ", m)?;
        }
        if let Some(e) = &s.expected {
            block(out, &indent, "  expected: ", e)?;
        }
        if let Some(a) = &s.actual {
            block(out, &indent, "  actual:   ", a)?;
        }
        for d in &s.details {
            block(out, &indent, "  - ", d)?;
        }
    }
    if !r.rollbacks.is_empty() {
        writeln!(out)?;
        writeln!(out, "rollbacks:")?;
        for rb in &r.rollbacks {
            writeln!(
                out,
                "  {} {:>7} {:7} {} of step `{}`",
                at(rb.started_ms),
                hms_short(rb.duration_ms),
                mark(rb.outcome),
                rb.action,
                rb.step
            )?;
            if let Some(m) = &rb.message {
                block(out, "    ", "", m)?;
            }
        }
    }
    writeln!(out)?;
    let s = &r.summary;
    let from = match &s.recovery_from {
        Some(step) => format!(
            "from the outage (step `{step}`, {})",
            at(s.recovery_start_ms)
        ),
        None => "from the start".to_owned(),
    };
    writeln!(
        out,
        "recovery time: {} {from} to the end of the last step; RTO {}: {}",
        hms_short(s.recovery_ms),
        format_duration(run.rto_secs),
        if s.within_rto { "within" } else { "BEYOND" }
    )?;
    match s.rpo_lag_ms {
        Some(lag) => writeln!(
            out,
            "replication lag: {}; RPO {}: {}",
            hms_short(lag),
            format_duration(run.rpo_secs),
            if lag <= s.rpo_ms { "within" } else { "BEYOND" }
        )?,
        None => writeln!(out, "replication lag: not measured (no `rpo` check ran)")?,
    }
    writeln!(out, "{}", summary_line(r))
}
