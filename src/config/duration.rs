//! Durations in `standby.toml`: `"90s"`, `"30m"`, `"1h"`, `"1h30m"`, `"2d"`,
//! or a plain integer number of seconds.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};

/// A duration in whole seconds, as written for `rpo` and `rto`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Seconds(pub(super) u64);

/// Parses a duration string, refusing bare digits in quotes (`"90"`): a unit
/// costs the writer one character and spares the reader a guess.
pub(super) fn parse_duration(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    if !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "invalid duration `{text}`: add a unit (`{trimmed}s`) or write the seconds without quotes"
        ));
    }
    crate::duration::parse_duration(text)
}

impl<'de> de::Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SecondsVisitor;

        impl Visitor<'_> for SecondsVisitor {
            type Value = Seconds;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration like `90s`, `30m`, `1h` or `1h30m`, or a number of seconds")
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Seconds, E> {
                u64::try_from(v)
                    .map(Seconds)
                    .map_err(|_| E::custom(format!("invalid duration `{v}`: must not be negative")))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Seconds, E> {
                Ok(Seconds(v))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Seconds, E> {
                parse_duration(v).map(Seconds).map_err(E::custom)
            }
        }

        deserializer.deserialize_any(SecondsVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_units_and_combinations() {
        assert_eq!(parse_duration("90s"), Ok(90));
        assert_eq!(parse_duration("30m"), Ok(1_800));
        assert_eq!(parse_duration("1h"), Ok(3_600));
        assert_eq!(parse_duration("1h30m"), Ok(5_400));
        assert_eq!(parse_duration("2d"), Ok(172_800));
        assert_eq!(parse_duration("1d2h3m4s"), Ok(93_784));
        assert_eq!(parse_duration(" 4h "), Ok(14_400));
        assert_eq!(parse_duration("0s"), Ok(0));
    }

    #[test]
    fn rejects_what_a_reader_could_misread() {
        let generic =
            "expected a string like `90s`, `30m`, `1h` or `1h30m`, or a number of seconds";
        for bad in [
            "", "h", "1x", "1.5h", "30m1h", "1h1h", "1 h", "-1h", "1hour", "1H",
        ] {
            assert_eq!(
                parse_duration(bad),
                Err(format!("invalid duration `{bad}`: {generic}")),
                "{bad:?}"
            );
        }
        assert_eq!(
            parse_duration("90"),
            Err(
                "invalid duration `90`: add a unit (`90s`) or write the seconds without quotes"
                    .into()
            )
        );
        assert_eq!(
            parse_duration("999999999999999999d"),
            Err("invalid duration `999999999999999999d`: longer than 10 years".into())
        );
    }
}
