"""Percent-decoding and URL-encoded forms (``application/x-www-form-urlencoded``, query strings).

WHY not ``urllib.parse`` alone: a SPARQL query sent by GET is percent-encoded nearly character
by character (a client quotes every space, brace and angle bracket), and urllib decodes it in
Python, one ``%XX`` at a time: 15-17 us of a 300 us cold lookup for a 300-character query
(bench/README.md). :func:`percent_decoded` hands the same work to CPython's own C decoder of
``\\xXX`` escapes (``codecs.escape_decode``, which pickle relies on) in about 1.7 us, and falls
back to urllib for a text with a ``%`` that starts no escape, so that every input decodes
exactly as urllib decodes it (tests/test_http_forms.py compares the two). No library on PyPI
was worth a dependency for this: those with a C percent-decoder (yarl) come with an HTTP
client's worth of packages.
"""

from __future__ import annotations

import codecs
from urllib.parse import unquote_to_bytes


def percent_decoded(raw: bytes) -> bytes:
    """``raw`` with every ``%XX`` replaced by its byte; a ``%`` that starts no such escape
    stays as it is (as ``urllib.parse.unquote_to_bytes`` leaves it)."""
    if b"%" not in raw:
        return raw
    # After the backslashes are doubled, the only escapes the C decoder meets are ``\\`` (a
    # backslash of the text) and ``\x`` (a percent sign of it).
    try:
        return codecs.escape_decode(raw.replace(b"\\", b"\\\\").replace(b"%", b"\\x"))[0]
    except ValueError:  # a "%" followed by anything but two hex digits
        return unquote_to_bytes(raw)


def form_pairs(raw: bytes) -> list[tuple[str, str]]:
    """The name-value pairs of a URL-encoded form or query string, as
    ``urllib.parse.parse_qsl(raw.decode(), keep_blank_values=True, errors="strict")`` reads
    them: pairs separated by ``&``, empty ones skipped, a name without ``=`` has the value
    ``""``, ``+`` is a space. Raises :class:`UnicodeDecodeError` when the text, or what its
    escapes stand for, is not UTF-8 (werkzeug would replace such bytes, and so change the
    query)."""
    raw.decode("utf-8")  # the text itself must be UTF-8, escapes aside
    pairs = []
    for piece in raw.split(b"&"):
        if not piece:
            continue
        name, _, value = piece.partition(b"=")
        pairs.append(
            (
                percent_decoded(name.replace(b"+", b" ")).decode("utf-8"),
                percent_decoded(value.replace(b"+", b" ")).decode("utf-8"),
            )
        )
    return pairs
