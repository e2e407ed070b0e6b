"""The loudness solver: the input gain into the master chain that lands the master on its target.

A pure function over ``measure(gain_db) -> Measurement`` (one pass of the chain at that gain), so
it can be tested against a closed-form loudness curve without audio.

L(g), the master's integrated loudness for input gain g (dB), is L(0) + g without dynamics; a
limiter flattens it, so after the first step the solver takes secant steps on (g, L) pairs and,
once the target is bracketed, regula falsi inside the bracket (L is monotonic in g). It never
changes anything but this gain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mixgraph.errors import RenderError

#: the solver stops when the master is this close to the target (a fraction of the tolerance, so
#: dither and resampling of the deliverables keep them inside it)
SOLVE_FRACTION = 0.3
MAX_ITERATIONS = 10
#: the largest first or secant step, dB: a wild first guess cannot drive the chain into nonsense
MAX_STEP_DB = 12.0


@dataclass(frozen=True)
class Measurement:
    """What one pass of the master chain at an input gain gave."""

    integrated_lufs: float | None
    true_peak_dbtp: float
    #: the largest gain reduction of the limiter(s), and its mean (what the budget counts)
    limiter_gr_max_db: float = 0.0
    limiter_gr_mean_db: float = 0.0


@dataclass
class LoudnessSolve:
    target_lufs: float
    ceiling_dbtp: float
    tolerance_lu: float
    achieved_lufs: float
    true_peak_dbtp: float
    gain_db: float
    iterations: int
    limiter_gr_max_db: float
    limiter_gr_mean_db: float


@dataclass(frozen=True)
class Target:
    target_lufs: float
    ceiling_dbtp: float
    tolerance_lu: float
    max_gain_reduction_db: float


def _too_much_limiting(t: Target, gr: float, reached: float | None = None) -> RenderError:
    got = f" (reached {reached:.1f} LUFS)" if reached is not None else ""
    return RenderError(
        f"{t.target_lufs:g} LUFS needs more than {gr:.1f} dB of limiting, more than "
        f"max_gain_reduction_db {t.max_gain_reduction_db:g} dB{got}.",
        hint="Lower the target, raise max_gain_reduction_db, or bring the mix up with less peak content.")


def _next_gain(g: float, loud: float, target: float, lo, hi, last) -> float:
    if lo is not None and hi is not None:
        g_new = lo[0] + (target - lo[1]) * (hi[0] - lo[0]) / (hi[1] - lo[1])
        if not (min(lo[0], hi[0]) < g_new < max(lo[0], hi[0])):
            g_new = 0.5 * (lo[0] + hi[0])
        return g_new
    slope = 1.0
    if last is not None and abs(g - last[0]) > 1e-9:
        slope = min(max((loud - last[1]) / (g - last[0]), 0.2), 1.5)
    return g + max(-MAX_STEP_DB, min(MAX_STEP_DB, (target - loud) / slope))


def _start(goal: float, start_lufs: float, known: list[tuple[float, float]]):
    """The first gain to try, and the bracket the known (gain, loudness) points of the same chain
    already give: a second target on one chain starts where the first one's passes left off."""
    if not known:
        return goal - start_lufs, None, None, None
    below = [p for p in known if p[1] < goal]
    above = [p for p in known if p[1] >= goal]
    lo = max(below, key=lambda p: p[1]) if below else None
    hi = min(above, key=lambda p: p[1]) if above else None
    near = min(known, key=lambda p: abs(p[1] - goal))
    return _next_gain(near[0], near[1], goal, lo, hi, None), lo, hi, near


def _aimed(g: float, aim: float | None, lo, hi, tried: list[tuple[float, float]]) -> float:
    """The guide's gain instead of the solver's own step, unless it falls outside the bracket
    (the real passes outrank the guide) or repeats a gain already measured."""
    if aim is None or any(abs(aim - p[0]) < 1e-9 for p in tried):
        return g
    if lo is not None and hi is not None and not (min(lo[0], hi[0]) < aim < max(lo[0], hi[0])):
        return g
    return aim


def solve_gain(measure: Callable[[float], Measurement], start_lufs: float | None, target: Target,
               progress: Callable[[float], None] | None = None,
               known: list[tuple[float, float]] | None = None,
               guide: Callable[[list[tuple[float, float]]], float | None] | None = None) -> LoudnessSolve:
    """The input gain (dB) whose pass is closest to ``target``; ``start_lufs`` is the premaster's
    integrated loudness (the first guess is the difference). ``known``: (gain, loudness) pairs
    measured on the same chain before (another target's passes). ``guide``: given the (gain,
    loudness) pairs of this chain so far, a better next gain than a secant step, or None
    (mixgraph.mastering.surrogate); every gain is still judged by a real pass. Raises RenderError
    when the target cannot be reached within the limiting budget or the iterations."""
    if start_lufs is None:
        raise RenderError("The mix is silent (below the -70 LUFS gate): there is nothing to bring to "
                          f"{target.target_lufs:g} LUFS.")
    goal = target.target_lufs
    points = list(known or ())
    g, lo, hi, last = _start(goal, start_lufs, points)
    if guide is not None:
        g = _aimed(g, guide(points), lo, hi, points)
    best: LoudnessSolve | None = None
    for it in range(1, MAX_ITERATIONS + 1):
        m = measure(g)
        if m.integrated_lufs is None:
            raise RenderError("The master is silent after its chain; check the master chain.")
        loud = m.integrated_lufs
        points.append((g, loud))
        cand = LoudnessSolve(goal, target.ceiling_dbtp, target.tolerance_lu, loud, m.true_peak_dbtp, g, it,
                             m.limiter_gr_max_db, m.limiter_gr_mean_db)
        if best is None or abs(loud - goal) < abs(best.achieved_lufs - goal):
            best = cand
        best.iterations = it
        if progress:
            progress(it / MAX_ITERATIONS)
        if abs(loud - goal) <= target.tolerance_lu * SOLVE_FRACTION:
            break
        if loud < goal:
            if m.limiter_gr_max_db > target.max_gain_reduction_db + 1e-9:
                # short of the target and already limiting more than allowed: more gain only limits more
                raise _too_much_limiting(target, m.limiter_gr_max_db, loud)
            lo = (g, loud)
        else:
            hi = (g, loud)
        g_new = _next_gain(g, loud, goal, lo, hi, last)
        if guide is not None:
            g_new = _aimed(g_new, guide(points), lo, hi, points)
        last = (g, loud)
        g = g_new
    assert best is not None
    if best.limiter_gr_max_db > target.max_gain_reduction_db + 1e-9:
        raise _too_much_limiting(target, best.limiter_gr_max_db)
    if abs(best.achieved_lufs - goal) > target.tolerance_lu:
        raise RenderError(f"The loudness solver did not reach {goal:g} LUFS in {MAX_ITERATIONS} passes "
                          f"(got {best.achieved_lufs:.2f} LUFS).")
    return best
