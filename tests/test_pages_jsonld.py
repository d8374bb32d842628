"""Every page embeds schema.org JSON-LD about its resource, read here as a crawler would
(extruct), and checked: the @id is the resource's IRI, the type and the key facts are right."""

from urllib.parse import urlsplit

import extruct
import pytest
import requests
from lxml import etree

from kommunen_kg.web.addresses import Addresses

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
SITEMAP = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


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


def test_every_page_of_the_sitemap_embeds_one_schema_org_object_about_its_resource(
    live_server, config
):
    """Walks the sitemap as a crawler: each resource page has exactly one top-level object,
    in the schema.org context, whose @id is the resource's IRI (never the page's URL); the
    home page describes the dataset; the other pages (browse, downloads, catalog, VoID, the
    editor) embed at most one schema.org object."""
    addresses = Addresses(config.base_iri)
    sitemap = requests.get(live_server + "sitemap.xml", timeout=10).content
    locs = etree.fromstring(sitemap).xpath("//s:loc/text()", namespaces=SITEMAP)
    session = requests.Session()
    checked = {"resource": 0, "home": 0, "other": 0}
    failures = []
    for loc in locs:
        local = loc[len(config.public_url) :]
        path = "/" + urlsplit(local).path
        response = session.get(live_server + local, headers={"Accept": BROWSER}, timeout=10)
        assert response.status_code == 200, loc
        assert response.headers["Content-Type"].startswith("text/html"), loc
        found = extruct.extract(response.text, base_url=loc, syntaxes=["json-ld"])["json-ld"]
        contexts = [obj.get("@context") for obj in found]
        if path.startswith("/page/"):
            checked["resource"] += 1
            iri = addresses.iri(addresses.local_path_of_view(path[len("/page/") :]))
            if len(found) != 1 or contexts != ["https://schema.org"]:
                failures.append(f"{loc}: {len(found)} objects, contexts {contexts}")
            elif found[0].get("@id") != iri:
                failures.append(f"{loc}: @id {found[0].get('@id')}, not {iri}")
        elif path == "/":
            checked["home"] += 1
            dataset = config.base_iri + "id/dataset/kommunen-innovativ"
            if contexts != ["https://schema.org"] or found[0].get("@id") != dataset:
                failures.append(f"{loc}: {found}")
        else:
            checked["other"] += 1
            if len(found) > 1 or any(c != "https://schema.org" for c in contexts):
                failures.append(f"{loc}: {len(found)} objects, contexts {contexts}")
    assert not failures, "\n".join(failures[:20])
    assert checked["resource"] > 250 and checked["home"] == 2 and checked["other"] >= 8
