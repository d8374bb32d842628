"""The German and English names of the well-known terms (schema.org, SKOS, DCTERMS, FOAF, ...).

None of their vocabularies that we could load has German labels, so the names readers see are
data of ours, ``term_labels.ttl`` beside this module. They live in the RDF layer because two
layers above need them: the pages (``web/i18n.py``) and the workbook the documentation team
edits (``build/workbook``), whose column headers are the same names.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import pyoxigraph as ox

LANGUAGES: tuple[str, ...] = ("de", "en")

# The kinds of things (the {kind} of {base}id/{kind}/{slug}): singular and plural
# names, for the pages and the browse lists and as the workbook's sheet names
KIND_NAMES: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "event": (("Veranstaltung", "event"), ("Veranstaltungen", "Events")),
    "talk": (("Vortrag", "talk"), ("Vorträge", "Talks")),
    "session": (("Programmblock", "session"), ("Programmblöcke", "Sessions")),
    "panel": (("Podiumsdiskussion", "panel"), ("Podiumsdiskussionen", "Panel discussions")),
    "person": (("Person", "person"), ("Personen", "People")),
    "organisation": (("Organisation", "organisation"), ("Organisationen", "Organisations")),
    "project": (("Projekt", "project"), ("Projekte", "Projects")),
    "funding": (("Förderung", "funding"), ("Förderung", "Funding")),
    "theme": (("Thema", "theme"), ("Themen und Kernbotschaften", "Themes and key messages")),
    "publication": (("Veröffentlichung", "publication"), ("Veröffentlichungen", "Publications")),
    "scheme": (("Begriffsschema", "concept scheme"), ("Begriffsschemata", "Concept schemes")),
    "agent": (("Akteur", "agent"), ("Akteure", "Agents")),
    "dataset": (("Datensatz", "dataset"), ("Datensätze", "Datasets")),
    "service": (("Dienst", "service"), ("Dienste", "Services")),
    "catalog": (("Katalog", "catalogue"), ("Kataloge", "Catalogues")),
}


@cache
def term_labels() -> dict[str, tuple[str, str]]:
    """IRI -> (German, English) name. A term with a label in only one of the languages is an
    error here rather than an English word on a German page later."""
    text = (resources.files(__package__) / "term_labels.ttl").read_bytes()
    labels: dict[str, dict[str, str]] = {}
    for triple in ox.parse(text, format=ox.RdfFormat.TURTLE):
        labels.setdefault(triple.subject.value, {})[triple.object.language] = triple.object.value
    missing = sorted(iri for iri, names in labels.items() if set(names) != set(LANGUAGES))
    if missing:
        raise ValueError(f"term_labels.ttl: no German and English label for {missing}")
    return {iri: (names["de"], names["en"]) for iri, names in labels.items()}
