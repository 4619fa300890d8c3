//! The Markdown report, for a CI job summary (GitHub's
//! `$GITHUB_STEP_SUMMARY`, GitLab and Azure DevOps Markdown summaries).
//!
//! Layout: a title with the pair's name; the summary line in bold; the two
//! sides and the targets; a summary table per kind; then the findings per
//! kind (most severe kind first, as in the text report), one table each,
//! folded into a `<details>` block when a kind has more than five findings.
//! At most 100 rows a kind, long texts and values cut in the middle, and no
//! more rows once the report nears 900 KiB: a step summary has a size limit
//! (1 MiB on GitHub), and the JSON and JUnit reports hold everything.
//!
//! Workspace data is escaped: Markdown punctuation (`\`, backticks, `*`,
//! `_`, `[`, `]`, `|`, `~`, `$`) gets a backslash, `&`, `<`, `>` become
//! entities, control characters a visible `\u{..}`; so a key can neither
//! break a table nor inject a link, HTML or math.

use std::io::{self, Write};

use crate::diff::{DriftReport, Finding, FindingClass, Role};

use super::summary::{Tally, grouped, severity_name};
use super::values::{compact, duration_ms, duration_secs, truncate_middle, visible};
use super::{RenderOptions, Renderer};

/// A kind with more findings than this is folded into `<details>`.
const FOLD_OVER: usize = 5;
/// Rows listed per kind.
const MAX_ROWS: usize = 100;
/// Fields listed per finding.
const MAX_FIELDS: usize = 5;
/// Longest value shown, in characters (cut in the middle).
const MAX_VALUE: usize = 120;
/// Longest message, hint, key, path or rule shown, in characters.
const MAX_TEXT: usize = 500;
/// Bytes of finding rows written at most: GitHub rejects a step summary
/// over 1 MiB, and the rest of the report needs a little room.
const MAX_BYTES: usize = 900 * 1024;

/// The Markdown renderer.
#[derive(Clone, Copy, Debug, Default)]
pub struct Markdown;

/// Escapes workspace data for Markdown text and table cells.
fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in visible(s).chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' | '$' => {
                out.push('\\');
                out.push(c);
            }
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// [`md`] of `s` cut to `max` characters.
fn cell(s: &str, max: usize) -> String {
    md(&truncate_middle(s, max))
}

/// Counts the bytes written, for the size budget.
struct Counting<'a> {
    inner: &'a mut dyn Write,
    written: usize,
}

impl Write for Counting<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Escapes text for raw HTML (a `<summary>`), where Markdown escapes would show.
fn html(s: &str) -> String {
    visible(s)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

impl Renderer for Markdown {
    fn render(
        &self,
        report: &DriftReport,
        _options: &RenderOptions,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        write_report(report, out, MAX_BYTES)
    }
}

/// Writes the report, no more finding rows once `budget` bytes are written.
fn write_report(report: &DriftReport, out: &mut dyn Write, budget: usize) -> io::Result<()> {
    let out = &mut Counting {
        inner: out,
        written: 0,
    };
    let tally = Tally::of(report);
    let pair = &report.pair;
    writeln!(
        out,
        "## standby drift report: {}",
        cell(&pair.name, MAX_TEXT)
    )?;
    writeln!(out)?;
    writeln!(out, "**{}**", tally.line())?;
    writeln!(out)?;
    let role = match pair.secondary_role {
        Role::Active => "active",
        Role::Passive => "passive",
    };
    writeln!(out, "| | primary | secondary ({role}) |")?;
    writeln!(out, "|---|---|---|")?;
    writeln!(
        out,
        "| host | {} | {} |",
        md(&pair.primary.host),
        md(&pair.secondary.host)
    )?;
    writeln!(
        out,
        "| captured | {} | {} |",
        md(&pair.primary.captured_at),
        md(&pair.secondary.captured_at)
    )?;
    let targets: Vec<String> = [("RPO", pair.rpo_secs), ("RTO", pair.rto_secs)]
        .iter()
        .filter_map(|(name, secs)| secs.map(|s| format!("{name} {}", duration_secs(s))))
        .collect();
    if !targets.is_empty() || report.lag.is_some() {
        writeln!(out)?;
    }
    if !targets.is_empty() {
        writeln!(out, "- targets: {}", targets.join(", "))?;
    }
    if let Some(lag) = &report.lag {
        let mut text = format!("- lag: {} behind", duration_ms(lag.max_lag_ms));
        if let Some((kind, key)) = &lag.worst {
            text.push_str(&format!(" (worst: {} {})", md(kind.name()), md(key)));
        }
        match lag.within_rpo {
            Some(true) => text.push_str(", within the RPO"),
            Some(false) => text.push_str(", **beyond the RPO**"),
            None => {}
        }
        writeln!(out, "{text}")?;
    }

    writeln!(out)?;
    writeln!(out, "### Summary")?;
    writeln!(out)?;
    writeln!(
        out,
        "| kind | status | compared | critical | error | warning | baselined |"
    )?;
    writeln!(out, "|:---|:---|---:|---:|---:|---:|---:|")?;
    for k in &tally.kinds {
        let status = match k.status() {
            "ok" => "ok".to_owned(),
            other => format!("**{other}**"),
        };
        let counts = if k.unknown {
            "- | - | -".to_owned()
        } else {
            format!(
                "{} | {} | {}",
                k.failing.critical, k.failing.error, k.failing.warning
            )
        };
        writeln!(
            out,
            "| {} | {status} | {} | {counts} | {} |",
            md(k.kind.name()),
            k.compared,
            k.baselined
        )?;
    }

    let groups = grouped(report, &tally);
    if groups.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(out, "### Findings")?;
    for (k, findings) in groups {
        writeln!(out)?;
        let heading = k.heading();
        let fold = findings.len() > FOLD_OVER;
        if fold {
            writeln!(out, "<details><summary>{}</summary>", html(&heading))?;
        } else {
            writeln!(out, "#### {}", md(&heading))?;
        }
        writeln!(out)?;
        writeln!(out, "| severity | class | key | details |")?;
        writeln!(out, "|:---|:---|:---|:---|")?;
        if k.unknown && !findings.iter().any(|f| f.class == FindingClass::Unknown) {
            writeln!(
                out,
                "| unknown | unknown | | capture incomplete on either side: not compared |"
            )?;
        }
        let mut omitted = findings.len().saturating_sub(MAX_ROWS);
        for f in findings.iter().take(MAX_ROWS) {
            let line = row(f);
            if out.written + line.len() > budget {
                omitted += 1;
            } else {
                out.write_all(line.as_bytes())?;
            }
        }
        if omitted > 0 {
            writeln!(out)?;
            writeln!(
                out,
                "_... and {omitted} more; the JSON and JUnit reports list them all._"
            )?;
        }
        if fold {
            writeln!(out)?;
            writeln!(out, "</details>")?;
        }
    }
    Ok(())
}

/// One finding as a table row, with its newline.
fn row(f: &Finding) -> String {
    let severity = if f.class == FindingClass::Unknown {
        "unknown".to_owned()
    } else if f.baselined {
        format!("baselined ({})", severity_name(f.severity))
    } else if f.severity == crate::diff::Severity::Critical {
        "**critical**".to_owned()
    } else {
        severity_name(f.severity).to_owned()
    };
    let mut details = vec![cell(&f.message, MAX_TEXT)];
    for field in f.fields.iter().take(MAX_FIELDS) {
        details.push(format!(
            "{}: {} &rarr; {}",
            cell(&field.path, MAX_TEXT),
            md(&truncate_middle(
                &compact(field.primary.as_ref()),
                MAX_VALUE
            )),
            md(&truncate_middle(
                &compact(field.secondary.as_ref()),
                MAX_VALUE
            )),
        ));
    }
    if f.fields.len() > MAX_FIELDS {
        details.push(format!(
            "... and {} more fields",
            f.fields.len() - MAX_FIELDS
        ));
    }
    if let Some(hint) = &f.hint {
        details.push(format!("fix: {}", cell(hint, MAX_TEXT)));
    }
    if let Some(rule) = &f.rule {
        details.push(format!("rule: {}", cell(rule, MAX_TEXT)));
    }
    details.push(format!("id: {}", cell(&f.id, MAX_TEXT)));
    format!(
        "| {severity} | {} | {} | {} |\n",
        md(f.class.name()),
        cell(&f.key, MAX_TEXT),
        details.join("<br>")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::Severity;
    use crate::kind::Kind;
    use crate::report::fixture;

    fn render(report: &DriftReport) -> String {
        let mut out = Vec::new();
        Markdown
            .render(report, &RenderOptions::default(), &mut out)
            .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn snapshot() {
        insta::with_settings!({ snapshot_path => "../../snapshots", prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!("report__markdown", render(&fixture::drifted()));
        });
    }

    #[test]
    fn escapes_markdown_and_html_in_data() {
        assert_eq!(
            md("a|b `c` <d> & *e* [f](g) _h_ ~i~ $j$ \\"),
            "a\\|b \\`c\\` &lt;d&gt; &amp; \\*e\\* \\[f\\](g) \\_h\\_ \\~i\\~ \\$j\\$ \\\\"
        );
        assert_eq!(md("line\nbreak\u{1b}"), "line\\\\u{a}break\\\\u{1b}");
        let text = render(&fixture::drifted());
        assert!(text.contains(
            "custom\\_tags.team: (absent) &rarr; \"data\\|platform \\`ops\\` &lt;on-call&gt;\""
        ));
        assert!(text.contains("| extra | adhoc &lt;debug&gt; &amp; \"tmp\" |"));
    }

    #[test]
    fn title_summary_table_then_findings() {
        let text = render(&fixture::drifted());
        assert!(text.starts_with(
            "## standby drift report: prod-eastus2 → dr-westus2\n\n**drift: 8 findings (2 critical, 4 error, 2 warning) in 3 of 8 kinds; 2 baselined; 1 kind unknown**\n"
        ));
        let summary = text.find("### Summary").unwrap();
        let findings = text.find("### Findings").unwrap();
        assert!(summary < findings);
        assert!(text.contains("| jobs | **drift** | 4 | 2 | 2 | 1 | 0 |\n"));
        assert!(text.contains("| grants | **unknown** | 0 | - | - | - | 0 |\n"));
        assert!(text.contains("- lag: 20m behind (worst: jobs nightly-etl), **beyond the RPO**\n"));
        // Every table row has as many cells as its header.
        for line in text.lines().filter(|l| l.starts_with("| ")) {
            let cells = line.replace("\\|", "").matches('|').count();
            assert!(cells == 4 || cells == 5 || cells == 8, "{line}");
        }
    }

    #[test]
    fn long_kinds_fold_into_details_and_are_capped() {
        let mut report = fixture::clean();
        for i in 0..(MAX_ROWS + 3) {
            report.findings.push(fixture::finding(
                FindingClass::Missing,
                Severity::Error,
                Kind::Users,
                &format!("user{i:03}@example.com"),
                "in the primary, not in the secondary",
            ));
        }
        for i in 0..2 {
            report.findings.push(fixture::finding(
                FindingClass::Extra,
                Severity::Warning,
                Kind::Jobs,
                &format!("job {i}"),
                "in the secondary only",
            ));
        }
        let text = render(&report);
        assert!(text.contains(
            "<details><summary>users: 103 findings (103 error)</summary>\n\n| severity | class | key | details |"
        ));
        assert!(text.contains(
            "\n_... and 3 more; the JSON and JUnit reports list them all._\n\n</details>\n"
        ));
        assert_eq!(text.matches("| error | missing |").count(), MAX_ROWS);
        assert!(
            text.contains("#### jobs: 2 findings (2 warning)\n"),
            "short kinds stay open"
        );
    }

    #[test]
    fn rows_stop_at_the_size_budget_and_long_texts_are_cut() {
        let mut report = fixture::clean();
        for i in 0..40 {
            report.findings.push(fixture::finding(
                FindingClass::Missing,
                Severity::Error,
                Kind::Users,
                &format!("user{i:02}"),
                &"x".repeat(10_000),
            ));
        }
        let mut out = Vec::new();
        write_report(&report, &mut out, 10_000).unwrap();
        let text = String::from_utf8(out).unwrap();
        let rows = text.matches("| error | missing |").count();
        assert!(rows > 0 && rows < 40, "{rows} rows");
        assert!(text.contains(&format!("_... and {} more; the JSON", 40 - rows)));
        assert!(text.ends_with("</details>\n"));
        assert!(text.contains(&format!("{}...{}<br>", "x".repeat(249), "x".repeat(248))));
        assert!(text.len() < 10_000 + 2_000);
    }

    #[test]
    fn clean_report_has_no_findings_section() {
        let text = render(&fixture::clean());
        assert!(text.contains("**no drift: 8 kinds compared**"));
        assert!(!text.contains("### Findings"));
    }

    /// Cells of a table row, split at pipes not escaped by a backslash.
    fn cells(row: &str) -> usize {
        let mut count: usize = 0;
        let mut escaped = false;
        for c in row.chars() {
            if escaped {
                escaped = false;
                continue;
            }
            match c {
                '\\' => escaped = true,
                '|' => count += 1,
                _ => {}
            }
        }
        count.saturating_sub(1)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

        #[test]
        fn any_data_keeps_tables_whole_and_injects_no_html(report in fixture::arb::report()) {
            let text = render(&report);
            let mut expected = 0;
            for line in text.lines() {
                if line.starts_with('|') {
                    let n = cells(line);
                    if expected == 0 {
                        expected = n;
                    }
                    proptest::prop_assert_eq!(n, expected, "{}", line);
                } else {
                    expected = 0;
                }
                proptest::prop_assert!(!line.contains(|c: char| c.is_control()), "{:?}", line);
                // The only raw HTML is ours.
                let html = line.replace("<br>", "").replace("<details>", "").replace("</details>", "")
                    .replace("<summary>", "").replace("</summary>", "");
                proptest::prop_assert!(!html.contains('<') && !html.contains('>'), "{}", line);
            }
        }
    }
}
