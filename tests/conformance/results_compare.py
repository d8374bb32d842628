"""Comparing SPARQL answers with the expected results of the W3C suites.

The rules are the test suite's (../shared/conformance/README.md): solutions are compared as
multisets, in order only when the query orders them; blank nodes match by a consistent bijection,
not by label; CONSTRUCT/DESCRIBE graphs by isomorphism; CSV lexically, cell by cell, since CSV
drops datatypes and language tags. Each function returns None when the answers agree and a short
reason when they do not, so that a failing test says what differs.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph
from rdflib.compare import isomorphic, to_isomorphic

from kommunen_kg.sparql.lexer import tokens

Solution = dict[str, object]  # variable name -> pyoxigraph term

RS = "http://www.w3.org/2001/sw/DataAccess/tests/result-set#"


def selects_star(query: str) -> bool:
    """True for ``SELECT *``, whose column order SPARQL leaves to the implementation."""
    previous = None
    for tok in tokens(query):
        if (
            tok.text == "*"
            and previous is not None
            and previous.text.upper()
            in (
                "SELECT",
                "DISTINCT",
                "REDUCED",
            )
        ):
            return True
        previous = tok
    return False


def has_top_level_order_by(query: str) -> bool:
    """True when the query's outermost SELECT orders its solutions (ORDER BY outside braces)."""
    depth = 0
    previous = None
    for tok in tokens(query):
        if tok.text == "{":
            depth += 1
        elif tok.text == "}":
            depth -= 1
        elif (
            depth == 0
            and tok.kind == "word"
            and tok.text.upper() == "BY"
            and previous is not None
            and previous.kind == "word"
            and previous.text.upper() == "ORDER"
        ):
            return True
        previous = tok
    return False


def solutions_from(result: object) -> tuple[list[str], list[Solution]] | bool:
    """pyoxigraph results as (variables, solutions), or the boolean of an ASK."""
    if isinstance(result, ox.QueryBoolean):
        return bool(result)
    variables = [v.value for v in result.variables]  # type: ignore[attr-defined]
    rows = []
    for solution in result:  # type: ignore[attr-defined]
        rows.append({name: solution[name] for name in variables if solution[name] is not None})
    return variables, rows


def parse_results(
    data: bytes, fmt: ox.QueryResultsFormat
) -> tuple[list[str], list[Solution]] | bool:
    return solutions_from(ox.parse_query_results(data, format=fmt))


def read_expected(path: Path) -> tuple[list[str], list[Solution]] | bool:
    """An expected result file: .srx, .srj, .tsv, or a .ttl using the DAWG result-set terms."""
    if path.suffix == ".ttl":
        return _result_set_graph(path)
    fmt = ox.QueryResultsFormat.from_extension(path.suffix[1:])
    return parse_results(path.read_bytes(), fmt)


def _result_set_graph(path: Path) -> tuple[list[str], list[Solution]] | bool:
    """Results written in RDF with the old rs: vocabulary (two tests of the suite use it)."""
    quads = list(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=path.as_uri()))

    def objects(subject, predicate: str) -> list:
        return [
            q.object for q in quads if q.subject == subject and q.predicate.value == RS + predicate
        ]

    result_set = next(q.subject for q in quads if q.object == ox.NamedNode(RS + "ResultSet"))
    booleans = objects(result_set, "boolean")
    if booleans:
        return booleans[0].value == "true"
    variables = [v.value for v in objects(result_set, "resultVariable")]
    solutions = []
    for node in objects(result_set, "solution"):
        row: Solution = {}
        for binding in objects(node, "binding"):
            row[objects(binding, "variable")[0].value] = objects(binding, "value")[0]
        index = objects(node, "index")
        solutions.append((int(index[0].value) if index else 0, row))
    solutions.sort(key=lambda item: item[0])
    return variables, [row for _, row in solutions]


XSD = "http://www.w3.org/2001/XMLSchema#"
DECIMAL_TYPES = {
    XSD + name
    for name in (
        "decimal",
        "integer",
        "nonPositiveInteger",
        "negativeInteger",
        "long",
        "int",
        "short",
        "byte",
        "nonNegativeInteger",
        "unsignedLong",
        "unsignedInt",
        "unsignedShort",
        "unsignedByte",
        "positiveInteger",
    )
}


NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _value(term: object, csv_cells: bool = False) -> object:
    """A literal's typed value where XSD defines one (numbers, booleans), else the term.

    "1.0"^^xsd:decimal, "1"^^xsd:decimal and "1"^^xsd:integer are one value; "3.0E4" and "30000"
    as xsd:double are one value. Used only to tell a lexical difference from a wrong answer.
    """
    if not isinstance(term, ox.Literal):
        return term
    datatype = term.datatype.value
    if csv_cells and NUMBER.fullmatch(term.value):  # CSV has dropped the datatype
        return ("number", Decimal(term.value).normalize())
    try:
        if datatype in DECIMAL_TYPES:
            return ("decimal", Decimal(term.value).normalize())
        if datatype in (XSD + "double", XSD + "float"):
            return (datatype, float(term.value))
        if datatype == XSD + "boolean":
            return ("boolean", term.value in ("true", "1"))
    except (ArithmeticError, ValueError):
        return term
    return term


def by_value(rows: Sequence[Solution], csv_cells: bool = False) -> list[Solution]:
    """The solutions with every number and boolean replaced by its value (see :func:`_value`);
    with ``csv_cells``, also every CSV cell that reads as a number."""
    return [{name: _value(term, csv_cells) for name, term in row.items()} for row in rows]


def _bnodes(row: Solution) -> bool:
    return any(isinstance(t, ox.BlankNode) for t in row.values())


def _key(row: Solution) -> frozenset:
    return frozenset(row.items())


def _extend(expected: Solution, actual: Solution, mapping: dict, reverse: dict) -> bool:
    """Whether two rows agree, extending the blank-node bijection (mutates on success)."""
    if expected.keys() != actual.keys():
        return False
    added: list[tuple[str, str]] = []
    for name, e in expected.items():
        a = actual[name]
        if isinstance(e, ox.BlankNode):
            if not isinstance(a, ox.BlankNode):
                break
            if e.value in mapping:
                if mapping[e.value] != a.value:
                    break
            elif a.value in reverse:
                break
            else:
                mapping[e.value] = a.value
                reverse[a.value] = e.value
                added.append((e.value, a.value))
        elif e != a:
            break
    else:
        return True
    for e_label, a_label in added:
        del mapping[e_label]
        del reverse[a_label]
    return False


def compare_solutions(
    expected: Sequence[Solution], actual: Sequence[Solution], ordered: bool
) -> str | None:
    """None when the solution sequences agree (see the module docstring), else why not."""
    if len(expected) != len(actual):
        return (
            f"expected {len(expected)} solutions, got {len(actual)}: "
            f"missing {_sample(_difference(expected, actual))}, "
            f"unexpected {_sample(_difference(actual, expected))}"
        )
    if not any(_bnodes(r) for r in (*expected, *actual)):
        if ordered:
            for index, (e, a) in enumerate(zip(expected, actual, strict=True)):
                if e != a:
                    return f"solution {index} differs: expected {_show(e)}, got {_show(a)}"
            return None
        if Counter(map(_key, expected)) != Counter(map(_key, actual)):
            return (
                f"missing {_sample(_difference(expected, actual))}, "
                f"unexpected {_sample(_difference(actual, expected))}"
            )
        return None
    if _match(list(expected), list(actual), 0, [False] * len(actual), {}, {}, ordered):
        return None
    return (
        "no blank-node bijection makes the solutions equal"
        + (" in order" if ordered else "")
        + f": expected {_sample(expected)}, got {_sample(actual)}"
    )


def _match(expected, actual, index, used, mapping, reverse, ordered) -> bool:
    if index == len(expected):
        return True
    candidates = [index] if ordered else range(len(actual))
    for j in candidates:
        if used[j]:
            continue
        saved = (dict(mapping), dict(reverse))
        if _extend(expected[index], actual[j], mapping, reverse):
            used[j] = True
            if _match(expected, actual, index + 1, used, mapping, reverse, ordered):
                return True
            used[j] = False
        mapping.clear()
        mapping.update(saved[0])
        reverse.clear()
        reverse.update(saved[1])
    return False


def _difference(a: Sequence[Solution], b: Sequence[Solution]) -> list[Solution]:
    remaining = Counter(map(_key, b))
    out = []
    for row in a:
        key = _key(row)
        if remaining[key]:
            remaining[key] -= 1
        else:
            out.append(row)
    return out


def _show(row: Solution) -> str:
    return "{" + ", ".join(f"{k}={v}" for k, v in sorted(row.items())) + "}"


def _sample(rows: Sequence[Solution], n: int = 3) -> str:
    shown = ", ".join(_show(r) for r in list(rows)[:n])
    return f"[{shown}{', ...' if len(rows) > n else ''}] ({len(rows)})"


def compare_graphs(expected: Graph, actual: Graph) -> str | None:
    if isomorphic(expected, actual):
        return None
    e, a = to_isomorphic(expected), to_isomorphic(actual)
    missing = sorted(str(t) for t in (e - a))[:3]
    extra = sorted(str(t) for t in (a - e))[:3]
    return (
        f"graphs are not isomorphic ({len(expected)} expected triples, {len(actual)} returned); "
        f"missing e.g. {missing}, unexpected e.g. {extra}"
    )


def read_csv(data: str) -> tuple[list[str], list[Solution]]:
    """CSV results as rows of strings; ``_:x`` cells become blank nodes for the bijection."""
    table = list(csv.reader(io.StringIO(data, newline="")))
    header, rows = table[0], table[1:]
    solutions = []
    for cells in rows:
        row: Solution = {}
        for name, cell in zip(header, cells, strict=True):
            if cell == "":
                continue
            row[name] = ox.BlankNode(cell[2:]) if cell.startswith("_:") else ox.Literal(cell)
        solutions.append(row)
    return header, solutions
