"""SHACL validation: shapes compiled to SPARQL and run over the data, with their report."""
