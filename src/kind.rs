//! The object kinds standby captures: the unit of the domain.
//!
//! Adding a kind means a line here, one file in `collect/`, one in
//! `normalize/`, one in `mock/`, fixtures and tests.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One kind of workspace object, as named in snapshots, `--kinds` and reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// SCIM users, keyed by `userName`.
    Users,
    /// SCIM groups with members and entitlements, keyed by `displayName`.
    Groups,
    /// SCIM service principals, keyed by `applicationId`.
    ServicePrincipals,
    /// Jobs with their full settings, keyed by job name.
    Jobs,
    /// All-purpose clusters (job, pipeline and SQL clusters are not DR objects), keyed by name.
    Clusters,
    /// Libraries installed on each cluster, keyed by cluster name.
    ClusterLibraries,
    /// Instance pools, keyed by pool name.
    InstancePools,
    /// Cluster policies, keyed by policy name.
    ClusterPolicies,
    /// Global init scripts, keyed by script name.
    GlobalInitScripts,
    /// Notebooks, files, folders and other workspace objects, keyed by path.
    WorkspaceObjects,
    /// Git folders (repos), keyed by workspace path.
    Repos,
    /// Secret scopes, keyed by scope name.
    SecretScopes,
    /// Secret key names (never values), keyed by `scope/key`.
    Secrets,
    /// Secret scope ACLs, keyed by `scope/principal`.
    SecretAcls,
    /// Object ACLs from the Permissions API, keyed by `type:natural key`.
    Permissions,
    /// Unity Catalog catalogs, keyed by name.
    Catalogs,
    /// Unity Catalog schemas, keyed by full name.
    Schemas,
    /// Unity Catalog tables, keyed by full name.
    Tables,
    /// Unity Catalog grants on catalogs, schemas and tables, keyed by `securable:full name`.
    Grants,
    /// SQL warehouses, keyed by name.
    SqlWarehouses,
    /// IP access lists, keyed by `list_type:label`.
    IpAccessLists,
    /// Workspace settings from the workspace-conf API, keyed by setting name.
    WorkspaceConf,
}

impl Kind {
    /// Every kind, in the order snapshots and reports list them.
    pub const ALL: [Kind; 22] = [
        Kind::Users,
        Kind::Groups,
        Kind::ServicePrincipals,
        Kind::Jobs,
        Kind::Clusters,
        Kind::ClusterLibraries,
        Kind::InstancePools,
        Kind::ClusterPolicies,
        Kind::GlobalInitScripts,
        Kind::WorkspaceObjects,
        Kind::Repos,
        Kind::SecretScopes,
        Kind::Secrets,
        Kind::SecretAcls,
        Kind::Permissions,
        Kind::Catalogs,
        Kind::Schemas,
        Kind::Tables,
        Kind::Grants,
        Kind::SqlWarehouses,
        Kind::IpAccessLists,
        Kind::WorkspaceConf,
    ];

    /// The snake_case name used on the command line and in files.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Users => "users",
            Kind::Groups => "groups",
            Kind::ServicePrincipals => "service_principals",
            Kind::Jobs => "jobs",
            Kind::Clusters => "clusters",
            Kind::ClusterLibraries => "cluster_libraries",
            Kind::InstancePools => "instance_pools",
            Kind::ClusterPolicies => "cluster_policies",
            Kind::GlobalInitScripts => "global_init_scripts",
            Kind::WorkspaceObjects => "workspace_objects",
            Kind::Repos => "repos",
            Kind::SecretScopes => "secret_scopes",
            Kind::Secrets => "secrets",
            Kind::SecretAcls => "secret_acls",
            Kind::Permissions => "permissions",
            Kind::Catalogs => "catalogs",
            Kind::Schemas => "schemas",
            Kind::Tables => "tables",
            Kind::Grants => "grants",
            Kind::SqlWarehouses => "sql_warehouses",
            Kind::IpAccessLists => "ip_access_lists",
            Kind::WorkspaceConf => "workspace_conf",
        }
    }

    /// Kinds whose raw objects this kind needs to resolve ids into natural keys.
    ///
    /// They are fetched even when not asked for, but only asked-for kinds are
    /// written to the snapshot.
    pub fn needs(self) -> &'static [Kind] {
        match self {
            Kind::Groups => &[Kind::Users, Kind::ServicePrincipals],
            Kind::Jobs => &[
                Kind::Clusters,
                Kind::InstancePools,
                Kind::ClusterPolicies,
                Kind::SqlWarehouses,
            ],
            Kind::Clusters => &[Kind::InstancePools, Kind::ClusterPolicies],
            Kind::ClusterLibraries => &[Kind::Clusters],
            Kind::ClusterPolicies => &[Kind::InstancePools],
            Kind::Secrets | Kind::SecretAcls => &[Kind::SecretScopes],
            Kind::Permissions => &[
                Kind::Jobs,
                Kind::Clusters,
                Kind::InstancePools,
                Kind::ClusterPolicies,
                Kind::WorkspaceObjects,
                Kind::Repos,
                Kind::SqlWarehouses,
            ],
            Kind::Schemas => &[Kind::Catalogs],
            Kind::Tables => &[Kind::Schemas],
            Kind::Grants => &[Kind::Catalogs, Kind::Schemas, Kind::Tables],
            _ => &[],
        }
    }

    /// Parses a comma-separated `--kinds` list; `all` selects every kind.
    pub fn parse_list(list: &str) -> Result<Vec<Kind>, UnknownKind> {
        let mut kinds = Vec::new();
        for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if part == "all" {
                kinds.extend(Kind::ALL);
            } else {
                kinds.push(part.parse()?);
            }
        }
        kinds.sort();
        kinds.dedup();
        Ok(kinds)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A kind name that standby does not know.
#[derive(Debug, thiserror::Error)]
#[error("unknown kind `{0}` (expected one of: {list})", list = Kind::ALL.map(Kind::name).join(", "))]
pub struct UnknownKind(pub String);

impl FromStr for Kind {
    type Err = UnknownKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.replace('-', "_");
        Kind::ALL
            .into_iter()
            .find(|k| k.name() == wanted)
            .ok_or_else(|| UnknownKind(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for kind in Kind::ALL {
            assert_eq!(kind.name().parse::<Kind>().unwrap(), kind);
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.name()));
        }
    }

    #[test]
    fn all_is_sorted_so_btreemaps_follow_it() {
        let mut sorted = Kind::ALL;
        sorted.sort();
        assert_eq!(sorted, Kind::ALL);
    }

    #[test]
    fn parse_list_accepts_all_dashes_and_rejects_unknown() {
        assert_eq!(
            Kind::parse_list("jobs, users,jobs").unwrap(),
            vec![Kind::Users, Kind::Jobs]
        );
        assert_eq!(
            Kind::parse_list("ip-access-lists").unwrap(),
            vec![Kind::IpAccessLists]
        );
        assert_eq!(Kind::parse_list("all").unwrap().len(), Kind::ALL.len());
        let err = Kind::parse_list("jobs,notebookz").unwrap_err().to_string();
        assert!(err.contains("`notebookz`"), "{err}");
    }
}
