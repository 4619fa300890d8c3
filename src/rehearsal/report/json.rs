//! The JSON report: `{"schema_version": 1, "rehearsals": [...]}`, each
//! rehearsal the [`RehearsalReport`] as serialized (its fields are the
//! schema; see `events.rs`).

use std::io::{self, Write};

use serde::Serialize;

use super::super::events::{REPORT_SCHEMA_VERSION, RehearsalReport};

#[derive(Serialize)]
struct Document<'a> {
    schema_version: u32,
    rehearsals: &'a [RehearsalReport],
}

pub(super) fn render(reports: &[RehearsalReport], out: &mut dyn Write) -> io::Result<()> {
    let doc = Document {
        schema_version: REPORT_SCHEMA_VERSION,
        rehearsals: reports,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
