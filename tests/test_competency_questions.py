"""The competency questions of the knowledge graph, asked over HTTP with schema.org and SKOS terms.

Each test sends one question to the SPARQL endpoint of a server publishing the built release and
checks the answer against the facts of ../shared/facts.md and the seed documentation page.
"""

from __future__ import annotations

import requests

BASE = "https://w3id.org/kommunen-innovativ/"
PREFIXES = f"""
PREFIX schema: <http://schema.org/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX ki: <{BASE}def#>
PREFIX event: <{BASE}id/event/>
PREFIX theme: <{BASE}id/theme/>
PREFIX funding: <{BASE}id/funding/>
"""
EVENT_1111 = BASE + "id/event/herbst-konferenz-2020-daseinsvorsorge-sichern"


def ask(server: str, query: str) -> list[dict[str, str]]:
    """Runs a SELECT query over HTTP and returns rows of plain values."""
    response = requests.get(
        server + "sparql",
        params={"query": PREFIXES + query},
        headers={"Accept": "application/sparql-results+json"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    bindings = response.json()["results"]["bindings"]
    return [{k: v["value"] for k, v in row.items()} for row in bindings]


def test_the_11_november_event_was_moderated_by_katrin_fahrenkrug(live_server):
    rows = ask(
        live_server,
        """SELECT ?name ?org WHERE {
             ?event schema:startDate ?start ; ki:moderator ?person .
             FILTER (STRSTARTS(STR(?start), "2020-11-11"))
             ?person schema:name ?name ; schema:affiliation/schema:name ?org .
             FILTER (LANG(?org) = "de")
           }""",
    )
    assert rows == [
        {
            "name": "Katrin Fahrenkrug",
            "org": "Raum & Energie – Institut für Planung, Kommunikation und Prozessmanagement GmbH",
        }
    ]


def test_the_moderator_is_a_schema_contributor_of_the_event(live_server):
    rows = ask(
        live_server,
        f"SELECT ?name WHERE {{ <{EVENT_1111}> schema:contributor/schema:name ?name }}",
    )
    assert rows == [{"name": "Katrin Fahrenkrug"}]


def test_five_talks_present_five_projects(live_server):
    rows = ask(
        live_server,
        """SELECT ?talk ?project WHERE {
             ?talk a schema:Event ; schema:about ?p .
             ?p a schema:ResearchProject ; schema:name ?project .
           } ORDER BY ?project""",
    )
    assert [r["project"] for r in rows] == [
        "DeWaK",
        "KOMOBIL2035",
        "KuDeQua",
        "TempALand",
        "lebensWert",
    ]
    assert {r["talk"].rsplit("/", 1)[1] for r in rows} == {
        "2020-11-11-dewak",
        "2020-11-11-komobil2035",
        "2020-11-11-kudequa",
        "2020-11-11-tempaland",
        "2020-11-11-lebenswert",
    }


def test_every_speaker_of_the_11_november_event_with_affiliation_where_known(live_server):
    rows = ask(
        live_server,
        f"""SELECT DISTINCT ?name ?affiliation WHERE {{
              ?talk schema:superEvent+ <{EVENT_1111}> ; schema:performer ?person .
              ?person schema:name ?name .
              OPTIONAL {{ ?person schema:affiliation/schema:name ?affiliation
                          FILTER (LANG(?affiliation) = "de") }}
            }} ORDER BY ?name""",
    )
    assert {r["name"]: r.get("affiliation") for r in rows} == {
        "Annegret Franz": None,
        "Christa Reicher": "Lehrstuhl und Institut für Städtebau, RWTH Aachen",
        "Dajana Schlieter": "Institut Arbeit und Technik",
        "Elke Dahlbeck": "Institut Arbeit und Technik",
        "Frank Othengrafen": "Technische Universität Dortmund",
        "Jörg Felmeden": None,
        "Katrin Fahrenkrug": (
            "Raum & Energie – Institut für Planung, Kommunikation und Prozessmanagement GmbH"
        ),
        "Peter Dehne": "Hochschule Neubrandenburg",
        "Thomas Eble": "Regionalverband Ostwürttemberg",
    }


def test_talks_on_volunteering_with_german_and_english_titles(live_server):
    rows = ask(
        live_server,
        """SELECT DISTINCT ?de ?en WHERE {
             ?talk a schema:Event ; schema:about ?theme ;
                   schema:name ?de , ?en .
             ?theme skos:broader* theme:ehrenamt .
             FILTER (LANG(?de) = "de" && LANG(?en) = "en")
           } ORDER BY ?de""",
    )
    titles = {(r["de"], r["en"]) for r in rows}
    assert (
        "Ehrenamtliche Mobilitätsangebote zur Sicherung der Erreichbarkeit von "
        "Daseinsvorsorgeangeboten",
        "Volunteer mobility services to keep public services within reach",
    ) in titles
    assert (
        "Ergebnisse des Verbundvorhabens DeWaK",
        "Results of the joint project DeWaK",
    ) in titles
    assert len(titles) == 4  # KOMOBIL2035, KuDeQua, DeWaK, Dehne's outside view


def test_every_theme_has_a_german_and_an_english_label(live_server):
    rows = ask(
        live_server,
        """SELECT ?theme WHERE {
             ?theme skos:inScheme <https://w3id.org/kommunen-innovativ/id/scheme/themes> .
             FILTER NOT EXISTS { ?theme skos:prefLabel ?de FILTER (LANG(?de) = "de") }
           }""",
    )
    assert rows == []
    rows = ask(
        live_server,
        """SELECT (COUNT(DISTINCT ?theme) AS ?n) WHERE {
             ?theme skos:inScheme <https://w3id.org/kommunen-innovativ/id/scheme/themes> ;
                    skos:prefLabel ?en FILTER (LANG(?en) = "en") }""",
    )
    assert int(rows[0]["n"]) >= 16


def test_projects_of_the_funding_measure_with_lead_and_duration(live_server):
    rows = ask(
        live_server,
        """SELECT ?project ?lead ?start ?end WHERE {
             ?p a schema:ResearchProject ; schema:memberOf funding:kommunen-innovativ ;
                schema:name ?project ; ki:coordinator/schema:name ?lead .
             FILTER (LANG(?lead) = "de")
             OPTIONAL { ?p schema:startDate ?start } OPTIONAL { ?p schema:endDate ?end }
           } ORDER BY ?project""",
    )
    by_project = {r["project"]: r for r in rows}
    assert set(by_project) == {"DeWaK", "KOMOBIL2035", "KuDeQua", "TempALand", "lebensWert"}
    assert by_project["KuDeQua"]["start"] == "2017-06-21"
    assert by_project["KuDeQua"]["end"] == "2020-08-31"
    assert by_project["KOMOBIL2035"]["lead"] == "Regionalverband Ostwürttemberg"
    assert by_project["lebensWert"]["lead"] == "ISOE – Institut für sozial-ökologische Forschung"
    assert (by_project["lebensWert"]["start"], by_project["lebensWert"]["end"]) == (
        "2016-06",
        "2019-05",
    )
    # Sources disagree on TempALand's end and give no DeWaK dates: none is stated.
    assert "end" not in by_project["TempALand"]
    assert "start" not in by_project["DeWaK"] and "end" not in by_project["DeWaK"]


def test_the_seven_events_of_the_series_with_dates_where_known(live_server):
    rows = ask(
        live_server,
        """SELECT ?name ?start WHERE {
             ?e schema:superEvent event:herbst-konferenz-2020 ; schema:name ?name .
             FILTER (LANG(?name) = "de")
             OPTIONAL { ?e schema:startDate ?start }
           } ORDER BY ?name""",
    )
    dates = {r["name"]: r.get("start") for r in rows}
    assert len(dates) == 7
    assert dates["Daseinsvorsorge sichern!"] == "2020-11-11T10:00:00+01:00"
    assert dates["Eröffnungsveranstaltung der Herbst-Konferenz 2020"] == "2020-10-28T09:30:00+01:00"
    undated = {
        "Experimente wagen!",
        "Innen entwickeln!",
        "Allianzen bilden!",
        "Vielfalt leben!",
        "Interkommunal agieren!",
    }
    assert {name for name, start in dates.items() if start is None} == undated


def test_organisations_carry_ror_iris_only_where_the_facts_give_them(live_server):
    rows = ask(
        live_server,
        """PREFIX owl: <http://www.w3.org/2002/07/owl#>
           SELECT ?org ?id WHERE { ?org a schema:Organization ; owl:sameAs ?id } ORDER BY ?id""",
    )
    assert {r["org"].rsplit("/", 1)[1]: r["id"] for r in rows} == {
        "bmbf": "https://doi.org/10.13039/501100002347",
        "uni-marburg": "https://ror.org/01rdrb571",
        "luh": "https://ror.org/0304hq317",
        "rwth-aachen": "https://ror.org/04xfq0f34",
        "westfaelische-hochschule": "https://ror.org/04p7ekn23",
        "tu-dortmund": "https://ror.org/01k97gp34",
    }


def test_every_described_resource_names_a_public_source(live_server):
    rows = ask(
        live_server,
        """PREFIX dcterms: <http://purl.org/dc/terms/>
           SELECT ?thing WHERE {
             VALUES ?type { schema:Event schema:Person schema:Organization
                            schema:ResearchProject schema:FundingScheme schema:CreativeWork }
             ?thing a ?type .
             FILTER NOT EXISTS { ?thing dcterms:source ?source }
           }""",
    )
    assert rows == []


def test_honorific_prefixes_are_exactly_as_sourced(live_server):
    rows = ask(
        live_server,
        "SELECT ?name ?prefix WHERE { ?p schema:name ?name ; schema:honorificPrefix ?prefix }",
    )
    prefixes = {r["name"]: r["prefix"] for r in rows}
    assert prefixes["Christa Reicher"] == "Prof."
    assert prefixes["Jörg Felmeden"] == "Dr."
    assert prefixes["Ortwin Renn"] == "Prof. Dr. Dr."
    assert "Katrin Fahrenkrug" not in prefixes and "Dajana Schlieter" not in prefixes
