"""Releases side by side in one store, and the one pointer that names the current one.

WHY: a store that held one release under the five public graph names had to be rewritten to
switch (``MOVE`` of every triple: 206 s of 241 s at 1e6 triples), and a server could not tell
which release a page's second query would meet. Now ``kommunen-kg publish`` loads each release
under graph names of its own and switches by changing one triple; a server answers every
request from the one release it was started (or switched) with.

The layout in the store:

* release ``V``'s part ``P`` (vocabulary, themes, shapes, data, metadata) is the named graph
  ``urn:kommunen-kg:release:V:P``. Inside these graphs, every mention of a public graph name
  (``{base}graph/P``, e.g. as the subject of its VoID description in the metadata graph) is
  renamed the same way, so that a release's graphs are the release with five IRIs renamed;
* the graph ``urn:kommunen-kg:releases`` holds the pointer, ``<urn:kommunen-kg:releases>
  <urn:kommunen-kg:current> "V"``, and for each release loaded when its loading ended and, once
  it stopped being current, when (so that ``publish`` drops it after a grace period).

What clients see: :class:`ReleaseNames` renames, in both directions, between the public names
and the current release's ones. A client's query is renamed before it goes to the store (IRIs
written in full, as prefixed names or relative to a BASE), its dataset is always given to the
store as protocol parameters (the protocol's override the query's own FROM clauses), naming
only the current release's graphs, and every IRI of the answer that names one of them is
renamed back. So ``FROM <{base}graph/data>``, ``GRAPH ?g`` and the Service Description answer
as before, and no query can reach another release's graphs. String functions over a graph's
name (``STR(?g)``) see the internal name; nothing else does.

The internal names are URNs without ``/`` so that no result format escapes or abbreviates them
(JSON may write ``\\/``; Turtle may shorten a name after a ``/``): the engine can tell from the
bytes of an answer whether it needs renaming at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urljoin

import pyoxigraph as ox

from kommunen_kg.sparql.lexer import tokens

PREFIX = "urn:kommunen-kg:release:"
MARKER = PREFIX.encode("ascii")  # in an answer's bytes: it names a release's graph
POINTER_GRAPH = "urn:kommunen-kg:releases"
CURRENT = "urn:kommunen-kg:current"  # <POINTER_GRAPH> CURRENT "version"
LOADING = "urn:kommunen-kg:loading"  # <release> LOADING "dateTime": its load began
LOADED = "urn:kommunen-kg:loaded"  # <release> LOADED "dateTime": complete and counted
RETIRED = "urn:kommunen-kg:retired"  # <release> RETIRED "dateTime": stopped being current
XSD_DATETIME = "http://www.w3.org/2001/XMLSchema#dateTime"
# A graph name that is never loaded: where a client names a graph that is not ours.
NO_GRAPH = "urn:kommunen-kg:no-graph"

_VERSION = re.compile(r"[0-9A-Za-z._-]{1,64}\Z")


def release_iri(version: str) -> str:
    """The IRI a release is described by in the pointer graph."""
    return PREFIX + version


def versioned_graph(version: str, part: str) -> str:
    """The store's name of part ``part`` of release ``version``."""
    if not _VERSION.match(version):
        raise ValueError(f"not a release version: {version!r}")
    return f"{PREFIX}{version}:{part}"


class ReleaseNames:
    """The renaming between the public graph names and one release's names in the store."""

    def __init__(self, public: dict[str, str], version: str):
        """``public``: part -> public graph name (the release manifest's ``graphs``)."""
        self.version = version
        self.to_store = {iri: versioned_graph(version, part) for part, iri in public.items()}
        self.to_public = {v: k for k, v in self.to_store.items()}
        self.graphs = tuple(self.to_store.values())  # the release's graphs, in the store

    # --- towards the store ---------------------------------------------------------------------

    def graph(self, iri: str) -> str:
        """The store's name of a graph a client named: ours renamed, any other one empty."""
        return self.to_store.get(iri, NO_GRAPH)

    def query(self, text: str) -> tuple[str, tuple[list[str], list[str]] | None]:
        """``text`` with every IRI that is a public graph name renamed (see the docstring), and
        the dataset its FROM and FROM NAMED clauses declare (default graphs, named graphs; in
        the store's names, any graph that is not ours as :data:`NO_GRAPH`), or None.

        Works on the tokens of the one lexical scan (``sparql/lexer.py``): strings and
        comments are never touched; ``PREFIX`` and ``BASE`` declarations are kept as written,
        and each prefixed name or relative IRI is compared after expansion.
        """
        prefixes: dict[str, str] = {}
        base = ""
        pieces: list[str] = []
        done = 0
        declaring: str | None = None  # "PREFIX" or "BASE" while its IRI is still to come
        pending_prefix = ""
        clause: str | None = None  # "FROM" or "NAMED" while its IRI is still to come
        dataset: tuple[list[str], list[str]] | None = None
        for tok in tokens(text):
            word = tok.text.upper() if tok.kind == "word" else ""
            if word in ("PREFIX", "BASE"):
                declaring = word
                continue
            if declaring == "PREFIX" and tok.kind == "pname" and not tok.local:
                pending_prefix = tok.prefix or ""
                continue
            if declaring is not None and tok.kind == "iri":
                iri = _unescape(tok.text[1:-1])
                if declaring == "PREFIX":
                    prefixes[pending_prefix] = urljoin(base, iri) if base else iri
                else:
                    base = urljoin(base, iri) if base else iri
                declaring = None
                continue
            declaring = None
            if word == "FROM" or (word == "NAMED" and clause == "FROM"):
                clause = word
                continue
            if tok.kind == "iri":
                full = _unescape(tok.text[1:-1])
                full = urljoin(base, full) if base else full
            elif tok.kind == "pname" and tok.prefix in prefixes:
                full = prefixes[tok.prefix or ""] + _local(tok.local or "")
            else:
                clause = None
                continue
            if clause is not None:
                dataset = dataset or ([], [])
                dataset[1 if clause == "NAMED" else 0].append(self.graph(full))
                clause = None
            renamed = self.to_store.get(full)
            if renamed is not None:
                pieces += [text[done : tok.position], f"<{renamed}>"]
                done = tok.end
        if pieces:
            pieces.append(text[done:])
            text = "".join(pieces)
        return text, dataset

    # --- back from the store -------------------------------------------------------------------

    def term(self, term):
        """A term of an answer, a release's graph name renamed back to the public one."""
        if isinstance(term, ox.NamedNode):
            public = self.to_public.get(term.value)
            if public is not None:
                return ox.NamedNode(public)
        elif isinstance(term, ox.Triple):
            return ox.Triple(
                self.term(term.subject), self.term(term.predicate), self.term(term.object)
            )
        return term

    def row(self, values: Iterable) -> tuple:
        return tuple(self.term(value) for value in values)

    def triple(self, triple: ox.Triple) -> ox.Triple:
        return ox.Triple(
            self.term(triple.subject), self.term(triple.predicate), self.term(triple.object)
        )

    def stored(self, triple: ox.Triple) -> ox.Triple:
        """A triple of the release as the store holds it: public graph names renamed."""
        rename = self.to_store
        subject, obj = triple.subject, triple.object
        if isinstance(subject, ox.NamedNode) and subject.value in rename:
            subject = ox.NamedNode(rename[subject.value])
        if isinstance(obj, ox.NamedNode) and obj.value in rename:
            obj = ox.NamedNode(rename[obj.value])
        if subject is triple.subject and obj is triple.object:
            return triple
        return ox.Triple(subject, triple.predicate, obj)


def _unescape(iri: str) -> str:
    """An IRIREF's \\u and \\U escapes decoded."""
    if "\\" not in iri:
        return iri
    return re.sub(
        r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})",
        lambda m: chr(int(m.group(1) or m.group(2), 16)),
        iri,
    )


def _local(local: str) -> str:
    """A prefixed name's local part as it reads in the IRI (``\\`` escapes removed; percent
    escapes stay, as the grammar says)."""
    return re.sub(r"\\(.)", r"\1", local) if "\\" in local else local
