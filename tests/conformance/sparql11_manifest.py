"""Reads the W3C SPARQL 1.1 test manifests (../shared/conformance/sparql11/) into test cases.

The manifest vocabulary is described in ../shared/conformance/README.md. Each manifest is parsed
with its own file URL as base, so every relative IRI (``<agg01.rq>``) becomes the file beside it,
and a graph loaded from ``<data-g1.ttl>`` is named by that file URL, which is also what a query's
relative ``GRAPH <data-g1.ttl>`` resolves to when the query's base is its own file URL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from rdflib import RDF, RDFS, Graph, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
QT = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-query#")
DAWGT = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-dawg#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
HT = Namespace("http://www.w3.org/2011/http#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")
CNT = Namespace("http://www.w3.org/2011/content#")


def file_path(iri: Node) -> Path:
    return Path(unquote(urlparse(str(iri)).path))


@dataclass(frozen=True)
class HttpRequest:
    """One ht:Request of a protocol test, with what its response must be."""

    method: str
    path: str  # ht:absolutePath, starting with /sparql/
    headers: tuple[tuple[str, str], ...]
    body: bytes | None
    expected_status: tuple[str, ...]  # "2xx", "3xx", "4xx", ...
    expected_format: str | None  # "boolean", "tabular", "RDF"
    expected_boolean: bool | None


@dataclass(frozen=True)
class Sparql11Test:
    suite: str  # the folder: aggregates, protocol, ...
    name: str  # the local name of the test IRI
    iri: str
    kind: str  # the mf: class: QueryEvaluationTest, ProtocolTest, ...
    title: str
    approval: str  # Approved, Proposed, ...
    query: Path | None = None
    data: tuple[Path, ...] = ()
    graph_data: tuple[tuple[Path, str], ...] = ()  # (file, graph name)
    result: Path | None = None
    requests: tuple[HttpRequest, ...] = field(default=())

    @property
    def id(self) -> str:
        return f"{self.suite}/{self.name}"

    @property
    def approved(self) -> bool:
        return self.approval == "Approved"


def _one(graph: Graph, subject: Node, predicate: URIRef) -> Node | None:
    return next(iter(graph.objects(subject, predicate)), None)


def _list(graph: Graph, head: Node | None) -> list[Node]:
    return list(Collection(graph, head)) if head is not None else []


def _requests(graph: Graph, action: Node) -> tuple[HttpRequest, ...]:
    requests = []
    for node in _list(graph, _one(graph, action, HT.requests)):
        headers = tuple(
            (str(_one(graph, h, HT.fieldName)), str(_one(graph, h, HT.fieldValue)))
            for h in _list(graph, _one(graph, node, HT.headers))
        )
        body = None
        body_node = _one(graph, node, HT.body)
        if body_node is not None:
            encoding = str(_one(graph, body_node, CNT.characterEncoding) or "UTF-8")
            text = str(_one(graph, body_node, CNT.chars))
            # UTF-16 bodies are sent without a byte order mark, big-endian, as the test means
            # "not UTF-8", and a BOM would make the bytes depend on the platform.
            body = text.encode("utf-16-be" if encoding.upper() == "UTF-16" else encoding)
        response = _one(graph, node, HT.resp)
        statuses = tuple(
            sorted(
                str(s).rsplit("StatusCode", 1)[-1]
                for s in graph.objects(response, MF.expectedStatus)
            )
        )
        fmt = _one(graph, response, MF.expectedFormat)
        boolean = _one(graph, response, MF.expectedBoolean)
        requests.append(
            HttpRequest(
                method=str(_one(graph, node, HT.methodName)),
                path=str(_one(graph, node, HT.absolutePath)),
                headers=headers,
                body=body,
                expected_status=statuses,
                expected_format=str(fmt) if fmt is not None else None,
                expected_boolean=boolean.toPython() if boolean is not None else None,
            )
        )
    return tuple(requests)


def read_manifest(path: Path) -> list[Sparql11Test]:
    """The tests of one folder's manifest.ttl, in manifest order."""
    graph = Graph()
    graph.parse(path, format="turtle", publicID=path.resolve().as_uri())
    manifest = URIRef(path.resolve().as_uri())
    tests = []
    for entry in _list(graph, _one(graph, manifest, MF.entries)):
        types = [t for t in graph.objects(entry, RDF.type) if str(t).startswith(str(MF))]
        kind = str(types[0])[len(str(MF)) :] if types else "unknown"
        approval = _one(graph, entry, DAWGT.approval)
        action = _one(graph, entry, MF.action)
        result = _one(graph, entry, MF.result)
        common = {
            "suite": path.parent.name,
            "name": str(entry).rsplit("#", 1)[-1],
            "iri": str(entry),
            "kind": kind,
            "title": str(_one(graph, entry, MF.name) or ""),
            "approval": str(approval).rsplit("#", 1)[-1] if approval is not None else "none",
            "result": file_path(result) if isinstance(result, URIRef) else None,
        }
        if kind == "ProtocolTest":
            graph_data = tuple(
                (file_path(_one(graph, g, UT.graph)), str(_one(graph, g, RDFS.label)))
                for g in graph.objects(entry, UT.graphData)
            )
            tests.append(
                Sparql11Test(**common, graph_data=graph_data, requests=_requests(graph, action))
            )
        elif isinstance(action, URIRef):  # syntax tests: the action is the query file
            tests.append(Sparql11Test(**common, query=file_path(action)))
        elif action is not None:
            query = _one(graph, action, QT.query)
            tests.append(
                Sparql11Test(
                    **common,
                    query=file_path(query) if query is not None else None,
                    data=tuple(file_path(d) for d in graph.objects(action, QT.data)),
                    graph_data=tuple(
                        (file_path(g), str(g)) for g in graph.objects(action, QT.graphData)
                    ),
                )
            )
        else:
            tests.append(Sparql11Test(**common))
    return tests


def read_all(root: Path) -> list[Sparql11Test]:
    """Every test of the suites the top-level manifest includes, in its order."""
    graph = Graph()
    top = root / "manifest.ttl"
    graph.parse(top, format="turtle", publicID=top.resolve().as_uri())
    tests: list[Sparql11Test] = []
    for include in _list(graph, _one(graph, URIRef(top.resolve().as_uri()), MF.include)):
        tests += read_manifest(file_path(include))
    return tests
