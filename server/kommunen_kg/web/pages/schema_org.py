"""schema.org JSON-LD for the pages, so that search engines understand what a page is about.

Every page embeds one JSON-LD object for its resource. Its ``@id`` is the resource's IRI (the
``{base}id/...`` form, which other datasets link to), never the page's URL; the page's URL is
``mainEntityOfPage``. The graph already states its core facts with schema.org (the build adds
``schema:performer`` for every ``ki:speaker``, ``schema:about`` for every project presented),
so the object is read off the resource's schema.org triples; our own terms are left out, as a
search engine does not know them. Linked resources appear as small objects with their type
and name, so that a performer is a Person with a name, not a bare IRI.
"""

from __future__ import annotations

import json
from typing import Any

import pyoxigraph as ox

from kommunen_kg.rdf.namespaces import DCAT, DCTERMS, FOAF, OWL, RDF_TYPE, SCHEMA, SKOS, XSD
from kommunen_kg.web.pages.resource_view import Namer

CONTEXT = "https://schema.org"
SCHEMA_HTTPS = "https://schema.org/"

# The most specific schema.org type wins; other vocabularies' classes map to the nearest one.
TYPE_PRIORITY: tuple[tuple[str, str], ...] = (
    (SCHEMA + "EventSeries", "EventSeries"),
    (SCHEMA + "Event", "Event"),
    (SCHEMA + "Person", "Person"),
    (SCHEMA + "ResearchProject", "ResearchProject"),
    (SCHEMA + "GovernmentOrganization", "GovernmentOrganization"),
    (SCHEMA + "CollegeOrUniversity", "CollegeOrUniversity"),
    (SCHEMA + "ResearchOrganization", "ResearchOrganization"),
    (SCHEMA + "Organization", "Organization"),
    (SCHEMA + "FundingScheme", "FundingScheme"),
    (SCHEMA + "CreativeWork", "CreativeWork"),
    (SKOS + "ConceptScheme", "DefinedTermSet"),
    (SKOS + "Concept", "DefinedTerm"),
    (OWL + "Ontology", "DefinedTermSet"),
    (DCAT + "Catalog", "DataCatalog"),
    (DCAT + "Dataset", "Dataset"),
    (DCAT + "Distribution", "DataDownload"),
    (DCAT + "DataService", "WebAPI"),
    (FOAF + "Agent", "Organization"),
)
ENUMERATION_PROPERTIES = {SCHEMA + "eventAttendanceMode", SCHEMA + "eventStatus"}


def schema_type(types: set[str]) -> str:
    for iri, name in TYPE_PRIORITY:
        if iri in types:
            return name
    return "Thing"


def _literal(value: ox.Literal, lang: str) -> Any:
    datatype = value.datatype.value
    if datatype == XSD + "boolean":
        return value.value in ("true", "1")
    if datatype in (XSD + "integer", XSD + "nonNegativeInteger"):
        return int(value.value)
    return value.value


def _choose(values: list[ox.Literal], lang: str) -> list[ox.Literal]:
    """The values to show in ``lang``, in a fixed order (a store lists them in its own)."""
    values = sorted(values, key=lambda v: (v.value, v.language or "", v.datatype.value))
    tagged = [v for v in values if v.language]
    if not tagged:
        return values
    mine = [v for v in tagged if v.language == lang]
    return [v for v in values if not v.language] + (mine or tagged[:1])


def _reference(iri: str, namer: Namer) -> dict[str, Any] | str:
    if iri.startswith(SCHEMA):
        return SCHEMA_HTTPS + iri[len(SCHEMA) :]
    obj: dict[str, Any] = {"@id": iri}
    types = namer.types.get(iri)
    if types:
        obj["@type"] = schema_type(types)
    text, _lang = namer.label(iri)
    if text != iri:
        obj["name"] = text
    return obj if len(obj) > 1 or iri.startswith(namer.addresses.base) else iri


def schema_object(
    iri: str,
    triples: list[ox.Triple],
    namer: Namer,
    page_url: str,
    inherited: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The schema.org object of one resource (without ``@context``)."""
    own = [t for t in triples if t.subject.value == iri]
    types = {t.object.value for t in own if t.predicate.value == RDF_TYPE}
    kind = schema_type(types)
    obj: dict[str, Any] = {"@type": kind, "@id": iri}
    lang = namer.lang
    name, _ = namer.label(iri)
    if name != iri:
        obj["name"] = name
    by_prop: dict[str, list] = {}
    for t in own:
        by_prop.setdefault(t.predicate.value, []).append(t.object)
    for prop in sorted(by_prop):
        if not prop.startswith(SCHEMA) or prop == SCHEMA + "name":
            continue
        key = prop[len(SCHEMA) :]
        literals = _choose([v for v in by_prop[prop] if isinstance(v, ox.Literal)], lang)
        values: list[Any] = [_literal(v, lang) for v in literals]
        values += sorted(
            (_reference(v.value, namer) for v in by_prop[prop] if isinstance(v, ox.NamedNode)),
            key=lambda v: json.dumps(v, sort_keys=True),
        )
        if values:
            obj[key] = values[0] if len(values) == 1 else values
    if kind in ("DefinedTerm", "DefinedTermSet"):
        for source, key in ((SKOS + "definition", "description"),):
            literals = _choose(
                [v for v in by_prop.get(source, []) if isinstance(v, ox.Literal)], lang
            )
            if literals:
                obj[key] = literals[0].value
        schemes = [
            v.value for v in by_prop.get(SKOS + "inScheme", []) if isinstance(v, ox.NamedNode)
        ]
        if schemes:
            obj["inDefinedTermSet"] = _reference(schemes[0], namer)
    if kind in ("Dataset", "DataCatalog", "DefinedTermSet", "WebAPI", "DataDownload"):
        for source, key in ((DCTERMS + "description", "description"),):
            literals = _choose(
                [v for v in by_prop.get(source, []) if isinstance(v, ox.Literal)], lang
            )
            if literals and "description" not in obj:
                obj[key] = literals[0].value
        licences = [
            v.value for v in by_prop.get(DCTERMS + "license", []) if isinstance(v, ox.NamedNode)
        ]
        if licences:
            obj["license"] = licences[0]
    same = sorted(v.value for v in by_prop.get(OWL + "sameAs", []) if isinstance(v, ox.NamedNode))
    if same:
        obj["sameAs"] = same if len(same) > 1 else same[0]
    homepage = [v.value for v in by_prop.get(FOAF + "homepage", []) if isinstance(v, ox.NamedNode)]
    if homepage and "url" not in obj:
        obj["url"] = homepage[0]
    if kind in ("Event", "EventSeries"):
        for prop, value in (inherited or {}).items():
            obj.setdefault(prop, value)
        if "location" not in obj and obj.get("eventAttendanceMode", "").endswith(
            "Online" + "EventAttendanceMode"
        ):
            pages = [
                v.value
                for p in (
                    namer.terms.vocab + "documentationPage",
                    namer.terms.vocab + "programmePage",
                )
                for v in by_prop.get(p, [])
                if isinstance(v, ox.NamedNode)
            ]
            obj["location"] = {"@type": "VirtualLocation", "url": pages[0] if pages else page_url}
        elif isinstance(obj.get("location"), str):
            obj["location"] = {
                "@type": "Place",
                "name": obj["location"],
                "address": obj["location"],
            }
    obj["mainEntityOfPage"] = page_url
    return obj


def as_script(*objects: dict[str, Any]) -> str:
    """JSON-LD for a ``<script type="application/ld+json">`` element, safe inside HTML."""
    data: Any
    if len(objects) == 1:
        data = {"@context": CONTEXT, **objects[0]}
    else:
        data = {"@context": CONTEXT, "@graph": list(objects)}
    text = json.dumps(data, ensure_ascii=False, indent=2)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
