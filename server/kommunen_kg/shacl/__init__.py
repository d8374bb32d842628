"""SHACL validation: shapes compiled into set-based SPARQL and run over the data, one report.

``shapes`` reads the shapes graph and names SHACL's terms and components; ``support`` says which
shapes the compiler can translate (and why not the others); ``expressions`` writes paths, value
tests and conformance as SPARQL; ``compile`` builds each shape's queries from them;
``validator`` plans and runs them over a store; ``run`` puts the compiled validator and pyshacl
(for what does not compile) together into one report.
"""
