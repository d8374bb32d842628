"""The store's endpoints, one HTTP session per process, the answer as it arrives, and the
store's errors as our clients should read them."""

from __future__ import annotations

import io
import os
import re
import tempfile
import time
from typing import BinaryIO

import requests
import requests.auth
import requests.utils
import urllib3
from requests.adapters import HTTPAdapter

from kommunen_kg.sparql.errors import (
    AnswerTooLarge,
    EngineUnavailable,
    QueryError,
    QuerySyntaxError,
    QueryTimeout,
)

_CHUNK = 64 * 1024
SPOOL_AT = 1024 * 1024  # answers beyond this size pass through a temporary file, not memory


# --- endpoints ---------------------------------------------------------------------------------


def _replace_last_segment(url: str, segment: str) -> str:
    head, _, _ = url.rstrip("/").rpartition("/")
    return f"{head}/{segment}"


# --- credentials -------------------------------------------------------------------------------

USER_VARIABLE = "KOMMUNEN_KG_STORE_USER"
PASSWORD_VARIABLE = "KOMMUNEN_KG_STORE_PASSWORD"


class CredentialsInURL(ValueError):
    """A store URL names a user or password: they belong in the environment or ~/.netrc."""


def refuse_credentials_in(url: str) -> None:
    """Refuses a URL with a user or password in it, without repeating either."""
    parsed = urllib3.util.parse_url(url)
    if parsed.auth:
        shown = parsed._replace(auth=None).url
        raise CredentialsInURL(
            f"the store URL {shown} names a user or password; give them in the environment "
            f"({USER_VARIABLE}, {PASSWORD_VARIABLE}) or in ~/.netrc for its host instead, so "
            "that they appear in no command line, process list or message"
        )


def store_auth(url: str) -> requests.auth.AuthBase | None:
    """The credentials for the store at ``url``: from the environment, else from the netrc
    file (``$NETRC`` or ``~/.netrc``) for its host; None when there are none."""
    user, password = os.environ.get(USER_VARIABLE), os.environ.get(PASSWORD_VARIABLE)
    if user is not None and password is not None:
        return StoreAuth(user, password)
    found = requests.utils.get_netrc_auth(url)
    return StoreAuth(*found) if found else None


class StoreAuth(requests.auth.AuthBase):
    """HTTP Basic or Digest, whichever the store asks for.

    WHY not one of them: Virtuoso's authenticated endpoints (``/sparql-auth``,
    ``/sparql-graph-crud-auth``) ask for Digest, a proxy in front of Oxigraph or Fuseki usually
    for Basic. Nothing is sent until the store asks: the first answer 401 names the scheme,
    the request goes again with it (our bodies are bytes, so it can), and every later request
    uses that scheme from the start (Digest with the nonce it was given)."""

    def __init__(self, user: str, password: str):
        self.basic = requests.auth.HTTPBasicAuth(user, password)
        self.digest = requests.auth.HTTPDigestAuth(user, password)
        self.scheme: str | None = None

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if self.scheme == "digest":
            return self.digest(request)
        if self.scheme == "basic":
            return self.basic(request)
        request.register_hook("response", self._challenged)
        return request

    def _challenged(self, response: requests.Response, **kwargs) -> requests.Response:
        if response.status_code != 401 or self.scheme is not None:
            return response
        offered = response.headers.get("WWW-Authenticate", "").strip().lower()
        self.scheme = "digest" if offered.startswith("digest") else "basic"
        response.content  # noqa: B018 - read, so that the connection can be reused
        response.close()
        again = self(response.request.copy())
        answer = response.connection.send(again, **kwargs)
        answer.history.append(response)
        answer.request = again
        return answer


class StoreEndpoints:
    """The three URLs of one store: SPARQL query, SPARQL update and Graph Store Protocol.

    Only the query URL is needed to serve. To publish, the other two are derived for the two
    layouts we know (Oxigraph: ``/query`` -> ``/update``, ``/store``; Fuseki: ``/ds/query`` or
    ``/ds/sparql`` -> ``/ds/update``, ``/ds/data``) or given explicitly for any other store.
    """

    def __init__(self, query: str, update: str | None = None, graph_store: str | None = None):
        for url in (query, update, graph_store):
            if url is not None:
                refuse_credentials_in(url)
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

    def __init__(self, pool_size: int = 32, auth: requests.auth.AuthBase | None = None):
        self.pool_size = pool_size
        self.auth = auth  # credentials for the store (store_auth), or None
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
            session.auth = self.auth
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
TIMEOUT_WORDS = re.compile(r"time ?out|timed out|cancell?ed|canceled", re.I)


# What of a store's message is the store's own business: Virtuoso repeats the query as it
# compiled it, with the graphs of the release it was given (``define input:...``), and prefixes
# its words with its error codes; any store may name the release's internal graphs.
_ECHOED_QUERY = re.compile(r"\n\s*SPARQL query:.*", re.S)
_VIRTUOSO_CODES = re.compile(r"^Virtuoso \w+ Error \w+: (?:SPARQL compiler(?:, line \d+)?: )?")
_INTERNAL_GRAPH = re.compile(r"<?urn:kommunen-kg:releases?(?::[^\s>]*)?>?")


def public_words(text: str) -> str:
    """A store's error text as a client may read it: without the query the store echoes, its
    error codes and the names of the graphs a release is stored under."""
    text = _ECHOED_QUERY.sub("", text.strip())
    text = _VIRTUOSO_CODES.sub("", text)
    return _INTERNAL_GRAPH.sub("(a graph of the release)", text).strip()


def remote_syntax_error(text: str, shift: int = 0) -> QuerySyntaxError:
    """The store's message of a 400, with the position when the store says where.

    ``shift`` is what the engine prepended on the first line (a BASE declaration).
    """
    text = public_words(text)[:2000] or "the SPARQL store refused the query"
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


def status_error(status: int, text: str, shift: int) -> QueryError:
    """What a non-200 answer of the store means for our client."""
    text = public_words(text)[:2000]
    if status == 400:
        return remote_syntax_error(text, shift)
    if status in (408, 504) or (status >= 500 and TIMEOUT_WORDS.search(text)):
        return QueryTimeout(f"the SPARQL store stopped the query: {text or status}")
    # 5xx: the store failed (Oxigraph answers 500 for any evaluation error); 401/403/404/405/
    # 406/415: a misconfigured store. Neither is the client's fault: 503 for the client.
    return EngineUnavailable(f"the SPARQL store answered {status}: {text or 'no message'}")


class AnswerBody(io.RawIOBase):
    """The store's answer as it arrives: read under a deadline, and kept for pass-through.

    pyoxigraph's parsers read from this object, so that rows are parsed while they arrive;
    ``kept`` holds every byte read so far, which is the answer itself when it is passed on: in
    memory up to ``SPOOL_AT`` bytes, beyond in an unlinked temporary file, so that a large
    answer is never held in the server's memory (``answer`` hands over the file). Read failures
    become engine errors (``failure``) rather than parser errors.
    """

    def __init__(
        self,
        response: requests.Response,
        deadline: float,
        max_bytes: int = 0,
        watch: bytes | None = None,
    ):
        self.raw = response.raw
        self.raw.decode_content = True
        self.deadline = deadline
        self.max_bytes = max_bytes  # beyond, AnswerTooLarge
        self.kept = tempfile.SpooledTemporaryFile(max_size=SPOOL_AT)  # noqa: SIM115 - closed by close()
        self.size = 0
        self.tail = b""  # the last bytes read, for the store's words when it broke off
        self.failure: QueryError | None = None
        self.watch = watch  # bytes to look out for in the answer (``seen``), across pieces
        self.seen = False

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
        self.size += size
        if self.max_bytes and self.size > self.max_bytes:
            raise self._fail(AnswerTooLarge(self.size, self.max_bytes))
        try:
            self.kept.write(data)
        except OSError as exc:
            raise self._fail(EngineUnavailable(f"no room for the store's answer: {exc}")) from exc
        if self.watch is not None and not self.seen:
            self.seen = self.watch in self.tail[-len(self.watch) :] + data
        self.tail = (self.tail + data)[-300:]
        return size

    def rest(self) -> None:
        """Reads the answer to its end (the connection can then serve the next query)."""
        while self.read(_CHUNK):
            pass

    def again(self) -> BinaryIO:
        """What was read so far, from its start, for a second reading (the reading from the
        store is over: the answer is complete, or cut after the result limit)."""
        self.kept.seek(0)
        return self.kept  # type: ignore[return-value]

    def whole(self) -> tuple[bytes, BinaryIO | None]:
        """The answer read to its end: as bytes, or, when it is large, as a file read from its
        start (an empty ``bytes`` then), which the caller must close."""
        self.rest()
        self.kept.seek(0)
        if self.size <= SPOOL_AT:
            return self.kept.read(), None
        spool, self.kept = self.kept, tempfile.SpooledTemporaryFile(max_size=SPOOL_AT)  # noqa: SIM115
        return b"", spool  # type: ignore[return-value]

    def close(self) -> None:
        self.kept.close()
        super().close()
