"""Latency under attack: probes while runaway queries keep every query slot busy (issue 10).

``python -m bench.hostile --keep DIR`` reuses the data a ``python -m bench run --keep DIR``
prepared (or prepares 1e5 triples there), starts each server, keeps ``--runaways`` clients
sending a query that never finishes in time (a cross product of three patterns), and meanwhile
probes, one request after the other: ``/health`` (Oxigraph: ``/``), a resource page
(kommunen-kg only) and ``ASK {}``. It reports p50, p99 and the longest wait of each probe and
what the probes and the runaways were answered. Loopback only; every loop ends after
``--seconds`` (requests time out after 30 s).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

from .run import Options, existing, prepare, say, start_server

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
ASK = "ASK {}"


def _fetch(url: str, data: bytes | None = None, timeout: float = 30.0) -> tuple[int | str, float]:
    started = time.perf_counter()
    request = urllib.request.Request(
        url, data=data, headers={"Accept": "application/sparql-results+json, text/html;q=0.9"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            status: int | str = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        status = type(exc).__name__
    return status, time.perf_counter() - started


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def attack(base: str, sparql: str, probes: dict[str, str], runaways: int, seconds: float) -> dict:
    """Runs the runaways and the probes for ``seconds``; returns what each got."""
    stop = threading.Event()
    outcomes: Counter = Counter()
    lock = threading.Lock()
    body = urllib.parse.urlencode({"query": RUNAWAY}).encode()

    def runaway() -> None:
        while not stop.is_set():
            status, _ = _fetch(base + sparql, body)
            with lock:
                outcomes[str(status)] += 1

    clients = [threading.Thread(target=runaway, daemon=True) for _ in range(runaways)]
    for client in clients:
        client.start()
    time.sleep(1.0)  # every query slot is taken
    waits: dict[str, list[float]] = {name: [] for name in probes}
    statuses: dict[str, Counter] = {name: Counter() for name in probes}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for name, path in probes.items():
            status, took = _fetch(base + path, timeout=30)
            waits[name].append(took)
            statuses[name][str(status)] += 1
    stop.set()
    for client in clients:
        client.join(timeout=35)
    return {
        "probes": {
            name: {
                "n": len(waits[name]),
                "p50_ms": round(statistics.median(waits[name]) * 1000, 1),
                "p99_ms": round(_percentile(waits[name], 0.99) * 1000, 1),
                "max_ms": round(max(waits[name]) * 1000, 1),
                "statuses": dict(statuses[name]),
            }
            for name in probes
        },
        "runaways": dict(outcomes),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.hostile", description=__doc__)
    parser.add_argument("--keep", type=Path, required=True, help="the bench's data folder")
    parser.add_argument("--scale", default="1e5")
    parser.add_argument("--runaways", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--server", action="append", default=None)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args(argv)
    options = Options(
        scales=[int(float(args.scale))],
        workers=args.workers,
        threads=args.threads,
        keep=args.keep,
        naive=False,
    )
    args.keep.mkdir(parents=True, exist_ok=True)
    dataset = existing(args.keep) or prepare(int(float(args.scale)), args.keep, options)
    results = {}
    for name in args.server or ["kommunen-kg", "oxigraph-mem"]:
        say(f"starting {name}")
        running = start_server(name, dataset, dataset.folder, options)
        try:
            sparql = running.sparql_path or "/query"
            probes = {"health": "/health", "page": "/page/project/gen-000001", "ask": ""}
            if name != "kommunen-kg":
                probes = {"health": "/", "ask": ""}
            probes["ask"] = f"{sparql}?query={urllib.parse.quote(ASK)}"
            say(f"{name}: {args.runaways} runaways for {args.seconds:g} s")
            results[running.name] = attack(
                running.base_url, sparql, probes, args.runaways, args.seconds
            )
        finally:
            running.stop()
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
