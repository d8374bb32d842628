"""A resource's description arranged for a reader: title, type, text, grouped facts, links.

The description holds triples; a page holds sentences a non-specialist understands. On the way:

* the name becomes the title and the description the lead, in the reader's language;
* of the statements the build derived (``schema:performer`` from ``ki:speaker``, the
  ``schema:subEvent`` mirror of ``schema:superEvent``) only the most specific is shown;
* properties are grouped (date and place, people, context, web, notes) and named with the
  vocabulary's labels, or ours for well-known terms;
* linked resources are shown by their names, links to this resource by what they are
  ("Vorträge zu diesem Projekt"), sources apart, so that every fact can be checked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pyoxigraph as ox

from kommunen_kg.rdf.namespaces import DCTERMS, FOAF, OWL, RDF_TYPE, RDFS, SCHEMA, SKOS, VCARD
from kommunen_kg.web import i18n
from kommunen_kg.web.addresses import Addresses
from kommunen_kg.web.describe import LABEL_PROPERTIES, Description
from kommunen_kg.web.display import literal_text, short_url
from kommunen_kg.web.resource_index import fold, pick
from kommunen_kg.web.terms import Terms

TITLE_PROPERTIES = (*LABEL_PROPERTIES, VCARD + "fn")
DESCRIPTION_PROPERTIES = (
    SCHEMA + "description",
    SKOS + "definition",
    DCTERMS + "description",
    RDFS + "comment",
)

# Groups of properties, in the order a reader meets them. "def#" names our vocabulary.
GROUPS: tuple[tuple[str, tuple[str, str], tuple[str, ...]], ...] = (
    (
        "overview",
        ("Überblick", "Overview"),
        (
            "def#fullTitle",
            "def#subtitle",
            SCHEMA + "alternateName",
            SKOS + "altLabel",
            SCHEMA + "honorificPrefix",
            SCHEMA + "givenName",
            SCHEMA + "familyName",
            SCHEMA + "jobTitle",
        ),
    ),
    (
        "when",
        ("Termin und Ort", "Date and place"),
        (
            SCHEMA + "startDate",
            SCHEMA + "endDate",
            SCHEMA + "doorTime",
            SCHEMA + "eventAttendanceMode",
            SCHEMA + "eventStatus",
            SCHEMA + "location",
            SCHEMA + "areaServed",
            SCHEMA + "isAccessibleForFree",
            SCHEMA + "inLanguage",
        ),
    ),
    (
        "people",
        ("Beteiligte", "People and organisations"),
        (
            "def#speaker",
            "def#panelist",
            "def#moderator",
            SCHEMA + "organizer",
            "def#coordinator",
            "def#partner",
            "def#projectLeader",
            SCHEMA + "member",
            SCHEMA + "affiliation",
            SCHEMA + "alumniOf",
            SCHEMA + "memberOf",
            SCHEMA + "funder",
            "def#projectManagementAgency",
            SCHEMA + "parentOrganization",
            SCHEMA + "performer",
            SCHEMA + "contributor",
        ),
    ),
    (
        "context",
        ("Einordnung", "Context"),
        (
            SCHEMA + "superEvent",
            SCHEMA + "subEvent",
            "def#presentsProject",
            "def#fundingMeasure",
            "def#accompanies",
            "def#partOfProgramme",
            "def#keyMessage",
            "def#theme",
            SCHEMA + "about",
            DCTERMS + "subject",
            SKOS + "broader",
            SKOS + "narrower",
            SKOS + "topConceptOf",
            SKOS + "hasTopConcept",
            SKOS + "inScheme",
            DCTERMS + "relation",
            DCTERMS + "isPartOf",
        ),
    ),
    (
        "web",
        ("Im Netz", "On the web"),
        (
            "def#documentationPage",
            "def#programmePage",
            FOAF + "homepage",
            SCHEMA + "url",
            FOAF + "page",
            OWL + "sameAs",
            RDFS + "seeAlso",
        ),
    ),
    ("notes", ("Anmerkungen", "Notes"), (SKOS + "editorialNote", SKOS + "scopeNote")),
)
MORE = ("more", ("Weitere Angaben", "More facts"))


@dataclass
class Shown:
    """One value as shown: text, maybe a link, its language when it differs from the page's."""

    text: str
    href: str | None = None
    lang: str | None = None
    note: str | None = None
    external: bool = False


@dataclass
class Row:
    prop: str
    label: str
    values: list[Shown]


@dataclass
class Group:
    key: str
    title: str
    rows: list[Row] = field(default_factory=list)


@dataclass
class Part:
    """A hash resource shown as a section of its document's page."""

    anchor: str
    title: str
    type_line: str
    rows: list[Row]


@dataclass
class ResourceView:
    iri: str
    kind: str | None
    title: str
    title_lang: str | None
    types: list[str]
    type_line: str
    description: str | None
    description_lang: str | None
    groups: list[Group]
    incoming: list[Group]
    sources: list[Shown]
    parts: list[Part]


class Namer:
    """Names IRIs for a reader: our resources by their label, terms by their name."""

    def __init__(
        self,
        description: Description,
        terms: Terms,
        addresses: Addresses,
        lang: str,
        link: Callable[[str], str],
        types: dict[str, set[str]],
    ):
        self.terms = terms
        self.addresses = addresses
        self.lang = lang
        self.link_terms = False  # whether terms of vocabularies link to their definitions
        self.link = link
        self.types = types
        self.labels: dict[str, dict[str, str]] = {}
        ranks: dict[tuple[str, str], int] = {}
        for t in description.triples:
            if t.predicate.value in TITLE_PROPERTIES and isinstance(t.object, ox.Literal):
                key = (t.subject.value, t.object.language or "")
                rank = TITLE_PROPERTIES.index(t.predicate.value)
                if rank < ranks.get(key, 99):
                    ranks[key] = rank
                    self.labels.setdefault(t.subject.value, {})[key[1]] = t.object.value

    def label(self, iri: str) -> tuple[str, str | None]:
        """The name of a resource and its language (None when it is the page's or none)."""
        names = self.labels.get(iri)
        if names:
            for lang in (self.lang, "", "de", "en"):
                if lang in names:
                    return names[lang], (lang if lang and lang != self.lang else None)
            first_lang, text = next(iter(names.items()))
            return text, first_lang or None
        if iri in i18n.TERMS or iri in self.terms.labels:
            return self.terms.name(iri, self.lang), None
        return iri, None

    def type_name(self, iri: str) -> str | None:
        types = self.types.get(iri)
        if not types:
            return None
        specific = self.terms.most_specific(types)
        return self.terms.name(specific[0], self.lang) if specific else None

    def value(self, term: ox.NamedNode | ox.BlankNode | ox.Literal) -> Shown:
        if isinstance(term, ox.Literal):
            lang = term.language or None
            return Shown(literal_text(term, self.lang), lang=lang if lang != self.lang else None)
        if isinstance(term, ox.BlankNode):
            return Shown("[…]")
        iri = term.value
        page = self.addresses.page_url(iri)
        if page is not None:
            text, lang = self.label(iri)
            if text == iri:
                fragment = self.addresses.fragment(iri)
                text = f"#{fragment}" if fragment else iri[len(self.addresses.base) :]
            return Shown(text, self.link(page), lang=lang, note=self.type_name(iri))
        if not self.link_terms and (iri in i18n.TERMS or iri in self.terms.labels):
            # A term of a vocabulary used as a value (schema:OnlineEventAttendanceMode): its
            # name is what a reader needs; a link would lead to the vocabulary's definition
            # (kept on the vocabulary's own page, for whom it is written).
            text, lang = self.label(iri)
            return Shown(text, lang=lang)
        if iri in self.labels or iri in i18n.TERMS or iri in self.terms.labels:
            text, lang = self.label(iri)
            return Shown(text, iri, lang=lang, external=True)
        return Shown(short_url(iri), iri, external=True)


def natural(text: str) -> tuple:
    """Sort key that puts 'class-2' before 'class-10' and ignores case and accents."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", fold(text)))


def capitalised(text: str) -> str:
    """'stellt Projekt vor' -> 'Stellt Projekt vor': labels start lower case, rows do not."""
    return text[:1].upper() + text[1:]


def _resolve(prop: str, vocab: str) -> str:
    return vocab + prop[4:] if prop.startswith("def#") else prop


def _in_language(values: list[ox.Literal | ox.NamedNode | ox.BlankNode], lang: str) -> list:
    """Of language variants of one property, the reader's; all other values as they are."""
    literals = [v for v in values if isinstance(v, ox.Literal) and v.language]
    if not literals:
        return values
    others = [v for v in values if not (isinstance(v, ox.Literal) and v.language)]
    chosen = [v for v in literals if v.language == lang]
    if not chosen and not others:
        preferred = "de" if any(v.language == "de" for v in literals) else literals[0].language
        chosen = [v for v in literals if v.language == preferred]
    return others + chosen


def _without_derived(
    pairs: set[tuple[str, ox.NamedNode | ox.BlankNode | ox.Literal]], terms: Terms
) -> set[tuple[str, object]]:
    """Drops (p, o) when a sub-property of p states the same value: the build derived it."""
    by_value: dict[object, set[str]] = {}
    for prop, value in pairs:
        by_value.setdefault(value, set()).add(prop)
    return {
        (prop, value)
        for prop, value in pairs
        if not any(terms.is_subproperty(other, prop) for other in by_value[value] if other != prop)
    }


PROJECT_WHEN = ("Laufzeit und Region", "Duration and region")


def build_rows(
    subject: str,
    triples: list[ox.Triple],
    namer: Namer,
    hide: set[str],
    kind: str | None = None,
) -> list[Group]:
    """The grouped rows of one subject's own triples (except the hidden properties)."""
    terms = namer.terms
    pairs = {
        (t.predicate.value, t.object)
        for t in triples
        if t.subject.value == subject and t.predicate.value not in hide
    }
    pairs = _without_derived(pairs, terms)
    by_prop: dict[str, list] = {}
    for prop, value in pairs:
        by_prop.setdefault(prop, []).append(value)
    groups: list[Group] = []
    placed: set[str] = set()
    lang = namer.lang
    for key, titles, members in (*GROUPS, (*MORE, ())):
        if key == "when" and kind == "project":
            titles = PROJECT_WHEN  # a project has a duration and a region, not a date and place
        title = titles[0 if lang == "de" else 1]
        group = Group(key, title)
        props = [_resolve(p, terms.vocab) for p in members] if members else sorted(by_prop)
        for prop in props:
            if prop not in by_prop or prop in placed:
                continue
            placed.add(prop)
            shown = [namer.value(v) for v in _in_language(by_prop[prop], lang)]
            # the link breaks ties: a store lists equal texts in its own order
            shown.sort(key=lambda s: (natural(s.text), s.href or "", s.lang or ""))
            name = (len(shown) > 1 and i18n.plural_name(prop, terms.vocab, lang)) or terms.name(
                prop, lang
            )
            group.rows.append(Row(prop, capitalised(name), shown))
        if group.rows:
            groups.append(group)
    return groups


def build_view(
    description: Description,
    terms: Terms,
    addresses: Addresses,
    lang: str,
    link: Callable[[str], str],
    types: dict[str, set[str]],
    hide: set[str] = frozenset(),
) -> ResourceView:
    iri = description.iri
    namer = Namer(description, terms, addresses, lang, link, types)
    own = [t for t in description.about if t.subject.value == iri]

    title_prop = next(
        (p for p in TITLE_PROPERTIES if any(t.predicate.value == p for t in own)), None
    )
    title, title_lang = namer.label(iri)
    if title == iri:
        title = iri[len(addresses.base) :] if iri.startswith(addresses.base) else iri
    my_types = {t.object.value for t in own if t.predicate.value == RDF_TYPE}
    specific = terms.most_specific(my_types)
    type_names = list(dict.fromkeys(terms.name(t, lang) for t in specific))

    description_text, description_lang, description_prop = None, None, None
    for prop in DESCRIPTION_PROPERTIES:
        texts = {
            (t.object.language or ""): t.object.value
            for t in own
            if t.predicate.value == prop and isinstance(t.object, ox.Literal)
        }
        if texts:
            description_text = pick(texts, lang)
            chosen = next(k for k, v in texts.items() if v == description_text)
            description_lang = chosen if chosen and chosen != lang else None
            description_prop = prop
            break

    hidden = {RDF_TYPE, DCTERMS + "source", *hide}
    if title_prop:
        hidden.add(title_prop)
    if description_prop:
        hidden.add(description_prop)
    groups = build_rows(iri, description.about, namer, hidden, addresses.kind(iri))

    sources = sorted(
        (
            namer.value(t.object)
            for t in own
            if t.predicate.value == DCTERMS + "source" and isinstance(t.object, ox.NamedNode)
        ),
        key=lambda s: s.text,
    )

    incoming = _incoming(description, namer, hide)
    parts = _parts(description, namer, addresses)
    return ResourceView(
        iri=iri,
        kind=addresses.kind(iri),
        title=title,
        title_lang=title_lang,
        types=specific,
        type_line=" · ".join(capitalised(n) for n in type_names),
        description=description_text,
        description_lang=description_lang,
        groups=groups,
        incoming=incoming,
        sources=sources,
        parts=parts,
    )


def _incoming(description: Description, namer: Namer, hide: set[str]) -> list[Group]:
    terms = namer.terms
    iri = description.iri
    outgoing = {
        (t.predicate.value, t.object.value)
        for t in description.about
        if t.subject.value == iri and isinstance(t.object, ox.NamedNode)
    }
    by_subject: dict[str, set[str]] = {}
    for t in description.incoming:
        if t.subject.value.startswith(iri + "#"):
            continue  # a part of this page, shown there
        by_subject.setdefault(t.subject.value, set()).add(t.predicate.value)
    by_prop: dict[str, list[str]] = {}
    for subject, props in by_subject.items():
        for prop in props:
            if any(terms.is_subproperty(other, prop) for other in props if other != prop):
                continue  # derived by the build from a more specific statement
            if any((inverse, subject) in outgoing for inverse in terms.inverses.get(prop, ())):
                continue  # already shown as this resource's own statement
            if f"^{prop}" in hide:
                continue
            by_prop.setdefault(prop, []).append(subject)
    groups = []
    lang = namer.lang
    for prop in sorted(by_prop, key=lambda p: (i18n.inverse_rank(p, terms.vocab), p)):
        title = i18n.inverse_name(prop, terms.vocab, lang)
        if title is None:
            name = terms.name(prop, lang)
            title = f"Verweisen hierher als „{name}“" if lang == "de" else f"Link here as “{name}”"
        title = capitalised(title)
        group = Group(prop, title)
        values = [namer.value(ox.NamedNode(s)) for s in by_prop[prop]]
        values.sort(key=lambda s: (fold(s.text), s.href or "", s.lang or ""))
        group.rows.append(Row(prop, title, values))
        groups.append(group)
    return groups


def _parts(description: Description, namer: Namer, addresses: Addresses) -> list[Part]:
    iri = description.iri
    subjects = sorted(
        {
            t.subject.value
            for t in description.about
            if isinstance(t.subject, ox.NamedNode) and t.subject.value.startswith(iri + "#")
        },
        key=natural,
    )
    parts = []
    for subject in subjects:
        own = [t for t in description.about if t.subject.value == subject]
        types = {t.object.value for t in own if t.predicate.value == RDF_TYPE}
        title, _lang = namer.label(subject)
        anchor = addresses.fragment(subject)
        if title == subject:
            title = anchor
        rows = [
            row
            for group in build_rows(subject, description.about, namer, {RDF_TYPE})
            for row in group.rows
        ]
        type_line = " · ".join(
            namer.terms.name(t, namer.lang) for t in namer.terms.most_specific(types)
        )
        parts.append(Part(anchor, title, type_line, rows))
    return parts


def add_occasion(
    view: ResourceView, date: str | None, event: Shown | None, lang: str
) -> ResourceView:
    """Shows, in the group "Date and place", the date and the event a talk or session takes
    from the events it belongs to (``schema:superEvent``), where it has no date of its own."""
    rows = []
    if date:
        rows.append(Row("occasion:date", "Datum" if lang == "de" else "Date", [Shown(date)]))
    if event is not None:
        rows.append(Row("occasion:event", "Veranstaltung" if lang == "de" else "Event", [event]))
    if not rows:
        return view
    when = next((g for g in view.groups if g.key == "when"), None)
    if when is None:
        key, titles, _members = GROUPS[1]
        when = Group(key, titles[0 if lang == "de" else 1])
        before = {"overview"}
        at = next((i for i, g in enumerate(view.groups) if g.key not in before), len(view.groups))
        view.groups.insert(at, when)
    when.rows[:0] = rows
    return view
