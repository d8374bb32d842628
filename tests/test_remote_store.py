"""Serving from, and publishing into, a real remote SPARQL store (``oxigraph serve``).

The tests start Oxigraph's own server on a free loopback port, load built releases into it
with ``kommunen-kg publish`` and read them back through ``kommunen-kg serve --store`` and the
remote engine. They are skipped when the ``oxigraph`` command (PyPI package ``oxigraph``, in
the test extras) is not installed.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pyoxigraph as ox
import pytest
import requests
from werkzeug.serving import make_server

from kommunen_kg.config import Config
from kommunen_kg.rdf.namespaces import DCAT, GRAPH_NAMES, ProjectIRIs
from kommunen_kg.rdf.release import Release
from kommunen_kg.sparql.engine import DatasetSpec, QueryRequest
from kommunen_kg.sparql.engines import over_remote
from kommunen_kg.sparql.errors import (
    AnswerTooLarge,
    EngineUnavailable,
    QueryError,
    QuerySyntaxError,
    QueryTimeout,
)
from kommunen_kg.sparql.remote.client import StoreEndpoints
from kommunen_kg.sparql.remote.engine import RemoteEngine, RemoteStoreError, declares_dataset
from kommunen_kg.sparql.remote.publish import PublishFailed, PublishResult, publish
from kommunen_kg.sparql.remote.versions import POINTER_GRAPH, ReleaseNames, versioned_graph
from kommunen_kg.web.app import create_app
from kommunen_kg.web.publication import Publication, open_remote_store

from .sparql_servers import OXIGRAPH, REMOTE_TIMEOUT_S, oxigraph_serve
from .support import ROOT, free_port, health_once_unhealthy, server_in_thread, server_process

pytestmark = [
    pytest.mark.slow,  # starts oxigraph serve and kommunen-kg serve
    pytest.mark.skipif(
        OXIGRAPH is None,
        reason="the `oxigraph` command is missing (pip install oxigraph, in the test extras)",
    ),
]

CLI = (sys.executable, "-m", "kommunen_kg")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The query endpoint of an on-disk Oxigraph server used by this module."""
    with oxigraph_serve(tmp_path_factory.mktemp("oxigraph")) as url:
        yield url


def publish_into(url: str, release: Release, keep_old_for: float = 600.0) -> PublishResult:
    return publish(release, StoreEndpoints(url), keep_old_for=keep_old_for)


def store_select(url: str, query: str) -> list[dict[str, str]]:
    """Asks Oxigraph directly (not through our code): what the store really holds."""
    response = requests.post(
        url,
        data={"query": query},
        headers={"Accept": "application/sparql-results+json"},
        timeout=30,
    )
    response.raise_for_status()
    return [
        {k: v["value"] for k, v in row.items()} for row in response.json()["results"]["bindings"]
    ]


def graph_counts(url: str) -> dict[str, int]:
    rows = store_select(
        url, "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    )
    return {row["g"]: int(row["n"]) for row in rows}


def remote_publication(config: Config, release: Release, engine: RemoteEngine) -> Publication:
    engines = over_remote(engine, release.version, answer_cache=False)  # every answer fresh
    return Publication(config, None, release=release, engines=engines)


def engine_for(url: str, config: Config, **kwargs) -> RemoteEngine:
    """An engine for the release the store's pointer names (as ``serve --store`` makes one);
    for a store that cannot be read, one for the public graph names."""
    iris = ProjectIRIs(config.base_iri)
    public = {n: iris.graph(n) for n in GRAPH_NAMES}
    try:
        version = RemoteEngine(url, timeout=5).current_release()
    except QueryError:
        version = None
    if version is None:
        return RemoteEngine(url, graphs=list(public.values()), **kwargs)
    return RemoteEngine(url, names=ReleaseNames(public, version), **kwargs)


@contextlib.contextmanager
def graph_in_store(url: str, graph: str, ntriples: bytes) -> Iterator[None]:
    """A named graph put straight into the store (Graph Store Protocol), removed afterwards."""
    graph_store = url.rsplit("/", 1)[0] + "/store"
    requests.put(
        graph_store,
        params={"graph": graph},
        data=ntriples,
        headers={"Content-Type": "application/n-triples"},
        timeout=10,
    ).raise_for_status()
    try:
        yield
    finally:
        requests.delete(graph_store, params={"graph": graph}, timeout=10)


def current_in(url: str) -> str | None:
    """The release the store's pointer names, read directly."""
    rows = store_select(
        url, f"SELECT ?v WHERE {{ GRAPH <{POINTER_GRAPH}> {{ <{POINTER_GRAPH}> ?p ?v }} }}"
    )
    return rows[0]["v"] if len(rows) == 1 else None


def release_counts(release: Release) -> dict[str, int]:
    """The triples of each part, under the release's own graph names in the store."""
    return {
        versioned_graph(release.version, part): release.manifest["counts"][part]
        for part in GRAPH_NAMES
    }


# --- publish --------------------------------------------------------------------------------


def test_publish_puts_each_part_into_a_graph_of_the_release_and_points_at_it(store, release):
    publish_into(store, release)
    counts = graph_counts(store)
    assert {g: counts.get(g) for g in release_counts(release)} == release_counts(release)
    assert current_in(store) == release.version
    public = set(release.manifest["graphs"].values())
    assert not public & set(counts), "nothing is loaded under the public names"


def test_publish_of_another_release_moves_the_pointer_and_keeps_the_old_one_for_a_while(
    store, release, second_release
):
    publish_into(store, release)
    result = publish_into(store, second_release)
    assert result.previous == release.version and result.dropped == []
    assert current_in(store) == second_release.version
    counts = graph_counts(store)
    both = release_counts(release) | release_counts(second_release)
    assert {g: counts.get(g) for g in both} == both


def test_a_release_replaced_longer_ago_than_keep_old_for_is_dropped(store, release, second_release):
    publish_into(store, release)
    result = publish_into(store, second_release, keep_old_for=0)
    assert release.version in result.dropped
    counts = graph_counts(store)
    assert not set(release_counts(release)) & set(counts)
    assert {g: counts.get(g) for g in release_counts(second_release)} == release_counts(
        second_release
    )


def test_publishing_a_release_the_store_holds_only_moves_the_pointer(
    store, release, second_release
):
    publish_into(store, release)
    publish_into(store, second_release)
    again = publish_into(store, release)
    assert "load" not in again.timings
    assert current_in(store) == release.version


@pytest.mark.parametrize("fmt", ["json", "xml", "tsv", "csv"])
def test_a_client_query_over_graph_names_answers_the_public_names(published, config, release, fmt):
    answer = engine_for(published, config).run(
        QueryRequest(
            "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
            fmt,
            DatasetSpec(union_default_graph=True),
        )
    )
    text = bytes(answer.body).decode("utf-8")
    assert all(name in text for name in release.manifest["graphs"].values())
    assert "urn:kommunen-kg" not in text


def test_a_construct_over_graph_names_answers_the_public_names(published, config, release):
    answer = engine_for(published, config).run(
        QueryRequest(
            "CONSTRUCT { ?g a <urn:x:Graph> } WHERE { GRAPH ?g { ?s ?p ?o } }",
            "turtle",
            DatasetSpec(union_default_graph=True),
        )
    )
    triples = list(ox.parse(bytes(answer.body), format=ox.RdfFormat.TURTLE))
    assert {t.subject.value for t in triples} == set(release.manifest["graphs"].values())


def test_no_query_reaches_a_graph_of_another_release(published, config, release):
    other = versioned_graph("someother", "data")
    with graph_in_store(published, other, b"<urn:x:old> <urn:x:p> <urn:x:o> .\n"):
        engine = engine_for(published, config)
        for query in (
            f"ASK FROM <{other}> {{ ?s ?p ?o }}",
            f"ASK FROM NAMED <{other}> {{ GRAPH ?g {{ ?s ?p ?o }} }}",
            f"ASK {{ GRAPH <{other}> {{ ?s ?p ?o }} }}",
            f'ASK {{ BIND(IRI("{other}") AS ?g) GRAPH ?g {{ ?s ?p ?o }} }}',
        ):
            answer = engine.run(QueryRequest(query, "json", DatasetSpec(union_default_graph=True)))
            assert b"false" in bytes(answer.body), query
        spec = DatasetSpec(named_graphs=(other,))
        answer = engine.run(QueryRequest("ASK { GRAPH ?g { ?s ?p ?o } }", "json", spec))
        assert b"false" in bytes(answer.body)


def test_a_publish_that_fails_its_count_leaves_the_served_release_as_it_was(
    store, release, second_release
):
    """The graphs go to another store by mistake: the counts miss, nothing switches."""
    publish_into(store, release, keep_old_for=0)  # the store holds this release alone
    before = graph_counts(store)
    with oxigraph_serve(None) as elsewhere:
        endpoints = StoreEndpoints(store, graph_store=elsewhere.rsplit("/", 1)[0] + "/store")
        with pytest.raises(PublishFailed, match="did not take every triple"):
            publish(second_release, endpoints)
    assert graph_counts(store) == before
    assert current_in(store) == release.version


def test_cli_publish_loads_the_current_release(store, config, release):
    done = subprocess.run(
        [*CLI, "publish", "--store", store, "-q", "--graphs", str(config.graphs_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert f"release {release.version} published into {store}" in done.stdout
    assert current_in(store) == release.version


def test_cli_publish_without_update_endpoint_for_an_unknown_layout_is_refused(config):
    done = subprocess.run(
        [*CLI, "publish", "--store", "http://127.0.0.1:9/x", "--graphs", str(config.graphs_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "--update URL and --graph-store URL" in done.stderr


def test_endpoints_are_derived_for_oxigraph_and_fuseki_layouts():
    oxigraph = StoreEndpoints("http://h:7878/query")
    assert (oxigraph.update, oxigraph.graph_store) == (
        "http://h:7878/update",
        "http://h:7878/store",
    )
    fuseki = StoreEndpoints("http://h:3030/kg/sparql")
    assert (fuseki.update, fuseki.graph_store) == (
        "http://h:3030/kg/update",
        "http://h:3030/kg/data",
    )
    other = StoreEndpoints("http://h:8890/sparql")
    assert (other.update, other.graph_store) == (None, None)


# --- a reader during publishes --------------------------------------------------------------


def reader_query(iris: ProjectIRIs) -> str:
    """The version and the size of every graph, read in one query (one snapshot)."""
    return f"""
SELECT ?version ?g (COUNT(*) AS ?n) WHERE {{
  GRAPH <{iris.graph("metadata")}> {{ <{iris.dataset}> <{DCAT}version> ?version }}
  GRAPH ?g {{ ?s ?p ?o }}
}} GROUP BY ?version ?g
"""


def test_a_server_answers_from_its_release_whole_while_others_are_published(
    store, config, release, second_release
):
    """Readers query through our /sparql while two releases are published in turns.

    The server answers from the release it was started with (it switches by being replaced,
    web/live.py): every answer names that version, under the public graph names, and every
    graph holds exactly that version's triples, no more, no fewer.
    """
    publish_into(store, release)
    releases = {r.version: r for r in (release, second_release)}
    expected = {
        v: {r.manifest["graphs"][p]: r.manifest["counts"][p] for p in GRAPH_NAMES}
        for v, r in releases.items()
    }
    engine = engine_for(store, config, timeout=30)
    app = create_app(remote_publication(config, release, engine))
    query = reader_query(ProjectIRIs(config.base_iri))
    seen: list[str] = []
    problems: list[str] = []
    stop = threading.Event()

    def read(url: str) -> None:
        session = requests.Session()
        while not stop.is_set():
            answer = session.get(url + "sparql", params={"query": query}, timeout=30)
            if answer.status_code != 200:
                problems.append(f"HTTP {answer.status_code}: {answer.text[:200]}")
                continue
            rows = answer.json()["results"]["bindings"]
            versions = {row["version"]["value"] for row in rows}
            counts = {row["g"]["value"]: int(row["n"]["value"]) for row in rows}
            if len(versions) != 1 or counts != expected.get(next(iter(versions))):
                problems.append(f"versions {sorted(versions)}, counts {counts}")
            else:
                seen.append(versions.pop())

    with server_in_thread(app) as url:
        readers = [threading.Thread(target=read, args=(url,)) for _ in range(3)]
        for thread in readers:
            thread.start()
        try:
            for target in (second_release, release, second_release, release):
                time.sleep(0.2)
                publish_into(store, target)
            time.sleep(0.2)
        finally:
            stop.set()
            for thread in readers:
                thread.join(timeout=60)
    assert problems == []
    assert set(seen) == {release.version}
    assert len(seen) > 20


def test_graphs_being_loaded_are_invisible_to_readers(store, config, release):
    publish_into(store, release)
    staged = versioned_graph("next", "data")  # a release being loaded
    with graph_in_store(store, staged, b"<urn:x:half> <urn:x:loaded> <urn:x:graph> .\n"):
        engine = engine_for(store, config)
        assert not engine.ask("ASK { <urn:x:half> ?p ?o }")
        assert not engine.ask(f"ASK {{ GRAPH <{staged}> {{ ?s ?p ?o }} }}")
        assert not engine.ask("ASK { GRAPH ?g { <urn:x:half> ?p ?o } }")
        graphs = {row["g"].value for row in engine.select("SELECT DISTINCT ?g { GRAPH ?g {} }")}
        assert graphs == set(release.manifest["graphs"].values())


# --- the remote engine ------------------------------------------------------------------------


@pytest.fixture
def published(store, release) -> str:
    publish_into(store, release)
    return store


def test_engine_answers_trusted_select_construct_and_ask(published, config):
    engine = engine_for(published, config)
    lebenswert = ProjectIRIs(config.base_iri).thing("project", "lebenswert")
    rows = engine.select(f"SELECT ?name WHERE {{ <{lebenswert}> <http://schema.org/name> ?name }}")
    assert rows and all(isinstance(row["name"], ox.Literal) for row in rows)
    triples = engine.construct(
        f"CONSTRUCT {{ <{lebenswert}> ?p ?o }} WHERE {{ <{lebenswert}> ?p ?o }}"
    )
    assert triples and all(t.subject == ox.NamedNode(lebenswert) for t in triples)
    assert engine.ask(f"ASK {{ <{lebenswert}> a <http://schema.org/ResearchProject> }}")
    assert not engine.ask("ASK { <urn:x:nothing> ?p ?o }")


def test_engine_counts_the_same_triples_as_the_embedded_store(published, config, publication):
    remote = remote_publication(config, publication.release, engine_for(published, config))
    assert remote.triple_count() == publication.triple_count()


@pytest.mark.parametrize("fmt", ["json", "xml", "tsv", "csv"])
def test_engine_answers_select_in_the_requested_format(published, config, fmt):
    engine = engine_for(published, config)
    query = (
        "SELECT ?s ?name WHERE { ?s a <http://schema.org/Person> ; <http://schema.org/name> ?name }"
    )
    answer = engine.run(QueryRequest(query, fmt, DatasetSpec(union_default_graph=True)))
    assert answer.kind == "select" and not answer.truncated and answer.count > 5
    if fmt == "csv":
        assert answer.media_type == "text/csv"
        assert answer.body.decode().splitlines()[0] == "s,name"
        assert len(answer.body.decode().splitlines()) == answer.count + 1
    else:
        parsed = list(
            ox.parse_query_results(
                answer.body, ox.QueryResultsFormat.from_media_type(answer.media_type)
            )
        )
        assert len(parsed) == answer.count


@pytest.mark.parametrize("fmt", ["turtle", "ntriples", "jsonld", "rdfxml", "trig", "nquads"])
def test_engine_answers_construct_in_the_requested_format(published, config, fmt):
    engine = engine_for(published, config)
    query = "CONSTRUCT WHERE { ?s a <http://schema.org/Person> ; <http://schema.org/name> ?n }"
    answer = engine.run(QueryRequest(query, fmt, DatasetSpec(union_default_graph=True)))
    assert answer.kind == "graph" and not answer.truncated
    triples = list(ox.parse(answer.body, format=ox.RdfFormat.from_media_type(answer.media_type)))
    assert len(triples) == answer.count > 10


def test_engine_cuts_at_the_result_limit_and_says_so(published, config):
    engine = engine_for(published, config)
    select = engine.run(
        QueryRequest(
            "SELECT * WHERE { ?s ?p ?o }", "json", DatasetSpec(union_default_graph=True), limit=7
        )
    )
    assert select.truncated and select.count == 7
    assert len(list(ox.parse_query_results(select.body, ox.QueryResultsFormat.JSON))) == 7
    graph = engine.run(
        QueryRequest(
            "CONSTRUCT WHERE { ?s ?p ?o }", "turtle", DatasetSpec(union_default_graph=True), limit=7
        )
    )
    assert graph.truncated and graph.count == 7
    assert len(list(ox.parse(graph.body, format=ox.RdfFormat.TURTLE))) == 7


def test_engine_refuses_an_answer_beyond_max_bytes_before_holding_it_whole(published, config):
    engine = engine_for(published, config)
    request = QueryRequest(
        "SELECT * WHERE { ?s ?p ?o }",
        "json",
        DatasetSpec(union_default_graph=True),
        limit=100000,
        max_bytes=64 * 1024,
    )
    with pytest.raises(AnswerTooLarge, match=r"limit of 0\.0625 MB per answer"):
        engine.run(request)
    # the connection was given up, not left half read: the next query is answered
    assert engine.ask("ASK { ?s ?p ?o }") is True


def test_engine_passes_a_large_answer_on_as_a_file_not_in_memory(published, config):
    engine = engine_for(published, config)
    query = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } LIMIT 5000"
    request = QueryRequest(query, "json", DatasetSpec(union_default_graph=True), limit=10000)
    answer = engine.run(request)
    assert answer.body == b"" and answer.spool is not None
    with answer.spool:
        spooled = answer.spool.read()
    assert len(spooled) == answer.spooled > 1024 * 1024
    assert len(list(ox.parse_query_results(spooled, ox.QueryResultsFormat.JSON))) == 5000


def test_engine_refuses_client_queries_beyond_its_request_limit_at_once(config, release):
    """Each client query at the store holds a request thread; beyond the limit serve sets
    (threads - 2), the next is refused at once."""
    with silent_listener() as url:  # a store that never answers
        engine = RemoteEngine(url, timeout=3.0)
        engine.limit_requests(1)
        request = QueryRequest("ASK {}", "json", DatasetSpec(), timeout=3.0)
        waiting = threading.Thread(target=lambda: _swallow(engine.run, request), daemon=True)
        waiting.start()
        deadline = time.monotonic() + 3
        while engine.admission.holders == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        started = time.monotonic()
        with pytest.raises(EngineUnavailable, match="are running"):
            engine.run(request)
        assert time.monotonic() - started < 0.2
        waiting.join(timeout=10)


def _swallow(function, *args) -> None:
    with contextlib.suppress(Exception):
        function(*args)


def test_engine_passes_the_protocol_dataset_to_the_store(published, config, release):
    engine = engine_for(published, config)
    vocabulary = release.manifest["graphs"]["vocabulary"]
    answer = engine.run(
        QueryRequest(
            "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
            "json",
            DatasetSpec(default_graphs=(vocabulary,)),
        )
    )
    (row,) = ox.parse_query_results(answer.body, ox.QueryResultsFormat.JSON)
    assert int(row["n"].value) == release.manifest["counts"]["vocabulary"]


def test_engine_leaves_the_query_its_own_from_clause(published, config, release):
    themes = release.manifest["graphs"]["themes"]
    query = f"SELECT (COUNT(*) AS ?n) FROM <{themes}> WHERE {{ ?s ?p ?o }}"
    assert declares_dataset(query)
    answer = engine_for(published, config).run(
        QueryRequest(query, "json", DatasetSpec(union_default_graph=True))
    )
    (row,) = ox.parse_query_results(answer.body, ox.QueryResultsFormat.JSON)
    assert int(row["n"].value) == release.manifest["counts"]["themes"]


def test_from_inside_strings_iris_and_comments_is_no_dataset_clause():
    assert not declares_dataset('SELECT * WHERE { ?s ?p "FROM <x>" } # FROM <y>')
    assert not declares_dataset("SELECT * WHERE { ?s <http://x/from> ?from }")
    assert declares_dataset("PREFIX g: <http://g/>\nSELECT * from named g:a WHERE { GRAPH ?g {} }")


def test_store_syntax_error_is_a_query_syntax_error_with_position(published, config):
    with pytest.raises(QuerySyntaxError) as error:
        engine_for(published, config).run(QueryRequest("SELECT * WHERE { ?s ?p }", "json"))
    assert error.value.line == 1 and error.value.column is not None
    assert "expected" in str(error.value)


# --- serving from the store ---------------------------------------------------------------------


def test_serve_store_answers_health_and_sparql_from_the_store(published, config, release):
    with server_process(
        "--store", published, "--graphs", str(config.graphs_dir), "--workers", "1"
    ) as url:
        health = requests.get(url + "health", timeout=10).json()
        assert health["status"] == "ok" and health["version"] == release.version
        assert health["triples"] == sum(release.manifest["counts"][p] for p in GRAPH_NAMES)
        answer = requests.get(
            url + "sparql",
            params={"query": "SELECT ?s WHERE { ?s a <http://schema.org/Person> }"},
            timeout=10,
        )
        assert answer.status_code == 200
        assert answer.headers["Content-Type"].startswith("application/sparql-results+json")
        assert len(answer.json()["results"]["bindings"]) > 5
        bad = requests.get(url + "sparql", params={"query": "SELECT * WHERE { ?s ?p }"}, timeout=10)
        assert bad.status_code == 400


def test_linked_data_views_answer_from_the_store(published, config, release):
    """/id, /data and /page query only through publication.trusted, so a store stands in."""
    app = create_app(remote_publication(config, release, engine_for(published, config)))
    if not any(rule.rule.startswith("/data/") for rule in app.url_map.iter_rules()):
        pytest.skip("the linked-data views are not part of this branch yet")
    lebenswert = ProjectIRIs(config.base_iri).thing("project", "lebenswert")
    with server_in_thread(app) as url:
        see_other = requests.get(
            url + "id/project/lebenswert",
            headers={"Accept": "text/turtle"},
            allow_redirects=False,
            timeout=10,
        )
        assert see_other.status_code == 303
        data = requests.get(url + "data/project/lebenswert.ttl", timeout=10)
        assert data.status_code == 200
        triples = list(ox.parse(data.content, format=ox.RdfFormat.TURTLE, base_iri=url))
        assert any(t.subject == ox.NamedNode(lebenswert) for t in triples)
        page = requests.get(url + "page/project/lebenswert", timeout=10)
        assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
        missing = requests.get(url + "data/project/no-such-project.ttl", timeout=10)
        assert missing.status_code == 404


def test_serve_refuses_a_store_without_a_release(config):
    with oxigraph_serve(None) as empty, pytest.raises(RemoteStoreError, match="holds no release"):
        open_remote_store(config, empty)


def test_serve_refuses_a_release_missing_from_graphs(published, tmp_path, config):
    with pytest.raises(RemoteStoreError, match="lacks it"):
        open_remote_store(config.with_graphs_dir(tmp_path), published)


# --- a store that is down or slow ---------------------------------------------------------------


@contextlib.contextmanager
def app_server(app) -> Iterator[str]:
    """The real app on a loopback port, without waiting for /health (it answers 503 here)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def test_store_down_gives_503_not_500(config, release):
    engine = engine_for(f"http://127.0.0.1:{free_port()}/query", config, timeout=5)
    with pytest.raises(EngineUnavailable):
        engine.select("SELECT * WHERE { ?s ?p ?o } LIMIT 1")
    with app_server(create_app(remote_publication(config, release, engine))) as url:
        health = requests.get(url + "health", timeout=10)
        assert health.status_code == 503 and health.json()["status"] == "unavailable"
        answer = requests.get(
            url + "sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"}, timeout=10
        )
        assert answer.status_code == 503


def test_store_failing_a_query_is_engine_unavailable(published, config):
    """Oxigraph answers 500 (or breaks off) when a SERVICE it calls cannot be reached."""
    query = f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{free_port()}/sparql> {{ ?s ?p ?o }} }}"
    engine = engine_for(published, config, timeout=20)
    with pytest.raises(EngineUnavailable):
        engine.run(QueryRequest(query, "json", DatasetSpec(union_default_graph=True)))


def test_store_url_that_is_not_an_endpoint_gives_503(published, config, release):
    """A wrong --store URL (the store answers 404) is the store's problem, not the client's."""
    engine = engine_for(published.rsplit("/", 1)[0] + "/nowhere", config, timeout=10)
    with app_server(create_app(remote_publication(config, release, engine))) as url:
        assert requests.get(url + "health", timeout=10).status_code == 503
        answer = requests.get(
            url + "sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"}, timeout=10
        )
        assert answer.status_code == 503


@contextlib.contextmanager
def silent_listener() -> Iterator[str]:
    """A loopback server that accepts connections and never answers: a hung store."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                accepted.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/query"
    finally:
        stop.set()
        thread.join(timeout=5)
        for connection in accepted:
            connection.close()
        listener.close()


def test_store_that_does_not_answer_in_time_gives_503(config, release):
    with silent_listener() as url:
        engine = engine_for(url, config, timeout=0.5)
        started = time.monotonic()
        with pytest.raises(QueryTimeout):
            engine.run(QueryRequest("SELECT * WHERE { ?s ?p ?o }", "json", timeout=0.5))
        assert time.monotonic() - started < 5
        with app_server(create_app(remote_publication(config, release, engine))) as app_url:
            answer = requests.get(
                app_url + "sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"}, timeout=10
            )
        assert answer.status_code == 503
        assert time.monotonic() - started < 10


def test_store_stopping_a_query_at_its_own_time_limit_is_a_timeout(published, config):
    engine = engine_for(published, config, timeout=60)
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    started = time.monotonic()
    with pytest.raises(QueryTimeout):
        engine.run(QueryRequest(query, "json", DatasetSpec(union_default_graph=True), timeout=60))
    assert time.monotonic() - started < REMOTE_TIMEOUT_S + 20


def test_serve_store_follows_a_publish_without_restart(tmp_path, release, second_release):
    """After `publish` moves the store's pointer, every worker answers from the release it
    names (its version in /health and the ETags), without a restart."""
    graphs = tmp_path / "graphs"
    for each in (release, second_release):
        shutil.copytree(each.path, graphs / "releases" / each.version)
    (graphs / "current").write_text(release.version + "\n", encoding="utf-8")
    with oxigraph_serve(None) as url:
        publish_into(url, release)
        with server_process("--store", url, "--graphs", str(graphs), "--workers", "2") as served:
            assert requests.get(served + "health", timeout=10).json()["version"] == release.version
            publish_into(url, second_release)
            deadline = time.monotonic() + 5
            versions: set = set()
            while time.monotonic() < deadline:
                versions = {
                    requests.get(served + "health", timeout=10).json()["version"] for _ in range(8)
                }
                if versions == {second_release.version}:
                    break
                time.sleep(0.2)
            assert versions == {second_release.version}


def test_a_store_pointer_to_a_release_missing_here_keeps_the_served_one_and_health_says_so(
    tmp_path, release, second_release
):
    graphs = tmp_path / "graphs"
    shutil.copytree(release.path, graphs / "releases" / release.version)  # not the second
    (graphs / "current").write_text(release.version + "\n", encoding="utf-8")
    with oxigraph_serve(None) as url:
        publish_into(url, release)
        with server_process("--store", url, "--graphs", str(graphs), "--workers", "1") as served:
            publish_into(url, second_release)
            health = health_once_unhealthy(served)
            assert health.status_code == 503
            assert health.json()["version"] == release.version
            assert second_release.version in health.json()["reason"]
            page = requests.get(served + "page/project/lebenswert", timeout=10)
            assert page.status_code == 200


def test_data_from_the_store_gives_the_dumps_datatypes(published, config, release):
    """The store keeps dcat:byteSize as xsd:integer; /data says xsd:nonNegativeInteger, as the
    dumps and DCAT-AP do, in store mode too."""
    publication = open_remote_store(config, published)
    client = create_app(publication).test_client()
    iri = next(f["name"] for f in release.files if f["name"].endswith(".nq.gz"))
    distribution = f"data/distribution/{release.version}-{iri.replace('.', '-')}.nt"
    answer = client.get("/" + distribution)
    assert answer.status_code == 200, distribution
    sizes = [
        t.object
        for t in ox.parse(answer.data, format=ox.RdfFormat.N_TRIPLES)
        if t.predicate.value == DCAT + "byteSize"
    ]
    assert [s.datatype.value for s in sizes] == [
        "http://www.w3.org/2001/XMLSchema#nonNegativeInteger"
    ]


@pytest.mark.parametrize(
    ("words", "first"),
    [("Nordhessen", "lebensWert"), ("dehne", "Peter Dehne"), ("Mobilitet", "Mobilität")],
)
def test_search_from_the_store_finds_what_the_embedded_search_finds(
    published, config, publication, words, first
):
    """Issue 14: the same search in serve --store mode (its index is built from the store)."""
    from dataclasses import replace

    import lxml.html

    # without the release folder, so that the index is the one built from the store
    remote = replace(open_remote_store(config, published), release=None)
    answers = [
        create_app(p).test_client().get("/search", query_string={"q": words, "lang": "de"})
        for p in (remote, publication)
    ]
    found = [
        [
            a.text_content().strip()
            for a in lxml.html.fromstring(r.data).xpath("//ol[@class='listing']/li/a")
        ]
        for r in answers
    ]
    assert found[0] == found[1]
    assert found[0][0] == first


@pytest.mark.parametrize(
    "path",
    [
        "timeline?lang=en",
        "presenters?lang=en",
        "browse/talk?theme=daseinsvorsorge&lang=en",
        "browse/person.csv?theme=mobilitaet&lang=en",
    ],
)
def test_the_overview_pages_answer_the_same_from_the_store(published, config, release, app, path):
    """The timeline, who presented what, the facets and the CSV ask only the publication's
    engine and its site index, so the same release in a store gives the same pages."""
    remote = create_app(remote_publication(config, release, engine_for(published, config)))
    with server_in_thread(remote) as url:
        from_store = requests.get(url + path, timeout=30)
    embedded = app.test_client().get("/" + path)
    assert from_store.status_code == embedded.status_code == 200
    assert from_store.content == embedded.get_data()
