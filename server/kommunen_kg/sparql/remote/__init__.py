"""A remote SPARQL 1.1 store: its HTTP client, the engine that answers from it, publishing into it.

``client`` holds the store's endpoints, the HTTP session and the store's errors read for our
clients; ``engine`` the :class:`~.engine.RemoteEngine`; ``publish`` loads a release.

``kommunen-kg serve --store URL`` puts this engine behind every view instead of the embedded
store, so that many stateless app servers can share one Oxigraph server, Fuseki, Virtuoso,
GraphDB or QLever. ``URL`` is the store's SPARQL *query* endpoint (Oxigraph:
``http://host:7878/query``; Fuseki: ``http://host:3030/ds/query``; Virtuoso:
``http://host:8890/sparql``; GraphDB: ``http://host:7200/repositories/kg``).

Which graphs a reader sees: ``kommunen-kg publish`` loads releases side by side under graph
names of their own and moves one pointer (``versions.py``); the engine of a server answers from
the release it was made for, renaming the public graph names (``{base}graph/vocabulary|themes|
shapes|data|metadata``) in queries and answers and always giving the store that release's
graphs as the dataset. In a store loaded by other means under the public names, the engine
names those five graphs in every request instead and passes a client's own dataset on.

Answers: the engine asks the store for the client's format and passes the store's bytes
through when they are complete and within the result limit; otherwise (CSV, which no parser
reads back; more rows than the limit; a store that answered another format) it re-serialises
the rows it parsed with pyoxigraph. Rows are parsed as they arrive and the connection is closed
after ``limit + 1`` rows, which also stops a streaming store from producing the rest.

Errors: connection failures -> :class:`EngineUnavailable`; no answer in time (client side, or
the store's own timeout) -> :class:`QueryTimeout`; the store's 400 -> :class:`QuerySyntaxError`
with the store's message and position; any other failure of the store (5xx, a misconfigured
URL) -> :class:`EngineUnavailable`. Set the store's own time limit as well (``oxigraph serve
--timeout-s``, with care: see docs/scaling.md): closing the connection does not stop every
store computing.

HTTP: one ``requests`` session per process (created after gunicorn forks, never shared across
processes), with a connection pool sized for the worker's threads.
"""
