"""One broken fixture per shape family, and the exact report each gives.

Each fixture is the real sources (data/ or the theme scheme in ontology/) with one mistake an
editor could make. The report must name the resource, the property, the value, the message in
German and English, and the file and line that describe the resource, and nothing else may be
reported as a violation.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kommunen_kg.build.pipeline import check
from kommunen_kg.build.validate import Problem, ValidationReport
from kommunen_kg.cli import main
from kommunen_kg.config import load_config

BASE = "https://w3id.org/kommunen-innovativ/"


def edit(root: Path, file: str, old: str, new: str, count: int = 1) -> None:
    """Replaces ``old`` in ``file`` (relative to the sources' root), which must hold it exactly
    ``count`` times, so that a fixture cannot silently miss or hit more than it means to."""
    path = root / file
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == count, f"fixture text not {count} times in {file}: {old!r}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def break_sources(root: Path, spec: dict) -> None:
    """Makes the mistake a case of :data:`CASES` describes in the sources under ``root``."""
    edit(root, spec["file"], spec["old"], spec["new"], spec.get("count", 1))
    for file, old, new in spec.get("extra_edits", []):
        edit(root, file, old, new)


def line_of(root: Path, file: str, start: str) -> int:
    lines = (root / file).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.startswith(start))


def violations_of(root: Path):
    report = check(load_config(root / "kommunen-kg.toml"))
    return [p for p in report.problems if p.severity == "Violation"]


def only_violation(root: Path):
    violations = violations_of(root)
    assert len(violations) == 1, [(v.focus, v.path, v.message("en")) for v in violations]
    return violations[0]


CASES = {
    "missing title": dict(
        file="data/events.ttl",
        old='    schema:name "Vielfalt leben!"@de , "Embrace diversity!"@en ;\n',
        new="",
        focus="id/event/herbst-konferenz-2020-vielfalt-leben",
        subject="event:herbst-konferenz-2020-vielfalt-leben",
        path="http://schema.org/name",
        value=None,
        en="An event needs a title (schema:name) with a language tag, at most one per language.",
        de="Eine Veranstaltung braucht einen Titel (schema:name) mit Sprachangabe, höchstens "
        "einen je Sprache.",
        # the German-title shape reports the same gap in its own words
        also=["An event needs a German title (schema:name with @de)."],
    ),
    "speaker that is not a person": dict(
        file="data/talks.ttl",
        old="ki:speaker person:peter-dehne ;",
        new="ki:speaker <id/organisation/hs-neubrandenburg> ;",
        focus="id/talk/2020-11-11-externer-blick",
        subject="talk:2020-11-11-externer-blick",
        path=BASE + "def#speaker",
        value=BASE + "id/organisation/hs-neubrandenburg",
        en="A speaker (ki:speaker) is a person (schema:Person).",
        de="Wer vorträgt (ki:speaker), ist eine Person (schema:Person).",
    ),
    "talk without speaker": dict(
        file="data/talks.ttl",
        old="    ki:speaker person:christa-reicher ;\n",
        new="",
        focus="id/talk/2020-11-11-dewak",
        subject="talk:2020-11-11-dewak",
        path=BASE + "def#speaker",
        value=None,
        en="A talk needs at least one speaker (ki:speaker).",
        de="Ein Vortrag braucht mindestens eine vortragende Person (ki:speaker).",
    ),
    "talk that belongs to no event": dict(
        file="data/talks.ttl",
        old="    schema:superEvent event:herbst-konferenz-2020-eroeffnung ;\n    ki:speaker person:gesine-schwan ;",
        new="    ki:speaker person:gesine-schwan ;",
        focus="id/talk/2020-10-28-beitrag-schwan",
        subject="talk:2020-10-28-beitrag-schwan",
        path="http://schema.org/superEvent",
        value=None,
        en="A programme item belongs to an event (schema:superEvent is missing).",
        de="Ein Programmpunkt gehört zu einer Veranstaltung (schema:superEvent fehlt).",
    ),
    "date without time zone": dict(
        file="data/talks.ttl",
        old='schema:startDate "2020-11-11T11:30:00+01:00"^^xsd:dateTime',
        new='schema:startDate "2020-11-11T11:30:00"^^xsd:dateTime',
        focus="id/panel/2020-11-11-podium",
        subject="panel:2020-11-11-podium",
        path="http://schema.org/startDate",
        value='"2020-11-11T11:30:00"^^<http://www.w3.org/2001/XMLSchema#dateTime>',
        en="The start (schema:startDate) is given at most once and is an xsd:date or an "
        'xsd:dateTime with a time zone, such as "2020-11-11T10:00:00+01:00".',
        de="Der Beginn (schema:startDate) ist höchstens einmal angegeben und ein xsd:date oder "
        'ein xsd:dateTime mit Zeitzone, etwa "2020-11-11T10:00:00+01:00".',
    ),
    "end before start": dict(
        file="data/events.ttl",
        old='schema:endDate "2019-09-12"^^xsd:date ;',
        new='schema:endDate "2019-09-10"^^xsd:date ;',
        focus="id/event/fachkonferenz-2019",
        subject="event:fachkonferenz-2019",
        path="http://schema.org/startDate",
        value='"2019-09-11"^^<http://www.w3.org/2001/XMLSchema#date>',
        en="An event cannot end before it starts (schema:startDate after schema:endDate).",
        de="Eine Veranstaltung kann nicht enden, bevor sie beginnt (schema:startDate nach "
        "schema:endDate).",
    ),
    "theme outside the scheme": dict(
        file="data/talks.ttl",
        old="ki:theme theme:erfolgsfaktoren , theme:haupt-und-ehrenamt ;",
        new="ki:theme theme:erfolgsfaktoren , <http://example.org/theme/success> ;",
        focus="id/talk/2020-11-11-externer-blick",
        subject="talk:2020-11-11-externer-blick",
        path=BASE + "def#theme",
        value="http://example.org/theme/success",
        en="A theme (ki:theme) must be a concept of the theme scheme (skos:inScheme "
        "<id/scheme/themes>).",
        de="Ein Thema (ki:theme) muss ein Begriff des Themenschemas sein (skos:inScheme "
        "<id/scheme/themes>).",
    ),
    "untagged organisation name": dict(
        file="data/organisations.ttl",
        old='    schema:name "Hochschule Neubrandenburg"@de ;',
        new='    schema:name "Hochschule Neubrandenburg" ;',
        focus="id/organisation/hs-neubrandenburg",
        subject="org:hs-neubrandenburg",
        path="http://schema.org/name",
        value='"Hochschule Neubrandenburg"',
        en="An organisation needs a name (schema:name) with a language tag, at most one per "
        "language.",
        de="Eine Organisation braucht einen Namen (schema:name) mit Sprachangabe, höchstens "
        "einen je Sprache.",
        also=["An organisation needs a German name (schema:name with @de)."],
    ),
    "person name with a title in it": dict(
        file="data/people.ttl",
        old='    schema:name "Peter Dehne" ;',
        new='    schema:name "Prof. Dr. Peter Dehne" ;',
        focus="id/person/peter-dehne",
        subject="person:peter-dehne",
        path="http://schema.org/name",
        value='"Prof. Dr. Peter Dehne"',
        en='The name (schema:name) must be given name and family name: "Peter Dehne".',
        de='Der Name (schema:name) muss aus Vor- und Nachname bestehen: "Peter Dehne".',
    ),
    "missing source": dict(
        file="data/projects.ttl",
        old="""    dcterms:source <https://kommunen-innovativ.de/dewak> , <https://kommunen-innovativ.de/node/442> ,
        <http://arch.rwth-aachen.de/cms/Staedtebau/Forschung/Forschungsprojekte/Sonstiges/~rsve/DeWaK-Den-demografischen-Wandel-bewaelt/> .""",
        new="""    schema:name "DeWaK" .""".replace(
            'schema:name "DeWaK"', "schema:funder org:bmbf"
        ),
        focus="id/project/dewak",
        subject="project:dewak",
        path="http://purl.org/dc/terms/source",
        value=None,
        en="Every statement needs a public source: dcterms:source with an http(s) address.",
        de="Jede Aussage braucht eine öffentliche Quelle: dcterms:source mit einer "
        "http(s)-Adresse.",
    ),
    "joint project without its German full title": dict(
        file="data/projects.ttl",
        old='    ki:fullTitle "Quartierslabore – Kultur- und demographiesensible Entwicklung '
        "bürgerschaftlich getragener Finanzierungs- und Organisationsmodelle für "
        'gesellschaftliche Dienstleistungen im Quartier"@de ,\n        "Neighbourhood labs',
        new='    ki:fullTitle "Neighbourhood labs',
        focus="id/project/kudequa",
        subject="project:kudequa",
        path=BASE + "def#fullTitle",
        value=None,
        en="A project needs its full title (ki:fullTitle) in German, at most one per language.",
        de="Ein Vorhaben braucht seinen vollständigen Titel (ki:fullTitle) auf Deutsch, "
        "höchstens einen je Sprache.",
    ),
    "joint project without coordinator": dict(
        file="data/projects.ttl",
        old="    ki:coordinator org:stadt-dortmund ;\n",
        new="",
        focus="id/project/kudequa",
        subject="project:kudequa",
        path=BASE + "def#coordinator",
        value=None,
        en="A joint project names its lead organisation (ki:coordinator).",
        de="Ein Verbundvorhaben nennt seine leitende Organisation (ki:coordinator).",
    ),
    "accompanying project that accompanies no funding measure": dict(
        file="data/projects.ttl",
        old="    ki:accompanies funding:kommunen-innovativ , "
        "funding:region-innovativ-kreislaufwirtschaft ;\n",
        new="",
        focus="id/project/komkomin",
        subject="project:komkomin",
        path=BASE + "def#accompanies",
        value=None,
        en="An accompanying project names the funding measure (ki:accompanies) it accompanies.",
        de="Ein Begleitvorhaben nennt die Fördermaßnahme (ki:accompanies), die es begleitet.",
    ),
    "funding measure without a German name": dict(
        file="data/projects.ttl",
        old='    schema:name "REGION.innovativ – Kreislaufwirtschaft"@de ;',
        new='    schema:name "REGION.innovativ – Kreislaufwirtschaft"@en ;',
        focus="id/funding/region-innovativ-kreislaufwirtschaft",
        subject="funding:region-innovativ-kreislaufwirtschaft",
        path="http://schema.org/name",
        value=None,
        en="A funding measure needs a German name (schema:name with @de), at most one per "
        "language.",
        de="Eine Fördermaßnahme braucht einen deutschen Namen (schema:name mit @de), höchstens "
        "einen je Sprache.",
    ),
    "publication without a German title": dict(
        file="data/events.ttl",
        old='    schema:name "Kommunen innovativ erhalten!"@de , '
        '"Keep “Kommunen innovativ” going!"@en ;',
        new='    schema:name "Keep “Kommunen innovativ” going!"@en ;',
        focus="id/publication/memorandum-kommunen-innovativ-erhalten",
        subject="doc:memorandum-kommunen-innovativ-erhalten",
        path="http://schema.org/name",
        value=None,
        en="A publication needs a German title (schema:name with @de), at most one per language.",
        de="Eine Veröffentlichung braucht einen deutschen Titel (schema:name mit @de), höchstens "
        "einen je Sprache.",
    ),
    "panel without panellist": dict(
        file="data/talks.ttl",
        old="    ki:panelist person:thomas-eble , person:peter-dehne ;\n",
        new="",
        focus="id/panel/2020-11-11-podium",
        subject="panel:2020-11-11-podium",
        path=BASE + "def#panelist",
        value=None,
        en="A panel needs panellists (ki:panelist), each a person (schema:Person).",
        de="Eine Podiumsdiskussion braucht Teilnehmende (ki:panelist), und jede davon ist eine "
        "Person (schema:Person).",
    ),
    "session whose talks name another event": dict(
        file="data/talks.ttl",
        old="    schema:superEvent session:2020-11-11-schlaglichter ;",
        new="    schema:superEvent event:herbst-konferenz-2020-daseinsvorsorge-sichern ;",
        count=3,  # all three talks of the session
        focus="id/session/2020-11-11-schlaglichter",
        subject="session:2020-11-11-schlaglichter",
        path="^http://schema.org/superEvent",
        value=None,
        en="A session needs at least one programme item that names it as its schema:superEvent.",
        de="Ein Programmblock braucht mindestens einen Programmpunkt, der ihn als "
        "schema:superEvent nennt.",
    ),
    "conference event without its series": dict(
        file="data/events.ttl",
        old='    schema:name "Innen entwickeln!"@de , "Develop inner areas first!"@en ;\n'
        "    schema:superEvent event:herbst-konferenz-2020 ;\n",
        new='    schema:name "Innen entwickeln!"@de , "Develop inner areas first!"@en ;\n',
        focus="id/event/herbst-konferenz-2020-innen-entwickeln",
        subject="event:herbst-konferenz-2020-innen-entwickeln",
        path="http://schema.org/superEvent",
        value=None,
        en="An event of a conference series names the series (ki:ConferenceSeries) as its "
        "schema:superEvent.",
        de="Eine Veranstaltung einer Konferenzreihe nennt die Reihe (ki:ConferenceSeries) als "
        "schema:superEvent.",
    ),
    "theme without an English label": dict(
        file="ontology/themes.ttl",
        old='    skos:prefLabel "Wohnen"@de , "housing"@en ;',
        new='    skos:prefLabel "Wohnen"@de ;',
        focus="id/theme/wohnen",
        subject="theme:wohnen",
        path="http://www.w3.org/2004/02/skos/core#prefLabel",
        value=None,
        en="An English preferred label (skos:prefLabel with @en) is missing.",
        de="Eine englische Vorzugsbezeichnung (skos:prefLabel mit @en) fehlt.",
    ),
    "theme with a broader concept outside the scheme": dict(
        file="ontology/themes.ttl",
        old="    skos:broader theme:technische-infrastruktur .",
        new="    skos:broader <http://example.org/theme/water> .",
        focus="id/theme/siedlungswasserwirtschaft",
        subject="theme:siedlungswasserwirtschaft",
        path="http://www.w3.org/2004/02/skos/core#broader",
        value="http://example.org/theme/water",
        en="A broader concept (skos:broader) is a concept of the theme scheme.",
        de="Ein Oberbegriff (skos:broader) ist ein Begriff des Themenschemas.",
    ),
    "honorific prefix not written as the sources write titles": dict(
        file="data/people.ttl",
        old='    schema:honorificPrefix "Prof." ;',
        new='    schema:honorificPrefix "Professorin" ;',
        focus="id/person/christa-reicher",
        subject="person:christa-reicher",
        path="http://schema.org/honorificPrefix",
        value='"Professorin"',
        en="An honorific prefix (schema:honorificPrefix) is given at most once and exactly as "
        'in the source, such as "Prof. Dr.".',
        de="Ein Titel (schema:honorificPrefix) steht höchstens einmal und genau wie in der "
        'Quelle, etwa "Prof. Dr.".',
    ),
    "project description only in German": dict(
        file="data/projects.ttl",
        old='auf einer Abschlusstagung in Eschwege vorgestellt."@de ,\n'
        '        "Developed, with the district town of Eschwege, neighbouring municipalities and '
        "the Werra-Meißner district in North Hesse, an organisation model for cross-sector "
        "development management. Its fields of action were water and wastewater, housing, and "
        "local mobility and supply; early descriptions also name energy. Water supply and "
        "wastewater disposal was a focus. The results were presented at a final conference in "
        'Eschwege."@en ;',
        new='auf einer Abschlusstagung in Eschwege vorgestellt."@de ;',
        focus="id/project/lebenswert",
        subject="project:lebenswert",
        path="http://schema.org/description",
        value=None,
        en="The English version of the description (schema:description with @en) is missing.",
        de="Die englische Fassung der Beschreibung (schema:description mit @en) fehlt.",
    ),
    "funding measure description without a language tag": dict(
        file="data/projects.ttl",
        old='ebenfalls begleitet."@de ,',
        new='ebenfalls begleitet." ,',
        focus="id/funding/region-innovativ-kreislaufwirtschaft",
        subject="funding:region-innovativ-kreislaufwirtschaft",
        path="http://schema.org/description",
        value='"Fördermaßnahme mit sechs Vorhaben, die das Begleitvorhaben KomKomIn seit Sommer '
        '2021 ebenfalls begleitet."',
        en="A description (schema:description) has a language tag, at most one per language.",
        de="Eine Beschreibung (schema:description) hat eine Sprachangabe, höchstens eine je "
        "Sprache.",
        also=["The German version of the description (schema:description with @de) is missing."],
    ),
    "organisation description without a language tag": dict(
        file="data/organisations.ttl",
        old='    schema:name "Hochschule Neubrandenburg"@de ;',
        new='    schema:name "Hochschule Neubrandenburg"@de ;\n'
        '    schema:description "Hochschule in Neubrandenburg" ;',
        focus="id/organisation/hs-neubrandenburg",
        subject="org:hs-neubrandenburg",
        path="http://schema.org/description",
        value='"Hochschule in Neubrandenburg"',
        en="A description (schema:description) has a language tag, at most one per language.",
        de="Eine Beschreibung (schema:description) hat eine Sprachangabe, höchstens eine je "
        "Sprache.",
        also=[
            "The German version of the description (schema:description with @de) is missing.",
            "The English version of the description (schema:description with @en) is missing.",
        ],
    ),
    "subtitle only in German": dict(
        file="data/events.ttl",
        old='Finanzierungsansätze aufrechterhalten"@de ,\n        "Keeping municipal services and '
        'facilities running with new forms of organisation and new approaches to financing"@en ;',
        new='Finanzierungsansätze aufrechterhalten"@de ;',
        focus="id/event/herbst-konferenz-2020-daseinsvorsorge-sichern",
        subject="event:herbst-konferenz-2020-daseinsvorsorge-sichern",
        path=BASE + "def#subtitle",
        value=None,
        en="The English subtitle (ki:subtitle with @en) is missing.",
        de="Der englische Untertitel (ki:subtitle mit @en) fehlt.",
    ),
    "subtitle without a language tag": dict(
        file="data/events.ttl",
        old='Finanzierungsansätze aufrechterhalten"@de ,',
        new='Finanzierungsansätze aufrechterhalten" ,',
        focus="id/event/herbst-konferenz-2020-daseinsvorsorge-sichern",
        subject="event:herbst-konferenz-2020-daseinsvorsorge-sichern",
        path=BASE + "def#subtitle",
        value='"Kommunale Angebote und Einrichtungen mithilfe neuer Organisationsformen und '
        'Finanzierungsansätze aufrechterhalten"',
        en="A subtitle (ki:subtitle) has a language tag, at most one per language.",
        de="Ein Untertitel (ki:subtitle) hat eine Sprachangabe, höchstens einen je Sprache.",
        also=["The German subtitle (ki:subtitle with @de) is missing."],
    ),
    "editorial note without a language tag": dict(
        file="data/projects.ttl",
        old='anderen Seite der Leibniz Universität Hannover."@de ,',
        new='anderen Seite der Leibniz Universität Hannover." ,',
        focus="id/project/tempaland",
        subject="project:tempaland",
        path="http://www.w3.org/2004/02/skos/core#editorialNote",
        value='"Das Projektende ist strittig: Mai 2019 laut einer, August 2019 laut einer anderen '
        'Seite der Leibniz Universität Hannover."',
        en="An editorial note (skos:editorialNote) has a language tag, at most one per language.",
        de="Eine redaktionelle Anmerkung (skos:editorialNote) hat eine Sprachangabe, höchstens "
        "eine je Sprache.",
        also=["The German version of the editorial note (skos:editorialNote with @de) is missing."],
    ),
    "IRI outside the pattern of its kind": dict(
        file="data/people.ttl",
        old="person:andrzej-sielicki a schema:Person ;",
        new="<id/people/Andrzej_Sielicki> a schema:Person ;",
        focus="id/people/Andrzej_Sielicki",
        subject="<id/people/Andrzej_Sielicki>",
        path=None,
        value=BASE + "id/people/Andrzej_Sielicki",
        en="A person's IRI must have the form {BASE}id/person/{given-family}.",
        de="Die IRI einer Person muss die Form {BASE}id/person/{vorname-nachname} haben.",
        extra_edits=[
            ("data/projects.ttl", "person:andrzej-sielicki", "<id/people/Andrzej_Sielicki>")
        ],
    ),
    "redirect to an IRI that is not in the graph": dict(
        file="data/redirects.ttl",
        old="<id/themes> dcterms:isReplacedBy <id/scheme/themes> .",
        new="<id/themes> dcterms:isReplacedBy <id/scheme/theme> .",
        focus="id/themes",
        subject="<id/themes>",
        path="http://purl.org/dc/terms/isReplacedBy",
        value=BASE + "id/scheme/theme",
        en="The new IRI (dcterms:isReplacedBy) is a single IRI of a resource of the graph, not "
        "a missing or mistyped one.",
        de="Die neue IRI (dcterms:isReplacedBy) ist eine einzige IRI einer Ressource des "
        "Graphen, nicht eine fehlende oder vertippte.",
    ),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_broken_fixture_gives_exactly_this_report(case, sources_copy):
    spec = CASES[case]
    break_sources(sources_copy, spec)
    violations = violations_of(sources_copy)
    messages = sorted(v.message("en") for v in violations)
    assert messages == sorted([spec["en"], *spec.get("also", [])])
    problem = next(v for v in violations if v.message("en") == spec["en"])
    assert problem.focus == BASE + spec["focus"]
    assert problem.path == spec["path"]
    assert problem.value == spec["value"]
    assert problem.message("en") == spec["en"]
    assert problem.message("de") == spec["de"]
    start = spec["subject"]
    assert problem.locations == [f"{spec['file']}:{line_of(sources_copy, spec['file'], start)}"]


def test_a_blank_node_in_the_data_is_refused_with_the_file(sources_copy):
    with (sources_copy / "data" / "people.ttl").open("a", encoding="utf-8") as f:
        f.write('\n<id/person/peter-dehne> schema:affiliation [ schema:name "Heubach" ] .\n')
    (problem,) = [p for p in violations_of(sources_copy) if p.component.endswith("NoBlankNodes")]
    assert problem.locations == ["data/people.ttl"]
    assert "blank node" in problem.message("en")


def test_a_resource_outside_the_base_iri_is_refused(sources_copy):
    with (sources_copy / "data" / "people.ttl").open("a", encoding="utf-8") as f:
        f.write('\n<https://example.org/someone> schema:name "Someone" .\n')
    problem = only_violation(sources_copy)
    assert problem.focus == "https://example.org/someone"
    assert problem.component.endswith("SubjectUnderBase")


def test_missing_affiliation_is_a_note_that_does_not_stop_the_build(sources_copy):
    report = check(load_config(sources_copy / "kommunen-kg.toml"))
    assert report.passes
    notes = {p.focus.rsplit("/", 1)[1] for p in report.problems if p.severity == "Info"}
    assert notes == {"annegret-franz", "joerg-felmeden", "uwe-schneidewind"}


def test_validate_command_writes_json_and_exits_1_on_a_violation(sources_copy, monkeypatch):
    edit(
        sources_copy,
        "data/talks.ttl",
        "ki:speaker person:peter-dehne ;",
        "ki:speaker <id/organisation/hs-neubrandenburg> ;",
    )
    monkeypatch.chdir(sources_copy)
    result = CliRunner().invoke(main, ["validate", "--format", "json"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["conforms"] is False
    assert report["counts"] == {"violation": 1, "warning": 0, "info": 3}


def test_validate_command_writes_the_shacl_validation_report_in_turtle(sources_copy, monkeypatch):
    import rdflib

    edit(
        sources_copy,
        "data/talks.ttl",
        "ki:speaker person:peter-dehne ;",
        "ki:speaker <id/organisation/hs-neubrandenburg> ;",
    )
    monkeypatch.chdir(sources_copy)
    result = CliRunner().invoke(main, ["validate", "--format", "turtle"])
    assert result.exit_code == 1
    graph = rdflib.Graph().parse(data=result.output, format="turtle")
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    report = next(graph.subjects(rdflib.RDF.type, sh.ValidationReport))
    assert graph.value(report, sh.conforms) == rdflib.Literal(False)


def test_validate_command_checks_named_files_with_the_ontology(sources_copy, monkeypatch):
    monkeypatch.chdir(sources_copy)
    result = CliRunner().invoke(main, ["validate", "data"])
    assert result.exit_code == 0, result.output
    assert "0 errors" in result.output


@pytest.mark.parametrize(
    ("counts", "lang", "summary"),
    [
        ({"Violation": 1, "Warning": 0, "Info": 3}, "en", "1 error, 0 warnings, 3 notes"),
        ({"Violation": 2, "Warning": 1, "Info": 1}, "de", "2 Fehler, 1 Warnung, 1 Hinweis"),
    ],
)
def test_the_summary_line_takes_the_singular_for_one(counts, lang, summary):
    report = ValidationReport(
        [
            Problem(severity, f"urn:x:{severity}{i}", None, None, {"de": "x", "en": "x"})
            for severity, n in counts.items()
            for i in range(n)
        ]
    )
    assert report.to_text(lang).splitlines()[-1] == summary


def test_the_text_report_writes_iris_with_the_prefixes_of_the_data_files(sources_copy, monkeypatch):
    """data/ names organisations org:x; the dumps' organisation:x would send an editor
    looking for a name that is not in the file the report points to."""
    break_sources(sources_copy, CASES["untagged organisation name"])
    monkeypatch.chdir(sources_copy)
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 1
    assert "org:hs-neubrandenburg" in result.output
    assert "organisation:hs-neubrandenburg" not in result.output


def test_a_prefix_two_files_declare_for_different_namespaces_names_neither_in_reports():
    from kommunen_kg.rdf.sources import ParsedFile, ParsedSources, SourceFile

    def declaring(name: str, prefixes: dict[str, str]) -> ParsedFile:
        return ParsedFile(SourceFile(Path(name), "data"), prefixes=prefixes)

    sources = ParsedSources(
        [
            declaring("people.ttl", {"x": BASE + "id/person/", "org": BASE + "id/organisation/"}),
            declaring("talks.ttl", {"x": BASE + "id/talk/", "org": BASE + "id/organisation/"}),
        ]
    )
    assert sources.prefixes() == {"org": BASE + "id/organisation/"}
