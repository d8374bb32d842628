"""The measure's events over time: a timeline drawn on the server, and the same as a list.

Dates are shown as the data gives them, to the day, the month or the year, and an event whose
date no source gives is shown as such, under its series, never placed on a guessed day. The
picture is SVG written here (no script, no library from elsewhere): a bar per year, a mark per
dated event, a band for a series that runs for weeks; every mark links to its page and has a
title, and the list beside it carries the same facts for readers who do not see the picture.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from html import escape

from kommunen_kg.rdf.namespaces import SCHEMA
from kommunen_kg.sparql.engine import TrustedEngine
from kommunen_kg.web.display import clock, date_words, short_clock
from kommunen_kg.web.resource_index import ResourceIndex

_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")


@dataclass
class Moment:
    """One event on the timeline, with the events it holds (a series' events)."""

    iri: str
    label: str
    href: str
    type: str
    start: str | None = None
    end: str | None = None
    location: str | None = None
    status: str | None = None  # the schema:eventStatus IRI (postponed, cancelled, ...)
    children: list[Moment] = field(default_factory=list)

    def when(self, lang: str) -> str | None:
        """The date (or range, or time) in words, as precise as the data."""
        if not self.start:
            return None
        first = date_words(self.start, lang)
        time = clock(self.start, lang)
        if self.end and self.end[:10] != self.start[:10]:
            return f"{first} – {date_words(self.end, lang)}"
        if time:
            until = short_clock(self.end)
            text = f"{short_clock(self.start)}–{until}" if until else short_clock(self.start)
            return f"{first}, {text}{' Uhr' if lang == 'de' else ''}"
        return first


def _day(value: str | None, last: bool = False) -> date | None:
    """The first (or ``last``) day a date of any precision covers."""
    if not value:
        return None
    if match := _DAY.match(value):
        return date(*map(int, match.groups()))
    if match := _MONTH.match(value):
        year, month = map(int, match.groups())
        if not last:
            return date(year, month, 1)
        following = date(year + month // 12, month % 12 + 1, 1)
        return date.fromordinal(following.toordinal() - 1)
    if match := _YEAR.match(value):
        return date(int(match.group(1)), 12, 31) if last else date(int(match.group(1)), 1, 1)
    return None


def timeline(
    engine: TrustedEngine,
    index: ResourceIndex,
    base: str,
    lang: str,
    link,
    type_name,
) -> list[Moment]:
    """The events of ``{base}id/event/``: those that belong to no other event, in the order of
    their dates (undated last), each with the events it holds in theirs."""
    prefix = f"{base}id/event/"
    moments: dict[str, Moment] = {}
    parents: dict[str, str] = {}
    for row in engine.select(
        f"""SELECT ?e ?start ?end ?super ?location ?status WHERE {{
              ?e a <{SCHEMA}Event> FILTER(STRSTARTS(STR(?e), "{prefix}"))
              OPTIONAL {{ ?e <{SCHEMA}startDate> ?start }}
              OPTIONAL {{ ?e <{SCHEMA}endDate> ?end }}
              OPTIONAL {{ ?e <{SCHEMA}superEvent> ?super
                          FILTER(STRSTARTS(STR(?super), "{prefix}")) }}
              OPTIONAL {{ ?e <{SCHEMA}location> ?location FILTER(isLiteral(?location)) }}
              OPTIONAL {{ ?e <{SCHEMA}eventStatus> ?status }}
            }}"""
    ):
        iri = row["e"].value
        entry = index.get(iri)
        if entry is None:
            continue
        moment = moments.get(iri)
        if moment is None:
            moment = moments[iri] = Moment(iri, entry.label(lang), link(iri), type_name(entry))
        for name in ("start", "end", "location", "status"):
            if name in row and getattr(moment, name) is None:
                setattr(moment, name, row[name].value)
        if "super" in row:
            parents[iri] = row["super"].value

    def order(moment: Moment) -> tuple:
        return (moment.start is None, moment.start or "", moment.label)

    roots = []
    for iri, moment in moments.items():
        parent = moments.get(parents.get(iri, ""))
        (parent.children if parent is not None else roots).append(moment)
    for moment in moments.values():
        moment.children.sort(key=order)
    return sorted(roots, key=order)


def years_of(moments: list[Moment]) -> list[tuple[str | None, list[Moment]]]:
    """The events grouped by the year they start in; undated ones last, as a group of their
    own (``None``)."""
    groups: dict[str | None, list[Moment]] = {}
    for moment in moments:
        groups.setdefault(moment.start[:4] if moment.start else None, []).append(moment)
    return sorted(groups.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))


def svg(
    moments: list[Moment],
    lang: str,
    title: str,
    description_id: str,
    status_words: dict[str, str] | None = None,
) -> str:
    """The timeline as an SVG picture: years along the bottom, a mark per dated event (a band
    for one that runs longer than a week), every mark a link with a title."""
    status_words = status_words or {}
    dated = [m for m in all_moments(moments) if _day(m.start)]
    if not dated:
        return ""
    first = min(_day(m.start) for m in dated).year  # type: ignore[union-attr]
    last = max((_day(m.end, True) or _day(m.start, True)) for m in dated).year  # type: ignore
    width, left, right, top = 960, 20, 20, 24
    span = (date(last + 1, 1, 1) - date(first, 1, 1)).days
    lanes: list[list[tuple[float, float]]] = []
    marks = []

    def x(day: date) -> float:
        return left + (day - date(first, 1, 1)).days / span * (width - left - right)

    for moment in sorted(dated, key=lambda m: (_day(m.start), m.label)):
        start = _day(moment.start)
        end = _day(moment.end, True) or _day(moment.start, True)
        x0, x1 = x(start), max(x(end), x(start) + 1)  # type: ignore[arg-type]
        band = (end - start).days > 7  # type: ignore[operator]
        # planned, then postponed or cancelled: an open mark (its status is in the title)
        moved = "" if moment.status in (None, SCHEMA + "EventScheduled") else " not-held"
        # the name to the right of the mark, or to its left where the picture ends
        text_width = 7 * min(len(moment.label), 40)
        flip = x1 + 12 + text_width > width - right
        if flip:
            span_from, span_to = x0 - 12 - text_width, x1 + 6
        else:
            span_from, span_to = x0 - 6, x1 + 12 + text_width
        lane = next(
            (
                i
                for i, used in enumerate(lanes)
                if all(b < span_from or a > span_to for a, b in used)
            ),
            None,
        )
        if lane is None:
            lanes.append([])
            lane = len(lanes) - 1
        lanes[lane].append((span_from, span_to))
        y = top + lane * 26
        when = moment.when(lang) or ""
        shape = (
            f'<rect x="{x0:.1f}" y="{y - 6}" width="{x1 - x0:.1f}" height="12" rx="6" '
            'class="band"/>'
            if band
            else f'<circle cx="{x0:.1f}" cy="{y}" r="6" class="mark{moved}"/>'
        )
        name = escape(moment.label if len(moment.label) <= 40 else moment.label[:39] + "…")
        marks.append(
            f'<a href="{escape(moment.href)}"><title>{escape(moment.label)}: {escape(when)}'
            f"{escape(status_words.get(moment.status or '', ''))}</title>{shape}"
            + (
                f'<text x="{x0 - 10:.1f}" y="{y + 4}" text-anchor="end">{name}</text></a>'
                if flip
                else f'<text x="{x1 + 10:.1f}" y="{y + 4}">{name}</text></a>'
            )
        )
    axis_y = top + len(lanes) * 26 + 8
    height = axis_y + 30
    ticks = []
    for year in range(first, last + 2):
        tx = x(date(year, 1, 1))
        ticks.append(
            f'<line x1="{tx:.1f}" y1="{top - 16}" x2="{tx:.1f}" y2="{axis_y}" class="year-line"/>'
        )
        if year <= last:
            mid = x(date(year, 7, 1))
            ticks.append(
                f'<text x="{mid:.1f}" y="{axis_y + 20}" class="year" aria-hidden="true">'
                f"{year}</text>"
            )
    # A group of links with a name, described by the caption beside it (role="img" would
    # make the links inside presentational for some screen readers).
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'class="timeline-picture" role="group" aria-label="{escape(title)}" '
        f'aria-describedby="{description_id}">'
        + "".join(ticks)
        + f'<line x1="{left}" y1="{axis_y}" x2="{width - right}" y2="{axis_y}" class="axis"/>'
        + "".join(marks)
        + "</svg>"
    )


def all_moments(moments: list[Moment]) -> list[Moment]:
    """Every event of the timeline, those a series holds included."""
    out = []
    for moment in moments:
        out.append(moment)
        out.extend(all_moments(moment.children))
    return out
