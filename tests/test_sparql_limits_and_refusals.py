"""What the endpoint refuses before a query runs, and how it reports limits and engine errors.

Read-only: updates are refused and change nothing. No query reaches the network: SERVICE is
refused unless its endpoint is allow-listed (a listener on a loopback port proves that no
connection is made), and FROM never loads a document. Query length and request size are limited;
a result cut at the result limit says so in headers; a timeout and an unavailable engine are 503.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import replace

import pyoxigraph as ox
import pytest
import requests

from kommunen_kg.sparql.engine import EmbeddedEngine, QueryRequest, QueryResponse
from kommunen_kg.sparql.errors import EngineUnavailable, QueryTimeout
from kommunen_kg.web.app import create_app
from kommunen_kg.web.publication import Publication

from .sparql_servers import Listener, serve_with, serve_with_pool
from .support import server_in_thread

TRIPLE = "<https://example.org/s> <https://example.org/p> <https://example.org/o>"


def sparql(url: str) -> str:
    return url + "sparql"


def _count(url: str) -> int:
    response = requests.get(
        sparql(url), params={"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"}, timeout=10
    )
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def _ask_inserted(url: str) -> bool:
    response = requests.get(sparql(url), params={"query": f"ASK {{ {TRIPLE} }}"}, timeout=10)
    return response.json()["boolean"]


# --- read-only ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "send",
    [
        pytest.param(
            lambda url: requests.post(
                sparql(url), data={"update": f"INSERT DATA {{ {TRIPLE} }}"}, timeout=10
            ),
            id="form-post",
        ),
        pytest.param(
            lambda url: requests.post(
                sparql(url),
                data=f"INSERT DATA {{ {TRIPLE} }}".encode(),
                headers={"Content-Type": "application/sparql-update"},
                timeout=10,
            ),
            id="direct-post",
        ),
        pytest.param(
            lambda url: requests.get(
                sparql(url), params={"update": f"INSERT DATA {{ {TRIPLE} }}"}, timeout=10
            ),
            id="get",
        ),
        pytest.param(
            lambda url: requests.get(
                sparql(url), params={"query": f"INSERT DATA {{ {TRIPLE} }}"}, timeout=10
            ),
            id="as-query",
        ),
        pytest.param(
            lambda url: requests.post(
                sparql(url),
                data={"query": "PREFIX ex: <https://example.org/>\nCLEAR ALL"},
                timeout=10,
            ),
            id="clear-as-query",
        ),
    ],
)
def test_update_is_refused_with_403_and_changes_nothing(live_server, send):
    before = _count(live_server)
    response = send(live_server)
    assert response.status_code == 403
    assert "read-only" in response.text
    assert _count(live_server) == before
    assert not _ask_inserted(live_server)


# --- no network -----------------------------------------------------------------------------


# Texts that made pyoxigraph 0.5 connect out although a lexical scan saw no SERVICE call (or
# none it could resolve); tests/test_sparql_query_analysis.py shows that the engine itself
# connects for each of them. The server below holds the literals they glue SERVICE to.
BYPASSES = [
    # "<?b)SERVICE:#>" is an IRI to a tokenizer; to the engine "<" is less-than there.
    "PREFIX : <{url}>\nSELECT * {{ BIND(1 AS ?a) BIND(2 AS ?b) "
    "FILTER(?a<?b)SERVICE:#>\n{{ ?s ?p ?o }} }}",
    # An escape in an IRI, then "#" that a tokenizer would take for a comment.
    "SELECT * {{ BIND(<urn:x\\u0041#> AS ?i) SERVICE <{url}> {{ ?s ?p ?o }} }}",
    # The same "<" read as less-than, with a string that a tokenizer would open after it.
    'SELECT * {{ BIND(1 AS ?a) BIND(2 AS ?b) FILTER(?a<?b)#>"""\n'
    'SERVICE <{url}> {{ ?s ?p ?o }} #"""\n}}',
    # SERVICE glued to the literal before it, or to the prefixed name or SILENT after it.
    "SELECT * {{ ?s <urn:p> trueSERVICE<{url}>{{ ?s ?p ?o }} }}",
    "SELECT * {{ ?s <urn:p> 1e5SERVICE<{url}>{{ ?s ?p ?o }} }}",
    "PREFIX s: <{url}>\nSELECT * {{ SERVICEs:x {{ ?s ?p ?o }} }}",
    "SELECT * {{ SERVICESILENT<{url}> {{ ?s ?p ?o }} }}",
    "SELECT * {{ SERVICE#comment\n<{url}> {{ ?s ?p ?o }} }}",
]


@pytest.fixture(scope="module")
def literals_server(config):
    """A server over a few triples whose objects are literals that SERVICE can be glued to."""
    store = ox.Store()
    store.update("INSERT DATA { <urn:s> <urn:p> true, 1e5, 1, <urn:o> }")
    with server_in_thread(create_app(Publication(config=config, store=store))) as url:
        yield url


@pytest.mark.parametrize(
    "template",
    [
        "SELECT * {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
        "SELECT * {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }}",
        "select * {{ service<{url}>{{ ?s ?p ?o }} }}",
        "PREFIX r: <{url}>\nSELECT * {{ SERVICE r: {{ ?s ?p ?o }} }}",
        # A prefixed name glued to the keyword: pyoxigraph reads SERVICE followed by :x.
        "PREFIX : <{url}>\nSELECT * {{ SERVICE:x {{ ?s ?p ?o }} }}",
        "SELECT * {{ ?s ?p ?o # comment\n SERVICE <{url}> {{ ?s ?p ?o }} }}",
        "SELECT * {{ {{ SELECT * {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }} }}",
        "ASK {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
        "CONSTRUCT WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
        "SELECT * {{ VALUES ?e {{ <{url}> }} SERVICE?e{{ ?s ?p ?o }} }}",
        # SPARQL 1.1 (19.2) processes \u escapes before parsing; pyoxigraph 0.5 does not
        # outside IRIs and strings, an engine that follows the standard would.
        "SELECT * {{ SERV\\u0049CE <{url}> {{ ?s ?p ?o }} }}",
        *BYPASSES,
    ],
)
@pytest.mark.slow  # each waits half a second for a connection that must not come
def test_service_query_is_refused_without_connecting(literals_server, template):
    with Listener() as listener:
        query = template.format(url=listener.url)
        response = requests.get(sparql(literals_server), params={"query": query}, timeout=10)
        listener.settle()
        assert response.status_code == 403, response.text
        assert "SERVICE" in response.text
        assert listener.connections == []


def test_service_in_a_form_the_endpoint_cannot_check_is_refused_saying_so(literals_server):
    query = "SELECT * { ?s <urn:p> trueSERVICE<http://127.0.0.1:9/>{ ?s ?p ?o } }"
    response = requests.get(sparql(literals_server), params={"query": query}, timeout=10)
    assert response.status_code == 403
    assert "cannot check" in response.text
    assert "no request was made" in response.text


@pytest.mark.parametrize(
    "query",
    [
        "SELECT ?service { ?service ?p ?o } ORDER BY ?service LIMIT 1",
        "PREFIX sd: <http://www.w3.org/ns/sparql-service-description#>\n"
        "SELECT * { ?s a sd:Service ; sd:endpoint ?e }",
        "SELECT * { <http://example.org/service> ?p ?o }",
        'SELECT * { ?s ?p "customer service" }',
        'SELECT ?x { BIND("SERVICE desk, customer service team" AS ?x) }',
        "PREFIX schema: <http://schema.org/>\nSELECT * { ?s schema:serviceType ?type }",
        "PREFIX services: <http://example.org/services/>\nSELECT * { ?s services:x ?o }",
        "SELECT * { ?s ?p ?o FILTER(?o < 3 || ?s = <urn:x#service>) }",
    ],
)
def test_ordinary_queries_that_mention_service_are_answered(live_server, query):
    response = requests.get(sparql(live_server), params={"query": query}, timeout=10)
    assert response.status_code == 200, response.text


def test_service_with_a_variable_is_refused(live_server):
    query = "SELECT * { VALUES ?e { <http://127.0.0.1:9/> } SERVICE ?e { ?s ?p ?o } }"
    response = requests.get(sparql(live_server), params={"query": query}, timeout=10)
    assert response.status_code == 403
    assert "variable" in response.text


def test_service_in_a_string_or_comment_is_no_service_call(live_server):
    query = (
        'SELECT ?x { BIND("SERVICE <http://127.0.0.1:9/> { }" AS ?x) }\n'
        "# SERVICE <http://127.0.0.1:9/> {}"
    )
    response = requests.get(sparql(live_server), params={"query": query}, timeout=10)
    assert response.status_code == 200


def test_allow_listed_service_endpoint_is_called(publication):
    with Listener() as listener, serve_with(publication, service_allowlist=(listener.url,)) as url:
        query = f"SELECT * {{ SERVICE SILENT <{listener.url}> {{ ?s ?p ?o }} }}"
        response = requests.get(sparql(url), params={"query": query}, timeout=20)
        listener.settle()
        assert response.status_code == 200
        assert len(listener.connections) >= 1
        assert listener.connections[0].startswith(b"POST /sparql")


def test_from_never_loads_a_remote_document(live_server):
    with Listener() as listener:
        query = (
            f"SELECT * FROM <{listener.url}> FROM NAMED <{listener.url}/named> "
            "{ ?s ?p ?o } LIMIT 1"
        )
        response = requests.get(sparql(live_server), params={"query": query}, timeout=10)
        listener.settle()
        assert response.status_code == 200
        assert response.json()["results"]["bindings"] == []
        assert listener.connections == []


# --- structures that crash the engine -------------------------------------------------------
# Each of these made pyoxigraph 0.5 die of SIGSEGV (a stack overflow) in the experiments that
# kommunen_kg/query_shape.py reports, each within the 20,000 characters a query may have.
P = "PREFIX : <urn:x:>\n"
CRASHING = {
    "nested groups": "SELECT * WHERE " + "{" * 5000 + "}" * 5000,
    "nested parentheses": "ASK { FILTER(" + "(" * 5000 + "true" + ")" * 5000 + ") }",
    "nested function calls": "SELECT (" + "CONCAT(" * 1000 + '"a"' + ")" * 1000 + " AS ?x) {}",
    "nested IF": "SELECT (" + "IF(true," * 1500 + "1" + ",0)" * 1500 + " AS ?x) {}",
    "nested FILTER EXISTS": "ASK { " + "FILTER EXISTS { " * 900 + "?s ?p ?o" + " }" * 900 + " }",
    "a chain of +": "SELECT (" + "+".join(["1"] * 8000) + " AS ?x) {}",
    "a chain of !": "ASK { FILTER(" + "!" * 10000 + "true) }",
    "a long DESCRIBE": P + "DESCRIBE " + " ".join([":s"] * 3000),
    "a long collection": P + "SELECT * { ?s :p (" + " ".join(["1"] * 5000) + ") }",
    "a long object list": P + "SELECT * { ?s :p " + ",".join(["1"] * 9000) + " }",
}
# Beyond the same bounds, though they did not crash it (some ran for minutes): refused alike.
OVER_THE_BOUNDS = {
    "nested blank nodes": P + "SELECT * { ?s :p " + "[:p " * 3000 + "?o" + "]" * 3000 + " }",
    "nested subqueries": "SELECT * { " + "{ SELECT * WHERE " * 700 + "{}" + " }" * 700 + " }",
    "a long UNION chain": "SELECT * { " + "UNION".join(["{}"] * 2500) + " }",
    "a long property path": P + "SELECT * { ?s " + "/".join([":p"] * 5000) + " ?o }",
    "groups in a row": "SELECT * { " + "{}" * 5000 + " }",
}


@pytest.fixture(scope="module")
def pool_server(publication):
    """Client queries in a query pool: a structure that got past vet() would kill a worker
    process (a 503), not this test run."""
    with serve_with_pool(publication) as (url, pool):
        yield url, pool


@pytest.mark.parametrize(
    "query",
    [*CRASHING.values(), *OVER_THE_BOUNDS.values()],
    ids=[*CRASHING, *OVER_THE_BOUNDS],
)
def test_structure_deep_or_long_enough_to_crash_the_engine_is_refused_with_400(pool_server, query):
    url, pool = pool_server
    workers = pool.worker_pids()["idle"]
    response = requests.post(sparql(url), data={"query": query}, timeout=30)
    assert response.status_code == 400, response.text[:300]
    assert "can crash the query engine" in response.text
    assert "nothing was run" in response.text
    assert len(query) <= 20000
    assert pool.worker_pids()["idle"] == workers  # no worker died, none was even asked


def test_nesting_over_100_levels_is_refused_saying_where_and_how_deep(pool_server):
    url, _pool = pool_server
    query = "ASK {\n  FILTER(" + "(" * 101 + "true" + ")" * 101 + ")\n}"
    response = requests.post(sparql(url), data={"query": query}, timeout=30)
    assert response.status_code == 400
    assert "103 levels deep" in response.text  # { FILTER( and 101 more
    assert "line 2, column 110" in response.text
    assert "at most 100 levels" in response.text


def test_a_chain_of_over_1000_items_is_refused_saying_so(pool_server):
    url, _pool = pool_server
    query = "SELECT (" + "+".join(["1"] * 1001) + " AS ?x) {}"
    response = requests.post(sparql(url), data={"query": query}, timeout=30)
    assert response.status_code == 400
    assert "at most 1000" in response.text


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE " + "{" * 99 + "?s ?p ?o" + "}" * 99 + " LIMIT 1",
        "SELECT (" + "+".join(["1"] * 400) + " AS ?n) {}",
        "SELECT * { " + " UNION ".join(["{ ?s ?p ?o }"] * 500) + " } LIMIT 1",
        "SELECT ?x { VALUES ?x { " + " ".join(f"<urn:x:{i}>" for i in range(1500)) + " } }",
        "SELECT * { ?s ?p ?o FILTER(?o IN (" + ", ".join(["1"] * 400) + ")) } LIMIT 1",
    ],
    ids=["99-levels", "400-additions", "500-unions", "values-1500", "in-400"],
)
def test_deep_and_long_queries_within_the_bounds_are_answered(pool_server, query):
    url, _pool = pool_server
    response = requests.post(sparql(url), data={"query": query}, timeout=30)
    assert response.status_code == 200, response.text[:300]


# --- limits ---------------------------------------------------------------------------------


def test_query_over_max_query_length_is_413(publication):
    with serve_with(publication, max_query_length=100) as url:
        short = requests.get(sparql(url), params={"query": "ASK {}"}, timeout=10)
        long = requests.get(
            sparql(url), params={"query": "ASK {}" + " " * 100 + "# padding"}, timeout=10
        )
    assert short.status_code == 200
    assert long.status_code == 413
    assert "at most 100 characters" in long.text


def test_body_over_max_request_size_is_413(publication):
    with serve_with(publication, max_request_size=2000) as url:
        response = requests.post(
            sparql(url),
            data=b"ASK {}" + b" " * 5000,
            headers={"Content-Type": "application/sparql-query"},
            timeout=10,
        )
    assert response.status_code == 413
    assert "at most 2000 bytes" in response.text


def test_result_cut_at_the_limit_says_so_in_headers(publication):
    with serve_with(publication, result_limit=5) as url:
        for query, fmt in (
            ("SELECT * { ?s ?p ?o }", "json"),
            ("CONSTRUCT WHERE { ?s ?p ?o }", "ntriples"),
        ):
            response = requests.get(sparql(url), params={"query": query, "format": fmt}, timeout=10)
            assert response.status_code == 200
            assert response.headers["X-Result-Limit"] == "5"
            assert response.headers["X-Result-Truncated"] == "true"
            if fmt == "json":
                assert len(response.json()["results"]["bindings"]) == 5
            else:
                assert len(response.text.strip().splitlines()) == 5


def test_result_within_the_limit_says_it_is_complete(live_server):
    response = requests.get(
        sparql(live_server), params={"query": "SELECT * { ?s ?p ?o } LIMIT 3"}, timeout=10
    )
    assert response.headers["X-Result-Limit"] == "10000"
    assert response.headers["X-Result-Truncated"] == "false"


# --- engine errors --------------------------------------------------------------------------
# The worker pool (its own module) is the production engine that enforces the timeout; these two
# minimal engines produce its errors for real, so that the HTTP mapping is tested here.


class DeadlineEngine(EmbeddedEngine):
    """Stops waiting for a query at its deadline (it cannot free the CPU; the pool can)."""

    def run(self, request: QueryRequest) -> QueryResponse:
        pool = ThreadPoolExecutor(max_workers=1)
        future = pool.submit(super().run, request)
        try:
            return future.result(timeout=request.timeout)
        except FutureTimeout as exc:
            raise QueryTimeout(f"stopped after {request.timeout:g} s") from exc
        finally:
            pool.shutdown(wait=False)


class UnavailableEngine(EmbeddedEngine):
    """An engine whose workers are all gone, as a pool is while it restarts them."""

    def run(self, request: QueryRequest) -> QueryResponse:
        raise EngineUnavailable("no query worker is available")


def test_an_engine_error_of_an_unexpected_kind_is_a_400_and_logged(publication, caplog):
    """No client query is known to make pyoxigraph raise anything but its syntax, IO and
    evaluation errors; a base IRI it refuses (a ValueError) stands in for the unexpected."""
    odd = replace(
        publication.config,
        dataset=replace(publication.config.dataset, base_iri="https://example.org/a b/"),
    )
    served = Publication(config=odd, store=publication.store, release=publication.release)
    with server_in_thread(create_app(served)) as url:
        response = requests.get(sparql(url), params={"query": "ASK {}"}, timeout=10)
    assert response.status_code == 400
    assert "could not be evaluated: ValueError: Invalid base IRI" in response.text
    (record,) = [r for r in caplog.records if r.name == "kommunen_kg.sparql.engine"]
    assert record.levelname == "ERROR"
    assert record.exc_info is not None  # with its traceback


def test_timeout_is_503_with_a_clear_message(publication):
    engine = DeadlineEngine(publication.store, union_default_graph=True)
    # About a second of work over the release's few thousand triples, then it ends by itself.
    slow = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . FILTER(?a != ?d) }"
    with serve_with(publication, engine=engine, query_timeout=0.05) as url:
        started = time.monotonic()
        response = requests.get(sparql(url), params={"query": slow}, timeout=30)
        elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert "time limit of 0.05 s" in response.text
    assert elapsed < 5


def test_unavailable_engine_is_503_with_retry_after(publication):
    engine = UnavailableEngine(publication.store)
    with serve_with(publication, engine=engine) as url:
        response = requests.get(sparql(url), params={"query": "ASK {}"}, timeout=10)
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert "retry" in response.text
