"""The engine that answers client and trusted queries from the remote store."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice

import pyoxigraph as ox
import requests

from kommunen_kg.rdf.namespaces import DCAT
from kommunen_kg.sparql import results
from kommunen_kg.sparql.admission import Admission
from kommunen_kg.sparql.engine import (
    GRAPH_FORMATS,
    RESULT_FORMATS,
    DatasetSpec,
    QueryRequest,
    QueryResponse,
    solution_dicts,
)
from kommunen_kg.sparql.errors import AnswerTooLarge, EngineUnavailable, QueryError, QueryTimeout
from kommunen_kg.sparql.lexer import tokens
from kommunen_kg.sparql.remote.client import (
    TIMEOUT_WORDS,
    AnswerBody,
    HttpClient,
    refuse_credentials_in,
    status_error,
    store_auth,
)
from kommunen_kg.sparql.remote.versions import (
    CURRENT,
    MARKER,
    POINTER_GRAPH,
    ReleaseNames,
)

JSON_RESULTS = RESULT_FORMATS["json"][0]
N_TRIPLES = GRAPH_FORMATS["ntriples"][0]
# Result formats pyoxigraph reads back; CSV is lossy and has no parser, so it is asked as JSON.
_READABLE_RESULTS = {"json", "xml", "tsv"}


# --- which dataset a query names -------------------------------------------------------------


def declares_dataset(query: str) -> bool:
    """True when the query has FROM or FROM NAMED clauses of its own.

    The protocol's dataset parameters override the query's (SPARQL 1.1 Protocol 2.1.4), so the
    engine only adds the release's graphs to queries that do not choose their own. The one
    lexical scan of the endpoint (``sparql/lexer.py``) tells keywords from strings, IRIs and
    comments, in time linear in the query.
    """
    return any(token.kind == "word" and token.text.upper() == "FROM" for token in tokens(query))


def _media_type(response: requests.Response) -> str:
    return response.headers.get("Content-Type", "").split(";")[0].strip().lower()


class RemoteEngine:
    """Answers every query (client and trusted) from a remote SPARQL 1.1 query endpoint.

    ``names``: the release this engine answers from, among the releases ``kommunen-kg
    publish`` loaded side by side (``versions.py``): queries and answers are renamed, and the
    dataset is always that release's graphs. Without it, ``graphs`` are the named graphs of the
    release (a store loaded under the public names by other means, e.g. from the TriG dump);
    ``None`` serves whatever the store's own default dataset is.
    """

    def __init__(
        self,
        query_url: str,
        graphs: Sequence[str] | None = None,
        union_default_graph: bool = True,
        timeout: float = 10.0,
        connect_timeout: float = 3.0,
        pool_size: int = 32,
        names: ReleaseNames | None = None,
    ):
        refuse_credentials_in(query_url)
        self.query_url = query_url
        self.names = names
        if names is not None:
            graphs = names.graphs
        self.graphs = tuple(graphs) if graphs is not None else None
        self.union_default_graph = union_default_graph
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.http = HttpClient(pool_size, auth=store_auth(query_url))
        self.admission = Admission(pool_size)  # client queries at the store at once

    # --- the request --------------------------------------------------------------------------

    def dataset_parameters(
        self, query: str, spec: DatasetSpec, declared: tuple[list[str], list[str]] | None = None
    ) -> list[tuple[str, str]]:
        """The protocol's dataset parameters for one query (see the module docstring).

        With a release's ``names``, always given (the query's own FROM clauses as ``declared``,
        renamed), so that no query reaches a graph of another release."""
        names = self.names
        if spec.default_graphs or spec.named_graphs:
            rename = names.graph if names is not None else (lambda g: g)
            return [("default-graph-uri", rename(g)) for g in spec.default_graphs] + [
                ("named-graph-uri", rename(g)) for g in spec.named_graphs
            ]
        if names is not None and declared is not None:
            defaults, named = declared
            return [("default-graph-uri", g) for g in defaults] + [
                ("named-graph-uri", g) for g in named
            ]
        if self.graphs is None or (names is None and declares_dataset(query)):
            return []
        params = [("named-graph-uri", g) for g in self.graphs]
        if spec.union_default_graph:
            params = [("default-graph-uri", g) for g in self.graphs] + params
        return params

    def _send(
        self,
        query: str,
        spec: DatasetSpec,
        accept: str,
        timeout: float,
        shift: int = 0,
        renamed: bool = True,
    ) -> requests.Response:
        """POSTs the query (form-encoded, as every store accepts) and checks the status.

        ``renamed``: the query is about the release's graphs by their public names (every query
        but the pointer's)."""
        data = [("query", query)]
        if renamed:
            declared = None
            if self.names is not None:
                query, declared = self.names.query(query)
            data = [("query", query), *self.dataset_parameters(query, spec, declared)]
        try:
            response = self.http.session.post(
                self.query_url,
                data=data,
                headers={"Accept": accept},
                timeout=(min(self.connect_timeout, timeout), timeout),
                stream=True,
            )
        except requests.ConnectTimeout as exc:
            raise EngineUnavailable(f"cannot reach the SPARQL store {self.query_url}") from exc
        except requests.Timeout as exc:
            raise QueryTimeout("the SPARQL store did not answer in time") from exc
        except requests.RequestException as exc:
            raise EngineUnavailable(
                f"cannot reach the SPARQL store {self.query_url}: {exc.__class__.__name__}"
            ) from exc
        if response.status_code != 200:
            try:
                text = response.text
            except requests.RequestException:
                text = ""
            finally:
                response.close()
            raise status_error(response.status_code, text, shift)
        return response

    @classmethod
    @contextlib.contextmanager
    def _reading(cls, body: AnswerBody, response: requests.Response) -> Iterator[None]:
        """Around the reading of one answer: a parser's failure becomes the engine error it
        stands for, and the answer and its connection are given back whatever happens."""
        try:
            yield
        except QueryError:
            raise
        except (SyntaxError, ValueError, OSError) as exc:
            raise cls._broken(body, exc) from exc
        finally:
            body.close()
            response.close()

    @staticmethod
    def _broken(body: AnswerBody, exc: Exception) -> QueryError:
        """An answer that does not parse: the store gave up mid-stream, or sent garbage."""
        if body.failure is not None:
            return body.failure
        tail = body.tail.decode("utf-8", "replace")
        if TIMEOUT_WORDS.search(tail):
            return QueryTimeout("the SPARQL store stopped the query (its own time limit)")
        return EngineUnavailable(f"the SPARQL store sent an answer that does not parse: {exc}")

    # --- client queries -----------------------------------------------------------------------

    def limit_requests(self, most: int) -> None:
        """At most ``most`` client queries at the store at once from this process; the next
        gets :class:`EngineUnavailable` at once (see QueryPool.limit_requests: each holds a
        request thread while the store computes)."""
        self.admission.most = max(1, most)

    def run(self, request: QueryRequest) -> QueryResponse:
        with self.admission.admit(self._busy_error):
            answer = self._run(request)
        if request.max_bytes and answer.size > request.max_bytes:
            if answer.spool is not None:
                answer.spool.close()
            raise AnswerTooLarge(answer.size, request.max_bytes)
        return answer

    def _busy_error(self) -> EngineUnavailable:
        return EngineUnavailable(
            f"All {self.admission.most} queries this server may have at the SPARQL store are "
            "running; please try again shortly."
        )

    def _run(self, request: QueryRequest) -> QueryResponse:
        timeout = min(request.timeout, self.timeout)  # the engine's limit bounds every query
        deadline = time.monotonic() + timeout
        query, shift = request.query, 0
        if request.base_iri:
            prefix = f"BASE <{request.base_iri}> "
            query, shift = prefix + query, len(prefix)
        wanted = request.result_format
        results_fmt = wanted if wanted in _READABLE_RESULTS else "json"
        graph_fmt = wanted if wanted in GRAPH_FORMATS else "ntriples"
        if self.names is not None:
            # Names are written in full only in these (Turtle may abbreviate them), so that
            # the bytes tell whether the answer names a release's graph (versions.py).
            graph_fmt = "ntriples"
        if wanted in RESULT_FORMATS:
            accept = [RESULT_FORMATS[results_fmt][0], JSON_RESULTS, N_TRIPLES]
        else:
            accept = [GRAPH_FORMATS[graph_fmt][0], N_TRIPLES, JSON_RESULTS]
        accept_header = ",".join(
            f"{m};q={1 - i / 10:.1f}" if i else m for i, m in enumerate(dict.fromkeys(accept))
        )
        response = self._send(query, request.dataset, accept_header, timeout, shift)
        watch = MARKER if self.names is not None else None
        body = AnswerBody(response, deadline, request.max_bytes, watch=watch)
        with self._reading(body, response):
            media = _media_type(response)
            rdf_format = ox.RdfFormat.from_media_type(media) if media else None
            if rdf_format is not None:
                return self._graph(body, rdf_format, media, wanted, request.limit)
            results_format = (
                ox.QueryResultsFormat.from_media_type(media) if media else None
            ) or ox.QueryResultsFormat.JSON
            return self._solutions(body, results_format, media, wanted, request.limit)

    def _solutions(
        self, body: AnswerBody, fmt: ox.QueryResultsFormat, media: str, wanted: str, limit: int
    ) -> QueryResponse:
        out = wanted if wanted in RESULT_FORMATS else "json"
        out_media = RESULT_FORMATS[out][0]
        parsed = ox.parse_query_results(body, fmt)
        if isinstance(parsed, ox.QueryBoolean):
            if media == out_media:
                return _passed(body, "ask", out_media, 1)
            body.rest()
            return QueryResponse("ask", results.boolean(bool(parsed), out), out_media, False, 1)
        variables = [v.value for v in parsed.variables]
        # Counted, not kept: an answer passed on as it came is never held as rows.
        count = _count_to(parsed, limit + 1)
        truncated = count > limit
        if not truncated:
            if media == out_media and not body.seen:
                return _passed(body, "select", out_media, count)
            body.rest()  # read to the end, so that the connection goes back to the pool
        again = islice(ox.parse_query_results(body.again(), fmt), limit)
        rows = [self.names.row(s) for s in again] if body.seen else [tuple(s) for s in again]
        return QueryResponse(
            "select", results.WRITERS[out](variables, rows), out_media, truncated, len(rows)
        )

    def _graph(
        self, body: AnswerBody, fmt: ox.RdfFormat, media: str, wanted: str, limit: int
    ) -> QueryResponse:
        out = wanted if wanted in GRAPH_FORMATS else "turtle"
        out_media, out_format = GRAPH_FORMATS[out]
        count = _count_to(ox.parse(body, format=fmt), limit + 1)
        truncated = count > limit
        if not truncated:
            if media == out_media and not body.seen:
                return _passed(body, "graph", out_media, count)
            body.rest()
        triples = [q.triple for q in islice(ox.parse(body.again(), format=fmt), limit)]
        if body.seen:
            triples = [self.names.triple(t) for t in triples]
        statements: list = triples
        if out_format in (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG):
            statements = [ox.Quad(t.subject, t.predicate, t.object) for t in triples]
        return QueryResponse(
            "graph", ox.serialize(statements, format=out_format), out_media, truncated, len(triples)
        )

    # --- trusted queries ----------------------------------------------------------------------

    def _trusted(
        self, query: str, accept: str, renamed: bool = True
    ) -> tuple[AnswerBody, requests.Response]:
        spec = DatasetSpec(union_default_graph=self.union_default_graph)
        response = self._send(query, spec, accept, self.timeout, renamed=renamed)
        return AnswerBody(response, time.monotonic() + self.timeout), response

    def _results(self, query: str, renamed: bool = True):
        body, response = self._trusted(query, JSON_RESULTS, renamed)
        with self._reading(body, response):
            fmt = ox.QueryResultsFormat.from_media_type(_media_type(response))
            parsed = ox.parse_query_results(body, fmt or ox.QueryResultsFormat.JSON)
            if isinstance(parsed, ox.QueryBoolean):
                answer: bool | list[dict] = bool(parsed)
            else:
                answer = solution_dicts(parsed, self.names.term if self.names else None)
            body.rest()
            return answer

    def etag(self, request: QueryRequest) -> str | None:
        return None

    def local(self, request: QueryRequest) -> bool:
        return False  # the store answers over the network: the caller waits

    def immediate(self, request: QueryRequest) -> bool:
        return False

    def select(self, query: str) -> list[dict]:
        answer = self._results(query)
        if isinstance(answer, bool):
            raise QueryError("expected a SELECT query, got ASK")
        return answer

    def ask(self, query: str) -> bool:
        answer = self._results(query)
        if not isinstance(answer, bool):
            raise QueryError("expected an ASK query, got SELECT")
        return answer

    def construct(self, query: str) -> list[ox.Triple]:
        body, response = self._trusted(query, N_TRIPLES)
        with self._reading(body, response):
            fmt = ox.RdfFormat.from_media_type(_media_type(response)) or ox.RdfFormat.N_TRIPLES
            triples = [quad.triple for quad in ox.parse(body, format=fmt)]
            body.rest()
            if self.names is not None:
                triples = [self.names.triple(t) for t in triples]
            return triples

    # --- what the store holds -----------------------------------------------------------------

    def release_version(self, metadata_graph: str, dataset: str) -> str | None:
        """The version of the release the store holds, from its metadata graph (None: none)."""
        rows = self.select(
            f"SELECT ?version WHERE {{ GRAPH <{metadata_graph}> {{ <{dataset}> <{DCAT}version> "
            "?version } }"
        )
        versions = sorted({row["version"].value for row in rows if "version" in row})
        return versions[0] if len(versions) == 1 else None

    def current_release(self) -> str | None:
        """The version the store's pointer names (``versions.py``); None when the store has no
        pointer (nothing was published into it side by side)."""
        answer = self._results(
            f"SELECT ?v WHERE {{ GRAPH <{POINTER_GRAPH}> {{ <{POINTER_GRAPH}> <{CURRENT}> ?v }} }}",
            renamed=False,
        )
        values = sorted({row["v"].value for row in answer if "v" in row})  # type: ignore[union-attr]
        return values[0] if len(values) == 1 else None

    def close(self) -> None:
        self.http.close()


class RemoteStoreError(Exception):
    """The store cannot be served: unreachable, empty, or its release is not in graphs/."""


def _passed(body: AnswerBody, kind: str, media: str, count: int) -> QueryResponse:
    """The store's answer passed on as it came, from memory or from its spool file."""
    whole, spool = body.whole()
    if spool is None:
        return QueryResponse(kind, whole, media, False, count)
    return QueryResponse(kind, b"", media, False, count, spooled=body.size, spool=spool)


def _count_to(items: Iterable, most: int) -> int:
    """How many ``items`` there are, counting no further than ``most``."""
    count = 0
    for _ in items:
        count += 1
        if count >= most:
            break
    return count
