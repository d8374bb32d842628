"""One cell's text and the RDF terms it stands for, both ways.

Every cell is written as text, so that lexical forms survive exactly (``2016`` stays a year,
``2020-11-11T10:00:00+01:00`` keeps its offset, ``007`` is not turned into 7); several values
share a cell one per line. Reading accepts what office software makes of a typed-in value
(a number, a date, a truth value) and turns it back into a lexical form; everything it cannot
read is a :class:`CellProblem` in German and English, named by the caller at its cell.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pyoxigraph as ox

from kommunen_kg.build.workbook.mapping import (
    SLUG,
    XSD_STRING,
    Column,
    Layout,
)
from kommunen_kg.rdf.namespaces import XSD

Term = ox.NamedNode | ox.Literal

# lexical forms the typed columns accept, in the order a value is tried
LEXICAL: dict[str, re.Pattern[str]] = {
    XSD + "integer": re.compile(r"[+-]?[0-9]+"),
    XSD + "boolean": re.compile(r"true|false"),
    XSD + "date": re.compile(r"-?[0-9]{4,}-[0-9]{2}-[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})?"),
    XSD + "dateTime": re.compile(
        r"-?[0-9]{4,}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
        r"(Z|[+-][0-9]{2}:[0-9]{2})?"
    ),
    XSD + "gYearMonth": re.compile(r"-?[0-9]{4,}-[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})?"),
    XSD + "gYear": re.compile(r"-?[0-9]{4,}(Z|[+-][0-9]{2}:[0-9]{2})?"),
    XSD + "decimal": re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)"),
}
EXAMPLES = {
    XSD + "integer": "3",
    XSD + "boolean": "true",
    XSD + "date": "2020-11-11",
    XSD + "dateTime": "2020-11-11T10:00:00+01:00",
    XSD + "gYearMonth": "2016-06",
    XSD + "gYear": "2016",
    XSD + "decimal": "1.5",
}
_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+")


class CellProblem(Exception):
    """A cell's text cannot be read for its column; ``messages`` in German and English."""

    def __init__(self, de: str, en: str):
        super().__init__(en)
        self.messages = {"de": de, "en": en}


def lines_of(value: object) -> list[str]:
    """A cell's values: one per line, empty lines left out. Office software hands back
    numbers, dates and truth values as such; they are turned into their lexical forms."""
    if value is None:
        return []
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, int):
        return [str(value)]
    if isinstance(value, float):
        return [str(int(value)) if value.is_integer() else repr(value)]
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0) and value.tzinfo is None:
            return [value.date().isoformat()]
        return [value.isoformat()]
    if isinstance(value, dt.date):
        return [value.isoformat()]
    if isinstance(value, dt.time):
        return [value.isoformat()]
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    return [line for line in text.split("\n") if line.strip()]


def label_of(layout: Layout, iri: str, codes: tuple[str, ...] = (), lang: int = 0) -> str:
    """How a class or a code is written in a cell: its German name (``lang`` 1: English) where
    the name is known and no other value of the same column (``codes``) has it, else the IRI
    itself. The import reads either name."""
    name = layout.labels.get(iri, (None, None))[lang]
    if not name or any(layout.labels.get(c, (None, None))[lang] == name for c in codes if c != iri):
        return iri
    return name


def write_term(column: Column, term: Term, layout: Layout) -> str:
    """A term's text in a cell of ``column``; a :class:`CellProblem` when the column cannot
    hold it (the export stops then rather than lose it)."""
    if column.form in ("type", "code"):
        if isinstance(term, ox.NamedNode) and term.value in column.codes:
            return label_of(layout, term.value, column.codes)
    elif column.form == "lang":
        if isinstance(term, ox.Literal) and term.language == column.language:
            return _single_line(column, term.value)
    elif column.form == "text":
        if isinstance(term, ox.Literal) and term.datatype.value == XSD_STRING:
            return _single_line(column, term.value)
    elif column.form == "typed":
        # the lexical form must read back as the same datatype
        if isinstance(term, ox.Literal) and (
            _datatype_of(term.value, column.datatypes) == term.datatype.value
        ):
            return term.value
    elif column.form == "ref":
        found = layout.kind_of(term.value) if isinstance(term, ox.NamedNode) else None
        if found and found[0] in column.kinds:
            return found[1] if len(column.kinds) == 1 else f"{found[0]}/{found[1]}"
    elif column.form == "iri" and isinstance(term, ox.NamedNode) and _IRI.fullmatch(term.value):
        return term.value
    raise CellProblem(
        f"Die Spalte „{column.labels[0]}“ kann den Wert {term} nicht fassen.",
        f"The column “{column.labels[1]}” cannot hold the value {term}.",
    )


def _single_line(column: Column, text: str) -> str:
    if column.many and "\n" in text:
        raise CellProblem(
            f"Ein Wert der Spalte „{column.labels[0]}“ enthält einen Zeilenumbruch; dort steht "
            "aber ein Wert je Zeile.",
            f"A value of the column “{column.labels[1]}” holds a line break, but there each "
            "line is a value of its own.",
        )
    return text


def _datatype_of(text: str, datatypes: tuple[str, ...]) -> str | None:
    for datatype in LEXICAL:
        if datatype in datatypes and LEXICAL[datatype].fullmatch(text):
            return datatype
    return None


def read_cell(
    column: Column, value: object, layout: Layout, resolve: Callable[[str], str | None]
) -> list[Term]:
    """The terms a cell of ``column`` stands for. ``resolve`` turns a reference's
    ``kind/slug`` into an IRI, or None when nothing of that name exists."""
    if column.form in ("lang", "text") and isinstance(value, str):
        texts = _texts(column, value)
    else:
        texts = lines_of(value)
    if len(texts) > 1 and not column.many:
        raise CellProblem(
            f"Die Spalte „{column.labels[0]}“ nimmt höchstens einen Wert; hier stehen "
            f"{len(texts)} Zeilen.",
            f"The column “{column.labels[1]}” takes at most one value; this cell has "
            f"{len(texts)} lines.",
        )
    return [_read_text(column, text, layout, resolve) for text in texts]


def _texts(column: Column, value: str) -> list[str]:
    """A text cell keeps its text as typed; only a column of several values is split."""
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    if column.many:
        return [line for line in text.split("\n") if line.strip()]
    return [text] if text.strip() else []


def _read_text(
    column: Column, text: str, layout: Layout, resolve: Callable[[str], str | None]
) -> Term:
    if column.form == "lang":
        return ox.Literal(text, language=column.language)
    if column.form == "text":
        return ox.Literal(text)
    text = text.strip()
    if column.form in ("type", "code"):
        return ox.NamedNode(_code(column, text, layout))
    if column.form == "typed":
        datatype = _datatype_of(text, column.datatypes)
        if datatype is None:
            examples = ", ".join(f"„{EXAMPLES[d]}“" for d in column.datatypes if d in EXAMPLES)
            examples_en = ", ".join(f"“{EXAMPLES[d]}”" for d in column.datatypes if d in EXAMPLES)
            raise CellProblem(
                f"„{text}“ ist kein Wert der Form, die die Spalte „{column.labels[0]}“ nimmt "
                f"(etwa {examples}).",
                f"“{text}” is not a value of the form the column “{column.labels[1]}” takes "
                f"(such as {examples_en}).",
            )
        return ox.Literal(text, datatype=ox.NamedNode(datatype))
    if column.form == "ref":
        return ox.NamedNode(_reference(column, text, layout, resolve))
    if not _IRI.fullmatch(text):
        raise CellProblem(
            f"„{text}“ ist keine Web-Adresse (etwa https://kommunen-innovativ.de/…).",
            f"“{text}” is not a web address (such as https://kommunen-innovativ.de/…).",
        )
    return ox.NamedNode(text)


def _code(column: Column, text: str, layout: Layout) -> str:
    if text in column.codes:
        return text
    named = [
        code
        for code in column.codes
        if text.casefold() in (n.casefold() for n in layout.labels.get(code, ()))
    ]
    if len(named) == 1:  # a name two values share is no answer; the export writes IRIs then
        return named[0]
    offered = ", ".join(f"„{label_of(layout, c, column.codes)}“" for c in column.codes)
    offered_en = ", ".join(f"“{label_of(layout, c, column.codes, 1)}”" for c in column.codes)
    raise CellProblem(
        f"„{text}“ ist keiner der Werte der Spalte „{column.labels[0]}“: {offered}.",
        f"“{text}” is none of the values of the column “{column.labels[1]}”: {offered_en}.",
    )


def _reference(
    column: Column, text: str, layout: Layout, resolve: Callable[[str], str | None]
) -> str:
    kind, _, slug = text.rpartition("/")
    if not kind and len(column.kinds) == 1:
        kind = column.kinds[0]
    names = ", ".join(column.kinds)
    if kind not in column.kinds or not SLUG.fullmatch(slug):
        form_de = (
            "die Kennung eines Eintrags"
            if len(column.kinds) == 1
            else f"Art/Kennung, etwa „{column.kinds[0]}/…“"
        )
        form_en = (
            "the key of an entry"
            if len(column.kinds) == 1
            else f"kind/key, such as “{column.kinds[0]}/…”"
        )
        raise CellProblem(
            f"„{text}“ ist kein Verweis der Form {form_de} (Arten: {names}).",
            f"“{text}” is not a reference of the form {form_en} (kinds: {names}).",
        )
    iri = resolve(f"{kind}/{slug}")
    if iri is None:
        raise CellProblem(
            f"Der Verweis „{text}“ führt ins Leere: es gibt keinen Eintrag „{slug}“ der Art "
            f"{kind}, weder in den Daten noch in dieser Arbeitsmappe.",
            f"The reference “{text}” leads nowhere: there is no entry “{slug}” of the kind "
            f"{kind}, neither in the data nor in this workbook.",
        )
    return iri
