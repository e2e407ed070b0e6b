"""A first render's helper process compiles the kernels a render reaches last (the meters', the
master stage's) with the signatures the render itself uses (otherwise its work would be wasted: numba caches per signature)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import soundfile as sf
import yaml

SR = 48000

CHECK = """
import json, sys
from mixgraph.api.render import render_session
from mixgraph.render import warmup
render_session(sys.argv[1])
out = {}
for kernel, _ in warmup._late_calls():
    s = kernel.stats  # per dispatcher: signatures loaded from the cache, and compiled
    out[kernel.__name__] = {"hits": sum(s.cache_hits.values()), "misses": sum(s.cache_misses.values())}
print(json.dumps(out))
"""


def run(code, env, *args):
    p = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    return p.stdout


def test_helper_compiles_the_master_kernels_a_render_then_loads(tmp_path):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    (tmp_path / "stems").mkdir()
    rng = np.random.default_rng(0)
    sf.write(tmp_path / "stems" / "a.wav", 0.3 * rng.standard_normal((SR, 2)), SR, subtype="PCM_24")
    doc = {"mixgraph": 1, "name": "w", "sample_rate": SR, "sources_dir": "stems", "tail_s": 0.0,
           "tracks": {"a": {"source": "a.wav"}},
           "master": {"chain": [{"type": "compressor", "threshold_db": -20.0},
                                {"type": "limiter", "ceiling_dbtp": -1.0}],
                      "loudness": {"target_lufs": -14.0}},
           "outputs": {"m24": {"path": "out/m24.wav", "bit_depth": 24},
                       "m16": {"path": "out/m16.wav", "bit_depth": 16}}}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))

    state = "from mixgraph.render.warmup import late_kernels_cold as c; print(c())"
    assert run(state, env).strip() == "True"  # an empty cache
    run("from mixgraph.render.warmup import compile_late; compile_late()", env)
    assert run(state, env).strip() == "False"

    stats = json.loads(run(CHECK, env, str(tmp_path / "s.yaml")).strip().splitlines()[-1])
    assert set(stats) == {"scan", "window_means", "limiter_gain",
                          "fold_gain_reduction", "_encode16", "_encode32"}
    for name, s in stats.items():
        assert s["misses"] == 0, name  # nothing the helper compiled is compiled again
        assert s["hits"] >= 1, name  # and the render did use it
    assert (tmp_path / "out" / "m16.wav").is_file()


def test_no_helper_when_the_kernels_are_cached_and_a_slow_one_is_stopped(monkeypatch):
    import signal

    from mixgraph.render import warmup

    warmup.compile_late()  # this process's cache: now warm
    assert not warmup.late_kernels_cold()
    assert warmup.start() is None
    # a helper that does not stop when its stdin closes (stuck in a compile): killed
    stuck = subprocess.Popen([sys.executable, "-c", "import signal; signal.pause()"], stdin=subprocess.PIPE)
    warmup.finish(stuck)
    assert stuck.returncode == -signal.SIGKILL  # stopped, not left running
    # one that does: it leaves off by itself, as the real helper does between two kernels (the
    # wait made long, so that only its own exit can end it, however loaded the machine)
    monkeypatch.setattr(warmup, "WAIT_S", 60.0)
    polite = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    warmup.finish(polite)
    assert polite.returncode == 0
    warmup.finish(None)


def test_helper_refuses_another_copy_of_the_package_and_stops_when_its_stdin_closes(tmp_path):
    from mixgraph.render import warmup

    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    code = "import sys; from mixgraph.render.warmup import helper_main; sys.exit(helper_main(sys.argv[1]))"
    other = subprocess.run([sys.executable, "-c", code, str(tmp_path / "elsewhere" / "__init__.py")], env=env,
                           stdin=subprocess.DEVNULL, timeout=120)
    assert other.returncode == 3  # not the render's package: compiles nothing
    p = subprocess.Popen([sys.executable, "-c", code, warmup.__file__.replace("render/warmup.py", "__init__.py")],
                         env=env, stdin=subprocess.PIPE)
    p.stdin.close()  # the render is done (or gone): stop between two kernels
    assert p.wait(timeout=120) == 0
    state = "from mixgraph.render.warmup import late_kernels_cold as c; print(c())"
    assert run(state, env).strip() == "True"  # it left off before compiling them all


def test_a_command_line_render_leaves_no_helper_behind(tmp_path, monkeypatch):
    from mixgraph.cli import main
    from mixgraph.render import warmup

    started = []
    real_start = warmup.start

    def start():  # as on a first render, whatever this process's cache holds
        monkeypatch.setattr(warmup, "late_kernels_cold", lambda: True)
        p = real_start()
        started.append(p)
        return p

    monkeypatch.setattr(warmup, "start", start)
    monkeypatch.setattr(warmup, "_enabled", False)
    (tmp_path / "stems").mkdir()
    sf.write(tmp_path / "stems" / "a.wav", 0.1 * np.ones((SR // 2, 2)), SR, subtype="PCM_16")
    doc = {"mixgraph": 1, "name": "c", "sample_rate": SR, "sources_dir": "stems", "tail_s": 0.0,
           "tracks": {"a": {"source": "a.wav"}}, "outputs": {"m": {"path": "out/m.wav"}}}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    assert main(["render", str(tmp_path / "s.yaml"), "--quiet", "--no-report-files"]) == 0
    assert len(started) == 1 and started[0] is not None
    assert started[0].poll() is not None  # finished or stopped: not left running
    assert warmup._helper is None and not warmup._enabled  # and a library render after it starts none
    assert main(["validate", str(tmp_path / "s.yaml")]) == 0
    assert len(started) == 1  # only a render starts one
