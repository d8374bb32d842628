"""The one configuration of a kommunen-kg installation.

Everything that differs between deployments (the base IRI, who publishes the data, where the
sources and the releases live, the server's limits) is read from one TOML file,
``kommunen-kg.toml``, so that a data editor never touches code. Every key has a default here,
and the defaults name this project itself, never an organisation that has not agreed to it.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

CONFIG_NAME = "kommunen-kg.toml"
DEFAULT_BASE_IRI = "https://w3id.org/kommunen-innovativ/"


class ConfigError(ValueError):
    """The configuration file is missing a required shape or holds a wrong value."""


@dataclass(frozen=True)
class DatasetConfig:
    base_iri: str = DEFAULT_BASE_IRI
    public_url: str = ""
    license: str = "http://dcat-ap.de/def/licenses/cc-by/4.0"
    title_de: str = "Kommunen innovativ: Wissensgraph der Herbst-Konferenz 2020"
    title_en: str = "Kommunen innovativ: knowledge graph of the autumn conference 2020"
    # dcatde:contributorID: the IRI GovData gave the data provider in its contributor list
    # (http://dcat-ap.de/def/contributors/...). Stated in the catalog only when set here.
    contributor_id: str = ""
    # The dataset's own IRI is {base_iri}id/dataset/{dataset_slug} (its SPARQL distribution
    # {base_iri}id/distribution/{dataset_slug}-sparql).
    dataset_slug: str = "kommunen-innovativ"
    # What the VoID description names as the dataset's root resource and as its examples, each
    # as {kind}/{slug} under {base_iri}id/. The home page features the first example event.
    root_resource: str = "event/herbst-konferenz-2020"
    example_resources: tuple[str, ...] = (
        "event/herbst-konferenz-2020-daseinsvorsorge-sichern",
        "project/lebenswert",
    )


@dataclass(frozen=True)
class AgentConfig:
    name: str = "kommunen-kg"
    url: str = DEFAULT_BASE_IRI
    email: str = ""


@dataclass(frozen=True)
class PathsConfig:
    ontology: str = "ontology"
    data: str = "data"
    graphs: str = "graphs"
    # the query editor's example queries (index.toml and .rq files); none where it is missing
    queries: str = "data/queries"


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    union_default_graph: bool = True
    query_timeout: float = 10.0
    result_limit: int = 10000
    max_query_length: int = 20000
    max_request_size: int = 1048576
    # Seconds a client has to send its request body, and to take each piece of an answer
    # (64 KB), before the connection is dropped (web/http/front.py).
    client_timeout: float = 20.0
    # Bytes an answer to a client's query may have; a larger one is refused with 400.
    max_answer_bytes: int = 64 * 1024 * 1024
    # SPARQL endpoints a client's query may call with SERVICE; empty: SERVICE is refused.
    service_allowlist: tuple[str, ...] = ()
    # Client queries run in worker processes that are killed at the timeout (sparql/pool.py);
    # per server worker process: kept ready, at most, requests that may wait when all are
    # busy, how long they wait, the memory (MB) one query may allocate on top of the store,
    # and the memory (MB) a worker may hold of its own beyond the store's pages it reads
    # before it is replaced. ``query_workers_max`` 0: one per processor core (at least
    # query_workers_min): queries are CPU-bound, so more processes than cores add no
    # throughput, only memory (each keeps copies of the store pages it read; bench/README.md).
    query_workers_min: int = 2
    query_workers_max: int = 0
    query_queue_length: int = 16
    query_queue_timeout: float = 5.0
    query_memory_limit: int = 1024
    query_worker_recycle_memory: int = 128
    # Seconds a query worker may stay idle before the pool shrinks back to query_workers_min
    # and gives back the store pages the idle workers copied (0: never).
    query_worker_idle_timeout: float = 60.0
    # Client queries that sparql/bounds.py proves to hold at most this many solutions at any
    # step run in the server process, without the round trip to a query process (0: none).
    in_process_rows: int = 50000
    # Answers to repeated GET requests kept per server worker process (MB; 0: none), replayed
    # without entering the application (web/http/response_cache.py).
    response_cache_size: int = 32
    # Answers to client queries kept per server worker process (MB; 0: none), whatever URL
    # or method asked (sparql/answer_cache.py): a repeated POST, a query under another URL.
    answer_cache_size: int = 32


@dataclass(frozen=True)
class Config:
    """The whole configuration; ``root`` is the folder the relative paths are taken from."""

    root: Path = field(default_factory=Path.cwd)
    dataset: DatasetConfig = field(default_factory=DatasetConfig)
    publisher: AgentConfig = field(default_factory=AgentConfig)
    contact: AgentConfig = field(default_factory=AgentConfig)
    paths: PathsConfig = field(default_factory=PathsConfig)
    server: ServerConfig = field(default_factory=ServerConfig)
    source: Path | None = None

    @property
    def base_iri(self) -> str:
        return self.dataset.base_iri

    @property
    def public_url(self) -> str:
        """Where this server is reached from outside; defaults to the base IRI."""
        return self.dataset.public_url or self.dataset.base_iri

    @property
    def ontology_dir(self) -> Path:
        return (self.root / self.paths.ontology).resolve()

    @property
    def data_dir(self) -> Path:
        return (self.root / self.paths.data).resolve()

    @property
    def graphs_dir(self) -> Path:
        return (self.root / self.paths.graphs).resolve()

    @property
    def queries_dir(self) -> Path:
        return (self.root / self.paths.queries).resolve()

    def with_base_iri(self, base_iri: str) -> Config:
        """A copy that mints IRIs under another base (``--base-iri``)."""
        return replace(self, dataset=replace(self.dataset, base_iri=_check_base(base_iri)))

    def with_graphs_dir(self, graphs: Path) -> Config:
        return replace(self, paths=replace(self.paths, graphs=str(Path(graphs).resolve())))


def _check_base(base: str) -> str:
    if not (base.startswith("http://") or base.startswith("https://")):
        raise ConfigError(f"base_iri must be an http(s) IRI, got {base!r}")
    if not base.endswith("/"):
        raise ConfigError(f"base_iri must end with '/', got {base!r}")
    return base


_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")


def _check_segments(dataset: DatasetConfig) -> None:
    """The dataset slug is one path segment, each resource a kind and a slug: IRIs are made
    of them, and a stray "/" or space would mint IRIs that nothing answers."""
    if not _SEGMENT.fullmatch(dataset.dataset_slug):
        raise ConfigError(
            f"[dataset] dataset_slug must be one path segment (letters, digits, - _ .), "
            f"got {dataset.dataset_slug!r}"
        )
    for key, values in (
        ("root_resource", (dataset.root_resource,)),
        ("example_resources", dataset.example_resources),
    ):
        for value in values:
            kind, _, slug = value.partition("/")
            if not (_SEGMENT.fullmatch(kind) and _SEGMENT.fullmatch(slug)):
                raise ConfigError(
                    f"[dataset] {key} names resources as KIND/SLUG (e.g. event/my-event), "
                    f"got {value!r}"
                )


def _section(cls: type, raw: Any, name: str) -> Any:
    """Builds one section, refusing unknown keys so that a typo does not pass silently."""
    if raw is None:
        return cls()
    if not isinstance(raw, dict):
        raise ConfigError(f"[{name}] must be a table")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ConfigError(f"[{name}] has unknown keys: {', '.join(unknown)}")
    values = {}
    for key, value in raw.items():
        expected = type(getattr(cls(), key))
        if expected is tuple and isinstance(value, list) and all(isinstance(v, str) for v in value):
            value = tuple(value)  # TOML arrays of strings
        ok = isinstance(value, expected) and (expected is bool or not isinstance(value, bool))
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            ok, value = True, float(value)
        if not ok:
            raise ConfigError(
                f"[{name}] {key} must be {expected.__name__}, got {type(value).__name__}"
            )
        values[key] = value
    return cls(**values)


def find_config(start: Path | None = None) -> Path | None:
    """The nearest ``kommunen-kg.toml`` in ``start`` or a parent folder, as git finds .git."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
    return None


def load_config(path: Path | str | None = None) -> Config:
    """Reads the configuration; without a path, the nearest ``kommunen-kg.toml`` or defaults."""
    config_path = Path(path) if path else find_config()
    if config_path is None:
        return Config()
    try:
        raw = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"configuration file not found: {config_path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{config_path}: {exc}") from exc
    unknown = sorted(set(raw) - {"dataset", "publisher", "contact", "paths", "server"})
    if unknown:
        raise ConfigError(f"{config_path}: unknown sections: {', '.join(unknown)}")
    dataset = _section(DatasetConfig, raw.get("dataset"), "dataset")
    _check_base(dataset.base_iri)
    _check_segments(dataset)
    if dataset.contributor_id and not dataset.contributor_id.startswith(("http://", "https://")):
        raise ConfigError(
            f"[dataset] contributor_id must be an http(s) IRI, got {dataset.contributor_id!r}"
        )
    server = _section(ServerConfig, raw.get("server"), "server")
    _check_not_negative(server)
    return Config(
        root=config_path.parent.resolve(),
        dataset=dataset,
        publisher=_section(AgentConfig, raw.get("publisher"), "publisher"),
        contact=_section(AgentConfig, raw.get("contact"), "contact"),
        paths=_section(PathsConfig, raw.get("paths"), "paths"),
        server=server,
        source=config_path.resolve(),
    )


def _check_not_negative(server: ServerConfig) -> None:
    """Every number of [server] is a size, a count or a time, where 0 means off (or, for
    query_workers_max, one per core); a negative one is a slip that would quietly turn a
    cache or a limit off."""
    for item in fields(server):
        value = getattr(server, item.name)
        if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
            raise ConfigError(f"[server] {item.name} must not be negative, got {value}")
