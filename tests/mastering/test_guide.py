"""The stand-in guide's probe, on model curves with known answers (no audio): a stand-in whose
loudness runs a known amount high where its limiter acts, and a real chain to aim at."""

from __future__ import annotations

import math

import pytest

from mixgraph.mastering.surrogate import Guide

#: the real chain's loudness less the stand-in's where the limiter acts (the stand-in ignores
#: inter-sample peaks, so it limits less and reads louder)
ERROR_LU = -0.06


def stand_in_curve(g: float) -> float:
    """A limited master: 1 LU per dB up to -10 LUFS, then flattening (0.6 LU per dB at -9)."""
    x = g + 10.0
    return -20.0 + x if x < 10.0 else -10.0 + 2.0 * math.log1p((x - 10.0) / 2.0)


def limits(g: float) -> bool:
    return stand_in_curve(g) > -10.5


def real_curve(g: float) -> float:
    return stand_in_curve(g) + (ERROR_LU if limits(g) else 0.0)


class FakeStandIn:
    """What Guide reads of a StandIn: memoised loudness, where it limited, probes, its ceiling."""

    def __init__(self, ceiling_dbtp: float = -1.0):
        self.ceiling_dbtp = ceiling_dbtp
        self.seen: dict[float, float | None] = {}
        self.limited: set[float] = set()
        self.probed: list[tuple[float, float]] = []

    def loudness(self, g: float) -> float | None:
        if g not in self.seen:
            self.seen[g] = stand_in_curve(g)
            if limits(g):
                self.limited.add(g)
        return self.seen[g]


def test_a_loud_target_with_no_real_point_near_is_probed_once_and_then_lands():
    """The only real point is a quiet master 6 dB down (no limiting there): the stand-in's answer
    alone would miss by ERROR_LU; one probe measures the error and the next gain lands within
    0.03 LU (the solver's stop) of the target on the real curve."""
    probes = []

    def probe(g):
        probes.append(g)
        return real_curve(g)

    target = -9.0
    guide = Guide(FakeStandIn(), target, 0.1, probe=probe)
    quiet = (-6.0, real_curve(-6.0))
    g = guide([quiet])
    assert len(probes) == 1
    assert real_curve(g) == pytest.approx(target, abs=0.03)
    # without the probe the stand-in's own answer is off by its error
    plain = Guide(FakeStandIn(), target, 0.1)
    assert real_curve(plain([quiet])) - target == pytest.approx(ERROR_LU, abs=0.02)


def test_no_probe_where_the_stand_in_does_not_limit_or_a_real_point_corrects_it():
    probes = []

    def probe(g):
        probes.append(g)
        return real_curve(g)

    # a quiet target: the stand-in's limiter never acts, so the stand-in is the real chain
    g = Guide(FakeStandIn(), -16.0, 0.1, probe=probe)([(-2.0, real_curve(-2.0))])
    assert probes == []
    assert real_curve(g) == pytest.approx(-16.0, abs=0.03)
    # a real point of the same chain near the answer already gives the correction
    near = (0.5, real_curve(0.5))
    g = Guide(FakeStandIn(), -9.0, 0.1, probe=probe)([near])
    assert probes == []
    assert real_curve(g) == pytest.approx(-9.0, abs=0.03)
