"""Who presented what: people, their organisations, the projects they presented and the themes,
drawn on the server as SVG (every name a link to its page) with the same facts as a table."""

from __future__ import annotations

import lxml.etree
import lxml.html
import requests

SVG = "{http://www.w3.org/2000/svg}"


def _page(live_server: str, lang: str):
    answer = requests.get(f"{live_server}presenters?lang={lang}", timeout=30)
    assert answer.status_code == 200
    text = answer.text
    start = text.index("<svg")
    return lxml.html.fromstring(text), lxml.etree.fromstring(text[start : text.index("</svg>") + 6])


def _row(doc, person: str) -> list[list[str]]:
    (row,) = doc.xpath(f"//table[@class='presenters']//tr[th[normalize-space()='{person}']]")
    return [
        [" ".join(a.text_content().split()) for a in td.xpath(".//a")] for td in row.xpath("td")
    ]


def test_the_table_states_who_presented_which_project_on_which_themes(live_server):
    doc, _ = _page(live_server, "de")
    organisations, projects, themes, talks = _row(doc, "Elke Dahlbeck")
    assert organisations == ["Institut Arbeit und Technik"]
    assert projects == ["KuDeQua"]
    assert "Quartiersentwicklung" in themes
    assert talks == [
        "Quartierslabore – Bürgerschaftlich getragene Finanzierungs- und Organisationsmodelle"
    ]


def test_the_picture_links_every_name_to_its_page_in_four_columns(live_server):
    _, svg = _page(live_server, "en")
    # a named group of links, described by the caption (not role="img", whose children
    # would be presentational)
    assert svg.get("role") == "group"
    assert svg.get("aria-label") == "Who presented what"
    assert svg.get("aria-describedby") == "presenters-caption"
    nodes = {
        a.find(f"{SVG}title").text: (a.get("class"), a.get("href").split("?")[0])
        for a in svg.iter(f"{SVG}a")
    }
    assert nodes["Elke Dahlbeck"] == ("node person", "/page/person/elke-dahlbeck")
    assert nodes["KuDeQua"] == ("node project", "/page/project/kudequa")
    assert nodes["Institut Arbeit und Technik"] == ("node organisation", "/page/organisation/iat")
    assert {c for c, _ in nodes.values()} == {
        "node organisation",
        "node person",
        "node project",
        "node theme",
    }


def test_the_picture_draws_a_line_for_each_link_the_graph_states(live_server):
    _, svg = _page(live_server, "en")
    people = len([a for a in svg.iter(f"{SVG}a") if a.get("class") == "node person"])
    lines = list(svg.iter(f"{SVG}path"))
    # at least one line per person (a person without organisation, project and theme of a
    # talk would stand alone; none does), and no line drawn twice
    assert len(lines) >= people
    assert len({line.get("d") for line in lines}) == len(lines)


def test_the_labels_follow_the_reader_s_language(live_server):
    doc_de, _ = _page(live_server, "de")
    doc_en, _ = _page(live_server, "en")
    assert "Quartiersentwicklung" in _row(doc_de, "Elke Dahlbeck")[2]
    assert "neighbourhood development" in _row(doc_en, "Elke Dahlbeck")[2]


def test_the_table_downloads_as_csv(live_server):
    import csv
    import io

    table = requests.get(live_server + "presenters.csv?lang=en", timeout=30)
    assert table.headers["Content-Type"] == "text/csv; charset=utf-8; header=present"
    rows = {r["person"]: r for r in csv.DictReader(io.StringIO(table.content.decode("utf-8-sig")))}
    assert rows["Elke Dahlbeck"]["Projects"] == "KuDeQua"
    assert rows["Elke Dahlbeck"]["Organisations"] == "Institut Arbeit und Technik"


def test_the_picture_draws_at_most_the_bound_of_people_and_says_so(app, monkeypatch):
    from kommunen_kg.web.pages import presenters

    monkeypatch.setattr(presenters, "PICTURED", 3)
    text = app.test_client().get("/presenters?lang=en&bound=3").get_data(as_text=True)
    svg = lxml.etree.fromstring(text[text.index("<svg") : text.index("</svg>") + 6])
    people = [a for a in svg.iter(f"{SVG}a") if a.get("class") == "node person"]
    assert len(people) == 3
    assert "The picture shows the 3 people with the most contributions of 14" in text


def test_the_table_is_paged_like_every_list(app, monkeypatch):
    from kommunen_kg.web.pages import routes

    monkeypatch.setattr(routes, "PAGE_SIZE", 5)
    doc = lxml.html.fromstring(
        app.test_client().get("/presenters?page=3&lang=en").get_data(as_text=True)
    )
    assert len(doc.xpath("//table[@class='presenters']/tbody/tr")) == 4  # 14 people: 5, 5, 4
    assert app.test_client().get("/presenters?page=4").status_code == 404
