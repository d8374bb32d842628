"""What a client's SPARQL text is, decided before it runs: no HTTP, no engine in here.

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
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urljoin

from .engine import QueryRefused

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


class QueryTooLong(QueryRefused):
    """The query text is longer than the configured maximum."""

    def __init__(self, message: str, length: int, limit: int):
        super().__init__(message)
        self.length = length
        self.limit = limit


# One token per match, tried in this order. Strings and IRIs follow the SPARQL 1.1 grammar
# (IRIREF, STRING_LITERAL1/2, STRING_LITERAL_LONG1/2); an escape is a backslash and any one
# character, which accepts more than the grammar (the engine rejects the rest) but never ends a
# string earlier than the grammar would. Prefixed names take no dots, so a name can never
# swallow a keyword that follows a dot: where this differs from the grammar, the scan sees one
# word more, never one less.
_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\r\n]*)
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<string>
        \"\"\"(?:(?:"|"")?(?:[^"\\]|\\.))*\"\"\"
      | '''(?:(?:'|'')?(?:[^'\\]|\\.))*'''
      | "(?:[^"\\\r\n]|\\.)*"
      | '(?:[^'\\\r\n]|\\.)*'
    )
  | (?P<var>[?$]\w+)
  | (?P<pname>(?P<prefix>[^\W\d][\w\-]*)?:(?P<local>(?:[\w:\-]|%[0-9A-Fa-f]{2}|\\[^\s])*))
  | (?P<word>[^\W\d]\w*)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class Token:
    kind: str  # iri, string, var, pname, word, other
    text: str
    position: int
    prefix: str | None = None  # for pname: the part before the colon
    local: str | None = None  # for pname: the part after it


def tokens(query: str) -> Iterator[Token]:
    """The significant tokens of a SPARQL text: whitespace and comments are dropped."""
    for match in _TOKEN.finditer(query):
        kind = match.lastgroup
        if kind in ("ws", "comment"):
            continue
        if match.group("pname") is not None:
            yield Token(
                "pname",
                match.group(0),
                match.start(),
                match.group("prefix") or "",
                match.group("local") or "",
            )
        else:
            yield Token(kind or "other", match.group(0), match.start())


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
    services: tuple[ServiceCall, ...] = ()
    has_dataset_clause: bool = False
    prefixes: dict[str, str] = field(default_factory=dict)
    # IRIs called as functions (``<iri>(`` or ``p:name(``) other than the engine's own.
    extension_functions: frozenset[str] = frozenset()

    @property
    def is_update(self) -> bool:
        return self.form == "UPDATE"

    @property
    def returns_graph(self) -> bool:
        """CONSTRUCT and DESCRIBE answer RDF graphs; SELECT and ASK answer result sets."""
        return self.form in ("CONSTRUCT", "DESCRIBE")


def _iri_value(token: Token, prefixes: dict[str, str], base: str | None) -> str | None:
    if token.kind == "iri":
        value = token.text[1:-1]
        return urljoin(base, value) if base and not re.match(r"[A-Za-z][\w+.-]*:", value) else value
    if token.kind == "pname" and token.prefix in prefixes:
        local = re.sub(r"\\(.)", r"\1", token.local or "")
        return prefixes[token.prefix or ""] + local
    return None


def analyse(query: str, base_iri: str | None = None) -> QueryAnalysis:
    """Scans a SPARQL text once; see the module docstring for what it finds."""
    toks = list(tokens(query))
    prefixes: dict[str, str] = {}
    base = base_iri
    form: str | None = None
    services: list[ServiceCall] = []
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
        service = _service_at(toks, index, prefixes, base)
        if service is not None:
            services.append(service)
        if tok.kind in ("iri", "pname") and index + 1 < len(toks) and toks[index + 1].text == "(":
            # A function call, or a predicate followed by a collection; naming the latter too
            # does no harm, as only calls look the name up.
            iri = _iri_value(tok, prefixes, base)
            if iri is not None and iri not in ENGINE_FUNCTIONS:
                functions.add(iri)
    return QueryAnalysis(form, tuple(services), has_dataset, prefixes, frozenset(functions))


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


def vet(
    query: str,
    *,
    max_length: int,
    service_allowlist: Iterable[str] = (),
    base_iri: str | None = None,
) -> QueryAnalysis:
    """Analyses a client's query and refuses what this endpoint never runs.

    Raises :class:`QueryTooLong`, :class:`UpdateRefused` or :class:`ServiceRefused` (all
    :class:`QueryRefused`) with a message for the client; returns the analysis otherwise. A text
    whose form is not recognised passes: the engine's parser then reports the syntax error with
    its line and column.
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
    allowed = set(service_allowlist)
    for call in analysis.services:
        if call.endpoint is None:
            raise ServiceRefused(
                "SERVICE with a variable or an unresolvable endpoint is not allowed here: this "
                "endpoint does not make requests to other SPARQL endpoints"
                + (f" other than {', '.join(sorted(allowed))}." if allowed else ".")
            )
        if call.endpoint not in allowed:
            raise ServiceRefused(
                f"SERVICE <{call.endpoint}> is not allowed: this endpoint does not make requests "
                "to other SPARQL endpoints"
                + (f" other than {', '.join(sorted(allowed))}." if allowed else ".")
            )
    return analysis
