//! Reading `standby.toml`: TOML → the raw shape (serde) → checks that need
//! more than one value → [`Config`].

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;
use toml::de::DeTable;

use super::duration::Seconds;
use super::error::{ConfigError, Locator};
use super::model::{
    ClientSettings, Config, DEFAULT_REPORTS_DIRECTORY, DEFAULT_SNAPSHOTS_DIRECTORY, PairConfig,
    ReportFormat, ReportSettings, SecondaryConfig, SnapshotSettings, WorkspaceRef, relative_to,
};
use super::raw::{
    RawClient, RawConfig, RawIgnore, RawPair, RawPrincipal, RawReports, RawRewrite, RawSecondary,
    RawSide, RawSnapshots, RawWorkspace,
};
use crate::client::Family;
use crate::diff::Role;
use crate::diff::{Ignore, PassiveRules, Rewrite, Side, SingleRegionPrincipal};
use crate::kind::Kind;

/// Highest `[client] concurrency` accepted (as `standby snapshot --concurrency`).
const MAX_CONCURRENCY: i64 = 256;

/// Reads and validates a config file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse(path, &text)
}

/// Validates config text; `path` names the file in errors and `origin`s and
/// anchors relative paths.
pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
    let tree = match DeTable::parse(text) {
        Ok(tree) => tree,
        Err(e) => {
            // What the parser could make of the rest helps name the key.
            let (partial, _) = DeTable::parse_recoverable(text);
            return Err(Locator::new(path, text, partial.get_ref()).toml_error(&e));
        }
    };
    let loc = Locator::new(path, text, tree.get_ref());
    let raw = RawConfig::deserialize(toml::de::Deserializer::from(tree))
        .map_err(|e| loc.toml_error(&e))?;
    Builder { path, loc: &loc }.config(raw)
}

/// Validation context: the file and its span index.
struct Builder<'a> {
    path: &'a Path,
    loc: &'a Locator<'a>,
}

impl Builder<'_> {
    fn err(&self, span: Range<usize>, message: impl Into<String>) -> ConfigError {
        self.loc.error(Some(span), None, message)
    }

    fn config(&self, raw: RawConfig) -> Result<Config, ConfigError> {
        let client = self.client(raw.client)?;
        let reports = self.reports(raw.reports)?;
        let snapshots = self.snapshots(raw.snapshots)?;
        if raw.pair.is_empty() {
            return Err(self.loc.error_with_key(
                Some(0..0),
                Some("pair".into()),
                "no workspace pair: add a `[[pair]]` table with a `primary` and a `[[pair.secondary]]`",
            ));
        }
        let mut pairs: Vec<PairConfig> = Vec::new();
        let mut first_line: BTreeMap<String, usize> = BTreeMap::new();
        for pair in raw.pair {
            let name = &pair.get_ref().name;
            if let Some(line) = first_line.get(name.get_ref()) {
                return Err(self.err(
                    name.span(),
                    format!(
                        "duplicate pair name `{}` (first used on line {line})",
                        name.get_ref()
                    ),
                ));
            }
            first_line.insert(name.get_ref().clone(), self.loc.line(&name.span()));
            pairs.push(self.pair(pair)?);
        }
        Ok(Config {
            source: self.path.to_owned(),
            client,
            reports,
            snapshots,
            pairs,
        })
    }

    fn client(&self, raw: Option<RawClient>) -> Result<ClientSettings, ConfigError> {
        let mut settings = ClientSettings::default();
        let Some(raw) = raw else {
            return Ok(settings);
        };
        if let Some(c) = raw.concurrency {
            let n = *c.get_ref();
            if !(1..=MAX_CONCURRENCY).contains(&n) {
                return Err(self.err(
                    c.span(),
                    format!("must be between 1 and {MAX_CONCURRENCY}, not {n}"),
                ));
            }
            settings.concurrency = usize::try_from(n).unwrap_or(1);
        }
        for (family, rate) in raw.rate_limits.unwrap_or_default() {
            let f: Family = family
                .get_ref()
                .parse()
                .map_err(|e: String| self.err(family.span(), e))?;
            settings.rate_limits.0.insert(f, rate.0);
        }
        Ok(settings)
    }

    fn reports(&self, raw: Option<RawReports>) -> Result<ReportSettings, ConfigError> {
        let raw = raw.unwrap_or(RawReports {
            directory: None,
            formats: None,
            failures_only: None,
        });
        let mut formats = raw.formats.unwrap_or_else(|| ReportFormat::ALL.to_vec());
        formats.sort();
        formats.dedup();
        Ok(ReportSettings {
            directory: self.directory(raw.directory, DEFAULT_REPORTS_DIRECTORY)?,
            formats,
            failures_only: raw.failures_only.unwrap_or(false),
        })
    }

    fn snapshots(&self, raw: Option<RawSnapshots>) -> Result<SnapshotSettings, ConfigError> {
        let raw = raw.unwrap_or(RawSnapshots {
            keep: None,
            directory: None,
        });
        Ok(SnapshotSettings {
            keep: raw.keep.unwrap_or(false),
            directory: self.directory(raw.directory, DEFAULT_SNAPSHOTS_DIRECTORY)?,
        })
    }

    fn directory(
        &self,
        raw: Option<Spanned<String>>,
        default: &str,
    ) -> Result<std::path::PathBuf, ConfigError> {
        match raw {
            None => Ok(relative_to(self.path, default)),
            Some(d) => {
                let text = self.non_empty(&d, "a directory")?;
                Ok(relative_to(self.path, text))
            }
        }
    }

    fn non_empty<'s>(
        &self,
        value: &'s Spanned<String>,
        what: &str,
    ) -> Result<&'s str, ConfigError> {
        let text = value.get_ref().as_str();
        if text.trim().is_empty() {
            return Err(self.err(value.span(), format!("must not be empty: expected {what}")));
        }
        Ok(text)
    }

    /// Names end up in report and snapshot paths and in JUnit properties.
    fn name(&self, value: &Spanned<String>, what: &str) -> Result<String, ConfigError> {
        let name = value.get_ref();
        let mut chars = name.chars();
        let valid = chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
            && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !valid {
            return Err(self.err(
                value.span(),
                format!(
                    "invalid {what} name `{name}`: use letters, digits, `.`, `_` and `-`, starting with a letter or digit"
                ),
            ));
        }
        Ok(name.clone())
    }

    fn workspace(&self, raw: &Spanned<RawWorkspace>) -> Result<WorkspaceRef, ConfigError> {
        let ws = raw.get_ref();
        if ws.profile.is_none() && ws.host.is_none() {
            return Err(self.err(
                raw.span(),
                "names no workspace: set `profile` (a section of `~/.databrickscfg`) or `host`",
            ));
        }
        let profile = match &ws.profile {
            Some(p) => Some(self.non_empty(p, "a profile name")?.to_owned()),
            None => None,
        };
        let host = match &ws.host {
            Some(h) => Some(self.non_empty(h, "a workspace URL")?.trim().to_owned()),
            None => None,
        };
        Ok(WorkspaceRef { profile, host })
    }

    fn pair(&self, raw: Spanned<RawPair>) -> Result<PairConfig, ConfigError> {
        let span = raw.span();
        let raw = raw.into_inner();
        let name = self.name(&raw.name, "pair")?;
        let primary = self.workspace(&raw.primary)?;
        if raw.secondary.is_empty() {
            return Err(self.loc.error(
                Some(span),
                Some("secondary"),
                format!("pair `{name}` has no secondary: add a `[[pair.secondary]]` table"),
            ));
        }
        let mut secondaries: Vec<SecondaryConfig> = Vec::new();
        for s in raw.secondary {
            let name_span = s.get_ref().name.span();
            let workspace_span = s.get_ref().workspace.span();
            if let Some(other) = secondaries
                .iter()
                .find(|x| x.name == *s.get_ref().name.get_ref())
            {
                return Err(self.err(
                    name_span,
                    format!(
                        "duplicate secondary name `{}` in pair `{name}` (first used at {})",
                        other.name, other.origin
                    ),
                ));
            }
            let secondary = self.secondary(s, raw.rpo, raw.rto)?;
            let clash = if secondary.workspace == primary {
                Some("the pair's primary".to_owned())
            } else {
                secondaries
                    .iter()
                    .find(|x| x.workspace == secondary.workspace)
                    .map(|x| format!("secondary `{}`", x.name))
            };
            if let Some(clash) = clash {
                return Err(self.err(
                    workspace_span,
                    format!(
                        "{} is also {clash}: a pair compares different workspaces",
                        secondary.workspace.describe()
                    ),
                ));
            }
            secondaries.push(secondary);
        }
        Ok(PairConfig {
            name,
            primary,
            secondaries,
            origin: self.loc.origin(&span),
        })
    }

    fn secondary(
        &self,
        raw: Spanned<RawSecondary>,
        pair_rpo: Option<Seconds>,
        pair_rto: Option<Seconds>,
    ) -> Result<SecondaryConfig, ConfigError> {
        let span = raw.span();
        let raw = raw.into_inner();
        let name = self.name(&raw.name, "secondary")?;
        if name == "primary" {
            return Err(self.err(
                raw.name.span(),
                "`primary` is reserved for the pair's primary (its snapshot file): choose another name",
            ));
        }
        let workspace = self.workspace(&raw.workspace)?;
        let role = raw.role.unwrap_or(Role::Passive);
        let kinds = match &raw.kinds {
            None => None,
            Some(list) => Some(self.kinds(list)?),
        };
        let mut passive = PassiveRules::default();
        if role == Role::Active {
            // Switches that cannot take effect are a mistake worth saying so.
            if let Some(p) = &raw.passive {
                return Err(self.err(
                    p.span(),
                    format!("secondary `{name}` is `active`: passive rules do not apply (remove `passive` or set `role = \"passive\"`)"),
                ));
            }
            if let Some(h) = &raw.hold_job_acls {
                return Err(self.err(
                    h.span(),
                    format!("secondary `{name}` is `active`: job ACLs are not held back (remove `hold_job_acls` or set `role = \"passive\"`)"),
                ));
            }
        } else {
            if let Some(p) = &raw.passive {
                let p = p.get_ref();
                let d = PassiveRules::default();
                passive = PassiveRules {
                    jobs_concurrency_zero: p
                        .jobs_concurrency_zero
                        .unwrap_or(d.jobs_concurrency_zero),
                    jobs_paused: p.jobs_paused.unwrap_or(d.jobs_paused),
                    pools_min_idle_zero: p.pools_min_idle_zero.unwrap_or(d.pools_min_idle_zero),
                    clusters_terminated: p.clusters_terminated.unwrap_or(d.clusters_terminated),
                    warehouses_stopped: p.warehouses_stopped.unwrap_or(d.warehouses_stopped),
                    hold_job_acls: d.hold_job_acls,
                };
            }
            if let Some(h) = &raw.hold_job_acls {
                passive.hold_job_acls = *h.get_ref();
            }
        }
        let rewrites = self.rewrites(&raw.rewrite)?;
        let ignores = raw
            .ignore
            .iter()
            .map(|i| self.ignore(i))
            .collect::<Result<Vec<_>, _>>()?;
        let single_region_principals = raw
            .single_region_principal
            .iter()
            .map(|p| self.principal(p))
            .collect::<Result<Vec<_>, _>>()?;
        let baseline = match &raw.baseline {
            Some(b) => Some(relative_to(self.path, self.non_empty(b, "a file path")?)),
            None => None,
        };
        Ok(SecondaryConfig {
            name,
            workspace,
            role,
            rpo_secs: raw.rpo.or(pair_rpo).map(|s| s.0),
            rto_secs: raw.rto.or(pair_rto).map(|s| s.0),
            kinds,
            passive,
            ignores,
            rewrites,
            single_region_principals,
            baseline,
            origin: self.loc.origin(&span),
        })
    }

    fn kind(&self, value: &Spanned<String>) -> Result<Kind, ConfigError> {
        value
            .get_ref()
            .parse()
            .map_err(|e: crate::kind::UnknownKind| self.err(value.span(), e.to_string()))
    }

    fn kinds(&self, list: &Spanned<Vec<Spanned<String>>>) -> Result<Vec<Kind>, ConfigError> {
        if list.get_ref().is_empty() {
            return Err(self.err(
                list.span(),
                "names no kind: list kinds to compare, or remove `kinds` to compare them all",
            ));
        }
        let mut kinds = list
            .get_ref()
            .iter()
            .map(|k| self.kind(k))
            .collect::<Result<Vec<_>, _>>()?;
        kinds.sort();
        kinds.dedup();
        Ok(kinds)
    }

    fn rewrites(&self, raw: &[Spanned<RawRewrite>]) -> Result<Vec<Rewrite>, ConfigError> {
        let mut out: Vec<Rewrite> = Vec::new();
        for r in raw {
            let rr = r.get_ref();
            let primary = self.non_empty(&rr.primary, "the primary's form of the value")?;
            let secondary = self.non_empty(&rr.secondary, "the secondary's form of the value")?;
            if primary == secondary {
                return Err(self.err(
                    rr.secondary.span(),
                    format!("rewrites `{primary}` to itself"),
                ));
            }
            if let Some(first) = out.iter().find(|x| x.primary == primary) {
                return Err(self.err(
                    rr.primary.span(),
                    format!("`{primary}` is already rewritten at {}", first.origin),
                ));
            }
            out.push(Rewrite {
                primary: primary.to_owned(),
                secondary: secondary.to_owned(),
                origin: self.loc.origin(&r.span()),
            });
        }
        Ok(out)
    }

    fn ignore(&self, raw: &Spanned<RawIgnore>) -> Result<Ignore, ConfigError> {
        let ri: &RawIgnore = raw.get_ref();
        let kind = match &ri.kind {
            Some(k) => Some(self.kind(k)?),
            None => None,
        };
        let key = self.non_empty(&ri.key, "a glob over natural keys, e.g. `scratch-*`")?;
        let field = match &ri.field {
            Some(f) => Some(
                self.non_empty(
                    f,
                    "a glob over field paths, or no `field` to ignore the whole object",
                )?
                .to_owned(),
            ),
            None => None,
        };
        let reason = self.non_empty(&ri.reason, "why this is not drift")?;
        Ok(Ignore {
            kind,
            key: key.to_owned(),
            field,
            reason: reason.trim().to_owned(),
            origin: self.loc.origin(&raw.span()),
        })
    }

    fn principal(&self, raw: &Spanned<RawPrincipal>) -> Result<SingleRegionPrincipal, ConfigError> {
        let rp: &RawPrincipal = raw.get_ref();
        let name = self.non_empty(
            &rp.name,
            "a user name, group name or application id (globs allowed)",
        )?;
        Ok(SingleRegionPrincipal {
            name: name.to_owned(),
            side: match rp.side {
                RawSide::Primary => Side::Primary,
                RawSide::Secondary => Side::Secondary,
            },
            origin: self.loc.origin(&raw.span()),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::client::RateLimits;
    use crate::diff::Rules;

    const FULL: &str = r#"
[client]
concurrency = 8
rate_limits = { permissions_read = 80, scim = "none", jobs = 2.5 }

[reports]
directory = "out/reports"
formats = ["junit", "markdown", "junit"]
failures_only = true

[snapshots]
keep = true
directory = "/var/lib/standby"

[[pair]]
name = "prod"
primary = { profile = "prod-use1" }
rpo = "1h"
rto = "4h"

[[pair.secondary]]
name = "dr-usw2"
workspace = { profile = "prod-usw2", host = "https://acme-dr-usw2.cloud.databricks.com" }
kinds = ["jobs", "clusters", "jobs", "instance-pools"]
hold_job_acls = true
passive = { clusters_terminated = false }
baseline = "baselines/prod.json"

[[pair.secondary.rewrite]]
primary = "s3://acme-prod-use1/"
secondary = "s3://acme-dr-usw2/"

[[pair.secondary.rewrite]]
primary = "arn:aws:iam::123456789012:instance-profile/prod-use1"
secondary = "arn:aws:iam::123456789012:instance-profile/dr-usw2"

[[pair.secondary.ignore]]
kind = "jobs"
key = "scratch-*"
field = "settings.email_notifications.*"
reason = "scratch jobs are not replicated"

[[pair.secondary.ignore]]
key = "*tmp*"
reason = "  temporary objects  "

[[pair.secondary.single_region_principal]]
name = "dr-operator@acme.com"
side = "secondary"

[[pair.secondary]]
name = "warm-euw1"
workspace = { host = "https://acme-warm-euw1.cloud.databricks.com" }
role = "active"
rpo = 900

[[pair]]
name = "analytics"
primary = { profile = "analytics" }

[[pair.secondary]]
name = "dr"
workspace = { profile = "analytics-dr" }
rto = "1d2h"
"#;

    fn parse_at(path: &str, text: &str) -> Result<Config, ConfigError> {
        parse(Path::new(path), text)
    }

    fn error(text: &str) -> String {
        match parse_at("conf/standby.toml", text) {
            Ok(c) => panic!("expected an error, parsed {c:?}"),
            Err(e) => e.to_string(),
        }
    }

    /// A minimal valid file with `extra` appended to the secondary's table.
    fn with_secondary(extra: &str) -> String {
        format!(
            "[[pair]]\nname = \"prod\"\nprimary = {{ profile = \"a\" }}\n[[pair.secondary]]\nname = \"dr\"\nworkspace = {{ profile = \"b\" }}\n{extra}"
        )
    }

    #[test]
    fn full_config_builds_settings_and_rules() {
        let config = parse_at("conf/standby.toml", FULL).expect("valid config");
        assert_eq!(config.source, PathBuf::from("conf/standby.toml"));
        assert_eq!(config.client.concurrency, 8);
        let mut limits = RateLimits::default();
        limits.0.insert(Family::PermissionsRead, Some(80.0));
        limits.0.insert(Family::Scim, None);
        limits.0.insert(Family::Jobs, Some(2.5));
        assert_eq!(config.client.rate_limits, limits);
        assert_eq!(config.client.client_config().concurrency, 8);
        assert_eq!(
            config.reports,
            ReportSettings {
                directory: PathBuf::from("conf/out/reports"),
                formats: vec![ReportFormat::Markdown, ReportFormat::Junit],
                failures_only: true,
            }
        );
        assert_eq!(
            config.reports.path("prod", "dr-usw2", ReportFormat::Junit),
            PathBuf::from("conf/out/reports/prod/dr-usw2/drift.junit.xml")
        );
        assert_eq!(
            config.snapshots,
            SnapshotSettings {
                keep: true,
                directory: PathBuf::from("/var/lib/standby"),
            }
        );
        assert_eq!(
            config.snapshots.secondary_path("prod", "dr-usw2"),
            PathBuf::from("/var/lib/standby/prod/dr-usw2.json")
        );

        let names: Vec<_> = config
            .targets()
            .map(|(p, s)| format!("{}/{}", p.name, s.name))
            .collect();
        assert_eq!(names, ["prod/dr-usw2", "prod/warm-euw1", "analytics/dr"]);

        let prod = &config.pairs[0];
        assert_eq!(prod.origin, "conf/standby.toml:15");
        assert_eq!(
            prod.primary.to_auth_inputs().profile.as_deref(),
            Some("prod-use1")
        );
        let dr = &prod.secondaries[0];
        assert_eq!(dr.origin, "conf/standby.toml:21");
        assert_eq!(
            dr.workspace,
            WorkspaceRef {
                profile: Some("prod-usw2".into()),
                host: Some("https://acme-dr-usw2.cloud.databricks.com".into()),
            }
        );
        assert_eq!(dr.baseline, Some(PathBuf::from("conf/baselines/prod.json")));

        let rules = config.rules_for(prod, dr);
        assert_eq!(
            rules,
            Rules {
                pair_name: "prod/dr-usw2".into(),
                kinds: Some(vec![Kind::Jobs, Kind::Clusters, Kind::InstancePools]),
                secondary_role: Role::Passive,
                passive: PassiveRules {
                    clusters_terminated: false,
                    hold_job_acls: true,
                    ..PassiveRules::default()
                },
                rpo_secs: Some(3_600),
                rto_secs: Some(14_400),
                ignores: vec![
                    Ignore {
                        kind: Some(Kind::Jobs),
                        key: "scratch-*".into(),
                        field: Some("settings.email_notifications.*".into()),
                        reason: "scratch jobs are not replicated".into(),
                        origin: "conf/standby.toml:37".into(),
                    },
                    Ignore {
                        kind: None,
                        key: "*tmp*".into(),
                        field: None,
                        reason: "temporary objects".into(),
                        origin: "conf/standby.toml:43".into(),
                    },
                ],
                rewrites: vec![
                    Rewrite {
                        primary: "s3://acme-prod-use1/".into(),
                        secondary: "s3://acme-dr-usw2/".into(),
                        origin: "conf/standby.toml:29".into(),
                    },
                    Rewrite {
                        primary: "arn:aws:iam::123456789012:instance-profile/prod-use1".into(),
                        secondary: "arn:aws:iam::123456789012:instance-profile/dr-usw2".into(),
                        origin: "conf/standby.toml:33".into(),
                    },
                ],
                single_region_principals: vec![SingleRegionPrincipal {
                    name: "dr-operator@acme.com".into(),
                    side: Side::Secondary,
                    origin: "conf/standby.toml:47".into(),
                }],
            }
        );

        // The active copy: its own RPO, the pair's RTO, default passive rules.
        let warm = config.rules_for(prod, &prod.secondaries[1]);
        assert_eq!(warm.secondary_role, Role::Active);
        assert_eq!((warm.rpo_secs, warm.rto_secs), (Some(900), Some(14_400)));
        assert_eq!(warm.passive, PassiveRules::default());
        assert_eq!(warm.kinds, None);
        assert!(warm.ignores.is_empty() && warm.rewrites.is_empty());

        let analytics = &config.pairs[1];
        let dr = config.rules_for(analytics, &analytics.secondaries[0]);
        assert_eq!((dr.rpo_secs, dr.rto_secs), (None, Some(93_600)));
    }

    #[test]
    fn defaults_fill_what_the_file_leaves_out() {
        let config = parse_at("standby.toml", &with_secondary("")).expect("valid config");
        assert_eq!(config.client, ClientSettings::default());
        assert_eq!(config.reports.directory, PathBuf::from("standby-reports"));
        assert_eq!(config.reports.formats, ReportFormat::ALL.to_vec());
        assert!(!config.reports.failures_only);
        assert!(!config.snapshots.keep);
        assert_eq!(
            config.snapshots.directory,
            PathBuf::from("standby-snapshots")
        );
        let (pair, secondary) = config.select(None).expect("one target");
        let rules = config.rules_for(pair, secondary);
        assert_eq!(
            rules,
            Rules {
                pair_name: "prod/dr".into(),
                ..Rules::default()
            }
        );
    }

    #[test]
    fn the_shipped_fixture_config_parses() {
        let text = include_str!("../../fixtures/standby.toml");
        let config = parse_at("fixtures/standby.toml", text).expect("fixture config");
        let (pair, secondary) = config
            .select(Some("prod/dr-usw2"))
            .expect("the fixture pair");
        assert_eq!(
            pair.primary.host.as_deref(),
            Some("https://acme-prod-use1.cloud.databricks.com")
        );
        assert_eq!(
            secondary.workspace.host.as_deref(),
            Some("https://acme-dr-usw2.cloud.databricks.com")
        );
        let rules = config.rules_for(pair, secondary);
        assert_eq!(rules.secondary_role, Role::Passive);
        assert_eq!(
            (rules.rpo_secs, rules.rto_secs),
            (Some(3_600), Some(14_400))
        );
        assert_eq!(rules.rewrites.len(), 1);
        assert_eq!(rules.rewrites[0].primary, "s3://acme-prod-use1/");
        assert_eq!(rules.rewrites[0].secondary, "s3://acme-dr-usw2/");
        assert_eq!(rules.ignores.len(), 1);
        assert!(!rules.ignores[0].reason.is_empty());
        assert!(
            rules.ignores[0]
                .origin
                .starts_with("fixtures/standby.toml:")
        );
        assert_eq!(
            config.reports.directory,
            PathBuf::from("fixtures/standby-reports")
        );
    }

    #[test]
    fn the_documented_reference_parses() {
        // The module docs (which the README copies) must stay a valid config.
        let docs = include_str!("mod.rs");
        let block: String = docs
            .lines()
            .skip_while(|l| l.trim() != "//! ```toml")
            .skip(1)
            .take_while(|l| l.trim() != "//! ```")
            .map(|l| {
                format!(
                    "{}\n",
                    l.trim_start_matches("//!").strip_prefix(' ').unwrap_or("")
                )
            })
            .collect();
        assert!(block.contains("[[pair.secondary.ignore]]"), "{block}");
        let config = parse_at("standby.toml", &block).expect("the reference block parses");
        let (pair, secondary) = config.select(None).expect("one target");
        let rules = config.rules_for(pair, secondary);
        assert_eq!(
            (rules.rpo_secs, rules.rto_secs),
            (Some(1_800), Some(14_400))
        );
        assert!(!rules.passive.clusters_terminated);
        assert_eq!(
            (
                rules.ignores.len(),
                rules.rewrites.len(),
                rules.single_region_principals.len()
            ),
            (1, 1, 1)
        );
        assert_eq!(
            secondary.baseline,
            Some(PathBuf::from("standby-baseline.json"))
        );
    }

    #[test]
    fn every_endpoint_family_can_be_limited() {
        let limits: Vec<String> = Family::ALL
            .iter()
            .map(|f| format!("{} = 7", f.name()))
            .collect();
        let text = format!(
            "[client]\nrate_limits = {{ {} }}\n{}",
            limits.join(", "),
            with_secondary("")
        );
        let config = parse_at("standby.toml", &text).expect("valid config");
        for family in Family::ALL {
            assert_eq!(config.client.rate_limits.0.get(&family), Some(&Some(7.0)));
        }
    }

    #[test]
    fn select_picks_one_secondary_or_says_what_exists() {
        let config = parse_at("standby.toml", FULL).expect("valid config");
        let (p, s) = config.select(Some("analytics")).expect("one secondary");
        assert_eq!((p.name.as_str(), s.name.as_str()), ("analytics", "dr"));
        let available = "(available: `prod/dr-usw2`, `prod/warm-euw1`, `analytics/dr`)";
        let message = |wanted| match config.select(wanted) {
            Ok(_) => panic!("expected an error for {wanted:?}"),
            Err(e) => e.to_string(),
        };
        assert_eq!(
            message(None),
            format!(
                "more than one pair and secondary: name one with `PAIR/SECONDARY` in `standby.toml` {available}"
            )
        );
        assert_eq!(
            message(Some("prod")),
            format!(
                "`prod` has more than one secondary: name one with `prod/SECONDARY` in `standby.toml` {available}"
            )
        );
        assert_eq!(
            message(Some("qa")),
            format!("no pair `qa` in `standby.toml` {available}")
        );
        assert_eq!(
            message(Some("prod/dr")),
            format!("pair `prod` has no secondary `dr` in `standby.toml` {available}")
        );
    }

    #[test]
    fn unreadable_file_names_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("missing.toml");
        let err = load(&path).expect_err("no such file");
        assert_eq!(
            err.to_string(),
            format!("failed to read `{}`", path.display())
        );
    }

    #[test]
    fn load_reads_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("standby.toml");
        std::fs::write(&path, with_secondary("rpo = 60\n")).expect("write config");
        let config = load(&path).expect("valid config");
        assert_eq!(config.pairs[0].secondaries[0].rpo_secs, Some(60));
        assert_eq!(config.reports.directory, dir.path().join("standby-reports"));
    }

    #[test]
    fn unknown_keys_name_file_line_and_key() {
        assert_eq!(
            error("colour = true\n"),
            "conf/standby.toml:1:1: `colour`: unknown key, expected one of `client`, `reports`, `snapshots`, `pair`"
        );
        assert_eq!(
            error(&with_secondary("kind = [\"jobs\"]\n")),
            "conf/standby.toml:7:1: `pair.secondary.kind`: unknown key, expected one of `name`, `workspace`, `role`, `rpo`, `rto`, `kinds`, `hold_job_acls`, `passive`, `baseline`, `rewrite`, `ignore`, `single_region_principal`"
        );
        assert_eq!(
            error("[[pair]]\nname = \"prod\"\nprimary = { profil = \"a\" }\n"),
            "conf/standby.toml:3:13: `pair.primary.profil`: unknown key, expected `profile` or `host`"
        );
        assert_eq!(
            error(&with_secondary("passive = { jobs_pasued = false }\n")),
            "conf/standby.toml:7:13: `pair.secondary.passive.jobs_pasued`: unknown key, expected one of `jobs_concurrency_zero`, `jobs_paused`, `pools_min_idle_zero`, `clusters_terminated`, `warehouses_stopped`"
        );
        assert_eq!(
            error(&with_secondary(
                "[[pair.secondary.ignore]]\nkey = \"x\"\nreason = \"y\"\nglob = \"z\"\n"
            )),
            "conf/standby.toml:10:1: `pair.secondary.ignore.glob`: unknown key, expected one of `kind`, `key`, `field`, `reason`"
        );
        assert_eq!(
            error("[client.rate_limits]\njobz = 3\n"),
            "conf/standby.toml:2:1: `client.rate_limits.jobz`: unknown endpoint family `jobz` (expected one of: scim, jobs, job_runs, permissions_read, permissions_write, workspace_list, workspace_export, secrets, other)"
        );
    }

    #[test]
    fn wrong_types_name_file_line_and_key() {
        assert_eq!(
            error("[client]\nconcurrency = \"many\"\n"),
            "conf/standby.toml:2:15: `client.concurrency`: invalid type: string \"many\", expected an integer"
        );
        assert_eq!(
            error("[client]\nconcurrency = 0\n"),
            "conf/standby.toml:2:15: `client.concurrency`: must be between 1 and 256, not 0"
        );
        assert_eq!(
            error("[client]\nrate_limits = { scim = \"fast\" }\n"),
            "conf/standby.toml:2:24: `client.rate_limits.scim`: invalid rate limit `\"fast\"`: expected a positive number of requests per second, or `\"none\"`"
        );
        assert_eq!(
            error("[client]\nrate_limits = { scim = 0 }\n"),
            "conf/standby.toml:2:24: `client.rate_limits.scim`: invalid rate limit `0`: expected a positive number of requests per second, or `\"none\"`"
        );
        assert_eq!(
            error(&with_secondary("hold_job_acls = \"yes\"\n")),
            "conf/standby.toml:7:17: `pair.secondary.hold_job_acls`: invalid type: string \"yes\", expected a boolean"
        );
        assert_eq!(
            error(&with_secondary("kinds = \"jobs\"\n")),
            "conf/standby.toml:7:9: `pair.secondary.kinds`: invalid type: string \"jobs\", expected an array"
        );
        assert_eq!(
            error(&with_secondary("role = \"standby\"\n")),
            "conf/standby.toml:7:8: `pair.secondary.role`: unknown value `standby`, expected `active` or `passive`"
        );
        assert_eq!(
            error("[[pair]]\nname = \"prod\"\nprimary = \"prod-use1\"\n"),
            "conf/standby.toml:3:11: `pair.primary`: invalid type: string \"prod-use1\", expected a table like `{ profile = \"prod\" }` or `{ host = \"https://...\" }`"
        );
        assert_eq!(
            error("[pair]\nname = \"prod\"\n"),
            "conf/standby.toml:1:1: `pair`: expected an array of tables: write `[[pair]]`"
        );
        assert_eq!(
            error("[reports]\nformats = [\"html\"]\n"),
            "conf/standby.toml:2:12: `reports.formats`: unknown value `html`, expected one of `text`, `markdown`, `json`, `junit`"
        );
    }

    #[test]
    fn missing_keys_name_file_line_and_key() {
        assert_eq!(
            error(&with_secondary(
                "[[pair.secondary.ignore]]\nkind = \"jobs\"\nkey = \"scratch-*\"\n"
            )),
            "conf/standby.toml:7:1: `pair.secondary.ignore.reason`: required key missing: every ignore needs a reason"
        );
        assert_eq!(
            error(&with_secondary("ignore = [{ key = \"scratch-*\" }]\n")),
            "conf/standby.toml:7:11: `pair.secondary.ignore.reason`: required key missing: every ignore needs a reason"
        );
        assert_eq!(
            error(&with_secondary(
                "[[pair.secondary.ignore]]\nkey = \"x\"\nreason = \" \"\n"
            )),
            "conf/standby.toml:9:10: `pair.secondary.ignore.reason`: must not be empty: expected why this is not drift"
        );
        assert_eq!(
            error("[[pair]]\nprimary = { profile = \"a\" }\n"),
            "conf/standby.toml:1:1: `pair.name`: required key missing"
        );
        assert_eq!(
            error(
                "[[pair]]\nname = \"prod\"\n[[pair.secondary]]\nname = \"dr\"\nworkspace = { profile = \"b\" }\n"
            ),
            "conf/standby.toml:1:1: `pair.primary`: required key missing"
        );
        assert_eq!(
            error("[[pair]]\nname = \"prod\"\nprimary = {}\n"),
            "conf/standby.toml:3:11: `pair.primary`: names no workspace: set `profile` (a section of `~/.databrickscfg`) or `host`"
        );
        assert_eq!(
            error("[[pair]]\nname = \"prod\"\nprimary = { profile = \"a\" }\n"),
            "conf/standby.toml:1:1: `pair.secondary`: pair `prod` has no secondary: add a `[[pair.secondary]]` table"
        );
        assert_eq!(
            error("[client]\nconcurrency = 4\n"),
            "conf/standby.toml:1:1: `pair`: no workspace pair: add a `[[pair]]` table with a `primary` and a `[[pair.secondary]]`"
        );
    }

    #[test]
    fn bad_durations_name_file_line_and_key() {
        assert_eq!(
            error("[[pair]]\nname = \"prod\"\nprimary = { profile = \"a\" }\nrpo = \"1 hour\"\n"),
            "conf/standby.toml:4:7: `pair.rpo`: invalid duration `1 hour`: expected a string like `90s`, `30m`, `1h` or `1h30m`, or a number of seconds"
        );
        assert_eq!(
            error(&with_secondary("rto = -60\n")),
            "conf/standby.toml:7:7: `pair.secondary.rto`: invalid duration `-60`: must not be negative"
        );
        assert_eq!(
            error(&with_secondary("rto = 1.5\n")),
            "conf/standby.toml:7:7: `pair.secondary.rto`: invalid type: float `1.5`, expected a duration like `90s`, `30m`, `1h` or `1h30m`, or a number of seconds"
        );
    }

    #[test]
    fn unknown_kinds_name_file_line_and_key() {
        let all = Kind::ALL.map(Kind::name).join(", ");
        assert_eq!(
            error(&with_secondary("kinds = [\"jobs\", \"notebooks\"]\n")),
            format!(
                "conf/standby.toml:7:18: `pair.secondary.kinds`: unknown kind `notebooks` (expected one of: {all})"
            )
        );
        assert_eq!(
            error(&with_secondary("kinds = []\n")),
            "conf/standby.toml:7:9: `pair.secondary.kinds`: names no kind: list kinds to compare, or remove `kinds` to compare them all"
        );
        assert_eq!(
            error(&with_secondary(
                "[[pair.secondary.ignore]]\nkind = \"job\"\nkey = \"x\"\nreason = \"y\"\n"
            )),
            format!(
                "conf/standby.toml:8:8: `pair.secondary.ignore.kind`: unknown kind `job` (expected one of: {all})"
            )
        );
    }

    #[test]
    fn duplicates_name_file_line_and_key() {
        let text = format!(
            "{}[[pair]]\nname = \"prod\"\nprimary = {{ profile = \"c\" }}\n",
            with_secondary("")
        );
        assert_eq!(
            error(&text),
            "conf/standby.toml:8:8: `pair.name`: duplicate pair name `prod` (first used on line 2)"
        );
        assert_eq!(
            error(&with_secondary(
                "[[pair.secondary]]\nname = \"dr\"\nworkspace = { profile = \"c\" }\n"
            )),
            "conf/standby.toml:8:8: `pair.secondary.name`: duplicate secondary name `dr` in pair `prod` (first used at conf/standby.toml:4)"
        );
        assert_eq!(
            error(&with_secondary(
                "[[pair.secondary]]\nname = \"dr2\"\nworkspace = { profile = \"a\" }\n"
            )),
            "conf/standby.toml:9:13: `pair.secondary.workspace`: profile `a` is also the pair's primary: a pair compares different workspaces"
        );
        assert_eq!(
            error(&with_secondary(
                "[[pair.secondary.rewrite]]\nprimary = \"s3://a/\"\nsecondary = \"s3://b/\"\n[[pair.secondary.rewrite]]\nprimary = \"s3://a/\"\nsecondary = \"s3://c/\"\n"
            )),
            "conf/standby.toml:11:11: `pair.secondary.rewrite.primary`: `s3://a/` is already rewritten at conf/standby.toml:7"
        );
        assert_eq!(
            error("[client]\nconcurrency = 1\nconcurrency = 2\n"),
            "conf/standby.toml:3:1: `client.concurrency`: duplicate key"
        );
        assert_eq!(
            error("[client]\nconcurrency = 1\n[ client ]\nconcurrency = 2\n"),
            "conf/standby.toml:3:3: `client`: duplicate key"
        );
        assert_eq!(
            error(&with_secondary("name = \"dr2\"\n")),
            "conf/standby.toml:7:1: `pair.secondary.name`: duplicate key"
        );
        assert_eq!(
            error(&with_secondary(
                "passive = { jobs_paused = true, jobs_paused = false }\n"
            )),
            "conf/standby.toml:7:33: `pair.secondary.passive.jobs_paused`: duplicate key"
        );
    }

    #[test]
    fn contradictions_and_bad_names_are_errors() {
        assert_eq!(
            error(&with_secondary(
                "role = \"active\"\npassive = { jobs_paused = false }\n"
            )),
            "conf/standby.toml:8:11: `pair.secondary.passive`: secondary `dr` is `active`: passive rules do not apply (remove `passive` or set `role = \"passive\"`)"
        );
        assert_eq!(
            error(&with_secondary("role = \"active\"\nhold_job_acls = true\n")),
            "conf/standby.toml:8:17: `pair.secondary.hold_job_acls`: secondary `dr` is `active`: job ACLs are not held back (remove `hold_job_acls` or set `role = \"passive\"`)"
        );
        assert_eq!(
            error(&with_secondary(
                "[[pair.secondary.rewrite]]\nprimary = \"s3://a/\"\nsecondary = \"s3://a/\"\n"
            )),
            "conf/standby.toml:9:13: `pair.secondary.rewrite.secondary`: rewrites `s3://a/` to itself"
        );
        assert_eq!(
            error("[[pair]]\nname = \"prod use1\"\nprimary = { profile = \"a\" }\n"),
            "conf/standby.toml:2:8: `pair.name`: invalid pair name `prod use1`: use letters, digits, `.`, `_` and `-`, starting with a letter or digit"
        );
        assert_eq!(
            error(
                "[[pair]]\nname = \"prod\"\nprimary = { profile = \"a\" }\n[[pair.secondary]]\nname = \"primary\"\nworkspace = { profile = \"b\" }\n"
            ),
            "conf/standby.toml:5:8: `pair.secondary.name`: `primary` is reserved for the pair's primary (its snapshot file): choose another name"
        );
        assert_eq!(
            error(&with_secondary(
                "[[pair.secondary.single_region_principal]]\nname = \"x\"\nside = \"both\"\n"
            )),
            "conf/standby.toml:9:8: `pair.secondary.single_region_principal.side`: unknown value `both`, expected `primary` or `secondary`"
        );
    }

    #[test]
    fn no_edit_of_a_valid_file_panics_and_every_error_has_a_line() {
        // Delete or insert one character at every position of a full file:
        // each result either parses or is an error with a position.
        let chars: Vec<(usize, char)> = FULL.char_indices().collect();
        for &(at, c) in &chars {
            let mut deleted = FULL.to_owned();
            deleted.remove(at);
            let mut variants = vec![deleted];
            for insert in ['[', ']', '"', '=', '\n', '.'] {
                let mut inserted = FULL.to_owned();
                inserted.insert(at, insert);
                variants.push(inserted);
            }
            for text in variants {
                if let Err(e) = parse_at("standby.toml", &text) {
                    match e {
                        ConfigError::Invalid {
                            position: Some(_),
                            ref message,
                            ..
                        } => {
                            assert!(!message.is_empty(), "{e}");
                        }
                        other => panic!("error without a position for {c:?} at {at}: {other}"),
                    }
                }
            }
        }
    }

    #[test]
    fn syntax_errors_name_file_and_line() {
        assert_eq!(
            error("[[pair]\nname = \"prod\"\n"),
            "conf/standby.toml:1:8: unclosed array table, expected `]`"
        );
        assert_eq!(
            error("[client]\nconcurrency = \n"),
            "conf/standby.toml:2:15: `client.concurrency`: string values must be quoted, expected literal string"
        );
    }
}
