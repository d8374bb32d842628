"""Reading a workbook back: every entry as RDF statements, every problem at its cell.

The reader is as strict as the Turtle parser: a value it cannot read, a reference to nothing,
a key used twice, an unknown sheet or a missing column is a problem named ``Sheet!C14``, in
German and English, and nothing is taken over while one remains. What SHACL finds afterwards is
named at its cell by the import, with the messages the build gives for Turtle.

A workbook is a zip file of XML: a careless or hostile one can be small on disk and huge
unpacked, or hold a million formatted empty rows. Its size, its unpacked size and the rows
read are bounded, and reading stops early after a long run of empty rows.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from kommunen_kg.build.workbook import office
from kommunen_kg.build.workbook.cells import CellProblem, lines_of, read_cell
from kommunen_kg.build.workbook.export import (
    FIRST_ROW,
    HELP_SHEET,
    KEY_ROW,
    LISTS_SHEET,
    STATE_SHEET,
)
from kommunen_kg.build.workbook.mapping import (
    SLUG,
    Column,
    Layout,
    Resource,
    Sheet,
)

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_UNPACKED_BYTES = 500 * 1024 * 1024
MAX_ROWS = 100_000  # per sheet
EMPTY_RUN = 1_000  # empty rows in a row after which a sheet is taken to end


@dataclass(frozen=True)
class WorkbookProblem:
    """One problem of the workbook, at a cell (``Vorträge!C14``) or a sheet."""

    where: str
    messages: dict[str, str]

    def message(self, lang: str) -> str:
        return self.messages.get(lang) or self.messages["en"]


@dataclass
class ReadWorkbook:
    """The entries of a workbook and where each of their values stands."""

    resources: dict[str, Resource] = field(default_factory=dict)
    # (resource, column key) -> the cell; (resource, None) -> the key cell of its row
    cells: dict[tuple[str, str | None], str] = field(default_factory=dict)
    problems: list[WorkbookProblem] = field(default_factory=list)
    # entry -> its fingerprint when the workbook was exported (None: no record, a workbook
    # made otherwise)
    exported: dict[str, str] | None = None

    def problem(self, where: str, de: str, en: str) -> None:
        self.problems.append(WorkbookProblem(where, {"de": de, "en": en}))


def cell_name(sheet: str, column: int, row: int) -> str:
    """``Vorträge!C14``, as people and office software write it (quoted where needed)."""
    name = f"'{sheet}'" if any(c in sheet for c in " -'!") else sheet
    return f"{name}!{get_column_letter(column)}{row}"


class WorkbookUnreadable(Exception):
    """The file is no workbook this reader may open; messages in German and English."""

    def __init__(self, de: str, en: str):
        super().__init__(en)
        self.messages = {"de": de, "en": en}


def _check_archive(path: Path) -> None:
    """The file's size and its unpacked size are within the bounds (.xlsx and .ods are zip
    files)."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise WorkbookUnreadable(
            f"{path}: {size:,} Bytes sind mehr, als eine Arbeitsmappe hier haben darf "
            f"({MAX_FILE_BYTES:,}).".replace(",", "."),
            f"{path}: {size:,} bytes is more than a workbook may have here ({MAX_FILE_BYTES:,}).",
        )
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise WorkbookUnreadable(
            f"{path}: keine Arbeitsmappe (.xlsx oder .ods) ({exc}).",
            f"{path}: not a workbook (.xlsx or .ods) ({exc}).",
        ) from exc
    if unpacked > MAX_UNPACKED_BYTES:
        raise WorkbookUnreadable(
            f"{path}: entpackt {unpacked:,} Bytes, mehr als erlaubt.".replace(",", "."),
            f"{path}: {unpacked:,} bytes unpacked, more than allowed ({MAX_UNPACKED_BYTES:,}).",
        )


def _open(path: Path, scratch: Path):
    if path.suffix.lower() not in (".xlsx", ".ods"):
        raise WorkbookUnreadable(
            f"{path}: eine Arbeitsmappe ist eine .xlsx- oder .ods-Datei.",
            f"{path}: a workbook is an .xlsx or .ods file.",
        )
    _check_archive(path)
    if path.suffix.lower() == ".ods":
        try:
            path = office.convert(path, ".xlsx", scratch)
        except office.OfficeMissing as exc:
            raise WorkbookUnreadable(exc.messages["de"], exc.messages["en"]) from exc
        _check_archive(path)
    try:
        return load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise WorkbookUnreadable(
            f"{path}: die Arbeitsmappe lässt sich nicht lesen ({exc}).",
            f"{path}: the workbook cannot be read ({exc}).",
        ) from exc


def _rows(ws) -> Iterator[tuple[int, tuple]]:
    """(row number, values) of a sheet, stopping after a long run of empty rows."""
    empty = 0
    for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
        if number > MAX_ROWS:
            raise WorkbookUnreadable(
                f"Das Blatt {ws.title} hat mehr als {MAX_ROWS} Zeilen.",
                f"The sheet {ws.title} has more than {MAX_ROWS} rows.",
            )
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            empty += 1
            if empty >= EMPTY_RUN:
                return
            continue
        empty = 0
        yield number, values


def read_workbook(path: Path, layout: Layout) -> ReadWorkbook:
    """Every entry of the workbook at ``path`` with its statements, and every problem."""
    with tempfile.TemporaryDirectory(prefix="kommunen-kg-workbook-") as scratch:
        return _read(Path(path), layout, Path(scratch))


def _read(path: Path, layout: Layout, scratch: Path) -> ReadWorkbook:
    book = _open(path, scratch)
    result = ReadWorkbook()
    sheets = {s.title: s for s in layout.sheets}
    rows_of: dict[str, list[tuple[int, tuple]]] = {}
    try:
        for ws in book.worksheets:
            if ws.title in (HELP_SHEET, LISTS_SHEET):
                continue
            if ws.title == STATE_SHEET:
                result.exported = {
                    str(row[0]): str(row[1])
                    for _, row in _rows(ws)
                    if len(row) > 1 and row[0] and row[1] and row[0] != "IRI"
                }
                continue
            if ws.title not in sheets:
                names = ", ".join(sheets)
                result.problem(
                    ws.title,
                    f"Das Blatt „{ws.title}“ gehört nicht zur Arbeitsmappe (Blätter: {names}); "
                    "seine Zeilen werden nicht gelesen.",
                    f"The sheet “{ws.title}” is not one of the workbook's (sheets: {names}); "
                    "its rows are not read.",
                )
                continue
            rows_of[ws.title] = list(_rows(ws))
    finally:
        book.close()

    # first every key, so that references may point at entries of any sheet
    keys: dict[str, tuple[Sheet, int]] = {}
    for title, rows in rows_of.items():
        sheet = sheets[title]
        for number, values in rows:
            if number < FIRST_ROW:
                continue
            key = values[0] if values else None
            text = lines_of(key)
            if not text:
                continue
            slug = str(key).strip()
            where = cell_name(title, 1, number)
            if not SLUG.fullmatch(slug):
                result.problem(
                    where,
                    f"„{slug}“ ist keine Kennung: nur Kleinbuchstaben a-z, Ziffern und einzelne "
                    "Bindestriche, etwa „2020-11-11-kudequa“.",
                    f"“{slug}” is not a key: only lower-case letters a-z, digits and single "
                    "hyphens, such as “2020-11-11-kudequa”.",
                )
                continue
            iri = layout.iri(sheet.kind, slug)
            if iri in keys:
                first = cell_name(title, 1, keys[iri][1])
                result.problem(
                    where,
                    f"Die Kennung „{slug}“ steht schon in {first}.",
                    f"The key “{slug}” is already used in {first}.",
                )
                continue
            keys[iri] = (sheet, number)

    def resolve(reference: str) -> str | None:
        kind, _, slug = reference.partition("/")
        iri = layout.iri(kind, slug)
        return iri if iri in keys or iri in layout.known else None

    for title, rows in rows_of.items():
        _read_sheet(sheets[title], rows, layout, keys, resolve, result)
    return result


def _columns(sheet: Sheet, rows: list[tuple[int, tuple]], result: ReadWorkbook):
    """Which workbook column holds which of the sheet's columns, found by the hidden keys."""
    header = next((values for number, values in rows if number == KEY_ROW), ())
    wanted = {c.key: c for c in sheet.columns}
    found: dict[int, Column] = {}
    for index, key in enumerate(header):
        if key is None or not str(key).strip():
            continue
        column = wanted.get(str(key).strip())
        if column is None:
            result.problem(
                cell_name(sheet.title, index + 1, KEY_ROW),
                f"Die Spalte mit dem Schlüssel „{key}“ (verborgene Zeile 3) gibt es auf diesem "
                "Blatt nicht; Überschriften und Zeile 3 bitte nicht ändern.",
                f"There is no column with the key “{key}” (hidden row 3) on this sheet; please "
                "leave the headers and row 3 as they are.",
            )
            continue
        found[index] = column
    missing = [c for c in sheet.columns if c not in found.values()]
    for column in missing:
        result.problem(
            sheet.title,
            f"Die Spalte „{column.labels[0]}“ fehlt (verborgene Zeile 3: {column.key}). Eine "
            "Spalte darf leer sein, aber nicht fehlen: sonst wäre unklar, ob ihre Werte "
            "gelöscht werden sollen.",
            f"The column “{column.labels[1]}” is missing (hidden row 3: {column.key}). A column "
            "may be empty but not missing: otherwise it would be unclear whether its values "
            "are to be deleted.",
        )
    return found, not missing


def _read_sheet(sheet, rows, layout, keys, resolve, result: ReadWorkbook) -> None:
    columns, complete = _columns(sheet, rows, result)
    if not complete:
        return
    for number, values in rows:
        if number < FIRST_ROW:
            continue
        slug = str(values[0]).strip() if values and values[0] is not None else ""
        if not slug:
            result.problem(
                cell_name(sheet.title, 1, number),
                "Die Zeile hat Werte, aber keine Kennung in Spalte A.",
                "The row has values but no key in column A.",
            )
            continue
        iri = layout.iri(sheet.kind, slug)
        if keys.get(iri, (None, None))[1] != number:
            continue  # a key with a problem, reported above
        resource = Resource(iri, sheet.kind, slug)
        result.cells[(iri, None)] = cell_name(sheet.title, 1, number)
        for index, column in columns.items():
            if column.form == "key":
                continue
            value = values[index] if index < len(values) else None
            where = cell_name(sheet.title, index + 1, number)
            result.cells[(iri, column.key)] = where
            try:
                terms = read_cell(column, value, layout, resolve)
            except CellProblem as problem:
                result.problem(where, problem.messages["de"], problem.messages["en"])
                continue
            if not terms and column.form == "type":
                result.problem(
                    where,
                    "Die Art des Eintrags fehlt.",
                    "The entry's type is missing.",
                )
            target = resource.statements.setdefault(column.property, [])
            for term in terms:
                if term not in target:
                    target.append(term)
        resource.statements = {p: v for p, v in resource.statements.items() if v}
        result.resources[iri] = resource


def statement_set(resource: Resource) -> set[tuple[str, ox.NamedNode | ox.Literal]]:
    """A resource's statements without their order, to compare a row with the sources."""
    return {(p, t) for p, terms in resource.statements.items() for t in terms}
