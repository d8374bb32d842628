"""SHACL validation: shapes compiled into set-based SPARQL and run over the data, one report.

``shapes`` reads the shapes graph and names SHACL's terms and components; ``compile`` turns each
shape into queries (or says why it cannot); ``validator`` plans and runs them over a store;
``run`` puts the compiled validator and pyshacl (for what does not compile) together into one
report.
"""
