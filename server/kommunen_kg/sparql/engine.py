"""The query engine behind every view: two small interfaces, no HTTP in them.

The SPARQL protocol, the linked-data pages and the dumps all ask questions of the graph, of two
kinds:

* :class:`ClientEngine` ``run(QueryRequest)``: an untrusted query from a client, with a
  dataset, a result format, a time limit and a result limit. It answers serialised bytes, so
  that an implementation may run it in another process (and kill that process when the time is
  up) or on another server; ``etag`` gives the answer's validator before it is computed, where
  answers are kept.
* :class:`TrustedEngine` ``select`` / ``construct`` / ``ask``: queries that our own views
  write. They answer pyoxigraph terms, and run in-process (or at the remote store).

:class:`EmbeddedEngine` answers both from a pyoxigraph store in this process. The query pool
(killable worker processes) and the answer cache are client engines, a remote SPARQL endpoint
is both; ``sparql/engines.py`` wires them together for one release.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import BinaryIO, Protocol

import pyoxigraph as ox

from kommunen_kg.rdf.formats import RDF_SYNTAXES, RESULT_SYNTAXES
from kommunen_kg.sparql import results
from kommunen_kg.sparql.errors import AnswerTooLarge, QueryError, QuerySyntaxError

log = logging.getLogger(__name__)

# The formats by name (rdf/formats.py): (media type, pyoxigraph format).
RESULT_FORMATS: dict[str, tuple[str, ox.QueryResultsFormat]] = {
    s.name: (s.media_type, s.results_format)  # type: ignore[misc]
    for s in RESULT_SYNTAXES
}
GRAPH_FORMATS: dict[str, tuple[str, ox.RdfFormat]] = {
    s.name: (s.media_type, s.rdf_format)  # type: ignore[misc]
    for s in RDF_SYNTAXES
}


def is_engine_failure(exc: BaseException) -> bool:
    """An exception a query may raise in the engine: any ``Exception``, and pyo3's
    ``PanicException`` (a Rust panic), which derives from ``BaseException`` only."""
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


def unexpected_error(kind: str, message: str, query: str, details: str = "") -> QueryError:
    """An engine error of no kind this module knows, for the client a :class:`QueryError`.

    The client gets a 400 with the engine's words instead of a 500; the server's log gets the
    error with its traceback (``details``, or the one being handled), because an exception
    nobody expected may as well be a bug of ours.
    """
    log.error(
        "The query engine raised %s: %s (answered as an error of the query)\nQuery: %.2000s%s",
        kind,
        message,
        query,
        "\n" + details if details else "",
        exc_info=not details,
    )
    return QueryError(f"{kind}: {message}")


@dataclass(frozen=True)
class DatasetSpec:
    """The RDF dataset of a query, from the protocol's default-graph-uri / named-graph-uri.

    Empty tuples mean: not given by the protocol (the query's FROM clauses, or the endpoint's
    default dataset, apply). ``union_default_graph`` makes the default graph the union of all
    graphs when nothing else defines it.
    """

    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    union_default_graph: bool = False


@dataclass(frozen=True)
class QueryRequest:
    query: str
    result_format: str  # a key of RESULT_FORMATS (SELECT/ASK) or GRAPH_FORMATS (CONSTRUCT/DESCRIBE)
    dataset: DatasetSpec = field(default_factory=DatasetSpec)
    timeout: float = 10.0
    limit: int = 10000
    base_iri: str | None = None
    # IRIs the query calls as functions, when the caller has analysed it already (the endpoint
    # does, to vet it); None: the engine finds them itself. Saves a second scan per query.
    extension_functions: tuple[str, ...] | None = None
    # Bytes the serialised answer may have (0: no limit); beyond, AnswerTooLarge.
    max_bytes: int = 0


@dataclass(frozen=True)
class QueryResponse:
    """A serialised answer. ``truncated`` is true when the result limit cut it.

    A large answer comes as ``spool``, an open file (unlinked: it disappears when closed)
    of ``spooled`` bytes, with an empty ``body``: the query pool writes answers beyond a
    megabyte to a file, so that the server process never holds them in memory. Whoever takes
    the answer closes the file.
    """

    kind: str  # "select", "ask" or "graph"
    body: bytes
    media_type: str
    truncated: bool = False
    count: int = 0
    spooled: int = 0
    spool: BinaryIO | None = field(default=None, compare=False, repr=False)

    @property
    def size(self) -> int:
        """The answer's length in bytes, wherever it is held."""
        return self.spooled if self.spool is not None else len(self.body)


class ClientEngine(Protocol):
    """Answers a client's query: serialised bytes, under the request's limits."""

    def run(self, request: QueryRequest) -> QueryResponse: ...

    def etag(self, request: QueryRequest) -> str | None:
        """The validator of the answer, known before it is computed, or None."""
        ...

    def local(self, request: QueryRequest) -> bool:
        """Whether ``run`` answers in this process in bounded time, without waiting for
        another process or server (a kept answer, a query bounded by construction)."""
        ...

    def immediate(self, request: QueryRequest) -> bool:
        """Whether ``run`` answers locally within a few milliseconds: then the endpoint may
        ask on its event loop, without a request thread."""
        ...

    def close(self) -> None: ...


class TrustedEngine(Protocol):
    """Answers the queries our own views write, as pyoxigraph terms."""

    def select(self, query: str) -> list[dict[str, ox.NamedNode | ox.BlankNode | ox.Literal]]: ...

    def construct(self, query: str) -> list[ox.Triple]: ...

    def ask(self, query: str) -> bool: ...

    def close(self) -> None: ...


def syntax_error_from(exc: SyntaxError) -> QuerySyntaxError:
    """pyoxigraph says 'error at 3:7: expected ...'; keep the words and the position."""
    import re

    text = str(exc)
    match = re.match(r"error at (\d+):(\d+): (.*)", text, re.S)
    if match:
        return QuerySyntaxError(match.group(3), int(match.group(1)), int(match.group(2)))
    return QuerySyntaxError(text)


def query_kwargs(dataset: DatasetSpec) -> dict:
    """pyoxigraph keyword arguments for a dataset specification."""
    kwargs: dict = {}
    if dataset.default_graphs:
        kwargs["default_graph"] = [ox.NamedNode(g) for g in dataset.default_graphs]
    elif dataset.union_default_graph:
        kwargs["use_default_graph_as_union"] = True
    if dataset.named_graphs:
        kwargs["named_graphs"] = [ox.NamedNode(g) for g in dataset.named_graphs]
    elif dataset.default_graphs:
        # Only the protocol's default graphs given: no named graphs (SPARQL 1.1 Protocol 2.1.4).
        kwargs["named_graphs"] = []
    return kwargs


def _unknown_function(*_args: object) -> None:
    return None


def unknown_functions(
    query: str, base_iri: str | None, called: Iterable[str] | None = None
) -> dict:
    """Extension functions the engine does not know, as functions that evaluate to an error.

    SPARQL 1.1 (section 17.6) makes an unsupported extension function an expression error, which
    leaves a BIND or a projected expression unbound; pyoxigraph instead fails the whole query.
    Registering each such IRI as a custom function that returns None gives the standard result.
    ``called``: the IRIs the query calls, when already known.
    """
    if called is None:
        from kommunen_kg.sparql.analysis import analyse

        called = analyse(query, base_iri).extension_functions
    functions = {}
    for iri in called:
        try:
            functions[ox.NamedNode(iri)] = _unknown_function
        except ValueError:  # not an IRI the engine would accept either; it reports the error
            continue
    return functions


def solution_dicts(solutions: ox.QuerySolutions, term=None) -> list[dict]:
    """Each solution as a dict of its bound variables (``term`` maps every value).

    A solution is read as a sequence, in the order of the variables: looking a value up by
    variable (``row[v]``) costs three times as much, 8 of the 13 s the site took to start over
    1.45e6 triples (its index reads 580,000 rows)."""
    names = [v.value for v in solutions.variables]
    if term is None:
        return [
            {n: t for n, t in zip(names, row, strict=True) if t is not None} for row in solutions
        ]
    return [
        {n: term(t) for n, t in zip(names, row, strict=True) if t is not None} for row in solutions
    ]


def serialise_result(
    result: object, result_format: str, limit: int, max_bytes: int = 0
) -> QueryResponse:
    """Serialises a pyoxigraph query result, cutting it after ``limit`` rows or triples;
    raises :class:`AnswerTooLarge` beyond ``max_bytes`` (0: no limit)."""
    answer = _serialise(result, result_format, limit)
    if max_bytes and len(answer.body) > max_bytes:
        raise AnswerTooLarge(len(answer.body), max_bytes)
    return answer


def _serialise(result: object, result_format: str, limit: int) -> QueryResponse:
    if isinstance(result, ox.QueryBoolean):
        media_type = RESULT_FORMATS[result_format][0]
        return QueryResponse(
            "ask", results.boolean(bool(result), result_format), media_type, False, 1
        )
    if isinstance(result, ox.QuerySolutions):
        media_type = RESULT_FORMATS[result_format][0]
        variables = [v.value for v in result.variables]
        rows = []
        truncated = False
        for solution in result:
            if len(rows) >= limit:
                truncated = True
                break
            rows.append(tuple(solution))
        body = results.WRITERS[result_format](variables, rows)
        return QueryResponse("select", body, media_type, truncated, len(rows))
    media_type, rdf_format = GRAPH_FORMATS[result_format]
    triples = []
    truncated = False
    for triple in result:  # type: ignore[attr-defined]
        if len(triples) >= limit:
            truncated = True
            break
        triples.append(triple)
    if rdf_format in (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG):
        statements: Iterable = [ox.Quad(t.subject, t.predicate, t.object) for t in triples]
    else:
        statements = triples
    body = ox.serialize(statements, format=rdf_format)
    if rdf_format == ox.RdfFormat.RDF_XML:
        body = results.well_formed_xml(body)
    return QueryResponse("graph", body, media_type, truncated, len(triples))


# The fewest bytes pyoxigraph's writers spend on one solution of SPARQL JSON (``{}`` and a
# comma) and on one triple in any RDF syntax (a comma and a one-character object in Turtle):
# an answer shorter than this many bytes per row of the limit has fewer rows than the limit.
_LEAST_BYTES = {"select": 3, "graph": 2}


class _Longer(Exception):
    """The answer grew long enough to hold more rows than the limit (see :class:`_Capped`)."""


class _Capped:
    """Where pyoxigraph writes an answer that may hold more rows than the limit: it takes at
    most ``most`` bytes, then refuses the rest, which stops the writer (and the evaluation it
    draws) early. Beyond that, the answer is written again row by row and cut at the limit."""

    __slots__ = ("most", "over", "parts", "size")

    def __init__(self, most: int):
        self.most = most
        self.parts: list[bytes] = []
        self.size = 0
        self.over = False

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.size > self.most:
            self.over = True
            raise OSError("the answer is longer than this writer takes")
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass


def _written(
    result: ox.QuerySolutions | ox.QueryTriples,
    kind: str,
    fmt: ox.QueryResultsFormat | ox.RdfFormat,
    limit: int | None,
) -> bytes:
    """The answer in pyoxigraph's words; with a ``limit``, :class:`_Longer` when it may hold
    more rows than that."""
    if limit is None:
        return result.serialize(format=fmt)
    capped = _Capped(_LEAST_BYTES[kind] * limit - 1)
    try:
        result.serialize(capped, format=fmt)
    except OSError:
        if capped.over:
            raise _Longer from None
        raise
    return b"".join(capped.parts)


def _whole(result: object, result_format: str, limit: int | None) -> QueryResponse | None:
    """The whole answer, written by pyoxigraph in one call, where it writes the format as
    ``results.py`` and ``_serialise`` would: SPARQL JSON, and every RDF syntax. None for the
    other result formats (CSV, TSV, XML: ours). ``limit``: the result limit, when the answer
    may be longer (see :func:`_written`); None when the caller knows it is not."""
    if isinstance(result, ox.QuerySolutions):
        if result_format != "json":
            return None
        body = _written(result, "select", ox.QueryResultsFormat.JSON, limit)
        return QueryResponse("select", body, RESULT_FORMATS["json"][0], False, 0)
    if isinstance(result, ox.QueryTriples):
        media_type, rdf_format = GRAPH_FORMATS[result_format]
        body = _written(result, "graph", rdf_format, limit)
        if rdf_format == ox.RdfFormat.RDF_XML:
            body = results.well_formed_xml(body)
        return QueryResponse("graph", body, media_type, False, 0)
    return None


class EmbeddedEngine:
    """Answers every query from a pyoxigraph store in this process.

    Suitable for trusted queries and for tests; it cannot stop a runaway client query (pyoxigraph
    offers no cancellation), which is why the server puts untrusted queries through a pool of
    worker processes that share this store.
    """

    def __init__(self, store: ox.Store, union_default_graph: bool = True):
        self.store = store
        self.union_default_graph = union_default_graph

    def _query(self, query: str, **kwargs):
        try:
            return self.store.query(query, **kwargs)
        except SyntaxError as exc:
            raise syntax_error_from(exc) from exc

    def run(
        self, request: QueryRequest, *, within_limit: bool = False, bounded: bool = False
    ) -> QueryResponse:
        """Answers a client's query; every failure is a :class:`QueryError`.

        ``within_limit``: the caller knows the answer has at most ``request.limit`` rows
        (``triage.py`` does, from the query's bound), so no row needs counting, and the answer
        (SPARQL JSON, any RDF syntax) is written by pyoxigraph, byte for byte what
        ``results.py`` and ``_serialise`` write, in a fraction of the time. ``bounded``: the
        caller knows the query's cost is bounded (``bounds.py``), so it may run twice:
        pyoxigraph writes the answer, and only when that grows long enough to hold more rows
        than the limit is it stopped there and the query run again, row by row, and cut. (A
        bound is a worst case: a join bounded by 20,000 rows mostly answers a hundred; row by
        row, in Python, that took a third of such a request.)"""
        try:
            return self.evaluate(request, within_limit=within_limit, bounded=bounded)
        except QueryError:
            raise
        except BaseException as exc:
            if not is_engine_failure(exc):
                raise
            raise unexpected_error(type(exc).__name__, str(exc), request.query) from exc

    def evaluate(
        self, request: QueryRequest, *, within_limit: bool = False, bounded: bool = False
    ) -> QueryResponse:
        """:meth:`run` without its last net: an exception of a kind nobody expected passes.

        A query worker calls this and sends such an exception to the server process, which
        logs it (a worker never logs: see query_pool).
        """
        kwargs = query_kwargs(request.dataset)
        if request.base_iri:
            kwargs["base_iri"] = request.base_iri
        functions = unknown_functions(request.query, request.base_iri, request.extension_functions)
        if functions:
            kwargs["custom_functions"] = functions
        try:
            result = self._query(request.query, **kwargs)
            if within_limit or bounded:
                try:
                    answer = _whole(
                        result, request.result_format, None if within_limit else request.limit
                    )
                except _Longer:  # perhaps more rows than the limit: again, row by row
                    answer, result = None, self._query(request.query, **kwargs)
                if answer is not None:
                    if request.max_bytes and answer.size > request.max_bytes:
                        raise AnswerTooLarge(answer.size, request.max_bytes)
                    return answer
            return serialise_result(result, request.result_format, request.limit, request.max_bytes)
        except (OSError, RuntimeError) as exc:  # RuntimeError: an evaluation error
            raise QueryError(str(exc)) from exc

    def etag(self, request: QueryRequest) -> str | None:
        return None  # answers are not kept here; an AnswerCache in front knows them

    def local(self, request: QueryRequest) -> bool:
        return False  # it runs any query, unbounded ones too: nothing is bounded here

    def immediate(self, request: QueryRequest) -> bool:
        return False

    def select(self, query: str) -> list[dict]:
        result = self._query(query, use_default_graph_as_union=self.union_default_graph)
        return solution_dicts(result)

    def construct(self, query: str) -> list[ox.Triple]:
        return list(self._query(query, use_default_graph_as_union=self.union_default_graph))

    def ask(self, query: str) -> bool:
        return bool(self._query(query, use_default_graph_as_union=self.union_default_graph))

    def close(self) -> None:
        pass
