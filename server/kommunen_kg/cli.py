"""The ``kommunen-kg`` command: build, validate, serve, publish.

Each subcommand is a thin layer over a module that does the work, so that tests and other
programs can call the same functions. Messages go to stderr, results to stdout; exit code 0
means success, 1 means the data or the request was refused (with a report), 2 a usage error.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import NoReturn

import click

from kommunen_kg import __version__
from kommunen_kg.config import Config, ConfigError, load_config
from kommunen_kg.web.serving import RESERVED_THREADS, SERVERS

LANGS = click.Choice(["de", "en"])
config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Configuration file (default: the nearest kommunen-kg.toml).",
)


validator_option = click.option(
    "--validator",
    type=click.Choice(["fast", "pyshacl"]),
    default="fast",
    show_default=True,
    help="SHACL validator: fast compiles the shapes into SPARQL queries over the whole data "
    "(and hands any shape it cannot compile to pyshacl); pyshacl is the reference "
    "implementation, slower on large data. Both give the same report.",
)


def _derived(config: Config) -> Callable[[Mapping[str, bytes]], dict[str, bytes]]:
    """What the build writes beside the dumps for the server (the site index)."""
    from kommunen_kg.web.publication import derived_files

    return lambda files: derived_files(config, files)


def _config(config_path: str | None, base_iri: str | None = None):
    try:
        config = load_config(config_path)
        return config.with_base_iri(base_iri) if base_iri else config
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc


def _progress(message: str) -> None:
    click.echo(f"· {message}", err=True)


def _stop(exc: Exception, lang: str) -> NoReturn:
    """Says why a command cannot go on, in ``lang`` where the error has words in both
    languages (``messages``, or ``text(lang)`` as BuildFailed has), and exits with 1."""
    messages = getattr(exc, "messages", None)
    if isinstance(messages, dict):
        said = messages[lang]
    elif hasattr(exc, "text"):
        said = exc.text(lang)
    else:
        said = str(exc)
    click.echo(said, err=True)
    sys.exit(1)


def _build_progress(lang: str):
    """The build's progress lines, in ``lang``."""
    return lambda step: _progress(step.text(lang))


def _prefixes(config: Config) -> dict[str, str]:
    """The prefixes that reports abbreviate IRIs with."""
    from kommunen_kg.rdf.namespaces import ProjectIRIs

    return ProjectIRIs.from_config(config).prefixes()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kommunen-kg")
def main() -> None:
    """Publish the "Kommunen innovativ" documentation as a Linked Open Data knowledge graph."""


@main.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Release folder to write into (default: graphs/ from the configuration).",
)
@config_option
@click.option(
    "--base-iri", default=None, help="Mint IRIs under this base instead of the configured one."
)
@click.option(
    "--lang", type=LANGS, default="en", show_default=True, help="Language of the validation report."
)
@validator_option
@click.option("--quiet", "-q", is_flag=True, help="Print only problems and the result.")
def build(
    out: Path | None,
    config_path: str | None,
    base_iri: str | None,
    lang: str,
    validator: str,
    quiet: bool,
) -> None:
    """Parse, validate, enrich and write a new release (atomically).

    A SHACL violation stops the build with exit code 1 and a report naming, for each problem,
    the file and line, the resource, the property, the value and what is wrong. The last good
    release stays as it was.
    """
    from kommunen_kg.build.pipeline import BuildFailed
    from kommunen_kg.build.pipeline import build as run_build

    config = _config(config_path, base_iri)
    _require_shapes(config, lang)
    try:
        result = run_build(
            config,
            out=out,
            progress=None if quiet else _build_progress(lang),
            validator=validator,
            derived=_derived(config),
        )
    except BuildFailed as exc:
        if exc.report is not None:
            click.echo(exc.report.to_text(lang, _prefixes(config)), err=True)
        message = "Build gestoppt" if lang == "de" else "Build stopped"
        kept = (
            "die bisherige Veröffentlichung bleibt unverändert"
            if lang == "de"
            else ("the previous release is unchanged")
        )
        click.echo(f"{message}: {exc.text(lang)}; {kept}.", err=True)
        sys.exit(1)
    notes = [p for p in result.report.problems if p.severity != "Violation"]
    if notes and not quiet:
        click.echo(result.report.to_text(lang, _prefixes(config)), err=True)
    if not config.contact.email:
        # Portals show the contact point's email to people with a question about the data;
        # the catalog names the contact's web page meanwhile.
        click.echo(
            "Warnung: [contact] email in kommunen-kg.toml ist leer; der Katalog nennt nur "
            f"die Webseite {config.contact.url or config.base_iri} als Kontakt."
            if lang == "de"
            else "Warning: [contact] email in kommunen-kg.toml is empty; the catalog names only "
            f"the web page {config.contact.url or config.base_iri} as contact.",
            err=True,
        )
    release = result.release
    triples = release.manifest["counts"]["knowledge_graph"]
    seconds = result.timings["total"]
    if lang == "de":
        state = "unverändert, schon veröffentlicht" if result.reused else "veröffentlicht"
        grouped = f"{triples:,}".replace(",", ".")  # German groups thousands with dots
        took = f"{seconds:.2f}".replace(".", ",")
        click.echo(
            f"Veröffentlichung {release.version} {state}: {grouped} Tripel, "
            f"{len(release.files)} Dateien in {release.path} ({took} s)"
        )
    else:
        state = "unchanged, already published" if result.reused else "published"
        click.echo(
            f"release {release.version} {state}: {triples:,} triples, {len(release.files)} "
            f"files in {release.path} ({seconds:.2f} s)"
        )


@main.command()
@click.argument("files", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "turtle"]),
    default="text",
    show_default=True,
    help="Report format; turtle is the sh:ValidationReport.",
)
@config_option
@click.option("--lang", type=LANGS, default="en", show_default=True, help="Language of messages.")
@validator_option
def validate(
    files: tuple[Path, ...], fmt: str, config_path: str | None, lang: str, validator: str
) -> None:
    """Check data against the shapes without writing anything.

    Without FILES, checks the configured data/ folder. With FILES (RDF files or folders),
    checks them in the context of all the data: each named file takes the place of the data
    file of the same path, other files are added, and every reference between them resolves.
    Exit code 0 when there is no error (warnings and notes allowed), 1 otherwise.
    """
    from kommunen_kg.build.pipeline import BuildFailed, check_as_published
    from kommunen_kg.rdf.sources import SourceError, parse_sources

    config = _config(config_path)
    _require_shapes(config, lang)
    try:
        if files:
            sources = parse_sources(_in_context(config, files), config.base_iri, Path.cwd())
            report = check_as_published(config, sources, validator)
        else:
            report = check_as_published(config, validator=validator)
    except (SourceError, BuildFailed) as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    if fmt == "json":
        click.echo(report.to_json())
    elif fmt == "turtle":
        click.echo(report.to_turtle())
    else:
        click.echo(report.to_text(lang, _prefixes(config)))
    sys.exit(0 if report.passes else 1)


_NO_SHAPES = {
    "en": (
        "no kommunen-kg.toml in {cwd} or a folder above it, and no SHACL shapes in {folder}: "
        "there is nothing to check the data against. Run kommunen-kg in the project folder, or "
        "name its configuration with --config."
    ),
    "de": (
        "keine kommunen-kg.toml in {cwd} oder einem Ordner darüber und keine SHACL-Shapes in "
        "{folder}: es gibt nichts, woran die Daten zu prüfen wären. Rufen Sie kommunen-kg im "
        "Projektordner auf oder nennen Sie die Konfiguration mit --config."
    ),
}
_NO_SHAPES_CONFIGURED = {
    "en": "no SHACL shapes (shapes*.ttl) in {folder}, the ontology folder {config} names: "
    "there is nothing to check the data against.",
    "de": "keine SHACL-Shapes (shapes*.ttl) in {folder}, dem Ontologie-Ordner aus {config}: "
    "es gibt nichts, woran die Daten zu prüfen wären.",
}


def _require_shapes(config: Config, lang: str) -> None:
    """Stops with one clear line when there are no shapes to validate against.

    WHY: without them every file "conforms", and an editor who ran the command in the wrong
    folder would read 0 errors for data that was never checked.
    """
    from kommunen_kg.rdf.sources import discover

    if any(s.graph == "shapes" for s in discover(config.ontology_dir, Path("/nonexistent"))):
        return
    words = _NO_SHAPES if config.source is None else _NO_SHAPES_CONFIGURED
    raise click.ClickException(
        words.get(lang, words["en"]).format(
            cwd=Path.cwd(), folder=config.ontology_dir, config=config.source
        )
    )


def _in_context(config: Config, files: tuple[Path, ...]):
    """The sources for ``validate FILES``: the ontology and all data, each named file in place
    of the data file of the same path, the other named files added."""
    from kommunen_kg.rdf.sources import discover, files_as_sources

    named = files_as_sources(files)
    paths = {s.path.resolve() for s in named}
    everything = discover(config.ontology_dir, config.data_dir)
    graph_of = {s.path.resolve(): s.graph for s in everything}
    for source in named:  # a named ontology file keeps its part (themes, shapes, vocabulary)
        source.graph = graph_of.get(source.path.resolve(), source.graph)
    return [s for s in everything if s.path.resolve() not in paths] + named


def _migrate_req_off() -> bool:
    """Whether Linux resets the connections queued for a worker that stops (granian gives each
    worker a listening socket of its own)."""
    try:
        return Path("/proc/sys/net/ipv4/tcp_migrate_req").read_text().strip() == "0"
    except OSError:
        return False


def _refuse_taken_port(host: str, port: int) -> None:
    """Stops with one line when something listens on ``host:port`` already.

    WHY: granian binds with SO_REUSEPORT, so a second ``serve`` on the same port started
    without an error and the kernel split the requests between two servers (and two releases).
    A probe socket bound without SO_REUSEPORT fails where any other socket listens.
    """
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is no owner
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise click.ClickException(
                f"cannot listen on {host}:{port}: {exc.strerror or exc} (is another server "
                "running there? stop it, or choose another --port)"
            ) from exc


def _sources_newer_than(config, stamp: float) -> list[Path]:
    """Source files (and the configuration) changed after ``stamp``."""
    from kommunen_kg.rdf.sources import discover

    paths = [s.path for s in discover(config.ontology_dir, config.data_dir)]
    if config.source is not None:
        paths.append(config.source)
    return [p for p in paths if p.stat().st_mtime > stamp]


def ensure_release(config, lang: str = "en"):
    """The release to serve: the current one, rebuilt first when the sources are newer.

    A failing build never stops a server that has a good release: it reports the problems
    and serves the last good release.
    """
    from kommunen_kg.build.pipeline import BuildFailed
    from kommunen_kg.build.pipeline import build as run_build
    from kommunen_kg.rdf.release import CURRENT, ReleaseFolder

    folder = ReleaseFolder(config.graphs_dir)
    current = folder.current()
    if current is not None:
        stamp = (folder.root / CURRENT).stat().st_mtime
        changed = _sources_newer_than(config, stamp)
        if not changed:
            return current
        _progress(
            f"{len(changed)} source file(s) changed since release {current.version}: rebuilding"
        )
    else:
        _progress(f"no release in {folder.root} yet: building one")
    try:
        return run_build(config, progress=_build_progress(lang), derived=_derived(config)).release
    except BuildFailed as exc:
        if exc.report is not None:
            click.echo(exc.report.to_text(lang, _prefixes(config)), err=True)
        reason = exc.text(lang)
        if current is None:
            click.echo(
                f"Build gestoppt: {reason}. Es gibt keine frühere Veröffentlichung zum Ausliefern."
                if lang == "de"
                else f"Build stopped: {reason}. There is no earlier release to serve.",
                err=True,
            )
            sys.exit(1)
        click.echo(
            f"Build gestoppt: {reason}. Ausgeliefert wird die letzte gute Veröffentlichung "
            f"{current.version}."
            if lang == "de"
            else f"Build stopped: {reason}. Serving the last good release {current.version} "
            "instead.",
            err=True,
        )
        return current


@main.command()
@click.argument("sources", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--host", default=None, help="Address to listen on (default from the configuration: 127.0.0.1)."
)
@click.option("--port", type=int, default=None, help="Port to listen on (default 8080).")
@click.option("--base-iri", default=None, help="Base IRI of the published resources.")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=2,
    show_default=True,
    help="Worker processes (they share the loaded store).",
)
@click.option(
    "--threads",
    type=click.IntRange(RESERVED_THREADS + 1, 256),
    default=16,
    show_default=True,
    help=f"Request threads per worker; {RESERVED_THREADS} of them never wait for a query.",
)
@click.option(
    "--graphs",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Release folder to serve (default: graphs/ from the configuration).",
)
@config_option
@click.option("--no-build", is_flag=True, help="Serve the current release as it is, never build.")
@click.option(
    "--store",
    metavar="URL",
    envvar="KOMMUNEN_KG_STORE",
    default=None,
    help="Answer from this SPARQL 1.1 query endpoint (e.g. http://127.0.0.1:7878/query) "
    "instead of loading the release here; load it there with `kommunen-kg publish`.",
)
@click.option(
    "--server",
    "wsgi_server",
    type=click.Choice(SERVERS),
    default=SERVERS[0],
    show_default=True,
    help="Production WSGI server (granian: chosen by measurement, see bench/README.md).",
)
@click.option("--quiet", "-q", is_flag=True, help="No access log.")
def serve(
    sources: tuple[Path, ...],
    host: str | None,
    port: int | None,
    base_iri: str | None,
    workers: int,
    threads: int,
    graphs: Path | None,
    config_path: str | None,
    no_build: bool,
    store: str | None,
    wsgi_server: str,
    quiet: bool,
) -> None:
    """Serve the dataset (or the RDF files SOURCES) over HTTP.

    Without SOURCES, serves the current release of the Kommunen innovativ dataset, building it
    first when graphs/ is missing or older than the sources. With SOURCES (RDF files or
    folders in any common syntax), serves those instead. Stop with Ctrl-C.
    """
    from kommunen_kg.rdf.release import ReleaseFolder
    from kommunen_kg.rdf.sources import SourceError
    from kommunen_kg.web.app import create_app
    from kommunen_kg.web.publication import open_release, open_sources
    from kommunen_kg.web.serving import run_granian, run_gunicorn

    config = _config(config_path, base_iri)
    if graphs is not None:
        config = config.with_graphs_dir(graphs)
    host = host or config.server.host
    port = port if port is not None else config.server.port
    _refuse_taken_port(host, port)
    if store and sources:
        raise click.UsageError("give either SOURCES or --store, not both")
    try:
        if store:
            from kommunen_kg.sparql.remote.client import CredentialsInURL
            from kommunen_kg.sparql.remote.engine import RemoteStoreError
            from kommunen_kg.web.publication import open_remote_store

            try:
                publication = open_remote_store(config, store, pool_size=threads)
            except CredentialsInURL as exc:
                raise click.UsageError(str(exc)) from None
            except RemoteStoreError as exc:
                click.echo(str(exc), err=True)
                sys.exit(1)
            what = f"release {publication.version} from the SPARQL store {store}"
        elif sources:
            _progress(f"loading {len(sources)} source(s)")
            publication = open_sources(config, sources, pooled=True)
            what = f"{publication.triple_count()} triples from {len(publication.sources)} file(s)"
        else:
            if no_build:
                release = ReleaseFolder(config.graphs_dir).current()
                if release is None:
                    raise click.UsageError(
                        f"no release in {config.graphs_dir}; run kommunen-kg build"
                    )
            else:
                release = ensure_release(config)
            _progress(f"loading release {release.version}")
            publication = open_release(config, release, pooled=True)
            what = f"release {release.version}, {publication.triple_count()} triples"
    except SourceError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc

    # Client queries run in killable worker processes; each server worker forks its own pool
    # right after it is forked itself (see sparql/pool.py). Our views stay in-process. A
    # remote store needs no pool: its engine is an HTTP client with a time limit.
    def prepare(served) -> None:
        # Some threads of each server process never wait for a client query
        # (QueryPool.limit_requests).
        served.engines.limit_requests(threads - RESERVED_THREADS)

    # A release is switched in place when graphs/current (or, with --store, the store's
    # pointer) names another (web/live.py), under granian and gunicorn alike; files (serve
    # FILES) are served as they were read.
    live = None
    hooks: dict = {}
    if not sources:
        from kommunen_kg.web.live import LiveRelease

        live = LiveRelease(config, publication, prepare, store, pool_size=threads)
        # From now on the live release owns it: a reference here would keep the first
        # release's store in memory after the first switch (measured at 1e6: 440 MB that
        # every later worker then shared).
        del publication
        app = lambda: live.app  # noqa: E731 - read at each worker's fork
        hooks = {
            "post_fork": live.post_fork,
            "worker_exit": live.worker_exit,
            "on_reload": live.switch,
            "reload_with": live.reload_with,
        }
        if wsgi_server == "granian":  # gunicorn's workers end their kept-alive connections
            hooks["retiring"] = live.retiring
    else:
        prepare(publication)
        pool = publication.engines.pool
        if pool is not None:
            hooks = {"post_fork": pool.start, "worker_exit": pool.close}
        app = create_app(publication)
    shown_host = f"[{host}]" if ":" in host else host
    root = f"http://{shown_host}:{port}/"

    def ready() -> None:
        click.echo(f"kommunen-kg is serving {what}", err=True)
        click.echo(f"  home page        {root}", err=True)
        click.echo(f"  SPARQL endpoint  {root}sparql", err=True)
        click.echo(f"  dumps            {root}dumps/", err=True)
        click.echo(f"  DCAT catalog     {root}catalog", err=True)
        click.echo("Press Ctrl-C to stop.", err=True)
        if live is not None:
            live.watch()  # a new release in graphs/current is served without a restart
            if workers > 1 and _migrate_req_off():
                click.echo(
                    "  Hint: sysctl net.ipv4.tcp_migrate_req=1 keeps connections queued for a "
                    "worker that a new release replaces (docs/scaling.md).",
                    err=True,
                )

    # Everything loaded so far lives as long as the server: keep the garbage collector off
    # it, so that a collection in a forked worker does not write to (and so copy) the pages
    # the workers share with this process.
    gc.freeze()
    run = run_granian if wsgi_server == "granian" else run_gunicorn
    if wsgi_server == "granian":  # its asynchronous front bounds what a client may hold
        hooks["max_body"] = config.server.max_request_size
        hooks["client_timeout"] = config.server.client_timeout
    run(
        app,
        host=host,
        port=port,
        workers=workers,
        threads=threads,
        timeout=config.server.query_timeout,
        on_ready=ready,
        access_log=not quiet,
        **hooks,
    )


@main.command()
@click.option(
    "--store",
    metavar="URL",
    envvar="KOMMUNEN_KG_STORE",
    required=True,
    help="SPARQL 1.1 query endpoint of the store (Oxigraph: http://HOST:7878/query).",
)
@click.option(
    "--update",
    "update_url",
    metavar="URL",
    default=None,
    help="SPARQL Update endpoint (default for Oxigraph and Fuseki: beside the query endpoint).",
)
@click.option(
    "--graph-store",
    "graph_store_url",
    metavar="URL",
    default=None,
    help="Graph Store Protocol endpoint (default: Oxigraph /store, Fuseki /DATASET/data).",
)
@click.option(
    "--graphs",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Release folder to publish from (default: graphs/ from the configuration).",
)
@click.option(
    "--release",
    "version",
    metavar="VERSION",
    default=None,
    help="The release to publish (default: the current one).",
)
@click.option(
    "--timeout",
    type=float,
    default=600.0,
    show_default=True,
    help="Seconds allowed for each request to the store.",
)
@click.option(
    "--keep-old-for",
    type=click.FloatRange(min=0),
    default=600.0,
    show_default=True,
    help="Seconds a release that stopped being current stays in the store, for servers "
    "still answering from it (at least the query time limit plus 60 s).",
)
@config_option
@click.option("--quiet", "-q", is_flag=True, help="Print only problems and the result.")
def publish(
    store: str,
    update_url: str | None,
    graph_store_url: str | None,
    graphs: Path | None,
    version: str | None,
    timeout: float,
    keep_old_for: float,
    config_path: str | None,
    quiet: bool,
) -> None:
    """Load a release into a remote SPARQL store and make it the one served.

    Releases live side by side in the store, each under graph names of its own; one small
    SPARQL Update moves the pointer that names the current one, whatever the size of the
    release, and every `kommunen-kg serve --store` follows within seconds. Readers see the
    five public graph names ({base}graph/vocabulary, themes, shapes, data, metadata) and never
    half a release. Releases replaced longer than --keep-old-for ago are dropped.
    """
    from kommunen_kg.rdf.release import ReleaseFolder
    from kommunen_kg.sparql.remote.client import CredentialsInURL, StoreEndpoints
    from kommunen_kg.sparql.remote.publish import PublishFailed
    from kommunen_kg.sparql.remote.publish import publish as publish_release

    config = _config(config_path)
    if graphs is not None:
        config = config.with_graphs_dir(graphs)
    folder = ReleaseFolder(config.graphs_dir)
    release = folder.read(version) if version else folder.current()
    if release is None:
        raise click.UsageError(
            f"no release {version or 'current'} in {config.graphs_dir}; run kommunen-kg build"
        )
    least = config.server.query_timeout + 60
    if keep_old_for < least:
        raise click.UsageError(
            f"--keep-old-for {keep_old_for:g} is shorter than servers may read the old release: "
            f"the time they take to switch (up to about 20 s at 1e6 triples) plus the query time "
            f"limit ({config.server.query_timeout:g} s); use {least:g} or more"
        )
    try:
        endpoints = StoreEndpoints(store, update_url, graph_store_url)
    except CredentialsInURL as exc:
        raise click.UsageError(str(exc)) from None
    try:
        result = publish_release(
            release,
            endpoints,
            progress=None if quiet else _progress,
            timeout=timeout,
            dataset_slug=config.dataset.dataset_slug,
            keep_old_for=keep_old_for,
        )
    except PublishFailed as exc:
        click.echo(f"Publish stopped: {exc}. The store serves what it served before.", err=True)
        sys.exit(1)
    replaced = f" (replacing {result.previous})" if result.previous else ""
    click.echo(
        f"release {result.version} published into {store}{replaced}: "
        f"{sum(result.counts.values())} triples in {len(result.graphs)} graphs "
        f"({result.timings['total']:.2f} s, the switch {result.timings['switch']:.2f} s)"
    )
    if result.dropped:
        click.echo(f"dropped from the store: {', '.join(result.dropped)}")


@main.group()
def workbook() -> None:
    """The data as a workbook (.xlsx) for the documentation team: export, edit, import.

    See docs/authoring.md for the steps, in German and English.
    """


@workbook.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@config_option
@click.option("--lang", type=LANGS, default="en", show_default=True, help="Language of messages.")
@click.option(
    "--force", is_flag=True, help="Replace FILE if it exists (it may hold edits not imported)."
)
def workbook_export(file: Path, config_path: str | None, lang: str, force: bool) -> None:
    """Write the current data to the workbook FILE (.xlsx; .ods through LibreOffice), one
    sheet per kind and a row per entry."""
    from kommunen_kg.build.pipeline import BuildFailed
    from kommunen_kg.build.workbook.export import ExportProblem, export_workbook
    from kommunen_kg.build.workbook.importer import layout_for
    from kommunen_kg.build.workbook.office import OfficeMissing
    from kommunen_kg.rdf.sources import SourceError

    config = _config(config_path)
    _require_shapes(config, lang)
    if file.exists() and not force:
        click.echo(
            f"{file} gibt es schon und kann Änderungen enthalten, die noch nicht übernommen "
            "sind; einen anderen Namen wählen oder --force."
            if lang == "de"
            else f"{file} exists and may hold edits not imported yet; choose another name or "
            "use --force.",
            err=True,
        )
        sys.exit(1)
    if file.suffix.lower() not in (".xlsx", ".ods"):
        raise click.UsageError(
            f"{file}: eine Arbeitsmappe ist eine .xlsx- oder .ods-Datei"
            if lang == "de"
            else f"{file}: a workbook is an .xlsx or .ods file"
        )
    try:
        counts = export_workbook(layout_for(config), file)
    except (OfficeMissing, SourceError, BuildFailed) as exc:
        _stop(exc, lang)
    except ExportProblem as exc:
        click.echo(
            (
                "Die Daten lassen sich nicht verlustfrei als Arbeitsmappe schreiben:\n"
                if lang == "de"
                else "The data cannot be written as a workbook without loss:\n"
            )
            + str(exc),
            err=True,
        )
        sys.exit(1)
    total = sum(counts.values())
    sheets = ", ".join(f"{name} {count}" for name, count in counts.items())
    click.echo(
        f"{file}: {total} Einträge auf {len(counts)} Blättern ({sheets})"
        if lang == "de"
        else f"{file}: {total} entries on {len(counts)} sheets ({sheets})"
    )


@workbook.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@config_option
@click.option("--lang", type=LANGS, default="en", show_default=True, help="Language of messages.")
@click.option("--check", "check_only", is_flag=True, help="Only check; write no Turtle file.")
@validator_option
def workbook_import(
    file: Path, config_path: str | None, lang: str, check_only: bool, validator: str
) -> None:
    """Check the workbook FILE (.xlsx; .ods through LibreOffice) and write its changes into
    the Turtle files of data/.

    Every problem is named at its cell (Vorträge!C14) with the build's message; nothing is
    written while an error remains. Only entries that differ from the data are rewritten, in
    the file that describes them; new entries are added to the file of their kind. Entries
    the workbook does not hold are left as they are. Exit code 0 when the workbook passes,
    1 otherwise.
    """
    from kommunen_kg.build.pipeline import BuildFailed
    from kommunen_kg.build.workbook.importer import import_workbook
    from kommunen_kg.build.workbook.reading import WorkbookUnreadable
    from kommunen_kg.rdf.sources import SourceError

    config = _config(config_path)
    _require_shapes(config, lang)
    try:
        result = import_workbook(config, file, write=not check_only, validator=validator)
    except (WorkbookUnreadable, SourceError, BuildFailed) as exc:
        _stop(exc, lang)
    de = lang == "de"
    label = "FEHLER" if de else "ERROR"
    for problem in result.problems:
        click.echo(f"{label}  {problem.where}\n    {problem.message(lang)}\n", err=True)
    note = "HINWEIS" if de else "NOTE"
    for problem in result.notes:
        where = f"  {problem.where}" if problem.where else ""
        click.echo(f"{note}{where}\n    {problem.message(lang)}\n", err=True)
    if result.report is not None and result.report.problems:
        click.echo(result.report.to_text(lang, _prefixes(config)), err=True)
    if not result.passes:
        errors = len(result.problems) + (result.report.count("Violation") if result.report else 0)
        click.echo(
            f"Nicht übernommen: {errors} Fehler; keine Datei wurde geändert."
            if de
            else f"Not taken over: {errors} {'error' if errors == 1 else 'errors'}; no file "
            "was changed.",
            err=True,
        )
        sys.exit(1)
    files = ", ".join(str(_shown(p, config)) for p in result.written)
    if de:
        summary = (
            f"{len(result.changed)} geändert, {len(result.added)} neu, {result.untouched} nicht "
            "in der Arbeitsmappe und unverändert"
        )
        done = (
            "geprüft, nichts geschrieben"
            if check_only
            else f"geschrieben: {files}"
            if files
            else "nichts zu schreiben"
        )
    else:
        summary = (
            f"{len(result.changed)} changed, {len(result.added)} new, {result.untouched} not in "
            "the workbook and left as they are"
        )
        done = (
            "checked, nothing written"
            if check_only
            else f"written: {files}"
            if files
            else "nothing to write"
        )
    click.echo(f"{file}: {summary}; {done}")


def _shown(path: Path, config: Config) -> Path:
    try:
        return path.relative_to(config.root)
    except ValueError:
        return path


if __name__ == "__main__":  # pragma: no cover
    main()
