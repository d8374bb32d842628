r"""What a client's SPARQL text is, decided before it runs: no HTTP, no engine in here.

The endpoint must answer some questions before it hands a query to the engine:

* Which form is it (SELECT, ASK, CONSTRUCT, DESCRIBE, or an update)? The form decides which
  result formats content negotiation may offer, and updates are refused outright.
* Does it call ``SERVICE``? pyoxigraph evaluates ``SERVICE <http://...>`` by making the HTTP
  request itself, so a federated query has to be stopped *before* it reaches the engine, unless
  its endpoint is on the configured allow-list.
* Does it name its own dataset (``FROM`` / ``FROM NAMED``)? Then the endpoint must not replace
  the dataset with the union default graph.

A full parse is not needed for that, and a second full parser would disagree with the engine's
in corner cases. A lexical scan is enough, provided it skips exactly what the grammar skips:
comments, string literals and IRIs (a ``SERVICE`` inside a string is no service call). Where the
scan is unsure, it errs on the side of refusing: any word ``SERVICE`` outside strings, IRIs and
comments counts, even in places where the grammar would not allow it, and a ``SERVICE`` whose
endpoint cannot be told from the text is refused whatever the allow-list says.

The engine's parser is scannerless, and reads some texts differently from any tokenizer. An
audit found texts that made the server connect out past the scan alone:

* ``FILTER(?a<?b)SERVICE:#>`` - to a tokenizer ``<?b)SERVICE:#>`` is an IRI; to pyoxigraph
  ``<`` is less-than there, ``SERVICE :`` a call, and ``#>`` a comment. So a ``<...>`` that holds
  ``#`` or ``'`` and could also be an operator gives the text two *readings*, and the scan looks
  at every reading (at most :data:`MAX_READINGS`); what any reading calls, counts.
* ``<urn:x\u0041#>`` - escapes are part of an IRI (``\uXXXX``, ``\UXXXXXXXX``), so the scan
  takes them, too.
* ``trueSERVICE<...>``, ``1e5SERVICE<...>``, ``SERVICEs:x``, ``SERVICESILENT<...>`` - the engine
  needs no space between a keyword and its neighbours.

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
from dataclasses import dataclass, field
from urllib.parse import urljoin

from kommunen_kg.sparql import shape as query_shape
from kommunen_kg.sparql.errors import QueryRefused
from kommunen_kg.sparql.lexer import (
    MAX_READINGS,
    Token,
    readings,
    significant,
)
from kommunen_kg.sparql.shape import QueryTooComplex

QUERY_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
XSD = "http://www.w3.org/2001/XMLSchema#"
# The function IRIs pyoxigraph evaluates itself (the XSD casts); every other IRI called as a
# function is an extension function it does not know.
ENGINE_FUNCTIONS = frozenset(
    XSD + name
    for name in (
        "boolean",
        "double",
        "float",
        "decimal",
        "integer",
        "string",
        "dateTime",
        "date",
        "time",
        "duration",
        "yearMonthDuration",
        "dayTimeDuration",
    )
)
UPDATE_KEYWORDS = frozenset(
    {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"}
)


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


@dataclass(frozen=True)
class ServiceCall:
    """One SERVICE clause: its endpoint IRI when the text names one, else None (a variable or
    something the scan cannot resolve)."""

    endpoint: str | None
    silent: bool
    position: int


@dataclass(frozen=True)
class QueryAnalysis:
    form: str | None  # SELECT, ASK, CONSTRUCT, DESCRIBE; "UPDATE"; None when unrecognised
    services: tuple[ServiceCall, ...] = ()  # in every reading of the text
    has_dataset_clause: bool = False
    prefixes: dict[str, str] = field(default_factory=dict)
    # IRIs called as functions (``<iri>(`` or ``p:name(``) other than the engine's own.
    extension_functions: frozenset[str] = frozenset()
    # The readings of the text (see the module docstring); ``all_readings`` is false when
    # there were more than MAX_READINGS.
    readings: tuple[tuple[Token, ...], ...] = field(default=(), repr=False, compare=False)
    all_readings: bool = True

    @property
    def is_update(self) -> bool:
        return self.form == "UPDATE"

    @property
    def returns_graph(self) -> bool:
        """CONSTRUCT and DESCRIBE answer RDF graphs; SELECT and ASK answer result sets."""
        return self.form in ("CONSTRUCT", "DESCRIBE")


def _iri_value(token: Token, prefixes: dict[str, str], base: str | None) -> str | None:
    if token.kind == "iri":
        value = _unescape(token.text[1:-1])
        return urljoin(base, value) if base and not re.match(r"[A-Za-z][\w+.-]*:", value) else value
    if token.kind == "pname" and token.prefix in prefixes:
        local = re.sub(r"\\(.)", r"\1", token.local or "")
        return prefixes[token.prefix or ""] + local
    return None


def analyse(query: str, base_iri: str | None = None) -> QueryAnalysis:
    """Scans a SPARQL text; see the module docstring for what it finds.

    The form, the prefixes, the dataset clause and the functions come from the ordinary
    reading; the SERVICE calls from every reading.
    """
    every = readings(query)
    toks = significant(every[0])
    prefixes: dict[str, str] = {}
    base = base_iri
    form: str | None = None
    has_dataset = False

    # Prologue: BASE <iri> and PREFIX p: <iri>, in any order, then the form keyword.
    i = 0
    while i < len(toks):
        tok = toks[i]
        keyword = tok.text.upper() if tok.kind == "word" else None
        if keyword == "BASE" and i + 1 < len(toks) and toks[i + 1].kind == "iri":
            base = _iri_value(toks[i + 1], prefixes, base)
            i += 2
            continue
        if (
            keyword == "PREFIX"
            and i + 2 < len(toks)
            and toks[i + 1].kind == "pname"
            and not toks[i + 1].local
            and toks[i + 2].kind == "iri"
        ):
            value = _iri_value(toks[i + 2], prefixes, base)
            if value is not None:
                prefixes[toks[i + 1].prefix or ""] = value
            i += 3
            continue
        if keyword in QUERY_FORMS:
            form = keyword
        elif keyword in UPDATE_KEYWORDS:
            form = "UPDATE"
        break

    functions: set[str] = set()
    for index, tok in enumerate(toks):
        if tok.kind == "word" and tok.text.upper() == "FROM":
            has_dataset = True
        if tok.kind in ("iri", "pname") and index + 1 < len(toks) and toks[index + 1].text == "(":
            # A function call, or a predicate followed by a collection; naming the latter too
            # does no harm, as only calls look the name up.
            iri = _iri_value(tok, prefixes, base)
            if iri is not None and iri not in ENGINE_FUNCTIONS:
                functions.add(iri)
    services: dict[tuple[int, str | None], ServiceCall] = {}
    for reading in every:
        sig = significant(reading)
        for index in range(len(sig)):
            service = _service_at(sig, index, prefixes, base)
            if service is not None:
                services.setdefault((service.position, service.endpoint), service)
    return QueryAnalysis(
        form,
        tuple(sorted(services.values(), key=lambda call: call.position)),
        has_dataset,
        prefixes,
        frozenset(functions),
        tuple(tuple(reading) for reading in every),
        every.complete,
    )


def _service_at(
    toks: list[Token], index: int, prefixes: dict[str, str], base: str | None
) -> ServiceCall | None:
    """A SERVICE call starting at ``toks[index]``, or None.

    Besides the keyword itself this catches the glued form ``SERVICE:x`` (a prefixed name to a
    tokenizer, but the keyword followed by ``:x`` to a scannerless parser).
    """
    tok = toks[index]
    if tok.kind == "pname" and (tok.prefix or "").upper() == "SERVICE":
        glued = Token("pname", ":" + (tok.local or ""), tok.position, "", tok.local)
        endpoint = _iri_value(glued, prefixes, base) if tok.local else None
        return ServiceCall(endpoint, False, tok.position)
    if tok.kind != "word" or tok.text.upper() != "SERVICE":
        return None
    rest = toks[index + 1 : index + 3]  # SILENT? and the endpoint
    silent = False
    if rest and rest[0].kind == "word" and rest[0].text.upper() == "SILENT":
        silent, rest = True, rest[1:]
    elif rest and rest[0].kind == "pname" and (rest[0].prefix or "").upper() == "SILENT":
        glued = Token("pname", ":" + (rest[0].local or ""), rest[0].position, "", rest[0].local)
        return ServiceCall(_iri_value(glued, prefixes, base), True, tok.position)
    target = rest[0] if rest else None
    endpoint = _iri_value(target, prefixes, base) if target is not None else None
    return ServiceCall(endpoint, silent, tok.position)


# --- the conservative check -------------------------------------------------------------------

# SPARQL 1.1, section 19.2: \uXXXX and \UXXXXXXXX stand for their character anywhere in a query.
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
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


def _escape_char(match: re.Match) -> str:
    code = int(match.group(1) or match.group(2), 16)
    return chr(code) if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"


def _unescape(text: str) -> str:
    return _ESCAPE.sub(_escape_char, text)


def _unescaped_with_origins(query: str) -> tuple[str, list[int]]:
    """The text with its escapes replaced, and where each of its characters came from."""
    parts: list[str] = []
    origins: list[int] = []
    last = 0
    for match in _ESCAPE.finditer(query):
        parts.append(query[last : match.start()])
        origins.extend(range(last, match.start()))
        parts.append(_escape_char(match))
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
        after_spaces = _SPACES.match(self.text, position).end()
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
    unescaped, origins = _unescaped_with_origins(query)
    places = set(_service_places(query))
    places.update(origins[position] for position in _service_places(unescaped))
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
