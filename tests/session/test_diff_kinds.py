"""`mixgraph diff` on every processor kind: added, removed and with parameters changed, nested ones too
(EQ bands, multiband bands and crossovers, sidechains)."""

from __future__ import annotations

import pytest

from mixgraph.cli import main
from mixgraph.dsp import registry
from mixgraph.session.models import PROCESSOR_MODELS

#: kind -> (processor, the same processor edited, the line(s) the edit reads as, the added line's settings)
KINDS = {
    "gain": ("{type: gain, gain_db: -3}", "{type: gain, gain_db: -4.5}",
             ["gain gain_db -3 dB -> -4.5 dB (-1.5 dB)"], "(gain_db -3 dB)"),
    "pan": ("{type: pan, pan: 0.5}", "{type: pan, pan: -0.25}", ["pan pan 0.5 -> -0.25"], "(pan 0.5)"),
    "polarity": ("{type: polarity, channels: left}", "{type: polarity, channels: right}",
                 ["polarity channels left -> right"], "(channels left)"),
    "width": ("{type: width, width: 1.5}", "{type: width, width: 0.5}", ["width width 1.5 -> 0.5"], "(width 1.5)"),
    "eq": ("{type: eq, bands: [{type: bell, freq_hz: 1000, gain_db: 3, q: 2}, {type: highpass, freq_hz: 80, "
           "slope_db_oct: 24}, {type: notch, freq_hz: 60, q: 10}]}",
           "{type: eq, bands: [{type: bell, freq_hz: 1000, gain_db: 2.5, q: 2}, {type: highpass, freq_hz: 100, "
           "slope_db_oct: 36}, {type: notch, freq_hz: 60, q: 10}]}",
           ["eq bands[0].gain_db 3 dB -> 2.5 dB (-0.5 dB)", "eq bands[1].freq_hz 80 Hz -> 100 Hz",
            "eq bands[1].slope_db_oct 24 dB/oct -> 36 dB/oct"],
           "(bell 1000 Hz +3 dB q 2, highpass 80 Hz slope_db_oct 24 dB/oct, notch 60 Hz q 10)"),
    "compressor": ("{type: compressor, threshold_db: -20, ratio: 3, sidechain: {from: kick, highpass_hz: 100}}",
                   "{type: compressor, threshold_db: -20, ratio: 3, attack_ms: 5, sidechain: {from: kick, "
                   "highpass_hz: 120}}",
                   ["compressor attack_ms 10 ms -> 5 ms", "compressor sidechain.highpass_hz 100 Hz -> 120 Hz"],
                   "(threshold_db -20 dB, ratio 3, sidechain {from kick, highpass_hz 100 Hz})"),
    "gate": ("{type: gate, threshold_db: -40, sidechain: {from: kick}}",
             "{type: gate, threshold_db: -40, hold_ms: 20, sidechain: {from: snare}}",
             ["gate hold_ms 50 ms -> 20 ms", "gate sidechain.from kick -> snare"],
             "(threshold_db -40 dB, sidechain {from kick})"),
    "deesser": ("{type: deesser, freq_hz: 7000}", "{type: deesser, freq_hz: 6500}",
                ["deesser freq_hz 7000 Hz -> 6500 Hz"], "(freq_hz 7000 Hz)"),
    "transient": ("{type: transient, attack_db: 6, sustain_db: -3}", "{type: transient, attack_db: 4.5, sustain_db: -3}",
                  ["transient attack_db 6 dB -> 4.5 dB (-1.5 dB)"], "(attack_db 6 dB, sustain_db -3 dB)"),
    "saturation": ("{type: saturation, drive_db: 3, oversample: 2}", "{type: saturation, drive_db: 6, oversample: 2}",
                   ["saturation drive_db 3 dB -> 6 dB (+3 dB)"], "(drive_db 3 dB, oversample 2)"),
    "delay": ("{type: delay, time_ms: 250, feedback: 0.4}", "{type: delay, time_ms: 375, feedback: 0.4}",
              ["delay time_ms 250 ms -> 375 ms"], "(time_ms 250 ms, feedback 0.4)"),
    "chorus": ("{type: chorus, voices: 3, depth_ms: 3}", "{type: chorus, voices: 3, depth_ms: 3, rate_hz: 1.5}",
               ["chorus rate_hz 0.8 Hz -> 1.5 Hz"], "(voices 3, depth_ms 3 ms)"),
    "reverb": ("{type: reverb, decay_s: 1.5, predelay_ms: 20}", "{type: reverb, decay_s: 1.5, predelay_ms: 10}",
               ["reverb predelay_ms 20 ms -> 10 ms"], "(decay_s 1.5 s, predelay_ms 20 ms)"),
    "multiband": ("{type: multiband, crossovers_hz: [200, 2000], bands: [{threshold_db: -20}, {threshold_db: -24}, "
                  "{ratio: 3, makeup_db: 1}]}",
                  "{type: multiband, crossovers_hz: [200, 2500], bands: [{threshold_db: -20}, {threshold_db: -24}, "
                  "{ratio: 3, makeup_db: 2}]}",
                  ["multiband crossovers_hz [200, 2000] Hz -> [200, 2500] Hz",
                   "multiband bands[2].makeup_db 1 dB -> 2 dB (+1 dB)"],
                  "(crossovers_hz [200, 2000] Hz, bands [{threshold_db -20 dB}, {threshold_db -24 dB}, "
                  "{ratio 3, makeup_db 1 dB}])"),
    "clipper": ("{type: clipper, ceiling_db: -2, knee_db: 1}", "{type: clipper, ceiling_db: -1.5, knee_db: 1}",
                ["clipper ceiling_db -2 dB -> -1.5 dB (+0.5 dB)"], "(ceiling_db -2 dB, knee_db 1 dB)"),
    "limiter": ("{type: limiter, ceiling_dbtp: -1.5}", "{type: limiter, ceiling_dbtp: -1}",
                ["limiter ceiling_dbtp -1.5 dBTP -> -1 dBTP (+0.5 dB)"], "(ceiling_dbtp -1.5 dBTP)"),
}


def session(chain: str = "", master: str = "") -> str:
    return ("mixgraph: 1\nname: s\ntracks:\n  kick: {source: kick.wav}\n  snare: {source: snare.wav}\n"
            f"  vox:\n    source: vox.wav\n    chain: [{{type: gain, gain_db: 1}}, {chain}]\n"
            f"master:\n  chain: [{master}]\n")


def diff(tmp_path, capsys, a: str, b: str) -> list[str]:
    (tmp_path / "a.yaml").write_text(a)
    (tmp_path / "b.yaml").write_text(b)
    capsys.readouterr()
    code = main(["diff", str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml")])
    out = capsys.readouterr()
    assert code == 0, out.err
    return out.out.splitlines()


def test_every_kind_has_a_case():
    assert set(KINDS) == set(PROCESSOR_MODELS) == set(registry.kinds()) - set(registry._EXTRA)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_kind_added_removed_and_changed(kind, tmp_path, capsys):
    proc, edited, changed, settings = KINDS[kind]
    added = f"chain[1] {kind} {settings}"
    assert diff(tmp_path, capsys, session(), session(proc)) == [f"+ track vox: {added}"]
    assert diff(tmp_path, capsys, session(proc), session()) == [f"- track vox: {added}"]
    assert diff(tmp_path, capsys, session(proc), session(edited)) == [f"~ track vox: chain[1] {x}" for x in changed]
    # the same processor on the master
    assert diff(tmp_path, capsys, session(master=proc), session(master=edited)) == \
        [f"~ master: chain[0] {x}" for x in changed]
    assert diff(tmp_path, capsys, session(), session(master=proc)) == [f"+ master: chain[0] {kind} {settings}"]


def test_bands_inserted_removed_and_replaced(tmp_path, capsys):
    eq = "{type: eq, bands: [{type: bell, freq_hz: 1000, gain_db: 3, q: 2}, {type: highpass, freq_hz: 80}]}"
    # a band inserted in front: one insertion, the two behind it matched by type
    more = ("{type: eq, bands: [{type: lowshelf, freq_hz: 100, gain_db: -1.5}, {type: bell, freq_hz: 1000, "
            "gain_db: 3, q: 2}, {type: highpass, freq_hz: 80}]}")
    assert diff(tmp_path, capsys, session(eq), session(more)) == ["+ track vox: chain[1] eq bands[0] lowshelf 100 Hz -1.5 dB"]
    assert diff(tmp_path, capsys, session(more), session(eq)) == ["- track vox: chain[1] eq bands[0] lowshelf 100 Hz -1.5 dB"]
    # a band of another type in the same place is a replacement
    notch = "{type: eq, bands: [{type: notch, freq_hz: 1000, q: 2}, {type: highpass, freq_hz: 80}]}"
    assert diff(tmp_path, capsys, session(eq), session(notch)) == [
        "- track vox: chain[1] eq bands[0] bell 1000 Hz +3 dB q 2",
        "+ track vox: chain[1] eq bands[0] notch 1000 Hz q 2",
    ]
    # every band added to an empty EQ
    assert diff(tmp_path, capsys, session("{type: eq}"), session(eq)) == [
        "+ track vox: chain[1] eq bands[0] bell 1000 Hz +3 dB q 2",
        "+ track vox: chain[1] eq bands[1] highpass 80 Hz",
    ]
    # a crossover dropped drops the top band (bands are by position)
    mb = ("{type: multiband, crossovers_hz: [200, 2000], bands: [{threshold_db: -20}, {threshold_db: -24}, "
          "{ratio: 3, makeup_db: 1}]}")
    fewer = "{type: multiband, crossovers_hz: [200], bands: [{threshold_db: -20}, {threshold_db: -22}]}"
    assert diff(tmp_path, capsys, session(mb), session(fewer)) == [
        "~ track vox: chain[1] multiband crossovers_hz [200, 2000] Hz -> [200] Hz",
        "~ track vox: chain[1] multiband bands[1].threshold_db -24 dB -> -22 dB (+2 dB)",
        "- track vox: chain[1] multiband bands[2] {ratio 3, makeup_db 1 dB}",
    ]
    assert diff(tmp_path, capsys, session(fewer), session(mb))[-1] == \
        "+ track vox: chain[1] multiband bands[2] {ratio 3, makeup_db 1 dB}"
    # a band at every default
    flat = "{type: multiband, crossovers_hz: [200], bands: [{}, {}]}"
    assert diff(tmp_path, capsys, session(), session(flat)) == \
        ["+ track vox: chain[1] multiband (crossovers_hz [200] Hz, bands [{defaults}, {defaults}])"]


def test_sidechain_added_and_dropped(tmp_path, capsys):
    plain = "{type: compressor}"
    keyed = "{type: compressor, sidechain: {from: kick, highpass_hz: 90}}"
    assert diff(tmp_path, capsys, session(plain), session(keyed)) == \
        ["~ track vox: chain[1] compressor sidechain none -> {from: kick, highpass_hz: 90 Hz}"]
    assert diff(tmp_path, capsys, session(keyed), session(plain)) == \
        ["~ track vox: chain[1] compressor sidechain {from: kick, highpass_hz: 90 Hz} -> none"]


def test_json_of_a_nested_change(tmp_path, capsys):
    import json

    proc, edited, _, _ = KINDS["multiband"]
    (tmp_path / "a.yaml").write_text(session(proc))
    (tmp_path / "b.yaml").write_text(session(edited))
    capsys.readouterr()
    assert main(["diff", "--json", str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml")]) == 0
    changes = json.loads(capsys.readouterr().out)
    assert [(c["path"], c["old"], c["new"], c["unit"]) for c in changes] == [
        ("tracks.vox.chain[1].crossovers_hz", [200.0, 2000.0], [200.0, 2500.0], "Hz"),
        ("tracks.vox.chain[1].bands[2].makeup_db", 1.0, 2.0, "dB"),
    ]
