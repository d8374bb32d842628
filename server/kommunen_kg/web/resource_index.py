"""An index of every resource under the base: for browsing, searching and the sitemap.

Three views need a list of all our resources with their names: the browse pages, the search
over labels, and the sitemap. They read it from this index, built once per publication with
two queries through ``publication.trusted`` (a release never changes while it is served).
Hash resources (``{dataset}#temporal``) are parts of their document's page, not entries.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import pyoxigraph as ox

from kommunen_kg.rdf.namespaces import DCTERMS, RDF_TYPE, RDFS, SCHEMA, SKOS
from kommunen_kg.sparql.engine import TrustedEngine
from kommunen_kg.web.addresses import Addresses
from kommunen_kg.web.describe import LABEL_PROPERTIES, string_term

ALT_PROPERTIES = (
    SKOS + "altLabel",
    SCHEMA + "alternateName",
    "def#fullTitle",  # resolved against the vocabulary namespace at load time
    SCHEMA + "givenName",
    SCHEMA + "familyName",
)
DESCRIPTION_PROPERTIES = (
    SCHEMA + "description",
    SKOS + "definition",
    DCTERMS + "description",
    RDFS + "comment",
)


def fold(text: str) -> str:
    """Lower case without accents or umlauts, so that 'Mobilitat' finds 'Mobilität'."""
    text = text.replace("ß", "ss")
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def pick(values: dict[str, str], lang: str) -> str | None:
    """The value in ``lang``, else one without language, else German, English, any."""
    for key in (lang, "", "de", "en"):
        if key in values:
            return values[key]
    return next(iter(values.values()), None)


@dataclass
class Entry:
    iri: str
    kind: str
    types: set[str] = field(default_factory=set)
    labels: dict[str, str] = field(default_factory=dict)
    alternatives: list[str] = field(default_factory=list)
    descriptions: dict[str, str] = field(default_factory=dict)
    full_titles: dict[str, str] = field(default_factory=dict)
    family_name: str | None = None
    start: str | None = None
    label_ranks: dict[str, tuple[int, str]] = field(default_factory=dict, repr=False)

    def label(self, lang: str) -> str:
        return pick(self.labels, lang) or self.iri.rsplit("/", 1)[-1]

    def sort_key(self, lang: str) -> tuple:
        return (fold(self.family_name or self.label(lang)), fold(self.label(lang)))


@dataclass
class ResourceIndex:
    entries: dict[str, Entry]

    def of_kind(self, kind: str, lang: str) -> list[Entry]:
        return sorted(
            (e for e in self.entries.values() if e.kind == kind), key=lambda e: e.sort_key(lang)
        )

    def kinds(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for entry in self.entries.values():
            counts[entry.kind] = counts.get(entry.kind, 0) + 1
        return counts

    def with_type(self, type_iri: str) -> list[Entry]:
        return [e for e in self.entries.values() if type_iri in e.types]

    def search(self, query: str, lang: str, limit: int = 100) -> list[Entry]:
        """Entries whose names contain every word of ``query``, best matches first."""
        words = [w for w in re.split(r"\s+", fold(query)) if w]
        if not words:
            return []
        scored = []
        for entry in self.entries.values():
            names = [fold(v) for v in entry.labels.values()]
            others = [fold(v) for v in (*entry.alternatives, *entry.full_titles.values())]
            haystack = " ".join(names + others)
            if not all(w in haystack for w in words):
                continue
            phrase = " ".join(words)
            if phrase in names:
                rank = 0
            elif any(n.startswith(phrase) for n in names):
                rank = 1
            elif all(any(w in n for n in names) for w in words):
                rank = 2
            else:
                rank = 3
            scored.append((rank, entry.sort_key(lang), entry))
        scored.sort(key=lambda item: (item[0], item[1]))
        return [entry for _rank, _key, entry in scored[:limit]]


def load_index(engine: TrustedEngine, base: str, vocab: str) -> ResourceIndex:
    addresses = Addresses(base)
    prefix = string_term(base)
    entries: dict[str, Entry] = {}
    for row in engine.select(
        f"""SELECT ?s ?t WHERE {{ ?s <{RDF_TYPE}> ?t
              FILTER(isIRI(?s) && STRSTARTS(STR(?s), {prefix}) && !CONTAINS(STR(?s), "#")) }}"""
    ):
        iri = row["s"].value
        kind = addresses.kind(iri)
        if kind is None:
            continue
        entry = entries.setdefault(iri, Entry(iri, kind))
        if isinstance(row["t"], ox.NamedNode):
            entry.types.add(row["t"].value)
    alt = tuple(vocab + p[4:] if p.startswith("def#") else p for p in ALT_PROPERTIES)
    properties = (*LABEL_PROPERTIES, *alt, *DESCRIPTION_PROPERTIES, SCHEMA + "startDate")
    values = " ".join(f"<{p}>" for p in properties)
    for row in engine.select(
        f"""SELECT ?s ?p ?o WHERE {{ VALUES ?p {{ {values} }} ?s ?p ?o
              FILTER(isIRI(?s) && STRSTARTS(STR(?s), {prefix}) && isLiteral(?o)) }}"""
    ):
        entry = entries.get(row["s"].value)
        if entry is None:
            continue
        prop, literal = row["p"].value, row["o"]
        lang = literal.language or ""
        if prop in LABEL_PROPERTIES:
            rank = (LABEL_PROPERTIES.index(prop), literal.value)
            if rank < entry.label_ranks.get(lang, (99, "")):
                entry.label_ranks[lang] = rank
                entry.labels[lang] = literal.value
        elif prop == vocab + "fullTitle":
            entry.full_titles.setdefault(lang, literal.value)
        elif prop in DESCRIPTION_PROPERTIES:
            entry.descriptions.setdefault(lang, literal.value)
        elif prop == SCHEMA + "startDate":
            entry.start = literal.value
        else:
            entry.alternatives.append(literal.value)
            if prop == SCHEMA + "familyName":
                entry.family_name = literal.value
    # Talks and sessions have their date through the events they belong to: the latest date
    # among those (the nearest: a session's time is later than its day's date).
    for row in engine.select(
        f"""SELECT ?s (MAX(STR(?start)) AS ?date) WHERE {{
              ?s <{SCHEMA}superEvent>+ ?e . ?e <{SCHEMA}startDate> ?start
              FILTER(isIRI(?s) && STRSTARTS(STR(?s), {prefix})) }} GROUP BY ?s"""
    ):
        entry = entries.get(row["s"].value)
        if entry is not None and entry.start is None and "date" in row:
            entry.start = row["date"].value
    return ResourceIndex(entries)
