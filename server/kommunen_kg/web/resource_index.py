"""An index of every resource under the base: for browsing, searching and the sitemap.

Three views need a list of all our resources with their names: the browse pages, the search
and the sitemap. They read it from this index, one SQLite file per release (a release never
changes while it is served).

WHY a file, and SQLite: the index used to be built in every server's memory from two queries
when a release was opened: at 1.45e6 triples that took 6-8 s and 206 MB (a Python object per
resource), twice during a live switch, when the old and the new release are both in memory.
``kommunen-kg build`` now writes it beside the dumps (:func:`derived_files`); ``serve`` opens
it read-only and immutable, so a switch costs nothing for it and the pages read only the rows
they show. Where a release has no index file (a release built before, a remote store under
``serve --store``), the server builds the same file from its store once, in a temporary file.

Search is SQLite's full-text index (FTS5, in the standard library), over every text a page
shows: a resource's own texts (names, titles, descriptions, regions: every string literal) and
the names of what it links to (a talk's speakers, organisations, themes, event), in both
languages, ranked by BM25 with names weighted above the rest. Words are folded (case, accents,
umlauts, ß) before they are indexed and asked; ``ae``/``oe``/``ue`` are tried as umlauts, and a
word of five or more letters also finds the indexed words one edit away (found through a table
of their one-letter deletions, then checked): ``Mobilitat``, ``Mobilitaet`` and ``Mobilitet``
all find Mobilität. Chosen over a Python search library because it is in the standard library,
is a file the build writes once and every worker reads without copying it into memory, and
ranks and pages in C. Hash resources (``{dataset}#temporal``) are parts of their document's
page, not entries.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import os
import re
import sqlite3
import sys
import tempfile
import threading
import unicodedata
import weakref
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from kommunen_kg.rdf.namespaces import DCTERMS, RDF_TYPE, RDFS, SCHEMA, SKOS, XSD
from kommunen_kg.sparql.engine import TrustedEngine
from kommunen_kg.web.addresses import Addresses
from kommunen_kg.web.describe import LABEL_PROPERTIES, string_term

# The index's file in a release folder (beside the dumps; not one of them, not in the manifest).
INDEX_FILE = "site-index.sqlite"
# Raised whenever the tables change: an index of another format is rebuilt from the store.
FORMAT = "4"  # 3: facets; 4: events ordered by date

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
TEXT_DATATYPES = (XSD + "string", "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString")
# The order of the sort keys of a kind's list; the languages pages are shown in.
SORT_LANGUAGES = ("de", "en")
# How a search word may differ from an indexed one: one edit, in words of this length or more.
TYPO_MIN_LENGTH = 5
MAX_WORD = 40  # longer words are not looked up one edit away (no name is that long)
# BM25 weights of the full-text columns: names, the resource's other texts, linked names.
WEIGHTS = (10.0, 2.0, 1.0)
_WORD = re.compile(r"\w+")
_UMLAUTS = (("ae", "a"), ("oe", "o"), ("ue", "u"))


@functools.cache
def _no_marks() -> dict[int, None]:
    """Every combining mark (accents, the dots of umlauts), to be dropped after decomposition
    (made once, when first needed: 90 ms)."""
    return {c: None for c in range(sys.maxunicode + 1) if unicodedata.combining(chr(c))}


def fold(text: str) -> str:
    """Lower case without accents or umlauts, so that 'Mobilitat' finds 'Mobilität'."""
    text = text.replace("ß", "ss")
    if text.isascii():
        return text.casefold()
    return unicodedata.normalize("NFKD", text.casefold()).translate(_no_marks())


def words(text: str) -> list[str]:
    """The folded words of a text, as the index holds them."""
    return _WORD.findall(fold(text))


def pick(values: Mapping[str, str], lang: str) -> str | None:
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

    def sort_key(self, lang: str) -> str:
        """Family name (or name), then name, folded; one string so that SQLite orders it as
        Python would (both compare code points). Events go by date first (undated last), as a
        programme is read."""
        by_name = fold(self.family_name or self.label(lang)) + "\x00" + fold(self.label(lang))
        if self.kind == "event":
            return ("0" + self.start[:10] if self.start else "1") + "\x00" + by_name
        return by_name

    def as_json(self) -> str:
        return json.dumps(
            [
                sorted(self.types),
                self.labels,
                self.alternatives,
                self.descriptions,
                self.full_titles,
                self.family_name,
                self.start,
            ],
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @classmethod
    def from_row(cls, iri: str, kind: str, body: str) -> Entry:
        types, labels, alternatives, descriptions, full_titles, family, start = json.loads(body)
        return cls(
            iri, kind, set(types), labels, alternatives, descriptions, full_titles, family, start
        )


@dataclass(frozen=True)
class Hits:
    """One page of search results and how many there are in all."""

    entries: list[Entry]
    total: int


class ResourceIndex:
    """The index of one release, read from its SQLite file (one connection per process)."""

    def __init__(self, path: Path, *, owned: bool = False):
        self.path = path
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._pid = 0
        self._alphabet: str | None = None
        if owned:  # a temporary file of this process (see _retire_file)
            _owned[path] = os.getpid()
            weakref.finalize(self, _retire_file, path, os.getpid()).atexit = False

    # -- reading --

    def _connection(self) -> sqlite3.Connection:
        """A read-only connection of this process. WHY per process: an SQLite connection must
        not cross a fork; the server forks its workers after the index is opened. Shared by the
        threads of a process (the module is built thread-safe, and reads are short)."""
        if self._db is None or self._pid != os.getpid():
            with self._lock:
                if self._db is None or self._pid != os.getpid():
                    uri = f"{self.path.resolve().as_uri()}?mode=ro&immutable=1"
                    self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
                    self._pid = os.getpid()
        return self._db

    def _rows(self, sql: str, params: Iterable[object] = ()) -> list[tuple]:
        return self._connection().execute(sql, tuple(params)).fetchall()

    def get(self, iri: str) -> Entry | None:
        rows = self._rows("SELECT iri, kind, body FROM entries WHERE iri = ?", (iri,))
        return Entry.from_row(*rows[0]) if rows else None

    def __contains__(self, iri: object) -> bool:
        return bool(self._rows("SELECT 1 FROM entries WHERE iri = ?", (iri,)))

    def iris(self) -> Iterator[str]:
        return (row[0] for row in self._rows("SELECT iri FROM entries ORDER BY iri"))

    def of_kind(
        self, kind: str, lang: str, offset: int = 0, limit: int | None = None
    ) -> list[Entry]:
        """A kind's entries in the order of their names (family name first) in ``lang``."""
        lang = lang if lang in SORT_LANGUAGES else SORT_LANGUAGES[0]
        rows = self._rows(
            """SELECT e.iri, e.kind, e.body FROM ordering o JOIN entries e ON e.iri = o.iri
               WHERE o.lang = ? AND o.kind = ? ORDER BY o.key, o.iri LIMIT ? OFFSET ?""",
            (lang, kind, -1 if limit is None else limit, offset),
        )
        return [Entry.from_row(*row) for row in rows]

    @staticmethod
    def _filtered(filters: Mapping[str, str], alias: str = "e") -> tuple[str, list[str]]:
        """SQL conditions (and their parameters) for entries that have every facet value of
        ``filters``."""
        clauses = [
            f"{alias}.iri IN (SELECT f.iri FROM facets f WHERE f.facet = ? AND f.value = ?)"
            for _ in filters
        ]
        params = [x for pair in sorted(filters.items()) for x in pair]
        return "".join(f" AND {c}" for c in clauses), params

    def selection(
        self,
        kind: str,
        lang: str,
        filters: Mapping[str, str],
        offset: int = 0,
        limit: int | None = None,
    ) -> Hits:
        """The entries of a kind with every facet value of ``filters``, in the order of
        :meth:`of_kind`, and how many there are."""
        lang = lang if lang in SORT_LANGUAGES else SORT_LANGUAGES[0]
        where, params = self._filtered(filters, "o")
        total = self._rows(
            f"SELECT COUNT(*) FROM ordering o WHERE o.lang = ? AND o.kind = ?{where}",
            (lang, kind, *params),
        )[0][0]
        rows = self._rows(
            f"""SELECT e.iri, e.kind, e.body FROM ordering o JOIN entries e ON e.iri = o.iri
                WHERE o.lang = ? AND o.kind = ?{where} ORDER BY o.key, o.iri LIMIT ? OFFSET ?""",
            (lang, kind, *params, -1 if limit is None else limit, offset),
        )
        return Hits([Entry.from_row(*row) for row in rows], total)

    def facet_counts(self, kind: str, filters: Mapping[str, str]) -> dict[str, list[tuple]]:
        """For each facet, its values among the entries of ``kind`` that the *other* filters
        leave, with how many entries have each (most first): what choosing it would leave."""
        counts: dict[str, list[tuple]] = {}
        for facet in FACETS:
            others = {k: v for k, v in filters.items() if k != facet}
            where, params = self._filtered(others)
            counts[facet] = self._rows(
                f"""SELECT g.value, COUNT(*) FROM facets g JOIN entries e ON e.iri = g.iri
                    WHERE e.kind = ? AND g.facet = ?{where}
                    GROUP BY g.value ORDER BY COUNT(*) DESC, g.value""",
                (kind, facet, *params),
            )
        return counts

    def kind_counts(self, filters: Mapping[str, str]) -> dict[str, int]:
        """How many entries of each kind have every facet value of ``filters``."""
        where, params = self._filtered(filters)
        return dict(
            self._rows(
                f"SELECT e.kind, COUNT(*) FROM entries e WHERE 1{where} GROUP BY e.kind",
                params,
            )
        )

    def kinds(self) -> dict[str, int]:
        return dict(self._rows("SELECT kind, COUNT(*) FROM entries GROUP BY kind ORDER BY kind"))

    def with_type(self, type_iri: str) -> list[Entry]:
        rows = self._rows(
            """SELECT e.iri, e.kind, e.body FROM types t JOIN entries e ON e.iri = t.iri
               WHERE t.type = ? ORDER BY e.iri""",
            (type_iri,),
        )
        return [Entry.from_row(*row) for row in rows]

    def find(
        self, query: str, limit: int = 20, offset: int = 0, *, names_only: bool = False
    ) -> Hits:
        """One page of the entries with every word of ``query``, and how many there are.

        Entries whose names hold every word come first, best named first (BM25 over the names
        alone, so a short exact name beats a long title), then the rest by BM25 over all their
        texts (names weighted above descriptions and linked names). ``names_only``: search the
        names alone (what the 404 page suggests)."""
        expression = self._match_expression(query)
        if expression is None:
            return Hits([], 0)
        in_names = f"names : ({expression})"
        exact_names = f"names : ({self._match_expression(query, exact=True)})"
        if names_only:
            expression = in_names
        db = self._connection()
        total = db.execute(
            "SELECT COUNT(*) FROM search WHERE search MATCH ?", (expression,)
        ).fetchone()[0]
        weights = ", ".join(str(w) for w in WEIGHTS)
        rows = db.execute(
            f"""SELECT e.iri, e.kind, e.body FROM search s
                  JOIN entries e ON e.rowid = s.rowid
                WHERE search MATCH :all
                ORDER BY s.rowid NOT IN (SELECT rowid FROM search WHERE search MATCH :exact)
                         + s.rowid NOT IN (SELECT rowid FROM search WHERE search MATCH :names),
                         bm25(search, 1.0, 0.0, 0.0), bm25(search, {weights}), e.iri
                LIMIT :limit OFFSET :offset""",
            {
                "all": expression,
                "names": in_names,
                "exact": exact_names,
                "limit": limit,
                "offset": offset,
            },
        ).fetchall()
        return Hits([Entry.from_row(*row) for row in rows], total)

    def _match_expression(self, query: str, *, exact: bool = False) -> str | None:
        """The FTS5 expression for a reader's words: each word (or its umlaut spelling, or an
        indexed word one edit away) must occur; quoted, so no word is read as FTS syntax.
        Each word is also the start of longer ones, unless ``exact`` (whole words only)."""
        asked = words(query)
        if not asked:
            return None
        groups = []
        for word in dict.fromkeys(asked):
            alternatives = {word}
            for pair, umlaut in _UMLAUTS:
                if pair in word:
                    alternatives.add(word.replace(pair, umlaut))
            prefixes = sorted(alternatives)
            if exact:
                groups.append("(" + " OR ".join(f'"{w}"' for w in prefixes) + ")")
                continue
            # words one edit away that the prefixes do not already find (counted twice else)
            near = sorted(
                w for w in self._one_edit_away(word) if not w.startswith(tuple(alternatives))
            )
            terms = [f'"{w}"*' for w in prefixes] + [f'"{w}"' for w in near]
            groups.append("(" + " OR ".join(terms) + ")")
        return " AND ".join(groups)

    def _one_edit_away(self, word: str) -> set[str]:
        """The indexed words one letter away from ``word`` (replaced, inserted, dropped, or
        two neighbours swapped): each such spelling, looked up in the table of words. WHY not
        a table of deletions: it made the index of the seed data 12 times its word list."""
        if len(word) < TYPO_MIN_LENGTH or len(word) > MAX_WORD:
            return set()
        if self._alphabet is None:
            row = self._rows("SELECT value FROM meta WHERE key = 'alphabet'")
            self._alphabet = row[0][0] if row else ""
        spellings = sorted(_one_edit_spellings(word, self._alphabet) - {word})
        found: set[str] = set()
        for start in range(0, len(spellings), 500):  # SQLite's limit of parameters per query
            part = spellings[start : start + 500]
            marks = ",".join("?" * len(part))
            found |= {
                t for (t,) in self._rows(f"SELECT token FROM words WHERE token IN ({marks})", part)
            }
        return found


def _one_edit_spellings(word: str, alphabet: str) -> set[str]:
    """Every spelling one edit away from ``word`` over ``alphabet`` (Norvig's edits1)."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    spellings = {a + b[1:] for a, b in splits if b}
    spellings |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    spellings |= {a + c + b[1:] for a, b in splits if b for c in alphabet}
    spellings |= {a + c + b for a, b in splits for c in alphabet}
    return spellings


# Temporary index files this process made, and those of replaced releases still kept.
_owned: dict[Path, int] = {}  # path -> the process that made it
_retired: list[Path] = []


def _retire_file(path: Path, owner: int) -> None:
    """Removes the temporary file of an index dropped at a live switch, one switch later.

    WHY later: the workers of the replaced release go on answering for a few seconds, and one
    that had not opened the file yet must still find it; by the next switch they are gone.
    Never from a forked worker that inherited the object."""
    if os.getpid() != owner:
        return
    _retired.append(path)
    while len(_retired) > 1:
        _remove_file(_retired.pop(0))


def _remove_file(path: Path) -> None:
    _owned.pop(path, None)
    with contextlib.suppress(OSError):
        path.unlink()


@atexit.register
def _remove_owned() -> None:
    for path, owner in list(_owned.items()):
        if owner == os.getpid():  # a forked worker leaves its master's files alone
            _remove_file(path)


# -- building --

SCHEMA_SQL = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE entries(iri TEXT PRIMARY KEY, kind TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE types(type TEXT NOT NULL, iri TEXT NOT NULL, PRIMARY KEY(type, iri))
  WITHOUT ROWID;
CREATE TABLE ordering(lang TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL,
                      iri TEXT NOT NULL, PRIMARY KEY(lang, kind, key, iri)) WITHOUT ROWID;
CREATE TABLE words(token TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE facets(facet TEXT NOT NULL, value TEXT NOT NULL, iri TEXT NOT NULL,
                    PRIMARY KEY(facet, value, iri)) WITHOUT ROWID;
CREATE VIRTUAL TABLE search USING fts5(names, texts, linked, content='', tokenize='unicode61');
CREATE VIRTUAL TABLE search_words USING fts5vocab(search, 'row');
"""
INDEXES_SQL = """
CREATE INDEX entries_kind ON entries(kind);
CREATE INDEX facets_of ON facets(iri, facet, value);
"""


def collect(engine: TrustedEngine, base: str, vocab: str) -> tuple[dict[str, Entry], dict]:
    """Every entry under ``base`` with its names, and the words of its texts: its own string
    literals, and the names of the entries it links to."""
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
    texts: dict[str, list[str]] = {}
    for row in engine.select(
        f"""SELECT ?s ?p ?o WHERE {{ ?s ?p ?o
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
        elif prop in alt:
            entry.alternatives.append(literal.value)
            if prop == SCHEMA + "familyName":
                entry.family_name = literal.value
        if literal.datatype.value in TEXT_DATATYPES:
            texts.setdefault(entry.iri, []).append(literal.value)
    # Talks and sessions have their date through the events they belong to: the latest date
    # among those (the nearest: a session's time is later than its day's date). Only an event
    # of one day gives its date: an event of a series that runs for weeks is not on the day the
    # series starts, and a date that is not known is shown as unknown, not guessed.
    for row in engine.select(
        f"""SELECT ?s (MAX(STR(?start)) AS ?date) WHERE {{
              ?s <{SCHEMA}superEvent>+ ?e . ?e <{SCHEMA}startDate> ?start
              OPTIONAL {{ ?e <{SCHEMA}endDate> ?end }}
              FILTER(isIRI(?s) && STRSTARTS(STR(?s), {prefix})
                     && (!BOUND(?end) || SUBSTR(STR(?start), 1, 10) = SUBSTR(STR(?end), 1, 10)))
            }} GROUP BY ?s"""
    ):
        entry = entries.get(row["s"].value)
        if entry is not None and entry.start is None and "date" in row:
            # the day only: the event's time is not the item's (a talk's time may be unknown)
            entry.start = row["date"].value[:10]
    links: dict[str, set[str]] = {}
    for row in engine.select(
        f"""SELECT DISTINCT ?s ?o WHERE {{ ?s ?p ?o
              FILTER(isIRI(?s) && isIRI(?o) && STRSTARTS(STR(?s), {prefix})
                     && STRSTARTS(STR(?o), {prefix}) && ?p != <{RDF_TYPE}>) }}"""
    ):
        source, target = row["s"].value, row["o"].value
        if source in entries and target in entries and source != target:
            links.setdefault(source, set()).add(target)
    return entries, {
        "texts": texts,
        "links": links,
        "facets": facet_values(engine, base, vocab, entries),
    }


# The facets of the browse lists: what a list can be narrowed by. Values are IRIs of entries,
# the year a four-digit string.
FACETS = ("theme", "event", "year", "organisation")
PROGRAMME_KINDS = ("talk", "session", "panel")


def _inverted(mapping: dict[str, Iterable[str]]) -> dict[str, set[str]]:
    """``{value: {keys}}`` of ``{key: values}``: who gave an item, from what each person gave."""
    found: dict[str, set[str]] = {}
    for key, values in mapping.items():
        for value in values:
            found.setdefault(value, set()).add(key)
    return found


def facet_values(
    engine: TrustedEngine, base: str, vocab: str, entries: Mapping[str, Entry]
) -> dict[str, set[tuple[str, str]]]:
    """Each entry's facet values, from the programme's links: a talk is on its themes (and
    their broader themes), at the events it belongs to, in the year it took place, and with
    the organisations of the people who gave it; a person, a project and an organisation are
    on what their talks are on. So "theme: mobility" narrows the list of people to those who
    spoke on mobility or a narrower theme."""
    prefix = string_term(base)

    def pairs(pattern: str) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for row in engine.select(
            f"""SELECT DISTINCT ?s ?o WHERE {{ {pattern}
                  FILTER(isIRI(?s) && isIRI(?o) && STRSTARTS(STR(?s), {prefix})
                         && STRSTARTS(STR(?o), {prefix})) }}"""
        ):
            if row["s"].value in entries and row["o"].value in entries:
                found.setdefault(row["s"].value, set()).add(row["o"].value)
        return found

    ki = vocab
    ancestors = pairs(f"?s <{SCHEMA}superEvent>+ ?o")
    items_of_person = pairs(f"?o <{ki}speaker>|<{ki}panelist>|<{ki}moderator> ?s")
    items_of_project = pairs(f"?o <{ki}presentsProject> ?s")
    themes = pairs(f"?s <{ki}theme>|<{ki}keyMessage> ?t . ?t <{SKOS}broader>* ?o")
    broader = pairs(f"?s <{SKOS}broader>* ?o . ?s a <{SKOS}Concept>")
    affiliations = pairs(f"?s <{SCHEMA}affiliation> ?o")
    project_organisations = pairs(f"?s <{ki}partner>|<{ki}coordinator> ?o")
    parents = pairs(f"?s <{SCHEMA}parentOrganization>* ?o . ?s a <{SCHEMA}Organization>")

    def kind(iri: str) -> str:
        return entries[iri].kind

    def events(item: str) -> set[str]:
        found = {e for e in ancestors.get(item, ()) if kind(e) == "event"}
        return found | ({item} if kind(item) == "event" else set())

    def year(item: str) -> set[str]:
        start = entries[item].start
        return {start[:4]} if start and re.match(r"\d{4}", start) else set()

    spans = {
        row["s"].value: (row["start"].value, row["end"].value)
        for row in engine.select(
            f"""SELECT ?s ?start ?end WHERE {{ ?s <{SCHEMA}startDate> ?start ;
                  <{SCHEMA}endDate> ?end FILTER(STRSTARTS(STR(?s), {prefix})) }}"""
        )
        if row["s"].value in entries
    }

    def years(item: str) -> set[str]:
        """The years something took place in: its own (a project's from start to end), else
        that of an event it belongs to whose start and end fall in one year (an undated event
        of the autumn series 2020 took place in 2020; its day is not known)."""
        if item in spans:
            first, last = (v[:4] for v in spans[item])
            if first.isdigit() and last.isdigit() and int(first) <= int(last) <= int(first) + 50:
                return {str(y) for y in range(int(first), int(last) + 1)}
        if year(item):
            return year(item)
        for above in ancestors.get(item, ()):
            first, last = spans.get(above, ("", "-"))
            if first[:4] == last[:4] and first[:4].isdigit():
                return {first[:4]}
        return set()

    def with_parents(organisations: Iterable[str]) -> set[str]:
        """Organisations and those they belong to (a chair of a university is at the
        university too)."""
        return {p for o in organisations for p in parents.get(o, {o}) | {o}}

    items_under = _inverted(ancestors)
    people_of_item = _inverted(items_of_person)
    people_of_org = _inverted(affiliations)
    projects_of_org = _inverted(project_organisations)

    def about_items(items: Iterable[str]) -> set[tuple[str, str]]:
        """The events, themes and years a set of programme items (or events) gives."""
        values: set[tuple[str, str]] = set()
        for item in items:
            values |= {("event", e) for e in events(item)}
            values |= {("theme", t) for t in themes.get(item, ())}
            values |= {("year", y) for y in years(item)}
        return values

    def speakers_organisations(items: Iterable[str]) -> set[tuple[str, str]]:
        """The organisations of the people who gave the items."""
        return {
            ("organisation", o)
            for item in items
            for person in people_of_item.get(item, ())
            for o in with_parents(affiliations.get(person, ()))
        }

    result: dict[str, set[tuple[str, str]]] = {}
    for iri, entry in entries.items():
        if entry.kind in PROGRAMME_KINDS:
            values = about_items([iri]) | speakers_organisations([iri])
        elif entry.kind == "event":
            # the themes, organisations and years of what it holds, but at itself and the
            # events it belongs to only (a series is not "at" one of its events)
            held = [iri, *items_under.get(iri, ())]
            values = {v for v in about_items(held) if v[0] != "event"}
            values |= speakers_organisations(held)
            values |= {("event", e) for e in events(iri)}
            if years(iri):  # its own year, not those of the events of a series it holds
                values = {v for v in values if v[0] != "year"} | {("year", y) for y in years(iri)}
        elif entry.kind == "person":
            # what the person gave, and the person's own organisations (not a co-panellist's);
            # themes only of their talks and panels, not of an event they moderated
            given = items_of_person.get(iri, set())
            values = {v for v in about_items(given) if v[0] != "theme"}
            values |= about_items(i for i in given if kind(i) in PROGRAMME_KINDS)
            values |= {("organisation", o) for o in with_parents(affiliations.get(iri, ()))}
        elif entry.kind == "project":
            # where and on what it was presented; but its own years and its own organisations
            values = {v for v in about_items(items_of_project.get(iri, ())) if v[0] != "year"}
            values |= {("theme", t) for t in themes.get(iri, ())}
            values |= {("year", y) for y in years(iri)}
            values |= {
                ("organisation", o) for o in with_parents(project_organisations.get(iri, ()))
            }
        elif entry.kind == "organisation":
            people = people_of_org.get(iri, set())
            projects = projects_of_org.get(iri, set())
            items = {i for p in people for i in items_of_person.get(p, ())}
            values = about_items(items)
            values |= {("theme", t) for p in projects for t in themes.get(p, ())}
            # the organisations it belongs to: choosing a university lists its chairs
            values |= {("organisation", o) for o in with_parents([iri]) if o != iri}
        elif entry.kind == "theme":
            values = {("theme", t) for t in broader.get(iri, {iri}) | {iri}}
        else:
            values = {("theme", t) for t in themes.get(iri, ())}
        result[iri] = {v for v in values if v[0] == "year" or v[1] in entries}
    return result


def write_index(path: Path, entries: Mapping[str, Entry], found: dict) -> None:
    """Writes the SQLite file of an index (to a new file; the caller renames it into place)."""
    db = sqlite3.connect(path)
    try:
        db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + SCHEMA_SQL)
        db.execute("INSERT INTO meta VALUES ('format', ?)", (FORMAT,))
        texts, links = found["texts"], found["links"]
        # The words of each entry's names, folded once: linked entries' names recur a lot.
        name_words = {
            iri: " ".join(words("\n".join(e.labels.values()))) for iri, e in entries.items()
        }
        for rowid, iri in enumerate(sorted(entries), start=1):
            entry = entries[iri]
            db.execute(
                "INSERT INTO entries(rowid, iri, kind, body) VALUES (?, ?, ?, ?)",
                (rowid, iri, entry.kind, entry.as_json()),
            )
            db.executemany("INSERT INTO types VALUES (?, ?)", ((t, iri) for t in entry.types))
            db.executemany(
                "INSERT INTO ordering VALUES (?, ?, ?, ?)",
                ((lang, entry.kind, entry.sort_key(lang), iri) for lang in SORT_LANGUAGES),
            )
            names = list(
                dict.fromkeys(
                    [*entry.labels.values(), *entry.alternatives, *entry.full_titles.values()]
                )
            )
            linked = [name_words[target] for target in sorted(links.get(iri, ()))]
            db.execute(
                "INSERT INTO search(rowid, names, texts, linked) VALUES (?, ?, ?, ?)",
                (
                    rowid,
                    " ".join(words("\n".join(names))),
                    " ".join(words("\n".join(texts.get(iri, ())))),
                    " ".join(linked),
                ),
            )
        db.executemany(
            "INSERT INTO facets VALUES (?, ?, ?)",
            (
                (facet, value, iri)
                for iri, values in sorted(found.get("facets", {}).items())
                for facet, value in sorted(values)
            ),
        )
        tokens = [t for (t,) in db.execute("SELECT term FROM search_words")]
        db.executemany("INSERT INTO words VALUES (?)", ((t,) for t in tokens))
        alphabet = "".join(sorted({c for t in tokens for c in t}))
        db.execute("INSERT INTO meta VALUES ('alphabet', ?)", (alphabet,))
        db.executescript(INDEXES_SQL)
        db.execute("INSERT INTO search(search) VALUES ('optimize')")
        db.commit()
        db.execute("VACUUM")
    finally:
        db.close()


def index_bytes(engine: TrustedEngine, base: str, vocab: str) -> bytes:
    """The index file of the store behind ``engine``, as bytes (what the build writes)."""
    with tempfile.TemporaryDirectory(prefix="kommunen-kg-index-") as folder:
        path = Path(folder) / INDEX_FILE
        write_index(path, *collect(engine, base, vocab))
        return path.read_bytes()


def usable(path: Path) -> bool:
    """Whether ``path`` is an index file of this format."""
    if not path.is_file():
        return False
    try:
        uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
    except sqlite3.Error:
        return False
    return row is not None and row[0] == FORMAT


def open_index(path: Path) -> ResourceIndex:
    return ResourceIndex(path)


def load_index(engine: TrustedEngine, base: str, vocab: str) -> ResourceIndex:
    """The index built from the store behind ``engine``, in a temporary file of this process
    (removed when the index is dropped, and never by a forked worker)."""
    handle, name = tempfile.mkstemp(prefix="kommunen-kg-index-", suffix=".sqlite")
    os.close(handle)
    path = Path(name)
    try:
        path.unlink()
        write_index(path, *collect(engine, base, vocab))
    except BaseException:
        _remove_file(path)
        raise
    return ResourceIndex(path, owned=True)
