"""Headers that keep browsers from misreading our answers or showing them inside other sites.

Every response says ``X-Content-Type-Options: nosniff`` (a browser must not guess a script or a
page from a dump or an error text), ``Referrer-Policy: strict-origin-when-cross-origin`` (links
to other sites learn our origin, not the query a reader typed) and ``frame-ancestors 'none'``
(with ``X-Frame-Options: DENY`` for older browsers): no other site may frame our pages and
overlay them. A full Content-Security-Policy for scripts and styles waits for the query editor's
inline script and styles to move into files.
"""

from __future__ import annotations

from flask import Response

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
}


def harden(response: Response) -> Response:
    """Adds the headers above where a view did not set its own."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response
