"""The example queries of the query editor: the competency questions of the knowledge graph.

They are data of the deployment, not code: plain ``.rq`` files in the folder ``[paths] queries``
of ``kommunen-kg.toml`` names (``data/queries`` here), listed with their German and English
titles in its ``index.toml``, so that a data editor can add one without touching code, and the
tests run every one of them against the real endpoint. The files use prefixed names only; the
PREFIX lines are added here from the configured base IRI, so the same files work for any
deployment. Without such a folder the editor simply offers no examples.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from kommunen_kg.rdf.namespaces import ProjectIRIs

# The prefixes a fresh editor tab starts with, in this order.
EDITOR_PREFIXES = (
    "rdf",
    "rdfs",
    "xsd",
    "schema",
    "skos",
    "dcterms",
    "ki",
    "event",
    "talk",
    "person",
    "organisation",
    "project",
    "funding",
    "theme",
)


@dataclass(frozen=True)
class ExampleQuery:
    slug: str
    title_de: str
    title_en: str
    body: str  # the query without PREFIX lines

    def title(self, lang: str) -> str:
        return self.title_de if lang == "de" else self.title_en

    def text(self, iris: ProjectIRIs) -> str:
        """The runnable query: the PREFIX lines it needs, then the body."""
        return prefix_lines(iris, used_prefixes(self.body, iris)) + "\n" + self.body


def used_prefixes(query: str, iris: ProjectIRIs) -> list[str]:
    """The known prefixes a query text uses, in the order of :meth:`ProjectIRIs.prefixes`."""
    without_comments = re.sub(r"#[^\n]*", "", query)
    return [
        name
        for name in iris.prefixes()
        if re.search(rf"(?<![\w:<]){re.escape(name)}:", without_comments)
    ]


def prefix_lines(iris: ProjectIRIs, names: list[str] | tuple[str, ...]) -> str:
    prefixes = iris.prefixes()
    return "".join(f"PREFIX {name}: <{prefixes[name]}>\n" for name in names if name in prefixes)


def default_query(iris: ProjectIRIs) -> str:
    """What a new editor tab shows: the common prefixes and a small query that always answers."""
    return prefix_lines(iris, EDITOR_PREFIXES) + (
        "\nSELECT ?thing ?type ?name\n"
        "WHERE {\n"
        "  ?thing a ?type ;\n"
        "         schema:name ?name .\n"
        "}\n"
        "LIMIT 20\n"
    )


@cache
def load_examples(folder: Path) -> tuple[ExampleQuery, ...]:
    """Every example of ``folder/index.toml``, in its order (none without the folder). A broken
    index or a missing query file is an error that names the file: a server should not start
    with an editor whose examples silently went missing."""
    index_file = folder / "index.toml"
    if not index_file.is_file():
        return ()
    try:
        index = tomllib.loads(index_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{index_file}: {exc}") from exc
    examples = []
    for entry in index.get("example", []):
        try:
            name = entry["file"]
            examples.append(
                ExampleQuery(
                    slug=name.removesuffix(".rq"),
                    title_de=entry["title_de"],
                    title_en=entry["title_en"],
                    body=(folder / name).read_text(encoding="utf-8"),
                )
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{index_file}: an [[example]] lacks {exc}") from exc
        except OSError as exc:
            raise ValueError(f"{index_file}: {exc.strerror}: {folder / name}") from exc
    return tuple(examples)
