"""The folders are the architecture: imports run one way, and CI notices when they stop doing so.

The contracts live in ``pyproject.toml`` (``[tool.importlinter]``): the layers ``cli`` /
``web`` | ``build`` / ``sparql`` | ``shacl`` / ``rdf`` / ``config``, the web side importing no
validator, the engine and the build knowing nothing of the web framework, and no circle
between the modules of one package. import-linter reads the imports of the installed package.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .support import ROOT

PACKAGE = ROOT / "server" / "kommunen_kg"
SUBPACKAGES = ("build", "rdf", "shacl", "sparql", "web")


def test_import_contracts_are_kept():
    lint = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    result = subprocess.run(
        [lint, "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=ROOT / "server",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_package_top_holds_only_the_commands_and_the_configuration():
    """Every other module lives in the subpackage of its concern."""
    top = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert top == ["__init__.py", "__main__.py", "cli.py", "config.py"]


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_every_subpackage_says_what_it_holds(name):
    import importlib

    module = importlib.import_module(f"kommunen_kg.{name}")
    assert module.__doc__ and len(module.__doc__.split()) >= 8
