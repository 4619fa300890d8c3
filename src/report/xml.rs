//! A small XML writer that turns any Rust string into well-formed XML 1.0.
//!
//! Escaping rules, for attribute values and text alike:
//! - `&`, `<`, `>` become `&amp;`, `&lt;`, `&gt;` (`>` too, so `]]>` cannot
//!   occur); in attributes, `"` and `'` also become `&quot;` and `&apos;`
//!   (text keeps its quotes, so failure bodies read as written);
//! - carriage return becomes `&#13;` (a parser would turn a raw one into a newline);
//! - in attributes, newline and tab become `&#10;` and `&#9;` (a parser
//!   would normalize raw ones to spaces); in text they stay as they are;
//! - characters XML 1.0 does not allow at all (C0 controls other than tab,
//!   newline and carriage return; U+FFFE, U+FFFF) and the C1 controls it
//!   discourages (U+007F to U+009F) become the visible text `\uXXXX`, so
//!   the report stays readable and two keys that differ only there stay
//!   distinct. Surrogates cannot occur in a Rust `str`.

use std::io::{self, Write};

/// Whether XML 1.0 allows `c` literally, and it is not a discouraged control.
fn is_plain(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..='\u{10ffff}')
}

/// Escapes `s` for an attribute value (`attr`) or for text content.
pub(crate) fn escape(s: &str, attr: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attr => out.push_str("&quot;"),
            '\'' if attr => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            '\n' if attr => out.push_str("&#10;"),
            '\t' if attr => out.push_str("&#9;"),
            '\n' | '\t' => out.push(c),
            c if is_plain(c) => out.push(c),
            c => out.push_str(&format!("\\u{:04X}", u32::from(c))),
        }
    }
    out
}

/// Writes indented elements; the caller keeps opens and closes balanced.
pub(crate) struct XmlWriter<'a> {
    out: &'a mut dyn Write,
    depth: usize,
}

impl<'a> XmlWriter<'a> {
    /// Starts a document with the XML declaration.
    pub fn new(out: &'a mut dyn Write) -> io::Result<Self> {
        writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
        Ok(XmlWriter { out, depth: 0 })
    }

    fn start(&mut self, name: &str, attrs: &[(&str, &str)]) -> io::Result<()> {
        write!(self.out, "{:indent$}<{name}", "", indent = self.depth * 2)?;
        for (key, value) in attrs {
            write!(self.out, " {key}=\"{}\"", escape(value, true))?;
        }
        Ok(())
    }

    /// `<name attrs>`, children follow.
    pub fn open(&mut self, name: &str, attrs: &[(&str, &str)]) -> io::Result<()> {
        self.start(name, attrs)?;
        writeln!(self.out, ">")?;
        self.depth += 1;
        Ok(())
    }

    /// `</name>`.
    pub fn close(&mut self, name: &str) -> io::Result<()> {
        self.depth = self.depth.saturating_sub(1);
        writeln!(self.out, "{:indent$}</{name}>", "", indent = self.depth * 2)
    }

    /// `<name attrs/>`.
    pub fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) -> io::Result<()> {
        self.start(name, attrs)?;
        writeln!(self.out, "/>")
    }

    /// `<name attrs>text</name>`, the text escaped (newlines kept).
    pub fn text(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) -> io::Result<()> {
        self.start(name, attrs)?;
        writeln!(self.out, ">{}</{name}>", escape(text, false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_in_attributes_and_text() {
        assert_eq!(
            escape(r#"a&b<c>d"e'f"#, true),
            "a&amp;b&lt;c&gt;d&quot;e&apos;f"
        );
        assert_eq!(escape(r#"a&b<c>d"e'f"#, false), r#"a&amp;b&lt;c&gt;d"e'f"#);
        assert_eq!(escape("]]>", false), "]]&gt;");
    }

    #[test]
    fn whitespace_survives_attribute_normalization() {
        assert_eq!(escape("a\nb\tc\rd", true), "a&#10;b&#9;c&#13;d");
        assert_eq!(escape("a\nb\tc\rd", false), "a\nb\tc&#13;d");
    }

    #[test]
    fn characters_xml_forbids_become_visible_escapes() {
        assert_eq!(
            escape("\u{0}\u{1b}[0m\u{7f}\u{85}", true),
            "\\u0000\\u001B[0m\\u007F\\u0085"
        );
        assert_eq!(
            escape("\u{fffe}\u{ffff}\u{fffd}", false),
            "\\uFFFE\\uFFFF\u{fffd}"
        );
        assert_eq!(escape("é 😀 \u{a0}", true), "é 😀 \u{a0}");
    }

    #[test]
    fn writer_indents_and_balances() {
        let mut out = Vec::new();
        let mut w = XmlWriter::new(&mut out).unwrap();
        w.open("a", &[("n", "<1>")]).unwrap();
        w.empty("b", &[]).unwrap();
        w.text("c", &[("t", "x")], "line 1\nline & 2").unwrap();
        w.close("a").unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a n=\"&lt;1&gt;\">\n  <b/>\n  <c t=\"x\">line 1\nline &amp; 2</c>\n</a>\n"
        );
    }
}
