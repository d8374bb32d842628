"""A deterministic synthetic conference graph in the project's own vocabulary and shapes.

The benchmark must measure the shapes our data really has (talks with speakers, projects and
themes, people with name parts and affiliations, a SKOS theme tree with German and English
labels), at sizes the curated data will never reach. This module writes such a graph as Turtle
files that ``kommunen-kg build`` accepts unchanged: every resource conforms to
``ontology/shapes.ttl`` and every IRI is relative (``<id/talk/gen-000123>``), so it resolves
against whatever base the configuration names, exactly as ``data/*.ttl`` does.

The same seed and size always give byte-identical files, so runs on different branches or
machines measure the same data. Next to the files, :func:`generate` returns the parameters the
workload needs (a theme with a typical number of talks, a project that talks present, ...), so
that queries at every scale hit real data instead of empty results.
"""

from __future__ import annotations

import json
import math
import random
import unicodedata
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

SOURCE = "https://example.org/kommunen-kg/synthetic"

PREFIXES = """@prefix ki: <def#> .
@prefix event: <id/event/> .
@prefix talk: <id/talk/> .
@prefix person: <id/person/> .
@prefix org: <id/organisation/> .
@prefix project: <id/project/> .
@prefix funding: <id/funding/> .
@prefix theme: <id/theme/> .
@prefix schema: <http://schema.org/> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""

# fmt: off
GIVEN = [
    "Anna", "Bernd", "Carla", "Dieter", "Elke", "Frank", "Gesine", "Hans", "Ines", "Jörg",
    "Katrin", "Lena", "Markus", "Nora", "Otto", "Petra", "Rüdiger", "Sabine", "Thomas", "Uwe",
    "Vera", "Werner", "Yvonne", "Zoë", "Jürgen", "Björn", "Dörte", "Günter", "Małgorzata", "Ayşe",
]
FAMILY = [
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
    "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann",
    "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt",
    "Werner", "Krause", "Meier", "Lehmann", "Özdemir", "Kowalski", "Nguyen", "Dahlbeck",
]
TOPICS_DE = [
    "Daseinsvorsorge", "Mobilität", "Ehrenamt", "Nahversorgung", "Quartiersentwicklung",
    "Wohnen im Alter", "Leerstand", "Kommunalfinanzen", "Wasserwirtschaft", "Breitband",
    "Pflege", "Bildung", "Jugend", "Zuwanderung", "Ortskerne", "Bürgerbeteiligung",
    "Flächensparen", "Kooperation", "Digitalisierung", "Klimaanpassung",
]
TOPICS_EN = [
    "public services", "mobility", "volunteering", "local supply", "neighbourhood development",
    "housing for older people", "vacancy", "municipal finance", "water management", "broadband",
    "care", "education", "youth", "immigration", "village centres", "civic participation",
    "land saving", "cooperation", "digitalisation", "climate adaptation",
]
ASPECTS_DE = ["Strategien", "Werkzeuge", "Erfahrungen", "Modelle", "Perspektiven", "Ergebnisse"]
ASPECTS_EN = ["strategies", "tools", "experiences", "models", "perspectives", "results"]
PLACES = [
    "Dortmund", "Leipzig", "Rostock", "Kassel", "Görlitz", "Trier", "Freiburg", "Halle (Saale)",
    "Oldenburg", "Bamberg", "Cottbus", "Siegen", "Greifswald", "Passau", "Jena", "Eberswalde",
]
ORG_KINDS_DE = ["Stadt", "Landkreis", "Hochschule", "Institut für", "Gemeinde", "Zweckverband"]
ORG_KINDS_EN = ["City of", "District of", "University of Applied Sciences", "Institute for", "", ""]
JOBS = [("Bürgermeisterin", "Mayor"), ("Projektleitung", "Project lead"), ("Referentin", "Officer")]
# Top themes of ontology/themes.ttl that the generated theme tree hangs below.
REAL_THEMES = [
    "daseinsvorsorge", "demografischer-wandel", "ehrenamt", "mobilitaet",
    "organisations-und-finanzierungsmodelle", "rolle-der-kommune",
]
KEY_MESSAGES = [
    "experimente-wagen", "daseinsvorsorge-sichern", "innen-entwickeln", "allianzen-bilden",
    "vielfalt-leben", "interkommunal-agieren",
]
# fmt: on

SCALES = {"1e3": 1_000, "1e4": 10_000, "1e5": 100_000, "1e6": 1_000_000}


def parse_scale(text: str) -> int:
    """``1e5``, ``100000`` or ``100k`` as a number of triples."""
    text = text.strip().lower()
    if text in SCALES:
        return SCALES[text]
    if text.endswith("k"):
        return int(float(text[:-1]) * 1_000)
    if text.endswith("m"):
        return int(float(text[:-1]) * 1_000_000)
    return int(float(text))


def scale_name(triples: int) -> str:
    for name, value in SCALES.items():
        if value == triples:
            return name
    return str(triples)


def ascii_slug(text: str) -> str:
    """Lower-case ASCII with hyphens, as the IRI patterns of the shapes demand."""
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"), ("ł", "l")):
        text = text.replace(a, b).replace(a.upper(), b.capitalize())
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    out = "".join(c if c.isalnum() else "-" for c in text)
    return "-".join(part for part in out.split("-") if part)


def lit(text: str, lang: str | None = None) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"@{lang}' if lang else f'"{escaped}"'


@dataclass
class Sizes:
    """How many of each kind of thing, all derived from the number of talks."""

    talks: int
    events: int
    series: int
    people: int
    organisations: int
    projects: int
    themes: int

    @classmethod
    def for_talks(cls, talks: int) -> Sizes:
        talks = max(talks, 12)
        events = max(2, talks // 25)
        return cls(
            talks=talks,
            events=events,
            series=max(1, events // 8),
            people=max(8, int(talks * 0.6)),
            organisations=max(4, int(talks * 0.15)),
            projects=max(3, int(talks * 0.04)),
            themes=max(12, int(3 * math.sqrt(talks))),
        )


@dataclass
class Workload:
    """The IRIs (relative to the base) that the workload's queries are about."""

    event: str
    talk: str
    theme: str
    theme_talks: int
    root_theme: str
    project: str
    project_talks: int
    person: str
    search_word: str
    talks: list[str] = field(default_factory=list)


@dataclass
class Generated:
    """What :func:`generate` wrote: the folder, counts per kind, and the workload parameters."""

    folder: Path
    seed: int
    target_triples: int
    triples: int
    sizes: Sizes
    workload: Workload

    def to_json(self) -> dict:
        data = asdict(self)
        data["folder"] = str(self.folder)
        return data


class _Writer:
    """Turtle text for one file, counting the triples as they are written."""

    def __init__(self) -> None:
        self.parts: list[str] = [PREFIXES, "\n"]
        self.triples = 0

    def resource(self, subject: str, types: list[str], props: list[tuple[str, list[str]]]) -> None:
        lines = [f"{subject} a {' , '.join(types)}"]
        self.triples += len(types)
        for predicate, objects in props:
            if not objects:
                continue
            lines.append(f"    {predicate} {' , '.join(objects)}")
            self.triples += len(objects)
        self.parts.append(" ;\n".join(lines) + " .\n\n")

    def text(self) -> str:
        return "".join(self.parts)


def _render(rng: random.Random, sizes: Sizes) -> tuple[dict[str, _Writer], Workload]:
    src = f"<{SOURCE}>"
    files = {k: _Writer() for k in ("themes", "organisations", "people", "projects", "events")}
    files["talks"] = _Writer()

    # Themes: a forest of ternary trees below the real top themes, so that
    # skos:broader* paths have something to walk.
    theme_ids = [f"theme:gen-theme-{i:04d}" for i in range(sizes.themes)]
    theme_parent: dict[str, str] = {}
    w = files["themes"]
    for i, tid in enumerate(theme_ids):
        topic = i % len(TOPICS_DE)
        aspect = (i // len(TOPICS_DE)) % len(ASPECTS_DE)
        roots = len(REAL_THEMES) * 2
        if i < roots:
            parent = f"theme:{REAL_THEMES[i % len(REAL_THEMES)]}"
        else:  # a ternary tree below each root: every real top theme gets a sixth of them
            parent = theme_ids[(i - roots) // 3]
        theme_parent[tid] = parent
        w.resource(
            tid,
            ["ki:Theme"],
            [
                ("skos:inScheme", ["<id/scheme/themes>"]),
                (
                    "skos:prefLabel",
                    [
                        lit(f"{TOPICS_DE[topic]}: {ASPECTS_DE[aspect]} {i}", "de"),
                        lit(f"{TOPICS_EN[topic]}: {ASPECTS_EN[aspect]} {i}", "en"),
                    ],
                ),
                (
                    "skos:definition",
                    [
                        lit(f"{ASPECTS_DE[aspect]} zum Thema {TOPICS_DE[topic]}.", "de"),
                        lit(f"{ASPECTS_EN[aspect].capitalize()} on {TOPICS_EN[topic]}.", "en"),
                    ],
                ),
                ("skos:broader", [parent]),
                ("dcterms:source", [src]),
            ],
        )

    # Organisations, and one funding measure that the projects name.
    org_ids = [f"org:gen-{i:06d}" for i in range(sizes.organisations)]
    w = files["organisations"]
    for i, oid in enumerate(org_ids):
        place = PLACES[i % len(PLACES)]
        kind = i % len(ORG_KINDS_DE)
        names = [lit(f"{ORG_KINDS_DE[kind]} {place} {i}", "de")]
        if ORG_KINDS_EN[kind] and rng.random() < 0.3:
            names.append(lit(f"{ORG_KINDS_EN[kind]} {place} {i}", "en"))
        w.resource(
            oid,
            ["schema:Organization"],
            [
                ("schema:name", names),
                ("schema:alternateName", [lit(f"ORG{i}")] if rng.random() < 0.5 else []),
                ("schema:location", [lit(place)]),
                ("schema:url", [f"<https://example.org/org/{i}>"] if rng.random() < 0.3 else []),
                ("dcterms:source", [src]),
            ],
        )
    w.resource(
        "funding:gen-measure",
        ["ki:FundingMeasure"],
        [
            (
                "schema:name",
                [lit("Synthetische Fördermaßnahme", "de"), lit("Synthetic funding measure", "en")],
            ),
            ("schema:funder", [org_ids[0]]),
            ("dcterms:source", [src]),
        ],
    )

    # People, with name parts that add up to the name (a SPARQL constraint checks this).
    person_ids: list[str] = []
    person_names: list[str] = []
    w = files["people"]
    for i in range(sizes.people):
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        pid = f"person:gen-{ascii_slug(given)}-{ascii_slug(family)}-{i:06d}"
        person_ids.append(pid)
        person_names.append(f"{given} {family}")
        honorific = rng.random()
        job = JOBS[i % len(JOBS)] if rng.random() < 0.4 else None
        w.resource(
            pid,
            ["schema:Person"],
            [
                ("schema:name", [lit(f"{given} {family}")]),
                ("schema:givenName", [lit(given)]),
                ("schema:familyName", [lit(family)]),
                (
                    "schema:honorificPrefix",
                    [lit("Prof. Dr.")]
                    if honorific < 0.1
                    else [lit("Dr.")]
                    if honorific < 0.3
                    else [],
                ),
                ("schema:affiliation", [rng.choice(org_ids)] if rng.random() < 0.9 else []),
                ("schema:jobTitle", [lit(job[0], "de"), lit(job[1], "en")] if job else []),
                ("dcterms:source", [src]),
            ],
        )

    # Joint projects.
    project_ids = [f"project:gen-{i:06d}" for i in range(sizes.projects)]
    w = files["projects"]
    for i, prid in enumerate(project_ids):
        topic = i % len(TOPICS_DE)
        partners = rng.sample(org_ids, min(len(org_ids) - 1, rng.randint(1, 5)))
        start_year = 2016 + i % 5
        w.resource(
            prid,
            ["ki:JointProject"],
            [
                ("schema:name", [lit(f"GEN{i}{TOPICS_DE[topic][:4].upper()}")]),
                (
                    "ki:fullTitle",
                    [
                        lit(f"{TOPICS_DE[topic]} gemeinsam gestalten ({i})", "de"),
                        lit(f"Shaping {TOPICS_EN[topic]} together ({i})", "en"),
                    ],
                ),
                (
                    "schema:description",
                    [
                        lit(
                            f"Ein Verbundvorhaben zu {TOPICS_DE[topic]} in {PLACES[i % 16]}.", "de"
                        ),
                        lit(f"A joint project on {TOPICS_EN[topic]} in {PLACES[i % 16]}.", "en"),
                    ],
                ),
                ("ki:fundingMeasure", ["funding:gen-measure"]),
                ("schema:funder", [org_ids[0]]),
                ("ki:coordinator", [org_ids[(i * 7) % len(org_ids)]]),
                ("ki:partner", partners),
                ("ki:projectLeader", [rng.choice(person_ids)]),
                ("schema:member", rng.sample(person_ids, min(2, len(person_ids)))),
                ("ki:theme", rng.sample(theme_ids, 2)),
                ("schema:startDate", [f'"{start_year}-0{1 + i % 9}-01"^^xsd:date']),
                ("schema:endDate", [f'"{start_year + 3}-0{1 + i % 9}"^^xsd:gYearMonth']),
                ("foaf:homepage", [f"<https://example.org/project/{i}>"]),
                ("foaf:page", [f"<https://example.org/project/{i}/doc>"]),
                ("dcterms:source", [src]),
            ],
        )

    # Conference series and their events.
    series_ids = [f"event:gen-series-{i:04d}" for i in range(sizes.series)]
    event_ids = [f"event:gen-event-{i:06d}" for i in range(sizes.events)]
    event_day: dict[str, tuple[int, int, int]] = {}
    w = files["events"]
    for i, sid in enumerate(series_ids):
        year = 2016 + i % 8
        w.resource(
            sid,
            ["ki:ConferenceSeries"],
            [
                (
                    "schema:name",
                    [lit(f"Konferenzreihe {year} Nr. {i}", "de"), lit(f"Series {year} #{i}", "en")],
                ),
                ("schema:startDate", [f'"{year}-01-10"^^xsd:date']),
                ("schema:endDate", [f'"{year}-12-10"^^xsd:date']),
                ("dcterms:source", [src]),
            ],
        )
    for i, eid in enumerate(event_ids):
        series = series_ids[i % len(series_ids)]
        year, month, day = 2016 + (i % len(series_ids)) % 8, 1 + i % 12, 1 + i % 28
        event_day[eid] = (year, month, day)
        topic = i % len(TOPICS_DE)
        w.resource(
            eid,
            ["ki:ConferenceEvent"],
            [
                (
                    "schema:name",
                    [
                        lit(f"{TOPICS_DE[topic]} sichern! Veranstaltung {i}", "de"),
                        lit(f"Securing {TOPICS_EN[topic]}! Event {i}", "en"),
                    ],
                ),
                (
                    "schema:description",
                    [
                        lit(f"Eine Veranstaltung über {TOPICS_DE[topic]}.", "de"),
                        lit(f"An event about {TOPICS_EN[topic]}.", "en"),
                    ],
                ),
                ("schema:superEvent", [series]),
                (
                    "schema:startDate",
                    [f'"{year}-{month:02d}-{day:02d}T09:30:00+01:00"^^xsd:dateTime'],
                ),
                (
                    "schema:endDate",
                    [f'"{year}-{month:02d}-{day:02d}T16:00:00+01:00"^^xsd:dateTime'],
                ),
                ("schema:eventAttendanceMode", ["schema:OnlineEventAttendanceMode"]),
                ("schema:location", [lit(PLACES[i % len(PLACES)])]),
                ("ki:moderator", [rng.choice(person_ids)]),
                ("ki:keyMessage", [f"theme:{KEY_MESSAGES[i % 6]}"] if i % 2 == 0 else []),
                ("dcterms:source", [src]),
            ],
        )

    # Talks.
    talk_ids = [f"talk:gen-{i:06d}" for i in range(sizes.talks)]
    theme_count: Counter[str] = Counter()
    project_talks: dict[str, int] = defaultdict(int)
    w = files["talks"]
    for i, tid in enumerate(talk_ids):
        eid = event_ids[i % len(event_ids)]
        year, month, day = event_day[eid]
        topic = rng.randrange(len(TOPICS_DE))
        aspect = rng.randrange(len(ASPECTS_DE))
        speakers = rng.sample(person_ids, rng.choice((1, 1, 1, 2, 2, 3)))
        themes = rng.sample(theme_ids, rng.choice((1, 2, 2, 3)))
        theme_count.update(themes)
        project = rng.choice(project_ids) if rng.random() < 0.7 else None
        if project:
            project_talks[project] += 1
        who = person_names[person_ids.index(speakers[0])] if i < 50 else "Ein Team"
        w.resource(
            tid,
            ["ki:Talk"],
            [
                (
                    "schema:name",
                    [
                        lit(f"{ASPECTS_DE[aspect]} für {TOPICS_DE[topic]} (Vortrag {i})", "de"),
                        lit(
                            f"{ASPECTS_EN[aspect].capitalize()} for {TOPICS_EN[topic]} ({i})", "en"
                        ),
                    ],
                ),
                (
                    "schema:description",
                    [
                        lit(f"{who} stellt {ASPECTS_DE[aspect]} zu {TOPICS_DE[topic]} vor.", "de"),
                        lit(f"A talk presenting {ASPECTS_EN[aspect]} on {TOPICS_EN[topic]}.", "en"),
                    ],
                ),
                ("schema:superEvent", [eid]),
                (
                    "schema:startDate",
                    [
                        f'"{year}-{month:02d}-{day:02d}T{10 + i % 6:02d}:{(i * 5) % 60:02d}:00'
                        f'+01:00"^^xsd:dateTime'
                    ],
                ),
                ("ki:speaker", speakers),
                ("ki:presentsProject", [project] if project else []),
                ("ki:theme", themes),
                ("dcterms:source", [src]),
            ],
        )

    # The workload's parameters: typical, not extreme, so every server answers something.
    by_popularity = sorted(theme_count.items(), key=lambda kv: (kv[1], kv[0]))
    theme, theme_talks = by_popularity[len(by_popularity) // 2]
    presented = sorted(project_talks.items(), key=lambda kv: (kv[1], kv[0]))
    project, n_project = presented[len(presented) // 2]
    step = max(1, len(talk_ids) // 500)
    workload = Workload(
        event=_relative(event_ids[len(event_ids) // 2]),
        talk=_relative(talk_ids[len(talk_ids) // 2]),
        theme=_relative(theme),
        theme_talks=theme_talks,
        root_theme=_relative("theme:daseinsvorsorge"),
        project=_relative(project),
        project_talks=n_project,
        person=_relative(person_ids[len(person_ids) // 2]),
        # a family name that occurs, as a search box would be used
        search_word=person_names[len(person_names) // 2].split(" ", 1)[1].lower(),
        talks=[_relative(t) for t in talk_ids[::step]],
    )
    return files, workload


_PREFIX_PATHS = {
    "event": "id/event/",
    "talk": "id/talk/",
    "person": "id/person/",
    "org": "id/organisation/",
    "project": "id/project/",
    "theme": "id/theme/",
}


def _relative(curie: str) -> str:
    prefix, _, local = curie.partition(":")
    return _PREFIX_PATHS[prefix] + local


def _triples(sizes: Sizes, seed: int) -> int:
    files, _ = _render(random.Random(seed), sizes)
    return sum(w.triples for w in files.values())


def sizes_for(target: int, seed: int) -> Sizes:
    """Entity counts whose graph has about ``target`` triples (calibrated on a sample)."""
    sample_talks = 400
    per_talk = _triples(Sizes.for_talks(sample_talks), seed) / sample_talks
    talks = max(12, round(target / per_talk))
    # One correction step: the theme tree grows with the square root, not linearly.
    actual = _triples(Sizes.for_talks(talks), seed) if target <= 200_000 else None
    if actual:
        talks = max(12, round(talks * target / actual))
    return Sizes.for_talks(talks)


def generate(target: int, folder: Path, seed: int = 20201111) -> Generated:
    """Writes the graph as ``folder/gen-*.ttl`` and ``folder/../bench-params.json``."""
    sizes = sizes_for(target, seed)
    files, workload = _render(random.Random(seed), sizes)
    folder.mkdir(parents=True, exist_ok=True)
    for name, writer in files.items():
        (folder / f"gen-{name}.ttl").write_text(writer.text(), encoding="utf-8")
    result = Generated(
        folder=folder,
        seed=seed,
        target_triples=target,
        triples=sum(w.triples for w in files.values()),
        sizes=sizes,
        workload=workload,
    )
    (folder.parent / "bench-params.json").write_text(
        json.dumps(result.to_json(), indent=2), encoding="utf-8"
    )
    return result
