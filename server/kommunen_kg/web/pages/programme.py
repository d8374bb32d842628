"""The programme of an event: its items in order, with time, speakers and project.

A reader of an event page (and of the home page) wants the programme as it was printed: time,
title, who spoke, which project it presented. The graph holds it as ``schema:superEvent`` links
(a talk in a session in an event), so this module asks for every item below an event and
arranges them as a tree, ordered by start time; items without a known time follow, by title.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from kommunen_kg.rdf.namespaces import RDF_TYPE, SCHEMA
from kommunen_kg.sparql.engine import TrustedEngine
from kommunen_kg.web.describe import iri_term
from kommunen_kg.web.display import clock, date_words, short_clock
from kommunen_kg.web.resource_index import fold, pick


@dataclass
class Person:
    iri: str
    name: str


@dataclass
class Item:
    iri: str
    names: dict[str, str] = field(default_factory=dict)
    types: set[str] = field(default_factory=set)
    start: str | None = None
    end: str | None = None
    position: int | None = None  # ki:position: the published order where no time is given
    parent: str | None = None
    speakers: list[Person] = field(default_factory=list)
    projects: list[Person] = field(default_factory=list)
    children: list[Item] = field(default_factory=list)
    when: str | None = None  # the start as the programme shows it

    def name(self, lang: str) -> str:
        return pick(self.names, lang) or self.iri.rsplit("/", 1)[-1]

    def sort_key(self, lang: str) -> tuple:
        return (
            self.start is None,
            self.start or "",
            self.position is None,
            self.position or 0,
            fold(self.name(lang)),
        )


def programme(engine: TrustedEngine, event: str, vocab: str, lang: str) -> list[Item]:
    """The items below ``event`` (at any depth), as a tree of :class:`Item`."""
    node = iri_term(event)
    rows = engine.select(
        f"""SELECT ?item ?parent ?p ?v WHERE {{
          ?item <{SCHEMA}superEvent>+ {node} ; <{SCHEMA}superEvent> ?parent .
          VALUES ?p {{ <{SCHEMA}name> <{SCHEMA}startDate> <{SCHEMA}endDate> <{RDF_TYPE}>
                       <{vocab}speaker> <{vocab}panelist> <{vocab}presentsProject>
                       <{vocab}position> }}
          OPTIONAL {{ ?item ?p ?v }}
        }}"""
    )
    items: dict[str, Item] = {}
    people: set[str] = set()
    for row in rows:
        iri = row["item"].value
        item = items.setdefault(iri, Item(iri, parent=row["parent"].value))
        value = row.get("v")
        if value is None:
            continue
        prop = row["p"].value
        if prop == SCHEMA + "name" and isinstance(value, ox.Literal):
            item.names.setdefault(value.language or "", value.value)
        elif prop == SCHEMA + "startDate":
            item.start = value.value
        elif prop == SCHEMA + "endDate":
            item.end = value.value
        elif prop == vocab + "position" and value.value.isdigit():
            item.position = int(value.value)
        elif prop == RDF_TYPE:
            item.types.add(value.value)
        elif prop in (vocab + "speaker", vocab + "panelist"):
            if value.value not in {p.iri for p in item.speakers}:
                item.speakers.append(Person(value.value, ""))
            people.add(value.value)
        elif prop == vocab + "presentsProject":
            item.projects.append(Person(value.value, ""))
            people.add(value.value)
    names = _names(engine, people, lang)
    for item in items.values():
        for who in (*item.speakers, *item.projects):
            who.name = names.get(who.iri, who.iri.rsplit("/", 1)[-1])
        item.speakers.sort(key=lambda p: fold(p.name.split(" ")[-1]))
        item.projects.sort(key=lambda p: fold(p.name))
    roots = []
    for item in items.values():
        parent = items.get(item.parent or "")
        (parent.children if parent else roots).append(item)
    for item in items.values():
        item.children.sort(key=lambda i: i.sort_key(lang))
    roots.sort(key=lambda i: i.sort_key(lang))
    _label_times(roots, lang)
    return roots


def _flatten(items: list[Item]) -> list[Item]:
    return [i for item in items for i in (item, *_flatten(item.children))]


def _label_times(items: list[Item], lang: str) -> None:
    """Times alone when the whole programme is on one day, dates (and times) otherwise."""
    every = _flatten(items)
    days = {i.start[:10] for i in every if i.start}
    for item in every:
        if not item.start:
            continue
        time = short_clock(item.start)
        if len(days) == 1 and time:
            item.when = clock(item.start, lang)
        else:
            item.when = date_words(item.start, lang) + (f", {time}" if time else "")


def _names(engine: TrustedEngine, iris: set[str], lang: str) -> dict[str, str]:
    if not iris:
        return {}
    values = " ".join(iri_term(i) for i in sorted(iris))
    found: dict[str, dict[str, str]] = {}
    for row in engine.select(
        f"SELECT ?s ?n WHERE {{ VALUES ?s {{ {values} }} ?s <{SCHEMA}name> ?n }}"
    ):
        found.setdefault(row["s"].value, {})[row["n"].language or ""] = row["n"].value
    return {iri: pick(names, lang) or iri for iri, names in found.items()}
