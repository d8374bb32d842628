"""How deep and how long a query's structure is, counted from its text before the engine sees it.

WHY: pyoxigraph parses, optimises and evaluates a query by recursion, and a deep enough
structure overflows the stack of the thread that runs it. That is no exception Python could
catch: the process dies of SIGSEGV. In-process that is the whole server; in the query pool it
is a worker, and the client gets a 503 that says nothing useful. The 20,000 characters a query
may have are plenty for that. Measured in pyoxigraph 0.5 (a thread with an 8 MB stack), these
crash, all well within the length limit:

==============================================  ======================  ===========
structure                                       crashes at              characters
==============================================  ======================  ===========
nested groups ``{{{ ... }}}``                   ~2,200 levels           ~4,500
nested function calls ``CONCAT(CONCAT(...))``   ~930 levels             ~7,400
nested ``FILTER EXISTS { ... }``                ~840 levels             ~15,000
nested parentheses, ``IF``, collections         ~950 - 4,700 levels     < 10,000
``DESCRIBE :s :s :s ...``                        ~2,650 terms            ~8,000
a collection ``?s :p (1 1 1 ...)`` in WHERE      ~4,100 elements         ~8,300
``1+1+...``, ``1-1-...``, ``1*1*...``            ~6,950 operators        ~13,900
``!!!...true``, ``&&``, ``||`` chains             ~9,300 operators        ~9,400
an object list ``?s :p 1,1,1,...``              ~8,300 objects          ~16,600
a sequence of groups ``{SELECT * {}} {...}``     ~2,600 groups           ~36,900
a path ``:p|:p|...``                             ~11,000 alternatives    ~33,000
==============================================  ======================  ===========

Long UNION, OPTIONAL, MINUS, FILTER and BIND sequences, nested subqueries (2,100 levels),
property path sequences, VALUES blocks, IN lists and function arguments, ORDER BY and GROUP BY
lists did not crash within 40,000 characters. Some structures are slow instead of deep: nested
blank nodes (600 levels, 11 s), a path of 600 steps (9 s), an object list of 1,000 objects or
nested ``(...)*`` paths (minutes); the query timeout stops those.

So :func:`check` refuses two things, with a message, before the engine sees the query:

* brackets (``{ }``, ``( )``, ``[ ]``) nested more than :data:`MAX_NESTING` deep;
* more than :data:`MAX_CHAIN` items strung together along any path of nested groups: the
  operators, the separators of a group (``.``, ``;``, ``,``), the groups within a group, every
  term inside parentheses (collections, argument lists) and the terms of DESCRIBE. The sum over
  the enclosing groups counts, because a chain inside a chain inside a chain recurses as deep
  as all three together. VALUES data is flat in the engine and does not count.

Both bounds are far from the crashes (a tenth and less) and far above what a person writes.
Every reading of the text counts (see ``sparql/lexer.py``), and an IRI that the engine could
also read as code (``<!!!1)>`` after an operand) counts as that code, too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kommunen_kg.sparql.errors import QueryError
from kommunen_kg.sparql.lexer import HIERARCHICAL, Token, tokens
from kommunen_kg.sparql.lexer import readings as scanned

MAX_NESTING = 100
MAX_CHAIN = 1000

_OPEN = {"{": "}", "(": ")", "[": "]"}
_CLOSE = frozenset(_OPEN.values())
_OPERATORS = frozenset("+-*/!&|=<>^")
_SEPARATORS = frozenset(".;,")
# Where the terms of DESCRIBE end.
_AFTER_DESCRIBE = frozenset({"WHERE", "FROM", "LIMIT", "OFFSET", "ORDER", "VALUES", "GROUP"})


class QueryTooComplex(QueryError):
    """The query's structure is deeper or longer than the engine can take without crashing."""


@dataclass(frozen=True)
class Shape:
    """How deep the brackets of one reading nest, and the longest chain of items."""

    nesting: int
    nesting_at: int  # where the deepest bracket opens
    chain: int
    chain_at: int  # where the group with the longest chain (counting its enclosing groups) opens


@dataclass
class _Group:
    bracket: str  # "{", "(", "[", or "" for the query itself
    position: int
    parent: _Group | None
    items: int = 0
    values: bool = False  # a VALUES data block or one of its rows: flat in the engine


def _content(token: Token) -> list[Token]:
    """The tokens of an IRI read as code, when the engine could read it so."""
    if token.kind != "iri" or HIERARCHICAL.match(token.text):
        return []
    return [
        type(token)(t.kind, t.text, token.position + 1 + t.position, t.prefix, t.local)
        for t in tokens(token.text[1:-1])
    ]


def shape(reading: Iterable[Token]) -> Shape:
    """The :class:`Shape` of one reading (its significant tokens, in order)."""
    top = _Group("", 0, None)
    groups = [top]
    current = top
    nesting = deepest = 0
    deepest_at = 0
    values_pending = False  # after VALUES, the next { opens its data block
    describing = False

    def open_group(bracket: str, position: int) -> None:
        nonlocal current, nesting, deepest, deepest_at, values_pending
        if not current.values:
            current.items += 1
        group = _Group(bracket, position, current, values=current.values)
        if bracket == "{" and values_pending:
            group.values, values_pending = True, False
        groups.append(group)
        current = group
        nesting += 1
        if nesting > deepest:
            deepest, deepest_at = nesting, position

    def close_group() -> None:
        nonlocal current, nesting
        if current.parent is not None:
            current = current.parent
            nesting -= 1

    # The two tokens before this one, for _in_prologue (two names, not a list made per token:
    # this loop runs over every token of every reading of every query).
    before_last: Token | None = None
    last: Token | None = None
    in_values = current.values
    for token in reading:
        kind = token.kind
        if kind == "comment":
            continue
        text = token.text
        if kind == "other":
            if text in _OPEN:
                open_group(text, token.position)
                in_values = current.values
            elif text in _CLOSE:
                close_group()
                in_values = current.values
            elif not in_values and (
                text in _OPERATORS or current.bracket == "(" or text in _SEPARATORS
            ):
                current.items += 1
        elif not in_values and (
            current.bracket == "("
            or (describing and current is top and kind in ("var", "iri", "pname"))
        ):
            current.items += 1
        if kind == "word":
            word = text.upper()
            if word == "VALUES":
                values_pending = True
            if word == "DESCRIBE":
                describing = True
            elif word in _AFTER_DESCRIBE:
                describing = False
        elif kind == "iri" and not _in_prologue(before_last, last):
            # The engine might read "<" as less-than and the rest as code: count that code,
            # its brackets only as deep as they go (a stray ")" in a real IRI closes nothing).
            base = nesting
            for inner in _content(token):
                if inner.kind == "other" and inner.text in _OPEN:
                    nesting += 1
                    if nesting > deepest:
                        deepest, deepest_at = nesting, inner.position
                    current.items += 0 if current.values else 1
                elif inner.kind == "other" and inner.text in _CLOSE:
                    nesting = max(base, nesting - 1)
                elif inner.kind == "other" and inner.text in _OPERATORS | _SEPARATORS:
                    current.items += 0 if current.values else 1
            nesting = base
        before_last, last = last, token

    chain = 0
    chain_at = 0
    totals: dict[int, int] = {}
    for group in groups:  # parents come before their children
        total = group.items + (totals[id(group.parent)] if group.parent is not None else 0)
        totals[id(group)] = total
        if total > chain:
            chain, chain_at = total, group.position
    return Shape(deepest, deepest_at, chain, chain_at)


def _in_prologue(before_last: Token | None, last: Token | None) -> bool:
    """An IRI after ``PREFIX p:`` or ``BASE`` is only ever an IRI."""
    if last is None:
        return False
    if last.kind == "word" and last.text.upper() == "BASE":
        return True
    return (
        before_last is not None
        and last.kind == "pname"
        and not last.local
        and before_last.kind == "word"
        and before_last.text.upper() == "PREFIX"
    )


def _where(query: str, position: int) -> str:
    line = query.count("\n", 0, position) + 1
    column = position - (query.rfind("\n", 0, position) + 1) + 1
    return f"line {line}, column {column}"


def check(query: str, readings: Iterable[Iterable[Token]]) -> None:
    """Raises :class:`QueryTooComplex` when a reading nests or chains beyond the bounds.

    The declarations of the text's prologue (``lexer.py``), with which its readings start,
    change no count (their IRIs are only IRIs, and nothing in them nests or chains), so the
    count starts after them: they were half the tokens of a small query."""
    prologue = scanned(query).prologue
    for reading in readings:
        if prologue and tuple(reading[: len(prologue)]) == prologue:  # type: ignore[index]
            reading = reading[len(prologue) :]  # type: ignore[index]
        found = shape(reading)
        if found.nesting > MAX_NESTING:
            raise QueryTooComplex(
                f"The query nests brackets ({{ }}, ( ), [ ]) {found.nesting} levels deep "
                f"(the deepest opens at {_where(query, found.nesting_at)}); this endpoint "
                f"accepts at most {MAX_NESTING} levels, because deeper nesting can crash the "
                "query engine. Write the query flatter; nothing was run."
            )
        if found.chain > MAX_CHAIN:
            raise QueryTooComplex(
                f"The query strings {found.chain} items together (operators such as + && | /, "
                "the separators . ; , of a group, groups, terms in parentheses, the terms of "
                "DESCRIBE, counted with the groups around them; the longest chain ends in the "
                f"group at {_where(query, found.chain_at)}); this endpoint accepts at most "
                f"{MAX_CHAIN}, because longer chains can crash the query engine. Split the "
                "query, or give long lists of values as VALUES; nothing was run."
            )
