"""The site around the resource pages: home, browsing, search, vocabulary, shapes, themes,
sitemap and robots.txt."""

import re

import lxml.html
import pytest
import requests
from lxml import etree

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def page(live_server: str, path: str, status: int = 200, **headers):
    response = requests.get(live_server + path, headers=headers, timeout=10)
    assert response.status_code == status, response.text[:300]
    return lxml.html.fromstring(response.text)


def texts(doc, xpath: str) -> list[str]:
    return [" ".join(e.text_content().split()) for e in doc.xpath(xpath)]


def test_home_says_what_the_dataset_is(live_server):
    doc = page(live_server, "?lang=de")
    assert texts(doc, "//h1") == ["Kommunen innovativ: Wissensgraph der Herbst-Konferenz 2020"]
    assert "BMBF-Fördermaßnahme" in texts(doc, "//p[@class='lead']")[0]


def test_home_shows_the_programme_of_11_november_2020(live_server):
    doc = page(live_server, "?lang=de")
    heading = texts(doc, "//section[@class='featured']/h2")[0]
    assert heading == "Programm vom 11. November 2020: Daseinsvorsorge sichern!"
    rows = [
        [" ".join(td.text_content().split()) for td in tr.xpath("td")]
        for tr in doc.xpath("//section[@class='featured']//tbody/tr")
    ]
    assert len(rows) == 9  # welcome, session and its 3 talks, outside view, panel, 2 results
    assert [
        "11:15 Uhr",
        "Ein externer Blick: Erfolgsfaktoren zur Sicherung der Daseinsvorsorge",
        "Peter Dehne",
        "",
    ] in rows
    assert [
        "–",
        "Ergebnisse des Verbundvorhabens lebensWert",
        "Jörg Felmeden, Annegret Franz",
        "lebensWert",
    ] in rows


def test_home_lists_the_series_projects_people_organisations_and_themes(live_server):
    doc = page(live_server, "?lang=en")
    headings = texts(doc, "//h2")
    assert any(h.startswith("The events of the series") for h in headings)
    assert {"Projects", "People", "Organisations", "Themes", "Use the data"} <= set(headings)
    links = texts(doc, "//main//a")
    for name in (
        "Opening event of the autumn conference 2020",
        "Final conference of “Kommunen innovativ”",
        "KOMOBIL2035",
        "Harald Welzer",
        "Deutsches Institut für Urbanistik gGmbH",
        "Dare to experiment!",
    ):
        assert name in links, name


def test_home_links_the_query_editor_the_dumps_and_the_catalog(live_server):
    doc = page(live_server, "")
    hrefs = set(doc.xpath("//main//a/@href"))
    assert {
        "/sparql",
        "/dumps/",
        "/catalog",
        "/page/def",
        "/page/shapes",
        "/page/scheme/themes",
    } <= hrefs


def test_browse_lists_the_kinds_and_pages_through_them(live_server):
    index = page(live_server, "browse?lang=en")
    assert "/browse/organisation?lang=en" in index.xpath("//main//a/@href")
    first = page(live_server, "browse/organisation?lang=en")
    second = page(live_server, "browse/organisation?lang=en&page=2")
    names_1 = texts(first, "//ol[@class='listing']/li/a")
    names_2 = texts(second, "//ol[@class='listing']/li/a")
    assert len(names_1) == 20
    assert len(names_1) + len(names_2) == 39
    assert not set(names_1) & set(names_2)
    assert first.xpath("//link[@rel='next']/@href") == ["/browse/organisation?page=2&lang=en"]
    assert second.xpath("//link[@rel='prev']/@href") == ["/browse/organisation?lang=en"]


def test_people_are_listed_by_family_name(live_server):
    names = texts(page(live_server, "browse/person"), "//ol[@class='listing']/li/a")
    assert names[:3] == ["Elke Dahlbeck", "Peter Dehne", "Thomas Eble"]


def test_browsing_beyond_the_last_page_or_a_bad_page_number_is_a_4xx(live_server):
    page(live_server, "browse/organisation?page=3", status=404)
    page(live_server, "browse/organisation?page=zwei", status=400)
    page(live_server, "browse/organisation?page=0", status=400)
    page(live_server, "browse/nothing", status=404)


def test_search_finds_names_and_titles_in_both_languages(live_server):
    german = page(live_server, "search?q=Mobilität&lang=de")
    assert "Mobilität" in texts(german, "//ol[@class='listing']/li/a")
    english = page(live_server, "search?q=volunteer+mobility&lang=en")
    found = texts(english, "//ol[@class='listing']/li/a")
    assert found[0] == "volunteer mobility services"
    assert "Volunteer mobility services to keep public services within reach" in found


def test_search_ignores_case_and_umlauts(live_server):
    found = texts(page(live_server, "search?q=JORG+felmeden"), "//ol[@class='listing']/li/a")
    assert found[0] == "Jörg Felmeden"
    found = texts(page(live_server, "search?q=mobilitat"), "//ol[@class='listing']/li/a")
    assert found[0] == "Mobilität"


def test_search_finds_full_titles_and_short_names(live_server):
    found = texts(
        page(live_server, "search?q=Entwicklungsmanagement"), "//ol[@class='listing']/li/a"
    )
    assert "lebensWert" in found
    found = texts(page(live_server, "search?q=difu"), "//ol[@class='listing']/li/a")
    assert "Deutsches Institut für Urbanistik gGmbH" in found


def test_search_without_results_says_so_and_too_long_queries_are_refused(live_server):
    doc = page(live_server, "search?q=zzzzqqq&lang=en")
    assert "Nothing found." in texts(doc, "//p")
    page(live_server, "search?q=" + "x" * 201, status=400)
    page(live_server, "search")


def test_the_vocabulary_page_shows_each_term_at_its_hash(live_server, config):
    doc = page(live_server, "page/def?lang=en")
    talk = doc.xpath("//section[@id='Talk']")[0]
    text = " ".join(talk.text_content().split())
    assert config.base_iri + "def#Talk" in text
    assert "Vortrag" in text and "talk" in text  # both labels
    assert "A programme item in which" in text and "Ein Programmpunkt, in dem" in text
    assert "schema:Event" in texts(talk, ".//a")
    assert doc.xpath("//section[@id='speaker']//a[.='schema:performer']")
    assert doc.xpath("//a[@href='#Talk']")  # table of contents


def test_the_shapes_page_shows_each_shape_at_its_hash(live_server):
    doc = page(live_server, "page/shapes?lang=de")
    section = doc.xpath("//section[@id='TalkShape']")[0]
    text = " ".join(section.text_content().split())
    assert "Ein Vortrag braucht mindestens eine vortragende Person" in text
    assert "ki:speaker" in text
    assert doc.xpath("//*[@id='PersonNameFromParts']")
    ids = doc.xpath("//@id")
    assert len(ids) == len(set(ids)), "element ids must be unique"


def test_the_theme_scheme_is_a_tree(live_server):
    doc = page(live_server, "page/scheme/themes?lang=de")
    trees = doc.xpath("//section[@class='branch']")
    assert [texts(t, "h3")[0] for t in trees] == ["Kernbotschaft", "Thema"]
    daseinsvorsorge = doc.xpath("//ul[@class='tree']/li[a='Daseinsvorsorge']")[0]
    technical = daseinsvorsorge.xpath("ul/li[a='Technische Infrastruktur']")[0]
    assert texts(technical, "ul/li/a") == ["Siedlungswasserwirtschaft"]


SITEMAP_NS = {
    "s": "http://www.sitemaps.org/schemas/sitemap/0.9",
    "x": "http://www.w3.org/1999/xhtml",
}


def sitemap_locations(live_server: str) -> list[str]:
    response = requests.get(live_server + "sitemap.xml", timeout=10)
    return etree.fromstring(response.content).xpath("//s:loc/text()", namespaces=SITEMAP_NS)


def test_sitemap_lists_every_page_in_both_languages(live_server, config, publication):
    response = requests.get(live_server + "sitemap.xml", timeout=10)
    assert response.headers["Content-Type"] == "application/xml; charset=utf-8"
    tree = etree.fromstring(response.content)
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}
    locs = tree.xpath("//s:loc/text()", namespaces=ns)
    base = config.public_url
    for path in (
        "",
        "page/project/kudequa",
        "page/def",
        "page/shapes",
        "page/scheme/themes",
        "browse/organisation?page=2&",
    ):
        stem = base + path
        joiner = "" if stem.endswith("&") else "?"
        assert stem + joiner + "lang=de" in locs, path
        assert stem + joiner + "lang=en" in locs, path
    first = tree.xpath("//s:url[1]/x:link/@hreflang", namespaces=ns)
    assert sorted(first) == ["de", "en", "x-default"]
    assert len(locs) == len(set(locs))
    # every listed page exists
    session = requests.Session()
    for loc in locs[::7]:
        assert session.get(live_server + loc[len(base) :], timeout=10).status_code == 200, loc


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("dumps/?", "Downloads"),
        ("catalog?format=html&", "catalogue"),
        (".well-known/void?format=html&", "VoID"),
        ("sparql?", "SPARQL"),
    ],
)
def test_sitemap_lists_the_downloads_catalog_void_and_editor_pages(
    live_server, config, path, heading
):
    locs = sitemap_locations(live_server)
    for lang in ("de", "en"):
        loc = f"{config.public_url}{path}lang={lang}"
        assert loc in locs
        # a crawler (which asks for HTML first) gets the page in that language
        response = requests.get(
            live_server + loc[len(config.public_url) :], headers={"Accept": BROWSER}, timeout=10
        )
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/html")
        assert f'<html lang="{lang}">' in response.text
    h1 = lxml.html.fromstring(response.text).xpath("//h1//text()")  # the English page
    assert heading in " ".join(h1)


def test_the_catalog_and_void_pages_name_their_sitemap_url_as_canonical(live_server, config):
    for path in ("catalog", ".well-known/void"):
        doc = page(live_server, path + "?lang=en", Accept=BROWSER)
        canonical = doc.xpath("//link[@rel='canonical']/@href")
        assert canonical == [f"{config.public_url}{path}?format=html&lang=en"]


def test_robots_txt_points_to_the_sitemap(live_server, config):
    response = requests.get(live_server + "robots.txt", timeout=10)
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert f"Sitemap: {config.public_url}sitemap.xml" in response.text.splitlines()
    assert "Disallow: /sparql" in response.text.splitlines()


def rfc9309_allows(lines: list[str], path: str) -> bool:
    """RFC 9309 matching for ``User-agent: *``: the longest matching rule wins, ``allow`` on a
    tie; ``*`` matches any characters and a final ``$`` the end of the URL."""
    best: tuple[int, bool] = (-1, True)
    for line in lines:
        field, _, value = line.partition(":")
        field, value = field.strip().lower(), value.strip()
        if field not in ("allow", "disallow") or not value:
            continue
        pattern = re.escape(value.rstrip("$")).replace(r"\*", ".*")
        if value.endswith("$"):
            pattern += "$"
        if re.match(pattern, path):
            candidate = (len(value), field == "allow")
            best = max(best, candidate)
    return best[1]


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/sparql", True),
        ("/sparql?lang=de", True),
        ("/sparql?lang=en", True),
        ("/sparql?query=ASK%7B%7D", False),
        ("/sparql?lang=en&query=ASK%7B%7D", False),
        ("/search?q=x", False),
        ("/page/project/kudequa?lang=en", True),
        ("/catalog?format=html&lang=de", True),
    ],
)
def test_robots_txt_opens_only_the_editor_page_of_the_endpoint(live_server, path, allowed):
    lines = requests.get(live_server + "robots.txt", timeout=10).text.splitlines()
    assert rfc9309_allows(lines, path) is allowed


def test_robots_txt_keeps_first_match_parsers_off_the_endpoint(live_server):
    # Python's parser (like other older ones) takes the first matching line and knows no "$".
    from urllib.robotparser import RobotFileParser

    robots = RobotFileParser()
    robots.parse(requests.get(live_server + "robots.txt", timeout=10).text.splitlines())
    assert not robots.can_fetch("*", live_server + "sparql?query=ASK%7B%7D")
    assert not robots.can_fetch("*", live_server + "search?q=x")
    assert robots.can_fetch("*", live_server + "page/project/kudequa")


def test_pages_have_landmarks_one_h1_and_a_skip_link(live_server):
    for path in (
        "",
        "page/project/kudequa",
        "page/def",
        "page/shapes",
        "browse",
        "search?q=a",
        "id/x/y",
        "query",
    ):
        response = requests.get(live_server + path, timeout=10)
        doc = lxml.html.fromstring(response.text)
        assert len(doc.xpath("//h1")) == 1, path
        assert (
            doc.xpath("//header") and doc.xpath("//main[@id='main']") and doc.xpath("//footer")
        ), path
        assert doc.xpath("//a[@href='#main']"), path
        assert doc.xpath("//meta[@name='viewport']"), path
        assert doc.get("lang") in ("de", "en"), path


def test_the_icon_browsers_ask_for_uninvited_is_there(live_server):
    response = requests.get(live_server + "favicon.ico", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("image/svg+xml")


def test_pages_load_nothing_from_other_servers(live_server):
    for path in ("", "page/project/kudequa", "page/def"):
        doc = lxml.html.fromstring(requests.get(live_server + path, timeout=10).text)
        loaded = "//script/@src | //link[@rel='stylesheet' or @rel='icon']/@href | //img/@src"
        for url in doc.xpath(loaded):
            assert url.startswith("/"), url


# One page of each kind that the site renders from its templates.
TEMPLATED_PAGES = [
    "",
    "page/talk/2020-11-11-kudequa",
    "page/def",
    "page/shapes",
    "page/scheme/themes",
    "browse",
    "browse/person",
    "search?q=mobil",
    "query",
    "dumps/",
    "catalog?format=html",
    ".well-known/void?format=html",
    "id/x/y",
]


@pytest.mark.parametrize("path", TEMPLATED_PAGES)
def test_pages_carry_no_inline_script_style_or_event_handler(live_server, path):
    """What the Content-Security-Policy would block: scripts and styles come from files, and
    the only inline <script> elements are data blocks (JSON-LD, the editor's settings)."""
    response = requests.get(live_server + path, headers={"Accept": BROWSER}, timeout=10)
    doc = lxml.html.fromstring(response.text)
    inline = [s for s in doc.xpath("//script[not(@src)]") if s.get("type") != "application/ld+json"]
    assert all(s.get("type") == "application/json" for s in inline), path
    assert doc.xpath("//style | //*[@style]") == [], path
    handlers = [name for element in doc.iter() for name in element.attrib if name.startswith("on")]
    assert handlers == [], path


@pytest.mark.parametrize("path", TEMPLATED_PAGES)
def test_the_scripts_and_stylesheets_of_pages_are_served(live_server, path):
    doc = lxml.html.fromstring(
        requests.get(live_server + path, headers={"Accept": BROWSER}, timeout=10).text
    )
    files = doc.xpath("//script/@src | //link[@rel='stylesheet']/@href")
    assert files, path
    for url in files:
        assert requests.get(live_server + url.lstrip("/"), timeout=10).status_code == 200, url


@pytest.mark.parametrize("path", ["%5Cevil.example", "/evil.example", "%2F%2Fevil.example"])
def test_links_built_from_the_requested_path_stay_on_this_site(live_server, path):
    """A browser reads ``/\\host`` and ``//host`` as another host; the 404 page's language switch
    and canonical link, built from the path a client asked for, never point there."""
    response = requests.get(live_server + path, timeout=10)
    assert response.status_code == 404
    doc = lxml.html.fromstring(response.text)
    links = doc.xpath("//a[@class='lang-switch']/@href") + doc.xpath("//link/@href")
    assert links
    for link in links:
        assert "\\" not in link
        relative = link.split("://", 1)[1].split("/", 1)[1] if "://" in link else link.lstrip("/")
        assert not link.startswith("//") and not relative.startswith("/"), link


def test_an_event_of_the_series_without_a_known_date_shows_no_date(live_server):
    # The series runs from 28.10. to 08.12.2020; an event of it whose day no source gives must
    # not borrow the series' first day.
    doc = page(live_server, "?lang=de")
    items = {
        " ".join(li.xpath("a")[0].text_content().split()): li.xpath("span[@class='note']")
        for li in doc.xpath("//section[@aria-labelledby='series-heading']//li[a]")
    }
    assert items["Experimente wagen!"] == []
    assert [n.text_content() for n in items["Daseinsvorsorge sichern!"]] == ["11. November 2020"]
