"""Remembering answers: a release never changes, so neither does the answer to a query over it.

Portal widgets and crawlers send the same queries again and again. Since a release is immutable,
the answer to a query is fixed by (release version, query text, dataset, result format, limits),
so it can be kept and replayed, and its validator (ETag) can be computed without running the
query at all: a client that already holds the answer gets 304 Not Modified for the price of a
hash. A new release has a new version, which changes every key and every ETag.

Queries whose answer is not a function of the data are never cached: those calling NOW(),
RAND(), UUID(), STRUUID() or BNODE(), and those with SERVICE.
"""

from __future__ import annotations

import functools
import hashlib
import re
import threading
from collections import OrderedDict

from kommunen_kg.sparql.engine import ClientEngine, QueryRequest, QueryResponse

_VOLATILE = re.compile(r"\b(NOW|RAND|UUID|STRUUID|BNODE|SERVICE)\b", re.IGNORECASE)
# Each volatile keyword contains one of these; a text in which none occurs after upper() (the
# usual case) needs no search with the pattern, which costs 10 us on a 400-character query (it
# tries a word boundary at every position, case-insensitively). The one character the pattern
# takes for a letter of theirs that upper() does not turn into it is U+0130 (İ, for I).
_VOLATILE_CORES = ("NOW", "RAND", "UUID", "BNODE", "SERVICE", "\u0130")


def cacheable(query: str) -> bool:
    """Whether the answer depends only on the data (conservatively: no volatile keyword at all)."""
    upper = query.upper()
    if not any(core in upper for core in _VOLATILE_CORES):
        return True
    return _VOLATILE.search(query) is None


class Doorkeeper:
    """Admits a key to a cache the second time it is offered (TinyLFU's doorkeeper).

    A cache that keeps every answer keeps mostly answers nobody asks for again: a crawler's
    sweep, a cold benchmark, a client adding a comment to every query. Each costs the work of
    keeping it and pushes out answers that are asked for again. Admitted on the second sight,
    an answer is kept where it is repeated, for the price of running it once more. The keys
    seen are remembered in two generations of at most ``size`` hashes each (a hash that
    collides admits early, which only keeps one answer more); thread-safe.
    """

    def __init__(self, size: int = 8192):
        self.size = size
        self._current: set[int] = set()
        self._previous: set[int] = set()
        self._lock = threading.Lock()

    def admit(self, key: object) -> bool:
        """Whether ``key`` was offered before (within the last one or two generations)."""
        mark = hash(key)
        with self._lock:
            if mark in self._current or mark in self._previous:
                return True
            if len(self._current) >= self.size:
                self._previous, self._current = self._current, set()
            self._current.add(mark)
            return False


class AnswerCache:
    """A :class:`ClientEngine` that keeps answers of another, least recently used first out.

    Bounded by total bytes and by the size of one answer; thread-safe. The views' trusted
    queries never come here (they are cheap, and the views cache their pages), and neither do
    the answers the inner engine gives within a few milliseconds (``immediate``): running such
    a query again costs less than keeping it, and the response cache replays it to a reader
    who asks again by the same URL. An answer is kept when its query is asked a second time
    (:class:`Doorkeeper`).
    """

    def __init__(
        self,
        inner: ClientEngine,
        version: str,
        max_bytes: int = 64 * 1024 * 1024,
        max_entry_bytes: int = 4 * 1024 * 1024,
    ):
        self.inner = inner
        self.version = version
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_entry_bytes
        self._entries: OrderedDict[str, QueryResponse] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self._key = functools.lru_cache(maxsize=64)(self._compute_key)
        self._doorkeeper = Doorkeeper()

    def key(self, request: QueryRequest) -> str | None:
        """The identity of an answer, or None when the query may not be cached.

        The endpoint asks for it up to three times per request (``immediate``, ``etag``,
        ``run``); the last few are remembered (a request is hashable and cheap to hash)."""
        return self._key(request)

    def _compute_key(self, request: QueryRequest) -> str | None:
        if not cacheable(request.query):
            return None
        d = request.dataset
        parts = (
            self.version,
            request.query,
            "\x1f".join(d.default_graphs),
            "\x1f".join(d.named_graphs),
            str(d.union_default_graph),
            request.result_format,
            str(request.limit),
            request.base_iri or "",
        )
        return hashlib.sha256("\x1e".join(parts).encode("utf-8")).hexdigest()

    def etag(self, request: QueryRequest) -> str | None:
        """The opaque tag of a weak validator for the answer (W/"tag"): the answer is
        equivalent, though not always byte-identical (blank-node labels), across evictions."""
        key = self.key(request)
        return f"{self.version}-{key[:24]}" if key else None

    def _kept(self, request: QueryRequest) -> bool:
        key = self.key(request)
        if key is None:
            return False
        with self._lock:
            return key in self._entries

    def local(self, request: QueryRequest) -> bool:
        return self._kept(request) or self.inner.local(request)

    def immediate(self, request: QueryRequest) -> bool:
        return self._kept(request) or self.inner.immediate(request)

    def run(self, request: QueryRequest) -> QueryResponse:
        key = self.key(request)
        if key is not None:
            with self._lock:
                hit = self._entries.get(key)
                if hit is not None:
                    self._entries.move_to_end(key)
                    self.hits += 1
                    return hit
        answer = self.inner.run(request)
        if (
            key is not None
            and answer.spool is None
            and len(answer.body) <= self.max_entry_bytes
            and not self.inner.immediate(request)
            and self._doorkeeper.admit(key)
        ):
            with self._lock:
                self.misses += 1
                if key not in self._entries:
                    self._entries[key] = answer
                    self._size += len(answer.body)
                    while self._size > self.max_bytes and self._entries:
                        _, old = self._entries.popitem(last=False)
                        self._size -= len(old.body)
        return answer

    def close(self) -> None:
        self.inner.close()
