"""Three SHACL engines over the same graphs: the build's own validator, pyshacl and Apache Jena.

A release is only as valid as an independent engine says: consumers validate the dumps with
whatever engine they have. Each engine here gets the same data graph and the same shapes graph
and answers with the number of results per severity and the constraints of the shapes it did
not evaluate ("skipped"), so that an engine that silently ignores a kind of constraint (as
rdf-validate-shacl does with SPARQL-based ones) cannot pass for one that agrees.

* ours: ``kommunen_kg.shacl`` (the SPARQL-compiled validator; shapes it cannot compile go to
  pyshacl, and are listed as handed over);
* pyshacl, the reference implementation in Python;
* Jena: Debian's ``libapache-jena-java`` (4.5) and a JRE, run through ``tests/jena/JenaShacl.java``
  in one JVM for all data graphs (Jena 4.5 ships no command that says which constraints it
  parsed).

What a constraint is: each value of a SHACL parameter on a shape (``sh:class``, ``sh:minCount``,
``sh:sparql``, ...), a qualified value shape counted once with its counts. That list comes from
the SHACL specification (:data:`SHACL_PARAMETERS`), not from any of the engines.
"""

from __future__ import annotations

import gzip
import logging
import shutil
import subprocess
import tempfile
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
import rdflib
from rdflib.namespace import RDF, SH

from kommunen_kg.rdf.rdflib_terms import to_rdflib_term
from kommunen_kg.shacl.run import validate_rdflib
from kommunen_kg.shacl.shapes import COMPONENTS

SEVERITIES = ("Violation", "Warning", "Info")
JAVA_SOURCE = Path(__file__).parent / "jena" / "JenaShacl.java"
JAVA_DIR = Path("/usr/share/java")
# Jena's jars and those of the packages libapache-jena-java depends on (Debian's jars carry no
# Class-Path, and a wildcard over /usr/share/java mixes conflicting logging bindings).
# slf4j-simple prints Jena's warnings to stderr, where the run looks for them.
JENA_JARS = (
    "jena-base",
    "jena-core",
    "jena-arq",
    "jena-iri",
    "jena-shacl",
    "commons-cli",
    "commons-codec",
    "commons-compress",
    "commons-csv",
    "commons-io",
    "commons-lang3",
    "dexx.collection",
    "gson",
    "guava",
    "httpclient",
    "httpcore",
    "jackson-annotations",
    "jackson-core",
    "jackson-databind",
    "jakarta.json-api",
    "jsonld-java",
    "protobuf",
    "slf4j-api",
    "slf4j-simple",
    "thrift",
    "titanium-json-ld",
)
JENA_TIMEOUT = 300

# SHACL 1.0's constraint parameters (Core, section 4, and sh:sparql, section 5), each standing
# for its constraint component. sh:qualifiedMinCount and sh:qualifiedMaxCount belong to
# sh:qualifiedValueShape; sh:property makes a property shape, whose own constraints count.
SHACL_PARAMETERS = (
    "class",
    "datatype",
    "nodeKind",
    "minCount",
    "maxCount",
    "minExclusive",
    "minInclusive",
    "maxExclusive",
    "maxInclusive",
    "minLength",
    "maxLength",
    "pattern",
    "languageIn",
    "uniqueLang",
    "equals",
    "disjoint",
    "lessThan",
    "lessThanOrEquals",
    "not",
    "and",
    "or",
    "xone",
    "node",
    "qualifiedValueShape",
    "closed",
    "hasValue",
    "in",
    "sparql",
)


@dataclass
class EngineRun:
    """What one engine said about one data graph."""

    engine: str
    counts: Counter  # severity ("Violation", "Warning", "Info") -> number of results
    skipped: list[str] = field(default_factory=list)  # constraints it did not evaluate
    handed_over: list[str] = field(default_factory=list)  # ours: shapes pyshacl validated

    def summary(self) -> str:
        counts = ", ".join(f"{self.counts[s]} {s}" for s in SEVERITIES)
        lines = [f"{self.engine}: {counts}"]
        lines += [f"    skipped: {c}" for c in self.skipped]
        lines += [f"    handed to pyshacl: {s}" for s in self.handed_over]
        return "\n".join(lines)


# --- the graphs ---------------------------------------------------------------------------------


def release_graphs(release) -> tuple[rdflib.Graph, rdflib.Graph]:
    """The union of all graphs a release publishes (its dataset dump and its metadata) as the
    data graph, and its shapes graph."""
    shapes_graph = release.manifest["graphs"]["shapes"]
    union, shapes = rdflib.Graph(), rdflib.Graph()
    for name in ("kommunen-innovativ.nq.gz", "metadata.nq.gz"):
        with gzip.open(release.file(name), "rb") as f:
            for quad in ox.parse(f, format=ox.RdfFormat.N_QUADS):
                triple = tuple(to_rdflib_term(t) for t in quad.triple)
                union.add(triple)
                if quad.graph_name.value == shapes_graph:
                    shapes.add(triple)
    return union, shapes


def declared_constraints(shapes: rdflib.Graph) -> Counter:
    """Every constraint of the shapes graph as (shape, parameter), counted per value."""
    declared: Counter = Counter()
    for parameter in SHACL_PARAMETERS:
        for shape in shapes.subjects(SH[parameter], None, unique=False):
            declared[(shape.n3(), parameter)] += 1
    return declared


def _severities(report: rdflib.Graph) -> Counter:
    """Results per severity of a sh:ValidationReport: the top-level ones, not sh:detail."""
    counts: Counter = Counter({s: 0 for s in SEVERITIES})
    for node in report.subjects(RDF.type, SH.ValidationReport):
        for result in report.objects(node, SH.result):
            severity = report.value(result, SH.resultSeverity) or SH.Violation
            counts[str(severity).rsplit("#", 1)[-1]] += 1
    return counts


# --- ours and pyshacl ---------------------------------------------------------------------------


def _folded(parameters) -> set[str]:
    return {"qualifiedValueShape" if p.startswith("qualified") else p for p in parameters}


def run_ours(data: rdflib.Graph, shapes: rdflib.Graph) -> EngineRun:
    """The build's validator; what it cannot compile, pyshacl validates (so only what neither
    knows is skipped)."""
    from pyshacl.constraints import ALL_CONSTRAINT_PARAMETERS

    _conforms, _report, outcome = validate_rdflib(data, shapes)
    counts: Counter = Counter({s: 0 for s in SEVERITIES})
    for finding in outcome.findings:
        counts[str(finding.severity).rsplit("#", 1)[-1]] += 1
    known = _folded(COMPONENTS) | _folded(
        str(p).rsplit("#", 1)[-1] for p in ALL_CONSTRAINT_PARAMETERS
    )
    skipped = sorted(
        f"{shape} sh:{parameter}"
        for (shape, parameter) in declared_constraints(shapes)
        if parameter not in known
    )
    return EngineRun("ours", counts, skipped, sorted(outcome.fallback))


class _Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("pyshacl"):
            self.messages.append(f"warning: {record.getMessage()}")


def run_pyshacl(data: rdflib.Graph, shapes: rdflib.Graph) -> EngineRun:
    """pyshacl without inference (the data graph already holds the vocabulary); a constraint
    it cannot load it logs as a warning and leaves out."""
    from pyshacl import validate
    from pyshacl.constraints import ALL_CONSTRAINT_PARAMETERS

    warnings = _Warnings()
    logging.getLogger().addHandler(warnings)
    try:
        _conforms, report, _text = validate(
            data, shacl_graph=shapes, inference="none", allow_infos=True, allow_warnings=True
        )
    finally:
        logging.getLogger().removeHandler(warnings)
    known = _folded(str(p).rsplit("#", 1)[-1] for p in ALL_CONSTRAINT_PARAMETERS)
    skipped = sorted(
        f"{shape} sh:{parameter}"
        for (shape, parameter) in declared_constraints(shapes)
        if parameter not in known
    )
    return EngineRun("pyshacl", _severities(report), skipped + warnings.messages)


# --- Jena ---------------------------------------------------------------------------------------


def jena_missing() -> str | None:
    """Why Jena cannot run here (a reason for pytest.skip), or None."""
    if shutil.which("java") is None:
        return "no java on PATH (Debian: apt-get install default-jre-headless)"
    missing = [j for j in JENA_JARS if not (JAVA_DIR / f"{j}.jar").exists()]
    if missing:
        return (
            f"Jena's jars are missing from {JAVA_DIR}: {', '.join(missing)} "
            "(Debian: apt-get install libapache-jena-java)"
        )
    return None


def xerces_messages(folder: Path) -> Path:
    """Debian's jena-core 4.5.0-2 moved Jena's copy of Xerces to the package ``xerces`` but
    left its message bundles under ``org/apache/jena/ext/xerces``: the first regular
    expression of a datatype facet then fails ("internal error") and Jena cannot start. The
    bundles are copied from the jar to where the classes look for them, and this folder goes
    first on the class path."""
    with zipfile.ZipFile(JAVA_DIR / "jena-core.jar") as jar:
        names = set(jar.namelist())
        for name in names:
            if name.startswith("org/apache/jena/ext/xerces/") and name.endswith(".properties"):
                moved = name.removeprefix("org/apache/jena/ext/")
                if moved not in names:
                    target = folder / moved
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(jar.read(name))
    return folder


def _jena_skipped(declared: Counter, parsed_lines: list[str]) -> list[str]:
    """The constraints of ``declared`` that Jena did not make a constraint of."""
    parsed: Counter = Counter()
    for line in parsed_lines:
        shape, component = line.rsplit(" ", 1)
        name = component.strip("<>").rsplit("#", 1)[-1].removesuffix("ConstraintComponent")
        parameter = "sparql" if name == "SPARQL" else name[:1].lower() + name[1:]
        parsed[(shape, parameter)] += 1
    return sorted(f"{shape} sh:{parameter}" for (shape, parameter) in declared - parsed)


def run_jena(shapes: rdflib.Graph, datas: dict[str, rdflib.Graph]) -> dict[str, EngineRun]:
    """Jena's validation of each graph of ``datas`` against ``shapes``, in one JVM."""
    with tempfile.TemporaryDirectory(prefix="jena-shacl-") as tmp:
        folder = Path(tmp)
        classpath = ":".join(
            [str(xerces_messages(folder / "classes"))]
            + [str(JAVA_DIR / f"{j}.jar") for j in JENA_JARS]
        )
        shapes.serialize(folder / "shapes.nt", format="nt", encoding="utf-8")
        args = [str(folder / "shapes.nt"), str(folder / "constraints.txt")]
        for i, data in enumerate(datas.values()):
            data.serialize(folder / f"data-{i}.nt", format="nt", encoding="utf-8")
            args += [str(folder / f"data-{i}.nt"), str(folder / f"report-{i}.nt")]
        done = subprocess.run(
            ["java", "-cp", classpath, str(JAVA_SOURCE), *args],
            capture_output=True,
            text=True,
            timeout=JENA_TIMEOUT,
        )
        if done.returncode != 0:
            raise RuntimeError(f"Jena failed ({done.returncode}):\n{done.stderr[-4000:]}")
        warnings = [
            f"warning: {line.strip()}"
            for line in done.stderr.splitlines()
            if " WARN " in line or " ERROR " in line
        ]
        lines = (folder / "constraints.txt").read_text(encoding="utf-8").splitlines()
        skipped = _jena_skipped(declared_constraints(shapes), lines) + warnings
        runs = {}
        for i, name in enumerate(datas):
            report = rdflib.Graph()
            report.parse(folder / f"report-{i}.nt", format="nt")
            runs[name] = EngineRun("jena", _severities(report), list(skipped))
        return runs
