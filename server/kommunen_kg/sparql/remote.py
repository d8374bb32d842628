"""A client and trusted engine that answers from a remote SPARQL 1.1 endpoint.

``kommunen-kg serve --store URL`` puts this engine behind every view instead of the embedded
store, so that many stateless app servers can share one Oxigraph server, Fuseki, Virtuoso,
GraphDB or QLever. ``URL`` is the store's SPARQL *query* endpoint (Oxigraph:
``http://host:7878/query``; Fuseki: ``http://host:3030/ds/query``; Virtuoso:
``http://host:8890/sparql``; GraphDB: ``http://host:7200/repositories/kg``).

Which graphs a reader sees: the engine names the release's five graphs
(``{base}graph/vocabulary|themes|shapes|data|metadata``) in every request, as
``named-graph-uri`` and, for the union default graph, as ``default-graph-uri``. Graphs that
``kommunen-kg publish`` is still loading under other names are therefore never visible, and the
switch to a new release is one SPARQL Update (see :mod:`kommunen_kg.sparql.publish`). A client's
own dataset (protocol parameters, or FROM / FROM NAMED in its query) is passed on unchanged.

Answers: the engine asks the store for the client's format and passes the store's bytes
through when they are complete and within the result limit; otherwise (CSV, which no parser
reads back; more rows than the limit; a store that answered another format) it re-serialises
the rows it parsed with pyoxigraph. Rows are parsed as they arrive and the connection is closed
after ``limit + 1`` rows, which also stops a streaming store from producing the rest.

Errors: connection failures -> :class:`EngineUnavailable`; no answer in time (client side, or
the store's own timeout) -> :class:`QueryTimeout`; the store's 400 -> :class:`QuerySyntaxError`
with the store's message and position; any other failure of the store (5xx, a misconfigured
URL) -> :class:`EngineUnavailable`. Set the store's own time limit as well (``oxigraph serve
--timeout-s``, with care: see docs/scaling.md): closing the connection does not stop every
store computing.

HTTP: one ``requests`` session per process (created after gunicorn forks, never shared across
processes), with a connection pool sized for the worker's threads.
"""

from __future__ import annotations

import io
import os
import re
import time
from collections.abc import Sequence

import pyoxigraph as ox
import requests
import urllib3
from requests.adapters import HTTPAdapter

from kommunen_kg.rdf.namespaces import DCAT
from kommunen_kg.sparql import results
from kommunen_kg.sparql.engine import (
    GRAPH_FORMATS,
    RESULT_FORMATS,
    DatasetSpec,
    QueryRequest,
    QueryResponse,
)
from kommunen_kg.sparql.errors import EngineUnavailable, QueryError, QuerySyntaxError, QueryTimeout

JSON_RESULTS = RESULT_FORMATS["json"][0]
N_TRIPLES = GRAPH_FORMATS["ntriples"][0]
# Result formats pyoxigraph reads back; CSV is lossy and has no parser, so it is asked as JSON.
_READABLE_RESULTS = {"json", "xml", "tsv"}
_CHUNK = 64 * 1024


# --- which dataset a query names -------------------------------------------------------------

# Strings, IRIs and comments, blanked before looking for FROM so that "FROM" inside them
# does not count. Order matters: long strings before short ones. A string that does not end
# runs to where it would have to (the line, or the text for long ones): tried again at every
# later quote, an unended string made the scan quadratic in the query's length.
_OPAQUE = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*+(?:"""|\\?\Z)'
    r"|'''(?:[^'\\]|\\.|'(?!''))*+(?:'''|\\?\Z)"
    r'|"(?:[^"\\\n]|\\.)*+(?:"|(?=\n)|\\?\Z)'
    r"|'(?:[^'\\\n]|\\.)*+(?:'|(?=\n)|\\?\Z)"
    r"|<[^<>\"{}|^`\\\s]*>"
    r"|#[^\n]*",
    re.S,
)
_FROM = re.compile(r"(?<![\w?$:])FROM\s+(?:NAMED\s+)?(?:<|[A-Za-z_][\w.-]*:|:)", re.I)


def declares_dataset(query: str) -> bool:
    """True when the query has FROM or FROM NAMED clauses of its own.

    The protocol's dataset parameters override the query's (SPARQL 1.1 Protocol 2.1.4), so the
    engine only adds the release's graphs to queries that do not choose their own. A cheap
    lexical check, not a parse: it runs on every client query.
    """

    def blank(match: re.Match) -> str:
        text = match.group(0)
        return "<>" if text.startswith("<") else " "

    return _FROM.search(_OPAQUE.sub(blank, query)) is not None


# --- endpoints ---------------------------------------------------------------------------------


def _replace_last_segment(url: str, segment: str) -> str:
    head, _, _ = url.rstrip("/").rpartition("/")
    return f"{head}/{segment}"


class StoreEndpoints:
    """The three URLs of one store: SPARQL query, SPARQL update and Graph Store Protocol.

    Only the query URL is needed to serve. To publish, the other two are derived for the two
    layouts we know (Oxigraph: ``/query`` -> ``/update``, ``/store``; Fuseki: ``/ds/query`` or
    ``/ds/sparql`` -> ``/ds/update``, ``/ds/data``) or given explicitly for any other store.
    """

    def __init__(self, query: str, update: str | None = None, graph_store: str | None = None):
        self.query = query
        path = urllib3.util.parse_url(query).path or "/"
        oxigraph = path.rstrip("/") == "/query"
        fuseki = not oxigraph and re.search(r"/[^/]+/(query|sparql)/?$", path) is not None
        self.update = update or (
            _replace_last_segment(query, "update") if oxigraph or fuseki else None
        )
        self.graph_store = graph_store or (
            _replace_last_segment(query, "store")
            if oxigraph
            else _replace_last_segment(query, "data")
            if fuseki
            else None
        )

    def __repr__(self) -> str:
        return f"StoreEndpoints({self.query!r}, {self.update!r}, {self.graph_store!r})"


class HttpClient:
    """A pooled ``requests`` session per process.

    gunicorn builds the application in its master process and forks the workers from it; a
    session (and its open sockets) made before the fork must not be shared, so the session is
    keyed by process id and made anew in each worker on first use.
    """

    def __init__(self, pool_size: int = 32):
        self.pool_size = pool_size
        self._session: requests.Session | None = None
        self._pid = 0

    @property
    def session(self) -> requests.Session:
        if self._session is None or self._pid != os.getpid():
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=self.pool_size, max_retries=0)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.headers["User-Agent"] = "kommunen-kg"
            self._session, self._pid = session, os.getpid()
        return self._session

    def close(self) -> None:
        if self._session is not None and self._pid == os.getpid():
            self._session.close()
        self._session = None


# --- errors ------------------------------------------------------------------------------------

_POSITIONS = (
    re.compile(r"error at (\d+):(\d+): (.*)", re.S),  # Oxigraph
    re.compile(r"\bat line (\d+), column (\d+)"),  # Jena, RDF4J
)
_TIMEOUT_WORDS = re.compile(r"time ?out|timed out|cancell?ed|canceled", re.I)


def remote_syntax_error(text: str, shift: int = 0) -> QuerySyntaxError:
    """The store's message of a 400, with the position when the store says where.

    ``shift`` is what the engine prepended on the first line (a BASE declaration).
    """
    text = text.strip()[:2000] or "the SPARQL store refused the query"
    match = _POSITIONS[0].search(text)
    if match:
        line, column, words = int(match.group(1)), int(match.group(2)), match.group(3)
    else:
        match = _POSITIONS[1].search(text)
        if not match:
            return QuerySyntaxError(text)
        line, column = int(match.group(1)), int(match.group(2))
        words = (text[: match.start()] + text[match.end() :]).strip() or text
    if line == 1 and shift:
        column = max(1, column - shift)
    return QuerySyntaxError(words.strip(), line, column)


def _status_error(status: int, text: str, shift: int) -> QueryError:
    """What a non-200 answer of the store means for our client."""
    text = text.strip()[:2000]
    if status == 400:
        return remote_syntax_error(text, shift)
    if status in (408, 504) or (status >= 500 and _TIMEOUT_WORDS.search(text)):
        return QueryTimeout(f"the SPARQL store stopped the query: {text or status}")
    # 5xx: the store failed (Oxigraph answers 500 for any evaluation error); 401/403/404/405/
    # 406/415: a misconfigured store. Neither is the client's fault: 503 for the client.
    return EngineUnavailable(f"the SPARQL store answered {status}: {text or 'no message'}")


class _Body(io.RawIOBase):
    """The store's answer as it arrives: read under a deadline, and kept for pass-through.

    pyoxigraph's parsers read from this object, so that rows are parsed while they arrive;
    ``kept`` holds every byte read so far, which is the answer itself when it is passed on.
    Read failures become engine errors (``failure``) rather than parser errors.
    """

    def __init__(self, response: requests.Response, deadline: float):
        self.raw = response.raw
        self.raw.decode_content = True
        self.deadline = deadline
        self.kept = bytearray()
        self.failure: QueryError | None = None

    def readable(self) -> bool:
        return True

    def _fail(self, error: QueryError) -> QueryError:
        self.failure = error
        return error

    def readinto(self, buffer) -> int:  # type: ignore[override]
        if time.monotonic() > self.deadline:
            raise self._fail(QueryTimeout("the SPARQL store did not answer in time"))
        try:
            data = self.raw.read1(len(buffer)) if hasattr(self.raw, "read1") else None
            if data is None:
                data = self.raw.read(len(buffer))
        except (urllib3.exceptions.ReadTimeoutError, TimeoutError) as exc:
            raise self._fail(QueryTimeout("the SPARQL store did not answer in time")) from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise self._fail(EngineUnavailable(f"the SPARQL store broke off: {exc}")) from exc
        size = len(data)
        buffer[:size] = data
        self.kept += data
        return size

    def rest(self) -> bytes:
        """Reads the answer to its end and returns all of it."""
        while self.read(_CHUNK):
            pass
        return bytes(self.kept)


def _media_type(response: requests.Response) -> str:
    return response.headers.get("Content-Type", "").split(";")[0].strip().lower()


class RemoteEngine:
    """Answers every query (client and trusted) from a remote SPARQL 1.1 query endpoint.

    ``graphs`` are the named graphs of the published release; ``None`` serves whatever the
    store's own default dataset is (a store not loaded by ``kommunen-kg publish``).
    """

    def __init__(
        self,
        query_url: str,
        graphs: Sequence[str] | None = None,
        union_default_graph: bool = True,
        timeout: float = 10.0,
        connect_timeout: float = 3.0,
        pool_size: int = 32,
    ):
        self.query_url = query_url
        self.graphs = tuple(graphs) if graphs is not None else None
        self.union_default_graph = union_default_graph
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.http = HttpClient(pool_size)

    # --- the request --------------------------------------------------------------------------

    def dataset_parameters(self, query: str, spec: DatasetSpec) -> list[tuple[str, str]]:
        """The protocol's dataset parameters for one query (see the module docstring)."""
        if spec.default_graphs or spec.named_graphs:
            return [("default-graph-uri", g) for g in spec.default_graphs] + [
                ("named-graph-uri", g) for g in spec.named_graphs
            ]
        if self.graphs is None or declares_dataset(query):
            return []
        params = [("named-graph-uri", g) for g in self.graphs]
        if spec.union_default_graph:
            params = [("default-graph-uri", g) for g in self.graphs] + params
        return params

    def _send(
        self, query: str, spec: DatasetSpec, accept: str, timeout: float, shift: int = 0
    ) -> requests.Response:
        """POSTs the query (form-encoded, as every store accepts) and checks the status."""
        data = [("query", query), *self.dataset_parameters(query, spec)]
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
            raise _status_error(response.status_code, text, shift)
        return response

    @staticmethod
    def _broken(body: _Body, exc: Exception) -> QueryError:
        """An answer that does not parse: the store gave up mid-stream, or sent garbage."""
        if body.failure is not None:
            return body.failure
        tail = bytes(body.kept[-300:]).decode("utf-8", "replace")
        if _TIMEOUT_WORDS.search(tail):
            return QueryTimeout("the SPARQL store stopped the query (its own time limit)")
        return EngineUnavailable(f"the SPARQL store sent an answer that does not parse: {exc}")

    # --- client queries -----------------------------------------------------------------------

    def run(self, request: QueryRequest) -> QueryResponse:
        timeout = min(request.timeout, self.timeout)  # the engine's limit bounds every query
        deadline = time.monotonic() + timeout
        query, shift = request.query, 0
        if request.base_iri:
            prefix = f"BASE <{request.base_iri}> "
            query, shift = prefix + query, len(prefix)
        wanted = request.result_format
        results_fmt = wanted if wanted in _READABLE_RESULTS else "json"
        graph_fmt = wanted if wanted in GRAPH_FORMATS else "ntriples"
        if wanted in RESULT_FORMATS:
            accept = [RESULT_FORMATS[results_fmt][0], JSON_RESULTS, N_TRIPLES]
        else:
            accept = [GRAPH_FORMATS[graph_fmt][0], N_TRIPLES, JSON_RESULTS]
        accept_header = ",".join(
            f"{m};q={1 - i / 10:.1f}" if i else m for i, m in enumerate(dict.fromkeys(accept))
        )
        response = self._send(query, request.dataset, accept_header, timeout, shift)
        body = _Body(response, deadline)
        try:
            media = _media_type(response)
            rdf_format = ox.RdfFormat.from_media_type(media) if media else None
            if rdf_format is not None:
                return self._graph(body, rdf_format, media, wanted, request.limit)
            results_format = (
                ox.QueryResultsFormat.from_media_type(media) if media else None
            ) or ox.QueryResultsFormat.JSON
            return self._solutions(body, results_format, media, wanted, request.limit)
        except QueryError:
            raise
        except (SyntaxError, ValueError, OSError) as exc:
            raise self._broken(body, exc) from exc
        finally:
            response.close()

    def _solutions(
        self, body: _Body, fmt: ox.QueryResultsFormat, media: str, wanted: str, limit: int
    ) -> QueryResponse:
        out = wanted if wanted in RESULT_FORMATS else "json"
        out_media = RESULT_FORMATS[out][0]
        parsed = ox.parse_query_results(body, fmt)
        if isinstance(parsed, ox.QueryBoolean):
            whole = body.rest()
            if media == out_media:
                return QueryResponse("ask", whole, out_media, False, 1)
            return QueryResponse("ask", results.boolean(bool(parsed), out), out_media, False, 1)
        variables = [v.value for v in parsed.variables]
        rows = []
        for solution in parsed:
            rows.append(tuple(solution))
            if len(rows) > limit:
                break
        truncated = len(rows) > limit
        if not truncated:
            whole = body.rest()  # read to the end, so that the connection goes back to the pool
            if media == out_media:
                return QueryResponse("select", whole, out_media, False, len(rows))
        rows = rows[:limit]
        return QueryResponse(
            "select", results.WRITERS[out](variables, rows), out_media, truncated, len(rows)
        )

    def _graph(
        self, body: _Body, fmt: ox.RdfFormat, media: str, wanted: str, limit: int
    ) -> QueryResponse:
        out = wanted if wanted in GRAPH_FORMATS else "turtle"
        out_media, out_format = GRAPH_FORMATS[out]
        triples = []
        for quad in ox.parse(body, format=fmt):
            triples.append(quad.triple)
            if len(triples) > limit:
                break
        truncated = len(triples) > limit
        if not truncated:
            whole = body.rest()
            if media == out_media:
                return QueryResponse("graph", whole, out_media, False, len(triples))
        triples = triples[:limit]
        statements: list = triples
        if out_format in (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG):
            statements = [ox.Quad(t.subject, t.predicate, t.object) for t in triples]
        return QueryResponse(
            "graph", ox.serialize(statements, format=out_format), out_media, truncated, len(triples)
        )

    # --- trusted queries ----------------------------------------------------------------------

    def _trusted(self, query: str, accept: str) -> tuple[_Body, requests.Response]:
        response = self._send(
            query, DatasetSpec(union_default_graph=self.union_default_graph), accept, self.timeout
        )
        return _Body(response, time.monotonic() + self.timeout), response

    def _results(self, query: str):
        body, response = self._trusted(query, JSON_RESULTS)
        try:
            fmt = ox.QueryResultsFormat.from_media_type(_media_type(response))
            parsed = ox.parse_query_results(body, fmt or ox.QueryResultsFormat.JSON)
            if isinstance(parsed, ox.QueryBoolean):
                answer: bool | list[dict] = bool(parsed)
            else:
                variables = parsed.variables
                answer = [
                    {v.value: row[v] for v in variables if row[v] is not None} for row in parsed
                ]
            body.rest()
            return answer
        except QueryError:
            raise
        except (SyntaxError, ValueError, OSError) as exc:
            raise self._broken(body, exc) from exc
        finally:
            response.close()

    def etag(self, request: QueryRequest) -> str | None:
        return None

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
        try:
            fmt = ox.RdfFormat.from_media_type(_media_type(response)) or ox.RdfFormat.N_TRIPLES
            triples = [quad.triple for quad in ox.parse(body, format=fmt)]
            body.rest()
            return triples
        except QueryError:
            raise
        except (SyntaxError, ValueError, OSError) as exc:
            raise self._broken(body, exc) from exc
        finally:
            response.close()

    # --- what the store holds -----------------------------------------------------------------

    def release_version(self, metadata_graph: str, dataset: str) -> str | None:
        """The version of the release the store holds, from its metadata graph (None: none)."""
        rows = self.select(
            f"SELECT ?version WHERE {{ GRAPH <{metadata_graph}> {{ <{dataset}> <{DCAT}version> "
            "?version } }"
        )
        versions = sorted({row["version"].value for row in rows if "version" in row})
        return versions[0] if len(versions) == 1 else None

    def close(self) -> None:
        self.http.close()


class RemoteStoreError(Exception):
    """The store cannot be served: unreachable, empty, or its release is not in graphs/."""
