//! The validated config: what `standby check` and `standby diff --config` use.

use std::path::{Path, PathBuf};

use super::error::ConfigError;
use crate::auth::AuthInputs;
use crate::client::{ClientConfig, RateLimits};
use crate::diff::Role;
use crate::diff::{Ignore, PassiveRules, Rewrite, Rules, SingleRegionPrincipal};
use crate::kind::Kind;

/// Default `[client] concurrency` (the service allows about 20 requests in flight).
pub const DEFAULT_CONCURRENCY: usize = 20;
/// Default `[reports] directory`.
pub const DEFAULT_REPORTS_DIRECTORY: &str = "standby-reports";
/// Default `[snapshots] directory`.
pub const DEFAULT_SNAPSHOTS_DIRECTORY: &str = "standby-snapshots";

/// A loaded `standby.toml`.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// The file it came from, as given.
    pub source: PathBuf,
    /// How to talk to the workspaces.
    pub client: ClientSettings,
    /// Which reports `standby check` writes, and where.
    pub reports: ReportSettings,
    /// Whether `standby check` keeps the snapshots it takes, and where.
    pub snapshots: SnapshotSettings,
    /// Workspace pairs, in file order.
    pub pairs: Vec<PairConfig>,
}

/// `[client]`: request concurrency and per-family rate limits.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientSettings {
    /// Requests in flight at once per workspace.
    pub concurrency: usize,
    /// The published limits, with the file's overrides applied.
    pub rate_limits: RateLimits,
}

impl Default for ClientSettings {
    fn default() -> Self {
        ClientSettings {
            concurrency: DEFAULT_CONCURRENCY,
            rate_limits: RateLimits::default(),
        }
    }
}

impl ClientSettings {
    /// A client configuration with these settings and defaults for the rest.
    pub fn client_config(&self) -> ClientConfig {
        ClientConfig {
            concurrency: self.concurrency,
            rate_limits: self.rate_limits.clone(),
            ..ClientConfig::default()
        }
    }
}

/// A report format `standby check` can write: the report module's own.
pub use crate::report::Format as ReportFormat;

/// `[reports]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportSettings {
    /// Root directory of the reports (relative paths in the file are taken
    /// from the config file's directory).
    pub directory: PathBuf,
    /// Formats to write, sorted, without duplicates.
    pub formats: Vec<ReportFormat>,
    /// JUnit lists failing objects only (for very large workspaces).
    pub failures_only: bool,
}

impl ReportSettings {
    /// Where the report of one pair and secondary in one format goes:
    /// `DIRECTORY/PAIR/SECONDARY/drift.EXT`.
    pub fn path(&self, pair: &str, secondary: &str, format: ReportFormat) -> PathBuf {
        self.directory
            .join(pair)
            .join(secondary)
            .join(format.file_name())
    }
}

/// `[snapshots]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotSettings {
    /// Keep the snapshots `standby check` takes.
    pub keep: bool,
    /// Where they are kept (relative paths taken from the config file's directory).
    pub directory: PathBuf,
}

impl SnapshotSettings {
    /// `DIRECTORY/PAIR/primary.json`.
    pub fn primary_path(&self, pair: &str) -> PathBuf {
        self.directory.join(pair).join("primary.json")
    }

    /// `DIRECTORY/PAIR/SECONDARY.json` (no secondary may be named `primary`).
    pub fn secondary_path(&self, pair: &str, secondary: &str) -> PathBuf {
        self.directory.join(pair).join(format!("{secondary}.json"))
    }
}

/// `[[pair]]`: one primary and its secondaries.
#[derive(Clone, Debug, PartialEq)]
pub struct PairConfig {
    /// Unique among pairs; used in report and snapshot paths.
    pub name: String,
    /// The active workspace.
    pub primary: WorkspaceRef,
    /// The copies compared with it, in file order (at least one).
    pub secondaries: Vec<SecondaryConfig>,
    /// Where the pair was written (`standby.toml:12`).
    pub origin: String,
}

/// A workspace, by `~/.databrickscfg` profile, by host, or both (the host
/// then overrides the profile's).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkspaceRef {
    /// Profile name.
    pub profile: Option<String>,
    /// Workspace URL.
    pub host: Option<String>,
}

impl WorkspaceRef {
    /// The auth layer's view; credentials come from the profile or the
    /// `DATABRICKS_*` environment, never from `standby.toml`.
    pub fn to_auth_inputs(&self) -> AuthInputs {
        AuthInputs {
            host: self.host.clone(),
            profile: self.profile.clone(),
            token_file: None,
            config_file: None,
        }
    }

    /// For messages: ``profile `prod` `` or ``host `https://…` ``.
    pub fn describe(&self) -> String {
        match (&self.profile, &self.host) {
            (Some(p), Some(h)) => format!("profile `{p}` with host `{h}`"),
            (Some(p), None) => format!("profile `{p}`"),
            (None, Some(h)) => format!("host `{h}`"),
            (None, None) => "the default workspace".to_owned(),
        }
    }
}

/// `[[pair.secondary]]`: one copy of the primary and the rules it is held to.
/// Inherited values (`rpo`, `rto`) are already resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct SecondaryConfig {
    /// Unique within its pair; used in report and snapshot paths.
    pub name: String,
    /// The workspace.
    pub workspace: WorkspaceRef,
    /// `passive` (the default) or `active`.
    pub role: Role,
    /// Recovery point objective, seconds.
    pub rpo_secs: Option<u64>,
    /// Recovery time objective, seconds.
    pub rto_secs: Option<u64>,
    /// Kinds to compare (sorted, de-duplicated); `None` compares all.
    pub kinds: Option<Vec<Kind>>,
    /// The passive rules, `hold_job_acls` included (defaults for an active secondary).
    pub passive: PassiveRules,
    /// Findings to ignore, in file order.
    pub ignores: Vec<Ignore>,
    /// Region-specific values, in file order.
    pub rewrites: Vec<Rewrite>,
    /// Principals expected on one side only, in file order.
    pub single_region_principals: Vec<SingleRegionPrincipal>,
    /// The accepted-drift baseline file, if the secondary has one.
    pub baseline: Option<PathBuf>,
    /// Where the secondary was written (`standby.toml:20`).
    pub origin: String,
}

impl Config {
    /// The diff rules for one secondary of one pair.
    pub fn rules_for(&self, pair: &PairConfig, secondary: &SecondaryConfig) -> Rules {
        Rules {
            pair_name: format!("{}/{}", pair.name, secondary.name),
            kinds: secondary.kinds.clone(),
            secondary_role: secondary.role,
            passive: secondary.passive.clone(),
            rpo_secs: secondary.rpo_secs,
            rto_secs: secondary.rto_secs,
            ignores: secondary.ignores.clone(),
            rewrites: secondary.rewrites.clone(),
            single_region_principals: secondary.single_region_principals.clone(),
        }
    }

    /// Every `pair/secondary` of the file, in file order.
    pub fn targets(&self) -> impl Iterator<Item = (&PairConfig, &SecondaryConfig)> {
        self.pairs
            .iter()
            .flat_map(|p| p.secondaries.iter().map(move |s| (p, s)))
    }

    /// Picks one secondary: `PAIR/SECONDARY`, `PAIR` when it has one
    /// secondary, or nothing when the file has exactly one.
    pub fn select(
        &self,
        wanted: Option<&str>,
    ) -> Result<(&PairConfig, &SecondaryConfig), ConfigError> {
        let available = || {
            self.targets()
                .map(|(p, s)| format!("`{}/{}`", p.name, s.name))
                .collect()
        };
        let fail = |message: String| ConfigError::NoSuchPair {
            file: self.source.clone(),
            message,
            available: available(),
        };
        let candidates: Vec<_> = match wanted {
            None => self.targets().collect(),
            Some(w) => {
                let (pair, secondary) = match w.split_once('/') {
                    Some((p, s)) => (p, Some(s)),
                    None => (w, None),
                };
                let Some(p) = self.pairs.iter().find(|p| p.name == pair) else {
                    return Err(fail(format!("no pair `{pair}`")));
                };
                match secondary {
                    Some(s) => match p.secondaries.iter().find(|x| x.name == s) {
                        Some(x) => vec![(p, x)],
                        None => return Err(fail(format!("pair `{pair}` has no secondary `{s}`"))),
                    },
                    None => p.secondaries.iter().map(|x| (p, x)).collect(),
                }
            }
        };
        match candidates.as_slice() {
            [one] => Ok(*one),
            _ => Err(fail(match wanted {
                None => {
                    "more than one pair and secondary: name one with `PAIR/SECONDARY`".to_owned()
                }
                Some(w) => {
                    format!("`{w}` has more than one secondary: name one with `{w}/SECONDARY`")
                }
            })),
        }
    }
}

/// Resolves a path from the file against the file's directory.
pub(super) fn relative_to(config: &Path, path: &str) -> PathBuf {
    let path = Path::new(path);
    if path.is_absolute() {
        path.to_owned()
    } else {
        config.parent().unwrap_or(Path::new("")).join(path)
    }
}
