"""kommunen-kg: the "Kommunen innovativ" documentation as a validated, published knowledge graph."""

__version__ = "0.1.0"
