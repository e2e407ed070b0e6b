"""The unit table (mixgraph.units): level conversions checked against 50-digit decimal
arithmetic, the rounding of ms_to_samples, and a session-side import that never loads numpy."""

from __future__ import annotations

import math
import subprocess
import sys
from decimal import Decimal, getcontext

import numpy as np
import pytest

from mixgraph.units import (
    DB_TO_LN,
    db_to_gain,
    db_to_gain_array,
    gain_to_db,
    ms_to_samples,
    note_to_ms,
    power_to_db,
    time_constant_coeff,
)

getcontext().prec = 50
LEVELS = np.random.default_rng(4).uniform(-150.0, 40.0, 400)


def ref_gain(db: float) -> float:
    """10 to the power of the rounded quotient db / 20.0 (the rounding the functions promise),
    to 50 digits then rounded once."""
    return float(Decimal(10) ** Decimal(db / 20.0))


def ulps(a: float, b: float) -> float:
    return abs(a - b) / math.ulp(b)


def test_db_to_gain_numbers_and_arrays_against_decimal():
    ref = [ref_gain(d) for d in LEVELS.tolist()]
    assert max(ulps(db_to_gain(d), r) for d, r in zip(LEVELS.tolist(), ref, strict=True)) <= 1.0
    arr = db_to_gain(LEVELS)
    assert isinstance(arr, np.ndarray) and arr.shape == LEVELS.shape
    assert max(ulps(a, r) for a, r in zip(arr.tolist(), ref, strict=True)) <= 1.0
    fast = db_to_gain_array(LEVELS)
    assert max(ulps(a, r) for a, r in zip(fast.tolist(), ref, strict=True)) <= 64.0  # exp scales the product's rounding by |ln g| (<= 17.3 here)
    assert db_to_gain(20.0) == 10.0 and db_to_gain(-20.0) == 0.1 and db_to_gain(0) == 1.0
    assert DB_TO_LN == math.log(10.0) / 20.0


def test_each_input_keeps_its_path():
    # a number goes through libm's pow; an array (0-d included) through numpy's power ufunc,
    # whose vectorised loops may round differently: each caller keeps the bits it had
    d = LEVELS / 20.0
    assert [db_to_gain(v) for v in LEVELS.tolist()] == [10.0 ** v for v in d.tolist()]
    assert np.array_equal(db_to_gain(LEVELS), np.power(10.0, d))
    assert db_to_gain(np.asarray(LEVELS[3])) == np.power(10.0, np.asarray(LEVELS[3]) / 20.0)


def test_gain_and_power_to_db_against_decimal_with_floors():
    gains = np.abs(np.random.default_rng(5).standard_normal(300)) + 1e-9
    for g in gains.tolist():
        assert abs(gain_to_db(g) - float(20 * Decimal(g).log10())) <= 1e-12
        assert abs(power_to_db(g) - float(10 * Decimal(g).log10())) <= 1e-12
    np.testing.assert_allclose(gain_to_db(gains), [gain_to_db(g) for g in gains.tolist()], rtol=0, atol=1e-12)
    np.testing.assert_allclose(power_to_db(gains), [power_to_db(g) for g in gains.tolist()], rtol=0, atol=1e-12)
    assert gain_to_db(0.0) == -200.0 and power_to_db(0.0) == -200.0
    assert np.array_equal(gain_to_db(np.zeros(3), 1e-12), np.full(3, -240.0))
    assert np.array_equal(power_to_db(np.array([0.0, 1.0]), 1e-12), np.array([-120.0, 0.0]))


@pytest.mark.parametrize(("ms", "fs", "n"), [
    (10.0, 48000, 480), (5.0, 44100, 220), (5.01, 44100, 221),  # 220.5 -> 220 (even), 220.94 -> 221
    (0.5, 1000, 0), (1.5, 1000, 2), (2.5, 1000, 2), (0.0, 48000, 0),  # ties go to the even one
])
def test_ms_to_samples_rounds_to_nearest_ties_to_even(ms, fs, n):
    assert ms_to_samples(ms, fs) == n and type(ms_to_samples(ms, fs)) is int


def test_time_constant_and_note_lengths():
    c = time_constant_coeff(10.0, 48000)
    assert c ** 480 == pytest.approx(math.exp(-1.0), rel=1e-12)  # 1 - 1/e of a step after 10 ms
    assert time_constant_coeff(0.0, 48000) == 0.0
    assert note_to_ms("1/4", 120.0) == 500.0 and note_to_ms("1/8d", 120.0) == 375.0
    assert note_to_ms("1/8t", 120.0) == pytest.approx(500.0 / 3.0, rel=1e-15)
    with pytest.raises(ValueError):
        note_to_ms("1/3", 120.0)


def test_numbers_never_load_numpy():
    code = ("import sys; from mixgraph import units as u; "
            "u.db_to_gain(-6.0); u.gain_to_db(0.5); u.power_to_db(0.0); u.ms_to_samples(5.0, 44100); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'numpy'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
