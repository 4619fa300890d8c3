//! Job schedules on the virtual clock: Quartz cron expressions and periodic
//! triggers.
//!
//! Supported Quartz syntax: seconds, minutes, hours, day of month, month,
//! day of week (1–7 = SUN–SAT, or `MON`…), optional year; `*`, `?`, numbers,
//! names, ranges `a-b`, steps `a/n` and `a-b/n`, lists. `L`, `W` and `#` are
//! not supported: such a schedule never fires in the mock. Times are UTC:
//! `timezone_id` is ignored (the mock has no time-zone database).

/// Days since 1970-01-01 → (year, month 1–12, day 1–31), proleptic Gregorian.
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A parsed Quartz cron expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Cron {
    seconds: u64,
    minutes: u64,
    hours: u32,
    days: u32,
    months: u16,
    weekdays: u8,
    years: Option<(i64, i64)>,
}

fn parse_field(field: &str, min: u32, max: u32, names: &[&str]) -> Option<u64> {
    let value = |s: &str| -> Option<u32> {
        if let Ok(n) = s.parse::<u32>() {
            return (min..=max).contains(&n).then_some(n);
        }
        let upper = s.to_ascii_uppercase();
        names
            .iter()
            .position(|n| *n == upper)
            .map(|i| i as u32 + min)
    };
    let mut bits = 0u64;
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, s.parse::<u32>().ok().filter(|s| *s > 0)?),
            None => (part, 1),
        };
        let (lo, hi) = if range == "*" || range == "?" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            (value(a)?, value(b)?)
        } else {
            let v = value(range)?;
            // `5/15` means from 5 every 15 up to the maximum.
            (v, if part.contains('/') { max } else { v })
        };
        if lo > hi {
            return None;
        }
        let mut v = lo;
        while v <= hi {
            bits |= 1 << v;
            v += step;
        }
    }
    Some(bits)
}

impl Cron {
    /// Parses an expression; `None` when it uses syntax the mock does not support.
    pub(crate) fn parse(expr: &str) -> Option<Cron> {
        let fields: Vec<&str> = expr.split_whitespace().collect();
        if !(6..=7).contains(&fields.len()) {
            return None;
        }
        const MONTHS: [&str; 12] = [
            "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
        ];
        const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
        let any = |f: &str| f == "*" || f == "?";
        let years = match fields.get(6) {
            None => None,
            Some(f) if any(f) => None,
            Some(f) => {
                let (a, b) = f.split_once('-').unwrap_or((f, f));
                Some((a.parse().ok()?, b.parse().ok()?))
            }
        };
        Some(Cron {
            seconds: parse_field(fields[0], 0, 59, &[])?,
            minutes: parse_field(fields[1], 0, 59, &[])?,
            hours: u32::try_from(parse_field(fields[2], 0, 23, &[])?).ok()?,
            days: u32::try_from(parse_field(fields[3], 1, 31, &[])?).ok()?,
            months: u16::try_from(parse_field(fields[4], 1, 12, &MONTHS)?).ok()?,
            weekdays: u8::try_from(parse_field(fields[5], 1, 7, &DAYS)?).ok()?,
            years,
        })
    }

    fn day_matches(&self, days: i64) -> bool {
        let (y, m, d) = civil_from_days(days);
        // 1970-01-01 was a Thursday; Quartz numbers Sunday 1.
        let weekday = ((days + 4).rem_euclid(7) + 1) as u32;
        self.years.is_none_or(|(a, b)| (a..=b).contains(&y))
            && self.months & (1 << m) != 0
            && self.days & (1 << d) != 0
            && self.weekdays & (1 << weekday) != 0
    }

    /// The first firing time strictly after `after_ms` (epoch ms), within ten years.
    pub(crate) fn next_after(&self, after_ms: i64) -> Option<i64> {
        let start = after_ms.div_euclid(1000) + 1;
        let first_day = start.div_euclid(86_400);
        for day in first_day..first_day + 3700 {
            if !self.day_matches(day) {
                continue;
            }
            let day_start = day * 86_400;
            for h in 0..24i64 {
                if self.hours & (1 << h) == 0 || day_start + h * 3600 + 3599 < start {
                    continue;
                }
                for m in 0..60i64 {
                    if self.minutes & (1 << m) == 0 || day_start + h * 3600 + m * 60 + 59 < start {
                        continue;
                    }
                    for s in 0..60i64 {
                        let t = day_start + h * 3600 + m * 60 + s;
                        if self.seconds & (1 << s) != 0 && t >= start {
                            return Some(t * 1000);
                        }
                    }
                }
            }
        }
        None
    }
}

/// When a job fires by itself: a cron schedule or a periodic trigger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Timing {
    /// `schedule.quartz_cron_expression`.
    Cron(Cron),
    /// `trigger.periodic`: every `interval_ms`, counted from the job's creation.
    Every { interval_ms: i64, origin_ms: i64 },
}

impl Timing {
    /// The unpaused timing of a job's settings, if it has one the mock can run.
    pub(crate) fn of_settings(settings: &serde_json::Value, created_ms: i64) -> Option<Timing> {
        let unpaused = |v: &serde_json::Value| {
            v.get("pause_status").and_then(|p| p.as_str()) != Some("PAUSED")
        };
        if let Some(s) = settings.get("schedule").filter(|s| unpaused(s)) {
            return s
                .get("quartz_cron_expression")
                .and_then(|e| e.as_str())
                .and_then(Cron::parse)
                .map(Timing::Cron);
        }
        let trigger = settings.get("trigger").filter(|t| unpaused(t))?;
        let periodic = trigger.get("periodic")?;
        let interval = periodic
            .get("interval")
            .and_then(serde_json::Value::as_i64)
            .filter(|i| *i > 0)?;
        let unit_ms = match periodic.get("unit").and_then(|u| u.as_str())? {
            "HOURS" => 3_600_000,
            "DAYS" => 86_400_000,
            "WEEKS" => 604_800_000,
            _ => return None,
        };
        Some(Timing::Every {
            interval_ms: interval.saturating_mul(unit_ms),
            origin_ms: created_ms,
        })
    }

    /// The first firing strictly after `after_ms`.
    pub(crate) fn next_after(&self, after_ms: i64) -> Option<i64> {
        match self {
            Timing::Cron(c) => c.next_after(after_ms),
            Timing::Every {
                interval_ms,
                origin_ms,
            } => {
                let n = after_ms
                    .saturating_sub(*origin_ms)
                    .div_euclid(*interval_ms)
                    .saturating_add(1);
                Some(origin_ms.saturating_add(n.max(1).saturating_mul(*interval_ms)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2025-11-24T16:00:00Z, a Monday.
    const T0: i64 = 1_764_000_000_000;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(T0 / 86_400_000), (2025, 11, 24));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn daily_at_two() {
        let c = Cron::parse("0 0 2 * * ?").unwrap();
        // Next 02:00 after Monday 16:00 is Tuesday 02:00.
        assert_eq!(c.next_after(T0), Some(T0 + 10 * 3_600_000));
        assert_eq!(c.next_after(T0 + 10 * 3_600_000), Some(T0 + 34 * 3_600_000));
    }

    #[test]
    fn steps_lists_and_weekdays() {
        let every_15 = Cron::parse("0 0/15 * * * ?").unwrap();
        assert_eq!(every_15.next_after(T0), Some(T0 + 15 * 60_000));
        // Weekdays at 06:30: Monday 16:00 → Tuesday 06:30.
        let weekdays = Cron::parse("0 30 6 ? * MON-FRI").unwrap();
        assert_eq!(weekdays.next_after(T0), Some(T0 + (14 * 60 + 30) * 60_000));
        // Saturdays only (7): Monday → Saturday 00:00:00.
        let sat = Cron::parse("0 0 0 ? * 7").unwrap();
        assert_eq!(sat.next_after(T0), Some(T0 + (4 * 24 + 8) * 3_600_000));
        let list = Cron::parse("0 0 1,13 * * ?").unwrap();
        assert_eq!(list.next_after(T0), Some(T0 + 9 * 3_600_000));
    }

    #[test]
    fn unsupported_syntax_never_fires() {
        assert_eq!(Cron::parse("0 0 12 L * ?"), None);
        assert_eq!(Cron::parse("0 0 12 ? * 6#3"), None);
        assert_eq!(Cron::parse("bad"), None);
        assert_eq!(Cron::parse("0 0 25 * * ?"), None);
    }

    #[test]
    fn timing_of_settings_honours_pause() {
        let paused = serde_json::json!({"schedule": {"quartz_cron_expression": "0 0 2 * * ?", "pause_status": "PAUSED"}});
        assert_eq!(Timing::of_settings(&paused, 0), None);
        let live = serde_json::json!({"schedule": {"quartz_cron_expression": "0 0 2 * * ?"}});
        assert!(matches!(
            Timing::of_settings(&live, 0),
            Some(Timing::Cron(_))
        ));
        let periodic =
            serde_json::json!({"trigger": {"periodic": {"interval": 2, "unit": "HOURS"}}});
        let t = Timing::of_settings(&periodic, T0).unwrap();
        assert_eq!(t.next_after(T0), Some(T0 + 7_200_000));
        assert_eq!(t.next_after(T0 + 7_200_000), Some(T0 + 14_400_000));
    }
}
