"""`mixgraph meter --json` against the EBU Tech 3341/3342 test set and its published values."""

from __future__ import annotations

import csv
import json

import pytest

from mixgraph.cli import main
from tests.conftest import LOUDNESS_DATA

CSV = LOUDNESS_DATA / "expected_values.csv"
KEYS = {"M": "momentary_max_lufs", "S": "short_term_max_lufs", "I": "integrated_lufs", "LRA": "lra_lu",
        "max_true_peak": "true_peak_dbtp"}

pytestmark = pytest.mark.skipif(not CSV.exists(), reason="shared EBU test data is not next to the checkout")


def _rows():
    if not CSV.exists():
        return []
    with CSV.open() as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def readings():
    files = sorted({r["file"] for r in _rows()})
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["meter", "--json", *[str(LOUDNESS_DATA / f) for f in files]]) == 0
    data = json.loads(buf.getvalue())
    return {f: d for f, d in zip(files, data, strict=True)}


@pytest.mark.parametrize("row", _rows(), ids=lambda r: f"{r['file'].split('/')[-1]}-{r['measure']}")
def test_measure_within_published_tolerance(readings, row):
    value = readings[row["file"]][KEYS[row["measure"]]]
    expected = float(row["expected"])
    assert value is not None
    assert expected - float(row["tol_minus"]) <= value <= expected + float(row["tol_plus"])


def test_every_file_of_the_set_is_covered():
    wavs = {p.relative_to(LOUDNESS_DATA).as_posix() for p in LOUDNESS_DATA.rglob("*") if p.suffix in (".wav", ".flac")}
    assert wavs == {r["file"] for r in _rows()}
