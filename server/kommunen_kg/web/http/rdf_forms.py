"""The RDF forms of a resource description, and choosing one (or the page) by ``Accept``.

Four forms are offered, each with a file extension for its own URL (``/data/talk/x.ttl``) and
a media type for content negotiation (``negotiation.py``, the site's one negotiator): ties go to
the order of the offers, so ``*/*`` (curl, most libraries) gets the page, and an RDF client
that names several syntaxes gets the one it rates highest.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox

from kommunen_kg.rdf.dumps import compact_jsonld, sorted_triples
from kommunen_kg.rdf.formats import JSONLD, NTRIPLES, RDFXML, TURTLE, Syntax
from kommunen_kg.web.http import negotiation

HTML = "text/html"
# XHTML clients read the same page (HTML5 served as text/html is what they get).
XHTML = "application/xhtml+xml"


# The forms of a description are syntaxes of rdf/formats.py, the one table; ``extension`` is
# the suffix of their own URL (``/data/talk/x.ttl``) and the value of ``?format=``.
RdfForm = Syntax

RDF_FORMS: tuple[RdfForm, ...] = (TURTLE, JSONLD, NTRIPLES, RDFXML)
BY_EXTENSION: dict[str, RdfForm] = {f.extension: f for f in RDF_FORMS}


def choose(accept: str | None, with_page: bool) -> RdfForm | str | None:
    """The page (:data:`HTML`), an RDF form, or None when the client accepts none of them.

    The page is offered first, so that a missing ``Accept`` header, ``*/*`` and a tie get it; a
    client that names XHTML gets it too (an alias: only where named, so that ``application/*``
    still means an RDF form).
    """
    offers = (negotiation.HTML, *RDF_FORMS) if with_page else RDF_FORMS
    chosen = negotiation.choose(accept, offers)
    if chosen is negotiation.HTML:
        return HTML
    return chosen  # type: ignore[return-value]


def serialise(triples: Iterable[ox.Triple], form: RdfForm, prefixes: dict[str, str]) -> bytes:
    """One description in one form; triples are sorted so that equal data gives equal bytes
    in every worker process (and so the same ETag)."""
    ordered = sorted_triples(triples)
    used = used_prefixes(ordered, prefixes)
    if form is JSONLD:
        return compact_jsonld(ordered, used)
    return ox.serialize(
        ordered,
        format=form.rdf_format,
        prefixes=used if form.rdf_format is not ox.RdfFormat.N_TRIPLES else None,
    )


def used_prefixes(triples: Iterable[ox.Triple], prefixes: dict[str, str]) -> dict[str, str]:
    """Only the prefixes that abbreviate something here: shorter, more readable documents."""
    iris: set[str] = set()
    for t in triples:
        for term in (t.subject, t.predicate, t.object):
            if isinstance(term, ox.NamedNode):
                iris.add(term.value)
            elif isinstance(term, ox.Literal):
                iris.add(term.datatype.value)
    used = {}
    for name, namespace in prefixes.items():
        if any(i.startswith(namespace) and len(i) > len(namespace) for i in iris):
            used[name] = namespace
    return dict(sorted(used.items()))
