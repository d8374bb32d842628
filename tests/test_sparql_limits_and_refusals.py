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

import pytest
import requests

from kommunen_kg.engine import (
    EmbeddedEngine,
    EngineUnavailable,
    QueryRequest,
    QueryResponse,
    QueryTimeout,
)

from .sparql_servers import Listener, serve_with

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
    ],
)
def test_service_query_is_refused_without_connecting(live_server, template):
    with Listener() as listener:
        query = template.format(url=listener.url)
        response = requests.get(sparql(live_server), params={"query": query}, timeout=10)
        listener.settle()
        assert response.status_code == 403, response.text
        assert "SERVICE" in response.text
        assert listener.connections == []


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
