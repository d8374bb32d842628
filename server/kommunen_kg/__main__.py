"""``python -m kommunen_kg`` runs the command line, as the ``kommunen-kg`` script does."""

from kommunen_kg.cli import main

main()
