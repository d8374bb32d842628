"""Pages speak the readers' language, not the vocabulary's (issue 14, rough edges)."""

from __future__ import annotations

import pytest
import requests
from lxml import html as lxml_html


def fact_labels(live_server: str, path: str) -> list[str]:
    tree = lxml_html.fromstring(requests.get(live_server + path, timeout=10).content)
    return [" ".join(dt.text_content().split()) for dt in tree.xpath("//main//dl//dt")]


def headings(live_server: str, path: str) -> list[str]:
    tree = lxml_html.fromstring(requests.get(live_server + path, timeout=10).content)
    return [" ".join(h.text_content().split()) for h in tree.xpath("//main//h2")]


@pytest.mark.parametrize(
    ("lang", "plural", "singular"),
    [("de", "Vortragende", "Vortragende Person"), ("en", "Speakers", "Speaker")],
)
def test_two_speakers_are_introduced_in_the_plural(live_server, lang, plural, singular):
    labels = fact_labels(live_server, f"page/talk/2020-11-11-kudequa?lang={lang}")
    assert plural in labels and singular not in labels


@pytest.mark.parametrize(("lang", "singular"), [("de", "Vortragende Person"), ("en", "Speaker")])
def test_one_speaker_keeps_the_singular(live_server, lang, singular):
    assert singular in fact_labels(live_server, f"page/talk/2020-11-11-externer-blick?lang={lang}")


@pytest.mark.parametrize(
    ("lang", "duration", "date_and_place"),
    [
        ("de", "Laufzeit und Region", "Termin und Ort"),
        ("en", "Duration and region", "Date and place"),
    ],
)
def test_a_project_has_a_duration_and_a_region_not_a_date_and_place(
    live_server, lang, duration, date_and_place
):
    found = headings(live_server, f"page/project/kudequa?lang={lang}")
    assert duration in found and date_and_place not in found


@pytest.mark.parametrize(
    ("lang", "names"),
    [
        ("de", {"Regierung und öffentlicher Sektor", "Deutsch", "N-Quads"}),
        ("en", {"Government and public sector", "English", "N-Quads"}),
    ],
)
def test_the_catalogue_page_names_the_eu_codes_instead_of_showing_them(live_server, lang, names):
    tree = lxml_html.fromstring(
        requests.get(
            live_server + f"catalog?lang={lang}", headers={"Accept": "text/html"}, timeout=10
        ).content
    )
    links = tree.xpath("//main//a[contains(@href, 'publications.europa.eu/resource/authority')]")
    shown = {" ".join(a.text_content().split()) for a in links}
    assert names <= shown
    assert not {"GOVE", "REGI", "SOCI", "DEU", "ENG", "RDF_N_QUADS", "JSON_LD"} & shown
    assert {"GOVE", "DEU"} <= {a.get("title") for a in links}  # the code stays at hand


def test_an_attendance_mode_is_named_not_linked_to_schema_org(live_server):
    """Issue 14: "Teilnahmeform: online" linked to schema.org's definition."""
    text = requests.get(
        live_server + "page/event/herbst-konferenz-2020-daseinsvorsorge-sichern?lang=de", timeout=10
    ).text
    assert "<dt>Teilnahmeform</dt>" in text
    assert 'href="http://schema.org/OnlineEventAttendanceMode"' not in text


def test_the_vocabulary_page_still_links_the_terms_it_aligns_with(live_server):
    text = requests.get(live_server + "page/def?lang=de", timeout=10).text
    assert 'schema.org/Event" class="external"' in text


def test_no_vocabulary_term_names_show_on_the_event_and_agent_pages(live_server):
    """Issue 14: "(schema:doorTime)" in a note, "SoftwareAgent" as a type, "Beispiel im
    Datensatz" over the dataset that lists an event as an example."""
    event = requests.get(
        live_server + "page/event/herbst-konferenz-2020-daseinsvorsorge-sichern?lang=de", timeout=10
    ).text
    visible = event.split("</script>")[-1]  # the JSON-LD for search engines keeps its terms
    assert "schema:doorTime" not in visible
    assert "Beispiel im Datensatz" not in visible
    assert "Als Beispiel genannt in" in visible
    agent = requests.get(live_server + "page/agent/kommunen-kg?lang=de", timeout=10).text
    assert "SoftwareAgent" not in agent
    assert "Software · Akteur" in agent


def test_the_catalog_page_names_its_licence_and_writes_dates_and_sizes_for_readers(live_server):
    """Issue 14: /catalog showed the licence as a bare IRI, dates as ISO timestamps and sizes
    without grouping, in an unstyled list."""
    page = requests.get(
        live_server + "catalog?lang=de", headers={"Accept": "text/html"}, timeout=10
    )
    doc = lxml_html.fromstring(page.text)
    facts = " ".join(doc.xpath("//dl[@class='facts']//text()"))
    assert "Creative Commons Namensnennung 4.0 International (CC BY 4.0)" in facts
    assert "http://dcat-ap.de/def/licenses/cc-by/4.0" not in facts
    assert "T" not in "".join(
        doc.xpath("//dl[@class='facts']/dt[.='Geändert']/following-sibling::dd[1]//text()")
    )
    sizes = [
        td.text_content().strip()
        for td in doc.xpath("//td[@class='num']")
        if td.text_content().strip()
    ]
    assert sizes and all("." in size for size in sizes if len(size) > 3), sizes
