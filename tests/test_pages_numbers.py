"""Numbers on pages as each language writes them, and counts with the word in the right number."""

from __future__ import annotations

import re

import pytest
import requests

from kommunen_kg.web import i18n


def page_text(url: str) -> str:
    html = requests.get(url, timeout=10).text
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize(
    ("value", "lang", "written"),
    [(1618, "de", "1.618"), (1618, "en", "1,618"), (150699, "de", "150.699"), (7, "de", "7")],
)
def test_thousands_are_grouped_as_the_language_groups_them(value, lang, written):
    assert i18n.number(value, lang) == written


def test_what_is_no_whole_number_is_written_as_it_is():
    assert i18n.number("1.5", "de") == "1.5"


@pytest.mark.parametrize(
    ("value", "lang", "written"),
    [(1, "de", "1 Eintrag"), (2, "de", "2 Einträge"), (1, "en", "1 entry"), (0, "en", "0 entries")],
)
def test_a_count_takes_the_singular_only_for_one(value, lang, written):
    assert i18n.count(value, "entries", lang) == written


def test_the_browse_index_says_one_entry_not_one_entries(live_server):
    german = page_text(live_server + "browse?lang=de")
    english = page_text(live_server + "browse?lang=en")
    assert " 1 Eintrag " in german and " 1 Einträge" not in german
    assert " 1 entry " in english and " 1 entries" not in english


def test_the_dumps_page_groups_thousands_in_german_with_points(live_server, release):
    triples = release.manifest["counts"]["knowledge_graph"]
    assert triples >= 1000  # the check needs a number with a thousands group
    german = page_text(live_server + "dumps/?lang=de")
    english = page_text(live_server + "dumps/?lang=en")
    assert f"{triples:,}".replace(",", ".") + " Tripel" in german
    assert f"{triples:,} triples" in english


def test_the_browse_index_lists_what_the_programme_documents_not_the_publication_metadata(
    live_server,
):
    html = requests.get(live_server + "browse?lang=en", timeout=10).text
    listed = re.findall(r'href="/browse/(\w+)', html)
    assert {"event", "talk", "person", "project", "theme"} <= set(listed)
    assert not {"agent", "dataset", "catalog", "def", "distribution", "service", "shapes"} & set(
        listed
    )


def test_the_editor_states_its_limits_in_the_page_s_number_format(live_server):
    """Issue 14: "Zeitlimit 10.0 s ..., höchstens 10000 Zeilen" on the German editor page."""
    import requests

    html = {"Accept": "text/html"}
    german = requests.get(live_server + "sparql?lang=de", headers=html, timeout=10).text
    assert "Zeitlimit 10 s je Abfrage, höchstens 10.000 Zeilen" in german
    english = requests.get(live_server + "sparql?lang=en", headers=html, timeout=10).text
    assert "time limit 10 s per query, at most 10,000 rows" in english


def test_a_fraction_takes_the_language_s_decimal_mark():
    from kommunen_kg.web.i18n import number

    assert number(2.5, "de") == "2,5"
    assert number(2.5, "en") == "2.5"
    assert number(10.0, "de") == "10"
