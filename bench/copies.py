"""What a forked process copies of pyoxigraph's in-memory store by reading it, and what the
copying costs.

WHY: the query processes (``server/kommunen_kg/sparql/pool/``) are forked after the store is
loaded, so they share its pages; but Oxigraph's in-memory storage writes to every quad node a
query visits (it upgrades the node's ``Weak`` reference, an atomic count, and locks the node's
version range), so each process that reads the store makes its own copy of what it read. That
keeps issue 13's memory target out of reach right after a cold run (bench/README.md, seventh
look). ``python -m bench.copies`` shows it on the data of ``--keep`` (built first if missing):

- loads the release into a ``pyoxigraph.Store`` as ``serve`` does (``load_release_store``);
- for each request kind (``--only``; all SPARQL kinds by default), forks a child that runs
  ``--runs`` cold variants of it one after the other: the child's private dirty pages after
  the first run and after all of them, and the first run's time against the median of the
  others (the difference is the copying, about 4 us a page on the machine of the README);
- then runs the same in this process, unforked: its anonymous memory grows by about nothing,
  which tells the copies (pages written) from allocations.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

from . import procs
from .generate import parse_scale
from .profile import data_and_kinds, data_folder, served_arguments
from .run import Options
from .workload import Item, cold_variant

MIB = 1024 * 1024


def _rollup(field: str) -> float:
    """A field of this process's ``/proc/self/smaps_rollup`` (lowercased name), in MiB."""
    return procs.rollup("self").get(field, 0) / MIB


def _run(store, text: str) -> float:
    """Milliseconds to evaluate a query and draw every row of its answer."""
    started = time.perf_counter()
    answer = store.query(text, use_default_graph_as_union=True)
    if not isinstance(answer, bool):  # ASK answers a bool; the others are drawn to the end
        for _ in answer:
            pass
    return (time.perf_counter() - started) * 1000


def in_a_child(store, item: Item, runs: int) -> dict:
    """Runs ``runs`` cold variants of ``item`` in a forked child; what the child measured."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: measure, report through the pipe, leave without cleaning up
        try:
            before = _rollup("private_dirty")
            times = [_run(store, cold_variant(item, 0))]
            after_first = _rollup("private_dirty")
            times += [_run(store, cold_variant(item, n)) for n in range(1, runs)]
            found = {
                "first_ms": round(times[0], 2),
                "next_ms": round(statistics.median(times[1:]), 2) if runs > 1 else None,
                "copied_first_mib": round(after_first - before, 1),
                "copied_mib": round(_rollup("private_dirty") - before, 1),
            }
            os.write(write, json.dumps(found).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        told = pipe.read()
    os.waitpid(pid, 0)
    return json.loads(told)


def unforked(store, item: Item, runs: int) -> float:
    """MiB by which this process's anonymous memory grows over the same runs."""
    before = _rollup("anonymous")
    for n in range(runs):
        _run(store, cold_variant(item, n))
    return round(_rollup("anonymous") - before, 1)


def measure(folder: Path, options: Options, runs: int) -> dict:
    from kommunen_kg.rdf.release import ReleaseFolder
    from kommunen_kg.web.publication import load_release_store

    dataset, items = data_and_kinds(options, folder, sparql_only=True)
    release = ReleaseFolder(dataset.graphs).current()
    if release is None:
        raise SystemExit(f"no current release under {dataset.graphs}")
    store = load_release_store(release)
    found = {item.name: in_a_child(store, item, runs) for item in items}
    for item in items:
        found[item.name]["unforked_growth_mib"] = unforked(store, item, runs)
    return found


def main(argv: list[str]) -> int:
    parser = served_arguments("python -m bench.copies", __doc__, workers=1)
    parser.add_argument("--runs", type=int, default=5, help="cold variants per request kind")
    parser.add_argument("--out", type=Path, default=None, help="also write the figures as JSON")
    args = parser.parse_args(argv)
    options = Options(scales=[parse_scale(args.scale)], only=tuple(args.only or ()), naive=False)
    with data_folder(args.keep, "bench-copies-") as folder:
        found = measure(folder, options, max(args.runs, 1))
    for name, row in found.items():
        print(
            f"{name:20s} first run {row['first_ms']:8.2f} ms, then {row['next_ms']} ms; "
            f"copied {row['copied_first_mib']} MiB by the first, {row['copied_mib']} MiB in all; "
            f"unforked: +{row['unforked_growth_mib']} MiB"
        )
    if args.out is not None:
        args.out.write_text(json.dumps(found, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
