"""Every event as an iCalendar file (RFC 5545): ``/page/event/{slug}.ics``.

A reader who wants the programme in their own calendar gets one file per event (any resource
of kind ``event``: a conference, one event of the series, the series itself), written with the
``icalendar`` library, in the reader's language as the pages choose it (``?lang=de|en``, else
``Accept-Language``, German by default):

* the calendar: ``METHOD:PUBLISH``, its name, a description and the page's address, both as
  RFC 7986 properties (``NAME``, ``DESCRIPTION``, ``URL``, ``SOURCE``) and as the
  ``X-WR-CALNAME`` / ``X-WR-CALDESC`` that Apple's and Google's calendars read;
* one ``VEVENT`` for the event: ``UID`` its IRI, ``SUMMARY`` its name, ``DESCRIPTION`` the event
  it is part of (with its dates), its subtitle and description, ``LOCATION`` its place (or
  "Online"), ``URL`` its page. A date is written as a date (``VALUE=DATE``, and ``DTEND`` is the
  day *after* the last day: RFC 5545 ends are exclusive); a date and time is converted to UTC
  (``10:00+01:00`` -> ``090000Z``), so no ``VTIMEZONE`` is needed; ``DTSTAMP`` is the release's
  build time, so the same release always gives the same bytes;
* one ``VEVENT`` per programme item below it (``schema:superEvent``, at any depth: talks,
  sessions, panels, and the events of a series) **whose time is known**, with ``RELATED-TO;
  RELTYPE=PARENT`` naming the item it belongs to (its ``schema:superEvent``: the event, or the
  session a talk is part of). An item ends at its own ``schema:endDate``, else when the next
  item beside it starts, else when the item it belongs to ends; only on the day it starts (an
  end weeks later is no end of a talk). Where none of these is known, it has no ``DTEND``,
  which RFC 5545 reads as "ends when it starts";
* items whose time is not known are not guessed: they are listed in the event's
  ``DESCRIPTION`` (and a session's items also in the session's).

An event whose own date is not known (five events of the 2020 series: their dates are in no
source) has no ``VEVENT`` of its own; its dated items still have theirs. Its calendar still
answers ``200``: the calendar's description says that the date is not known, names the series
it belongs to with the series' dates, and lists the items. Such a file then holds no component
at all, which RFC 5545's grammar (``1*component``) does not foresee; ``icalendar``, ``ics``
and ``vobject`` read it as an empty calendar, and an importing calendar adds nothing, which is
the truth. A 404 would tell a reader that the event does not exist.

``schema:eventStatus`` becomes ``STATUS``: cancelled and postponed events ``CANCELLED`` (a
postponed event does not take place on the dates given), scheduled, rescheduled and moved
online ones ``CONFIRMED``.

Other kinds (``/page/talk/x.ics``) and unknown events answer 404, a removed event 410, a moved
one 301 to the calendar of its successor.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import icalendar
import pyoxigraph as ox
from flask import Blueprint, Response, abort, redirect, request

from kommunen_kg import __version__
from kommunen_kg.rdf.namespaces import RDF_TYPE, SCHEMA
from kommunen_kg.sparql.engine import TrustedEngine
from kommunen_kg.web import i18n, problems, site
from kommunen_kg.web.describe import iri_term, status
from kommunen_kg.web.display import date_words
from kommunen_kg.web.pages.programme import Item, programme
from kommunen_kg.web.publication import Publication

bp = Blueprint("calendar", __name__)

MEDIA_TYPE = "text/calendar; charset=utf-8"
PRODID = f"-//kommunen-kg//kommunen-kg {__version__}//DE"

# The words of the calendar, (German, English) as in i18n.py.
TEXTS: dict[str, tuple[str, str]] = {
    "online": ("Online", "Online"),
    "with": ("Mit", "With"),
    "untimed": (
        "Ohne überlieferte Uhrzeit (daher nicht als eigene Termine in diesem Kalender):",
        "Time not known (so not entries of their own in this calendar):",
    ),
    "undated": (
        "Das Datum dieser Veranstaltung ist nicht überliefert; dieser Kalender enthält daher "
        "keinen Termin für sie.",
        "The date of this event is not known, so this calendar holds no entry for it.",
    ),
    "part_of": ("Teil von {name}{dates}.", "Part of {name}{dates}."),
    "in": ("in", "in"),
    "items": ("Programm:", "Programme:"),
    "more": ("Mehr: {url}", "More: {url}"),
    "calendar": (
        "Termine von {name} aus dem Wissensgraphen „Kommunen innovativ“.",
        "Dates of {name} from the “Kommunen innovativ” knowledge graph.",
    ),
}

# schema:eventStatus -> STATUS (RFC 5545 3.8.1.11)
STATUS = {
    "EventCancelled": "CANCELLED",
    "EventPostponed": "CANCELLED",
    "EventScheduled": "CONFIRMED",
    "EventRescheduled": "CONFIRMED",
    "EventMovedOnline": "CONFIRMED",
}

_DATE_ONLY = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:Z|[+-]\d{2}:\d{2})?$")


def text(key: str, lang: str) -> str:
    """A word of the calendar in ``lang``."""
    return TEXTS[key][0 if lang == "de" else 1]


def parse_time(value: str | None) -> date | datetime | None:
    """An ``xsd:date`` as a date; an ``xsd:dateTime`` with offset in UTC, without one as the
    floating local time it is; anything else (``gYear``, a typo) None: not a known time."""
    if not value:
        return None
    found = _DATE_ONLY.match(value)
    if found:
        try:
            return date.fromisoformat(found.group(1))
        except ValueError:
            return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo is not None else moment


@dataclass
class Facts:
    """What the calendar says of one event or item, as the graph states it."""

    names: dict[str, str] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)
    subtitles: dict[str, str] = field(default_factory=dict)
    locations: dict[str, str] = field(default_factory=dict)
    start: str | None = None
    end: str | None = None
    online: bool = False
    status: str | None = None
    parents: list[str] = field(default_factory=list)


def _pick(values: dict[str, str], lang: str) -> tuple[str, str] | None:
    """(language tag, value) in ``lang``, else without tag, else German, English, any."""
    for key in (lang, "", "de", "en"):
        if key in values:
            return key, values[key]
    return next(iter(values.items()), None)


def facts(engine: TrustedEngine, event: str, vocab: str) -> dict[str, Facts]:
    """The facts of ``event``, of every item below it and of the event it belongs to."""
    node = iri_term(event)
    wanted = " ".join(
        f"<{p}>"
        for p in (
            SCHEMA + "name",
            SCHEMA + "description",
            vocab + "subtitle",
            SCHEMA + "startDate",
            SCHEMA + "endDate",
            SCHEMA + "location",
            SCHEMA + "eventAttendanceMode",
            SCHEMA + "eventStatus",
            SCHEMA + "superEvent",
        )
    )
    rows = engine.select(
        f"""SELECT ?s ?p ?v WHERE {{
          {{ VALUES ?s {{ {node} }} }}
          UNION {{ ?s <{SCHEMA}superEvent>+ {node} }}
          UNION {{ {node} <{SCHEMA}superEvent> ?s }}
          VALUES ?p {{ {wanted} }}
          ?s ?p ?v
        }}"""
    )
    found: dict[str, Facts] = {}
    for row in rows:
        subject, prop, value = row["s"].value, row["p"].value, row["v"]
        entry = found.setdefault(subject, Facts())
        if isinstance(value, ox.Literal):
            texts = {
                SCHEMA + "name": entry.names,
                SCHEMA + "description": entry.descriptions,
                vocab + "subtitle": entry.subtitles,
                SCHEMA + "location": entry.locations,
            }.get(prop)
            if texts is not None:
                texts.setdefault(value.language or "", value.value)
            elif prop == SCHEMA + "startDate":
                entry.start = value.value
            elif prop == SCHEMA + "endDate":
                entry.end = value.value
        elif prop == SCHEMA + "eventAttendanceMode":
            entry.online = value.value.endswith(
                ("OnlineEventAttendanceMode", "MixedEventAttendanceMode")
            )
        elif prop == SCHEMA + "eventStatus":
            entry.status = STATUS.get(value.value.rsplit("/", 1)[-1])
        elif prop == SCHEMA + "superEvent" and value.value not in entry.parents:
            entry.parents.append(value.value)
    return found


def _flatten(items: Iterable[Item]) -> list[Item]:
    return [i for item in items for i in (item, *_flatten(item.children))]


def _same_day(a: str | None, b: str | None) -> bool:
    """Whether two times fall on one day, as the source wrote them (its local date)."""
    return bool(a and b and a[:10] == b[:10])


def _ends(roots: list[Item], event_end: str | None) -> dict[str, datetime]:
    """When each timed item ends: its own end, else the next start beside it, else the end of
    what it belongs to; each only on the day the item starts and after its start."""
    found: dict[str, datetime] = {}

    def walk(items: list[Item], outer_raw: str | None, outer: datetime | None) -> None:
        for item in items:
            start = parse_time(item.start)
            end_raw: str | None = None
            end: datetime | None = None
            if isinstance(start, datetime):
                candidates: list[tuple[str | None, datetime | None]] = [
                    (item.end, _as_datetime(parse_time(item.end)))
                ]
                later = sorted(
                    (moment, sibling.start)
                    for sibling in items
                    if isinstance(moment := parse_time(sibling.start), datetime)
                    and _comparable(moment, start)
                    and moment > start
                )
                if later:
                    candidates.append((later[0][1], later[0][0]))
                candidates.append((outer_raw, outer))
                for raw, moment in candidates:
                    if (
                        moment is not None
                        and _comparable(moment, start)
                        and moment > start
                        and _same_day(raw, item.start)
                    ):
                        end_raw, end = raw, moment
                        break
                if end is not None:
                    found[item.iri] = end
            walk(item.children, end_raw, end)

    walk(roots, event_end, _as_datetime(parse_time(event_end)))
    return found


def _as_datetime(value: date | datetime | None) -> datetime | None:
    return value if isinstance(value, datetime) else None


def _comparable(a: datetime, b: datetime) -> bool:
    """Both in UTC or both floating: Python refuses to compare the two kinds."""
    return (a.tzinfo is None) == (b.tzinfo is None)


def _span(
    start_raw: str | None, end_raw: str | None
) -> tuple[date | datetime, date | datetime | None] | None:
    """DTSTART and DTEND of something with its own start and end (the event, a dated item)."""
    start = parse_time(start_raw)
    if start is None:
        return None
    end = parse_time(end_raw)
    if isinstance(start, datetime):
        if isinstance(end, datetime) and _comparable(end, start) and end > start:
            return start, end
        return start, None
    # a day (or days): the end is the day after the last one
    last = end if isinstance(end, date) and not isinstance(end, datetime) else start
    return start, max(last, start) + timedelta(days=1)


def _add_text(component: icalendar.Component, name: str, value: tuple[str, str] | None) -> None:
    if value is None or not value[1].strip():
        return
    lang, words = value
    component.add(name, words, parameters={"LANGUAGE": lang} if lang else None)


@dataclass(frozen=True)
class Context:
    """What the writer needs beyond the graph: language, release time and addresses."""

    lang: str
    stamp: datetime
    page_url: Callable[[str], str | None]  # public page of an IRI, in the reader's language
    calendar_url: str  # this file's public URL


def _people(item: Item) -> str:
    return ", ".join(p.name for p in item.speakers)


def _quoted(words: str, lang: str) -> str:
    """A name in the language's quotation marks, unless it holds quotation marks itself."""
    if any(mark in words for mark in '„“”"'):
        return words
    return f"„{words}“" if lang == "de" else f"“{words}”"


def _item_line(item: Item, within: str, names: dict[str, Item], lang: str) -> str:
    """One line of a list of items: name, speakers, and the session it is part of (when that
    is not ``within``, the event or session whose description lists it)."""
    line = "– " + item.name(lang)
    if item.speakers:
        line += f" ({_people(item)})"
    parent = names.get(item.parent or "")
    if item.parent != within and parent is not None:
        line += f", {text('in', lang)} {_quoted(parent.name(lang), lang)}"
    return line


def _description(parts: Iterable[str | None]) -> str:
    return "\n\n".join(p.strip() for p in parts if p and p.strip())


def _where(
    iri: str, event: str, known: dict[str, Facts], by_iri: dict[str, Item], lang: str
) -> tuple[str, str] | None:
    """LOCATION: its own place, else the place of what it belongs to (up to the event);
    "Online" where it is held online."""
    seen: set[str] = set()
    current: str | None = iri
    while current is not None and current not in seen:
        seen.add(current)
        entry = known.get(current, Facts())
        place = _pick(entry.locations, lang)
        if place is not None:
            return place
        if entry.online:
            return lang, text("online", lang)
        if current == event:
            return None
        holder = by_iri.get(current)
        current = holder.parent if holder is not None else None
    return None


def _part_of(own: Facts, known: dict[str, Facts], lang: str) -> str | None:
    """The event it belongs to, with that one's dates: an entry "Daseinsvorsorge sichern!"
    in someone's calendar says little without the conference it was part of."""
    for parent in own.parents:
        entry = known.get(parent)
        if entry is None or not entry.names:
            continue
        dates = ""
        if parse_time(entry.start) is not None:
            dates = f" ({date_words(entry.start or '', lang)}"
            if parse_time(entry.end) is not None:
                dates += f" – {date_words(entry.end or '', lang)}"
            dates += ")"
        parent_name = (_pick(entry.names, lang) or ("", parent))[1]
        return text("part_of", lang).format(name=_quoted(parent_name, lang), dates=dates)
    return None


def _item_vevent(
    item: Item,
    end: datetime | None,
    known: dict[str, Facts],
    by_iri: dict[str, Item],
    event: str,
    context: Context,
) -> icalendar.Event:
    """The VEVENT of a programme item with a known time."""
    lang = context.lang
    entry = known.get(item.iri, Facts())
    start = parse_time(item.start)
    assert start is not None
    span: tuple[date | datetime, date | datetime | None]
    if isinstance(start, datetime):
        span = (start, end)
    else:
        span = _span(item.start, item.end) or (start, None)
    page = context.page_url(item.iri)
    vevent = _vevent(
        item.iri, _pick(entry.names, lang) or ("", item.name(lang)), context, span, page
    )
    details = []
    if item.speakers:
        details.append(f"{text('with', lang)}: {_people(item)}")
    if item.projects:
        label = i18n.kind_name("project", lang, plural=len(item.projects) > 1)
        details.append(f"{label}: " + ", ".join(p.name for p in item.projects))
    inner = [
        _item_line(c, item.iri, by_iri, lang) for c in item.children if parse_time(c.start) is None
    ]
    described = _pick(entry.descriptions, lang)
    text_of = _description(
        [
            described[1] if described else None,
            "\n".join(details),
            (text("items", lang) + "\n" + "\n".join(inner)) if inner else None,
            _more(page, lang),
        ]
    )
    _add_text(vevent, "description", (lang, text_of))
    _add_text(vevent, "location", _where(item.iri, event, known, by_iri, lang))
    if entry.status:
        vevent.add("status", entry.status)
    vevent.add("related-to", item.parent or event, parameters={"RELTYPE": "PARENT"})
    return vevent


def event_calendar(
    engine: TrustedEngine, event: str, vocab: str, context: Context
) -> icalendar.Calendar:
    """The calendar of ``event``: the event and its items with a known time (see above)."""
    lang = context.lang
    known = facts(engine, event, vocab)
    own = known.get(event, Facts())
    roots = programme(engine, event, vocab, lang)
    every = _flatten(roots)
    by_iri = {item.iri: item for item in every}
    name = _pick(own.names, lang) or ("", event.rsplit("/", 1)[-1])
    page = context.page_url(event)
    untimed = [
        _item_line(item, event, by_iri, lang) for item in every if parse_time(item.start) is None
    ]
    untimed_block = text("untimed", lang) + "\n" + "\n".join(untimed) if untimed else None
    span = _span(own.start, own.end)

    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    # icalendar knows RFC 7986's DESCRIPTION, not NAME and the X- names: vText escapes them
    calendar.add("name", icalendar.vText(name[1]))
    calendar.add("x-wr-calname", icalendar.vText(name[1]))
    if span is None:
        about = [text("undated", lang), _part_of(own, known, lang), untimed_block]
    else:
        about = [text("calendar", lang).format(name=_quoted(name[1], lang))]
    summary = _description([*about, _more(page, lang)])
    calendar.add("description", summary)
    calendar.add("x-wr-caldesc", icalendar.vText(summary))
    if page:
        calendar.add("url", page)
    calendar.add("source", context.calendar_url)

    if span is not None:
        vevent = _vevent(event, name, context, span, page)
        subtitle, described = _pick(own.subtitles, lang), _pick(own.descriptions, lang)
        text_of = _description(
            [
                _part_of(own, known, lang),
                subtitle[1] if subtitle else None,
                described[1] if described else None,
                untimed_block,
                _more(page, lang),
            ]
        )
        _add_text(vevent, "description", (lang, text_of))
        _add_text(vevent, "location", _where(event, event, known, by_iri, lang))
        if own.status:
            vevent.add("status", own.status)
        for parent in own.parents:
            vevent.add("related-to", parent, parameters={"RELTYPE": "PARENT"})
        calendar.add_component(vevent)

    ends = _ends(roots, own.end)
    for item in every:
        if parse_time(item.start) is not None:
            vevent = _item_vevent(item, ends.get(item.iri), known, by_iri, event, context)
            calendar.add_component(vevent)
    return calendar


def _more(url: str | None, lang: str) -> str | None:
    return text("more", lang).format(url=url) if url else None


def _vevent(
    iri: str,
    name: tuple[str, str],
    context: Context,
    span: tuple[date | datetime, date | datetime | None],
    page: str | None,
) -> icalendar.Event:
    vevent = icalendar.Event()
    vevent.add("uid", iri)
    vevent.add("dtstamp", context.stamp)
    vevent.add("dtstart", span[0])
    if span[1] is not None:
        vevent.add("dtend", span[1])
    _add_text(vevent, "summary", name)
    if page:
        vevent.add("url", page)
    return vevent


def build_time(publication: Publication) -> datetime:
    """DTSTAMP: the release's build time, so that a release always gives the same file; for
    ad-hoc files, the newest of their modification times."""
    if publication.release is not None:
        return datetime.fromisoformat(publication.release.created.replace("Z", "+00:00"))
    times = []
    for path in publication.sources:
        try:
            times.append(int(path.stat().st_mtime))
        except OSError:
            continue
    return datetime.fromtimestamp(max(times, default=0), UTC)


def _is_event(engine: TrustedEngine, iri: str) -> bool:
    return engine.ask(f"ASK {{ {iri_term(iri)} <{RDF_TYPE}> <{SCHEMA}Event> }}")


def calendar_path(slug: str) -> str:
    """The path of an event's calendar (``/page/event/{slug}.ics``), for links to it."""
    return f"/page/event/{slug}.ics"


@bp.get("/page/event/<slug>.ics")
def event_ics(slug: str) -> Response:
    """The calendar of one event, in the reader's language."""
    pub = site.publication()
    addresses = site.addresses()
    local = f"id/event/{slug}"
    iri = addresses.iri(local)
    try:
        iri_term(iri)
    except ValueError:
        abort(problems.not_found(iri))
    if addresses.local_path(iri) != local:
        abort(problems.not_found(iri))
    found = status(pub.trusted, iri)
    if found.state == "moved" and found.replaced_by:
        new = found.replaced_by
        new_local = addresses.local_path(new)
        if addresses.kind(new) == "event" and new_local is not None:
            target = site.root() + calendar_path(new_local.split("/", 2)[2])
            if request.query_string:
                target += "?" + request.query_string.decode("latin-1")
        else:
            target = (site.root() + (addresses.page_url(new) or "")) if new_local else new
        abort(redirect(target, 301))
    if found.state == "gone":
        abort(problems.gone(iri, found))
    if found.state != "present" or not _is_event(pub.trusted, iri):
        abort(problems.not_found(iri))
    who = site.reader()

    def page_url(of: str) -> str | None:
        page = addresses.page_url(of)
        return site.public(page, lang=who.lang) if page else None

    context = Context(
        lang=who.lang,
        stamp=build_time(pub),
        page_url=page_url,
        calendar_url=site.public(calendar_path(slug), lang=who.lang),
    )
    calendar = event_calendar(pub.trusted, iri, pub.iris.vocab, context)
    response = Response(calendar.to_ical(), content_type=MEDIA_TYPE)
    response.headers.set("Content-Disposition", "attachment", filename=f"{slug}.ics")
    response.headers["Content-Language"] = who.lang
    if not who.explicit:
        response.vary.add("Accept-Language")
    return response
