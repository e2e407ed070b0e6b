"""Compressor static curve and time constants, sidechain ducking, gate, de-esser, multiband, saturation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from mixgraph.dsp.dynamics import Compressor, DeEsser, Gate
from mixgraph.dsp.multiband import Multiband
from mixgraph.dsp.saturation import Saturation

SR = 48000


def expected_gr(level_db, t, r, w):
    """Giannoulis et al. 2012 static curve, written out independently: x_G - y_G."""
    if 2 * (level_db - t) < -w:
        return 0.0
    if w > 0 and 2 * abs(level_db - t) <= w:
        return -(1 / r - 1) * (level_db - t + w / 2) ** 2 / (2 * w)
    return (level_db - t) - (level_db - t) / r


def rms_db(x):
    return 10 * np.log10(np.mean(x**2))


@pytest.mark.parametrize("ratio,knee", [(2.0, 0.0), (4.0, 0.0), (4.0, 12.0), (10.0, 6.0)])
@pytest.mark.parametrize("level", [-40.0, -24.0, -17.0, -6.0])
def test_static_curve_on_steady_sines(ratio, knee, level):
    # RMS detector on a steady sine: the detected level is the sine's RMS
    n = np.arange(SR)
    amp = 10 ** (level / 20) * np.sqrt(2)
    x = amp * np.sin(2 * np.pi * 1000 * n / SR)[None]
    c = Compressor(threshold_db=-20, ratio=ratio, attack_ms=5, release_ms=50, knee_db=knee, detector="rms", rms_ms=50)
    c.prepare(SR, 1, 4096)
    y = c.process(x)
    measured = rms_db(x[0, -4800:]) - rms_db(y[0, -4800:])
    assert measured == pytest.approx(expected_gr(level, -20, ratio, knee), abs=0.1)


def test_attack_time_constant():
    # a step from -40 to 0 dBFS (square-ish envelope via DC-free constant-magnitude signal)
    n = SR
    x = np.full((1, n), 0.01)
    x[0, SR // 2 :] = 1.0
    c = Compressor(threshold_db=-20, ratio=1000, attack_ms=10, release_ms=100)
    c.prepare(SR, 1, 4096)
    c.process(x)
    gr = c.gain_reduction_db()[SR // 2 :]
    final = 20.0 * (1 - 1 / 1000)
    t63 = np.argmax(gr >= final * (1 - np.exp(-1))) / SR * 1000
    assert t63 == pytest.approx(10.0, rel=0.1)


def test_sidechain_ducks_bass_under_kick_and_recovers():
    n = np.arange(2 * SR)
    bass = 0.3 * np.sin(2 * np.pi * 55 * n / SR)[None]
    kick = np.zeros((1, 2 * SR))
    hit = slice(SR // 2, SR // 2 + 4800)
    kick[0, hit] = 0.9 * np.sin(2 * np.pi * 60 * np.arange(4800) / SR)
    c = Compressor(threshold_db=-30, ratio=6, attack_ms=1, release_ms=60)
    c.prepare(SR, 1, 4096)
    y = c.process(bass, key=kick)
    before = rms_db(y[0, SR // 4 : SR // 2])
    during = rms_db(y[0, SR // 2 + 2400 : SR // 2 + 4800])
    after = rms_db(y[0, SR + SR // 2 :])
    assert before == pytest.approx(rms_db(bass[0]), abs=0.01)  # key silent: untouched
    assert before - during > 10  # ducked while the kick hits
    assert after == pytest.approx(before, abs=0.1)  # recovered after the release


def test_sidechain_highpass_ignores_sub_only_key():
    n = np.arange(SR)
    x = 0.3 * np.sin(2 * np.pi * 440 * n / SR)[None]
    sub = 0.9 * np.sin(2 * np.pi * 30 * n / SR)[None]
    plain = Compressor(threshold_db=-30, ratio=6)
    filtered = Compressor(threshold_db=-30, ratio=6, sidechain_highpass_hz=200)
    for c in (plain, filtered):
        c.prepare(SR, 1, 4096)
    plain.process(x, key=sub)
    gr_plain = plain.gain_reduction_db()[-4800:].mean()
    filtered.process(x, key=sub)
    assert filtered.gain_reduction_db()[-4800:].mean() < gr_plain - 10


def test_gate_closes_to_range_and_holds():
    x = np.zeros((1, SR))
    x[0, : SR // 2] = 0.5 * np.sin(2 * np.pi * 200 * np.arange(SR // 2) / SR)
    x[0, SR // 2 :] = 0.001 * np.sin(2 * np.pi * 200 * np.arange(SR // 2) / SR)
    g = Gate(threshold_db=-40, range_db=30, ratio=100, attack_ms=0.1, hold_ms=20, release_ms=5)
    g.prepare(SR, 1, 4096)
    g.process(x)
    gr = g.gain_reduction_db()
    start = SR // 2
    assert gr[start + int(0.015 * SR)] < 0.5  # still held open 15 ms after the drop
    assert gr[-1] == pytest.approx(30.0, abs=0.01)  # closed to range_db


def test_deesser_reduces_sibilance_and_leaves_the_voice():
    n = np.arange(SR)
    tone = 0.3 * np.sin(2 * np.pi * 500 * n / SR)[None]
    ess = 0.3 * np.sin(2 * np.pi * 7000 * n / SR)[None]
    d = DeEsser(freq_hz=7000, q=1.0, threshold_db=-30, ratio=4, range_db=12)
    d.prepare(SR, 1, 4096)
    out_tone = d.process(tone)
    d.reset()
    out_ess = d.process(ess)
    assert rms_db(out_tone[0, -4800:]) == pytest.approx(rms_db(tone[0, -4800:]), abs=0.1)
    reduction = rms_db(ess[0, -4800:]) - rms_db(out_ess[0, -4800:])
    assert 6 < reduction <= 12.01


def test_multiband_sums_flat_when_idle():
    m = Multiband([120, 1000, 6000], [{"threshold_db": 0}] * 4)
    m.prepare(SR, 1, 8192)
    imp = np.zeros((1, 8192))
    imp[0, 0] = 1.0
    h = m.process(imp)[0]
    w, H = signal.freqz(h, worN=np.geomspace(20, 20000, 200), fs=SR)
    assert np.max(np.abs(20 * np.log10(np.abs(H)))) < 0.01


def test_saturation_oversampling_lowers_aliasing():
    n = np.arange(SR)
    x = 0.9 * np.sin(2 * np.pi * 15000 * n / SR)[None]

    def alias_level(factor):
        s = Saturation(drive_db=12, oversample=factor)
        s.prepare(SR, 1, SR)
        y = s.process(x)[0, 4096:]
        spec = np.abs(np.fft.rfft(y * np.hanning(y.size)))
        f = np.fft.rfftfreq(y.size, 1 / SR)
        alias = spec[(np.abs(f - 3000) < 20)].max()  # 3rd harmonic 45 kHz folds to 3 kHz
        return 20 * np.log10(alias / spec.max())

    assert alias_level(8) < alias_level(1) - 20


def test_saturation_adds_odd_harmonics():
    n = np.arange(SR)
    x = 0.5 * np.sin(2 * np.pi * 1000 * n / SR)[None]
    s = Saturation(drive_db=12, oversample=4)
    s.prepare(SR, 1, SR)
    y = s.process(x)[0, 4096:]
    spec = np.abs(np.fft.rfft(y * np.hanning(y.size)))
    f = np.fft.rfftfreq(y.size, 1 / SR)
    h3 = spec[np.abs(f - 3000) < 5].max() / spec.max()
    h2 = spec[np.abs(f - 2000) < 5].max() / spec.max()
    assert h3 > 0.01 and h2 < 1e-4
