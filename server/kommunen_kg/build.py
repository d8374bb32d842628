"""The build: sources in, a validated, enriched, versioned release out.

parse (a syntax error names file and line) -> validate (a SHACL violation stops the build) ->
enrich (super-classes, super-properties, inverses) -> serialise (reproducible dumps) ->
describe (VoID, DCAT, PROV) -> publish (atomically, see :mod:`release`).

Nothing is written before validation has passed, and nothing becomes visible before every
file is on disk, so a failing or interrupted build leaves the last good release served.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox

from . import __version__
from .config import Config
from .dumps import DATASET_DUMPS, GRAPH_DUMPS, canonical_quads, serialise, sha256, sorted_triples
from .enrich import Entailments
from .metadata import DumpFile, metadata_triples, statistics, vocabularies_used
from .namespaces import ProjectIRIs
from .release import Release, ReleaseFolder
from .sources import ParsedSources, SourceError, discover, parse_sources
from .validate import ValidationReport, validate_sources

DUMP_STEM = "kommunen-innovativ"
METADATA_FILE = "metadata.trig"
CONTENT_GRAPHS = ("vocabulary", "themes", "shapes", "data")
KNOWLEDGE_GRAPH = ("vocabulary", "themes", "data")

Progress = Callable[[str], None]


class BuildFailed(Exception):
    """The sources cannot be released; ``report`` (validation) or the message says why."""

    def __init__(self, message: str, report: ValidationReport | None = None):
        super().__init__(message)
        self.report = report


@dataclass
class BuildResult:
    release: Release
    report: ValidationReport
    reused: bool
    timings: dict[str, float] = field(default_factory=dict)


def source_version(root: Path) -> str:
    """The git commit of the sources, marked when they have uncommitted changes."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "ontology", "data"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"
    return f"git {commit}" + (" with uncommitted changes" if dirty else "")


def build_time() -> str:
    """Now, in UTC; SOURCE_DATE_EPOCH (the reproducible-builds convention) overrides it."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC)
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def load_sources(config: Config) -> ParsedSources:
    sources = discover(config.ontology_dir, config.data_dir)
    if not any(s.graph == "data" for s in sources):
        raise BuildFailed(f"no data files found in {config.data_dir}")
    return parse_sources(sources, config.base_iri, config.root)


def check(config: Config, sources: ParsedSources | None = None) -> ValidationReport:
    """Parses and validates without writing anything (``kommunen-kg validate``)."""
    return validate_sources(sources or load_sources(config), config.base_iri)


def _version(files: dict[str, bytes], config: Config) -> str:
    """A version derived from the content and the configuration that shapes the metadata."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(f"{name} {sha256(files[name])}\n".encode())
    settings = {
        "base": config.base_iri,
        "public": config.public_url,
        "dataset": vars(config.dataset),
        "publisher": vars(config.publisher),
        "contact": vars(config.contact),
        "builder": __version__,
    }
    digest.update(json.dumps(settings, sort_keys=True).encode())
    return digest.hexdigest()[:12]


def _subjects(triples: set[ox.Triple]) -> dict[str, set[ox.Triple]]:
    by_subject: dict[str, set[ox.Triple]] = defaultdict(set)
    for t in triples:
        by_subject[str(t.subject)].add(t)
    return by_subject


def _changes(previous: Release | None, knowledge_graph: set[ox.Triple]) -> dict:
    """What this release changes against the one served before it."""
    if previous is None:
        return {}
    try:
        with gzip.open(previous.file(DUMP_STEM + ".nt.gz"), "rb") as f:
            before = {q.triple for q in ox.parse(f, format=ox.RdfFormat.N_TRIPLES)}
    except (OSError, SyntaxError):
        return {"previous": previous.version, "note": "previous release unreadable"}
    old, new = _subjects(before), _subjects(knowledge_graph)
    strip = lambda s: s[1:-1] if s.startswith("<") else s  # noqa: E731
    return {
        "previous": previous.version,
        "added_triples": len(knowledge_graph - before),
        "removed_triples": len(before - knowledge_graph),
        "added": sorted(strip(s) for s in new.keys() - old.keys()),
        "removed": sorted(strip(s) for s in old.keys() - new.keys()),
        "changed": sorted(strip(s) for s in new.keys() & old.keys() if new[s] != old[s]),
    }


def build(
    config: Config,
    out: Path | None = None,
    progress: Progress | None = None,
) -> BuildResult:
    """Builds a release from the sources of ``config`` into ``out`` (default: graphs/)."""
    say = progress or (lambda _msg: None)
    timings: dict[str, float] = {}
    iris = ProjectIRIs(config.base_iri)
    folder = ReleaseFolder(out or config.graphs_dir)
    folder.clean_stale()

    started = time.perf_counter()
    say(f"parsing sources in {config.ontology_dir} and {config.data_dir}")
    try:
        sources = load_sources(config)
    except SourceError as exc:
        raise BuildFailed(str(exc)) from exc
    timings["parse"] = time.perf_counter() - started

    step = time.perf_counter()
    say("validating the data with the SHACL shapes")
    report = check(config, sources)
    timings["validate"] = time.perf_counter() - step
    if not report.conforms:
        raise BuildFailed("the data does not conform to the shapes", report)

    step = time.perf_counter()
    say("materialising super-classes, super-properties and inverses")
    entailments = Entailments(sources.triples("vocabulary"))
    graphs: dict[str, set[ox.Triple]] = {
        "vocabulary": set(sources.triples("vocabulary")),
        "themes": entailments.apply(sources.triples("themes")),
        "shapes": set(sources.triples("shapes")),
        "data": entailments.apply(sources.triples("data")),
    }
    knowledge_graph = set().union(*(graphs[g] for g in KNOWLEDGE_GRAPH))
    timings["enrich"] = time.perf_counter() - step

    step = time.perf_counter()
    say("writing reproducible dumps")
    prefixes = iris.prefixes()
    kg_sorted = sorted_triples(knowledge_graph)
    quads = canonical_quads(
        ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(iris.graph(name)))
        for name in CONTENT_GRAPHS
        for t in graphs[name]
    )
    files: dict[str, bytes] = {}
    counts: dict[str, int] = {}
    for fmt in GRAPH_DUMPS:
        files[DUMP_STEM + fmt.suffix] = serialise(kg_sorted, fmt, prefixes)
        counts[DUMP_STEM + fmt.suffix] = len(kg_sorted)
    for fmt in DATASET_DUMPS:
        files[DUMP_STEM + fmt.suffix] = serialise(quads, fmt, prefixes)
        counts[DUMP_STEM + fmt.suffix] = len(quads)
    version = _version(files, config)
    timings["serialise"] = time.perf_counter() - step

    step = time.perf_counter()
    say(f"describing release {version} (VoID, DCAT-AP.de, PROV)")
    built_at = build_time()
    sources_at = source_version(config.root)
    stats = statistics(kg_sorted, config.base_iri)
    dump_files = [
        DumpFile(name, fmt, len(files[name]), sha256(files[name]), counts[name])
        for fmt in (*GRAPH_DUMPS, *DATASET_DUMPS)
        for name in [DUMP_STEM + fmt.suffix]
    ]
    meta = metadata_triples(
        config,
        version=version,
        built_at=built_at,
        source_version=sources_at,
        stats=stats,
        files=dump_files,
        vocabularies=vocabularies_used(stats, iris.vocab),
        example_resources=[
            iris.thing("event", "herbst-konferenz-2020-daseinsvorsorge-sichern"),
            iris.thing("project", "lebenswert"),
        ],
        first_issued=min([r.created for r in folder.all()] + [built_at]),
    )
    meta_quads = canonical_quads(
        ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(iris.graph("metadata")))
        for t in meta
    )
    files[METADATA_FILE] = serialise(meta_quads, DATASET_DUMPS[0], prefixes)
    counts[METADATA_FILE] = len(meta_quads)
    timings["describe"] = time.perf_counter() - step

    manifest = {
        "version": version,
        "created": built_at,
        "base_iri": config.base_iri,
        "public_url": config.public_url,
        "source_version": sources_at,
        "builder": f"kommunen-kg {__version__}",
        "graphs": {name: iris.graph(name) for name in (*CONTENT_GRAPHS, "metadata")},
        "counts": {
            **{name: len(graphs[name]) for name in CONTENT_GRAPHS},
            "metadata": len(meta_quads),
            "knowledge_graph": len(kg_sorted),
        },
        "files": [
            {
                "name": name,
                "size": len(data),
                "sha256": sha256(data),
                "triples": counts[name],
            }
            for name, data in sorted(files.items())
        ],
        "changes": _changes(folder.current(), knowledge_graph),
    }

    step = time.perf_counter()
    say(f"publishing release {version} into {folder.root}")
    release, reused = folder.publish(files, manifest)
    timings["publish"] = time.perf_counter() - step
    timings["total"] = time.perf_counter() - started
    return BuildResult(release, report, reused, timings)
