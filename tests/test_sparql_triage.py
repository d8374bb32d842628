"""Which engine answers a client's query (sparql/triage.py): bounded queries here, the rest in
the query processes; and the threads kept free for pages stay free."""

from __future__ import annotations

import pytest

from kommunen_kg.sparql.admission import Admission
from kommunen_kg.sparql.bounds import Bounds
from kommunen_kg.sparql.engine import EmbeddedEngine, QueryRequest
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
