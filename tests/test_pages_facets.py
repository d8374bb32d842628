"""Browse lists narrowed by facets (theme with its narrower themes, event, year, organisation),
with counts, combinable, in the URL; and every list and selection as CSV that spreadsheet
software opens with its umlauts (UTF-8 with a byte order mark), read back with Python's csv."""

from __future__ import annotations

import csv
import io

import lxml.html
import pytest
import requests


def _get(live_server: str, path: str, **headers) -> requests.Response:
    return requests.get(live_server + path.lstrip("/"), headers=headers, timeout=30)


def _titles(doc) -> list[str]:
    return [" ".join(a.text_content().split()) for a in doc.xpath("//a[@class='listing-title']")]


def _facet(doc, facet: str) -> dict[str, int]:
    """A facet group's values (label -> count) as the page shows them."""
    found = {}
    for li in doc.xpath(f"//section[@aria-labelledby='facet-{facet}']//li"):
        label = " ".join(li.xpath("a")[0].text_content().split())
        found[label] = int(li.xpath("span[@class='count']")[0].text_content().replace(".", ""))
    return found


def test_a_theme_narrows_a_list_to_what_is_filed_under_it_or_a_narrower_theme(live_server):
    # KuDeQua's talk is filed under narrower themes of Daseinsvorsorge, not under it directly
    doc = lxml.html.fromstring(_get(live_server, "/browse/talk?theme=daseinsvorsorge").text)
    assert (
        "Quartierslabore – Bürgerschaftlich getragene Finanzierungs- und Organisationsmodelle"
        in (_titles(doc))
    )
    mobility = lxml.html.fromstring(_get(live_server, "/browse/person?theme=mobilitaet").text)
    assert _titles(mobility) == ["Thomas Eble"]


def test_facets_show_counts_and_combine_in_the_url(live_server):
    doc = lxml.html.fromstring(_get(live_server, "/browse/talk?lang=en").text)
    years = _facet(doc, "year")
    assert years["2020"] >= 1
    links = {
        " ".join(a.text_content().split()): a.get("href")
        for a in doc.xpath("//section[@aria-labelledby='facet-event']//a")
    }
    event = links["Secure public services!"]
    assert "event=herbst-konferenz-2020-daseinsvorsorge-sichern" in event
    narrowed = lxml.html.fromstring(_get(live_server, event).text)
    count = _facet(doc, "event")["Secure public services!"]
    assert len(_titles(narrowed)) == count
    both = _get(
        live_server,
        "/browse/talk?event=herbst-konferenz-2020-daseinsvorsorge-sichern&theme=mobilitaet",
    )
    titles = _titles(lxml.html.fromstring(both.text))
    assert 0 < len(titles) < count


def test_a_chosen_facet_value_is_shown_and_can_be_taken_away(live_server):
    doc = lxml.html.fromstring(_get(live_server, "/browse/talk?theme=mobilitaet&lang=en").text)
    (chosen,) = doc.xpath("//ul[@class='chosen-filters']/li")
    assert "Theme: mobility" in " ".join(chosen.text_content().split())
    assert chosen.xpath("a/@href") == ["/browse/talk?lang=en"]


def test_the_kind_facet_keeps_the_other_filters(live_server):
    doc = lxml.html.fromstring(_get(live_server, "/browse/talk?theme=mobilitaet").text)
    kinds = {
        " ".join(a.text_content().split()): a.get("href")
        for a in doc.xpath("//section[@aria-labelledby='facet-kind']//a")
    }
    assert kinds["Personen"] == "/browse/person?theme=mobilitaet"


def test_an_empty_selection_says_so(live_server):
    answer = _get(live_server, "/browse/talk?year=1999")
    assert answer.status_code == 200
    assert "Keine Einträge für diese Auswahl." in answer.text


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("year=20", "year must be four digits"),
        ("theme=Mobilit%C3%A4t", "There is no theme “Mobilität” in this data"),
        ("event=a/b", "There is no event “a/b” in this data"),
        ("theme=does-not-exist", "There is no theme “does-not-exist” in this data"),
        ("organisation=nope&lang=de", "Organisation „nope“ gibt es in diesen Daten nicht"),
    ],
)
def test_a_malformed_or_unknown_facet_value_is_a_400_that_says_what(live_server, query, said):
    lang = "" if "lang=" in query else "&lang=en"
    answer = _get(live_server, f"/browse/talk?{query}{lang}")
    assert answer.status_code == 400
    assert said in answer.text


def test_a_page_number_beyond_any_list_is_a_400_not_a_crash(live_server):
    answer = _get(live_server, "/browse/talk?page=99999999999999999999999")
    assert answer.status_code == 400


def test_a_person_is_listed_under_their_own_organisation_not_a_co_panellist_s(live_server):
    # Peter Dehne (Hochschule Neubrandenburg) and Thomas Eble (Regionalverband
    # Ostwürttemberg) sat on the same panel
    doc = lxml.html.fromstring(_get(live_server, "/browse/person?organisation=rvo").text)
    assert "Peter Dehne" not in _titles(doc)
    assert "Thomas Eble" in _titles(doc)


def test_a_project_s_years_are_the_years_it_ran(live_server):
    # lebensWert ran from 2016-06 to 2019-05 and was presented in 2020
    doc = lxml.html.fromstring(_get(live_server, "/browse/project?year=2018").text)
    assert "lebensWert" in _titles(doc)
    assert "TempALand" not in _titles(doc)  # its end is not known: only its first year is


def test_an_event_of_a_series_of_one_year_is_in_that_year_though_its_day_is_unknown(
    live_server,
):
    doc = lxml.html.fromstring(_get(live_server, "/browse/event?year=2020&lang=en").text)
    assert "Dare to experiment!" in _titles(doc)


def test_the_csv_gives_a_talk_the_day_of_its_event_not_the_event_s_start_time(live_server):
    table = _get(live_server, "/browse/talk.csv?lang=en")
    rows = {r["name"]: r for r in csv.DictReader(io.StringIO(table.content.decode("utf-8-sig")))}
    assert rows["Results of the joint project DeWaK"]["date"] == "2020-11-11"


def test_a_list_downloads_as_csv_with_a_byte_order_mark_for_spreadsheets(live_server):
    answer = _get(live_server, "/browse/person?theme=mobilitaet")
    doc = lxml.html.fromstring(answer.text)
    (href,) = [h for h in doc.xpath("//a[@download]/@href") if "sep=" not in h]
    table = _get(live_server, href)
    assert table.headers["Content-Type"] == "text/csv; charset=utf-8; header=present"
    assert table.headers["Content-Disposition"] == (
        'attachment; filename="person-theme-mobilitaet.csv"'
    )
    assert table.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(table.content.decode("utf-8-sig"))))
    assert [r["Name"] for r in rows] == ["Thomas Eble"]
    assert rows[0]["IRI"] == "https://w3id.org/kommunen-innovativ/id/person/thomas-eble"


def test_the_csv_holds_every_entry_of_the_list_not_one_page(live_server):
    table = _get(live_server, "/browse/organisation.csv?lang=en")
    rows = list(csv.DictReader(io.StringIO(table.content.decode("utf-8-sig"))))
    html = lxml.html.fromstring(_get(live_server, "/browse/organisation").text)
    assert len(rows) > len(_titles(html))  # the page shows 20 of them
    assert set(rows[0]) == {"name", "type", "date", "description", "page", "IRI"}
    assert any("ä" in r["name"] or "ü" in r["name"] or "ö" in r["name"] for r in rows)


def test_the_list_of_events_goes_by_date_with_undated_ones_last(live_server):
    doc = lxml.html.fromstring(_get(live_server, "/browse/event?lang=en").text)
    titles = _titles(doc)
    assert titles[0] == "Kick-off of the funding measure “Kommunen innovativ”"  # 2016
    assert titles.index("Secure public services!") < titles.index("Dare to experiment!")


def test_a_moderator_is_not_filed_under_the_key_message_of_the_event_they_moderated(
    live_server,
):
    doc = lxml.html.fromstring(
        _get(live_server, "/browse/person?theme=daseinsvorsorge-sichern").text
    )
    assert "Katrin Fahrenkrug" not in _titles(doc)


def test_the_csv_comes_semicolon_separated_for_excel_with_german_settings(live_server):
    doc = lxml.html.fromstring(_get(live_server, "/browse/person?theme=mobilitaet").text)
    links = doc.xpath("//a[@download]/@href")
    (semicolon,) = [link for link in links if "sep=semicolon" in link]
    table = _get(live_server, semicolon)
    rows = list(csv.reader(io.StringIO(table.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Name", "Art", "Datum", "Beschreibung", "Seite", "IRI"]
    assert rows[1][0] == "Thomas Eble"
    assert _get(live_server, "/browse/person.csv?sep=tab").status_code == 400
