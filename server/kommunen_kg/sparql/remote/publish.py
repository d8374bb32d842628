"""Loads a release into a remote SPARQL store beside the ones it holds, and switches to it.

``kommunen-kg publish --store URL`` makes a release the one every ``kommunen-kg serve --store``
answers from. Releases live side by side in the store under graph names of their own, and one
triple, the pointer, names the current one (the layout is in ``versions.py``). So switching
costs the same at 1e3 and 1e6 triples, and a server answers each request from one release.

1. **load** (skipped when the store holds the release already, complete): every part is
   uploaded under the release's own graph names, with the SPARQL 1.1 Graph Store HTTP Protocol
   (``PUT`` of the first chunk, ``POST`` of the rest; every triple with a blank node goes in
   the first chunk, so that stores which scope blank-node labels per request keep them
   joined; on Oxigraph with ``no_transaction``, its bulk loader). Nothing a reader asks names
   these graphs until the pointer does, so a slow or failed upload is invisible.
2. **verify**: one SPARQL ``COUNT`` per graph must equal the triples of the release; then the
   release is marked loaded. On a mismatch or any error its graphs are dropped and nothing
   else changes.
3. **switch**: ONE SPARQL Update request moves the pointer (a few triples in one small graph)
   and notes when the previous release stopped being current. Servers read the pointer once a
   second and switch (``web/live.py``).
4. **tidy**: releases that stopped being current more than ``keep_old_for`` seconds ago (at
   least a query's time limit plus the time servers take to switch) are dropped, as are the
   graphs of loads that never completed and the graphs of the older layout (one release under
   the public names, switched with ``MOVE``) once they are as old.

Operations relied on: Graph Store Protocol PUT and POST with ``?graph=``; SPARQL Update
``INSERT DATA``, ``DELETE WHERE``, ``DROP SILENT``; SPARQL Query ``COUNT``. One publisher at a
time per store. Credentials, where a store wants them, go in the URLs
(``http://user:password@host/...``).
"""

from __future__ import annotations

import datetime
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pyoxigraph as ox
import requests

from kommunen_kg.rdf.namespaces import GRAPH_NAMES, ProjectIRIs
from kommunen_kg.rdf.release import DUMP_STEM, METADATA_FILE, Release
from kommunen_kg.sparql.errors import QueryError
from kommunen_kg.sparql.remote.client import (
    PASSWORD_VARIABLE,
    USER_VARIABLE,
    HttpClient,
    StoreEndpoints,
    store_auth,
)
from kommunen_kg.sparql.remote.engine import RemoteEngine
from kommunen_kg.sparql.remote.versions import (
    CURRENT,
    LOADED,
    LOADING,
    POINTER_GRAPH,
    PREFIX,
    RETIRED,
    XSD_DATETIME,
    ReleaseNames,
    release_iri,
    versioned_graph,
)

Progress = Callable[[str], None]
# The older layout (one release under the public graph names), once a release replaced it.
LEGACY_VERSION = "public-names"
LEGACY = release_iri(LEGACY_VERSION)


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _forget(pattern: str) -> str:
    """The update that removes what matches ``pattern`` from the pointer graph."""
    return f"DELETE WHERE {{ GRAPH <{POINTER_GRAPH}> {{ {pattern} }} }}"


def _epoch(value: str) -> float:
    try:
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0  # unreadable: old enough


class PublishFailed(Exception):
    """The release could not be loaded; the store still serves what it served before."""


@dataclass
class PublishResult:
    version: str
    previous: str | None
    graphs: dict[str, str]
    counts: dict[str, int]
    timings: dict[str, float] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)  # releases removed from the store


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
        self.http = HttpClient(pool_size=2, auth=store_auth(endpoints.update))
        # Reads the store as it is, all named graphs visible (staged ones included).
        self.inspector = RemoteEngine(endpoints.query, graphs=None, timeout=timeout)

    # --- HTTP -----------------------------------------------------------------------------

    def _call(self, method: str, url: str, **kwargs) -> requests.Response:
        try:
            response = self.http.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise PublishFailed(f"cannot reach the store at {url}: {exc}") from exc
        if response.status_code == 401:
            raise PublishFailed(
                f"{method} {response.url} asks for credentials"
                + (" and refused the ones given" if self.http.auth is not None else "")
                + f": give them in {USER_VARIABLE} and {PASSWORD_VARIABLE}, or in ~/.netrc for "
                "the store's host"
            )
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
        """The current release: the one the pointer names, else (the older layout) the one
        the metadata graph under its public name names."""
        try:
            return self.inspector.current_release() or self.inspector.release_version(
                iris.graph("metadata"), iris.dataset
            )
        except QueryError as exc:
            raise PublishFailed(f"cannot read the store at {self.endpoints.query}: {exc}") from exc

    def releases(self) -> dict[str, dict[str, str]]:
        """What the pointer graph says of each release: predicate -> value."""
        try:
            rows = self.inspector.select(
                f"SELECT ?r ?p ?o WHERE {{ GRAPH <{POINTER_GRAPH}> {{ ?r ?p ?o }} }}"
            )
        except QueryError as exc:
            raise PublishFailed(f"cannot read the store at {self.endpoints.query}: {exc}") from exc
        found: dict[str, dict[str, str]] = {}
        for row in rows:
            subject = row["r"].value
            if subject.startswith(PREFIX):
                found.setdefault(subject[len(PREFIX) :], {})[row["p"].value] = row["o"].value
        return found

    # --- the protocol -----------------------------------------------------------------------

    def publish(
        self, release: Release, dataset_slug: str | None = None, keep_old_for: float = 600.0
    ) -> PublishResult:
        """``dataset_slug``: the configuration's ``[dataset] dataset_slug`` (default: ours);
        ``keep_old_for``: seconds a release that stopped being current stays in the store."""
        timings: dict[str, float] = {}
        started = time.perf_counter()
        version = release.version
        iris = ProjectIRIs(release.manifest["base_iri"])
        if dataset_slug:
            iris = ProjectIRIs(iris.base, dataset_slug)
        public = dict(release.manifest["graphs"])
        if set(public) != set(GRAPH_NAMES):
            raise PublishFailed(f"release {version} does not have the graphs {GRAPH_NAMES}")
        names = ReleaseNames(public, version)
        ours = {part: versioned_graph(version, part) for part in public}

        previous = self.version_in_store(iris)
        known = self.releases()
        expected = {part: int(n) for part, n in release.manifest["counts"].items()}
        step = time.perf_counter()
        complete = LOADED in known.get(version, {}) and self._complete(ours, expected)
        timings["check"] = time.perf_counter() - step
        if complete:
            self.say(f"the store holds release {version} already")
        else:
            self._load(release, names, ours, expected, timings)
        step = time.perf_counter()
        self.say(f"switching to release {version} (one update)")
        now = _now()
        operations = [
            _forget(f"<{POINTER_GRAPH}> <{CURRENT}> ?v"),
            _forget(f"<{release_iri(version)}> <{RETIRED}> ?t"),
        ]
        inserted = [f'<{POINTER_GRAPH}> <{CURRENT}> "{version}"']
        if previous and previous != version:
            retired = release_iri(previous) if previous in known else LEGACY
            inserted.append(f'<{retired}> <{RETIRED}> "{now}"^^<{XSD_DATETIME}>')
        operations.append(f"INSERT DATA {{ GRAPH <{POINTER_GRAPH}> {{ {' . '.join(inserted)} }} }}")
        self.update(" ;\n".join(operations))
        timings["switch"] = time.perf_counter() - step

        now_served = self.version_in_store(iris)
        if now_served != version:
            raise PublishFailed(
                f"after the switch the store names release {now_served}: "
                "was another publish running?"
            )
        step = time.perf_counter()
        dropped = self._tidy(version, public, keep_old_for)
        timings["tidy"] = time.perf_counter() - step
        timings["total"] = time.perf_counter() - started
        return PublishResult(
            version,
            previous,
            ours,
            {ours[p]: expected[p] for p in public},
            timings,
            dropped,
        )

    def _complete(self, graphs: dict[str, str], expected: dict[str, int]) -> bool:
        counts = self.counts(list(graphs.values()))
        return all(counts[graphs[part]] == expected[part] for part in graphs)

    def _load(
        self,
        release: Release,
        names: ReleaseNames,
        ours: dict[str, str],
        expected: dict[str, int],
        timings: dict[str, float],
    ) -> None:
        """Steps 1 and 2: the release's graphs loaded, counted and marked loaded."""
        version = release.version
        started = time.perf_counter()
        self.say(f"reading release {version}")
        graphs = release_graphs(release)
        for part, triples in graphs.items():
            if len(triples) != expected.get(part, len(triples)):
                raise PublishFailed(
                    f"release {version}: {part} has {len(triples)} triples, the manifest says "
                    f"{expected[part]}"
                )
        timings["read"] = time.perf_counter() - started
        marker = release_iri(version)
        self.update(
            _forget(f"<{marker}> <{LOADED}> ?t")
            + " ;\n"
            + " ;\n".join(f"DROP SILENT GRAPH <{g}>" for g in ours.values())
            + f' ;\nINSERT DATA {{ GRAPH <{POINTER_GRAPH}> {{ <{marker}> <{LOADING}> "{_now()}"'
            f"^^<{XSD_DATETIME}> }} }}"
        )
        step = time.perf_counter()
        bulk = self.is_oxigraph()
        try:
            for part, triples in graphs.items():
                self.say(f"loading {len(triples)} triples into <{ours[part]}>")
                self.upload(ours[part], {names.stored(t) for t in triples}, bulk)
            timings["load"] = time.perf_counter() - step
            step = time.perf_counter()
            counts = self.counts(list(ours.values()))
            wrong = [
                f"{part}: {counts[ours[part]]} of {expected[part]}"
                for part in ours
                if counts[ours[part]] != expected[part]
            ]
            if wrong:
                raise PublishFailed(f"the store did not take every triple ({'; '.join(wrong)})")
            self.update(
                f'INSERT DATA {{ GRAPH <{POINTER_GRAPH}> {{ <{marker}> <{LOADED}> "{_now()}"'
                f"^^<{XSD_DATETIME}> }} }}"
            )
            timings["verify"] = time.perf_counter() - step
        except BaseException:
            self._drop_quietly(ours.values(), marker)
            raise

    def _tidy(self, current: str, public: dict[str, str], keep_old_for: float) -> list[str]:
        """Step 4: drops what no server may read any more; returns the releases dropped."""
        limit = time.time() - keep_old_for
        dropped: list[str] = []
        for version, facts in self.releases().items():
            if version == current:
                continue
            retired = facts.get(RETIRED)
            never_loaded = LOADED not in facts and RETIRED not in facts
            if not never_loaded and not (retired and _epoch(retired) <= limit):
                continue
            if version == LEGACY_VERSION:
                graphs = list(public.values())
            else:
                graphs = [versioned_graph(version, part) for part in public]
            self.say(f"dropping release {version}")
            self.update(
                " ;\n".join(f"DROP SILENT GRAPH <{g}>" for g in graphs)
                + " ;\n"
                + _forget(f"<{release_iri(version)}> ?p ?o")
            )
            dropped.append(version)
        return dropped

    def _drop_quietly(self, graphs, marker: str) -> None:
        """Removes a release's graphs (and what the pointer graph says of it) after a failed
        load; the served release is untouched."""
        try:
            self.update(
                " ;\n".join(f"DROP SILENT GRAPH <{g}>" for g in graphs)
                + " ;\n"
                + _forget(f"<{marker}> ?p ?o")
            )
        except PublishFailed as exc:
            self.say(f"could not remove the graphs of the failed load: {exc}")

    def close(self) -> None:
        self.http.close()
        self.inspector.close()


def publish(
    release: Release,
    endpoints: StoreEndpoints,
    progress: Progress | None = None,
    timeout: float = 600.0,
    dataset_slug: str | None = None,
    keep_old_for: float = 600.0,
) -> PublishResult:
    """Loads ``release`` into the store behind ``endpoints`` and makes it the served one."""
    publisher = StorePublisher(endpoints, timeout=timeout, progress=progress)
    try:
        return publisher.publish(release, dataset_slug, keep_old_for)
    finally:
        publisher.close()
