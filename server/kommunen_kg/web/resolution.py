"""From a requested path to the resource it names, or to the right refusal.

Every view of a resource (``/id/...``, ``/page/...``, ``/data/...``) starts here: the path
names an IRI; the IRI is present (answer it), moved (301 to the same view of its new IRI),
removed (410 Gone, with when and why) or unknown (404 with a page that helps). The documents
``/def`` and ``/shapes`` are present when their named graph is.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

import pyoxigraph as ox
from flask import abort, redirect, request

from kommunen_kg.web import problems, site
from kommunen_kg.web.addresses import DOCUMENTS
from kommunen_kg.web.describe import Description, describe, document_exists, status

DOCUMENT_GRAPHS = {"def": "vocabulary", "shapes": "shapes"}


@dataclass(frozen=True)
class Resolved:
    iri: str
    local_path: str
    graph: str | None  # the named graph that is the whole document (def, shapes)

    def describe(self) -> Description:
        return describe(site.publication().trusted, self.iri, self.graph)


def _moved_to(new_iri: str, view: str, extension: str | None) -> str:
    addresses = site.addresses()
    if addresses.local_path(new_iri) is None:
        return new_iri  # moved out of our space: the new IRI answers for itself
    if view == "id":
        target = addresses.id_url(new_iri)
    elif view == "page":
        target = addresses.page_url(new_iri)
        if request.args:
            target += "?" + urlencode(list(request.args.items(multi=True)))
    else:
        target = addresses.data_url(new_iri, extension)
    return site.root() + (target or "")


def _valid_iri(iri: str) -> bool:
    try:
        ox.NamedNode(iri)
    except ValueError:
        return False
    return True


def resolve(local_path: str, view: str, extension: str | None = None) -> Resolved:
    """The resource at ``local_path`` (``id/talk/x``, ``def``), or aborts with 301/404/410."""
    pub = site.publication()
    addresses = site.addresses()
    iri = addresses.iri(local_path)
    if local_path in DOCUMENTS:
        graph = pub.iris.graph(DOCUMENT_GRAPHS[local_path])
        if document_exists(pub.trusted, graph):
            return Resolved(iri, local_path, graph)
    if addresses.local_path(iri) != local_path or not _valid_iri(iri):
        abort(problems.not_found(iri))
    found = status(pub.trusted, iri)
    if found.state == "present":
        return Resolved(iri, local_path, None)
    if found.state == "moved":
        abort(redirect(_moved_to(found.replaced_by or "", view, extension), 301))
    if found.state == "gone":
        abort(problems.gone(iri, found))
    abort(problems.not_found(iri))
