"""The render cache: a cached render's outputs are the samples of a render without it, for any
sequence of edits; a corrupt entry is recomputed; eviction keeps the least recently used out; two
processes share a cache; the watch loop renders again after an edit."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mixgraph.api.render import render_session
from mixgraph.render.cache import Cache, CacheMiss, decode, encode

SR = 48000
N = 36000  # 0.75 s: above the 400 ms gating block


def _stems(folder: Path) -> None:
    rng = np.random.default_rng(7)
    folder.mkdir(parents=True, exist_ok=True)
    t = np.arange(N) / SR
    bright = 0.3 * rng.standard_normal((N, 2))  # loud, full-band
    tone = np.column_stack([0.5 * np.sin(2 * np.pi * 220 * t)] * 2)
    short = np.zeros((N, 2))
    short[:400] = 0.8 * rng.standard_normal((400, 2))  # a hit, then silence
    sf.write(folder / "a.wav", bright, SR, subtype="FLOAT")
    sf.write(folder / "b.wav", tone, SR, subtype="PCM_24")
    sf.write(folder / "c.wav", short[:, 0], SR, subtype="FLOAT")  # mono


BASE = {
    "mixgraph": 1, "name": "c", "sample_rate": SR, "sources_dir": "stems", "tail_s": 0.1,
    "tracks": {
        "a": {"source": "a.wav", "gain_db": -6.0, "out": "grp",
              "chain": [{"type": "eq", "bands": [{"type": "bell", "freq_hz": 2000, "gain_db": 3.0, "q": 1.0}]}]},
        "b": {"source": "b.wav", "gain_db": -3.0, "out": "grp"},
        "c": {"source": "c.wav", "gain_db": 0.0},
    },
    "buses": {"grp": {"chain": [{"type": "compressor", "threshold_db": -18, "ratio": 3}]}},
    "returns": {"verb": {"chain": [{"type": "reverb", "decay_s": 0.3}]}},
    "master": {"chain": [{"type": "limiter", "ceiling_dbtp": -1.0, "release_ms": 60}],
               "loudness": {"target_lufs": -16, "ceiling_dbtp": -1.0}},
    "outputs": {"master": {"path": "out/master.wav", "bit_depth": 24}},
    "variants": {"quiet": {"set": {"tracks.a.gain_db": -12.0}}},
}


def _write(folder: Path, doc: dict) -> str:
    p = folder / "s.yaml"
    p.write_text(yaml.safe_dump(doc, sort_keys=False))
    return str(p)


def _hashes(result) -> dict[str, str]:
    return {o.written.name: o.written.sha256 for o in result.outputs}


@pytest.fixture
def song(tmp_path):
    _stems(tmp_path / "stems")
    return tmp_path


def _edit(doc: dict, kind: str, x: float) -> dict:
    d = copy.deepcopy(doc)
    t = d["tracks"]
    if kind == "gain":
        t["b"]["gain_db"] = round(-12 + 12 * x, 2)
    elif kind == "eq":
        t["a"]["chain"][0]["bands"][0]["gain_db"] = round(-6 + 12 * x, 2)
    elif kind == "insert":
        t["c"].setdefault("chain", []).append({"type": "compressor", "threshold_db": round(-30 + 20 * x, 1)})
    elif kind == "send":
        t["b"]["sends"] = [{"to": "verb", "level_db": round(-20 + 10 * x, 1)}]
    elif kind == "route":
        t["c"]["out"] = "grp" if t["c"].get("out") != "grp" else "master"
    elif kind == "master":
        d["master"]["chain"][0]["release_ms"] = round(20 + 200 * x, 1)
    elif kind == "target":
        d["master"]["loudness"]["target_lufs"] = round(-20 + 8 * x, 1)
    elif kind == "stem":
        d["outputs"]["grp"] = {"path": "out/grp.wav", "tap": "bus:grp", "bit_depth": 24}
    return d


EDITS = st.lists(st.tuples(st.sampled_from(["gain", "eq", "insert", "send", "route", "master", "target", "stem",
                                            "variant", "none"]),
                           st.floats(0, 1)), min_size=2, max_size=4)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=EDITS)
def test_cached_renders_equal_uncached_over_edits(song, edits):
    cache = Cache(song / f"cache-{os.urandom(4).hex()}")
    doc = BASE
    for kind, x in edits:
        variant = "quiet" if kind == "variant" else None
        if kind not in ("variant", "none"):
            doc = _edit(doc, kind, x)
        path = _write(song, doc)
        cached = render_session(path, variant=variant, cache=cache, report_files=False, block_size=4096)
        plain = render_session(path, variant=variant, report_files=False, block_size=4096)
        assert _hashes(cached) == _hashes(plain), kind
        assert cached.premaster == plain.premaster
        assert cached.node_stats == plain.node_stats
        assert cached.node_levels == plain.node_levels


def test_identical_render_reuses_everything(song):
    cache = Cache(song / "cache")
    path = _write(song, BASE)
    first = render_session(path, cache=cache, report_files=False)
    again = render_session(path, cache=cache, report_files=False)
    assert _hashes(first) == _hashes(again)
    assert again.cache.mix == "reused" and again.cache.master == "reused"
    assert again.cache.nodes_rendered == []
    # the report says so: terminal, JSON and HTML
    from mixgraph.report import build_report, report_texts
    from mixgraph.report.render import cache_line

    texts = report_texts(build_report(again))
    run = json.loads(texts["report.json"])["run"]
    assert run["cache"]["mix"] == "reused" and run["cache"]["nodes_rendered"] == 0
    assert run["cache"]["saved_s"] > 0
    assert "Cache</th>" in texts["report.html"]
    assert cache_line(run["cache"]).startswith("cache: 5 nodes reused, 0 rendered; mix reused, master reused")
    # another block size: the same outputs (the stats of the mix count other frames: rendered again)
    other = render_session(path, cache=cache, report_files=False, block_size=1000)
    assert _hashes(other) == _hashes(first) and other.cache.mix == "rendered"
    # a change to the master chain runs only the master stage
    path = _write(song, _edit(BASE, "master", 0.5))
    master = render_session(path, cache=cache, report_files=False)
    assert master.cache.mix == "reused" and master.cache.master == "rendered"
    # a change to one track renders it and what it feeds (its bus, whose other input streams no
    # stream of its own, and track c, which feeds the master directly); the return is read
    path = _write(song, _edit(BASE, "eq", 0.9))
    one = render_session(path, cache=cache, report_files=False)
    assert set(one.cache.nodes_rendered) == {"track:a", "track:b", "track:c", "bus:grp"}
    assert one.cache.nodes_reused == ["return:verb"]
    assert _hashes(one) == _hashes(render_session(path, report_files=False))


def test_flipped_byte_is_detected_and_recomputed(song):
    cache = Cache(song / "cache")
    path = _write(song, BASE)
    want = _hashes(render_session(path, cache=cache, report_files=False))
    datas = [p for p in cache.objects.glob("*/*.data") if p.stat().st_size]
    for p in datas:  # every stream, the premaster and the master file
        b = bytearray(p.read_bytes())
        b[len(b) // 2] ^= 0x10
        p.write_bytes(bytes(b))
    got = render_session(path, cache=cache, report_files=False)
    assert _hashes(got) == want
    assert got.cache.retried


def test_truncated_entry_is_a_miss(song):
    cache = Cache(song / "cache")
    cache.put_bytes("k" * 64, b"0123456789", {"x": 1})
    assert cache.get_bytes("k" * 64)[0] == b"0123456789"
    data = next(cache.objects.glob("*/*.data"))
    data.write_bytes(b"01234")
    with pytest.raises(CacheMiss):
        cache.get_bytes("k" * 64)


def test_lru_eviction(tmp_path):
    cache = Cache(tmp_path / "c", max_bytes=10**9)
    for i, key in enumerate(("a" * 64, "b" * 64, "c" * 64)):
        cache.put_bytes(key, bytes(1000))
        meta = cache._paths(key)[1]
        os.utime(meta, (1000 + i, 1000 + i))
    cache.meta("a" * 64)  # used now: the most recent
    # entry sizes differ by a byte or two (the record's time stamp): the limit is exactly what a and c hold
    sizes = {e.key: e.size for e in cache.entries()}
    removed, _ = cache.prune(sizes["a" * 64] + sizes["c" * 64])
    assert removed == 1
    assert cache.has("a" * 64) and cache.has("c" * 64) and not cache.has("b" * 64)
    assert cache.clear()[0] == 2 and cache.entries() == []


def test_codec_round_trips_results():
    from mixgraph.api.cached import CLASSES
    from mixgraph.graph.plan import LoudnessPlan
    from mixgraph.mastering.stage import GroupKey

    value = {GroupKey(48000, LoudnessPlan(-14.0, -1.0)): 1.25, "x": (float("inf"), None, [1, 2.5])}
    assert decode(encode(value), CLASSES) == value


def test_two_processes_share_a_cache(song):
    path = _write(song, BASE)
    cdir = song / "shared"
    code = ("import sys; from mixgraph.api.render import render_session; from mixgraph.render.cache import Cache;"
            "r = render_session(sys.argv[1], cache=Cache(sys.argv[2]), out_dir=sys.argv[3], report_files=False);"
            "print(r.outputs[0].written.sha256)")
    procs = [subprocess.Popen([sys.executable, "-c", code, path, str(cdir), str(song / f"o{i}")],
                              stdout=subprocess.PIPE, text=True) for i in range(2)]
    outs = [p.communicate()[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    want = render_session(path, report_files=False, out_dir=song / "o3").outputs[0].written.sha256
    assert outs == [want, want]
    again = render_session(path, cache=Cache(cdir), out_dir=song / "o0", report_files=False)
    assert again.outputs[0].written.sha256 == want and again.cache.master == "reused"


def test_watch_loop_renders_after_an_edit(song):
    import argparse

    from mixgraph.cli.watch import watch

    path = _write(song, BASE)
    lines: list[str] = []

    def changes():
        _write(song, _edit(BASE, "gain", 0.25))  # the user saves an edit
        yield {path}
        Path(path).write_text("mixgraph: 1\nname: [broken\n")  # a session error: printed, the loop goes on
        yield {path}

    args = argparse.Namespace(session=path, variant=None, out_dir=None, block_size=None, jobs=None,
                              no_node_meters=False, no_report_files=False, no_cache=False,
                              cache_dir=str(song / "cache"), cache_size=None)
    assert watch(args, changes(), say=lines.append) == 0
    text = "\n".join(lines)
    assert text.count("Master: ") == 2
    assert "tracks.b.gain_db" in text or "b" in text.split("Master: ")[1]
    assert "-3" in text and "-9" in text  # the diff's old and new gain
    assert "error:" in text
    assert "1 rendered" in text or "nodes reused" in text


def test_command_line(song, capsys, monkeypatch):
    from mixgraph.api.init import init_song
    from mixgraph.cli import main

    monkeypatch.delenv("MIXGRAPH_CACHE_DIR", raising=False)
    path = _write(song, BASE)
    assert main(["render", path, "--quiet", "--no-cache", "--no-report-files"]) == 0
    assert not (song / ".mixgraph").exists()  # --no-cache: nothing read or written
    assert main(["render", path, "--quiet", "--no-report-files"]) == 0
    assert (song / ".mixgraph" / "cache" / "objects").is_dir()  # beside the session by default
    capsys.readouterr()
    assert main(["render", path, "--quiet", "--no-report-files"]) == 0
    assert "master reused" in capsys.readouterr().out
    assert main(["cache", "info", path]) == 0
    assert "entries" in capsys.readouterr().out
    assert main(["cache", "prune", path, "--cache-size", "1K"]) == 0
    assert Cache(song / ".mixgraph" / "cache").size() <= 1024
    assert main(["cache", "clear", path]) == 0
    assert Cache(song / ".mixgraph" / "cache").entries() == []
    other = song / "elsewhere"
    monkeypatch.setenv("MIXGRAPH_CACHE_DIR", str(other))
    assert main(["render", path, "--quiet", "--no-report-files"]) == 0
    assert Cache(other).entries()
    init_song(song / "new", "band")
    assert ".mixgraph/" in (song / "new" / ".gitignore").read_text().splitlines()


def test_watch_with_watchfiles_sees_a_save(song):
    """The real watcher (a thread started before the first render): a save after the first
    render's report starts the second render. Event-driven: the test reads the command's lines."""
    pytest.importorskip("watchfiles")
    import signal

    path = _write(song, BASE)
    env = {**os.environ, "MIXGRAPH_CACHE_DIR": str(song / "cache")}
    p = subprocess.Popen([sys.executable, "-m", "mixgraph", "render", path, "--watch", "--quiet",
                          "--no-report-files"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         env=env)
    lines: list[str] = []

    def until(text: str, count: int) -> None:
        while sum(text in line for line in lines) < count:
            line = p.stdout.readline()
            assert line, "".join(lines)
            lines.append(line)

    try:
        until("watching for changes", 1)
        _write(song, _edit(BASE, "eq", 0.9))  # the bell from +3 to +4.8 dB
        until("watching for changes", 2)
    finally:
        p.send_signal(signal.SIGINT)
        p.communicate(timeout=60)
    text = "".join(lines)
    assert "changed: s.yaml" in text
    assert "~ track a" in text
    assert text.count("Master: ") == 2


def test_an_unwritable_cache_does_not_fail_the_render(song):
    """The cache is an aid: a cache folder that cannot be written (here a file stands where it
    should be) leaves the render as it is without one."""
    path = _write(song, BASE)
    blocker = song / "not-a-folder"
    blocker.write_text("x")
    got = render_session(path, cache=Cache(blocker), report_files=False)
    assert _hashes(got) == _hashes(render_session(path, report_files=False))
    assert got.cache.mix == "rendered" and blocker.read_text() == "x"


@pytest.mark.parametrize("link", [".mixgraph", ".mixgraph/cache", ".mixgraph/cache/objects/ab"])
def test_a_cache_folder_linked_out_of_the_song_is_refused(song, tmp_path_factory, monkeypatch, capsys, link):
    """A song folder arrives from someone else: its .mixgraph must not lead writes or pruning
    outside it. The render refuses (exit 1, as other file-system refusals) and writes nothing there; --no-cache still renders."""
    from mixgraph.cli import main

    monkeypatch.delenv("MIXGRAPH_CACHE_DIR", raising=False)
    outside = tmp_path_factory.mktemp("outside")
    keep = outside / "objects" / "ab" / "precious.json"
    keep.parent.mkdir(parents=True)
    keep.write_text("{}")
    here = song / link
    here.parent.mkdir(parents=True, exist_ok=True)
    here.symlink_to(outside / "objects" / "ab" if link.endswith("ab") else outside, target_is_directory=True)
    path = _write(song, BASE)
    before = sorted(p.relative_to(outside) for p in outside.rglob("*"))
    assert main(["render", path, "--quiet", "--no-report-files"]) == 1
    assert "symbolic link" in capsys.readouterr().err
    assert main(["cache", "clear", path]) == 1
    assert main(["validate", path]) == 0  # the session is fine; validate says what render will refuse
    assert "symbolic link" in capsys.readouterr().err
    assert sorted(p.relative_to(outside) for p in outside.rglob("*")) == before
    assert keep.read_text() == "{}"
    assert main(["render", path, "--quiet", "--no-report-files", "--no-cache"]) == 0


def test_an_entry_that_is_a_link_is_a_miss(song, tmp_path_factory):
    path = _write(song, BASE)
    cache = Cache(song / "cache")
    want = _hashes(render_session(path, cache=cache, report_files=False))
    outside = tmp_path_factory.mktemp("outside")
    linked = 0
    for data in (song / "cache" / "objects").glob("*/*.data"):
        moved = outside / data.name
        data.rename(moved)
        data.symlink_to(moved)
        linked += 1
    assert linked > 0
    for e in cache.entries():
        with pytest.raises(CacheMiss):
            cache.meta(e.key)
    got = render_session(path, cache=cache, report_files=False)
    assert _hashes(got) == want
    assert got.cache.master == "rendered" and got.cache.mix == "rendered" and not got.cache.nodes_reused


def test_an_output_inside_the_cache_folder_is_refused_at_validate(song, capsys):
    """Cache keys are predictable from the session, so a session could aim an output at an entry
    another render reads: outputs under .mixgraph/ are refused like any other bad path."""
    from mixgraph.cli import main

    doc = copy.deepcopy(BASE)
    doc["outputs"]["master"]["path"] = ".mixgraph/cache/objects/ab/entry.data"
    path = _write(song, doc)
    assert main(["validate", path]) == 2
    err = capsys.readouterr()
    assert ".mixgraph/" in err.out + err.err
    assert not (song / ".mixgraph").exists()
