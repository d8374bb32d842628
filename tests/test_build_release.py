"""The build: what a release contains, that it is reproducible, and that failure loses nothing."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

import kommunen_kg.rdf.release as release_module
from kommunen_kg.build.pipeline import BuildFailed, build
from kommunen_kg.config import load_config
from kommunen_kg.rdf.release import ReleaseFolder

from .support import ROOT, run_cli

BASE = "https://w3id.org/kommunen-innovativ/"
SCHEMA = "http://schema.org/"
DATA_DUMPS = (
    "kommunen-innovativ.ttl",
    "kommunen-innovativ.nt.gz",
    "kommunen-innovativ.jsonld",
    "kommunen-innovativ.trig",
    "kommunen-innovativ.nq.gz",
)
# The metadata graph is a pair of files of its own: it holds the dumps' sizes and checksums.
METADATA_FILES = ("metadata.trig", "metadata.nq.gz")


def tree_digest(folder: Path) -> dict[str, str]:
    """SHA-256 of every file below ``folder``, by relative path."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def knowledge_graph(release) -> set[ox.Triple]:
    with gzip.open(release.file("kommunen-innovativ.nt.gz")) as f:
        return {q.triple for q in ox.parse(f, format=ox.RdfFormat.N_TRIPLES)}


def test_release_holds_every_dump_listed_in_its_manifest_with_size_and_checksum(release):
    names = {f["name"] for f in release.files}
    assert set(DATA_DUMPS) | set(METADATA_FILES) == names
    for entry in release.files:
        data = release.file(entry["name"]).read_bytes()
        assert entry["size"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()


def load_quads(release, name: str) -> ox.Store:
    """A release file of named graphs (TriG, or N-Quads in gzip) in a fresh store."""
    store = ox.Store()
    if name.endswith(".nq.gz"):
        with gzip.open(release.file(name)) as f:
            store.load(f.read(), format=ox.RdfFormat.N_QUADS)
    else:
        store.load(path=str(release.file(name)), format=ox.RdfFormat.TRIG)
    return store


@pytest.mark.parametrize(
    ("dataset", "metadata"),
    [
        ("kommunen-innovativ.trig", "metadata.trig"),
        ("kommunen-innovativ.nq.gz", "metadata.nq.gz"),
    ],
    ids=["TriG", "N-Quads"],
)
def test_release_has_one_named_graph_per_part_in_each_quad_syntax(release, dataset, metadata):
    graphs = {
        g.value for name in (dataset, metadata) for g in load_quads(release, name).named_graphs()
    }
    assert graphs == {
        BASE + "graph/" + name for name in ("vocabulary", "themes", "shapes", "data", "metadata")
    }


def test_metadata_in_nquads_holds_the_same_quads_as_in_trig(release):
    trig = set(load_quads(release, "metadata.trig"))
    nquads = set(load_quads(release, "metadata.nq.gz"))
    assert nquads == trig
    assert len(nquads) == release.manifest["counts"]["metadata"]


def test_gzip_files_carry_no_time_stamp_and_no_file_name(release):
    for name in ("kommunen-innovativ.nt.gz", "kommunen-innovativ.nq.gz", "metadata.nq.gz"):
        header = release.file(name).read_bytes()[:10]
        flags, mtime = header[3], int.from_bytes(header[4:8], "little")
        assert (flags & 0x08, mtime) == (0, 0), name  # FNAME unset, MTIME zero


def test_manifest_counts_match_the_named_graphs(release):
    store = ox.Store()
    store.load(path=str(release.file("kommunen-innovativ.trig")), format=ox.RdfFormat.TRIG)
    for name in ("vocabulary", "themes", "shapes", "data"):
        count = sum(
            1
            for _ in store.quads_for_pattern(None, None, None, ox.NamedNode(BASE + "graph/" + name))
        )
        assert release.manifest["counts"][name] == count


def test_a_query_with_a_schema_org_term_finds_facts_stated_with_our_own_terms(release):
    graph = knowledge_graph(release)
    talk = ox.NamedNode(BASE + "id/talk/2020-11-11-kudequa")
    performer = ox.NamedNode(SCHEMA + "performer")
    performers = {t.object.value for t in graph if t.subject == talk and t.predicate == performer}
    assert performers == {BASE + "id/person/elke-dahlbeck", BASE + "id/person/dajana-schlieter"}
    types = {
        t.object.value for t in graph if t.subject == talk and t.predicate.value.endswith("#type")
    }
    assert {SCHEMA + "Event", BASE + "def#Talk", BASE + "def#ProgrammeItem"} <= types


def test_inverse_properties_are_written_out(release):
    graph = knowledge_graph(release)
    event = ox.NamedNode(BASE + "id/event/herbst-konferenz-2020")
    sub_events = {
        t.object for t in graph if t.subject == event and t.predicate.value == SCHEMA + "subEvent"
    }
    assert len(sub_events) == 7
    narrower = ox.NamedNode("http://www.w3.org/2004/02/skos/core#narrower")
    ehrenamt = ox.NamedNode(BASE + "id/theme/ehrenamt")
    assert (
        ox.Triple(ehrenamt, narrower, ox.NamedNode(BASE + "id/theme/ehrenamtliche-mobilitaet"))
        in graph
    )


def test_the_knowledge_graph_has_no_blank_nodes(release):
    for t in knowledge_graph(release):
        assert not isinstance(t.subject, ox.BlankNode) and not isinstance(t.object, ox.BlankNode), t


def test_metadata_states_counts_build_time_and_source_version(release):
    store = ox.Store()
    store.load(path=str(release.file("metadata.trig")), format=ox.RdfFormat.TRIG)
    dataset = ox.NamedNode(BASE + "id/dataset/kommunen-innovativ")
    triples = next(
        store.quads_for_pattern(dataset, ox.NamedNode("http://rdfs.org/ns/void#triples"), None)
    )
    assert int(triples.object.value) == release.manifest["counts"]["knowledge_graph"]
    version = ox.NamedNode(f"{dataset.value}-{release.version}")
    issued = next(
        store.quads_for_pattern(version, ox.NamedNode("http://purl.org/dc/terms/issued"), None)
    )
    assert issued.object.value == release.created
    notes = {
        q.object.value
        for q in store.quads_for_pattern(
            version, ox.NamedNode("http://www.w3.org/ns/adms#versionNotes"), None
        )
    }
    assert any(note.startswith("Source version: ") for note in notes)


def test_metadata_names_the_cc_by_licence(release):
    text = release.file("metadata.trig").read_text(encoding="utf-8")
    assert "http://dcat-ap.de/def/licenses/cc-by/4.0" in text


def test_building_twice_gives_byte_identical_data_dumps(tmp_path):
    config = load_config(ROOT / "kommunen-kg.toml")
    first = build(config.with_graphs_dir(tmp_path / "a")).release
    second = build(config.with_graphs_dir(tmp_path / "b")).release
    assert first.version == second.version
    for name in DATA_DUMPS:
        assert first.file(name).read_bytes() == second.file(name).read_bytes(), name


def test_rebuilding_unchanged_sources_keeps_the_published_release(tmp_path):
    config = load_config(ROOT / "kommunen-kg.toml").with_graphs_dir(tmp_path)
    first = build(config)
    before = tree_digest(first.release.path)
    again = build(config)
    assert again.reused and again.release.version == first.release.version
    assert tree_digest(first.release.path) == before


def test_rebuilding_adds_what_serve_reads_to_a_release_an_older_version_built(tmp_path):
    """A release built before the server read a file beside the dumps gains it, and its
    dumps stay byte for byte as they were."""
    from kommunen_kg.sparql.statistics import STATISTICS_FILE, Statistics

    config = load_config(ROOT / "kommunen-kg.toml").with_graphs_dir(tmp_path)
    first = build(config).release
    dumps = {entry["name"]: first.file(entry["name"]).read_bytes() for entry in first.files}
    figures = Statistics(total=1).to_json()
    again = build(config, derived=lambda files: {STATISTICS_FILE: figures})
    assert again.reused
    assert (first.path / STATISTICS_FILE).read_bytes() == figures
    assert {name: first.file(name).read_bytes() for name in dumps} == dumps
    assert STATISTICS_FILE not in {entry["name"] for entry in again.release.files}


def test_a_changed_source_gives_a_new_version_and_a_changelog_entry(sources_copy):
    config = load_config(sources_copy / "kommunen-kg.toml")
    first = build(config).release
    people = sources_copy / "data" / "people.ttl"
    people.write_text(
        people.read_text(encoding="utf-8").replace(
            'schema:jobTitle "Verbandsdirektor"@de ;',
            'schema:jobTitle "Verbandsdirektor"@de , "Director of the regional association"@en ;',
        ),
        encoding="utf-8",
    )
    second = build(config).release
    assert second.version != first.version
    changes = second.manifest["changes"]
    assert changes["previous"] == first.version
    assert changes["changed"] == [BASE + "id/person/thomas-eble"]
    assert (changes["added_triples"], changes["removed_triples"]) == (1, 0)
    assert ReleaseFolder(config.graphs_dir).current().version == second.version
    changelog = (config.graphs_dir / "CHANGELOG.md").read_text(encoding="utf-8")
    assert changelog.index(second.version) < changelog.index(first.version)


def test_releases_built_in_the_same_second_list_newest_first(tmp_path):
    folder = ReleaseFolder(tmp_path)
    same_second = "2026-12-04T10:00:00Z"
    for version, previous in (("ffff", None), ("0000", "ffff"), ("aaaa", "0000")):
        changes = (
            {"previous": previous, "added_triples": 1, "removed_triples": 0} if previous else {}
        )
        manifest = {
            "version": version,
            "created": same_second,
            "counts": {"knowledge_graph": 1},
            "changes": changes,
        }
        folder.publish({}, manifest)
    assert [r.version for r in folder.all()] == ["aaaa", "0000", "ffff"]


def test_after_a_revert_the_release_made_current_again_is_listed_first(tmp_path, monkeypatch):
    folder = ReleaseFolder(tmp_path)
    stamps = iter(["2026-12-01T10:00:00Z", "2026-12-02T10:00:00Z", "2026-12-03T10:00:00Z"])
    monkeypatch.setattr(release_module, "_now_stamp", lambda: next(stamps))
    for version, created in (("aaaa", "2026-12-01T09:59:59Z"), ("bbbb", "2026-12-02T09:59:59Z")):
        manifest = {"version": version, "created": created, "counts": {"knowledge_graph": 1}}
        folder.publish({}, manifest)
    folder.publish({}, {"version": "aaaa", "created": "2026-12-01T09:59:59Z"})  # the revert
    assert folder.current().version == "aaaa"
    assert [r.version for r in folder.all()] == ["aaaa", "bbbb"]
    changelog = (tmp_path / "CHANGELOG.md").read_text(encoding="utf-8")
    assert changelog.index("## aaaa") < changelog.index("## bbbb")
    assert "## aaaa (2026-12-01T09:59:59Z) — current" in changelog
    assert "- made current again on 2026-12-03T10:00:00Z" in changelog
    assert [v for v, _ in folder.history()] == ["aaaa", "bbbb", "aaaa"]


def test_a_history_line_a_crash_cut_short_is_skipped(tmp_path):
    folder = ReleaseFolder(tmp_path)
    (tmp_path / "history.jsonl").write_text(
        '{"version": "aaaa", "current_since": "2026-12-01T10:00:00Z"}\n{"version": "bb', "utf-8"
    )
    assert folder.history() == [("aaaa", "2026-12-01T10:00:00Z")]


def test_a_new_build_removes_what_a_killed_build_left_half_written(tmp_path):
    folder = ReleaseFolder(tmp_path)
    (tmp_path / ".tmp-0123abcd-5678").mkdir()
    (tmp_path / ".tmp-0123abcd-5678" / "kommunen-innovativ.ttl").write_bytes(b"<a> <b> ")
    (tmp_path / ".tmp-current-5678").write_bytes(b"0123")
    (tmp_path / ".tmp-CHANGELOG.md-5678").write_bytes(b"# Chan")
    folder.clean_stale()
    assert list(tmp_path.iterdir()) == []


def test_a_violation_stops_the_build_and_leaves_the_previous_release_byte_for_byte(sources_copy):
    config = load_config(sources_copy / "kommunen-kg.toml")
    build(config)
    before = tree_digest(config.graphs_dir)
    talks = sources_copy / "data" / "talks.ttl"
    talks.write_text(
        talks.read_text(encoding="utf-8").replace(
            'schema:startDate "2020-11-11T11:15:00+01:00"^^xsd:dateTime',
            'schema:startDate "2020-11-11T11:15:00"^^xsd:dateTime',
        ),
        encoding="utf-8",
    )
    with pytest.raises(BuildFailed) as failure:
        build(config)
    assert not failure.value.report.conforms
    assert tree_digest(config.graphs_dir) == before


def test_a_syntax_error_names_file_line_and_column(sources_copy):
    config = load_config(sources_copy / "kommunen-kg.toml")
    people = sources_copy / "data" / "people.ttl"
    lines = people.read_text(encoding="utf-8").splitlines()
    number = next(i for i, line in enumerate(lines) if line.startswith("person:peter-dehne"))
    lines[number + 1] = '    schema:name "Peter Dehne ;'
    people.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(BuildFailed) as failure:
        build(config)
    message = str(failure.value)
    assert f"people.ttl:{number + 2}:" in message or f"people.ttl:{number + 3}:" in message
    assert not (config.graphs_dir / "current").exists()


def build_with_an_organisation_as_speaker(sources: Path, *options: str):
    """``kommunen-kg build OPTIONS`` on sources where a talk names an organisation as speaker."""
    talks = sources / "data" / "talks.ttl"
    talks.write_text(
        talks.read_text(encoding="utf-8").replace(
            "ki:speaker person:thomas-eble ;", "ki:speaker <id/organisation/rvo> ;"
        ),
        encoding="utf-8",
    )
    return subprocess.run(
        [sys.executable, "-m", "kommunen_kg", "build", *options, "-q"],
        cwd=sources,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_build_exits_1_with_a_german_report_when_asked(sources_copy):
    result = build_with_an_organisation_as_speaker(sources_copy, "--lang", "de")
    assert result.returncode == 1
    assert "FEHLER  data/talks.ttl:" in result.stderr
    assert "talk:2020-11-11-komobil2035" in result.stderr
    assert "Wer vorträgt (ki:speaker), ist eine Person (schema:Person)." in result.stderr
    assert "die bisherige Veröffentlichung bleibt unverändert" in result.stderr


def test_a_german_build_report_ends_in_german_throughout(sources_copy):
    """Issue 14: under --lang de the last line said "Build gestoppt: the data does not conform"."""
    result = build_with_an_organisation_as_speaker(sources_copy, "--lang", "de")
    last = result.stderr.strip().splitlines()[-1]
    assert last == (
        "Build gestoppt: die Daten entsprechen nicht den Shapes; "
        "die bisherige Veröffentlichung bleibt unverändert."
    )
    assert "1 Fehler," in result.stderr


def test_a_german_build_says_its_progress_and_its_result_in_german(sources_copy):
    """Issue 14: under --lang de the progress lines and the last line were English."""
    result = subprocess.run(
        [sys.executable, "-m", "kommunen_kg", "build", "--lang", "de"],
        cwd=sources_copy,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    steps = [line for line in result.stderr.splitlines() if line.startswith("· ")]
    assert steps[0].startswith("· lese die Quellen in ")
    assert "· prüfe die Daten mit den SHACL-Shapes" in steps
    assert steps[-1].startswith("· veröffentliche ")
    assert len(steps) == 8
    (last,) = result.stdout.splitlines()
    assert re.fullmatch(
        r"Veröffentlichung [0-9a-f]{12} veröffentlicht: \d{1,3}(\.\d{3})* Tripel, "
        r"\d+ Dateien in .+ \(\d+,\d\d s\)",
        last,
    ), last


def test_the_readme_example_report_is_what_the_build_prints_for_that_mistake(sources_copy):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    intro = "A violation stops the build with exit code 1 and a report like this"
    example = readme[readme.index(intro) :].split("```\n", 2)[1]
    result = build_with_an_organisation_as_speaker(sources_copy)
    assert result.returncode == 1
    assert example in result.stderr


# Moments to kill `kommunen-kg build` at: (the progress line it has just printed, then a pause).
# Parsing and validating write nothing; from "writing" on the release is being made, and from
# "publishing" on its files go to disk. The build takes well under a second, so the moments are
# tied to its progress lines, not to the clock: a kill at a fixed delay may come after the end.
KILL_MOMENTS = (
    ("· parsing", 0.0),
    ("· validating", 0.0),
    ("· writing reproducible dumps", 0.0),
    ("· writing reproducible dumps", 0.03),
    ("· describing release", 0.0),
    ("· publishing release", 0.0),
    ("· publishing release", 0.002),
    ("· publishing release", 0.005),
    ("· publishing release", 0.01),
    ("· publishing release", 0.02),
)
MAKING_THE_RELEASE = ("· writing", "· describing", "· publishing")


def kill_build_at(cwd: Path, stage: str, pause: float) -> bool:
    """Runs `kommunen-kg build` in ``cwd`` and SIGKILLs it ``pause`` seconds after it announces
    ``stage``; True when the kill hit the running build (it died of the signal, not finished)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "kommunen_kg", "build"],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    with process:
        announced = any(line.startswith(stage) for line in process.stderr)
        if announced:
            time.sleep(pause)
            process.send_signal(signal.SIGKILL)  # no-op when it has already ended
        return process.wait() == -signal.SIGKILL


def test_an_interrupted_build_never_leaves_a_half_written_release(sources_copy):
    """Kills `kommunen-kg build` at every stage; the folder always holds complete releases."""
    config = load_config(sources_copy / "kommunen-kg.toml")
    good = build(config).release
    good_files = tree_digest(good.path)
    people = sources_copy / "data" / "people.ttl"
    people.write_text(
        people.read_text(encoding="utf-8").replace(
            'schema:jobTitle "Verkehrsingenieur"@de ;',
            'schema:jobTitle "Verkehrsingenieur"@de , "transport engineer"@en ;',
        ),
        encoding="utf-8",
    )
    killed_while_making = 0
    for stage, pause in KILL_MOMENTS:
        if kill_build_at(sources_copy, stage, pause) and stage.startswith(MAKING_THE_RELEASE):
            killed_while_making += 1
        folder = ReleaseFolder(config.graphs_dir)
        current = folder.current()
        assert current is not None
        assert current.version in {good.version} | {r.version for r in folder.all()}
        assert tree_digest(good.path) == good_files
        for release in folder.all():  # every visible release is complete and intact
            for entry in release.files:
                data = release.file(entry["name"]).read_bytes()
                assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        if current.version != good.version:
            break  # the new release got through whole; nothing more to interrupt
    # The test means something only if kills landed while the new release was being made.
    assert killed_while_making >= 1
    finished = build(config).release
    assert finished.version != good.version
    assert json.loads((finished.path / "manifest.json").read_text())["version"] == finished.version
    assert not [p for p in config.graphs_dir.iterdir() if p.name.startswith(".tmp-")]
    assert os.path.exists(good.path)


def test_dataset_settings_added_later_leave_the_version_as_it_was_at_their_defaults(config):
    """The version covers the [dataset] settings; keys added after releases were published
    count only when set, so the same sources and settings keep the version they had."""
    import hashlib
    import json
    from dataclasses import replace

    from kommunen_kg import __version__
    from kommunen_kg.build.pipeline import LATER_DATASET_KEYS, _version

    files = {"kommunen-innovativ.ttl": b"<urn:a> <urn:b> <urn:c> .\n"}
    before = {k: v for k, v in vars(config.dataset).items() if k not in LATER_DATASET_KEYS}
    digest = hashlib.sha256()
    digest.update(
        f"kommunen-innovativ.ttl {hashlib.sha256(files['kommunen-innovativ.ttl']).hexdigest()}\n".encode()
    )
    settings = {
        "base": config.base_iri,
        "public": config.public_url,
        "dataset": before,
        "publisher": vars(config.publisher),
        "contact": vars(config.contact),
        "builder": __version__,
    }
    digest.update(json.dumps(settings, sort_keys=True).encode())
    assert _version(files, config) == digest.hexdigest()[:12]
    other = replace(config, dataset=replace(config.dataset, dataset_slug="elsewhere"))
    assert _version(files, other) != _version(files, config)


@pytest.fixture
def small_disk(sources_copy: Path):
    """The copied sources' graphs/ on a 1,200 KB file system of its own: room for one release
    (about 540 KB of dumps and 270 KB of site index) and not for two. Needs root and tmpfs (CI
    has both)."""
    graphs = sources_copy / "graphs"
    graphs.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1200k", "tmpfs", str(graphs)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {mounted.stderr.strip()}")
    try:
        yield sources_copy
    finally:
        subprocess.run(["umount", "-l", str(graphs)], capture_output=True)


def _change_a_source(sources: Path) -> None:
    """Another release: one note worded differently, and the file newer than the release."""
    orgs = sources / "data" / "organisations.ttl"
    text = orgs.read_text(encoding="utf-8")
    changed = text.replace("is looked after by PtJ's Berlin office.", "is looked after by PtJ.")
    assert changed != text
    orgs.write_text(changed, encoding="utf-8")
    future = time.time() + 5
    os.utime(orgs, (future, future))


def test_a_full_disk_stops_the_build_with_one_line_and_keeps_the_last_release(small_disk):
    first = run_cli(small_disk, "build", "-q")
    assert first.returncode == 0, first.stderr
    before = ReleaseFolder(small_disk / "graphs").current()
    _change_a_source(small_disk)
    failed = run_cli(small_disk, "build", "-q")
    assert failed.returncode == 1
    assert "Traceback" not in failed.stderr
    assert "cannot write the release into" in failed.stderr
    assert "No space left on device" in failed.stderr
    after = ReleaseFolder(small_disk / "graphs").current()
    assert after is not None and after.version == before.version
    for entry in after.manifest["files"]:
        data = (after.path / entry["name"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    assert not [p for p in (small_disk / "graphs").iterdir() if p.name.startswith(".tmp")]


@pytest.mark.slow  # starts kommunen-kg serve
def test_serve_goes_on_with_the_last_good_release_when_the_disk_is_full(small_disk):
    from .support import server_process

    assert run_cli(small_disk, "build", "-q").returncode == 0
    before = ReleaseFolder(small_disk / "graphs").current()
    _change_a_source(small_disk)
    with server_process(cwd=small_disk) as url:
        import requests

        health = requests.get(url + "health", timeout=10).json()
    assert health["version"] == before.version
