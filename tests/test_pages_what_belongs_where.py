"""A talk's page and the list of talks say when and at which event the talk was, and a broad
theme lists what is filed under its narrower themes (issue 14)."""

from __future__ import annotations

import re

import pytest
import requests
from lxml import html as lxml_html


def section(live_server: str, path: str, heading: str):
    tree = lxml_html.fromstring(requests.get(live_server + path, timeout=10).content)
    (found,) = tree.xpath(f"//section[h2[normalize-space()='{heading}']]")
    return found


@pytest.mark.parametrize(
    ("lang", "heading", "date", "event"),
    [
        ("de", "Termin und Ort", "11. November 2020", "Daseinsvorsorge sichern!"),
        ("en", "Date and place", "11 November 2020", "Secure public services!"),
    ],
)
def test_a_talk_page_says_the_date_and_the_event_of_its_session(
    live_server, lang, heading, date, event
):
    when = section(live_server, f"page/talk/2020-11-11-kudequa?lang={lang}", heading)
    text = " ".join(when.text_content().split())
    assert date in text and event in text
    links = when.xpath(".//a/@href")
    assert any(link.startswith("/page/event/") for link in links)


def test_every_talk_in_the_list_shows_a_date(live_server):
    tree = lxml_html.fromstring(
        requests.get(live_server + "browse/talk?lang=en", timeout=10).content
    )
    lines = [
        " ".join(s.text_content().split())
        for s in tree.xpath("//ol[@class='listing']/li/span[@class='type-line']")
    ]
    assert len(lines) == 12
    assert all(re.search(r"\d{1,2} \w+ \d{4}", line) for line in lines), lines


@pytest.mark.parametrize(
    ("lang", "projects"),
    [("de", "Projekte zu Unterthemen (2)"), ("en", "Projects on narrower themes (2)")],
)
def test_a_broad_theme_lists_what_is_filed_under_its_narrower_themes_with_counts(
    live_server, lang, projects
):
    """Mobilität has nothing of its own; its narrower themes are attached to KOMOBIL2035 and
    lebensWert."""
    tree = lxml_html.fromstring(
        requests.get(live_server + f"page/theme/mobilitaet?lang={lang}", timeout=10).content
    )
    (found,) = tree.xpath(f"//section[h2[normalize-space()='{projects}']]")
    names = {" ".join(a.text_content().split()) for a in found.xpath(".//a")}
    assert {"KOMOBIL2035", "lebensWert"} <= names
    assert all(href.startswith("/page/project/") for href in found.xpath(".//a/@href"))
