"""The downloads: every release's dump files at URLs that never change, and a listing of them.

``/dumps/{version}/{file}`` serves a file of any release in ``graphs/releases/`` (not only the
one loaded into the store): a release folder is never changed once written, so these answers
are cached as ``immutable`` and carry the file's SHA-256 (from the manifest) as their ETag.
``/dumps/latest/{file}`` redirects (302 Found) to the same file of the release this server
publishes: clients and caches then hold one immutable URL per file, and a checksum always
refers to a versioned URL. ``/dumps/`` lists every release, newest first, with format, size,
triple count and SHA-256 of each file and what changed, as HTML or JSON.

Media types: ``.nt.gz`` and ``.nq.gz`` are served as ``application/gzip`` *without*
``Content-Encoding``. They are gzip files to be saved as they are: with ``Content-Encoding:
gzip``, browsers and HTTP libraries would unpack them on the fly, so that the saved file no
longer matched its name, its size or its published SHA-256, and byte ranges would refer to the
packed bytes while the client counts unpacked ones. In DCAT, the same file is
``dcat:mediaType`` N-Triples with ``dcat:compressFormat`` gzip (see ``build/metadata.py``).

The text dumps are not compressed on the fly either (they are streamed from disk with their
exact length and ranges); the gzip dumps are the compressed downloads.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    request,
    send_file,
    url_for,
)

from kommunen_kg.rdf.dumps import DATASET_DUMPS, GRAPH_DUMPS
from kommunen_kg.rdf.release import (
    CHANGELOG,
    DUMP_STEM,
    MANIFEST,
    METADATA_FILES,
    Release,
    ReleaseFolder,
)
from kommunen_kg.web import site
from kommunen_kg.web.http import negotiation
from kommunen_kg.web.http.layer import IMMUTABLE, SHORT
from kommunen_kg.web.publication import Publication

bp = Blueprint("downloads", __name__)

LATEST = "latest"
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def _publication() -> Publication:
    from kommunen_kg.web.publication import publication_of

    return publication_of(current_app)


def _folder() -> ReleaseFolder | None:
    """The release folder the served release lives in (None when serving ad-hoc files)."""
    release = _publication().release
    return ReleaseFolder(release.path.parent.parent) if release else None


def _release(version: str) -> Release:
    folder = _folder()
    if folder is None or not _VERSION.match(version):
        abort(404)
    release = _publication().release if version == LATEST else folder.read(version)
    if release is None:
        abort(404)
    return release


def file_format(name: str) -> tuple[str, str]:
    """(label, media type of the content) of a release file, from its name."""
    if name in METADATA_FILES:
        fmt = METADATA_FILES[name]
        return f"{fmt.label}: metadata (DCAT-AP.de, VoID, PROV)", fmt.media_type
    if name == MANIFEST:
        return "JSON: manifest", "application/json"
    for fmt in (*GRAPH_DUMPS, *DATASET_DUMPS):
        if name == DUMP_STEM + fmt.suffix:
            return fmt.label, fmt.media_type
    return "file", "application/octet-stream"


def served_media_type(name: str) -> str:
    """The Content-Type a file is served with: gzip files as application/gzip (see above)."""
    if name.endswith(".gz"):
        return "application/gzip"
    return file_format(name)[1]


def _created(release: Release) -> datetime:
    return datetime.fromisoformat(release.created.replace("Z", "+00:00"))


def _release_entry(release: Release, current: str | None) -> dict[str, Any]:
    manifest = release.manifest
    files = []
    for f in release.files:
        label, media_type = file_format(f["name"])
        files.append(
            {
                "name": f["name"],
                "url": url_for(
                    "downloads.file", version=release.version, name=f["name"], _external=True
                ),
                "format": label,
                "media_type": media_type,
                "served_as": served_media_type(f["name"]),
                "size": f["size"],
                "sha256": f["sha256"],
                "triples": f["triples"],
            }
        )
    return {
        "version": release.version,
        "created": release.created,
        "current": release.version == current,
        "url": url_for("downloads.release", version=release.version, _external=True),
        "manifest": url_for(
            "downloads.file", version=release.version, name=MANIFEST, _external=True
        ),
        "triples": manifest.get("counts", {}).get("knowledge_graph"),
        "source_version": manifest.get("source_version"),
        "changes": manifest.get("changes") or {},
        "files": files,
    }


def _listing(releases: list[Release], single: bool) -> Response:
    publication = _publication()
    current = publication.release.version if publication.release else None
    entries = [_release_entry(r, current) for r in releases]
    wants = negotiation.choose(
        request.headers.get("Accept"), (negotiation.HTML, negotiation.JSON_DOCUMENT)
    )
    if request.args.get("format") == "json" or wants is negotiation.JSON_DOCUMENT:
        response = jsonify(
            latest=current,
            latest_url=url_for("downloads.release", version=LATEST, _external=True),
            latest_policy="redirect: /dumps/latest/{file} answers 302 Found to the file of the "
            "release this server publishes",
            releases=entries,
        )
    else:
        response = site.render(
            "publish/dumps.html",
            releases=entries,
            current=current,
            single=single,
            adhoc=publication.release is None,
            sources=len(publication.sources),
            alternates=site.language_urls(request.path),
        )
    response.vary.add("Accept")
    return response


@bp.get("/dumps/")
def listing() -> Response:
    """Every release, newest first; in ad-hoc mode, a page saying there is none."""
    folder = _folder()
    return _listing(folder.all() if folder else [], single=False)


@bp.get("/dumps/CHANGELOG.md")
def changelog() -> Response:
    folder = _folder()
    path = folder.root / CHANGELOG if folder else None
    if path is None or not path.is_file():
        abort(404)
    return Response(path.read_bytes(), mimetype="text/markdown")


@bp.get("/dumps/<version>/")
def release(version: str) -> Response:
    found = _release(version)
    if version == LATEST:
        response = redirect(url_for("downloads.release", version=found.version), 302)
        response.headers["Cache-Control"] = SHORT
        return response
    return _listing([found], single=True)


@bp.get("/dumps/<version>/<name>")
def file(version: str, name: str) -> Response:
    """A file of a release; ``latest`` redirects to the versioned URL of the current one."""
    found = _release(version)
    entry = next((f for f in found.files if f["name"] == name), None)
    if entry is None and name != MANIFEST:
        abort(404)
    if version == LATEST:
        response = redirect(url_for("downloads.file", version=found.version, name=name), 302)
        response.headers["Cache-Control"] = SHORT
        return response
    path: Path = found.file(name)  # refuses names outside the manifest
    if not path.is_file():
        abort(404)
    response = send_file(
        path,
        mimetype=served_media_type(name),
        conditional=True,
        etag=entry["sha256"] if entry else True,
        last_modified=_created(found),
        max_age=None,
    )
    response.headers["Cache-Control"] = IMMUTABLE
    return response
