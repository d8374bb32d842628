"""The views' own queries read the same on every SPARQL 1.1 store (issue 15).

A boolean a query projects (``BIND(EXISTS {...} AS ?x)``) comes back as ``"true"`` from
Oxigraph and as ``"1"^^xsd:integer`` from Virtuoso; a view that compared it with ``"true"``
answered 404 for every resource there. The views ask with ASK instead, or bind values and test
them with BOUND; EXISTS stays inside FILTER, where every store evaluates it to the same rows.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

WEB = Path(__file__).parents[1] / "server" / "kommunen_kg" / "web"
EXISTS = re.compile(r"\bEXISTS\b")
IN_A_FILTER = re.compile(r"FILTER\s*\(?\s*(?:NOT\s+)?$", re.IGNORECASE)


@pytest.mark.parametrize("path", sorted(WEB.rglob("*.py")), ids=lambda p: p.name)
def test_a_view_tests_existence_only_inside_a_filter(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for match in EXISTS.finditer(text):
        before = text[max(0, match.start() - 40) : match.start()]
        assert IN_A_FILTER.search(before), f"{path.name}: EXISTS outside FILTER: {before!r}"
