"""Helpers the tests share: free ports, a real server in a thread or in a process."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import requests
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
# The shared material (conformance suites, facts) lies beside the repository in CI.
SHARED = Path(os.environ.get("KOMMUNEN_KG_SHARED", ROOT.parent / "shared"))
CONFORMANCE = SHARED / "conformance"


# Pass counts of the conformance suites, printed at the end of the run (tests/conftest.py):
# suite name -> Counter of outcomes ("passed", "failed", "not applicable", ...).
CONFORMANCE_TOTALS: dict[str, Counter] = {}


def count_outcome(suite: str, outcome: str) -> None:
    CONFORMANCE_TOTALS.setdefault(suite, Counter())[outcome] += 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, timeout: float = 30.0, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            out = process.stdout.read() if process.stdout else ""
            raise RuntimeError(f"server exited with {process.returncode}:\n{out}")
        try:
            if requests.get(url + "health", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not come up within {timeout} s")


@contextlib.contextmanager
def server_in_thread(app) -> Iterator[str]:
    """The real application behind werkzeug's threaded server on a loopback port."""
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_up(url)
        yield url
    finally:
        server.shutdown()
        thread.join(timeout=5)


SERVE = (sys.executable, "-m", "kommunen_kg", "serve", "--quiet")


@contextlib.contextmanager
def server_process(*args: str, cwd: Path = ROOT, env: dict | None = None) -> Iterator[str]:
    """``kommunen-kg serve ARGS`` in its own process group, on a free loopback port."""
    port = free_port()
    process = subprocess.Popen(
        [*SERVE, "--port", str(port), *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_up(url, process=process)
        yield url
    finally:
        stop(process)
        if process.stdout:
            process.stdout.close()


@contextlib.contextmanager
def logged_server(
    *args: str, cwd: Path, log: Path, timeout: float = 30.0, quiet: bool = True
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Like :func:`server_process`, with the server's output in the file ``log`` (a pipe that
    nobody reads would stall a server that writes much) and its process at hand; ``quiet``:
    without the access log."""
    port = free_port()
    serve = SERVE if quiet else tuple(arg for arg in SERVE if arg != "--quiet")
    with open(log, "w", encoding="utf-8") as out:
        process = subprocess.Popen(
            [*serve, "--port", str(port), *args],
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_up(url, timeout=timeout, process=process)
        yield url, process
    finally:
        stop(process)


def health_once_unhealthy(url: str, seconds: float = 8.0) -> requests.Response:
    """``/health`` as soon as it is no longer 200 (or after ``seconds``): a server notices a
    release it cannot serve within the second its watcher takes."""
    deadline = time.monotonic() + seconds
    health = requests.get(url + "health", timeout=10)
    while health.status_code == 200 and time.monotonic() < deadline:
        time.sleep(0.2)
        health = requests.get(url + "health", timeout=10)
    return health


def stop(process: subprocess.Popen, grace: float = 20.0, how: int = signal.SIGINT) -> None:
    """Ctrl-C (or ``how``) to the server's whole process group, then SIGKILL if it lingers."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, how)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextlib.contextmanager
def build_time(epoch: int) -> Iterator[None]:
    """Builds inside stamp their release with ``epoch`` (SOURCE_DATE_EPOCH, the
    reproducible-builds convention), so that releases built in a row are ordered in time."""
    old = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(epoch)
    try:
        yield
    finally:
        if old is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = old


def run_cli(cwd: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """``kommunen-kg ARGS`` in ``cwd``, its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "kommunen_kg", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# -- processes, from /proc (Linux) --


def stat(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name (state, ppid, ...); [] if gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as f:
            return f.read().rsplit(")", 1)[1].split()
    except OSError:
        return []


def parents() -> dict[int, int]:
    """pid -> parent pid of every process on the machine."""
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := stat(int(entry))):
            table[int(entry)] = int(fields[1])
    return table


def descendants(pid: int) -> list[int]:
    """The children of ``pid``, theirs, and so on."""
    table = parents()
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        children = [child for child, ppid in table.items() if ppid == parent]
        found += children
        todo += children
    return found


def comm(pid: int) -> str:
    """The process's name (its ``comm``), "" when it is gone."""
    try:
        with open(f"/proc/{pid}/comm", encoding="utf-8") as f:
            return f.read().strip()
    except OSError:
        return ""


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    fields = stat(pid)
    return bool(fields) and fields[0] != "Z"


def _panicking_query() -> str:
    """A query that makes pyoxigraph 0.5 panic: ORDER BY over literals of different kinds,
    which its comparison does not order totally, and Rust's sort notices ("user-provided
    comparison function does not correctly implement a total order"). Whether the sort notices
    depends on the values and their order, so the values are fixed here rather than taken from
    the release (a change of the data once made the panic go away)."""
    xsd = "http://www.w3.org/2001/XMLSchema#"
    kinds = (
        '"{i}"',
        "{i}",
        f'"2020-01-{{d:02d}}"^^<{xsd}date>',
        '"{i}"@de',
        "true",
        f'"{{i}}.5"^^<{xsd}decimal>',
        f'"P{{i}}D"^^<{xsd}duration>',
        f'"2020-01-01T00:00:{{d:02d}}Z"^^<{xsd}dateTime>',
        f'"{{i}}"^^<{xsd}gYear>',
    )
    values = " ".join(
        kinds[(i * i + 3 * i) % len(kinds)].format(i=i, d=i % 28 + 1) for i in range(100)
    )
    return f"SELECT ?o WHERE {{ VALUES ?o {{ {values} }} }} ORDER BY ?o"


PANICKING = _panicking_query()
