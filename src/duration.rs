//! Durations as people write them in `standby.toml` and rehearsal plans:
//! `"90s"`, `"30m"`, `"1h30m"`, `"2d"`.

/// Parses `1h30m`-style durations: `<digits><unit>` parts, units `d`, `h`,
/// `m`, `s` largest first, each at most once.
pub fn parse_duration(text: &str) -> Result<u64, String> {
    let invalid = || {
        format!(
            "invalid duration `{text}`: expected a string like `90s`, `30m`, `1h` or `1h30m`, or a number of seconds"
        )
    };
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(invalid());
    }
    let units = [('d', 86_400u64), ('h', 3_600), ('m', 60), ('s', 1)];
    let mut next_unit = 0;
    let mut total: u64 = 0;
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
            .filter(|t| *t <= MAX_DURATION_SECS)
            .ok_or_else(|| format!("invalid duration `{text}`: longer than 10 years"))?;
        rest = chars.as_str();
    }
    Ok(total)
}

/// The longest duration a plan may name (ten years).
const MAX_DURATION_SECS: u64 = 10 * 366 * 86_400;

/// Seconds as `1h30m` (`0s` for zero), the form [`parse_duration`] reads.
pub fn format_duration(secs: u64) -> String {
    if secs == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    let mut rest = secs;
    for (unit, factor) in [('d', 86_400u64), ('h', 3_600), ('m', 60), ('s', 1)] {
        if rest >= factor {
            out.push_str(&format!("{}{unit}", rest / factor));
            rest %= factor;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats_alike() {
        for (text, secs) in [("90s", 90), ("30m", 1800), ("1h30m", 5400), ("2d", 172_800)] {
            assert_eq!(parse_duration(text), Ok(secs));
        }
        assert_eq!(format_duration(5400), "1h30m");
        assert_eq!(parse_duration(&format_duration(93_784)), Ok(93_784));
        for bad in ["", "30m1h", "1h1h", "5", "1x", "99999999999d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
