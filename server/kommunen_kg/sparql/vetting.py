r"""What this endpoint refuses before a client's query runs, and why: ``vet``.

A query longer than the limit, a SPARQL Update, a structure deep or long enough to crash the
engine (``shape.py``), SERVICE to an endpoint off the allow-list, or SERVICE in a form the scan
cannot resolve. The analysis itself (form, calls, dataset, readings) is ``analysis.py``.

Behind the accurate scan stands a second, deliberately conservative check
(:func:`unchecked_service_calls`): on the text as it is and with ``\u``/``\U`` escapes
replaced (SPARQL 1.1, section 19.2), it looks for the word SERVICE in the shape of a call (not
part of a variable, a prefixed name or an IRI path, then comments, an optional SILENT, then an
endpoint). Each such place must be a call the accurate scan found, and so checked against the
allow-list, or lie in a string or a comment in every reading; otherwise the query is refused,
as a SERVICE this endpoint cannot check.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator

from kommunen_kg.sparql import shape as query_shape
from kommunen_kg.sparql.analysis import ESCAPE, QueryAnalysis, analyse, escape_char
from kommunen_kg.sparql.errors import QueryRefused
from kommunen_kg.sparql.lexer import (
    MAX_READINGS,
    Token,
)
from kommunen_kg.sparql.shape import QueryTooComplex


class UpdateRefused(QueryRefused):
    """The text is a SPARQL Update; this endpoint is read-only."""


class ServiceRefused(QueryRefused):
    """The query calls SERVICE on an endpoint that is not on the allow-list."""


class UncheckedService(ServiceRefused):
    """The word SERVICE appears where a call may hide that the scan cannot resolve."""


class QueryTooLong(QueryRefused):
    """The query text is longer than the configured maximum."""

    def __init__(self, message: str, length: int, limit: int):
        super().__init__(message)
        self.length = length
        self.limit = limit


# --- the conservative check -------------------------------------------------------------------

_SERVICE_WORD = re.compile(r"SERVICE", re.IGNORECASE)
_SILENT_WORD = re.compile(r"SILENT", re.IGNORECASE)
# What the grammar skips between two keywords: whitespace and comments. Possessive, so that a
# run of "#" is one comment and not 2**n ways to split it (a text of 30 "#" took minutes).
_GAPS = re.compile(r"(?:\s|\#[^\r\n]*+)++")
_SPACES = re.compile(r"\s*+")
_PREFIX_WORD = re.compile(r"PREFIX", re.IGNORECASE)
_NAME_START = re.compile(r"[^\W\d_]")
_NAME_RUNS = re.compile(r"[\w.\-]+")
# A character before SERVICE that makes it part of something else: a variable, a prefixed
# name, an IRI (path, fragment, query), a comment.
_PART_OF_SOMETHING = frozenset("?$:-/#=&%")
# The words the engine lets SERVICE follow without a space: a number (1SERVICE, 1e5SERVICE)
# and the booleans (trueSERVICE).
_GLUED_LITERAL = re.compile(
    r"(?:(?:\d++(?:\.\d*+)?+|\.\d++)(?:[eE][+-]?\d++)?+|true|false)$", re.IGNORECASE
)


def _unescaped_with_origins(query: str) -> tuple[str, list[int]]:
    """The text with its escapes replaced, and where each of its characters came from."""
    parts: list[str] = []
    origins: list[int] = []
    last = 0
    for match in ESCAPE.finditer(query):
        parts.append(query[last : match.start()])
        origins.extend(range(last, match.start()))
        parts.append(escape_char(match))
        origins.append(match.start())
        last = match.end()
    parts.append(query[last:])
    origins.extend(range(last, len(query) + 1))
    return "".join(parts), origins


def _starts_a_keyword(text: str, position: int) -> bool:
    if position == 0:
        return True
    before = text[position - 1]
    if before in _PART_OF_SOMETHING:
        return False
    if not (before.isalnum() or before == "_"):
        return True
    glued = _GLUED_LITERAL.search(text, max(0, position - 64), position)
    if glued is None:
        return False
    first = glued.start()
    return first == 0 or not (text[first - 1].isalnum() or text[first - 1] in "_?$:%")


class _Layout:
    """Where the gaps (whitespace and comments) and the names of one text lie, found once.

    The conservative check asks, for every SERVICE and PREFIX in the text, where the gap after
    it ends and whether a declared prefixed name follows. Matched afresh each time, a text with
    many of them (thousands of ``# SERVICE a:`` comments, ``SERVICE #SERVICE #...`` on one line)
    cost time quadratic in its length; here each answer is a look-up in runs found in one pass.
    """

    def __init__(self, text: str):
        self.text = text
        self._gaps = [(m.start(), m.end()) for m in _GAPS.finditer(text)]
        self._gap_starts = [start for start, _ in self._gaps]
        self._names = [(m.start(), m.end()) for m in _NAME_RUNS.finditer(text)]
        self._name_starts = [start for start, _ in self._names]
        self._declared: frozenset[str] | None = None

    @staticmethod
    def _around(runs: list[tuple[int, int]], starts: list[int], position: int) -> int | None:
        """The end of the run in which ``position`` lies, or None."""
        index = bisect_right(starts, position) - 1
        if index >= 0 and runs[index][1] > position:
            return runs[index][1]
        return None

    def gap_end(self, position: int) -> int:
        """Where the gap that starts at ``position`` ends (``position`` when there is none).

        Inside a longer gap (in one of its comments) the gap from here either meets a character
        of that comment's text first, or it reaches a ``#`` or the line's end and from there on
        is the longer gap.
        """
        end = self._around(self._gaps, self._gap_starts, position)
        if end is None:
            return position
        spaces = _SPACES.match(self.text, position)  # matches everywhere (perhaps nothing)
        after_spaces = spaces.end() if spaces else position
        if after_spaces < end and self.text[after_spaces] != "#":
            return after_spaces
        return end

    def name_at(self, position: int) -> str | None:
        """The prefix of a prefixed name starting at ``position`` ("" for ``:x``), or None."""
        text = self.text
        if text.startswith(":", position):
            return ""
        if not _NAME_START.match(text, position):
            return None
        end = self._around(self._names, self._name_starts, position)
        if end is not None and text.startswith(":", end):
            return text[position:end]
        return None

    def declared(self) -> frozenset[str]:
        """Every prefix the text may declare: ``PREFIX``, a gap, ``name:``, anywhere in it (an
        undeclared prefix does not parse)."""
        if self._declared is None:
            names = (self.name_at(self.gap_end(m.end())) for m in _PREFIX_WORD.finditer(self.text))
            self._declared = frozenset(name for name in names if name is not None)
        return self._declared

    def calls_an_endpoint(self, position: int) -> bool:
        """True when an endpoint may start at ``position``: ``<``, a variable, a prefixed name."""
        if position >= len(self.text):
            return False
        if self.text[position] in "<?$:":
            return True
        name = self.name_at(position)
        return name is not None and name in self.declared()


def _service_places(text: str) -> Iterator[int]:
    """Where the word SERVICE stands in the shape of a call (see the module docstring)."""
    # The case-blind search tries every position of the text; most texts have no such word,
    # which upper() tells at a glance. It turns every letter the search takes for one of
    # SERVICE into that letter, except U+0130 (İ), which it takes for I and keeps.
    upper = text.upper()
    if "SERVICE" not in upper and "SERV\u0130CE" not in upper:
        return
    layout: _Layout | None = None
    for match in _SERVICE_WORD.finditer(text):
        if not _starts_a_keyword(text, match.start()):
            continue
        layout = layout or _Layout(text)
        after = layout.gap_end(match.end())
        silent = _SILENT_WORD.match(text, after)
        endpoints = [after] + ([layout.gap_end(silent.end())] if silent else [])
        if any(layout.calls_an_endpoint(where) for where in endpoints):
            yield match.start()


def _hidden(position: int, reading: tuple[Token, ...], starts: list[int]) -> bool:
    """True when ``position`` lies inside a string literal or a comment of this reading
    (``starts``: where its tokens start)."""
    index = bisect_right(starts, position) - 1
    if index < 0:
        return False
    tok = reading[index]
    return tok.kind in ("string", "comment") and tok.position < position < tok.end


def unchecked_service_calls(query: str, analysis: QueryAnalysis) -> list[int]:
    """Places of a possible SERVICE call that the accurate scan did not resolve.

    Each place where SERVICE stands in the shape of a call, in the text as sent or with its
    escapes replaced, must be a call the scan found (and so checked against the allow-list) or
    lie in a string or a comment in every reading of the text.
    """
    places = set(_service_places(query))
    if ESCAPE.search(query):  # else the text with its escapes replaced is the text itself
        unescaped, origins = _unescaped_with_origins(query)
        places.update(origins[position] for position in _service_places(unescaped))
    if not places:
        return []
    checked = {call.position for call in analysis.services}
    readings = [(r, [tok.position for tok in r]) for r in analysis.readings]
    return sorted(
        place
        for place in places
        if place not in checked
        and not (readings and all(_hidden(place, r, starts) for r, starts in readings))
    )


def _where(query: str, position: int) -> str:
    line = query.count("\n", 0, position) + 1
    column = position - (query.rfind("\n", 0, position) + 1) + 1
    return f"line {line}, column {column}"


def vet(
    query: str,
    *,
    max_length: int,
    service_allowlist: Iterable[str] = (),
    base_iri: str | None = None,
) -> QueryAnalysis:
    """Analyses a client's query and refuses what this endpoint never runs.

    Raises :class:`QueryTooLong`, :class:`UpdateRefused` or :class:`ServiceRefused` (all
    :class:`QueryRefused`), or :class:`~kommunen_kg.sparql.shape.QueryTooComplex`, with a
    message for the client; returns the analysis otherwise. A text whose form is not recognised
    passes: the engine's parser then reports the syntax error with its line and column.
    """
    if len(query) > max_length:
        raise QueryTooLong(
            f"The query is {len(query)} characters long; this endpoint accepts queries of at "
            f"most {max_length} characters.",
            len(query),
            max_length,
        )
    analysis = analyse(query, base_iri)
    if analysis.is_update:
        raise UpdateRefused(
            "This endpoint is read-only: SPARQL Update (INSERT, DELETE, LOAD, CLEAR, DROP, "
            "CREATE, ADD, MOVE, COPY) is not accepted, and nothing was changed."
        )
    if not analysis.all_readings:
        raise QueryTooComplex(
            "The query has too many IRIs like <urn:a#b> right after a value, where '<' may "
            f"also be read as less-than, for this endpoint to check (it follows at most "
            f"{MAX_READINGS} readings of a query). Write them as prefixed names (PREFIX u: "
            "<urn:a#> ... u:b); nothing was run."
        )
    query_shape.check(query, analysis.readings)
    allowed = set(service_allowlist)
    others = " other than " + ", ".join(sorted(allowed)) + "." if allowed else "."
    for call in analysis.services:
        if call.endpoint is None:
            raise ServiceRefused(
                "SERVICE with a variable or an unresolvable endpoint is not allowed here: this "
                "endpoint does not make requests to other SPARQL endpoints" + others
            )
        if call.endpoint not in allowed:
            raise ServiceRefused(
                f"SERVICE <{call.endpoint}> is not allowed: this endpoint does not make requests "
                "to other SPARQL endpoints" + others
            )
    unchecked = unchecked_service_calls(query, analysis)
    if unchecked:
        raise UncheckedService(
            f"The word SERVICE at {_where(query, unchecked[0])} stands where the query engine "
            "may read a SERVICE call that this endpoint cannot check (the word glued to its "
            "neighbours, written with \\u escapes, or after a '<' that may be an IRI or "
            "less-than). The query was refused, and no request was made to any other endpoint. "
            "This endpoint makes no requests to other SPARQL endpoints" + others
        )
    return analysis
