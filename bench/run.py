"""The benchmark run: data at each scale, every server on it in turn, the same load on each.

For each scale the runner generates the synthetic graph into a temporary folder, builds it with
``kommunen-kg build`` (timed, with the naive rdflib + pyshacl pipeline and ``oxigraph load``
timed beside it), then starts the servers one after the other on the same release. Each
server first answers every request once (checked and summarised, so that the tables can show
whether all servers returned the same answer), then takes the bounded load for every request
kind in warm and in cold mode. Memory is read after start-up and after the load.

The baselines (nginx over the same answer bytes, a bare Flask app under three WSGI servers)
run once, at the largest scale of the run, since they do not depend on the data.
"""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from . import buildtime, procs, servers
from .generate import generate, scale_name
from .load import Request, have_wrk, run_load
from .servers import ROOT, Running, http_get
from .workload import JSON, SALT, TURTLE, Item, http_items, sparql_items

RESULTS = ROOT / "bench" / "results"
PEERS = ("kommunen-kg", "oxigraph-mem", "oxigraph-disk", "rdflib-endpoint")
BASELINES = ("nginx", "flask-gunicorn-sync", "flask-gunicorn-gthread", "flask-granian")
BASE_IRI = "https://w3id.org/kommunen-innovativ/"


@dataclass
class Options:
    scales: list[int]
    duration: float = 4.0
    connections: int = 8
    workers: int = 2
    threads: int = 16
    wsgi_server: str = "granian"
    modes: tuple[str, ...] = ("warm", "cold")
    servers: tuple[str, ...] = PEERS
    baselines: str = "last"  # "last", "every" or "none"
    timeout: float = 10.0
    generator: str = "auto"
    memory_scaling: tuple[int, ...] = (1, 2, 4)
    naive: bool = True
    seed: int = 20201111
    out: Path = RESULTS
    keep: Path | None = None
    readme: bool = True
    only: tuple[str, ...] = ()  # item names to run (default: all)
    method: str = "get"  # SPARQL queries by GET ?query= or POST application/sparql-query
    settings: tuple[str, ...] = ()  # "key=value" lines of kommunen-kg.toml's [server] section


@dataclass
class Dataset:
    folder: Path
    config: Path
    graphs: Path
    files: list[Path]
    params: dict
    build: dict = field(default_factory=dict)


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def server_section(settings: tuple[str, ...]) -> str:
    """The ``[server]`` section of ``--setting KEY=VALUE``s (values as TOML), or nothing; a
    setting that is no TOML stops the run here, not in the server it would start."""
    if not settings:
        return ""
    text = "[server]\n" + "".join(f"{line.strip()}\n" for line in settings)
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SystemExit(f"--setting: not TOML ({exc}): {settings}") from exc
    return text


def prepare(scale: int, folder: Path, options: Options) -> Dataset:
    """Generates, builds and times the dataset of one scale inside ``folder``."""
    data = folder / "data"
    generated = generate(scale, data, seed=options.seed)
    config = folder / "kommunen-kg.toml"
    config.write_text(
        "[dataset]\n"
        f'base_iri = "{BASE_IRI}"\n'
        "[paths]\n"
        f'ontology = "{ROOT / "ontology"}"\n'
        'data = "data"\n'
        'graphs = "graphs"\n' + server_section(options.settings),
        encoding="utf-8",
    )
    say(f"generated {generated.triples} triples ({generated.sizes}); building")
    build = buildtime.run_measurement(["kommunen-kg", str(config)])
    if "error" in build:
        raise RuntimeError(f"kommunen-kg build failed:\n{build['error']}")
    say(f"build took {build['wall_s']:.1f} s ({build['steps_s']})")
    release = Path(build["release"])
    files = [release / "kommunen-innovativ.trig", release / "metadata.trig"]
    result: dict = {"generated_triples": generated.triples, "kommunen_kg": build}
    if options.naive:
        say("timing the naive pipeline (rdflib parse + pyshacl)")
        result["naive"] = buildtime.run_measurement(
            ["naive", str(ROOT / "ontology"), str(data), BASE_IRI]
        )
        say(f"naive pipeline took {result['naive'].get('wall_s', 0):.1f} s")
    if servers.available()["oxigraph-disk"] is None:
        location = folder / "oxigraph-db"
        result["oxigraph_load_s"] = round(
            servers.oxigraph_load(files, location, folder / "oxigraph-load.log"), 3
        )
        say(f"oxigraph load took {result['oxigraph_load_s']:.2f} s")
    return Dataset(folder, config, folder / "graphs", files, generated.to_json(), result)


def existing(folder: Path) -> Dataset | None:
    """A dataset prepared earlier in ``folder`` (``--keep``), to profile without rebuilding."""
    params = folder / "bench-params.json"
    release_file = folder / "graphs" / "current"
    if not (params.exists() and release_file.exists()):
        return None
    release = folder / "graphs" / "releases" / release_file.read_text(encoding="utf-8").strip()
    files = [release / "kommunen-innovativ.trig", release / "metadata.trig"]
    return Dataset(
        folder,
        folder / "kommunen-kg.toml",
        folder / "graphs",
        files,
        json.loads(params.read_text(encoding="utf-8")),
        {"reused": str(release)},
    )


# ---------------------------------------------------------------------------------------------
# Checking answers


def summarise(status: int, headers: dict, body: bytes) -> dict:
    """What an answer was: status, type, size, and the number of results or triples."""
    media = (headers.get("Content-Type") or headers.get("content-type") or "").split(";")[0]
    summary: dict = {"status": status, "type": media, "bytes": len(body)}
    try:
        if "json" in media and body:
            parsed = json.loads(body)
            if "results" in parsed:
                summary["results"] = len(parsed["results"]["bindings"])
            elif "boolean" in parsed:
                summary["results"] = int(parsed["boolean"])
        elif media in ("text/turtle", "application/n-triples") and body:
            import pyoxigraph as ox

            fmt = ox.RdfFormat.TURTLE if media == "text/turtle" else ox.RdfFormat.N_TRIPLES
            summary["results"] = sum(1 for _ in ox.parse(body, format=fmt))
    except (ValueError, SyntaxError) as exc:
        summary["parse_error"] = str(exc)[:200]
    return summary


def sparql_path(running: Running, query: str) -> str:
    return f"{running.sparql_path}?query={urllib.parse.quote(query, safe='')}"


def resolve_routes(running: Running, item: Item) -> tuple[list[str], list[str]] | str:
    """The concrete warm path and cold paths of a linked-data item, or why it is skipped.

    ``/id/`` answers 303 to ``/data/...`` or ``/page/...`` by the Accept header; the target's
    form is taken from the 303 of the main resource and applied to the others.
    """
    rel = item.warm.removeprefix("/id/")
    if item.route == "id":
        status, _, _ = http_get(running.base_url + item.warm, item.accept)
        if status == 404:
            return "not served (404): dereferencing comes with the views work"
        return [item.warm], item.cold_paths
    status, headers, _ = http_get(running.base_url + item.warm, item.accept)
    location = headers.get("Location") or headers.get("location")
    template = None
    if status == 303 and location:
        path = urllib.parse.urlsplit(location).path
        if rel in path:
            template = path.replace(rel, "{rel}")
    if template is None:  # no 303 (yet): try the documented forms
        guess = "/data/{rel}.ttl" if item.route == "data" else "/page/{rel}"
        if http_get(running.base_url + guess.format(rel=rel), item.accept)[0] == 200:
            template = guess
    if template is None:
        return f"not served ({status} for /id/, no /{item.route}/ route): needs the views work"
    to_path = lambda p: template.format(rel=p.removeprefix("/id/"))  # noqa: E731
    return [to_path(item.warm)], [to_path(p) for p in item.cold_paths]


def check_answer(running: Running, item: Item, path: str) -> dict:
    started = time.perf_counter()
    try:
        status, headers, body = http_get(running.base_url + path, item.accept, timeout=60)
    except (OSError, TimeoutError) as exc:
        return {"status": None, "error": f"{type(exc).__name__}: {exc}"}
    summary = summarise(status, headers, body)
    summary["ms"] = round((time.perf_counter() - started) * 1000, 1)
    summary["_body"] = body
    return summary


def wait_idle(running: Running, cap: float = 90.0) -> float | None:
    """Waits until a slow server has worked off the requests left over from a load."""
    if running.sparql_path is None:
        return 0.0
    started = time.perf_counter()
    while time.perf_counter() - started < cap:
        try:
            if servers.sparql_ok(running.base_url, running.sparql_path, timeout=cap):
                return time.perf_counter() - started
        except OSError:
            time.sleep(0.5)
    return None


# ---------------------------------------------------------------------------------------------
# Running one server through the workload


def drive(
    running: Running,
    items: list[Item],
    options: Options,
    rows: list[dict],
    answers: dict,
    server: str,
) -> None:
    """Checks every item once, then loads it in each mode; appends result rows."""
    warm_up(running, items, options)
    for item in items:
        if item.kind == "sparql":
            if running.sparql_path is None:
                continue
            warm_paths = [sparql_path(running, item.warm)]
            cold_paths = [sparql_path(running, item.cold)]
        else:
            if server != "kommunen-kg":
                continue
            resolved = resolve_routes(running, item)
            if isinstance(resolved, str):
                rows.append(_row(server, item, "warm", None, note=resolved))
                answers.setdefault(item.name, {})[server] = {"skipped": resolved}
                continue
            warm_paths, cold_paths = resolved
        answer = check_answer(running, item, warm_paths[0])
        body = answer.pop("_body", b"")
        answers.setdefault(item.name, {})[server] = answer
        if server == "kommunen-kg" or item.name not in answers.get("_bodies", {}):
            answers.setdefault("_bodies", {})[item.name] = (body, answer.get("type", ""))
        if answer.get("status") not in item.expect:
            note = f"check answered {answer.get('status')}: {answer.get('error', '')}".strip()
            rows.append(_row(server, item, "warm", None, note=note))
            continue
        for mode in options.modes:
            if item.kind == "sparql" and options.method == "post":
                query = item.warm if mode == "warm" else item.cold
                request = Request(
                    [running.sparql_path or "/"],
                    item.accept,
                    salted=mode == "cold",
                    method="POST",
                    body=query,
                    content_type="application/sparql-query",
                )
            elif mode == "warm":
                request = Request(warm_paths, item.accept)
            elif item.kind == "sparql":
                request = Request(cold_paths, item.accept, salted=True)
            else:
                # Each path made unique by a parameter the views ignore, so that no answer
                # comes from the response cache: cycling through the paths alone measured a
                # first pass of renders and then replays, and swung 910-9,000 req/s by how
                # much of the 4 s the first pass took.
                salted = [p + ("&" if "?" in p else "?") + f"cold={SALT}" for p in cold_paths]
                request = Request(salted, item.accept, salted=True)
            say(f"  {server}: {item.name} ({mode})")
            result = run_load(
                running.base_url,
                request,
                options.duration,
                options.connections,
                timeout=options.timeout,
                generator=options.generator,
            )
            rows.append(_row(server, item, mode, result.to_json()))
            idle = wait_idle(running)
            if idle is None:
                rows[-1]["note"] = "server still busy 90 s after the load"
            elif idle > 1:
                rows[-1]["drain_s"] = round(idle, 1)


def warm_up(running: Running, items: list[Item], options: Options, seconds: float = 2.0) -> None:
    """A short, unrecorded load before the first row.

    A freshly started gunicorn answers its first seconds of load at a third of its later rate
    (seen on kommunen-kg: 1,600 then 4,400 req/s for the same lookup), which would be charged
    to whichever row comes first. Every server gets the same warm-up.
    """
    first = next((i for i in items if i.kind == "sparql"), None)
    if first is None or running.sparql_path is None:
        return
    request = Request([sparql_path(running, first.warm)], first.accept)
    run_load(
        running.base_url,
        request,
        min(seconds, options.duration),
        options.connections,
        timeout=options.timeout,
        generator=options.generator,
    )


def _row(server: str, item: Item, mode: str, load: dict | None, note: str = "") -> dict:
    row = {"server": server, "item": item.name, "kind": item.kind, "mode": mode}
    if load is not None:
        row.update(load)
    if note:
        row["note"] = note
    return row


def start_server(name: str, dataset: Dataset, folder: Path, options: Options) -> Running:
    log = folder / f"{name}.log"
    if name == "kommunen-kg":
        return servers.start_kommunen_kg(
            dataset.config,
            dataset.graphs,
            log,
            options.workers,
            options.threads,
            options.wsgi_server,
        )
    if name == "oxigraph-mem":
        return servers.start_oxigraph_memory(dataset.files, log)
    if name == "oxigraph-disk":
        location = dataset.folder / "oxigraph-db"
        if location.exists():  # loaded (and timed) while preparing the dataset
            running = servers.start_oxigraph_disk_existing(location, log)
            running.load_s = dataset.build.get("oxigraph_load_s")
            running.ready_s += running.load_s or 0
            return running
        return servers.start_oxigraph_disk(dataset.files, location, log)
    if name == "rdflib-endpoint":
        return servers.start_rdflib_endpoint(dataset.files, log)
    raise ValueError(name)


def run_server(
    name: str,
    dataset: Dataset,
    items: list[Item],
    options: Options,
    rows: list[dict],
    answers: dict,
) -> dict:
    say(f"starting {name}")
    running = start_server(name, dataset, dataset.folder, options)
    info: dict = {"label": running.name, "ready_s": round(running.ready_s, 3)}
    if running.load_s is not None:
        info["load_s"] = round(running.load_s, 3)
    say(f"{name} ready in {running.ready_s:.2f} s")
    try:
        info["memory_idle"] = running.memory().to_json()
        drive(running, items, options, rows, answers, name)
        info["memory_after_load"] = running.memory().to_json()
    finally:
        running.stop()
    return info


def memory_scaling(dataset: Dataset, items: list[Item], options: Options) -> list[dict]:
    """kommunen-kg's memory with 1, 2, 4 ... workers, each worker having answered queries."""
    found = []
    for workers in options.memory_scaling:
        running = servers.start_kommunen_kg(
            dataset.config,
            dataset.graphs,
            dataset.folder / f"kk-mem-{workers}.log",
            workers,
            server=options.wsgi_server,
        )
        try:  # the workers are forked one after the other: wait for all of them
            pid = running.process.pid
            procs.wait_for(lambda pid=pid, n=workers: len(procs.tree(pid)) > n, 30)
            for _ in range(2 * workers):
                for item in items:
                    if item.kind == "sparql":
                        http_get(running.base_url + sparql_path(running, item.warm), item.accept)
            memory = running.memory().to_json()
            memory.update(workers=workers, ready_s=round(running.ready_s, 3))
            found.append(memory)
        finally:
            running.stop()
    return found


# ---------------------------------------------------------------------------------------------
# Baselines


def run_baselines(
    dataset: Dataset, items: list[Item], answers: dict, options: Options, rows: list[dict]
) -> dict:
    info: dict = {}
    available = servers.available()
    bodies: dict = answers.get("_bodies", {})
    www = dataset.folder / "nginx" / "www"
    www.mkdir(parents=True, exist_ok=True)
    suffix = {JSON: "json", TURTLE: "ttl", "text/html": "html"}
    paths: dict[str, str] = {}
    for item in items:
        if item.name in bodies and bodies[item.name][0]:
            name = f"{item.name}.{suffix.get(item.accept, 'json')}"
            (www / name).write_bytes(bodies[item.name][0])
            paths[item.name] = "/" + name
    if available["nginx"] is None and paths:
        say("starting nginx (static ceiling)")
        running = servers.start_nginx(
            dataset.folder / "nginx", dataset.folder / "nginx.log", options.workers
        )
        info["nginx"] = {"label": running.name, "ready_s": round(running.ready_s, 3)}
        try:
            for item in items:
                if item.name not in paths:
                    continue
                status = http_get(running.base_url + paths[item.name], item.accept)[0]
                if status != 200:
                    rows.append(_row("nginx", item, "warm", None, note=f"nginx answered {status}"))
                    continue
                say(f"  nginx: {item.name}")
                result = run_load(
                    running.base_url,
                    Request([paths[item.name]], item.accept),
                    options.duration,
                    options.connections,
                    timeout=options.timeout,
                    generator=options.generator,
                )
                rows.append(_row("nginx", item, "warm", result.to_json()))
            info["nginx"]["memory_after_load"] = running.memory().to_json()
        finally:
            running.stop()
    elif available["nginx"]:
        info["nginx"] = {"skipped": available["nginx"]}
    fixed = next((i for i in items if i.name == "lookup"), None)
    if fixed is None or "lookup" not in bodies:
        return info
    body_file = dataset.folder / "fixed-body.json"
    body_file.write_bytes(bodies["lookup"][0])
    fixed_item = Item("fixed", "http", "bare Flask, fixed body", JSON, "/fixed")
    for key, server in (
        ("flask-gunicorn-sync", "gunicorn-sync"),
        ("flask-gunicorn-gthread", "gunicorn-gthread"),
        ("flask-granian", "granian"),
    ):
        if available[key]:
            info[key] = {"skipped": available[key]}
            continue
        say(f"starting {key}")
        running = servers.start_fixed_flask(
            server, body_file, JSON, dataset.folder / f"{key}.log", options.workers, options.threads
        )
        info[key] = {
            "label": running.name,
            "ready_s": round(running.ready_s, 3),
            "body_bytes": len(bodies["lookup"][0]),
        }
        try:
            run_load(
                running.base_url,
                Request(["/fixed"], JSON),
                min(2.0, options.duration),
                options.connections,
                timeout=options.timeout,
                generator=options.generator,
            )  # warm-up, unrecorded (see warm_up)
            result = run_load(
                running.base_url,
                Request(["/fixed"], JSON),
                options.duration,
                options.connections,
                timeout=options.timeout,
                generator=options.generator,
            )
            rows.append(_row(key, fixed_item, "warm", result.to_json()))
            info[key]["memory_after_load"] = running.memory().to_json()
        finally:
            running.stop()
    return info


# ---------------------------------------------------------------------------------------------
# The whole run


def machine() -> dict:
    def version(command: list[str]) -> str:
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=10)
            return (done.stdout or done.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return "missing"

    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", "-C", str(ROOT), *args], capture_output=True, text=True, timeout=10
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    return {
        "started": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_start": procs.loadavg(),
        "git_branch": git("rev-parse", "--abbrev-ref", "HEAD"),
        "git_commit": git("rev-parse", "--short=12", "HEAD"),
        "wrk": version(["wrk", "--version"]) if have_wrk() else "missing (Python generator)",
        "nginx": version(["nginx", "-v"]) if shutil.which("nginx") else "missing",
    }


def run(options: Options, progress: Callable[[str], None] | None = None) -> dict:
    started = time.perf_counter()
    available = servers.available()
    results: dict = {
        "machine": machine(),
        "options": {
            "scales": [scale_name(s) for s in options.scales],
            "duration_s": options.duration,
            "connections": options.connections,
            "workers": options.workers,
            "threads": options.threads,
            "wsgi_server": options.wsgi_server,
            "modes": list(options.modes),
            "timeout_s": options.timeout,
            "generator": options.generator
            if options.generator != "auto"
            else ("wrk" if have_wrk() else "python"),
            "seed": options.seed,
            "method": options.method,
            "settings": list(options.settings),
        },
        "skipped": {k: v for k, v in available.items() if v},
        "scales": {},
    }
    for index, scale in enumerate(options.scales):
        name = scale_name(scale)
        say(f"scale {name}: preparing")
        holder = options.keep / name if options.keep else Path(tempfile.mkdtemp(prefix="bench-"))
        holder.mkdir(parents=True, exist_ok=True)
        holder.chmod(0o755)  # nginx's workers (user nobody) read the answer files in it
        try:
            dataset = prepare(scale, holder, options)
            items = sparql_items(BASE_IRI, dataset.params) + http_items(dataset.params)
            if options.only:
                items = [i for i in items if i.name in options.only]
            rows: list[dict] = []
            answers: dict = {}
            server_info: dict = {}
            for server in options.servers:
                if available.get(server):
                    server_info[server] = {"skipped": available[server]}
                    say(f"skipping {server}: {available[server]}")
                    continue
                try:
                    server_info[server] = run_server(server, dataset, items, options, rows, answers)
                except (RuntimeError, TimeoutError, OSError) as exc:
                    server_info[server] = {"failed": f"{type(exc).__name__}: {exc}"}
                    say(f"{server} failed: {exc}")
            last = index == len(options.scales) - 1
            if options.baselines == "every" or (options.baselines == "last" and last):
                server_info.update(run_baselines(dataset, items, answers, options, rows))
            scaling = []
            if options.memory_scaling and "kommunen-kg" in options.servers:
                say("kommunen-kg memory per number of workers")
                scaling = memory_scaling(dataset, items, options)
            answers.pop("_bodies", None)
            results["scales"][name] = {
                "triples": {
                    "generated": dataset.params["triples"],
                    "served": dataset.build["kommunen_kg"]["triples"],
                },
                "sizes": dataset.params["sizes"],
                "workload": {k: v for k, v in dataset.params["workload"].items() if k != "talks"},
                "queries": {
                    i.name: {"title": i.title, "kind": i.kind, "warm": i.warm, "cold": i.cold}
                    for i in items
                },
                "build": dataset.build,
                "servers": server_info,
                "memory_scaling": scaling,
                "answers": answers,
                "rows": rows,
            }
        finally:
            if not options.keep:
                shutil.rmtree(holder, ignore_errors=True)
    results["machine"]["loadavg_end"] = procs.loadavg()
    results["machine"]["total_s"] = round(time.perf_counter() - started, 1)
    return results


def save(results: dict, options: Options) -> Path:
    from . import report

    options.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    scales = "-".join(results["options"]["scales"])
    path = options.out / f"bench-{scales}-{stamp}.json"
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    (options.out / "latest.json").write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    plots = report.plot(results, options.out)
    if options.readme:
        report.write_readme([results], ROOT / "bench" / "README.md", plots)
    return path


def geomean(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    if not values:
        return None
    return math.exp(sum(math.log(max(v, 1e-3)) for v in values) / len(values))
