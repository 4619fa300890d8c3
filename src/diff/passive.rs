//! The DR guide's Step 2 rules for a passive secondary: which fields must
//! hold which values, so that the copy runs nothing until failover.
//!
//! The same fields are expected to differ from the primary (concurrency 0,
//! paused schedules, min idle 0, terminated clusters, stopped warehouses), so
//! they are left out of the `changed` comparison; a secondary value that is
//! not passive is a `passive_violation` instead.

use crate::kind::Kind;

use super::rules::PassiveRules;
use super::scan;

/// What a passive value must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expect {
    /// The number 0; absent is a violation (the service defaults to 1).
    Zero,
    /// The number 0 or absent (the service defaults to 0).
    ZeroOrAbsent,
    /// This string, or the field absent.
    StrOrAbsent(&'static str),
    /// This string; absent is a violation (the service defaults to unpaused).
    Str(&'static str),
}

/// One passive field rule.
#[derive(Debug)]
pub(crate) struct FieldRule {
    /// The kind it applies to.
    pub kind: Kind,
    /// The field, as object keys from the top of the content.
    pub path: &'static [&'static str],
    /// The same path as reports show it.
    pub dotted: &'static str,
    /// Only checked when this member is present (a schedule, a trigger).
    pub only_if: Option<&'static [&'static str]>,
    /// The value required.
    pub expect: Expect,
    /// The rule's name in findings.
    pub rule: &'static str,
    /// What would fix a violation.
    pub hint: &'static str,
}

const RULES: [FieldRule; 7] = [
    FieldRule {
        kind: Kind::Jobs,
        path: &["settings", "max_concurrent_runs"],
        dotted: "settings.max_concurrent_runs",
        only_if: None,
        expect: Expect::Zero,
        rule: "passive.jobs.max_concurrent_runs",
        hint: "set `max_concurrent_runs` to 0 in the secondary; raise it after failover",
    },
    FieldRule {
        kind: Kind::Jobs,
        path: &["settings", "schedule", "pause_status"],
        dotted: "settings.schedule.pause_status",
        only_if: Some(&["settings", "schedule"]),
        expect: Expect::Str("PAUSED"),
        rule: "passive.jobs.schedule.pause_status",
        hint: "pause the job's schedule in the secondary; unpause it after failover",
    },
    FieldRule {
        kind: Kind::Jobs,
        path: &["settings", "trigger", "pause_status"],
        dotted: "settings.trigger.pause_status",
        only_if: Some(&["settings", "trigger"]),
        expect: Expect::Str("PAUSED"),
        rule: "passive.jobs.trigger.pause_status",
        hint: "pause the job's trigger in the secondary; unpause it after failover",
    },
    FieldRule {
        kind: Kind::Jobs,
        path: &["settings", "continuous", "pause_status"],
        dotted: "settings.continuous.pause_status",
        only_if: Some(&["settings", "continuous"]),
        expect: Expect::Str("PAUSED"),
        rule: "passive.jobs.continuous.pause_status",
        hint: "pause the continuous job in the secondary; unpause it after failover",
    },
    FieldRule {
        kind: Kind::InstancePools,
        path: &["min_idle_instances"],
        dotted: "min_idle_instances",
        only_if: None,
        expect: Expect::ZeroOrAbsent,
        rule: "passive.instance_pools.min_idle_instances",
        hint: "set `min_idle_instances` to 0 in the secondary; raise it after failover",
    },
    FieldRule {
        kind: Kind::Clusters,
        path: &["state"],
        dotted: "state",
        only_if: None,
        expect: Expect::StrOrAbsent("TERMINATED"),
        rule: "passive.clusters.state",
        hint: "terminate the cluster in the secondary; start it after failover",
    },
    FieldRule {
        kind: Kind::SqlWarehouses,
        path: &["state"],
        dotted: "state",
        only_if: None,
        expect: Expect::StrOrAbsent("STOPPED"),
        rule: "passive.sql_warehouses.state",
        hint: "stop the warehouse in the secondary; start it after failover",
    },
];

/// The rule name for job ACLs applied before the DR event.
pub(crate) const HOLD_JOB_ACLS_RULE: &str = "passive.permissions.hold_job_acls";

/// The passive field rules of one kind that a pair turns on, ready to check
/// many records without allocating.
#[derive(Debug, Default)]
pub(crate) struct KindRules {
    rules: Vec<&'static FieldRule>,
    /// Each rule's path, then each rule's `only_if` (or its path again).
    probe: Vec<&'static [&'static str]>,
    /// The fields left out of the `changed` comparison.
    strip: Vec<&'static [&'static str]>,
}

/// At most this many paths are probed per kind (jobs: 4 rules, 2 paths each).
const MAX_PROBE: usize = 8;

impl KindRules {
    /// The rules of `kind` that `rules` turns on.
    pub fn new(rules: &PassiveRules, kind: Kind) -> Self {
        let on: Vec<&'static FieldRule> = RULES
            .iter()
            .filter(|r| r.kind == kind)
            .filter(|r| match r.rule {
                "passive.jobs.max_concurrent_runs" => rules.jobs_concurrency_zero,
                "passive.instance_pools.min_idle_instances" => rules.pools_min_idle_zero,
                "passive.clusters.state" => rules.clusters_terminated,
                "passive.sql_warehouses.state" => rules.warehouses_stopped,
                _ => rules.jobs_paused,
            })
            .collect();
        let mut probe: Vec<&'static [&'static str]> = on.iter().map(|r| r.path).collect();
        probe.extend(on.iter().map(|r| r.only_if.unwrap_or(r.path)));
        KindRules {
            strip: on.iter().map(|r| r.path).collect(),
            rules: on,
            probe,
        }
    }

    /// True when no rule applies to the kind.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Paths (object keys from the top) left out of the `changed` comparison.
    pub fn strip_paths(&self) -> &[&'static [&'static str]] {
        &self.strip
    }

    /// True when a field diff path is one of the passive fields.
    pub fn is_passive_field(&self, dotted: &str) -> bool {
        self.rules.iter().any(|r| r.dotted == dotted)
    }

    /// Calls `f` with each violated rule and the secondary's raw value
    /// (`None` when absent), walking the content once.
    pub fn check<'a>(
        &self,
        content: &'a [u8],
        f: impl FnMut(&'static FieldRule, Option<&'a [u8]>),
    ) {
        if self.rules.is_empty() {
            return;
        }
        let mut found: [Option<&'a [u8]>; MAX_PROBE] = [None; MAX_PROBE];
        if self.probe.len() > MAX_PROBE
            || scan::find_paths(content, &self.probe, &mut found).is_none()
        {
            // Canonical content is valid JSON; an unreadable one is left to
            // the `changed` comparison rather than guessed at.
            return;
        }
        self.judge(&found, f);
    }

    /// True when the primary's and the secondary's contents are equal apart
    /// from the passive fields; then `f` gets each violated rule as
    /// [`check`](Self::check) gives it. Walks each content once: comparing
    /// stripped copies and then checking the secondary walked a job's
    /// content three times, a fifth of a large diff's time.
    pub fn equal_then_check<'a>(
        &self,
        primary: &[u8],
        secondary: &'a [u8],
        f: impl FnMut(&'static FieldRule, Option<&'a [u8]>),
    ) -> bool {
        let mut found: [Option<&'a [u8]>; MAX_PROBE] = [None; MAX_PROBE];
        // The first `rules.len()` probes are the rules' own paths, the
        // fields left out of the comparison.
        let Some(strip) = u32::try_from(self.rules.len())
            .ok()
            .and_then(|n| 1u32.checked_shl(n))
        else {
            return false;
        };
        if self.probe.len() > MAX_PROBE
            || !scan::eq_stripped(primary, secondary, &self.probe, strip - 1, &mut found)
        {
            return false;
        }
        self.judge(&found, f);
        true
    }

    /// Calls `f` with each rule the probed values violate.
    fn judge<'a>(
        &self,
        found: &[Option<&'a [u8]>; MAX_PROBE],
        mut f: impl FnMut(&'static FieldRule, Option<&'a [u8]>),
    ) {
        let n = self.rules.len();
        for (i, rule) in self.rules.iter().enumerate() {
            let raw = found.get(i).copied().flatten();
            if rule.only_if.is_some() && found.get(n + i).copied().flatten().is_none() {
                continue;
            }
            if !rule.holds(raw) {
                f(rule, raw);
            }
        }
    }
}

/// True when a permissions key belongs to a job (held back with `hold_job_acls`).
pub(crate) fn is_job_acl(kind: Kind, key: &str) -> bool {
    kind == Kind::Permissions && key.starts_with("jobs:")
}

impl FieldRule {
    /// True when the secondary's raw value (`None` = absent) is passive.
    fn holds(&self, raw: Option<&[u8]>) -> bool {
        match (self.expect, raw) {
            (Expect::Zero | Expect::ZeroOrAbsent, Some(v)) => scan::is_zero(v),
            (Expect::ZeroOrAbsent | Expect::StrOrAbsent(_), None) => true,
            (Expect::Zero | Expect::Str(_), None) => false,
            (Expect::Str(want) | Expect::StrOrAbsent(want), Some(v)) => {
                scan::as_string(v).is_some_and(|s| s == want)
            }
        }
    }

    /// A readable description of the required value.
    pub fn expected(&self) -> String {
        match self.expect {
            Expect::Zero => "0".into(),
            Expect::ZeroOrAbsent => "0 or unset".into(),
            Expect::Str(s) => format!("`{s}`"),
            Expect::StrOrAbsent(s) => format!("`{s}` or unset"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(kind: Kind, content: &str) -> Vec<&'static str> {
        let mut out = Vec::new();
        KindRules::new(&PassiveRules::default(), kind)
            .check(content.as_bytes(), |r, _| out.push(r.rule));
        out
    }

    #[test]
    fn jobs_need_zero_concurrency_and_paused_schedules() {
        let ok = r#"{"settings":{"max_concurrent_runs":0,"name":"etl","schedule":{"pause_status":"PAUSED","quartz_cron_expression":"0 0 2 * * ?"}}}"#;
        assert!(check(Kind::Jobs, ok).is_empty());
        let bad = r#"{"settings":{"continuous":{},"max_concurrent_runs":1,"name":"etl","schedule":{"quartz_cron_expression":"0 0 2 * * ?"},"trigger":{"pause_status":"UNPAUSED"}}}"#;
        assert_eq!(
            check(Kind::Jobs, bad),
            vec![
                "passive.jobs.max_concurrent_runs",
                "passive.jobs.schedule.pause_status",
                "passive.jobs.trigger.pause_status",
                "passive.jobs.continuous.pause_status",
            ]
        );
        // No concurrency at all means the service default of 1.
        assert_eq!(
            check(Kind::Jobs, r#"{"settings":{"name":"etl"}}"#),
            vec!["passive.jobs.max_concurrent_runs"]
        );
    }

    #[test]
    fn pools_clusters_and_warehouses() {
        assert!(check(Kind::InstancePools, r#"{"instance_pool_name":"p"}"#).is_empty());
        assert!(check(Kind::InstancePools, r#"{"min_idle_instances":0}"#).is_empty());
        assert_eq!(
            check(Kind::InstancePools, r#"{"min_idle_instances":2}"#),
            vec!["passive.instance_pools.min_idle_instances"]
        );
        assert!(check(Kind::Clusters, r#"{"state":"TERMINATED"}"#).is_empty());
        assert!(check(Kind::Clusters, r#"{"cluster_name":"x"}"#).is_empty());
        assert_eq!(
            check(Kind::Clusters, r#"{"state":"RUNNING"}"#),
            vec!["passive.clusters.state"]
        );
        assert!(check(Kind::SqlWarehouses, r#"{"state":"STOPPED"}"#).is_empty());
        assert_eq!(
            check(Kind::SqlWarehouses, r#"{"state":"RUNNING"}"#),
            vec!["passive.sql_warehouses.state"]
        );
        assert!(check(Kind::Users, r#"{"state":"RUNNING"}"#).is_empty());
    }

    #[test]
    fn rules_can_be_turned_off() {
        let rules = PassiveRules {
            jobs_paused: false,
            ..PassiveRules::default()
        };
        let jobs = KindRules::new(&rules, Kind::Jobs);
        assert!(jobs.is_passive_field("settings.max_concurrent_runs"));
        assert!(!jobs.is_passive_field("settings.schedule.pause_status"));
        assert_eq!(
            jobs.strip_paths(),
            &[&["settings", "max_concurrent_runs"][..]]
        );
        assert!(KindRules::new(&PassiveRules::default(), Kind::Users).is_empty());
    }
}
