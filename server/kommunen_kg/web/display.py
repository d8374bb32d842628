"""Values as a reader expects to see them: dates in words, times with their clock, short links.

Dates stay in the time zone the source gave them (the conference's local time): a talk at
"2020-11-11T10:00:00+01:00" is shown as 11. November 2020, 10:00 Uhr, never converted.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

import pyoxigraph as ox

from kommunen_kg.rdf.namespaces import XSD
from kommunen_kg.web import i18n

_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_TIME = re.compile(r"T(\d{2}):(\d{2})")


def date_words(value: str, lang: str) -> str:
    """'2020-11-11' -> '11. November 2020' (de) / '11 November 2020' (en); also for
    dateTime, gYearMonth ('2016-06' -> 'Juni 2016') and gYear."""
    match = _DATE.match(value)
    if match:
        year, month, day = match.groups()
        name = i18n.MONTHS[lang][int(month) - 1]
        return f"{int(day)}. {name} {year}" if lang == "de" else f"{int(day)} {name} {year}"
    match = re.match(r"^(\d{4})-(\d{2})$", value)
    if match:
        return f"{i18n.MONTHS[lang][int(match.group(2)) - 1]} {match.group(1)}"
    return value


def clock(value: str, lang: str) -> str | None:
    """'2020-11-11T10:00:00+01:00' -> '10:00 Uhr' (de) / '10:00' (en); None without a time."""
    match = _TIME.search(value)
    if not match:
        return None
    text = f"{match.group(1)}:{match.group(2)}"
    return f"{text} Uhr" if lang == "de" else text


def short_clock(value: str | None) -> str | None:
    match = _TIME.search(value or "")
    return f"{match.group(1)}:{match.group(2)}" if match else None


def literal_text(literal: ox.Literal, lang: str) -> str:
    datatype = literal.datatype.value
    value = literal.value
    if datatype in (XSD + "date", XSD + "gYearMonth", XSD + "gYear"):
        return date_words(value, lang)
    if datatype == XSD + "dateTime":
        time = clock(value, lang)
        return f"{date_words(value, lang)}, {time}" if time else date_words(value, lang)
    if datatype == XSD + "boolean":
        return i18n.message("yes" if value in ("true", "1") else "no", lang)
    return value


def short_url(url: str) -> str:
    """A web address as people read it: host and path, without scheme or trailing slash."""
    parts = urlsplit(url)
    if not parts.netloc:
        return url
    host = parts.netloc.removeprefix("www.")
    path = unquote(parts.path).rstrip("/")
    text = host + path
    return text if len(text) <= 70 else text[:67] + "…"
