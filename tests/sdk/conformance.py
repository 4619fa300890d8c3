#!/usr/bin/env python3
"""Conformance of standby's mock workspace with the official Databricks SDK for Python.

Runs the unmodified SDK (`databricks-sdk`, pinned in requirements.txt) against a running mock and
checks what it reads back against the fixture the mock was started from: every kind is listed and
read, a few objects are created and updated, and each read-back is compared with the fixture or the
write. Nothing here knows the mock's internals; it only speaks the public API through the SDK.

Environment:
  MOCK_URL    base URL of the mock workspace, e.g. http://127.0.0.1:8123
  MOCK_TOKEN  bearer token the mock accepts
  FIXTURE     path of the fixture file the mock serves (its state must be untouched)

Prints one line per check (`ok` or `FAIL` with request, expected and got) and finally
`N passed, M failed`; exits 1 when anything failed, 2 on bad usage.

The writes leave the mock changed (they add a job run, a cluster, a secret scope, a warehouse and a
job ACL entry, among others), so run it against a freshly started mock each time.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import traceback
import urllib.error
import urllib.request
from typing import Any, Callable, Iterable

# Only MOCK_* configures the client: a DATABRICKS_* variable or ~/.databrickscfg profile left in the
# environment would add a second auth method or another host.
for _name in [n for n in os.environ if n.startswith("DATABRICKS_")]:
    del os.environ[_name]
os.environ["DATABRICKS_CONFIG_FILE"] = os.devnull

from databricks.sdk import WorkspaceClient  # noqa: E402
from databricks.sdk.errors import NotFound, ResourceAlreadyExists, Unauthenticated  # noqa: E402
from databricks.sdk.service import iam, jobs, settings, workspace  # noqa: E402


class Mismatch(Exception):
    """A value the SDK read back differs from the expected one."""


def expect(what: str, expected: Any, got: Any) -> None:
    if expected != got:
        raise Mismatch(f"{what}: expected {_show(expected)}, got {_show(got)}")


def expect_true(what: str, cond: bool, detail: Any = None) -> None:
    if not cond:
        raise Mismatch(what + ("" if detail is None else f": {_show(detail)}"))


def _show(v: Any) -> str:
    if isinstance(v, (set, frozenset)):
        v = sorted(v, key=repr)
    s = json.dumps(v, default=repr, sort_keys=True) if not isinstance(v, str) else repr(v)
    return s if len(s) <= 600 else s[:600] + "…"


def enum_value(v: Any) -> Any:
    """The wire value of an SDK enum (the SDK maps unknown values to None)."""
    return getattr(v, "value", v)


class Runner:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def check(self, name: str, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Mismatch as e:
            self.failed += 1
            print(f"FAIL {name}: {e}", flush=True)
        except Exception as e:  # an SDK error is a failed check, not a crash of the run
            self.failed += 1
            where = traceback.extract_tb(e.__traceback__)
            line = next((f"line {f.lineno}" for f in reversed(where) if f.filename == __file__), "")
            print(f"FAIL {name}: {type(e).__name__}: {e} ({line})", flush=True)
        else:
            self.passed += 1
            print(f"ok   {name}", flush=True)


# ---------------------------------------------------------------------------------------------
# Fixture views


class Fixture:
    def __init__(self, path: str) -> None:
        with open(path, encoding="utf-8") as f:
            self.raw = json.load(f)
        self.path = path

    def list(self, key: str) -> list[dict]:
        return self.raw.get(key) or []

    def principal_names(self) -> dict[str, tuple[str, str]]:
        """SCIM id → (kind, natural key)."""
        out: dict[str, tuple[str, str]] = {}
        for u in self.list("users"):
            out[u["id"]] = ("user", u["userName"])
        for s in self.list("service_principals"):
            out[s["id"]] = ("service_principal", s["applicationId"])
        for g in self.list("groups"):
            out[g["id"]] = ("group", g["displayName"])
        return out

    def acl_of(self, object_id: str) -> set[tuple]:
        for p in self.list("permissions"):
            if p["object_id"] == object_id:
                return acl_set_raw(p.get("access_control_list") or [])
        return {("group", "admins", "CAN_MANAGE", True)}


def acl_set_raw(entries: Iterable[dict]) -> set[tuple]:
    out = set()
    for e in entries:
        principal = principal_of(e.get("user_name"), e.get("group_name"), e.get("service_principal_name"))
        for p in e.get("all_permissions") or []:
            out.add(principal + (p.get("permission_level"), bool(p.get("inherited"))))
    return out


def acl_set_sdk(perms: Any) -> set[tuple]:
    out = set()
    for e in perms.access_control_list or []:
        principal = principal_of(e.user_name, e.group_name, e.service_principal_name)
        for p in e.all_permissions or []:
            out.add(principal + (enum_value(p.permission_level), bool(p.inherited)))
    return out


def principal_of(user: str | None, group: str | None, sp: str | None) -> tuple[str, str]:
    if user:
        return ("user", user)
    if sp:
        return ("service_principal", sp)
    return ("group", group or "")


# ---------------------------------------------------------------------------------------------
# Reads


def check_reads(r: Runner, w: WorkspaceClient, fx: Fixture) -> None:
    """Lists and gets every kind and compares it with the fixture."""

    def workspace_id() -> None:
        if "workspace_id" in fx.raw:
            expect("w.get_workspace_id()", int(fx.raw["workspace_id"]), w.get_workspace_id())

    r.check("workspace id", workspace_id)

    # ---- SCIM ----
    def users() -> None:
        got = list(w.users.list())
        expect(
            "users.list userNames", sorted(u["userName"] for u in fx.list("users")), sorted(u.user_name for u in got)
        )
        expect("users.list ids unique", len(got), len({u.id for u in got}))
        for u in fx.list("users"):
            one = w.users.get(u["id"])
            expect(f"users.get({u['id']}).userName", u["userName"], one.user_name)
            expect(f"users.get({u['id']}).active", u.get("active"), one.active)
            expect(
                f"users.get({u['id']}).emails",
                [e["value"] for e in u.get("emails") or []],
                [e.value for e in one.emails or []],
            )
            expect(
                f"users.get({u['id']}).entitlements",
                sorted(e["value"] for e in u.get("entitlements") or []),
                sorted(e.value for e in one.entitlements or []),
            )

    def users_paged() -> None:
        # count=3 makes the SDK page with startIndex until an empty Resources page
        got = [u.user_name for u in w.users.list(count=3, sort_by="userName")]
        expect("users.list(count=3) userNames", sorted(u["userName"] for u in fx.list("users")), sorted(got))
        expect("users.list(count=3) has no duplicates", len(got), len(set(got)))

    def users_filter() -> None:
        if not fx.list("users"):
            return
        name = fx.list("users")[0]["userName"]
        got = [u.user_name for u in w.users.list(filter=f'userName eq "{name}"')]
        expect(f"users.list(filter=userName eq {name})", [name], got)

    def service_principals() -> None:
        got = list(w.service_principals.list())
        expect(
            "service_principals.list applicationIds",
            sorted(s["applicationId"] for s in fx.list("service_principals")),
            sorted(s.application_id for s in got),
        )
        for s in fx.list("service_principals"):
            one = w.service_principals.get(s["id"])
            expect(f"service_principals.get({s['id']}).applicationId", s["applicationId"], one.application_id)
            expect(f"service_principals.get({s['id']}).displayName", s.get("displayName"), one.display_name)

    def groups() -> None:
        got = list(w.groups.list())
        expect(
            "groups.list displayNames",
            sorted(g["displayName"] for g in fx.list("groups")),
            sorted(g.display_name for g in got),
        )
        names = fx.principal_names()
        for g in fx.list("groups"):
            one = w.groups.get(g["id"])
            expect(f"groups.get({g['id']}).displayName", g["displayName"], one.display_name)
            want = sorted(names.get(m["value"], ("?", m["value"])) for m in g.get("members") or [])
            have = sorted(names.get(m.value, ("?", m.value)) for m in one.members or [])
            expect(f"groups.get({g['id']}).members", want, have)
            refs = sorted((m.ref or "").split("/")[0] for m in one.members or [])
            want_refs = sorted((m.get("$ref") or "").split("/")[0] for m in g.get("members") or [])
            expect(f"groups.get({g['id']}).members $ref kinds", want_refs, refs)
            rt = (g.get("meta") or {}).get("resourceType")
            if rt:
                expect(f"groups.get({g['id']}).meta.resourceType", rt, one.meta.resource_type if one.meta else None)

    r.check("users list/get", users)
    r.check("users list paged (count=3)", users_paged)
    r.check("users list filter", users_filter)
    r.check("service principals list/get", service_principals)
    r.check("groups list/get with members", groups)

    # ---- jobs ----
    def jobs_list() -> None:
        want = sorted(j["settings"]["name"] for j in fx.list("jobs"))
        expect("jobs.list() names", want, sorted(j.settings.name for j in w.jobs.list()))
        expect("jobs.list(limit=2) names (paged)", want, sorted(j.settings.name for j in w.jobs.list(limit=2)))
        expanded = {j.job_id: j for j in w.jobs.list(expand_tasks=True, limit=100)}
        for j in fx.list("jobs"):
            got = expanded.get(j["job_id"])
            expect_true(f"jobs.list(expand_tasks=true) has job_id {j['job_id']}", got is not None)
            expect(
                f"jobs.list(expand_tasks=true) job {j['job_id']} task keys",
                sorted(t["task_key"] for t in j["settings"].get("tasks") or []),
                sorted(t.task_key for t in got.settings.tasks or []),
            )

    def jobs_get() -> None:
        for j in fx.list("jobs"):
            s = j["settings"]
            got = w.jobs.get(j["job_id"])
            gs = got.settings
            what = f"jobs.get({j['job_id']})"
            expect(f"{what}.settings.name", s["name"], gs.name)
            expect(f"{what}.creator_user_name", j.get("creator_user_name"), got.creator_user_name)
            expect(f"{what}.settings.max_concurrent_runs", s.get("max_concurrent_runs"), gs.max_concurrent_runs)
            if "schedule" in s:
                expect(
                    f"{what}.settings.schedule.pause_status",
                    s["schedule"].get("pause_status"),
                    enum_value(gs.schedule.pause_status),
                )
                expect(
                    f"{what}.settings.schedule.quartz_cron_expression",
                    s["schedule"]["quartz_cron_expression"],
                    gs.schedule.quartz_cron_expression,
                )
            tasks = {t.task_key: t for t in gs.tasks or []}
            expect(f"{what} task keys", sorted(t["task_key"] for t in s.get("tasks") or []), sorted(tasks))
            for t in s.get("tasks") or []:
                gt = tasks[t["task_key"]]
                expect(
                    f"{what} task {t['task_key']} depends_on",
                    sorted(d["task_key"] for d in t.get("depends_on") or []),
                    sorted(d.task_key for d in gt.depends_on or []),
                )
                expect(
                    f"{what} task {t['task_key']} existing_cluster_id",
                    t.get("existing_cluster_id"),
                    gt.existing_cluster_id,
                )
                expect(f"{what} task {t['task_key']} job_cluster_key", t.get("job_cluster_key"), gt.job_cluster_key)
                if "notebook_task" in t:
                    expect(
                        f"{what} task {t['task_key']} notebook_path",
                        t["notebook_task"]["notebook_path"],
                        gt.notebook_task.notebook_path,
                    )
                if "sql_task" in t:
                    expect(
                        f"{what} task {t['task_key']} sql_task.warehouse_id",
                        t["sql_task"]["warehouse_id"],
                        gt.sql_task.warehouse_id,
                    )
                if "new_cluster" in t:
                    expect(
                        f"{what} task {t['task_key']} new_cluster.spark_conf",
                        t["new_cluster"].get("spark_conf"),
                        gt.new_cluster.spark_conf,
                    )
            jcs = {c.job_cluster_key: c for c in gs.job_clusters or []}
            expect(
                f"{what} job_cluster keys",
                sorted(c["job_cluster_key"] for c in s.get("job_clusters") or []),
                sorted(jcs),
            )
            for c in s.get("job_clusters") or []:
                nc, gnc = c["new_cluster"], jcs[c["job_cluster_key"]].new_cluster
                expect(
                    f"{what} job_cluster {c['job_cluster_key']} instance_pool_id",
                    nc.get("instance_pool_id"),
                    gnc.instance_pool_id,
                )
                expect(f"{what} job_cluster {c['job_cluster_key']} policy_id", nc.get("policy_id"), gnc.policy_id)
                expect(f"{what} job_cluster {c['job_cluster_key']} spark_conf", nc.get("spark_conf"), gnc.spark_conf)

    def jobs_missing() -> None:
        try:
            w.jobs.get(1)
        except NotFound:
            return
        raise Mismatch(
            "jobs.get(1) of a missing job: expected NotFound (400 INVALID_PARAMETER_VALUE `Job 1 does not exist.` or 404), got a job"
        )

    def runs() -> None:
        for run in fx.list("runs"):
            got = w.jobs.get_run(run["run_id"])
            expect(f"jobs.get_run({run['run_id']}).job_id", run["job_id"], got.job_id)
            expect(
                f"jobs.get_run({run['run_id']}) task keys",
                sorted(t["task_key"] for t in run.get("tasks") or []),
                sorted(t.task_key for t in got.tasks or []),
            )
            listed = [x.run_id for x in w.jobs.list_runs(job_id=run["job_id"])]
            expect_true(
                f"jobs.list_runs(job_id={run['job_id']}) contains run {run['run_id']}", run["run_id"] in listed, listed
            )

    r.check("jobs list (default, paged, expand_tasks)", jobs_list)
    r.check("jobs get", jobs_get)
    r.check("jobs get missing → NotFound", jobs_missing)
    r.check("runs get/list", runs)

    # ---- compute ----
    def clusters() -> None:
        got = list(w.clusters.list())
        expect(
            "clusters.list names",
            sorted(c["cluster_name"] for c in fx.list("clusters")),
            sorted(c.cluster_name for c in got),
        )
        expect(
            "clusters.list(page_size=1) ids (paged)",
            sorted(c["cluster_id"] for c in fx.list("clusters")),
            sorted(c.cluster_id for c in w.clusters.list(page_size=1)),
        )
        for c in fx.list("clusters"):
            one = w.clusters.get(c["cluster_id"])
            what = f"clusters.get({c['cluster_id']})"
            expect(f"{what}.cluster_name", c["cluster_name"], one.cluster_name)
            expect(f"{what}.state", c.get("state"), enum_value(one.state))
            expect(f"{what}.cluster_source", c.get("cluster_source"), enum_value(one.cluster_source))
            expect(f"{what}.instance_pool_id", c.get("instance_pool_id"), one.instance_pool_id)
            expect(f"{what}.policy_id", c.get("policy_id"), one.policy_id)
            expect(f"{what}.spark_conf", c.get("spark_conf"), one.spark_conf)
            expect(f"{what}.num_workers", c.get("num_workers"), one.num_workers)
            if "autoscale" in c:
                expect(f"{what}.autoscale.max_workers", c["autoscale"]["max_workers"], one.autoscale.max_workers)
            if c.get("init_scripts"):
                expect(
                    f"{what}.init_scripts[0].workspace.destination",
                    c["init_scripts"][0].get("workspace", {}).get("destination"),
                    one.init_scripts[0].workspace.destination if one.init_scripts[0].workspace else None,
                )

    def clusters_missing() -> None:
        try:
            w.clusters.get("0000-000000-missing0")
        except NotFound:
            return
        raise Mismatch(
            "clusters.get of a missing cluster: expected NotFound (400 `Cluster … does not exist`), got a cluster"
        )

    def libraries() -> None:
        got = {s.cluster_id: s for s in w.libraries.all_cluster_statuses()}
        for entry in fx.list("cluster_libraries"):
            cid = entry["cluster_id"]
            expect_true(f"libraries.all_cluster_statuses has cluster {cid}", cid in got, sorted(got))
            want = sorted(json.dumps(s["library"], sort_keys=True) for s in entry.get("library_statuses") or [])
            have = sorted(json.dumps(s.library.as_dict(), sort_keys=True) for s in got[cid].library_statuses or [])
            expect(f"libraries.all_cluster_statuses cluster {cid} libraries", want, have)
            one = list(w.libraries.cluster_status(cid))
            expect(f"libraries.cluster_status({cid}) count", len(want), len(one))

    def pools() -> None:
        got = list(w.instance_pools.list())
        expect(
            "instance_pools.list names",
            sorted(p["instance_pool_name"] for p in fx.list("instance_pools")),
            sorted(p.instance_pool_name for p in got),
        )
        for p in fx.list("instance_pools"):
            one = w.instance_pools.get(p["instance_pool_id"])
            what = f"instance_pools.get({p['instance_pool_id']})"
            expect(f"{what}.instance_pool_name", p["instance_pool_name"], one.instance_pool_name)
            expect(f"{what}.min_idle_instances", p.get("min_idle_instances"), one.min_idle_instances)
            expect(f"{what}.max_capacity", p.get("max_capacity"), one.max_capacity)
            expect(f"{what}.node_type_id", p.get("node_type_id"), one.node_type_id)

    def policies() -> None:
        got = list(w.cluster_policies.list())
        expect(
            "cluster_policies.list names",
            sorted(p["name"] for p in fx.list("cluster_policies")),
            sorted(p.name for p in got),
        )
        for p in fx.list("cluster_policies"):
            one = w.cluster_policies.get(p["policy_id"])
            what = f"cluster_policies.get({p['policy_id']})"
            expect(f"{what}.name", p["name"], one.name)
            expect(f"{what}.definition (parsed)", json.loads(p["definition"]), json.loads(one.definition or "null"))
            expect(f"{what}.max_clusters_per_user", p.get("max_clusters_per_user"), one.max_clusters_per_user)
            expect(f"{what}.policy_family_id", p.get("policy_family_id"), one.policy_family_id)

    def init_scripts() -> None:
        got = list(w.global_init_scripts.list())
        expect(
            "global_init_scripts.list names",
            sorted(s["name"] for s in fx.list("global_init_scripts")),
            sorted(s.name for s in got),
        )
        for s in fx.list("global_init_scripts"):
            one = w.global_init_scripts.get(s["script_id"])
            what = f"global_init_scripts.get({s['script_id']})"
            expect(f"{what}.name", s["name"], one.name)
            expect(f"{what}.enabled", s.get("enabled"), one.enabled)
            expect(f"{what}.position", s.get("position"), one.position)
            expect(f"{what}.script (decoded)", base64.b64decode(s["script"]), base64.b64decode(one.script or ""))

    def init_scripts_list_has_no_body() -> None:
        raw = w.api_client.do("GET", "/api/2.0/global-init-scripts")
        bodies = [s.get("name") for s in raw.get("scripts") or [] if "script" in s]
        expect("GET /api/2.0/global-init-scripts entries carrying `script`", [], bodies)

    r.check("clusters list/get", clusters)
    r.check("clusters get missing → NotFound", clusters_missing)
    r.check("cluster libraries", libraries)
    r.check("instance pools list/get", pools)
    r.check("cluster policies list/get", policies)
    r.check("global init scripts list/get", init_scripts)
    r.check("global init scripts list omits script", init_scripts_list_has_no_body)

    # ---- workspace ----
    def ws_tree() -> None:
        want = {o["path"]: o for o in fx.list("workspace_objects")}
        implied = {"/".join(p.split("/")[:i]) for p in want for i in range(2, p.count("/") + 1)}
        listed: dict[str, Any] = {}
        queue = ["/"]
        while queue:
            path = queue.pop(0)
            for o in w.workspace.list(path):
                listed[o.path] = o
                if o.object_type == workspace.ObjectType.DIRECTORY:
                    queue.append(o.path)
        missing = sorted(set(want) - set(listed))
        extra = sorted(set(listed) - set(want) - implied)
        expect("workspace.list tree: fixture paths not listed", [], missing)
        expect("workspace.list tree: listed paths not in the fixture", [], extra)
        for path, o in want.items():
            got = listed[path]
            expect(f"workspace.list {path} object_type", o["object_type"], enum_value(got.object_type))
            expect(f"workspace.list {path} object_id", o.get("object_id"), got.object_id)
            if o.get("language"):
                expect(f"workspace.list {path} language", o["language"], enum_value(got.language))
        recursive = {o.path for o in w.workspace.list("/", recursive=True)}
        want_rec = {p for p, o in want.items() if o["object_type"] != "DIRECTORY"}
        expect("workspace.list('/', recursive=True) non-directory paths", sorted(want_rec), sorted(recursive))

    def ws_get_status() -> None:
        for o in fx.list("workspace_objects"):
            got = w.workspace.get_status(o["path"])
            expect(f"workspace.get_status({o['path']}).object_type", o["object_type"], enum_value(got.object_type))
            expect(f"workspace.get_status({o['path']}).object_id", o.get("object_id"), got.object_id)
            if "modified_at" in o:
                expect(f"workspace.get_status({o['path']}).modified_at", o["modified_at"], got.modified_at)

    def ws_export() -> None:
        n = 0
        for o in fx.list("workspace_objects"):
            if o["object_type"] not in ("NOTEBOOK", "FILE") or "content" not in o:
                continue
            got = w.workspace.export(o["path"], format=workspace.ExportFormat.SOURCE)
            expect(
                f"workspace.export({o['path']}, SOURCE) content (decoded)",
                base64.b64decode(o["content"]),
                base64.b64decode(got.content or ""),
            )
            n += 1
        expect_true("fixture has exportable notebooks or files", n > 0 or not fx.list("workspace_objects"))

    def ws_missing() -> None:
        try:
            w.workspace.get_status("/does/not/exist")
        except NotFound:
            return
        raise Mismatch(
            "workspace.get_status of a missing path: expected NotFound (404 RESOURCE_DOES_NOT_EXIST), got an object"
        )

    def repos() -> None:
        got = list(w.repos.list())
        expect("repos.list paths", sorted(x["path"] for x in fx.list("repos")), sorted(x.path for x in got))
        for x in fx.list("repos"):
            one = w.repos.get(x["id"])
            expect(f"repos.get({x['id']}).path", x["path"], one.path)
            expect(f"repos.get({x['id']}).url", x.get("url"), one.url)
            expect(f"repos.get({x['id']}).branch", x.get("branch"), one.branch)
            expect(f"repos.get({x['id']}).provider", x.get("provider"), one.provider)

    r.check("workspace list tree", ws_tree)
    r.check("workspace get-status", ws_get_status)
    r.check("workspace export", ws_export)
    r.check("workspace get-status missing → NotFound", ws_missing)
    r.check("repos list/get", repos)

    # ---- secrets ----
    def secrets() -> None:
        got = list(w.secrets.list_scopes())
        expect(
            "secrets.list_scopes names",
            sorted(s["name"] for s in fx.list("secret_scopes")),
            sorted(s.name for s in got),
        )
        for s in fx.list("secret_scopes"):
            keys = sorted(k.key for k in w.secrets.list_secrets(s["name"]))
            expect(f"secrets.list_secrets({s['name']}) keys", sorted(k["key"] for k in s.get("secrets") or []), keys)
            acls = sorted((a.principal, enum_value(a.permission)) for a in w.secrets.list_acls(s["name"]))
            expect(
                f"secrets.list_acls({s['name']})",
                sorted((a["principal"], a["permission"]) for a in s.get("acls") or []),
                acls,
            )
            for a in (s.get("acls") or [])[:1]:
                one = w.secrets.get_acl(s["name"], a["principal"])
                expect(
                    f"secrets.get_acl({s['name']}, {a['principal']}).permission",
                    a["permission"],
                    enum_value(one.permission),
                )

    def secrets_list_has_no_values() -> None:
        for s in fx.list("secret_scopes"):
            raw = w.api_client.do("GET", "/api/2.0/secrets/list", query={"scope": s["name"]})
            leaked = [x.get("key") for x in raw.get("secrets") or [] if "value" in x]
            expect(f"GET /api/2.0/secrets/list?scope={s['name']} entries carrying `value`", [], leaked)

    r.check("secrets scopes/keys/acls", secrets)
    r.check("secrets list never carries values", secrets_list_has_no_values)

    # ---- permissions ----
    by_type: dict[str, list[dict]] = {}
    for p in fx.list("permissions"):
        by_type.setdefault(p["object_id"].rsplit("/", 1)[0], []).append(p)

    def ids_of(prefix: str) -> list[str]:
        """Ids of the fixture's objects whose permissions live under `prefix`."""
        objects = {
            "/jobs": [str(j["job_id"]) for j in fx.list("jobs")],
            "/clusters": [c["cluster_id"] for c in fx.list("clusters")],
            "/instance-pools": [p["instance_pool_id"] for p in fx.list("instance_pools")],
            "/cluster-policies": [p["policy_id"] for p in fx.list("cluster_policies")],
            "/notebooks": [str(o["object_id"]) for o in fx.list("workspace_objects") if o["object_type"] == "NOTEBOOK"],
            "/directories": [
                str(o["object_id"]) for o in fx.list("workspace_objects") if o["object_type"] == "DIRECTORY"
            ],
            "/repos": [str(x["id"]) for x in fx.list("repos")],
            "/sql/warehouses": [x["id"] for x in fx.list("sql_warehouses")],
        }
        return objects[prefix]

    def permissions_of(prefix: str, request_type: str, label: str, via: Callable[[str], Any] | None = None) -> None:
        entries = by_type.get(prefix) or []
        if not entries:
            # nothing explicit in the fixture: the first object of the type has the default ACL
            entries = [{"object_id": f"{prefix}/{i}"} for i in ids_of(prefix)[:1]]
        for p in entries:
            oid = p["object_id"].rsplit("/", 1)[1]
            got = w.permissions.get(request_type, oid)
            what = f"permissions.get({request_type}, {oid})"
            expect(f"{what}.object_id", p["object_id"], got.object_id)
            if "object_type" in p:
                expect(f"{what}.object_type", p["object_type"], got.object_type)
            expect(f"{what} ACL (principal, level, inherited)", fx.acl_of(p["object_id"]), acl_set_sdk(got))
            if via is not None:
                expect(f"{label}.get_permissions({oid}) ACL", fx.acl_of(p["object_id"]), acl_set_sdk(via(oid)))

    r.check("permissions jobs", lambda: permissions_of("/jobs", "jobs", "jobs", lambda i: w.jobs.get_permissions(i)))
    r.check(
        "permissions clusters",
        lambda: permissions_of("/clusters", "clusters", "clusters", lambda i: w.clusters.get_permissions(i)),
    )
    r.check("permissions instance pools", lambda: permissions_of("/instance-pools", "instance-pools", "instance_pools"))
    r.check(
        "permissions cluster policies",
        lambda: permissions_of("/cluster-policies", "cluster-policies", "cluster_policies"),
    )
    r.check(
        "permissions notebooks",
        lambda: permissions_of(
            "/notebooks", "notebooks", "notebooks", lambda i: w.workspace.get_permissions("notebooks", i)
        ),
    )
    r.check("permissions directories", lambda: permissions_of("/directories", "directories", "directories"))
    r.check(
        "permissions repos", lambda: permissions_of("/repos", "repos", "repos", lambda i: w.repos.get_permissions(i))
    )
    r.check(
        "permissions warehouses",
        lambda: permissions_of(
            "/sql/warehouses", "warehouses", "warehouses", lambda i: w.warehouses.get_permissions(i)
        ),
    )

    def permissions_default() -> None:
        # an object without an entry in the fixture gets admins CAN_MANAGE, inherited
        listed = {p["object_id"] for p in fx.list("permissions")}
        for o in fx.list("workspace_objects"):
            if o["object_type"] == "NOTEBOOK" and f"/notebooks/{o['object_id']}" not in listed:
                got = w.permissions.get("notebooks", str(o["object_id"]))
                expect(
                    f"permissions.get(notebooks, {o['object_id']}) default ACL",
                    {("group", "admins", "CAN_MANAGE", True)},
                    acl_set_sdk(got),
                )
                return

    r.check("permissions default ACL", permissions_default)

    # ---- Unity Catalog ----
    def catalogs() -> None:
        got = list(w.catalogs.list())
        expect("catalogs.list names", sorted(c["name"] for c in fx.list("catalogs")), sorted(c.name for c in got))
        for c in fx.list("catalogs"):
            one = w.catalogs.get(c["name"])
            expect(f"catalogs.get({c['name']}).storage_root", c.get("storage_root"), one.storage_root)
            expect(f"catalogs.get({c['name']}).owner", c.get("owner"), one.owner)

    def schemas() -> None:
        for c in fx.list("catalogs"):
            want = sorted(s["full_name"] for s in fx.list("schemas") if s["catalog_name"] == c["name"])
            expect(
                f"schemas.list({c['name']}) full names", want, sorted(s.full_name for s in w.schemas.list(c["name"]))
            )
        for s in fx.list("schemas"):
            one = w.schemas.get(s["full_name"])
            expect(f"schemas.get({s['full_name']}).owner", s.get("owner"), one.owner)

    def tables() -> None:
        for s in fx.list("schemas"):
            want = sorted(
                t["full_name"]
                for t in fx.list("tables")
                if t["catalog_name"] == s["catalog_name"] and t["schema_name"] == s["name"]
            )
            got = list(w.tables.list(s["catalog_name"], s["name"]))
            expect(f"tables.list({s['catalog_name']}, {s['name']}) full names", want, sorted(t.full_name for t in got))
        for t in fx.list("tables"):
            one = w.tables.get(t["full_name"])
            what = f"tables.get({t['full_name']})"
            expect(f"{what}.table_type", t.get("table_type"), enum_value(one.table_type))
            expect(f"{what}.data_source_format", t.get("data_source_format"), enum_value(one.data_source_format))
            expect(f"{what}.storage_location", t.get("storage_location"), one.storage_location)
            expect(
                f"{what} columns",
                [(c["name"], c["type_text"], c["position"]) for c in t.get("columns") or []],
                [(c.name, c.type_text, c.position) for c in one.columns or []],
            )

    def grants() -> None:
        want = {(g["securable_type"].lower(), g["full_name"]): g for g in fx.list("grants")}
        securables = [("catalog", c["name"]) for c in fx.list("catalogs")]
        securables += [("schema", s["full_name"]) for s in fx.list("schemas")]
        securables += [("table", t["full_name"]) for t in fx.list("tables")]
        for st, name in securables:
            got = w.grants.get(st, name)
            g = want.get((st, name))
            exp = sorted(
                (a["principal"], tuple(sorted(a["privileges"]))) for a in (g or {}).get("privilege_assignments") or []
            )
            have = sorted(
                (a.principal, tuple(sorted(enum_value(p) for p in a.privileges or [])))
                for a in got.privilege_assignments or []
            )
            expect(f"grants.get({st}, {name}) assignments", exp, have)
        for st, name in securables[:1]:
            upper = w.grants.get(st.upper(), name)
            expect(
                f"grants.get({st.upper()}, {name}) is case-insensitive",
                bool((want.get((st, name)) or {}).get("privilege_assignments")),
                bool(upper.privilege_assignments),
            )

    r.check("catalogs list/get", catalogs)
    r.check("schemas list/get", schemas)
    r.check("tables list/get", tables)
    r.check("grants get", grants)

    # ---- SQL warehouses, IP access lists, workspace-conf ----
    def warehouses() -> None:
        got = list(w.warehouses.list())
        expect(
            "warehouses.list names", sorted(x["name"] for x in fx.list("sql_warehouses")), sorted(x.name for x in got)
        )
        for x in fx.list("sql_warehouses"):
            one = w.warehouses.get(x["id"])
            what = f"warehouses.get({x['id']})"
            expect(f"{what}.name", x["name"], one.name)
            expect(f"{what}.state", x.get("state"), enum_value(one.state))
            expect(f"{what}.cluster_size", x.get("cluster_size"), one.cluster_size)
            expect(f"{what}.auto_stop_mins", x.get("auto_stop_mins"), one.auto_stop_mins)

    def ip_lists() -> None:
        got = list(w.ip_access_lists.list())
        expect(
            "ip_access_lists.list labels",
            sorted(x["label"] for x in fx.list("ip_access_lists")),
            sorted(x.label for x in got),
        )
        for x in fx.list("ip_access_lists"):
            one = w.ip_access_lists.get(x["list_id"]).ip_access_list
            what = f"ip_access_lists.get({x['list_id']})"
            expect(f"{what}.label", x["label"], one.label)
            expect(f"{what}.list_type", x["list_type"], enum_value(one.list_type))
            expect(f"{what}.ip_addresses", sorted(x["ip_addresses"]), sorted(one.ip_addresses or []))
            expect(f"{what}.enabled", x.get("enabled"), one.enabled)

    def workspace_conf() -> None:
        conf = fx.raw.get("workspace_conf") or {}
        if not conf:
            return
        got = w.workspace_conf.get_status(",".join(sorted(conf)))
        expect("workspace_conf.get_status(all fixture keys)", conf, got)

    def workspace_conf_unknown_key() -> None:
        try:
            w.workspace_conf.get_status("enableIpAccessLists,noSuchSettingForConformance")
        except Exception as e:  # the API answers 400 `Invalid keys: [...]`
            expect_true(
                "workspace_conf unknown key error names the key", "noSuchSettingForConformance" in str(e), str(e)
            )
            return
        raise Mismatch(
            'workspace_conf.get_status with an unknown key: expected 400 `Invalid keys: ["noSuchSettingForConformance"]`, got success'
        )

    r.check("sql warehouses list/get", warehouses)
    r.check("ip access lists list/get", ip_lists)
    r.check("workspace-conf get", workspace_conf)
    r.check("workspace-conf unknown key → 400", workspace_conf_unknown_key)


# ---------------------------------------------------------------------------------------------
# Writes


def check_writes(r: Runner, w: WorkspaceClient, fx: Fixture) -> None:
    notebooks = [o["path"] for o in fx.list("workspace_objects") if o["object_type"] == "NOTEBOOK"]
    all_purpose = [c for c in fx.list("clusters") if c.get("cluster_source") != "JOB"]
    running = [c for c in all_purpose if c.get("state") == "RUNNING"] or all_purpose
    state: dict[str, Any] = {}

    def task() -> jobs.Task:
        t = jobs.Task(
            task_key="main",
            notebook_task=jobs.NotebookTask(notebook_path=notebooks[0] if notebooks else "/conformance"),
        )
        if running:
            t.existing_cluster_id = running[0]["cluster_id"]
        return t

    def job_create() -> None:
        before = len(list(w.jobs.list()))
        created = w.jobs.create(
            name="conformance-job",
            tasks=[task()],
            max_concurrent_runs=1,
            schedule=jobs.CronSchedule(
                quartz_cron_expression="0 0 1 * * ?", timezone_id="UTC", pause_status=jobs.PauseStatus.PAUSED
            ),
            tags={"origin": "conformance"},
        )
        expect_true("jobs.create returns a job_id", bool(created.job_id), created.as_dict())
        state["job_id"] = created.job_id
        got = w.jobs.get(created.job_id)
        expect("jobs.get(new).settings.name", "conformance-job", got.settings.name)
        expect("jobs.get(new).settings.max_concurrent_runs", 1, got.settings.max_concurrent_runs)
        expect("jobs.get(new).settings.schedule.pause_status", "PAUSED", enum_value(got.settings.schedule.pause_status))
        expect("jobs.get(new) task keys", ["main"], [t.task_key for t in got.settings.tasks or []])
        expect("jobs.list() count after create", before + 1, len(list(w.jobs.list())))

    def job_reset() -> None:
        job_id = state["job_id"]
        w.jobs.reset(job_id, jobs.JobSettings(name="conformance-job-reset", tasks=[task()], max_concurrent_runs=2))
        got = w.jobs.get(job_id)
        expect("jobs.get(after reset).settings.name", "conformance-job-reset", got.settings.name)
        expect("jobs.get(after reset).settings.max_concurrent_runs", 2, got.settings.max_concurrent_runs)
        expect("jobs.get(after reset).settings.schedule (reset replaces all settings)", None, got.settings.schedule)
        expect("jobs.get(after reset).settings.tags (reset replaces all settings)", None, got.settings.tags or None)

    def job_update() -> None:
        job_id = state["job_id"]
        w.jobs.update(job_id, new_settings=jobs.JobSettings(max_concurrent_runs=3))
        got = w.jobs.get(job_id)
        expect("jobs.get(after update).settings.max_concurrent_runs", 3, got.settings.max_concurrent_runs)
        expect("jobs.get(after update).settings.name (kept)", "conformance-job-reset", got.settings.name)

    def job_run_now() -> None:
        job_id = state["job_id"]
        waiter = w.jobs.run_now(job_id)
        run_id = waiter.run_id
        expect_true("jobs.run_now returns a run_id", bool(run_id))
        run = w.jobs.get_run(run_id)
        expect("jobs.get_run(new).job_id", job_id, run.job_id)
        life = enum_value(run.state.life_cycle_state) if run.state else None
        expect_true(
            "jobs.get_run(new).state.life_cycle_state is a documented value",
            life
            in {
                "QUEUED",
                "PENDING",
                "RUNNING",
                "TERMINATING",
                "TERMINATED",
                "SKIPPED",
                "INTERNAL_ERROR",
                "BLOCKED",
                "WAITING_FOR_RETRY",
            },
            life,
        )
        listed = [x.run_id for x in w.jobs.list_runs(job_id=job_id)]
        expect("jobs.list_runs(job_id=new) run ids", [run_id], listed)
        w.jobs.cancel_run(run_id)
        after = w.jobs.get_run(run_id)
        life = enum_value(after.state.life_cycle_state) if after.state else None
        expect_true(
            "jobs.get_run(after cancel) is terminating or terminated",
            life in {"TERMINATING", "TERMINATED", "SKIPPED", "INTERNAL_ERROR"},
            life,
        )

    def job_delete() -> None:
        job_id = state["job_id"]
        w.jobs.delete(job_id)
        try:
            w.jobs.get(job_id)
        except NotFound:
            return
        raise Mismatch(f"jobs.get({job_id}) after delete: expected NotFound, got the job")

    def cluster_create() -> None:
        waiter = w.clusters.create(
            spark_version="15.4.x-scala2.12",
            cluster_name="conformance-cluster",
            node_type_id="m5d.large",
            num_workers=1,
            autotermination_minutes=30,
            custom_tags={"origin": "conformance"},
        )
        cid = waiter.cluster_id
        expect_true("clusters.create returns a cluster_id", bool(cid))
        state["cluster_id"] = cid
        got = w.clusters.get(cid)
        expect("clusters.get(new).cluster_name", "conformance-cluster", got.cluster_name)
        expect_true(
            "clusters.get(new).state is PENDING or RUNNING",
            enum_value(got.state) in {"PENDING", "RUNNING"},
            enum_value(got.state),
        )
        expect("clusters.get(new).num_workers", 1, got.num_workers)
        expect_true("clusters.list contains the new cluster", cid in {c.cluster_id for c in w.clusters.list()})

    def secret_scope() -> None:
        w.secrets.create_scope("conformance-scope", initial_manage_principal="users")
        w.secrets.put_secret("conformance-scope", "conformance-key", string_value="not-a-real-secret")
        expect_true(
            "secrets.list_scopes contains the new scope",
            "conformance-scope" in {s.name for s in w.secrets.list_scopes()},
        )
        expect(
            "secrets.list_secrets(new scope) keys",
            ["conformance-key"],
            [k.key for k in w.secrets.list_secrets("conformance-scope")],
        )
        raw = w.api_client.do("GET", "/api/2.0/secrets/list", query={"scope": "conformance-scope"})
        expect_true(
            "secrets/list never returns the value put",
            "not-a-real-secret" not in json.dumps(raw) and "bm90LWEtcmVhbC1zZWNyZXQ" not in json.dumps(raw),
            raw,
        )
        try:
            w.secrets.create_scope("conformance-scope")
        except ResourceAlreadyExists:
            pass
        else:
            raise Mismatch("secrets.create_scope of an existing scope: expected RESOURCE_ALREADY_EXISTS, got success")
        w.secrets.put_acl("conformance-scope", "users", workspace.AclPermission.READ)
        acl = w.secrets.get_acl("conformance-scope", "users")
        expect("secrets.get_acl(new scope, users).permission", "READ", enum_value(acl.permission))

    def group_patch() -> None:
        groups = [g for g in fx.list("groups") if g["displayName"] not in ("admins", "users")]
        if not groups or not fx.list("users"):
            return
        group = groups[0]
        members = {m["value"] for m in group.get("members") or []}
        outsider = next((u for u in fx.list("users") if u["id"] not in members), None)
        if outsider is None:
            return
        w.groups.patch(
            group["id"],
            operations=[iam.Patch(op=iam.PatchOp.ADD, path="members", value=[{"value": outsider["id"]}])],
            schemas=[iam.PatchSchema.URN_IETF_PARAMS_SCIM_API_MESSAGES_2_0_PATCH_OP],
        )
        got = {m.value for m in w.groups.get(group["id"]).members or []}
        expect(f"groups.get({group['id']}) members after PATCH add", members | {outsider["id"]}, got)
        w.groups.patch(
            group["id"],
            operations=[iam.Patch(op=iam.PatchOp.REMOVE, path=f'members[value eq "{outsider["id"]}"]')],
            schemas=[iam.PatchSchema.URN_IETF_PARAMS_SCIM_API_MESSAGES_2_0_PATCH_OP],
        )
        got = {m.value for m in w.groups.get(group["id"]).members or []}
        expect(f"groups.get({group['id']}) members after PATCH remove", members, got)

    def ip_list() -> None:
        created = w.ip_access_lists.create(
            label="conformance-list", list_type=settings.ListType.ALLOW, ip_addresses=["192.0.2.0/24"]
        )
        info = created.ip_access_list
        expect_true(
            "ip_access_lists.create returns ip_access_list.list_id",
            info is not None and bool(info.list_id),
            created.as_dict(),
        )
        got = w.ip_access_lists.get(info.list_id).ip_access_list
        expect("ip_access_lists.get(new).label", "conformance-list", got.label)
        expect("ip_access_lists.get(new).ip_addresses", ["192.0.2.0/24"], got.ip_addresses)
        expect("ip_access_lists.list count", len(fx.list("ip_access_lists")) + 1, len(list(w.ip_access_lists.list())))
        w.ip_access_lists.update(info.list_id, enabled=False)
        expect(
            "ip_access_lists.get(after update).enabled",
            False,
            w.ip_access_lists.get(info.list_id).ip_access_list.enabled,
        )
        w.ip_access_lists.delete(info.list_id)
        expect(
            "ip_access_lists.list count after delete",
            len(fx.list("ip_access_lists")),
            len(list(w.ip_access_lists.list())),
        )

    def job_many_tasks() -> None:
        # jobs 2.2 pages tasks 100 at a time inside one job; the SDK's jobs.get follows page_token
        n = 120
        keys = [f"t{i:03}" for i in range(n)]
        tasks = []
        for k in keys:
            t = task()
            t.task_key = k
            tasks.append(t)
        created = w.jobs.create(name="conformance-many-tasks", tasks=tasks, max_concurrent_runs=0)
        got = w.jobs.get(created.job_id)
        expect(
            f"jobs.get(job with {n} tasks) task keys (paged by 100)",
            keys,
            sorted(t.task_key for t in got.settings.tasks or []),
        )
        listed = next((j for j in w.jobs.list(expand_tasks=True) if j.job_id == created.job_id), None)
        expect_true("jobs.list(expand_tasks=true) lists the job with many tasks", listed is not None)
        expect(f"jobs.list(expand_tasks=true) job with {n} tasks: task count", n, len(listed.settings.tasks or []))
        w.jobs.delete(created.job_id)

    def job_permissions_update() -> None:
        job = next(iter(fx.list("jobs")), None)
        groups = [g["displayName"] for g in fx.list("groups") if g["displayName"] != "admins"]
        if job is None or not groups:
            return
        oid = str(job["job_id"])
        before = fx.acl_of(f"/jobs/{oid}")
        w.permissions.update(
            "jobs",
            oid,
            access_control_list=[
                iam.AccessControlRequest(group_name=groups[-1], permission_level=iam.PermissionLevel.CAN_VIEW)
            ],
        )
        got = acl_set_sdk(w.permissions.get("jobs", oid))
        expect(
            f"permissions.get(jobs, {oid}) after PATCH adding {groups[-1]} CAN_VIEW",
            before | {("group", groups[-1], "CAN_VIEW", False)},
            got,
        )
        direct = [iam.AccessControlRequest(group_name=groups[-1], permission_level=iam.PermissionLevel.CAN_MANAGE_RUN)]
        owner = next((e for e in before if e[3] is False and e[2] == "IS_OWNER"), None)
        if owner is not None:
            kw = {"user": "user_name", "group": "group_name", "service_principal": "service_principal_name"}[owner[0]]
            direct.append(iam.AccessControlRequest(permission_level=iam.PermissionLevel.IS_OWNER, **{kw: owner[1]}))
        w.permissions.set("jobs", oid, access_control_list=direct)
        got = acl_set_sdk(w.permissions.get("jobs", oid))
        want = (
            {e for e in before if e[3]}
            | {("group", groups[-1], "CAN_MANAGE_RUN", False)}
            | ({owner} if owner else set())
        )
        expect(f"permissions.get(jobs, {oid}) after PUT (replaces all direct entries)", want, got)

    def workspace_writes() -> None:
        w.workspace.mkdirs("/Shared/conformance/nested")
        expect(
            "workspace.get_status(mkdirs result).object_type",
            "DIRECTORY",
            enum_value(w.workspace.get_status("/Shared/conformance/nested").object_type),
        )
        source = "# Databricks notebook source\nprint('conformance')\n"
        w.workspace.import_(
            "/Shared/conformance/nested/nb",
            content=base64.b64encode(source.encode()).decode(),
            format=workspace.ImportFormat.SOURCE,
            language=workspace.Language.PYTHON,
            overwrite=False,
        )
        st = w.workspace.get_status("/Shared/conformance/nested/nb")
        expect("workspace.get_status(imported).object_type", "NOTEBOOK", enum_value(st.object_type))
        expect("workspace.get_status(imported).language", "PYTHON", enum_value(st.language))
        got = w.workspace.export("/Shared/conformance/nested/nb", format=workspace.ExportFormat.SOURCE)
        expect("workspace.export(imported) content (decoded)", source.encode(), base64.b64decode(got.content or ""))
        try:
            w.workspace.import_(
                "/Shared/conformance/nested/nb",
                content=got.content,
                format=workspace.ImportFormat.SOURCE,
                language=workspace.Language.PYTHON,
            )
        except ResourceAlreadyExists:
            pass
        else:
            raise Mismatch(
                "workspace.import_ over an existing notebook without overwrite: expected RESOURCE_ALREADY_EXISTS, got success"
            )
        expect(
            "workspace.list(/Shared/conformance/nested) paths",
            ["/Shared/conformance/nested/nb"],
            [o.path for o in w.workspace.list("/Shared/conformance/nested")],
        )
        w.workspace.delete("/Shared/conformance", recursive=True)
        try:
            w.workspace.get_status("/Shared/conformance/nested/nb")
        except NotFound:
            return
        raise Mismatch(
            "workspace.get_status after a recursive delete of its folder: expected NotFound, got the notebook"
        )

    def cluster_lifecycle() -> None:
        cid = state.get("cluster_id")
        if not cid:
            return
        w.clusters.delete(cid)  # terminate: the cluster stays listed
        st = enum_value(w.clusters.get(cid).state)
        expect_true(
            "clusters.get(after delete).state is TERMINATING or TERMINATED", st in {"TERMINATING", "TERMINATED"}, st
        )
        expect_true(
            "clusters.list still contains the terminated cluster", cid in {c.cluster_id for c in w.clusters.list()}
        )
        w.clusters.permanent_delete(cid)
        try:
            w.clusters.get(cid)
        except NotFound:
            return
        raise Mismatch(f"clusters.get({cid}) after permanent_delete: expected NotFound, got the cluster")

    def pool_writes() -> None:
        created = w.instance_pools.create(
            instance_pool_name="conformance-pool", node_type_id="m5d.large", min_idle_instances=0, max_capacity=4
        )
        pid = created.instance_pool_id
        expect_true("instance_pools.create returns instance_pool_id", bool(pid))
        w.instance_pools.edit(pid, "conformance-pool", "m5d.large", min_idle_instances=1, max_capacity=6)
        got = w.instance_pools.get(pid)
        expect("instance_pools.get(after edit).min_idle_instances", 1, got.min_idle_instances)
        expect("instance_pools.get(after edit).max_capacity", 6, got.max_capacity)
        w.instance_pools.delete(pid)
        names = {p.instance_pool_name for p in w.instance_pools.list() if enum_value(p.state) != "DELETED"}
        expect_true(
            "instance_pools.list after delete has no active conformance-pool",
            "conformance-pool" not in names,
            sorted(names),
        )

    def policy_writes() -> None:
        definition = {"num_workers": {"type": "range", "maxValue": 4}}
        created = w.cluster_policies.create(name="conformance-policy", definition=json.dumps(definition))
        qid = created.policy_id
        expect_true("cluster_policies.create returns policy_id", bool(qid))
        definition["autotermination_minutes"] = {"type": "fixed", "value": 30}
        w.cluster_policies.edit(qid, name="conformance-policy", definition=json.dumps(definition))
        expect(
            "cluster_policies.get(after edit).definition (parsed)",
            definition,
            json.loads(w.cluster_policies.get(qid).definition or "null"),
        )
        w.cluster_policies.delete(qid)
        expect_true(
            "cluster_policies.list after delete",
            "conformance-policy" not in {p.name for p in w.cluster_policies.list()},
        )

    def warehouse_writes() -> None:
        waiter = w.warehouses.create(
            name="conformance-warehouse",
            cluster_size="2X-Small",
            min_num_clusters=1,
            max_num_clusters=1,
            auto_stop_mins=10,
        )
        wid = waiter.id
        expect_true("warehouses.create returns id", bool(wid))
        got = w.warehouses.get(wid)
        expect_true(
            "warehouses.get(new).state is STARTING or RUNNING",
            enum_value(got.state) in {"STARTING", "RUNNING"},
            enum_value(got.state),
        )
        w.warehouses.edit(
            wid, name="conformance-warehouse", cluster_size="Small", max_num_clusters=2, auto_stop_mins=15
        )
        got = w.warehouses.get(wid)
        expect("warehouses.get(after edit).cluster_size", "Small", got.cluster_size)
        expect("warehouses.get(after edit).max_num_clusters", 2, got.max_num_clusters)
        w.warehouses.stop(wid)
        st = enum_value(w.warehouses.get(wid).state)
        expect_true("warehouses.get(after stop).state is STOPPING or STOPPED", st in {"STOPPING", "STOPPED"}, st)

    def user_writes() -> None:
        created = w.users.create(user_name="conformance.user@example.com", display_name="Conformance User", active=True)
        expect_true("users.create returns an id", bool(created.id))
        expect("users.get(new).userName", "conformance.user@example.com", w.users.get(created.id).user_name)
        try:
            w.users.create(user_name="conformance.user@example.com")
        except ResourceAlreadyExists:
            pass
        except Exception as e:  # SCIM answers 409 with a SCIM error body
            expect_true(
                "users.create of an existing userName fails with 409",
                "409" in str(e) or "exists" in str(e).lower(),
                f"{type(e).__name__}: {e}",
            )
        else:
            raise Mismatch("users.create of an existing userName: expected 409 conflict, got success")
        w.users.delete(created.id)
        expect_true(
            "users.list after delete", "conformance.user@example.com" not in {u.user_name for u in w.users.list()}
        )

    def wrong_token() -> None:
        bad = WorkspaceClient(host=os.environ["MOCK_URL"].rstrip("/"), token="not-the-token")
        try:
            list(bad.users.list())
        except Unauthenticated:
            return
        except Exception as e:
            raise Mismatch(
                f"users.list with a wrong token: expected 401 (Unauthenticated), got {type(e).__name__}: {e}"
            )
        raise Mismatch("users.list with a wrong token: expected 401 (Unauthenticated), got success")

    r.check("write: job create", job_create)
    if "job_id" in state:
        r.check("write: job reset", job_reset)
        r.check("write: job update", job_update)
        r.check("write: job run-now/get-run/cancel", job_run_now)
        r.check("write: job delete", job_delete)
    r.check("write: job with 120 tasks (2.2 paging)", job_many_tasks)
    r.check("write: job permissions update/set", job_permissions_update)
    r.check("write: cluster create", cluster_create)
    r.check("write: cluster delete/permanent-delete", cluster_lifecycle)
    r.check("write: instance pool create/edit/delete", pool_writes)
    r.check("write: cluster policy create/edit/delete", policy_writes)
    r.check("write: sql warehouse create/edit/stop", warehouse_writes)
    r.check("write: workspace mkdirs/import/export/delete", workspace_writes)
    r.check("write: secret scope create/put/acl", secret_scope)
    r.check("write: group patch add/remove member", group_patch)
    r.check("write: user create/delete", user_writes)
    r.check("write: ip access list create/update/delete", ip_list)
    r.check("wrong token → 401", wrong_token)


def main() -> int:
    missing = [n for n in ("MOCK_URL", "MOCK_TOKEN", "FIXTURE") if not os.environ.get(n)]
    if missing:
        print(f"error: set {', '.join(missing)} (see the docstring of {os.path.basename(__file__)})", file=sys.stderr)
        return 2
    fx = Fixture(os.environ["FIXTURE"])
    url = os.environ["MOCK_URL"].rstrip("/")
    # the SDK retries a refused connection for five minutes; say at once that nothing listens
    try:
        urllib.request.urlopen(url + "/.well-known/databricks-config", timeout=5).close()
    except urllib.error.HTTPError:
        pass  # any HTTP answer (404 included) means the mock is up
    except OSError as e:
        print(f"error: no mock answers at `{url}`: {e}", file=sys.stderr)
        return 2
    w = WorkspaceClient(host=url, token=os.environ["MOCK_TOKEN"])
    r = Runner()
    check_reads(r, w, fx)
    check_writes(r, w, fx)
    print(f"{r.passed} passed, {r.failed} failed", flush=True)
    return 1 if r.failed else 0


if __name__ == "__main__":
    sys.exit(main())
