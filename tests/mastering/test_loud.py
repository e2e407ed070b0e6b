"""A loud master of a drum-heavy excerpt: the limiter alone cannot bring it to -7 LUFS at -1 dBTP
within 12 dB of limiting; a clipper before it can. The true peak is checked on the written file by
a 16x resample_poly reference. And the price: intermodulation of an SMPTE pair (60 Hz + 7 kHz,
4:1) through both chains at the same output loudness."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import yaml
from scipy import signal

from mixgraph.api.meter import meter_file
from mixgraph.api.render import render_session
from mixgraph.dsp.clipper import Clipper
from mixgraph.dsp.limiter import Limiter
from mixgraph.errors import RenderError
from mixgraph.meter import measure_array

SR = 44100


def drum_excerpt(seconds: float = 24.0, seed: int = 11) -> np.ndarray:
    """120 BPM: a kick (falling sine with a noise click) on 1 and 3, a snare (tone and noise
    burst) on 2 and 4, eighth-note hats, a low-passed saw bass and a band-passed power chord of
    detuned saws held throughout; peaks at -3 dBFS, stereo."""
    rng = np.random.default_rng(seed)
    n = int(SR * seconds)
    mix = np.zeros((2, n))

    def hit(start_s: float, sig: np.ndarray, left: float, right: float) -> None:
        i = int(start_s * SR)
        m = min(sig.size, n - i)
        mix[0, i : i + m] += left * sig[:m]
        mix[1, i : i + m] += right * sig[:m]

    kt = np.arange(int(0.4 * SR)) / SR
    kick = np.sin(2 * np.pi * (50 * kt + 2.1 * (1 - np.exp(-kt / 0.03)))) * np.exp(-kt / 0.12)
    click = int(0.004 * SR)
    kick[:click] += 0.5 * rng.standard_normal(click)
    st = np.arange(int(0.3 * SR)) / SR
    snare = 0.5 * np.sin(2 * np.pi * 190 * st) * np.exp(-st / 0.05) + rng.standard_normal(st.size) * np.exp(-st / 0.07)
    snare = signal.sosfilt(signal.butter(2, 300, "highpass", fs=SR, output="sos"), snare)
    ht = np.arange(int(0.06 * SR)) / SR
    hat = signal.sosfilt(signal.butter(4, 7000, "highpass", fs=SR, output="sos"), rng.standard_normal(ht.size))
    hat *= np.exp(-ht / 0.015)
    beat = 0.5
    for b in range(int(seconds / beat)):
        if b % 4 in (0, 2) or b % 8 == 7:
            hit(b * beat, kick, 1.0, 1.0)
        if b % 4 in (1, 3):
            hit(b * beat, 0.9 * snare, 0.95, 1.0)
        hit(b * beat, 0.25 * hat, 0.8, 1.0)
        hit(b * beat + beat / 2, 0.175 * hat, 0.8, 1.0)
    notes = np.resize(np.repeat([41.2, 41.2, 55.0, 49.0], 2 * SR), n)
    bass = 2 * (np.cumsum(notes) / SR % 1.0) - 1
    mix += 0.8 * signal.sosfilt(signal.butter(4, 250, fs=SR, output="sos"), bass)
    gtr = np.zeros((2, n))
    for f in (110.0, 164.8, 220.0):
        for ch, detune in ((0, 0.997), (1, 1.003)):
            gtr[ch] += 2 * ((np.arange(n) * f * detune / SR + rng.random()) % 1.0) - 1
    mix += 0.6 * signal.sosfilt(signal.butter(2, [200, 4000], "bandpass", fs=SR, output="sos"), gtr, axis=1)
    return mix / np.max(np.abs(mix)) * 10 ** (-3 / 20)


@pytest.fixture(scope="module")
def excerpt(tmp_path_factory):
    path = tmp_path_factory.mktemp("loud") / "rock.wav"
    sf.write(path, drum_excerpt().T, SR, subtype="FLOAT")
    return path


def job(tmp_path, source, chain) -> str:
    doc = {"mixgraph": 1, "name": "rock", "sample_rate": SR,
           "master": {"source": str(source), "chain": chain,
                      "loudness": {"target_lufs": -7.0, "ceiling_dbtp": -1.0, "max_gain_reduction_db": 12.0}},
           "outputs": {"m": {"path": "out/rock.wav", "bit_depth": 24}}}
    path = tmp_path / "loud.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


#: a long Kaiser low-pass for resample_poly (2049 taps at 16x, beta 8): its default filter (beta 5,
#: 10 base samples a side) droops near 20 kHz, where a clipper's harmonics are
REFERENCE_FILTER = signal.firwin(16 * 128 + 1, 1 / 16, window=("kaiser", 8.0))


def true_peak_dbtp(path) -> float:
    """16x polyphase (scipy resample_poly) reference on the file as written."""
    x, _ = sf.read(path, always_2d=True)
    up = signal.resample_poly(x, 16, 1, axis=0, window=REFERENCE_FILTER)
    return 20 * np.log10(np.max(np.abs(up)))


def test_the_limiter_alone_cannot_reach_minus_7(tmp_path, excerpt):
    with pytest.raises(RenderError) as exc:
        render_session(job(tmp_path, excerpt, [{"type": "limiter"}]), node_meters=False)
    assert "more than max_gain_reduction_db 12 dB" in exc.value.message
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


@pytest.mark.parametrize("limiter", [{"type": "limiter"},
                                     {"type": "limiter", "release_ms": 10.0, "adaptive_release": True}],
                         ids=["fixed-release", "adaptive-release"])
def test_a_clipper_before_the_limiter_reaches_minus_7_at_minus_1_dbtp(tmp_path, excerpt, limiter):
    chain = [{"type": "clipper", "ceiling_db": -1.0, "knee_db": 2.0}, limiter]
    r = render_session(job(tmp_path, excerpt, chain), node_meters=False)
    out = tmp_path / "out" / "rock.wav"
    assert meter_file(out).integrated_lufs == pytest.approx(-7.0, abs=0.1)
    assert true_peak_dbtp(out) <= -1.0
    gr = {s.kind: s for s in r.master_stats["gain_reduction"]}
    assert gr["limiter"].max_db <= 12.0
    assert gr["clipper"].max_db > 1.0  # the clipper's reduction reaches the report


# --------------------------------------------------------------------------- the price: IMD


def smpte_pair(n: int, gain_db: float) -> np.ndarray:
    t = np.arange(n) / SR
    x = (0.8 * np.sin(2 * np.pi * 60 * t) + 0.2 * np.sin(2 * np.pi * 7000 * t)) * 10 ** (gain_db / 20)
    return np.vstack([x, x])


def through(chain, x: np.ndarray) -> np.ndarray:
    for p in chain:
        p.prepare(SR, 2, 4096)
        x = np.concatenate([p.process(x[:, i : i + 4096]) for i in range(0, x.shape[1], 4096)], axis=1)
    return x


def loudness(y: np.ndarray) -> float:
    return measure_array(y, SR).integrated_lufs


def imd_percent(y: np.ndarray) -> float:
    """SMPTE IMD: the sidebands 7 kHz +- k 60 Hz (k = 1..5) re the 7 kHz line, over the last 2 s
    (0.5 Hz bins, both tones on a bin)."""
    n = 2 * SR
    spec = np.abs(np.fft.rfft(y[0, -n:] * signal.windows.blackmanharris(n)))

    def line(f: float) -> float:
        k = round(f * n / SR)
        return spec[k - 2 : k + 3].max()

    sides = [line(7000 + s * 60 * k) for k in range(1, 6) for s in (-1, 1)]
    return 100 * np.sqrt(np.sum(np.square(sides))) / line(7000)


def test_smpte_imd_limiter_alone_and_with_a_clipper_at_one_loudness():
    n = 4 * SR
    lim = lambda: Limiter(ceiling_dbtp=-1.0)  # noqa: E731
    clip = lambda: Clipper(ceiling_db=-1.0, knee_db=2.0)  # noqa: E731
    # the limiter alone, driven 6 dB past its ceiling: it settles to a steady gain
    alone = through([lim()], smpte_pair(n, 6.0))
    target = loudness(alone)
    # the clipper chain at the same output loudness (secant steps on its input gain)
    g0, g1 = 0.0, 2.0
    l0, l1 = (loudness(through([clip(), lim()], smpte_pair(n, g))) for g in (g0, g1))
    for _ in range(8):
        g0, l0, g1 = g1, l1, g1 + (target - l1) * (g1 - g0) / (l1 - l0)
        l1 = loudness(through([clip(), lim()], smpte_pair(n, g1)))
        if abs(l1 - target) < 0.01:
            break
    both = through([clip(), lim()], smpte_pair(n, g1))
    assert loudness(both) == pytest.approx(target, abs=0.02)
    imd_alone, imd_both = imd_percent(alone), imd_percent(both)
    # a steady pair: the limiter holds a near-constant gain, the clipper bends every 60 Hz peak
    assert imd_alone < 0.1, imd_alone
    assert imd_alone < imd_both < 5.0, imd_both
    # under its knee the clipper is linear: the same pair 4 dB lower passes without IMD
    assert imd_percent(through([clip()], smpte_pair(n, -4.0))) < 0.01
