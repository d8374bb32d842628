"""Resource pages: one per resource, in German and English, with links for people and machines."""

import lxml.html
import pytest
import requests

PROJECT = "page/project/kudequa"


def page(live_server: str, path: str, **headers):
    response = requests.get(live_server + path, headers=headers, timeout=10)
    assert response.status_code == 200, response.text[:300]
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    return response, lxml.html.fromstring(response.text)


def texts(doc, xpath: str) -> list[str]:
    return [" ".join(e.text_content().split()) for e in doc.xpath(xpath)]


def test_german_is_the_default(live_server):
    response, doc = page(live_server, PROJECT)
    assert doc.get("lang") == "de"
    assert response.headers["Content-Language"] == "de"
    assert texts(doc, "//h1") == ["KuDeQua"]
    assert texts(doc, "//p[@class='type-line']") == ["Verbundvorhaben"]
    assert "Vorträge zu diesem Projekt" in texts(doc, "//h2")


def test_accept_language_chooses_english_and_says_it_varies(live_server):
    response, doc = page(live_server, PROJECT, **{"Accept-Language": "en-US,en;q=0.9,de;q=0.5"})
    assert doc.get("lang") == "en"
    assert "accept-language" in response.headers["Vary"].lower()
    assert texts(doc, "//p[@class='type-line']") == ["Joint project"]
    assert "Talks on this project" in texts(doc, "//h2")


def test_the_lang_parameter_wins_and_needs_no_vary(live_server):
    response, doc = page(live_server, PROJECT + "?lang=en", **{"Accept-Language": "de"})
    assert doc.get("lang") == "en"
    assert "accept-language" not in response.headers.get("Vary", "").lower()


def test_a_language_we_do_not_offer_is_a_clear_400(live_server):
    response = requests.get(live_server + PROJECT + "?lang=fr", timeout=10)
    assert response.status_code == 400
    assert "de, en" in response.text


def test_properties_are_grouped_and_named_in_the_readers_language(live_server):
    _, german = page(live_server, PROJECT + "?lang=de")
    _, english = page(live_server, PROJECT + "?lang=en")
    # a project has a duration and a region (issue 14), not a date and place
    assert {"Überblick", "Laufzeit und Region", "Beteiligte", "Einordnung", "Im Netz"} <= set(
        texts(german, "//h2")
    )
    assert {"Overview", "Duration and region", "People and organisations", "Context"} <= set(
        texts(english, "//h2")
    )
    # names from the vocabulary's rdfs:label@de/@en
    assert "Leitung / Koordination" in texts(german, "//dt")
    assert "Lead / coordinator" in texts(english, "//dt")
    assert "Vollständiger Titel" in texts(german, "//dt")
    # values in the reader's language
    assert "21. Juni 2017" in texts(german, "//dd")
    assert "21 June 2017" in texts(english, "//dd")


def test_linked_resources_are_shown_by_their_labels_and_link_to_their_pages(live_server):
    _, doc = page(live_server, PROJECT)
    links = {" ".join(a.text_content().split()): a.get("href") for a in doc.xpath("//main//a")}
    assert links["Stadt Dortmund"] == "/page/organisation/stadt-dortmund"
    assert links["Quartiersentwicklung"] == "/page/theme/quartiersentwicklung"
    talk = "Quartierslabore – Bürgerschaftlich getragene Finanzierungs- und Organisationsmodelle"
    assert links[talk] == "/page/talk/2020-11-11-kudequa"


def test_derived_statements_are_not_repeated(live_server):
    _, doc = page(live_server, "page/talk/2020-11-11-kudequa")
    # ki:speaker implies schema:performer; the page names the speakers once (two: plural)
    assert texts(doc, "//dt").count("Vortragende") == 1
    assert "Mitwirkende" not in texts(doc, "//dt")
    assert sum("Elke Dahlbeck" in t for t in texts(doc, "//dd")) == 1


def test_incoming_links_in_both_languages(live_server):
    _, german = page(live_server, "page/person/peter-dehne?lang=de")
    _, english = page(live_server, "page/person/peter-dehne?lang=en")
    assert "Vorträge dieser Person" in texts(german, "//h2")
    assert "Talks by this person" in texts(english, "//h2")
    assert any("An outside view" in t for t in texts(english, "//li"))


def test_sources_are_listed_as_links(live_server):
    _, doc = page(live_server, PROJECT)
    section = doc.xpath("//section[h2='Quellen']")[0]
    hrefs = [a.get("href") for a in section.xpath(".//a")]
    assert "https://kommunen-innovativ.de/node/435" in hrefs


def test_each_language_has_its_own_url_linked_with_hreflang(live_server, config):
    _, doc = page(live_server, PROJECT + "?lang=en")
    base = config.public_url
    hreflang = {
        link.get("hreflang"): link.get("href")
        for link in doc.xpath("//link[@rel='alternate'][@hreflang]")
    }
    assert hreflang == {
        "de": base + "page/project/kudequa?lang=de",
        "en": base + "page/project/kudequa?lang=en",
        "x-default": base + "page/project/kudequa",
    }
    assert doc.xpath("//link[@rel='canonical']/@href") == [base + "page/project/kudequa?lang=en"]
    switch = doc.xpath("//a[@class='lang-switch']")[0]
    assert switch.get("href") == "/page/project/kudequa?lang=de"
    assert switch.get("hreflang") == "de"


def test_the_page_links_its_rdf_forms_and_a_query_about_it(live_server, config):
    _, doc = page(live_server, PROJECT)
    alternates = {
        link.get("type"): link.get("href") for link in doc.xpath("//link[@rel='alternate'][@type]")
    }
    assert alternates == {
        "text/turtle": "/data/project/kudequa.ttl",
        "application/ld+json": "/data/project/kudequa.jsonld",
        "application/n-triples": "/data/project/kudequa.nt",
        "application/rdf+xml": "/data/project/kudequa.rdf",
        # every page also names the releases' feed
        "application/atom+xml": "/releases.atom?lang=de",
    }
    sparql = doc.xpath("//a[starts-with(@href, '/sparql?query=')]/@href")
    assert sparql
    query = requests.utils.unquote(sparql[0].split("query=", 1)[1].replace("+", " "))
    assert f"<{config.base_iri}id/project/kudequa>" in query
    assert config.base_iri + "id/project/kudequa" in texts(doc, "//code")


def test_a_chosen_language_is_kept_on_the_links(live_server):
    _, doc = page(live_server, PROJECT + "?lang=en")
    assert "/page/organisation/stadt-dortmund?lang=en" in doc.xpath("//main//a/@href")


def test_an_event_page_shows_its_programme(live_server):
    _, doc = page(live_server, "page/event/herbst-konferenz-2020-daseinsvorsorge-sichern?lang=de")
    rows = [
        [" ".join(td.text_content().split()) for td in tr.xpath("td")]
        for tr in doc.xpath("//table[@class='programme']/tbody/tr")
    ]
    assert rows[0] == ["10:00 Uhr", "Begrüßung und inhaltliche Einführung", "Katrin Fahrenkrug", ""]
    assert ["–", "Umgang mit multilokalen Lebensweisen", "Frank Othengrafen", "TempALand"] in rows
    assert any(
        r[0] == "11:30 Uhr" and "Peter Dehne" in r[2] and "Thomas Eble" in r[2] for r in rows
    )


def test_a_concept_page_shows_where_it_sits_in_the_hierarchy(live_server):
    _, doc = page(live_server, "page/theme/siedlungswasserwirtschaft?lang=de")
    crumbs = texts(doc, "//nav[@class='breadcrumb']//li")
    assert crumbs == ["Daseinsvorsorge", "Technische Infrastruktur", "Siedlungswasserwirtschaft"]


@pytest.mark.parametrize(
    "path",
    [
        "page/event/herbst-konferenz-2020",
        "page/event/abschlusskonferenz-2020",
        "page/session/2020-11-11-schlaglichter",
        "page/panel/2020-11-11-podium",
        "page/organisation/bmbf",
        "page/funding/kommunen-innovativ",
        "page/publication/memorandum-kommunen-innovativ-erhalten",
        "page/dataset/kommunen-innovativ",
        "page/catalog",
        "page/agent/kommunen-kg",
    ],
)
def test_every_kind_of_resource_has_a_readable_page(live_server, path):
    for lang in ("de", "en"):
        _, doc = page(live_server, f"{path}?lang={lang}")
        assert doc.get("lang") == lang
        assert len(doc.xpath("//h1")) == 1
        assert doc.xpath("//main") and doc.xpath("//nav") and doc.xpath("//footer")


def test_the_session_lists_its_talks_in_the_published_order(live_server):
    import requests

    html = requests.get(
        live_server + "page/event/herbst-konferenz-2020-daseinsvorsorge-sichern", timeout=10
    ).text
    places = [
        html.index(title)
        for title in (
            "Umgang mit multilokalen Lebensweisen",
            "Quartierslabore – Bürgerschaftlich getragene",
            "Ehrenamtliche Mobilitätsangebote zur Sicherung",
        )
    ]
    assert places == sorted(places)
