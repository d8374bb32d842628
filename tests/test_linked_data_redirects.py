"""Moved IRIs answer 301, removed ones 410 Gone, unknown ones 404 with a page that helps.

The list of moved and removed IRIs is data (data/redirects.ttl); besides the shipped list, the
tests serve a release built from a copy of the sources with one more entry of each kind
(``server_with_redirects`` in conftest.py).
"""

import pytest
import requests

from .support import ROOT


def test_the_shipped_list_moves_the_short_iri_of_the_theme_scheme(live_server):
    # The issue called the scheme /id/themes; its IRI is /id/scheme/themes.
    text = (ROOT / "data" / "redirects.ttl").read_text(encoding="utf-8")
    statements = [
        line for line in text.splitlines() if line and not line.startswith(("#", "@prefix"))
    ]
    assert statements == ["<id/themes> dcterms:isReplacedBy <id/scheme/themes> ."]
    response = requests.get(live_server + "id/themes", allow_redirects=False, timeout=10)
    assert response.status_code == 301
    assert response.headers["Location"].endswith("/id/scheme/themes")


def test_a_moved_iri_is_no_resource_of_its_own(live_server, config):
    sitemap = requests.get(live_server + "sitemap.xml", timeout=10).text
    assert "/page/scheme/themes?" in sitemap
    assert "/page/themes?" not in sitemap
    assert requests.get(live_server + "browse/themes", timeout=10).status_code == 404
    found = requests.get(live_server + "search", params={"q": "themes"}, timeout=10).text
    assert "/page/themes" not in found


def test_a_moved_iri_answers_301_to_its_new_iri(server_with_redirects):
    response = requests.get(
        server_with_redirects + "id/person/peter-dehn", allow_redirects=False, timeout=10
    )
    assert response.status_code == 301
    assert response.headers["Location"].endswith("/id/person/peter-dehne")


def test_the_page_and_data_of_a_moved_iri_move_too(server_with_redirects):
    page = requests.get(
        server_with_redirects + "page/person/peter-dehn?lang=en", allow_redirects=False, timeout=10
    )
    assert page.status_code == 301
    assert page.headers["Location"].endswith("/page/person/peter-dehne?lang=en")
    data = requests.get(
        server_with_redirects + "data/person/peter-dehn.nt", allow_redirects=False, timeout=10
    )
    assert data.status_code == 301
    assert data.headers["Location"].endswith("/data/person/peter-dehne.nt")


def test_following_a_moved_iri_arrives_at_the_resource(server_with_redirects):
    response = requests.get(
        server_with_redirects + "id/person/peter-dehn", headers={"Accept": "text/html"}, timeout=10
    )
    assert response.status_code == 200
    assert "Peter Dehne" in response.text


def test_a_removed_iri_answers_410_with_when_and_why(server_with_redirects):
    for path in (
        "id/talk/2020-11-11-doppelt",
        "page/talk/2020-11-11-doppelt",
        "data/talk/2020-11-11-doppelt.ttl",
    ):
        response = requests.get(server_with_redirects + path, allow_redirects=False, timeout=10)
        assert response.status_code == 410, path
    german = requests.get(server_with_redirects + "id/talk/2020-11-11-doppelt", timeout=10)
    assert "Diese Ressource wurde entfernt" in german.text
    assert "Doppelt erfasst" in german.text
    assert "20. November 2026" in german.text
    english = requests.get(server_with_redirects + "id/talk/2020-11-11-doppelt?lang=en", timeout=10)
    assert "This resource was removed" in english.text
    assert "Recorded twice" in english.text


def test_an_unknown_iri_answers_404_with_a_search_box_and_suggestions(live_server):
    response = requests.get(live_server + "id/person/peter-dehn", timeout=10)
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "Diese Adresse kennen wir nicht" in response.text
    assert 'role="search"' in response.text
    assert 'name="q"' in response.text
    assert "/page/person/peter-dehne" in response.text  # "did you mean"


def test_an_unknown_iri_of_common_words_suggests_nothing_unrelated(live_server):
    """Issue 14: /id/talk/does-not-exist suggested a keynote that only shares "exist"."""
    response = requests.get(live_server + "id/talk/does-not-exist", timeout=10)
    assert response.status_code == 404
    assert "/page/talk/" not in response.text.split("Diese Adresse kennen wir nicht", 1)[1]


def test_the_404_page_speaks_english_to_english_readers(live_server):
    response = requests.get(
        live_server + "id/talk/nothing-here",
        headers={"Accept-Language": "en-GB,en;q=0.8"},
        timeout=10,
    )
    assert response.status_code == 404
    assert "We do not know this address" in response.text
    assert '<html lang="en">' in response.text


@pytest.mark.parametrize(
    "path",
    [
        "id/talk/a%20b",
        "id/talk/%3Cx%3E",
        "page/talk/x%22y",
        "data/talk/%7Bx%7D.ttl",
        "id/",
        "nothing",
    ],
)
def test_odd_addresses_are_404_not_errors(live_server, path):
    response = requests.get(live_server + path, timeout=10)
    assert response.status_code == 404
