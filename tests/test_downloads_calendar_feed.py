"""The programme at a glance (issue 17): each event as iCalendar, the releases as an Atom feed.

The calendars are read back with three parsers (``icalendar``, which wrote them, and ``ics``
and ``vobject``, which did not); the feed with ``feedparser`` and, for what RFC 4287 requires,
with ``xml.etree``. The feed is served over a release folder with two releases built here (the
second adds people and changes an event), and over the session's release.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime

import feedparser
import icalendar
import ics
import pytest
import requests
import vobject

from .conftest import copy_sources
from .support import build_time

BASE = "https://w3id.org/kommunen-innovativ/"
EVENT = "herbst-konferenz-2020-daseinsvorsorge-sichern"
EVENT_IRI = f"{BASE}id/event/{EVENT}"
ICS = f"/page/event/{EVENT}.ics"
DATED_ITEMS = {
    f"{BASE}id/talk/2020-11-11-begruessung",
    f"{BASE}id/session/2020-11-11-schlaglichter",
    f"{BASE}id/talk/2020-11-11-externer-blick",
    f"{BASE}id/panel/2020-11-11-podium",
}
UNDATED_ITEMS = {
    "Ergebnisse des Verbundvorhabens lebensWert": f"{BASE}id/talk/2020-11-11-lebenswert",
    "Ergebnisse des Verbundvorhabens DeWaK": f"{BASE}id/talk/2020-11-11-dewak",
    "Umgang mit multilokalen Lebensweisen": f"{BASE}id/talk/2020-11-11-tempaland",
}
ATOM = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
NEW_PEOPLE = 60  # more than the feed names, so that it counts the rest


@pytest.fixture(scope="module")
def client(app):
    return app.test_client()


def _calendar(client, path: str = ICS, **headers: str) -> icalendar.Calendar:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.status_code
    return icalendar.Calendar.from_ical(response.data)


def _events(calendar: icalendar.Calendar) -> dict[str, icalendar.Event]:
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def _utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# --- iCalendar --------------------------------------------------------------------------------


def test_an_events_calendar_is_text_calendar_publishing_one_vcalendar(client):
    response = client.get(ICS)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(response.data)
    assert calendar.name == "VCALENDAR"
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert str(calendar["PRODID"]).startswith("-//kommunen-kg//")


def test_the_calendar_parses_alike_with_icalendar_ics_and_vobject(client):
    body = client.get(ICS).get_data(as_text=True)
    by_icalendar = {
        str(e["UID"]): e.decoded("DTSTART") for e in _events(_calendar(client)).values()
    }
    by_ics = {e.uid: e.begin.datetime for e in ics.Calendar(body).events}
    by_vobject = {e.uid.value: e.dtstart.value for e in vobject.readOne(body).vevent_list}
    assert set(by_icalendar) == {EVENT_IRI, *DATED_ITEMS}
    assert by_ics == by_icalendar
    assert by_vobject == by_icalendar


def test_the_events_times_are_converted_to_utc(client):
    raw = client.get(ICS).data.decode()
    event = _events(_calendar(client))[EVENT_IRI]
    assert event.decoded("DTSTART") == _utc(2020, 11, 11, 9)  # 10:00+01:00
    assert event.decoded("DTEND") == _utc(2020, 11, 11, 11, 30)  # 12:30+01:00
    assert "DTSTART:20201111T090000Z" in raw.replace("\r\n ", "")
    assert "VTIMEZONE" not in raw


def test_the_event_has_uid_summary_description_location_and_url(client):
    event = _events(_calendar(client))[EVENT_IRI]
    assert str(event["SUMMARY"]) == "Daseinsvorsorge sichern!"
    assert "Daseinsvorsorge ist der Kern kommunaler Aufgaben" in str(event["DESCRIPTION"])
    assert str(event["LOCATION"]) == "Online"
    assert str(event["URL"]) == f"{BASE}page/event/{EVENT}?lang=de"


def test_the_event_says_first_which_conference_it_was_part_of(client):
    """In someone's calendar, "Daseinsvorsorge sichern!" says little without its conference."""
    german = str(_events(_calendar(client))[EVENT_IRI]["DESCRIPTION"])
    english = str(_events(_calendar(client, ICS + "?lang=en"))[EVENT_IRI]["DESCRIPTION"])
    assert german.startswith("Teil von „Herbst-Konferenz 2020: Was macht Kommunen innovativ?“ (")
    assert english.startswith(
        "Part of “Autumn conference 2020: What makes municipalities innovative?” (28 October 2020"
    )


def test_dated_talks_are_vevents_related_to_the_event(client):
    events = _events(_calendar(client))
    for iri in DATED_ITEMS:
        related = events[iri]["RELATED-TO"]
        assert str(related) == EVENT_IRI
        assert related.params["RELTYPE"] == "PARENT"


def test_an_item_ends_when_the_next_begins_and_the_last_when_the_event_ends(client):
    events = _events(_calendar(client))
    welcome = events[f"{BASE}id/talk/2020-11-11-begruessung"]
    panel = events[f"{BASE}id/panel/2020-11-11-podium"]
    assert welcome.decoded("DTSTART") == _utc(2020, 11, 11, 9)
    assert welcome.decoded("DTEND") == _utc(2020, 11, 11, 9, 15)  # the session at 10:15+01:00
    assert panel.decoded("DTSTART") == _utc(2020, 11, 11, 10, 30)
    assert panel.decoded("DTEND") == _utc(2020, 11, 11, 11, 30)  # the event's end


def test_items_without_a_known_time_are_listed_in_the_description_not_guessed(client):
    calendar = _calendar(client)
    events = _events(calendar)
    description = str(events[EVENT_IRI]["DESCRIPTION"])
    for name, iri in UNDATED_ITEMS.items():
        assert iri not in events
        assert name in description


def test_the_summary_is_german_by_default_and_english_with_lang_en(client):
    german = _events(_calendar(client))
    english = _events(_calendar(client, ICS + "?lang=en"))
    assert str(german[EVENT_IRI]["SUMMARY"]) == "Daseinsvorsorge sichern!"
    assert str(english[EVENT_IRI]["SUMMARY"]) == "Secure public services!"
    assert english[EVENT_IRI]["SUMMARY"].params["LANGUAGE"] == "en"
    welcome = f"{BASE}id/talk/2020-11-11-begruessung"
    assert str(english[welcome]["SUMMARY"]) == "Welcome and introduction to the topic"


def test_accept_language_chooses_the_language_and_the_answer_varies_by_it(client):
    response = client.get(ICS, headers={"Accept-Language": "en"})
    event = _events(icalendar.Calendar.from_ical(response.data))[EVENT_IRI]
    assert str(event["SUMMARY"]) == "Secure public services!"
    assert response.headers["Content-Language"] == "en"
    assert "Accept-Language" in response.headers["Vary"]


def test_dtstamp_is_the_release_build_time_so_the_file_is_reproducible(client, release):
    first, second = client.get(ICS).data, client.get(ICS).data
    assert first == second
    built = datetime.fromisoformat(release.created.replace("Z", "+00:00"))
    for event in _calendar(client).walk("VEVENT"):
        assert event.decoded("DTSTAMP") == built


def test_a_date_only_event_is_a_whole_day_event_with_an_exclusive_end(client):
    response = client.get("/page/event/auftakt-2016.ics")  # 10 and 11 November 2016
    raw = response.data.decode()
    assert "DTSTART;VALUE=DATE:20161110" in raw
    assert "DTEND;VALUE=DATE:20161112" in raw
    event = next(iter(vobject.readOne(raw).vevent_list))
    assert event.dtstart.value == date(2016, 11, 10)
    assert (
        str(_events(icalendar.Calendar.from_ical(raw))[f"{BASE}id/event/auftakt-2016"]["LOCATION"])
        == "Berlin"
    )


def test_an_event_without_a_known_date_answers_a_calendar_that_says_so(client):
    calendar = _calendar(client, "/page/event/herbst-konferenz-2020-experimente-wagen.ics")
    assert not list(calendar.walk("VEVENT"))
    assert "nicht überliefert" in str(calendar["DESCRIPTION"])
    assert "28. Oktober 2020" in str(calendar["DESCRIPTION"])  # the series' dates
    assert str(calendar["X-WR-CALNAME"]) == "Experimente wagen!"


def test_a_postponed_event_is_cancelled_on_its_dates(client):
    calendar = _calendar(client, "/page/event/abschlusskonferenz-2020.ics")
    event = _events(calendar)[f"{BASE}id/event/abschlusskonferenz-2020"]
    assert str(event["STATUS"]) == "CANCELLED"


@pytest.mark.parametrize(
    "path",
    [
        "/page/talk/2020-11-11-begruessung.ics",  # a talk is an event, but not of kind event
        "/page/person/peter-dehne.ics",
        "/page/event/no-such-event.ics",
    ],
)
def test_a_calendar_of_anything_but_a_known_event_is_404(client, path):
    assert client.get(path).status_code == 404


def test_the_calendar_is_served_over_http_with_validators(live_server):
    response = requests.get(live_server + ICS.lstrip("/"), timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["ETag"]
    assert response.headers["Content-Disposition"] == f"attachment; filename={EVENT}.ics"
    again = requests.get(
        live_server + ICS.lstrip("/"),
        headers={"If-None-Match": response.headers["ETag"]},
        timeout=10,
    )
    assert again.status_code == 304


# --- the Atom feed of the releases ------------------------------------------------------------


@pytest.fixture(scope="module")
def two_releases(tmp_path_factory: pytest.TempPathFactory):
    """(test client, first release, second release) over a folder with two releases; the
    second adds NEW_PEOPLE people and changes the event's German subtitle."""
    from kommunen_kg.build.pipeline import build
    from kommunen_kg.config import load_config
    from kommunen_kg.web.app import create_app
    from kommunen_kg.web.publication import open_release

    root = copy_sources(tmp_path_factory.mktemp("feed-releases"))
    config = load_config(root / "kommunen-kg.toml")
    with build_time(1_700_000_000):
        first = build(config).release
    people = "".join(
        f'\nperson:feed-person{i:02d} a schema:Person ; schema:name "Feed Person{i:02d}" ;\n'
        f'    schema:givenName "Feed" ; schema:familyName "Person{i:02d}" ;\n'
        "    dcterms:source <https://kommunen-innovativ.de/> .\n"
        for i in range(NEW_PEOPLE)
    )
    with (root / "data" / "people.ttl").open("a", encoding="utf-8") as f:
        f.write(people)
    events = root / "data" / "events.ttl"
    events.write_text(
        events.read_text(encoding="utf-8").replace(
            "Finanzierungsansätze aufrechterhalten", "Finanzierungsansätze erhalten"
        ),
        encoding="utf-8",
    )
    with build_time(1_700_086_400):
        second = build(config).release
    assert first.version != second.version
    app = create_app(open_release(config, second))
    return app.test_client(), first, second


def _feed_xml(client, path: str = "/releases.atom") -> ET.Element:
    return ET.fromstring(client.get(path).data)


def test_the_feed_is_atom_and_parses_with_feedparser(two_releases):
    client, _, _ = two_releases
    response = client.get("/releases.atom")
    assert response.status_code == 200
    assert response.headers["Content-Type"].split(";")[0] == "application/atom+xml"
    parsed = feedparser.parse(response.data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"


def test_the_feed_lists_every_release_newest_first(two_releases):
    client, first, second = two_releases
    parsed = feedparser.parse(client.get("/releases.atom").data)
    assert [e.id for e in parsed.entries] == [
        f"{BASE}id/dataset/kommunen-innovativ-{second.version}",
        f"{BASE}id/dataset/kommunen-innovativ-{first.version}",
    ]
    assert second.version in parsed.entries[0].title
    assert "15. November 2023" in parsed.entries[0].title  # its build date (SOURCE_DATE_EPOCH)
    assert parsed.entries[0].link == f"{BASE}dumps/{second.version}/?lang=de"


def test_each_entry_says_its_triples_and_what_changed_against_the_previous(two_releases):
    client, first, second = two_releases
    newest, oldest = feedparser.parse(client.get("/releases.atom").data).entries
    changes = second.manifest["changes"]
    triples = f"{second.manifest['counts']['knowledge_graph']:,}".replace(",", ".")
    assert f"{triples} Tripel" in newest.summary
    assert (
        f"gegenüber {first.version}: +{changes['added_triples']} / −{changes['removed_triples']}"
        in newest.summary
    )
    assert "erste Veröffentlichung" in oldest.summary


def test_an_entry_links_the_changed_resources_and_counts_those_past_fifty(two_releases):
    client, _, second = two_releases
    newest = feedparser.parse(client.get("/releases.atom").data).entries[0]
    content = newest.content[0].value
    changes = second.manifest["changes"]
    assert len(changes["added"]) == NEW_PEOPLE
    assert f'<a href="{BASE}page/person/feed-person00?lang=de">Feed Person00</a>' in content
    assert f"und {NEW_PEOPLE - 50} weitere" in content  # 50 named, the rest counted
    assert "Feed Person49" in content and "Feed Person50" not in content
    assert "<p>geändert (1)</p>" in content  # counted only: fifty are named already


def test_the_feed_and_each_entry_have_id_updated_and_title(two_releases):
    client, _, _ = two_releases
    feed = _feed_xml(client)
    assert feed.tag == f"{ATOM}feed"
    for element in (feed, *feed.findall(f"{ATOM}entry")):
        for child in ("id", "updated", "title"):
            found = element.find(f"{ATOM}{child}")
            assert found is not None and found.text, (element.tag, child)
        datetime.fromisoformat(element.find(f"{ATOM}updated").text.replace("Z", "+00:00"))
    assert feed.find(f"{ATOM}author/{ATOM}name").text
    assert feed.find(f"{ATOM}link[@rel='self']") is not None
    assert len(feed.findall(f"{ATOM}entry")) == 2


def test_the_feed_is_german_by_default_and_english_with_lang_en(two_releases):
    client, _, _ = two_releases
    german, english = _feed_xml(client), _feed_xml(client, "/releases.atom?lang=en")
    assert german.get(XML_LANG) == "de" and english.get(XML_LANG) == "en"
    assert german.find(f"{ATOM}title").text.endswith("Veröffentlichungen")
    assert english.find(f"{ATOM}title").text.endswith("releases")
    assert "first release" in english.findall(f"{ATOM}entry")[1].find(f"{ATOM}summary").text


def test_the_served_releases_feed_names_it_first(live_server, release):
    response = requests.get(live_server + "releases.atom", timeout=10)
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo
    assert parsed.entries[0].id == f"{BASE}id/dataset/kommunen-innovativ-{release.version}"


def test_an_event_page_links_its_calendar_and_every_page_the_feed(app):
    page = (
        app.test_client()
        .get("/page/event/herbst-konferenz-2020-daseinsvorsorge-sichern?lang=en")
        .get_data(as_text=True)
    )
    assert (
        '<link rel="alternate" type="text/calendar" '
        'href="/page/event/herbst-konferenz-2020-daseinsvorsorge-sichern.ics?lang=en"'
    ) in page
    assert 'type="application/atom+xml" href="/releases.atom?lang=en"' in page
    talk = app.test_client().get("/page/talk/2020-11-11-kudequa").get_data(as_text=True)
    assert "text/calendar" not in talk
