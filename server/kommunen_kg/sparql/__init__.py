"""The SPARQL engine and what stands around it: errors, the lexical scan of client queries,
their analysis and limits, results, the answer cache, the query pool, the remote store.
Knows nothing of HTTP."""
