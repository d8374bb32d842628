"""The live switch of an embedded ``serve``, measured: time to the new release and memory.

    python -m bench.switch PROJECT [--workers 2] [--readers-for 10]

PROJECT is a folder with ``kommunen-kg.toml`` whose ``graphs/releases/`` holds at least two
releases (build once, change a source, build again; for 1e6: ``python -m bench generate
--scale 1e6 --out PROJECT/data`` first). The script serves the older of the two newest
releases (``serve --no-build``), starts readers of /health, a page, /data, /sparql and /search,
moves ``graphs/current`` to the other release, and reports: the seconds until /health names it,
the PSS of the whole process tree idle, at its peak during the switch (sampled about three
times a second) and after the switch, and the readers' answers and failures. ``current`` is
put back at the end. Loopback only; every loop is bounded.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import threading
import time
from pathlib import Path

import requests

from bench.procs import free_port, memory, spawn, stop, wait_for

READ_PATHS = ("health", "", "sparql?query=ASK%7B%7D", "search?q=neumann")


def _releases(graphs: Path) -> list[str]:
    """The two newest releases, oldest first (by their manifests' build time)."""
    found = []
    for folder in (graphs / "releases").iterdir():
        manifest = folder / "manifest.json"
        if manifest.is_file():
            found.append((json.loads(manifest.read_text())["created"], folder.name))
    if len(found) < 2:
        sys.exit(f"{graphs}/releases needs two releases, has {len(found)}")
    return [name for _created, name in sorted(found)[-2:]]


def _point(graphs: Path, version: str) -> None:
    tmp = graphs / "current.bench-tmp"
    tmp.write_text(version + "\n", encoding="utf-8")
    os.replace(tmp, graphs / "current")


def _served(url: str) -> str | None:
    try:
        return requests.get(url + "health", timeout=5).json().get("version")
    except (requests.RequestException, ValueError):
        return None


def _reader(url: str, path: str, stop_at: threading.Event, seen: collections.Counter, errors: list):
    session = requests.Session()
    while not stop_at.is_set():
        try:
            status = session.get(url + path, timeout=20).status_code
            seen[status] += 1
            if status != 200:
                errors.append(f"{path}: {status}")
        except requests.RequestException as exc:
            errors.append(f"{path}: {type(exc).__name__}")


def measure(project: Path, workers: int, readers_for: float) -> dict:
    graphs = project / "graphs"
    before_current = (graphs / "current").read_text(encoding="utf-8").strip()
    old, new = _releases(graphs)
    _point(graphs, old)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    command = [sys.executable, "-m", "kommunen_kg", "serve", "--no-build", "-q"]
    command += ["--port", str(port), "--workers", str(workers)]
    server = spawn(command, project / "bench-switch.log", cwd=project)
    try:
        started = wait_for(lambda: _served(url) == old, 600, server, "serve")
        paths = READ_PATHS
        stop_at = threading.Event()
        seen: collections.Counter = collections.Counter()
        errors: list[str] = []
        threads = [
            threading.Thread(target=_reader, args=(url, p, stop_at, seen, errors)) for p in paths
        ]
        for thread in threads:
            thread.start()
        time.sleep(3)
        idle = memory(server.pid).pss_mib
        samples = [idle]
        switched_at = time.monotonic()
        _point(graphs, new)
        served_after = None
        while time.monotonic() - switched_at < 300:
            samples.append(memory(server.pid).pss_mib)
            if _served(url) == new:
                served_after = time.monotonic() - switched_at
                break
            time.sleep(0.3)
        settle = time.monotonic() + readers_for
        while time.monotonic() < settle:
            samples.append(memory(server.pid).pss_mib)
            time.sleep(0.3)
        after = memory(server.pid).pss_mib
        stop_at.set()
        for thread in threads:
            thread.join(timeout=30)
        return {
            "releases": [old, new],
            "workers": workers,
            "ready_s": round(started, 1),
            "served_after_s": None if served_after is None else round(served_after, 1),
            "pss_idle_mib": round(idle, 1),
            "pss_peak_mib": round(max(samples), 1),
            "pss_after_mib": round(after, 1),
            "peak_over_idle": round(max(samples) / idle, 2),
            "after_over_idle": round(after / idle, 2),
            "answers": dict(seen),
            "failures": len(errors),
            "first_failures": errors[:5],
        }
    finally:
        stop(server)
        _point(graphs, before_current)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.switch", description=__doc__)
    parser.add_argument("project", type=Path)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--readers-for", type=float, default=10.0, help="seconds of reading after the switch"
    )
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.project.resolve(), args.workers, args.readers_for), indent=2))


if __name__ == "__main__":
    main()
