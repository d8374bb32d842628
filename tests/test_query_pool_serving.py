"""``kommunen-kg serve`` answers client queries from its query pool and leaves no process behind.

Each test starts the real command on a loopback port with a 2 s query time limit and looks at
its process tree through /proc: the server's master, its workers, and under each worker the query
pool's zygote (``kkg-zygote``) and query workers (``kkg-query``), under granian and gunicorn alike.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from kommunen_kg.web.serving import SERVERS

from .support import ROOT, alive, comm, descendants, free_port, parents, stat, wait_until_up

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
SMALL = "SELECT ?p ?o WHERE { <https://w3id.org/kommunen-innovativ/id/project/lebenswert> ?p ?o }"

pytestmark = [
    pytest.mark.slow,  # starts kommunen-kg serve under both WSGI servers
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc"),
]


@pytest.fixture(params=SERVERS)
def serve_args(request, tmp_path: Path, config, release) -> list[str]:
    """Arguments that serve the session's release with a 2 s query time limit, under each of
    the WSGI servers ``kommunen-kg serve --server`` offers."""
    toml = tmp_path / "kommunen-kg.toml"
    toml.write_text(
        "[paths]\n"
        f'ontology = "{ROOT / "ontology"}"\n'
        f'data = "{ROOT / "data"}"\n'
        f'graphs = "{config.graphs_dir}"\n'
        "[server]\n"
        "query_timeout = 2.0\n"
        "query_workers_min = 1\n",
        encoding="utf-8",
    )
    return ["--config", str(toml), "--no-build", "--workers", "2", "--server", request.param]


@contextlib.contextmanager
def serving(args: list[str], log: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """``kommunen-kg serve ARGS`` in its own session; every process it left is killed after."""
    port = free_port()
    command = [sys.executable, "-m", "kommunen_kg", "serve", "--port", str(port), "--quiet"]
    with open(log, "w", encoding="utf-8") as out:
        process = subprocess.Popen(
            [*command, *args],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}/"
    seen: set[int] = set()
    try:
        wait_until_up(url, process=process)
        yield url, process
    finally:
        seen |= set(descendants(process.pid))
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        for pid in seen:  # only if a test failed: never leave our processes behind
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def pool_processes(server_pid: int) -> list[int]:
    return [pid for pid in descendants(server_pid) if comm(pid).startswith("kkg-")]


def wait_pool_processes(server_pid: int, count: int = 4, timeout: float = 10.0) -> list[int]:
    """The pool processes, once both server workers have started theirs (zygote + 1 worker)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = pool_processes(server_pid)
        if len(found) >= count:
            return found
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} query pool processes after {timeout} s")


def wait_gone(pids: list[int], timeout: float) -> list[int]:
    """The pids still alive after ``timeout`` seconds (empty when all are gone)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(alive(pid) for pid in pids):
            return []
        time.sleep(0.05)
    return [pid for pid in pids if alive(pid)]


def ask(url: str, query: str) -> requests.Response:
    return requests.post(url + "sparql", data={"query": query}, timeout=30)


def ask_in_background(url: str, query: str) -> tuple[threading.Thread, list]:
    """Sends the query from a thread; its response (or connection error) lands in the list."""
    out: list = []

    def send() -> None:
        try:
            out.append(ask(url, query))
        except requests.RequestException as exc:  # the server was stopped under it
            out.append(exc)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread, out


def wait_running(server_pid: int, timeout: float = 5.0) -> int:
    """The pid of a query worker that is running on the CPU (the runaway: call this once the
    pools have started, so that no worker is still being set up)."""
    ticks = 0.02 * os.sysconf("SC_CLK_TCK")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for pid in pool_processes(server_pid):
            fields = stat(pid)
            if fields[:1] == ["R"] and comm(pid) == "kkg-query" and int(fields[11]) >= ticks:
                return pid
        time.sleep(0.05)
    raise AssertionError("no query worker is running")


def test_serve_stops_a_runaway_query_and_answers_others_meanwhile(serve_args, tmp_path):
    with serving(serve_args, tmp_path / "serve.log") as (url, process):
        wait_pool_processes(process.pid)
        started = time.monotonic()
        runaway, out = ask_in_background(url, RUNAWAY)
        busy = wait_running(process.pid)
        small_started = time.monotonic()
        assert ask(url, SMALL).status_code == 200
        assert time.monotonic() - small_started < 2.0
        runaway.join(timeout=10)
        assert out[0].status_code == 503
        assert time.monotonic() - started < 2.0 + 2.0
        assert not wait_gone([busy], 1.0)


def test_serve_answers_a_get_url_over_8_kb_with_414_and_takes_the_query_by_post(
    serve_args, tmp_path
):
    """The request-line limit the README and the Service Description state (8,190 bytes)."""
    long = SMALL + " " * 8200 + "# padded past the request-line limit"
    with serving(serve_args, tmp_path / "serve.log") as (url, _process):
        by_get = requests.get(url + "sparql", params={"query": long}, timeout=10)
        by_post = ask(url, long)
    assert by_get.status_code == 414
    assert by_post.status_code == 200


def test_query_processes_hold_no_inherited_file_descriptors(serve_args, tmp_path):
    with serving(serve_args, tmp_path / "serve.log") as (url, process):
        assert ask(url, SMALL).status_code == 200
        processes = wait_pool_processes(process.pid)
        assert len(processes) == 4  # per server worker: a zygote and one query worker
        for pid in processes:
            fds = settled_fds(pid)
            assert fds[0] == fds[1] == os.devnull
            beyond_stdio = [target for fd, target in fds.items() if fd > 2]
            # One socket to its parent; no client connection, no listening socket, no log file.
            assert len(beyond_stdio) == 1 and beyond_stdio[0].startswith("socket:"), fds


def settled_fds(pid: int, timeout: float = 3.0) -> dict[int, str]:
    """fd -> target of a pool process once it is idle (a zygote that is forking a worker holds
    that worker's socketpair for a moment)."""
    deadline = time.monotonic() + timeout
    while True:
        folder = f"/proc/{pid}/fd"
        fds = {int(fd): os.readlink(f"{folder}/{fd}") for fd in os.listdir(folder)}
        if len(fds) <= 4 or time.monotonic() > deadline:
            return fds
        time.sleep(0.05)


def test_ctrl_c_on_serve_leaves_no_process_behind(serve_args, tmp_path):
    with serving(serve_args, tmp_path / "serve.log") as (url, process):
        wait_pool_processes(process.pid)
        runaway, _out = ask_in_background(url, RUNAWAY)
        wait_running(process.pid)
        everything = descendants(process.pid)
        os.killpg(process.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
        process.wait(timeout=15)
        assert not wait_gone(everything, 5.0)
        runaway.join(timeout=10)


def test_sigterm_on_serve_leaves_no_process_behind(serve_args, tmp_path):
    with serving(serve_args, tmp_path / "serve.log") as (url, process):
        wait_pool_processes(process.pid)
        runaway, _out = ask_in_background(url, RUNAWAY)
        wait_running(process.pid)
        everything = descendants(process.pid)
        process.send_signal(signal.SIGTERM)  # to the master only, as `kill PID` does
        process.wait(timeout=15)
        assert not wait_gone(everything, 5.0)
        runaway.join(timeout=10)


def test_a_killed_server_worker_takes_its_query_processes_with_it(serve_args, tmp_path):
    with serving(serve_args, tmp_path / "serve.log") as (url, process):
        wait_pool_processes(process.pid)
        runaway, _out = ask_in_background(url, RUNAWAY)
        busy = wait_running(process.pid)
        table = parents()
        zygote = table[busy]
        server_worker = table[zygote]
        ours = [pid for pid in descendants(server_worker)]
        assert busy in ours and zygote in ours
        os.kill(server_worker, signal.SIGKILL)
        assert not wait_gone(ours, 2.0)  # the busy one too, without waiting for its time limit
        runaway.join(timeout=10)
        wait_until_up(url)  # gunicorn starts a new worker with a pool of its own
        assert ask(url, SMALL).status_code == 200
