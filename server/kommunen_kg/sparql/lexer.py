"""The lexical scan of a SPARQL text: tokens, and every way the engine may read them.

The checks that run before a client's query reaches the engine (``sparql/analysis.py``,
``sparql/shape.py``) share this one scan. It skips exactly what the grammar skips:
comments, string literals and IRIs. The engine's parser is scannerless and reads some texts
otherwise than any tokenizer (``FILTER(?a<?b)SERVICE:#>``: ``<`` is less-than there); so a
``<...>`` that holds ``#`` or ``'`` right after an operand gives the text a second *reading*,
and :func:`readings` returns every reading (at most :data:`MAX_READINGS`).

The scan is linear in the text, whatever the text (see the comment above ``_TOKEN``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from typing import Generic, NamedTuple, TypeVar

# One token per match, tried in this order. Strings and IRIs follow the SPARQL 1.1 grammar
# (IRIREF with its \u escapes, STRING_LITERAL1/2, STRING_LITERAL_LONG1/2); in a string an
# escape is a backslash and any one character, which accepts more than the grammar (the engine
# rejects the rest) but never ends a string earlier than the grammar would. Prefixed names take
# no dots, so a name can never swallow a keyword that follows a dot: where this differs from the
# grammar, the scan sees one word more, never one less.
#
# Every alternative is linear in what it matches, and no failed attempt rescans text a later
# token starts in (hostile texts such as ``a-a-a-...`` or ``\"""x`` on every line made the
# scan quadratic, a 20,000-character query took seconds):
# * a string that does not end is a string up to where it would have to end (the line for
#   '...' and "...", the text for long ones). At code level the engine reads a quote as a
#   string, too, and then rejects the query, so nothing of it runs;
# * a name (``[^\W\d][\w-]*``) is taken as one run, with or without ``:local``; a run without
#   a colon is split afterwards into the words and ``-`` it consists of (``_RUN_PART``), as a
#   scan token by token would have found them.
# Inside an IRI, a string or a local name, a run of plain characters is taken as one (``++``)
# before the next escape is tried: the same tokens as one character at a time, in three
# quarters of the time (tests/test_sparql_lexer.py compares the two).
_TOKEN = re.compile(
    r"""
    (\s*+)(?:
    (?P<comment>\#[^\r\n]*)
  | (?P<iri><(?:[^<>"{}|^`\\\x00-\x20]++|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*+>)
  | (?P<string>
        \"\"\"(?:(?:"|"")?(?:[^"\\]|\\.))*+(?:\"\"\"|"{0,2}\\?\Z)
      | '''(?:(?:'|'')?(?:[^'\\]|\\.))*+(?:'''|'{0,2}\\?\Z)
      | "(?:[^"\\\r\n]++|\\.)*+(?:"|(?=[\r\n])|\\?\Z)
      | '(?:[^'\\\r\n]++|\\.)*+(?:'|(?=[\r\n])|\\?\Z)
    )
  | (?P<var>[?$]\w+)
  | (?P<name>[^\W\d][\w\-]*+)(?::(?P<local>(?:[\w:\-]++|%[0-9A-Fa-f]{2}|\\[^\s])*+))?
  | :(?P<nslocal>(?:[\w:\-]++|%[0-9A-Fa-f]{2}|\\[^\s])*+)
  | (?P<other>[0-9]++|.)
  | \Z)
    """,
    re.VERBOSE | re.DOTALL,
)
# The words and other characters a name run without a colon consists of.
_RUN_PART = re.compile(r"(?P<word>[^\W\d]\w*)|(?P<other>[0-9]++|.)", re.DOTALL)


class Token(NamedTuple):
    """One token. A named tuple, not a dataclass: a query of a few hundred characters has about
    seventy, and making them was a third of the scan's time."""

    # iri, string, var, pname, word, comment; other: a run of the digits 0-9 (``10000``, one
    # token, as the engine reads it: a number's digits made most of the tokens of a query
    # with a LIMIT), or any other one character
    kind: str
    text: str
    position: int
    prefix: str | None = None  # for pname: the part before the colon
    local: str | None = None  # for pname: the part after it

    @property
    def end(self) -> int:
        return self.position + len(self.text)


# How many readings of one text the scan follows (see the module docstring). Each ambiguous
# ``<...#...>`` doubles them; real queries have none or one or two.
MAX_READINGS = 16
# An IRI that starts ``scheme://`` has only one reading: as code, ``scheme:`` would be followed
# by ``//``, which is no expression.
HIERARCHICAL = re.compile(r"<[A-Za-z][A-Za-z0-9+.\-]*://")


_new = tuple.__new__


class _Readings(list):
    """The readings of a text, the ordinary one (every ``<...>`` an IRI) first; ``complete`` is
    false when there were more than :data:`MAX_READINGS`. ``prologue``: the tokens of the
    text's prologue (``_PROLOGUE``), with which every reading starts; one tuple for every text
    with that prologue while it is kept (see :class:`PrologueMemo`)."""

    complete: bool = True
    prologue: tuple[Token, ...] = ()


T = TypeVar("T")


class PrologueMemo(Generic[T]):
    """What a check derives from a prologue alone (its declarations), kept per prologue.

    WHY: clients send the same prologue again and again, and reading its declarations was a
    third of the analysis and of the bound of a small query (the IRIs resolved, the prefixes
    mapped). A prologue is told by identity, as :func:`readings` hands out one tuple per
    prologue text while it keeps it; each entry holds its tuple, so that identity cannot be
    reused while the entry lives. At most ``size`` entries (then all are forgotten at once),
    thread-safe by the GIL (one dictionary read, one write)."""

    def __init__(self, size: int = 64):
        self.size = size
        self._kept: dict[tuple[int, object], tuple[tuple[Token, ...], T]] = {}

    def get(self, prologue: tuple[Token, ...], extra: object, make: Callable[[], T]) -> T:
        """``make()`` for this prologue and ``extra`` (what else the result depends on)."""
        key = (id(prologue), extra)
        kept = self._kept.get(key)
        if kept is not None and kept[0] is prologue:
            return kept[1]
        value = make()
        if len(self._kept) >= self.size:
            self._kept.clear()
        self._kept[key] = (prologue, value)
        return value


def _scan(text: str, position: int = 0) -> Iterator[Token]:
    """The tokens of ``text`` from ``position`` on, whitespace dropped; linear in the text.

    Tokens are made with ``tuple.__new__``, not through the named tuple's own ``__new__`` (a
    Python function): a fifth of the scan's time."""
    for match in _TOKEN.finditer(text, position):
        kind = match.lastgroup
        if kind is None:
            continue  # whitespace at the end of the text
        start = match.end(1)
        found = text[start : match.end()]
        if kind == "local":  # a name with a colon: the last group is its local part
            yield _new(Token, ("pname", found, start, match.group("name"), match.group("local")))
        elif kind == "name":
            if "-" not in found:
                yield _new(Token, ("word", found, start, None, None))
            else:
                for part in _RUN_PART.finditer(found):
                    at = start + part.start()
                    yield _new(Token, (part.lastgroup or "other", part.group(0), at, None, None))
        elif kind == "nslocal":
            yield _new(Token, ("pname", found, start, "", match.group("nslocal")))
        else:
            yield _new(Token, (kind, found, start, None, None))


def _after_an_operand(previous: list[Token]) -> bool:
    """Could the text so far end an operand, so that a ``<`` here may be less-than?

    A variable, an IRI, a prefixed name, a string, a closing parenthesis, a number, a boolean or
    a language tag can; an opening bracket, a separator, an operator or a keyword (``?s a <x>``)
    cannot.
    """
    significant = [t for t in previous[-4:] if t.kind != "comment"]
    if not significant:
        return False
    last = significant[-1]
    before = significant[-2] if len(significant) > 1 else None
    if before is not None and before.kind == "word" and before.text.upper() == "PREFIX":
        return False  # PREFIX p: <iri>
    if last.kind in ("var", "iri", "pname", "string"):
        return True
    if last.kind == "other":
        return last.text == ")" or last.text.isdigit()
    if last.kind != "word":
        return False
    return (
        last.text.lower() in ("true", "false")
        or (before is not None and before.text == "@")  # "x"@en
        or (before is not None and before.text.isdigit() and before.end == last.position)  # 1e5
    )


def _two_readings(token: Token, previous: list[Token]) -> bool:
    """Could the engine read this ``<`` as an operator, and would that change what follows?

    Only after an operand, and only a ``#`` (a comment to the end of the line) or a ``'`` (a
    string) inside it lets the operator reading hide or reveal text beyond the ``>``. The IRI
    of ``PREFIX p:`` and ``BASE`` follows no operand.
    """
    return (
        ("#" in token.text or "'" in token.text)
        and not HIERARCHICAL.match(token.text)
        and _after_an_operand(previous)
    )


def readings(query: str) -> _Readings:
    """Every reading of a SPARQL text as tokens (comments kept, whitespace dropped).

    The readings of the last few texts are kept: the checks of one request (``vetting.py``,
    ``bounds.py``) each ask for them, and one scan serves all. Callers must not change them."""
    return _readings(query)


# The prologue of a query: PREFIX and BASE declarations with the whitespace and comments
# between them, each a whole token (an IRI with escapes ends it), up to the last declaration
# (a comment after it often differs from query to query). Clients send the same one again and
# again (an editor's, a library's), and it is a third of the tokens of a small query, so its
# tokens are kept. Every part is possessive and starts with its own character, so the match is
# linear in the text.
_PROLOGUE = re.compile(
    r"""(?:
        (?:\s++|\#[^\r\n]*+)*+
        (?:
            (?i:PREFIX) \s++ (?:[^\W\d][\w\-]*+)?: \s*+ <[^<>"{}|^`\\\x00-\x20]*+>
          | (?i:BASE) \s*+ <[^<>"{}|^`\\\x00-\x20]*+>
        )
    )*+""",
    re.VERBOSE,
)
# Prologues up to this length are kept (64 of them): a few kilobytes each at most, whatever
# clients send.
PROLOGUE_KEPT = 4096


@lru_cache(maxsize=64)
def _prologue(text: str) -> tuple[Token, ...]:
    """The tokens of a prologue (``_PROLOGUE``). No ``<`` in it has a second reading: the IRI
    of ``PREFIX p:`` and of ``BASE`` follows no operand (``_after_an_operand``)."""
    return tuple(_scan(text))


@lru_cache(maxsize=32)
def _readings(query: str) -> _Readings:
    found = _Readings()
    prologue = _PROLOGUE.match(query)  # it matches every text (perhaps nothing of it)
    end = prologue.end() if prologue else 0
    if end > PROLOGUE_KEPT:
        end = 0  # scanned with the rest, not kept
    # The scan of the rest goes on from a token's end, as it would have over the whole text.
    found.prologue = _prologue(query[:end])
    pending: list[tuple[list[Token], int]] = [(list(found.prologue), end)]
    while pending:
        toks, position = pending.pop()
        for tok in _scan(query, position):
            if tok.kind == "iri" and _two_readings(tok, toks):
                if len(found) + len(pending) + 1 < MAX_READINGS:
                    pending.append(([*toks, Token("other", "<", tok.position)], tok.position + 1))
                else:
                    found.complete = False
            toks.append(tok)
        found.append(toks)
    return found


def significant(reading: Iterable[Token]) -> list[Token]:
    return [t for t in reading if t.kind != "comment"]


def tokens(query: str) -> Iterator[Token]:
    """The significant tokens of the ordinary reading: whitespace and comments are dropped."""
    for tok in _scan(query):
        if tok.kind != "comment":
            yield tok
