"""No client query can take the server down: time limit, result limit, memory limit, busy pool.

Client queries run in the query pool's worker processes (kommunen_kg.sparql.pool). These tests
send real queries over HTTP to the application served from a thread with a pool engine whose
time limit is 2 s, and look at the worker processes through /proc.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
import requests

from kommunen_kg.sparql.engine import DatasetSpec, EmbeddedEngine, QueryRequest
from kommunen_kg.sparql.engines import over_store
from kommunen_kg.sparql.errors import EngineUnavailable
from kommunen_kg.sparql.pool import QueryPool
from kommunen_kg.sparql.pool.worker import OUT_OF_MEMORY, ending_message
from kommunen_kg.web.app import create_app
from kommunen_kg.web.publication import Publication

from .support import PANICKING, alive, server_in_thread

pytestmark = pytest.mark.slow  # waits for runaway queries to reach their time limits

TIMEOUT = 2.0
RESULT_LIMIT = 50
# 2738^3 solutions: hours of CPU. The cross product is the classic denial-of-service query.
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
SMALL = "SELECT ?p ?o WHERE { <https://w3id.org/kommunen-innovativ/id/project/lebenswert> ?p ?o }"
# Every node reaches every node of its connected component, in both directions.
EXPLODING_PATH = "SELECT (COUNT(*) AS ?n) WHERE { ?a (!<urn:x:none>|^!<urn:x:none>)* ?b }"
# ORDER BY must hold the whole cross product of two patterns in memory (7.5e6 rows).
MEMORY_HOG = "SELECT ?a ?c WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?f"


def limited(config, **server):
    """The test configuration with a 2 s time limit and a small result limit."""
    values = {
        "query_timeout": TIMEOUT,
        "result_limit": RESULT_LIMIT,
        "query_workers_min": 2,
        "query_workers_max": 8,
        "query_queue_timeout": 1.0,
        **server,
    }
    return replace(config, server=replace(config.server, **values))


def pool_app(publication, config):
    """The application over the session's store with a started query pool as its engine."""
    engines = over_store(
        publication.store,
        publication.version,
        config.server,
        union_default_graph=publication.union_default_graph,
        pooled=True,
        answer_cache=False,
    )
    pool = engines.pool
    pool.start()
    served = Publication(
        config=config,
        store=publication.store,
        release=publication.release,
        union_default_graph=publication.union_default_graph,
        engines=engines,
    )
    return pool, create_app(served)


@pytest.fixture(scope="module")
def pool_server(config, publication):
    pool, app = pool_app(publication, limited(config))
    with server_in_thread(app) as url:
        yield url, pool
    pool.close()


def ask(url: str, query: str, **params) -> requests.Response:
    return requests.post(url + "sparql", data={"query": query, **params}, timeout=30)


def in_background(function, *args) -> tuple[threading.Thread, list]:
    """Runs ``function(*args)`` in a thread; its result lands in the returned list."""
    out: list = []
    thread = threading.Thread(target=lambda: out.append(function(*args)), daemon=True)
    thread.start()
    return thread, out


def wait_for_busy(pool: QueryPool, count: int = 1, timeout: float = 5.0) -> list[int]:
    """The pids of the busy workers, once at least ``count`` are busy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = pool.worker_pids()["busy"]
        if len(busy) >= count:
            return busy
        time.sleep(0.02)
    raise AssertionError(f"fewer than {count} busy workers after {timeout} s")


@pytest.mark.parametrize("query", [RUNAWAY, EXPLODING_PATH], ids=["cross-product", "path"])
def test_a_runaway_query_gets_503_within_the_time_limit(pool_server, query):
    url, _pool = pool_server
    started = time.monotonic()
    response = ask(url, query)
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert "time limit of 2 s" in response.text
    assert TIMEOUT * 0.9 < elapsed < TIMEOUT + 2.0


def test_the_runaway_querys_worker_process_is_killed_and_replaced(pool_server):
    url, pool = pool_server
    thread, out = in_background(ask, url, RUNAWAY)
    (pid,) = wait_for_busy(pool)
    assert alive(pid)
    thread.join(timeout=10)
    assert out[0].status_code == 503
    assert not alive(pid)  # gone at once: its CPU is free
    assert len(pool.worker_pids()["idle"]) >= 2  # a replacement took its place


def test_small_queries_are_answered_while_runaway_queries_run(pool_server):
    url, pool = pool_server
    runaways = [in_background(ask, url, RUNAWAY) for _ in range(4)]  # more than the 2 cores
    wait_for_busy(pool, 4)
    latencies: list[float] = []

    def stream() -> None:
        with requests.Session() as session:
            while any(thread.is_alive() for thread, _out in runaways):
                started = time.monotonic()
                response = session.post(url + "sparql", data={"query": SMALL}, timeout=30)
                latencies.append(time.monotonic() - started)
                assert response.status_code == 200
                assert len(response.json()["results"]["bindings"]) > 10

    streams = [threading.Thread(target=stream) for _ in range(2)]
    for thread in streams:
        thread.start()
    for thread in streams:
        thread.join(timeout=30)
    assert [out[0].status_code for _thread, out in runaways] == [503] * 4
    assert len(latencies) >= 10
    assert max(latencies) < 2.0


def test_the_result_limit_cuts_the_answer_and_says_so(publication):
    pool = QueryPool(publication.store, min_workers=1, max_workers=1)
    pool.start()
    try:
        dataset = DatasetSpec(union_default_graph=True)
        cut = pool.run(QueryRequest("SELECT * WHERE { ?s ?p ?o }", "json", dataset, limit=5))
        whole = pool.run(QueryRequest(SMALL, "json", dataset, limit=1000))
    finally:
        pool.close()
    assert cut.truncated and cut.count == 5
    assert cut.body.count(b'"s":') == 5
    assert not whole.truncated and whole.count > 10


def test_the_result_limit_applies_to_client_queries_over_http(pool_server):
    url, _pool = pool_server
    response = ask(url, "SELECT * WHERE { ?s ?p ?o }")
    assert response.status_code == 200
    assert len(response.json()["results"]["bindings"]) == RESULT_LIMIT


def test_a_syntax_error_is_400_with_line_and_column(pool_server):
    url, _pool = pool_server
    response = ask(url, "SELECT * WHERE {\n  ?s ?p }")
    assert response.status_code == 400
    assert re.search(r"\b2\b\D{1,12}\b10\b", response.text), response.text


@pytest.mark.parametrize(
    ("query", "result_format", "dataset"),
    [
        ("SELECT * WHERE {\n  ?s ?p }", "json", DatasetSpec()),
        ("ASK { ?s ?p ?o", "xml", DatasetSpec()),
        ("SELECT * WHERE { ?s ?p ?o }", "no-such-format", DatasetSpec()),
        ("SELECT * WHERE { ?s ?p ?o }", "json", DatasetSpec(default_graphs=("not an iri",))),
    ],
    ids=["select-syntax", "ask-syntax", "unknown-format", "bad-graph-iri"],
)
def test_errors_in_a_worker_are_the_exceptions_the_in_process_engine_raises(
    publication, query, result_format, dataset
):
    request = QueryRequest(query, result_format, dataset)
    embedded = raised(EmbeddedEngine(publication.store).run, request)
    pool = QueryPool(publication.store, min_workers=1, max_workers=1)
    pool.start()
    try:
        pooled = raised(pool.run, request)
        assert pool.worker_pids()["idle"]  # the worker is fine and ready for the next query
    finally:
        pool.close()
    assert pooled == embedded


def raised(function, *args) -> tuple:
    """What ``function(*args)`` raised: type, message, line and column.

    Only plain values are kept: the traceback would hold pyoxigraph results, which must be
    dropped on the thread that made them.
    """
    try:
        function(*args)
    except Exception as exc:
        return type(exc), str(exc), getattr(exc, "line", None), getattr(exc, "column", None)
    raise AssertionError(f"{function} raised nothing")


def test_a_worker_that_dies_is_replaced_and_its_client_gets_a_clear_503(pool_server):
    url, pool = pool_server
    thread, out = in_background(ask, url, RUNAWAY)
    (pid,) = wait_for_busy(pool)
    os.kill(pid, 9)
    thread.join(timeout=10)
    assert out[0].status_code == 503
    assert "query worker stopped while answering" in out[0].text
    assert ask(url, SMALL).status_code == 200


def test_a_query_over_the_memory_limit_is_stopped_with_a_clear_503(config, publication):
    pool, app = pool_app(publication, limited(config, query_memory_limit=64))
    try:
        with server_in_thread(app) as url:
            response = ask(url, MEMORY_HOG)
            assert response.status_code == 503
            # named from the worker's last words (a failed allocation), not guessed from SIGABRT
            assert "needed more than the memory limit of 64 MB" in response.text
            assert ask(url, SMALL).status_code == 200
    finally:
        pool.close()


def test_a_worker_the_engine_crashes_on_gets_a_503_that_does_not_blame_memory(publication):
    """vet() refuses the structures known to crash pyoxigraph; a crash that got past it (here the
    pool is asked directly) is reported as what it was, and a fresh worker takes over."""
    pool = QueryPool(publication.store, min_workers=1, max_workers=1)
    pool.start()
    try:
        deep = "SELECT * WHERE " + "{" * 5000 + "}" * 5000
        with pytest.raises(EngineUnavailable) as error:
            pool.run(QueryRequest(deep, "json"))
        message = str(error.value)
        assert "crashed on this query (SIGSEGV)" in message
        assert "did not run out of memory" in message
        assert "memory limit" not in message
        assert pool.run(QueryRequest("ASK {}", "json")).body == b'{"head": {}, "boolean": true}'
    finally:
        pool.close()


def test_an_engine_error_of_an_unexpected_kind_is_a_400_and_logged_by_the_server(
    config, publication, caplog
):
    """No client query is known to make pyoxigraph raise anything but its syntax, IO and
    evaluation errors; a base IRI it refuses (a ValueError) stands in for the unexpected."""
    odd = replace(config, dataset=replace(config.dataset, base_iri="https://example.org/a b/"))
    pool, app = pool_app(publication, limited(odd))
    try:
        with server_in_thread(app) as url:
            response = ask(url, SMALL)
    finally:
        pool.close()
    assert response.status_code == 400
    assert "could not be evaluated: ValueError: Invalid base IRI" in response.text
    (record,) = [r for r in caplog.records if r.name == "kommunen_kg.sparql.engine"]
    assert record.levelname == "ERROR"
    assert "ValueError" in record.getMessage()
    assert "Traceback" in record.getMessage()  # from the worker, where it was raised


def test_when_every_worker_is_busy_a_client_gets_503_with_retry_after(config, publication):
    server = {"query_workers_min": 1, "query_workers_max": 1, "query_queue_length": 0}
    pool, app = pool_app(publication, limited(config, **server))
    try:
        with server_in_thread(app) as url:
            runaway, _out = in_background(ask, url, RUNAWAY)
            wait_for_busy(pool)
            started = time.monotonic()
            response = ask(url, SMALL)
            assert time.monotonic() - started < 1.0
            assert response.status_code == 503
            assert int(response.headers["Retry-After"]) > 0
            assert "busy" in response.text
            runaway.join(timeout=10)
    finally:
        pool.close()


def test_a_queued_query_runs_when_a_worker_becomes_free(config, publication):
    server = {
        "query_timeout": 1.0,
        "query_workers_min": 1,
        "query_workers_max": 1,
        "query_queue_timeout": 5.0,
    }
    pool, app = pool_app(publication, limited(config, **server))
    try:
        with server_in_thread(app) as url:
            runaway, out = in_background(ask, url, RUNAWAY)
            wait_for_busy(pool)
            response = ask(url, SMALL)  # waits for the runaway's worker to be replaced
            assert response.status_code == 200
            runaway.join(timeout=10)
            assert out[0].status_code == 503
    finally:
        pool.close()


def test_a_worker_is_reused_for_query_after_query(publication):
    pool = QueryPool(publication.store, min_workers=1, max_workers=1)
    pool.start()
    try:
        before = pool.worker_pids()["idle"]
        for _ in range(20):
            pool.run(QueryRequest(SMALL, "json", DatasetSpec(union_default_graph=True)))
        assert pool.worker_pids()["idle"] == before
    finally:
        pool.close()


EVERYTHING = QueryRequest(
    "SELECT * WHERE { ?s ?p ?o }", "json", DatasetSpec(union_default_graph=True)
)


def test_a_worker_that_made_much_memory_its_own_is_replaced_after_its_query(publication):
    # Nothing of it counts as the store's share here, so the pages a scan copies are too much.
    pool = QueryPool(
        publication.store, min_workers=1, max_workers=1, recycle_memory=1, store_share=0
    )
    pool.start()
    try:
        (before,) = pool.worker_pids()["idle"]
        assert pool.run(EVERYTHING).count > 1000
        (after,) = pool.worker_pids()["idle"]
        assert after != before
        assert not alive(before)
    finally:
        pool.close()


def test_a_busy_worker_keeps_the_store_pages_it_copied_for_the_next_query(publication):
    # pyoxigraph writes to the store pages a query reads; a fresh worker would copy them again.
    pool = QueryPool(publication.store, min_workers=1, max_workers=1, recycle_memory=1)
    pool.start()
    try:
        (before,) = pool.worker_pids()["idle"]
        assert pool.run(EVERYTHING).count > 1000
        assert pool.worker_pids()["idle"] == [before]
    finally:
        pool.close()


@contextlib.contextmanager
def _after_a_scan(publication, idle_copies: int) -> Iterator[tuple[QueryPool, int]]:
    """A pool of one worker (idle after 0.3 s) that has just scanned the store: the pool and
    that worker's pid. The busy worker's allowance (recycle_memory) is the default, 128 MB."""
    pool = QueryPool(
        publication.store,
        min_workers=1,
        max_workers=1,
        idle_copies=idle_copies,
        idle_timeout=0.3,
    )
    pool.start()
    try:
        pool.run(EVERYTHING)
        (used,) = pool.worker_pids()["idle"]
        yield pool, used
    finally:
        pool.close()


def test_an_idle_worker_that_holds_copied_pages_is_replaced_by_a_fresh_one(publication):
    with _after_a_scan(publication, idle_copies=1) as (pool, used):
        deadline = time.monotonic() + 5
        while pool.worker_pids()["idle"] in ([used], []) and time.monotonic() < deadline:
            time.sleep(0.05)
        (fresh,) = pool.worker_pids()["idle"]
        assert fresh != used
        assert not alive(used)


def test_an_idle_worker_that_holds_less_than_idle_copies_is_kept(publication):
    with _after_a_scan(publication, idle_copies=1024) as (pool, used):
        time.sleep(1.2)  # four idle timeouts: the pool has looked at it at least twice
        assert pool.worker_pids()["idle"] == [used]


def _grow(pool: QueryPool) -> None:
    """Three overlapping queries of about half a second: the pool forks more workers."""
    slow = QueryRequest(
        "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f } LIMIT 1",
        "json",
        DatasetSpec(union_default_graph=True),
        timeout=0.5,
    )
    threads = [threading.Thread(target=_swallow, args=(pool.run, slow)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _wait_to_shrink(pool: QueryPool, seconds: float = 5) -> None:
    """Until the idle workers beyond one are retired (or ``seconds`` pass)."""
    deadline = time.monotonic() + seconds
    while len(pool.worker_pids()["idle"]) > 1 and time.monotonic() < deadline:
        time.sleep(0.05)


def test_idle_workers_beyond_the_minimum_are_retired(publication):
    pool = QueryPool(publication.store, min_workers=1, max_workers=3, idle_timeout=1.0)
    pool.start()
    try:
        _grow(pool)
        grown = pool.worker_pids()["idle"]
        assert len(grown) >= 2  # the three queries overlapped (a loaded machine may serialise two)
        _wait_to_shrink(pool)
        (kept,) = pool.worker_pids()["idle"]
        assert kept in grown
        # a retired worker leaves the idle list as it is killed; it ends within moments
        retired = [pid for pid in grown if pid != kept]
        deadline = time.monotonic() + 5
        while any(alive(pid) for pid in retired) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not any(alive(pid) for pid in retired)
    finally:
        pool.close()


def _swallow(call, *args) -> None:
    with contextlib.suppress(Exception):
        call(*args)


def test_after_its_zygote_was_killed_the_pool_forks_a_new_one_and_answers(publication):
    pool = QueryPool(publication.store, min_workers=2, max_workers=2)
    pool.start()
    try:
        before = pool.worker_pids()
        os.kill(before["zygote"][0], 9)
        deadline = time.monotonic() + 5
        while any(alive(pid) for pid in before["idle"]) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not any(alive(pid) for pid in before["idle"])  # they die with their zygote
        answer = pool.run(QueryRequest(SMALL, "json", DatasetSpec(union_default_graph=True)))
        assert answer.count > 10
        (zygote,) = pool.worker_pids()["zygote"]
        assert zygote != before["zygote"][0] and alive(zygote)
    finally:
        pool.close()


def test_closing_the_pool_ends_all_its_processes_even_a_busy_one(publication):
    pool = QueryPool(publication.store, min_workers=2, max_workers=3)
    pool.start()
    runaway = QueryRequest(RUNAWAY, "json", DatasetSpec(union_default_graph=True), timeout=30)
    thread, out = in_background(lambda: raised(pool.run, runaway))
    wait_for_busy(pool)
    pids = [pid for group in pool.worker_pids().values() for pid in group]
    assert len(pids) == 3  # the zygote, an idle worker and the busy one
    started = time.monotonic()
    pool.close()
    thread.join(timeout=5)
    assert time.monotonic() - started < 3
    assert not any(alive(pid) for pid in pids)
    assert out[0][0].__name__ == "EngineUnavailable"


def zombie_children(parent: int) -> list[int]:
    """The children of ``parent`` that have ended and were not reaped."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if fields[0] == "Z" and int(fields[1]) == parent:
            found.append(int(entry))
    return found


def test_retired_workers_do_not_stay_zombies(publication):
    """The zygote reaps the workers the pool retires within about a second, fork or not."""
    pool = QueryPool(publication.store, min_workers=1, max_workers=3, idle_timeout=1.0)
    pool.start()
    try:
        _grow(pool)
        (zygote,) = pool.worker_pids()["zygote"]
        _wait_to_shrink(pool)
        time.sleep(1.5)  # one reaping round of the zygote, and some slack
        assert zombie_children(zygote) == []
    finally:
        pool.close()


def test_an_engine_panic_is_named_as_such_not_as_the_memory_limit(pool_server):
    url, _pool = pool_server
    response = ask(url, PANICKING)
    assert response.status_code == 400, response.text
    assert "internal error" in response.text
    assert "memory" not in response.text.replace("not for lack of memory", "")
    assert ask(url, SMALL).status_code == 200  # the pool goes on


# 10,000 rows of six terms: about 5 MB as SPARQL XML, beyond what a worker sends as bytes.
LARGE = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } LIMIT 10000"


def test_a_large_answer_reaches_the_server_as_a_file_with_the_same_bytes(publication):
    """Beyond a megabyte the worker writes its answer to a file and hands over the file, so
    that the server process never holds it; the client gets the same bytes."""
    pool = QueryPool(publication.store, min_workers=1, max_workers=1)
    pool.start()
    request = QueryRequest(LARGE, "xml", DatasetSpec(union_default_graph=True), limit=10000)
    try:
        answer = pool.run(request)
        assert answer.body == b""
        assert answer.spool is not None
        with answer.spool:
            spooled = answer.spool.read()
        expected = EmbeddedEngine(publication.store).run(request).body
        assert len(spooled) == answer.spooled == len(expected) > 1024 * 1024
        assert spooled == expected
    finally:
        pool.close()


def test_an_answer_larger_than_max_answer_bytes_is_refused_with_400_naming_the_limit(
    config, publication
):
    pool, app = pool_app(publication, limited(config, result_limit=10000, max_answer_bytes=2**20))
    try:
        with server_in_thread(app) as url:
            response = ask(url, LARGE, format="xml")
            assert response.status_code == 400, response.text
            assert "limit of 1 MB per answer" in response.text
            assert "LIMIT" in response.text
    finally:
        pool.close()


def test_a_large_answer_is_sent_with_its_length_and_streamed(config, publication):
    pool, app = pool_app(publication, limited(config, result_limit=10000))
    try:
        with server_in_thread(app) as url:
            response = ask(url, LARGE, format="xml")
            assert response.status_code == 200
            assert int(response.headers["Content-Length"]) == len(response.content) > 2**20
            assert response.content.endswith(b"</sparql>\n") or b"</sparql>" in response.content
    finally:
        pool.close()


def test_the_pool_refuses_at_once_beyond_its_request_limit(publication):
    """serve gives the pool all request threads but two (limit_requests): the next request
    is refused at once instead of taking a thread that pages and /health need."""
    pool = QueryPool(publication.store, min_workers=1, max_workers=4)
    pool.limit_requests(1)
    pool.start()
    try:
        thread, _out = in_background(pool.run, QueryRequest(RUNAWAY, "json", timeout=TIMEOUT))
        wait_for_busy(pool)
        started = time.monotonic()
        with pytest.raises(EngineUnavailable, match="busy"):
            pool.run(QueryRequest("ASK {}", "json"))
        assert time.monotonic() - started < 0.2
        thread.join(timeout=10)
    finally:
        pool.close()


def test_an_abort_without_last_words_is_not_claimed_to_be_the_memory_limit():
    aborted = signal.SIGABRT  # a wait status: killed by SIGABRT, no core
    assert "aborted (SIGABRT) without saying why" in ending_message(aborted, 64)
    assert "needed more than" not in ending_message(aborted, 64)
    assert "needed more than the memory limit of 64 MB" in ending_message(
        aborted | OUT_OF_MEMORY, 64
    )
