//! Rendering a [`DriftReport`] for people and machines: one [`Renderer`] per
//! [`Format`], one file per format (`text`, `markdown`, `json`, `junit`).
//!
//! Renderers only format: what counts as drift, the order of findings and
//! the exit code are decided elsewhere (`diff/`, `cli/exit.rs`). Every
//! renderer is deterministic: the same report gives the same bytes, and no
//! time appears that is not in the report itself.
//!
//! The text report ends with the summary line of [`summary_line`], whose
//! exact format is documented there.

mod json;
mod junit;
mod markdown;
mod summary;
mod text;
mod values;
pub(crate) mod xml;

#[cfg(test)]
mod fixture;

use std::fmt;
use std::io::{self, Write};
use std::str::FromStr;

use crate::diff::DriftReport;

pub use json::Json;
pub use junit::Junit;
pub use markdown::Markdown;
pub use summary::summary_line;
pub use text::{Text, explain};

/// An output format of the drift report (also the `formats` of `standby.toml`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// For a terminal or a CI log: summary first, findings by kind, 80 columns.
    Text,
    /// For a CI job summary (GitHub's step summary): tables, collapsible details.
    Markdown,
    /// The versioned JSON schema documented in `report/json.rs`.
    Json,
    /// JUnit XML for test dashboards: a suite per kind, a case per object.
    Junit,
}

impl Format {
    /// Every format, in the order help texts list them.
    pub const ALL: [Format; 4] = [Format::Text, Format::Markdown, Format::Json, Format::Junit];

    /// The name used on the command line and in `standby.toml`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Markdown => "markdown",
            Format::Json => "json",
            Format::Junit => "junit",
        }
    }

    /// The report's file name in `standby check`'s report directory.
    pub fn file_name(self) -> &'static str {
        match self {
            Format::Text => "drift.txt",
            Format::Markdown => "drift.md",
            Format::Json => "drift.json",
            Format::Junit => "drift.junit.xml",
        }
    }

    /// The renderer for this format.
    pub fn renderer(self) -> &'static dyn Renderer {
        match self {
            Format::Text => &Text,
            Format::Markdown => &Markdown,
            Format::Json => &Json,
            Format::Junit => &Junit,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A format name that standby does not know.
#[derive(Debug, thiserror::Error)]
#[error("unknown report format `{0}` (expected one of: text, markdown, json, junit)")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| UnknownFormat(s.to_owned()))
    }
}

/// How to render; each option applies to the formats its doc names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// Text: ANSI colours by severity. The caller decides (terminal, `NO_COLOR`).
    pub color: bool,
    /// JUnit: list only failing objects (and incomplete kinds), for huge workspaces.
    pub failures_only: bool,
    /// Text: both values side by side and the hint for every finding (the
    /// `explain` view); without it, one line per differing field and no hints.
    pub verbose: bool,
}

/// Renders a drift report in one format.
pub trait Renderer {
    /// Writes the whole report to `out`.
    fn render(
        &self,
        report: &DriftReport,
        options: &RenderOptions,
        out: &mut dyn Write,
    ) -> io::Result<()>;
}

/// Renders `report` as `format` into `out`.
pub fn render(
    format: Format,
    report: &DriftReport,
    options: &RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    format.renderer().render(report, options, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_round_trip() {
        for format in Format::ALL {
            assert_eq!(format.to_string().parse::<Format>().unwrap(), format);
        }
        let err = "xml".parse::<Format>().unwrap_err().to_string();
        assert_eq!(
            err,
            "unknown report format `xml` (expected one of: text, markdown, json, junit)"
        );
        assert!("Text".parse::<Format>().is_err(), "names are lowercase");
    }

    #[test]
    fn every_format_is_deterministic() {
        let report = fixture::drifted();
        for format in Format::ALL {
            for options in [
                RenderOptions::default(),
                RenderOptions {
                    color: true,
                    failures_only: true,
                    verbose: true,
                },
            ] {
                let mut a = Vec::new();
                let mut b = Vec::new();
                render(format, &report, &options, &mut a).unwrap();
                render(format, &report.clone(), &options, &mut b).unwrap();
                assert!(!a.is_empty(), "{format}");
                assert_eq!(a, b, "{format}");
            }
        }
    }
}
