"""The build: sources in, a validated, enriched, versioned release out.

parse (a syntax error names file and line) -> validate (a SHACL violation stops the build) ->
enrich (super-classes, super-properties, inverses) -> validate again what the release
publishes, the enriched graph -> serialise (reproducible dumps) -> describe (VoID, DCAT, PROV)
-> publish (atomically, see ``rdf/release.py``).

Nothing is written before validation has passed, and nothing becomes visible before every
file is on disk, so a failing or interrupted build leaves the last good release served.

The triples live in one in-memory Oxigraph store from parsing to writing (see
:class:`sources.ParsedSources`): validation runs SPARQL over it, enrichment is SPARQL Update in
it, and each dump is written from its graphs' N-Triples, sorted as lines of bytes. No Python
object per triple is kept, which is what lets a million triples build in a few hundred
megabytes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import hashlib
import json
import os
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox

from kommunen_kg import __version__
from kommunen_kg.build.metadata import (
    LINK_TARGETS,
    RETIRING,
    DumpFile,
    Statistics,
    metadata_triples,
    vocabularies_used,
)
from kommunen_kg.build.validate import SEVERITIES, Problem, ValidationReport, validate_sources
from kommunen_kg.config import Config, DatasetConfig
from kommunen_kg.rdf.dumps import (
    DATASET_DUMPS,
    GRAPH_DUMPS,
    canonical_quads,
    chunk_lines,
    chunked_text,
    graph_lines,
    merge_lines,
    quad_chunks,
    serialise,
    serialise_chunks,
    sha256,
)
from kommunen_kg.rdf.entailment import Entailments
from kommunen_kg.rdf.namespaces import ProjectIRIs
from kommunen_kg.rdf.release import (
    DUMP_STEM,
    METADATA_FILES,
    Release,
    ReleaseFolder,
)
from kommunen_kg.rdf.sources import ParsedSources, SourceError, discover, parse_sources

CONTENT_GRAPHS = ("vocabulary", "themes", "shapes", "data")
KNOWLEDGE_GRAPH = ("vocabulary", "themes", "data")


@dataclass(frozen=True)
class Step:
    """One line of a build's progress, in both languages the command line speaks (the
    documentation team runs ``build --lang de``; every line they read is German then)."""

    en: str
    de: str

    def text(self, lang: str) -> str:
        return self.de if lang == "de" else self.en


Progress = Callable[[Step], None]


class BuildFailed(Exception):
    """The sources cannot be released; ``report`` (validation) or the message says why."""

    def __init__(
        self, message: str, report: ValidationReport | None = None, *, german: str | None = None
    ):
        super().__init__(message)
        self.report = report
        self.german = german  # the same message in German, for ``--lang de``

    def text(self, lang: str) -> str:
        """The message in ``lang`` (German where one was given, else English)."""
        return self.german if lang == "de" and self.german else str(self)


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
        raise BuildFailed(
            f"no data files found in {config.data_dir}",
            german=f"keine Datendateien in {config.data_dir} gefunden",
        )
    return parse_sources(sources, config.base_iri, config.root)


def check(
    config: Config, sources: ParsedSources | None = None, validator: str = "fast"
) -> ValidationReport:
    """Parses and validates without writing anything (``kommunen-kg validate``)."""
    return validate_sources(sources or load_sources(config), config.base_iri, validator=validator)


def check_as_published(
    config: Config, sources: ParsedSources | None = None, validator: str = "fast"
) -> ValidationReport:
    """``check``, and when the sources pass, the same check of the enriched graph the build
    would publish (``kommunen-kg validate``): what the build would stop on, the validate
    command reports."""
    sources = sources or load_sources(config)
    report = check(config, sources, validator)
    if not report.passes:
        return report
    enrich(sources)
    published = check(config, sources, validator)
    return published if not published.passes else with_published(report, published)


def enrich(sources: ParsedSources) -> None:
    """Writes what the vocabulary entails into the themes and data graphs of the sources'
    store: super-classes, super-properties and inverses (see ``rdf/entailment.py``)."""
    entailments = Entailments(sources.triples("vocabulary"))
    for name in ("themes", "data"):
        entailments.apply_in_store(sources.store, sources.graph(name))


# Why the build stops when the sources pass and the enriched graph does not: the shapes are
# published with the release and speak of what it holds, and consumers validate the dumps.
PUBLISHED_FAILS = (
    "the data conforms to the shapes, but the release would not: the triples the vocabulary "
    "entails (super-classes, super-properties, inverses), which the build writes out, break a "
    "shape; the shape or the vocabulary says something wrong"
)
PUBLISHED_FAILS_DE = (
    "die Daten entsprechen den Shapes, die Veröffentlichung aber nicht: die Tripel, die aus dem "
    "Vokabular folgen (Oberklassen, Obereigenschaften, Umkehrungen) und die der Build mit "
    "ausschreibt, verletzen eine Shape; die Shape oder das Vokabular sagt etwas Falsches"
)


def _problem_key(problem: Problem) -> tuple:
    return (
        problem.severity,
        problem.focus,
        problem.path,
        problem.value,
        problem.component,
        problem.shape,
    )


def with_published(report: ValidationReport, published: ValidationReport) -> ValidationReport:
    """The sources' report plus the warnings and notes that only the enriched graph gives (a
    shape on a super-property, say), so that the build's one report names everything the
    release is told about; each severity's problems stay together."""
    seen = {_problem_key(p) for p in report.problems}
    extra = [p for p in published.problems if _problem_key(p) not in seen]
    if not extra:
        return report
    problems = sorted([*report.problems, *extra], key=lambda p: SEVERITIES.index(p.severity))
    return dataclasses.replace(report, problems=problems)


# [dataset] keys added after releases were published: they count towards the version only when
# set to something other than their default, so that the same sources and settings keep it.
LATER_DATASET_KEYS = ("dataset_slug", "root_resource", "example_resources")


def _version(files: dict[str, bytes], config: Config) -> str:
    """A version derived from the content and the configuration that shapes the metadata."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(f"{name} {sha256(files[name])}\n".encode())
    dataset = dict(vars(config.dataset))
    defaults = DatasetConfig()
    for key in LATER_DATASET_KEYS:
        if dataset[key] == getattr(defaults, key):
            del dataset[key]
    settings = {
        "base": config.base_iri,
        "public": config.public_url,
        "dataset": dataset,
        "publisher": vars(config.publisher),
        "contact": vars(config.contact),
        "builder": __version__,
    }
    digest.update(json.dumps(settings, sort_keys=True).encode())
    return digest.hexdigest()[:12]


def release_free_memory() -> None:
    """Hands freed heap memory back to the system (glibc keeps it otherwise, and the store's
    Rust allocations are many and small); a no-op where there is no glibc."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _write_formats(
    files: dict[str, bytes],
    counts: dict[str, int],
    pool: ThreadPoolExecutor,
    text: list[bytes],
    count: int,
    prefixes: dict[str, str],
    formats: tuple = DATASET_DUMPS,
) -> None:
    """Every dump of ``formats`` from one sorted text (in chunks)."""
    compressed = {
        fmt.suffix: pool.submit(serialise_chunks, text, fmt, prefixes)
        for fmt in formats
        if fmt.gzip
    }
    for fmt in formats:
        counts[DUMP_STEM + fmt.suffix] = count
        if not fmt.gzip:
            files[DUMP_STEM + fmt.suffix] = serialise_chunks(text, fmt, prefixes)
    for suffix, future in compressed.items():
        files[DUMP_STEM + suffix] = future.result()
    release_free_memory()


def store_statistics(store: ox.Store, graphs: list[ox.NamedNode], base_iri: str) -> Statistics:
    """The VoID statistics of the knowledge graph, counted by Oxigraph over the union of
    ``graphs`` instead of triple by triple in Python (a triple in two graphs counts once, as in
    the knowledge-graph dump; tests/test_shacl_fast.py keeps the count in Python as oracle)."""
    from kommunen_kg.rdf.namespaces import OWL, RDF_TYPE

    def select(query: str):
        return store.query(query, default_graph=graphs)

    unique = "{ SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }"
    properties = Counter(
        {
            row["p"].value: int(row["n"].value)
            for row in select(f"SELECT ?p (COUNT(*) AS ?n) WHERE {{ {unique} }} GROUP BY ?p")
        }
    )
    classes = Counter(
        {
            row["c"].value: int(row["n"].value)
            for row in select(
                f"SELECT ?c (COUNT(*) AS ?n) WHERE {{ SELECT DISTINCT ?s ?c WHERE "
                f"{{ ?s <{RDF_TYPE}> ?c FILTER(isIRI(?c)) }} }} GROUP BY ?c"
            )
        }
    )
    distinct = next(
        iter(
            select(
                "SELECT (COUNT(DISTINCT ?s) AS ?subjects) (COUNT(DISTINCT ?o) AS ?objects) "
                "WHERE { ?s ?p ?o }"
            )
        )
    )
    # Not an entity: an IRI that data/redirects.ttl moves or removes (untyped, retiring).
    retiring = " UNION ".join(f"{{ ?s <{p}> ?r }}" for p in RETIRING)
    entities = next(
        iter(
            select(
                "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s ?p ?o "
                f'FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{base_iri}id/")) '
                f"FILTER(EXISTS {{ ?s <{RDF_TYPE}> ?t }} || NOT EXISTS {{ {retiring} }}) }}"
            )
        )
    )
    links: Counter = Counter()
    for row in select(f"SELECT DISTINCT ?s ?o WHERE {{ ?s <{OWL}sameAs> ?o FILTER(isIRI(?o)) }}"):
        for slug, namespace, _title, _home in LINK_TARGETS:
            if row["o"].value.startswith(namespace):
                links[slug] += 1
    return Statistics(
        triples=sum(properties.values()),
        entities=int(entities["n"].value),
        distinct_subjects=int(distinct["subjects"].value),
        distinct_objects=int(distinct["objects"].value),
        classes=classes,
        properties=properties,
        links=links,
    )


def _subject_of(line: bytes) -> bytes:
    return line[: line.index(b" ")]


def _by_subject(lines: Iterable[bytes]) -> Iterator[tuple[bytes, list[bytes]]]:
    """Sorted N-Triples lines grouped by subject (a subject's lines are adjacent when sorted)."""
    subject, group = None, []
    for line in lines:
        s = _subject_of(line)
        if s != subject:
            if subject is not None:
                yield subject, group
            subject, group = s, []
        group.append(line)
    if subject is not None:
        yield subject, group


def _previous_lines(path: Path) -> Iterator[bytes]:
    """The previous release's N-Triples, line by line, checked to be in sorted order."""
    last = b""
    with gzip.open(path, "rb") as f:
        for line in f:
            if not line.strip():
                continue
            if not line.endswith(b"\n"):
                line += b"\n"
            if line < last:
                raise ValueError("not sorted")
            last = line
            yield line


def _changes(previous: Release | None, knowledge_graph: Iterable[bytes]) -> dict:
    """What this release changes against the one served before it.

    Both releases' knowledge graphs are sorted N-Triples lines, so they are compared by one
    merge, subject by subject, without holding the previous release in memory.
    """
    if previous is None:
        return {}
    path = previous.file(DUMP_STEM + ".nt.gz")
    added = removed = 0
    new_subjects, old_subjects, changed = [], [], []
    try:
        old_groups = _by_subject(_previous_lines(path))
        new_groups = _by_subject(knowledge_graph)
        old, new = next(old_groups, None), next(new_groups, None)
        while old is not None or new is not None:
            if new is None or (old is not None and old[0] < new[0]):
                removed += len(old[1])
                old_subjects.append(old[0])
                old = next(old_groups, None)
            elif old is None or new[0] < old[0]:
                added += len(new[1])
                new_subjects.append(new[0])
                new = next(new_groups, None)
            else:
                before, after = set(old[1]), set(new[1])
                added += len(after - before)
                removed += len(before - after)
                if before != after:
                    changed.append(new[0])
                old, new = next(old_groups, None), next(new_groups, None)
    except (OSError, EOFError, ValueError, gzip.BadGzipFile):
        return {"previous": previous.version, "note": "previous release unreadable"}

    def strip(subject: bytes) -> str:
        text = subject.decode("utf-8")
        return text[1:-1] if text.startswith("<") else text

    return {
        "previous": previous.version,
        "added_triples": added,
        "removed_triples": removed,
        "added": sorted(strip(s) for s in new_subjects),
        "removed": sorted(strip(s) for s in old_subjects),
        "changed": sorted(strip(s) for s in changed),
    }


@contextlib.contextmanager
def _writing(folder: ReleaseFolder) -> Iterator[None]:
    """A full disk, a read-only folder or a file in the way stops the build with one line that
    says where and why; the release folder is written atomically, so the last good release
    stays as it was."""
    try:
        yield
    except OSError as exc:
        where = exc.filename or folder.root
        reason = exc.strerror or exc
        raise BuildFailed(
            f"cannot write the release into {where}: {reason}",
            german=f"die Veröffentlichung kann nicht nach {where} geschrieben werden: {reason}",
        ) from exc


@dataclass(frozen=True)
class _Described:
    """What describing a release settled: when it was built, from which sources, how many
    metadata triples."""

    built_at: str
    source_version: str
    triples: int


def _describe(
    config: Config,
    version: str,
    stats: Statistics,
    files: dict[str, bytes],
    counts: dict[str, int],
    folder: ReleaseFolder,
    prefixes: dict[str, str],
) -> _Described:
    """Writes the metadata graph (VoID, DCAT-AP.de, PROV) of the dumps in ``files`` into
    ``files`` and ``counts``: it holds their sizes and checksums, so it comes last."""
    iris = ProjectIRIs.from_config(config)
    built_at = build_time()
    sources_at = source_version(config.root)
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
        example_resources=[iris.resource(r) for r in config.dataset.example_resources],
        first_issued=min([r.created for r in folder.all()] + [built_at]),
    )
    meta_quads = canonical_quads(
        ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(iris.graph("metadata")))
        for t in meta
    )
    for name, fmt in METADATA_FILES.items():
        files[name] = serialise(meta_quads, fmt, prefixes)
        counts[name] = len(meta_quads)
    return _Described(built_at, sources_at, len(meta_quads))


def _manifest(
    config: Config,
    version: str,
    described: _Described,
    files: dict[str, bytes],
    counts: dict[str, int],
    graph_counts: dict[str, int],
    changes: dict,
) -> dict:
    """The release's manifest.json: version, time, counts, and every file's size and SHA-256."""
    iris = ProjectIRIs.from_config(config)
    return {
        "version": version,
        "created": described.built_at,
        "base_iri": config.base_iri,
        "public_url": config.public_url,
        "source_version": described.source_version,
        "builder": f"kommunen-kg {__version__}",
        "graphs": {name: iris.graph(name) for name in (*CONTENT_GRAPHS, "metadata")},
        "counts": graph_counts,
        "files": [
            {
                "name": name,
                "size": len(data),
                "sha256": sha256(data),
                "triples": counts[name],
            }
            for name, data in sorted(files.items())
        ],
        "changes": changes,
    }


def build(
    config: Config,
    out: Path | None = None,
    progress: Progress | None = None,
    validator: str = "fast",
    derived: Callable[[Mapping[str, bytes]], Mapping[str, bytes]] | None = None,
) -> BuildResult:
    """Builds a release from the sources of ``config`` into ``out`` (default: graphs/).

    ``validator`` chooses the SHACL validator: ``fast`` (SPARQL over the store, pyshacl for
    any shape it cannot compile) or ``pyshacl`` (the reference, slow on large data).
    ``derived`` makes files the server reads beside the dumps from the release's files (the
    site index, ``web/resource_index.py``); they are written into the release folder in the
    same atomic step, but are neither dumps nor part of the version or the manifest.
    """
    say = progress or (lambda _msg: None)
    timings: dict[str, float] = {}
    iris = ProjectIRIs.from_config(config)
    folder = ReleaseFolder(out or config.graphs_dir)
    with _writing(folder):
        folder.clean_stale()

    started = time.perf_counter()
    say(
        Step(
            f"parsing sources in {config.ontology_dir} and {config.data_dir}",
            f"lese die Quellen in {config.ontology_dir} und {config.data_dir}",
        )
    )
    try:
        sources = load_sources(config)
    except SourceError as exc:
        raise BuildFailed(str(exc)) from exc
    timings["parse"] = time.perf_counter() - started

    step = time.perf_counter()
    say(Step("validating the data with the SHACL shapes", "prüfe die Daten mit den SHACL-Shapes"))
    report = check(config, sources, validator)
    timings["validate"] = time.perf_counter() - step
    if not report.passes:
        raise BuildFailed(
            "the data does not conform to the shapes",
            report,
            german="die Daten entsprechen nicht den Shapes",
        )

    step = time.perf_counter()
    say(
        Step(
            "materialising super-classes, super-properties and inverses",
            "ergänze Oberklassen, Obereigenschaften und Umkehrungen",
        )
    )
    enrich(sources)
    timings["enrich"] = time.perf_counter() - step

    step = time.perf_counter()
    say(
        Step(
            "validating the enriched data, as the release publishes it",
            "prüfe die ergänzten Daten, wie die Veröffentlichung sie enthält",
        )
    )
    published = check(config, sources, validator)
    timings["validate_published"] = time.perf_counter() - step
    if not published.passes:
        raise BuildFailed(PUBLISHED_FAILS, published, german=PUBLISHED_FAILS_DE)
    report = with_published(report, published)
    store = sources.store

    step = time.perf_counter()
    say(Step("writing reproducible dumps", "schreibe reproduzierbare Dumps"))
    prefixes = iris.prefixes()
    graph_of = {name: sources.graph(name) for name in CONTENT_GRAPHS}
    knowledge_graphs = [graph_of[name] for name in KNOWLEDGE_GRAPH]
    stats = store_statistics(store, knowledge_graphs, config.base_iri)
    lines = graph_lines(store, list(graph_of.values()))
    # From here on the graphs' sorted lines are all that is needed; the store's memory goes back.
    del store
    sources.store = ox.Store()
    release_free_memory()
    counts_by_graph = {name: len(lines[graph_of[name]]) for name in CONTENT_GRAPHS}
    files: dict[str, bytes] = {}
    counts: dict[str, int] = {}
    # One text at a time, the dataset dumps first: its text goes before the knowledge graph's
    # is made. gzip runs in a thread beside the other formats (zlib releases the GIL).
    with ThreadPoolExecutor(max_workers=1) as pool:
        quad_text = quad_chunks(lines)
        _write_formats(files, counts, pool, quad_text, sum(counts_by_graph.values()), prefixes)
        del quad_text
        kg_lines = merge_lines(*(lines[g] for g in knowledge_graphs))
        del lines
        kg_count = len(kg_lines)
        kg_text = chunked_text(kg_lines)
        del kg_lines
        changes = _changes(folder.current(), chunk_lines(kg_text))
        _write_formats(files, counts, pool, kg_text, kg_count, prefixes, GRAPH_DUMPS)
        del kg_text
    version = _version(files, config)
    timings["serialise"] = time.perf_counter() - step

    step = time.perf_counter()
    say(
        Step(
            f"describing release {version} (VoID, DCAT-AP.de, PROV)",
            f"beschreibe die Veröffentlichung {version} (VoID, DCAT-AP.de, PROV)",
        )
    )
    described = _describe(config, version, stats, files, counts, folder, prefixes)
    timings["describe"] = time.perf_counter() - step
    manifest = _manifest(
        config,
        version,
        described,
        files,
        counts,
        {**counts_by_graph, "metadata": described.triples, "knowledge_graph": kg_count},
        changes,
    )

    if derived is not None:
        step = time.perf_counter()
        say(
            Step(
                "indexing the release for the pages, the search and the query bounds",
                "verzeichne die Veröffentlichung für die Seiten, die Suche und die Abfragegrenzen",
            )
        )
        files.update(derived(files))
        timings["index"] = time.perf_counter() - step

    step = time.perf_counter()
    say(
        Step(
            f"publishing release {version} into {folder.root}",
            f"veröffentliche {version} in {folder.root}",
        )
    )
    with _writing(folder):
        release, reused = folder.publish(files, manifest)
    timings["publish"] = time.perf_counter() - step
    timings["total"] = time.perf_counter() - started
    return BuildResult(release, report, reused, timings)
