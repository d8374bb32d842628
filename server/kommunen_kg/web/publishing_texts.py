"""The words of the download, catalog and VoID pages, in German and English.

They join the other words of the pages in :mod:`i18n` under ``pub_`` keys (``t('pub_release')``
in the templates); the reader's language is chosen as for every page (:func:`site.reader`).
"""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "de": {
        "dumps_title": "Downloads",
        "dumps_intro": (
            "Jede Veröffentlichung des Wissensgraphen hat eigene Download-Adressen, die sich "
            "nie ändern. Die Größen und SHA-256-Prüfsummen stehen auch im Manifest jeder "
            "Veröffentlichung und im DCAT-Katalog."
        ),
        "latest_policy": (
            "/dumps/latest/DATEI leitet (302 Found) zur gleichen Datei der Veröffentlichung "
            "weiter, die dieser Server ausliefert. So verweisen Caches und Prüfsummen immer auf "
            "eine unveränderliche Adresse (mit curl: curl -L)."
        ),
        "gzip_note": (
            ".gz-Dateien werden als application/gzip ausgeliefert, ohne Content-Encoding: "
            "gespeichert werden sie so, wie die Prüfsumme sie beschreibt."
        ),
        "no_release": "Kein Release",
        "adhoc": (
            "Dieser Server veröffentlicht lose RDF-Dateien ({n}), keine mit kommunen-kg build "
            "erzeugte Veröffentlichung. Downloads, Katalog und VoID gibt es nur für "
            "Veröffentlichungen."
        ),
        "release": "Version",
        "current": "aktuell ausgeliefert",
        "created": "erstellt",
        "triples": "Tripel",
        "file": "Datei",
        "format": "Format",
        "size": "Größe (Bytes)",
        "sha256": "SHA-256",
        "changes": "Änderungen",
        "first_release": "erste Veröffentlichung",
        "against": "gegenüber {previous}: +{added} / −{removed} Tripel",
        "added": "neu",
        "removed": "entfernt",
        "changed": "geändert",
        "source": "Quellstand",
        "manifest": "Manifest",
        "changelog": "Änderungsprotokoll (Markdown)",
        "all_releases": "Alle Veröffentlichungen",
        "as_json": "als JSON",
        "catalog": "DCAT-AP.de-Katalog",
        "void": "VoID-Beschreibung",
        "sparql": "SPARQL-Endpunkt",
        "catalog_title": "Katalog",
        "dataset": "Datensatz",
        "distributions": "Distributionen",
        "service": "Datendienst",
        "license": "Lizenz",
        "publisher": "Herausgeber",
        "contact": "Kontakt",
        "keywords": "Schlagwörter",
        "themes": "Kategorien",
        "period": "Zeitraum",
        "modified": "geändert",
        "issued": "veröffentlicht",
        "media_type": "Medientyp",
        "download": "Download",
        "endpoint": "Endpunkt",
        "rdf_forms": "Als RDF",
        "void_title": "VoID-Beschreibung",
        "statistics": "Statistik",
        "entities": "Entitäten",
        "classes": "Klassen",
        "properties": "Eigenschaften",
        "linksets": "Linksets",
        "link_target": "Ziel",
        "link_predicate": "Link-Prädikat",
        "links": "Links",
        "vocabularies": "Vokabulare",
        "uri_space": "URI-Raum",
        "class": "Klasse",
        "property": "Eigenschaft",
        "language": "Sprache",
        "other_language": "English",
    },
    "en": {
        "dumps_title": "Downloads",
        "dumps_intro": (
            "Every release of the knowledge graph has its own download URLs that never change. "
            "Sizes and SHA-256 checksums are also in each release's manifest and in the DCAT "
            "catalog."
        ),
        "latest_policy": (
            "/dumps/latest/FILE redirects (302 Found) to the same file of the release this "
            "server publishes, so that caches and checksums always refer to one immutable URL "
            "(with curl: curl -L)."
        ),
        "gzip_note": (
            ".gz files are served as application/gzip, without Content-Encoding: they are saved "
            "exactly as their checksum describes them."
        ),
        "no_release": "No release",
        "adhoc": (
            "This server publishes loose RDF files ({n}), not a release built with kommunen-kg "
            "build. Downloads, the catalog and VoID exist only for releases."
        ),
        "release": "Release",
        "current": "served now",
        "created": "created",
        "triples": "triples",
        "file": "File",
        "format": "Format",
        "size": "Size (bytes)",
        "sha256": "SHA-256",
        "changes": "Changes",
        "first_release": "first release",
        "against": "against {previous}: +{added} / −{removed} triples",
        "added": "new",
        "removed": "removed",
        "changed": "changed",
        "source": "source version",
        "manifest": "manifest",
        "changelog": "changelog (Markdown)",
        "all_releases": "All releases",
        "as_json": "as JSON",
        "catalog": "DCAT-AP.de catalog",
        "void": "VoID description",
        "sparql": "SPARQL endpoint",
        "catalog_title": "Catalog",
        "dataset": "Dataset",
        "distributions": "Distributions",
        "service": "Data service",
        "license": "Licence",
        "publisher": "Publisher",
        "contact": "Contact",
        "keywords": "Keywords",
        "themes": "Themes",
        "period": "Period",
        "modified": "modified",
        "issued": "issued",
        "media_type": "Media type",
        "download": "Download",
        "endpoint": "Endpoint",
        "rdf_forms": "As RDF",
        "void_title": "VoID description",
        "statistics": "Statistics",
        "entities": "entities",
        "classes": "classes",
        "properties": "properties",
        "linksets": "Linksets",
        "link_target": "target",
        "link_predicate": "link predicate",
        "links": "links",
        "vocabularies": "Vocabularies",
        "uri_space": "URI space",
        "class": "Class",
        "property": "Property",
        "language": "Language",
        "other_language": "Deutsch",
    },
}
