"""Content negotiation, the one mechanism of the site: which format answers a request.

The SPARQL endpoint, the linked-data documents (``/id``, ``/data``, ``/page``), the catalog,
VoID and the downloads list all choose here, from offers in their own order of preference.

Two inputs decide it, in this order: a ``format`` parameter (a short name such as ``csv`` or
``turtle``, or a media type), which wins because a link must be able to ask for a download; and
the ``Accept`` header with its q-values and wildcards (RFC 9110, section 12.5.1). What can be
offered depends on what is asked: result sets for SELECT and ASK, RDF graphs for CONSTRUCT and
DESCRIBE and for the service description.

At the SPARQL endpoint a browser says it prefers ``text/html``; it gets the query editor page,
not a download. Only an ``Accept`` that names ``text/html`` (or XHTML) itself counts as a
browser there: ``*/*`` from curl or a script means "anything", and gets the data. A page of the
site, on the other hand, is offered first, so that ``*/*`` gets it.

No Flask in here: the functions take header values and return the offer chosen, so that they
can be tested on their own. werkzeug parses the header; the policy (q of the most specific
range, aliases only where named, the page only where a view offers it) is ours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from kommunen_kg.rdf.formats import (
    JSONLD,
    NQUADS,
    NTRIPLES,
    RDFXML,
    RESULTS_CSV,
    RESULTS_JSON,
    RESULTS_TSV,
    RESULTS_XML,
    TRIG,
    TURTLE,
    Syntax,
)


class Offer(Protocol):
    """Anything a client can be offered: a media type and the other names it goes by."""

    @property
    def media_type(self) -> str: ...

    @property
    def media_types(self) -> tuple[str, ...]: ...


# The formats offered here are the syntaxes of rdf/formats.py, the one table.
Format = Syntax

JSON = RESULTS_JSON
XML = RESULTS_XML
CSV = RESULTS_CSV
TSV = RESULTS_TSV

HTML = Syntax("html", "text/html", "HTML", "html", ("application/xhtml+xml",), ("html",))
# A JSON document that is no SPARQL result (the downloads list).
JSON_DOCUMENT = Syntax("json", "application/json", "JSON", "json", (), ("json",))

# Offers in the server's order of preference: the first one answers "*/*" and a missing Accept.
RESULT_OFFERS: tuple[Format, ...] = (JSON, XML, CSV, TSV)
GRAPH_OFFERS: tuple[Format, ...] = (TURTLE, NTRIPLES, JSONLD, RDFXML, TRIG, NQUADS)
# An ASK answer: SPARQL 1.1 defines a boolean form for JSON and XML only (CSV and TSV have none,
# and Jena's and rdflib's readers reject a bare "true").
BOOLEAN_OFFERS: tuple[Format, ...] = (JSON, XML)
DESCRIPTION_OFFERS: tuple[Format, ...] = (TURTLE, JSONLD, RDFXML, NTRIPLES)


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    q: float

    @property
    def specificity(self) -> int:
        """2 for type/subtype, 1 for type/*, 0 for */*."""
        if self.type == "*":
            return 0
        return 1 if self.subtype == "*" else 2

    def matches(self, media_type: str) -> bool:
        kind, _, sub = media_type.partition("/")
        return self.type in ("*", kind) and self.subtype in ("*", sub)


def parse_accept(header: str | None) -> tuple[MediaRange, ...]:
    """The media ranges of an Accept header; a missing or empty header accepts anything.

    werkzeug parses the header (``MIMEAccept``); entries it cannot read, or that name no
    media range, are skipped rather than refused: a client with a sloppy header should still
    get an answer, and RFC 9110 lets a server ignore what it cannot parse. Clients send the
    same few headers again and again, so the last ones are remembered (parsing one was a
    tenth of the endpoint's own work on a small query).
    """
    if header is None or not header.strip():
        return (MediaRange("*", "*", 1.0),)
    if len(header) > 256:  # remembered only when short: a long one is no client's habit
        return _parse_accept(header)
    return _parse_accept_kept(header)


def _parse_accept(header: str) -> tuple[MediaRange, ...]:
    ranges = []
    for value, quality in parse_accept_header(header, MIMEAccept):
        media = value.split(";")[0].strip().lower()
        if media == "*":  # seen in the wild, means */*
            media = "*/*"
        kind, slash, sub = media.partition("/")
        if not slash or not kind or not sub or (kind == "*" and sub != "*"):
            continue
        ranges.append(MediaRange(kind, sub, min(max(float(quality), 0.0), 1.0)))
    return tuple(ranges)


_parse_accept_kept = lru_cache(maxsize=128)(_parse_accept)


def _quality(ranges: Sequence[MediaRange], media_type: str) -> tuple[float, int]:
    """q-value and specificity of the most specific range matching ``media_type``."""
    best: MediaRange | None = None
    for r in ranges:
        if r.matches(media_type) and (
            best is None
            or r.specificity > best.specificity
            or (r.specificity == best.specificity and r.q > best.q)
        ):
            best = r
    return (best.q, best.specificity) if best else (0.0, -1)


def _offer_quality(ranges: Sequence[MediaRange], offer: Offer) -> tuple[float, int]:
    """How much the client wants ``offer``.

    Its canonical media type counts however it is matched; an alias (``application/json`` for
    SPARQL JSON results) only where the client names it, so that ``*/*`` or ``text/*`` cannot
    reach a format through a side door, and ``type;q=0`` excludes it.
    """
    explicit = [
        quality for quality in (_quality(ranges, m) for m in offer.media_types) if quality[1] == 2
    ]
    return max(explicit) if explicit else _quality(ranges, offer.media_type)


def choose(
    accept: str | None, offers: Sequence[Offer], *, browser_page: bool = False
) -> Offer | None:
    """The best of ``offers`` for an Accept header, or None when none is acceptable.

    Highest q wins (the q of the most specific range that matches, RFC 9110 12.5.1); on a tie,
    the offer the client named more specifically, then the server's order: whatever comes
    first in ``offers`` answers ``*/*`` and a missing header. With ``browser_page``,
    :data:`HTML` competes too, but only where the header names it explicitly, and it loses a tie
    against data the client also named (the SPARQL endpoint: ``*/*`` means data there).
    """
    if isinstance(offers, tuple) and (accept is None or len(accept) <= 256):
        return _choose_kept(accept, offers, browser_page)  # the same few headers, again
    return _choose(accept, offers, browser_page)


def _choose(accept: str | None, offers: Sequence[Offer], browser_page: bool) -> Offer | None:
    ranges = parse_accept(accept)
    scored: list[tuple[float, int, int, Offer]] = []
    for position, offer in enumerate(offers):
        q, specificity = _offer_quality(ranges, offer)
        if q > 0:
            scored.append((q, specificity, -position, offer))
    if browser_page:
        q, specificity = _offer_quality(ranges, HTML)
        if q > 0 and specificity == 2:
            scored.append((q, specificity, -len(offers), HTML))
    if not scored:
        return None
    return max(scored, key=lambda item: item[:3])[3]


_choose_kept = lru_cache(maxsize=256)(_choose)


def from_parameter(value: str, offers: Sequence[Format]) -> Format | None:
    """The offer a ``format`` parameter names (short name or media type), or None."""
    wanted = value.strip().lower()
    media = wanted.split(";")[0].strip()
    for offer in offers:
        if wanted in offer.names or media in offer.media_types:
            return offer
    return None


def negotiate(
    accept: str | None,
    format_parameters: Sequence[str] | str | None,
    offers: Sequence[Format],
    *,
    browser_page: bool = False,
) -> Format | None:
    """``format`` when given, else the Accept header.

    Several ``format`` values may come (SPARQLWrapper sends a short name and a media type); the
    first that names one of ``offers`` wins, and if none does, nothing is acceptable.
    """
    if isinstance(format_parameters, str):
        format_parameters = (format_parameters,)
    if format_parameters:
        for value in format_parameters:
            chosen = from_parameter(value, offers)
            if chosen is not None:
                return chosen
        return None
    return choose(accept, offers, browser_page=browser_page)


def offered_media_types(offers: Sequence[Format]) -> list[str]:
    """The canonical media types of ``offers``, for a 406 answer and the service description."""
    return [offer.media_type for offer in offers]
