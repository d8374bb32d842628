"""Where the time goes: py-spy samples of the server per request kind, and of the build.

Profile before optimising. ``python -m bench profile --scale 1e5`` builds the data (or reuses
a ``--keep`` folder of an earlier run), starts kommunen-kg in production mode, and for each
request kind runs the cold load while ``py-spy record --subprocesses`` samples the server's
master, its workers and any query-worker processes. Each sample's stack is put into one
bucket, by the innermost frame that tells what it is doing:

- *pyoxigraph: parse + plan*: inside ``store.query`` (pyoxigraph parses and plans there; the
  evaluation itself is lazy);
- *pyoxigraph: evaluation*: iterating the solutions or triples (evaluation happens while the
  iterator is drawn);
- *serialisation*: our SPARQL results writers (``results.py``) or pyoxigraph's RDF writer;
- *IPC*: pickling, pipes and queues to worker processes;
- *Flask/werkzeug*: routing, request parsing, response building;
- *HTTP server*: granian or gunicorn: HTTP parsing, sockets, worker loop;
- everything else, named by its innermost kommunen_kg function.

``--build`` does the same for ``kommunen-kg build`` at the scale, bucketed by build step.
py-spy samples Python stacks without stopping the process; time in native code (pyoxigraph,
which releases the GIL) is attributed to the Python line that called it.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from . import servers
from .generate import parse_scale, scale_name
from .load import Request, run_load
from .run import (
    BASE_IRI,
    Dataset,
    Options,
    existing,
    prepare,
    resolve_routes,
    say,
    sparql_path,
)
from .workload import Item, http_items, sparql_items

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>.*?)(?::(?P<line>\d+))?\)$")
_SOURCE_CACHE: dict[str, list[str]] = {}


def _resolve(file: str) -> Path | None:
    """py-spy names files relative to the sys.path entry they were found under."""
    if Path(file).is_absolute():
        return Path(file)
    for entry in (str(servers.ROOT / "server"), *sys.path):
        candidate = Path(entry or ".") / file
        if candidate.is_file():
            return candidate
    return None


def _line(file: str, line: str | None) -> str:
    """The source line a frame was executing (how a frame tells waiting from working)."""
    if not line:
        return ""
    if file not in _SOURCE_CACHE:
        path = _resolve(file)
        try:
            _SOURCE_CACHE[file] = path.read_text(encoding="utf-8").splitlines() if path else []
        except OSError:
            _SOURCE_CACHE[file] = []
    lines = _SOURCE_CACHE[file]
    index = int(line) - 1
    return lines[index] if 0 <= index < len(lines) else ""


def _frames(stack: str) -> list[tuple[str, str, str | None]]:
    frames = []
    for part in stack.split(";"):
        match = _FRAME.match(part.strip())
        if match:
            frames.append((match["func"], match["file"], match["line"]))
        else:
            frames.append((part.strip(), "", None))
    return frames


IDLE = "idle (threads waiting for work, sockets or signals)"
_IDLE_LINE = re.compile(
    r"work_queue\.get|\.select\(|\.poll\(|wait_for_signals|\.wait\(|time\.sleep|\.accept\("
)


def serve_bucket(stack: str) -> str:
    """The category of one sampled server stack (innermost telling frame wins)."""
    frames = _frames(stack)
    if not frames:
        return "other"
    func, file, line = frames[-1]
    if _IDLE_LINE.search(_line(file, line)) or func.endswith((".select", "wait_for_signals")):
        return IDLE
    for _func, file, line in reversed(frames):
        if "kommunen_kg/results.py" in file:
            return "serialisation: SPARQL results writer (results.py)"
        if "kommunen_kg/" in file:
            text = _line(file, line)
            if "ox.serialize" in text or ".serialize(" in text:
                return "serialisation: pyoxigraph RDF writer"
            if "store.query" in text or ".query(" in text:
                return "pyoxigraph: store.query (parse, plan, evaluate)"
            if re.search(
                r"for \w+ in result|\.append\(|tuple\(solution\)|list\(self\._query", text
            ):
                return "pyoxigraph: drawing solutions (lazy evaluation)"
        if any(k in file for k in ("multiprocessing/", "pickle", "queue.py", "/connection.py")):
            return "IPC (worker processes)"
        if "flask/" in file or "werkzeug/" in file or "jinja2/" in file:
            return "Flask/werkzeug"
        if "gunicorn/" in file or "granian" in file or "selectors.py" in file:
            return "HTTP server (granian or gunicorn: parsing, sockets, worker loop)"
    for func, file, _line_no in reversed(frames):
        if "kommunen_kg/" in file:
            return f"kommunen_kg: {Path(file).stem}.{func}"
    func, file, _ = frames[-1]
    return f"other: {func} ({Path(file).name})"


BUILD_STEPS = {
    "sources": "parse (pyoxigraph)",
    "enrich": "enrich",
    "dumps": "serialise dumps",
    "metadata": "describe (VoID/DCAT)",
    "release": "publish",
}


def build_bucket(stack: str) -> str:
    frames = _frames(stack)
    files = [f for _, f, _ in frames]
    funcs = [fn for fn, _, _ in frames]
    if any("pyshacl/" in f for f in files):
        return "validate: pyshacl"
    if "to_rdflib" in funcs:
        return "validate: copying into rdflib graphs"
    if any("kommunen_kg/validate.py" in f for f in files):
        return "validate: reading the report"
    for func, file, _ in reversed(frames):
        if "kommunen_kg/" in file:
            stem = Path(file).stem
            if stem == "build":
                return f"build.{func}"
            return BUILD_STEPS.get(stem, stem)
    if any("importlib" in f or "<frozen" in f for f in files):
        return "imports"
    return "other"


def parse_raw(path: Path) -> Counter[str]:
    """py-spy's raw (collapsed) output: one ``stack count`` per line."""
    stacks: Counter[str] = Counter()
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks[stack] += int(count)
    return stacks


def summarise(stacks: Counter[str], bucket) -> list[tuple[str, int, float]]:
    """Samples per bucket; percentages are of the busy samples (idle ones left out)."""
    buckets: Counter[str] = Counter()
    for stack, count in stacks.items():
        buckets[bucket(stack)] += count
    busy = sum(n for name, n in buckets.items() if name != IDLE) or 1
    return [
        (name, n, 100 * n / busy if name != IDLE else float("nan"))
        for name, n in buckets.most_common()
    ]


def pyspy() -> str:
    found = servers._which("py-spy")
    if not found:
        raise SystemExit("py-spy is missing: pip install py-spy (the bench extra)")
    return found


def data_and_kinds(
    options: Options, folder: Path, sparql_only: bool = False
) -> tuple[Dataset, list[Item]]:
    """The data of ``folder`` (built there first if missing) and the request kinds of
    ``options.only`` (all when empty); a kind it does not know stops the tool, naming those
    it knows."""
    dataset = existing(folder) or prepare(options.scales[0], folder, options)
    items = sparql_items(BASE_IRI, dataset.params)
    if not sparql_only:
        items += http_items(dataset.params)
    unknown = sorted(set(options.only) - {i.name for i in items})
    if unknown:
        raise SystemExit(
            f"unknown request kind {', '.join(unknown)}; known: {', '.join(i.name for i in items)}"
        )
    if options.only:
        items = [i for i in items if i.name in options.only]
    return dataset, items


def start_served(
    options: Options, folder: Path, sparql_only: bool = False
) -> tuple[Dataset, list[Item], servers.Running]:
    """:func:`data_and_kinds`, and kommunen-kg serving the data as ``serve`` does."""
    dataset, items = data_and_kinds(options, folder, sparql_only)
    running = servers.start_kommunen_kg(
        dataset.config,
        dataset.graphs,
        folder / "kommunen-kg.log",
        options.workers,
        options.threads,
        options.wsgi_server,
    )
    return dataset, items, running


def profile_serving(options: Options, folder: Path, rate: int, gil: bool = False) -> dict:
    dataset, items, running = start_served(options, folder)
    found: dict = {}
    try:
        for item in items:
            if item.kind == "sparql":
                request = Request([sparql_path(running, item.cold)], item.accept, salted=True)
            else:
                resolved = resolve_routes(running, item)
                if isinstance(resolved, str):
                    found[item.name] = {"skipped": resolved}
                    continue
                request = Request(resolved[1], item.accept)
            raw = folder / f"profile-{item.name}{'-gil' if gil else ''}.txt"
            command = [
                pyspy(),
                "record",
                "--pid",
                str(running.process.pid),
                "--subprocesses",
                "--rate",
                str(rate),
                "--duration",
                str(int(options.duration)),
                "--format",
                "raw",
                "--output",
                str(raw),
                "--nonblocking",
            ]
            say(f"profiling {item.name}: {' '.join(command)}")
            sampler = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            time.sleep(0.5)
            result = run_load(running.base_url, request, options.duration, options.connections)
            sampler.wait(timeout=60)
            stacks = parse_raw(raw) if raw.exists() else Counter()
            found[item.name] = {
                "rps": result.rps,
                "p50_ms": result.p50_ms,
                "samples": sum(stacks.values()),
                "buckets": summarise(stacks, serve_bucket),
                "command": " ".join(command),
            }
    finally:
        running.stop()
    return {"dataset": dataset.build, "serving": found}


def profile_build(scale: int, folder: Path, options: Options, rate: int) -> dict:
    from .generate import generate

    data = folder / "data"
    if not data.exists():
        generate(scale, data, seed=options.seed)
    config = folder / "kommunen-kg-profile.toml"
    config.write_text(
        f'[dataset]\nbase_iri = "{BASE_IRI}"\n[paths]\nontology = "{servers.ROOT / "ontology"}"'
        f'\ndata = "data"\ngraphs = "graphs-profile"\n',
        encoding="utf-8",
    )
    raw = folder / "profile-build.txt"
    command = [
        pyspy(),
        "record",
        "--rate",
        str(rate),
        "--format",
        "raw",
        "--output",
        str(raw),
        "--nonblocking",
        "--",
        sys.executable,
        "-m",
        "bench.buildtime",
        "kommunen-kg",
        str(config),
    ]
    say(f"profiling the build: {' '.join(command)}")
    started = time.perf_counter()
    subprocess.run(command, cwd=servers.ROOT, check=True, capture_output=True, timeout=7200)
    stacks = parse_raw(raw)
    return {
        "wall_s": round(time.perf_counter() - started, 1),
        "samples": sum(stacks.values()),
        "buckets": summarise(stacks, build_bucket),
        "command": " ".join(command),
        "memory_note": "peak RSS: see the run's build table",
    }


def print_table(title: str, rows: list[tuple[str, int, float]], limit: int = 8) -> None:
    print(f"\n{title}")
    for name, n, pct in rows[:limit]:
        shown = "  idle" if name == IDLE else f"{pct:5.1f} %"
        print(f"  {shown}  {n:7d}  {name}")


@contextlib.contextmanager
def data_folder(keep: Path | None, prefix: str) -> Iterator[Path]:
    """``keep`` (made if missing, left in place), or a temporary folder removed afterwards."""
    folder = keep or Path(tempfile.mkdtemp(prefix=prefix))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        yield folder
    finally:
        if keep is None:
            shutil.rmtree(folder, ignore_errors=True)


def served_arguments(prog: str, description: str | None, workers: int) -> argparse.ArgumentParser:
    """The options of the tools that serve the data and load it: scale, seconds of load per
    request kind, server workers, request kinds, the data folder to (re)use."""
    parser = argparse.ArgumentParser(
        prog=prog, description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", default="1e5")
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=workers)
    parser.add_argument("--only", action="append", default=None, help="a request kind")
    parser.add_argument("--keep", type=Path, default=None, help="data folder to (re)use")
    return parser


def main(argv: list[str]) -> int:
    import json

    parser = served_arguments("python -m bench.profile", __doc__, workers=2)
    parser.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    parser.add_argument("--build", action="store_true", help="profile the build instead")
    parser.add_argument(
        "--gil",
        action="store_true",
        help="only samples of threads holding the GIL: Python CPU time, without the time "
        "threads spend waiting for the GIL or in pyoxigraph (which releases it)",
    )
    parser.add_argument("--out", type=Path, default=servers.ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    scale = parse_scale(args.scale)
    options = Options(
        scales=[scale],
        duration=args.duration,
        workers=args.workers,
        only=tuple(args.only or ()),
        naive=False,
    )
    with data_folder(args.keep, "bench-profile-") as folder:
        if args.build:
            result = {"build": profile_build(scale, folder, options, args.rate)}
            print_table(
                f"build at {scale_name(scale)} ({result['build']['wall_s']} s, py-spy):",
                result["build"]["buckets"],
                12,
            )
        else:
            result = profile_serving(options, folder, args.rate, args.gil)
            for name, found in result["serving"].items():
                if "buckets" in found:
                    print_table(
                        f"{name}: {found['rps']} req/s, {found['samples']} samples",
                        found["buckets"],
                    )
                else:
                    print(f"\n{name}: {found['skipped']}")
        args.out.mkdir(parents=True, exist_ok=True)
        kind = "build" if args.build else "serve-gil" if args.gil else "serve"
        path = args.out / f"profile-{kind}-{scale_name(scale)}.json"
        path.write_text(json.dumps(result, indent=2, default=list), encoding="utf-8")
        print(f"\n{path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
