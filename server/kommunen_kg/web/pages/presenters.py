"""Who presented what: people, the organisations they came from, the projects they presented
and the themes of their talks, as one picture and as a table.

A layered network reads best here: four columns (organisations, people, projects, themes), a
line for each link the graph states (an affiliation; a talk of the person presenting the
project; a theme of such a talk, from the project or, for a talk presenting none, from the
person). The order within each column is chosen to keep lines from crossing (the barycentre
heuristic, a few sweeps each way, deterministic). It is SVG written on the server, no script:
every name is a link to its page, and the table beside it states the same facts.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape

from kommunen_kg.rdf.namespaces import SCHEMA
from kommunen_kg.sparql.engine import TrustedEngine
from kommunen_kg.web.resource_index import ResourceIndex

COLUMNS = ("organisation", "person", "project", "theme")
SWEEPS = 6
ROW = 24  # px between two names of a column
# The most people the picture draws: beyond this a network is no longer readable (and a
# release of a hundred thousand triples made a 5 MB page); the table names everyone.
PICTURED = 60


@dataclass
class Presenter:
    """One person who gave a talk or sat on a panel, and what the graph links them to."""

    iri: str
    label: str
    href: str
    organisations: list[tuple[str, str]] = field(default_factory=list)  # (label, href)
    projects: list[tuple[str, str]] = field(default_factory=list)
    themes: list[tuple[str, str]] = field(default_factory=list)
    talks: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Network:
    """The picture's nodes per column (in drawing order) and its links."""

    columns: dict[str, list[str]]
    labels: dict[str, str]
    links: set[tuple[str, str]]
    presenters: list[Presenter]
    pictured: int  # how many of the presenters the picture draws


def network(
    engine: TrustedEngine,
    index: ResourceIndex,
    vocab: str,
    base: str,
    lang: str,
    link: Callable[[str], str],
) -> Network:
    """The network of the release: every talk's or panel's people with their organisations,
    the projects the talk presented and its themes."""
    rows = engine.select(
        f"""SELECT ?item ?person ?project ?theme ?org WHERE {{
              ?item <{vocab}speaker>|<{vocab}panelist> ?person
              FILTER(STRSTARTS(STR(?item), "{base}id/"))
              OPTIONAL {{ ?item <{vocab}presentsProject> ?project }}
              OPTIONAL {{ ?item <{vocab}theme> ?theme }}
              OPTIONAL {{ ?person <{SCHEMA}affiliation> ?org }}
            }}"""
    )
    labels: dict[str, str] = {}
    link = functools.cache(link)  # a row per talk and link: each address is made once

    def named(term) -> str | None:
        if term is None:
            return None
        iri = term.value
        if iri not in labels:
            entry = index.get(iri)
            if entry is None:
                return None
            labels[iri] = entry.label(lang)
        return iri

    links: set[tuple[str, str]] = set()
    people: dict[str, Presenter] = {}
    kind_of: dict[str, str] = {}
    for row in rows:
        person = named(row["person"])
        item = named(row["item"])
        if person is None or item is None:
            continue
        kind_of[person] = "person"
        presenter = people.setdefault(person, Presenter(person, labels[person], link(person)))
        _add(presenter.talks, (labels[item], link(item)))
        org = named(row["org"]) if "org" in row else None
        project = named(row["project"]) if "project" in row else None
        theme = named(row["theme"]) if "theme" in row else None
        if org:
            kind_of[org] = "organisation"
            links.add((org, person))
            _add(presenter.organisations, (labels[org], link(org)))
        if project:
            kind_of[project] = "project"
            links.add((person, project))
            _add(presenter.projects, (labels[project], link(project)))
        if theme:
            kind_of[theme] = "theme"
            links.add((project or person, theme))
            _add(presenter.themes, (labels[theme], link(theme)))
    if len(people) > PICTURED:
        # those with the most contributions, then by name; only their links are drawn
        shown = set(sorted(people, key=lambda p: (-len(people[p].talks), labels[p]))[:PICTURED])
        projects = {b for a, b in links if a in shown and kind_of.get(b) == "project"}
        links = {(a, b) for a, b in links if a in shown or b in shown or a in projects}
        kept = {n for link in links for n in link} | shown
        kind_of = {n: k for n, k in kind_of.items() if n in kept}
    columns = {
        c: sorted((n for n, k in kind_of.items() if k == c), key=labels.get) for c in COLUMNS
    }
    _order(columns, links)
    presenters = sorted(people.values(), key=lambda p: p.label.split()[-1] + " " + p.label)
    for presenter in presenters:  # the same page whatever order the store answers in
        for items in (presenter.organisations, presenter.projects, presenter.themes):
            items.sort()
        presenter.talks.sort()
    return Network(columns, labels, links, presenters, min(len(people), PICTURED))


def _add(items: list, item: tuple[str, str]) -> None:
    if item not in items:
        items.append(item)


def _order(columns: dict[str, list[str]], links: set[tuple[str, str]]) -> None:
    """Reorders each column by the mean position of its neighbours in the others (sweeping
    right, then left), which untangles a layered drawing well and always gives one result."""
    neighbours: dict[str, set[str]] = {}
    for a, b in links:
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    names = list(COLUMNS)
    for sweep in range(SWEEPS):
        sequence = names[1:] if sweep % 2 == 0 else list(reversed(names[:-1]))
        for column in sequence:
            place = {
                node: i / max(1, len(nodes) - 1)
                for other, nodes in columns.items()
                if other != column
                for i, node in enumerate(nodes)
            }
            current = {node: i for i, node in enumerate(columns[column])}

            def key(node: str, place=place, current=current) -> tuple:
                near = [place[n] for n in neighbours.get(node, ()) if n in place]
                mean = sum(near) / len(near) if near else current[node] / max(1, len(current))
                return (mean, current[node])

            columns[column].sort(key=key)


# The widest name a column shows before it is cut (with "…" and the whole name as a title).
LONGEST = {"organisation": 40, "person": 24, "project": 20, "theme": 40}
CHAR = 6.6  # px: the average width of a character at the picture's font size


def _short(label: str, column: str) -> str:
    most = LONGEST[column]
    return label if len(label) <= most else label[: most - 1] + "…"


def svg(
    net: Network,
    link: Callable[[str], str],
    headings: dict[str, str],
    title: str,
    description_id: str,
) -> str:
    """The network as SVG: four columns of names, lines between linked ones. Organisations'
    names stand left of their dots, the others' right of them; a line leaves a name where its
    text ends, so no line runs through a name."""
    width, top = 1100, 48
    xs = {"organisation": 290, "person": 380, "project": 600, "theme": 790}
    tallest = max((len(n) for n in net.columns.values()), default=0)
    height = top + tallest * ROW + 16
    y: dict[str, float] = {}
    for nodes in net.columns.values():
        offset = top + (tallest - len(nodes)) * ROW / 2
        for i, node in enumerate(nodes):
            y[node] = offset + i * ROW + ROW / 2
    column_of = {node: column for column, nodes in net.columns.items() for node in nodes}
    x = {node: xs[column] for node, column in column_of.items()}

    def leaves(node: str) -> float:
        """Where a line to the right leaves the node: its dot, or the end of its name."""
        column = column_of[node]
        if column == "organisation":
            return x[node] + 5
        return x[node] + 9 + CHAR * len(_short(net.labels[node], column)) + 4

    lines = []
    for a, b in sorted(net.links):
        if a not in y or b not in y:
            continue
        xa, xb = leaves(a), x[b] - 5
        middle = (xa + xb) / 2
        lines.append(
            f'<path d="M{xa:.0f},{y[a]:.1f} C{middle:.0f},{y[a]:.1f} {middle:.0f},{y[b]:.1f} '
            f'{xb:.0f},{y[b]:.1f}" class="edge"/>'
        )
    nodes = []
    for column, members in net.columns.items():
        for node in members:
            label = net.labels[node]
            left_side = column == "organisation"
            tx, anchor = (x[node] - 9, "end") if left_side else (x[node] + 9, "start")
            nodes.append(
                f'<a href="{escape(link(node))}" class="node {column}"><title>{escape(label)}'
                f'</title><circle cx="{x[node]}" cy="{y[node]:.1f}" r="4.5"/>'
                f'<text x="{tx}" y="{y[node] + 4:.1f}" text-anchor="{anchor}">'
                f"{escape(_short(label, column))}</text></a>"
            )
    heads = "".join(
        f'<text x="{xs[c] + (-9 if c == "organisation" else 9)}" y="20" '
        f'text-anchor="{"end" if c == "organisation" else "start"}" '
        f'class="heading" aria-hidden="true">{escape(headings[c])}</text>'
        for c in COLUMNS
    )
    # A group of links with a name, described by the caption beside it (role="img" would make
    # the links inside presentational for some screen readers).
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height:.0f}" '
        f'class="network-picture" role="group" aria-label="{escape(title)}" '
        f'aria-describedby="{description_id}">' + heads + "".join(lines) + "".join(nodes) + "</svg>"
    )
