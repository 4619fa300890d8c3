//! The Markdown report: a timeline people can look at.
//!
//! A summary table (outcome, recovery time against the RTO, replication lag
//! against the RPO), then the steps on a time axis: a fixed-width chart
//! where each step is a bar from its start to its end and the RTO line is a
//! column of `┃` (readable in any viewer, and in a terminal), the same as a
//! Mermaid `gantt` block (which GitHub and GitLab draw) with the outage and
//! the RTO as milestones, and a table of every step. Failures follow, each
//! with what was expected and what the workspace answered.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::super::events::{RehearsalReport, StepOutcome, StepRecord};
use super::super::plan::format_duration;
use super::{at, hms_short, start_time};

/// Columns of the chart's time axis.
const AXIS: usize = 64;
/// Longest step name shown in the chart.
const NAME: usize = 34;

pub(super) fn render(reports: &[RehearsalReport], out: &mut dyn Write) -> io::Result<()> {
    for (i, r) in reports.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        one(r, out)?;
    }
    Ok(())
}

/// Text for a table cell: pipes escaped, one line.
fn cell(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn icon(outcome: StepOutcome) -> &'static str {
    match outcome {
        StepOutcome::Passed => "✅ passed",
        StepOutcome::Failed => "❌ failed",
        StepOutcome::Skipped => "⏭️ not run",
        StepOutcome::Interrupted => "⛔ interrupted",
    }
}

/// Text inside a fenced block: a fence in it cannot end the block early.
fn fenced(text: &str) -> String {
    text.replace("```", "`\u{200b}``")
}

fn one(r: &RehearsalReport, out: &mut dyn Write) -> io::Result<()> {
    let s = &r.summary;
    let run = &r.run;
    let verdict = match s.outcome {
        super::super::events::RunOutcome::Passed => "✅ passed",
        super::super::events::RunOutcome::Failed => "❌ failed",
        super::super::events::RunOutcome::Interrupted => "⛔ interrupted",
    };
    writeln!(out, "## Rehearsal: {} — {verdict}", cell(&run.plan))?;
    writeln!(out)?;
    writeln!(out, "| | |")?;
    writeln!(out, "|---|---|")?;
    writeln!(
        out,
        "| plan | `{}` ({}) |",
        cell(&run.file),
        run.direction.name()
    )?;
    for w in &run.workspaces {
        writeln!(
            out,
            "| {} ({}) | {} |",
            cell(&w.name),
            w.role.name(),
            cell(&w.source)
        )?;
    }
    let from = match &s.recovery_from {
        Some(step) => format!("from the outage (step “{}”)", cell(step)),
        None => "from the start".to_owned(),
    };
    writeln!(
        out,
        "| recovery time | {} {from}; RTO {} {} |",
        hms_short(s.recovery_ms),
        format_duration(run.rto_secs),
        if s.within_rto {
            "✅ within"
        } else {
            "❌ beyond"
        }
    )?;
    match s.rpo_lag_ms {
        Some(lag) => writeln!(
            out,
            "| replication lag | {}; RPO {} {} |",
            hms_short(lag),
            format_duration(run.rpo_secs),
            if lag <= s.rpo_ms {
                "✅ within"
            } else {
                "❌ beyond"
            }
        )?,
        None => writeln!(out, "| replication lag | not measured |")?,
    }
    writeln!(
        out,
        "| time | {}, from {} |",
        if run.virtual_time {
            "virtual"
        } else {
            "wall clock"
        },
        start_time(r)
    )?;
    writeln!(out)?;
    writeln!(out, "### Timeline")?;
    writeln!(out)?;
    writeln!(out, "```text")?;
    write!(out, "{}", fenced(&chart(r)))?;
    writeln!(out, "```")?;
    writeln!(out)?;
    writeln!(out, "```mermaid")?;
    write!(out, "{}", gantt(r))?;
    writeln!(out, "```")?;
    writeln!(out)?;
    writeln!(out, "### Steps")?;
    writeln!(out)?;
    writeln!(out, "| # | step | kind | start | took | result |")?;
    writeln!(out, "|---:|---|---|---|---:|---|")?;
    for step in &r.steps {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            step.index + 1,
            cell(&step.name),
            cell(&step.kind),
            at(step.started_ms),
            if step.outcome == StepOutcome::Skipped {
                "-".to_owned()
            } else {
                hms_short(step.duration_ms)
            },
            icon(step.outcome)
        )?;
    }
    let failed: Vec<&StepRecord> = r
        .steps
        .iter()
        .filter(|x| matches!(x.outcome, StepOutcome::Failed | StepOutcome::Interrupted))
        .collect();
    if !failed.is_empty() {
        writeln!(out)?;
        writeln!(out, "### Failures")?;
        for step in failed {
            writeln!(out)?;
            writeln!(
                out,
                "**{}. {}** ({})",
                step.index + 1,
                cell(&step.name),
                cell(&step.kind)
            )?;
            writeln!(out)?;
            let mut body = String::new();
            if let Some(m) = &step.message {
                let _ = writeln!(body, "{m}");
            }
            if let Some(e) = &step.expected {
                let _ = writeln!(body, "expected: {e}");
            }
            if let Some(a) = &step.actual {
                let _ = writeln!(body, "actual:   {a}");
            }
            writeln!(out, "```text")?;
            write!(out, "{}", fenced(&body))?;
            writeln!(out, "```")?;
        }
    }
    if !r.rollbacks.is_empty() {
        writeln!(out)?;
        writeln!(out, "### Rollbacks")?;
        writeln!(out)?;
        for rb in &r.rollbacks {
            writeln!(
                out,
                "- {} `{}` of step “{}”: {}{}",
                at(rb.started_ms),
                rb.action,
                cell(&rb.step),
                icon(rb.outcome),
                rb.message
                    .as_ref()
                    .map(|m| format!(" — {}", cell(m)))
                    .unwrap_or_default()
            )?;
        }
    }
    Ok(())
}

/// The fixed-width chart: steps as bars on a time axis, the outage as `▼`
/// on the axis and the RTO as a column of `┃`.
fn chart(r: &RehearsalReport) -> String {
    let s = &r.summary;
    let rto_at = s.recovery_start_ms + s.rto_ms;
    let span = s.end_ms.max(rto_at).max(1);
    let col = |ms: i64| -> usize {
        let c = (ms.max(0) as i128 * (AXIS as i128 - 1) / span as i128) as usize;
        c.min(AXIS - 1)
    };
    let rto_col = col(rto_at);
    let mut text = String::new();
    let mut head = vec![' '; AXIS];
    head[0] = '0';
    if let Some(c) = s.recovery_from.as_ref().map(|_| col(s.recovery_start_ms)) {
        head[c] = '▼';
    }
    head[rto_col] = '┃';
    let _ = writeln!(
        text,
        "{:NAME$}  {}",
        "",
        head.iter().collect::<String>().trim_end()
    );
    for step in &r.steps {
        let mut row = vec![' '; AXIS];
        row[rto_col] = '┃';
        if step.outcome != StepOutcome::Skipped {
            let (a, b) = (
                col(step.started_ms),
                col(step.started_ms + step.duration_ms),
            );
            let fill = match step.outcome {
                StepOutcome::Passed => '█',
                _ => '▓',
            };
            if step.duration_ms == 0 {
                row[a] = if step.outcome == StepOutcome::Passed {
                    '▏'
                } else {
                    '✗'
                };
            } else {
                for c in row.iter_mut().take(b.max(a) + 1).skip(a) {
                    *c = fill;
                }
            }
            if step.outcome != StepOutcome::Passed && step.duration_ms > 0 {
                row[b.max(a)] = '✗';
            }
        }
        let mut name: String = step.name.chars().take(NAME).collect();
        if step.name.chars().count() > NAME {
            name.pop();
            name.push('…');
        }
        let pad = NAME.saturating_sub(name.chars().count());
        let _ = writeln!(
            text,
            "{name}{}  {}",
            " ".repeat(pad),
            row.iter().collect::<String>().trim_end()
        );
    }
    let _ = writeln!(text, "{:NAME$}  {}", "", "─".repeat(AXIS));
    let left = "T+0:00:00".to_owned();
    let right = at(span);
    let gap = AXIS.saturating_sub(left.len() + right.len());
    let _ = writeln!(text, "{:NAME$}  {left}{}{right}", "", " ".repeat(gap));
    let mut legend = format!(
        "{:NAME$}  █ step (▏ instant)  ✗ failed  ┃ RTO ({} after ",
        "",
        hms_short(s.rto_ms)
    );
    legend.push_str(if s.recovery_from.is_some() {
        "the outage ▼)"
    } else {
        "the start)"
    });
    let _ = writeln!(text, "{legend}");
    text
}

/// A Mermaid gantt of the same timeline, times in seconds since the start.
fn gantt(r: &RehearsalReport) -> String {
    let s = &r.summary;
    let name = |t: &str| -> String {
        t.chars()
            .map(|c| {
                if matches!(c, ':' | ';' | '#' | '`' | '\n' | '\r') {
                    ' '
                } else {
                    c
                }
            })
            .collect::<String>()
            .trim()
            .to_owned()
    };
    let mut g = String::new();
    let _ = writeln!(g, "gantt");
    let _ = writeln!(
        g,
        "    title {} (virtual time, T+0 = 00:00)",
        name(&r.run.plan)
    );
    let _ = writeln!(g, "    dateFormat X");
    let _ = writeln!(g, "    axisFormat %H:%M");
    let _ = writeln!(g, "    section steps");
    for step in &r.steps {
        if step.outcome == StepOutcome::Skipped {
            continue;
        }
        let tag = match step.outcome {
            StepOutcome::Passed => "done",
            _ => "crit",
        };
        let start = step.started_ms / 1000;
        let end = (step.started_ms + step.duration_ms) / 1000;
        let _ = writeln!(
            g,
            "    {} :{tag}, s{}, {start}, {}",
            name(&step.name),
            step.index + 1,
            end.max(start + 1)
        );
    }
    let _ = writeln!(g, "    section objectives");
    if s.recovery_from.is_some() {
        let _ = writeln!(
            g,
            "    outage :milestone, outage, {}, 1s",
            s.recovery_start_ms / 1000
        );
    }
    let _ = writeln!(
        g,
        "    RTO :milestone, rto, {}, 1s",
        (s.recovery_start_ms + s.rto_ms) / 1000
    );
    g
}
