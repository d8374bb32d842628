"""The release folder: versioned, immutable releases and an atomic pointer to the current one.

Layout of ``graphs/``::

    graphs/
      current                 the version being served (a one-line text file)
      releases/<version>/     one folder per release, never changed once written
        manifest.json         version, time, counts, and size + SHA-256 of every file
        kommunen-innovativ.ttl / .nt.gz / .jsonld      the knowledge graph
        kommunen-innovativ.trig / .nq.gz               all content graphs, named
        metadata.trig / .nq.gz                         VoID, DCAT and PROV of the release
      history.jsonl           when each release was made current (one JSON line each time)
      CHANGELOG.md            what each release changed, the current one first

A release is written into a temporary folder beside ``releases/`` and renamed into place only
when every file is on disk; ``current`` is replaced by ``os.replace``. A crash or a failed
validation at any point therefore leaves the previous release, and the pointer to it,
byte-for-byte as they were. The version is derived from the content, so building the same
sources twice yields the same version and the same dump URLs.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kommunen_kg.rdf.dumps import NQUADS_GZ, TRIG

MANIFEST = "manifest.json"
# The files of the knowledge graph are named {DUMP_STEM}.{extension}.
DUMP_STEM = "kommunen-innovativ"
METADATA_FILE = "metadata.trig"
# The metadata graph in N-Quads too, as every other named graph is. It stays a file of its own
# (not a part of the dataset dumps) because it holds their sizes and checksums.
METADATA_NQUADS_FILE = "metadata.nq.gz"
METADATA_FILES = {METADATA_FILE: TRIG, METADATA_NQUADS_FILE: NQUADS_GZ}
CURRENT = "current"
RELEASES = "releases"
CHANGELOG = "CHANGELOG.md"
HISTORY = "history.jsonl"
TMP_PREFIX = ".tmp-"


@dataclass(frozen=True)
class Release:
    """One written release: its folder and its manifest."""

    path: Path
    manifest: dict[str, Any]

    @property
    def version(self) -> str:
        return self.manifest["version"]

    @property
    def created(self) -> str:
        return self.manifest["created"]

    @property
    def files(self) -> list[dict[str, Any]]:
        return self.manifest["files"]

    def file(self, name: str) -> Path:
        """Path of one of the release's files, refusing names that are not in the manifest."""
        if name not in {f["name"] for f in self.files} and name != MANIFEST:
            raise FileNotFoundError(name)
        return self.path / name


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _now_stamp() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _write_file(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


class ReleaseFolder:
    """Reads and writes the releases under one ``graphs/`` folder."""

    def __init__(self, root: Path):
        self.root = Path(root)

    @property
    def releases_dir(self) -> Path:
        return self.root / RELEASES

    def read(self, version: str) -> Release | None:
        if not version or "/" in version or version.startswith("."):
            return None
        path = self.releases_dir / version
        try:
            manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return Release(path, manifest)

    def current(self) -> Release | None:
        try:
            version = (self.root / CURRENT).read_text(encoding="utf-8").strip()
        except OSError:
            return None
        return self.read(version)

    def history(self) -> list[tuple[str, str]]:
        """(version, when it was made current), oldest first. A line a crash cut short is
        skipped."""
        try:
            text = (self.root / HISTORY).read_text(encoding="utf-8")
        except OSError:
            return []
        found = []
        for line in text.splitlines():
            with contextlib.suppress(ValueError, KeyError, TypeError):
                entry = json.loads(line)
                found.append((str(entry["version"]), str(entry["current_since"])))
        return found

    def current_since(self) -> dict[str, str]:
        """For each release made current at least once: the last time it was."""
        return dict(self.history())

    def all(self) -> list[Release]:
        """Every complete release, the one made current last first (a release made current
        again, e.g. after a revert, comes before newer ones it replaced), then by age."""
        if not self.releases_dir.is_dir():
            return []
        found = [self.read(p.name) for p in self.releases_dir.iterdir() if p.is_dir()]
        releases = {r.version: r for r in found if r}

        def lineage(release: Release) -> int:
            # ``created`` has whole seconds: two builds in one second tie. A release comes
            # after the one it was compared with, so the length of its chain of previous
            # releases breaks the tie.
            seen: set[str] = set()
            while release.version not in seen:
                seen.add(release.version)
                previous = (release.manifest.get("changes") or {}).get("previous")
                if previous not in releases:
                    break
                release = releases[previous]
            return len(seen)

        since = self.current_since()
        return sorted(
            releases.values(),
            key=lambda r: (since.get(r.version, r.created), r.created, lineage(r), r.version),
            reverse=True,
        )

    def clean_stale(self) -> None:
        """Removes what a crashed build left behind: temporary release folders, and the
        temporary files of ``current`` and the changelog (a kill between writing one and
        renaming it leaves a file, which ``rmtree`` would not remove)."""
        if self.root.is_dir():
            for p in self.root.glob(TMP_PREFIX + "*"):
                if p.is_dir() and not p.is_symlink():
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    with contextlib.suppress(OSError):
                        p.unlink()

    def publish(self, files: dict[str, bytes], manifest: dict[str, Any]) -> tuple[Release, bool]:
        """Writes a release and makes it current; returns it and whether it already existed.

        When a release of the same version exists, it is kept as it is (its URLs promise
        those exact bytes) and only made current again; files beside its dumps that the
        manifest does not list (what ``serve`` reads: the site index, the query figures) are
        added where it lacks them, so that a release built by an older version gains them.
        """
        version = manifest["version"]
        self.root.mkdir(parents=True, exist_ok=True)
        self.releases_dir.mkdir(exist_ok=True)
        existing = self.read(version)
        if existing is None:
            tmp = self.root / f"{TMP_PREFIX}{version}-{uuid.uuid4().hex[:8]}"
            tmp.mkdir()
            try:
                for name, data in files.items():
                    _write_file(tmp / name, data)
                _write_file(
                    tmp / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False).encode()
                )
                _fsync_dir(tmp)
                target = self.releases_dir / version
                if target.exists():  # an incomplete folder without manifest: replace it
                    shutil.rmtree(target)
                os.rename(tmp, target)
                _fsync_dir(self.releases_dir)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
        else:
            listed = {entry["name"] for entry in existing.manifest.get("files", [])} | {MANIFEST}
            for name, data in files.items():
                target = existing.path / name
                if name not in listed and not target.exists():
                    tmp = existing.path / f"{TMP_PREFIX}{name}-{uuid.uuid4().hex[:8]}"
                    _write_file(tmp, data)
                    os.replace(tmp, target)
            _fsync_dir(existing.path)
        self.set_current(version)
        self.write_changelog()
        release = self.read(version)
        assert release is not None
        return release, existing is not None

    def set_current(self, version: str) -> None:
        pointer = self.root / CURRENT
        tmp = self.root / f"{TMP_PREFIX}{CURRENT}-{uuid.uuid4().hex[:8]}"
        _write_file(tmp, (version + "\n").encode())
        os.replace(tmp, pointer)
        _fsync_dir(self.root)
        self._note_current(version)

    def _note_current(self, version: str) -> None:
        """Appends to the history when the current release changes (one short line, written
        at once; a crash can leave at most that line cut short, which ``history`` skips)."""
        past = self.history()
        if past and past[-1][0] == version:
            return
        line = json.dumps({"version": version, "current_since": _now_stamp()}) + "\n"
        with open(self.root / HISTORY, "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())

    def write_changelog(self) -> None:
        """Regenerates CHANGELOG.md from the manifests (it holds nothing they do not)."""
        lines = ["# Changelog of the releases", ""]
        since = self.current_since()
        times_current = Counter(version for version, _ in self.history())
        current = self.current()
        for release in self.all():
            m = release.manifest
            changes = m.get("changes") or {}
            state = " — current" if current is not None and current.version == m["version"] else ""
            lines.append(f"## {m['version']} ({m['created']}){state}")
            lines.append("")
            if times_current.get(m["version"], 0) > 1:
                lines.append(f"- made current again on {since[m['version']]}")
            lines.append(f"- {m['counts']['knowledge_graph']} triples in the knowledge graph")
            if changes.get("previous"):
                lines.append(
                    f"- against {changes['previous']}: +{changes['added_triples']} / "
                    f"-{changes['removed_triples']} triples"
                )
                for key, label in (
                    ("added", "new"),
                    ("removed", "removed"),
                    ("changed", "changed"),
                ):
                    if changes.get(key):
                        lines.append(f"- {label}: " + ", ".join(f"<{s}>" for s in changes[key]))
            else:
                lines.append("- first release")
            lines.append("")
        tmp = self.root / f"{TMP_PREFIX}{CHANGELOG}-{uuid.uuid4().hex[:8]}"
        _write_file(tmp, "\n".join(lines).encode())
        os.replace(tmp, self.root / CHANGELOG)
