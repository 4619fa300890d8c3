//! The file's shape, as serde reads it: every table denies unknown keys, and
//! values checked after parsing keep their span so errors can name the line.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use toml::Spanned;

use super::duration::Seconds;
use super::model::ReportFormat;
use crate::diff::Role;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub(super) client: Option<RawClient>,
    pub(super) reports: Option<RawReports>,
    pub(super) snapshots: Option<RawSnapshots>,
    #[serde(default)]
    pub(super) pair: Vec<Spanned<RawPair>>,
}

/// `[client]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawClient {
    pub(super) concurrency: Option<Spanned<i64>>,
    pub(super) rate_limits: Option<BTreeMap<Spanned<String>, Rate>>,
}

/// A rate limit: requests per second, or `"none"` for no limit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Rate(pub(super) Option<f64>);

impl<'de> de::Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RateVisitor;

        impl RateVisitor {
            fn positive<E: de::Error>(v: f64) -> Result<Rate, E> {
                if v.is_finite() && v > 0.0 {
                    Ok(Rate(Some(v)))
                } else {
                    Err(E::custom(format!(
                        "invalid rate limit `{v}`: expected a positive number of requests per second, or `\"none\"`"
                    )))
                }
            }
        }

        impl Visitor<'_> for RateVisitor {
            type Value = Rate;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number of requests per second, or `\"none\"`")
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Rate, E> {
                #[expect(clippy::cast_precision_loss, reason = "rates are small numbers")]
                Self::positive(v as f64)
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Rate, E> {
                #[expect(clippy::cast_precision_loss, reason = "rates are small numbers")]
                Self::positive(v as f64)
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Rate, E> {
                Self::positive(v)
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Rate, E> {
                if v == "none" {
                    Ok(Rate(None))
                } else {
                    Err(E::custom(format!(
                        "invalid rate limit `\"{v}\"`: expected a positive number of requests per second, or `\"none\"`"
                    )))
                }
            }
        }

        deserializer.deserialize_any(RateVisitor)
    }
}

/// `[reports]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReports {
    pub(super) directory: Option<Spanned<String>>,
    pub(super) formats: Option<Vec<ReportFormat>>,
    pub(super) failures_only: Option<bool>,
}

/// `[snapshots]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSnapshots {
    pub(super) keep: Option<bool>,
    pub(super) directory: Option<Spanned<String>>,
}

/// `[[pair]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPair {
    pub(super) name: Spanned<String>,
    pub(super) primary: Spanned<RawWorkspace>,
    pub(super) rpo: Option<Seconds>,
    pub(super) rto: Option<Seconds>,
    #[serde(default)]
    pub(super) secondary: Vec<Spanned<RawSecondary>>,
}

/// `primary = { ... }` and `workspace = { ... }`.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a table like `{ profile = \"prod\" }` or `{ host = \"https://...\" }`"
)]
pub(super) struct RawWorkspace {
    pub(super) profile: Option<Spanned<String>>,
    pub(super) host: Option<Spanned<String>>,
}

/// `[[pair.secondary]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSecondary {
    pub(super) name: Spanned<String>,
    pub(super) workspace: Spanned<RawWorkspace>,
    pub(super) role: Option<Role>,
    pub(super) rpo: Option<Seconds>,
    pub(super) rto: Option<Seconds>,
    pub(super) kinds: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) hold_job_acls: Option<Spanned<bool>>,
    pub(super) passive: Option<Spanned<RawPassive>>,
    pub(super) baseline: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) rewrite: Vec<Spanned<RawRewrite>>,
    #[serde(default)]
    pub(super) ignore: Vec<Spanned<RawIgnore>>,
    #[serde(default)]
    pub(super) single_region_principal: Vec<Spanned<RawPrincipal>>,
}

/// `passive = { ... }`: each switch defaults to `true`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPassive {
    pub(super) jobs_concurrency_zero: Option<bool>,
    pub(super) jobs_paused: Option<bool>,
    pub(super) pools_min_idle_zero: Option<bool>,
    pub(super) clusters_terminated: Option<bool>,
    pub(super) warehouses_stopped: Option<bool>,
}

/// `[[pair.secondary.rewrite]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRewrite {
    pub(super) primary: Spanned<String>,
    pub(super) secondary: Spanned<String>,
}

/// `[[pair.secondary.ignore]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawIgnore {
    pub(super) kind: Option<Spanned<String>>,
    pub(super) key: Spanned<String>,
    pub(super) field: Option<Spanned<String>>,
    pub(super) reason: Spanned<String>,
}

/// `[[pair.secondary.single_region_principal]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPrincipal {
    pub(super) name: Spanned<String>,
    pub(super) side: RawSide,
}

/// `side = "primary" | "secondary"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawSide {
    Primary,
    Secondary,
}
