#!/usr/bin/env python3
"""The official Databricks SDK for Python doing the listing that `standby snapshot` does, for
`benches/capture.rs` (part B): list every job, read each job's permissions, walk the workspace tree,
read each notebook's and each folder's permissions.

Only the SDK's public calls are used, as a user would write them:
  - `w.jobs.list(expand_tasks=True, limit=100)` (the SDK pages through `page_token`),
  - `w.workspace.list(path)` folder by folder, breadth first (what `list(path, recursive=True)`
    does inside the SDK, but keeping the folders, whose ACLs are read too),
  - `w.permissions.get(type, id)` per job, notebook and folder.
The SDK's own retries handle 429s (it sleeps `Retry-After` plus up to a second, then retries).

With `--threads 1` every call is made one at a time. With `--threads N` a
`concurrent.futures.ThreadPoolExecutor` of N threads runs the job listing beside the workspace walk
(each level of folders listed in parallel), then all the permission reads.

Usage: sdk_capture.py --url http://127.0.0.1:PORT --token-file FILE [--threads N]
Prints one JSON object on stdout: sdk version, threads, wall and listing seconds, object counts,
errors. Exit 0 when every call succeeded, 1 otherwise, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, List, Tuple

# Only the flags configure the client: a DATABRICKS_* variable or ~/.databrickscfg profile left in
# the environment would add a second auth method or another host.
for _name in [n for n in os.environ if n.startswith("DATABRICKS_")]:
    del os.environ[_name]
os.environ["DATABRICKS_CONFIG_FILE"] = os.devnull

from databricks.sdk import WorkspaceClient  # noqa: E402
from databricks.sdk.service.workspace import ObjectType  # noqa: E402
from databricks.sdk.version import __version__ as sdk_version  # noqa: E402

# (request_object_type, id) of one permissions read.
Target = Tuple[str, str]


class Result:
    def __init__(self) -> None:
        self.jobs: List[str] = []
        self.notebooks: List[str] = []
        self.directories: List[str] = []
        self.acls = 0
        self.errors = 0
        self.first_error = ""
        self.list_done = 0.0
        self._lock = threading.Lock()

    def failed(self, what: str, err: BaseException) -> None:
        with self._lock:
            self.errors += 1
            if not self.first_error:
                self.first_error = f"{what}: {type(err).__name__}: {err}"[:400]

    def targets(self) -> List[Target]:
        return (
            [("jobs", j) for j in self.jobs]
            + [("notebooks", n) for n in self.notebooks]
            + [("directories", d) for d in self.directories]
        )


def list_jobs(w: WorkspaceClient) -> List[str]:
    return [str(j.job_id) for j in w.jobs.list(expand_tasks=True, limit=100)]


def list_folder(w: WorkspaceClient, path: str) -> list:
    return list(w.workspace.list(path))


def admit(result: Result, objects: list, queue: List[str]) -> None:
    """Records a folder's children and queues its sub-folders."""
    for o in objects:
        if o.object_type == ObjectType.DIRECTORY:
            result.directories.append(str(o.object_id))
            queue.append(o.path)
        elif o.object_type == ObjectType.NOTEBOOK:
            result.notebooks.append(str(o.object_id))


def read_acl(w: WorkspaceClient, target: Target) -> bool:
    acl = w.permissions.get(target[0], target[1])
    return acl is not None


def guarded(result: Result, what: str, fn: Callable, *args):
    try:
        return fn(*args)
    except Exception as err:  # one failed call is counted, the run goes on
        result.failed(what, err)
        return None


def serial(w: WorkspaceClient, result: Result) -> None:
    result.jobs = guarded(result, "jobs list", list_jobs, w) or []
    queue = ["/"]
    while queue:
        path, queue = queue[0], queue[1:]
        admit(result, guarded(result, f"list {path}", list_folder, w, path) or [], queue)
    result.list_done = time.monotonic()
    for target in result.targets():
        if guarded(result, f"permissions {target}", read_acl, w, target):
            result.acls += 1


def threaded(w: WorkspaceClient, result: Result, threads: int) -> None:
    with ThreadPoolExecutor(max_workers=threads) as pool:
        jobs = pool.submit(guarded, result, "jobs list", list_jobs, w)
        level = ["/"]
        while level:
            listed = pool.map(lambda p: guarded(result, f"list {p}", list_folder, w, p) or [], level)
            next_level: List[str] = []
            for objects in listed:
                admit(result, objects, next_level)
            level = next_level
        result.jobs = jobs.result() or []
        result.list_done = time.monotonic()
        for ok in pool.map(lambda t: guarded(result, f"permissions {t}", read_acl, w, t), result.targets()):
            if ok:
                result.acls += 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--token-file", required=True)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    if args.threads < 1:
        parser.error("--threads must be at least 1")
    with open(args.token_file, encoding="utf-8") as f:
        token = f.read().strip()
    w = WorkspaceClient(host=args.url.rstrip("/"), token=token)
    result = Result()
    start = time.monotonic()
    result.list_done = start
    if args.threads == 1:
        serial(w, result)
    else:
        threaded(w, result, args.threads)
    end = time.monotonic()
    print(
        json.dumps(
            {
                "sdk_version": sdk_version,
                "threads": args.threads,
                "wall_s": end - start,
                "listing_s": result.list_done - start,
                "jobs": len(result.jobs),
                "notebooks": len(result.notebooks),
                "directories": len(result.directories),
                "acls": result.acls,
                "errors": result.errors,
                "first_error": result.first_error,
            }
        ),
        flush=True,
    )
    return 0 if result.errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
