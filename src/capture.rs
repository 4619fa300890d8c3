//! One workspace in, one [`Snapshot`] out: collect, then normalize.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::client::Client;
use crate::collect::{self, CollectOptions, Journal, Observer};
use crate::normalize;
use crate::snapshot::{CaptureMetadata, FORMAT_VERSION, Snapshot};

/// Captures a workspace: every requested kind, complete or marked incomplete.
pub async fn capture(
    client: Client,
    options: CollectOptions,
    journal: Arc<Journal>,
    observer: Arc<dyn Observer>,
) -> Snapshot {
    let started = SystemTime::now();
    let host = client.host().as_str().trim_end_matches('/').to_owned();
    let profile = client.auth().profile.clone();
    let mut requested = options.kinds.clone();
    requested.sort();
    let raw = collect::collect(client, options, journal, observer).await;
    let kinds = normalize::normalize(raw);
    Snapshot {
        format_version: FORMAT_VERSION,
        metadata: CaptureMetadata {
            host,
            profile,
            tool_version: concat!("standby ", env!("CARGO_PKG_VERSION")).to_owned(),
            captured_at: rfc3339(started),
            captured_at_ms: epoch_ms(started),
            requested_kinds: requested,
        },
        kinds,
    }
}

/// Milliseconds since the Unix epoch.
pub fn epoch_ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// `YYYY-MM-DDTHH:MM:SSZ` in UTC, without pulling in a date crate for one format.
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 → (year, month, day), Howard Hinnant's algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn formats_utc_times() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(1_764_145_531)),
            "2025-11-26T08:25:31Z"
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
    }
}
