"""The pages people read: one per resource, the home page, browsing and search.

Everything is rendered on the server from Jinja2 templates, with our own stylesheet and no
script or font from elsewhere, so a page works without the network beyond this server and
without JavaScript. Each page embeds schema.org JSON-LD for its resource, links its RDF forms
(``<link rel="alternate">``), its language versions (``hreflang``) and its canonical URL.
"""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import urlencode

import pyoxigraph as ox
from flask import Blueprint, Response, abort, redirect, request

from kommunen_kg.rdf.namespaces import KINDS, SCHEMA, SKOS
from kommunen_kg.web import i18n, problems, site
from kommunen_kg.web.describe import Description, iri_term, types_of
from kommunen_kg.web.display import date_words
from kommunen_kg.web.http import rdf_forms
from kommunen_kg.web.http.rdf_forms import RDF_FORMS
from kommunen_kg.web.pages.calendar import calendar_path
from kommunen_kg.web.pages.home import home_model
from kommunen_kg.web.pages.presenters import COLUMNS as PRESENTER_COLUMNS
from kommunen_kg.web.pages.presenters import network as presenter_network
from kommunen_kg.web.pages.presenters import svg as presenter_svg
from kommunen_kg.web.pages.programme import programme
from kommunen_kg.web.pages.resource_view import (
    Group,
    Namer,
    Row,
    Shown,
    add_occasion,
    build_view,
)
from kommunen_kg.web.pages.schema_org import as_script, schema_object
from kommunen_kg.web.pages.scheme_tree import broader_paths, concepts_of, tree
from kommunen_kg.web.pages.shapes_page import build_shapes
from kommunen_kg.web.pages.timeline import all_moments, timeline, years_of
from kommunen_kg.web.pages.timeline import svg as timeline_svg
from kommunen_kg.web.pages.vocabulary_page import build_vocabulary
from kommunen_kg.web.resolution import Resolved, resolve
from kommunen_kg.web.resource_index import FACETS, fold

bp = Blueprint("pages", __name__)

PAGE_SIZE = 20
MAX_QUERY = 200


def sparql_link(iri: str) -> str:
    """A link to the query editor with a query about one resource, ready to run."""
    query = (
        f"SELECT ?property ?value WHERE {{\n  <{iri}> ?property ?value .\n}}\nORDER BY ?property"
    )
    return site.root() + "/sparql?" + urlencode({"query": query})


def _named(description: Description) -> set[str]:
    names = {description.iri}
    for t in description.about + description.incoming:
        for term in (t.subject, t.object):
            if isinstance(term, ox.NamedNode):
                names.add(term.value)
    return names


def _frame(resolved: Resolved, who: site.Reader) -> dict:
    """What every resource page links: its forms, its query, its language versions."""
    addresses = site.addresses()
    iri = resolved.iri
    page = addresses.page_url(iri) or "/"
    return {
        "iri": iri,
        "forms": [
            (f, site.root() + (addresses.data_url(iri, f.extension) or "")) for f in RDF_FORMS
        ],
        "sparql": sparql_link(iri),
        "alternates": site.language_urls(page),
    }


def _inherited_event_facts(iri: str) -> dict[str, str]:
    """A talk is held the way its event is (online): schema.org consumers expect it on the
    talk itself."""
    pub = site.publication()
    rows = pub.trusted.select(
        f"""SELECT ?mode WHERE {{ {iri_term(iri)} <{SCHEMA}superEvent>+ ?e .
              ?e <{SCHEMA}eventAttendanceMode> ?mode }} LIMIT 1"""
    )
    if rows:
        return {
            "eventAttendanceMode": "https://schema.org/" + rows[0]["mode"].value.rsplit("/", 1)[-1]
        }
    return {}


def _through_narrower_themes(iri: str, who: site.Reader) -> list[Group]:
    """What is filed under the narrower themes of a theme (at any depth), by kind, with
    counts: a broad theme such as Mobilität has nothing of its own, but its narrower themes
    have talks and projects. What is filed under the theme itself is listed as before."""
    vocab = site.publication().iris.vocab
    rows = site.publication().trusted.select(
        f"""SELECT DISTINCT ?item ?via WHERE {{
              ?via <{SKOS}broader>+ {iri_term(iri)} . ?item <{vocab}theme> ?via }}"""
    )
    index, addresses = site.index(), site.addresses()
    by_kind: dict[str, dict[str, set[str]]] = {}
    for row in rows:
        item = row["item"].value
        kind = addresses.kind(item)
        if kind is not None:
            by_kind.setdefault(kind, {}).setdefault(item, set()).add(row["via"].value)
    groups = []
    order = {k: i for i, k in enumerate(CONTENT_KINDS)}
    for kind in sorted(by_kind, key=lambda k: (order.get(k, 99), k)):
        items = by_kind[kind]
        plural = i18n.kind_name(kind, who.lang, plural=True)
        title = (
            f"{plural} zu Unterthemen ({i18n.number(len(items), who.lang)})"
            if who.lang == "de"
            else f"{plural} on narrower themes ({i18n.number(len(items), who.lang)})"
        )
        values = []
        for item, via in items.items():
            entry = index.get(item)
            page = addresses.page_url(item)
            themes = sorted((e.label(who.lang) if (e := index.get(v)) else v) for v in via)
            values.append(
                Shown(
                    entry.label(who.lang) if entry else item,
                    site.href(page, who) if page else None,
                    note=", ".join(themes),
                )
            )
        values.sort(key=lambda shown: fold(shown.text))
        group = Group(f"narrower-{kind}", title)
        group.rows.append(Row(f"narrower-{kind}", title, values))
        groups.append(group)
    return groups


def _with_occasion(view, iri: str, description: Description, who: site.Reader):
    """A talk or session has its date and event through the events it belongs to
    (``schema:superEvent``, over sessions): the date of the nearest one that has a date, and
    the nearest event (not a session), unless the page names that event itself."""
    own = {t.predicate.value for t in description.about if t.subject.value == iri}
    subject = iri_term(iri)
    rows = site.publication().trusted.select(
        f"""SELECT ?e ?start (COUNT(?between) AS ?depth) WHERE {{
              {subject} <{SCHEMA}superEvent>+ ?e .
              {subject} <{SCHEMA}superEvent>* ?between . ?between <{SCHEMA}superEvent>+ ?e .
              OPTIONAL {{ ?e <{SCHEMA}startDate> ?start }}
            }} GROUP BY ?e ?start"""
    )
    nearest = sorted(rows, key=lambda row: (int(row["depth"].value), row["e"].value))
    date = None
    if SCHEMA + "startDate" not in own:
        dated = next((row for row in nearest if "start" in row), None)
        date = date_words(dated["start"].value, who.lang) if dated else None
    addresses = site.addresses()
    found = next(
        (row["e"].value for row in nearest if addresses.kind(row["e"].value) == "event"), None
    )
    event = None
    named_already = any(
        t.predicate.value == SCHEMA + "superEvent" and t.object.value == found
        for t in description.about
        if t.subject.value == iri
    )
    if found is not None and not named_already:
        entry = site.index().get(found)
        page = addresses.page_url(found)
        event = Shown(
            entry.label(who.lang) if entry else found, site.href(page, who) if page else None
        )
    return add_occasion(view, date, event, who.lang)


@bp.route("/page/<path:rest>", methods=["GET", "HEAD"])
def resource_page(rest: str) -> Response:
    addresses = site.addresses()
    resolved = resolve(addresses.local_path_of_view(rest), "page")
    who = site.reader()
    if resolved.local_path == "def":
        return _vocabulary_page(resolved, who)
    if resolved.local_path == "shapes":
        return _shapes_page(resolved, who)
    pub = site.publication()
    terms = site.terms()
    description = resolved.describe()
    named_types = types_of(pub.trusted, _named(description))
    my_types = named_types.get(resolved.iri, set())
    link = lambda path: site.href(path, who)  # noqa: E731
    context: dict = _frame(resolved, who)

    hide: set[str] = set()
    items = []
    if SCHEMA + "Event" in my_types and any(
        t.predicate.value == SCHEMA + "superEvent" for t in description.incoming
    ):
        items = programme(pub.trusted, resolved.iri, terms.vocab, who.lang)
        hide |= {SCHEMA + "subEvent", "^" + SCHEMA + "superEvent"}
    branches = []
    if SKOS + "ConceptScheme" in my_types:
        branches = tree(pub.trusted, resolved.iri, terms, who.lang)
        hide |= {SKOS + "hasTopConcept", "^" + SKOS + "inScheme", "^" + SKOS + "topConceptOf"}
    hierarchy = []
    if SKOS + "Concept" in my_types:
        schemes = [
            t.object.value
            for t in description.about
            if t.subject.value == resolved.iri and t.predicate.value == SKOS + "inScheme"
        ]
        if schemes:
            concepts = concepts_of(pub.trusted, schemes[0], above=resolved.iri)
            for path in broader_paths(concepts, resolved.iri):
                hierarchy.append(
                    [
                        (
                            concepts[c].labels.get(who.lang)
                            or next(iter(concepts[c].labels.values()), c),
                            link(addresses.page_url(c) or ""),
                        )
                        for c in path
                    ]
                )
            hierarchy = [p for p in hierarchy if len(p) > 1]

    view = build_view(description, terms, addresses, who.lang, link, named_types, hide)
    namer = Namer(description, terms, addresses, who.lang, link, named_types)
    if SCHEMA + "Event" in my_types:
        view = _with_occasion(view, resolved.iri, description, who)
    if view.kind == "theme":
        view.incoming[:0] = _through_narrower_themes(resolved.iri, who)
    inherited = _inherited_event_facts(resolved.iri) if SCHEMA + "Event" in my_types else {}
    page_url = site.public(addresses.page_url(resolved.iri) or "/", lang=who.lang)
    jsonld = as_script(schema_object(resolved.iri, description.about, namer, page_url, inherited))
    calendar_href = None
    # every dated event has its calendar file (web/pages/calendar.py); one whose day no source
    # gives has nothing to put in a calendar
    indexed = site.index().get(resolved.iri) if view.kind == "event" else None
    if indexed is not None and indexed.start:
        calendar_href = site.href(calendar_path(resolved.iri.rsplit("/", 1)[-1]), who)
    return site.render(
        "resource.html",
        who=who,
        view=view,
        programme=items,
        calendar_href=calendar_href,
        branches=branches,
        hierarchy=hierarchy,
        jsonld=jsonld,
        kind_name=view.kind,
        **context,
    )


def _document_jsonld(resolved: Resolved, description: Description, who: site.Reader) -> str:
    terms = site.terms()
    addresses = site.addresses()
    named = types_of(site.publication().trusted, {resolved.iri})
    namer = Namer(description, terms, addresses, who.lang, lambda p: site.href(p, who), named)
    page_url = site.public(addresses.page_url(resolved.iri) or "/", lang=who.lang)
    return as_script(schema_object(resolved.iri, description.about, namer, page_url))


def _vocabulary_page(resolved: Resolved, who: site.Reader) -> Response:
    pub = site.publication()
    terms = site.terms()
    addresses = site.addresses()
    description = resolved.describe()
    named_types = types_of(pub.trusted, _named(description))
    link = lambda path: site.href(path, who)  # noqa: E731
    namer = Namer(description, terms, addresses, who.lang, link, named_types)
    namer.link_terms = True  # the vocabulary's readers follow terms to their definitions
    view = build_vocabulary(
        description.about, resolved.iri, terms, namer, addresses, pub.iris.prefixes(), who.lang
    )
    return site.render(
        "vocabulary.html",
        who=who,
        vocabulary=view,
        jsonld=_document_jsonld(resolved, description, who),
        **_frame(resolved, who),
    )


def _shapes_page(resolved: Resolved, who: site.Reader) -> Response:
    pub = site.publication()
    description = resolved.describe()
    addresses = site.addresses()

    def page_of(iri: str) -> str | None:
        page = addresses.page_url(iri)
        return site.href(page, who) if page else None

    view = build_shapes(description.about, resolved.iri, pub.iris.prefixes(), who.lang, page_of)
    return site.render(
        "shapes.html",
        who=who,
        shapes=view,
        jsonld=_document_jsonld(resolved, description, who),
        **_frame(resolved, who),
    )


@bp.route("/", methods=["GET", "HEAD"])
def home() -> Response:
    # The base IRI is the dataset's landing page; an RDF client asking for it is sent to the
    # catalog, which describes the landing page and the dataset it presents.
    choice = rdf_forms.choose(request.headers.get("Accept"), with_page=True)
    if isinstance(choice, rdf_forms.RdfForm):
        response = redirect(f"/catalog?format={choice.extension}", code=303)
        response.vary.add("Accept")
        return response
    who = site.reader()
    model = home_model(who)
    response = site.render(
        "home.html",
        who=who,
        home=model,
        alternates=site.language_urls("/"),
        jsonld=model.jsonld,
    )
    # The page is one of two answers chosen by Accept: a cache must not hand it to an RDF
    # client (nor the redirect to a browser).
    response.vary.add("Accept")
    return response


@bp.route("/timeline", methods=["GET", "HEAD"])
def timeline_page() -> Response:
    """The measure's events over time: a picture and, beside it, the same as a list."""
    who = site.reader()
    pub = site.publication()
    terms = site.terms()

    def type_name(entry) -> str:
        specific = terms.most_specific(entry.types)
        return terms.name(specific[0], who.lang) if specific else ""

    moments = timeline(
        pub.trusted,
        site.index(),
        pub.iris.base,
        who.lang,
        lambda iri: site.href(site.addresses().page_url(iri) or "/", who),
        type_name,
    )
    title = i18n.message("timeline", who.lang)
    statuses = {
        m.status: f" ({terms.name(m.status, who.lang)})"
        for m in all_moments(moments)
        if m.status and m.status != SCHEMA + "EventScheduled"
    }
    picture = timeline_svg(moments, who.lang, title, "timeline-caption", statuses)
    return site.render(
        "timeline.html",
        who=who,
        picture=picture,
        years=years_of(moments),
        statuses=statuses,
        alternates=site.language_urls("/timeline"),
    )


@bp.route("/presenters", methods=["GET", "HEAD"])
def presenters_page() -> Response:
    """Who presented what: people, their organisations, the projects they presented and the
    themes, as a picture and as a table."""
    who = site.reader()
    pub = site.publication()

    def link(iri: str) -> str:
        return site.href(site.addresses().page_url(iri) or "/", who)

    net = presenter_network(
        pub.trusted, site.index(), site.terms().vocab, pub.iris.base, who.lang, link
    )
    headings = {c: i18n.kind_name(c, who.lang, plural=True) for c in PRESENTER_COLUMNS}
    picture = presenter_svg(
        net, link, headings, i18n.message("presenters", who.lang), "presenters-caption"
    )
    # the table in pages, like every list of the site
    number = _page_number()
    pages = max(1, (len(net.presenters) + PAGE_SIZE - 1) // PAGE_SIZE)
    if number > pages:
        abort(problems.not_found(None))
    return site.render(
        "presenters.html",
        who=who,
        picture=picture,
        pictured=net.pictured,
        total=len(net.presenters),
        presenters=net.presenters[(number - 1) * PAGE_SIZE : number * PAGE_SIZE],
        number=number,
        pages=pages,
        csv_href=site.href("/presenters.csv", who),
        csv_semicolon_href=site.href("/presenters.csv", who, sep="semicolon"),
        alternates=site.language_urls("/presenters", **({"page": number} if number > 1 else {})),
    )


@bp.route("/presenters.csv", methods=["GET", "HEAD"])
def presenters_csv() -> Response:
    """The table of who presented what as CSV, a row per person."""
    who = site.reader()
    pub = site.publication()
    net = presenter_network(
        pub.trusted, site.index(), site.terms().vocab, pub.iris.base, who.lang, lambda i: i
    )
    de = who.lang == "de"
    header = [
        "Person" if de else "person",
        *(i18n.kind_name(k, who.lang, plural=True) for k in ("organisation", "project", "theme")),
        i18n.message("contributions", who.lang),
        "IRI",
    ]
    rows = [
        [
            p.label,
            *("; ".join(label for label, _ in items) for items in (p.organisations, p.projects)),
            "; ".join(label for label, _ in p.themes),
            "; ".join(label for label, _ in p.talks),
            p.iri,
        ]
        for p in net.presenters
    ]
    return _csv(header, rows, "presenters", who.lang)


SEPARATORS = {"comma": ",", "semicolon": ";"}


def _csv(header: list[str], rows: list[list[str]], name: str, lang: str) -> Response:
    """A table as CSV for spreadsheets: UTF-8 with a byte order mark (so that they show the
    umlauts), a header row, as a download; comma-separated (RFC 4180), or with ``?sep=semicolon``
    for Excel with German settings, which splits only on semicolons when a file is opened."""
    separator = SEPARATORS.get(request.args.get("sep", "comma"))
    if separator is None:
        abort(
            problems.bad_request(
                "sep ist comma oder semicolon."
                if site.fallback_reader().lang == "de"
                else "sep must be comma or semicolon."
            )
        )
    out = io.StringIO()
    writer = csv.writer(out, delimiter=separator)
    writer.writerow(header)
    writer.writerows(rows)
    response = Response(
        "\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8; header=present"
    )
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    response.headers["Content-Language"] = lang
    return response


def _page_number() -> int:
    raw = request.args.get("page", "1")
    # at most nine digits: a page number never needs more, and SQLite's integers end at 2^63
    if not raw.isdigit() or len(raw) > 9 or int(raw) < 1:
        abort(
            problems.bad_request(
                "page ist eine ganze Zahl ab 1, etwa page=2."
                if site.fallback_reader().lang == "de"
                else "page must be a whole number from 1 on, such as page=2."
            )
        )
    return int(raw)


# The kinds the browse index lists, in its order: what the programme documents.
CONTENT_KINDS = tuple(kind for kind in KINDS if kind not in ("agent", "dataset"))


@bp.route("/browse", methods=["GET", "HEAD"])
def browse_index() -> Response:
    who = site.reader()
    kinds = site.index().kinds()
    # What the programme documents; the publication's own metadata (agents, datasets, the
    # catalogue, its distributions and services, the vocabulary and shapes documents) has the
    # catalogue, VoID and downloads pages, linked from every page's footer.
    order = {k: i for i, k in enumerate(CONTENT_KINDS)}
    listed = sorted(
        ((kind, n) for kind, n in kinds.items() if kind in order), key=lambda kv: order[kv[0]]
    )
    return site.render(
        "browse_index.html", who=who, kinds=listed, alternates=site.language_urls("/browse")
    )


_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# Facet values shown at once; the rest open under "more" (a <details>, no script needed).
FACET_SHOWN = 8


def _filters() -> dict[str, str]:
    """The facet values the URL chooses (``?theme=mobilitaet&year=2020``): keys of themes,
    events and organisations of the release, a four-digit year. Anything else is a 400 that
    says what, in the reader's language."""
    base = site.publication().iris.base
    index = site.index()
    de = site.fallback_reader().lang == "de"
    chosen: dict[str, str] = {}
    for facet in FACETS:
        raw = request.args.get(facet, "")
        if not raw:
            continue
        if facet == "year":
            if not re.fullmatch(r"[0-9]{4}", raw):
                abort(
                    problems.bad_request(
                        "Das Jahr hat vier Ziffern, etwa year=2020."
                        if de
                        else "year must be four digits, such as year=2020."
                    )
                )
            chosen[facet] = raw
            continue
        iri = f"{base}id/{facet}/{raw}"
        if len(raw) > 200 or not _SLUG.fullmatch(raw) or index.get(iri) is None:
            name = i18n.kind_name(facet, "de" if de else "en")
            abort(
                problems.bad_request(
                    f"{name} „{raw[:60]}“ gibt es in diesen Daten nicht ({facet}= nimmt die "
                    "Kennung vom Ende der Adresse, etwa theme=mobilitaet)."
                    if de
                    else f"There is no {name} “{raw[:60]}” in this data ({facet}= takes the key "
                    "at the end of its address, such as theme=mobilitaet)."
                )
            )
        chosen[facet] = iri
    return chosen


def _url_params(filters: dict[str, str]) -> dict[str, str]:
    return {f: v if f == "year" else v.rsplit("/", 1)[-1] for f, v in sorted(filters.items())}


def _facets(kind: str, filters: dict[str, str], who: site.Reader) -> list[dict]:
    """The facet groups of a list: each value with its count and the link that chooses it (or,
    when chosen, takes it away), in the reader's language."""
    index = site.index()
    groups = []
    counts = index.facet_counts(kind, filters)
    params = _url_params(filters)
    for facet in FACETS:
        values = []
        for value, count in counts.get(facet, []):
            entry = None if facet == "year" else index.get(value)
            if facet != "year" and entry is None:
                continue
            key = value if facet == "year" else value.rsplit("/", 1)[-1]
            chosen = params.get(facet) == key
            changed = dict(params)
            if chosen:
                changed.pop(facet)
            else:
                changed[facet] = key
            values.append(
                {
                    "label": value if entry is None else entry.label(who.lang),
                    "count": count,
                    "chosen": chosen,
                    "href": site.href(f"/browse/{kind}", who, **changed),
                }
            )
        if facet == "year":
            values.sort(key=lambda v: v["label"], reverse=True)
        values.sort(key=lambda v: not v["chosen"])  # the chosen value first, always in view
        if values:
            groups.append({"facet": facet, "values": values, "shown": FACET_SHOWN})
    kinds = index.kind_counts(filters)
    order = {k: i for i, k in enumerate(CONTENT_KINDS)}
    groups.insert(
        0,
        {
            "facet": "kind",
            "shown": len(order),
            "values": [
                {
                    "label": i18n.kind_name(k, who.lang, plural=True),
                    "count": n,
                    "chosen": k == kind,
                    "href": site.href(f"/browse/{k}", who, **params),
                }
                for k, n in sorted(kinds.items(), key=lambda kv: order.get(kv[0], 99))
                if k in order
            ],
        },
    )
    return groups


@bp.route("/browse/<kind>", methods=["GET", "HEAD"])
def browse(kind: str) -> Response:
    who = site.reader()
    number = _page_number()
    index = site.index()
    if not index.kinds().get(kind, 0):
        abort(problems.not_found(None))
    filters = _filters()
    hits = index.selection(kind, who.lang, filters, (number - 1) * PAGE_SIZE, PAGE_SIZE)
    pages = max(1, (hits.total + PAGE_SIZE - 1) // PAGE_SIZE)
    if number > pages:
        abort(problems.not_found(None))
    params: dict[str, object] = dict(_url_params(filters))
    chosen = [
        {
            "facet": facet,
            "label": value
            if facet == "year"
            else (index.get(value).label(who.lang) if index.get(value) else value),
            "href": site.href(
                f"/browse/{kind}",
                who,
                **{k: v for k, v in _url_params(filters).items() if k != facet},
            ),
        }
        for facet, value in sorted(filters.items())
    ]
    page_params = dict(params)
    if number > 1:
        params["page"] = number
    return site.render(
        "browse.html",
        who=who,
        kind=kind,
        entries=[_listing(e, who) for e in hits.entries],
        total=hits.total,
        number=number,
        pages=pages,
        facets=_facets(kind, filters, who),
        chosen=chosen,
        page_params=page_params,
        csv_href=site.href(f"/browse/{kind}.csv", who, **page_params),
        csv_semicolon_href=site.href(f"/browse/{kind}.csv", who, sep="semicolon", **page_params),
        alternates=site.language_urls(f"/browse/{kind}", **params),
    )


@bp.route("/browse/<kind>.csv", methods=["GET", "HEAD"])
def browse_csv(kind: str) -> Response:
    """The whole list (every page) of a kind and facet selection as CSV: UTF-8 with a byte
    order mark, so that spreadsheet software shows umlauts, one row per entry."""
    who = site.reader()
    index = site.index()
    if not index.kinds().get(kind, 0):
        abort(problems.not_found(None))
    filters = _filters()
    hits = index.selection(kind, who.lang, filters)
    de = who.lang == "de"
    header = (
        ["Name", "Art", "Datum", "Beschreibung", "Seite", "IRI"]
        if de
        else ["name", "type", "date", "description", "page", "IRI"]
    )
    terms = site.terms()
    addresses = site.addresses()
    rows = []
    for entry in hits.entries:
        specific = terms.most_specific(entry.types)
        text = ""
        for source in (entry.full_titles, entry.descriptions):
            if source:
                text = source.get(who.lang) or next(iter(source.values()))
                break
        rows.append(
            [
                entry.label(who.lang),
                terms.name(specific[0], who.lang) if specific else "",
                entry.start or "",
                text,
                site.public(addresses.page_url(entry.iri) or "/", lang=who.lang),
                entry.iri,
            ]
        )
    name = "-".join([kind, *(f"{k}-{v}" for k, v in _url_params(filters).items())])
    return _csv(header, rows, name, who.lang)


def _listing(entry, who: site.Reader) -> dict:
    """One line of a list: name, what it is, a short text, its link."""
    terms = site.terms()
    specific = terms.most_specific(entry.types)
    text = None
    for source in (entry.full_titles, entry.descriptions):
        if source:
            text = source.get(who.lang) or next(iter(source.values()))
            break
    if text and len(text) > 220:
        text = text[:217].rsplit(" ", 1)[0] + " …"
    return {
        "iri": entry.iri,
        "label": entry.label(who.lang),
        "type": terms.name(specific[0], who.lang) if specific else "",
        "text": text,
        "href": site.href(site.addresses().page_url(entry.iri) or "/", who),
        "start": entry.start,
    }


@bp.route("/search", methods=["GET", "HEAD"])
def search() -> Response:
    who = site.reader()
    query = request.args.get("q", "").strip()
    if len(query) > MAX_QUERY:
        abort(
            problems.bad_request(
                f"Ein Suchtext hat höchstens {MAX_QUERY} Zeichen (dieser hat {len(query)})."
                if who.lang == "de"
                else f"A search text has at most {MAX_QUERY} characters (this one has "
                f"{len(query)})."
            )
        )
    number = _page_number()
    hits = site.index().find(query, PAGE_SIZE, (number - 1) * PAGE_SIZE)
    pages = max(1, (hits.total + PAGE_SIZE - 1) // PAGE_SIZE)
    if number > pages:
        abort(problems.not_found(None))
    params: dict[str, object] = {"q": query} if query else {}
    if number > 1:
        params["page"] = number
    return site.render(
        "search.html",
        who=who,
        query=query,
        results=[_listing(e, who) for e in hits.entries],
        total=hits.total,
        number=number,
        pages=pages,
        alternates=site.language_urls("/search", **params),
    )
