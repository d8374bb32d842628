"""Adding header fields to a response where it has none of that name, in one pass.

WHY: werkzeug's ``Headers`` answers ``name in headers`` and ``setdefault`` by raising and
catching an exception when the name is missing, and ``set`` scans every field; the layer adds
about a dozen fields to every answer this way, which cost about a tenth of a cold SPARQL
request's Python time (profile in bench/README.md). Here the names present are read once.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Response


def present(response: Response) -> set[str]:
    """The names of the fields ``response`` has, lower case."""
    return {name.lower() for name in response.headers.keys()}  # noqa: SIM118 - Headers


def add_missing(
    response: Response, fields: Iterable[tuple[str, str]], have: set[str] | None = None
) -> set[str]:
    """Adds each field whose name ``response`` lacks; returns the names it has now."""
    have = present(response) if have is None else have
    for name, value in fields:
        key = name.lower()
        if key not in have:
            response.headers.add(name, value)
            have.add(key)
    return have
