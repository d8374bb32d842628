"""``python -m bench``: generate data, run the benchmark, or redraw a report.

python -m bench run --scale 1e3 --scale 1e5          # the default run (< 20 min)
python -m bench run --scale 1e5 --duration 10        # longer, steadier numbers
python -m bench generate --scale 1e5 --out /tmp/gen  # only the data (Turtle)
python -m bench report bench/results/latest.json     # redraw tables and plot
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .generate import generate, parse_scale
from .run import PEERS, RESULTS, Options, run, save, say


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="generate, build, serve and load; write JSON, README, plot")
    r.add_argument(
        "--scale",
        action="append",
        default=None,
        help="triples: 1e3, 1e5, 1e6 or a number (repeatable; default 1e3 and 1e5)",
    )
    r.add_argument(
        "--duration",
        type=float,
        default=4.0,
        help="seconds of load per request kind and mode (default 4: 1e3 and 1e5 in < 20 min)",
    )
    r.add_argument("--connections", type=int, default=8)
    r.add_argument("--workers", type=int, default=2, help="kommunen-kg and baseline workers")
    r.add_argument("--threads", type=int, default=16, help="threads per kommunen-kg worker")
    r.add_argument(
        "--wsgi-server",
        choices=("granian", "gunicorn"),
        default="granian",
        help="the WSGI server kommunen-kg runs under (kommunen-kg serve --server)",
    )
    r.add_argument("--mode", action="append", choices=("warm", "cold"), default=None)
    r.add_argument(
        "--server",
        action="append",
        choices=PEERS,
        default=None,
        help="servers to compare (default: all four)",
    )
    r.add_argument(
        "--baselines",
        choices=("last", "every", "none"),
        default="last",
        help="nginx and bare-Flask ceilings: at the largest scale only (default)",
    )
    r.add_argument("--only", action="append", default=None, help="run only this request kind")
    r.add_argument(
        "--method",
        choices=("get", "post"),
        default="get",
        help="send SPARQL queries as GET ?query= (default) or POST application/sparql-query",
    )
    r.add_argument("--timeout", type=float, default=10.0, help="request timeout (s)")
    r.add_argument("--generator", choices=("auto", "wrk", "python"), default="auto")
    r.add_argument("--no-naive", action="store_true", help="skip the rdflib + pyshacl timing")
    r.add_argument(
        "--memory-workers",
        default="1,2,4",
        help="worker counts for kommunen-kg's memory scaling ('' to skip)",
    )
    r.add_argument("--out", type=Path, default=RESULTS, help="folder for JSON and plots")
    r.add_argument("--keep", type=Path, default=None, help="keep data and logs in this folder")
    r.add_argument("--no-readme", action="store_true", help="do not rewrite bench/README.md")
    r.add_argument("--seed", type=int, default=20201111)
    r.add_argument(
        "--setting",
        action="append",
        default=None,
        metavar="KEY=VALUE",
        help="a [server] setting of kommunen-kg.toml for the run, written as TOML "
        "(repeatable; e.g. query_workers_max=2), to measure a configuration against the default",
    )

    g = sub.add_parser("generate", help="write the synthetic graph as Turtle")
    g.add_argument("--scale", default="1e3")
    g.add_argument("--out", type=Path, required=True, help="folder for the .ttl files")
    g.add_argument("--seed", type=int, default=20201111)

    p = sub.add_parser("report", help="rewrite README tables and plot from a results JSON")
    p.add_argument("results", type=Path, nargs="+", help="one or more results JSON files")
    p.add_argument("--out", type=Path, default=RESULTS)

    args = parser.parse_args(argv)
    if args.command == "generate":
        done = generate(parse_scale(args.scale), args.out, seed=args.seed)
        print(json.dumps({k: v for k, v in done.to_json().items() if k != "workload"}, indent=2))
        return 0
    if args.command == "report":
        from . import report

        runs = [json.loads(path.read_text(encoding="utf-8")) for path in args.results]
        args.out.mkdir(parents=True, exist_ok=True)
        plots = [plot for run in runs for plot in report.plot(run, args.out)]
        report.write_readme(runs, RESULTS.parent / "README.md", plots)
        return 0
    options = Options(
        scales=[parse_scale(s) for s in (args.scale or ["1e3", "1e5"])],
        duration=args.duration,
        connections=args.connections,
        workers=args.workers,
        threads=args.threads,
        wsgi_server=args.wsgi_server,
        modes=tuple(args.mode or ("warm", "cold")),
        servers=tuple(args.server or PEERS),
        baselines=args.baselines,
        only=tuple(args.only or ()),
        timeout=args.timeout,
        generator=args.generator,
        naive=not args.no_naive,
        memory_scaling=tuple(int(w) for w in args.memory_workers.split(",") if w.strip()),
        out=args.out,
        keep=args.keep,
        readme=not args.no_readme,
        seed=args.seed,
        method=args.method,
        settings=tuple(args.setting or ()),
    )
    results = run(options)
    path = save(results, options)
    say(f"results in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
