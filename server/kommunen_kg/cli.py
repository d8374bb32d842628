"""The ``kommunen-kg`` command: build, validate, serve, publish.

Each subcommand is a thin layer over a module that does the work, so that tests and other
programs can call the same functions. Messages go to stderr, results to stdout; exit code 0
means success, 1 means the data or the request was refused (with a report), 2 a usage error.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__
from .config import ConfigError, load_config

LANGS = click.Choice(["de", "en"])


def _config(config_path: str | None, base_iri: str | None = None):
    try:
        config = load_config(config_path)
        return config.with_base_iri(base_iri) if base_iri else config
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc


def _progress(message: str) -> None:
    click.echo(f"· {message}", err=True)


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
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Configuration file (default: the nearest kommunen-kg.toml).",
)
@click.option(
    "--base-iri", default=None, help="Mint IRIs under this base instead of the configured one."
)
@click.option(
    "--lang", type=LANGS, default="en", show_default=True, help="Language of the validation report."
)
@click.option("--quiet", "-q", is_flag=True, help="Print only problems and the result.")
def build(
    out: Path | None, config_path: str | None, base_iri: str | None, lang: str, quiet: bool
) -> None:
    """Parse, validate, enrich and write a new release (atomically).

    A SHACL violation stops the build with exit code 1 and a report naming, for each problem,
    the file and line, the resource, the property, the value and what is wrong. The last good
    release stays as it was.
    """
    from .build import BuildFailed
    from .build import build as run_build
    from .namespaces import ProjectIRIs

    config = _config(config_path, base_iri)
    try:
        result = run_build(config, out=out, progress=None if quiet else _progress)
    except BuildFailed as exc:
        if exc.report is not None:
            click.echo(exc.report.to_text(lang, ProjectIRIs(config.base_iri).prefixes()), err=True)
        message = "Build gestoppt" if lang == "de" else "Build stopped"
        kept = (
            "die bisherige Veröffentlichung bleibt unverändert"
            if lang == "de"
            else ("the previous release is unchanged")
        )
        click.echo(f"{message}: {exc}; {kept}.", err=True)
        sys.exit(1)
    notes = [p for p in result.report.problems if p.severity != "Violation"]
    if notes and not quiet:
        click.echo(result.report.to_text(lang, ProjectIRIs(config.base_iri).prefixes()), err=True)
    release = result.release
    state = "unchanged, already published" if result.reused else "published"
    click.echo(
        f"release {release.version} {state}: {release.manifest['counts']['knowledge_graph']} "
        f"triples, {len(release.files)} files in {release.path} "
        f"({result.timings['total']:.2f} s)"
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
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Configuration file (default: the nearest kommunen-kg.toml).",
)
@click.option("--lang", type=LANGS, default="en", show_default=True, help="Language of messages.")
def validate(files: tuple[Path, ...], fmt: str, config_path: str | None, lang: str) -> None:
    """Check data against the shapes without writing anything.

    Without FILES, checks the configured data/ folder. With FILES (Turtle files or folders),
    checks those instead, together with the vocabulary, themes and shapes of ontology/.
    Exit code 0 when the data conforms (warnings allowed), 1 otherwise.
    """
    from .build import check
    from .namespaces import ProjectIRIs
    from .sources import (
        ParsedSources,
        SourceError,
        discover,
        files_as_sources,
        parse_sources,
    )

    config = _config(config_path)
    try:
        if files:
            ontology = [
                s for s in discover(config.ontology_dir, Path("/nonexistent")) if s.graph != "data"
            ]
            sources: ParsedSources = parse_sources(
                ontology + files_as_sources(files), config.base_iri
            )
            report = check(config, sources)
        else:
            report = check(config)
    except SourceError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    if fmt == "json":
        click.echo(report.to_json())
    elif fmt == "turtle":
        click.echo(report.to_turtle())
    else:
        click.echo(report.to_text(lang, ProjectIRIs(config.base_iri).prefixes()))
    sys.exit(0 if report.conforms else 1)


if __name__ == "__main__":  # pragma: no cover
    main()
