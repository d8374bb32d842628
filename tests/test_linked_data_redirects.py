"""Moved IRIs answer 301, removed ones 410 Gone, unknown ones 404 with a page that helps.

The list of moved and removed IRIs is data (data/redirects.ttl); the test builds a release
from a copy of the sources with one entry of each kind.
"""

import pytest
import requests

from kommunen_kg.app import create_app
from kommunen_kg.build import build
from kommunen_kg.config import load_config
from kommunen_kg.publication import open_release

from .support import server_in_thread

ENTRIES = """
<id/person/peter-dehn> dcterms:isReplacedBy <id/person/peter-dehne> .
<id/talk/2020-11-11-doppelt> prov:invalidatedAtTime "2026-11-20T09:00:00Z"^^xsd:dateTime ;
    rdfs:comment "Doppelt erfasst; derselbe Vortrag wie der über KuDeQua."@de ,
        "Recorded twice; the same talk as the one on KuDeQua."@en .
"""


@pytest.fixture
def server_with_redirects(sources_copy):
    redirects = sources_copy / "data" / "redirects.ttl"
    redirects.write_text(redirects.read_text(encoding="utf-8") + ENTRIES, encoding="utf-8")
    config = load_config(sources_copy / "kommunen-kg.toml")
    release = build(config).release
    with server_in_thread(create_app(open_release(config, release))) as url:
        yield url


def test_the_shipped_list_is_empty_and_builds(config):
    from .support import ROOT

    text = (ROOT / "data" / "redirects.ttl").read_text(encoding="utf-8")
    statements = [
        line for line in text.splitlines() if line and not line.startswith(("#", "@prefix"))
    ]
    assert statements == []


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
