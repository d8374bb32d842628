"""Taking a workbook over into the Turtle sources (``kommunen-kg workbook import``).

Why write Turtle rather than read the workbook as a source of the build: the Turtle files stay
the one place where the data lives, reviewed in git as diffs; a workbook beside them would hold
a second copy of every resource it exported, and the two would drift. So the import rewrites,
in the files that describe them, only the resources whose row differs from the sources (their
comments and every other byte of the files stay), appends new entries to the file that holds
most of their kind, and leaves resources that the workbook does not hold as they are (deleting
stays a deliberate act in Turtle).

Nothing is written unless the sources with the workbook's changes pass the build's own check:
the candidate files are parsed and validated in a scratch folder exactly as ``build`` would,
and every problem on a resource of the workbook is named at its cell with the build's message.
An unchanged workbook writes nothing, so export, import and build give the same release.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from kommunen_kg.build.pipeline import check_as_published, load_sources
from kommunen_kg.build.validate import Problem, ValidationReport
from kommunen_kg.build.workbook.mapping import (
    RDF_TYPE,
    Layout,
    Resource,
    build_layout,
    fingerprint,
)
from kommunen_kg.build.workbook.reading import (
    ReadWorkbook,
    WorkbookProblem,
    read_workbook,
    statement_set,
)
from kommunen_kg.config import Config
from kommunen_kg.rdf.sources import discover, display_path, parse_sources
from kommunen_kg.rdf.turtle_blocks import describe, file_prefixes, find_blocks, replace_blocks


@dataclass
class ImportResult:
    """What an import found and did."""

    workbook: ReadWorkbook
    report: ValidationReport | None = None
    changed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    untouched: int = 0
    written: list[Path] = field(default_factory=list)
    problems: list[WorkbookProblem] = field(default_factory=list)
    # what does not stop the import but the team should know
    notes: list[WorkbookProblem] = field(default_factory=list)

    @property
    def passes(self) -> bool:
        return not self.problems and (self.report is None or self.report.passes)


def layout_for(config: Config) -> Layout:
    """The workbook's layout for the configured sources."""
    sources = load_sources(config)
    return build_layout(
        discover(config.ontology_dir, config.data_dir),
        config.base_iri,
        sources.store,
        config.data_dir,
    )


def import_workbook(
    config: Config, path: Path, *, write: bool = True, validator: str = "fast"
) -> ImportResult:
    """Reads the workbook, checks the sources with its changes, and (``write``) writes the
    changed Turtle files when the check passes."""
    layout = layout_for(config)
    workbook = read_workbook(path, layout)
    result = ImportResult(workbook, problems=list(workbook.problems))
    if result.problems:
        return result
    _sort_rows(layout, workbook, result, config.root)
    result.untouched = sum(1 for iri in layout.resources if iri not in workbook.resources)
    texts = _candidate_texts(config, layout, workbook, result)
    if result.problems:
        return result
    with tempfile.TemporaryDirectory(prefix="kommunen-kg-import-") as scratch:
        root = Path(scratch)
        ontology_dir, data_dir = _scratch_copy(config, root, texts)
        sources = parse_sources(discover(ontology_dir, data_dir), config.base_iri, root)
        _check_written(sources, workbook, result, config)
        if result.problems:
            return result
        report = check_as_published(config, sources, validator)
    result.report = _at_cells(report, workbook, layout)
    if result.passes and write:
        for file, text in texts.items():
            _write_atomically(file, text)
            result.written.append(file)
    return result


def _sort_rows(layout: Layout, workbook: ReadWorkbook, result: ImportResult, root: Path) -> None:
    """Which rows are new, which changed, and which must not be taken over.

    Three versions of an entry meet here: what it said at the export (its fingerprint in the
    workbook), what the team's row says, and what the sources say now. A row the team left as
    exported is never written back, even when the sources changed since (an old workbook must
    not undo newer edits in Turtle); a row the team changed is written when the sources did not
    change meanwhile, and refused at its key cell when they did.
    """
    exported = workbook.exported
    for iri, resource in workbook.resources.items():
        existing = layout.resources.get(iri)
        at_export = exported.get(iri) if exported is not None else None
        row = fingerprint(resource)
        now = fingerprint(existing) if existing is not None else None
        key = workbook.cells[(iri, None)]
        if existing is not None and now == row:
            continue
        if at_export is None and existing is None:
            result.added.append(iri)
        elif at_export is None and exported is None:
            result.changed.append(iri)  # a workbook without the export's record
        elif at_export is None:
            place = display_path(existing.file, root) if existing.file else "?"
            result.problems.append(
                _problem(
                    key,
                    "Diesen Eintrag gibt es in den Daten schon ("
                    + place
                    + "); eine neue Zeile braucht eine neue "
                    "Kennung.",
                    "This entry exists in the data already ("
                    + place
                    + "); a new row needs a key of its own.",
                )
            )
        elif row == at_export:
            what = "gelöscht" if existing is None else "geändert"
            what_en = "deleted" if existing is None else "changed"
            result.notes.append(
                _problem(
                    key,
                    f"Dieser Eintrag wurde seit dem Export in Turtle {what}; die Zeile ist "
                    "unverändert und wird nicht übernommen (sie würde das rückgängig machen).",
                    f"This entry was {what_en} in Turtle since the export; its row is unchanged "
                    "and is not taken over (it would undo that).",
                )
            )
        elif now == at_export and existing is not None:
            result.changed.append(iri)
        else:
            result.problems.append(
                _problem(
                    key,
                    "Dieser Eintrag wurde seit dem Export auch in Turtle geändert; exportieren "
                    "Sie eine neue Arbeitsmappe und tragen Sie die Änderung dort ein.",
                    "This entry was also changed in Turtle since the export; export a new "
                    "workbook and make the change there.",
                )
            )
    if exported is not None:
        gone = [
            layout.kind_of(iri)
            for iri in exported
            if iri not in workbook.resources and iri in layout.resources
        ]
        if gone:
            names = ", ".join(f"{kind}/{slug}" for kind, slug in filter(None, gone))
            result.notes.append(
                _problem(
                    "",
                    f"Nicht mehr in der Arbeitsmappe (gelöschte Zeile oder geänderte Kennung?): "
                    f"{names}. Diese Einträge bleiben, wie sie sind; Löschen und Umbenennen "
                    "geschehen in Turtle (docs/authoring.md).",
                    f"No longer in the workbook (a deleted row or a changed key?): {names}. "
                    "These entries stay as they are; deleting and renaming are done in Turtle "
                    "(docs/authoring.md).",
                )
            )


def _problem(where: str, de: str, en: str) -> WorkbookProblem:
    return WorkbookProblem(where, {"de": de, "en": en})


def _candidate_texts(
    config: Config, layout: Layout, workbook: ReadWorkbook, result: ImportResult
) -> dict[Path, str]:
    """The new text of every file the changes touch."""
    replacements: dict[Path, dict[str, str]] = {}
    additions: dict[Path, list[str]] = {}
    prefixes: dict[Path, dict[str, str]] = {}
    originals: dict[Path, str] = {}

    def text_of(file: Path) -> str:
        if file not in originals:
            originals[file] = file.read_text(encoding="utf-8") if file.exists() else ""
            prefixes[file] = file_prefixes(originals[file], config.base_iri)
        return originals[file]

    # where each resource's block is, read once per file (only when an entry changed)
    described = {
        f.path: find_blocks(text_of(f.path), prefixes[f.path], config.base_iri)
        for f in (discover(config.ontology_dir, config.data_dir) if result.changed else [])
    }
    for iri in result.changed:
        existing = layout.resources[iri]
        places = [path for path, blocks in described.items() if iri in blocks]
        if len(places) != 1:
            where = ", ".join(display_path(p, config.root) for p in places) or "?"
            result.problems.append(
                _problem(
                    workbook.cells[(iri, None)],
                    f"Dieser Eintrag ist in mehreren Dateien beschrieben ({where}); ändern Sie "
                    "ihn dort in Turtle.",
                    f"This entry is described in several files ({where}); change it there in "
                    "Turtle.",
                )
            )
            continue
        file = places[0]
        replacements.setdefault(file, {})[iri] = _block(
            workbook.resources[iri], layout, prefixes[file], config.base_iri, existing
        )
    for iri in result.added:
        resource = workbook.resources[iri]
        file = layout.sheet(resource.kind).file
        text_of(file)
        additions.setdefault(file, []).append(
            _block(resource, layout, prefixes[file], config.base_iri)
        )
    texts: dict[Path, str] = {}
    for file in sorted(set(replacements) | set(additions)):
        texts[file] = replace_blocks(
            originals[file], replacements.get(file, {}), additions.get(file, []), config.base_iri
        )
    return texts


def _block(
    resource: Resource,
    layout: Layout,
    prefixes: dict[str, str],
    base: str,
    previous: Resource | None = None,
) -> str:
    """The resource's Turtle. A changed entry keeps the order its file had (its properties and
    their values as they were, new ones after), so that a diff shows the change; a new one is
    written type first, then in the order of its sheet's columns."""
    order = [RDF_TYPE] + [
        c.property for c in layout.sheet(resource.kind).columns if c.property != RDF_TYPE
    ]
    if previous is not None:
        order = [*previous.statements, *order]
    rank = {prop: index for index, prop in reversed(list(enumerate(order)))}
    statements = sorted(resource.statements.items(), key=lambda kv: rank.get(kv[0], len(rank)))
    if previous is not None:
        statements = [
            (prop, _keep_order(terms, previous.statements.get(prop, [])))
            for prop, terms in statements
        ]
    return describe(
        ox.NamedNode(resource.iri),
        [(ox.NamedNode(p), terms) for p, terms in statements],
        prefixes,
        base,
    )


def _keep_order(terms: list, before: list) -> list:
    """``terms`` with those that were there before in their old order, new ones after."""
    kept = [t for t in before if t in terms]
    return kept + [t for t in terms if t not in kept]


def _scratch_copy(config: Config, root: Path, texts: dict[Path, str]) -> tuple[Path, Path]:
    """The ontology and data folders under ``root`` (same relative paths as in the project, so
    that reports name the files as the build does), with the new texts in place."""
    folders = []
    for folder in (config.ontology_dir, config.data_dir):
        try:
            relative = folder.relative_to(config.root.resolve())
        except ValueError:
            relative = Path(folder.name)
        target = root / relative
        shutil.copytree(folder, target, dirs_exist_ok=True)
        folders.append((folder, target))
    for file, text in texts.items():
        for folder, target in folders:
            if file.is_relative_to(folder):
                destination = target / file.relative_to(folder)
                destination.parent.mkdir(parents=True, exist_ok=True)
                destination.write_text(text, encoding="utf-8")
    return folders[0][1], folders[1][1]


def _check_written(sources, workbook: ReadWorkbook, result: ImportResult, config) -> None:
    """The rewritten files say of each workbook entry exactly what its row says: a block the
    line-based rewriting misread would otherwise go unnoticed."""
    for iri in [*result.changed, *result.added]:
        subject = ox.NamedNode(iri)
        found = {
            (q.predicate.value, sources.codec.decode(q.object))
            for q in sources.store.quads_for_pattern(subject, None, None, None)
            if q.graph_name in (sources.graph("data"), sources.graph("themes"))
        }
        if found != statement_set(workbook.resources[iri]):
            result.problems.append(
                WorkbookProblem(
                    workbook.cells[(iri, None)],
                    {
                        "de": "Dieser Eintrag lässt sich in seiner Turtle-Datei nicht sicher "
                        "ersetzen (ist er dort an mehreren Stellen beschrieben?); ändern Sie "
                        "ihn dort von Hand.",
                        "en": "This entry cannot safely be replaced in its Turtle file (is it "
                        "described in several places there?); change it there by hand.",
                    },
                )
            )


def _at_cells(report: ValidationReport, workbook: ReadWorkbook, layout: Layout):
    """The report with each problem of a workbook entry located at its cell."""
    problems = [_locate(p, workbook, layout) for p in report.problems]
    return dataclasses.replace(report, problems=problems)


def _locate(problem: Problem, workbook: ReadWorkbook, layout: Layout) -> Problem:
    resource = workbook.resources.get(problem.focus)
    if resource is None:
        return problem
    sheet = layout.sheet(resource.kind)
    path = problem.path
    if path is None and (problem.component or "").endswith("ClassConstraintComponent"):
        path = RDF_TYPE  # a shape on the entry itself that asks for a class: the type column
    columns = [c for c in sheet.columns if path and c.property == path]
    if not columns:
        return dataclasses.replace(problem, locations=[workbook.cells[(problem.focus, None)]])
    language = _language(problem.value)
    chosen = next((c for c in columns if c.language == language), None) if language else None
    if chosen is None and len(columns) > 1:
        # a value that is missing: the empty column of the language the shapes ask for
        have = {
            t.language
            for t in resource.statements.get(problem.path, [])
            if isinstance(t, ox.Literal)
        }
        empty = [c for c in columns if c.language not in have]
        chosen = next((c for c in empty if c.required), empty[0] if empty else None)
    chosen = chosen or columns[0]
    where = workbook.cells.get((problem.focus, chosen.key), workbook.cells[(problem.focus, None)])
    return dataclasses.replace(problem, locations=[where])


def _language(value: str | None) -> str | None:
    """The language tag of a problem's value as the report writes it (``"..."@de``)."""
    if value and value.startswith('"') and '"@' in value:
        return value.rsplit('"@', 1)[1]
    return None


def _write_atomically(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
