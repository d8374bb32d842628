"""Client queries whose cost is bounded run here; the rest in the query processes.

WHY: the round trip to a query process (``sparql/pool/``) costs a small query several times
its own evaluation. A query that ``bounds.py`` can bound by its text and the release's figures
can neither run long, nor allocate much, nor make pyoxigraph panic, so it needs none of what
the query process gives (a kill at the time limit, a memory limit, a crash of its own). Every
other query goes to the pool as before, and every hostile query of the test suite (the panic,
the memory bombs, the runaway joins) is one of those.
"""

from __future__ import annotations

from kommunen_kg.sparql.admission import Admission
from kommunen_kg.sparql.bounds import Bounds
from kommunen_kg.sparql.engine import ClientEngine, EmbeddedEngine, QueryRequest, QueryResponse
from kommunen_kg.sparql.errors import EngineUnavailable

# Queries bounded by at most this many solutions count as answered at once (``immediate``):
# the endpoint then runs them on its event loop, which waits for nothing else meanwhile. At
# 10^5 statements, writing 1,000 rows and sorting them takes about 5 ms; a larger bounded query
# runs here too, but on a request thread (pyoxigraph lets go of the GIL while it evaluates).
IMMEDIATE_ROWS = 1000


def _busy() -> EngineUnavailable:
    return EngineUnavailable("Too many queries are running; please try again shortly.")


class Triage:
    """A :class:`~kommunen_kg.sparql.engine.ClientEngine`: bounded queries on ``here``, in
    this process; the others on ``pool``."""

    def __init__(
        self,
        pool: ClientEngine,
        here: EmbeddedEngine,
        bounds: Bounds,
        admission: Admission | None = None,
    ):
        self.pool = pool
        self.here = here
        self.bounds = bounds
        # The pool's count of requests that hold a request thread for a query: a bounded query
        # that is not immediate holds one here too, so it counts there (``admission.py``: the
        # threads kept free for pages and /health stay free however many arrive).
        self.admission = admission
        self.local_answers = 0  # how many queries ran here (for tests and /health)

    def local(self, request: QueryRequest) -> bool:
        """Whether the query runs here (bounded by ``[server] in_process_rows``)."""
        return self.bounds.within(request.query, request.base_iri)

    def immediate(self, request: QueryRequest) -> bool:
        """Whether the query runs here, within a few milliseconds, without waiting."""
        return self.bounds.within(request.query, request.base_iri, IMMEDIATE_ROWS)

    def run(self, request: QueryRequest) -> QueryResponse:
        rows = self.bounds.rows(request.query, request.base_iri)
        if rows is None or rows > self.bounds.most:
            return self.pool.run(request)
        self.local_answers += 1
        within_limit = rows <= request.limit
        if rows <= IMMEDIATE_ROWS or self.admission is None:
            return self.here.run(request, within_limit=within_limit, bounded=True)
        with self.admission.admit(_busy):
            return self.here.run(request, within_limit=within_limit, bounded=True)

    def etag(self, request: QueryRequest) -> str | None:
        return self.pool.etag(request)

    def close(self) -> None:
        self.pool.close()
