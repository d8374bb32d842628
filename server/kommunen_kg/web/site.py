"""The frame every page shares: the reader's language, links, and rendering.

Each language has its own URL (``?lang=de``, ``?lang=en``), linked with ``hreflang`` so that
crawlers see both; without the parameter, ``Accept-Language`` chooses, and the answer says so
with ``Vary: Accept-Language``. Once a reader has chosen a language with the switch, the links
of the page keep it.

Pages are rendered from the publication, which never changes while it is served, so the same
request always gives the same bytes: the HTTP layer can derive an ETag from the body.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

from flask import Response, abort, current_app, render_template, request

from kommunen_kg.web import i18n
from kommunen_kg.web.addresses import Addresses
from kommunen_kg.web.display import date_words
from kommunen_kg.web.publication import Publication
from kommunen_kg.web.resource_index import INDEX_FILE, ResourceIndex, load_index, open_index, usable
from kommunen_kg.web.terms import Terms, load_terms

CACHE_KEY = "kommunen_kg.views"
T = TypeVar("T")


def publication() -> Publication:
    from kommunen_kg.web.publication import publication_of

    return publication_of(current_app)


def cached(name: str, make: Callable[[], T]) -> T:
    """A value computed once per application (one application serves one publication)."""
    store: dict[str, Any] = current_app.extensions.setdefault(CACHE_KEY, {})
    if name not in store:
        store[name] = make()
    return store[name]


def terms() -> Terms:
    pub = publication()
    return cached("terms", lambda: load_terms(pub.trusted, pub.iris))


def index() -> ResourceIndex:
    """The release's index: the file ``build`` wrote beside its dumps, else one built here
    from the store (a release built before, ``serve --store``)."""
    pub = publication()

    def make() -> ResourceIndex:
        if pub.release is not None and usable(pub.release.path / INDEX_FILE):
            return open_index(pub.release.path / INDEX_FILE)
        return load_index(pub.trusted, pub.config.base_iri, pub.iris.vocab)

    return cached("index", make)


def addresses() -> Addresses:
    return Addresses(publication().config.base_iri)


@dataclass(frozen=True)
class Reader:
    """The reader's language and whether they chose it (``?lang``) or their browser did."""

    lang: str
    explicit: bool


def reader() -> Reader:
    asked = request.args.get("lang")
    if asked is not None:
        if asked not in i18n.LANGUAGES:
            abort(
                400,
                description=f"lang must be one of: {', '.join(i18n.LANGUAGES)} "
                f"(lang muss eines davon sein: {', '.join(i18n.LANGUAGES)})",
            )
        return Reader(asked, True)
    best = request.accept_languages.best_match(i18n.LANGUAGES, default=i18n.DEFAULT_LANGUAGE)
    return Reader(best or i18n.DEFAULT_LANGUAGE, False)


def fallback_reader() -> Reader:
    """The reader's language when the request itself is faulty (never refuses)."""
    asked = request.args.get("lang")
    if asked in i18n.LANGUAGES:
        return Reader(asked, True)
    best = request.accept_languages.best_match(i18n.LANGUAGES, default=i18n.DEFAULT_LANGUAGE)
    return Reader(best or i18n.DEFAULT_LANGUAGE, False)


def root() -> str:
    return request.script_root


def href(path: str, who: Reader | None = None, **params: Any) -> str:
    """A link to one of our pages that keeps a chosen language."""
    who = who or reader()
    fragment = ""
    if "#" in path:
        path, fragment = path.split("#", 1)
        fragment = "#" + fragment
    query = {k: v for k, v in params.items() if v is not None}
    if who.explicit:
        query["lang"] = who.lang
    return root() + path + (("?" + urlencode(query)) if query else "") + fragment


def public(path: str, **params: Any) -> str:
    """The absolute public URL of one of our paths (for canonical, hreflang, the sitemap)."""
    base = publication().config.public_url
    query = {k: v for k, v in params.items() if v is not None}
    return base + same_site_path(path).lstrip("/") + (("?" + urlencode(query)) if query else "")


def language_urls(path: str, **params: Any) -> dict[str, str]:
    """The public URL of ``path`` in each language, and the negotiated one (x-default)."""
    urls = {lang: public(path, **params, lang=lang) for lang in i18n.LANGUAGES}
    urls["x-default"] = public(path, **params)
    return urls


def same_site_path(path: str) -> str:
    """``path`` as a link that stays on this site, whatever a client put into it.

    A browser reads ``\\`` as ``/``, and a link starting ``//`` names another host: the path of
    a request for ``/%5Cevil.example`` or ``//evil.example``, written back into a page as it
    came, would send readers off-site. Percent-encoding keeps every character but ``/`` and the
    ones a path may carry as they are, and a second leading slash is encoded.
    """
    encoded = quote(path, safe="/@!$&'()*+,;=:-._~")
    if encoded.startswith("//"):
        encoded = "/%2F" + encoded[2:]
    return encoded


def switch_url(who: Reader) -> str:
    """This page in the other language."""
    other = "en" if who.lang == "de" else "de"
    params = {k: v for k, v in request.args.items() if k != "lang"}
    params["lang"] = other
    return root() + same_site_path(request.path) + "?" + urlencode(params)


def render(template: str, status: int = 200, who: Reader | None = None, **context: Any):
    """Renders a page in the reader's language with everything the frame needs."""
    who = who or reader()
    pub = publication()
    context.setdefault("canonical", public(request.path, **_canonical_params(who)))
    body = render_template(
        template,
        lang=who.lang,
        reader=who,
        t=lambda key: i18n.message(key, who.lang),
        href=lambda path, **params: href(path, who, **params),
        link_to=lambda iri: href(addresses().page_url(iri) or iri, who),
        date=lambda value: date_words(value, who.lang) if value else "",
        kind_plural=lambda kind: i18n.kind_name(kind, who.lang, plural=True),
        kind_singular=lambda kind: i18n.kind_name(kind, who.lang),
        num=lambda value: i18n.number(value, who.lang),
        term_name=lambda iri: i18n.term_name(iri, who.lang),
        counted=lambda value, key: i18n.count(value, key, who.lang),
        switch_url=switch_url(who),
        other_lang="en" if who.lang == "de" else "de",
        config=pub.config,
        **context,
    )
    response = Response(body, status=status, content_type="text/html; charset=utf-8")
    response.headers["Content-Language"] = who.lang
    if not who.explicit:
        response.vary.add("Accept-Language")
    return response


def _canonical_params(who: Reader) -> dict[str, str]:
    params = {k: v for k, v in request.args.items() if k != "lang"}
    params["lang"] = who.lang
    return params
