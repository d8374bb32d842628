"""``/sitemap.xml`` and ``/robots.txt``: how crawlers find every page, in both languages.

The sitemap lists every page (home, browse, every resource, the vocabulary and the shapes) in
each language at its public URL, each entry with ``xhtml:link`` alternates for the other
language and ``x-default`` (the negotiated URL), as search engines ask for multilingual
sites. ``robots.txt`` points to it and keeps crawlers off the query endpoint and the search,
whose URLs are endless.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from flask import Blueprint, Response

from . import i18n, site
from .pages import PAGE_SIZE

bp = Blueprint("sitemap", __name__)

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
XHTML_NS = "http://www.w3.org/1999/xhtml"


def page_paths() -> list[tuple[str, dict[str, str]]]:
    """Every page as (path, query parameters other than the language)."""
    index = site.index()
    addresses = site.addresses()
    paths: list[tuple[str, dict[str, str]]] = [("/", {}), ("/browse", {})]
    for kind, count in sorted(index.kinds().items()):
        pages = (count + PAGE_SIZE - 1) // PAGE_SIZE
        paths.append((f"/browse/{kind}", {}))
        paths += [(f"/browse/{kind}", {"page": str(n)}) for n in range(2, pages + 1)]
    pages = {addresses.page_url(iri) for iri in index.entries}
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
            "Allow: /",
            "Disallow: /sparql",
            "Disallow: /search",
            f"Sitemap: {site.public('/sitemap.xml')}",
            "",
        ]
    )
    return Response(text, content_type="text/plain; charset=utf-8")
