"""The import direction of the layers in docs/architecture.md: a lower layer never imports a higher
one, no two packages import each other, and no module imports itself through others. Imports inside
functions count like module-level ones."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

PKG = REPO / "mixgraph"
LAYER = {"errors": 0, "units": 0, "atomic": 0, "version": 0,
         "session": 1, "dsp": 1,
         "graph": 2,
         "audio": 3, "meter": 3, "render": 3,
         "mastering": 4,
         "report": 5,
         "api": 6,
         "recall": 7, "batch": 7,
         "cli": 8, "__main__": 8, "__init__": 8}
#: plain-data modules any layer may import (standard library only, checked below)
LEAVES = {"mixgraph.mastering.presets"}
ONLY_IN = {"soundfile": {"audio"}, "soxr": {"audio"}, "jinja2": {"report"},
           "matplotlib": {"report"}, "rich": {"cli", "report"}}


def module_name(path: Path) -> str:
    rel = path.relative_to(REPO).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def package_of(path: Path) -> str:
    return path.relative_to(PKG).parts[0].removesuffix(".py")


MODULES = {module_name(p): p for p in PKG.rglob("*.py")}


def imports(path: Path):
    """Every module ``path`` imports, at module level or in a function; ``from a import b`` counts
    as ``a.b`` when that is a module."""
    tree = ast.parse(path.read_text())
    me = module_name(path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield a.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = me.split(".")[: -node.level] if path.name != "__init__.py" else me.split(".")[: len(me.split(".")) - node.level + 1]
                base = ".".join(pkg + ([base] if base else []))
            for a in node.names:
                full = f"{base}.{a.name}"
                yield full if full in MODULES else base


def test_every_package_has_a_layer():
    assert sorted({package_of(p) for p in PKG.rglob("*.py")} - set(LAYER)) == []


def test_layers_only_import_downwards():
    problems = []
    for name, path in MODULES.items():
        pkg = package_of(path)
        for mod in imports(path):
            parts = mod.split(".")
            if parts[0] == "mixgraph":
                if mod in LEAVES or mod == "mixgraph":
                    continue
                target = parts[1] if len(parts) > 1 else "__init__"
                if LAYER[target] > LAYER[pkg]:
                    problems.append(f"{name} imports {mod}")
            elif parts[0] in ONLY_IN and pkg not in ONLY_IN[parts[0]]:
                problems.append(f"{name} imports {parts[0]} (only for {ONLY_IN[parts[0]]})")
    assert problems == []


def test_leaf_modules_import_only_the_standard_library():
    for leaf in LEAVES:
        mods = {m.split(".")[0] for m in imports(MODULES[leaf])}
        assert mods <= set(sys.stdlib_module_names) | {"__future__"}, (leaf, mods)


def _graph() -> dict[str, set[str]]:
    g: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        deps = set()
        for mod in imports(path):
            while mod and mod not in MODULES:
                mod = mod.rpartition(".")[0]
            if mod and mod != name and mod != "mixgraph":
                deps.add(mod)
        g[name] = deps
    return g


def _cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one member (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(g[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles_between_modules():
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_two_packages_import_each_other():
    pk: dict[str, set[str]] = {}
    for name, deps in _graph().items():
        a = name.split(".")[1] if "." in name else "__init__"
        for d in deps:
            if d in LEAVES:
                continue
            b = d.split(".")[1] if "." in d else "__init__"
            if a != b:
                pk.setdefault(a, set()).add(b)
    assert sorted((a, b) for a in pk for b in pk[a] if a < b and a in pk.get(b, set())) == []


def test_session_layer_does_not_load_numeric_libraries():
    code = ("import sys, mixgraph.session.pipeline, mixgraph.session.diff, mixgraph.api.session; "
            "print(sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('numpy','scipy','soundfile','numba')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
