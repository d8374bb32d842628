"""Literals exactly as the sources write them, inside a store that would rewrite them.

An Oxigraph store keeps the *value* of a typed literal, not its lexical form: ``"01"^^xsd:integer``
comes back as ``"1"``, ``"5"^^xsd:byte`` as ``"5"^^xsd:integer``, ``"…T10:00:00+00:00"`` as
``"…T10:00:00Z"``. For a query engine that is fine; for a build that promises dumps with the
sources' exact literals, and for SHACL, whose ``sh:datatype``, ``sh:pattern`` and ``sh:in`` look at
lexical forms and datatype IRIs, it is not. So before a literal goes into the store it is checked:

* a literal the store keeps unchanged (every plain, language-tagged and canonical typed literal,
  which is nearly all of them) goes in as it is;
* a well-formed literal the store would rewrite goes in with a private datatype,
  ``<urn:kommunen-kg:lexical:DATATYPE>``, which the store keeps verbatim;
* an ill-formed literal of a datatype XSD defines goes in as ``<urn:kommunen-kg:ill-formed:…>``,
  so that SHACL's ``sh:datatype`` can tell it from a well-formed one without parsing it again.

:class:`LiteralCodec` does this and undoes it (``decode``, ``unwrap_bytes``). Well-formedness
follows the lexical spaces of XML Schema 1.1 Part 2 (no surrounding white space, as RDF 1.1 reads
them); ``xsd:string`` and ``rdf:langString`` are always well-formed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pyoxigraph as ox

XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
XSD_STRING = XSD + "string"
LEXICAL = "urn:kommunen-kg:lexical:"
ILL_FORMED = "urn:kommunen-kg:ill-formed:"

_TZ = r"(Z|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00))?"
_YEAR = r"-?([1-9][0-9]{3,}|0[0-9]{3})"
_MONTH = r"(0[1-9]|1[0-2])"
_DAY = r"(0[1-9]|[12][0-9]|3[01])"
_TIME = r"(([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?|24:00:00(\.0+)?)"
_DEC = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)"
_FLOAT = r"([+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([Ee][+-]?[0-9]+)?|[+-]?INF|NaN)"
_DURATION = (
    r"-?P(?=[0-9]|T[0-9])([0-9]+Y)?([0-9]+M)?([0-9]+D)?"
    r"(T(?=[0-9])([0-9]+H)?([0-9]+M)?([0-9]+(\.[0-9]+)?S)?)?"
)
_NAME_START = (
    r"A-Z_a-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D"
    r"\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD"
)
_NAME_CHAR = _NAME_START + r"\-.0-9\u00B7\u0300-\u036F\u203F-\u2040"

_PATTERNS = {
    "boolean": r"true|false|1|0",
    "decimal": _DEC,
    "integer": r"[+-]?[0-9]+",
    "float": _FLOAT,
    "double": _FLOAT,
    "date": _YEAR + "-" + _MONTH + "-" + _DAY + _TZ,
    "dateTime": _YEAR + "-" + _MONTH + "-" + _DAY + "T" + _TIME + _TZ,
    "dateTimeStamp": _YEAR + "-" + _MONTH + "-" + _DAY + "T" + _TIME + _TZ[:-1],
    "time": _TIME + _TZ,
    "gYear": _YEAR + _TZ,
    "gYearMonth": _YEAR + "-" + _MONTH + _TZ,
    "gMonth": "--" + _MONTH + _TZ,
    "gMonthDay": "--" + _MONTH + "-" + _DAY + _TZ,
    "gDay": "---" + _DAY + _TZ,
    "duration": _DURATION,
    "yearMonthDuration": r"-?P(?=[0-9])([0-9]+Y)?([0-9]+M)?",
    "dayTimeDuration": r"-?P(?=[0-9]|T[0-9])([0-9]+D)?"
    r"(T(?=[0-9])([0-9]+H)?([0-9]+M)?([0-9]+(\.[0-9]+)?S)?)?",
    "hexBinary": r"([0-9a-fA-F]{2})*",
    "base64Binary": r"(([A-Za-z0-9+/] ?){4})*(([A-Za-z0-9+/] ?){3}[A-Za-z0-9+/]|"
    r"([A-Za-z0-9+/] ?){2}[AEIMQUYcgkosw048] ?=|[A-Za-z0-9+/] ?[AQgw] ?= ?=)?",
    "anyURI": r"[^\s]*|",
    "language": r"[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*",
    "normalizedString": r"[^\r\n\t]*",
    "token": r"([^\s]+( [^\s]+)*)?",
    "NMTOKEN": f"[{_NAME_CHAR}]+",
    "Name": f"[{_NAME_START}:][{_NAME_CHAR}:]*",
    "NCName": f"[{_NAME_START}][{_NAME_CHAR}]*",
}
_COMPILED = {XSD + name: re.compile(pattern, re.S) for name, pattern in _PATTERNS.items()}
_INTEGER_RANGES: dict[str, tuple[int | None, int | None]] = {
    "nonPositiveInteger": (None, 0),
    "negativeInteger": (None, -1),
    "long": (-(2**63), 2**63 - 1),
    "int": (-(2**31), 2**31 - 1),
    "short": (-(2**15), 2**15 - 1),
    "byte": (-128, 127),
    "nonNegativeInteger": (0, None),
    "unsignedLong": (0, 2**64 - 1),
    "unsignedInt": (0, 2**32 - 1),
    "unsignedShort": (0, 2**16 - 1),
    "unsignedByte": (0, 255),
    "positiveInteger": (1, None),
}
for _name in _INTEGER_RANGES:
    _COMPILED[XSD + _name] = _COMPILED[XSD + "integer"]
_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_DATE_PART = re.compile(r"(-?[0-9]{4,})-([0-9]{2})-([0-9]{2})")

KNOWN_DATATYPES = frozenset(_COMPILED) | {XSD_STRING, RDF_LANGSTRING}


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def is_well_formed(lexical: str, datatype: str) -> bool:
    """Whether ``lexical`` is in the lexical space of ``datatype`` (true for unknown ones)."""
    pattern = _COMPILED.get(datatype)
    if pattern is None:
        return True
    if pattern.fullmatch(lexical) is None:
        return False
    local = datatype[len(XSD) :]
    if local in _INTEGER_RANGES:
        low, high = _INTEGER_RANGES[local]
        value = int(lexical)
        return (low is None or value >= low) and (high is None or value <= high)
    if local in ("date", "dateTime", "dateTimeStamp"):
        match = _DATE_PART.match(lexical)
        if match:
            year, month, day = (int(g) for g in match.groups())
            limit = 29 if month == 2 and _leap(year) else 28 if month == 2 else _DAYS[month - 1]
            return day <= limit
    if local == "gMonthDay":
        month, day = int(lexical[2:4]), int(lexical[5:7])
        return day <= _DAYS[month - 1]
    return True


def _key(literal: ox.Literal) -> tuple[str, str]:
    return literal.value, literal.datatype.value


class LiteralCodec:
    """Maps literals to the form they are stored in, and back; see the module docstring.

    ``prepare`` learns, in one batch, which of a set of typed literals the store would rewrite;
    ``encode`` then maps each literal to its stored form. ``wrapped_datatypes`` lists the
    datatypes that have a lexical-preserving stand-in, which queries comparing values need.
    """

    def __init__(self) -> None:
        self._stored: dict[tuple[str, str], ox.Literal | None] = {}  # None: kept as it is
        self.wrapped_datatypes: set[str] = set()
        self.ill_formed_datatypes: set[str] = set()

    @property
    def active(self) -> bool:
        """Whether any literal has a stand-in (queries and dumps must then translate)."""
        return bool(self.wrapped_datatypes or self.ill_formed_datatypes)

    def prepare(self, keys: Iterable[tuple[str, str]]) -> bool:
        """Decides the stored form of the typed literals ``(lexical, datatype)``; returns whether
        any of them needs a stand-in."""
        pending = [k for k in set(keys) if k not in self._stored]
        trial = []
        for lexical, datatype in pending:
            if datatype in (XSD_STRING, RDF_LANGSTRING):
                self._stored[(lexical, datatype)] = None
            elif not is_well_formed(lexical, datatype):
                self._stored[(lexical, datatype)] = ox.Literal(
                    lexical, datatype=ox.NamedNode(ILL_FORMED + datatype)
                )
                self.ill_formed_datatypes.add(datatype)
            else:
                trial.append((lexical, datatype))
        if trial:
            scratch = ox.Store()
            predicate = ox.NamedNode("urn:kommunen-kg:p")
            scratch.extend(
                ox.Quad(
                    ox.NamedNode(f"urn:kommunen-kg:{i}"),
                    predicate,
                    ox.Literal(lex, datatype=ox.NamedNode(dt)),
                )
                for i, (lex, dt) in enumerate(trial)
            )
            kept: dict[int, ox.Literal] = {}
            for quad in scratch.quads_for_pattern(None, predicate, None):
                kept[int(quad.subject.value.rsplit(":", 1)[1])] = quad.object
            for i, (lexical, datatype) in enumerate(trial):
                back = kept.get(i)
                same = (
                    back is not None
                    and back.value == lexical
                    and back.datatype is not None
                    and back.datatype.value == datatype
                )
                if same:
                    self._stored[(lexical, datatype)] = None
                else:
                    self._stored[(lexical, datatype)] = ox.Literal(
                        lexical, datatype=ox.NamedNode(LEXICAL + datatype)
                    )
                    self.wrapped_datatypes.add(datatype)
        return any(self._stored[k] is not None for k in set(keys))

    def needs_stand_in(self, literal: ox.Literal) -> bool:
        return self._stored.get(_key(literal)) is not None

    def encode(self, term):
        """The stored form of ``term`` (literals ``prepare`` has seen; other terms unchanged)."""
        if type(term) is ox.Literal and term.language is None:
            stored = self._stored.get(_key(term))
            if stored is not None:
                return stored
        return term

    def encode_quad(self, quad: ox.Quad) -> ox.Quad:
        obj = quad.object
        if type(obj) is ox.Literal:
            stored = self.encode(obj)
            if stored is not obj:
                return ox.Quad(quad.subject, quad.predicate, stored, quad.graph_name)
        return quad

    @staticmethod
    def decode(term):
        """The literal as the sources wrote it (other terms unchanged)."""
        if type(term) is ox.Literal and term.language is None:
            datatype = term.datatype.value
            if datatype.startswith(LEXICAL):
                return ox.Literal(term.value, datatype=ox.NamedNode(datatype[len(LEXICAL) :]))
            if datatype.startswith(ILL_FORMED):
                return ox.Literal(term.value, datatype=ox.NamedNode(datatype[len(ILL_FORMED) :]))
        return term

    @staticmethod
    def unwrap_bytes(data: bytes) -> bytes:
        """N-Triples/N-Quads text with the stand-in datatypes replaced by the real ones."""
        if b"urn:kommunen-kg:" not in data:
            return data
        return data.replace(b"^^<" + LEXICAL.encode(), b"^^<").replace(
            b"^^<" + ILL_FORMED.encode(), b"^^<"
        )
