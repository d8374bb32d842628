"""The workbook the documentation team edits instead of Turtle (``kommunen-kg workbook``).

Specification: the export holds every entry of the editable kinds without loss; reading it
back is as strict as Turtle, every problem named at its sheet and cell with the build's
message in German and English; an unchanged workbook changes no file; a changed row rewrites
only its entry's block; nothing is written while an error remains; hostile files are bounded.
"""

from __future__ import annotations

import datetime as dt
import difflib
from pathlib import Path

import pyoxigraph as ox
import pytest
from openpyxl import load_workbook

from kommunen_kg.build.pipeline import build
from kommunen_kg.build.workbook import reading
from kommunen_kg.build.workbook.export import FIRST_ROW
from kommunen_kg.build.workbook.importer import import_workbook, layout_for
from kommunen_kg.build.workbook.reading import WorkbookUnreadable, read_workbook

from .support import ROOT, run_cli
from .workbook_support import DCTERMS_SOURCE, KI, SCHEMA, EditedWorkbook

TALKS = "Vorträge"
EVENTS = "Veranstaltungen"
PEOPLE = "Personen"
THEMES = "Themen und Kernbotschaften"
KUDEQUA = "2020-11-11-kudequa"


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for name in ("data", "ontology")
        for p in sorted((folder / name).rglob("*"))
        if p.is_file()
    }


def _problems(result) -> dict[str, str]:
    """where -> English message, for the workbook's own problems and the located report."""
    found = {p.where: p.message("en") for p in result.problems}
    if result.report is not None:
        for problem in result.report.problems:
            if problem.severity == "Violation":
                found[", ".join(problem.locations)] = problem.message("en")
    return found


# --- export -----------------------------------------------------------------------------------


def test_export_has_a_row_for_every_entry_of_each_kind(workbook_project):
    config, path = workbook_project
    layout = layout_for(config)
    book = load_workbook(path, read_only=True)
    for sheet in layout.sheets:
        keys = [
            row[0]
            for row in book[sheet.title].iter_rows(min_row=FIRST_ROW, values_only=True)
            if row and row[0]
        ]
        expected = sorted(r.slug for r in layout.resources.values() if r.kind == sheet.kind)
        assert sorted(keys) == expected, sheet.title


def test_export_names_each_column_in_german_and_english_with_help_from_the_shapes(workbook_project):
    _, path = workbook_project
    edited = EditedWorkbook(path)
    ws = edited.book[TALKS]
    column = edited.column(TALKS, KI + "speaker")
    assert ws.cell(1, column).value == "Vortragende Person *"
    assert ws.cell(2, column).value == "speaker *"
    note = ws.cell(1, column).comment.text
    assert "Ein Vortrag braucht mindestens eine vortragende Person (ki:speaker)." in note
    assert "A talk needs at least one speaker (ki:speaker)." in note
    name_de = edited.column(TALKS, SCHEMA + "name@de")
    assert (ws.cell(1, name_de).value, ws.cell(2, name_de).value) == (
        "Name (deutsch) *",
        "name (German) *",
    )


def test_export_writes_every_value_as_text_so_office_software_keeps_its_form(workbook_project):
    _, path = workbook_project
    edited = EditedWorkbook(path)
    start = edited.column(EVENTS, SCHEMA + "startDate")
    row = edited.row(EVENTS, "herbst-konferenz-2020-daseinsvorsorge-sichern")
    cell = edited.book[EVENTS].cell(row, start)
    assert cell.value == "2020-11-11T10:00:00+01:00"
    assert cell.number_format == "@"


def test_export_offers_the_entries_of_the_referenced_sheet_in_a_drop_down(workbook_project):
    _, path = workbook_project
    edited = EditedWorkbook(path)
    ws = edited.book[TALKS]
    letter = ws.cell(1, edited.column(TALKS, KI + "speaker")).column_letter
    lists = [
        v for v in ws.data_validations.dataValidation if f"{letter}{FIRST_ROW}" in str(v.sqref)
    ]
    assert len(lists) == 1
    assert lists[0].type == "list"
    assert lists[0].formula1.startswith("'Personen'!$A$4:$A$")


def test_export_offers_the_values_of_a_code_list_in_a_drop_down(workbook_project):
    _, path = workbook_project
    edited = EditedWorkbook(path)
    ws = edited.book[EVENTS]
    letter = ws.cell(1, edited.column(EVENTS, SCHEMA + "eventAttendanceMode")).column_letter
    (validation,) = [
        v for v in ws.data_validations.dataValidation if f"{letter}{FIRST_ROW}" in str(v.sqref)
    ]
    sheet, cells = validation.formula1.split("!")
    offered = [
        c.value for row in edited.book[sheet.strip("'")][cells.replace("$", "")] for c in row
    ]
    assert offered[0] == "online"
    assert len(offered) == 3


# --- round trip -------------------------------------------------------------------------------


def test_reading_the_export_back_gives_every_statement_of_the_sources(workbook_project):
    config, path = workbook_project
    layout = layout_for(config)
    workbook = read_workbook(path, layout)
    assert workbook.problems == []
    for iri, resource in layout.resources.items():
        assert reading.statement_set(workbook.resources[iri]) == reading.statement_set(resource)


def test_importing_an_unchanged_export_changes_no_file(workbook_project, sources_copy):
    config, path = workbook_project
    before = _files(sources_copy)
    result = import_workbook(config, path)
    assert result.passes
    assert (result.changed, result.added, result.written) == ([], [], [])
    assert _files(sources_copy) == before


def test_export_import_and_build_give_the_same_version(workbook_project, sources_copy):
    config, path = workbook_project
    first = build(config).release.version
    import_workbook(config, path)
    assert build(config).release.version == first


# --- changes ----------------------------------------------------------------------------------


def test_a_changed_row_rewrites_only_the_block_of_its_entry(workbook_project, sources_copy):
    config, path = workbook_project
    edited = EditedWorkbook(path)
    edited.set(TALKS, SCHEMA + "name@en", KUDEQUA, "A new English title")
    edited.save()
    talks = sources_copy / "data" / "talks.ttl"
    before = talks.read_text(encoding="utf-8").splitlines()
    result = import_workbook(config, path)
    assert result.passes
    assert result.changed == [f"{config.base_iri}id/talk/{KUDEQUA}"]
    after = talks.read_text(encoding="utf-8").splitlines()
    start = before.index(f"talk:{KUDEQUA} a ki:Talk ;")
    end = before.index("", start)  # the blank line after the block
    edits = [
        (i1, i2)
        for tag, i1, i2, _, _ in difflib.SequenceMatcher(a=before, b=after).get_opcodes()
        if tag != "equal"
    ]
    assert edits and all(start <= i1 and i2 <= end for i1, i2 in edits)
    assert [line for line in before if line.startswith("#")] == [
        line for line in after if line.startswith("#")
    ]
    assert '"A new English title"@en' in talks.read_text(encoding="utf-8")


def test_a_new_row_is_added_to_the_file_of_its_kind(workbook_project, sources_copy):
    config, path = workbook_project
    edited = EditedWorkbook(path)
    edited.add(
        PEOPLE,
        {
            "@id": "erika-mustermann",
            "http://www.w3.org/1999/02/22-rdf-syntax-ns#type": "Person",
            SCHEMA + "name": "Erika Mustermann",
            SCHEMA + "givenName": "Erika",
            SCHEMA + "familyName": "Mustermann",
            DCTERMS_SOURCE: "https://kommunen-innovativ.de/",
        },
    )
    edited.save()
    result = import_workbook(config, path)
    assert result.passes, _problems(result)
    assert result.added == [f"{config.base_iri}id/person/erika-mustermann"]
    people = (sources_copy / "data" / "people.ttl").read_text(encoding="utf-8")
    assert people.rstrip().endswith(
        "person:erika-mustermann a schema:Person ;\n"
        '    schema:name "Erika Mustermann" ;\n'
        '    schema:givenName "Erika" ;\n'
        '    schema:familyName "Mustermann" ;\n'
        "    dcterms:source <https://kommunen-innovativ.de/> ."
    )


def test_nothing_is_written_while_an_error_remains(workbook_project, sources_copy):
    config, path = workbook_project
    edited = EditedWorkbook(path)
    edited.set(TALKS, SCHEMA + "name@en", KUDEQUA, "A new English title")
    edited.set(TALKS, KI + "speaker", "2020-11-11-tempaland", "niemand")
    edited.save()
    before = _files(sources_copy)
    result = import_workbook(config, path)
    assert not result.passes
    assert result.written == []
    assert _files(sources_copy) == before


def test_values_typed_into_office_software_are_read_as_their_lexical_forms(workbook_project):
    config, path = workbook_project
    edited = EditedWorkbook(path)
    edited.set(EVENTS, SCHEMA + "startDate", "auftakt-2016", dt.datetime(2016, 6, 14))
    edited.set(TALKS, KI + "position", KUDEQUA, 2)
    edited.save()
    workbook = read_workbook(path, layout_for(config))
    event = workbook.resources[f"{config.base_iri}id/event/auftakt-2016"]
    talk = workbook.resources[f"{config.base_iri}id/talk/{KUDEQUA}"]
    xsd = "http://www.w3.org/2001/XMLSchema#"
    assert event.statements[SCHEMA + "startDate"] == [
        ox.Literal("2016-06-14", datatype=ox.NamedNode(xsd + "date"))
    ]
    assert talk.statements[KI + "position"] == [
        ox.Literal("2", datatype=ox.NamedNode(xsd + "integer"))
    ]


# --- problems at their cells -------------------------------------------------------------------


def test_an_unknown_reference_is_named_at_its_cell(workbook_project):
    config, path = workbook_project
    edited = EditedWorkbook(path)
    edited.set(TALKS, KI + "speaker", KUDEQUA, "niemand")
    edited.save()
    result = import_workbook(config, path, write=False)
    where = edited.cell_name(TALKS, KI + "speaker", KUDEQUA)
    (problem,) = result.problems
    assert problem.where == where
    assert problem.message("en").startswith("The reference “niemand” leads nowhere")
    assert problem.message("de").startswith("Der Verweis „niemand“ führt ins Leere")


def test_a_missing_source_is_named_at_its_cell_with_the_message_of_the_shapes(workbook_project):
    config, path = workbook_project
    edited = EditedWorkbook(path)
    edited.set(TALKS, DCTERMS_SOURCE, KUDEQUA, None)
    edited.save()
    result = import_workbook(config, path, write=False)
    assert not result.passes
    assert _problems(result) == {
        edited.cell_name(TALKS, DCTERMS_SOURCE, KUDEQUA): "Every statement needs a public "
        "source: dcterms:source with an http(s) address."
    }
    (problem,) = [p for p in result.report.problems if p.severity == "Violation"]
    assert problem.message("de").startswith("Jede Aussage braucht eine öffentliche Quelle")


def test_a_text_in_only_one_language_is_named_at_the_empty_cell_of_the_other(workbook_project):
    config, path = workbook_project
    edited = EditedWorkbook(path)
    edited.set(THEMES, "http://www.w3.org/2004/02/skos/core#definition@en", "daseinsvorsorge", None)
    edited.save()
    result = import_workbook(config, path, write=False)
    assert _problems(result) == {
        edited.cell_name(
            THEMES, "http://www.w3.org/2004/02/skos/core#definition@en", "daseinsvorsorge"
        ): "A theme needs an English definition (skos:definition with @en)."
    }


def test_a_date_in_another_form_is_named_at_its_cell_with_the_forms_it_takes(workbook_project):
    config, path = workbook_project
    edited = EditedWorkbook(path)
    edited.set(TALKS, SCHEMA + "startDate", KUDEQUA, "11.11.2020 10:30")
    edited.save()
    result = import_workbook(config, path, write=False)
    (problem,) = result.problems
    assert problem.where == edited.cell_name(TALKS, SCHEMA + "startDate", KUDEQUA)
    assert "“11.11.2020 10:30” is not a value of the form" in problem.message("en")
    assert "2020-11-11T10:00:00+01:00" in problem.message("en")


def test_a_time_without_zone_is_named_at_its_cell_by_the_shapes(workbook_project):
    config, path = workbook_project
    edited = EditedWorkbook(path)
    edited.set(TALKS, SCHEMA + "startDate", KUDEQUA, "2020-11-11T10:30:00")
    edited.save()
    result = import_workbook(config, path, write=False)
    found = _problems(result)
    assert list(found) == [edited.cell_name(TALKS, SCHEMA + "startDate", KUDEQUA)]
    assert "time zone" in found[edited.cell_name(TALKS, SCHEMA + "startDate", KUDEQUA)]


def test_a_value_outside_a_code_list_is_named_at_its_cell(workbook_project):
    config, path = workbook_project
    edited = EditedWorkbook(path)
    slug = "herbst-konferenz-2020-daseinsvorsorge-sichern"
    edited.set(EVENTS, SCHEMA + "eventAttendanceMode", slug, "im Garten")
    edited.save()
    (problem,) = import_workbook(config, path, write=False).problems
    assert problem.where == edited.cell_name(EVENTS, SCHEMA + "eventAttendanceMode", slug)
    assert problem.message("de").startswith("„im Garten“ ist keiner der Werte")


def test_a_key_used_twice_is_named_at_its_second_cell(workbook_project):
    config, path = workbook_project
    edited = EditedWorkbook(path)
    row = edited.add(PEOPLE, {"@id": "katrin-fahrenkrug"})
    edited.save()
    (problem,) = import_workbook(config, path, write=False).problems
    assert problem.where == f"Personen!A{row}"
    assert "already used in Personen!A" in problem.message("en")


def test_a_key_that_is_no_slug_is_named_at_its_cell(workbook_project):
    config, path = workbook_project
    edited = EditedWorkbook(path)
    row = edited.add(PEOPLE, {"@id": "Erika Mustermann"})
    edited.save()
    (problem,) = import_workbook(config, path, write=False).problems
    assert problem.where == f"Personen!A{row}"
    assert problem.message("de").startswith("„Erika Mustermann“ ist keine Kennung")


def test_several_values_in_a_single_value_column_are_named_at_their_cell(workbook_project):
    config, path = workbook_project
    edited = EditedWorkbook(path)
    edited.set(TALKS, SCHEMA + "startDate", KUDEQUA, "2020-11-11\n2020-11-12")
    edited.save()
    (problem,) = import_workbook(config, path, write=False).problems
    assert problem.where == edited.cell_name(TALKS, SCHEMA + "startDate", KUDEQUA)
    assert "takes at most one value" in problem.message("en")


def test_a_missing_column_stops_the_import_of_its_sheet(workbook_project):
    config, path = workbook_project
    edited = EditedWorkbook(path)
    edited.book[TALKS].delete_cols(edited.column(TALKS, DCTERMS_SOURCE))
    edited.save()
    (problem,) = import_workbook(config, path, write=False).problems
    assert problem.where == TALKS
    assert problem.message("en").startswith("The column “source” is missing")


def test_an_unknown_sheet_is_reported_not_skipped(workbook_project):
    config, path = workbook_project
    edited = EditedWorkbook(path)
    edited.book.create_sheet("Notizen").cell(4, 1, "etwas")
    edited.save()
    (problem,) = import_workbook(config, path, write=False).problems
    assert problem.where == "Notizen"


# --- hostile or careless files ----------------------------------------------------------------


def test_a_file_that_is_no_workbook_is_refused_in_both_languages(workbook_project, tmp_path):
    config, _ = workbook_project
    bogus = tmp_path / "not.xlsx"
    bogus.write_text("Name;Beginn\n", encoding="utf-8")
    with pytest.raises(WorkbookUnreadable) as caught:
        import_workbook(config, bogus)
    assert "not a workbook (.xlsx or .ods)" in caught.value.messages["en"]
    assert "keine Arbeitsmappe (.xlsx oder .ods)" in caught.value.messages["de"]


def test_a_file_of_another_kind_is_refused_by_its_name(workbook_project, tmp_path):
    config, _ = workbook_project
    table = tmp_path / "programm.csv"
    table.write_text("Kennung;Name\n", encoding="utf-8")
    with pytest.raises(WorkbookUnreadable) as caught:
        import_workbook(config, table)
    assert caught.value.messages["en"].endswith("a workbook is an .xlsx or .ods file.")


def test_a_workbook_larger_unpacked_than_the_bound_is_refused_before_it_is_read(
    workbook_project, monkeypatch
):
    config, path = workbook_project
    monkeypatch.setattr(reading, "MAX_UNPACKED_BYTES", 100_000)
    with pytest.raises(WorkbookUnreadable) as caught:
        import_workbook(config, path)
    assert "unpacked, more than allowed" in caught.value.messages["en"]


def test_reading_a_sheet_stops_after_a_long_run_of_empty_rows(workbook_project, monkeypatch):
    config, path = workbook_project
    monkeypatch.setattr(reading, "EMPTY_RUN", 5)
    edited = EditedWorkbook(path)
    ws = edited.book[PEOPLE]
    ws.cell(ws.max_row + 10, 1, "weit-unten")
    edited.save()
    workbook = read_workbook(path, layout_for(config))
    assert workbook.problems == []
    assert f"{config.base_iri}id/person/weit-unten" not in workbook.resources


def test_a_sheet_with_more_rows_than_the_bound_is_refused(workbook_project, monkeypatch):
    config, path = workbook_project
    monkeypatch.setattr(reading, "MAX_ROWS", 10)
    with pytest.raises(WorkbookUnreadable) as caught:
        import_workbook(config, path)
    assert "has more than 10 rows" in caught.value.messages["en"]


# --- the command ------------------------------------------------------------------------------


def test_the_import_command_names_the_cell_in_german_and_exits_1(workbook_project, sources_copy):
    _, path = workbook_project
    edited = EditedWorkbook(path)
    edited.set(TALKS, KI + "speaker", KUDEQUA, "niemand")
    edited.save()
    done = run_cli(sources_copy, "workbook", "import", str(path), "--lang", "de", timeout=120)
    assert done.returncode == 1
    assert f"FEHLER  {edited.cell_name(TALKS, KI + 'speaker', KUDEQUA)}" in done.stderr
    assert "Nicht übernommen: 1 Fehler; keine Datei wurde geändert." in done.stderr


def test_the_export_command_writes_a_workbook_and_says_what_it_holds(sources_copy):
    done = run_cli(sources_copy, "workbook", "export", "neu.xlsx", timeout=120)
    assert done.returncode == 0, done.stderr
    assert "entries on 10 sheets" in done.stdout
    assert (sources_copy / "neu.xlsx").stat().st_size > 0


def test_the_repository_is_unchanged_by_these_tests():
    # the fixtures work on copies; the real data must never be touched
    assert not (ROOT / "programm.xlsx").exists()


# --- an old workbook and newer Turtle ---------------------------------------------------------


def _edit_turtle(sources_copy: Path, old: str, new: str) -> None:
    talks = sources_copy / "data" / "talks.ttl"
    text = talks.read_text(encoding="utf-8")
    assert old in text
    talks.write_text(text.replace(old, new), encoding="utf-8")


# the English name of the KuDeQua talk as data/talks.ttl writes it
KUDEQUA_EN = '"Neighbourhood labs – citizen-backed financing and organisation models"@en'


def test_an_unchanged_row_never_undoes_a_later_edit_in_turtle(workbook_project, sources_copy):
    config, path = workbook_project
    _edit_turtle(sources_copy, KUDEQUA_EN, '"Edited in Turtle"@en')
    edited = EditedWorkbook(path)
    edited.set(PEOPLE, SCHEMA + "honorificPrefix", "katrin-fahrenkrug", "Dr.")
    edited.save()
    result = import_workbook(config, path)
    assert result.passes
    assert result.changed == [f"{config.base_iri}id/person/katrin-fahrenkrug"]
    assert '"Edited in Turtle"@en' in (sources_copy / "data" / "talks.ttl").read_text("utf-8")
    (note,) = result.notes
    assert note.where == edited.cell_name(TALKS, "@id", KUDEQUA)
    assert "changed in Turtle since the export" in note.message("en")


def test_a_row_changed_in_the_workbook_and_in_turtle_is_refused_at_its_key(
    workbook_project, sources_copy
):
    config, path = workbook_project
    _edit_turtle(sources_copy, KUDEQUA_EN, '"Edited in Turtle"@en')
    edited = EditedWorkbook(path)
    edited.set(TALKS, SCHEMA + "name@en", KUDEQUA, "Edited in the workbook")
    edited.save()
    result = import_workbook(config, path)
    (problem,) = result.problems
    assert problem.where == edited.cell_name(TALKS, "@id", KUDEQUA)
    assert "also changed in Turtle since the export" in problem.message("en")
    assert result.written == []


def test_a_new_row_with_the_key_of_an_entry_added_in_turtle_since_is_refused(
    workbook_project, sources_copy
):
    config, path = workbook_project
    people = sources_copy / "data" / "people.ttl"
    people.write_text(
        people.read_text(encoding="utf-8")
        + '\nperson:erika-mustermann a schema:Person ; schema:name "Erika Mustermann" ;\n'
        '    schema:givenName "Erika" ; schema:familyName "Mustermann" ;\n'
        "    dcterms:source <https://kommunen-innovativ.de/> .\n",
        encoding="utf-8",
    )
    edited = EditedWorkbook(path)
    row = edited.add(
        PEOPLE,
        {
            "@id": "erika-mustermann",
            "http://www.w3.org/1999/02/22-rdf-syntax-ns#type": "Person",
            SCHEMA + "name": "Erika Musterfrau",
        },
    )
    edited.save()
    result = import_workbook(config, path, write=False)
    (problem,) = result.problems
    assert problem.where == f"Personen!A{row}"
    assert "exists in the data already (data/people.ttl)" in problem.message("en")


def test_a_row_no_longer_in_the_workbook_is_named_and_left_as_it_is(workbook_project, sources_copy):
    config, path = workbook_project
    edited = EditedWorkbook(path)
    edited.book[PEOPLE].delete_rows(edited.row(PEOPLE, "katrin-fahrenkrug"))
    edited.save()
    before = _files(sources_copy)
    result = import_workbook(config, path)
    assert result.passes and _files(sources_copy) == before
    (note,) = result.notes
    assert "No longer in the workbook" in note.message("en")
    assert "person/katrin-fahrenkrug" in note.message("en")


def test_the_import_command_says_when_there_is_nothing_to_write(workbook_project, sources_copy):
    _, path = workbook_project
    done = run_cli(sources_copy, "workbook", "import", str(path), timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith(
        "0 changed, 0 new, 0 not in the workbook and left as they are; nothing to write"
    )
