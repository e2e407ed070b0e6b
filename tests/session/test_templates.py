"""Templates: `use:` with parameters, globs, overrides, versions; errors at the template line and
the session line that used it; `mixgraph init`."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
import soundfile as sf

from mixgraph.cli import main
from mixgraph.errors import SessionInvalid
from mixgraph.session import pipeline
from mixgraph.session.expand import dump_yaml
from mixgraph.session.templates import bundled_templates

SR = 48000


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def stems(folder, names, seconds=0.5):
    rng = np.random.default_rng(3)
    for name in names:
        p = folder / name
        p.parent.mkdir(parents=True, exist_ok=True)
        t = np.arange(int(SR * seconds)) / SR
        x = 0.2 * np.sin(2 * np.pi * (200 + 50 * rng.random()) * t) + 0.01 * rng.standard_normal(t.size)
        sf.write(p, x, SR, subtype="PCM_16")


STACK = """
mixgraph: 1
name: t
sample_rate: 48000
sources_dir: stems
tail_s: 0.0
use:
  vox:
    template: vocal-stack@1
    with:
      lead: vox/lead.wav
      harmonies: "vox/harm_*.wav"
      level_db: -3
"""


def harmony_session(tmp_path, extra=""):
    stems(tmp_path / "stems", ["vox/lead.wav"] + [f"vox/harm_{i}.wav" for i in range(1, 7)])
    return write(tmp_path / "s.yaml", STACK + textwrap.dedent(extra))


def test_glob_over_six_harmonies_makes_six_tracks_on_the_vocal_bus_and_renders(tmp_path):
    from mixgraph.api.plan import resolve_plan
    from mixgraph.api.render import render_session

    s = harmony_session(tmp_path, """
    outputs:
      mix: {path: out/mix.wav, tap: premaster, bit_depth: 32f}
    """)
    session = pipeline.load(s).session
    harmonies = sorted(k for k in session.tracks if k.startswith("vox_harmony_"))
    assert harmonies == [f"vox_harmony_{i}" for i in range(1, 7)]
    # one track per file, in sorted file order, every one on the vocal bus
    assert [session.tracks[h].source for h in harmonies] == [f"vox/harm_{i}.wav" for i in range(1, 7)]
    assert all(session.tracks[h].out == "vocals" for h in harmonies)
    # spread evenly from -0.6 to +0.6 (harmonies_width 0.6 by default)
    assert [session.tracks[h].pan for h in harmonies] == pytest.approx([-0.6, -0.36, -0.12, 0.12, 0.36, 0.6])
    assert session.buses["vocals"].gain_db == -3.0  # a number parameter stays a number
    plan = resolve_plan(s).plan
    vocal_inputs = {i.source for i in plan.node("bus:vocals").inputs}
    assert {f"track:vox_harmony_{i}" for i in range(1, 7)} | {"track:vox_lead"} <= vocal_inputs
    r = render_session(s, node_meters=False)
    assert r.premaster.integrated_lufs is not None and r.premaster.integrated_lufs > -40
    assert r.node_stats["bus:vocals"]["peak"] > 0.01


def test_doubles_alternate_left_and_right(tmp_path):
    stems(tmp_path / "stems", ["lead.wav", "d1.wav", "d2.wav", "d3.wav"])
    s = write(tmp_path / "s.yaml", """
    mixgraph: 1
    name: t
    sources_dir: stems
    use:
      vx: {template: vocal-stack@1, with: {lead: lead.wav, doubles: [d1.wav, "d[23].wav"], doubles_pan: 0.5}}
    """)
    t = pipeline.load(s).session.tracks
    assert [t[f"vx_double_{i}"].pan for i in (1, 2, 3)] == [-0.5, 0.5, -0.5]
    assert [t[f"vx_double_{i}"].source for i in (1, 2, 3)] == ["d1.wav", "d2.wav", "d3.wav"]
    assert t["vx_lead"].sends[0].to == "vox-plate"


def test_session_entries_override_what_the_template_made(tmp_path):
    s = harmony_session(tmp_path, """
    tracks:
      vox_lead: {gain_db: 2.5, sends: []}
      guitar: {source: vox/lead.wav}
    buses:
      vocals: {gain_db: -6}
    """)
    sess = pipeline.load(s).session
    lead = sess.tracks["vox_lead"]
    assert lead.gain_db == 2.5 and lead.sends == []          # the session wins, lists replaced whole
    assert [p.type for p in lead.chain] == ["eq", "compressor", "deesser"]  # the rest is the template's
    assert lead.source == "vox/lead.wav" and lead.out == "vocals"
    assert sess.buses["vocals"].gain_db == -6.0 and sess.buses["vocals"].chain[0].type == "compressor"
    assert "guitar" in sess.tracks


def test_expand_has_no_use_and_reloads_to_the_same_session(tmp_path):
    s = harmony_session(tmp_path)
    ls = pipeline.load(s)
    text = dump_yaml(pipeline.expand(ls))
    assert "use:" not in text and "template" not in text and "vox_harmony_6" in text
    again = pipeline.load_text(text, "expanded.yaml", session_dir=tmp_path)
    assert pipeline.session_hash(again.session) == pipeline.session_hash(pipeline.expand(ls))


def diags_of(path):
    with pytest.raises(SessionInvalid) as info:
        pipeline.load(path)
    return info.value.diagnostics


def one(diags, code_prefix):
    found = [d for d in diags if d.code.startswith(code_prefix)]
    assert found, [d.to_dict() for d in diags]
    return found[0]


def test_parameter_errors_point_at_the_session(tmp_path):
    stems(tmp_path / "stems", ["lead.wav"])
    s = write(tmp_path / "s.yaml", """
    mixgraph: 1
    name: t
    sources_dir: stems
    use:
      vox:
        template: vocal-stack@1
        with:
          lead: lead.wav
          harmonys: "h_*.wav"
          doubles: "nothing_*.wav"
          level_db: loud
    """)
    d = diags_of(s)
    unknown = next(x for x in d if "no parameter 'harmonys'" in x.message)
    assert (unknown.line, unknown.col, unknown.hint) == (9, 7, "Did you mean 'harmonies'?")
    nomatch = next(x for x in d if "matches no files" in x.message)
    assert (nomatch.line, nomatch.col) == (10, 16) and "sources_dir" in nomatch.hint
    wrong = next(x for x in d if "Expected a number" in x.message)
    assert (wrong.file, wrong.line, wrong.col) == (str(s), 11, 17)


def test_missing_parameter_and_template_references(tmp_path):
    cases = {
        "{template: vocal-stack@1, with: {}}": ("needs the parameter 'lead'", 5, 3),
        "{template: vocal-stak@1}": ("Unknown template 'vocal-stak'", 5, 19),
        "{template: vocal-stack}": ("Pin the version", 5, 19),
        "{template: vocal-stack@9}": ("has no version 9", 5, 19),
        "{template: ./nope.yaml}": ("does not exist", 5, 19),
    }
    for body, (message, line, col) in cases.items():
        s = write(tmp_path / "s.yaml", f"mixgraph: 1\nname: t\nsources_dir: .\nuse:\n  vox: {body}\n")
        d = diags_of(s)[0]
        assert message in d.message and (d.line, d.col) == (line, col), (body, d.to_dict())
    d = diags_of(write(tmp_path / "s.yaml", "mixgraph: 1\nname: t\nuse:\n  vox:\n    template: vocal-stak@1\n"))[0]
    assert d.hint == "Did you mean 'vocal-stack'?"
    d = diags_of(write(tmp_path / "s.yaml", "mixgraph: 1\nname: t\nuse:\n  vox:\n    template: vocal-stack\n"))[0]
    assert "vocal-stack@1" in d.hint


LOCAL = """
template: stack
version: 2
params:
  src: {type: file}
  ratio: {type: number, default: 4}
body:
  tracks:
    ${prefix}_a:
      source: ${src}
      chain:
        - type: compressor
          ratio: ${ratio}
          threshold_db: -20
    ${prefix}_b:
      source: ${src}
      gain_db: ${gain}
"""


def test_error_inside_a_template_points_at_the_template_and_the_use(tmp_path, capsys):
    stems(tmp_path / "stems", ["a.wav"])
    write(tmp_path / "templates/stack.yaml", LOCAL.replace("      gain_db: ${gain}\n", ""))
    s = write(tmp_path / "s.yaml", """
    mixgraph: 1
    name: t
    sources_dir: stems
    use:
      one:
        template: ./templates/stack.yaml@2
        with: {src: a.wav, ratio: 0.5}
    """)
    d = diags_of(s)
    assert len(d) == 1
    # the bad value came from the session's 'with:', so it points there
    assert (d[0].file, d[0].line, d[0].col, d[0].path) == (str(s), 7, 31, "tracks.one_a.chain[0].ratio")
    # a bad value written in the template points at the template line, with the use as 'via'
    write(tmp_path / "templates/stack.yaml", LOCAL.replace("${ratio}", "-1").replace("      gain_db: ${gain}\n", ""))
    d = diags_of(s)[0]
    tfile = str((tmp_path / "templates/stack.yaml").resolve())
    assert (d.file, d.line, d.col) == (tfile, 12, 18)
    assert d.via == ((str(s), 5, 3),)
    assert main(["validate", str(s)]) == 2
    err = capsys.readouterr().err
    assert f"{tfile}:12:18: tracks.one_a.chain[0].ratio" in err and f"(used from {s}:5:3)" in err
    assert "ratio: -1" in err  # the excerpt is the template's line


def test_template_problems_unknown_placeholder_version_and_collision(tmp_path):
    stems(tmp_path / "stems", ["a.wav"])
    write(tmp_path / "templates/stack.yaml", LOCAL)
    s = write(tmp_path / "s.yaml", """
    mixgraph: 1
    name: t
    sources_dir: stems
    use:
      one: {template: ./templates/stack.yaml, with: {src: a.wav}}
    """)
    d = diags_of(s)[0]
    assert "Unknown placeholder '${gain}'" in d.message and d.line == 16 and d.via == ((str(s), 5, 3),)
    write(tmp_path / "templates/stack.yaml", LOCAL.replace("      gain_db: ${gain}\n", ""))
    s.write_text(s.read_text().replace("stack.yaml,", "stack.yaml@1,"))
    d = diags_of(s)[0]
    assert "asks for version 1, the file is version 2" in d.message
    s.write_text(s.read_text().replace("stack.yaml@1,", "stack.yaml,")
                 + "  two: {template: ./templates/stack.yaml, with: {src: a.wav}}\n"
                 + "  one-again: {template: ./templates/stack.yaml, with: {src: a.wav}}\n")
    assert pipeline.load(s).session.tracks.keys() >= {"one_a", "two_a", "one-again_b"}
    # two instances of the vocal stack would both make the bus 'vocals'
    stems(tmp_path / "stems", ["l.wav"])
    s2 = write(tmp_path / "s2.yaml", """
    mixgraph: 1
    name: t
    sources_dir: stems
    use:
      a: {template: vocal-stack@1, with: {lead: l.wav}}
      b: {template: vocal-stack@1, with: {lead: l.wav}}
    """)
    d = diags_of(s2)[0]
    assert "made by both 'a' and 'b'" in d.message and (d.line, d.col) == (6, 3)
    s2.write_text(s2.read_text().replace("with: {lead: l.wav}}\n", "with: {lead: l.wav, bus: bv, plate: p2, echo: e2}}\n", 1)
                  .replace("a: {template: vocal-stack@1, with: {lead: l.wav, bus: bv, plate: p2, echo: e2}}",
                           "a: {template: vocal-stack@1, with: {lead: l.wav}}")
                  .replace("b: {template: vocal-stack@1, with: {lead: l.wav}}",
                           "b: {template: vocal-stack@1, with: {lead: l.wav, bus: bv, plate: p2, echo: e2}}"))
    sess = pipeline.load(s2).session
    assert sess.tracks["b_lead"].out == "bv" and sess.tracks["a_lead"].out == "vocals"


def test_bundled_templates_are_versioned_files():
    b = bundled_templates()
    assert {"vocal-stack", "band"} <= set(b)
    assert all(p.name == f"v{v}.yaml" for versions in b.values() for v, p in versions.items())


def test_init_writes_a_song_that_validates_once_the_stems_exist(tmp_path, capsys):
    song = tmp_path / "my-song"
    assert main(["init", "--template", "vocal-stack", str(song)]) == 0
    text = (song / "session.yaml").read_text()
    assert "template: vocal-stack@1" in text and "name: my-song" in text
    assert "lead.wav" in (song / "stems/README.txt").read_text()
    assert main(["validate", str(song / "session.yaml")]) != 0  # no stems yet
    stems(song / "stems", ["lead.wav", "doubles_1.wav", "doubles_2.wav", "harmonies_1.wav", "adlibs_1.wav"])
    assert main(["validate", str(song / "session.yaml")]) == 0
    sess = pipeline.load(song / "session.yaml").session
    assert {"vox_lead", "vox_double_1", "vox_double_2", "vox_harmony_1", "vox_adlib_1"} <= set(sess.tracks)
    assert sess.master.chain[-1].type == "limiter"
    # never over anything the user owns
    before = (song / "session.yaml").read_bytes()
    capsys.readouterr()
    assert main(["init", "--template", "band", str(song)]) == 1
    assert "not an empty folder" in capsys.readouterr().err
    assert (song / "session.yaml").read_bytes() == before
    assert main(["init", "--template", "vocal-stak", str(tmp_path / "x")]) == 1
    assert "Did you mean 'vocal-stack'?" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_init_band_validates_with_its_stems(tmp_path):
    song = tmp_path / "b"
    assert main(["init", "--template", "band@1", str(song), "--name", "demo"]) == 0
    stems(song / "stems", ["kick.wav", "snare.wav", "overheads_1.wav", "bass.wav", "guitars_1.wav",
                           "guitars_2.wav", "keys_1.wav"])
    sess = pipeline.load(song / "session.yaml").session
    assert sess.name == "demo"
    assert sess.tracks["band_bass"].chain[1].sidechain.from_ == "band_kick"
    assert [sess.tracks[f"band_gtr_{i}"].pan for i in (1, 2)] == [-0.7, 0.7]


def test_init_list_names_every_bundled_template_with_its_description_and_versions(capsys):
    assert main(["init", "--list"]) == 0
    out = capsys.readouterr().out
    for name, versions in bundled_templates().items():
        line = next(x for x in out.splitlines() if x.startswith(f"{name}@{max(versions)} "))
        assert f"(versions: {', '.join(map(str, sorted(versions)))})" in line
    assert "Lead, doubles, harmonies and ad-libs" in out and "drum bus" in out


KIT = """
template: kit
version: {v}
description: kit version {v}
params:
  src: {{type: file}}
body:
  tracks:
    ${{prefix}}_a: {{source: "${{src}}", gain_db: {gain}}}
"""


def test_a_pinned_version_keeps_its_file_when_a_newer_one_ships(tmp_path, monkeypatch):
    from mixgraph.session import templates

    lib = tmp_path / "lib"
    write(lib / "kit/v1.yaml", KIT.format(v=1, gain=-3))
    write(lib / "kit/v2.yaml", KIT.format(v=2, gain=-7))
    monkeypatch.setattr(templates, "BUNDLED_DIR", lib)
    stems(tmp_path / "stems", ["a.wav"])
    gains = {}
    for ref in ("kit@1", "kit@2"):
        s = write(tmp_path / "s.yaml", f"mixgraph: 1\nname: t\nsources_dir: stems\n"
                                       f"use:\n  k: {{template: {ref}, with: {{src: a.wav}}}}\n")
        gains[ref] = pipeline.load(s).session.tracks["k_a"].gain_db
    assert gains == {"kit@1": -3.0, "kit@2": -7.0}
    s.write_text(s.read_text().replace("kit@2", "kit@3"))
    d = diags_of(s)[0]
    assert "has no version 3" in d.message and d.hint == "Available: 1, 2." and (d.line, d.col) == (5, 17)
    s.write_text(s.read_text().replace("kit@3", "kit"))
    assert "'kit@2' (available: 1, 2)" in diags_of(s)[0].hint
    assert templates.describe_bundled() == [("kit", [1, 2], "kit version 2")]


TYPES = """
template: types
version: 1
params:
  folder: {type: string}
  part: {type: name, default: lead}
  level: {type: number, default: -2}
  muted: {type: bool, default: false}
  width: {type: number, default: 0.5, min: 0, max: 1}
  parts: {type: files, default: []}
body:
  tracks:
    ${prefix}_${part}_${level}:
      source: "${folder}/${part}.wav"
      gain_db: ${level}
      mute: ${muted}
      pan: ${width*-1}
    ${prefix}_p${n}_${stem}:
      for_each: parts
      source: ${file}
      pan: ${spread*width}
"""


def test_substitution_keeps_types_for_whole_values_and_makes_text_inside_strings(tmp_path):
    write(tmp_path / "types.yaml", TYPES)
    stems(tmp_path / "stems", ["st/lead.wav", "st/Take One.wav", "st/b.wav", "st/c.wav"])
    s = write(tmp_path / "s.yaml", """
    mixgraph: 1
    name: t
    sources_dir: stems
    use:
      x: {template: ./types.yaml@1, with: {folder: st, muted: true, level: 3, parts: "st/*.wav"}}
    """)
    t = pipeline.load(s).session.tracks
    lead = t["x_lead_3"]  # a number inside a name is text
    assert lead.source == "st/lead.wav" and lead.gain_db == 3.0 and lead.mute is True and lead.pan == -0.5
    # sorted by path ('T' < 'b'), ${stem} made a name of the file name, spread over -0.5 .. +0.5
    assert {k: v.source for k, v in t.items() if k.startswith("x_p")} == {
        "x_p1_take-one": "st/Take One.wav", "x_p2_b": "st/b.wav", "x_p3_c": "st/c.wav", "x_p4_lead": "st/lead.wav"}
    pans = [t[k].pan for k in ("x_p1_take-one", "x_p2_b", "x_p3_c", "x_p4_lead")]
    assert pans == [-0.5, -0.166667, 0.166667, 0.5]  # rounded to 1e-6 once, for a readable expand
    # the raw values are typed: a bool stays a bool, a number a number
    from mixgraph.session.loader import load_yaml_file
    from mixgraph.session.templates import expand_templates

    raw = expand_templates(load_yaml_file(s), tmp_path).data["tracks"]["x_lead_3"]
    assert raw["mute"] is True and raw["gain_db"] == 3 and isinstance(raw["gain_db"], int)
    good = s.read_text()
    for before, after, message in (("muted: true", "muted: yes-please", "Expected true or false"),
                                   ("level: 3", "level: '3'", "Expected a number"),
                                   ("folder: st", "folder: [st]", "Expected a string")):
        s.write_text(good.replace(before, after))
        line5 = s.read_text().splitlines()[4]
        d = one(diags_of(s), "template.param")
        col = line5.index(after) + len(after.split(": ")[0]) + 3  # the value, 1-based
        assert message in d.message and (d.file, d.line, d.col) == (str(s), 5, col), d.to_dict()
    s.write_text(good)
    s.write_text(s.read_text().replace("level: 3", "level: 3, width: 1.5"))
    d = one(diags_of(s), "template.param")
    assert "1.5 is above the maximum 1" in d.message and d.path == "use.x.with.width"


def test_a_placeholder_typo_is_found_even_when_its_entry_makes_nothing(tmp_path):
    # 'parts' is empty, so the for_each entry generates no track: its typo is still an error
    write(tmp_path / "types.yaml", TYPES.replace("pan: ${spread*width}", "pan: ${spread*widht}"))
    stems(tmp_path / "stems", ["st/lead.wav"])
    s = write(tmp_path / "s.yaml", """
    mixgraph: 1
    name: t
    sources_dir: stems
    use:
      x: {template: ./types.yaml, with: {folder: st}}
    """)
    d = diags_of(s)
    assert len(d) == 1 and "Unknown placeholder '${widht}'" in d[0].message
    assert d[0].hint == "Did you mean 'width'?"
    assert (d[0].file, d[0].line, d[0].col) == (str((tmp_path / "types.yaml").resolve()), 20, 12)
    assert d[0].via == ((str(s), 5, 3),)
    write(tmp_path / "types.yaml", TYPES.replace("pan: ${width*-1}", "pan: ${part*-1}"))
    d = diags_of(s)[0]
    assert "multiplies 'part', which is not a number" in d.message and d.line == 16
    write(tmp_path / "types.yaml", TYPES.replace("source: ${file}", "source: ${stem}.wav"
                                                 ).replace("      for_each: parts\n", ""))
    # every loop variable outside a for_each entry: the key's two, the source's, the pan's
    found = {(d.message.split("'")[1], d.line, d.col) for d in diags_of(s)}
    assert found == {("${n}", 17, 5), ("${stem}", 17, 5), ("${stem}", 18, 15), ("${spread}", 19, 12)}


def test_a_generated_name_taken_by_another_kind_of_entry_is_an_error_not_an_override(tmp_path):
    stems(tmp_path / "stems", ["l.wav"])
    s = write(tmp_path / "s.yaml", """
    mixgraph: 1
    name: t
    sources_dir: stems
    use:
      vox: {template: vocal-stack@1, with: {lead: l.wav}}
    tracks:
      vocals: {source: l.wav}
    """)
    d = diags_of(s)
    assert len(d) == 1 and "'vocals' is already used by a track" in d[0].message
    tfile = str(bundled_templates()["vocal-stack"][1])
    line = next(i for i, x in enumerate(open(tfile).read().splitlines(), 1) if x.strip() == "${bus}:")
    assert (d[0].file, d[0].line, d[0].col, d[0].via) == (tfile, line, 5, ((str(s), 5, 3),))
