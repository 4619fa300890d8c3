//! `standby.toml`: the workspace pairs `standby check` compares, the rules
//! each secondary is held to, and where reports and snapshots go.
//!
//! [`load`] reads a file, [`parse`] checks text; both return a [`Config`],
//! and [`Config::rules_for`] gives the diff engine a pair's [`Rules`].
//! Every mistake is an error naming the file, line, column and key, e.g.
//! ``standby.toml:23:1: `pair.secondary.ignore.reason`: required key missing: every ignore needs a reason``.
//!
//! # Reference
//!
//! ```toml
//! [client]                       # optional
//! concurrency = 20               # requests in flight per workspace, 1–256 (default 20)
//! rate_limits = { permissions_read = 80, scim = "none" }
//!
//! [reports]                      # optional
//! directory = "standby-reports"  # default; one folder per pair and secondary
//! formats = ["text", "markdown", "json", "junit"]   # default: all four
//! failures_only = false          # JUnit lists failing objects only (default false)
//!
//! [snapshots]                    # optional
//! keep = false                   # keep the snapshots `standby check` takes (default false)
//! directory = "standby-snapshots"
//!
//! [[pair]]                       # one or more
//! name = "prod"
//! primary = { profile = "prod-use1" }
//! rpo = "1h"                     # optional, inherited by every secondary
//! rto = "4h"                     # optional, inherited by every secondary
//!
//! [[pair.secondary]]             # one or more per pair
//! name = "dr-usw2"
//! workspace = { profile = "prod-usw2" }
//! role = "passive"               # or "active" (default "passive")
//! rpo = "30m"                    # optional, overrides the pair's
//! kinds = ["jobs", "clusters"]   # optional (default: every kind)
//! hold_job_acls = false          # optional (default false)
//! passive = { clusters_terminated = false }   # optional switches (default: all on)
//! baseline = "standby-baseline.json"          # optional
//!
//! [[pair.secondary.rewrite]]     # zero or more
//! primary = "s3://acme-prod-use1/"
//! secondary = "s3://acme-dr-usw2/"
//!
//! [[pair.secondary.ignore]]      # zero or more
//! kind = "jobs"                  # optional (default: every kind)
//! key = "scratch-*"
//! field = "settings.email_notifications.*"    # optional (default: the whole object)
//! reason = "scratch jobs are not replicated"  # required
//!
//! [[pair.secondary.single_region_principal]]  # zero or more
//! name = "dr-operator@acme.com"
//! side = "secondary"
//! ```
//!
//! Unknown keys are errors, everywhere. Relative paths (`directory`,
//! `baseline`) are taken from the config file's directory, not the current one.
//!
//! ## `[client]`
//! - `concurrency`: requests in flight at once per workspace, 1 to 256
//!   (default 20; the service allows about 20).
//! - `rate_limits`: a table of client-side limits per endpoint family, in
//!   requests per second (integer or decimal), or `"none"` for no limit.
//!   Families: `scim`, `jobs`, `job_runs`, `permissions_read`,
//!   `permissions_write`, `workspace_list`, `workspace_export`, `secrets`,
//!   `other`. Families not named keep the service's published limits.
//!
//! ## `[reports]`
//! - `directory`: where `standby check` writes reports (default
//!   `standby-reports`): `DIRECTORY/PAIR/SECONDARY/drift.txt`, `drift.md`,
//!   `drift.json` and `drift.junit.xml`.
//! - `formats`: which of `text`, `markdown`, `json`, `junit` to write
//!   (default all four; `[]` writes none).
//! - `failures_only`: the JUnit report lists only objects with findings,
//!   not every compared object (for very large workspaces; default `false`).
//!
//! ## `[snapshots]`
//! - `keep`: keep the snapshots `standby check` takes (default `false`).
//! - `directory`: where (default `standby-snapshots`):
//!   `DIRECTORY/PAIR/primary.json` and `DIRECTORY/PAIR/SECONDARY.json`.
//!
//! ## `[[pair]]`
//! - `name` (required): unique; letters, digits, `.`, `_`, `-`. Used in
//!   report and snapshot paths.
//! - `primary` (required): the active workspace, `{ profile = "..." }` (a
//!   section of `~/.databrickscfg`), `{ host = "https://..." }` (credentials
//!   from `DATABRICKS_TOKEN` or `DATABRICKS_CLIENT_ID`/`DATABRICKS_CLIENT_SECRET`),
//!   or both (the host overrides the profile's). Credentials never go in
//!   `standby.toml`.
//! - `rpo`, `rto`: recovery point and recovery time objectives, for every
//!   secondary of the pair that does not set its own. A duration: `"90s"`,
//!   `"30m"`, `"1h"`, `"1h30m"`, `"2d"` (units `d`, `h`, `m`, `s`, largest
//!   first), or an integer number of seconds. Replication lag beyond the RPO
//!   is a finding; rehearsals are measured against the RTO.
//!
//! ## `[[pair.secondary]]`
//! - `name` (required): unique within the pair, same characters as a pair
//!   name, not `primary`.
//! - `workspace` (required): as `primary`; must differ from the primary and
//!   from the pair's other secondaries.
//! - `role`: `passive` (default) holds a copy and runs nothing until failover,
//!   so the passive rules apply; `active` runs workloads and is compared as is.
//! - `rpo`, `rto`: override the pair's.
//! - `kinds`: kinds to compare (default: every kind both snapshots hold);
//!   names as in `standby snapshot --kinds` (`jobs`, `instance_pools`, ...).
//! - `hold_job_acls`: job ACLs are applied only at failover (the DR guide's
//!   "hold the data for jobs"), so job permissions present in the secondary
//!   are a finding and missing ones are expected (default `false`). Passive
//!   secondaries only.
//! - `passive`: switches for the passive rules, each `true` unless turned off:
//!   `jobs_concurrency_zero` (jobs have `max_concurrent_runs` 0),
//!   `jobs_paused` (schedules, triggers and continuous runs paused),
//!   `pools_min_idle_zero` (pools keep `min_idle_instances` 0),
//!   `clusters_terminated` (all-purpose clusters terminated),
//!   `warehouses_stopped` (SQL warehouses stopped). Passive secondaries only.
//! - `baseline`: a file of accepted drift; findings recorded there do not fail
//!   the check, new or changed ones do.
//!
//! ## `[[pair.secondary.rewrite]]`
//! A region-specific value: in the primary's objects, every string containing
//! `primary` has it replaced by `secondary` before comparing. Use it for
//! storage paths, host names, instance profile ARNs. Both keys required; one
//! rewrite per `primary` value.
//!
//! ## `[[pair.secondary.ignore]]`
//! Findings not to report, like driftctl's `.driftignore`:
//! - `kind`: the kind (default: every kind).
//! - `key` (required): a glob over natural keys (`*` any run of characters,
//!   `/` and `.` included; `?` one character), e.g. `scratch-*`, `/Users/*`.
//!   A glob that matches no object of its kind in either snapshot is an error.
//! - `field`: a glob over field paths (e.g. `settings.email_notifications.*`);
//!   without it the whole object is ignored.
//! - `reason` (required): why this is not drift; shown in reports.
//!
//! ## `[[pair.secondary.single_region_principal]]`
//! A principal that exists on one side only, so its absence on the other is
//! not drift:
//! - `name` (required): a glob over user names, group names and service
//!   principals' application ids.
//! - `side` (required): `primary` or `secondary`, the side that has it.
//!
//! Each rewrite, ignore and principal remembers where it was written
//! (`origin`, `standby.toml:41`), so a glob that matches nothing is reported
//! with its file and line ([`ConfigError::unmatched_ignore`]).
//!
//! [`Rules`]: crate::diff::Rules

mod duration;
mod error;
mod load;
mod model;
mod raw;

pub use error::{ConfigError, Position};
pub use load::{load, parse};
pub use model::{
    ClientSettings, Config, DEFAULT_CONCURRENCY, DEFAULT_REPORTS_DIRECTORY,
    DEFAULT_SNAPSHOTS_DIRECTORY, PairConfig, ReportFormat, ReportSettings, SecondaryConfig,
    SnapshotSettings, WorkspaceRef,
};
