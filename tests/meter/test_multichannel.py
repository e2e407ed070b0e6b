"""Multichannel loudness (BS.1770-4 channel weights) against independent references: ffmpeg's
``ebur128`` filter on 5.1 and 7.1 WAV files with known channel masks, pyloudnorm on L R C Ls Rs,
the closed form of the weights (a surround channel reads 10 log10(1.41) dB louder than a front one,
the LFE not at all), and the 16x true-peak reference per channel."""

from __future__ import annotations

import math
import re
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import soundfile as sf
from scipy import signal

from mixgraph.api.meter import meter_file
from mixgraph.meter import LoudnessMeter, MeterResult, MultichannelResult, measure_array
from mixgraph.meter.layout import LAYOUTS, parse_layout
from tests.truepeak_reference import fade, hf_bursts, true_peak_16x

SR = 48000
FFMPEG = shutil.which("ffmpeg")
needs_ffmpeg = pytest.mark.skipif(FFMPEG is None, reason="ffmpeg (the independent ebur128 reference) is not installed")

MASK_51_BACK, MASK_51_SIDE, MASK_71 = 0x3F, 0x60F, 0x63F  # ksmedia.h KSAUDIO_SPEAKER_5POINT1(_SURROUND), 7POINT1_SURROUND


def write_wavex(path: Path, x: np.ndarray, sr: int, mask: int) -> Path:
    """A WAVE_FORMAT_EXTENSIBLE 32-bit float file with channel mask ``mask``, written here byte
    by byte (soundfile cannot set the mask)."""
    ch = x.shape[0]
    data = np.ascontiguousarray(x.T, dtype="<f4").tobytes()
    float_guid = struct.pack("<IHH", 3, 0, 0x10) + bytes.fromhex("800000aa00389b71")
    fmt = struct.pack("<HHIIHHHHI", 0xFFFE, ch, sr, sr * ch * 4, ch * 4, 32, 22, 32, mask) + float_guid
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


def programme(channels: int, seconds: float = 24.0, seed: int = 5) -> np.ndarray:
    """Band-limited noise per channel, each at its own level stepping every 1.5 s over 14 dB (a
    loudness range of several LU), then 0.5 s of silence (so ffmpeg's last 100 ms frame has
    seen all of the programme)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    sos = signal.butter(2, [60, 9000], "band", fs=SR, output="sos")
    x = signal.sosfilt(sos, rng.standard_normal((channels, n)), axis=-1)
    steps = int(np.ceil(seconds / 1.5))
    levels_db = rng.uniform(-14.0, 0.0, size=(channels, steps))
    env = np.repeat(10.0 ** (levels_db / 20.0), int(1.5 * SR), axis=1)[:, :n]
    x = 0.08 * x * env * fade(n, SR)
    return np.concatenate((x, np.zeros((channels, SR // 2))), axis=1)


def ebur128(path: Path, tmp_path: Path) -> dict:
    """ffmpeg's reading of a file: integrated and LRA (3 decimals, from the filter's metadata on
    its last frame) and the per-channel sample peaks (linear)."""
    meta = tmp_path / f"{path.stem}.meta"
    subprocess.run([FFMPEG, "-nostdin", "-nostats", "-hide_banner", "-i", str(path), "-af",
                    f"ebur128=metadata=1:peak=sample,ametadata=print:file={meta}", "-f", "null", "-"],
                   check=True, capture_output=True)
    last = meta.read_text().split("frame:")[-1]
    vals = dict(re.findall(r"lavfi\.r128\.([\w.]+)=(\S+)", last))
    peaks = [float(vals[f"sample_peaks_ch{c}"]) for c in range(len([k for k in vals if k.startswith("sample_peaks_ch")]))]
    return {"I": float(vals["I"]), "LRA": float(vals["LRA"]), "sample_peaks": peaks}


# --- ffmpeg ---------------------------------------------------------------------------------------

@needs_ffmpeg
@pytest.mark.parametrize("mask", [MASK_51_BACK, MASK_51_SIDE], ids=["5.1-back", "5.1-side"])
def test_51_matches_ffmpeg(tmp_path, mask):
    x = programme(6)
    f = write_wavex(tmp_path / "s51.wav", x, SR, mask)
    ours, ref = meter_file(f), ebur128(f, tmp_path)
    assert isinstance(ours, MultichannelResult)
    assert ours.layout == "5.1" and ours.layout_source == "mask"
    assert ours.channel_weights == (1.0, 1.0, 1.0, 0.0, 1.41, 1.41)
    assert ours.integrated_lufs == pytest.approx(ref["I"], abs=0.1)
    assert ours.lra_lu == pytest.approx(ref["LRA"], abs=0.1)
    assert 2.0 < ours.lra_lu  # the programme does have a range to measure
    # sample peaks of every channel, the LFE's included (ffmpeg prints 3 decimals)
    assert np.allclose(10 ** (np.array(ours.channel_sample_peak_dbfs) / 20), ref["sample_peaks"], atol=6e-4)


@needs_ffmpeg
def test_71_matches_ffmpeg_with_the_rear_pair_at_bs1770_weight(tmp_path):
    """ffmpeg weights the rear pair of 7.1 (BL/BR beside SL/SR) 1.41; BS.1770-4 (azimuth 135..150
    deg) and mixgraph 1.0. Scaling the rears by 1/sqrt(1.41) in ffmpeg's copy makes its weighted
    sum ours exactly; the unscaled file shows the documented difference."""
    x = programme(8, seed=7)
    f = write_wavex(tmp_path / "s71.wav", x, SR, MASK_71)  # channel order FL FR FC LFE BL BR SL SR
    ours = meter_file(f)
    assert ours.layout == "7.1"
    assert ours.channel_labels == ("L", "R", "C", "LFE", "Lb", "Rb", "Ls", "Rs")
    assert ours.channel_weights == (1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.41, 1.41)
    scaled = x.copy()
    scaled[4:6] /= math.sqrt(1.41)
    ref = ebur128(write_wavex(tmp_path / "s71_ff.wav", scaled, SR, MASK_71), tmp_path)
    assert ours.integrated_lufs == pytest.approx(ref["I"], abs=0.1)
    assert ours.lra_lu == pytest.approx(ref["LRA"], abs=0.1)
    rears = np.zeros_like(x)
    rears[4:6] = x[4:6]
    f = write_wavex(tmp_path / "rears.wav", rears, SR, MASK_71)
    assert ebur128(f, tmp_path)["I"] - meter_file(f).integrated_lufs == pytest.approx(10 * math.log10(1.41), abs=0.05)


@needs_ffmpeg
def test_71_without_a_mask_takes_the_film_order(tmp_path):
    """An 8-channel file without a mask is L R C LFE Ls Rs Lb Rb: ffmpeg reads the same audio with
    the mask that names that order (SL/SR on channels 5-6 cannot be said in a mask, so the side
    pair is moved to the end for it) and the rears scaled as above."""
    x = programme(8, seed=9)
    plain = tmp_path / "plain8.wav"
    sf.write(plain, x.T, SR, subtype="FLOAT")  # WAVE_FORMAT_IEEE_FLOAT: no mask
    ours = meter_file(plain)
    assert ours.layout == "7.1" and ours.layout_source == "convention"
    assert ours.channel_weights == (1.0, 1.0, 1.0, 0.0, 1.41, 1.41, 1.0, 1.0)
    masked = np.concatenate((x[:4], x[6:8] / math.sqrt(1.41), x[4:6]))  # FL FR FC LFE BL BR SL SR
    ref = ebur128(write_wavex(tmp_path / "m8.wav", masked, SR, MASK_71), tmp_path)
    assert ours.integrated_lufs == pytest.approx(ref["I"], abs=0.1)
    assert ours.lra_lu == pytest.approx(ref["LRA"], abs=0.1)


# --- closed form ----------------------------------------------------------------------------------

def _sine_in(channel: int, channels: int = 6, seconds: float = 10.0) -> np.ndarray:
    n = int(seconds * SR)
    x = np.zeros((channels, n))
    x[channel] = 10 ** (-23 / 20) * np.sin(2 * np.pi * 1000 * np.arange(n) / SR)
    return x


def test_a_surround_channel_reads_1_49_db_louder_than_a_front_one():
    lay = parse_layout("5.1", 6)
    left = measure_array(_sine_in(0), SR, layout=lay)
    ls = measure_array(_sine_in(4), SR, layout=lay)
    assert ls.integrated_lufs - left.integrated_lufs == pytest.approx(10 * math.log10(1.41), abs=1e-9)
    assert ls.momentary_max_lufs - left.momentary_max_lufs == pytest.approx(10 * math.log10(1.41), abs=1e-9)
    # one channel of the EBU 1 kHz -23 dBFS tone: -23 LUFS for two channels, 3.01 dB less for one
    assert left.integrated_lufs == pytest.approx(-23.0 - 10 * math.log10(2), abs=0.05)
    # the same tone through the mono path
    assert measure_array(_sine_in(0, 1), SR).integrated_lufs == pytest.approx(left.integrated_lufs, abs=1e-9)


def test_the_lfe_alone_is_silence_for_loudness_but_not_for_peaks():
    r = measure_array(_sine_in(3), SR, layout=parse_layout("5.1", 6))
    assert r.integrated_lufs is None and r.momentary_max_lufs is None and r.short_term_max_lufs is None
    assert r.lra_lu is None
    assert r.sample_peak_dbfs == pytest.approx(-23.0, abs=0.01)
    assert r.channel_sample_peak_dbfs[3] == r.sample_peak_dbfs
    assert r.channel_sample_peak_dbfs[0] == -200.0
    assert r.true_peak_dbtp == pytest.approx(-23.0, abs=0.01)


# --- pyloudnorm -----------------------------------------------------------------------------------

def test_five_channels_match_pyloudnorm(tmp_path):
    """pyloudnorm's default weights for five channels are L R C Ls Rs: 1, 1, 1, 1.41, 1.41."""
    x = programme(5, seconds=12.0, seed=3)
    ref = pyloudnorm.Meter(SR).integrated_loudness(x.T)
    assert measure_array(x, SR).integrated_lufs == pytest.approx(ref, abs=0.05)
    f = tmp_path / "five.wav"
    sf.write(f, x.T, SR, subtype="FLOAT")  # no mask: the 5-channel convention, L R C Ls Rs
    r = meter_file(f)
    assert r.layout == "5.0" and r.layout_source == "convention"
    assert r.integrated_lufs == pytest.approx(ref, abs=0.05)


# --- peaks, block cuts, paths ---------------------------------------------------------------------

def test_per_channel_true_peak_equals_the_16x_reference():
    x = np.stack([hf_bursts(SR, seed=s)[0] for s in range(3)]) * np.array([[0.9], [0.5], [0.2]])
    r = measure_array(x, SR, block=4096)
    for c in range(3):
        assert r.channel_true_peak_dbtp[c] == pytest.approx(true_peak_16x(x[c]), abs=0.05)
    assert r.true_peak_dbtp == max(r.channel_true_peak_dbtp)


@pytest.mark.parametrize("compiled", [False, True])
def test_the_same_numbers_for_any_block_cut(compiled):
    x = programme(6, seconds=8.0, seed=2)
    lay = parse_layout("5.1", 6)

    def run(block):
        m = LoudnessMeter(SR, 6, compiled=compiled, layout=lay)
        for i in range(0, x.shape[1], block):
            m.process(x[:, i : i + block])
        return m.result()

    ref = run(x.shape[1])
    for block in (4799, 65536):
        r = run(block)
        assert (r.integrated_lufs, r.lra_lu, r.momentary_max_lufs, r.short_term_max_lufs, r.sample_peak_dbfs,
                r.channel_sample_peak_dbfs) == (ref.integrated_lufs, ref.lra_lu, ref.momentary_max_lufs,
                                                ref.short_term_max_lufs, ref.sample_peak_dbfs,
                                                ref.channel_sample_peak_dbfs)
        assert r.channel_true_peak_dbtp == pytest.approx(ref.channel_true_peak_dbtp, abs=1e-12)


def test_compiled_and_numpy_paths_agree():
    x = programme(8, seconds=6.0, seed=4)
    a, b = (LoudnessMeter(SR, 8, compiled=c) for c in (False, True))
    for i in range(0, x.shape[1], 65536):
        a.process(x[:, i : i + 65536])
        b.process(x[:, i : i + 65536])
    ra, rb = a.result(), b.result()
    assert rb.integrated_lufs == pytest.approx(ra.integrated_lufs, abs=1e-9)
    assert rb.lra_lu == pytest.approx(ra.lra_lu, abs=1e-9)
    assert rb.channel_true_peak_dbtp == pytest.approx(ra.channel_true_peak_dbtp, abs=1e-9)


def test_mono_and_stereo_keep_their_own_paths(tmp_path):
    """A mono or stereo file at weight 1.0 is read by the meter's own paths and gives the plain
    MeterResult (the render's meters and report depend on those numbers)."""
    rng = np.random.default_rng(0)
    x = 0.1 * rng.standard_normal((2, SR * 5))
    for ch, name in ((1, "mono"), (2, "stereo")):
        f = tmp_path / f"{name}.wav"
        sf.write(f, x[:ch].T, SR, subtype="FLOAT")
        r = meter_file(f)
        assert type(r) is MeterResult
        assert r == meter_file(f, layout=name)
        m = LoudnessMeter(SR, ch)
        samples = x[:ch].astype(np.float32).astype(np.float64)  # the file's
        for i in range(0, samples.shape[1], 65536):  # meter_file's blocks
            m.process(samples[:, i : i + 65536])
        assert r == m.result()
    # a stereo file whose mask says L + LFE is weighted: the LFE is out of the loudness
    f = write_wavex(tmp_path / "l_lfe.wav", x, SR, 0x9)
    r = meter_file(f)
    assert r.channel_labels == ("L", "LFE") and r.channel_weights == (1.0, 0.0)
    left = x[:1].astype(np.float32).astype(np.float64)
    assert r.integrated_lufs == pytest.approx(measure_array(left, SR).integrated_lufs, abs=1e-9)


def test_an_unknown_count_weighs_every_channel_one_and_says_so(tmp_path):
    one = programme(1, seconds=5.0)
    x = np.repeat(one, 7, axis=0)
    f = tmp_path / "seven.wav"
    sf.write(f, x.T, SR, subtype="FLOAT")
    r = meter_file(f)
    assert r.layout is None and r.layout_source == "none" and r.channel_weights == (1.0,) * 7
    assert "7 channels" in r.layout_note and "--layout" in r.layout_note
    # seven equal channels at weight 1.0: seven times the power of one
    mono = measure_array(one.astype(np.float32).astype(np.float64), SR).integrated_lufs
    assert r.integrated_lufs == pytest.approx(mono + 10 * math.log10(7), abs=1e-9)
    r61 = meter_file(f, layout="6.1")
    assert r61.layout == "6.1" and r61.channel_weights == (1.0, 1.0, 1.0, 0.0, 1.0, 1.41, 1.41)


def test_every_named_layout_meters():
    for name, labels in LAYOUTS.items():
        x = 0.05 * np.random.default_rng(1).standard_normal((len(labels), SR))
        r = measure_array(x, SR, layout=parse_layout(name, len(labels)))
        assert r.integrated_lufs is not None, name
