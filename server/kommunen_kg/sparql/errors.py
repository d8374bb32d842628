"""What can go wrong with a query, in words for the client; the layers above choose the status.

The lexical checks, the engine, the query pool and the remote store raise these; the endpoint
turns each kind into its HTTP answer (400, 403, 413, 503). Kept apart from the engine so that
the checks that run before any engine need not import it.
"""

from __future__ import annotations


class QueryError(Exception):
    """The query cannot be run as sent; the message says why, in words for the client."""


class QuerySyntaxError(QueryError):
    """The query does not parse. ``line`` and ``column`` point at the problem when known."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.line = line
        self.column = column


class QueryRefused(QueryError):
    """The query parses but this endpoint will not run it (an update, SERVICE, ...)."""


class QueryTimeout(QueryError):
    """The query ran longer than allowed and was stopped."""


class EngineUnavailable(QueryError):
    """The engine cannot answer now (a remote store is down, all workers are busy)."""


class AnswerTooLarge(QueryError):
    """The answer would be larger than the endpoint allows (``max_answer_bytes``)."""

    def __init__(self, size: int, limit: int):
        mb = 1024 * 1024
        super().__init__(
            f"The answer is larger than this endpoint's limit of {limit / mb:g} MB per answer "
            f"({size / mb:.1f} MB or more). Ask for fewer rows (LIMIT, and OFFSET for the next "
            "page), fewer or shorter values, or download the data dump (/dumps/)."
        )
        self.size = size
        self.limit = limit

    def __reduce__(self):  # a query worker sends it to the server pickled
        return (type(self), (self.size, self.limit))
