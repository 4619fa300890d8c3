//! Durations in `standby.toml`: `"90s"`, `"30m"`, `"1h"`, `"1h30m"`, `"2d"`,
//! or a plain integer number of seconds.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};

/// A duration in whole seconds, as written for `rpo` and `rto`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Seconds(pub(super) u64);

/// Parses `1h30m`-style text: one or more `<digits><unit>` parts with units
/// `d`, `h`, `m`, `s`, largest first, each at most once.
pub(super) fn parse_duration(text: &str) -> Result<u64, String> {
    let invalid = || {
        format!(
            "invalid duration `{text}`: expected a number of seconds or a string like `90s`, `30m`, `1h` or `1h30m`"
        )
    };
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(invalid());
    }
    if trimmed.bytes().all(|b| b.is_ascii_digit()) {
        // "90" in quotes is probably seconds, but an explicit unit costs the
        // writer one character and spares the reader a guess.
        return Err(format!(
            "invalid duration `{text}`: add a unit (`{trimmed}s`) or write the seconds without quotes"
        ));
    }
    let mut total: u64 = 0;
    // Units must come in this order, each at most once ("1h30m", not "30m1h").
    let units = [('d', 86_400u64), ('h', 3_600), ('m', 60), ('s', 1)];
    let mut next_unit = 0;
    let mut rest = trimmed;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(invalid());
        }
        let (number, tail) = rest.split_at(digits);
        let mut chars = tail.chars();
        let unit = chars.next().ok_or_else(invalid)?;
        let position = units[next_unit..]
            .iter()
            .position(|(u, _)| *u == unit)
            .ok_or_else(invalid)?;
        let factor = units[next_unit + position].1;
        next_unit += position + 1;
        let n: u64 = number.parse().map_err(|_| invalid())?;
        total = n
            .checked_mul(factor)
            .and_then(|s| total.checked_add(s))
            .ok_or_else(|| format!("invalid duration `{text}`: too large"))?;
        rest = chars.as_str();
    }
    Ok(total)
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
        let generic = "expected a number of seconds or a string like `90s`, `30m`, `1h` or `1h30m`";
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
            Err("invalid duration `999999999999999999d`: too large".into())
        );
    }
}
