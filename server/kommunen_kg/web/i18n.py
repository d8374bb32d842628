"""The words of the pages in German and English, and the reader's language.

Our own terms carry their names in the vocabulary (``rdfs:label@de/@en``); the pages use those.
The well-known terms of schema.org, SKOS, DCTERMS, FOAF and the metadata vocabularies have no
German labels anywhere we could load them from, so their names for readers are data of ours,
``rdf/term_labels.ttl`` (``rdfs:label@de/@en``); the words of the pages
themselves are here. German is the default: the documented conference was
German, and so are most of its readers.
"""

from __future__ import annotations

from kommunen_kg.rdf.namespaces import (
    DCAT,
    DCTERMS,
    SCHEMA,
    SKOS,
    VOID,
)
from kommunen_kg.rdf.term_labels import KIND_NAMES, term_labels
from kommunen_kg.web.publishing_texts import MESSAGES as PUBLISHING_MESSAGES

LANGUAGES: tuple[str, ...] = ("de", "en")
DEFAULT_LANGUAGE = "de"
LANGUAGE_NAMES = {"de": "Deutsch", "en": "English"}

# The words of the pages. Keys are short English phrases, so templates read naturally.
MESSAGES: dict[str, tuple[str, str]] = {
    "site": ("Kommunen innovativ – Wissensgraph", "Kommunen innovativ – knowledge graph"),
    "skip": ("Zum Inhalt springen", "Skip to content"),
    "presenters": ("Wer hat was vorgestellt?", "Who presented what"),
    "presenters_nav": ("Wer – was", "Who – what"),
    "presenters_intro": (
        "Die Vortragenden und Podiumsgäste, die Organisationen, von denen sie kamen, die "
        "Projekte, die sie vorstellten, und die Themen ihrer Beiträge. Jeder Name führt zu "
        "seiner Seite; die Tabelle unter dem Bild nennt dasselbe.",
        "The speakers and panellists, the organisations they came from, the projects they "
        "presented and the themes of their contributions. Every name leads to its page; the "
        "table below the picture states the same.",
    ),
    "presenters_desc": (
        "Vier Spalten: Organisationen, Personen, Projekte, Themen. Linien verbinden eine "
        "Person mit ihrer Organisation, mit dem Projekt, das sie vorstellte, und dieses (oder "
        "die Person) mit den Themen des Beitrags.",
        "Four columns: organisations, people, projects, themes. Lines join a person to their "
        "organisation and to the project they presented, and that project (or the person) to "
        "the themes of the contribution.",
    ),
    "contributions": ("Beiträge", "Contributions"),
    "presenters_pictured": (
        "Das Bild zeigt die {shown} Personen mit den meisten Beiträgen von {total}; die Tabelle "
        "nennt alle.",
        "The picture shows the {shown} people with the most contributions of {total}; the "
        "table names all of them.",
    ),
    "skip_to_table": ("Zur Tabelle (dieselben Angaben)", "Skip to the table (the same facts)"),
    "calendar_download": (
        "In den Kalender übernehmen (iCalendar, mit den Programmpunkten, deren Zeit bekannt ist)",
        "Add to your calendar (iCalendar, with the programme items whose time is known)",
    ),
    "releases_feed": ("Neue Veröffentlichungen (Atom-Feed)", "New releases (Atom feed)"),
    "timeline": ("Zeitleiste", "Timeline"),
    "timeline_intro": (
        "Die Veranstaltungen der Fördermaßnahme in der Zeit: Daten so genau, wie die Quellen "
        "sie nennen; wo keine Quelle einen Tag nennt, steht das dabei.",
        "The events of the funding measure over time: dates as precise as the sources give "
        "them; where no source gives a day, that is said.",
    ),
    "timeline_desc": (
        "Zeitachse nach Jahren; jeder Punkt ist eine Veranstaltung, jedes Band eine Reihe über "
        "mehrere Wochen. Dieselben Angaben stehen in der Liste darunter.",
        "Time axis by year; each dot is an event, each band a series over several weeks. The "
        "list below holds the same facts.",
    ),
    "date_unknown": ("Datum nicht überliefert", "date not known"),
    "undated": ("Ohne bekanntes Datum", "Without a known date"),
    "narrow_down": ("Eingrenzen", "Narrow down"),
    "facet_kind": ("Art", "Kind"),
    "facet_theme": ("Thema", "Theme"),
    "facet_event": ("Veranstaltung", "Event"),
    "facet_year": ("Jahr", "Year"),
    "facet_organisation": ("Organisation", "Organisation"),
    "chosen_filters": ("Gewählte Filter", "Chosen filters"),
    "remove_filter": ("Filter entfernen", "Remove filter"),
    "more_values": ("weitere", "more"),
    "no_matches": ("Keine Einträge für diese Auswahl.", "No entries for this selection."),
    "download_csv_semicolon": (
        "mit Semikolon, für Excel mit deutschen Einstellungen",
        "semicolon-separated, for Excel with German settings",
    ),
    "download_csv": (
        "Liste als CSV (für Tabellenkalkulationen)",
        "List as CSV (for spreadsheets)",
    ),
    "home": ("Startseite", "Home"),
    "browse": ("Stöbern", "Browse"),
    "search": ("Suche", "Search"),
    "search_label": ("Suche in allen Texten", "Search all texts"),
    "search_button": ("Suchen", "Search"),
    "search_placeholder": (
        "z. B. Dehne, Mobilität",
        "e.g. Dehne, mobility",
    ),
    "query": ("Abfragen (SPARQL)", "Query (SPARQL)"),
    "vocabulary": ("Vokabular", "Vocabulary"),
    "shapes": ("Shapes", "Shapes"),
    "themes": ("Themen", "Themes"),
    "downloads": ("Downloads", "Downloads"),
    "catalog": ("Katalog (DCAT)", "Catalogue (DCAT)"),
    "language": ("Sprache", "Language"),
    "other_language": ("English", "Deutsch"),
    "main_nav": ("Hauptnavigation", "Main navigation"),
    "properties": ("Angaben", "Facts"),
    "incoming": ("Verweise auf diese Seite", "Links to this page"),
    "sources": ("Quellen", "Sources"),
    "sources_intro": (
        "Die Angaben auf dieser Seite stützen sich auf diese öffentlichen Quellen:",
        "The facts on this page rest on these public sources:",
    ),
    "machine_readable": ("Maschinenlesbar", "Machine-readable"),
    "iri": ("IRI (dauerhafte Adresse)", "IRI (persistent address)"),
    "rdf_forms": ("Diese Beschreibung als", "This description as"),
    "sparql_about": (
        "Abfrage zu dieser Ressource im SPARQL-Editor",
        "Query about it in the SPARQL editor",
    ),
    "programme": ("Programm", "Programme"),
    "time": ("Zeit", "Time"),
    "item": ("Programmpunkt", "Programme item"),
    "speakers": ("Vortragende", "Speakers"),
    "project": ("Projekt", "Project"),
    "no_time": ("ohne Zeitangabe", "time not known"),
    "oclock": ("Uhr", ""),
    "yes": ("ja", "yes"),
    "no": ("nein", "no"),
    "part_of": ("Teil von", "Part of"),
    "more": ("Weitere Angaben", "More facts"),
    "page": ("Seite", "Page"),
    "of": ("von", "of"),
    "previous": ("Vorherige Seite", "Previous page"),
    "next": ("Nächste Seite", "Next page"),
    "pagination": ("Seitennavigation", "Pagination"),
    "all_kinds": ("Alle Arten von Einträgen", "All kinds of entries"),
    "named_graph": ("Benannter Graph", "Named graph"),
    "graph_name": ("Name des Graphen", "Name of the graph"),
    "graph_dump": ("Download (TriG)", "Download (TriG)"),
    "graph_query": ("Abfragen", "Query"),
    "graph_query_link": (
        "Die ersten 100 Tripel im SPARQL-Editor",
        "The first 100 triples in the SPARQL editor",
    ),
    "graph_forms": ("Diese Beschreibung als RDF", "This description as RDF"),
    "results_for": ("Ergebnisse für", "Results for"),
    "no_results": ("Nichts gefunden.", "Nothing found."),
    "search_hint": (
        "Gesucht wird in allem, was die Seiten zeigen (Namen, Titel, Beschreibungen, Regionen, "
        "Vortragende, Themen), auf Deutsch und Englisch; Umlaute dürfen fehlen oder als ae, oe, "
        "ue geschrieben sein, und in Wörtern ab fünf Buchstaben darf einer falsch sein "
        "(Mobilitat, Mobilitaet und Mobilitet finden Mobilität).",
        "Searches everything the pages show (names, titles, descriptions, regions, speakers, "
        "themes), in German and English; accents may be left out, and words of five letters or "
        "more may have one letter wrong (Mobilitat, Mobilitaet and Mobilitet find Mobilität).",
    ),
    "not_found_title": ("Diese Adresse kennen wir nicht", "We do not know this address"),
    "not_found_text": (
        "Unter dieser Adresse ist im Wissensgraphen nichts beschrieben. Vielleicht hilft die "
        "Suche, oder einer der Einstiege unten.",
        "Nothing is described at this address in the knowledge graph. The search may help, or "
        "one of the entry points below.",
    ),
    "did_you_mean": ("Meinten Sie vielleicht:", "Did you perhaps mean:"),
    "gone_title": ("Diese Ressource wurde entfernt", "This resource was removed"),
    "gone_text": (
        "Die Ressource stand früher im Wissensgraphen und wurde daraus entfernt.",
        "This resource used to be in the knowledge graph and was removed from it.",
    ),
    "removed_on": ("Entfernt am", "Removed on"),
    "reason": ("Grund", "Reason"),
    "not_acceptable_title": ("Dieses Format bieten wir nicht an", "We do not offer this format"),
    "not_acceptable_text": (
        "Die Ressource gibt es als HTML-Seite und in diesen RDF-Formaten:",
        "The resource is available as an HTML page and in these RDF formats:",
    ),
    "bad_request_title": ("Diese Anfrage verstehen wir nicht", "We do not understand this request"),
    "about_dataset": ("Über diesen Datensatz", "About this dataset"),
    "featured_event": ("Programm vom", "Programme of"),
    "series_events": ("Die Veranstaltungen der Reihe", "The events of the series"),
    "other_conferences": (
        "Weitere Konferenzen der Fördermaßnahme",
        "Other conferences of the measure",
    ),
    "projects": ("Projekte", "Projects"),
    "people": ("Personen", "People"),
    "organisations": ("Organisationen", "Organisations"),
    "key_messages": ("Die sechs Kernbotschaften", "The six key messages"),
    "top_themes": ("Themenbereiche", "Subject areas"),
    "use_the_data": ("Die Daten nutzen", "Use the data"),
    "use_sparql": (
        "Fragen in SPARQL stellen, mit Beispielabfragen",
        "Ask questions in SPARQL, with example queries",
    ),
    "use_dumps": (
        "Den ganzen Graphen herunterladen (Turtle, N-Triples, JSON-LD, TriG, N-Quads)",
        "Download the whole graph (Turtle, N-Triples, JSON-LD, TriG, N-Quads)",
    ),
    "use_catalog": (
        "Metadaten für Datenportale (DCAT-AP.de) und VoID",
        "Metadata for data portals (DCAT-AP.de) and VoID",
    ),
    "use_vocabulary": (
        "Das Vokabular: Klassen und Eigenschaften",
        "The vocabulary: classes and properties",
    ),
    "use_shapes": (
        "Die Regeln, nach denen die Daten geprüft werden (SHACL)",
        "The rules the data is checked against (SHACL)",
    ),
    "use_themes": ("Das Themenschema als Baum", "The theme scheme as a tree"),
    "licence_note": (
        "Daten: CC BY 4.0. Jede Angabe nennt ihre öffentliche Quelle.",
        "Data: CC BY 4.0. Every fact names its public source.",
    ),
    "all_of_kind": ("Alle anzeigen", "Show all"),
    "version": ("Version", "Version"),
    "classes": ("Klassen", "Classes"),
    "object_properties": ("Eigenschaften", "Properties"),
    "contents": ("Inhalt", "Contents"),
    "metadata": ("Metadaten", "Metadata"),
    "alignments": ("Abgleich mit bekannten Vokabularen", "Alignments with well-known vocabularies"),
    "subclass_of": ("Unterklasse von", "Subclass of"),
    "subproperty_of": ("Untereigenschaft von", "Subproperty of"),
    "superclass_of": ("Oberklasse von", "Superclass of"),
    "superproperty_of": ("Obereigenschaft von", "Superproperty of"),
    "domain_includes": ("Verwendet bei", "Used on"),
    "range_includes": ("Werte", "Values"),
    "inverse_of": ("Umkehrung von", "Inverse of"),
    "label": ("Bezeichnung", "Label"),
    "type": ("Art", "Type"),
    "comment": ("Erläuterung", "Comment"),
    "namespace": ("Namensraum", "Namespace"),
    "prefix": ("Präfix", "Prefix"),
    "licence": ("Lizenz", "Licence"),
    "term_iri": ("IRI", "IRI"),
    "node_shapes": ("Shapes für Klassen", "Shapes for classes"),
    "value_shapes": ("Wiederverwendbare Shapes", "Reusable shapes"),
    "target_class": ("Gilt für", "Applies to"),
    "iri_pattern": ("Form der IRI", "Form of the IRI"),
    "constraint": ("Regel", "Rule"),
    "path": ("Eigenschaft", "Property"),
    "message": ("Meldung", "Message"),
    "severity": ("Schwere", "Severity"),
    "sparql_constraint": ("SPARQL-Regel", "SPARQL rule"),
    "scheme_tree": ("Begriffe als Baum", "Concepts as a tree"),
    "expand_all": ("Alle aufklappen", "Expand all"),
    "in_scheme": ("Im Themenschema", "In the theme scheme"),
    "hierarchy": ("Einordnung", "Position in the hierarchy"),
    "narrower_count": ("Unterbegriffe", "narrower concepts"),
    "hash_parts": ("Teile dieser Beschreibung", "Parts of this description"),
    "untitled": ("(ohne Titel)", "(untitled)"),
}


# The well-known terms' names are data (rdf/term_labels.ttl), shared with the workbook.
TERMS: dict[str, tuple[str, str]] = term_labels()

# Headings for incoming links: how a resource is named from the other end of a property.
INVERSE: dict[str, tuple[str, str]] = {
    "def#presentsProject": ("Vorträge zu diesem Projekt", "talks on this project"),
    "def#speaker": ("Vorträge dieser Person", "talks by this person"),
    "def#panelist": ("Podiumsdiskussionen mit dieser Person", "panels with this person"),
    "def#moderator": ("Moderiert", "moderated"),
    "def#theme": ("Zu diesem Thema", "on this theme"),
    "def#keyMessage": ("Veranstaltungen zu dieser Kernbotschaft", "events on this key message"),
    "def#fundingMeasure": ("Geförderte Vorhaben", "funded projects"),
    "def#accompanies": ("Begleitet von", "accompanied by"),
    "def#partOfProgramme": ("Fördermaßnahmen in diesem Programm", "funding measures in it"),
    "def#projectManagementAgency": ("Betreut als Projektträger", "managed as agency"),
    "def#partner": ("Partner in Projekten", "partner in projects"),
    "def#coordinator": ("Leitet oder koordiniert", "leads or coordinates"),
    "def#projectLeader": ("Leitet Projekte", "leads projects"),
    SCHEMA + "affiliation": ("Personen dieser Organisation", "people of this organisation"),
    SCHEMA + "alumniOf": ("Frühere Mitglieder", "former members"),
    SCHEMA + "parentOrganization": ("Untergliederungen", "sub-organisations"),
    SCHEMA + "funder": ("Fördert", "funds"),
    SCHEMA + "member": ("Mitglied in", "member of"),
    SCHEMA + "memberOf": ("Mitglieder", "members"),
    SCHEMA + "organizer": ("Richtete aus", "organised"),
    SCHEMA + "about": ("Handeln davon", "about this"),
    SCHEMA + "superEvent": ("Programm", "programme"),
    SKOS + "broader": ("Unterbegriffe", "narrower concepts"),
    SKOS + "inScheme": ("Begriffe", "concepts"),
    SKOS + "topConceptOf": ("Oberste Begriffe", "top concepts"),
    DCTERMS + "isReplacedBy": ("Ersetzt", "replaces"),
    DCTERMS + "subject": ("Zu diesem Thema", "on this subject"),
    DCTERMS + "creator": ("Erstellt", "created"),
    DCTERMS + "publisher": ("Herausgegeben", "published"),
    DCTERMS + "conformsTo": ("Folgen diesem Vokabular", "conform to this"),
    DCTERMS + "isVersionOf": ("Versionen", "versions"),
    DCAT + "servesDataset": ("Bereitgestellt von", "served by"),
    DCAT + "dataset": ("Im Katalog", "in catalogue"),
    DCAT + "distribution": ("Distribution von", "distribution of"),
    VOID + "exampleResource": ("Als Beispiel genannt in", "listed as an example in"),
    VOID + "rootResource": ("Ausgangspunkt des Datensatzes", "root resource of"),
    VOID + "subjectsTarget": ("Verknüpfungen", "linksets"),
    VOID + "objectsTarget": ("Verknüpft von", "linked from"),
}
_INVERSE_ORDER = {key: rank for rank, key in enumerate(INVERSE)}


MONTHS = {
    "de": (
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}


def _index(lang: str) -> int:
    return 0 if lang == "de" else 1


MESSAGES.update(PUBLISHING_MESSAGES)


def message(key: str, lang: str) -> str:
    """A word of the pages in ``lang``; an unknown key is shown as itself, never an error."""
    pair = MESSAGES.get(key)
    return pair[_index(lang)] if pair else key


def term_name(iri: str, lang: str) -> str | None:
    pair = TERMS.get(iri)
    return pair[_index(lang)] if pair else None


def inverse_name(iri: str, vocab_namespace: str, lang: str) -> str | None:
    key = "def#" + iri[len(vocab_namespace) :] if iri.startswith(vocab_namespace) else iri
    pair = INVERSE.get(key)
    return pair[_index(lang)] if pair else None


def inverse_rank(iri: str, vocab_namespace: str) -> int:
    """Incoming links in the order of :data:`INVERSE` (talks before panels), others last."""
    key = "def#" + iri[len(vocab_namespace) :] if iri.startswith(vocab_namespace) else iri
    return _INVERSE_ORDER.get(key, len(_INVERSE_ORDER))


def kind_name(kind: str, lang: str, plural: bool = False) -> str:
    names = KIND_NAMES.get(kind)
    if names is None:
        return kind
    return names[1 if plural else 0][_index(lang)]


# Words that follow a number: (singular, plural) per language, in LANGUAGES order.
COUNTED: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "entries": (("Eintrag", "Einträge"), ("entry", "entries")),
}


def number(value: object, lang: str) -> str:
    """A whole number with its thousands grouped as the language writes them: 1.618 in German,
    1,618 in English. A float is written with the language's decimal mark (2,5 s in German;
    10.0 as 10). Anything else is written as it is."""
    if isinstance(value, float):
        if value.is_integer():
            value = int(value)
        else:
            text = f"{value:g}"
            return text.replace(".", ",") if lang == "de" else text
    try:
        whole = int(str(value))
    except ValueError:
        return str(value)
    grouped = f"{whole:,}"
    return grouped.replace(",", ".") if lang == "de" else grouped


def count(value: int, key: str, lang: str) -> str:
    """A number and the word it counts, singular or plural: "1 Eintrag", "2 entries"."""
    singular, plural = COUNTED[key][_index(lang)]
    return f"{number(value, lang)} {singular if value == 1 else plural}"


# Names of properties for a row that shows more than one value ("Vortragende", not
# "Vortragende Person", over two speakers), in LANGUAGES order. Keys are local names of our
# vocabulary (``def#speaker``) or full IRIs.
PLURAL_NAMES: dict[str, tuple[str, str]] = {
    "def#speaker": ("Vortragende", "Speakers"),
    "def#panelist": ("Teilnehmende am Podium", "Panellists"),
    "def#moderator": ("Moderation", "Moderators"),
    "def#partner": ("Partner", "Partners"),
    "def#coordinator": ("Koordination", "Coordinators"),
    "def#projectLeader": ("Projektleitung", "Project leaders"),
    "def#theme": ("Themen", "Themes"),
    "def#keyMessage": ("Kernbotschaften", "Key messages"),
    "def#presentsProject": ("Stellt Projekte vor", "Presents projects"),
    "http://schema.org/member": ("Mitglieder", "Members"),
    "http://schema.org/affiliation": ("Zugehörigkeiten", "Affiliations"),
    "http://schema.org/organizer": ("Veranstaltende", "Organisers"),
    "http://schema.org/funder": ("Gefördert von", "Funders"),
}


def plural_name(iri: str, vocab_namespace: str, lang: str) -> str | None:
    """The name of a property over several values, where the singular would read wrong."""
    key = "def#" + iri[len(vocab_namespace) :] if iri.startswith(vocab_namespace) else iri
    names = PLURAL_NAMES.get(key)
    return names[_index(lang)] if names else None
