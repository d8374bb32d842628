"""Cool URIs: /id/... answers 303 See Other, to the page or to an RDF form, by Accept."""

from urllib.parse import urlsplit

import pytest
import requests

TALK = "id/talk/2020-11-11-kudequa"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def see_other(live_server: str, path: str, accept: str | None, method: str = "GET"):
    headers = {"Accept": accept} if accept is not None else {}
    response = requests.request(
        method, live_server + path, headers=headers, allow_redirects=False, timeout=10
    )
    assert response.status_code == 303, response.text[:300]
    return urlsplit(response.headers["Location"]).path, response


@pytest.mark.parametrize(
    ("accept", "target"),
    [
        (BROWSER, "/page/talk/2020-11-11-kudequa"),
        ("text/turtle", "/data/talk/2020-11-11-kudequa.ttl"),
        ("application/ld+json", "/data/talk/2020-11-11-kudequa.jsonld"),
        ("application/n-triples", "/data/talk/2020-11-11-kudequa.nt"),
        ("application/rdf+xml", "/data/talk/2020-11-11-kudequa.rdf"),
        ("application/x-turtle", "/data/talk/2020-11-11-kudequa.ttl"),
        # one table of formats (rdf/formats.py): the endpoint's alias, too
        ("text/n3", "/data/talk/2020-11-11-kudequa.ttl"),
    ],
)
def test_an_iri_sends_each_client_to_the_form_it_asks_for(live_server, accept, target):
    location, _ = see_other(live_server, TALK, accept)
    assert location == target


@pytest.mark.parametrize(
    ("accept", "target"),
    [
        # the highest q-value wins
        ("text/turtle;q=0.5, application/rdf+xml;q=0.9", ".rdf"),
        ("application/rdf+xml;q=0.4, application/ld+json;q=0.8, text/html;q=0.1", ".jsonld"),
        # a specific type beats the wildcard that follows it
        ("text/turtle, */*;q=0.1", ".ttl"),
        # q=0 refuses the page even when a wildcard would allow it
        ("text/html;q=0, */*", ".ttl"),
        # several syntaxes rated alike: our first offer among them (Turtle)
        ("application/n-triples, text/turtle", ".ttl"),
        ("application/*", ".jsonld"),
    ],
)
def test_q_values_and_wildcards_are_weighed(live_server, accept, target):
    location, _ = see_other(live_server, TALK, accept)
    assert location.startswith("/data/talk/2020-11-11-kudequa")
    assert location.endswith(target)


@pytest.mark.parametrize(
    "accept", ["application/xhtml+xml", "application/xhtml+xml, application/xml;q=0.9"]
)
def test_xhtml_clients_get_the_page(live_server, accept):
    location, response = see_other(live_server, TALK, accept)
    assert location == "/page/talk/2020-11-11-kudequa"
    assert "accept" in response.headers["Vary"].lower()


def test_an_xhtml_client_following_the_redirect_reads_the_page(live_server):
    response = requests.get(
        live_server + TALK, headers={"Accept": "application/xhtml+xml"}, timeout=10
    )
    assert response.status_code == 200
    assert "Quartierslabore" in response.text


@pytest.mark.parametrize("accept", [None, "*/*", "text/*"])
def test_clients_without_a_preference_get_the_page(live_server, accept):
    location, _ = see_other(live_server, TALK, accept)
    assert location == "/page/talk/2020-11-11-kudequa"


def test_the_redirect_varies_by_accept(live_server):
    _, response = see_other(live_server, TALK, "text/turtle")
    assert "accept" in response.headers["Vary"].lower()


def test_head_answers_like_get(live_server):
    location, response = see_other(live_server, TALK, "text/turtle", method="HEAD")
    assert location.endswith(".ttl")
    assert response.content == b""


@pytest.mark.parametrize(
    ("path", "page", "data"),
    [
        ("def", "/page/def", "/data/def.ttl"),
        ("shapes", "/page/shapes", "/data/shapes.ttl"),
        ("id/scheme/themes", "/page/scheme/themes", "/data/scheme/themes.ttl"),
        ("id/dataset/kommunen-innovativ", "/page/dataset/kommunen-innovativ", None),
    ],
)
def test_documents_and_the_scheme_answer_the_same_way(live_server, path, page, data):
    assert see_other(live_server, path, BROWSER)[0] == page
    if data:
        assert see_other(live_server, path, "text/turtle")[0] == data


def test_a_format_nobody_offers_is_refused_with_the_list_of_forms(live_server):
    response = requests.get(
        live_server + TALK, headers={"Accept": "image/png"}, allow_redirects=False, timeout=10
    )
    assert response.status_code == 406
    assert "/data/talk/2020-11-11-kudequa.ttl" in response.text
    assert "accept" in response.headers["Vary"].lower()


def test_following_the_redirect_reaches_the_page(live_server):
    response = requests.get(live_server + TALK, headers={"Accept": BROWSER}, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "Quartierslabore" in response.text


def test_the_vocabularys_version_iri_answers_while_it_is_current(live_server):
    assert see_other(live_server, "def/1.0", "text/turtle")[0] == "/data/def.ttl"
    old = requests.get(live_server + "def/0.9", allow_redirects=False, timeout=10)
    assert old.status_code == 404


def test_the_home_page_sends_rdf_clients_to_the_catalog(live_server):
    location, response = see_other(live_server, "", "text/turtle")
    assert location == "/catalog"
    assert urlsplit(response.headers["Location"]).query == "format=ttl"
    assert "accept" in response.headers["Vary"].lower()


@pytest.mark.parametrize("path", ["", "?lang=en"])
def test_the_home_page_for_browsers_varies_by_accept(live_server, path):
    response = requests.get(live_server + path, headers={"Accept": BROWSER}, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    varies = {v.strip().lower() for v in response.headers["Vary"].split(",")}
    assert "accept" in varies


def test_a_form_refused_with_q_0_is_not_chosen_through_a_wildcard(live_server):
    """The q of the most specific range that matches counts (RFC 9110 12.5.1): ``*/*`` does not
    bring back the page a client refused."""
    location, _ = see_other(live_server, TALK, "text/html;q=0, application/xhtml+xml;q=0, */*")
    assert location == "/data/talk/2020-11-11-kudequa.ttl"


@pytest.mark.parametrize("lang", ["en", "de"])
def test_a_link_that_asks_for_a_language_leads_to_the_page_in_that_language(live_server, lang):
    _, response = see_other(live_server, f"{TALK}?lang={lang}", BROWSER)
    location = urlsplit(response.headers["Location"])
    assert (location.path, location.query) == ("/page/talk/2020-11-11-kudequa", f"lang={lang}")


def test_a_language_the_site_does_not_have_is_left_to_the_reader_s_browser(live_server):
    _, response = see_other(live_server, f"{TALK}?lang=fr", BROWSER)
    assert urlsplit(response.headers["Location"]).query == ""


def test_rdf_forms_carry_no_language(live_server):
    location, response = see_other(live_server, f"{TALK}?lang=en", "text/turtle")
    assert location.endswith(".ttl") and "lang" not in response.headers["Location"]
