//! The JUnit XML report, for test dashboards (Jenkins, GitLab, GitHub test
//! reporters, Azure DevOps): drift shows as failing tests with stable names,
//! so dashboards track it night after night.
//!
//! Shape:
//! - one `<testsuites name="standby drift: <pair>">`, with `tests`,
//!   `failures` and `errors` summed over its suites;
//! - one `<testsuite name="<kind>">` per kind in the report, in kind order,
//!   each with `tests`, `failures`, `errors` and the pair's facts as
//!   `<properties>` (`pair`, `primary.host`, `primary.captured_at`,
//!   `secondary.host`, `secondary.captured_at`, `secondary.role`, and when
//!   known `rpo_secs`, `rto_secs`, `lag_ms`, `lag.worst`, `lag.within_rpo`).
//!   The facts sit in every suite, not on `<testsuites>`: the common JUnit
//!   schema (Jenkins' XSD) allows `<properties>` only in a `<testsuite>`,
//!   and that is where dashboards show them;
//! - one `<testcase name="<natural key>" classname="<kind>">` per compared
//!   object (all objects of `DriftReport::compared` plus any with findings),
//!   sorted by key; with `failures_only`, only the failing ones. An object
//!   with drift has one `<failure message="<class>: <message>" type="<class>">`
//!   (its most severe finding; `(and N more)` when it has several) whose
//!   body lists every failing finding with its field diff, rule, fix and
//!   id. Baselined findings leave the case passing, with a `<system-out>`
//!   note. Names are unique within a suite: a repeated name gets ` (2)`,
//!   ` (3)`, ...;
//! - a kind incomplete on either side is one `<testcase name="(capture)">`
//!   with an `<error type="unknown">`, and no per-object cases.
//!
//! The XML is written by hand with the small escaping writer of `xml.rs`
//! rather than a JUnit crate: `junit-report` writes control characters raw
//! (not XML 1.0) and leaves newlines in attributes unencoded (parsers turn
//! them into spaces), and `quick-junit` would be a new dependency (with
//! quick-xml under it) for about as many lines as this file's writer; the
//! escaping here is exact for any string and checked by a property test.
//! No timestamps or durations are written: the same report gives the same
//! bytes.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

use crate::diff::{DriftReport, Finding, FindingClass, Role};
use crate::kind::Kind;

use super::summary::{Tally, is_failing, severity_name};
use super::values::{compact, truncate_middle};
use super::xml::{XmlWriter, escape};
use super::{RenderOptions, Renderer};

/// Longest value (in characters) written in a failure body.
const MAX_VALUE: usize = 1000;

/// Name of the test case of an incomplete kind.
const CAPTURE_CASE: &str = "(capture)";

/// The JUnit renderer.
#[derive(Clone, Copy, Debug, Default)]
pub struct Junit;

/// One test case: an object, or an incomplete kind's capture.
struct Case<'a> {
    name: String,
    failing: Vec<&'a Finding>,
    baselined: Vec<&'a Finding>,
    /// `Some` for the capture case of an incomplete kind (its unknown findings).
    unknown: Option<Vec<&'a Finding>>,
}

struct Suite<'a> {
    kind: Kind,
    cases: Vec<Case<'a>>,
}

impl Suite<'_> {
    fn failures(&self) -> usize {
        self.cases.iter().filter(|c| !c.failing.is_empty()).count()
    }

    fn errors(&self) -> usize {
        self.cases.iter().filter(|c| c.unknown.is_some()).count()
    }
}

/// Makes `name` unique among `used` (compared as written, after escaping).
fn unique(name: &str, used: &mut BTreeSet<String>) -> String {
    let mut candidate = name.to_owned();
    let mut n = 1;
    while !used.insert(escape(&candidate, true)) {
        n += 1;
        candidate = format!("{name} ({n})");
    }
    candidate
}

fn suites<'a>(report: &'a DriftReport, failures_only: bool) -> Vec<Suite<'a>> {
    let tally = Tally::of(report);
    tally
        .kinds
        .iter()
        .map(|k| {
            let kind = k.kind;
            let mut by_key: BTreeMap<&str, (Vec<&Finding>, Vec<&Finding>)> = BTreeMap::new();
            let mut unknown = Vec::new();
            for f in report.findings.iter().filter(|f| f.kind == kind) {
                if f.class == FindingClass::Unknown {
                    unknown.push(f);
                    continue;
                }
                let entry = by_key.entry(&f.key).or_default();
                if is_failing(f) {
                    entry.0.push(f);
                } else {
                    entry.1.push(f);
                }
            }
            // Every compared object (repeats kept: they get a suffix), then
            // objects with findings the diff did not list, sorted together.
            let mut keys: Vec<&str> = Vec::new();
            if !k.unknown {
                keys.extend(report.compared.get(&kind).into_iter().flatten());
            }
            let listed: BTreeSet<&str> = keys.iter().copied().collect();
            keys.extend(by_key.keys().filter(|key| !listed.contains(*key)));
            keys.sort_unstable();

            let mut used = BTreeSet::new();
            let mut cases = Vec::new();
            if k.unknown {
                cases.push(Case {
                    name: unique(CAPTURE_CASE, &mut used),
                    failing: Vec::new(),
                    baselined: Vec::new(),
                    unknown: Some(unknown),
                });
            }
            for key in keys {
                // Findings go to the first case of a key; a repeat passes.
                let (mut failing, mut baselined) = by_key.remove(key).unwrap_or_default();
                if failures_only && failing.is_empty() {
                    continue;
                }
                failing.sort_by(|a, b| {
                    (a.severity, a.class, &a.id).cmp(&(b.severity, b.class, &b.id))
                });
                baselined.sort_by(|a, b| {
                    (a.severity, a.class, &a.id).cmp(&(b.severity, b.class, &b.id))
                });
                cases.push(Case {
                    name: unique(key, &mut used),
                    failing,
                    baselined,
                    unknown: None,
                });
            }
            Suite { kind, cases }
        })
        .collect()
}

/// The pair's facts as properties.
fn properties(report: &DriftReport) -> Vec<(&'static str, String)> {
    let pair = &report.pair;
    let role = match pair.secondary_role {
        Role::Active => "active",
        Role::Passive => "passive",
    };
    let mut props = vec![
        ("pair", pair.name.clone()),
        ("primary.host", pair.primary.host.clone()),
        ("primary.captured_at", pair.primary.captured_at.clone()),
        ("secondary.host", pair.secondary.host.clone()),
        ("secondary.captured_at", pair.secondary.captured_at.clone()),
        ("secondary.role", role.to_owned()),
    ];
    if let Some(rpo) = pair.rpo_secs {
        props.push(("rpo_secs", rpo.to_string()));
    }
    if let Some(rto) = pair.rto_secs {
        props.push(("rto_secs", rto.to_string()));
    }
    if let Some(lag) = &report.lag {
        props.push(("lag_ms", lag.max_lag_ms.to_string()));
        if let Some((kind, key)) = &lag.worst {
            props.push(("lag.worst", format!("{kind}/{key}")));
        }
        if let Some(within) = lag.within_rpo {
            props.push(("lag.within_rpo", within.to_string()));
        }
    }
    props
}

/// A finding as readable lines: headline, field diffs, rule, fix, id.
fn body(findings: &[&Finding]) -> String {
    let mut blocks = Vec::new();
    for f in findings {
        let mut block = format!(
            "{} ({}): {}",
            f.class.name(),
            severity_name(f.severity),
            f.message
        );
        for field in &f.fields {
            block.push_str(&format!(
                "\n  {}: primary {}, secondary {}",
                field.path,
                truncate_middle(&compact(field.primary.as_ref()), MAX_VALUE),
                truncate_middle(&compact(field.secondary.as_ref()), MAX_VALUE),
            ));
        }
        if let Some(rule) = &f.rule {
            block.push_str(&format!("\n  rule: {rule}"));
        }
        if let Some(hint) = &f.hint {
            block.push_str(&format!("\n  fix: {hint}"));
        }
        block.push_str(&format!("\n  id: {}", f.id));
        blocks.push(block);
    }
    blocks.join("\n\n")
}

/// `<class>: <message>`, plus how many more findings the body holds.
fn headline(findings: &[&Finding]) -> Option<(String, &'static str)> {
    let first = findings.first()?;
    let mut message = format!("{}: {}", first.class.name(), first.message);
    if findings.len() > 1 {
        message.push_str(&format!(" (and {} more)", findings.len() - 1));
    }
    Some((message, first.class.name()))
}

impl Renderer for Junit {
    fn render(
        &self,
        report: &DriftReport,
        options: &RenderOptions,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        let suites = suites(report, options.failures_only);
        let props = properties(report);
        let count = |f: fn(&Suite<'_>) -> usize| suites.iter().map(f).sum::<usize>().to_string();
        let tests = count(|s| s.cases.len());
        let failures = count(|s| s.failures());
        let errors = count(|s| s.errors());
        let title = format!("standby drift: {}", report.pair.name);

        let mut w = XmlWriter::new(out)?;
        w.open(
            "testsuites",
            &[
                ("name", &title),
                ("tests", &tests),
                ("failures", &failures),
                ("errors", &errors),
            ],
        )?;
        for suite in &suites {
            let tests = suite.cases.len().to_string();
            let failures = suite.failures().to_string();
            let errors = suite.errors().to_string();
            w.open(
                "testsuite",
                &[
                    ("name", suite.kind.name()),
                    ("tests", &tests),
                    ("failures", &failures),
                    ("errors", &errors),
                ],
            )?;
            w.open("properties", &[])?;
            for (name, value) in &props {
                w.empty("property", &[("name", name), ("value", value)])?;
            }
            w.close("properties")?;
            for case in &suite.cases {
                write_case(&mut w, suite.kind, case)?;
            }
            w.close("testsuite")?;
        }
        w.close("testsuites")
    }
}

fn write_case(w: &mut XmlWriter<'_>, kind: Kind, case: &Case<'_>) -> io::Result<()> {
    let attrs = [("name", case.name.as_str()), ("classname", kind.name())];
    if case.unknown.is_none() && case.failing.is_empty() && case.baselined.is_empty() {
        return w.empty("testcase", &attrs);
    }
    w.open("testcase", &attrs)?;
    if let Some(unknown) = &case.unknown {
        let (message, text) = match headline(unknown) {
            Some((message, _)) => (message, body(unknown)),
            None => {
                let message =
                    format!("unknown: capture of `{kind}` incomplete on either side; not compared");
                (message.clone(), message)
            }
        };
        w.text(
            "error",
            &[("message", &message), ("type", "unknown")],
            &text,
        )?;
    }
    if let Some((message, class)) = headline(&case.failing) {
        w.text(
            "failure",
            &[("message", &message), ("type", class)],
            &body(&case.failing),
        )?;
    }
    if !case.baselined.is_empty() {
        let note = format!(
            "baselined (accepted by the baseline, not failing):\n{}",
            body(&case.baselined)
        );
        w.text("system-out", &[], &note)?;
    }
    w.close("testcase")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;
    use crate::report::fixture;

    fn render(report: &DriftReport, failures_only: bool) -> String {
        let mut out = Vec::new();
        let options = RenderOptions {
            failures_only,
            ..RenderOptions::default()
        };
        Junit.render(report, &options, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// A start tag: its name and attributes, values decoded.
    #[derive(Debug)]
    struct Tag {
        name: String,
        attrs: BTreeMap<String, String>,
        /// Depth of the element (the root is 0).
        depth: usize,
    }

    /// Whether XML 1.0's `Char` production allows `c`.
    fn is_xml_char(c: char) -> bool {
        matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..='\u{10ffff}')
    }

    fn is_name_char(c: char) -> bool {
        c.is_alphanumeric() || matches!(c, '-' | '_' | ':' | '.')
    }

    /// Decodes one reference at the start of `s` (after `&`); returns the
    /// character and the bytes consumed.
    fn reference(s: &str) -> Result<(char, usize), String> {
        let end = s.find(';').ok_or("unterminated reference")?;
        let body = &s[..end];
        let c = match body {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = body.strip_prefix("#x") {
                    u32::from_str_radix(hex, 16)
                } else if let Some(dec) = body.strip_prefix('#') {
                    dec.parse()
                } else {
                    return Err(format!("unknown entity `&{body};`"));
                }
                .map_err(|_| format!("bad character reference `&{body};`"))?;
                let c = char::from_u32(code).ok_or("reference to a surrogate")?;
                if !is_xml_char(c) {
                    return Err(format!("reference to a forbidden character {code:#x}"));
                }
                c
            }
        };
        Ok((c, end + 1))
    }

    /// A small, strict XML 1.0 well-formedness check (no DTDs, comments or
    /// CDATA: the writer emits none). Returns the start tags in order.
    fn parse(xml: &str) -> Result<Vec<Tag>, String> {
        if let Some(c) = xml.chars().find(|&c| !is_xml_char(c)) {
            return Err(format!("forbidden character {:#x}", u32::from(c)));
        }
        let decl = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";
        let mut rest = xml.strip_prefix(decl).ok_or("no XML declaration")?;
        let mut stack: Vec<String> = Vec::new();
        let mut tags = Vec::new();
        let mut roots = 0;
        let name = |s: &str| -> Result<(String, usize), String> {
            let len: usize = s
                .chars()
                .take_while(|&c| is_name_char(c))
                .map(char::len_utf8)
                .sum();
            if len == 0 || s.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.') {
                return Err(format!(
                    "bad name at `{}`",
                    s.chars().take(20).collect::<String>()
                ));
            }
            Ok((s[..len].to_owned(), len))
        };
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix("</") {
                let (n, len) = name(after)?;
                let after = after[len..].trim_start_matches([' ', '\t', '\n', '\r']);
                rest = after.strip_prefix('>').ok_or("end tag not closed")?;
                if stack.pop().as_deref() != Some(n.as_str()) {
                    return Err(format!("mismatched end tag `{n}`"));
                }
            } else if let Some(after) = rest.strip_prefix('<') {
                if stack.is_empty() {
                    roots += 1;
                }
                let (n, len) = name(after)?;
                let mut s = &after[len..];
                let mut attrs = BTreeMap::new();
                loop {
                    let trimmed = s.trim_start_matches([' ', '\t', '\n', '\r']);
                    let had_space = trimmed.len() < s.len();
                    s = trimmed;
                    if let Some(after) = s.strip_prefix("/>") {
                        tags.push(Tag {
                            name: n.clone(),
                            attrs,
                            depth: stack.len(),
                        });
                        s = after;
                        break;
                    }
                    if let Some(after) = s.strip_prefix('>') {
                        tags.push(Tag {
                            name: n.clone(),
                            attrs,
                            depth: stack.len(),
                        });
                        stack.push(n.clone());
                        s = after;
                        break;
                    }
                    if !had_space {
                        return Err(format!("no space before an attribute in `{n}`"));
                    }
                    let (attr, len) = name(s)?;
                    s = s[len..].trim_start_matches([' ', '\t', '\n', '\r']);
                    s = s.strip_prefix('=').ok_or("attribute without `=`")?;
                    s = s.trim_start_matches([' ', '\t', '\n', '\r']);
                    let quote = s
                        .chars()
                        .next()
                        .filter(|c| *c == '"' || *c == '\'')
                        .ok_or("unquoted attribute")?;
                    s = &s[1..];
                    let end = s.find(quote).ok_or("unterminated attribute")?;
                    let raw = &s[..end];
                    s = &s[end + 1..];
                    if raw.contains('<') {
                        return Err(format!("`<` in attribute `{attr}`"));
                    }
                    // A parser would turn raw whitespace into spaces: the
                    // writer must encode it to keep the value.
                    if raw.contains(['\n', '\t', '\r']) {
                        return Err(format!("raw whitespace in attribute `{attr}`"));
                    }
                    let mut value = String::new();
                    let mut r = raw;
                    while let Some(i) = r.find('&') {
                        value.push_str(&r[..i]);
                        let (c, used) = reference(&r[i + 1..])?;
                        value.push(c);
                        r = &r[i + 1 + used..];
                    }
                    value.push_str(r);
                    if attrs.insert(attr.clone(), value).is_some() {
                        return Err(format!("duplicate attribute `{attr}`"));
                    }
                }
                rest = s;
            } else {
                let end = rest.find('<').unwrap_or(rest.len());
                let text = &rest[..end];
                if text.contains("]]>") {
                    return Err("`]]>` in text".into());
                }
                let mut r = text;
                while let Some(i) = r.find('&') {
                    let (_, used) = reference(&r[i + 1..])?;
                    r = &r[i + 1 + used..];
                }
                if stack.is_empty() && !text.trim().is_empty() {
                    return Err("text outside the root element".into());
                }
                rest = &rest[end..];
            }
        }
        if !stack.is_empty() {
            return Err(format!("unclosed `{}`", stack.join("/")));
        }
        if roots != 1 {
            return Err(format!("{roots} root elements"));
        }
        Ok(tags)
    }

    fn attr<'a>(tag: &'a Tag, name: &str) -> &'a str {
        tag.attrs.get(name).map_or("", String::as_str)
    }

    /// Testcase names per suite, checking the counts of every suite and the root.
    fn check_structure(tags: &[Tag]) -> BTreeMap<String, Vec<String>> {
        let mut cases: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut totals = [0usize; 3];
        let mut suite = None;
        let mut suite_counts = BTreeMap::<String, [usize; 3]>::new();
        let mut case = None;
        for tag in tags {
            match (tag.depth, tag.name.as_str()) {
                (0, "testsuites") => {}
                (1, "testsuite") => {
                    let name = attr(tag, "name").to_owned();
                    let counts =
                        ["tests", "failures", "errors"].map(|a| attr(tag, a).parse().unwrap());
                    suite_counts.insert(name.clone(), counts);
                    cases.entry(name.clone()).or_default();
                    suite = Some(name);
                }
                (2, "testcase") => {
                    let s = suite.clone().unwrap();
                    assert_eq!(attr(tag, "classname"), s);
                    cases
                        .get_mut(&s)
                        .unwrap()
                        .push(attr(tag, "name").to_owned());
                    suite_counts.get_mut(&s).unwrap()[0] -= 1;
                    totals[0] += 1;
                    case = Some(s);
                }
                (3, "failure") | (3, "error") => {
                    let s = case.clone().unwrap();
                    let i = if tag.name == "failure" { 1 } else { 2 };
                    suite_counts.get_mut(&s).unwrap()[i] -= 1;
                    totals[i] += 1;
                    assert!(!attr(tag, "type").is_empty());
                }
                (2, "properties") | (3, "property") | (3, "system-out") => {}
                other => panic!("unexpected element {other:?}"),
            }
        }
        for (name, counts) in suite_counts {
            assert_eq!(counts, [0, 0, 0], "counts of suite `{name}`");
        }
        let root = &tags[0];
        assert_eq!(
            ["tests", "failures", "errors"].map(|a| attr(root, a).parse::<usize>().unwrap()),
            totals
        );
        cases
    }

    #[test]
    fn checker_rejects_what_parsers_reject() {
        let decl = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";
        for bad in [
            "<a>\u{1b}</a>",
            "<a b=\"1\" b=\"2\"/>",
            "<a b=\"x\ny\"/>",
            "<a>&bogus;</a>",
            "<a>&#1;</a>",
            "<a><b></a></b>",
            "<a/><b/>",
            "<a b=\"<\"/>",
            "<a>]]></a>",
            "<a>\u{ffff}</a>",
        ] {
            assert!(parse(&format!("{decl}{bad}")).is_err(), "{bad:?} accepted");
        }
        assert!(parse(&format!("{decl}\n<a b=\"&#10;&amp;\">x &lt; y</a>\n")).is_ok());
    }

    #[test]
    fn snapshots() {
        let report = fixture::drifted();
        insta::with_settings!({ snapshot_path => "../../snapshots", prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!("report__junit", render(&report, false));
            insta::assert_snapshot!("report__junit_failures_only", render(&report, true));
        });
    }

    #[test]
    fn suites_cases_and_counts() {
        let xml = render(&fixture::drifted(), false);
        let tags = parse(&xml).unwrap();
        let cases = check_structure(&tags);
        assert_eq!(
            cases.keys().map(String::as_str).collect::<Vec<_>>(),
            [
                "clusters",
                "grants",
                "groups",
                "instance_pools",
                "jobs",
                "tables",
                "users",
                "workspace_conf"
            ]
        );
        assert_eq!(
            cases["jobs"],
            [
                "daily report",
                "ingest-orders",
                "nightly-etl",
                "weekly-rollup"
            ]
        );
        assert_eq!(cases["grants"], ["(capture)"]);
        assert!(xml.starts_with(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"standby drift: prod-eastus2 → dr-westus2\" tests=\"17\" failures=\"6\" errors=\"1\">\n"
        ));
        assert!(xml.contains("<testsuite name=\"jobs\" tests=\"4\" failures=\"3\" errors=\"0\">"));
        // One failure per object, the most severe first, the rest in the body.
        assert!(xml.contains(
            "<failure message=\"dangling_reference: task `ingest` runs on cluster `shared-autoscaling`, which does not exist in the secondary (and 1 more)\" type=\"dangling_reference\">"
        ));
        assert!(xml.contains("\n\nchanged (error): configuration differs in 3 fields\n  settings.tasks[ingest].notebook_task.base_parameters: primary {"));
        assert!(xml.contains("<error message=\"unknown: capture incomplete in the secondary: `PERMISSION_DENIED` listing grants on catalog `main`\" type=\"unknown\">"));
        // Baselined: passing, with a note; special characters escaped.
        assert!(xml.contains(
            "<testcase name=\"o&apos;brien+contractor@example.com\" classname=\"users\">\n      <system-out>baselined (accepted by the baseline, not failing):\nextra (warning)"
        ));
        assert!(xml.contains(
            "<testcase name=\"adhoc &lt;debug&gt; &amp; &quot;tmp&quot;\" classname=\"clusters\">"
        ));
        assert!(xml.contains("<testcase name=\"alice@example.com\" classname=\"users\"/>"));
        // Pair facts in every suite.
        assert_eq!(
            xml.matches("<property name=\"lag.within_rpo\" value=\"false\"/>")
                .count(),
            8
        );
        assert!(xml.contains("<property name=\"lag.worst\" value=\"jobs/nightly-etl\"/>"));
        assert!(xml.contains("<property name=\"rpo_secs\" value=\"900\"/>"));
    }

    #[test]
    fn failures_only_lists_failing_objects_and_incomplete_kinds() {
        let xml = render(&fixture::drifted(), true);
        let cases = check_structure(&parse(&xml).unwrap());
        assert_eq!(
            cases["jobs"],
            ["daily report", "ingest-orders", "nightly-etl"]
        );
        assert_eq!(cases["grants"], ["(capture)"]);
        assert!(cases["users"].is_empty(), "baselined objects pass");
        assert!(xml.contains("tests=\"7\" failures=\"6\" errors=\"1\""));
        assert!(xml.contains("<testsuite name=\"users\" tests=\"0\" failures=\"0\" errors=\"0\">"));
    }

    #[test]
    fn names_are_unique_in_a_suite() {
        let mut report = fixture::clean();
        report.compared.insert(
            Kind::Jobs,
            ["a", "a", "a (2)", "x\u{1}", "x\\u0001"]
                .into_iter()
                .collect(),
        );
        let mut f = fixture::finding(
            FindingClass::DuplicateKey,
            crate::diff::Severity::Error,
            Kind::Jobs,
            "a",
            "2 jobs named `a`",
        );
        f.fields.clear();
        report.findings.push(f);
        let xml = render(&report, false);
        let cases = check_structure(&parse(&xml).unwrap());
        assert_eq!(
            cases["jobs"],
            ["a", "a (2)", "a (2) (2)", "x\\u0001", "x\\u0001 (2)"]
        );
        assert!(xml.contains("<testcase name=\"a\" classname=\"jobs\">\n      <failure message=\"duplicate_key: 2 jobs named `a`\""));
    }

    #[test]
    fn messages_keep_newlines_and_controls_stay_visible() {
        let mut report = fixture::clean();
        let mut f = fixture::finding(
            FindingClass::Changed,
            crate::diff::Severity::Error,
            Kind::Jobs,
            "k\u{1b}[31m",
            "line 1\nline 2\tend\r",
        );
        f.fields.push(crate::diff::FieldDiff {
            path: "p".into(),
            primary: Some(serde_json::json!("\u{0}")),
            secondary: None,
        });
        report.findings.push(f);
        let xml = render(&report, false);
        let tags = parse(&xml).unwrap();
        let failure = tags.iter().find(|t| t.name == "failure").unwrap();
        assert_eq!(attr(failure, "message"), "changed: line 1\nline 2\tend\r");
        let case = tags
            .iter()
            .find(|t| attr(t, "name").starts_with('k'))
            .unwrap();
        assert_eq!(attr(case, "name"), "k\\u001B[31m");
        // serde_json already escapes controls inside JSON strings.
        assert!(xml.contains("  p: primary \"\\u0000\", secondary (absent)"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn junit_is_well_formed_for_any_data(report in fixture::arb::report(), failures_only in any::<bool>()) {
            let xml = render(&report, failures_only);
            let tags = parse(&xml).map_err(|e| TestCaseError::fail(format!("{e}\n{xml}")))?;
            let cases = check_structure(&tags);
            for (suite, names) in &cases {
                let unique: BTreeSet<&String> = names.iter().collect();
                prop_assert_eq!(unique.len(), names.len(), "duplicate names in `{}`", suite);
            }
            // Every failing object is a case, named by its key (or, when an
            // earlier name took it, its key and a suffix) when the key holds
            // only characters XML allows as they are.
            for f in report.findings.iter().filter(|f| is_failing(f)) {
                let names = &cases[f.kind.name()];
                if f.key.chars().all(|c| !c.is_control() && c != '\u{fffe}' && c != '\u{ffff}') {
                    let suffixed = format!("{} (", f.key);
                    prop_assert!(
                        names.iter().any(|n| *n == f.key || n.starts_with(&suffixed)),
                        "no case `{}` in {:?}", f.key, names
                    );
                }
            }
        }
    }
}
