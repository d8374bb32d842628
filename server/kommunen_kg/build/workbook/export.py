"""Writing the current data to a workbook (``kommunen-kg workbook export``).

The workbook opens on a help sheet in German and English; each kind of resource has a sheet
whose first row names the columns in German, the second in English, and whose third, hidden
row holds the property each column stands for (so that the import still finds a column the
team moved). Entries start in row 4. Every cell is text, so that Excel and LibreOffice leave
dates, years and numbers as written; drop-down lists offer the entries of other sheets and the
values of code lists, and each header has the help of the shapes and the vocabulary as a note.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from kommunen_kg.build.workbook import office
from kommunen_kg.build.workbook.cells import EXAMPLES, CellProblem, label_of, write_term
from kommunen_kg.build.workbook.mapping import Column, Layout, Resource, Sheet, fingerprint

FIRST_ROW = 4  # rows 1-3: German header, English header, hidden property keys
KEY_ROW = 3
HELP_SHEET = "Hilfe - Help"
LISTS_SHEET = "Listen"
# what each exported entry said at the export (hidden): the import's base for telling the
# team's changes from changes made in Turtle since
STATE_SHEET = "Stand"
# how far the drop-downs reach below the last entry
SPARE_ROWS = 5000
TEXT_ROWS = 300  # rows below the entries that carry the text format cell by cell
TEXT = "@"


class ExportProblem(Exception):
    """The data holds something the workbook cannot show without loss; nothing is written."""


def export_workbook(layout: Layout, path: Path) -> dict[str, int]:
    """Writes the workbook to ``path`` (atomically: a reader never sees half a file) and
    returns the number of entries per sheet."""
    book = Workbook()
    help_sheet = book.active
    help_sheet.title = HELP_SHEET
    lists = book.create_sheet(LISTS_SHEET)
    lists.sheet_state = "hidden"
    counts: dict[str, int] = {}
    problems: list[str] = []
    list_columns: dict[tuple[str, ...], str] = {}
    for sheet in layout.sheets:
        members = [r for r in layout.resources.values() if r.kind == sheet.kind]
        counts[sheet.title] = len(members)
        _write_sheet(book, sheet, members, layout, lists, list_columns, problems)
    if problems:
        raise ExportProblem("\n".join(problems))
    _write_help(help_sheet, layout)
    state = book.create_sheet(STATE_SHEET)
    state.sheet_state = "hidden"
    state.append(["IRI", "fingerprint"])
    for iri, resource in layout.resources.items():
        state.append([iri, fingerprint(resource)])
    _save(book, path)
    return counts


def _write_sheet(
    book,
    sheet: Sheet,
    members: list[Resource],
    layout: Layout,
    lists,
    list_columns,
    problems: list[str],
) -> None:
    ws = book.create_sheet(sheet.title)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDE7F0")
    for index, column in enumerate(sheet.columns, start=1):
        letter = get_column_letter(index)
        de, en = column.labels
        star = " *" if column.required else ""
        ws.cell(1, index, de + star).font = bold
        ws.cell(2, index, en + star).font = Font(italic=True)
        ws.cell(KEY_ROW, index, column.key)
        for row in (1, 2):
            ws.cell(row, index).fill = fill
        note = _help(column, layout, sheet)
        if note:
            ws.cell(1, index).comment = Comment(note, "kommunen-kg", width=420, height=260)
        ws.column_dimensions[letter].width = _width(column)
        last = FIRST_ROW + len(members) + SPARE_ROWS
        _validation(ws, column, layout, letter, last, lists, list_columns)
        # the column is text, also below the last entry, so that a row typed in later keeps
        # 2016-06 a month (not the 1st of June) and 2016 a year: as the column's style, which
        # Excel applies to new cells, and on each of the next rows, which every program keeps
        ws.column_dimensions[letter].number_format = TEXT
        for row in range(FIRST_ROW, FIRST_ROW + len(members) + TEXT_ROWS):
            ws.cell(row, index).number_format = TEXT
    ws.row_dimensions[KEY_ROW].hidden = True
    ws.freeze_panes = ws.cell(FIRST_ROW, 2)
    wrap = Alignment(wrap_text=True, vertical="top")
    for offset, resource in enumerate(members):
        row = FIRST_ROW + offset
        for index, column in enumerate(sheet.columns, start=1):
            if column.form == "key":
                values = [resource.slug]
            else:
                values = []
                for term in resource.statements.get(column.property, []):
                    if column.form == "lang" and getattr(term, "language", None) != column.language:
                        continue
                    # a value no column holds is reported by _check_covered, with every loss
                    with contextlib.suppress(CellProblem):
                        values.append(write_term(column, term, layout))
            if values:
                cell = ws.cell(row, index, "\n".join(values))
                cell.number_format = TEXT
                cell.alignment = wrap
        _check_covered(sheet, resource, layout, problems)


def _check_covered(sheet: Sheet, resource: Resource, layout: Layout, problems: list[str]):
    """Every statement of the resource has a column that holds it: the export is lossless or
    does not happen."""
    columns: dict[str, list[Column]] = {}
    for column in sheet.columns:
        columns.setdefault(column.property, []).append(column)
    for prop, terms in resource.statements.items():
        for term in terms:
            fits = False
            for column in columns.get(prop, []):
                if column.form == "lang" and getattr(term, "language", None) != column.language:
                    continue
                try:
                    write_term(column, term, layout)
                    fits = True
                except CellProblem:
                    pass
            if not fits:
                problems.append(
                    f"{resource.iri}: no column of the sheet {sheet.title} can hold <{prop}> {term}"
                )


def _help(column: Column, layout: Layout, sheet: Sheet) -> str:
    de, en = column.help
    if column.form == "key":
        de = de.replace("{kind}", sheet.kind).replace("{base}", layout.base_iri)
        en = en.replace("{kind}", sheet.kind).replace("{base}", layout.base_iri)
    extra_de, extra_en = _form_words(column, layout)
    parts = [p for p in (de, extra_de, "", en, extra_en) if p is not None]
    return "\n".join(parts).strip()


def _form_words(column: Column, layout: Layout) -> tuple[str, str]:
    many_de = many_en = ""
    if column.many:
        many_de = " Mehrere Werte: einer je Zeile (Excel: Alt+Eingabe, LibreOffice: Strg+Eingabe)."
        many_en = " Several values: one per line (Excel: Alt+Enter, LibreOffice: Ctrl+Enter)."
    if column.form == "ref":
        if len(column.kinds) == 1:
            de = f"Verweis: die Kennung eines Eintrags der Art {column.kinds[0]}."
            en = f"Reference: the key of an entry of the kind {column.kinds[0]}."
        else:
            kinds = ", ".join(column.kinds)
            de = f"Verweis: Art/Kennung, etwa event/herbst-konferenz-2020 (Arten: {kinds})."
            en = f"Reference: kind/key, such as event/herbst-konferenz-2020 (kinds: {kinds})."
    elif column.form == "typed":
        examples = ", ".join(EXAMPLES.get(d, d) for d in column.datatypes)
        de, en = f"Form: {examples}.", f"Form: {examples}."
    elif column.form in ("code", "type"):
        names = ", ".join(label_of(layout, c, column.codes) for c in column.codes)
        de, en = f"Werte: {names}.", f"Values: {names}."
    elif column.form == "iri":
        de, en = "Eine Web-Adresse (https://…).", "A web address (https://…)."
    elif column.form == "lang":
        de = f"Text in der Sprache {column.language}."
        en = f"Text in the language {column.language}."
    else:
        de, en = "", ""
    return de + many_de, en + many_en


def _width(column: Column) -> float:
    if column.form == "key":
        return 34
    if column.form == "lang" and column.property.endswith(("description", "definition")):
        return 60
    if column.form in ("lang", "text", "iri"):
        return 36
    return 24


def _validation(
    ws, column: Column, layout: Layout, letter: str, last: int, lists, list_columns
) -> None:
    """A drop-down list for references to one other sheet and for code lists. It only offers:
    a cell may hold several values (one per line), which a list would refuse, and the import
    checks every value anyway, naming its cell."""
    source = None
    if column.form == "ref" and len(column.kinds) == 1:
        target = next((s for s in layout.sheets if s.kind == column.kinds[0]), None)
        if target is not None:
            source = f"{quote_sheetname(target.title)}!$A${FIRST_ROW}:$A${last + 2000}"
    elif column.form == "ref" or column.form in ("code", "type"):
        if column.form == "ref":
            # several kinds: every entry of them, as kind/key, as the export knows them
            names = tuple(
                f"{r.kind}/{r.slug}" for r in layout.resources.values() if r.kind in column.kinds
            )
        else:
            names = tuple(label_of(layout, c, column.codes) for c in column.codes)
        if not names:
            return
        if names not in list_columns:
            index = len(list_columns) + 1
            for row, name in enumerate(names, start=1):
                lists.cell(row, index, name)
            list_letter = get_column_letter(index)
            list_columns[names] = (
                f"{quote_sheetname(LISTS_SHEET)}!${list_letter}$1:${list_letter}${len(names)}"
            )
        source = list_columns[names]
    if source is None:
        return
    # Only a list that grows with the workbook may refuse other values: a single-valued
    # column of codes, or of keys of one other sheet (its column A, new rows included). A
    # list of kind/key fixed at the export must not refuse an entry added in this workbook.
    fixed = column.form == "ref" and len(column.kinds) != 1
    validation = DataValidation(
        type="list",
        formula1=source,
        allow_blank=True,
        showErrorMessage=not column.many and not fixed,
    )
    validation.error = (
        "Bitte einen Wert aus der Liste wählen. / Please choose a value from the list."
    )
    ws.add_data_validation(validation)
    validation.add(f"{letter}{FIRST_ROW}:{letter}{last}")


def _write_help(ws, layout: Layout) -> None:
    rows = [
        (
            "Arbeitsmappe des Wissensgraphen „Kommunen innovativ“",
            "Workbook of the “Kommunen innovativ” knowledge graph",
        ),
        ("", ""),
        (
            "Jedes Blatt hält eine Art von Einträgen, jede Zeile ab Zeile 4 einen Eintrag. "
            "Spalte A ist die Kennung (Kleinbuchstaben, Ziffern, Bindestriche); mit ihr verweisen "
            "andere Blätter auf den Eintrag.",
            "Each sheet holds one kind of entry, each row from row 4 one entry. Column A is the "
            "key (lower-case letters, digits, hyphens); other sheets refer to the entry by it.",
        ),
        (
            "Zeile 1 nennt die Spalten auf Deutsch, Zeile 2 auf Englisch; * heißt: nötig. Die "
            "Notiz an jeder Überschrift sagt, was hineingehört. Mehrere Werte stehen in einer "
            "Zelle je eine Zeile (Excel: Alt+Eingabe, LibreOffice: Strg+Eingabe).",
            "Row 1 names the columns in German, row 2 in English; * means required. The note on "
            "each header says what belongs in it. Several values share a cell one per line "
            "(Excel: Alt+Enter, LibreOffice: Ctrl+Enter).",
        ),
        (
            "Texte gibt es auf Deutsch und Englisch in je einer Spalte. Jeder Eintrag nennt in "
            "„Quelle“ mindestens eine Web-Adresse, die ihn belegt.",
            "Texts have a German and an English column. Every entry names at least one web "
            "address that supports it under “source”.",
        ),
        (
            "Prüfen und übernehmen: kommunen-kg workbook import DATEI.xlsx --lang de. Fehler "
            "nennen Blatt und Zelle, etwa Vorträge!C14; nichts wird geschrieben, solange einer "
            "bleibt. Siehe docs/authoring.md.",
            "Check and take over: kommunen-kg workbook import FILE.xlsx. Problems name sheet and "
            "cell, such as Vorträge!C14; nothing is written while one remains. See "
            "docs/authoring.md.",
        ),
        ("", ""),
        ("Blatt", "Sheet"),
    ]
    rows += [(f"{s.title}", f"{s.names[1]} ({s.kind})") for s in layout.sheets]
    for index, (de, en) in enumerate(rows, start=1):
        ws.cell(index, 1, de).alignment = Alignment(wrap_text=True, vertical="top")
        ws.cell(index, 2, en).alignment = Alignment(wrap_text=True, vertical="top")
    ws.cell(1, 1).font = Font(bold=True, size=14)
    ws.cell(1, 2).font = Font(bold=True, size=14)
    ws.column_dimensions["A"].width = 80
    ws.column_dimensions["B"].width = 80


def _save(book: Workbook, path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".ods":
        # LibreOffice converts the .xlsx, beside the target so that the rename stays atomic
        with tempfile.TemporaryDirectory(dir=path.parent, prefix=f".{path.name}.") as scratch:
            workbook = Path(scratch) / (path.stem + ".xlsx")
            book.save(workbook)
            converted = office.convert(workbook, ".ods", Path(scratch) / "ods")
            os.chmod(converted, 0o666 & ~_umask())
            os.replace(converted, path)
        return
    if path.suffix.lower() != ".xlsx":
        raise ExportProblem(f"{path}: a workbook is written as .xlsx or .ods")
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        book.save(temporary)
        # mkstemp makes the file private; a workbook is shared like any other file
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _umask() -> int:
    """The process's umask (mkstemp makes files private; a workbook is shared like any other)."""
    umask = os.umask(0)
    os.umask(umask)
    return umask
