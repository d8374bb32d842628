"""``kommunen-kg validate`` is never silently wrong (issue 11).

The documentation team trusts what passes the check. So a check that has nothing to check
against says so, a misspelt term is an error at the line that writes it, an impossible date is
one clean line, and a report says ``sh:conforms false`` whenever it has a result.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import rdflib
from click.testing import CliRunner

from kommunen_kg.cli import main

SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")


def validate(folder: Path, *args: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(folder)
    return CliRunner().invoke(main, ["validate", *args])


def replace_first(root: Path, file: str, old: str, new: str) -> int:
    """Replaces the first ``old`` in ``file``; returns the line it is on."""
    path = root / file
    text = path.read_text(encoding="utf-8")
    at = text.index(old)
    path.write_text(text[:at] + new + text[at + len(old) :], encoding="utf-8")
    return text[:at].count("\n") + 1


def errors_at(output: str) -> list[tuple[str, str]]:
    """(location, message) of every ERROR in a text report."""
    found = []
    blocks = output.split("\n\n")
    for block in blocks:
        lines = block.strip().splitlines()
        if lines and lines[0].startswith(("ERROR", "FEHLER")):
            found.append((lines[0].split()[1], lines[-1].strip()))
    return found


def test_outside_a_project_validate_names_what_is_missing_instead_of_passing(tmp_path, monkeypatch):
    talk = tmp_path / "talk.ttl"
    talk.write_text(
        "<https://w3id.org/kommunen-innovativ/id/talk/x> a "
        "<https://w3id.org/kommunen-innovativ/def#Talk> .\n",
        encoding="utf-8",
    )
    for args in ((), ("talk.ttl",)):
        result = validate(tmp_path, *args, monkeypatch=monkeypatch)
        assert result.exit_code == 1, result.output
        assert "no kommunen-kg.toml" in result.output
        assert "no SHACL shapes" in result.output
        assert "Traceback" not in result.output and "0 errors" not in result.output


def test_named_data_files_are_checked_in_the_context_of_all_the_data(sources_copy, monkeypatch):
    result = validate(sources_copy, "data/talks.ttl", "data/people.ttl", monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    assert "0 errors" in result.output


def test_a_named_copy_of_a_data_file_takes_its_place(sources_copy, monkeypatch):
    draft = sources_copy / "draft.ttl"
    draft.write_text((sources_copy / "data/talks.ttl").read_text(encoding="utf-8"), "utf-8")
    (sources_copy / "data/talks.ttl").unlink()
    result = validate(sources_copy, "draft.ttl", monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output


def test_a_misspelt_schema_property_is_an_error_at_its_line_naming_the_right_one(
    sources_copy, monkeypatch
):
    line = replace_first(
        sources_copy, "data/talks.ttl", "schema:description ", "schema:descripton "
    )
    result = validate(sources_copy, monkeypatch=monkeypatch)
    assert result.exit_code == 1
    assert (
        f"data/talks.ttl:{line}",
        "schema:descripton is no property the vocabulary or the shapes know; a typo? "
        "Did you mean schema:description? Otherwise what this statement was to say is "
        "missing from the pages and the queries.",
    ) in errors_at(result.output)


def test_a_term_our_vocabulary_does_not_define_is_an_error_at_its_line(sources_copy, monkeypatch):
    line = replace_first(sources_copy, "data/projects.ttl", "ki:theme ", "ki:theem ")
    result = validate(sources_copy, monkeypatch=monkeypatch)
    locations = {where for where, message in errors_at(result.output) if "ki:theem" in message}
    assert locations == {f"data/projects.ttl:{line}"}
    assert "Did you mean ki:theme?" in result.output


def test_a_misspelt_property_is_named_at_the_typo_not_only_as_a_missing_value(
    sources_copy, monkeypatch
):
    line = replace_first(sources_copy, "data/talks.ttl", "ki:speaker ", "ki:speeker ")
    result = validate(sources_copy, monkeypatch=monkeypatch)
    assert (f"data/talks.ttl:{line}") in [w for w, m in errors_at(result.output) if "speeker" in m]


def test_a_misspelt_class_is_an_error_at_its_line(sources_copy, monkeypatch):
    line = replace_first(sources_copy, "data/talks.ttl", "a ki:Talk", "a ki:Tallk")
    result = validate(sources_copy, "--lang", "de", monkeypatch=monkeypatch)
    messages = [m for w, m in errors_at(result.output) if w == f"data/talks.ttl:{line}"]
    assert any("ki:Tallk ist keine Klasse" in m and "ki:Talk" in m for m in messages), messages


def test_an_impossible_date_is_one_clean_line_with_file_and_line(sources_copy, monkeypatch):
    text = (sources_copy / "data/events.ttl").read_text(encoding="utf-8")
    date = re.search(r'"(2020-11-11)T10:00:00\+01:00"', text)
    assert date is not None
    line = replace_first(
        sources_copy, "data/events.ttl", date.group(0), '"2020-11-31T10:00:00+01:00"'
    )
    monkeypatch.chdir(sources_copy)
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    assert (
        f"data/events.ttl:{line}",
        '"2020-11-31T10:00:00+01:00" is no valid xsd:dateTime: November 2020 has no day 31.',
    ) in errors_at(result.stdout)


def test_an_ill_formed_language_tag_is_one_line_with_file_and_line(sources_copy, monkeypatch):
    line = replace_first(sources_copy, "data/talks.ttl", '"@en', '"@e!n')
    result = validate(sources_copy, monkeypatch=monkeypatch)
    assert result.exit_code == 1
    assert re.search(rf"data/talks\.ttl:{line}:\d+: ", result.output), result.output
    assert "Traceback" not in result.output


def test_a_report_with_only_notes_does_not_conform_yet_passes(sources_copy, monkeypatch):
    """SHACL: sh:conforms is true only without any result (W3C core/misc/severity-001); the
    exit code goes by errors only, so notes stay advice."""
    turtle = validate(sources_copy, "--format", "turtle", monkeypatch=monkeypatch)
    assert turtle.exit_code == 0
    graph = rdflib.Graph().parse(data=turtle.output, format="turtle")
    report = next(graph.subjects(rdflib.RDF.type, SH.ValidationReport))
    assert graph.value(report, SH.conforms) == rdflib.Literal(False)
    assert len(list(graph.objects(report, SH.result))) == 3
    as_json = json.loads(validate(sources_copy, "--format", "json", monkeypatch=monkeypatch).output)
    assert as_json["conforms"] is False and as_json["passes"] is True
    assert as_json["counts"] == {"violation": 0, "warning": 0, "info": 3}
