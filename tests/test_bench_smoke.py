"""The benchmark harness works: its data builds, and one short run yields results.

Benchmarks are not tests: these check only that ``python -m bench run`` still works on the
branch (data generation, build, starting the servers, load, report), at 1e3 triples with
second-long loads. Peers whose packages are missing are skipped by the harness itself and
reported as skipped; the checks here follow what is installed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.generate import generate
from bench.servers import available
from kommunen_kg.build.pipeline import build
from kommunen_kg.config import load_config

from .support import ROOT

pytestmark = pytest.mark.slow  # a short benchmark run against real peers


def _config(tmp_path: Path) -> Path:
    config = tmp_path / "kommunen-kg.toml"
    config.write_text(
        f'[paths]\nontology = "{ROOT / "ontology"}"\ndata = "data"\ngraphs = "graphs"\n',
        encoding="utf-8",
    )
    return config


def test_generated_graph_passes_the_shapes_and_builds(tmp_path):
    generated = generate(1_000, tmp_path / "data")
    result = build(load_config(_config(tmp_path)))
    assert result.report.passes
    assert 900 <= generated.triples <= 1_100
    assert result.release.manifest["counts"]["data"] > generated.triples  # enriched


def test_generator_is_deterministic(tmp_path):
    generate(1_000, tmp_path / "a" / "data")
    generate(1_000, tmp_path / "b" / "data")
    for path in sorted((tmp_path / "a" / "data").iterdir()):
        assert path.read_bytes() == (tmp_path / "b" / "data" / path.name).read_bytes()


def test_workload_parameters_point_at_generated_resources(tmp_path):
    generated = generate(1_000, tmp_path / "data")
    text = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "data").iterdir())
    workload = generated.workload
    assert workload.theme_talks > 0 and workload.project_talks > 0
    for rel in (workload.talk, workload.event, workload.project, workload.person):
        local = rel.rsplit("/", 1)[1]
        assert f":{local} a " in text


def test_cold_variants_give_the_same_answers_as_warm_queries(tmp_path):
    import pyoxigraph as ox

    from bench.workload import cold_variant, sparql_items
    from kommunen_kg.web.publication import load_release_store

    generated = generate(1_000, tmp_path / "data")
    config = load_config(_config(tmp_path))
    store = load_release_store(build(config).release)

    def answer(query: str):
        result = store.query(query, use_default_graph_as_union=True)
        if isinstance(result, ox.QuerySolutions):
            return sorted(tuple(map(str, row)) for row in result)
        return sorted(map(str, result))

    for item in sparql_items(config.base_iri, generated.to_json()):
        warm = answer(item.warm)
        assert warm, f"{item.name} finds nothing in the generated data"
        assert answer(cold_variant(item, 100000123)) == warm, item.name
        assert cold_variant(item, 1) != cold_variant(item, 2)


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("bench-results")
    command = [
        sys.executable,
        "-m",
        "bench",
        "run",
        "--scale",
        "1e3",
        "--duration",
        "1",
        "--only",
        "lookup",
        "--only",
        "count_per_theme",
        "--only",
        "page",
        "--no-naive",
        "--memory-workers",
        "1",
        "--no-readme",
        "--setting",
        "query_workers_max = 3",
        "--out",
        str(out),
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((out / "latest.json").read_text(encoding="utf-8"))
    results["_out"] = str(out)
    return results


def test_smoke_run_measures_kommunen_kg_warm_and_cold(smoke_run):
    rows = smoke_run["scales"]["1e3"]["rows"]
    for item in ("lookup", "count_per_theme"):
        for mode in ("warm", "cold"):
            row = next(
                r
                for r in rows
                if (r["server"], r["item"], r["mode"]) == ("kommunen-kg", item, mode)
            )
            assert row["requests"] > 0 and row["rps"] > 0
            assert row["errors"] == 0
            assert row["p50_ms"] is not None and row["p99_ms"] >= row["p50_ms"]


def test_smoke_run_records_build_time_ready_time_and_memory(smoke_run):
    scale = smoke_run["scales"]["1e3"]
    assert scale["build"]["kommunen_kg"]["wall_s"] > 0
    assert scale["build"]["kommunen_kg"]["passes"] is True
    ours = scale["servers"]["kommunen-kg"]
    assert ours["ready_s"] > 0
    assert ours["memory_after_load"]["pss_mib"] > 0
    assert ours["memory_after_load"]["processes"] >= 2  # gunicorn master + worker(s)
    assert scale["memory_scaling"][0]["workers"] == 1


def test_smoke_run_skips_missing_peers_with_a_reason_and_runs_present_ones(smoke_run):
    scale = smoke_run["scales"]["1e3"]
    for server, reason in available().items():
        if server.startswith(("nginx", "flask")):
            continue
        info = scale["servers"][server]
        if reason:
            assert info["skipped"] == reason
        else:
            assert "failed" not in info, info
            assert any(r["server"] == server and r.get("requests") for r in scale["rows"])


def test_smoke_run_answers_agree_between_servers(smoke_run):
    answers = smoke_run["scales"]["1e3"]["answers"]["count_per_theme"]
    counts = {a["results"] for a in answers.values() if "results" in a}
    assert len(counts) == 1


def test_smoke_run_writes_a_plot(smoke_run):
    pytest.importorskip("matplotlib", reason="matplotlib (the bench extra) draws the plot")
    assert list(Path(smoke_run["_out"]).glob("throughput-1e3.png"))


def test_the_switch_measurement_reports_time_and_memory_of_a_live_switch(sources_copy):
    """``python -m bench.switch`` at the seed data's size: two releases, one switch."""
    from .support import run_cli

    assert run_cli(sources_copy, "build", "-q").returncode == 0
    events = sources_copy / "data" / "events.ttl"
    text = events.read_text(encoding="utf-8")
    events.write_text(text.replace("Embrace diversity!", "Embrace diversity, now!"), "utf-8")
    assert run_cli(sources_copy, "build", "-q").returncode == 0
    current = (sources_copy / "graphs" / "current").read_text(encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "bench.switch", str(sources_copy), "--readers-for", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["served_after_s"] is not None and report["served_after_s"] < 30
    assert report["failures"] == 0 and report["answers"]["200"] > 0
    assert report["pss_peak_mib"] >= report["pss_idle_mib"] > 0
    assert (sources_copy / "graphs" / "current").read_text(encoding="utf-8") == current


def test_a_run_records_the_server_settings_it_was_given(smoke_run):
    assert smoke_run["options"]["settings"] == ["query_workers_max = 3"]


@pytest.mark.parametrize("setting", ["query_workers_max", "query_workers_max = two"])
def test_a_setting_that_is_not_toml_stops_the_run_before_it_starts(setting):
    from bench.run import server_section

    with pytest.raises(SystemExit, match="not TOML"):
        server_section((setting,))


@pytest.fixture(scope="module")
def cpu_data(tmp_path_factory) -> Path:
    """A dataset of 1e3 triples prepared as ``bench.cpu`` keeps it (``--keep``)."""
    from bench.run import Options, prepare

    folder = tmp_path_factory.mktemp("bench-cpu")
    prepare(1_000, folder, Options(scales=[1_000], naive=False))
    return folder


def _cpu(folder: Path, *args: str) -> dict:
    out = folder / f"cpu-{len(list(folder.glob('cpu-*.json')))}.json"
    command = [sys.executable, "-m", "bench.cpu", "--scale", "1e3", "--keep", str(folder)]
    command += [*args, "--out", str(out)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text(encoding="utf-8"))


def test_cpu_per_request_is_measured_for_each_thread_of_the_server(cpu_data):
    found = _cpu(cpu_data, "--duration", "1", "--only", "lookup")["lookup"]
    assert found["requests"] > 0 and found["errors"] == 0
    main = [t for t in found["threads"] if t["thread"].endswith("(main)")]
    assert any(t["process"].startswith("worker") and t["us_per_request"] > 0 for t in main)
    if shutil.which("wrk"):  # the load generator is a child process, measured from /proc
        assert found["load_generator_us_per_request"] > 0


def test_cpu_per_request_is_measured_in_process_without_a_server(cpu_data):
    found = _cpu(cpu_data, "--in-process", "--requests", "50", "--only", "lookup")["lookup"]
    assert found["statuses"] == [200] and found["us_per_request"] > 0


def test_cpu_in_process_times_every_stage_of_the_direct_path(cpu_data):
    from bench.cpu import STAGES

    args = ("--in-process", "--requests", "50", "--only", "lookup", "--stages")
    found = _cpu(cpu_data, *args)["lookup"]
    assert list(found["stages_us"]) == [label for label, _, _ in STAGES]
    assert all(us > 0 for us in found["stages_us"].values())


@pytest.mark.parametrize("between", ["evict", "thread", "process"])
def test_cpu_in_process_does_one_more_thing_between_two_requests(cpu_data, between):
    args = ("--in-process", "--requests", "50", "--only", "lookup", "--between", between)
    found = _cpu(cpu_data, *args)["lookup"]
    assert found["between"] == between and found["statuses"] == [200]
    assert found["loop_thread_us_per_request"] > 0


def test_cpu_refuses_a_request_kind_it_does_not_know_and_names_those_it_knows(cpu_data):
    command = [sys.executable, "-m", "bench.cpu", "--keep", str(cpu_data), "--only", "nosuch"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "unknown request kind nosuch" in done.stderr and "lookup" in done.stderr


def test_copies_of_the_store_are_measured_in_a_forked_child_and_unforked(cpu_data):
    out = cpu_data / "copies.json"
    command = [sys.executable, "-m", "bench.copies", "--scale", "1e3", "--keep", str(cpu_data)]
    command += ["--only", "count_per_theme", "--runs", "2", "--out", str(out)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(out.read_text(encoding="utf-8"))["count_per_theme"]
    assert found["first_ms"] > 0 and found["next_ms"] > 0
    assert found["copied_mib"] >= found["copied_first_mib"] >= 0
    assert "unforked_growth_mib" in found
