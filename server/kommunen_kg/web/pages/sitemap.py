"""``/sitemap.xml`` and ``/robots.txt``: how crawlers find every page, in both languages.

The sitemap lists every page (home, browse, every resource, the vocabulary and the shapes, the
downloads, the catalog, the VoID description and the query editor) in each language at its
public URL, each entry with ``xhtml:link`` alternates for the other language and ``x-default``
(the negotiated URL), as search engines ask for multilingual sites. The catalog and VoID
answer RDF to a client without a preference, so their pages are listed with ``format=html``,
the URL that is HTML for every client (and that their pages name as canonical).

``robots.txt`` points to the sitemap and keeps crawlers off the query endpoint and the search,
whose URLs are endless, except for the editor's own page in each language: RFC 9309 lets the
longer ``Allow`` with ``$`` (end of URL) win over the shorter ``Disallow``.

``/favicon.ico`` is the other file clients ask for at the root uninvited: a browser does on
every page that names no icon (the query editor's), and a 404 there is an error in its
console. It answers with a redirect to the site's icon.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from flask import Blueprint, Response, redirect, url_for

from kommunen_kg.web import i18n, site
from kommunen_kg.web.pages.routes import PAGE_SIZE

bp = Blueprint("sitemap", __name__)

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
XHTML_NS = "http://www.w3.org/1999/xhtml"


# The pages beside the resources: downloads, harvesting metadata, the query editor.
OTHER_PAGES: list[tuple[str, dict[str, str]]] = [
    ("/dumps/", {}),
    ("/catalog", {"format": "html"}),
    ("/.well-known/void", {"format": "html"}),
    ("/sparql", {}),
]
# The editor's page in each language and negotiated; every other /sparql URL runs a query.
EDITOR_URLS = ("/sparql$", "/sparql?lang=de$", "/sparql?lang=en$")


def page_paths() -> list[tuple[str, dict[str, str]]]:
    """Every page as (path, query parameters other than the language)."""
    index = site.index()
    addresses = site.addresses()
    paths: list[tuple[str, dict[str, str]]] = [("/", {}), ("/browse", {})]
    paths += OTHER_PAGES
    for kind, count in sorted(index.kinds().items()):
        pages = (count + PAGE_SIZE - 1) // PAGE_SIZE
        paths.append((f"/browse/{kind}", {}))
        paths += [(f"/browse/{kind}", {"page": str(n)}) for n in range(2, pages + 1)]
    pages = {addresses.page_url(iri) for iri in index.iris()}
    paths += [(p, {}) for p in sorted(p for p in pages if p)]
    return paths


@bp.route("/sitemap.xml", methods=["GET", "HEAD"])
def sitemap() -> Response:
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<urlset xmlns="{SITEMAP_NS}" xmlns:xhtml="{XHTML_NS}">',
    ]
    for path, params in page_paths():
        urls = site.language_urls(path, **params)
        alternates = [
            f'    <xhtml:link rel="alternate" hreflang="{lang}" href={quoteattr(url)}/>'
            for lang, url in urls.items()
        ]
        for lang in i18n.LANGUAGES:
            lines.append("  <url>")
            lines.append(f"    <loc>{escape(urls[lang])}</loc>")
            lines += alternates
            lines.append("  </url>")
    lines.append("</urlset>")
    return Response("\n".join(lines) + "\n", content_type="application/xml; charset=utf-8")


@bp.route("/robots.txt", methods=["GET", "HEAD"])
def robots() -> Response:
    text = "\n".join(
        [
            "User-agent: *",
            # Most specific first, for older parsers that take the first match.
            *(f"Allow: {url}" for url in EDITOR_URLS),
            "Disallow: /sparql",
            "Disallow: /search",
            "Allow: /",
            f"Sitemap: {site.public('/sitemap.xml')}",
            "",
        ]
    )
    return Response(text, content_type="text/plain; charset=utf-8")


@bp.route("/favicon.ico", methods=["GET", "HEAD"])
def favicon() -> Response:
    return redirect(url_for("static", filename="favicon.svg"), 301)
