"""ruff's rules from pyproject.toml (pyflakes, pycodestyle, import order, bugbear, pyupgrade and the
cyclomatic complexity limit) hold for the whole tree."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from tests.conftest import REPO


def test_ruff_is_clean():
    if importlib.util.find_spec("ruff") is None:  # the dev extra installs it
        pytest.skip("ruff is not installed (pip install -e '.[dev]')")
    r = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "mixgraph", "tests", "benchmarks"],
                       cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_the_complexity_limit_is_selected():
    import tomllib

    cfg = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]
    assert "C90" in cfg["select"] and cfg["mccabe"]["max-complexity"] == 15
    assert sys.version_info >= (3, 11)
