"""Scale figures per store (issue 15): publish, switch, size and latency, embedded vs each store.

    python -m bench.stores PROJECT [PROJECT ...] [--store virtuoso] [--requests 200]

PROJECT is a folder with ``kommunen-kg.toml`` and ``graphs/`` holding a built release (for
instance one of ``python -m bench run --keep DIR``). Its ``kommunen-kg.toml`` and current
release are copied to ``WORK/<version>/`` first (``--work``, default /tmp/stores-bench), so
that nothing the servers write lands in the project. For each project, one after the other:

1. **Embedded**: ``kommunen-kg serve --no-build --graphs GRAPHS --workers 2``, the
   comparison: the release in each worker's memory.
2. **Each store** (``oxigraph-disk``: ``oxigraph serve --location DIR``; ``oxigraph-mem``:
   ``oxigraph serve`` without one; ``virtuoso``: Debian's ``virtuoso-t`` 7.2 with the
   package's configuration, its own database folder and ports), started empty:
   - **publish** (``kommunen_kg.sparql.remote.publish.publish``, in this process): the
     first publish's timings (read, load, verify, switch, tidy, total), then a second publish
     of the same release, which finds it complete and only moves the pointer (its switch is
     the one an operator waits for with every release);
   - **size** after the first publish: the on-disk folder as ``du`` counts it (Oxigraph's
     RocksDB folder; Virtuoso's database files after a ``checkpoint``) and the store
     process's memory (RSS and PSS, from /proc), again after the latency run;
   - **latency** of ``kommunen-kg serve --store QUERY_URL --graphs GRAPHS --no-build
     --workers 2`` over it.

Latency: ONE client, sequential requests on one kept-alive connection, the median and p90 of
a resource page (``/page/talk/...``, HTML), its RDF (``/data/talk/....ttl``, Turtle) and a
small SPARQL query through ``/sparql`` (all properties of one talk, JSON results). Every
measured request is unique, so that no cache answers it: pages, data and queries each walk
through their own ``--requests`` talks (read from the release's N-Triples dump, spread over
all its talks), and each query carries a comment line ``# n`` of its own; a warm-up on
further talks goes first. Every server sees the same requests in the same order. What is
measured is the time a reader waits for one answer when the server is not busy: the cost of
the store hop (the extra HTTP round trip, the store's evaluation, parsing its answer), not
throughput.

Why: ``docs/scaling.md`` (B) offers a shared store for graphs too big for every app server's
memory; these figures tell what that costs per request, how long publishing and switching
take, and how big each store gets, at 1e5 and 1e6 triples.

The latency run of each server is bounded by ``--latency-budget`` seconds (and its warm-up
by a quarter of that); a server too slow to finish is reported with the requests it answered.

Output: every figure as JSON (``--out``), and markdown tables on stdout. Everything listens on
127.0.0.1, every loop is bounded, and every process started is stopped (also on errors and
Ctrl-C). A publish that takes longer than ``--publish-limit`` seconds is stopped by stopping
the store, and reported as such with the progress it had made.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import math
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import requests

from bench.procs import free_port, loadavg, memory, spawn, stop, wait_for
from kommunen_kg.rdf.release import DUMP_STEM, Release, ReleaseFolder
from kommunen_kg.sparql.remote.client import (
    PASSWORD_VARIABLE,
    USER_VARIABLE,
    StoreEndpoints,
)
from kommunen_kg.sparql.remote.publish import publish

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
STORES = ("oxigraph-disk", "oxigraph-mem", "virtuoso")
EMBEDDED = "embedded"
JSON_RESULTS = "application/sparql-results+json"
KINDS = ("page", "data", "query")
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

PACKAGED_INI = Path("/etc/virtuoso-opensource-7/virtuoso.ini")
PACKAGED_DB = "/var/lib/virtuoso-opensource-7/db"
VIRTUOSO_USER = "dba"
VIRTUOSO_PASSWORD = "dba"  # the dba password of a new Virtuoso database (loopback only)


def revision() -> dict:
    """The checkout measured: its commit and the files changed since (the code under test)."""

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30, check=False
        )
        return done.stdout.strip()

    changed = git("status", "--porcelain", "--untracked-files=no", "server")
    return {"commit": git("rev-parse", "HEAD"), "changed": changed.splitlines()}


def say(message: str) -> None:
    print(f"[stores {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _which(name: str) -> str | None:
    """A command from the running interpreter's environment first, then from PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)


def _mib(value: float) -> float:
    return round(value / (1024 * 1024), 1)


def disk_usage(path: Path) -> dict[str, float]:
    """What ``du`` counts (allocated blocks) and the files' apparent size, in MiB."""
    allocated = apparent = 0
    for item in [path, *path.rglob("*")] if path.is_dir() else [path]:
        with contextlib.suppress(OSError):
            info = item.lstat()
            allocated += info.st_blocks * 512
            apparent += info.st_size if item.is_file() else 0
    return {"du_mib": _mib(allocated), "apparent_mib": _mib(apparent)}


# --- the project: a working copy of its current release -----------------------------------------


@dataclass
class Project:
    source: Path
    folder: Path  # the working copy
    config: Path
    graphs: Path
    release: Release

    @property
    def triples(self) -> int:
        return int(self.release.manifest["counts"]["knowledge_graph"])

    @property
    def base(self) -> str:
        return self.release.manifest["base_iri"]


def working_copy(source: Path, work: Path) -> Project:
    """``source``'s configuration and current release, copied to ``work/<version>/`` (once)."""
    release = ReleaseFolder(source / "graphs").current()
    if release is None:
        sys.exit(f"{source}/graphs holds no current release: build it first")
    folder = work / release.version
    graphs = folder / "graphs"
    copied = graphs / "releases" / release.version
    if not (copied / "manifest.json").is_file():
        say(f"copying release {release.version} of {source} to {folder}")
        shutil.rmtree(copied, ignore_errors=True)
        copied.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(release.path, copied)
        for name in ("current", "CHANGELOG.md", "history.jsonl"):
            if (source / "graphs" / name).is_file():
                shutil.copy2(source / "graphs" / name, graphs / name)
    shutil.copy2(source / "kommunen-kg.toml", folder / "kommunen-kg.toml")
    (folder / "logs").mkdir(exist_ok=True)
    copy = ReleaseFolder(graphs).current()
    assert copy is not None and copy.version == release.version
    return Project(source, folder, folder / "kommunen-kg.toml", graphs, copy)


# --- processes ---------------------------------------------------------------------------------


@contextlib.contextmanager
def started(command: list[str], log: Path, cwd: Path | None = None) -> Iterator:
    """A process in a session of its own, stopped (with its children) however the block ends."""
    process = spawn(command, log, cwd=cwd)
    try:
        yield process
    finally:
        stop(process)


def _ok(url: str, **kwargs) -> bool:
    try:
        return requests.get(url, timeout=5, **kwargs).ok
    except requests.RequestException:
        return False


@dataclass
class Store:
    """A running store: how to reach it, its process, where it keeps its files."""

    name: str
    process: object
    query: str
    update: str
    graph_store: str
    location: Path | None
    sql_port: int = 0
    credentials: dict[str, str] = field(default_factory=dict)
    settings: dict = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.process.pid  # type: ignore[attr-defined]

    def size(self) -> dict:
        """Files on disk (after a checkpoint, for Virtuoso) and the process's memory."""
        found: dict = {"memory": memory(self.pid).to_json()}
        if self.name == "virtuoso":
            found["checkpoint_s"] = _checkpoint(self.sql_port)
        if self.location is not None:
            found["disk"] = disk_usage(self.location)
        if self.name == "virtuoso" and self.location is not None:
            files = sorted(self.location.glob("*.db")) + sorted(self.location.glob("*.trx"))
            found["files"] = {f.name: disk_usage(f)["apparent_mib"] for f in files}
            found["database_mib"] = round(sum(disk_usage(f)["du_mib"] for f in files), 1)
        return found


@contextlib.contextmanager
def oxigraph(name: str, folder: Path, log: Path) -> Iterator[Store]:
    """``oxigraph serve``, on disk in ``folder/oxigraph-disk`` or in memory, empty."""
    command = [_which("oxigraph") or "oxigraph", "serve"]
    location = None
    if name == "oxigraph-disk":
        location = folder / "oxigraph-disk"
        shutil.rmtree(location, ignore_errors=True)
        command += ["--location", str(location)]
    port = free_port()
    command += ["--bind", f"127.0.0.1:{port}"]
    root = f"http://127.0.0.1:{port}/"
    with started(command, log) as process:
        wait_for(lambda: _ok(root + "query", params={"query": "ASK {}"}), 120, process, name)
        yield Store(name, process, root + "query", root + "update", root + "store", location)


def virtuoso_ini(folder: Path, sql_port: int, http_port: int, buffers: int | None) -> Path:
    """The package's configuration, with this folder's database and loopback ports (as in
    tests/test_store_virtuoso.py); ``buffers`` sets NumberOfBuffers (8 KiB pages cached) and
    MaxDirtyBuffers (3/4 of it), the settings Virtuoso's documentation sizes by memory."""
    text = PACKAGED_INI.read_text(encoding="utf-8").replace(PACKAGED_DB, str(folder / "db"))
    text = re.sub(
        r"^ServerPort(\s*)=\s*1111\s*$", rf"ServerPort\1= 127.0.0.1:{sql_port}", text, flags=re.M
    )
    text = re.sub(
        r"^ServerPort(\s*)=\s*8890\s*$", rf"ServerPort\1= 127.0.0.1:{http_port}", text, flags=re.M
    )
    if buffers:
        text = re.sub(r"^NumberOfBuffers\s*=.*$", f"NumberOfBuffers = {buffers}", text, flags=re.M)
        dirty = buffers * 3 // 4
        text = re.sub(r"^MaxDirtyBuffers\s*=.*$", f"MaxDirtyBuffers = {dirty}", text, flags=re.M)
    path = folder / "virtuoso.ini"
    path.write_text(text, encoding="utf-8")
    return path


def _ini_value(ini: Path, key: str) -> str | None:
    match = re.search(rf"^{key}\s*=\s*([^\s;]+)", ini.read_text(encoding="utf-8"), re.M)
    return match.group(1) if match else None


def _isql(sql_port: int, statements: str, timeout: float = 900) -> str:
    done = subprocess.run(
        [
            _which("isql-vt") or "isql-vt",
            f"127.0.0.1:{sql_port}",
            VIRTUOSO_USER,
            VIRTUOSO_PASSWORD,
            f"exec={statements}",
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode != 0:
        raise RuntimeError(f"isql-vt failed: {(done.stdout + done.stderr)[-1000:]}")
    return done.stdout


def _checkpoint(sql_port: int) -> float:
    began = time.perf_counter()
    _isql(sql_port, "checkpoint;")
    return round(time.perf_counter() - began, 2)


@contextlib.contextmanager
def virtuoso(folder: Path, log: Path, buffers: int | None) -> Iterator[Store]:
    """Virtuoso 7.2 with a new database in ``folder/virtuoso/db``, empty; dba may update."""
    home = folder / "virtuoso"
    shutil.rmtree(home, ignore_errors=True)
    (home / "db").mkdir(parents=True)
    sql_port, http_port = free_port(), free_port()
    ini = virtuoso_ini(home, sql_port, http_port, buffers)
    command = [_which("virtuoso-t") or "virtuoso-t", "+foreground", "+configfile", str(ini)]
    root = f"http://127.0.0.1:{http_port}/"
    process = spawn(command, log, cwd=home)
    try:
        wait_for(lambda: _ok(root + "sparql", params={"query": "ASK {}"}), 180, process, "virtuoso")
        yield Store(
            "virtuoso",
            process,
            root + "sparql",
            root + "sparql-auth",
            root + "sparql-graph-crud-auth",
            home / "db",
            sql_port=sql_port,
            credentials={USER_VARIABLE: VIRTUOSO_USER, PASSWORD_VARIABLE: VIRTUOSO_PASSWORD},
            settings={
                key: _ini_value(ini, key)
                for key in ("NumberOfBuffers", "MaxDirtyBuffers", "MaxQueryExecutionTime")
            },
        )
    finally:
        # Virtuoso shuts down cleanly on SIGTERM (a checkpoint first); then the usual stop.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=60)
        stop(process)


def start_store(name: str, folder: Path, log: Path, buffers: int | None):
    if name == "virtuoso":
        return virtuoso(folder, log, buffers)
    return oxigraph(name, folder, log)


# --- publishing ----------------------------------------------------------------------------


@contextlib.contextmanager
def credentials(values: dict[str, str]) -> Iterator[None]:
    """The store's credentials in this process's environment (where ``store_auth`` reads
    them) for the block only; no netrc file is read."""
    names = (USER_VARIABLE, PASSWORD_VARIABLE, "NETRC")
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update({**values, "NETRC": "/nonexistent"})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def timed_publish(store: Store, release: Release, limit: float) -> dict:
    """One publish into ``store``: its timings, or the error and how far it came.

    A watchdog stops the store after ``limit`` seconds, which ends the publish with an error
    (its requests fail); the caller then skips the rest of this store."""
    progress: list[tuple[float, str]] = []
    began = time.perf_counter()

    def note(message: str) -> None:
        progress.append((round(time.perf_counter() - began, 1), message))
        say(f"  {store.name}: {message}")

    over = threading.Event()

    def give_up() -> None:
        over.set()
        say(f"  {store.name}: publish still running after {limit:.0f} s, stopping the store")
        stop(store.process)  # type: ignore[arg-type]

    watchdog = threading.Timer(limit, give_up)
    watchdog.daemon = True
    endpoints = StoreEndpoints(store.query, store.update, store.graph_store)
    watchdog.start()
    try:
        with credentials(store.credentials):
            result = publish(release, endpoints, progress=note, timeout=limit, keep_old_for=600)
    except Exception as exc:  # recorded: the benchmark goes on with the next store
        return {
            "error": f"{type(exc).__name__}: {exc}"[:1000],
            "over_limit": over.is_set(),
            "limit_s": limit,
            "after_s": round(time.perf_counter() - began, 1),
            "progress": progress,
        }
    finally:
        watchdog.cancel()
    return {
        "timings_s": {k: round(v, 3) for k, v in result.timings.items()},
        "previous": result.previous,
        "triples": sum(result.counts.values()),
        "progress": progress,
    }


# --- latency -------------------------------------------------------------------------------


@contextlib.contextmanager
def serve(project: Project, log: Path, workers: int, store: str | None = None) -> Iterator[dict]:
    """``kommunen-kg serve`` of the project's release, embedded or over ``store``; yields
    its root URL, ready time and process."""
    port = free_port()
    command = [sys.executable, "-m", "kommunen_kg", "serve", "--config", str(project.config)]
    command += ["--graphs", str(project.graphs), "--no-build", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers), "--quiet"]
    if store:
        command += ["--store", store]
    root = f"http://127.0.0.1:{port}/"
    version = project.release.version

    def ready() -> bool:
        try:
            return requests.get(root + "health", timeout=5).json().get("version") == version
        except (requests.RequestException, ValueError):
            return False

    clean = {k: v for k, v in os.environ.items() if not k.startswith("KOMMUNEN_KG_STORE")}
    process = subprocess.Popen(  # as procs.spawn, without the environment's store settings
        command,
        cwd=project.folder,
        env=clean,
        stdout=open(log, "ab"),  # noqa: SIM115 - closed by stop()
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    process._bench_log = process.stdout  # type: ignore[attr-defined]
    try:
        ready_s = wait_for(ready, 900, process, "kommunen-kg serve")
        yield {"root": root, "ready_s": round(ready_s, 2), "process": process}
    finally:
        stop(process)


def pick_talks(release: Release, wanted: int) -> list[str]:
    """``wanted`` talks of the release (their paths below the base, ``talk/...``): spread
    evenly over all of them, then shuffled with a fixed seed, so that every slice of the list
    (warm-up, pages, data, queries) spans the whole range. Read from the release's N-Triples
    dump, not through a server (whose answers stop at its ``result_limit``)."""
    base = release.manifest["base_iri"]
    subject = f"<{base}id/"
    typed = f"> <{RDF_TYPE}> <{base}def#Talk> ."
    talks = set()
    with gzip.open(release.file(DUMP_STEM + ".nt.gz"), "rt", encoding="utf-8") as dump:
        for line in dump:
            if line.startswith(subject + "talk/") and line.rstrip().endswith(typed):
                talks.add(line[len(subject) : line.index(">")])
    if len(talks) < wanted:
        sys.exit(f"the release has {len(talks)} talks, {wanted} needed")
    ordered = sorted(talks)
    step = len(ordered) / wanted
    picked = [ordered[int(i * step)] for i in range(wanted)]
    random.Random(15).shuffle(picked)
    return picked


def _lookup(base: str, talk: str, n: int) -> str:
    return f"# {n}\nSELECT ?p ?o WHERE {{ <{base}id/{talk}> ?p ?o }}"


def requests_of(base: str, talks: list[str], start: int) -> Iterator[tuple[str, str, dict, str]]:
    """(kind, path, params, Accept) for each talk: its page, its data, its lookup query,
    each kind on talks of its own (``talks`` holds three equal slices), interleaved."""
    per_kind = len(talks) // 3
    for i in range(per_kind):
        page, data, query = talks[i], talks[per_kind + i], talks[2 * per_kind + i]
        yield "page", f"page/{page}", {}, "text/html"
        yield "data", f"data/{data}.ttl", {}, "text/turtle"
        yield "query", "sparql", {"query": _lookup(base, query, start + i)}, JSON_RESULTS


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def measure_latency(
    root: str, base: str, warmup: list[str], measured: list[str], budget: float
) -> dict:
    """Sequential requests on one kept-alive connection: the warm-up (not recorded, at most a
    quarter of ``budget`` seconds), then the measured ones until done or ``budget`` is spent;
    per kind the median, p90 and max (ms) of the answers 200, their bytes, and the failures
    (status, error, and how long they took)."""
    session = requests.Session()
    session.headers["User-Agent"] = "kommunen-kg-bench"
    times: dict[str, list[float]] = {kind: [] for kind in KINDS}
    sizes: dict[str, list[int]] = {kind: [] for kind in KINDS}
    failed: dict[str, list[float]] = {kind: [] for kind in KINDS}
    failed_at: dict[str, list[float]] = {kind: [] for kind in KINDS}  # seconds into the run
    failures: dict[str, list[str]] = {kind: [] for kind in KINDS}
    began = time.perf_counter()
    stopped: dict[str, float] = {}
    warmup_failures = 0
    try:
        for _kind, path, params, accept in requests_of(base, warmup, 1_000_000):
            if time.perf_counter() - began > budget / 4:
                stopped["warmup_s"] = round(time.perf_counter() - began, 1)
                break
            try:
                answer = session.get(
                    root + path, params=params, headers={"Accept": accept}, timeout=60
                )
                warmup_failures += answer.status_code != 200
            except requests.RequestException:
                warmup_failures += 1
        warmed = time.perf_counter()
        for kind, path, params, accept in requests_of(base, measured, 0):
            if time.perf_counter() - warmed > budget:
                stopped["measured_s"] = round(time.perf_counter() - warmed, 1)
                break
            sent = time.perf_counter()
            try:
                answer = session.get(
                    root + path,
                    params=params,
                    headers={"Accept": accept},
                    timeout=60,
                    allow_redirects=False,
                )
                body = answer.content
            except requests.RequestException as exc:
                failed[kind].append((time.perf_counter() - sent) * 1000)
                failed_at[kind].append(round(sent - warmed, 1))
                failures[kind].append(f"{path}: {type(exc).__name__}")
                continue
            elapsed = (time.perf_counter() - sent) * 1000
            if answer.status_code != 200:
                failed[kind].append(elapsed)
                failed_at[kind].append(round(sent - warmed, 1))
                failures[kind].append(f"{path}: {answer.status_code} {answer.text[:200]}")
                continue
            times[kind].append(elapsed)
            sizes[kind].append(len(body))
    finally:
        session.close()
    found: dict = {
        kind: {
            "n": len(times[kind]),
            "median_ms": round(statistics.median(times[kind]), 2) if times[kind] else None,
            "p90_ms": round(_percentile(times[kind], 0.9), 2) if times[kind] else None,
            "max_ms": round(max(times[kind]), 2) if times[kind] else None,
            "median_bytes": int(statistics.median(sizes[kind])) if sizes[kind] else None,
            "failures": len(failures[kind]),
            "failed_median_ms": round(statistics.median(failed[kind]), 1) if failed[kind] else None,
            "first_failures": failures[kind][:3],
            "failed_at_s": failed_at[kind][:100],
        }
        for kind in KINDS
    }
    found["warmup_failures"] = warmup_failures
    found["over_budget"] = stopped
    found["seconds"] = round(time.perf_counter() - began, 1)
    return found


# --- one project ---------------------------------------------------------------------------


@dataclass
class Options:
    stores: list[str]
    requests: int
    warmup: int
    workers: int
    publish_limit: float
    latency_budget: float
    virtuoso_buffers: int | None
    keep_stores: bool


def run_project(project: Project, options: Options) -> dict:
    logs = project.folder / "logs"
    result: dict = {
        "project": str(project.source),
        "copy": str(project.folder),
        "release": project.release.version,
        "triples": project.triples,
        "servers": {},
    }
    began = time.perf_counter()
    per_kind = options.requests
    talks = pick_talks(project.release, 3 * (per_kind + options.warmup))
    warmup, measured = talks[: 3 * options.warmup], talks[3 * options.warmup :]
    say(f"{project.triples:,} triples: embedded serve")
    with serve(project, logs / "serve-embedded.log", options.workers) as embedded:
        latency = measure_latency(
            embedded["root"], project.base, warmup, measured, options.latency_budget
        )
        result["servers"][EMBEDDED] = {
            "ready_s": embedded["ready_s"],
            "latency": latency,
            "serve_memory": memory(embedded["process"].pid).to_json(),
        }
    result["talks"] = {"warmup": len(warmup), "measured": len(measured)}
    for name in options.stores:
        say(f"{project.triples:,} triples: {name}")
        figures: dict = {}
        result["servers"][name] = figures
        store_began = time.perf_counter()
        try:
            with start_store(
                name, project.folder, logs / f"{name}.log", options.virtuoso_buffers
            ) as store:
                figures["settings"] = store.settings
                first = timed_publish(store, project.release, options.publish_limit)
                figures["publish"] = first
                if "error" in first:
                    say(f"  {name}: publish failed: {first['error'][:300]}")
                    continue
                figures["size_after_publish"] = store.size()
                second = timed_publish(store, project.release, options.publish_limit)
                figures["publish_again"] = second
                if "error" in second:
                    continue
                with serve(
                    project, logs / f"serve-{name}.log", options.workers, store.query
                ) as served:
                    figures["ready_s"] = served["ready_s"]
                    figures["latency"] = measure_latency(
                        served["root"], project.base, warmup, measured, options.latency_budget
                    )
                    figures["serve_memory"] = memory(served["process"].pid).to_json()
                figures["size_at_end"] = store.size()
        except (RuntimeError, TimeoutError, OSError, subprocess.SubprocessError) as exc:
            figures["error"] = f"{type(exc).__name__}: {exc}"[:1000]
            say(f"  {name}: {figures['error']}")
        finally:
            figures["wall_s"] = round(time.perf_counter() - store_began, 1)
            files = {"oxigraph-disk": "oxigraph-disk", "virtuoso": "virtuoso"}.get(name)
            if files and not options.keep_stores:
                shutil.rmtree(project.folder / files, ignore_errors=True)
    result["wall_s"] = round(time.perf_counter() - began, 1)
    return result


# --- report --------------------------------------------------------------------------------


def _s(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if value < 1 else f"{value:.2f}" if value < 100 else f"{value:.0f}"


def _ms(cell: dict | None, asked: int) -> str:
    if not cell:
        return "–"
    text = (
        "–" if cell.get("median_ms") is None else f"{cell['median_ms']:.1f} / {cell['p90_ms']:.1f}"
    )
    if cell.get("failures"):
        text += f" ({cell['failures']} failed, {cell['failed_median_ms']:.0f} ms each)"
    if cell["n"] + cell.get("failures", 0) < asked:
        text += f" [{cell['n'] + cell.get('failures', 0)} of {asked} in the time budget]"
    return text


LABELS = {
    EMBEDDED: "embedded (pyoxigraph in each worker)",
    "oxigraph-disk": "Oxigraph server, on disk",
    "oxigraph-mem": "Oxigraph server, in memory",
    "virtuoso": "Virtuoso 7.2",
}


def _publish_cells(figures: dict) -> list[str]:
    first = figures.get("publish") or {}
    if "error" in first:
        what = (
            f"over {first['limit_s'] / 60:.0f} min (stopped)"
            if first.get("over_limit")
            else f"failed after {first.get('after_s')} s"
        )
        return [what, "–", "–", "–", "–"]
    t = first.get("timings_s", {})
    again = (figures.get("publish_again") or {}).get("timings_s", {})
    return [
        _s(t.get("read")),
        _s(t.get("load")),
        _s(t.get("verify")),
        f"{_s(t.get('switch'))} / {_s(t.get('total'))}",
        f"{_s(again.get('switch'))} / {_s(again.get('total'))}" if again else "–",
    ]


def _size_cells(figures: dict) -> list[str]:
    size = figures.get("size_after_publish") or {}
    end = figures.get("size_at_end") or {}
    if not size:
        return ["–", "–"]
    disk = size.get("database_mib") or (size.get("disk") or {}).get("du_mib")
    disk_end = end.get("database_mib") or (end.get("disk") or {}).get("du_mib")
    memory_now = size["memory"]
    disk_text = "–" if disk is None else f"{disk:,.1f}"
    if disk is not None and disk_end is not None and disk_end != disk:
        disk_text += f" ({disk_end:,.1f} at the end)"
    return [disk_text, f"{memory_now['rss_mib']:,.1f} / {memory_now['pss_mib']:,.1f}"]


def markdown(results: dict) -> str:
    machine = results["machine"]
    commit = results.get("revision", {}).get("commit", "")[:12]
    lines: list[str] = [
        f"Run of {results['started']} (commit {commit}), {machine['cores']} cores, load "
        f"average {machine['loadavg_start']} at the start and {machine.get('loadavg_end')} at "
        f"the end, {results.get('wall_s', 0):.0f} s in all: `{results['command']}`",
        "",
    ]
    for project in results["projects"]:
        servers = project["servers"]
        lines.append(
            f"#### {project['triples']:,} triples (release {project['release']}); "
            f"{project['wall_s']:.0f} s in all"
        )
        lines.append("")
        lines.append(
            "| store | read (s) | load (s) | verify (s) | switch / total (s) | "
            "again: switch / total (s) | on disk (MiB) | store RSS / PSS (MiB) |"
        )
        lines.append("|---|---|---|---|---|---|---|---|")
        for name, figures in servers.items():
            if name == EMBEDDED:
                continue
            cells = _publish_cells(figures) + _size_cells(figures)
            lines.append(f"| {LABELS.get(name, name)} | " + " | ".join(cells) + " |")
        lines.append("")
        talks = project.get("talks", {})
        lines.append(
            f"Latency, one client, median / p90 in ms ({talks.get('measured', 0) // 3} "
            "different talks per kind, each request once):"
        )
        lines.append("")
        lines.append("| server | page | /data (Turtle) | /sparql lookup | serve ready (s) |")
        lines.append("|---|---|---|---|---|")
        for name, figures in servers.items():
            latency = figures.get("latency") or {}
            asked = talks.get("measured", 0) // 3
            cells = [_ms(latency.get(kind), asked) for kind in KINDS]
            lines.append(
                f"| {LABELS.get(name, name)} | "
                + " | ".join(cells)
                + f" | {_s(figures.get('ready_s'))} |"
            )
        lines.append("")
        for name, figures in servers.items():
            if figures.get("error"):
                lines.append(f"- {LABELS.get(name, name)}: {figures['error']}")
            publish_error = (figures.get("publish") or {}).get("error")
            if publish_error:
                lines.append(f"- {LABELS.get(name, name)}: publish: {publish_error[:300]}")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.stores",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("projects", type=Path, nargs="+", metavar="PROJECT")
    parser.add_argument(
        "--store", action="append", choices=STORES, help="only these stores (default: all)"
    )
    parser.add_argument("--requests", type=int, default=200, help="measured requests per kind")
    parser.add_argument("--warmup", type=int, default=20, help="warm-up requests per kind")
    parser.add_argument("--workers", type=int, default=2, help="serve's workers")
    parser.add_argument(
        "--publish-limit",
        type=float,
        default=1200.0,
        help="seconds a publish may take before the store is stopped",
    )
    parser.add_argument(
        "--latency-budget",
        type=float,
        default=1200.0,
        help="seconds of measured requests per server (the warm-up gets a quarter of it)",
    )
    parser.add_argument(
        "--virtuoso-buffers",
        type=int,
        default=None,
        help="Virtuoso's NumberOfBuffers (default: the package's virtuoso.ini)",
    )
    parser.add_argument("--work", type=Path, default=Path("/tmp/stores-bench"))
    parser.add_argument("--keep-stores", action="store_true", help="keep the stores' files")
    parser.add_argument("--out", type=Path, default=None, help="JSON file (default: bench/results)")
    args = parser.parse_args(argv)

    options = Options(
        stores=args.store or list(STORES),
        requests=args.requests,
        warmup=args.warmup,
        workers=args.workers,
        publish_limit=args.publish_limit,
        latency_budget=args.latency_budget,
        virtuoso_buffers=args.virtuoso_buffers,
        keep_stores=args.keep_stores,
    )
    if "virtuoso" in options.stores and not (
        _which("virtuoso-t") and _which("isql-vt") and PACKAGED_INI.exists()
    ):
        sys.exit("Debian's virtuoso-opensource is not installed (virtuoso-t, isql-vt)")
    args.work.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC)
    results: dict = {
        "started": stamp.isoformat(timespec="seconds"),
        "command": " ".join(["python -m bench.stores", *(argv or sys.argv[1:])]),
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "loadavg_start": loadavg(),
        },
        "options": vars(options),
        "revision": revision(),
        "projects": [],
    }
    began = time.perf_counter()
    for source in args.projects:
        project = working_copy(source.resolve(), args.work.resolve())
        results["projects"].append(run_project(project, options))
    results["machine"]["loadavg_end"] = loadavg()
    if revision() != results["revision"]:
        results["revision_at_end"] = revision()  # the code changed while it ran
    results["wall_s"] = round(time.perf_counter() - began, 1)
    out = args.out or RESULTS / f"stores-{stamp.strftime('%Y%m%dT%H%M%SZ')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    say(f"wrote {out} ({results['wall_s']:.0f} s)")
    print(markdown(results))


if __name__ == "__main__":
    main()
