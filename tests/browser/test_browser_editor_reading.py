"""The query editor as a reader sees it (issue 14): answers fit the page, terms are short,
links stay on this server, the German page speaks German, each example is listed once."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from .test_browser_editor_safety import run

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EDITOR = ".yasqe .CodeMirror"
TABLE = ".yasr .dataTable:visible"
WIDE = """PREFIX schema: <http://schema.org/>
SELECT ?project ?description ?title WHERE {
  ?project a schema:ResearchProject ; schema:description ?description .
  OPTIONAL { ?project schema:alternateName ?title }
}"""
TYPED = """SELECT ?year ?class WHERE {
  BIND("2016"^^<http://www.w3.org/2001/XMLSchema#gYear> AS ?year)
  BIND(<http://schema.org/Event> AS ?class)
}"""


@pytest.fixture
def reader(new_tab):
    def open_editor(base: str, lang: str):
        tab = new_tab(viewport={"width": 1280, "height": 900}, locale="de-DE")
        tab.goto(base + f"sparql?lang={lang}")
        tab.wait_for_selector(EDITOR, timeout=20000)
        return tab

    return open_editor


def test_a_wide_answer_scrolls_inside_the_results_not_the_page(live_server, reader):
    tab = reader(live_server, "en")
    run(tab, WIDE, TABLE)
    width = tab.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 1280, f"the page is {width} px wide in a 1,280 px window"
    assert tab.problems == []


def test_datatypes_and_iris_are_written_with_the_known_prefixes(live_server, reader):
    tab = reader(live_server, "en")
    run(tab, TYPED, TABLE)
    text = tab.locator(TABLE).inner_text()
    assert "xsd:gYear" in text
    assert "schema:Event" in text
    assert "http://www.w3.org/2001/XMLSchema#gYear" not in text


def test_the_dataset_s_iris_link_to_this_server_not_to_the_public_base(live_server, reader):
    tab = reader(live_server, "en")
    run(tab, "SELECT ?t WHERE { ?t a <http://schema.org/ResearchProject> } LIMIT 3", TABLE)
    links = tab.locator(TABLE + " a.iri").evaluate_all("(links) => links.map((a) => a.href)")
    assert links and all(link.startswith(live_server + "id/project/") for link in links), links
    tab.locator(TABLE + " a.iri").first.click()  # opens a new window (YASR's setting)
    assert tab.problems == []


def test_the_german_editor_names_its_controls_in_german(live_server, reader):
    tab = reader(live_server, "de")
    run(tab, TYPED, TABLE)
    controls = tab.locator(".yasgui").inner_text()
    for english in ("Simple view", "Show all", "Response"):
        assert english not in controls
    assert "Tabelle" in controls and "Antwort" in controls
    assert tab.locator(".yasr [title='Ergebnis herunterladen']").count() >= 1
    assert tab.locator(".yasqe [title='Abfrage teilen']").count() >= 1
    assert "Abfrage" in tab.locator(".yasgui .tabsList").inner_text()


def test_each_example_is_listed_once_with_its_query_beside_it(live_server, reader):
    tab = reader(live_server, "de")
    section = tab.locator("section.examples")
    buttons = section.locator("button[data-example]")
    assert buttons.count() >= 3
    first_title = buttons.first.evaluate("(b) => b.firstChild.textContent.trim()")
    assert section.inner_text().count(first_title) == 1
    assert section.locator("li details").count() == buttons.count()


def test_a_shared_link_to_the_german_editor_runs_and_shows_german_table_words(live_server, reader):
    tab = reader(live_server, "de")
    tab.goto(live_server + "sparql?lang=de&query=" + quote(WIDE))
    tab.wait_for_selector(TABLE, timeout=20000)
    assert "Einträge" in tab.locator(".yasr:visible").inner_text()
