"""The workbook with real office software, and the guide (docs/authoring.md) followed end to end.

LibreOffice (Debian's ``libreoffice-calc-nogui``, headless) opens the generated workbook and
saves it again, as a team member's office software would; the re-saved file must import to the
same graph. Then the guide's steps: export, add an event with two talks, a new speaker and an
existing project in the workbook, import, build, and find them on the pages and in SPARQL.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from kommunen_kg.build.pipeline import build
from kommunen_kg.build.workbook import reading
from kommunen_kg.build.workbook.export import export_workbook
from kommunen_kg.build.workbook.importer import import_workbook, layout_for
from kommunen_kg.build.workbook.reading import read_workbook
from kommunen_kg.config import load_config
from kommunen_kg.web.publication import derived_files, open_release

from .support import ROOT
from .workbook_support import DCTERMS_SOURCE, KI, SCHEMA, EditedWorkbook

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
needs_office = pytest.mark.skipif(
    SOFFICE is None, reason="LibreOffice (Debian's libreoffice-calc-nogui) is not installed"
)


def _resave_with_libreoffice(source: Path, folder: Path) -> Path:
    """``source`` opened and saved again as .xlsx by LibreOffice Calc, headless, with a profile
    of its own (so that a running LibreOffice of the user is not disturbed)."""
    folder.mkdir(parents=True, exist_ok=True)
    profile = (folder / "profile").as_uri()
    done = subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation={profile}",
            "--headless",
            "--calc",
            "--convert-to",
            "xlsx:Calc MS Excel 2007 XML",
            "--outdir",
            str(folder),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    saved = folder / source.name
    assert done.returncode == 0 and saved.exists(), done.stderr
    return saved


@pytest.mark.office
@pytest.mark.slow
@needs_office
def test_a_workbook_saved_again_by_libreoffice_imports_to_the_same_graph(
    workbook_project, tmp_path
):
    config, path = workbook_project
    saved = _resave_with_libreoffice(path, tmp_path / "libreoffice")
    assert saved.read_bytes() != path.read_bytes()  # really written by LibreOffice
    layout = layout_for(config)
    workbook = read_workbook(saved, layout)
    assert workbook.problems == []
    assert {
        iri: reading.statement_set(resource) for iri, resource in workbook.resources.items()
    } == {iri: reading.statement_set(resource) for iri, resource in layout.resources.items()}
    result = import_workbook(config, saved)
    assert result.passes
    assert (result.changed, result.added, result.written) == ([], [], [])


@pytest.mark.office
@pytest.mark.slow
@needs_office
def test_an_entry_added_to_a_workbook_libreoffice_saved_is_taken_over(workbook_project, tmp_path):
    config, path = workbook_project
    saved = _resave_with_libreoffice(path, tmp_path / "libreoffice")
    edited = EditedWorkbook(saved)
    edited.set("Vorträge", SCHEMA + "name@en", "2020-11-11-kudequa", "KuDeQua, renamed")
    edited.save()
    result = import_workbook(config, saved)
    assert result.passes
    assert result.changed == [f"{config.base_iri}id/talk/2020-11-11-kudequa"]


@pytest.mark.office
@pytest.mark.slow
@needs_office
def test_an_ods_workbook_round_trips_through_libreoffice(sources_copy):
    config = load_config(sources_copy / "kommunen-kg.toml")
    path = sources_copy / "programm.ods"
    export_workbook(layout_for(config), path)
    assert path.read_bytes()[:2] == b"PK" and b"opendocument.spreadsheet" in path.read_bytes()[:200]
    result = import_workbook(config, path)
    assert result.passes
    assert (result.changed, result.added, result.written) == ([], [], [])


# --- the guide, step by step ------------------------------------------------------------------

EVENT = "beispiel-konferenz-2027"
SPEAKER = "erika-mustermann"
SOURCE = "https://kommunen-innovativ.de/"


def _add_the_next_event(edited: EditedWorkbook) -> None:
    """What docs/authoring.md tells the team to fill in: a new person first, then the event,
    then its talks, pointing at the existing project lebensWert."""
    edited.add(
        "Personen",
        {
            "@id": SPEAKER,
            RDF_TYPE: "Person",
            SCHEMA + "name": "Erika Mustermann",
            SCHEMA + "givenName": "Erika",
            SCHEMA + "familyName": "Mustermann",
            SCHEMA + "affiliation": "bmbf",
            DCTERMS_SOURCE: SOURCE,
        },
    )
    edited.add(
        "Veranstaltungen",
        {
            "@id": EVENT,
            RDF_TYPE: "Fachkonferenz",
            SCHEMA + "name@de": "Beispiel-Konferenz 2027",
            SCHEMA + "name@en": "Example conference 2027",
            SCHEMA + "startDate": "2027-03-10T10:00:00+01:00",
            SCHEMA + "endDate": "2027-03-10T16:00:00+01:00",
            SCHEMA + "location": "Berlin",
            DCTERMS_SOURCE: SOURCE,
        },
    )
    for number, (slug, speakers) in enumerate(
        [
            ("2027-03-10-eroeffnung", SPEAKER),
            ("2027-03-10-lebenswert", f"{SPEAKER}\nkatrin-fahrenkrug"),
        ],
        start=1,
    ):
        edited.add(
            "Vorträge",
            {
                "@id": slug,
                RDF_TYPE: "Vortrag",
                SCHEMA + "name@de": f"Beispielvortrag {number}",
                SCHEMA + "name@en": f"Example talk {number}",
                SCHEMA + "superEvent": f"event/{EVENT}",
                SCHEMA + "startDate": f"2027-03-10T1{number}:00:00+01:00",
                KI + "speaker": speakers,
                KI + "presentsProject": "lebenswert",
                KI + "position": number,
                DCTERMS_SOURCE: SOURCE,
            },
        )


@pytest.mark.slow
def test_the_guide_adds_an_event_with_two_talks_a_new_speaker_and_an_existing_project(
    workbook_project,
):
    config, path = workbook_project
    edited = EditedWorkbook(path)
    _add_the_next_event(edited)
    edited.save()

    checked = import_workbook(config, path, write=False)
    assert checked.passes, [(p.where, p.message("en")) for p in checked.problems]
    result = import_workbook(config, path)
    assert sorted(Path(p).name for p in result.written) == [
        "events.ttl",
        "people.ttl",
        "talks.ttl",
    ]
    assert len(result.added) == 4 and result.changed == []

    release = build(config, derived=lambda files: derived_files(config, files)).release
    from kommunen_kg.web.app import create_app

    client = create_app(open_release(config, release)).test_client()
    page = client.get(f"/page/event/{EVENT}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Beispiel-Konferenz 2027" in text
    assert "Beispielvortrag 1" in text and "Beispielvortrag 2" in text
    person = client.get(f"/page/person/{SPEAKER}?lang=en").get_data(as_text=True)
    assert "Erika Mustermann" in person and "Example talk 2" in person

    query = f"""PREFIX schema: <http://schema.org/> PREFIX ki: <{config.base_iri}def#>
        SELECT ?talk ?speaker ?project WHERE {{
          ?talk schema:superEvent <{config.base_iri}id/event/{EVENT}> ;
                ki:speaker ?speaker ; ki:presentsProject ?project }} ORDER BY ?talk ?speaker"""
    answer = client.get(
        "/sparql",
        query_string={"query": query},
        headers={"Accept": "application/sparql-results+json"},
    )
    assert answer.status_code == 200
    rows = [
        (
            b["talk"]["value"].rsplit("/", 1)[1],
            b["speaker"]["value"].rsplit("/", 1)[1],
            b["project"]["value"].rsplit("/", 1)[1],
        )
        for b in json.loads(answer.get_data())["results"]["bindings"]
    ]
    assert rows == [
        ("2027-03-10-eroeffnung", SPEAKER, "lebenswert"),
        ("2027-03-10-lebenswert", SPEAKER, "lebenswert"),
        ("2027-03-10-lebenswert", "katrin-fahrenkrug", "lebenswert"),
    ]


def _featured_heading(sources: Path, examples: str) -> str:
    """The heading of the home page's featured programme after a build with
    ``example_resources = examples`` in kommunen-kg.toml (the guide's section 3)."""
    import lxml.html

    from kommunen_kg.web.app import create_app

    toml = sources / "kommunen-kg.toml"
    text = toml.read_text(encoding="utf-8")
    start = text.index("example_resources = ")
    end = text.index("\n", start)
    toml.write_text(text[:start] + f"example_resources = {examples}" + text[end:], "utf-8")
    config = load_config(toml)
    release = build(config, derived=lambda files: derived_files(config, files)).release
    client = create_app(open_release(config, release)).test_client()
    doc = lxml.html.fromstring(client.get("/?lang=en").get_data(as_text=True))
    return " ".join(doc.xpath("//section[@class='featured']/h2")[0].text_content().split())


@pytest.mark.slow
def test_the_home_page_features_the_first_event_of_the_configured_examples(workbook_project):
    config, path = workbook_project
    edited = EditedWorkbook(path)
    _add_the_next_event(edited)
    edited.save()
    assert import_workbook(config, path).passes
    sources = config.root
    new, old = f'"event/{EVENT}"', '"event/herbst-konferenz-2020-daseinsvorsorge-sichern"'
    assert "Example conference 2027" in _featured_heading(sources, f"[{new}, {old}]")
    assert "Secure public services!" in _featured_heading(sources, f"[{old}, {new}]")


def test_the_guide_exists_in_german_first_and_english_after():
    guide = (ROOT / "docs" / "authoring.md").read_text(encoding="utf-8")
    german = guide.find("kommunen-kg workbook export")
    assert german != -1
    assert 0 < guide.index("## Deutsch") < guide.index("## English")
    for command in ("workbook export", "workbook import", "--check", "build"):
        assert command in guide
