"""The pages in a real browser: rendering, following links, switching language, keyboard, phone,
heading order; every test also finds no console error, page error or failed request.

Screenshots land in tests/artifacts/ (not committed) for a person to look at.
"""

from __future__ import annotations

import re
from itertools import pairwise

import pytest

from .conftest import ARTIFACTS, heading_levels, shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_home_page_renders_without_console_errors(page, live_server):
    page.goto(live_server)
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text().startswith("Kommunen innovativ")
    assert page.locator("section.featured table.programme tbody tr").count() == 9
    # the stylesheet applied: the header has its colour
    colour = page.locator("header.site-header").evaluate("e => getComputedStyle(e).backgroundColor")
    assert colour == "rgb(14, 107, 83)"
    shot(page, "browser-home")
    assert page.problems == []


def test_from_the_event_to_a_talk_to_a_speaker_to_a_project(page, live_server):
    page.goto(live_server)
    page.locator("section.featured h2 a").click()
    assert page.locator("h1").inner_text() == "Daseinsvorsorge sichern!"
    assert re.search(r"/page/event/herbst-konferenz-2020-daseinsvorsorge-sichern$", page.url)
    shot(page, "browser-1-event")

    page.get_by_role("link", name="Umgang mit multilokalen Lebensweisen").click()
    assert page.locator("h1").inner_text() == "Umgang mit multilokalen Lebensweisen"
    assert page.locator("p.type-line").inner_text().lower() == "vortrag"
    shot(page, "browser-2-talk")

    page.locator("main").get_by_role("link", name="Frank Othengrafen").click()
    assert page.locator("h1").inner_text() == "Frank Othengrafen"
    shot(page, "browser-3-speaker")

    page.locator("main").get_by_role("link", name="TempALand").first.click()
    assert page.locator("h1").inner_text() == "TempALand"
    assert page.get_by_role("heading", name="Vorträge zu diesem Projekt").is_visible()
    shot(page, "browser-4-project")
    assert page.problems == []


def test_the_language_switch_changes_the_labels(page, live_server):
    page.goto(live_server + "page/project/kudequa")
    assert page.locator("html").get_attribute("lang") == "de"
    assert page.get_by_role("heading", name="Vorträge zu diesem Projekt").is_visible()
    assert page.locator("p.type-line").inner_text().lower() == "verbundvorhaben"
    shot(page, "browser-lang-de")

    page.locator("a.lang-switch").click()
    assert page.url.endswith("page/project/kudequa?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", name="Talks on this project").is_visible()
    assert page.locator("p.type-line").inner_text().lower() == "joint project"
    assert page.locator("dt", has_text="Lead / coordinator").count() == 1
    shot(page, "browser-lang-en")

    # the choice sticks while following links
    page.locator("main").get_by_role("link", name="Stadt Dortmund").click()
    assert page.url.endswith("?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.problems == []


def test_the_keyboard_reaches_the_skip_link_first_and_it_is_visible(page, live_server):
    page.goto(live_server + "page/person/peter-dehne")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.getAttribute('href')")
    assert focused == "#main"
    box = page.locator("a.skip-link").bounding_box()
    assert box is not None and box["y"] >= 0
    page.keyboard.press("Enter")
    # following the link is a navigation of its own: wait for it (bounded) before looking
    page.wait_for_function("location.hash === '#main'", timeout=5000)
    assert page.url.endswith("#main")
    assert page.problems == []


@pytest.mark.parametrize(
    "path",
    [
        "",
        "page/event/herbst-konferenz-2020-daseinsvorsorge-sichern",
        "page/project/kudequa",
        "page/def",
        "page/shapes",
        "page/scheme/themes",
        "browse/talk?theme=daseinsvorsorge",
        "timeline",
        "presenters",
    ],
)
def test_pages_fit_a_phone_screen(new_tab, live_server, path):
    tab = new_tab(viewport={"width": 375, "height": 740}, is_mobile=True)
    tab.goto(live_server + path)
    tab.wait_for_load_state("networkidle")
    overflow = tab.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    name = "browser-phone-" + (path.replace("/", "-") or "home")
    tab.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)
    assert overflow <= 0, f"{path} is {overflow}px wider than the phone"
    assert tab.problems == []


def test_the_theme_tree_is_navigable(page, live_server):
    page.goto(live_server + "id/scheme/themes")
    assert page.url.endswith("/page/scheme/themes")
    page.locator("ul.tree").get_by_role("link", name="Siedlungswasserwirtschaft").click()
    assert page.locator("h1").inner_text() == "Siedlungswasserwirtschaft"
    assert page.locator("nav.breadcrumb li").all_inner_texts() == [
        "Daseinsvorsorge",
        "Technische Infrastruktur",
        "Siedlungswasserwirtschaft",
    ]
    shot(page, "browser-theme")
    assert page.problems == []


# One page of each main kind: home, each kind of resource, documents, lists, downloads,
# harvesting pages, the editor, and the page of an unknown address.
PAGE_KINDS = [
    "",
    "page/event/herbst-konferenz-2020",
    "page/event/herbst-konferenz-2020-daseinsvorsorge-sichern",
    "page/session/2020-11-11-schlaglichter",
    "page/talk/2020-11-11-kudequa",
    "page/panel/2020-11-11-podium",
    "page/person/peter-dehne",
    "page/organisation/difu",
    "page/project/kudequa",
    "page/funding/kommunen-innovativ",
    "page/publication/memorandum-kommunen-innovativ-erhalten",
    "page/theme/mobilitaet",
    "page/scheme/themes",
    "page/dataset/kommunen-innovativ",
    "page/def",
    "page/shapes",
    "browse",
    "browse/person",
    "search?q=mobil",
    "dumps/",
    "catalog?format=html",
    ".well-known/void?format=html",
    "sparql",
    "id/nothing/here",
]


@pytest.mark.parametrize("path", PAGE_KINDS)
def test_headings_start_at_one_h1_and_skip_no_level(page, live_server, path):
    page.goto(live_server + path)
    page.wait_for_load_state("networkidle")
    levels = heading_levels(page)
    assert levels[0] == 1 and levels.count(1) == 1, levels
    skips = [(a, b) for a, b in pairwise(levels) if b > a + 1]
    assert skips == [], f"{path}: a heading skips a level after another: {skips}"
    if path.startswith("id/"):  # the unknown address: its own 404, and nothing else
        expected = [
            f"404: {live_server}{path}",
            "console error: Failed to load resource: "
            "the server responded with a status of 404 (NOT FOUND)",
        ]
        assert page.problems == expected
    else:
        assert page.problems == []


@pytest.mark.parametrize("width", [1280, 375])
@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_search_field_shows_its_whole_placeholder(new_tab, live_server, width, lang):
    """Issue 14: the placeholder of the header's search field was cut off."""
    tab = new_tab(viewport={"width": width, "height": 800}, locale="de-DE")
    tab.goto(live_server + f"?lang={lang}")
    room, needed = tab.evaluate(
        """() => {
          const field = document.getElementById("site-search");
          const style = getComputedStyle(field);
          const context = document.createElement("canvas").getContext("2d");
          context.font = style.font;
          const padding = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
          return [field.clientWidth - padding, context.measureText(field.placeholder).width];
        }"""
    )
    assert needed <= room, f"the placeholder needs {needed:.0f} px, the field has {room:.0f}"
    assert tab.problems == []


def test_facets_narrow_a_list_by_clicking_and_open_more_values_without_script(new_tab, live_server):
    tab = new_tab(locale="de-DE", java_script_enabled=False)
    tab.goto(live_server + "browse/talk")
    before = tab.locator("a.listing-title").count()
    tab.click("section[aria-labelledby='facet-theme'] summary")  # <details>: no script needed
    tab.click("section[aria-labelledby='facet-theme'] a:text-is('Mobilität')")
    tab.wait_for_url(re.compile(r"theme=mobilitaet"))
    after = tab.locator("a.listing-title").count()
    assert 0 < after < before
    tab.click("section[aria-labelledby='facet-year'] a:text-is('2020')")
    tab.wait_for_url(re.compile(r"theme=mobilitaet.*year=2020|year=2020.*theme=mobilitaet"))
    shot(tab, "browse-facets")
    tab.click("ul.chosen-filters a >> nth=0")
    assert tab.locator("ul.chosen-filters li").count() == 1
    assert tab.problems == []


def test_a_mark_on_the_timeline_leads_to_its_event(page, live_server):
    page.goto(live_server + "timeline?lang=en")
    page.click("svg.timeline-picture a[href^='/page/event/auftakt-2016']")
    page.wait_for_url(re.compile(r"/page/event/auftakt-2016"))
    assert page.locator("h1").inner_text().startswith("Kick-off")
    assert page.problems == []


def test_a_name_in_the_picture_of_who_presented_what_leads_to_its_page(page, live_server):
    page.goto(live_server + "presenters?lang=en")
    page.click("svg.network-picture a.project[href^='/page/project/kudequa']")
    page.wait_for_url(re.compile(r"/page/project/kudequa"))
    assert page.locator("h1").inner_text() == "KuDeQua"
    assert page.problems == []
