"""Which client queries may run in the server process: those whose cost is bounded before they run.

WHY: pyoxigraph cannot stop a running query, has no memory limit, and a Rust panic in it (an
``ORDER BY`` over literals it does not order totally) aborts the whole process. So a client's
query normally runs in a query process that is killed at the time limit (``sparql/pool/``).
That round trip costs more than a small query itself (a lookup: ~260 us of the query
processes' CPU against ~25 us of evaluation). A query may skip it only if it can neither run
long, nor allocate much, nor panic, whatever the client wrote; this module decides that from
the text and the release's figures (``statistics.py``), in microseconds, and says no to
everything it does not fully understand.

What it accepts is a small part of SPARQL, read by a parser of that part only:

* SELECT (variables or ``*``, DISTINCT, REDUCED), ASK, CONSTRUCT (template or short form) and
  DESCRIBE (IRIs or variables); FROM / FROM NAMED;
* group patterns of triple patterns (IRIs, prefixed names, ``a``, variables, blank-node labels,
  string and boolean literals as objects), nested groups, UNION, OPTIONAL, MINUS, GRAPH;
* FILTER over variables, constants and the built-in functions of :data:`FILTER_WORDS`, which
  never make a value much longer than their arguments (no CONCAT, REPLACE, ENCODE_FOR_URI:
  nested, they grow a string exponentially) and never evaluate a pattern (no EXISTS);
* ORDER BY plain variables that only ever hold IRIs, blank nodes or strings (those pyoxigraph
  orders totally; mixing numbers, dates and strings makes it panic), LIMIT, OFFSET.

Everything else (property paths, BIND, VALUES, subqueries, aggregates, SERVICE, extension
functions, numbers in patterns, a text with a second reading, see ``lexer.py``) is left to the
query processes.

**The bound.** Every group's patterns must be connected by variables (no cross product), and
every OPTIONAL must share a variable with what it extends. Whatever the engine does (nested
loops in any order, or hash joins that build one side on its own), each result it holds is
the solutions of a connected part of the patterns, and those are at most
``card(start) * fan(next) * ...`` for any start in the part: ``card`` is a pattern's matches
on its own (by its constants: the predicate's statements, the most objects of one subject,
...) and ``fan`` the most matches once one of its shared variables is bound (all its matches
when it shares none). :func:`bound` takes the largest part, each with its best start (every
part up to six patterns; beyond, the worst start times every other fan), times the number of
UNION branches plus one; DESCRIBE adds what it follows, and FILTERs weigh by their length
(each solution is tested against them). Evaluation touches each of those solutions a bounded
number of times, and memory holds at most all of them, so a query under ``[server]
in_process_rows`` runs in bounded time and memory.
"""

from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from urllib.parse import urljoin

from kommunen_kg.sparql.lexer import PrologueMemo, Token, readings, significant
from kommunen_kg.sparql.statistics import Statistics

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
STRING_KINDS = frozenset(
    {
        "http://www.w3.org/2001/XMLSchema#string",
        "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString",
    }
)
# Kinds of value pyoxigraph's ORDER BY orders totally among themselves: IRIs and blank nodes
# by their kind, then IRIs by text, and strings (with or without language) by their text.
ORDERABLE_KINDS = STRING_KINDS | {"iri", "blank"}

# The words a FILTER may hold: functions whose result is at most a few times as long as their
# arguments, keywords of expressions, and the two booleans.
FILTER_WORDS = frozenset(
    {
        "STR",
        "LANG",
        "LANGMATCHES",
        "DATATYPE",
        "BOUND",
        "IRI",
        "URI",
        "ISIRI",
        "ISURI",
        "ISBLANK",
        "ISLITERAL",
        "ISNUMERIC",
        "SAMETERM",
        "REGEX",
        "CONTAINS",
        "STRSTARTS",
        "STRENDS",
        "STRLEN",
        "LCASE",
        "UCASE",
        "SUBSTR",
        "STRBEFORE",
        "STRAFTER",
        "ABS",
        "CEIL",
        "FLOOR",
        "ROUND",
        "YEAR",
        "MONTH",
        "DAY",
        "HOURS",
        "MINUTES",
        "SECONDS",
        "TIMEZONE",
        "TZ",
        "IF",
        "COALESCE",
        "IN",
        "NOT",
        "TRUE",
        "FALSE",
    }
)
FILTER_CHARACTERS = frozenset("()!=<>&|+-*/,.@^")
_NUMBER = re.compile(r"[0-9]+")  # the lexer's run of digits, an "other" token
_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")  # an IRI with a scheme: no base needed
MAX_PATTERNS = 32  # more patterns than this are left to the query processes
# A FILTER of this many tokens counts as one more row per solution.
FILTER_TERMS_PER_ROW = 16
EXACT_UP_TO = 6  # up to this many patterns, every connected part is weighed (2^n - 1 parts)


_END = Token("end", "", -1)
_ESCAPED = re.compile(r"\\[uU]")


class Unbounded(Exception):
    """The query is not one this module can bound (the message says why, for tests)."""


# A term of a pattern: ("var", name), ("iri", value) or ("literal", "").
Term = tuple[str, str]


@dataclass
class _Group:
    patterns: list[tuple[Term, Term, Term]] = field(default_factory=list)
    joined: list[list[_Group]] = field(default_factory=list)  # nested groups and UNIONs
    optionals: list[_Group] = field(default_factory=list)
    minus: list[_Group] = field(default_factory=list)
    graphs: list[_Group] = field(default_factory=list)

    def children(self) -> list[_Group]:
        return [
            *(g for block in self.joined for g in block),
            *self.optionals,
            *self.minus,
            *self.graphs,
        ]

    def all_patterns(self) -> list[tuple[Term, Term, Term]]:
        found = list(self.patterns)
        for child in self.children():
            found += child.all_patterns()
        return found

    def variables(self) -> set[str]:
        return {term[1] for pattern in self.all_patterns() for term in pattern if term[0] == "var"}


@dataclass
class _Query:
    form: str
    where: _Group
    order_by: list[str] = field(default_factory=list)
    described: int = 0  # DESCRIBE: how many terms it names
    filter_terms: int = 0


class _Parser:
    """A reader of the part of SPARQL described in the module docstring; anything else is
    :class:`Unbounded`."""

    def __init__(self, tokens: list[Token], base_iri: str | None):
        # An end token, so that looking ahead never meets the end of the list.
        self.tokens = [*tokens, _END]
        self.at = 0
        self.base = base_iri
        self.prefixes: dict[str, str] = {}
        self.filter_terms = 0  # tokens of every FILTER: the work of evaluating them per row

    # -- tokens --

    def peek(self, ahead: int = 0) -> Token:
        index = self.at + ahead
        return self.tokens[index] if index < len(self.tokens) else _END

    def take(self) -> Token:
        token = self.tokens[self.at]
        if token is _END:
            raise Unbounded("the query ends early")
        self.at += 1
        return token

    def keyword(self, *words: str) -> bool:
        token = self.tokens[self.at]
        return token.kind == "word" and token.text.upper() in words

    def symbol(self, text: str) -> bool:
        token = self.tokens[self.at]
        return token.kind == "other" and token.text == text

    def expect(self, text: str) -> None:
        if not self.symbol(text):
            raise Unbounded(f"expected {text!r}")
        self.at += 1

    # -- IRIs --

    def iri_of(self, token: Token) -> str:
        if token.kind == "iri":
            text = token.text[1:-1]
            if "\\" in text:
                raise Unbounded("an escape in an IRI")
            if self.base and not _ABSOLUTE.match(text):
                return urljoin(self.base, text)
            return text
        if token.kind == "pname":
            if token.prefix not in self.prefixes or "\\" in (token.local or ""):
                raise Unbounded("an undeclared prefix or an escaped name")
            return self.prefixes[token.prefix or ""] + (token.local or "")
        raise Unbounded(f"not an IRI: {token.text!r}")

    # -- the query --

    def declarations(self) -> None:
        while self.keyword("PREFIX", "BASE"):
            if self.take().text.upper() == "BASE":
                self.base = self.iri_of(self.take())
                continue
            name = self.take()
            if name.kind != "pname" or name.local:
                raise Unbounded("a malformed PREFIX")
            self.prefixes[name.prefix or ""] = self.iri_of(self.take())

    def query(self) -> _Query:
        self.declarations()
        if not self.keyword("SELECT", "ASK", "CONSTRUCT", "DESCRIBE"):
            raise Unbounded("not a query form this module reads")
        form = self.take().text.upper()
        described = 0
        if form == "SELECT":
            if self.keyword("DISTINCT", "REDUCED"):
                self.take()
            if self.symbol("*"):
                self.take()
            else:
                if self.peek().kind != "var":
                    raise Unbounded("a projection with expressions")
                while self.peek().kind == "var":
                    self.take()
        elif form == "CONSTRUCT" and self.symbol("{"):
            self.group(template=True)
        elif form == "DESCRIBE":
            if self.symbol("*"):
                self.take()
                described = 1
            while self.peek().kind in ("var", "iri", "pname"):
                token = self.take()
                if token.kind != "var":
                    self.iri_of(token)
                described += 1
            if not described:
                raise Unbounded("DESCRIBE of nothing this module reads")
        while self.keyword("FROM"):
            self.take()
            if self.keyword("NAMED"):
                self.take()
            self.iri_of(self.take())
        if self.keyword("WHERE"):
            self.take()
            where = self.group()
        elif self.symbol("{"):
            where = self.group()
        elif form == "DESCRIBE":
            where = _Group()
        else:
            raise Unbounded("no WHERE clause")
        query = _Query(form, where, described=described)
        self.modifiers(query)
        query.filter_terms = self.filter_terms
        if self.peek() is not _END:
            raise Unbounded(f"{self.peek().text!r} after the query")
        return query

    def modifiers(self, query: _Query) -> None:
        if self.keyword("ORDER"):
            self.take()
            if not self.keyword("BY"):
                raise Unbounded("ORDER without BY")
            self.take()
            while True:
                if self.peek().kind == "var":
                    query.order_by.append(self.take().text[1:])
                elif self.keyword("ASC", "DESC"):
                    self.take()
                    self.expect("(")
                    token = self.take()
                    if token.kind != "var":
                        raise Unbounded("ORDER BY an expression")
                    query.order_by.append(token.text[1:])
                    self.expect(")")
                else:
                    break
            if not query.order_by:
                raise Unbounded("ORDER BY an expression")
        while self.keyword("LIMIT", "OFFSET"):
            self.take()
            digits = 0
            while self.peek().kind == "other" and self.peek().text.isdigit():
                self.at += 1
                digits += 1
            if not digits:
                raise Unbounded("LIMIT or OFFSET without a number")

    # -- group patterns --

    def group(self, template: bool = False) -> _Group:
        self.expect("{")
        group = _Group()
        while not self.symbol("}"):
            token = self.peek()
            if token is _END:
                raise Unbounded("an unclosed group")
            if template:
                if self.symbol("."):
                    self.take()
                else:
                    self.triples(group)
            elif self.symbol("{"):
                block = [self.group()]
                while self.keyword("UNION"):
                    self.take()
                    block.append(self.group())
                group.joined.append(block)
            elif self.keyword("OPTIONAL"):
                self.take()
                group.optionals.append(self.group())
            elif self.keyword("MINUS"):
                self.take()
                group.minus.append(self.group())
            elif self.keyword("GRAPH"):
                self.take()
                name = self.take()
                if name.kind != "var":
                    self.iri_of(name)
                group.graphs.append(self.group())
            elif self.keyword("FILTER"):
                self.take()
                self.constraint()
            elif self.symbol("."):
                self.take()
            elif token.kind in ("var", "iri", "pname"):
                self.triples(group)
            else:
                raise Unbounded(f"{token.text!r} in a group")
        self.take()
        return group

    def term(self, token: Token, position: str) -> Term:
        if token.kind == "var":
            return ("var", token.text[1:])
        if token.kind == "pname" and token.prefix == "_":
            return ("var", "_:" + (token.local or ""))  # a blank-node label: a variable here
        if token.kind in ("iri", "pname"):
            return ("iri", self.iri_of(token))
        if position == "verb" and token.kind == "word" and token.text == "a":
            return ("iri", RDF_TYPE)
        if position == "object" and token.kind == "string":
            if self.symbol("@"):
                self.take()
                self.language_tag()
            elif self.symbol("^") and self.peek(1).text == "^":
                self.take()
                self.take()
                self.iri_of(self.take())
            return ("literal", "")
        if position == "object" and token.kind == "word" and token.text in ("true", "false"):
            return ("literal", "")
        raise Unbounded(f"{token.text!r} as the {position} of a pattern")

    def language_tag(self) -> None:
        if self.take().kind != "word":
            raise Unbounded("a malformed language tag")
        while self.symbol("-"):
            self.take()
            if self.take().kind not in ("word", "other"):
                raise Unbounded("a malformed language tag")

    def triples(self, group: _Group) -> None:
        subject = self.term(self.take(), "subject")
        while True:
            verb = self.term(self.take(), "verb")
            while True:
                obj = self.term(self.take(), "object")
                group.patterns.append((subject, verb, obj))
                if not self.symbol(","):
                    break
                self.take()
            if not self.symbol(";"):
                break
            while self.symbol(";"):
                self.take()
            if self.symbol(".") or self.symbol("}"):
                break
        if self.symbol("."):
            self.take()

    def constraint(self) -> None:
        """A FILTER's expression: balanced, of allowed words, no pattern and no call of an
        IRI (an extension function)."""
        if self.peek().kind == "word":
            self.filter_word(self.take())  # a built-in call (FILTER regex(...)), or EXISTS
        self.expect("(")
        depth = 1
        previous: Token | None = None
        while depth:
            token = self.take()
            self.filter_terms += 1
            kind = token.kind
            if kind == "other":
                if token.text == "(":
                    depth += 1
                elif token.text == ")":
                    depth -= 1
                elif token.text not in FILTER_CHARACTERS and not _NUMBER.fullmatch(token.text):
                    raise Unbounded(f"{token.text!r} in a FILTER")
            elif kind in ("iri", "pname"):
                if self.symbol("("):
                    raise Unbounded("a call of an extension function")
            elif kind == "word":
                glued = previous is not None and previous.end == token.position
                # a language tag ("x"@de-AT) or an exponent (1e5) is no word of the FILTER
                if not (glued and (previous.text in ("@", "-") or previous.text.isdigit())):  # type: ignore[union-attr]
                    self.filter_word(token)
            elif kind not in ("var", "string"):
                raise Unbounded(f"{token.text!r} in a FILTER")
            previous = token

    @staticmethod
    def filter_word(token: Token) -> None:
        if token.text.upper() not in FILTER_WORDS:
            raise Unbounded(f"{token.text!r} in a FILTER")


def parse(query: str, base_iri: str | None = None) -> _Query:
    """The part of the query a bound needs; :class:`Unbounded` for anything else."""
    if _ESCAPED.search(query):
        # \u escapes stand for their character anywhere in the text (SPARQL 1.1, 19.2); the
        # engine reads them only inside strings and IRIs, but this module reads none at all.
        raise Unbounded("an escaped character")
    found = readings(query)
    if len(found) != 1 or not found.complete:
        raise Unbounded("a text with more than one reading")
    parser = _Parser(significant(found[0]), base_iri)
    if found.prologue:  # its declarations are read once (lexer.PrologueMemo)
        kept = _DECLARED.get(found.prologue, base_iri, lambda: _declared(found.prologue, base_iri))
        if kept is not None:
            prefixes, parser.base, parser.at = kept
            parser.prefixes = dict(prefixes)
    return parser.query()


_Declared = tuple[dict[str, str], "str | None", int]
_DECLARED: PrologueMemo[_Declared | None] = PrologueMemo()


def _declared(prologue: tuple[Token, ...], base_iri: str | None) -> _Declared | None:
    """What the parser has read after the declarations of a kept prologue (its prefixes,
    base IRI and position); None when they are not exactly the prologue, or not readable
    (the text is then read from its start, and refused there)."""
    toks = significant(prologue)
    parser = _Parser(toks, base_iri)
    try:
        parser.declarations()
    except Unbounded:
        return None
    return (parser.prefixes, parser.base, parser.at) if parser.at == len(toks) else None


def _connected(elements: list[set[str]]) -> bool:
    """Whether sets of variables are connected by shared variables (empty sets aside)."""
    pending = [e for e in elements if e]
    if len(pending) <= 1:
        return True
    reached = set(pending.pop())
    grew = True
    while pending and grew:
        grew = False
        for element in list(pending):
            if element & reached:
                reached |= element
                pending.remove(element)
                grew = True
    return not pending


def _check_connected(group: _Group) -> None:
    required = [
        *({t[1] for t in p if t[0] == "var"} for p in group.patterns),
        *(set().union(*(g.variables() for g in block)) for block in group.joined),
        *(g.variables() for g in group.graphs),
    ]
    if not _connected(required):
        raise Unbounded("a cross product")
    bound_here = set().union(*required) if required else set()
    for optional in group.optionals:
        if bound_here and not optional.variables() & bound_here:
            raise Unbounded("an OPTIONAL that shares no variable")
    for child in group.children():
        _check_connected(child)


def _union_branches(group: _Group) -> int:
    return sum(len(b) for b in group.joined if len(b) > 1) + sum(
        _union_branches(child) for child in group.children()
    )


def _figures(pattern: tuple[Term, Term, Term], stats: Statistics) -> tuple[int, int, int]:
    """Statements, most objects of one subject, most subjects of one object: of the pattern's
    predicate, or of all predicates when it is a variable (none for an unknown predicate)."""
    p = pattern[1]
    if p[0] != "iri":
        return stats.total, stats.max_out, stats.max_in
    figures = stats.predicates.get(p[1])
    return (figures.count, figures.max_out, figures.max_in) if figures else (0, 0, 0)


def _card(pattern: tuple[Term, Term, Term], stats: Statistics) -> float:
    """The most solutions a pattern has on its own."""
    s, _p, o = pattern
    count, most_out, most_in = _figures(pattern, stats)
    if s[0] != "var" and o[0] != "var":
        return float(min(most_out, most_in))
    if s[0] != "var":
        return float(most_out)
    if o[0] != "var":
        return float(most_in)
    return float(count)


def _fan(pattern: tuple[Term, Term, Term], shared: set[str], stats: Statistics) -> float:
    """The most solutions a pattern adds per solution once one of its shared variables is
    bound (the worst of them, since the order is not known); all its matches when it shares
    none."""
    s, p, o = pattern
    if not any(t[0] == "var" and t[1] in shared for t in pattern):
        # joined with nothing: a cross product with the rest (only constants, or variables of
        # its own), so all its matches multiply
        return _card(pattern, stats)
    _count, most_out, most_in = _figures(pattern, stats)
    worst = 0.0
    if s[0] == "var" and s[1] in shared:
        worst = max(worst, most_out)
    if o[0] == "var" and o[1] in shared:
        worst = max(worst, most_in)
    if p[0] == "var" and p[1] in shared:
        worst = max(worst, float(stats.largest_predicate))
    return min(worst, _card(pattern, stats))


def _largest_part(cards: list[float], fans: list[float], names: list[set[str]]) -> float:
    """The most solutions any connected part of the patterns can have.

    Whatever the engine does (nested loops in any order, or hash joins that build one side on
    its own), each result it holds is the solutions of a connected set of patterns S, and
    those do not depend on the order: starting from any pattern i of S and adding the others
    along shared variables finds each of them, so there are at most
    ``card(i) * fan(j) * ...`` (j in S but i). The bound is the largest such part, each taken
    with its best start. Exact over every subset, so only for a few patterns."""
    count = len(cards)
    # As bits: which patterns share a variable with which, and which share any at all (one
    # that shares none joins any part, as in _connected). The sets were a third of a bound.
    linked = [0] * count
    for i in range(count):
        for j in range(i + 1, count):
            if names[i] & names[j]:
                linked[i] |= 1 << j
                linked[j] |= 1 << i
    sharing = sum(1 << i for i in range(count) if names[i])
    # The product of each subset's fans, from the subset without its highest pattern: the
    # same multiplications, in the same order, as a product over the subset in index order.
    products = [1.0] * (1 << count)
    worst = 0.0
    for mask in range(1, 1 << count):
        highest = mask.bit_length() - 1
        product = products[mask] = products[mask ^ (1 << highest)] * fans[highest]
        if mask & (mask - 1) and not _linked(mask & sharing, linked):
            continue
        best = math.inf  # the part's best start
        for i in range(highest + 1):
            if mask >> i & 1:
                solutions = cards[i] * product / fans[i]
                if solutions < best:
                    best = solutions
        if best > worst:
            worst = best
    return worst


def _linked(mask: int, linked: list[int]) -> bool:
    """Whether the patterns of ``mask`` (a bit each) are connected along ``linked``."""
    if mask & (mask - 1) == 0:  # one pattern, or none
        return True
    reached = frontier = mask & -mask
    while frontier:
        low = frontier & -frontier
        frontier ^= low
        grown = linked[low.bit_length() - 1] & mask & ~reached
        reached |= grown
        frontier |= grown
    return reached == mask


def _orderable(variable: str, patterns: list[tuple[Term, Term, Term]], stats: Statistics) -> bool:
    """Whether a variable only ever holds values pyoxigraph's ORDER BY orders totally."""
    for _s, p, o in patterns:
        if o == ("var", variable):
            if p[0] == "iri":
                figures = stats.predicates.get(p[1])
                kinds = figures.kinds if figures is not None else frozenset()
            else:
                kinds = stats.kinds
            if not kinds <= ORDERABLE_KINDS:
                return False
    return True


def bound(query: str, base_iri: str | None, stats: Statistics) -> float:
    """The most solutions any evaluation of the query can hold (see the module docstring);
    :class:`Unbounded` when the query is not one this module can bound."""
    parsed = parse(query, base_iri)
    where = parsed.where
    _check_connected(where)
    patterns = where.all_patterns()
    if len(patterns) > MAX_PATTERNS:
        raise Unbounded("too many patterns")
    for variable in parsed.order_by:
        if not _orderable(variable, patterns, stats):
            raise Unbounded(f"ORDER BY ?{variable}, which may hold values of mixed kinds")
    uses: dict[str, int] = {}
    for pattern in patterns:
        for name in {t[1] for t in pattern if t[0] == "var"}:
            uses[name] = uses.get(name, 0) + 1
    shared = {name for name, count in uses.items() if count > 1}
    solutions = 1.0
    if patterns:
        cards = [max(_card(p, stats), 1.0) for p in patterns]
        fans = [max(_fan(p, shared, stats), 1.0) for p in patterns]
        if len(patterns) <= EXACT_UP_TO:
            names = [{t[1] for t in p if t[0] == "var"} & shared for p in patterns]
            solutions = _largest_part(cards, fans, names)
        else:  # every order at once: the worst start, then every other pattern's fan
            product = math.prod(fans)
            solutions = max(card * product / fan for card, fan in zip(cards, fans, strict=True))
        solutions *= 1 + _union_branches(where)
    if parsed.form == "DESCRIBE":
        solutions += solutions * parsed.described * stats.max_out + stats.blank_subjects
    # Each solution is tested against every FILTER; a long one (a list of a thousand values
    # after IN) costs that much per row, so the bound counts it as that many more rows.
    return solutions * (1 + parsed.filter_terms / FILTER_TERMS_PER_ROW)


class Bounds:
    """The bound of recent queries over one release's figures, kept for a moment: the
    endpoint asks whether a query runs here, then runs it (both ask)."""

    def __init__(self, stats: Statistics, most: float, keep: int = 64):
        self.stats = stats
        self.most = most
        self._recent: OrderedDict[tuple[str, str | None], float | None] = OrderedDict()
        self._keep = keep
        self._lock = threading.Lock()

    def rows(self, query: str, base_iri: str | None) -> float | None:
        """The query's bound (:func:`bound`), or None when it has none."""
        key = (query, base_iri)
        with self._lock:
            if key in self._recent:
                return self._recent[key]
        try:
            found: float | None = bound(query, base_iri, self.stats)
        except (Unbounded, RecursionError):  # nesting is vetted first; this is the last net
            found = None
        with self._lock:
            self._recent[key] = found
            while len(self._recent) > self._keep:
                self._recent.popitem(last=False)
        return found

    def within(self, query: str, base_iri: str | None, most: float | None = None) -> bool:
        """Whether the query is bounded by at most ``most`` solutions (default: the limit)."""
        rows = self.rows(query, base_iri)
        return rows is not None and rows <= (self.most if most is None else most)
