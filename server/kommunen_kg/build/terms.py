"""A closed vocabulary: every term the data uses is one the project knows.

WHY: SHACL checks what is there, not what was meant. A misspelt property (``schema:descripton``)
is simply another property: no shape targets it, the description silently disappears from the
pages, and validation passes. So, besides the shapes, the data may use

* of our own vocabulary (``ki:``) and shapes (``kis:``) namespaces only the terms the
  vocabulary or the shapes define;
* of schema.org, DCTERMS, SKOS, FOAF and W3C ORG only the terms the vocabulary or the shapes
  mention (the vocabulary maps our terms onto them, the shapes constrain them);

as properties and as classes (objects of ``rdf:type``). Anything else is an error at the line
that writes it, with the nearest known term as a suggestion. Terms of other namespaces (RDF,
RDFS, OWL, PROV, ...) are not checked: the project makes no claim to know all of them.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import pyoxigraph as ox

from kommunen_kg.rdf.namespaces import ProjectIRIs
from kommunen_kg.rdf.sources import ParsedSources, display_path

# Namespaces whose terms the data may use only as far as the vocabulary or the shapes know them.
MENTIONED_NAMESPACES = {
    "http://schema.org/": "schema",
    "https://schema.org/": "schema",
    "http://purl.org/dc/terms/": "dcterms",
    "http://www.w3.org/2004/02/skos/core#": "skos",
    "http://xmlns.com/foaf/0.1/": "foaf",
    "http://www.w3.org/ns/org#": "org",
}
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"  # a class is the object of this
_PARTS = ("data", "themes")  # the parts an editor writes and the shapes validate


@dataclass(frozen=True)
class UnknownTerm:
    """A term the data uses that the project does not know, where it is written first."""

    term: str
    written: str  # as the file writes it (``ki:theem``), or the IRI
    as_class: bool
    subject: str
    location: str  # file:line
    suggestion: str | None  # the nearest known term, written as the file would


def unknown_terms(sources: ParsedSources) -> list[UnknownTerm]:
    """Every unknown term of ``data`` and ``themes``, once per file that uses it."""
    iris = ProjectIRIs(sources.base_iri)
    own = (iris.vocab, iris.shapes_namespace)
    defined, mentioned = _known(sources, own)
    found: list[UnknownTerm] = []
    for parsed in sources.files:
        if parsed.source.graph not in _PARTS:
            continue
        used = parsed.terms
        if not used:
            continue
        text: str | None = None
        prefixes: dict[str, str] = {}
        for term, (subject, as_class) in sorted(used.items()):
            namespace = _namespace_of(term, own)
            if namespace is None:
                continue
            known = defined if namespace in own else mentioned
            if term in known:
                continue
            if text is None:
                text = parsed.source.path.read_text(encoding="utf-8")
                prefixes = _prefixes(text, sources.base_iri)
            written = _written(term, prefixes)
            line = _first_line(text, written, term)
            root = sources.root
            where = f"{display_path(parsed.source.path, root)}:{line}" if line else ""
            nearest = _nearest(term, namespace, known)
            found.append(
                UnknownTerm(
                    term,
                    written,
                    as_class,
                    subject,
                    where or display_path(parsed.source.path, root),
                    _written(nearest, prefixes) if nearest else None,
                )
            )
    return found


def _known(sources: ParsedSources, own: tuple[str, ...]) -> tuple[set[str], set[str]]:
    """Terms the vocabulary or the shapes define (subjects there), and every IRI they mention."""
    defined: set[str] = set()
    mentioned: set[str] = set()
    for part in ("vocabulary", "shapes"):
        for quad in sources.store.quads_for_pattern(None, None, None, sources.graph(part)):
            for term in (quad.subject, quad.predicate, quad.object):
                if isinstance(term, ox.NamedNode):
                    mentioned.add(term.value)
            if isinstance(quad.subject, ox.NamedNode) and quad.subject.value.startswith(own):
                defined.add(quad.subject.value)
    return defined, mentioned


def _namespace_of(term: str, own: tuple[str, ...]) -> str | None:
    for namespace in (*own, *MENTIONED_NAMESPACES):
        if term.startswith(namespace) and len(term) > len(namespace):
            return namespace
    return None


_PREFIX = re.compile(r"^\s*@?prefix\s+([\w.-]*):\s*<([^>]*)>", re.IGNORECASE | re.MULTILINE)


def _prefixes(text: str, base_iri: str) -> dict[str, str]:
    found = {}
    for prefix, iri in _PREFIX.findall(text):
        found[prefix] = iri if "://" in iri else base_iri + iri
    return found


def _written(term: str, prefixes: dict[str, str]) -> str:
    """``term`` as a file with these prefixes writes it (the longest namespace wins)."""
    matches = [
        (len(namespace), prefix)
        for prefix, namespace in prefixes.items()
        if term.startswith(namespace) and len(term) > len(namespace)
    ]
    if not matches:
        return f"<{term}>"
    prefix = max(matches)[1]
    return f"{prefix}:{term[len(prefixes[prefix]) :]}"


def _first_line(text: str, written: str, term: str) -> int | None:
    """The line that first writes the term, as a prefixed name or as a full IRI."""
    patterns = [re.escape(f"<{term}>")]
    if not written.startswith("<"):
        patterns.append(r"(?<![\w:.-])" + re.escape(written) + r"(?![\w-])")
    found = re.compile("|".join(patterns))
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith(("@prefix", "PREFIX", "#")):
            continue
        if found.search(line):
            return number
    return None


def _nearest(term: str, namespace: str, known: set[str]) -> str | None:
    """The known term of the same namespace nearest in spelling to ``term``."""
    local = term[len(namespace) :]
    candidates = {k[len(namespace) :]: k for k in known if k.startswith(namespace)}
    match = difflib.get_close_matches(local, list(candidates), n=1, cutoff=0.6)
    return candidates[match[0]] if match else None
