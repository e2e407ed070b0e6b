"""Routing, rendered: VCA groups move their members' faders (and nothing else), and a track plays
the channels it picks of its file, or their mean. Every render is taken at float64 from the
engine's taps; references are numpy formulas on the written stems."""

from __future__ import annotations

import os

import numpy as np
import pytest
import soundfile as sf
import yaml

from mixgraph.api.compile import compile_session
from mixgraph.render.engine import Engine

SR = 48000
N = 9600  # 0.2 s: long enough for lanes to move, short enough for 1-frame blocks elsewhere


def stems(folder, channels: dict[str, int], n: int = N, sr: int = SR, seed: int = 0) -> dict[str, np.ndarray]:
    """Float WAV stems (noise, distinct per channel); returns each as (channels, n) float64."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, ch in channels.items():
        sf.write(folder / f"{name}.wav", 0.2 * rng.standard_normal((n, ch)), sr, subtype="FLOAT")
        out[name] = sf.read(folder / f"{name}.wav", always_2d=True)[0].T
    return out


def session(tmp_path, body: dict, name: str = "s") -> str:
    taps = ["premaster"] + [f"track:{t}" for t in body.get("tracks", {})] + \
        [f"bus:{b}" for b in body.get("buses", {})] + [f"return:{r}" for r in body.get("returns", {})]
    outputs = {t.replace(":", "-"): {"path": f"out/{t.replace(':', '-')}.wav", "tap": t, "bit_depth": "32f"}
               for t in taps}
    doc = {"mixgraph": 1, "name": "t", "sample_rate": SR, "sources_dir": "stems", "tail_s": 0.0,
           "outputs": outputs, **body}
    p = tmp_path / f"{name}.yaml"
    p.write_text(yaml.safe_dump(doc, sort_keys=False))
    return str(p)


def render(tmp_path, path: str, block: int | None = None) -> dict[str, np.ndarray]:
    """Every tap of the session's plan at float64, as the engine hands it to the writers."""
    plan = compile_session(path)
    got: dict[str, list] = {t.name: [] for t in plan.taps}
    res = Engine(plan, block_size=block, jobs=1).run_mix({k: [v.append] for k, v in got.items()},
                                                         spill_dir=str(tmp_path))
    os.remove(res.spill_path)
    return {k: np.concatenate(v, axis=1) for k, v in got.items()}


def centre(m: np.ndarray) -> np.ndarray:
    """A mono signal at the centre: the constant-power law's cos and sin of pi/4."""
    return np.vstack((m * np.cos(np.pi / 4), m * np.sin(np.pi / 4)))


def db(x) -> np.ndarray:
    return 10.0 ** (np.asarray(x, dtype=np.float64) / 20.0)


# --------------------------------------------------------------------------- VCA groups


def test_a_vca_at_minus_6_equals_its_members_faders_at_minus_6_bit_for_bit(tmp_path):
    stems(tmp_path / "stems", {"kick": 1, "snare": 2, "bass": 2})
    routing = {"buses": {"drums": {}}, "returns": {"verb": {}}}
    # members: a track, a bus (its own fader at -2 + the group's -4), and a track through a nested group
    with_vca = session(tmp_path, {
        "tracks": {"kick": {"source": "kick.wav", "out": "drums", "pan": 0.3},
                   "snare": {"source": "snare.wav", "out": "drums", "sends": [{"to": "verb", "level_db": -10}]},
                   "bass": {"source": "bass.wav", "gain_db": -2}},
        **routing,
        "vcas": {"drums_vca": {"gain_db": -6, "members": ["snare", "inner"]},
                 "inner": {"gain_db": -2, "members": ["bass"]},
                 "outer": {"gain_db": -4, "members": ["inner"]}},
    }, "vca")
    by_fader = session(tmp_path, {
        "tracks": {"kick": {"source": "kick.wav", "out": "drums", "pan": 0.3},
                   "snare": {"source": "snare.wav", "out": "drums", "gain_db": -6,
                             "sends": [{"to": "verb", "level_db": -10}]},
                   # -2 own + -2 inner + -4 outer + -6 drums_vca (inner is a member of both groups)
                   "bass": {"source": "bass.wav", "gain_db": -14}},
        **routing,
    }, "fader")
    a, b = render(tmp_path, with_vca), render(tmp_path, by_fader)
    assert set(a) == set(b)
    for tap in a:
        np.testing.assert_array_equal(a[tap], b[tap], err_msg=tap)
    # and the level is the formula's: the kick is not a member
    kick = sf.read(tmp_path / "stems/kick.wav", always_2d=True)[0].T
    theta = (0.3 + 1) * np.pi / 4
    np.testing.assert_array_equal(a["track:kick"], np.vstack((kick[0] * np.cos(theta), kick[0] * np.sin(theta))))


def test_a_bus_member_moves_without_summing_its_inputs_again(tmp_path):
    data = stems(tmp_path / "stems", {"x": 2, "y": 2})
    s = session(tmp_path, {"tracks": {"x": {"source": "x.wav", "out": "grp"}, "y": {"source": "y.wav"}},
                           "buses": {"grp": {}}, "vcas": {"v": {"gain_db": -6, "members": ["grp"]}}})
    got = render(tmp_path, s)
    np.testing.assert_array_equal(got["track:x"], data["x"])  # the bus's input is untouched
    np.testing.assert_allclose(got["bus:grp"], data["x"] * db(-6), rtol=1e-15, atol=0)
    np.testing.assert_allclose(got["premaster"], data["x"] * db(-6) + data["y"], rtol=0, atol=1e-15)


def test_post_fader_sends_follow_the_vca_pre_fader_sends_do_not(tmp_path):
    data = stems(tmp_path / "stems", {"v": 2})
    sends = [{"to": "post", "level_db": -10}, {"to": "pre", "level_db": -10, "pre_fader": True}]
    body = {"tracks": {"v": {"source": "v.wav", "gain_db": -3, "sends": sends}},
            "returns": {"post": {}, "pre": {}}}
    plain = render(tmp_path, session(tmp_path, body, "plain"))
    grouped = render(tmp_path, session(tmp_path, {**body, "vcas": {"g": {"gain_db": -9, "members": ["v"]}}}, "g"))
    np.testing.assert_array_equal(grouped["return:pre"], plain["return:pre"])
    np.testing.assert_allclose(plain["return:pre"], data["v"] * db(-10), rtol=1e-15, atol=0)
    np.testing.assert_allclose(grouped["return:post"], data["v"] * db(-12) * db(-10), rtol=1e-14, atol=0)
    np.testing.assert_allclose(grouped["track:v"], data["v"] * db(-12), rtol=1e-15, atol=0)


@pytest.mark.parametrize("channels", [1, 2])
def test_vca_automation_adds_to_the_members_lane_in_db_sample_by_sample(tmp_path, channels):
    data = stems(tmp_path / "stems", {"m": channels})
    own = [[0.0, 0.0], [0.15, -12.0]]
    ride = [[0.0, -6.0], [0.05, 0.0], [0.2, -3.0]]
    s = session(tmp_path, {
        "tracks": {"m": {"source": "m.wav", "automation": {"gain_db": own}}},
        "vcas": {"ride": {"members": ["m"], "automation": {"gain_db": ride}},
                 "trim": {"gain_db": -2.0, "members": ["m"]}},
    })
    t = np.arange(N) / SR
    fader = np.interp(t, *np.array(own).T) - 2.0 + np.interp(t, *np.array(ride).T)
    x = data["m"]
    if channels == 1:
        x = centre(x[0])
    expected = x * db(fader)
    for block in (None, 7, 4096):
        np.testing.assert_allclose(render(tmp_path, s, block)["track:m"], expected, rtol=1e-12, atol=0)
    # a VCA lane alone, on a member with a static fader
    s = session(tmp_path, {"tracks": {"m": {"source": "m.wav", "gain_db": 1.5}},
                           "vcas": {"ride": {"members": ["m"], "automation": {"gain_db": ride}}}}, "alone")
    np.testing.assert_allclose(render(tmp_path, s)["track:m"], x * db(1.5 + np.interp(t, *np.array(ride).T)),
                               rtol=1e-12, atol=0)


# --------------------------------------------------------------------------- channel pick and sum


def test_left_right_and_sum_of_a_stereo_file(tmp_path):
    data = stems(tmp_path / "stems", {"st": 2})
    left, right = data["st"]
    sf.write(tmp_path / "stems/left.wav", left, SR, subtype="FLOAT")
    sf.write(tmp_path / "stems/dual.wav", np.vstack((left, left)).T, SR, subtype="FLOAT")
    s = session(tmp_path, {"tracks": {
        "l": {"source": "st.wav", "input": "left"}, "r": {"source": "st.wav", "input": "right"},
        "s": {"source": "st.wav", "input": "sum"}, "mono": {"source": "left.wav"},
        "dual": {"source": "dual.wav", "input": "sum"}}})
    plan = compile_session(s)
    assert [plan.node(f"track:{t}").channels_in for t in ("l", "r", "s", "dual")] == [1, 1, 1, 1]
    got = render(tmp_path, s)
    np.testing.assert_array_equal(got["track:l"], got["track:mono"])
    np.testing.assert_array_equal(got["track:l"], centre(left))
    np.testing.assert_array_equal(got["track:r"], centre(right))
    np.testing.assert_array_equal(got["track:s"], centre((left + right) * 0.5))
    # two identical channels summed keep the level of one: exactly the mono file
    np.testing.assert_array_equal(got["track:dual"], got["track:mono"])


def test_channels_pick_from_a_polywav_and_sum_a_pair(tmp_path):
    data = stems(tmp_path / "stems", {"poly": 6})["poly"]
    s = session(tmp_path, {"tracks": {
        "pair": {"source": "poly.wav", "channels": [5, 2]}, "one": {"source": "poly.wav", "channels": [6]},
        "di": {"source": "poly.wav", "channels": [3, 4], "input": "sum"},
        "side": {"source": "poly.wav", "channels": [3, 4], "input": "right"}}})
    got = render(tmp_path, s)
    np.testing.assert_array_equal(got["track:pair"], data[[4, 1]])
    np.testing.assert_array_equal(got["track:one"], centre(data[5]))
    np.testing.assert_array_equal(got["track:di"], centre((data[2] + data[3]) * 0.5))
    np.testing.assert_array_equal(got["track:side"], centre(data[3]))


def test_a_picked_channel_is_resampled_as_its_own_mono_file(tmp_path):
    data = stems(tmp_path / "stems", {"st": 2}, n=4410, sr=44100)
    sf.write(tmp_path / "stems/right.wav", data["st"][1], 44100, subtype="FLOAT")
    s = session(tmp_path, {"tracks": {"r": {"source": "st.wav", "input": "right"},
                                      "mono": {"source": "right.wav"}}})
    got = render(tmp_path, s, block=1000)
    assert got["track:r"].shape == (2, 4800)
    np.testing.assert_array_equal(got["track:r"], got["track:mono"])
