"""OpenDocument spreadsheets (.ods) through LibreOffice, for teams whose office software saves
them by default.

The workbook is made and read as .xlsx (openpyxl); an .ods is the same workbook converted by
LibreOffice itself (``soffice --headless --convert-to``), which keeps the notes, drop-down lists
and text cells that a second writer of our own would have to reproduce. LibreOffice is needed
only for .ods; it runs with a profile of its own (a running LibreOffice of the user is left
alone) and a time limit.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

FILTERS = {".ods": "ods:calc8", ".xlsx": "xlsx:Calc MS Excel 2007 XML"}
TIME_LIMIT = 180.0  # seconds; a conversion of the whole data takes about 2


class OfficeMissing(Exception):
    """An .ods was asked for and LibreOffice is not installed; messages in German and
    English."""

    def __init__(self, de: str, en: str):
        super().__init__(en)
        self.messages = {"de": de, "en": en}


def soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        raise OfficeMissing(
            "Für .ods-Dateien wird LibreOffice gebraucht (soffice), es ist hier nicht "
            "installiert; speichern Sie die Arbeitsmappe als .xlsx oder installieren Sie "
            "LibreOffice (Debian: libreoffice-calc-nogui).",
            "An .ods file needs LibreOffice (soffice), which is not installed here; save the "
            "workbook as .xlsx or install LibreOffice (Debian: libreoffice-calc-nogui).",
        )
    return found


def convert(source: Path, suffix: str, folder: Path) -> Path:
    """``source`` converted by LibreOffice into ``folder`` as ``suffix`` (.ods or .xlsx)."""
    program = soffice()
    with tempfile.TemporaryDirectory(prefix="kommunen-kg-office-") as profile:
        try:
            done = subprocess.run(
                [
                    program,
                    f"-env:UserInstallation={Path(profile).as_uri()}",
                    "--headless",
                    "--calc",
                    "--convert-to",
                    FILTERS[suffix],
                    "--outdir",
                    str(folder),
                    str(source),
                ],
                capture_output=True,
                text=True,
                timeout=TIME_LIMIT,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as exc:
            raise OfficeMissing(
                f"LibreOffice hat {source.name} nicht in {TIME_LIMIT:.0f} s umgewandelt.",
                f"LibreOffice did not convert {source.name} within {TIME_LIMIT:.0f} s.",
            ) from exc
    converted = folder / (source.stem + suffix)
    if done.returncode != 0 or not converted.exists():
        raise OfficeMissing(
            f"LibreOffice konnte {source.name} nicht umwandeln: {done.stderr.strip()[-300:]}",
            f"LibreOffice could not convert {source.name}: {done.stderr.strip()[-300:]}",
        )
    return converted
