"""Loads a release into a remote SPARQL store, so that readers never see half of it.

``kommunen-kg publish --store URL`` puts the five graphs of a release into the store, one named
graph per part (``{base}graph/vocabulary|themes|shapes|data|metadata``), replacing what is
there. The order of operations is what keeps readers safe:

1. **stage**: every part is uploaded under a new name, ``{base}graph/{version}/{part}``, with the
   SPARQL 1.1 Graph Store HTTP Protocol (``PUT`` of the first chunk, ``POST`` of the rest; every
   triple with a blank node goes in the first chunk, so that stores which scope blank-node
   labels per request keep them joined). Nothing a reader of ``kommunen-kg serve --store`` asks
   names these graphs (:mod:`kommunen_kg.sparql.remote` always names the five stable graphs),
   so a slow or failed upload is invisible.
2. **verify**: one SPARQL ``COUNT`` per staged graph must equal the triples of the release.
   On a mismatch or any error the staged graphs are dropped and the served release is
   untouched.
3. **switch**: ONE SPARQL Update request, ``MOVE GRAPH <staged> TO GRAPH <stable>`` for every
   part. MOVE replaces the target's content and removes the source.
4. **check**: the stable graphs hold the new counts and the metadata graph names the new
   version.

What a reader sees during the switch depends on the store's transactions:

* Oxigraph (server 0.4/0.5): one update request runs in one storage transaction, and every
  query reads one snapshot; a reader sees the whole old or the whole new release, never a mix.
  (Oxigraph's Graph Store ``PUT`` is *not* atomic, clear and load are two steps; that is why
  nothing is ever PUT into a graph readers use.) Apache Jena Fuseki (TDB2), GraphDB and
  other RDF4J stores also run one update request as one transaction.
* Stores without transactional updates (Virtuoso in its default autocommit mode, for one): the
  switch is a few MOVEs that run one after another; for the time they take, a reader may see
  some parts new and others old, or a part briefly empty. Every part is complete before the
  switch starts, and the switch takes as long as copying the graphs inside the store.

Operations relied on: Graph Store Protocol PUT and POST with ``?graph=`` (on Oxigraph with
``no_transaction``, its bulk loader, for the staged graphs only); SPARQL Update ``MOVE``,
``DROP SILENT``; SPARQL Query ``COUNT``. One publisher at a time per store.
Credentials, where a store wants them, go in the URLs (``http://user:password@host/...``).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pyoxigraph as ox
import requests

from kommunen_kg.rdf.namespaces import GRAPH_NAMES, ProjectIRIs
from kommunen_kg.rdf.release import DUMP_STEM, METADATA_FILE, Release
from kommunen_kg.sparql.errors import QueryError
from kommunen_kg.sparql.remote.client import HttpClient, StoreEndpoints
from kommunen_kg.sparql.remote.engine import RemoteEngine

Progress = Callable[[str], None]


class PublishFailed(Exception):
    """The release could not be loaded; the store still serves what it served before."""


@dataclass
class PublishResult:
    version: str
    previous: str | None
    graphs: dict[str, str]
    counts: dict[str, int]
    timings: dict[str, float] = field(default_factory=dict)


def staging_graph(base: str, version: str, part: str) -> str:
    """Where a part is loaded before the switch: ``{base}graph/{version}/{part}``."""
    return f"{base}graph/{version}/{part}"


def release_graphs(release: Release) -> dict[str, set[ox.Triple]]:
    """The triples of every part of a release, read from its TriG files.

    Blank nodes get fresh labels on every read, so that a publish never joins its blank nodes
    with ones the store already holds.
    """
    by_iri = {iri: part for part, iri in release.manifest["graphs"].items()}
    graphs: dict[str, set[ox.Triple]] = defaultdict(set)
    for name in (DUMP_STEM + ".trig", METADATA_FILE):
        for quad in ox.parse(
            path=str(release.file(name)), format=ox.RdfFormat.TRIG, rename_blank_nodes=True
        ):
            graph = quad.graph_name
            part = by_iri.get(graph.value) if isinstance(graph, ox.NamedNode) else None
            if part is None:
                raise PublishFailed(f"{name} holds a graph the manifest does not name: {graph}")
            graphs[part].add(quad.triple)
    return {part: graphs.get(part, set()) for part in release.manifest["graphs"]}


def _has_blank_node(triple: ox.Triple) -> bool:
    return isinstance(triple.subject, ox.BlankNode) or isinstance(triple.object, ox.BlankNode)


def chunks(triples: set[ox.Triple], size: int) -> Iterator[list[ox.Triple]]:
    """The upload requests of one graph: the first holds every triple with a blank node."""
    joined = [t for t in triples if _has_blank_node(t)]
    plain = [t for t in triples if not _has_blank_node(t)]
    first = max(0, size - len(joined))
    yield joined + plain[:first]
    for start in range(first, len(plain), size):
        yield plain[start : start + size]


class StorePublisher:
    """Publishes releases into one store; see the module docstring for the protocol."""

    def __init__(
        self,
        endpoints: StoreEndpoints,
        timeout: float = 600.0,
        chunk_size: int = 100_000,
        progress: Progress | None = None,
    ):
        if endpoints.update is None or endpoints.graph_store is None:
            raise PublishFailed(
                f"cannot tell the update and Graph Store endpoints of {endpoints.query}: "
                "give --update URL and --graph-store URL"
            )
        self.endpoints = endpoints
        self.timeout = timeout
        self.chunk_size = chunk_size
        self.say = progress or (lambda _msg: None)
        self.http = HttpClient(pool_size=2)
        # Reads the store as it is, all named graphs visible (staged ones included).
        self.inspector = RemoteEngine(endpoints.query, graphs=None, timeout=timeout)

    # --- HTTP -----------------------------------------------------------------------------

    def _call(self, method: str, url: str, **kwargs) -> requests.Response:
        try:
            response = self.http.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise PublishFailed(f"cannot reach the store at {url}: {exc}") from exc
        if not 200 <= response.status_code < 300:
            raise PublishFailed(
                f"{method} {response.url} answered {response.status_code}: "
                f"{response.text.strip()[:500]}"
            )
        return response

    def update(self, text: str) -> None:
        """One SPARQL Update request (one transaction on stores that have them)."""
        self._call(
            "POST",
            self.endpoints.update,  # type: ignore[arg-type]
            data=text.encode("utf-8"),
            headers={"Content-Type": "application/sparql-update"},
        )

    def is_oxigraph(self) -> bool:
        """Whether the Graph Store endpoint is Oxigraph's (it says so in its Server header)."""
        try:
            response = self.http.session.head(self.endpoints.graph_store, timeout=30)  # type: ignore[arg-type]
        except requests.RequestException:
            return False
        return response.headers.get("Server", "").lower().startswith("oxigraph")

    def upload(self, graph: str, triples: set[ox.Triple], bulk: bool = False) -> None:
        """Replaces a graph's content through the Graph Store Protocol, chunk by chunk.

        ``bulk`` asks Oxigraph for its bulk loader (``no_transaction``), about five times
        faster; it is not atomic, which does not matter for a staged graph nobody reads and
        whose count is checked before the switch.
        """
        params = {"graph": graph, **({"no_transaction": ""} if bulk else {})}
        for number, chunk in enumerate(chunks(triples, self.chunk_size)):
            self._call(
                "PUT" if number == 0 else "POST",
                self.endpoints.graph_store,  # type: ignore[arg-type]
                params=params,
                data=ox.serialize(chunk, format=ox.RdfFormat.N_TRIPLES),
                headers={"Content-Type": "application/n-triples"},
            )

    def counts(self, graphs: list[str]) -> dict[str, int]:
        """Triples per named graph, by the store's own COUNT (graphs it lacks count 0)."""
        values = " ".join(f"<{g}>" for g in graphs)
        try:
            rows = self.inspector.select(
                f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {values} }} "
                "GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
            )
        except QueryError as exc:
            raise PublishFailed(f"cannot count the graphs in the store: {exc}") from exc
        found = {row["g"].value: int(row["n"].value) for row in rows if "g" in row}
        return {g: found.get(g, 0) for g in graphs}

    def version_in_store(self, iris: ProjectIRIs) -> str | None:
        try:
            return self.inspector.release_version(iris.graph("metadata"), iris.dataset)
        except QueryError as exc:
            raise PublishFailed(f"cannot read the store at {self.endpoints.query}: {exc}") from exc

    # --- the protocol -----------------------------------------------------------------------

    def publish(self, release: Release, dataset_slug: str | None = None) -> PublishResult:
        """``dataset_slug``: the configuration's ``[dataset] dataset_slug`` (default: ours)."""
        timings: dict[str, float] = {}
        started = time.perf_counter()
        version = release.version
        iris = ProjectIRIs(release.manifest["base_iri"])
        if dataset_slug:
            iris = ProjectIRIs(iris.base, dataset_slug)
        stable = dict(release.manifest["graphs"])
        if set(stable) != set(GRAPH_NAMES):
            raise PublishFailed(f"release {version} does not have the graphs {GRAPH_NAMES}")
        staged = {part: staging_graph(iris.base, version, part) for part in stable}

        previous = self.version_in_store(iris)
        self.say(f"reading release {version}")
        graphs = release_graphs(release)
        expected = {part: len(triples) for part, triples in graphs.items()}
        for part, count in expected.items():
            if count != release.manifest["counts"].get(part, count):
                raise PublishFailed(
                    f"release {version}: {part} has {count} triples, the manifest says "
                    f"{release.manifest['counts'][part]}"
                )
        timings["read"] = time.perf_counter() - started

        step = time.perf_counter()
        bulk = self.is_oxigraph()
        try:
            for part, triples in graphs.items():
                self.say(f"loading {len(triples)} triples into <{staged[part]}>")
                self.upload(staged[part], triples, bulk)
            timings["load"] = time.perf_counter() - step
            step = time.perf_counter()
            counts = self.counts(list(staged.values()))
            wrong = [
                f"{part}: {counts[staged[part]]} of {expected[part]}"
                for part in stable
                if counts[staged[part]] != expected[part]
            ]
            if wrong:
                raise PublishFailed(f"the store did not take every triple ({'; '.join(wrong)})")
            timings["verify"] = time.perf_counter() - step
        except BaseException:
            self._drop_quietly(staged.values())
            raise

        step = time.perf_counter()
        self.say(f"switching {len(stable)} graphs to release {version} in one update")
        operations = [
            f"MOVE GRAPH <{staged[part]}> TO GRAPH <{stable[part]}>"
            if expected[part]
            else f"DROP SILENT GRAPH <{stable[part]}> ;\nDROP SILENT GRAPH <{staged[part]}>"
            for part in stable
        ]
        try:
            self.update(" ;\n".join(operations))
        except PublishFailed:
            self._drop_quietly(staged.values())
            raise
        timings["switch"] = time.perf_counter() - step

        counts = self.counts(list(stable.values()))
        wrong = [part for part in stable if counts[stable[part]] != expected[part]]
        now = self.version_in_store(iris)
        if wrong or now != version:
            raise PublishFailed(
                f"after the switch the store holds version {now} and differs in "
                f"{', '.join(wrong) or 'nothing'}: was another publish running?"
            )
        timings["total"] = time.perf_counter() - started
        return PublishResult(
            version, previous, stable, {stable[p]: expected[p] for p in stable}, timings
        )

    def _drop_quietly(self, graphs) -> None:
        """Removes staged graphs after a failure; the served graphs were never touched."""
        try:
            self.update(" ;\n".join(f"DROP SILENT GRAPH <{g}>" for g in graphs))
        except PublishFailed as exc:
            self.say(f"could not remove the staged graphs: {exc}")

    def close(self) -> None:
        self.http.close()
        self.inspector.close()


def publish(
    release: Release,
    endpoints: StoreEndpoints,
    progress: Progress | None = None,
    timeout: float = 600.0,
    dataset_slug: str | None = None,
) -> PublishResult:
    """Loads ``release`` into the store behind ``endpoints`` and makes it the served one."""
    publisher = StorePublisher(endpoints, timeout=timeout, progress=progress)
    try:
        return publisher.publish(release, dataset_slug)
    finally:
        publisher.close()
