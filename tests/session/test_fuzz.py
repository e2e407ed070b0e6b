"""Random and mutated YAML only ever gives a valid session or a mixgraph error, never another exception."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mixgraph.errors import MixgraphError
from mixgraph.session.pipeline import load_text
from tests.conftest import REPO

QUICKSTART = (REPO / "examples/quickstart/session.yaml").read_text()
LINES = QUICKSTART.splitlines(keepends=True)


def check(text: str) -> None:
    try:
        load_text(text, "fuzz.yaml")
    except MixgraphError:
        pass


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_random_text(text):
    check(text)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["delete", "duplicate", "swap", "scalar", "indent"]),
                          st.integers(0, len(LINES) - 1), st.text(max_size=8)), max_size=6))
def test_mutated_quickstart(mutations):
    lines = list(LINES)
    for op, i, s in mutations:
        i %= len(lines)
        if op == "delete" and len(lines) > 1:
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = (i + 1) % len(lines)
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "scalar":
            head, sep, _ = lines[i].partition(": ")
            lines[i] = head + sep + (s or "null") + "\n" if sep else lines[i]
        elif op == "indent":
            lines[i] = " " + lines[i]
    check("".join(lines))


@settings(max_examples=100, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.floats(allow_nan=True) | st.integers() | st.text(max_size=5),
                    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3),
                    max_leaves=20))
def test_random_structures(data):
    import yaml

    check(yaml.safe_dump({"mixgraph": 1, "name": "x", "tracks": data}))
