"""RDF itself: namespaces and IRIs, lexical forms, formats, reading sources, entailment,
the release folder and its files. Imports nothing of the project but the configuration."""
