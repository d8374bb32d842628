"""What a server publishes: a release (or ad-hoc RDF files) loaded into a store.

``kommunen-kg serve`` publishes the current release of ``graphs/``; ``kommunen-kg serve FILES``
publishes arbitrary RDF files, like ``rdflib-endpoint serve file.ttl``. Either way the views see
one :class:`Publication`: the configuration, the IRIs, the release manifest when there is one,
the store and the engines over it. The store is loaded once, before the server forks its
workers, so that every worker shares its memory.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from flask import Flask

from kommunen_kg.config import Config
from kommunen_kg.rdf.namespaces import GRAPH_NAMES, ProjectIRIs
from kommunen_kg.rdf.release import DUMP_STEM, METADATA_FILE, Release, ReleaseFolder
from kommunen_kg.rdf.sources import RDF_SUFFIXES, SourceError
from kommunen_kg.sparql.engine import ClientEngine, TrustedEngine
from kommunen_kg.sparql.engines import Engines, over_remote, over_store
from kommunen_kg.sparql.errors import QueryError
from kommunen_kg.sparql.exact_literals import ExactLiterals, restorations
from kommunen_kg.sparql.remote.engine import RemoteEngine, RemoteStoreError
from kommunen_kg.sparql.remote.versions import ReleaseNames
from kommunen_kg.sparql.statistics import STATISTICS_FILE, Statistics

# What stands for the version where ad-hoc files are served (ETags, kept answers).
ADHOC_VERSION = "adhoc"


@dataclass
class Publication:
    """Everything the web views need to answer; one per running server."""

    config: Config
    # None when a remote SPARQL store answers (``serve --store``): then ``trusted`` is given.
    store: ox.Store | None
    release: Release | None = None
    union_default_graph: bool = True
    sources: list[Path] = field(default_factory=list)
    # The engines of this release (sparql/engines.py): ``engines.client`` answers client
    # queries (the SPARQL endpoint; a pool of killable worker processes under ``serve``),
    # ``engines.trusted`` the queries our own views write. Views never touch ``store``
    # directly, so that a remote SPARQL store can stand in for both. Default: both in this
    # process, over ``store``.
    engines: Engines | None = None
    # Keep answers per release (answer_cache.py); off where a store is refilled in place.
    answer_cache: bool = True

    def __post_init__(self) -> None:
        if self.engines is None:
            if self.store is None:
                raise ValueError("a publication needs a store or its engines")
            self.engines = over_store(
                self.store,
                self.version,
                self.config.server,
                union_default_graph=self.union_default_graph,
                answer_cache=self.answer_cache,
            )
        # Counted once, before the server forks: counting scans the whole store, and a scan in
        # a forked worker would copy the store's pages into that worker.
        self._local_count = len(self.store) if self.store is not None else None

    @property
    def client(self) -> ClientEngine:
        """Answers client queries (the SPARQL endpoint)."""
        return self.engines.client  # type: ignore[union-attr]

    @property
    def trusted(self) -> TrustedEngine:
        """Answers the queries our own views write."""
        return self.engines.trusted  # type: ignore[union-attr]

    @property
    def iris(self) -> ProjectIRIs:
        return ProjectIRIs.from_config(self.config)

    @property
    def version(self) -> str:
        """The release version, or a stand-in for ad-hoc files (used in ETags)."""
        return self.release.version if self.release else ADHOC_VERSION

    def triple_count(self) -> int:
        """Triples served (all graphs).

        A remote store's count comes from the release manifest (the store holds that release:
        ``open_remote_store`` checked), not from a ``COUNT(*)`` over the whole store, which
        took 320-370 ms at 1e6 and is what load balancers would ask every few seconds."""
        if self._local_count is not None:
            return self._local_count
        counts = self.release.manifest.get("counts", {}) if self.release else {}
        if all(name in counts for name in GRAPH_NAMES):
            return sum(counts[name] for name in GRAPH_NAMES)
        rows = self.trusted.select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
        return int(rows[0]["n"].value) if rows else 0

    def check_reachable(self) -> None:
        """Raises EngineUnavailable or QueryTimeout when a remote store cannot answer; the
        cheapest question there is (an empty ASK), for the health check."""
        if self.store is None:
            self.trusted.ask("ASK {}")

    def close(self) -> None:
        if self.engines is not None:
            self.engines.close()


def load_release_store(release: Release, store: ox.Store | None = None) -> ox.Store:
    """An in-memory store holding every named graph of a release.

    WHY ``load``, not ``bulk_load``: for an in-memory store, measured at 1.45e6 triples,
    ``load`` takes 3.2 s instead of 3.9, holds 440 MB instead of 486, peaks 57 MB above that
    instead of 144 (the bulk loader's buffers), and its memory goes back to the system in full
    when the store is dropped (the bulk loader's threads leave about 200 MB in their malloc
    arenas): what a live switch needs, with two releases in memory for a while."""
    store = store if store is not None else ox.Store()
    store.load(path=str(release.file(DUMP_STEM + ".trig")), format=ox.RdfFormat.TRIG)
    store.load(path=str(release.file(METADATA_FILE)), format=ox.RdfFormat.TRIG)
    return store


def derived_files(config: Config, files: Mapping[str, bytes]) -> dict[str, bytes]:
    """What ``serve`` reads beside a release's dumps, made by ``build`` from the release's own
    files (so it indexes exactly what is served): the site index (``resource_index.py``) and
    the figures that bound client queries (``sparql/statistics.py``)."""
    from kommunen_kg.web.resource_index import INDEX_FILE, index_bytes

    store = ox.Store()
    store.load(input=files[DUMP_STEM + ".trig"], format=ox.RdfFormat.TRIG)
    store.load(input=files[METADATA_FILE], format=ox.RdfFormat.TRIG)
    union = config.server.union_default_graph
    engines = over_store(
        store, "build", config.server, union_default_graph=union, answer_cache=False
    )
    vocab = ProjectIRIs.from_config(config).vocab
    return {
        INDEX_FILE: index_bytes(engines.trusted, config.base_iri, vocab),
        STATISTICS_FILE: Statistics.of_store(store).to_json(),
    }


def release_statistics(release: Release, store: ox.Store) -> Statistics:
    """The figures ``build`` wrote beside the release, or (a release built before they were
    written) counted from the loaded store."""
    try:
        found = Statistics.from_json((release.path / STATISTICS_FILE).read_bytes())
    except OSError:
        found = None
    return found if found is not None else Statistics.of_store(store)


def open_release(config: Config, release: Release, *, pooled: bool = False) -> Publication:
    """A release loaded into a store here; ``pooled``: client queries in a query pool."""
    store = load_release_store(release)
    union = config.server.union_default_graph
    engines = over_store(
        store,
        release.version,
        config.server,
        union_default_graph=union,
        pooled=pooled,
        statistics=release_statistics(release, store) if pooled else None,
    )
    _with_exact_literals(engines, config, release)
    return Publication(
        config=config, store=store, release=release, union_default_graph=union, engines=engines
    )


def _with_exact_literals(engines: Engines, config: Config, release: Release) -> None:
    """The views' descriptions carry the release's literals, not the store's normal forms
    (``sparql/exact_literals.py``)."""
    graph = ProjectIRIs.from_config(config).graph("metadata")
    mapped = restorations(release.file(METADATA_FILE), graph)
    engines.trusted = ExactLiterals(engines.trusted, mapped)


def _files(paths: Iterable[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and _syntax_of(p) is not None)
        elif path.is_file():
            found.append(path)
        else:
            raise SourceError(path, "no such file or folder")
    return found


def _syntax_of(path: Path) -> ox.RdfFormat | None:
    name = path.name[:-3] if path.name.endswith(".gz") else path.name
    return RDF_SUFFIXES.get(Path(name).suffix)


def open_sources(config: Config, paths: Iterable[Path], *, pooled: bool = False) -> Publication:
    """Publishes arbitrary RDF files: triples into the default graph, quads keep their graph.
    ``pooled``: client queries in a query pool."""
    store = ox.Store()
    files = _files(paths)
    for path in files:
        fmt = _syntax_of(path)
        if fmt is None:
            raise SourceError(path, "unknown RDF syntax (use .ttl, .nt, .nq, .trig, .jsonld, .rdf)")
        try:
            if path.name.endswith(".gz"):
                with gzip.open(path, "rb") as f:
                    store.bulk_load(input=f, format=fmt, base_iri=path.resolve().as_uri())
            else:
                store.bulk_load(path=str(path), format=fmt, base_iri=path.resolve().as_uri())
        except SyntaxError as exc:
            raise SourceError(path, str(exc), exc.lineno, exc.offset) from exc
    union = config.server.union_default_graph
    return Publication(
        config=config,
        store=store,
        union_default_graph=union,
        sources=files,
        engines=over_store(
            store,
            ADHOC_VERSION,
            config.server,
            union_default_graph=union,
            pooled=pooled,
            statistics=Statistics.of_store(store) if pooled else None,
        ),
    )


# Where the application keeps the publication it serves (``app.extensions``).
EXTENSION_KEY = "kommunen_kg"


def publication_of(app: Flask) -> Publication:
    """The publication an application serves (views use ``current_app``)."""
    return app.extensions[EXTENSION_KEY]


def open_remote_store(config: Config, query_url: str, pool_size: int = 32) -> Publication:
    """A publication answered entirely by a remote store (``kommunen-kg serve --store``).

    The data comes from the store: the release its pointer names (``kommunen-kg publish``
    loads releases side by side, see ``sparql/remote/versions.py``), or, in a store loaded
    under the public graph names by other means, the release its metadata graph names. The
    release manifest (dumps, checksums, the catalog's file list) comes from graphs/. A store
    holding a release that graphs/ lacks is refused rather than served with the manifest of
    another release.
    """
    iris = ProjectIRIs.from_config(config)
    public = [iris.graph(name) for name in GRAPH_NAMES]
    engine = RemoteEngine(
        query_url,
        graphs=public,
        union_default_graph=config.server.union_default_graph,
        timeout=config.server.query_timeout,
        pool_size=pool_size,
    )
    try:
        version = engine.current_release()
        side_by_side = version is not None
        if version is None:
            version = engine.release_version(iris.graph("metadata"), iris.dataset)
    except QueryError as exc:
        raise RemoteStoreError(f"cannot read the SPARQL store {query_url}: {exc}") from exc
    if version is None:
        raise RemoteStoreError(
            f"the SPARQL store {query_url} holds no release of <{iris.dataset}> "
            f"(no dcat:version in <{iris.graph('metadata')}>); "
            f"load one with: kommunen-kg publish --store {query_url}"
        )
    release = ReleaseFolder(config.graphs_dir).read(version)
    if release is None:
        raise RemoteStoreError(
            f"the SPARQL store holds release {version}, but {config.graphs_dir} lacks it: "
            f"copy releases/{version} there, or publish the current release into the store"
        )
    if side_by_side:
        engine.http.close()
        engine = RemoteEngine(
            query_url,
            union_default_graph=config.server.union_default_graph,
            timeout=config.server.query_timeout,
            pool_size=pool_size,
            names=ReleaseNames(dict(zip(GRAPH_NAMES, public, strict=True)), version),
        )
    engine.http.close()  # opened in this (master) process; workers open their own
    engines = over_remote(engine, release.version, cache_mb=config.server.answer_cache_size)
    _with_exact_literals(engines, config, release)
    return Publication(
        config=config,
        store=None,
        release=release,
        union_default_graph=config.server.union_default_graph,
        engines=engines,
    )
