"""The words of the download, catalog and VoID pages, in German and English.

In the shape of every other word of the pages (``i18n.MESSAGES``: key -> (German, English)),
under ``pub_`` keys (``t('pub_release')`` in the templates); i18n merges them in, and the
reader's language is chosen as for every page (``site.reader``).
"""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    "pub_dumps_title": (
        "Downloads",
        "Downloads",
    ),
    "pub_dumps_intro": (
        (
            "Jede Veröffentlichung des Wissensgraphen hat eigene Download-Adressen, die sich nie "
            "ändern. Die Größen und SHA-256-Prüfsummen stehen auch im Manifest jeder "
            "Veröffentlichung und im DCAT-Katalog."
        ),
        (
            "Every release of the knowledge graph has its own download URLs that never change. "
            "Sizes and SHA-256 checksums are also in each release's manifest and in the DCAT "
            "catalog."
        ),
    ),
    "pub_latest_policy": (
        (
            "/dumps/latest/DATEI leitet (302 Found) zur gleichen Datei der Veröffentlichung "
            "weiter, die dieser Server ausliefert. So verweisen Caches und Prüfsummen immer auf "
            "eine unveränderliche Adresse (mit curl: curl -L)."
        ),
        (
            "/dumps/latest/FILE redirects (302 Found) to the same file of the release this server "
            "publishes, so that caches and checksums always refer to one immutable URL (with curl: "
            "curl -L)."
        ),
    ),
    "pub_gzip_note": (
        (
            ".gz-Dateien werden als application/gzip ausgeliefert, ohne Content-Encoding: "
            "gespeichert werden sie so, wie die Prüfsumme sie beschreibt."
        ),
        (
            ".gz files are served as application/gzip, without Content-Encoding: they are saved "
            "exactly as their checksum describes them."
        ),
    ),
    "pub_no_release": (
        "Kein Release",
        "No release",
    ),
    "pub_adhoc": (
        (
            "Dieser Server veröffentlicht lose RDF-Dateien ({n}), keine mit kommunen-kg build "
            "erzeugte Veröffentlichung. Downloads, Katalog und VoID gibt es nur für "
            "Veröffentlichungen."
        ),
        (
            "This server publishes loose RDF files ({n}), not a release built with kommunen-kg "
            "build. Downloads, the catalog and VoID exist only for releases."
        ),
    ),
    "pub_release": (
        "Version",
        "Release",
    ),
    "pub_current": (
        "aktuell ausgeliefert",
        "served now",
    ),
    "pub_created": (
        "erstellt",
        "created",
    ),
    "pub_triples": (
        "Tripel",
        "triples",
    ),
    "pub_file": (
        "Datei",
        "File",
    ),
    "pub_format": (
        "Format",
        "Format",
    ),
    "pub_size": (
        "Größe (Bytes)",
        "Size (bytes)",
    ),
    "pub_sha256": (
        "SHA-256",
        "SHA-256",
    ),
    "pub_changes": (
        "Änderungen",
        "Changes",
    ),
    "pub_first_release": (
        "erste Veröffentlichung",
        "first release",
    ),
    "pub_against": (
        "gegenüber {previous}: +{added} / −{removed} Tripel",
        "against {previous}: +{added} / −{removed} triples",
    ),
    "pub_added": (
        "neu",
        "new",
    ),
    "pub_removed": (
        "entfernt",
        "removed",
    ),
    "pub_changed": (
        "geändert",
        "changed",
    ),
    "pub_source": (
        "Quellstand",
        "source version",
    ),
    "pub_manifest": (
        "Manifest",
        "manifest",
    ),
    "pub_changelog": (
        "Änderungsprotokoll (Markdown)",
        "changelog (Markdown)",
    ),
    "pub_all_releases": (
        "Alle Veröffentlichungen",
        "All releases",
    ),
    "pub_as_json": (
        "als JSON",
        "as JSON",
    ),
    "pub_catalog": (
        "DCAT-AP.de-Katalog",
        "DCAT-AP.de catalog",
    ),
    "pub_void": (
        "VoID-Beschreibung",
        "VoID description",
    ),
    "pub_sparql": (
        "SPARQL-Endpunkt",
        "SPARQL endpoint",
    ),
    "pub_catalog_title": (
        "Katalog",
        "Catalog",
    ),
    "pub_dataset": (
        "Datensatz",
        "Dataset",
    ),
    "pub_distributions": (
        "Distributionen",
        "Distributions",
    ),
    "pub_service": (
        "Datendienst",
        "Data service",
    ),
    "pub_license": (
        "Lizenz",
        "Licence",
    ),
    "pub_publisher": (
        "Herausgeber",
        "Publisher",
    ),
    "pub_contact": (
        "Kontakt",
        "Contact",
    ),
    "pub_keywords": (
        "Schlagwörter",
        "Keywords",
    ),
    "pub_themes": (
        "Kategorien",
        "Themes",
    ),
    "pub_period": (
        "Zeitraum",
        "Period",
    ),
    "pub_modified": (
        "Geändert",
        "Modified",
    ),
    "pub_issued": (
        "Veröffentlicht",
        "Issued",
    ),
    "pub_issued_modified": (
        "Veröffentlicht / geändert",
        "Issued / modified",
    ),
    "pub_media_type": (
        "Medientyp",
        "Media type",
    ),
    "pub_download": (
        "Download",
        "Download",
    ),
    "pub_endpoint": (
        "Endpunkt",
        "Endpoint",
    ),
    "pub_rdf_forms": (
        "Als RDF",
        "As RDF",
    ),
    "pub_void_title": (
        "VoID-Beschreibung",
        "VoID description",
    ),
    "pub_statistics": (
        "Statistik",
        "Statistics",
    ),
    "pub_entities": (
        "Entitäten",
        "entities",
    ),
    "pub_classes": (
        "Klassen",
        "classes",
    ),
    "pub_properties": (
        "Eigenschaften",
        "properties",
    ),
    "pub_linksets": (
        "Linksets",
        "Linksets",
    ),
    "pub_link_target": (
        "Ziel",
        "target",
    ),
    "pub_link_predicate": (
        "Link-Prädikat",
        "link predicate",
    ),
    "pub_links": (
        "Links",
        "links",
    ),
    "pub_vocabularies": (
        "Vokabulare",
        "Vocabularies",
    ),
    "pub_uri_space": (
        "URI-Raum",
        "URI space",
    ),
    "pub_class": (
        "Klasse",
        "Class",
    ),
    "pub_property": (
        "Eigenschaft",
        "Property",
    ),
    "pub_language": (
        "Sprache",
        "Language",
    ),
    "pub_other_language": (
        "English",
        "Deutsch",
    ),
}
