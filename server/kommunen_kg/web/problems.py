"""Pages for what cannot be answered: unknown (404), removed (410), wrong format (406), bad
request (400).

A person who follows a broken link should not end on a bare "Not Found": the page says in
their language what happened, offers the search (pre-filled with the words of the address)
and the resources those words find, and the entry points of the site.
"""

from __future__ import annotations

import re

from flask import Response

from kommunen_kg.web import site
from kommunen_kg.web.describe import Status
from kommunen_kg.web.http.rdf_forms import RDF_FORMS


def _words(iri: str) -> str:
    tail = iri.split("/id/", 1)[-1]
    parts = tail.split("/", 1)
    slug = parts[1] if len(parts) > 1 else parts[0]
    return " ".join(w for w in re.split(r"[-_/.\s]+", slug) if w and not w.isdigit())


def not_found(iri: str | None = None) -> Response:
    who = site.fallback_reader()  # a problem page never fails on a faulty ?lang
    words = _words(iri) if iri else ""
    suggestions = []
    significant = [w for w in words.split() if len(w) >= 3]
    if significant:
        # An entry is suggested when it has more than half of the address's words: a typo
        # in one word of a name still finds it, one common word ("exist") finds nothing.
        index = site.index()
        hits: dict[str, int] = {}
        entries = {}
        for word in significant:
            for entry in index.find(word, 20, names_only=True).entries:
                hits[entry.iri] = hits.get(entry.iri, 0) + 1
                entries[entry.iri] = entry
        ranked = sorted(hits, key=lambda iri: -hits[iri])
        suggestions = [entries[i] for i in ranked if 2 * hits[i] > len(significant)]
    return site.render(
        "problem.html",
        status=404,
        who=who,
        problem="not_found",
        iri=iri,
        query=words,
        suggestions=suggestions[:8],
        addresses=site.addresses(),
        canonical=None,
    )


def gone(iri: str, found: Status) -> Response:
    who = site.fallback_reader()
    reason = (
        found.comments.get(who.lang)
        or found.comments.get("")
        or next(iter(found.comments.values()), None)
    )
    return site.render(
        "problem.html",
        status=410,
        who=who,
        problem="gone",
        iri=iri,
        when=found.invalidated,
        reason=reason,
        query=_words(iri),
        suggestions=[],
        addresses=site.addresses(),
        canonical=None,
    )


def not_acceptable(iri: str, with_page: bool) -> Response:
    who = site.fallback_reader()
    addresses = site.addresses()
    forms = [(f, addresses.data_url(iri, f.extension)) for f in RDF_FORMS]
    response = site.render(
        "problem.html",
        status=406,
        who=who,
        problem="not_acceptable",
        iri=iri,
        forms=forms,
        page=addresses.page_url(iri) if with_page else None,
        query="",
        suggestions=[],
        addresses=addresses,
        canonical=None,
    )
    response.vary.add("Accept")
    return response


def bad_request(message: str) -> Response:
    return site.render(
        "problem.html",
        status=400,
        who=site.fallback_reader(),
        problem="bad_request",
        message=message,
        iri=None,
        query="",
        suggestions=[],
        addresses=site.addresses(),
        canonical=None,
    )
