"""The home page: what the dataset is, the featured event's programme, and ways in.

The featured event is the one the dataset's VoID description names as an example resource
(the build names the event of 11.11.2020), so that the next documented event can take its
place by data alone. Around it: the other events of its series, the earlier conferences, the
projects, people, organisations and themes, and the entry points for machines (SPARQL, dumps,
catalogue).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from kommunen_kg.rdf.namespaces import DCTERMS, RDF_TYPE, SCHEMA, SKOS, VOID
from kommunen_kg.web import site
from kommunen_kg.web.describe import iri_term
from kommunen_kg.web.pages.programme import Item, programme
from kommunen_kg.web.pages.schema_org import as_script
from kommunen_kg.web.resource_index import Entry, pick


@dataclass
class Link:
    label: str
    href: str
    note: str | None = None
    start: str | None = None


@dataclass
class HomeModel:
    title: str
    description: str | None
    featured: Entry | None
    featured_href: str | None
    featured_subtitle: str | None
    programme: list[Item]
    series: Entry | None
    series_href: str | None
    series_events: list[Link]
    conferences: list[Link]
    projects: list[Link]
    people: list[Link]
    organisations: list[Link]
    key_messages: list[Link]
    themes: list[Link]
    counts: dict[str, int] = field(default_factory=dict)
    jsonld: str = ""


def _dataset_texts(dataset: str) -> dict[str, dict[str, str]]:
    rows = site.publication().trusted.select(
        f"""SELECT ?p ?o WHERE {{ {iri_term(dataset)} ?p ?o
              VALUES ?p {{ <{DCTERMS}title> <{DCTERMS}description> <{DCTERMS}license> }} }}"""
    )
    found: dict[str, dict[str, str]] = {}
    for row in rows:
        value = row["o"]
        key = value.language if isinstance(value, ox.Literal) and value.language else ""
        found.setdefault(row["p"].value, {})[key] = value.value
    return found


def _featured_event(dataset: str) -> str | None:
    """The first of ``[dataset] example_resources`` (in the configuration's order: the
    published VoID has no order) that is an event of the release; else the event with the most
    programme items."""
    pub = site.publication()
    trusted = pub.trusted
    examples = {
        row["e"].value
        for row in trusted.select(
            f"""SELECT ?e WHERE {{ {iri_term(dataset)} <{VOID}exampleResource> ?e .
                  ?e <{RDF_TYPE}> <{SCHEMA}Event> }}"""
        )
    }
    for example in pub.config.dataset.example_resources:
        iri = f"{pub.iris.base}id/{example}"
        if iri in examples:
            return iri
    if examples:
        return min(examples)
    rows = trusted.select(
        f"""SELECT ?e (COUNT(?i) AS ?n) WHERE {{ ?i <{SCHEMA}superEvent> ?e }}
            GROUP BY ?e ORDER BY DESC(?n) ?e LIMIT 1"""
    )
    return rows[0]["e"].value if rows else None


def home_model(who: site.Reader) -> HomeModel:
    pub = site.publication()
    index = site.index()
    terms = site.terms()
    addresses = site.addresses()
    lang = who.lang

    def link(entry: Entry, note: str | None = None) -> Link:
        return Link(
            entry.label(lang),
            site.href(addresses.page_url(entry.iri) or "/", who),
            note,
            entry.start,
        )

    dataset = pub.iris.dataset
    texts = _dataset_texts(dataset)
    title = pick(texts.get(DCTERMS + "title", {}), lang) or (
        pub.config.dataset.title_de if lang == "de" else pub.config.dataset.title_en
    )
    description = pick(texts.get(DCTERMS + "description", {}), lang)

    featured_iri = _featured_event(dataset)
    featured = index.get(featured_iri) if featured_iri else None
    items = programme(pub.trusted, featured_iri, terms.vocab, lang) if featured_iri else []
    subtitle = None
    series_iri = None
    if featured_iri:
        for row in pub.trusted.select(
            f"""SELECT ?p ?o WHERE {{ {iri_term(featured_iri)} ?p ?o
                  VALUES ?p {{ <{terms.vocab}subtitle> <{SCHEMA}superEvent> }} }}"""
        ):
            if row["p"].value == SCHEMA + "superEvent":
                series_iri = row["o"].value
            elif isinstance(row["o"], ox.Literal) and (
                row["o"].language == lang or subtitle is None
            ):
                subtitle = row["o"].value
    series = index.get(series_iri) if series_iri else None
    in_series: set[str] = set()
    series_events: list[Link] = []
    if series_iri:
        for row in pub.trusted.select(
            f"SELECT ?e WHERE {{ ?e <{SCHEMA}superEvent> {iri_term(series_iri)} }}"
        ):
            in_series.add(row["e"].value)
        members = [e for e in map(index.get, sorted(in_series)) if e is not None]
        members.sort(key=lambda e: (e.start is None, e.start or "", e.label(lang)))
        series_events = [link(e) for e in members]

    events = [
        e for e in index.of_kind("event", lang) if e.iri not in in_series and e.iri != series_iri
    ]
    events.sort(key=lambda e: (e.start or "9999", e.label(lang)))
    conferences = [link(e) for e in events]

    def listing(kind: str) -> list[Link]:
        out = []
        for entry in index.of_kind(kind, lang):
            note = None
            if entry.full_titles:
                note = entry.full_titles.get(lang) or next(iter(entry.full_titles.values()))
            out.append(link(entry, note))
        return out

    projects = listing("project")
    people = listing("person")
    organisations = listing("organisation")
    concepts = index.with_type(SKOS + "Concept")
    key_messages = sorted(
        (link(e) for e in concepts if terms.vocab + "KeyMessage" in e.types),
        key=lambda item: item.label.casefold(),
    )
    top_rows = pub.trusted.select(
        f"SELECT ?c WHERE {{ ?c <{SKOS}topConceptOf> {iri_term(pub.iris.theme_scheme)} }}"
    )
    tops = {row["c"].value for row in top_rows}
    themes = sorted(
        (link(e) for e in concepts if e.iri in tops and terms.vocab + "KeyMessage" not in e.types),
        key=lambda item: item.label.casefold(),
    )

    model = HomeModel(
        title=title,
        description=description,
        featured=featured,
        featured_href=site.href(addresses.page_url(featured_iri) or "/", who)
        if featured_iri
        else None,
        featured_subtitle=subtitle,
        programme=items,
        series=series,
        series_href=site.href(addresses.page_url(series_iri) or "/", who) if series_iri else None,
        series_events=series_events,
        conferences=conferences,
        projects=projects,
        people=people,
        organisations=organisations,
        key_messages=key_messages,
        themes=themes,
        counts=index.kinds(),
    )
    model.jsonld = as_script(_dataset_object(dataset, title, description, texts, who))
    return model


def _dataset_object(
    dataset: str,
    title: str,
    description: str | None,
    texts: dict[str, dict[str, str]],
    who: site.Reader,
) -> dict[str, Any]:
    """schema.org Dataset for the home page: what Google's dataset search reads."""
    pub = site.publication()
    obj: dict[str, Any] = {
        "@type": "Dataset",
        "@id": dataset,
        "name": title,
        "url": site.public("/", lang=who.lang),
        "inLanguage": ["de", "en"],
        "isAccessibleForFree": True,
        "creator": {"@type": "Organization", "name": pub.config.publisher.name},
        "publisher": {"@type": "Organization", "name": pub.config.publisher.name},
    }
    if description:
        obj["description"] = description
    licence = next(iter(texts.get(DCTERMS + "license", {}).values()), None)
    obj["license"] = licence or pub.config.dataset.license
    if pub.release is not None:
        obj["version"] = pub.release.version
        obj["distribution"] = [
            {
                "@type": "DataDownload",
                "name": f["name"],
                "contentUrl": site.public(f"/dumps/{pub.release.version}/{f['name']}"),
                "contentSize": f"{f['size']} B",
            }
            for f in pub.release.files
            if f["name"].startswith("kommunen-innovativ")
        ]
    obj["mainEntityOfPage"] = site.public("/", lang=who.lang)
    return obj
