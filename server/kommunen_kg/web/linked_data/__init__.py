"""Dereferenceable IRIs: 303s, and the RDF description of each resource."""
