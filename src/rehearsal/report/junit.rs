//! The JUnit report: `<testsuites>` with one `<testsuite>` per plan run and
//! one `<testcase>` per step (times in virtual seconds), plus a case for the
//! recovery time against the RTO. A failed step is a `<failure>` whose text
//! says what was expected and what the workspace answered; a skipped step
//! is `<skipped>`; a step cut short by Ctrl-C is an `<error>`. The measured
//! recovery time and replication lag are suite properties.
//!
//! Any text becomes well-formed XML 1.0 through the drift report's escaping
//! (`report::xml`): markup is escaped, and characters XML forbids are written
//! as visible `\uXXXX`.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::super::events::{RehearsalReport, StepOutcome};
use super::{hms_short, start_time};

// The drift report's escaping: one set of XML 1.0 rules for every JUnit file.
pub(crate) use crate::report::xml::escape;

fn secs(ms: i64) -> String {
    format!("{}.{:03}", ms.max(0) / 1000, ms.max(0) % 1000)
}

/// `rehearsal.failover-to-us-west-2`: a class name dashboards group by.
fn classname(plan: &str) -> String {
    let slug: String = plan
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let slug = slug
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    format!("rehearsal.{slug}")
}

pub(super) fn render(reports: &[RehearsalReport], out: &mut dyn Write) -> io::Result<()> {
    let count = |pred: &dyn Fn(&RehearsalReport) -> usize| reports.iter().map(pred).sum::<usize>();
    let tests = count(&|r| r.steps.len() + 1);
    let failures = count(&|r| {
        r.steps
            .iter()
            .filter(|s| s.outcome == StepOutcome::Failed)
            .count()
            + usize::from(!r.summary.within_rto)
    });
    let errors = count(&|r| {
        r.steps
            .iter()
            .filter(|s| s.outcome == StepOutcome::Interrupted)
            .count()
    });
    let skipped = count(&|r| {
        r.steps
            .iter()
            .filter(|s| s.outcome == StepOutcome::Skipped)
            .count()
    });
    let time: i64 = reports.iter().map(|r| r.summary.end_ms).sum();
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="standby rehearse" tests="{tests}" failures="{failures}" errors="{errors}" skipped="{skipped}" time="{}">"#,
        secs(time)
    )?;
    for r in reports {
        suite(r, out)?;
    }
    writeln!(out, "</testsuites>")
}

fn suite(r: &RehearsalReport, out: &mut dyn Write) -> io::Result<()> {
    let s = &r.summary;
    let count = |o: StepOutcome| r.steps.iter().filter(|x| x.outcome == o).count();
    writeln!(
        out,
        r#"  <testsuite name="{}" tests="{}" failures="{}" errors="{}" skipped="{}" time="{}" timestamp="{}">"#,
        escape(&r.run.plan, true),
        r.steps.len() + 1,
        count(StepOutcome::Failed) + usize::from(!s.within_rto),
        count(StepOutcome::Interrupted),
        count(StepOutcome::Skipped),
        secs(s.end_ms),
        start_time(r)
    )?;
    writeln!(out, "    <properties>")?;
    let mut props: Vec<(String, String)> = vec![
        ("plan".into(), r.run.file.clone()),
        ("direction".into(), r.run.direction.name().into()),
        ("outcome".into(), s.outcome.word().to_lowercase()),
        ("rto_secs".into(), r.run.rto_secs.to_string()),
        (
            "measured_rto_secs".into(),
            (s.recovery_ms / 1000).to_string(),
        ),
        ("within_rto".into(), s.within_rto.to_string()),
        ("rpo_secs".into(), r.run.rpo_secs.to_string()),
    ];
    if let Some(lag) = s.rpo_lag_ms {
        props.push(("measured_rpo_secs".into(), (lag / 1000).to_string()));
        props.push(("within_rpo".into(), (lag <= s.rpo_ms).to_string()));
    }
    if let Some(from) = &s.recovery_from {
        props.push(("recovery_measured_from".into(), from.clone()));
    }
    props.push(("virtual_time".into(), r.run.virtual_time.to_string()));
    for w in &r.run.workspaces {
        props.push((
            format!("workspace.{}", w.name),
            format!("{} ({})", w.source, w.role.name()),
        ));
    }
    for (name, value) in props {
        writeln!(
            out,
            r#"      <property name="{}" value="{}"/>"#,
            escape(&name, true),
            escape(&value, true)
        )?;
    }
    writeln!(out, "    </properties>")?;
    let class = escape(&classname(&r.run.plan), true);
    let width = r.steps.len().to_string().len().max(2);
    for step in &r.steps {
        let name = escape(&format!("{:0width$} {}", step.index + 1, step.name), true);
        let open = format!(
            r#"    <testcase name="{name}" classname="{class}" time="{}""#,
            secs(step.duration_ms)
        );
        match step.outcome {
            StepOutcome::Passed if step.details.is_empty() => writeln!(out, "{open}/>")?,
            StepOutcome::Passed => {
                writeln!(out, "{open}>")?;
                writeln!(
                    out,
                    "      <system-out>{}</system-out>",
                    escape(&step.details.join("\n"), false)
                )?;
                writeln!(out, "    </testcase>")?;
            }
            StepOutcome::Skipped => {
                writeln!(out, "{open}>")?;
                writeln!(
                    out,
                    r#"      <skipped message="{}"/>"#,
                    escape(step.message.as_deref().unwrap_or("not run"), true)
                )?;
                writeln!(out, "    </testcase>")?;
            }
            StepOutcome::Failed | StepOutcome::Interrupted => {
                let tag = if step.outcome == StepOutcome::Failed {
                    "failure"
                } else {
                    "error"
                };
                let mut body = String::new();
                if let Some(e) = &step.expected {
                    let _ = writeln!(body, "expected: {e}");
                }
                if let Some(a) = &step.actual {
                    let _ = writeln!(body, "actual:   {a}");
                }
                for d in &step.details {
                    let _ = writeln!(body, "- {d}");
                }
                writeln!(out, "{open}>")?;
                writeln!(
                    out,
                    r#"      <{tag} message="{}" type="{}">{}</{tag}>"#,
                    escape(step.message.as_deref().unwrap_or("failed"), true),
                    escape(&step.kind, true),
                    escape(body.trim_end(), false)
                )?;
                writeln!(out, "    </testcase>")?;
            }
        }
    }
    let rto_case = format!(
        r#"    <testcase name="recovery time within RTO" classname="{class}" time="{}""#,
        secs(s.recovery_ms)
    );
    if s.within_rto {
        writeln!(out, "{rto_case}/>")?;
    } else {
        writeln!(out, "{rto_case}>")?;
        writeln!(
            out,
            r#"      <failure message="{}" type="rto">expected: at most {}&#10;actual:   {}</failure>"#,
            escape(
                &format!(
                    "recovery took {}, beyond the RTO of {}",
                    hms_short(s.recovery_ms),
                    hms_short(s.rto_ms)
                ),
                true
            ),
            hms_short(s.rto_ms),
            hms_short(s.recovery_ms)
        )?;
        writeln!(out, "    </testcase>")?;
    }
    writeln!(out, "  </testsuite>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_text_is_escaped_into_xml_1_0() {
        assert_eq!(escape("a<b>&\"'", true), "a&lt;b&gt;&amp;&quot;&apos;");
        assert_eq!(
            escape("a\nb\u{0}\u{1b}\u{fffe}", true),
            "a&#10;b\\u0000\\u001B\\uFFFE"
        );
        assert_eq!(escape("x\ny\r", false), "x\ny&#13;");
        assert_eq!(escape("]]>", false), "]]&gt;");
    }

    #[test]
    fn class_names_are_slugs() {
        assert_eq!(
            classname("failover to us-west-2"),
            "rehearsal.failover-to-us-west-2"
        );
        assert_eq!(classname("  A/B: c  "), "rehearsal.a-b-c");
    }
}
