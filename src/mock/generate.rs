//! Deterministic generator of large mock workspaces, for benchmarks and scale tests.
//!
//! [`write_fixture`] streams a fixture (format version 1, the API's own JSON shapes) one object at
//! a time, so a workspace of a million objects takes bounded memory; [`generate`] builds the same
//! fixture as one [`serde_json::Value`] for small workspaces and tests.
//!
//! Every object is a pure function of `(seed, kind, index)`: its ids come from a bijection of the
//! index (so they are unique without remembering them) and its random attributes from a
//! [`SmallRng`] seeded for that object. References between objects (a job's notebook, cluster,
//! pool and policy, a group's members, a permission's principals) are recomputed from indexes, never
//! looked up. The same spec therefore gives the same bytes for a given `rand` version and pointer
//! width (`SmallRng`'s algorithm depends on both).
//!
//! Not generated: runs, repos, global init scripts, cluster libraries, the built-in `users` group
//! (it would hold every user in one object) and users' `groups` back-references (group objects
//! carry the memberships).

use std::io::{self, BufWriter, Write};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};

/// Epoch ms the generated workspace's virtual clock starts at; creation times lie before it.
const START_MS: u64 = 1_764_000_000_000;
const DAY_MS: u64 = 86_400_000;
/// Leaf folders per parent directory (`/Production/team-NNN`).
const FOLDERS_PER_PARENT: u64 = 100;
/// Every tenth table gets a grant of its own.
const TABLE_GRANT_EVERY: u64 = 10;

const FIRST: [&str; 20] = [
    "alex", "blake", "casey", "dana", "eli", "fran", "gale", "harper", "indra", "jules", "kai",
    "lee", "morgan", "noor", "oli", "pat", "quinn", "remy", "sam", "toni",
];
const LAST: [&str; 20] = [
    "adams", "baker", "chen", "diaz", "evans", "fischer", "garcia", "hansen", "ito", "jones",
    "kim", "lopez", "meyer", "novak", "okafor", "patel", "rossi", "silva", "tanaka", "weber",
];
const WORDS: [&str; 16] = [
    "orders",
    "billing",
    "churn",
    "clicks",
    "finance",
    "growth",
    "ingest",
    "inventory",
    "leads",
    "ledger",
    "marketing",
    "ops",
    "payments",
    "reports",
    "risk",
    "shipping",
];
const NODE_TYPES: [&str; 5] = [
    "m5d.large",
    "m5d.xlarge",
    "i3.xlarge",
    "r5d.2xlarge",
    "c5d.2xlarge",
];
const SPARK_VERSIONS: [&str; 3] = ["15.4.x-scala2.12", "14.3.x-scala2.12", "16.1.x-scala2.12"];
const AUTOTERMINATION: [u32; 3] = [30, 60, 120];
const WAREHOUSE_SIZES: [&str; 4] = ["2X-Small", "Small", "Medium", "Large"];
const AUTO_STOP: [u32; 3] = [10, 20, 45];
const LANGUAGES: [(&str, &str); 4] = [
    ("PYTHON", "# Databricks notebook source\n"),
    ("SQL", "-- Databricks notebook source\n"),
    ("SCALA", "// Databricks notebook source\n"),
    ("R", "# Databricks notebook source\n"),
];
const SCIM_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const SCIM_USER_EXT: &str = "urn:ietf:params:scim:schemas:extension:workspace:2.0:User";
const SCIM_GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const SCIM_SP: &str = "urn:ietf:params:scim:schemas:core:2.0:ServicePrincipal";

/// How big a workspace to generate, and from which seed.
///
/// Counts are honoured exactly with two exceptions: a schema needs a catalog and a table a
/// schema, so `catalogs` and `schemas` are raised to 1 when they are 0 but something would live
/// in them. The group `admins` is group 0 and counts towards `groups`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenerateSpec {
    /// Seed of every id and random attribute; the same spec gives the same bytes.
    pub seed: u64,
    /// The fixture's `name` label.
    pub name: String,
    /// SCIM users.
    pub users: u64,
    /// SCIM groups (group 0 is `admins`).
    pub groups: u64,
    /// Users per group (fewer when there are fewer users).
    pub members_per_group: u64,
    /// SCIM service principals.
    pub service_principals: u64,
    /// Jobs, each with a permission entry.
    pub jobs: u64,
    /// Notebook tasks per job (chained with `depends_on`).
    pub tasks_per_job: u64,
    /// All-purpose clusters, each with a permission entry.
    pub clusters: u64,
    /// Instance pools, each with a permission entry.
    pub pools: u64,
    /// Cluster policies, each with a permission entry.
    pub policies: u64,
    /// Notebooks, spread evenly over `folders`.
    pub notebooks: u64,
    /// Leaf folders holding the notebooks, 100 per parent directory under `/Production`, each
    /// with a permission entry.
    pub folders: u64,
    /// Secret scopes (keys and ACLs, never values).
    pub secret_scopes: u64,
    /// Secret keys per scope.
    pub secrets_per_scope: u64,
    /// Unity Catalog catalogs, each with a grant.
    pub catalogs: u64,
    /// Schemas, spread evenly over the catalogs, each with a grant.
    pub schemas: u64,
    /// Tables, spread evenly over the schemas; every tenth has a grant.
    pub tables: u64,
    /// SQL warehouses, each with a permission entry.
    pub warehouses: u64,
}

impl Default for GenerateSpec {
    /// A small workspace with a few of every kind.
    fn default() -> Self {
        GenerateSpec {
            seed: 1,
            name: "generated".to_owned(),
            users: 50,
            groups: 10,
            members_per_group: 8,
            service_principals: 5,
            jobs: 40,
            tasks_per_job: 3,
            clusters: 8,
            pools: 3,
            policies: 3,
            notebooks: 200,
            folders: 20,
            secret_scopes: 4,
            secrets_per_scope: 3,
            catalogs: 2,
            schemas: 6,
            tables: 40,
            warehouses: 2,
        }
    }
}

impl GenerateSpec {
    /// The capture benchmark's workspace: 10,000 jobs, 5,000 users, 1,000 groups,
    /// 20,000 notebooks in 2,000 folders.
    pub fn benchmark(seed: u64) -> Self {
        GenerateSpec {
            seed,
            name: "benchmark".to_owned(),
            users: 5_000,
            groups: 1_000,
            members_per_group: 20,
            service_principals: 50,
            jobs: 10_000,
            tasks_per_job: 3,
            clusters: 100,
            pools: 10,
            policies: 10,
            notebooks: 20_000,
            folders: 2_000,
            secret_scopes: 20,
            secrets_per_scope: 5,
            catalogs: 5,
            schemas: 50,
            tables: 2_000,
            warehouses: 5,
        }
    }

    /// How many objects (array entries of every kind, permission and grant entries included)
    /// the fixture holds.
    pub fn object_count(&self) -> u64 {
        let g = Gen::new(self);
        SECTIONS.iter().map(|&s| g.len(s)).sum()
    }
}

/// Builds the whole fixture as one JSON value (for small specs; use [`write_fixture`] for big ones).
pub fn generate(spec: &GenerateSpec) -> Value {
    let g = Gen::new(spec);
    let mut top = Map::new();
    for (key, value) in g.header() {
        top.insert(key.to_owned(), value);
    }
    for &section in SECTIONS.iter() {
        let items = (0..g.len(section)).map(|i| g.item(section, i)).collect();
        top.insert(section.key().to_owned(), Value::Array(items));
    }
    top.insert("workspace_conf".to_owned(), workspace_conf());
    Value::Object(top)
}

/// Streams the fixture as JSON to `out`, one object at a time, in bounded memory.
///
/// Parsed, the output equals [`generate`]'s value; one array entry per line keeps it diffable and
/// lets tools that read line by line skim a huge fixture.
pub fn write_fixture(spec: &GenerateSpec, out: &mut dyn Write) -> io::Result<()> {
    let g = Gen::new(spec);
    let mut w = BufWriter::with_capacity(1 << 16, out);
    w.write_all(b"{")?;
    for (key, value) in g.header() {
        serde_json::to_writer(&mut w, key)?;
        w.write_all(b":")?;
        serde_json::to_writer(&mut w, &value)?;
        w.write_all(b",\n")?;
    }
    for &section in SECTIONS.iter() {
        serde_json::to_writer(&mut w, section.key())?;
        w.write_all(b":[")?;
        for i in 0..g.len(section) {
            if i > 0 {
                w.write_all(b",")?;
            }
            w.write_all(b"\n")?;
            serde_json::to_writer(&mut w, &g.item(section, i))?;
        }
        w.write_all(b"],\n")?;
    }
    w.write_all(b"\"workspace_conf\":")?;
    serde_json::to_writer(&mut w, &workspace_conf())?;
    w.write_all(b"}\n")?;
    w.flush()
}

/// The fixture's arrays, in the order they are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Section {
    Users,
    Groups,
    ServicePrincipals,
    Jobs,
    Clusters,
    InstancePools,
    ClusterPolicies,
    WorkspaceObjects,
    SecretScopes,
    Permissions,
    Catalogs,
    Schemas,
    Tables,
    Grants,
    SqlWarehouses,
    IpAccessLists,
}

const SECTIONS: [Section; 16] = [
    Section::Users,
    Section::Groups,
    Section::ServicePrincipals,
    Section::Jobs,
    Section::Clusters,
    Section::InstancePools,
    Section::ClusterPolicies,
    Section::WorkspaceObjects,
    Section::SecretScopes,
    Section::Permissions,
    Section::Catalogs,
    Section::Schemas,
    Section::Tables,
    Section::Grants,
    Section::SqlWarehouses,
    Section::IpAccessLists,
];

impl Section {
    fn key(self) -> &'static str {
        match self {
            Section::Users => "users",
            Section::Groups => "groups",
            Section::ServicePrincipals => "service_principals",
            Section::Jobs => "jobs",
            Section::Clusters => "clusters",
            Section::InstancePools => "instance_pools",
            Section::ClusterPolicies => "cluster_policies",
            Section::WorkspaceObjects => "workspace_objects",
            Section::SecretScopes => "secret_scopes",
            Section::Permissions => "permissions",
            Section::Catalogs => "catalogs",
            Section::Schemas => "schemas",
            Section::Tables => "tables",
            Section::Grants => "grants",
            Section::SqlWarehouses => "sql_warehouses",
            Section::IpAccessLists => "ip_access_lists",
        }
    }
}

/// Id spaces: each gets its own bijection so ids in one space never collide.
#[derive(Clone, Copy)]
enum Space {
    /// SCIM ids, shared by users, groups and service principals (slot in the high bits).
    Scim = 1,
    Job = 2,
    Cluster = 3,
    Pool = 4,
    Policy = 5,
    /// Workspace object ids (directories and notebooks share it).
    Object = 6,
    Warehouse = 7,
    Uuid = 8,
    /// Per-object random attributes (not ids).
    Attr = 9,
    Workspace = 10,
}

const SLOT_USER: u64 = 0;
const SLOT_SP: u64 = 1;
const SLOT_GROUP: u64 = 2;
const SLOT_DIR: u64 = 0;
const SLOT_NOTEBOOK: u64 = 1;
const SLOT_CATALOG: u64 = 0;
const SLOT_SCHEMA: u64 = 1;
const SLOT_TABLE: u64 = 2;
const SLOT_IP_LIST: u64 = 3;
const SLOT_APP: u64 = 4;
const SLOT_METASTORE: u64 = 5;

/// SplitMix64 finaliser: a good 64-bit mixer.
fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A bijection of `[0, 2^bits)` keyed by `key`: xor, odd multiply, xorshift and add are each
/// invertible modulo a power of two, so distinct indexes give distinct ids.
fn permute(key: u64, i: u64, bits: u32) -> u64 {
    let mask = (1u64 << bits) - 1;
    let mut x = (i ^ key) & mask;
    x = x.wrapping_mul(0x9E37_79B9_7F4A_7C15 | 1) & mask;
    x ^= x >> (bits / 2);
    x = x.wrapping_mul(0xD6E8_FEB8_6659_FD93 | 1) & mask;
    x ^= x >> (bits / 3);
    x.wrapping_add(key >> 7) & mask
}

fn base36(mut x: u64, width: usize) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = vec![b'0'; width];
    for slot in out.iter_mut().rev() {
        *slot = DIGITS[(x % 36) as usize];
        x /= 36;
    }
    String::from_utf8(out).unwrap_or_default()
}

fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The spec with effective counts and the id functions.
struct Gen<'a> {
    spec: &'a GenerateSpec,
    catalogs: u64,
    schemas: u64,
    parents: u64,
}

impl<'a> Gen<'a> {
    fn new(spec: &'a GenerateSpec) -> Self {
        let schemas = spec.schemas.max(u64::from(spec.tables > 0));
        let catalogs = spec.catalogs.max(u64::from(schemas > 0));
        Gen {
            spec,
            catalogs,
            schemas,
            parents: spec.folders.div_ceil(FOLDERS_PER_PARENT),
        }
    }

    fn key(&self, space: Space) -> u64 {
        splitmix(self.spec.seed ^ splitmix(space as u64))
    }

    fn rng(&self, section: Section, i: u64) -> SmallRng {
        let tag = splitmix(self.key(Space::Attr) ^ (section as u64) << 56);
        SmallRng::seed_from_u64(splitmix(tag ^ i))
    }

    fn scim_id(&self, slot: u64, i: u64) -> String {
        (1_000_000_000_000_000 + permute(self.key(Space::Scim), slot << 44 | i, 48)).to_string()
    }

    fn job_id(&self, i: u64) -> u64 {
        100_000_000_000_000 + permute(self.key(Space::Job), i, 48)
    }

    fn object_id(&self, slot: u64, i: u64) -> u64 {
        1_000_000_000_000_000 + permute(self.key(Space::Object), slot << 44 | i, 48)
    }

    /// `MMDD-HHMMSS-xxxxxxxx`, as the service names clusters.
    fn cluster_id(&self, i: u64) -> String {
        let n = permute(self.key(Space::Cluster), i, 40);
        let s = splitmix(n ^ self.key(Space::Cluster));
        format!("{}-{}", stamp(s), base36(n, 8))
    }

    fn pool_id(&self, i: u64) -> String {
        let n = permute(self.key(Space::Pool), i, 40);
        let s = splitmix(n ^ self.key(Space::Pool));
        let word = WORDS[(s % WORDS.len() as u64) as usize];
        format!(
            "{}-{}{}-pool-{}",
            stamp(s),
            word,
            s % 900 + 100,
            base36(n, 8)
        )
    }

    fn policy_id(&self, i: u64) -> String {
        let n = permute(self.key(Space::Policy), i, 48);
        format!("{:04X}{:012X}", splitmix(n) & 0xFFFF, n)
    }

    fn warehouse_id(&self, i: u64) -> String {
        let n = permute(self.key(Space::Warehouse), i, 48);
        format!("{:04x}{:012x}", splitmix(n) & 0xFFFF, n)
    }

    /// A version-4 UUID whose last group is a bijection of `(slot, i)`, so UUIDs are unique.
    fn uuid(&self, slot: u64, i: u64) -> String {
        let n = permute(self.key(Space::Uuid), slot << 44 | i, 48);
        let h = splitmix(n ^ self.key(Space::Uuid));
        format!(
            "{:08x}-{:04x}-4{:03x}-{:x}{:03x}-{:012x}",
            h >> 32,
            (h >> 16) & 0xFFFF,
            h & 0xFFF,
            8 + (h >> 60) % 4,
            (h >> 48) & 0xFFF,
            n
        )
    }

    fn header(&self) -> Vec<(&'static str, Value)> {
        let ws = 1_000_000_000_000_000 + permute(self.key(Space::Workspace), 0, 48);
        vec![
            ("fixture_version", json!(1)),
            ("name", json!(self.spec.name)),
            ("workspace_id", json!(ws.to_string())),
            ("clock", json!({ "start_ms": START_MS })),
        ]
    }

    fn len(&self, section: Section) -> u64 {
        let s = self.spec;
        match section {
            Section::Users => s.users,
            Section::Groups => s.groups,
            Section::ServicePrincipals => s.service_principals,
            Section::Jobs => s.jobs,
            Section::Clusters => s.clusters,
            Section::InstancePools => s.pools,
            Section::ClusterPolicies => s.policies,
            Section::WorkspaceObjects => {
                u64::from(s.folders > 0 || s.notebooks > 0) + self.parents + s.folders + s.notebooks
            }
            Section::SecretScopes => s.secret_scopes,
            Section::Permissions => {
                s.jobs + s.clusters + s.pools + s.policies + s.warehouses + s.folders
            }
            Section::Catalogs => self.catalogs,
            Section::Schemas => self.schemas,
            Section::Tables => s.tables,
            Section::Grants => self.catalogs + self.schemas + s.tables.div_ceil(TABLE_GRANT_EVERY),
            Section::SqlWarehouses => s.warehouses,
            Section::IpAccessLists => 2,
        }
    }

    fn item(&self, section: Section, i: u64) -> Value {
        match section {
            Section::Users => self.user(i),
            Section::Groups => self.group(i),
            Section::ServicePrincipals => self.service_principal(i),
            Section::Jobs => self.job(i),
            Section::Clusters => self.cluster(i),
            Section::InstancePools => self.pool(i),
            Section::ClusterPolicies => self.policy(i),
            Section::WorkspaceObjects => self.workspace_object(i),
            Section::SecretScopes => self.secret_scope(i),
            Section::Permissions => self.permission(i),
            Section::Catalogs => self.catalog(i),
            Section::Schemas => self.schema(i),
            Section::Tables => self.table(i),
            Section::Grants => self.grant(i),
            Section::SqlWarehouses => self.warehouse(i),
            Section::IpAccessLists => self.ip_access_list(i),
        }
    }

    // ---- names other objects refer to ---------------------------------------------------------

    fn user_name(&self, i: u64) -> String {
        let (first, last) = person(i);
        format!("{first}.{last}{i}@example.com")
    }

    fn user_display(&self, i: u64) -> String {
        let (first, last) = person(i);
        format!("{} {} {i}", capitalize(first), capitalize(last))
    }

    fn group_name(&self, i: u64) -> String {
        if i == 0 {
            "admins".to_owned()
        } else {
            format!("team-{i:05}-{}", WORDS[(i % WORDS.len() as u64) as usize])
        }
    }

    fn sp_display(&self, i: u64) -> String {
        format!("sp-{i:05}-{}", WORDS[(i % WORDS.len() as u64) as usize])
    }

    fn application_id(&self, i: u64) -> String {
        self.uuid(SLOT_APP, i)
    }

    fn job_name(&self, i: u64) -> String {
        format!("job-{i:06}-{}", WORDS[(i % WORDS.len() as u64) as usize])
    }

    fn cluster_name(&self, i: u64) -> String {
        format!(
            "cluster-{i:05}-{}",
            WORDS[(i % WORDS.len() as u64) as usize]
        )
    }

    fn pool_name(&self, i: u64) -> String {
        format!(
            "pool-{i:03}-{}",
            NODE_TYPES[(i % NODE_TYPES.len() as u64) as usize]
        )
    }

    fn policy_name(&self, i: u64) -> String {
        format!("policy-{i:03}-{}", WORDS[(i % WORDS.len() as u64) as usize])
    }

    fn warehouse_name(&self, i: u64) -> String {
        format!("warehouse-{i:03}")
    }

    fn parent_path(&self, p: u64) -> String {
        format!("/Production/team-{p:03}")
    }

    fn folder_path(&self, f: u64) -> String {
        format!("{}/folder-{f:05}", self.parent_path(f / FOLDERS_PER_PARENT))
    }

    /// Notebook `n` lives in folder `n % folders`, so folders hold equal shares.
    fn notebook_path(&self, n: u64) -> String {
        if self.spec.folders == 0 {
            format!("/Production/notebook-{n:07}")
        } else {
            format!(
                "{}/notebook-{n:07}",
                self.folder_path(n % self.spec.folders)
            )
        }
    }

    fn catalog_name(&self, c: u64) -> String {
        format!("catalog_{c:03}")
    }

    /// Schema `s` lives in catalog `s % catalogs`.
    fn schema_full_name(&self, s: u64) -> String {
        format!(
            "{}.schema_{s:04}",
            self.catalog_name(s % self.catalogs.max(1))
        )
    }

    /// Table `t` lives in schema `t % schemas`.
    fn table_full_name(&self, t: u64) -> String {
        format!(
            "{}.table_{t:06}",
            self.schema_full_name(t % self.schemas.max(1))
        )
    }

    fn created(&self, rng: &mut SmallRng) -> u64 {
        START_MS - rng.gen_range(30..700) * DAY_MS - rng.gen_range(0..DAY_MS)
    }

    // ---- SCIM ---------------------------------------------------------------------------------

    fn user(&self, i: u64) -> Value {
        let mut rng = self.rng(Section::Users, i);
        let (first, last) = person(i);
        let name = self.user_name(i);
        let mut entitlements = vec![json!({"value": "workspace-access"})];
        if rng.gen_bool(0.7) {
            entitlements.push(json!({"value": "databricks-sql-access"}));
        }
        if rng.gen_bool(0.2) {
            entitlements.push(json!({"value": "allow-cluster-create"}));
        }
        json!({
            "id": self.scim_id(SLOT_USER, i),
            "userName": name,
            "displayName": self.user_display(i),
            "active": !rng.gen_bool(0.03),
            "name": {"givenName": capitalize(first), "familyName": capitalize(last)},
            "emails": [{"value": name, "type": "work", "primary": true}],
            "entitlements": entitlements,
            "schemas": [SCIM_USER, SCIM_USER_EXT],
        })
    }

    fn service_principal(&self, i: u64) -> Value {
        json!({
            "id": self.scim_id(SLOT_SP, i),
            "applicationId": self.application_id(i),
            "displayName": self.sp_display(i),
            "active": true,
            "entitlements": [{"value": "workspace-access"}, {"value": "allow-cluster-create"}],
            "schemas": [SCIM_SP],
        })
    }

    /// Group `g` holds users `g*m .. g*m+m` (mod users), so users are spread evenly; every fifth
    /// group also holds a service principal and every tenth nests the group before it.
    fn group(&self, g: u64) -> Value {
        let s = self.spec;
        let per = if g == 0 {
            s.users.min(3)
        } else {
            s.members_per_group.min(s.users)
        };
        let mut members = Vec::with_capacity(per as usize + 2);
        for j in 0..per {
            let u = if g == 0 {
                j
            } else {
                (g * s.members_per_group + j) % s.users
            };
            let id = self.scim_id(SLOT_USER, u);
            members.push(json!({"display": self.user_display(u), "value": id, "$ref": format!("Users/{id}")}));
        }
        if s.service_principals > 0 && g % 5 == 0 {
            let p = g / 5 % s.service_principals;
            let id = self.scim_id(SLOT_SP, p);
            members.push(json!({"display": self.sp_display(p), "value": id, "$ref": format!("ServicePrincipals/{id}")}));
        }
        if g >= 2 && g % 10 == 0 {
            let id = self.scim_id(SLOT_GROUP, g - 1);
            members.push(json!({"display": self.group_name(g - 1), "value": id, "$ref": format!("Groups/{id}")}));
        }
        let account = g > 0 && g % 7 == 0;
        let entitlements = if g == 0 {
            json!([{"value": "workspace-access"}, {"value": "allow-cluster-create"}, {"value": "allow-instance-pool-create"}])
        } else {
            json!([{"value": "workspace-access"}])
        };
        json!({
            "id": self.scim_id(SLOT_GROUP, g),
            "displayName": self.group_name(g),
            "members": members,
            "entitlements": entitlements,
            "meta": {"resourceType": if account { "Group" } else { "WorkspaceGroup" }},
            "schemas": [SCIM_GROUP],
        })
    }

    // ---- compute ------------------------------------------------------------------------------

    fn job(&self, j: u64) -> Value {
        let s = self.spec;
        let mut rng = self.rng(Section::Jobs, j);
        let on_cluster = s.clusters > 0 && j % 4 == 0;
        let mut tasks = Vec::with_capacity(s.tasks_per_job as usize);
        for t in 0..s.tasks_per_job {
            let mut task = json!({
                "task_key": format!("task_{t}"),
                "run_if": "ALL_SUCCESS",
                "timeout_seconds": 0,
                "email_notifications": {},
            });
            if t > 0 {
                task["depends_on"] = json!([{"task_key": format!("task_{}", t - 1)}]);
            }
            if s.notebooks > 0 {
                let n = (j * s.tasks_per_job + t) % s.notebooks;
                task["notebook_task"] =
                    json!({"notebook_path": self.notebook_path(n), "source": "WORKSPACE"});
            } else {
                task["spark_python_task"] =
                    json!({"python_file": "/Production/lib/main.py", "source": "WORKSPACE"});
            }
            if on_cluster {
                task["existing_cluster_id"] = json!(self.cluster_id(j % s.clusters));
            } else {
                task["job_cluster_key"] = json!("main");
            }
            tasks.push(task);
        }
        let minute = j % 60;
        let paused = j % 10 == 9;
        let mut settings = json!({
            "name": self.job_name(j),
            "email_notifications": {"on_failure": [format!("alerts-{}@example.com", j % 7)]},
            "timeout_seconds": 0,
            "schedule": {
                "quartz_cron_expression": format!("0 {minute} {} * * ?", rng.gen_range(0..24)),
                "timezone_id": "UTC",
                "pause_status": if paused { "PAUSED" } else { "UNPAUSED" },
            },
            "max_concurrent_runs": 1,
            "tasks": tasks,
            "format": "MULTI_TASK",
            "queue": {"enabled": true},
            "tags": {"team": WORDS[(j % WORDS.len() as u64) as usize]},
        });
        if !on_cluster {
            let mut cluster = json!({
                "spark_version": SPARK_VERSIONS[rng.gen_range(0..SPARK_VERSIONS.len())],
                "num_workers": rng.gen_range(1..9),
                "data_security_mode": "SINGLE_USER",
            });
            if s.pools > 0 {
                cluster["instance_pool_id"] = json!(self.pool_id(j % s.pools));
            } else {
                cluster["node_type_id"] = json!(NODE_TYPES[rng.gen_range(0..NODE_TYPES.len())]);
            }
            if s.policies > 0 {
                cluster["policy_id"] = json!(self.policy_id(j % s.policies));
            }
            if s.secret_scopes > 0 && s.secrets_per_scope > 0 && j % 5 == 0 {
                let scope = j % s.secret_scopes;
                cluster["spark_conf"] = json!({
                    "spark.acme.db.password": format!("{{{{secrets/scope-{scope:03}/key-000}}}}"),
                });
            }
            settings["job_clusters"] = json!([{"job_cluster_key": "main", "new_cluster": cluster}]);
        }
        let creator = if s.users > 0 {
            self.user_name(j % s.users)
        } else {
            "admin@example.com".to_owned()
        };
        json!({
            "job_id": self.job_id(j),
            "creator_user_name": creator,
            "run_as_user_name": creator,
            "created_time": self.created(&mut rng),
            "settings": settings,
        })
    }

    fn cluster(&self, c: u64) -> Value {
        let s = self.spec;
        let mut rng = self.rng(Section::Clusters, c);
        let id = self.cluster_id(c);
        let running = c % 3 == 0;
        let creator = if s.users > 0 {
            self.user_name(c % s.users)
        } else {
            "admin@example.com".to_owned()
        };
        let mut v = json!({
            "cluster_id": id,
            "cluster_name": self.cluster_name(c),
            "spark_version": SPARK_VERSIONS[rng.gen_range(0..SPARK_VERSIONS.len())],
            "autotermination_minutes": AUTOTERMINATION[rng.gen_range(0..AUTOTERMINATION.len())],
            "spark_conf": {"spark.sql.shuffle.partitions": "auto"},
            "custom_tags": {"team": WORDS[(c % WORDS.len() as u64) as usize]},
            "enable_elastic_disk": true,
            "data_security_mode": "USER_ISOLATION",
            "runtime_engine": if rng.gen_bool(0.5) { "PHOTON" } else { "STANDARD" },
            "cluster_source": if c % 2 == 0 { "UI" } else { "API" },
            "creator_user_name": creator,
            "default_tags": {"Vendor": "Databricks", "Creator": creator, "ClusterName": self.cluster_name(c), "ClusterId": id},
            "state": if running { "RUNNING" } else { "TERMINATED" },
            "start_time": self.created(&mut rng),
        });
        if c % 2 == 0 {
            let min = rng.gen_range(1..4);
            v["autoscale"] = json!({"min_workers": min, "max_workers": min + rng.gen_range(1..8)});
        } else {
            v["num_workers"] = json!(rng.gen_range(1..9));
        }
        if s.pools > 0 && c % 3 != 2 {
            v["instance_pool_id"] = json!(self.pool_id(c % s.pools));
        } else {
            v["node_type_id"] = json!(NODE_TYPES[rng.gen_range(0..NODE_TYPES.len())]);
        }
        if s.policies > 0 && c % 4 == 1 {
            v["policy_id"] = json!(self.policy_id(c % s.policies));
        }
        if !running {
            v["terminated_time"] = json!(START_MS - rng.gen_range(1..30) * DAY_MS);
            v["termination_reason"] = json!({"code": "INACTIVITY", "type": "SUCCESS"});
        }
        v
    }

    fn pool(&self, p: u64) -> Value {
        let mut rng = self.rng(Section::InstancePools, p);
        let min_idle = rng.gen_range(0..3);
        json!({
            "instance_pool_id": self.pool_id(p),
            "instance_pool_name": self.pool_name(p),
            "node_type_id": NODE_TYPES[(p % NODE_TYPES.len() as u64) as usize],
            "min_idle_instances": min_idle,
            "max_capacity": rng.gen_range(1..11) * 10,
            "idle_instance_autotermination_minutes": 15,
            "enable_elastic_disk": true,
            "preloaded_spark_versions": [SPARK_VERSIONS[0]],
            "aws_attributes": {"availability": "SPOT", "zone_id": "auto", "spot_bid_price_percent": 100},
            "state": "ACTIVE",
            "stats": {"used_count": 0, "idle_count": min_idle, "pending_used_count": 0, "pending_idle_count": 0},
        })
    }

    fn policy(&self, q: u64) -> Value {
        let mut rng = self.rng(Section::ClusterPolicies, q);
        let definition = json!({
            "autotermination_minutes": {"type": "range", "minValue": 10, "maxValue": 120, "defaultValue": 60},
            "custom_tags.team": {"type": "fixed", "value": WORDS[(q % WORDS.len() as u64) as usize]},
            "num_workers": {"type": "range", "maxValue": rng.gen_range(4..33)},
        });
        json!({
            "policy_id": self.policy_id(q),
            "name": self.policy_name(q),
            "definition": definition.to_string(),
            "description": format!("Generated policy {q}."),
            "creator_user_name": "admin@example.com",
            "created_at_timestamp": self.created(&mut rng),
            "is_default": false,
        })
    }

    fn warehouse(&self, w: u64) -> Value {
        let mut rng = self.rng(Section::SqlWarehouses, w);
        let min = rng.gen_range(1..3);
        json!({
            "id": self.warehouse_id(w),
            "name": self.warehouse_name(w),
            "cluster_size": WAREHOUSE_SIZES[rng.gen_range(0..WAREHOUSE_SIZES.len())],
            "min_num_clusters": min,
            "max_num_clusters": min + rng.gen_range(0..4),
            "auto_stop_mins": AUTO_STOP[rng.gen_range(0..AUTO_STOP.len())],
            "creator_name": "admin@example.com",
            "enable_photon": true,
            "enable_serverless_compute": w % 2 == 1,
            "warehouse_type": "PRO",
            "spot_instance_policy": "COST_OPTIMIZED",
            "channel": {"name": "CHANNEL_NAME_CURRENT"},
            "tags": {"custom_tags": [{"key": "team", "value": WORDS[(w % WORDS.len() as u64) as usize]}]},
            "state": "STOPPED",
            "num_clusters": 0,
        })
    }

    // ---- workspace ----------------------------------------------------------------------------

    /// `/Production`, then the parent directories, the leaf folders and the notebooks.
    fn workspace_object(&self, i: u64) -> Value {
        let s = self.spec;
        let dir = |path: String, id: u64| json!({"path": path, "object_type": "DIRECTORY", "object_id": id, "resource_id": id.to_string()});
        if i == 0 {
            return dir("/Production".to_owned(), self.object_id(SLOT_DIR, 0));
        }
        let i = i - 1;
        if i < self.parents {
            return dir(self.parent_path(i), self.object_id(SLOT_DIR, 1 + i));
        }
        let i = i - self.parents;
        if i < s.folders {
            return dir(
                self.folder_path(i),
                self.object_id(SLOT_DIR, 1 + self.parents + i),
            );
        }
        let n = i - s.folders;
        let mut rng = self.rng(Section::WorkspaceObjects, n);
        let (language, header) = LANGUAGES[rng.gen_range(0..LANGUAGES.len())];
        let created = self.created(&mut rng);
        let source = format!("{header}print(\"notebook {n}\")\n");
        let id = self.object_id(SLOT_NOTEBOOK, n);
        json!({
            "path": self.notebook_path(n),
            "object_type": "NOTEBOOK",
            "object_id": id,
            "resource_id": id.to_string(),
            "language": language,
            "created_at": created,
            "modified_at": created + rng.gen_range(0..30 * DAY_MS),
            "content": base64(source.as_bytes()),
        })
    }

    fn secret_scope(&self, i: u64) -> Value {
        let mut rng = self.rng(Section::SecretScopes, i);
        let secrets: Vec<Value> = (0..self.spec.secrets_per_scope)
            .map(|k| json!({"key": format!("key-{k:03}"), "last_updated_timestamp": self.created(&mut rng)}))
            .collect();
        let mut acls = vec![json!({"principal": "admins", "permission": "MANAGE"})];
        if self.spec.groups > 1 {
            let g = 1 + i % (self.spec.groups - 1);
            acls.push(json!({"principal": self.group_name(g), "permission": "READ"}));
        }
        json!({"name": format!("scope-{i:03}"), "backend_type": "DATABRICKS", "secrets": secrets, "acls": acls})
    }

    // ---- permissions --------------------------------------------------------------------------

    /// Jobs, then clusters, pools, policies, warehouses and leaf folders: one entry per object.
    fn permission(&self, i: u64) -> Value {
        let s = self.spec;
        let mut i = i;
        if i < s.jobs {
            return self.acl(
                format!("/jobs/{}", self.job_id(i)),
                "job",
                "/jobs/",
                i,
                "IS_OWNER",
                "CAN_MANAGE_RUN",
            );
        }
        i -= s.jobs;
        if i < s.clusters {
            let id = format!("/clusters/{}", self.cluster_id(i));
            return self.acl(
                id,
                "cluster",
                "/clusters/",
                i,
                "CAN_MANAGE",
                "CAN_ATTACH_TO",
            );
        }
        i -= s.clusters;
        if i < s.pools {
            let id = format!("/instance-pools/{}", self.pool_id(i));
            return self.acl(
                id,
                "instance-pool",
                "/instance-pools/",
                i,
                "CAN_MANAGE",
                "CAN_ATTACH_TO",
            );
        }
        i -= s.pools;
        if i < s.policies {
            let id = format!("/cluster-policies/{}", self.policy_id(i));
            return self.acl(
                id,
                "cluster-policy",
                "/cluster-policies/",
                i,
                "CAN_USE",
                "CAN_USE",
            );
        }
        i -= s.policies;
        if i < s.warehouses {
            let id = format!("/sql/warehouses/{}", self.warehouse_id(i));
            return self.acl(
                id,
                "warehouses",
                "/sql/warehouses/",
                i,
                "IS_OWNER",
                "CAN_USE",
            );
        }
        i -= s.warehouses;
        let id = format!(
            "/directories/{}",
            self.object_id(SLOT_DIR, 1 + self.parents + i)
        );
        self.acl(
            id,
            "directory",
            "/directories/",
            i,
            "CAN_MANAGE",
            "CAN_EDIT",
        )
    }

    /// A user with `user_level` (when there are users), a group with `group_level` (when there
    /// are groups besides `admins`), and `admins` inherited from the root object.
    fn acl(
        &self,
        object_id: String,
        object_type: &str,
        root: &str,
        i: u64,
        user_level: &str,
        group_level: &str,
    ) -> Value {
        let s = self.spec;
        let mut entries = Vec::with_capacity(3);
        if s.users > 0 {
            let u = (i * 7) % s.users;
            entries.push(json!({
                "user_name": self.user_name(u),
                "display_name": self.user_display(u),
                "all_permissions": [{"permission_level": user_level, "inherited": false}],
            }));
        } else if s.service_principals > 0 {
            let p = i % s.service_principals;
            entries.push(json!({
                "service_principal_name": self.application_id(p),
                "display_name": self.sp_display(p),
                "all_permissions": [{"permission_level": user_level, "inherited": false}],
            }));
        }
        if s.groups > 1 {
            let g = 1 + i % (s.groups - 1);
            entries.push(json!({
                "group_name": self.group_name(g),
                "all_permissions": [{"permission_level": group_level, "inherited": false}],
            }));
        }
        entries.push(json!({
            "group_name": "admins",
            "all_permissions": [{"permission_level": "CAN_MANAGE", "inherited": true, "inherited_from_object": [root]}],
        }));
        json!({"object_id": object_id, "object_type": object_type, "access_control_list": entries})
    }

    // ---- Unity Catalog ------------------------------------------------------------------------

    fn catalog(&self, c: u64) -> Value {
        let mut rng = self.rng(Section::Catalogs, c);
        let name = self.catalog_name(c);
        let created = self.created(&mut rng);
        json!({
            "name": name,
            "full_name": name,
            "owner": self.group_name(if self.spec.groups > 1 { 1 + c % (self.spec.groups - 1) } else { 0 }),
            "comment": format!("Generated catalog {c}."),
            "storage_root": format!("s3://generated-bucket/unity/{name}"),
            "catalog_type": "MANAGED_CATALOG",
            "isolation_mode": "OPEN",
            "metastore_id": self.uuid(SLOT_METASTORE, 0),
            "id": self.uuid(SLOT_CATALOG, c),
            "securable_type": "CATALOG",
            "created_at": created,
            "created_by": "admin@example.com",
            "updated_at": created + rng.gen_range(0..DAY_MS),
            "updated_by": "admin@example.com",
        })
    }

    fn schema(&self, s: u64) -> Value {
        let mut rng = self.rng(Section::Schemas, s);
        let catalog = self.catalog_name(s % self.catalogs.max(1));
        let created = self.created(&mut rng);
        json!({
            "name": format!("schema_{s:04}"),
            "catalog_name": catalog,
            "full_name": self.schema_full_name(s),
            "owner": "admin@example.com",
            "comment": format!("Generated schema {s}."),
            "properties": {},
            "metastore_id": self.uuid(SLOT_METASTORE, 0),
            "schema_id": self.uuid(SLOT_SCHEMA, s),
            "securable_type": "SCHEMA",
            "created_at": created,
            "created_by": "admin@example.com",
            "updated_at": created + rng.gen_range(0..DAY_MS),
            "updated_by": "admin@example.com",
        })
    }

    fn table(&self, t: u64) -> Value {
        const TYPES: [(&str, &str); 6] = [
            ("bigint", "LONG"),
            ("string", "STRING"),
            ("timestamp", "TIMESTAMP"),
            ("double", "DOUBLE"),
            ("date", "DATE"),
            ("decimal(12,2)", "DECIMAL"),
        ];
        let mut rng = self.rng(Section::Tables, t);
        let schema = t % self.schemas.max(1);
        let catalog = schema % self.catalogs.max(1);
        let name = format!("table_{t:06}");
        let full_name = self.table_full_name(t);
        let external = t % 4 == 3;
        let columns: Vec<Value> = (0..rng.gen_range(3..7u64))
            .map(|p| {
                let (text, type_name) = TYPES[rng.gen_range(0..TYPES.len())];
                json!({"name": format!("col_{p}"), "type_text": text, "type_name": type_name, "position": p, "nullable": p > 0})
            })
            .collect();
        let location = if external {
            format!("s3://generated-bucket/external/{name}")
        } else {
            format!(
                "s3://generated-bucket/unity/{}/schema_{schema:04}/{name}",
                self.catalog_name(catalog)
            )
        };
        let created = self.created(&mut rng);
        json!({
            "name": name,
            "catalog_name": self.catalog_name(catalog),
            "schema_name": format!("schema_{schema:04}"),
            "full_name": full_name,
            "table_type": if external { "EXTERNAL" } else { "MANAGED" },
            "data_source_format": "DELTA",
            "storage_location": location,
            "columns": columns,
            "owner": "admin@example.com",
            "properties": {"delta.minReaderVersion": "1", "delta.minWriterVersion": "2"},
            "table_id": self.uuid(SLOT_TABLE, t),
            "metastore_id": self.uuid(SLOT_METASTORE, 0),
            "created_at": created,
            "created_by": "admin@example.com",
            "updated_at": created + rng.gen_range(0..DAY_MS),
            "updated_by": "admin@example.com",
        })
    }

    /// Catalogs, then schemas, then every tenth table.
    fn grant(&self, i: u64) -> Value {
        let group = |k: u64| {
            self.group_name(if self.spec.groups > 1 {
                1 + k % (self.spec.groups - 1)
            } else {
                0
            })
        };
        if i < self.catalogs {
            return json!({"securable_type": "catalog", "full_name": self.catalog_name(i), "privilege_assignments": [
                {"principal": group(i), "privileges": ["USE_CATALOG", "CREATE_SCHEMA"]}]});
        }
        let i = i - self.catalogs;
        if i < self.schemas {
            return json!({"securable_type": "schema", "full_name": self.schema_full_name(i), "privilege_assignments": [
                {"principal": group(i), "privileges": ["USE_SCHEMA", "SELECT"]}]});
        }
        let t = (i - self.schemas) * TABLE_GRANT_EVERY;
        json!({"securable_type": "table", "full_name": self.table_full_name(t), "privilege_assignments": [
            {"principal": group(t), "privileges": ["SELECT", "MODIFY"]}]})
    }

    fn ip_access_list(&self, i: u64) -> Value {
        let (label, list_type, addresses) = if i == 0 {
            (
                "corp-egress",
                "ALLOW",
                json!(["203.0.113.0/24", "198.51.100.17/32"]),
            )
        } else {
            ("blocked", "BLOCK", json!(["203.0.113.99/32"]))
        };
        json!({
            "list_id": self.uuid(SLOT_IP_LIST, i),
            "label": label,
            "list_type": list_type,
            "ip_addresses": addresses,
            "address_count": addresses.as_array().map_or(0, Vec::len),
            "enabled": true,
            "created_at": START_MS - 100 * DAY_MS,
            "updated_at": START_MS - 10 * DAY_MS,
        })
    }
}

fn person(i: u64) -> (&'static str, &'static str) {
    let f = (i % FIRST.len() as u64) as usize;
    let l = (i / FIRST.len() as u64 % LAST.len() as u64) as usize;
    (FIRST[f], LAST[l])
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `MMDD-HHMMSS` from random bits, the prefix of cluster and pool ids.
fn stamp(s: u64) -> String {
    format!(
        "{:02}{:02}-{:02}{:02}{:02}",
        s % 12 + 1,
        (s >> 8) % 28 + 1,
        (s >> 16) % 24,
        (s >> 24) % 60,
        (s >> 32) % 60
    )
}

fn workspace_conf() -> Value {
    json!({
        "enableIpAccessLists": "true",
        "enableTokensConfig": "true",
        "maxTokenLifetimeDays": "90",
        "enforceUserIsolation": "true",
        "enableJobViewAcls": "true",
        "enableVerboseAuditLogs": "true",
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn bytes(spec: &GenerateSpec) -> Vec<u8> {
        let mut out = Vec::new();
        write_fixture(spec, &mut out).expect("writing to a Vec cannot fail");
        out
    }

    fn array<'v>(v: &'v Value, key: &str) -> &'v Vec<Value> {
        v[key]
            .as_array()
            .unwrap_or_else(|| panic!("`{key}` is not an array"))
    }

    #[test]
    fn same_seed_gives_same_bytes_and_another_seed_does_not() {
        let spec = GenerateSpec::default();
        assert_eq!(bytes(&spec), bytes(&spec));
        let other = GenerateSpec {
            seed: 2,
            ..GenerateSpec::default()
        };
        assert_ne!(bytes(&spec), bytes(&other));
    }

    #[test]
    fn streamed_output_parses_and_equals_generate() {
        let spec = GenerateSpec::default();
        let streamed: Value =
            serde_json::from_slice(&bytes(&spec)).expect("streamed fixture is JSON");
        assert_eq!(streamed, generate(&spec));
        assert_eq!(streamed["fixture_version"], 1);
        assert_eq!(streamed["name"], "generated");
        assert!(
            streamed["workspace_id"]
                .as_str()
                .is_some_and(|s| s.len() == 16 && s.bytes().all(|b| b.is_ascii_digit()))
        );
    }

    #[test]
    fn counts_are_honoured() {
        let spec = GenerateSpec {
            users: 37,
            groups: 11,
            service_principals: 4,
            jobs: 23,
            clusters: 6,
            pools: 2,
            policies: 3,
            notebooks: 250,
            folders: 120,
            secret_scopes: 3,
            secrets_per_scope: 4,
            catalogs: 2,
            schemas: 5,
            tables: 31,
            warehouses: 2,
            ..GenerateSpec::default()
        };
        let v = generate(&spec);
        assert_eq!(array(&v, "users").len(), 37);
        assert_eq!(array(&v, "groups").len(), 11);
        assert_eq!(array(&v, "service_principals").len(), 4);
        assert_eq!(array(&v, "jobs").len(), 23);
        assert_eq!(array(&v, "clusters").len(), 6);
        assert_eq!(array(&v, "instance_pools").len(), 2);
        assert_eq!(array(&v, "cluster_policies").len(), 3);
        assert_eq!(array(&v, "secret_scopes").len(), 3);
        assert!(
            array(&v, "secret_scopes")
                .iter()
                .all(|s| s["secrets"].as_array().map(Vec::len) == Some(4))
        );
        assert_eq!(array(&v, "catalogs").len(), 2);
        assert_eq!(array(&v, "schemas").len(), 5);
        assert_eq!(array(&v, "tables").len(), 31);
        assert_eq!(array(&v, "sql_warehouses").len(), 2);
        let objects = array(&v, "workspace_objects");
        let notebooks = objects
            .iter()
            .filter(|o| o["object_type"] == "NOTEBOOK")
            .count();
        let dirs = objects
            .iter()
            .filter(|o| o["object_type"] == "DIRECTORY")
            .count();
        assert_eq!(notebooks, 250);
        // /Production, 2 parents (120 folders at 100 per parent), 120 folders
        assert_eq!(dirs, 1 + 2 + 120);
        // one permission entry per job, cluster, pool, policy, warehouse and leaf folder
        assert_eq!(array(&v, "permissions").len(), 23 + 6 + 2 + 3 + 2 + 120);
        // catalogs + schemas + every tenth table
        assert_eq!(array(&v, "grants").len(), 2 + 5 + 4);
        let total: usize = v.as_object().map_or(0, |o| {
            o.values().filter_map(Value::as_array).map(Vec::len).sum()
        });
        assert_eq!(total as u64, spec.object_count());
    }

    #[test]
    fn ids_and_natural_keys_are_unique() {
        let spec = GenerateSpec {
            users: 3_000,
            groups: 300,
            jobs: 2_000,
            notebooks: 5_000,
            folders: 500,
            ..GenerateSpec::default()
        };
        let v = generate(&spec);
        let unique = |key: &str, field: &str| {
            let items = array(&v, key);
            let set: HashSet<String> = items.iter().map(|o| o[field].to_string()).collect();
            assert_eq!(set.len(), items.len(), "duplicate `{field}` in `{key}`");
        };
        unique("users", "id");
        unique("users", "userName");
        unique("groups", "id");
        unique("groups", "displayName");
        unique("jobs", "job_id");
        unique("clusters", "cluster_id");
        unique("workspace_objects", "object_id");
        unique("workspace_objects", "path");
        unique("tables", "table_id");
        unique("tables", "full_name");
        unique("permissions", "object_id");
        let scim: HashSet<&Value> = ["users", "groups", "service_principals"]
            .iter()
            .flat_map(|k| array(&v, k).iter().map(|o| &o["id"]))
            .collect();
        assert_eq!(
            scim.len(),
            3_000 + 300 + spec.service_principals as usize,
            "SCIM ids collide across kinds"
        );
    }

    #[test]
    fn references_point_at_generated_objects() {
        let v = generate(&GenerateSpec::default());
        let paths: HashSet<&str> = array(&v, "workspace_objects")
            .iter()
            .filter_map(|o| o["path"].as_str())
            .collect();
        let clusters: HashSet<&str> = array(&v, "clusters")
            .iter()
            .filter_map(|c| c["cluster_id"].as_str())
            .collect();
        let pools: HashSet<&str> = array(&v, "instance_pools")
            .iter()
            .filter_map(|p| p["instance_pool_id"].as_str())
            .collect();
        let jobs = array(&v, "jobs");
        let mut seen_cluster = false;
        for job in jobs {
            for task in job["settings"]["tasks"].as_array().into_iter().flatten() {
                let path = task["notebook_task"]["notebook_path"]
                    .as_str()
                    .unwrap_or_default();
                assert!(
                    paths.contains(path),
                    "job task notebook `{path}` is not generated"
                );
                if let Some(id) = task["existing_cluster_id"].as_str() {
                    seen_cluster = true;
                    assert!(clusters.contains(id), "cluster `{id}` is not generated");
                }
            }
            for jc in job["settings"]["job_clusters"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let pool = jc["new_cluster"]["instance_pool_id"]
                    .as_str()
                    .unwrap_or_default();
                assert!(pools.contains(pool), "pool `{pool}` is not generated");
            }
        }
        assert!(seen_cluster);
        // every job has its permission entry
        let acls: HashSet<String> = array(&v, "permissions")
            .iter()
            .filter_map(|p| p["object_id"].as_str().map(str::to_owned))
            .collect();
        for job in jobs {
            assert!(acls.contains(&format!("/jobs/{}", job["job_id"])));
        }
        // folder ACLs name generated directories
        let dirs: HashSet<String> = array(&v, "workspace_objects")
            .iter()
            .filter(|o| o["object_type"] == "DIRECTORY")
            .map(|o| format!("/directories/{}", o["object_id"]))
            .collect();
        let folder_acls: Vec<&String> = acls
            .iter()
            .filter(|id| id.starts_with("/directories/"))
            .collect();
        assert_eq!(folder_acls.len() as u64, GenerateSpec::default().folders);
        assert!(folder_acls.iter().all(|id| dirs.contains(*id)));
        // group members are generated users, service principals or groups
        let scim: HashSet<&str> = ["users", "groups", "service_principals"]
            .iter()
            .flat_map(|k| array(&v, k).iter().filter_map(|o| o["id"].as_str()))
            .collect();
        for group in array(&v, "groups") {
            let members = group["members"].as_array().map_or(&[][..], Vec::as_slice);
            assert!(
                !members.is_empty(),
                "group `{}` has no members",
                group["displayName"]
            );
            for m in members {
                assert!(m["value"].as_str().is_some_and(|id| scim.contains(id)));
            }
        }
    }

    #[test]
    fn notebooks_spread_evenly_over_folders() {
        let spec = GenerateSpec {
            notebooks: 2_000,
            folders: 200,
            ..GenerateSpec::default()
        };
        let v = generate(&spec);
        let mut per_folder = std::collections::HashMap::new();
        for o in array(&v, "workspace_objects")
            .iter()
            .filter(|o| o["object_type"] == "NOTEBOOK")
        {
            let path = o["path"].as_str().unwrap_or_default();
            let folder = path.rsplit_once('/').map_or("", |(f, _)| f);
            *per_folder.entry(folder.to_owned()).or_insert(0) += 1;
        }
        assert_eq!(per_folder.len(), 200);
        assert!(per_folder.values().all(|&n| n == 10));
    }

    #[test]
    fn empty_spec_is_a_valid_fixture() {
        let spec = GenerateSpec {
            users: 0,
            groups: 0,
            service_principals: 0,
            jobs: 0,
            clusters: 0,
            pools: 0,
            policies: 0,
            notebooks: 0,
            folders: 0,
            secret_scopes: 0,
            catalogs: 0,
            schemas: 0,
            tables: 0,
            warehouses: 0,
            ..GenerateSpec::default()
        };
        let v: Value = serde_json::from_slice(&bytes(&spec)).expect("empty fixture is JSON");
        assert!(array(&v, "jobs").is_empty());
        assert!(array(&v, "workspace_objects").is_empty());
        assert_eq!(array(&v, "ip_access_lists").len(), 2);
    }

    #[test]
    fn tables_without_schemas_get_one() {
        let spec = GenerateSpec {
            catalogs: 0,
            schemas: 0,
            tables: 3,
            ..GenerateSpec::default()
        };
        let v = generate(&spec);
        assert_eq!(array(&v, "catalogs").len(), 1);
        assert_eq!(array(&v, "schemas").len(), 1);
        assert!(array(&v, "tables").iter().all(|t| {
            t["full_name"]
                .as_str()
                .is_some_and(|n| n.starts_with("catalog_000.schema_0000."))
        }));
    }

    #[test]
    fn secret_references_name_generated_scopes() {
        let v = generate(&GenerateSpec::default());
        let scopes: HashSet<&str> = array(&v, "secret_scopes")
            .iter()
            .filter_map(|s| s["name"].as_str())
            .collect();
        let mut found = 0;
        for job in array(&v, "jobs") {
            for jc in job["settings"]["job_clusters"]
                .as_array()
                .into_iter()
                .flatten()
            {
                if let Some(conf) = jc["new_cluster"]["spark_conf"].as_object() {
                    for value in conf.values().filter_map(Value::as_str) {
                        let scope = value
                            .trim_start_matches("{{secrets/")
                            .split('/')
                            .next()
                            .unwrap_or_default();
                        assert!(scopes.contains(scope), "scope `{scope}` is not generated");
                        found += 1;
                    }
                }
            }
        }
        assert!(found > 0);
    }
}
