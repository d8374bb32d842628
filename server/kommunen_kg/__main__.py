"""``python -m kommunen_kg`` runs the command line, as the ``kommunen-kg`` script does."""

from .cli import main

main()
