"""EQ biquads, returned as normalised second-order sections ``[b0, b1, b2, 1, a1, a2]`` for
``scipy.signal.sosfilt``.

Two designs of the same analog prototypes:

* ``cookbook``: RBJ Audio EQ Cookbook (Robert Bristow-Johnson, "Cookbook formulae for audio
  equalizer biquad filter coefficients"): the bilinear transform prewarped at f0. Exact at f0, but
  it maps the analog response's top (infinity) to Nyquist, so a bell or shelf near Nyquist is
  squeezed ("cramped"): up to 8.7 dB off the analog shape at 20 kHz at 44.1 kHz.
* ``matched`` (bells and shelves): a biquad whose squared magnitude interpolates the analog
  prototype's at DC and at four frequencies up to 0.9 x Nyquist (``matched_sos``). Any biquad is
  the bilinear transform of an analog biquad, and its squared magnitude is a ratio of quadratics
  in u = tan^2(w/2); fixing DC and four points gives a 4x4 linear system in those quadratics'
  coefficients, and the biquad follows by spectral factorisation (the minimum-phase root of each
  quadratic; the design is refused if a quadratic is not a squared magnitude). Unlike the
  pole-matched designs of Vicanek ("Matched second order digital filters", 2016), which fix the
  poles by impulse invariance and only fit the zeros, it also places poles that lie above
  Nyquist (a cut bell's, a boosted high shelf's), and unlike Orfanidis' prescribed-Nyquist-gain
  design (JAES 45(6), 1997) it leaves the gain at Nyquist free, where no biquad can follow the
  analog slope. When no point set interpolates within ``GOOD_DB`` (loud or narrow bands near or
  above 20 kHz, resonant shelves), a minimax fit of the whole curve to 20 kHz takes over
  (``_minimax``). Together they keep bells (any freq_hz below Nyquist, +-30 dB, q 0.1-40) and
  shelves (q up to 2) within 0.5 dB of the analog prototype up to 20 kHz at 44.1 kHz. Shelves
  with a higher q are refused by the session for this design: a resonant shelf near Nyquist (q 4
  at 21 kHz) has no biquad the fit finds within 0.5 dB.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from mixgraph.units import db_to_gain


def _norm(b0, b1, b2, a0, a1, a2) -> np.ndarray:
    return np.array([b0 / a0, b1 / a0, b2 / a0, 1.0, a1 / a0, a2 / a0])


def _w0(freq_hz: float, fs: float) -> tuple[float, float, float]:
    w0 = 2.0 * math.pi * freq_hz / fs
    return w0, math.cos(w0), math.sin(w0)


def peaking(freq_hz: float, gain_db: float, q: float, fs: float) -> np.ndarray:
    """Cookbook peakingEQ: H(s) = (s^2 + s*(A/Q) + 1) / (s^2 + s/(A*Q) + 1)."""
    a = db_to_gain(gain_db / 2.0)  # the cookbook's A = 10^(gain/40)
    _, cw, sw = _w0(freq_hz, fs)
    alpha = sw / (2.0 * q)
    return _norm(1 + alpha * a, -2 * cw, 1 - alpha * a, 1 + alpha / a, -2 * cw, 1 - alpha / a)


def lowshelf(freq_hz: float, gain_db: float, q: float, fs: float) -> np.ndarray:
    """Cookbook lowShelf with the Q form of alpha."""
    a = db_to_gain(gain_db / 2.0)  # the cookbook's A = 10^(gain/40)
    _, cw, sw = _w0(freq_hz, fs)
    alpha = sw / (2.0 * q)
    k = 2.0 * math.sqrt(a) * alpha
    return _norm(
        a * ((a + 1) - (a - 1) * cw + k),
        2 * a * ((a - 1) - (a + 1) * cw),
        a * ((a + 1) - (a - 1) * cw - k),
        (a + 1) + (a - 1) * cw + k,
        -2 * ((a - 1) + (a + 1) * cw),
        (a + 1) + (a - 1) * cw - k,
    )


def highshelf(freq_hz: float, gain_db: float, q: float, fs: float) -> np.ndarray:
    """Cookbook highShelf with the Q form of alpha."""
    a = db_to_gain(gain_db / 2.0)  # the cookbook's A = 10^(gain/40)
    _, cw, sw = _w0(freq_hz, fs)
    alpha = sw / (2.0 * q)
    k = 2.0 * math.sqrt(a) * alpha
    return _norm(
        a * ((a + 1) + (a - 1) * cw + k),
        -2 * a * ((a - 1) + (a + 1) * cw),
        a * ((a + 1) + (a - 1) * cw - k),
        (a + 1) - (a - 1) * cw + k,
        2 * ((a - 1) - (a + 1) * cw),
        (a + 1) - (a - 1) * cw - k,
    )


def lowpass(freq_hz: float, q: float, fs: float) -> np.ndarray:
    """Cookbook LPF: H(s) = 1 / (s^2 + s/Q + 1)."""
    _, cw, sw = _w0(freq_hz, fs)
    alpha = sw / (2.0 * q)
    return _norm((1 - cw) / 2, 1 - cw, (1 - cw) / 2, 1 + alpha, -2 * cw, 1 - alpha)


def highpass(freq_hz: float, q: float, fs: float) -> np.ndarray:
    """Cookbook HPF: H(s) = s^2 / (s^2 + s/Q + 1)."""
    _, cw, sw = _w0(freq_hz, fs)
    alpha = sw / (2.0 * q)
    return _norm((1 + cw) / 2, -(1 + cw), (1 + cw) / 2, 1 + alpha, -2 * cw, 1 - alpha)


def bandpass(freq_hz: float, q: float, fs: float) -> np.ndarray:
    """Cookbook BPF, constant 0 dB peak gain: H(s) = (s/Q) / (s^2 + s/Q + 1)."""
    _, cw, sw = _w0(freq_hz, fs)
    alpha = sw / (2.0 * q)
    return _norm(alpha, 0.0, -alpha, 1 + alpha, -2 * cw, 1 - alpha)


def notch(freq_hz: float, q: float, fs: float) -> np.ndarray:
    """Cookbook notch: H(s) = (s^2 + 1) / (s^2 + s/Q + 1)."""
    _, cw, sw = _w0(freq_hz, fs)
    alpha = sw / (2.0 * q)
    return _norm(1.0, -2 * cw, 1.0, 1 + alpha, -2 * cw, 1 - alpha)


# --------------------------------------------------------------------------- matched designs

#: the highest frequency the matched designs interpolate, as a share of Nyquist: just under
#: 20 kHz at 44.1 kHz (the response between it and Nyquist follows without being fixed)
MATCH_TOP = 0.9


#: a candidate this close (dB, anywhere on the check grid) to the analog magnitude is kept
GOOD_DB = 0.25


def _mag2(b: tuple[float, float, float], a: tuple[float, float, float], w: float) -> float:
    """|H(jw)|^2 of the analog biquad (b2 s^2 + b1 s + b0) / (a2 s^2 + a1 s + a0), w in rad/s."""
    w2 = w * w
    num = (b[2] - b[0] * w2) ** 2 + (b[1] * w) ** 2
    den = (a[2] - a[0] * w2) ** 2 + (a[1] * w) ** 2
    return num / den


def _fit(b: tuple, a: tuple, fs: float, points: list[float]) -> np.ndarray | None:
    """The biquad whose squared magnitude equals the analog one's at DC and at ``points`` (Hz),
    or None when no stable real biquad has those values.

    |H(e^jw)|^2 = (n2 u^2 + n1 u + n0) / (u^2 + d1 u + d0) with u = tan^2(w/2); n0 = T(0) d0, and
    each point gives n2 u^2 + n1 u + (T(0) - T) d0 - T d1 u = T u^2."""
    t0 = _mag2(b, a, 0.0)
    m = np.empty((4, 4))
    r = np.empty(4)
    for i, f in enumerate(points):
        u = math.tan(math.pi * f / fs) ** 2
        t = _mag2(b, a, 2.0 * math.pi * f)
        m[i] = (u * u, u, t0 - t, -t * u)
        r[i] = t * u * u
    try:
        n2, n1, d0, d1 = np.linalg.solve(m, r)
    except np.linalg.LinAlgError:
        return None
    return _factor(t0 * d0, n1, n2, d0, d1)


def _factor(n0: float, n1: float, n2: float, d0: float, d1: float) -> np.ndarray | None:
    """The stable minimum-phase biquad whose squared magnitude is (n2 u^2 + n1 u + n0) /
    (u^2 + d1 u + d0), u = tan^2(w/2), or None when either quadratic is not a squared magnitude
    (negative somewhere on u >= 0) or the poles are not inside the unit circle."""
    if not (d0 > 0.0 and n2 >= 0.0 and n0 >= 0.0):
        return None
    # c2 s^2 + c1 s + c0 with |.|^2 = c2^2 u^2 + (c1^2 - 2 c0 c2) u + c0^2 (s = j tan(w/2))
    c2, c0, e0 = math.sqrt(n2), math.sqrt(n0), math.sqrt(d0)
    cc, ee = n1 + 2.0 * c0 * c2, d1 + 2.0 * e0
    if not (cc >= 0.0 and ee > 0.0):
        return None
    c1, e1 = math.sqrt(cc), math.sqrt(ee)
    # bilinear s = (1 - z^-1) / (1 + z^-1)
    a0 = 1.0 + e1 + e0
    sos = np.array([(c2 + c1 + c0) / a0, 2.0 * (c0 - c2) / a0, (c2 - c1 + c0) / a0,
                    1.0, 2.0 * (e0 - 1.0) / a0, (1.0 - e1 + e0) / a0])
    if not (np.all(np.isfinite(sos)) and abs(sos[5]) < 1.0 and abs(sos[4]) < 1.0 + sos[5]):
        return None  # poles on or outside the unit circle (the stability triangle)
    return sos


def _sos_mag2(sos: np.ndarray, w: np.ndarray) -> np.ndarray:
    z = np.exp(-1j * w)
    return np.abs(np.polyval(sos[2::-1], z) / np.polyval(sos[:2:-1], z)) ** 2


def matched_sos(b: tuple, a: tuple, fs: float, candidates: list[list[float]]) -> np.ndarray | None:
    """The stable interpolating biquad, over the candidate point sets (Hz, ascending), that is
    closest to the analog magnitude (largest dB error on ``_check_grid``); the first within
    ``GOOD_DB`` is taken as is (most designs stop at the first
    candidate, which matters for automation, redesigned every CONTROL_PERIOD frames); None when
    no candidate gives a stable biquad."""
    best, best_err = None, math.inf
    f = _check_grid(fs)
    target = None
    for points in candidates:
        if not (points[0] > 0.0 and all(x < y for x, y in zip(points, points[1:], strict=False))
                and points[-1] < fs / 2):
            continue
        sos = _fit(b, a, fs, points)
        if sos is None:
            continue
        if target is None:
            target = np.log10(_mag2(b, a, 2.0 * np.pi * f))
        err = np.max(np.abs(np.log10(_sos_mag2(sos, 2.0 * math.pi * f / fs)) - target))
        if err < best_err:
            best, best_err = sos, err
        if best_err < GOOD_DB / 10.0:  # err is in log10 of power: dB / 10
            return best
    # no point set interpolates well enough (a band near or above 20 kHz, a loud or resonant one):
    # fit the whole curve in the minimax sense instead, slower
    # from the analog denominator's shape, a flat start, and the best interpolation
    for start in ("analog", None, best):
        fitted, err = _minimax(b, a, fs, start)
        if fitted is not None and err < best_err:
            best, best_err = fitted, err
        if best_err < GOOD_DB / 10.0:
            break
    return best


#: the minimax fit's passes, and how many of them first fit in the least-squares sense (equal
#: weights), so that D has settled before Lawson's weights start to move
MINIMAX_ITERATIONS = 60
MINIMAX_SETTLE = 10
#: rows above the grid's top, up to Nyquist, and their total weight against the grid's
MINIMAX_ABOVE = 16
MINIMAX_ABOVE_WEIGHT = 0.01


def _check_grid(fs: float) -> np.ndarray:
    """Where a design is compared with its analog prototype: log-spaced from 10 Hz to 20 kHz (or
    0.95 x Nyquist), dense enough for a q 40 bell's peak."""
    return np.geomspace(10.0, min(20000.0, 0.95 * fs / 2.0), 600)


def _minimax(b: tuple, a: tuple, fs: float, start: np.ndarray | str | None = None
             ) -> tuple[np.ndarray | None, float]:
    """The biquad whose squared magnitude N(u)/D(u) (u = tan^2(w/2), as ``_fit``) is closest to
    the analog one's, T, in the largest log error over ``_check_grid``, and that error (log10 of
    power), or (None, inf). Each pass solves the linear least-squares problem
    N(u) - T D(u) = 0 with rows divided by T D_prev(u) (Sanathanan & Koerner, IEEE TAC 8(1), 1963:
    then its residual is the relative error, close to the log error) and weighted by Lawson's rule
    (each weight times its row's last error), which drives the least-squares fit to the minimax
    one; the best stable pass is kept. A few rows between the grid's top and Nyquist, lightly
    weighted, keep N and D positive up there (else a fit with both negative on the grid, the
    same ratio, is a stationary point for a band centred above 20 kHz). ``start`` gives the first
    pass's D (up to a constant): a biquad's denominator's squared magnitude over cos^4(w/2), or
    "analog" the prototype's |a(jw)|^2; without it D = 1 + u^2."""
    grid = _check_grid(fs)
    top = np.linspace(grid[-1], 0.999 * fs / 2.0, MINIMAX_ABOVE + 1)[1:]
    f = np.concatenate([grid, top])
    k_grid = grid.size
    u = np.tan(np.pi * f / fs) ** 2
    t = _mag2(b, a, 2.0 * np.pi * f)
    log_t = np.log10(t[:k_grid])
    m = np.stack([np.ones_like(u), u, u * u, -t, -t * u], axis=1)
    r = t * u * u
    wt = np.full(k_grid, 1.0 / k_grid)
    w_top = np.full(top.size, MINIMAX_ABOVE_WEIGHT / k_grid)
    if start is None:
        d_prev = 1.0 + u * u
    elif isinstance(start, str):  # "analog": |a(jw)|^2, the prototype's own denominator
        d_prev = _mag2((0.0, 0.0, 1.0), a, 2.0 * np.pi * f) ** -1
    else:
        z = np.exp(-2j * np.pi * f / fs)
        d_prev = np.abs(np.polyval(start[:2:-1], z)) ** 2 / np.cos(np.pi * f / fs) ** 4
    best, best_err = None, math.inf
    for k in range(MINIMAX_ITERATIONS):
        s = np.sqrt(np.concatenate([wt, w_top])) / (t * d_prev)
        rows = m * s[:, None]
        scale = np.linalg.norm(rows, axis=0)
        scale[scale == 0.0] = 1.0
        x = np.linalg.lstsq(rows / scale, r * s, rcond=None)[0] / scale
        num = x[0] + x[1] * u + x[2] * u * u
        den = x[3] + x[4] * u + u * u
        if x[0] >= 0.0 and x[2] >= 0.0:
            # a numerator dipping below 0 (a notch the fit overshoots) is lifted to a perfect
            # square there: the nearest squared magnitude with the same ends
            x[1] = max(x[1], -2.0 * math.sqrt(x[0] * x[2]))
        if np.all(den > 0.0):
            sos = _factor(*x)
            if sos is not None:
                err = float(np.max(np.abs(np.log10(_sos_mag2(sos, 2.0 * np.pi * grid / fs)) - log_t)))
                if err < best_err:
                    best, best_err = sos, err
                if best_err < GOOD_DB / 10.0:
                    break  # good enough: more passes cost time (automation redesigns)
        # where the fit's D is not positive (a pole cancelled by a zero on the axis) the next
        # pass keeps the last scale there, which moves it off that stationary point
        d_prev = np.where(den > 0.0, den, d_prev)
        if k >= MINIMAX_SETTLE:  # Lawson's weights once the plain fits have settled D
            wt = wt * (np.abs(num - t * d_prev)[:k_grid] / (t * d_prev)[:k_grid] + 1e-12)
            wt /= wt.sum()
    return best, best_err


def analog_peaking(freq_hz: float, gain_db: float, q: float) -> tuple[tuple, tuple]:
    """The cookbook bell's analog prototype (s^2 + s (A/Q) w0 + w0^2) / (s^2 + s w0/(A Q) + w0^2),
    as (b, a) in descending powers of s (rad/s), what ``scipy.signal.freqs`` takes."""
    a_ = db_to_gain(gain_db / 2.0)
    w0 = 2.0 * math.pi * freq_hz
    return (1.0, a_ * w0 / q, w0 * w0), (1.0, w0 / (a_ * q), w0 * w0)


def analog_lowshelf(freq_hz: float, gain_db: float, q: float) -> tuple[tuple, tuple]:
    """The cookbook low shelf's analog prototype A (s^2 + (sqrt(A)/Q) s + A) / (A s^2 + (sqrt(A)/Q) s + 1),
    s normalised to w0."""
    a_ = db_to_gain(gain_db / 2.0)
    w0 = 2.0 * math.pi * freq_hz
    k = math.sqrt(a_) / q
    return (a_, a_ * k * w0, a_ * a_ * w0 * w0), (a_, k * w0, w0 * w0)


def analog_highshelf(freq_hz: float, gain_db: float, q: float) -> tuple[tuple, tuple]:
    """The cookbook high shelf's analog prototype A (A s^2 + (sqrt(A)/Q) s + 1) / (s^2 + (sqrt(A)/Q) s + A)."""
    a_ = db_to_gain(gain_db / 2.0)
    w0 = 2.0 * math.pi * freq_hz
    k = math.sqrt(a_) / q
    return (a_ * a_, a_ * k * w0, a_ * w0 * w0), (1.0, k * w0, a_ * w0 * w0)


def _remembered(fn):
    """The design of recent parameter sets, remembered (a copy each call): an automation lane
    holding or returning to a value redesigns every control period, and a minimax fit costs
    tens of milliseconds."""
    cached = functools.lru_cache(maxsize=4096)(fn)

    @functools.wraps(fn)
    def design(freq_hz: float, gain_db: float, q: float, fs: float) -> np.ndarray:
        return cached(float(freq_hz), float(gain_db), float(q), float(fs)).copy()

    return design


@_remembered
def peaking_matched(freq_hz: float, gain_db: float, q: float, fs: float) -> np.ndarray:
    """Bell matched to its analog prototype: interpolated at the band edges (where the analog
    gain is half the dB gain: f0 * (sqrt(1 + 1/(4Q^2)) -+ 1/(2Q))), f0 and 0.9 x Nyquist."""
    b, a = analog_peaking(freq_hz, gain_db, q)
    top = MATCH_TOP * fs / 2.0
    x = math.sqrt(1.0 + 0.25 / (q * q)) + 0.5 / q
    f = freq_hz
    sos = matched_sos(b, a, fs, [[f / x**k, f, min(f * x**k, f + c * (top - f)), top]
                                 for k in (1.0, 0.75) for c in (0.5, 0.3, 0.7)]
                      + [[f / (x * x), f / x, f, top]])
    return sos if sos is not None else peaking(freq_hz, gain_db, q, fs)


def _shelf_points(f: float, fs: float) -> list[list[float]]:
    top = MATCH_TOP * fs / 2.0
    return [[f / 2, f, min(2 * f, f + 0.5 * (top - f)), top],
            [f / 4, f / 2, f, top],
            [f / 8, f / 4, f / 2, top],
            [f / 2, f, min(1.5 * f, f + 0.3 * (top - f)), top],
            [f / 1.5, f, min(1.2 * f, f + 0.2 * (top - f)), top]]


@_remembered
def lowshelf_matched(freq_hz: float, gain_db: float, q: float, fs: float) -> np.ndarray:
    """Low shelf matched to its analog prototype (the first stable fit over a few point sets
    around f0; the cookbook design if none is)."""
    b, a = analog_lowshelf(freq_hz, gain_db, q)
    sos = matched_sos(b, a, fs, _shelf_points(freq_hz, fs))
    return sos if sos is not None else lowshelf(freq_hz, gain_db, q, fs)


@_remembered
def highshelf_matched(freq_hz: float, gain_db: float, q: float, fs: float) -> np.ndarray:
    """High shelf matched to its analog prototype (as ``lowshelf_matched``)."""
    b, a = analog_highshelf(freq_hz, gain_db, q)
    sos = matched_sos(b, a, fs, _shelf_points(freq_hz, fs))
    return sos if sos is not None else highshelf(freq_hz, gain_db, q, fs)


def analog_tilt(freq_hz: float, gain_db: float) -> tuple[tuple, tuple]:
    """First-order tilt (k s + w0) / (s + k w0), k = 10^(gain/40): -gain/2 dB at DC, +gain/2 dB at
    high frequencies, 0 dB at the pivot w0 (one first-order shelf, symmetric in log frequency)."""
    k = db_to_gain(gain_db / 2.0)
    w0 = 2.0 * math.pi * freq_hz
    return (0.0, k, w0), (0.0, 1.0, k * w0)


def tilt(freq_hz: float, gain_db: float, fs: float) -> np.ndarray:
    """Tilt matched to its analog prototype as the shelves are (a biquad interpolating the
    first-order magnitude); the prewarped bilinear first-order section if no fit is stable."""
    b, a = analog_tilt(freq_hz, gain_db)
    sos = matched_sos(b, a, fs, _shelf_points(freq_hz, fs))
    if sos is not None:
        return sos
    k, t = db_to_gain(gain_db / 2.0), math.tan(math.pi * freq_hz / fs)
    # s = (1 - z^-1) / (t (1 + z^-1)), pivot prewarped
    a0 = 1.0 + k * t
    return np.array([(k + t) / a0, (t - k) / a0, 0.0, 1.0, (k * t - 1.0) / a0, 0.0])


BUTTERWORTH_Q = 1.0 / math.sqrt(2.0)
#: a shelf's default Q as the session writes it (slope 1: the steepest without overshoot), so a
#: band without q gives the filter of a session's band
SHELF_Q = 0.7071


def butterworth_qs(order: int) -> list[float]:
    """Q of each 2nd-order section of a Butterworth filter, highest first (an odd order has a
    first-order section besides).

    Poles at angles (2k+1)*pi/(2N) from the imaginary axis: Q_k = 1 / (2 sin((2k+1) pi / (2N))).
    """
    return [1.0 / (2.0 * math.sin((2 * k + 1) * math.pi / (2 * order))) for k in range(order // 2)]


def first_order(kind: str, freq_hz: float, fs: float) -> np.ndarray:
    """First-order Butterworth high- or low-pass (s/(s+1) or 1/(s+1)), bilinear prewarped at the
    corner as ``scipy.signal.butter`` designs it, as a section with b2 = a2 = 0."""
    k = math.tan(math.pi * freq_hz / fs)
    a1 = (k - 1.0) / (k + 1.0)
    if kind == "highpass":
        return np.array([1.0 / (1.0 + k), -1.0 / (1.0 + k), 0.0, 1.0, a1, 0.0])
    return np.array([k / (1.0 + k), k / (1.0 + k), 0.0, 1.0, a1, 0.0])


def pass_sos(kind: str, freq_hz: float, slope_db_oct: int, q: float, fs: float) -> np.ndarray:
    """Butterworth high/low-pass of order slope/6 (6 dB/oct per order: an odd order has a
    first-order section). ``q`` is a resonance: the section nearest the corner (the highest Q)
    gets its Butterworth Q times q / 0.7071, so the default is Butterworth at every slope and a
    12 dB/oct band's q is its section's Q; a first-order filter has no resonance."""
    order = slope_db_oct // 6
    qs = butterworth_qs(order)
    if qs and abs(q - BUTTERWORTH_Q) >= 1e-4:
        qs[0] *= q / BUTTERWORTH_Q
    fn = highpass if kind == "highpass" else lowpass
    rows = [fn(freq_hz, qk, fs) for qk in qs]
    if order % 2:
        rows.append(first_order(kind, freq_hz, fs))
    return np.stack(rows)


def band_sos(band: dict, fs: float) -> np.ndarray:
    """Sections of one EQ band (same keys as the session's band models)."""
    kind = band["type"]
    f = float(band["freq_hz"])
    cookbook = band.get("design", "matched") == "cookbook"
    if kind == "bell":
        fn = peaking if cookbook else peaking_matched
        return fn(f, float(band["gain_db"]), float(band.get("q", 1.0)), fs)[None, :]
    if kind in ("lowshelf", "highshelf"):
        if kind == "lowshelf":
            fn = lowshelf if cookbook else lowshelf_matched
        else:
            fn = highshelf if cookbook else highshelf_matched
        return fn(f, float(band["gain_db"]), float(band.get("q", SHELF_Q)), fs)[None, :]
    if kind in ("highpass", "lowpass"):
        return pass_sos(kind, f, int(band.get("slope_db_oct", 12)), float(band.get("q", BUTTERWORTH_Q)), fs)
    if kind == "tilt":
        return tilt(f, float(band["gain_db"]), fs)[None, :]
    if kind == "notch":
        return notch(f, float(band.get("q", 1.0)), fs)[None, :]
    if kind == "bandpass":
        return bandpass(f, float(band.get("q", 1.0)), fs)[None, :]
    raise ValueError(f"unknown EQ band type {kind!r}")
