"""The timeline: the measure's events over time, as a picture drawn on the server (SVG) and
the same facts as a list, with dates as the data gives them and undated events said to be so."""

from __future__ import annotations

import lxml.etree
import lxml.html
import requests

SVG = "{http://www.w3.org/2000/svg}"


def _page(live_server: str, lang: str):
    answer = requests.get(f"{live_server}timeline?lang={lang}", timeout=30)
    assert answer.status_code == 200
    return lxml.html.fromstring(answer.text), answer.text


def _items(doc) -> dict[str, str]:
    return {
        " ".join(li.xpath("a")[0].text_content().split()): " ".join(
            li.xpath("span[@class='note']")[0].text_content().split()
        )
        for li in doc.xpath("//ol[contains(@class, 'timeline')]//li")
    }


def test_the_timeline_lists_every_event_with_its_date_as_the_data_gives_it(live_server):
    doc, _ = _page(live_server, "de")
    items = _items(doc)
    assert items["Auftaktveranstaltung der Fördermaßnahme „Kommunen innovativ“"].endswith(
        "10. November 2016 – 11. November 2016 · Berlin"
    )
    assert items["Daseinsvorsorge sichern!"].endswith("11. November 2020, 10:00–12:30 Uhr")
    assert [h.text_content() for h in doc.xpath("//main//h2")] == ["2016", "2018", "2019", "2020"]


def test_an_event_without_a_known_date_is_said_to_be_so_under_its_series(live_server):
    doc, _ = _page(live_server, "en")
    assert _items(doc)["Dare to experiment!"].endswith("date not known")
    series = doc.xpath(
        "//li[a[starts-with(normalize-space(), 'Autumn conference 2020')]]"
        "/ol[@class='timeline-children']/li/a"
    )
    assert "Dare to experiment!" in [a.text_content() for a in series]


def test_a_postponed_event_says_so(live_server):
    doc, _ = _page(live_server, "en")
    assert _items(doc)["Final conference of “Kommunen innovativ”"].endswith("postponed")


def test_the_picture_is_an_accessible_svg_whose_marks_link_to_the_pages(live_server):
    _, text = _page(live_server, "de")
    start = text.index("<svg")
    svg = lxml.etree.fromstring(text[start : text.index("</svg>", start) + 6])
    assert svg.get("role") == "group"
    assert svg.get("aria-label") == "Zeitleiste"
    caption = lxml.html.fromstring(text).get_element_by_id(svg.get("aria-describedby"))
    assert caption.text_content().startswith("Zeitachse nach Jahren")
    links = {a.get("href").split("?")[0] for a in svg.iter(f"{SVG}a")}
    assert "/page/event/auftakt-2016" in links
    assert "/page/event/herbst-konferenz-2020-daseinsvorsorge-sichern" in links
    # an event whose day no source gives is not placed on the picture
    assert "/page/event/herbst-konferenz-2020-experimente-wagen" not in links
    titles = [t.text for t in svg.iter(f"{SVG}title")]
    assert "Abschlusskonferenz „Kommunen innovativ“: 19. Mai 2020 – 20. Mai 2020 (verschoben)" in (
        titles
    )


def test_every_page_links_the_timeline_in_its_navigation(live_server):
    doc = lxml.html.fromstring(requests.get(live_server + "?lang=en", timeout=30).text)
    assert doc.xpath("//nav[@class='site-nav']//a[normalize-space()='Timeline']/@href") == [
        "/timeline?lang=en"
    ]


def test_a_faulty_language_on_the_overview_pages_gets_the_site_s_own_400_page(live_server):
    for path in ("timeline", "presenters"):
        answer = requests.get(f"{live_server}{path}?lang=fr", timeout=30)
        assert answer.status_code == 400
        assert "lang must be one of: de, en" in answer.text
        assert 'class="site-nav"' in answer.text  # the styled page, not a bare one
