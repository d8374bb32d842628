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

What the endpoint refuses on this analysis, and the conservative check behind it, is in
``vetting.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin

from kommunen_kg.sparql.lexer import (
    PrologueMemo,
    Token,
    readings,
    significant,
)

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
        value = unescape(token.text[1:-1])
        return urljoin(base, value) if base and not re.match(r"[A-Za-z][\w+.-]*:", value) else value
    if token.kind == "pname" and token.prefix in prefixes:
        local = re.sub(r"\\(.)", r"\1", token.local or "")
        return prefixes[token.prefix or ""] + local
    return None


def undeclared_prefix(query: str) -> Token | None:
    """The first prefixed name whose prefix the query does not declare (SPARQL declares none
    of its own), in the ordinary reading; None when every prefix is declared."""
    declared: set[str] = set()
    toks = significant(readings(query)[0])
    for index, tok in enumerate(toks):
        if tok.kind != "pname":
            continue
        after_prefix = index > 0 and toks[index - 1].kind == "word"
        if after_prefix and toks[index - 1].text.upper() == "PREFIX" and not tok.local:
            declared.add(tok.prefix or "")
        elif (tok.prefix or "") not in declared:
            return tok
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

    # Prologue: BASE <iri> and PREFIX p: <iri>, in any order, then the form keyword. The
    # declarations of a kept prologue are read once (the same loop, on its tokens alone).
    i = 0
    prologue = every.prologue
    if prologue:
        kept = _DECLARED.get(prologue, base_iri, lambda: _prologue_only(prologue, base_iri))
        if kept is not None:
            declared, base, i = kept
            prefixes = dict(declared)
    i, base = _declarations(toks, i, prefixes, base)
    keyword = toks[i].text.upper() if i < len(toks) and toks[i].kind == "word" else None
    if keyword in QUERY_FORMS:
        form = keyword
    elif keyword in UPDATE_KEYWORDS:
        form = "UPDATE"

    functions: set[str] = set()
    # From the last declared IRI on (the one before a "(" would be a call, too).
    for index in range(max(i - 1, 0), len(toks)):
        tok = toks[index]
        kind = tok.kind
        if kind == "word":
            if not has_dataset and tok.text.upper() == "FROM":
                has_dataset = True
        elif (
            (kind == "iri" or kind == "pname")
            and index + 1 < len(toks)
            and toks[index + 1].text == "("
        ):
            # A function call, or a predicate followed by a collection; naming the latter too
            # does no harm, as only calls look the name up.
            iri = _iri_value(tok, prefixes, base)
            if iri is not None and iri not in ENGINE_FUNCTIONS:
                functions.add(iri)
    services: dict[tuple[int, str | None], ServiceCall] = {}
    # A call needs the word SERVICE among the tokens (escaped forms are the conservative
    # check's, vetting.py): a text without it anywhere has none to find.
    for reading in every if "SERVICE" in query.upper() else ():
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


def _declarations(
    toks: list[Token], i: int, prefixes: dict[str, str], base: str | None
) -> tuple[int, str | None]:
    """Reads the BASE and PREFIX declarations from ``toks[i]`` on into ``prefixes``; returns
    where they end and the base IRI then."""
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
        break
    return i, base


_Declared = tuple[dict[str, str], "str | None", int]
_DECLARED: PrologueMemo[_Declared | None] = PrologueMemo()


def _prologue_only(prologue: tuple[Token, ...], base_iri: str | None) -> _Declared | None:
    """The declarations of a text's kept prologue: the prefixes, the base IRI and how many
    significant tokens they are; None unless they are exactly the whole prologue (then the
    text is read from its start)."""
    toks = significant(prologue)
    prefixes: dict[str, str] = {}
    end, base = _declarations(toks, 0, prefixes, base_iri)
    return (prefixes, base, end) if end == len(toks) else None


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


# --- escapes -------------------------------------------------------------------------------

# SPARQL 1.1, section 19.2: \uXXXX and \UXXXXXXXX stand for their character anywhere in a query.
ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def escape_char(match: re.Match) -> str:
    code = int(match.group(1) or match.group(2), 16)
    return chr(code) if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"


def unescape(text: str) -> str:
    return ESCAPE.sub(escape_char, text)
