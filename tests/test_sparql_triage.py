"""Which engine answers a client's query (sparql/triage.py): bounded queries here, the rest in
the query processes; and the threads kept free for pages stay free."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from kommunen_kg.sparql.admission import Admission
from kommunen_kg.sparql.bounds import Bounds
from kommunen_kg.sparql.engine import DatasetSpec, EmbeddedEngine, QueryRequest
from kommunen_kg.sparql.errors import EngineUnavailable
from kommunen_kg.sparql.statistics import Statistics
from kommunen_kg.sparql.triage import IMMEDIATE_ROWS, Triage
from tests.hostile.clients import RUNAWAY
from tests.support import PANICKING

BASE = "https://w3id.org/kommunen-innovativ/"
SMALL = f"SELECT ?p ?o WHERE {{ <{BASE}id/talk/2020-11-11-kudequa> ?p ?o }}"
LARGER = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"  # bounded by every statement: not immediate


class Counted(EmbeddedEngine):
    """A real engine that stands in for the query processes and counts what reaches it."""

    def __init__(self, store) -> None:
        super().__init__(store)
        self.queries: list[str] = []

    def run(self, request, **kwargs):
        self.queries.append(request.query)
        return super().run(request, **kwargs)


@pytest.fixture
def triage(publication):
    store = publication.store
    stats = Statistics.of_store(store)
    return Triage(Counted(store), EmbeddedEngine(store), Bounds(stats, 50000), Admission(1))


def request(query: str) -> QueryRequest:
    return QueryRequest(query, "json", base_iri=BASE)


def asking(query: str, result_format: str = "json", limit: int = 10000) -> QueryRequest:
    """A request over every graph of the release, as the endpoint asks."""
    every = DatasetSpec(union_default_graph=True)
    return QueryRequest(query, result_format, every, limit=limit, base_iri=BASE)


def test_a_small_bounded_query_is_answered_here_at_once(triage) -> None:
    assert triage.immediate(request(SMALL)) and triage.local(request(SMALL))
    triage.run(request(SMALL))
    assert triage.local_answers == 1 and triage.pool.queries == []


def test_a_larger_bounded_query_is_answered_here_on_a_thread(triage) -> None:
    rows = triage.bounds.rows(LARGER, BASE)
    assert rows is not None and IMMEDIATE_ROWS < rows <= triage.bounds.most
    assert triage.local(request(LARGER)) and not triage.immediate(request(LARGER))
    triage.run(request(LARGER))
    assert triage.local_answers == 1


@pytest.mark.parametrize("query", [RUNAWAY, PANICKING], ids=["runaway", "panic"])
def test_an_unbounded_query_goes_to_the_query_processes(triage, query: str) -> None:
    assert not triage.local(request(query))
    if query is RUNAWAY:  # (the panic would abort this test's own process)
        triage.run(request(query))
        assert triage.pool.queries == [query]


def test_a_larger_query_counts_against_the_threads_queries_may_hold(triage) -> None:
    with triage.admission.admit(lambda: AssertionError("the one place is free")):
        with pytest.raises(EngineUnavailable):
            triage.run(request(LARGER))
        triage.run(request(SMALL))  # a few milliseconds on the loop hold no thread


def test_a_query_over_in_process_rows_goes_to_the_query_processes(publication) -> None:
    store = publication.store
    triage = Triage(Counted(store), EmbeddedEngine(store), Bounds(Statistics.of_store(store), 10))
    triage.run(request(LARGER))
    assert triage.local_answers == 0 and triage.pool.queries == [LARGER]


# -- who writes the answer of a query that runs here --

CONSTRUCTED = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o FILTER (?s = <{BASE}id/talk/2020-11-11-kudequa>) }}"
EVERY_STATEMENT = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"


@pytest.mark.parametrize("result_format", ["json", "xml", "csv", "tsv"])
def test_a_bounded_select_is_written_as_it_is_written_row_by_row(triage, result_format) -> None:
    """pyoxigraph writes the answer of a query that runs here (its JSON, our other formats):
    byte for byte the answer the query processes write, row by row."""
    asked = asking(SMALL, result_format)
    assert triage.run(asked).body == EmbeddedEngine(triage.here.store).run(asked).body


@pytest.mark.parametrize(
    "result_format", ["turtle", "ntriples", "nquads", "trig", "jsonld", "rdfxml"]
)
def test_a_bounded_construct_is_written_as_it_is_written_triple_by_triple(
    triage, result_format
) -> None:
    asked = asking(CONSTRUCTED, result_format)
    answer = triage.run(asked)
    assert answer.body == EmbeddedEngine(triage.here.store).run(asked).body
    assert answer.body and not answer.truncated


def test_a_bounded_select_with_more_rows_than_the_limit_is_cut_at_the_limit(triage) -> None:
    answer = triage.run(asking(LARGER, limit=5))
    assert answer.truncated and answer.count == 5 and answer.body.count(b'"s":') == 5


def test_a_bounded_construct_with_more_triples_than_the_limit_is_cut_at_the_limit(triage) -> None:
    answer = triage.run(asking(EVERY_STATEMENT, "ntriples", limit=7))
    assert answer.truncated and answer.count == 7 and len(answer.body.splitlines()) == 7


def test_a_long_answer_within_the_limit_is_not_cut(triage) -> None:
    """An answer long enough to hold more rows than the limit is counted row by row: a few
    long rows stay whole."""
    rows = len(EmbeddedEngine(triage.here.store, union_default_graph=True).select(SMALL))
    answer = triage.run(asking(SMALL, limit=rows))
    assert len(answer.body) > 3 * rows and not answer.truncated
    assert answer.body.count(b'"p":') == rows


def test_solutions_without_values_are_cut_at_the_limit_too(triage) -> None:
    """The shortest rows pyoxigraph writes (``{}``): the answer is still long enough to be
    counted row by row."""
    answer = triage.run(asking("SELECT ?nothing WHERE { ?s ?p ?o }", limit=9))
    assert answer.truncated and answer.count == 9 and answer.body.count(b"{}") == 9


def test_a_long_answer_stops_pyoxigraphs_writer_at_the_length_the_limit_allows(triage) -> None:
    """The answer is not written to its end and then thrown away: the writer is stopped once it
    is longer than the limit's rows could be, and the query runs again row by row."""
    from kommunen_kg.sparql.engine import _Longer, _written

    solutions = triage.here.store.query(LARGER, use_default_graph_as_union=True)
    with pytest.raises(_Longer):
        _written(solutions, "select", ox.QueryResultsFormat.JSON, 5)
