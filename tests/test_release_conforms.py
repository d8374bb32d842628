"""The release as published conforms to the shapes it publishes (issue 11).

The build writes out what the vocabulary entails (``ki:partner`` is also ``schema:member``), so
the published graph holds more than the sources; the shapes speak of both, and consumers
validate the dumps, not our sources. So the build validates the enriched graph too, and three
engines must agree on the release: the build's own validator, pyshacl and Apache Jena (Debian's
``libapache-jena-java``): no violation from any, the same number of warnings and notes, and no
constraint of the shapes left unevaluated by any of them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kommunen_kg.build.pipeline import PUBLISHED_FAILS, BuildFailed, build, check, load_sources
from kommunen_kg.config import load_config
from kommunen_kg.rdf.rdflib_terms import triples_to_rdflib
from kommunen_kg.rdf.release import ReleaseFolder

from .shacl_engines import (
    SEVERITIES,
    EngineRun,
    jena_missing,
    release_graphs,
    run_jena,
    run_ours,
    run_pyshacl,
)

BASE = "https://w3id.org/kommunen-innovativ/"
SCHEMA = "http://schema.org/"

# The shape the trial found broken: members restricted to people, while the build writes every
# ki:partner (an organisation) out as schema:member as well.
MEMBERS_ARE_PEOPLE = """
kis:MembersArePeople a sh:NodeShape ;
    sh:targetClass schema:ResearchProject ;
    sh:property [
        sh:path schema:member ;
        sh:class schema:Person ;
        sh:message "Mitglieder (schema:member) sind Personen."@de ,
            "Members (schema:member) are people."@en
    ] .
"""
# A warning that only the written-out super-property gives: ki:speaker is a schema:performer.
PERFORMERS_WARNED = """
kis:PerformerWarned a sh:NodeShape ;
    sh:targetSubjectsOf schema:performer ;
    sh:property [
        sh:path schema:performer ;
        sh:maxCount 0 ;
        sh:severity sh:Warning ;
        sh:message "Eine Testwarnung zu schema:performer."@de ,
            "A test warning about schema:performer."@en
    ] .
"""


def add_shape(root: Path, turtle: str) -> None:
    shapes = root / "ontology" / "shapes.ttl"
    shapes.write_text(shapes.read_text(encoding="utf-8") + turtle, encoding="utf-8")


def test_all_graphs_of_the_release_together_pass_the_builds_own_validator(release):
    """The build validates the enriched data and themes; consumers validate everything a
    release publishes at once, vocabulary, shapes and metadata included."""
    data, shapes = release_graphs(release)
    run = run_ours(data, shapes)
    assert run.counts["Violation"] == 0, run.summary()


def test_a_shape_only_the_enriched_graph_breaks_stops_the_build_with_a_report(sources_copy):
    add_shape(sources_copy, MEMBERS_ARE_PEOPLE)
    config = load_config(sources_copy / "kommunen-kg.toml")
    with pytest.raises(BuildFailed) as failed:
        build(config)
    assert str(failed.value) == PUBLISHED_FAILS
    violations = [p for p in failed.value.report.problems if p.severity == "Violation"]
    assert violations
    assert {p.path for p in violations} == {SCHEMA + "member"}
    assert {p.message("en") for p in violations} == {"Members (schema:member) are people."}
    lead = [p for p in violations if p.focus == BASE + "id/project/lebenswert"]
    assert lead and all(p.locations[0].startswith("data/projects.ttl:") for p in lead)
    assert ReleaseFolder(config.graphs_dir).current() is None  # nothing was published


def test_the_sources_pass_the_shape_that_the_enriched_graph_breaks(sources_copy):
    add_shape(sources_copy, MEMBERS_ARE_PEOPLE)
    assert check(load_config(sources_copy / "kommunen-kg.toml")).passes


def test_a_warning_only_the_enriched_graph_gives_is_in_the_builds_report(sources_copy):
    add_shape(sources_copy, PERFORMERS_WARNED)
    result = build(load_config(sources_copy / "kommunen-kg.toml"))
    warned = [p for p in result.report.problems if p.severity == "Warning"]
    assert warned and {p.path for p in warned} == {SCHEMA + "performer"}
    assert [p.severity for p in result.report.problems] == sorted(
        (p.severity for p in result.report.problems), key=SEVERITIES.index
    )


# --- three engines ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def engine_runs(release, config) -> dict[str, dict[str, EngineRun]]:
    """Each engine on the release (the union of its graphs) and on the sources (vocabulary,
    themes and data as written, before enrichment), against the release's shapes graph (the
    sources' shapes, as published); Jena validates both in one JVM."""
    reason = jena_missing()
    if reason:
        pytest.skip(reason)
    data, shapes = release_graphs(release)
    sources = load_sources(config)
    written = triples_to_rdflib(
        [t for part in ("vocabulary", "themes", "data") for t in sources.triples(part)]
    )
    graphs = {"release": data, "sources": written}
    jena = run_jena(shapes, graphs)
    return {
        name: {"ours": run_ours(g, shapes), "pyshacl": run_pyshacl(g, shapes), "jena": jena[name]}
        for name, g in graphs.items()
    }


@pytest.mark.slow  # starts a JVM (about 4 s)
def test_no_engine_finds_a_violation_in_the_release(engine_runs):
    found = {e: r.counts["Violation"] for e, r in engine_runs["release"].items()}
    assert found == {"ours": 0, "pyshacl": 0, "jena": 0}


@pytest.mark.slow
def test_the_engines_count_the_same_warnings_and_notes_in_the_release(engine_runs):
    counts = {e: (r.counts["Warning"], r.counts["Info"]) for e, r in engine_runs["release"].items()}
    assert len(set(counts.values())) == 1, counts


@pytest.mark.slow
def test_the_engines_agree_on_the_sources_and_find_no_violation_there(engine_runs):
    counts = {e: tuple(r.counts[s] for s in SEVERITIES) for e, r in engine_runs["sources"].items()}
    assert len(set(counts.values())) == 1, counts
    assert counts["ours"][0] == 0


@pytest.mark.slow
def test_no_engine_skips_a_constraint_of_the_shapes(engine_runs, capsys):
    with capsys.disabled():  # printed in every run: what each engine said and left out
        for graph, runs in engine_runs.items():
            for run in runs.values():
                print(f"\nSHACL on the {graph}, {run.summary()}", end="")
        print()
    skipped = {
        f"{graph}/{engine}": run.skipped
        for graph, runs in engine_runs.items()
        for engine, run in runs.items()
    }
    assert skipped == {name: [] for name in skipped}


def test_validate_reports_what_only_the_enriched_graph_breaks_as_the_build_would(
    sources_copy, monkeypatch
):
    from click.testing import CliRunner

    from kommunen_kg.cli import main

    add_shape(sources_copy, MEMBERS_ARE_PEOPLE)
    monkeypatch.chdir(sources_copy)
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 1
    assert "Members (schema:member) are people." in result.output
