"""The releases as an Atom feed (RFC 4287): ``/releases.atom``.

Whoever follows the dataset subscribes once and hears of every new release: one entry per
release of the release folder, in the order of ``/dumps/`` and ``graphs/CHANGELOG.md`` (the one
made current last first, ``ReleaseFolder.all``), each saying what the changelog says, from the
same place: the release manifest (``changes``, written by the build when it compares the new
release with the previous one; nothing is compared here) and the folder's history of when each
release became current.

* feed: ``id`` the feed's public URL, title and subtitle in German (``xml:lang="de"``), in
  English with ``?lang=en`` or ``Accept-Language`` as the pages choose; ``updated`` the newest
  entry's; the publisher of the configuration as author; ``self`` and ``alternate``
  (``/dumps/``) links;
* entry: ``id`` the release's own IRI (the DCAT dataset of that version,
  ``{base}id/dataset/{slug}-{version}``: permanent, and the same in both languages),
  ``title`` version and build date, ``published`` the build time, ``updated`` when it last
  became current (a release made current again, after a revert, comes first again, as in the
  changelog), ``link`` to its files (``/dumps/{version}/``); ``summary`` (text) the triple count
  and +added / -removed triples against the previous release; ``content`` (HTML) the same and
  which resources are new, changed and removed, by name and linked to their pages, at most
  :data:`MAX_NAMED` in all, then "and N more".

WHY ``xml.etree`` and not ``feedgen``: an Atom feed is a dozen elements; feedgen (last release
1.0.0, December 2023) would bring lxml and python-dateutil into the server's dependencies, and
its defaults would have to be undone (entries are prepended unless told otherwise, a missing
``updated`` becomes the time of the request, its own ``generator``). The standard library
writes exactly these elements, escaped, and the tests read them back with ``feedparser``.

The folder is the one the served release lives in, also under ``serve --store`` (whose release
must be in ``graphs/`` too, see ``publication.open_remote_store``): the store itself keeps only
the releases of a grace period, the folder all of them. A folder that holds only the served
release gives a feed of one entry; ad-hoc files (``serve FILES``) are no release: 404.
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Blueprint, Response, abort

from kommunen_kg import __version__
from kommunen_kg.config import Config
from kommunen_kg.rdf.namespaces import ProjectIRIs
from kommunen_kg.rdf.release import CHANGELOG, Release, ReleaseFolder
from kommunen_kg.web import i18n, site
from kommunen_kg.web.display import date_words

bp = Blueprint("feed", __name__)

MEDIA_TYPE = "application/atom+xml; charset=utf-8"
ATOM = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
FEED_PATH = "/releases.atom"
# How many changed resources an entry names; the rest are counted.
MAX_NAMED = 50

# The words of the feed, (German, English); the changes are worded as on /dumps/.
TEXTS: dict[str, tuple[str, str]] = {
    "title": ("{title} – Veröffentlichungen", "{title} – releases"),
    "subtitle": (
        "Jede Veröffentlichung des Wissensgraphen und was sie geändert hat, die neueste zuerst.",
        "Every release of the knowledge graph and what it changed, the newest first.",
    ),
    "entry": ("Version {version} vom {date}", "Version {version} of {date}"),
    "triples": ("{n} Tripel im Wissensgraphen", "{n} triples in the knowledge graph"),
    "again": ("erneut aktuell seit {date}", "made current again on {date}"),
    "more": ("und {n} weitere", "and {n} more"),
    "files": ("Dateien dieser Version", "Files of this release"),
    "changelog": ("Änderungsprotokoll", "Changelog"),
}
# The groups of changed resources, in the order they are named, and their words on /dumps/.
GROUPS = (("added", "pub_added"), ("changed", "pub_changed"), ("removed", "pub_removed"))


def text(key: str, lang: str) -> str:
    return TEXTS[key][0 if lang == "de" else 1]


@dataclass(frozen=True)
class Resource:
    """A changed resource as the feed names it: its name and page, if it still has them."""

    name: str
    url: str | None


def rfc3339(stamp: str) -> str:
    """A time of the release folder (``2026-12-06T00:11:36Z``) as Atom writes it, in UTC."""
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _named_changes(changes: dict, lang: str, describe: Callable[[str], Resource]) -> list[str]:
    """HTML paragraphs naming the new, changed and removed resources, at most MAX_NAMED."""
    budget = MAX_NAMED
    paragraphs = []
    for key, label in GROUPS:
        iris = list(changes.get(key) or [])
        if not iris:
            continue
        shown = iris[:budget]
        budget -= len(shown)
        links = []
        for iri in shown:
            found = describe(iri) if key != "removed" else Resource(iri, None)
            name = html.escape(found.name)
            links.append(f'<a href="{html.escape(found.url)}">{name}</a>' if found.url else name)
        rest = len(iris) - len(shown)
        if rest and shown:
            links.append(html.escape(text("more", lang).format(n=i18n.number(rest, lang))))
        heading = f"{html.escape(i18n.message(label, lang))} ({i18n.number(len(iris), lang)})"
        # once MAX_NAMED are named, a group is only counted
        paragraphs.append(
            f"<p>{heading}: " + ", ".join(links) + "</p>" if links else f"<p>{heading}</p>"
        )
    return paragraphs


def _sentences(release: Release, again: str | None, lang: str) -> list[str]:
    """What the changelog says of a release, in plain sentences."""
    manifest = release.manifest
    changes = manifest.get("changes") or {}
    triples = manifest.get("counts", {}).get("knowledge_graph")
    said = []
    if triples is not None:
        said.append(text("triples", lang).format(n=i18n.number(triples, lang)))
    if again:
        said.append(text("again", lang).format(date=again))
    if changes.get("previous"):
        said.append(
            i18n.message("pub_against", lang).format(
                previous=changes["previous"],
                added=i18n.number(changes.get("added_triples", 0), lang),
                removed=i18n.number(changes.get("removed_triples", 0), lang),
            )
        )
    else:
        said.append(i18n.message("pub_first_release", lang))
    return said


def release_feed(
    config: Config,
    releases: list[Release],
    history: list[tuple[str, str]],
    lang: str,
    public: Callable[..., str],
    describe: Callable[[str], Resource],
) -> bytes:
    """The Atom document of ``releases`` (newest first), in ``lang``.

    ``history``: (version, when it became current), oldest first (``ReleaseFolder.history``);
    ``public(path, **params)``: the public URL of one of our paths; ``describe(iri)``: the
    name and page of a resource named in a release's changes."""
    since = dict(history)
    times_current = Counter(version for version, _ in history)
    iris = ProjectIRIs.from_config(config)
    title = config.dataset.title_de if lang == "de" else config.dataset.title_en

    # Tags without namespace under an xmlns attribute: ElementTree's default_namespace refuses
    # attributes without one (rel, href), which Atom's are.
    feed = ET.Element("feed", {"xmlns": ATOM, XML_LANG: lang})
    ET.SubElement(feed, "id").text = public(FEED_PATH)
    ET.SubElement(feed, "title").text = text("title", lang).format(title=title)
    ET.SubElement(feed, "subtitle").text = text("subtitle", lang)
    updated = ET.SubElement(feed, "updated")
    for rel, href, media_type in (
        ("self", public(FEED_PATH, lang=lang), "application/atom+xml"),
        ("alternate", public("/dumps/", lang=lang), "text/html"),
    ):
        ET.SubElement(feed, "link", {"rel": rel, "href": href, "type": media_type})
    author = ET.SubElement(feed, "author")
    ET.SubElement(author, "name").text = config.publisher.name
    if config.publisher.url:
        ET.SubElement(author, "uri").text = config.publisher.url
    ET.SubElement(feed, "generator", {"version": __version__}).text = "kommunen-kg"

    newest = None
    for release in releases:
        version = release.version
        became_current = rfc3339(since.get(version, release.created))
        newest = max(newest or became_current, became_current)
        again = None
        if times_current.get(version, 0) > 1:
            again = date_words(since[version], lang)
        entry = ET.SubElement(feed, "entry")
        ET.SubElement(entry, "id").text = iris.release(version)
        ET.SubElement(entry, "title").text = text("entry", lang).format(
            version=version, date=date_words(release.created, lang)
        )
        ET.SubElement(entry, "published").text = rfc3339(release.created)
        ET.SubElement(entry, "updated").text = became_current
        dumps = public(f"/dumps/{version}/", lang=lang)
        ET.SubElement(entry, "link", {"rel": "alternate", "href": dumps, "type": "text/html"})
        sentences = _sentences(release, again, lang)
        ET.SubElement(entry, "summary").text = "; ".join(sentences) + "."
        changes = release.manifest.get("changes") or {}
        body = [f"<p>{html.escape(s)}.</p>" for s in sentences]
        body += _named_changes(changes, lang, describe)
        body.append(
            f'<p><a href="{html.escape(dumps)}">{html.escape(text("files", lang))}</a> · '
            f'<a href="{html.escape(public("/dumps/" + CHANGELOG))}">'
            f"{html.escape(text('changelog', lang))}</a></p>"
        )
        ET.SubElement(entry, "content", {"type": "html"}).text = "\n".join(body)
    updated.text = newest or rfc3339(datetime.now(UTC).isoformat())
    ET.indent(feed)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


@bp.get(FEED_PATH)
def releases_atom() -> Response:
    """Every release of the folder the served release lives in, newest first."""
    pub = site.publication()
    if pub.release is None:
        abort(404, description="ad-hoc files are no release: there is no release feed")
    folder = ReleaseFolder(pub.release.path.parent.parent)
    releases = folder.all()
    if pub.release.version not in {r.version for r in releases}:
        releases.insert(0, pub.release)
    who = site.reader()
    index, addresses, terms = site.index(), site.addresses(), site.terms()

    def describe(iri: str) -> Resource:
        entry = index.get(iri)
        page = addresses.page_url(iri)
        if entry is not None:
            name = entry.label(who.lang)
        elif iri in terms.labels:  # a term of the vocabulary (def#moderator)
            name = terms.name(iri, who.lang)
        else:  # no longer in the release
            name = iri.removeprefix(addresses.base)
        if page is None:
            return Resource(name, None)
        path, _, fragment = page.partition("#")
        url = site.public(path, lang=who.lang) + (f"#{fragment}" if fragment else "")
        return Resource(name, url)

    body = release_feed(pub.config, releases, folder.history(), who.lang, site.public, describe)
    response = Response(body, content_type=MEDIA_TYPE)
    response.headers["Content-Language"] = who.lang
    if not who.explicit:
        response.vary.add("Accept-Language")
    return response
