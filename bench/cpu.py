"""CPU per request, by process and by thread, of a served request kind; and of the same request
answered in-process.

WHY: a sampling profile of one process says where *its* time goes, not what a request costs
the machine, nor which thread pays. Issue 13's fifth look needed both: a cold lookup cost a
server worker's main thread about 330 us while the same path called in-process (no HTTP
server) took about 215 us, and granian's own threads, the kernel and the load generator each
took their share. ``python -m bench.cpu`` measures it the way it was measured there:

- served (default): starts kommunen-kg on the data of ``--keep`` (built first if missing), loads
  each request kind (``--only``) for ``--duration`` seconds with the benchmark's load
  generator, and reads every thread's user and system CPU from ``/proc`` before and after:
  microseconds per request for each process and thread (and the share of a core it used),
  and the load generator's own (this process's children);
- ``--in-process``: calls the asynchronous front's ASGI entry for ``--requests`` unique cold
  requests of each SPARQL kind, in this process, without an HTTP server:
  ``time.process_time()`` per request (all threads of this process), and the thread that
  runs the front's loop on its own. ``--stages`` also times the stages of the direct path
  (the functions of :data:`STAGES`, wrapped with a timer; the wrappers add a little);
  ``--between`` does one more thing between two requests, as a server worker's surroundings
  do (``evict``: copy 1 MiB; ``thread``: wake a Python thread, which takes the GIL;
  ``process``: wake another process through a pipe), which is how the sixth look in
  bench/README.md found what a worker's requests pay for the threads they wake.

Run on an otherwise idle machine; the numbers are per request, so they compare across runs
better than the rates do, but this machine still varies by 5-10 %.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from urllib.parse import quote

from . import procs
from .generate import parse_scale
from .load import Request, run_load
from .profile import data_and_kinds, data_folder, served_arguments, start_served
from .run import Options, say, sparql_path
from .workload import SALT

TICKS = os.sysconf("SC_CLK_TCK")


def _name(path: str) -> str:
    try:
        with open(f"{path}/comm", encoding="utf-8") as comm:
            return comm.read().strip()
    except OSError:
        return "?"


def _times(path: str) -> tuple[float, float]:
    """User and system CPU seconds of a process or thread (``/proc/.../stat``)."""
    try:
        with open(f"{path}/stat", encoding="utf-8") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0, 0.0
    return int(fields[11]) / TICKS, int(fields[12]) / TICKS


def thread_times(pids: list[int]) -> dict[tuple[int, int, str], tuple[float, float]]:
    """(process, thread, thread name) -> (user, system) CPU seconds, for every thread."""
    found = {}
    for pid in pids:
        try:
            threads = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in threads:
            path = f"/proc/{pid}/task/{tid}"
            found[(pid, int(tid), _name(path))] = _times(path)
    return found


def per_request(
    before: dict[tuple[int, int, str], tuple[float, float]],
    after: dict[tuple[int, int, str], tuple[float, float]],
    roles: dict[int, str],
    requests: int,
    seconds: float,
) -> list[dict]:
    """Each thread that used CPU: its process's role, its name, us per request (and system
    us), and the share of one core it used."""
    rows = []
    for key, (user, system) in after.items():
        user0, system0 = before.get(key, (0.0, 0.0))
        used, kernel = user + system - user0 - system0, system - system0
        if used <= 0:
            continue
        pid, tid, name = key
        rows.append(
            {
                "process": f"{roles.get(pid, 'other')} {pid}",
                "thread": f"{name} {tid}" + (" (main)" if pid == tid else ""),
                "us_per_request": round(used / requests * 1e6, 1),
                "system_us_per_request": round(kernel / requests * 1e6, 1),
                "core_share": round(used / seconds, 3),
            }
        )
    return sorted(rows, key=lambda row: -row["us_per_request"])


def _roles(master: int, pids: list[int]) -> dict[int, str]:
    roles = {}
    for pid in pids:
        name = _name(f"/proc/{pid}")
        roles[pid] = "master" if pid == master else name if name.startswith("kkg-") else "worker"
    return roles


def measure_served(options: Options, folder: Path, warm: bool) -> dict:
    _dataset, items, running = start_served(options, folder, sparql_only=True)
    found: dict = {}
    try:
        for item in items:
            text = item.warm if warm else item.cold
            request = Request([sparql_path(running, text)], item.accept, salted=not warm)
            run_load(running.base_url, request, 1.0, options.connections)  # forks the pool
            pids = procs.tree(running.process.pid)  # type: ignore[attr-defined]
            before, started = thread_times(pids), os.times()
            result = run_load(running.base_url, request, options.duration, options.connections)
            after, ended = thread_times(pids), os.times()
            requests = max(result.requests, 1)
            load = ended.children_user + ended.children_system
            load -= started.children_user + started.children_system
            found[item.name] = {
                "mode": "warm" if warm else "cold",
                "rps": result.rps,
                "requests": result.requests,
                "errors": result.errors,
                "threads": per_request(
                    before,
                    after,
                    _roles(running.process.pid, pids),  # type: ignore[attr-defined]
                    requests,
                    result.seconds,
                ),
                "load_generator_us_per_request": round(load / requests * 1e6, 1),
            }
            say(f"{item.name}: {result.rps:.0f} req/s")
    finally:
        running.stop()
    return found


# The stages of the direct path that --stages times: (label, module, attribute path).
STAGES = (
    ("reading the request", "kommunen_kg.web.endpoint.direct", "parse_operation"),
    ("vet", "kommunen_kg.web.endpoint.direct", "vet"),
    ("of it, lexer and analysis", "kommunen_kg.sparql.vetting", "analyse"),
    ("bound", "kommunen_kg.sparql.triage", "Triage.local"),
    ("engine: parse and plan", "kommunen_kg.sparql.engine", "EmbeddedEngine._query"),
    ("engine: evaluate and write", "kommunen_kg.sparql.engine", "_written"),
    ("HTTP fields", "kommunen_kg.web.endpoint.direct", "finish_answer"),
)
BETWEEN = ("nothing", "evict", "thread", "process")


def _timed_stages(spent: dict[str, float]) -> None:
    """Wraps every function of :data:`STAGES` with a timer that adds to ``spent``."""
    import functools
    import importlib

    for label, module_name, path in STAGES:
        owner = importlib.import_module(module_name)
        *outer, name = path.split(".")
        for part in outer:
            owner = getattr(owner, part)
        inner = getattr(owner, name)

        def timed(*args, _inner=inner, _label=label, **kwargs):
            started = time.perf_counter()
            try:
                return _inner(*args, **kwargs)
            finally:
                spent[_label] = spent.get(_label, 0.0) + time.perf_counter() - started

        setattr(owner, name, functools.wraps(inner)(timed))


def _between(kind: str):
    """What happens between two requests (see the module docstring), and how to stop it."""
    import queue
    import subprocess
    import threading

    if kind == "evict":
        source, target = bytes(1 << 20), bytearray(1 << 20)

        def evict() -> None:
            target[:] = source

        return evict, lambda: None
    if kind == "thread":
        woken: queue.SimpleQueue = queue.SimpleQueue()

        def wait_forever() -> None:  # each get() returns to Python, so it takes the GIL
            while True:
                woken.get()

        threading.Thread(target=wait_forever, daemon=True).start()
        return lambda: woken.put(1), lambda: None
    if kind == "process":
        reader = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
        assert reader.stdin is not None
        pipe = reader.stdin.fileno()
        return (lambda: os.write(pipe, b"x")), reader.kill
    return None, lambda: None


def measure_in_process(
    folder: Path, options: Options, requests: int, stages: bool = False, between: str = "nothing"
) -> dict:
    """CPU per request of the front's direct path in this process (see the module docstring)."""
    from kommunen_kg.config import load_config
    from kommunen_kg.rdf.release import ReleaseFolder
    from kommunen_kg.web.app import DIRECT_KEY, create_app
    from kommunen_kg.web.http.front import AsyncFront
    from kommunen_kg.web.publication import open_release
    from kommunen_kg.web.serving import RESERVED_THREADS

    dataset, items = data_and_kinds(options, folder, sparql_only=True)
    config = load_config(dataset.config)
    release = ReleaseFolder(dataset.graphs).current()
    assert release is not None
    publication = open_release(config, release, pooled=True)
    publication.engines.limit_requests(options.threads - RESERVED_THREADS)  # as serve does
    app = create_app(publication)
    if publication.engines.pool is not None:
        publication.engines.pool.start()
    front = AsyncFront(
        app.wsgi_app,
        direct=app.extensions.get(DIRECT_KEY),
        threads=options.threads,
        max_body=1 << 20,
        client_timeout=20,
    )

    async def one(text: str, accept: str) -> int:
        scope = {
            "type": "http",
            "method": "GET",
            "path": "/sparql",
            "raw_path": b"/sparql",
            "query_string": ("query=" + quote(text, safe="")).encode("ascii"),
            "headers": [(b"accept", accept.encode()), (b"host", b"127.0.0.1")],
            "http_version": "1.1",
            "scheme": "http",
            "server": ("127.0.0.1", 80),
            "client": ("127.0.0.1", 50000),
        }
        status = [0]

        async def receive() -> dict:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]

        await front(scope, receive, send)
        return status[0]

    spent: dict[str, float] = {}
    if stages:
        _timed_stages(spent)
    step, stop = _between(between)

    async def measure() -> dict:
        found = {}
        for item in items:
            # the queries are made unique beforehand: only the front's work is timed
            texts = [item.cold.replace(SALT, str(n)) for n in range(requests + 100)]
            for text in texts[:100]:  # warm-up: caches of the prologue, imports
                await one(text, item.accept)
            alone = 0.0
            if step is not None:  # what the step costs the loop's thread on its own
                started = time.thread_time()
                for _ in range(requests):
                    step()
                alone = time.thread_time() - started
            spent.clear()
            started, started_here = time.process_time(), time.thread_time()
            statuses = []
            for text in texts[100:]:
                if step is not None:
                    step()
                statuses.append(await one(text, item.accept))
            here = time.thread_time() - started_here - alone
            everywhere = time.process_time() - started - alone
            found[item.name] = {
                "us_per_request": round(everywhere / requests * 1e6, 1),
                "loop_thread_us_per_request": round(here / requests * 1e6, 1),
                "statuses": sorted(set(statuses)),
                "between": between,
                "stages_us": {
                    label: round(spent[label] / requests * 1e6, 1)
                    for label, _, _ in STAGES
                    if label in spent
                },
            }
            say(f"{item.name}: {found[item.name]['us_per_request']} us of CPU per request")
        return found

    try:
        return asyncio.run(measure())
    finally:
        stop()
        publication.close()


def print_served(found: dict) -> None:
    for name, row in found.items():
        print(f"\n{name} ({row['mode']}): {row['rps']:.0f} req/s, {row['requests']} requests")
        for thread in row["threads"]:
            print(
                f"  {thread['process']:>22s}  {thread['thread']:32s} "
                f"{thread['us_per_request']:7.1f} us/request (system "
                f"{thread['system_us_per_request']:5.1f}), {thread['core_share']:6.1%} of a core"
            )
        print(f"  {'load generator':>22s}  {'':32s} {row['load_generator_us_per_request']:7.1f}")


def main(argv: list[str]) -> int:
    parser = served_arguments("python -m bench.cpu", __doc__, workers=1)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--warm", action="store_true", help="the same request again and again")
    parser.add_argument("--in-process", action="store_true", help="the front, without a server")
    parser.add_argument("--requests", type=int, default=3000, help="with --in-process")
    parser.add_argument("--stages", action="store_true", help="with --in-process: per stage")
    parser.add_argument("--between", choices=BETWEEN, default="nothing", help="with --in-process")
    parser.add_argument("--out", type=Path, default=None, help="also write the figures as JSON")
    args = parser.parse_args(argv)
    options = Options(
        scales=[parse_scale(args.scale)],
        duration=args.duration,
        workers=args.workers,
        threads=args.threads,
        connections=args.connections,
        only=tuple(args.only or ("lookup",)),
        naive=False,
    )
    with data_folder(args.keep, "bench-cpu-") as folder:
        if args.in_process:
            found = measure_in_process(folder, options, args.requests, args.stages, args.between)
            for name, row in found.items():
                print(
                    f"{name}: {row['us_per_request']} us of CPU per request, in-process "
                    f"({row['loop_thread_us_per_request']} on the loop's thread; between two "
                    f"requests: {row['between']})"
                )
                for label, us in row["stages_us"].items():
                    print(f"    {us:8.1f} us  {label}")
        else:
            found = measure_served(options, folder, args.warm)
            print_served(found)
        if args.out is not None:
            args.out.write_text(json.dumps(found, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
