"""A cheap stand-in for a master pass, to aim a later target's first real pass.

A real pass of the master chain spends most of its time in the last limiter's true-peak
detection, the file writer and the master meter's true peak. The stand-in runs the chain up to
its last limiter exactly as a pass does, then the limiter's own gain law (the same kernel, the
same lookahead, release and ceiling) on the sample peak instead of the true peak, and meters only
the integrated loudness: about a fifth of a pass. It is not the master: its loudness runs a little
high (inter-sample peaks are not limited), by an amount that changes slowly with the gain. So
the guide below corrects it by what the real passes measured (their loudness less the stand-in's
at the same gain) and hands the solver the gain whose corrected stand-in hits the target. The real
pass at that gain decides, as before: the stand-in only chooses where to look, never what is
written or accepted.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from mixgraph.dsp.automation import Lane
from mixgraph.dsp.kernels.limiter import limiter_gain
from mixgraph.dsp.limiter import Limiter
from mixgraph.graph.plan import ProcStep, RenderPlan, dsp_kwargs
from mixgraph.mastering.chain import FRAME_BYTES, split_at_last_limiter
from mixgraph.meter import LevelMeter
from mixgraph.render.engine import ChainRunner, Handoff, TapSink
from mixgraph.units import db_to_gain

#: the stand-in is solved to this fraction of the tolerance before a real pass is spent on it
AIM_FRACTION = 0.1
#: ... unless a probe will follow (no real point near its answer to correct it by): then this
#: fraction, since the probe's miss, the stand-in's error there, is stepped off anyway
PROBE_AIM_FRACTION = 0.5
#: stand-in passes per real pass at most
MAX_AIM_PASSES = 8
#: a real pass this close to the target is corrected by one Newton step along the stand-in's
#: local slope (within NEWTON_SPAN_DB of it), without another stand-in pass
NEWTON_LU = 0.5
NEWTON_SPAN_DB = 1.0
#: real points within this many dB of a gain correct the stand-in there
CORR_SPAN_DB = 2.0
#: the solver's limits on a secant's slope and step (mixgraph.mastering.solver)
MIN_SLOPE, MAX_SLOPE = 0.2, 1.5
MAX_STEP_DB = 12.0


class SamplePeakLimiter(Limiter):
    """The limiter's gain law on the sample peak (the largest |x| over the channels), delayed by
    the true-peak interpolator's delay so it lines up with the audio as the real detector does."""

    def _reset(self) -> None:
        super()._reset()
        self.sp_hist = np.ones(self.D)  # wanted gains of the last D samples, not yet due
        self.min_gain = 1.0  # the deepest gain it applied: did it limit at all?

    def _process(self, x, key, params):
        n = x.shape[1]
        t = np.abs(x).max(axis=0)
        np.maximum(t, 1e-12, out=t)
        np.divide(self.ceiling, t, out=t)
        np.minimum(t, 1.0, out=t)
        t = np.concatenate((self.sp_hist, t))
        self.sp_hist = t[n:]
        full = np.concatenate((self.t_hist, t[:n]))
        g = np.empty(n)
        limiter_gain(full, self.L + 2, self.a_rel, self.rel_state, self.avg_ring, self.avg_state, g)
        self.t_hist = full[-(self.L + 1):]
        if n:
            self.min_gain = min(self.min_gain, float(g.min()))
        audio = np.concatenate((self.audio_hist, x), axis=1)
        y = audio[:, :n] * g
        self.audio_hist = audio[:, n:]
        return y

    def gain_reduction_db(self):
        return None


def stand_in_possible(chain: tuple[ProcStep, ...]) -> bool:
    """Only a chain that ends in its limiter: a stage after it would not be modelled."""
    _, post = split_at_last_limiter(chain)
    return len(post) == 1


class StandIn:
    """The stand-in pass of one chain at the session's rate: ``loudness(gain_db)``, memoised."""

    def __init__(self, plan: RenderPlan, spill_path: str, length: int, chain: tuple[ProcStep, ...],
                 block_size: int, threaded: bool = False):
        self.plan, self.spill_path, self.length, self.block = plan, spill_path, length, block_size
        self.threaded = threaded  # the meter takes block k in a thread of its own (as a real pass's)
        self.pre, post = split_at_last_limiter(chain)
        self.limiter = post[0]
        self.ceiling_dbtp = float(self.limiter.params.get("ceiling_dbtp", -1.0))
        self.seen: dict[float, float | None] = {}
        #: gains at which the stand-in's limiter reduced the gain (where its error can matter)
        self.limited: set[float] = set()
        #: (gain, loudness) of probes of this chain: the real chain and limiter, no file written
        self.probed: list[tuple[float, float]] = []

    def copy(self) -> StandIn:
        """The same stand-in with what it has measured so far, for another thread to go on with."""
        c = StandIn.__new__(StandIn)
        c.__dict__.update(self.__dict__)
        c.seen, c.limited, c.probed = dict(self.seen), set(self.limited), list(self.probed)
        return c

    def loudness(self, gain_db: float) -> float | None:
        if gain_db not in self.seen:
            self.seen[gain_db] = self._run(gain_db)
        return self.seen[gain_db]

    def _run(self, gain_db: float) -> float | None:
        plan, sr, block = self.plan, self.plan.sample_rate, self.block
        m = plan.master
        runner = ChainRunner(self.pre, sr, 2, block, Path(plan.session_dir))
        runner.gr_stats.clear()
        for p in runner.procs:  # no gain-reduction statistics: nobody reads them
            p.gr_stats = None
        lim = SamplePeakLimiter(**dsp_kwargs(self.limiter))
        lim.prepare(sr, 2, block)
        lanes = {k: Lane(v, sr) for k, v in m.automation.items()}
        latency = sum(p.latency_samples for p in runner.procs) + lim.latency_samples
        meter = LevelMeter(sr, 2, compiled=True, true_peak=False)
        sink = TapSink(latency, [meter.process])
        sink.length = self.length
        total = self.length + latency
        pos = 0
        with open(self.spill_path, "rb") as fh, Handoff(sink.push, "mixgraph-stand-in", self.threaded) as out:
            while pos < total:
                n = min(block, total - pos)
                x = np.frombuffer(fh.read(n * FRAME_BYTES), dtype=np.float64).reshape(-1, 2).T
                if x.shape[1] < n:
                    x = np.concatenate((x, np.zeros((2, n - x.shape[1]))), axis=1)
                if "gain_db" in lanes:
                    x = x * db_to_gain(lanes["gain_db"].values_at(pos, n) + gain_db)
                else:
                    x = x * db_to_gain(m.gain_db + gain_db)
                out.submit(lim.process(runner.process(x, pos, {})))
                pos += n
        if lim.min_gain < 1.0:
            self.limited.add(gain_db)
        return meter.result().integrated_lufs


def _interp(points: list[tuple[float, float]], x: float) -> float:
    """The value at x of the line through the two points nearest x (one point: its value)."""
    if len(points) == 1:
        return points[0][1]
    (x0, y0), (x1, y1) = sorted(points, key=lambda p: abs(p[0] - x))[:2]
    if abs(x1 - x0) < 1e-9:
        return 0.5 * (y0 + y1)
    slope = max(-0.5, min(0.5, (y1 - y0) / (x1 - x0)))  # the correction changes slowly; a wild slope is noise
    return y0 + slope * (x - x0)


def _slope(points: list[tuple[float, float]], near: float) -> float | None:
    """dL/dg of the two points nearest ``near`` (in gain) that are apart, clamped as the solver's."""
    pts = sorted(points, key=lambda p: abs(p[0] - near))
    for q in pts[1:]:
        if abs(q[0] - pts[0][0]) > 1e-6:
            return min(max((q[1] - pts[0][1]) / (q[0] - pts[0][0]), MIN_SLOPE), MAX_SLOPE)
    return None


def _step(anchor: tuple[float, float], target: float, slope: float | None, lo, hi) -> float:
    """From ``anchor`` along ``slope`` to the target; inside the bracket by regula falsi otherwise."""
    g = anchor[0] + max(-MAX_STEP_DB, min(MAX_STEP_DB, (target - anchor[1]) / (slope or 1.0)))
    if lo is not None and hi is not None and not (min(lo[0], hi[0]) < g < max(lo[0], hi[0])):
        g = lo[0] + (target - lo[1]) * (hi[0] - lo[0]) / (hi[1] - lo[1])
        if not (min(lo[0], hi[0]) < g < max(lo[0], hi[0])):
            g = 0.5 * (lo[0] + hi[0])
    return g


def _bracket(points: list[tuple[float, float]], target: float):
    below = [p for p in points if p[1] < target]
    above = [p for p in points if p[1] >= target]
    return (max(below, key=lambda p: p[1]) if below else None, min(above, key=lambda p: p[1]) if above else None)


class Guide:
    """Aims a target's real passes with a stand-in. ``__call__(points)`` takes the real
    (gain, loudness) points measured so far on this chain and returns the next gain to try, or
    None (the solver then steps as it would without a guide).

    * Once a real point lies within NEWTON_LU of the target, the next gain is one Newton step
      from it along the stand-in's local slope: no stand-in pass.
    * Otherwise the stand-in, corrected by (real - stand-in) at the real points, is solved to
      AIM_FRACTION of the tolerance, and its answer is the gain to try.
    * When that answer has no real point near it to correct the stand-in by (this chain's or,
      shifted, another's) and the stand-in limits there, ``probe(gain)`` (the real chain and
      limiter, loudness only, no file) measures it once; the answer is aimed again with the
      probe as a real point. Without it the first real pass of a loud target misses by the
      stand-in's error and a second real pass follows.

    ``others``: stand-ins of other chains at the same rate, each with its real points: before
    this chain has a real point of its own, its correction, first gain and slopes come from
    theirs, shifted by the difference of the ceilings (a limiter driven 0.7 dB harder into a
    ceiling 0.7 dB higher limits about alike)."""

    def __init__(self, stand_in: StandIn, target_lufs: float, tolerance_lu: float,
                 others: list[tuple[float, StandIn, list[tuple[float, float]]]] | None = None,
                 probe: Callable[[float], float | None] | None = None):
        self.s = stand_in
        self.target = target_lufs
        self.tol = tolerance_lu * AIM_FRACTION
        self.loose = tolerance_lu * PROBE_AIM_FRACTION
        self.others = others or []
        self.probe = probe

    def _shifted(self, ceiling: float, pts) -> list[tuple[float, float]]:
        shift = self.s.ceiling_dbtp - ceiling
        return [(g + shift, v + shift) for g, v in pts]

    def _correction(self, points: list[tuple[float, float]], x: float) -> float:
        """Real loudness less the stand-in's, near gain x: from this chain's real points within
        CORR_SPAN_DB of x (a stand-in pass at each, once), else the other chains' (shifted, only
        where their stand-in already ran), else 0: where the limiter hardly acts, the stand-in
        and the real chain agree, and a point far from x says little about the limiting at x."""
        out = self._corrections(points, x)
        return _interp(out, x) if out else 0.0

    def _corrections(self, points: list[tuple[float, float]], x: float) -> list[tuple[float, float]]:
        """(gain, real - stand-in) near gain x, as _correction describes; empty when none is."""
        out = []
        for g, loud in points:
            if abs(g - x) <= CORR_SPAN_DB:
                s = self.s.loudness(g)
                if s is not None:
                    out.append((g, loud - s))
        if not out:
            for ceiling, other, pts in self.others:
                shift = self.s.ceiling_dbtp - ceiling
                for g, loud in list(pts) + other.probed:
                    s = other.seen.get(g)
                    if s is not None and abs(g + shift - x) <= CORR_SPAN_DB:
                        out.append((g + shift, loud - s))
        return out

    def _mine(self) -> list[tuple[float, float]]:
        return [(g, v) for g, v in self.s.seen.items() if v is not None]

    def _theirs(self) -> list[tuple[float, float]]:
        out = []
        for ceiling, other, _ in self.others:
            out += self._shifted(ceiling, [(g, v) for g, v in other.seen.items() if v is not None])
        return out

    def _will_probe(self, real: list[tuple[float, float]], g: float) -> bool:
        return self.probe is not None and g in self.s.limited and not self._corrections(real, g)

    def __call__(self, points: list[tuple[float, float]]) -> float | None:
        g = self._aim(points)
        if g is None or not self._will_probe([p for p in points if p[1] is not None] + self.s.probed, g):
            return g
        # nothing measured near g tells how far the stand-in's limiting is off there: one probe
        # (the real chain and limiter, no file) costs half a real pass, a missed real pass a whole one
        loud = self.probe(g)
        if loud is None:
            return g
        self.s.probed.append((g, loud))
        return self._aim(points)

    def _aim(self, points: list[tuple[float, float]]) -> float | None:
        t = self.target
        real = [p for p in points if p[1] is not None] + self.s.probed
        if real:
            near = min(real, key=lambda p: abs(p[1] - t))
            if abs(near[1] - t) <= NEWTON_LU:
                local = [p for p in self._mine() if abs(p[0] - near[0]) <= NEWTON_SPAN_DB]
                slope = _slope(local, near[0]) if len(local) >= 2 else None
                if slope is not None:
                    lo, hi = _bracket(real, t)
                    return _step(near, t, slope, lo, hi)
        def f(x: float) -> float | None:
            v = self.s.loudness(x)
            return None if v is None else v + self._correction(real, x)

        mine = [(g, f(g)) for g, _ in self._mine()]
        if mine:
            anchor = min(mine, key=lambda p: abs(p[1] - t))
        else:
            seeds = real or [p for ceiling, o, pts in self.others for p in self._shifted(ceiling, list(pts) + o.probed)]
            if not seeds:
                return None
            anchor = min(seeds, key=lambda p: abs(p[1] - t))
        slope = _slope(mine, anchor[0]) or _slope(self._theirs(), anchor[0]) or _slope(real, anchor[0])
        lo, hi = _bracket(mine, t)
        g = _step(anchor, t, slope, lo, hi) if mine else anchor[0] + (t - anchor[1]) / (slope or 1.0)
        best = None
        for _ in range(MAX_AIM_PASSES):
            v = f(g)
            if v is None:
                return None
            if best is None or abs(v - t) < abs(best[1] - t):
                best = (g, v)
            if abs(v - t) <= self.tol or (abs(v - t) <= self.loose and self._will_probe(real, g)):
                break
            mine.append((g, v))
            lo, hi = _bracket(mine, t)
            g = _step((g, v), t, _slope(mine, g) or _slope(self._theirs(), g), lo, hi)
        return best[0]
