//! The text report, for a terminal or a CI log, and the `explain` view of
//! one finding.
//!
//! Layout: the pair's facts; a table of counts per kind; the findings
//! grouped by kind, the group with the most severe failing finding first
//! (baselined-only groups last), failing findings before baselined ones;
//! then a blank line and the summary line of [`super::summary_line`], always
//! the last line. Lines fit in 80 columns (counted in characters; the
//! summary line is never wrapped, so tools can match it whole), and
//! nothing depends on colour: colour only adds ANSI codes around labels,
//! headings and the summary line.
//!
//! Without `verbose`, each finding shows its message, up to five differing
//! fields on one line each (values shortened in the middle), its rule and
//! its id. With `verbose` (the `explain` view), every field shows both
//! values in full, side by side, and every finding its hint.

use std::io::{self, Write};

use crate::diff::{DriftReport, FieldDiff, Finding, FindingClass, Role, Severity};

use super::summary::{KindTally, Tally, grouped, plural, severity_name};
use super::values::{compact, duration_ms, duration_secs, pretty, truncate_middle, visible, wrap};
use super::{RenderOptions, Renderer};

/// Width the report fits in.
const WIDTH: usize = 80;
/// Fields shown per finding without `verbose`.
const MAX_FIELDS: usize = 5;

const BOLD: &str = "\x1b[1m";
const RED: &str = "\x1b[31m";
const BOLD_RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[33m";
const GREEN: &str = "\x1b[32m";
const MAGENTA: &str = "\x1b[35m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

/// The text renderer.
#[derive(Clone, Copy, Debug, Default)]
pub struct Text;

impl Renderer for Text {
    fn render(
        &self,
        report: &DriftReport,
        options: &RenderOptions,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        let paint = Paint(options.color);
        let tally = Tally::of(report);
        header(report, out)?;
        writeln!(out)?;
        table(&tally, paint, out)?;
        for group in groups(report, &tally) {
            writeln!(out)?;
            group.write(paint, options.verbose, out)?;
        }
        writeln!(out)?;
        let line = tally.line();
        let code = if tally.failing.total() > 0 {
            BOLD_RED
        } else if tally.unknown_kinds() > 0 {
            YELLOW
        } else {
            GREEN
        };
        writeln!(out, "{}", paint.with(code, &line))
    }
}

/// ANSI colour, or nothing.
#[derive(Clone, Copy)]
struct Paint(bool);

impl Paint {
    fn with(self, code: &str, text: &str) -> String {
        if self.0 {
            format!("{code}{text}{RESET}")
        } else {
            text.to_owned()
        }
    }
}

fn write_lines(out: &mut dyn Write, lines: &[String]) -> io::Result<()> {
    for line in lines {
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// `passive` or `active`.
fn role(role: Role) -> &'static str {
    match role {
        Role::Active => "active",
        Role::Passive => "passive",
    }
}

fn header(report: &DriftReport, out: &mut dyn Write) -> io::Result<()> {
    let pair = &report.pair;
    let pad = " ".repeat(13);
    let mut lines = wrap(
        &format!("standby drift report: {}", visible(&pair.name)),
        WIDTH,
        "",
        "  ",
    );
    for (label, side, suffix) in [
        ("  primary    ", &pair.primary, String::new()),
        (
            "  secondary  ",
            &pair.secondary,
            format!(" ({})", role(pair.secondary_role)),
        ),
    ] {
        lines.extend(wrap(
            &format!("{}{suffix}", visible(&side.host)),
            WIDTH,
            label,
            &pad,
        ));
        lines.extend(wrap(
            &format!("captured {}", visible(&side.captured_at)),
            WIDTH,
            &pad,
            &pad,
        ));
    }
    let targets: Vec<String> = [("RPO", pair.rpo_secs), ("RTO", pair.rto_secs)]
        .iter()
        .filter_map(|(name, secs)| secs.map(|s| format!("{name} {}", duration_secs(s))))
        .collect();
    if !targets.is_empty() {
        lines.extend(wrap(&targets.join(", "), WIDTH, "  targets    ", &pad));
    }
    if let Some(lag) = &report.lag {
        let mut text = format!("{} behind", duration_ms(lag.max_lag_ms));
        if let Some((kind, key)) = &lag.worst {
            text.push_str(&format!(" (worst: {kind} {})", visible(key)));
        }
        match lag.within_rpo {
            Some(true) => text.push_str(", within the RPO"),
            Some(false) => text.push_str(", beyond the RPO"),
            None => {}
        }
        lines.extend(wrap(&text, WIDTH, "  lag        ", &pad));
    }
    write_lines(out, &lines)
}

fn table(tally: &Tally, paint: Paint, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "{:<20}{:<8}{:>9}{:>10}{:>7}{:>9}{:>11}",
        "kind", "status", "compared", "critical", "error", "warning", "baselined"
    )?;
    for k in &tally.kinds {
        let status = format!("{:<8}", k.status());
        let status = match k.status() {
            "drift" => paint.with(RED, &status),
            "unknown" => paint.with(MAGENTA, &status),
            _ => status,
        };
        let counts = if k.unknown {
            format!("{:>10}{:>7}{:>9}", "-", "-", "-")
        } else {
            format!(
                "{:>10}{:>7}{:>9}",
                k.failing.critical, k.failing.error, k.failing.warning
            )
        };
        writeln!(
            out,
            "{:<20}{status}{:>9}{counts}{:>11}",
            k.kind.name(),
            k.compared,
            k.baselined
        )?;
    }
    Ok(())
}

/// One kind's findings.
struct Group<'a> {
    tally: &'a KindTally,
    findings: Vec<&'a Finding>,
}

fn groups<'a>(report: &'a DriftReport, tally: &'a Tally) -> Vec<Group<'a>> {
    grouped(report, tally)
        .into_iter()
        .map(|(tally, findings)| Group { tally, findings })
        .collect()
}

fn severity_label(severity: Severity) -> (&'static str, &'static str) {
    match severity {
        Severity::Critical => ("CRITICAL", BOLD_RED),
        Severity::Error => ("ERROR", RED),
        Severity::Warning => ("WARNING", YELLOW),
    }
}

impl Group<'_> {
    fn write(&self, paint: Paint, verbose: bool, out: &mut dyn Write) -> io::Result<()> {
        let k = self.tally;
        let heading = wrap(&k.heading(), WIDTH, "", "  ");
        for line in &heading {
            writeln!(out, "{}", paint.with(BOLD, line))?;
        }
        let underline = heading.iter().map(|l| l.chars().count()).max().unwrap_or(0);
        writeln!(out, "{}", "-".repeat(underline))?;
        if k.unknown
            && !self
                .findings
                .iter()
                .any(|f| f.class == FindingClass::Unknown)
        {
            writeln!(
                out,
                "  {}   capture incomplete on either side: not compared",
                paint.with(MAGENTA, "UNKNOWN")
            )?;
        }
        for f in &self.findings {
            finding(f, paint, verbose, out)?;
        }
        Ok(())
    }
}

fn finding(f: &Finding, paint: Paint, verbose: bool, out: &mut dyn Write) -> io::Result<()> {
    let (label, code) = if f.class == FindingClass::Unknown {
        ("UNKNOWN", MAGENTA)
    } else if f.baselined {
        ("BASELINED", DIM)
    } else {
        severity_label(f.severity)
    };
    let title = match (f.class, f.key.is_empty()) {
        (FindingClass::Unknown, true) => "not compared".to_owned(),
        (class, true) => class.name().to_owned(),
        (class, false) => format!("{}: {}", class.name(), visible(&f.key)),
    };
    // Wrap with a plain prefix of the label's width, then colour the label.
    let mut lines = wrap(&title, WIDTH, &" ".repeat(12), &" ".repeat(12));
    if let Some(first) = lines.first_mut() {
        let rest: String = first.chars().skip(12).collect();
        *first = format!(
            "  {}{}{rest}",
            paint.with(code, label),
            " ".repeat(10 - label.len())
        );
    }
    lines.extend(wrap(&visible(&f.message), WIDTH, "    ", "    "));
    if verbose {
        for field in &f.fields {
            lines.extend(wrap(&visible(&field.path), WIDTH, "    ", "      "));
            lines.extend(side_by_side(field, "      "));
        }
    } else {
        for field in f.fields.iter().take(MAX_FIELDS) {
            lines.extend(field_line(field));
        }
        if f.fields.len() > MAX_FIELDS {
            let more = f.fields.len() - MAX_FIELDS;
            lines.push(format!("    ... and {more} more {}", plural(more, "field")));
        }
    }
    if let Some(rule) = &f.rule {
        lines.extend(wrap(&visible(rule), WIDTH, "    rule: ", "          "));
    }
    if let (true, Some(hint)) = (verbose, &f.hint) {
        lines.extend(wrap(&visible(hint), WIDTH, "    fix: ", "         "));
    }
    lines.extend(wrap(&visible(&f.id), WIDTH, "    id: ", "        "));
    writeln!(out)?;
    write_lines(out, &lines)
}

/// One differing field in one line when it fits, else the path and each value on its own line.
fn field_line(field: &FieldDiff) -> Vec<String> {
    let path = visible(&field.path);
    let primary = visible(&compact(field.primary.as_ref()));
    let secondary = visible(&compact(field.secondary.as_ref()));
    let one = format!("    {path}: {primary} -> {secondary}");
    if one.chars().count() <= WIDTH {
        return vec![one];
    }
    let room = WIDTH - "      secondary: ".len();
    let mut lines = wrap(&path, WIDTH, "    ", "      ");
    lines.push(format!(
        "      primary:   {}",
        truncate_middle(&primary, room)
    ));
    lines.push(format!(
        "      secondary: {}",
        truncate_middle(&secondary, room)
    ));
    lines
}

/// Both values in full, in two columns (pretty JSON for objects and arrays,
/// long lines broken at the column width); `indent` is at least two spaces.
fn side_by_side(field: &FieldDiff, indent: &str) -> Vec<String> {
    let gap = 2;
    let column = (WIDTH - indent.len() - gap) / 2;
    let cells = |value: Option<&serde_json::Value>| -> Vec<String> {
        let mut cells = Vec::new();
        for line in pretty(value).lines() {
            let chars: Vec<char> = visible(line).chars().collect();
            if chars.is_empty() {
                cells.push(String::new());
            }
            cells.extend(chars.chunks(column).map(|c| c.iter().collect::<String>()));
        }
        cells
    };
    let left = cells(field.primary.as_ref());
    let right = cells(field.secondary.as_ref());
    // Rows that differ get a `*` in the indent, so the changed line of a
    // large object stands out (rows are compared by position).
    let marked = format!("{}* ", &indent[..indent.len().saturating_sub(2)]);
    let mut lines = vec![format!(
        "{indent}{:<column$}{:gap$}secondary",
        "primary", ""
    )];
    for i in 0..left.len().max(right.len()) {
        let l = left.get(i).map_or("", String::as_str);
        let r = right.get(i).map_or("", String::as_str);
        let pad = column - l.chars().count();
        let lead = if l == r { indent } else { marked.as_str() };
        lines.push(format!("{lead}{l}{:pad$}{:gap$}{r}", "", ""));
    }
    lines
}

/// Writes the `explain` view of the finding with id `finding_id`: its facts,
/// both values of every differing field side by side, and what would fix it.
///
/// Returns false (and writes nothing) when the report has no such finding.
pub fn explain(report: &DriftReport, finding_id: &str, out: &mut dyn Write) -> io::Result<bool> {
    let Some(f) = report.findings.iter().find(|f| f.id == finding_id) else {
        return Ok(false);
    };
    let status = if f.class == FindingClass::Unknown {
        "not judged: the kind's capture is incomplete"
    } else if f.baselined {
        "baselined: reported, not failing"
    } else {
        "failing"
    };
    let mut lines = Vec::new();
    let pad = " ".repeat(11);
    let facts = [
        ("finding", visible(&f.id)),
        ("pair", visible(&report.pair.name)),
        ("kind", f.kind.name().to_owned()),
        ("key", visible(&f.key)),
        ("class", f.class.name().to_owned()),
        ("severity", severity_name(f.severity).to_owned()),
        ("status", status.to_owned()),
    ];
    for (label, value) in facts {
        lines.extend(wrap(&value, WIDTH, &format!("{label:<11}"), &pad));
    }
    if let Some(rule) = &f.rule {
        lines.extend(wrap(&visible(rule), WIDTH, "rule       ", &pad));
    }
    lines.push(String::new());
    lines.extend(wrap(&visible(&f.message), WIDTH, "", ""));
    for field in &f.fields {
        lines.push(String::new());
        lines.extend(wrap(&visible(&field.path), WIDTH, "", "  "));
        lines.extend(side_by_side(field, "  "));
    }
    lines.push(String::new());
    match &f.hint {
        Some(hint) => lines.extend(wrap(&visible(hint), WIDTH, "fix: ", "     ")),
        None => lines.push("fix: no hint for this finding".to_owned()),
    }
    write_lines(out, &lines)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::KindStatus;
    use crate::kind::Kind;
    use crate::report::fixture;

    fn render(report: &DriftReport, options: RenderOptions) -> String {
        let mut out = Vec::new();
        Text.render(report, &options, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn snapshot(name: &str, text: &str) {
        insta::with_settings!({ snapshot_path => "../../snapshots", prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!(name, text);
        });
    }

    #[test]
    fn snapshots() {
        let report = fixture::drifted();
        snapshot("report__text", &render(&report, RenderOptions::default()));
        snapshot(
            "report__text_verbose",
            &render(
                &report,
                RenderOptions {
                    verbose: true,
                    ..RenderOptions::default()
                },
            ),
        );
        let mut out = Vec::new();
        assert!(explain(&report, "changed/jobs/ingest-orders#2", &mut out).unwrap());
        snapshot("report__explain", &String::from_utf8(out).unwrap());
    }

    #[test]
    fn summary_counts_come_first_and_the_summary_line_last() {
        let text = render(&fixture::drifted(), RenderOptions::default());
        let lines: Vec<&str> = text.lines().collect();
        let table = lines.iter().position(|l| l.starts_with("kind ")).unwrap();
        let first_group = lines.iter().position(|l| l.starts_with("jobs: ")).unwrap();
        assert!(table < first_group);
        assert_eq!(
            *lines.last().unwrap(),
            "drift: 8 findings (2 critical, 4 error, 2 warning) in 3 of 8 kinds; 2 baselined; 1 kind unknown"
        );
        assert!(text.ends_with('\n'));
    }

    #[test]
    fn groups_are_ordered_most_severe_first() {
        let text = render(&fixture::drifted(), RenderOptions::default());
        let headings: Vec<&str> = text
            .lines()
            .filter(|l| {
                l.contains(": ")
                    && !l.starts_with(' ')
                    && Kind::ALL.iter().any(|k| l.starts_with(&format!("{k}: ")))
            })
            .collect();
        assert_eq!(
            headings,
            [
                "jobs: 5 findings (2 critical, 2 error, 1 warning)",
                // Equally severe: kind order.
                "clusters: 2 findings (1 error, 1 warning)",
                "instance_pools: 1 finding (1 error)",
                "grants: unknown, not compared",
                "users: 1 baselined",
                "workspace_conf: 1 baselined",
            ]
        );
        // Within a group: critical before error before warning.
        let jobs = text.split("jobs: 5").nth(1).unwrap();
        let crit = jobs.find("CRITICAL").unwrap();
        let err = jobs.find("ERROR").unwrap();
        let warn = jobs.find("WARNING").unwrap();
        assert!(crit < err && err < warn);
    }

    #[test]
    fn fits_80_columns_and_has_no_escape_codes_without_colour() {
        let mut report = fixture::drifted();
        report.findings[0].key = "k".repeat(200);
        report.findings[0].message = "word ".repeat(60);
        report.findings[0].fields.push(FieldDiff {
            path: format!("settings.{}", "p".repeat(120)),
            primary: Some(serde_json::json!("v".repeat(300))),
            secondary: Some(serde_json::json!({"a": "\u{1b}[2J".repeat(40)})),
        });
        for verbose in [false, true] {
            let text = render(
                &report,
                RenderOptions {
                    verbose,
                    ..RenderOptions::default()
                },
            );
            // The summary line is never wrapped (tools match it whole).
            let lines: Vec<&str> = text.lines().collect();
            for line in &lines[..lines.len() - 1] {
                assert!(
                    line.chars().count() <= WIDTH,
                    "{} > 80: {line}",
                    line.chars().count()
                );
            }
            assert!(
                !text.contains('\x1b'),
                "data or colour leaked an escape code"
            );
        }
    }

    #[test]
    fn colour_only_when_asked() {
        let report = fixture::drifted();
        let plain = render(&report, RenderOptions::default());
        let color = render(
            &report,
            RenderOptions {
                color: true,
                ..RenderOptions::default()
            },
        );
        assert!(color.contains("\x1b[1;31mCRITICAL\x1b[0m"));
        assert!(color.contains("\x1b[33mWARNING\x1b[0m"));
        assert!(color.contains("\x1b[2mBASELINED\x1b[0m"));
        assert!(color.ends_with("1 kind unknown\x1b[0m\n"));
        // Same text once the codes are gone.
        let stripped = color
            .split('\x1b')
            .enumerate()
            .map(|(i, part)| {
                if i == 0 {
                    part
                } else {
                    &part[part.find('m').unwrap() + 1..]
                }
            })
            .collect::<String>();
        assert_eq!(stripped, plain);
    }

    #[test]
    fn default_view_shortens_values_and_omits_hints_verbose_shows_them() {
        let report = fixture::drifted();
        let plain = render(&report, RenderOptions::default());
        assert!(plain.contains(
            "    settings.tasks[ingest].notebook_task.notebook_path\n      primary:   \"/Repos/prod/etl/ingest_orders\"\n"
        ));
        assert!(plain.contains("    settings.timeout_seconds: 3600 -> (absent)\n"));
        assert!(
            plain.contains(
                "      primary:   {\"batch\":500,\"mode\":\"increment...atermark_column\":\"updated_at\"}\n"
            ),
            "long value cut in the middle"
        );
        assert!(!plain.contains("fix: "));
        let verbose = render(
            &report,
            RenderOptions {
                verbose: true,
                ..RenderOptions::default()
            },
        );
        assert!(verbose.contains("    fix: pause the schedule in the secondary"));
        assert!(
            verbose.contains("\"watermark_column\": \"updated_at\""),
            "pretty JSON in full"
        );
    }

    #[test]
    fn clean_report() {
        let text = render(&fixture::clean(), RenderOptions::default());
        assert!(text.ends_with("\n\nno drift: 8 kinds compared\n"), "{text}");
        assert!(
            text.contains("  lag        1m 35s behind (worst: jobs nightly-etl), within the RPO\n")
        );
        assert!(!text.contains("-----"), "no finding groups");
    }

    #[test]
    fn unknown_status_without_a_finding_is_still_shown() {
        let mut report = fixture::clean();
        report.summary.get_mut(&Kind::Tables).unwrap().status = KindStatus::Unknown;
        let text = render(&report, RenderOptions::default());
        assert!(text.contains("tables: unknown, not compared\n"));
        assert!(text.contains("UNKNOWN   capture incomplete on either side: not compared"));
        assert!(text.ends_with("no drift: 8 kinds compared; 1 kind unknown\n"));
    }

    #[test]
    fn explain_shows_values_side_by_side_and_the_fix() {
        let report = fixture::drifted();
        let mut out = Vec::new();
        assert!(
            explain(
                &report,
                "passive_violation/instance_pools/pool-d8s-v5",
                &mut out
            )
            .unwrap()
        );
        let text = String::from_utf8(out).unwrap();
        let expected = format!(
            "min_idle_instances\n  {:<38}  secondary\n* {:<38}  2\n",
            "primary", "4"
        );
        assert!(text.contains(&expected), "{text}");
        assert!(text.ends_with("fix: set `min_idle_instances` to 0 until failover\n"));
        let mut out = Vec::new();
        assert!(!explain(&report, "missing/jobs/nope", &mut out).unwrap());
        assert!(out.is_empty());
    }

    /// Checks a line against the documented summary-line grammar.
    fn is_summary_line(line: &str) -> bool {
        fn num(s: &str) -> Option<&str> {
            let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
            (end > 0).then(|| &s[end..])
        }
        fn word<'a>(s: &'a str, w: &str) -> Option<&'a str> {
            let s = s.strip_prefix(' ')?.strip_prefix(w)?;
            Some(s.strip_prefix('s').unwrap_or(s))
        }
        let rest = if let Some(r) = line.strip_prefix("no drift: ") {
            num(r)
                .and_then(|r| word(r, "kind"))
                .and_then(|r| r.strip_prefix(" compared"))
        } else if let Some(r) = line.strip_prefix("drift: ") {
            (|| {
                let r = word(num(r)?, "finding")?.strip_prefix(" (")?;
                let r = num(r)?.strip_prefix(" critical, ")?;
                let r = num(r)?.strip_prefix(" error, ")?;
                let r = num(r)?.strip_prefix(" warning) in ")?;
                let r = num(r)?.strip_prefix(" of ")?;
                word(num(r)?, "kind")
            })()
        } else {
            None
        };
        let Some(mut rest) = rest else { return false };
        if let Some(r) = rest
            .strip_prefix("; ")
            .and_then(num)
            .and_then(|r| r.strip_prefix(" baselined"))
        {
            rest = r;
        }
        if let Some(r) = rest
            .strip_prefix("; ")
            .and_then(num)
            .and_then(|r| word(r, "kind"))
            .and_then(|r| r.strip_prefix(" unknown"))
        {
            rest = r;
        }
        rest.is_empty()
    }

    #[test]
    fn summary_line_grammar_checker() {
        assert!(is_summary_line("no drift: 22 kinds compared"));
        assert!(is_summary_line("no drift: 1 kind compared; 1 kind unknown"));
        assert!(is_summary_line(
            "drift: 12 findings (2 critical, 7 error, 3 warning) in 6 of 22 kinds; 4 baselined; 2 kinds unknown"
        ));
        assert!(!is_summary_line(
            "drift: 12 findings (2 critical, 7 error) in 6 of 22 kinds"
        ));
        assert!(!is_summary_line(
            "no drift: 22 kinds compared; 1 kind unknown; 2 baselined"
        ));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

        #[test]
        fn any_report_fits_80_columns_and_ends_with_the_summary_line(
            report in fixture::arb::report(),
            verbose in proptest::prelude::any::<bool>(),
        ) {
            let text = render(&report, RenderOptions { verbose, ..RenderOptions::default() });
            let lines: Vec<&str> = text.lines().collect();
            let (last, body) = lines.split_last().unwrap();
            proptest::prop_assert!(is_summary_line(last), "{last}");
            proptest::prop_assert_eq!(*last, crate::report::summary_line(&report));
            for line in body {
                proptest::prop_assert!(line.chars().count() <= WIDTH, "{} > 80: {:?}", line.chars().count(), line);
                proptest::prop_assert!(!line.contains(|c: char| c.is_control()), "{:?}", line);
            }
            for f in &report.findings {
                let mut out = Vec::new();
                proptest::prop_assert!(explain(&report, &f.id, &mut out).unwrap());
                let shown = String::from_utf8(out).unwrap();
                for line in shown.lines() {
                    proptest::prop_assert!(line.chars().count() <= WIDTH, "{:?}", line);
                    proptest::prop_assert!(!line.contains(|c: char| c.is_control()), "{:?}", line);
                }
            }
        }
    }
}
