"""Where each IRI of the graph is answered on this server, and back.

Every IRI under the base has the same path on any host that serves the release: the thing
``{base}id/talk/x`` is answered at ``/id/talk/x``; its page (for people) lives at
``/page/talk/x`` and its description (for machines) at ``/data/talk/x.ttl`` and the other RDF
forms. The two documents outside ``id/`` (the vocabulary ``{base}def`` and the shapes
``{base}shapes``) follow the same pattern: ``/def`` -> ``/page/def``, ``/data/def.ttl``. Hash
IRIs (``{base}def#Talk``) are answered by their document, as the web does for fragments.

Keeping this mapping in one place lets every view, the sitemap and the tests agree on it.
"""

from __future__ import annotations

from dataclasses import dataclass

# Documents whose IRI is not under id/: their "local path" is their name.
DOCUMENTS: tuple[str, ...] = ("def", "shapes")


@dataclass(frozen=True)
class Addresses:
    """Maps IRIs under ``base`` to local paths and to the URLs of their page and data."""

    base: str

    def local_path(self, iri: str) -> str | None:
        """``id/talk/x``, ``def`` or ``shapes`` for an IRI under the base (fragment dropped);
        None for any other IRI."""
        document = iri.split("#", 1)[0]
        if not document.startswith(self.base):
            return None
        rest = document[len(self.base) :]
        if rest in DOCUMENTS:
            return rest
        if rest.startswith("id/") and len(rest) > 3:
            return rest
        return None

    def iri(self, local_path: str) -> str:
        """The IRI of a local path (``id/talk/x`` -> ``{base}id/talk/x``)."""
        return self.base + local_path

    @staticmethod
    def view_path(local_path: str) -> str:
        """The part after ``/page/`` and ``/data/``: ``talk/x`` for ``id/talk/x``, ``def``."""
        return local_path[3:] if local_path.startswith("id/") else local_path

    @staticmethod
    def local_path_of_view(view_path: str) -> str:
        """Inverse of :meth:`view_path`."""
        return view_path if view_path in DOCUMENTS else "id/" + view_path

    def document(self, iri: str) -> str:
        """The IRI without its fragment: what a client dereferences."""
        return iri.split("#", 1)[0]

    def fragment(self, iri: str) -> str:
        return iri.split("#", 1)[1] if "#" in iri else ""

    def id_url(self, iri: str) -> str | None:
        """The path that answers the IRI itself (``/id/talk/x``, ``/def#Talk``)."""
        local = self.local_path(iri)
        if local is None:
            return None
        fragment = self.fragment(iri)
        return "/" + local + (f"#{fragment}" if fragment else "")

    def page_url(self, iri: str) -> str | None:
        """The HTML page of an IRI under the base (with its fragment as an anchor)."""
        local = self.local_path(iri)
        if local is None:
            return None
        fragment = self.fragment(iri)
        return "/page/" + self.view_path(local) + (f"#{fragment}" if fragment else "")

    def data_url(self, iri: str, extension: str | None = None) -> str | None:
        """The RDF description of an IRI under the base, in one form or negotiated."""
        local = self.local_path(iri)
        if local is None:
            return None
        return "/data/" + self.view_path(local) + (f".{extension}" if extension else "")

    def kind(self, iri: str) -> str | None:
        """The kind of a thing (``talk`` for ``{base}id/talk/x``), the document name otherwise."""
        local = self.local_path(iri)
        if local is None:
            return None
        if local in DOCUMENTS:
            return local
        return local.split("/")[1]
