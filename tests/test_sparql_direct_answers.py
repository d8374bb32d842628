"""Answers given without Flask (web/endpoint/direct.py) are the view's answers: the same
status, the same header fields, the same bytes; what the view must word is left to it, and
what the query processes met running a query reaches the view without a second run."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from werkzeug.test import EnvironBuilder

from kommunen_kg.sparql.answer_cache import AnswerCache
from kommunen_kg.sparql.bounds import Bounds
from kommunen_kg.sparql.engine import DatasetSpec, EmbeddedEngine, QueryRequest
from kommunen_kg.sparql.engines import Engines, over_store
from kommunen_kg.sparql.statistics import Statistics
from kommunen_kg.sparql.triage import Triage
from kommunen_kg.web.app import DIRECT_KEY, RESPONSE_CACHE_KEY, create_app
from kommunen_kg.web.endpoint.protocol import RAN_KEY
from kommunen_kg.web.publication import Publication
from tests.hostile.clients import RUNAWAY

BASE = "https://w3id.org/kommunen-innovativ/"
TALK = f"<{BASE}id/talk/2020-11-11-kudequa>"
LOOKUP = f"SELECT ?p ?o WHERE {{ {TALK} ?p ?o }}"
JSON = "application/sparql-results+json"


@pytest.fixture(scope="module")
def app(publication: Publication):
    """The application over the built release, with the engines ``serve`` wires: bounded
    queries here (Triage), the rest elsewhere (here an engine of its own stands in for the
    query processes, so that nothing forks)."""
    store = publication.store
    assert store is not None
    triage = Triage(
        EmbeddedEngine(store), EmbeddedEngine(store), Bounds(Statistics.of_store(store), 20000)
    )
    engines = Engines(AnswerCache(triage, publication.version), EmbeddedEngine(store))
    served = Publication(
        config=publication.config,
        store=store,
        release=publication.release,
        engines=engines,
    )
    return create_app(served)


def environ(**options) -> dict:
    options.setdefault("path", "/sparql")
    return EnvironBuilder(**options).get_environ()


def direct(app, **options):
    prepared = app.extensions[DIRECT_KEY](environ(**options))
    return None if prepared is None else prepared.answer()


def view(app, **options):
    """The view's answer to the same request (through Flask and the HTTP layer)."""
    options.setdefault("path", "/sparql")
    with app.test_client() as client:
        return client.open(**options)


def same_answer(app, **options) -> None:
    given = direct(app, **options)
    assert given is not None, "the direct path left this request to the view"
    status, fields, body = given
    answer = view(app, **options)  # computed by the view: an answer asked once is not kept
    assert status == answer.status
    # Date is the HTTP server's (granian sets it on every answer); werkzeug's
    # make_conditional adds one of its own when the view answers in a test client.
    assert sorted((k.lower(), v) for k, v in fields) == sorted(
        (k.lower(), v) for k, v in answer.headers.items() if k.lower() != "date"
    )
    assert body == answer.get_data()


@pytest.mark.parametrize(
    "options",
    [
        {"query_string": {"query": LOOKUP + " # 1"}, "headers": {"Accept": JSON}},
        {"query_string": {"query": LOOKUP + " # 2", "format": "xml"}},
        {"query_string": {"query": LOOKUP + " # 3"}, "headers": {"Accept": "text/csv"}},
        {
            "query_string": {"query": LOOKUP + " # 4"},
            "headers": {"Accept": JSON, "Accept-Encoding": "gzip"},
        },
        {"query_string": {"query": f"DESCRIBE {TALK} # 5"}, "headers": {"Accept": "text/turtle"}},
        {
            "query_string": {"query": f"CONSTRUCT WHERE {{ {TALK} ?p ?o }} # 6"},
            "headers": {"Accept": "application/ld+json", "Accept-Encoding": "gzip"},
        },
        {"query_string": {"query": f"ASK {{ {TALK} ?p ?o }} # 7"}, "headers": {"Accept": JSON}},
        {"method": "POST", "data": {"query": LOOKUP + " # 8"}, "headers": {"Accept": JSON}},
        {
            "method": "POST",
            "data": LOOKUP + " # 9",
            "content_type": "application/sparql-query",
            "headers": {"Accept": JSON},
        },
        {"path": "/sparql/", "query_string": {"query": LOOKUP + " # 10"}},
    ],
    ids=["json", "xml", "csv", "gzip", "describe", "jsonld-gzip", "ask", "form", "body", "slash"],
)
def test_a_direct_answer_is_the_views_answer(app, options) -> None:
    same_answer(app, **options)


@pytest.mark.parametrize(
    "options",
    [
        {"method": "HEAD", "query_string": {"query": LOOKUP}},
        {"query_string": {"query": LOOKUP}, "headers": {"If-None-Match": 'W/"x"'}},
        {"query_string": {"query": LOOKUP}, "headers": {"Accept": "text/html"}},
        {"query_string": {"query": "SELECT ?x WHERE { ?x ?p }"}},
        {"query_string": {"query": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}},
        {"query_string": {"query": LOOKUP}, "headers": {"Accept": "image/png"}},
        {"query_string": {}},
        {"method": "POST", "data": LOOKUP, "content_type": "text/plain"},
        {"path": "/query", "query_string": {"query": LOOKUP}},
        {
            "query_string": {"query": LOOKUP + " #" + "x" * 9000},
            # as the front (and every HTTP server) gives it: the target with its query
            "environ_overrides": {"RAW_URI": "/sparql?query=" + "x" * 9000},
        },
    ],
    ids=[
        "head",
        "conditional",
        "editor",
        "syntax-error",
        "update",
        "not-acceptable",
        "description",
        "wrong-type",
        "other-path",
        "long-line",
    ],
)
def test_what_the_view_answers_is_left_to_it(app, options) -> None:
    assert direct(app, **options) is None


def test_a_request_left_to_the_view_keeps_its_body(app) -> None:
    """The direct path read the body to decide; the view must find all of it still there."""
    request = environ(method="POST", data={"query": LOOKUP}, headers={"Accept": "image/png"})
    assert app.extensions[DIRECT_KEY](request) is None  # the view says what it offers
    body = request["wsgi.input"].read()
    assert body.startswith(b"query=") and len(body) == int(request["CONTENT_LENGTH"])


def test_a_direct_answer_is_replayed_to_the_next_reader(app) -> None:
    options = {"query_string": {"query": LOOKUP + " # replayed"}, "headers": {"Accept": JSON}}
    direct(app, **options)  # asked once: not kept
    status, fields, body = direct(app, **options)  # asked again: kept
    kept = []
    replayed = app.extensions[RESPONSE_CACHE_KEY].replay(
        environ(**options), lambda s, h, exc_info=None: kept.append((s, h))
    )
    assert replayed is not None and b"".join(replayed) == body
    assert kept == [(status, fields)]


def test_a_direct_answer_is_written_by_pyoxigraph_as_the_view_writes_it(app) -> None:
    """Within the result limit, JSON answers come from pyoxigraph's writer: the same bytes as
    the project's own writer, which the query processes use."""
    query = f"SELECT ?s ?p ?o WHERE {{ ?s ?p ?o FILTER (?s = {TALK}) }}"
    store = app.extensions["kommunen_kg"].store
    ours = EmbeddedEngine(store)
    from kommunen_kg.sparql.engine import QueryRequest

    request = QueryRequest(query, "json")
    assert ours.run(request, within_limit=True).body == ours.run(request).body


def test_a_query_left_to_the_view_is_vetted_once(app) -> None:
    """The view finds the analysis the direct path made of the same text."""
    from kommunen_kg.web.endpoint.protocol import VETTED_KEY

    request = environ(query_string={"query": LOOKUP}, headers={"Accept": "image/png"})
    assert app.extensions[DIRECT_KEY](request) is None
    query, analysis = request[VETTED_KEY]
    assert query == LOOKUP and analysis.form == "SELECT"


def test_an_answer_given_within_milliseconds_is_not_kept_by_the_answer_cache(app) -> None:
    """The response cache replays it; keeping it twice cost more than running it again."""
    cache = app.extensions["kommunen_kg"].client
    before = len(cache._entries)
    assert direct(app, query_string={"query": LOOKUP + " # not kept"}, headers={"Accept": JSON})
    assert len(cache._entries) == before


def test_an_answer_that_takes_longer_is_kept_by_the_answer_cache(app) -> None:
    """Bounded above the immediate rows (1,000) but within in-process rows (20,000 here)."""
    cache = app.extensions["kommunen_kg"].client
    query = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } # kept"
    request = environ(query_string={"query": query}, headers={"Accept": JSON})
    prepared = app.extensions[DIRECT_KEY](request)
    assert prepared is not None and not prepared.now
    before = len(cache._entries)
    assert prepared.answer() is not None  # asked once: not kept
    assert len(cache._entries) == before
    assert prepared.answer() is not None  # asked again: kept
    assert len(cache._entries) == before + 1


# Answered by the query processes, as ``serve`` runs them: real processes, a 1 s time limit.
TIME_LIMIT = 1.0
COUNT = f"SELECT (COUNT(*) AS ?n) WHERE {{ {TALK} ?p ?o }}"  # an aggregate: not bounded here
# 10,000 rows of six terms: about 5 MB as SPARQL XML, which a query process hands over as a file.
LARGE = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } LIMIT 10000"


@pytest.fixture(scope="module")
def pooled(config, publication: Publication):
    """The application with the engines ``serve`` wires, query processes included."""
    server = replace(
        config.server,
        query_timeout=TIME_LIMIT,
        query_workers_min=1,
        query_workers_max=1,
        answer_cache_size=0,
    )
    store = publication.store
    assert store is not None
    engines = over_store(
        store, publication.version, server, pooled=True, statistics=Statistics.of_store(store)
    )
    assert engines.pool is not None
    engines.pool.start()
    served = Publication(
        config=replace(config, server=server),
        store=store,
        release=publication.release,
        engines=engines,
    )
    yield create_app(served)
    engines.pool.close()


def the_views(app, request: dict) -> tuple[str, dict, bytes]:
    """What the view answers to this very environ (as the front calls it after the direct
    path left the request)."""
    started: list = []
    body = app.wsgi_app(request, lambda status, headers: started.append((status, headers)))
    try:
        written = b"".join(body)
    finally:
        getattr(body, "close", lambda: None)()
    status, headers = started[0]
    return status, dict(headers), written


@pytest.mark.slow
def test_a_query_for_the_query_processes_is_answered_on_a_request_thread(pooled) -> None:
    options = {"query_string": {"query": COUNT}, "headers": {"Accept": JSON}}
    prepared = pooled.extensions[DIRECT_KEY](environ(**options))
    assert prepared is not None and not prepared.now
    same_answer(pooled, **options)


@pytest.mark.slow
def test_a_query_stopped_at_the_time_limit_is_worded_by_the_view_without_a_second_run(
    pooled,
) -> None:
    request = environ(query_string={"query": RUNAWAY}, headers={"Accept": JSON})
    started = time.monotonic()
    prepared = pooled.extensions[DIRECT_KEY](request)
    assert prepared is not None and prepared.answer() is None
    status, _headers, body = the_views(pooled, request)
    assert status.startswith("503")
    assert b"time limit of 1 s" in body
    assert time.monotonic() - started < 2 * TIME_LIMIT  # one run to the limit, not two


@pytest.mark.slow
def test_a_large_answer_of_the_query_processes_is_sent_by_the_view_from_its_file(
    pooled, publication: Publication
) -> None:
    request = environ(query_string={"query": LARGE, "format": "xml"})
    prepared = pooled.extensions[DIRECT_KEY](request)
    assert prepared is not None and prepared.answer() is None
    assert request[RAN_KEY][1].spool is not None  # handed over, not read into memory
    status, headers, body = the_views(pooled, request)
    assert RAN_KEY not in request  # taken by the view
    expected = EmbeddedEngine(publication.store).run(
        QueryRequest(LARGE, "xml", DatasetSpec(union_default_graph=True), limit=10000)
    )
    assert status.startswith("200")
    assert int(headers["Content-Length"]) == len(body) > 1024 * 1024
    assert body == expected.body
