"""Every page embeds schema.org JSON-LD about its resource, read here as a crawler would
(extruct), and checked: the @id is the resource's IRI, the type and the key facts are right."""

import extruct
import pytest
import requests


def jsonld(live_server: str, path: str) -> list[dict]:
    response = requests.get(live_server + path, timeout=10)
    assert response.status_code == 200
    data = extruct.extract(response.text, base_url=live_server + path, syntaxes=["json-ld"])
    return data["json-ld"]


def the_object(live_server: str, path: str) -> dict:
    found = jsonld(live_server, path)
    assert len(found) == 1
    obj = found[0]
    assert obj["@context"] == "https://schema.org"
    return obj


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def test_an_event_with_its_programme_and_attendance_mode(live_server, config):
    base = config.base_iri
    obj = the_object(
        live_server, "page/event/herbst-konferenz-2020-daseinsvorsorge-sichern?lang=de"
    )
    assert obj["@id"] == base + "id/event/herbst-konferenz-2020-daseinsvorsorge-sichern"
    assert obj["@type"] == "Event"
    assert obj["name"] == "Daseinsvorsorge sichern!"
    assert obj["startDate"] == "2020-11-11T10:00:00+01:00"
    assert obj["eventAttendanceMode"] == "https://schema.org/OnlineEventAttendanceMode"
    assert obj["location"]["@type"] == "VirtualLocation"
    assert obj["superEvent"]["@id"] == base + "id/event/herbst-konferenz-2020"
    sub_events = {e["@id"]: e for e in as_list(obj["subEvent"])}
    assert base + "id/talk/2020-11-11-begruessung" in sub_events
    assert sub_events[base + "id/panel/2020-11-11-podium"]["@type"] == "Event"
    assert obj["mainEntityOfPage"].endswith(
        "page/event/herbst-konferenz-2020-daseinsvorsorge-sichern?lang=de"
    )


def test_a_talk_names_its_performers_and_inherits_the_attendance_mode(live_server, config):
    base = config.base_iri
    obj = the_object(live_server, "page/talk/2020-11-11-kudequa?lang=en")
    assert obj["@id"] == base + "id/talk/2020-11-11-kudequa"
    assert obj["@type"] == "Event"
    assert obj["name"].startswith("Neighbourhood labs")
    performers = {p["@id"]: p for p in as_list(obj["performer"])}
    assert performers[base + "id/person/elke-dahlbeck"] == {
        "@id": base + "id/person/elke-dahlbeck",
        "@type": "Person",
        "name": "Elke Dahlbeck",
    }
    assert len(performers) == 2
    assert obj["superEvent"]["@id"] == base + "id/session/2020-11-11-schlaglichter"
    assert obj["eventAttendanceMode"] == "https://schema.org/OnlineEventAttendanceMode"
    about = {a["@id"]: a["@type"] for a in as_list(obj["about"])}
    assert about[base + "id/project/kudequa"] == "ResearchProject"


def test_the_series_is_an_event_series(live_server, config):
    obj = the_object(live_server, "page/event/herbst-konferenz-2020")
    assert obj["@type"] == "EventSeries"
    assert len(as_list(obj["subEvent"])) == 7


def test_a_person(live_server, config):
    base = config.base_iri
    obj = the_object(live_server, "page/person/peter-dehne")
    assert obj["@id"] == base + "id/person/peter-dehne"
    assert obj["@type"] == "Person"
    assert obj["name"] == "Peter Dehne"
    assert obj["honorificPrefix"] == "Prof. Dr."
    assert obj["affiliation"] == {
        "@id": base + "id/organisation/hs-neubrandenburg",
        "@type": "CollegeOrUniversity",
        "name": "Hochschule Neubrandenburg",
    }


def test_a_research_project(live_server, config):
    base = config.base_iri
    obj = the_object(live_server, "page/project/lebenswert?lang=en")
    assert obj["@id"] == base + "id/project/lebenswert"
    assert obj["@type"] == "ResearchProject"
    assert obj["name"] == "lebensWert"
    assert obj["funder"]["@id"] == base + "id/organisation/bmbf"
    members = {m["@id"] for m in as_list(obj["member"])}
    assert base + "id/organisation/isoe" in members


@pytest.mark.parametrize(
    ("path", "iri", "kind"),
    [
        ("page/organisation/bmbf", "id/organisation/bmbf", "GovernmentOrganization"),
        ("page/organisation/difu", "id/organisation/difu", "ResearchOrganization"),
        ("page/organisation/ptj", "id/organisation/ptj", "Organization"),
        ("page/funding/kommunen-innovativ", "id/funding/kommunen-innovativ", "FundingScheme"),
        (
            "page/publication/memorandum-kommunen-innovativ-erhalten",
            "id/publication/memorandum-kommunen-innovativ-erhalten",
            "CreativeWork",
        ),
        ("page/theme/mobilitaet", "id/theme/mobilitaet", "DefinedTerm"),
        ("page/scheme/themes", "id/scheme/themes", "DefinedTermSet"),
        ("page/dataset/kommunen-innovativ", "id/dataset/kommunen-innovativ", "Dataset"),
        ("page/def", "def", "DefinedTermSet"),
    ],
)
def test_other_kinds_have_their_schema_org_type(live_server, config, path, iri, kind):
    obj = the_object(live_server, path)
    assert obj["@type"] == kind
    assert obj["@id"] == config.base_iri + iri


def test_organisations_link_to_their_registry_entries(live_server):
    obj = the_object(live_server, "page/organisation/bmbf")
    assert obj["sameAs"] == "https://doi.org/10.13039/501100002347"


def test_the_home_page_describes_the_dataset(live_server, config, release):
    obj = the_object(live_server, "?lang=en")
    assert obj["@type"] == "Dataset"
    assert obj["@id"] == config.base_iri + "id/dataset/kommunen-innovativ"
    assert obj["license"]
    urls = {d["contentUrl"] for d in obj["distribution"]}
    assert config.public_url + f"dumps/{release.version}/kommunen-innovativ.ttl" in urls
