"""Turning a run's JSON into the Markdown tables of bench/README.md and a throughput plot.

Ratios are what count on a shared, noisy machine: every ratio here is computed between
servers measured in the same run, on the same data, with the same load.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

START = "<!-- bench:results:start -->"
END = "<!-- bench:results:end -->"
SHORT = {
    "kommunen-kg": "kommunen-kg",
    "oxigraph-mem": "Oxigraph (mem)",
    "oxigraph-disk": "Oxigraph (disk)",
    "rdflib-endpoint": "rdflib-endpoint",
    "nginx": "nginx static",
}
SERVERS = ("kommunen-kg", "oxigraph-mem", "oxigraph-disk", "rdflib-endpoint")


def _rows(scale: dict, server: str, mode: str) -> dict[str, dict]:
    return {
        r["item"]: r
        for r in scale["rows"]
        if r["server"] == server and r["mode"] == mode and "rps" in r
    }


def _rps_floor(row: dict) -> float:
    """Throughput, with 'nothing finished' counted as half a request in the run."""
    if row.get("requests"):
        return row["rps"]
    return 0.5 / max(row.get("seconds") or 1.0, 1.0)


def geomean(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    if not values:
        return None
    return math.exp(sum(math.log(max(v, 1e-6)) for v in values) / len(values))


def sparql_geomean(scale: dict, server: str, mode: str) -> float | None:
    rows = _rows(scale, server, mode)
    names = [n for n, q in scale["queries"].items() if q["kind"] == "sparql"]
    if not rows or any(n not in rows for n in names):
        return None
    return geomean([_rps_floor(rows[n]) for n in names])


def _fmt_rps(value: float | None) -> str:
    if value is None:
        return "–"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2g}"


def _fmt_ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "–"
    ratio = a / b
    return f"{ratio:.2f}x" if ratio < 10 else f"{ratio:.0f}x"


def _cell(row: dict | None) -> str:
    if row is None:
        return "–"
    if "rps" not in row:
        return "skipped"
    if not row.get("requests"):
        return f"0 ({row.get('errors', 0)} err)"
    text = f"{_fmt_rps(row['rps'])} ({row['p50_ms']:.0f}/{row['p99_ms']:.0f} ms)"
    if row.get("errors"):
        text += f" **{row['errors']} err**"
    return text


def throughput_table(scale: dict, mode: str) -> list[str]:
    present = [s for s in SERVERS if _rows(scale, s, mode)]
    if not present:
        return []
    lines = [
        "| request | " + " | ".join(SHORT[s] for s in present) + " | vs Oxigraph (mem) "
        "| vs rdflib-endpoint |",
        "|---|" + "---|" * (len(present) + 2),
    ]
    by_server = {s: _rows(scale, s, mode) for s in present}
    for name in scale["queries"]:
        cells = [_cell(by_server[s].get(name)) for s in present]
        ours = by_server.get("kommunen-kg", {}).get(name)
        ox = by_server.get("oxigraph-mem", {}).get(name)
        rl = by_server.get("rdflib-endpoint", {}).get(name)
        note = next(
            (
                r.get("note")
                for r in scale["rows"]
                if r["item"] == name and r["server"] == "kommunen-kg" and "rps" not in r
            ),
            None,
        )
        if note and all(c in ("–", "skipped") for c in cells):
            cells = [f"skipped: {note}", *cells[1:]]
        lines.append(
            f"| {name} | "
            + " | ".join(cells)
            + f" | {_fmt_ratio(ours and _rps_floor(ours), ox and _rps_floor(ox))}"
            + f" | {_fmt_ratio(ours and _rps_floor(ours), rl and _rps_floor(rl))} |"
        )
    means = {s: sparql_geomean(scale, s, mode) for s in present}
    lines.append(
        "| **geo-mean (SPARQL)** | "
        + " | ".join(f"**{_fmt_rps(means[s])}**" for s in present)
        + f" | **{_fmt_ratio(means.get('kommunen-kg'), means.get('oxigraph-mem'))}**"
        + f" | **{_fmt_ratio(means.get('kommunen-kg'), means.get('rdflib-endpoint'))}** |"
    )
    return lines


def baseline_table(scale: dict) -> list[str]:
    nginx = _rows(scale, "nginx", "warm")
    fixed = {
        key: r for r in scale["rows"] if (key := r["server"]).startswith("flask-") and "rps" in r
    }
    if not nginx and not fixed:
        return []
    ours = _rows(scale, "kommunen-kg", "warm")
    lines = [
        "| request | nginx, same bytes (ceiling) | kommunen-kg warm | kommunen-kg / ceiling |",
        "|---|---|---|---|",
    ]
    for name, row in nginx.items():
        mine = ours.get(name)
        lines.append(
            f"| {name} | {_cell(row)} | {_cell(mine)} | "
            f"{_pct(mine and _rps_floor(mine), row['rps'])} |"
        )
    if fixed:
        lines += ["", "| bare Flask, fixed body | req/s (p50/p99) | memory PSS |", "|---|---|---|"]
        for key, row in fixed.items():
            info = scale["servers"].get(key, {})
            pss = info.get("memory_after_load", {}).get("pss_mib")
            lines.append(f"| {info.get('label', key)} | {_cell(row)} | {pss or '–'} MiB |")
    return lines


def _pct(a: float | None, b: float | None) -> str:
    if a is None or not b:
        return "–"
    return f"{100 * a / b:.1f} %"


def build_table(scale: dict) -> list[str]:
    build = scale["build"]
    ours = build.get("kommunen_kg", {})
    naive = build.get("naive", {})
    lines = [
        "| step | seconds | peak RSS |",
        "|---|---|---|",
        f"| kommunen-kg build (parse + SHACL + enrich + write) | {ours.get('wall_s', '–')} "
        f"({', '.join(f'{k} {v}' for k, v in ours.get('steps_s', {}).items() if k != 'total')})"
        f" | {ours.get('peak_rss_mib', '–')} MiB |",
    ]
    if naive:
        steps = ", ".join(f"{k} {v}" for k, v in naive.get("steps_s", {}).items())
        lines.append(
            f"| naive: rdflib parse + pyshacl | {naive.get('wall_s', naive.get('error', '–'))} "
            f"({steps}) | {naive.get('peak_rss_mib', '–')} MiB |"
        )
    if "oxigraph_load_s" in build:
        lines.append(f"| `oxigraph load` of the same TriG | {build['oxigraph_load_s']} | – |")
    if naive.get("wall_s") and ours.get("wall_s"):
        lines.append(
            f"| **naive / kommunen-kg build** | **{naive['wall_s'] / ours['wall_s']:.2f}x** | |"
        )
    return lines


def servers_table(scale: dict) -> list[str]:
    lines = [
        "| server | ready (s) | of which loading (s) | RSS idle / after load (MiB) "
        "| PSS idle / after load (MiB) | processes |",
        "|---|---|---|---|---|---|",
    ]
    for key, info in scale["servers"].items():
        if "skipped" in info or "failed" in info:
            lines.append(f"| {key} | {info.get('skipped') or info.get('failed')} | | | | |")
            continue
        idle, after = info.get("memory_idle", {}), info.get("memory_after_load", {})
        lines.append(
            f"| {info.get('label', key)} | {info.get('ready_s', '–')} | {info.get('load_s', '')} "
            f"| {idle.get('rss_mib', '–')} / {after.get('rss_mib', '–')} "
            f"| {idle.get('pss_mib', '–')} / {after.get('pss_mib', '–')} "
            f"| {after.get('processes', idle.get('processes', '–'))} |"
        )
    scaling = scale.get("memory_scaling") or []
    if scaling:
        lines += [
            "",
            "kommunen-kg memory by number of server workers (each worker has answered every "
            "query; PSS shares the pre-loaded store's pages among the processes):",
            "",
            "| workers | processes | RSS sum (MiB) | PSS sum (MiB) | PSS per process (MiB) |",
            "|---|---|---|---|---|",
        ]
        for m in scaling:
            lines.append(
                f"| {m['workers']} | {m['processes']} | {m['rss_mib']} | {m['pss_mib']} "
                f"| {', '.join(str(v) for v in m['per_process_pss_mib'])} |"
            )
    return lines


def answers_table(scale: dict) -> list[str]:
    """Whether the servers gave the same answer (number of results/triples, bytes)."""
    lines = [
        "| request | " + " | ".join(SHORT[s] for s in SERVERS) + " |",
        "|---|" + "---|" * len(SERVERS),
    ]
    for name, per in scale["answers"].items():
        cells = []
        for server in SERVERS:
            a = per.get(server)
            if a is None:
                cells.append("–")
            elif "skipped" in a:
                cells.append("skipped")
            else:
                results = a.get("results", "")
                cells.append(f"{a.get('status')} {results} ({a.get('bytes', 0):,} B)")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def targets(scale: dict, results_options: dict | None = None) -> list[str]:
    """The issue's targets, as measured in this run (``results_options``: the run's options)."""
    results_options = results_options or {}
    out = []
    cold_ours = sparql_geomean(scale, "kommunen-kg", "cold")
    cold_ox = sparql_geomean(scale, "oxigraph-mem", "cold")
    cold_rl = sparql_geomean(scale, "rdflib-endpoint", "cold")
    warm_ours = sparql_geomean(scale, "kommunen-kg", "warm")
    warm_ox = sparql_geomean(scale, "oxigraph-mem", "warm")
    errors = sum(r.get("errors", 0) for r in scale["rows"] if r["server"] == "kommunen-kg")

    def check(ok: bool | None) -> str:
        return "–" if ok is None else ("met" if ok else "**not met**")

    def ratio(a, b):
        return a / b if a is not None and b else None

    r = ratio(cold_ours, cold_ox)
    out.append(
        f"| cold geo-mean >= 0.8x Oxigraph (mem) | {_fmt_ratio(cold_ours, cold_ox)} | "
        f"{check(r and r >= 0.8)} |"
    )
    r = ratio(cold_ours, cold_rl)
    out.append(
        f"| cold geo-mean >= 20x rdflib-endpoint | {_fmt_ratio(cold_ours, cold_rl)} | "
        f"{check(r and r >= 20)} |"
    )
    out.append(f"| no errors (kommunen-kg, all rows) | {errors} | {check(errors == 0)} |")
    r = ratio(warm_ours, warm_ox)
    out.append(
        f"| warm geo-mean >= 5x Oxigraph (mem) | {_fmt_ratio(warm_ours, warm_ox)} | "
        f"{check(r and r >= 5)} |"
    )
    nginx = _rows(scale, "nginx", "warm")
    ours = _rows(scale, "kommunen-kg", "warm")
    shares = [ours[n]["rps"] / row["rps"] for n, row in nginx.items() if n in ours and row["rps"]]
    if shares:
        worst = min(shares)
        out.append(
            f"| every warm answer >= 10% of nginx (same bytes) | worst {100 * worst:.1f} % "
            f"| {check(worst >= 0.10)} |"
        )
    # The bare Flask app under the WSGI server kommunen-kg ran under, in the same run.
    wsgi = results_options.get("wsgi_server", "gunicorn")
    baseline = "flask-granian" if wsgi == "granian" else "flask-gunicorn-gthread"
    fixed = next((r for r in scale["rows"] if r["server"] == baseline and "rps" in r), None)
    for name in ("page", "data"):
        if fixed and name in ours:
            share = ours[name]["rps"] / fixed["rps"]
            out.append(
                f"| {name} >= 1/3 of bare Flask ({wsgi}) | {100 * share:.0f} % "
                f"| {check(share >= 1 / 3)} |"
            )
    build = scale["build"]
    naive, mine = build.get("naive", {}).get("wall_s"), build["kommunen_kg"].get("wall_s")
    if naive and mine:
        out.append(
            f"| build >= 2x faster than naive | {naive / mine:.2f}x | {check(naive / mine >= 2)} |"
        )
    peak = build["kommunen_kg"].get("peak_rss_mib")
    if peak:
        out.append(f"| build within 2 GB | {peak:.0f} MiB | {check(peak <= 2048)} |")
    ready = scale["servers"].get("kommunen-kg", {}).get("ready_s")
    load = build.get("oxigraph_load_s")
    if ready and load:
        out.append(
            f"| server ready within 2x `oxigraph load` | {ready / load:.2f}x "
            f"| {check(ready / load <= 2)} |"
        )
    scaling = scale.get("memory_scaling") or []
    ox_mem = scale["servers"].get("oxigraph-mem", {}).get("memory_after_load", {}).get("pss_mib")
    if scaling and ox_mem:
        per_worker = max(m["pss_mib"] / m["workers"] for m in scaling)
        out.append(
            f"| memory per worker <= 2x Oxigraph (mem) | {per_worker:.0f} MiB vs "
            f"{ox_mem:.0f} MiB | {check(per_worker <= 2 * ox_mem)} |"
        )
    if not out:
        return []
    return ["| target | measured | |", "|---|---|---|", *out]


def markdown(results: dict, plots: list[Path]) -> str:
    m, o = results["machine"], results["options"]
    lines = [
        f"Run of {m['started']} on branch `{m['git_branch']}` ({m['git_commit']}): "
        f"{m['cpus']} cores, load average {m['loadavg_start']} at the start and "
        f"{m.get('loadavg_end')} at the end (other work was running on the machine), "
        f"{o['connections']} connections, {o['duration_s']} s per request kind and mode, "
        f"load by {o['generator']} ({m['wrk']}), kommunen-kg under "
        f"{o.get('wsgi_server', 'gunicorn')} with {o['workers']} workers x {o['threads']} "
        f"threads, {m.get('total_s')} s in all.",
        "",
        "Cells: requests/s (p50/p99 latency). Ratios compare kommunen-kg with the peer in the "
        "same run; the geo-mean is over the SPARQL queries (a query with no completed request "
        "counts as half a request in the run).",
    ]
    if results.get("skipped"):
        lines += [
            "",
            "Not run here: " + "; ".join(f"{k}: {v}" for k, v in results["skipped"].items()) + ".",
        ]
    for name, scale in results["scales"].items():
        t = scale["triples"]
        lines += [
            "",
            f"### {name}: {t['generated']:,} generated triples, "
            f"{t['served'].get('knowledge_graph', 0):,} in the knowledge graph served",
            "",
            "Build:",
            "",
            *build_table(scale),
            "",
            "Servers:",
            "",
            *servers_table(scale),
        ]
        for mode in o["modes"]:
            table = throughput_table(scale, mode)
            if table:
                lines += ["", f"Throughput, {mode}:", "", *table]
        base = baseline_table(scale)
        if base:
            lines += ["", "HTTP ceiling (static files, same bytes) and bare Flask:", "", *base]
        goal = targets(scale, o)
        if goal:
            lines += ["", "Targets of issue 5 in this run:", "", *goal]
        lines += [
            "",
            "Answers (status, results or triples, bytes), checked once per server:",
            "",
            *answers_table(scale),
        ]
    if plots:
        lines += ["", *[f"![throughput]({p.name})" for p in plots]]
    return "\n".join(lines)


def write_readme(runs: list[dict], readme: Path, plots: list[Path]) -> None:
    """Rewrites the marked section of bench/README.md with one or more runs' tables.

    The rest of the README is left as it is. Several runs (say the default 1e3 + 1e5 run and
    a 1e6 run of the build) are shown one after the other, each with its own conditions.
    """
    committed = []
    for plot_path in plots:  # the plots beside the README are the ones the tables refer to
        target = readme.parent / plot_path.name
        shutil.copyfile(plot_path, target)
        committed.append(target)
    text = readme.read_text(encoding="utf-8") if readme.exists() else f"{START}\n{END}\n"
    if START not in text or END not in text:
        text = text.rstrip() + f"\n\n{START}\n{END}\n"
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    body = "\n\n".join(markdown(run, []) for run in runs)
    if committed:
        body += "\n\n" + "\n".join(f"![throughput]({p.name})" for p in committed)
    readme.write_text(f"{head}{START}\n{body}\n{END}{tail}", encoding="utf-8")


def plot(results: dict, folder: Path) -> list[Path]:
    """One PNG per scale: requests/s per request kind and server, warm and cold, log scale."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    written = []
    for name, scale in results["scales"].items():
        modes = [
            m
            for m in results["options"]["modes"]
            if any(r["mode"] == m and "rps" in r for r in scale["rows"])
        ]
        if not modes:
            continue
        figure, axes = plt.subplots(len(modes), 1, figsize=(12, 4.2 * len(modes)), squeeze=False)
        items = list(scale["queries"])
        servers = [
            s
            for s in (*SERVERS, "nginx")
            if any(r["server"] == s and "rps" in r for r in scale["rows"])
        ]
        width = 0.8 / max(1, len(servers))
        for ax, mode in zip(axes[:, 0], modes, strict=True):
            for k, server in enumerate(servers):
                rows = _rows(scale, server, mode if server != "nginx" else "warm")
                if server == "nginx" and mode != "warm":
                    continue
                xs = [
                    i + (k - len(servers) / 2 + 0.5) * width
                    for i, n in enumerate(items)
                    if n in rows
                ]
                ys = [max(_rps_floor(rows[n]), 0.01) for n in items if n in rows]
                ax.bar(xs, ys, width, label=SHORT.get(server, server))
            ax.set_yscale("log")
            low, high = ax.get_ylim()
            ax.set_ylim(low, high * 30)  # room for the legend above the bars
            ax.set_ylabel("requests/s (log)")
            ax.set_title(f"{name} triples, {mode}")
            ax.set_xticks(range(len(items)))
            ax.set_xticklabels(items, rotation=25, ha="right", fontsize=8)
            ax.grid(axis="y", alpha=0.3)
            ax.legend(fontsize=8, ncols=len(servers), loc="upper right")
        figure.tight_layout()
        path = folder / f"throughput-{name}.png"
        figure.savefig(path, dpi=90)
        plt.close(figure)
        written.append(path)
    return written
