"""Headers that keep browsers from misreading our answers, running what others wrote into our pages
or showing them inside other sites. This module is the one place they are set.

Every response says ``X-Content-Type-Options: nosniff`` (a browser must not guess a script or a
page from a dump or an error text), ``Referrer-Policy: strict-origin-when-cross-origin`` (links
to other sites learn our origin, not the query a reader typed) and ``frame-ancestors 'none'``
(with ``X-Frame-Options: DENY`` for older browsers): no other site may frame our pages and
overlay them.

HTML pages get a full Content-Security-Policy (:data:`PAGE_POLICY`). Our pages carry no inline
script, style or event handler (the editor's code and every stylesheet are files under
``static/``; JSON-LD and the editor's settings are data blocks, which no policy blocks), so
whatever an answer, a link or stored state manages to smuggle into a page cannot run, cannot
load anything from another host or send anything there, and cannot post a form elsewhere. The
query editor shows answers of arbitrary content, so this is its second line of defence after
rendering them as text. Other answers (RDF, JSON, dumps, files) keep just ``frame-ancestors
'none'``: browsers show them with their own viewers, which a script policy would only get in
the way of.
"""

from __future__ import annotations

from flask import Response

from kommunen_kg.web.http.fields import add_missing

#: ``<style>`` elements the bundled YASGUI inserts, all of fixed text: the column resizer of
#: YASR's table adds its grip rules when it draws a table, and ``*{cursor:col-resize!important}``
#: while a column is being dragged wider. A hash admits exactly that text and nothing else. They
#: change only with the bundle; a test recomputes them from ``static/yasgui/yasgui.min.js``.
YASGUI_STYLE_ELEMENT_HASHES = (
    "'sha256-zCK2EVMoPc04mRF/g5CotUvxbJPWS+8V0b+s9ptqQIk='",
    "'sha256-c0O6TmFAkgpNbHxKAa1BrveWHHopjEtC47i0PzMudxg='",
)

#: The one ``style`` attribute YASGUI writes in markup: the syntax-error tooltip of the query
#: field underlines each expected token with ``<strong style='text-decoration:underline'>``.
YASGUI_STYLE_ATTRIBUTE_HASHES = ("'sha256-EntWS0hFrz2vH7susM+dPUxvHlL6sBswmM8K80E5oUk='",)

#: The policy of every HTML page, one directive per need:
#:
#: * ``default-src 'self'``: scripts, stylesheets, fonts and images from this server only; no
#:   inline script, event handler, ``javascript:`` URL or ``eval``.
#: * ``style-src-elem``: our stylesheets, and the ``<style>`` elements above, no others.
#: * ``style-src-attr``: the one ``style`` attribute above, no others (``'unsafe-hashes'`` is
#:   what lets a hash name an attribute; it admits nothing without a matching hash). Styles
#:   that scripts set through ``element.style``, as CodeMirror and DataTables do, need nothing.
#: * ``img-src 'self' data:``: CodeMirror gives a ``data:`` GIF as the drag image when text is
#:   dragged in the query field; a ``data:`` image loads nothing from anywhere.
#: * ``connect-src 'self'``: the editor's requests reach this server's endpoint only.
#: * ``form-action 'self'``: a form smuggled into a page cannot post a password elsewhere.
#: * ``frame-ancestors 'none'``: no other site frames our pages.
#: * ``base-uri 'none'``: no ``<base>`` that re-roots relative links and script URLs (this
#:   directive does not fall back to ``default-src``).
#: * ``object-src 'none'``: no plugin content, not even from this server.
PAGE_POLICY = "; ".join(
    (
        "default-src 'self'",
        " ".join(("style-src-elem 'self'", *YASGUI_STYLE_ELEMENT_HASHES)),
        " ".join(("style-src-attr 'unsafe-hashes'", *YASGUI_STYLE_ATTRIBUTE_HASHES)),
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)

#: Answers that are no HTML page: browsers show them with their own viewers.
OTHER_POLICY = "frame-ancestors 'none'"

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})

#: The headers of every answer that is no HTML page; ``front.py`` sends them with its own plain
#: text answers too. :func:`harden` gives HTML pages :data:`PAGE_POLICY` instead.
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Content-Security-Policy": OTHER_POLICY,
    "X-Frame-Options": "DENY",
}


def policy_for(mimetype: str | None) -> str:
    """The Content-Security-Policy for an answer of this media type (without parameters)."""
    return PAGE_POLICY if (mimetype or "").lower() in HTML_TYPES else OTHER_POLICY


def fields_for(mimetype: str | None) -> list[tuple[str, str]]:
    """The fields an answer of this media type gets where its view set none of that name."""
    return [("Content-Security-Policy", policy_for(mimetype)), *HEADERS.items()]


def harden(response: Response, have: set[str] | None = None) -> Response:
    """Adds the headers above where a view did not set its own, the policy by media type
    (``have``: the names the response has, lower case, when the caller knows them)."""
    add_missing(response, fields_for(response.mimetype), have)
    return response
