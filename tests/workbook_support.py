"""Editing a generated workbook the way a person in the documentation team would: find the
sheet, the column by its header and the row by its key, and type into the cell."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from kommunen_kg.build.workbook.export import FIRST_ROW, KEY_ROW

SCHEMA = "http://schema.org/"
KI = "https://w3id.org/kommunen-innovativ/def#"
DCTERMS_SOURCE = "http://purl.org/dc/terms/source"


class EditedWorkbook:
    """A workbook opened for editing; ``save`` writes it back."""

    def __init__(self, path: Path):
        self.path = path
        self.book = load_workbook(path)

    def column(self, sheet: str, key: str) -> int:
        """The column (1-based) whose hidden key (row 3) is ``key``."""
        ws = self.book[sheet]
        for cell in ws[KEY_ROW]:
            if cell.value == key:
                return cell.column
        raise KeyError(f"{sheet} has no column {key}")

    def row(self, sheet: str, slug: str) -> int:
        ws = self.book[sheet]
        for row in range(FIRST_ROW, ws.max_row + 1):
            if ws.cell(row, 1).value == slug:
                return row
        raise KeyError(f"{sheet} has no row {slug}")

    def cell_name(self, sheet: str, key: str, slug: str) -> str:
        quoted = f"'{sheet}'" if " " in sheet else sheet
        return f"{quoted}!{get_column_letter(self.column(sheet, key))}{self.row(sheet, slug)}"

    def get(self, sheet: str, key: str, slug: str):
        return self.book[sheet].cell(self.row(sheet, slug), self.column(sheet, key)).value

    def set(self, sheet: str, key: str, slug: str, value) -> None:
        self.book[sheet].cell(self.row(sheet, slug), self.column(sheet, key)).value = value

    def add(self, sheet: str, values: dict[str, object]) -> int:
        """A new row at the end of ``sheet``: ``values`` by column key (``@id`` is the key)."""
        ws = self.book[sheet]
        row = FIRST_ROW
        while ws.cell(row, 1).value not in (None, ""):
            row += 1
        for key, value in values.items():
            ws.cell(row, self.column(sheet, key)).value = value
        return row

    def save(self, path: Path | None = None) -> Path:
        target = path or self.path
        self.book.save(target)
        return target
