"""The import direction of the layers in ARCHITECTURE.md: a lower layer never imports a higher one."""

from __future__ import annotations

import ast
import subprocess
import sys

from tests.conftest import REPO

LAYER = {"errors": 0, "units": 0, "atomic": 0, "session": 1, "dsp": 1, "graph": 2, "render": 3, "meter": 3,
         "mastering": 3, "report": 4, "api": 5, "recall": 5, "cli": 6, "__main__": 6, "__init__": 6}
ONLY_IN = {"soundfile": {"render"}, "soxr": {"render"}, "pyloudnorm": {"meter"}, "jinja2": {"report"},
           "matplotlib": {"report"}, "rich": {"cli", "report"}}


def package_of(path) -> str:
    rel = path.relative_to(REPO / "mixgraph")
    return rel.parts[0].removesuffix(".py")


def imports(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield a.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def test_layers_only_import_downwards():
    problems = []
    for path in (REPO / "mixgraph").rglob("*.py"):
        pkg = package_of(path)
        for mod in imports(path):
            parts = mod.split(".")
            if parts[0] == "mixgraph" and len(parts) > 1:
                target = parts[1]
                if LAYER.get(target, 6) > LAYER[pkg]:
                    problems.append(f"{path.relative_to(REPO)} imports {mod}")
            elif parts[0] in ONLY_IN and pkg not in ONLY_IN[parts[0]]:
                problems.append(f"{path.relative_to(REPO)} imports {parts[0]} (only for {ONLY_IN[parts[0]]})")
    assert problems == []


def test_session_layer_does_not_load_numeric_libraries():
    code = "import sys, mixgraph.session.pipeline, mixgraph.session.diff, mixgraph.api.session; print(sorted(m for m in sys.modules if m.split('.')[0] in ('numpy','scipy','soundfile','numba')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
