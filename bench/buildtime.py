"""Timing the build, the naive pipeline and ``oxigraph load``, each in a fresh process.

Run as ``python -m bench.buildtime kommunen-kg CONFIG`` or
``python -m bench.buildtime naive ONTOLOGY_DIR DATA_DIR BASE_IRI``; each prints one JSON line
with its step timings and its peak memory (``ru_maxrss``). A fresh process per measurement
keeps one step's memory and warmed caches from flattering the next.

The naive pipeline is what a Python project without our build would do: rdflib parses every
file, pyshacl validates the data and the theme scheme against the shapes with the vocabulary
as ontology graph (the same call our build makes).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_build(config_path: str) -> dict:
    from kommunen_kg.build.pipeline import build
    from kommunen_kg.config import load_config
    from kommunen_kg.web.publication import derived_files

    config = load_config(config_path)
    started = time.perf_counter()
    # as `kommunen-kg build` does: the dumps, and the site index beside them
    result = build(config, derived=lambda files: derived_files(config, files))
    wall = time.perf_counter() - started
    release = result.release
    return {
        "wall_s": round(wall, 3),
        "steps_s": {k: round(v, 3) for k, v in result.timings.items()},
        "peak_rss_mib": round(_peak_mib(), 1),
        "passes": result.report.passes,  # no violation (notes are allowed)
        "triples": release.manifest["counts"],
        "release": str(release.path),
        "version": release.version,
    }


def measure_naive(ontology: str, data: str, base: str) -> dict:
    import rdflib
    from pyshacl import validate

    def files(folder: str) -> list[Path]:
        return sorted(p for p in Path(folder).rglob("*.ttl") if p.is_file())

    started = time.perf_counter()
    vocabulary, shapes, data_graph = rdflib.Graph(), rdflib.Graph(), rdflib.Graph()
    for path in files(ontology):
        target = (
            shapes
            if path.name.startswith("shapes")
            else data_graph
            if path.name.startswith("themes")
            else vocabulary
        )
        target.parse(path, format="turtle", publicID=base)
    for path in files(data):
        data_graph.parse(path, format="turtle", publicID=base)
    parsed = time.perf_counter()
    conforms, _report, _text = validate(
        data_graph,
        shacl_graph=shapes,
        ont_graph=vocabulary,
        inference="none",
        allow_infos=True,
        allow_warnings=True,
    )
    validated = time.perf_counter()
    return {
        "wall_s": round(validated - started, 3),
        "steps_s": {"parse": round(parsed - started, 3), "validate": round(validated - parsed, 3)},
        "peak_rss_mib": round(_peak_mib(), 1),
        "conforms": bool(conforms),
        "triples": len(data_graph) + len(vocabulary) + len(shapes),
    }


def run_measurement(args: list[str], timeout: float = 7200) -> dict:
    """Runs one measurement in a fresh interpreter and returns its JSON."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bench.buildtime", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=Path(__file__).resolve().parent.parent,
    )
    if done.returncode != 0:
        return {"error": done.stderr.strip()[-2000:], "wall_s": time.perf_counter() - started}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> int:
    if argv[:1] == ["kommunen-kg"] and len(argv) == 2:
        print(json.dumps(measure_build(argv[1])))
        return 0
    if argv[:1] == ["naive"] and len(argv) == 4:
        print(json.dumps(measure_naive(*argv[1:])))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
