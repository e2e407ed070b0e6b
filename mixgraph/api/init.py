"""Starting a song folder from a bundled template (``mixgraph init``)."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mixgraph.errors import UserError, did_you_mean
from mixgraph.session.loader import load_yaml_file
from mixgraph.session.schema import SCHEMA_ID
from mixgraph.session.templates import bundled_templates, describe_bundled

__all__ = ["InitResult", "describe_bundled", "init_song"]


@dataclass(frozen=True)
class InitResult:
    folder: Path
    session: Path
    template: str
    version: int


def _resolve(template: str) -> tuple[str, int, Path]:
    bundled = bundled_templates()
    name, _, ver = template.partition("@")
    if name not in bundled:
        raise UserError(f"unknown template '{name}'",
                        hint=did_you_mean(name, bundled) or f"Bundled: {', '.join(sorted(bundled))}.")
    if ver and (not ver.isdigit() or int(ver) not in bundled[name]):
        raise UserError(f"template '{name}' has no version {ver}",
                        hint=f"Available: {', '.join(str(v) for v in sorted(bundled[name]))}.")
    version = int(ver) if ver else max(bundled[name])
    return name, version, bundled[name][version]


def starter_texts(name: str, version: int, template_file: Path, song: str) -> tuple[str, str]:
    """(session.yaml, stems/README.txt) of a new song using a bundled template."""
    tmpl = load_yaml_file(template_file).data
    params = tmpl.get("params") or {}
    instance = "vox" if name == "vocal-stack" else re.sub(r"[^a-z0-9]+", "", name)[:8] or "t"
    with_lines, expect, other = [], [], []
    for pname, pdef in params.items():
        desc = pdef.get("description", "")
        if pdef["type"] == "file":
            with_lines.append(f"      {pname}: {pname}.wav")
            expect.append(f"{pname}.wav  ({desc})")
        elif pdef["type"] == "files":
            with_lines.append(f'      {pname}: "{pname}_*.wav"')
            expect.append(f"{pname}_1.wav, {pname}_2.wav, ...  ({desc}; leave the line out if there are none)")
        else:
            other.append(f"      # {pname}: {pdef.get('default')}    # {desc}")
    text = "\n".join([
        f"# yaml-language-server: $schema={SCHEMA_ID}",
        f"# Started with `mixgraph init --template {name}@{version}`. Put the stems in stems/ (see",
        "# stems/README.txt), then: mixgraph validate session.yaml && mixgraph render session.yaml",
        "mixgraph: 1",
        f"name: {song}",
        "sample_rate: 48000",
        "sources_dir: stems",
        "tempo_bpm: 120",
        "tail_s: auto",
        "",
        "use:",
        f"  {instance}:",
        f"    template: {name}@{version}     # pinned: a newer version of the template will not change this song",
        "    with:",
        *with_lines,
        "      # more parameters (defaults shown):",
        *other,
        "",
        "# override anything the template makes by naming it here, e.g.",
        "# tracks:",
        "#   <generated track name>: {gain_db: -2}      (mixgraph expand session.yaml shows the names)",
        "",
        "master:",
        "  chain:",
        "    - {type: eq, bands: [{type: highpass, freq_hz: 25, slope_db_oct: 24}]}",
        "    - {type: compressor, threshold_db: -12, ratio: 1.5, attack_ms: 30, release_ms: 300, knee_db: 6}",
        "    - {type: limiter, ceiling_dbtp: -1.0, lookahead_ms: 5, release_ms: 80}",
        "  loudness: {preset: streaming}     # -14 LUFS integrated, -1 dBTP",
        "",
        "outputs:",
        '  mix: {path: "renders/{name}{variant}-mix.wav", tap: premaster, bit_depth: 24}',
        '  master: {path: "renders/{name}{variant}-master.wav", bit_depth: 24}',
        '  cd: {path: "renders/{name}{variant}-cd.wav", sample_rate: 44100, bit_depth: 16}',
        "",
    ])
    readme = "\n".join([f"Stems for {song} (template {name}@{version}), relative to this folder:", "",
                        *[f"  {e}" for e in expect], "",
                        "WAV, FLAC, AIFF, OGG or MP3; mono or stereo; any sample rate (resampled to the "
                        "session's).", ""])
    return text, readme


def init_song(folder: str | Path, template: str, song: str | None = None) -> InitResult:
    """Create ``folder`` (new or empty) with a session using ``template`` (``NAME[@VERSION]``),
    ``stems/README.txt`` naming the files it expects and a ``.gitignore`` for the renders."""
    name, version, template_file = _resolve(template)
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise UserError(f"{folder} exists and is not an empty folder; nothing was written",
                        hint="Choose a new folder name.")
    song = song or re.sub(r"[^a-z0-9_-]+", "-", folder.resolve().name.lower()).strip("-_") or "song"
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", song):
        raise UserError(f"'{song}' is not a valid song name",
                        hint="Use lower-case letters, digits, '-' and '_', starting with a letter or digit.")
    text, readme = starter_texts(name, version, template_file, song)
    # write into a temporary sibling, then rename: a failure leaves nothing half-written
    parent = folder.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.init-", dir=parent))
    try:
        (tmp / "stems").mkdir()
        (tmp / "session.yaml").write_text(text, encoding="utf-8")
        (tmp / "stems" / "README.txt").write_text(readme, encoding="utf-8")
        (tmp / ".gitignore").write_text("renders/\n.mixgraph/\n", encoding="utf-8")  # .mixgraph/: the render cache
        os.chmod(tmp, 0o755)
        if folder.exists():
            folder.rmdir()  # empty (checked above)
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return InitResult(folder, folder / "session.yaml", name, version)
