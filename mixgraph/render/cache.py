"""The content-addressed render cache: node streams, the premaster and master files, stored under a
hash of everything they depend on (see ``mixgraph/render/cachekeys.py`` for the keys).

An entry is two files in ``objects/<2 hex>/``: ``<key>.data`` (the payload: float64 frames, or a
written file's bytes) and ``<key>.json`` (the meta: the payload's size and xxh3-128 checksum, and
whatever the caller stored with it). Both are written to temporaries in ``tmp/`` and renamed into
place, the data first: an entry whose meta exists is complete. A reader checks the size and the
checksum of what it reads and treats any difference (a truncated or corrupted entry) as a miss;
entries are never modified once in place, so two renders sharing a cache read either a whole entry
or none. Use refreshes the meta's modification time, which is what least-recently-used eviction
sorts by.

The cache holds audio the renderer computed; it is trusted like the session folder it sits in (a
cache copied in from elsewhere can make a render output what it holds: ``mixgraph cache clear``).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mixgraph.atomic import pid_alive
from mixgraph.errors import UserError, printable

try:  # ~10x faster than zlib.crc32; the checksum's name is stored with each entry
    import xxhash

    def _hasher():
        return xxhash.xxh3_128()

    CHECKSUM = "xxh3_128"
except ImportError:  # pragma: no cover - xxhash is a dependency; a minimal install still works
    import hashlib

    def _hasher():
        return hashlib.blake2b(digest_size=16)

    CHECKSUM = "blake2b_128"

#: default size limit of a cache: a few versions of a 16-track song (benchmarks/README.md)
DEFAULT_SIZE = 4 * 1024**3
ENV_DIR = "MIXGRAPH_CACHE_DIR"
#: the cache's folder beside the session
LOCAL_DIR = Path(".mixgraph") / "cache"
CHUNK = 1 << 20


class CacheMiss(Exception):
    """An entry is absent, truncated or corrupt (the caller computes it instead)."""


def parse_size(text: str) -> int:
    """'4G', '500M', '1.5GB', '1024' (bytes) -> bytes."""
    t = text.strip().upper().removesuffix("B").removesuffix("I")
    mult = {"K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
    if t and t[-1] in mult:
        return int(float(t[:-1]) * mult[t[-1]])
    return int(float(t))


def cache_root(session_path: str | Path | None, cache_dir: str | Path | None = None) -> Path:
    """The cache folder: ``cache_dir``, else $MIXGRAPH_CACHE_DIR, else .mixgraph/cache beside the session."""
    if cache_dir:
        return Path(cache_dir)
    env = os.environ.get(ENV_DIR)
    if env:
        return Path(env)
    base = Path(session_path).resolve().parent if session_path is not None else Path.cwd()
    root = base / LOCAL_DIR
    _refuse_links(base, root)
    return root


def _refuse_links(base: Path, root: Path) -> None:
    """The song folder is untrusted (it travels between people): a ``.mixgraph``, its cache or the
    cache's own folders that are symbolic links would have renders write, and pruning delete,
    outside the song. Refused; an explicit --cache-dir or $MIXGRAPH_CACHE_DIR is the user's own."""
    suspects = [base / Path(*LOCAL_DIR.parts[:i + 1]) for i in range(len(LOCAL_DIR.parts))]
    suspects += [root / "objects", root / "tmp"]
    objects = root / "objects"
    if objects.is_dir() and not objects.is_symlink():
        try:
            suspects += list(objects.iterdir())
        except OSError:
            pass
    for q in suspects:
        if q.is_symlink():
            raise UserError(f"The render cache folder {printable(str(q))} is a symbolic link: the cache stays "
                            "inside the song folder.",
                            hint="Remove the link, or choose a cache folder with --cache-dir (or "
                                 "MIXGRAPH_CACHE_DIR), or render with --no-cache.")


@dataclass(frozen=True)
class EntryInfo:
    key: str
    size: int  # bytes of data + meta
    used: float  # last use, seconds since the epoch


class Cache:
    def __init__(self, root: str | Path, max_bytes: int = DEFAULT_SIZE):
        self.root = Path(root)
        self.max_bytes = max_bytes
        self.objects = self.root / "objects"
        self.tmp = self.root / "tmp"
        self._linked: list[Path] = []

    # -- layout ------------------------------------------------------------------------------

    def _paths(self, key: str) -> tuple[Path, Path]:
        d = self.objects / key[:2]
        return d / f"{key}.data", d / f"{key}.json"

    def _temp(self, suffix: str) -> Path:
        self.tmp.mkdir(parents=True, exist_ok=True)
        return self.tmp / f"{os.getpid()}-{secrets.token_hex(8)}{suffix}"

    # -- writing -----------------------------------------------------------------------------

    def writer(self, key: str) -> EntryWriter:
        return EntryWriter(self, key)

    def put_bytes(self, key: str, data: bytes, meta: dict | None = None) -> None:
        with self.writer(key) as w:
            w.write(data)
            w.meta.update(meta or {})

    def put_file(self, key: str, path: str | Path, meta: dict | None = None, *, link: bool = False) -> None:
        """Store a copy of the file at ``path``; ``link``: a hard link to it where the file system
        allows (a temporary nobody writes again, such as the premaster spill: no second copy)."""
        if link:
            w = EntryWriter(self, key, data=False)
            try:
                if w.failed:
                    raise OSError("cache not writable")
                os.link(path, w.path)
            except OSError:
                w.discard()
            else:
                with open(w.path, "rb") as fh:
                    for chunk in iter(lambda: fh.read(CHUNK * 4), b""):
                        w.hash.update(chunk)
                        w.size += len(chunk)
                w.meta.update(meta or {})
                w.commit()
                return
        with self.writer(key) as w, open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(CHUNK), b""):
                w.write(chunk)
            w.meta.update(meta or {})

    # -- reading -----------------------------------------------------------------------------

    def meta(self, key: str) -> dict:
        """The entry's meta; CacheMiss if absent, unreadable, or its data is not the size recorded."""
        data, meta_p = self._paths(key)
        try:
            if data.is_symlink() or meta_p.is_symlink():  # an entry is a file of its own, never a link out
                raise CacheMiss(key)
            meta = json.loads(meta_p.read_text(encoding="utf-8"))
            if not isinstance(meta, dict) or meta.get("checksum_kind") != CHECKSUM:
                raise CacheMiss(key)
            if data.stat().st_size != meta["size"]:
                self.remove(key)
                raise CacheMiss(key)
        except (OSError, ValueError, KeyError):
            raise CacheMiss(key) from None
        self.touch(key)
        return meta

    def has(self, key: str) -> bool:
        try:
            self.meta(key)
        except CacheMiss:
            return False
        return True

    def touch(self, key: str) -> None:
        with contextlib.suppress(OSError):
            os.utime(self._paths(key)[1])

    def open_stream(self, key: str) -> StreamReader:
        meta = self.meta(key)
        try:
            fh = open(self._paths(key)[0], "rb")  # open: an eviction meanwhile cannot take it away
        except OSError:
            raise CacheMiss(key) from None
        return StreamReader(self, key, fh, meta)

    def get_bytes(self, key: str) -> tuple[bytes, dict]:
        with self.open_stream(key) as r:
            data = r.read_all()
        return data, r.meta

    def copy_to(self, key: str, dest: str | Path) -> dict:
        """Copy the entry's data into ``dest`` (an existing file, truncated), checked; its meta."""
        with self.open_stream(key) as r, open(dest, "wb") as out:
            for chunk in r.chunks():
                out.write(chunk)
            r.verify()
        return r.meta

    def link_checked(self, key: str) -> tuple[Path, dict]:
        """A private name for the entry's data (a hard link in tmp/, a copy where links fail),
        checked; removed by ``release``. The render reads it as often as it likes, while another
        render may evict the entry."""
        meta = self.meta(key)
        data = self._paths(key)[0]
        dest = self._temp(".f64")
        try:
            os.link(data, dest)
        except OSError:
            try:
                shutil.copyfile(data, dest)
            except OSError:
                raise CacheMiss(key) from None
        self._linked.append(dest)
        h = _hasher()
        size = 0
        with open(dest, "rb") as fh:
            for chunk in iter(lambda: fh.read(CHUNK * 4), b""):
                h.update(chunk)
                size += len(chunk)
        if size != meta["size"] or h.hexdigest() != meta["checksum"]:
            self.remove(key)
            raise CacheMiss(key)
        return dest, meta

    def release(self) -> None:
        for p in self._linked:
            with contextlib.suppress(OSError):
                p.unlink()
        self._linked.clear()

    # -- housekeeping ------------------------------------------------------------------------

    def remove(self, key: str) -> None:
        data, meta = self._paths(key)
        for p in (meta, data):  # the meta first: without it the entry is absent
            with contextlib.suppress(OSError):
                p.unlink()

    def entries(self) -> list[EntryInfo]:
        out = []
        if not self.objects.is_dir():
            return out
        for meta in self.objects.glob("*/*.json"):
            key = meta.name.removesuffix(".json")
            try:
                st = meta.stat()
                size = st.st_size + (meta.with_suffix(".data").stat().st_size)
            except OSError:
                continue
            out.append(EntryInfo(key, size, st.st_mtime))
        return out

    def size(self) -> int:
        return sum(e.size for e in self.entries())

    def prune(self, max_bytes: int | None = None) -> tuple[int, int]:
        """Evict least-recently-used entries until the cache holds at most ``max_bytes``;
        also removes temporaries of processes that are gone. (entries removed, bytes freed)."""
        limit = self.max_bytes if max_bytes is None else max_bytes
        self._clean_tmp()
        entries = sorted(self.entries(), key=lambda e: e.used)
        total = sum(e.size for e in entries)
        removed = freed = 0
        for e in entries:
            if total <= limit:
                break
            self.remove(e.key)
            total -= e.size
            freed += e.size
            removed += 1
        return removed, freed

    def clear(self) -> tuple[int, int]:
        return self.prune(0)

    def _clean_tmp(self) -> None:
        try:
            names = list(self.tmp.iterdir()) if self.tmp.is_dir() else []
        except OSError:
            return
        for p in names:
            pid = p.name.split("-", 1)[0]
            if pid.isdigit() and not pid_alive(int(pid)):
                with contextlib.suppress(OSError):
                    p.unlink()


class EntryWriter:
    """Writes one entry: data to a temporary as it comes, checksummed; ``commit`` renames it into
    place with its meta (a ``with`` block commits on success, discards on error)."""

    def __init__(self, cache: Cache, key: str, data: bool = True):
        self.cache = cache
        self.key = key
        self.meta: dict = {}
        self.hash = _hasher()
        self.size = 0
        #: the cache could not be written (full, read-only, not a folder): the render goes on without
        self.failed = False
        self.fh = None
        try:
            self.path = cache._temp(".data")
            self.fh = open(self.path, "wb") if data else None
        except OSError:
            self.path = cache.tmp / "unwritable"
            self.failed = True

    def write(self, data) -> None:
        if self.failed:
            return
        mv = memoryview(data).cast("B")
        self.hash.update(mv)
        try:
            self.fh.write(mv)
        except OSError:
            self.discard()
            self.failed = True
        self.size += len(mv)

    def write_frames(self, x: np.ndarray) -> None:
        """A (channels, n) float64 block, stored frame by frame (interleaved)."""
        self.write(np.ascontiguousarray(x.T))

    def commit(self) -> None:
        if self.failed:
            return
        try:
            if self.fh is not None:
                self.fh.close()
        except OSError:
            self.discard()
            return
        data, meta_p = self.cache._paths(self.key)
        meta = {**self.meta, "size": self.size, "checksum": self.hash.hexdigest(), "checksum_kind": CHECKSUM,
                "created": time.time()}
        try:
            mtmp = self.cache._temp(".json")
        except OSError:
            self.discard()
            return
        try:
            mtmp.write_text(json.dumps(meta, allow_nan=True), encoding="utf-8")
            data.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.path, data)
            os.replace(mtmp, meta_p)
        except OSError:
            self.discard()
            with contextlib.suppress(OSError):
                mtmp.unlink()

    def discard(self) -> None:
        with contextlib.suppress(OSError, AttributeError):
            self.fh.close()
        with contextlib.suppress(OSError):
            self.path.unlink()

    def __enter__(self) -> EntryWriter:
        return self

    def __exit__(self, exc_type, *_) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()


class StreamReader:
    """Reads an entry's data in order, checksumming it; ``verify`` (at the end) raises CacheMiss
    if what was read is not what was written (the entry is removed)."""

    def __init__(self, cache: Cache, key: str, fh, meta: dict):
        self.cache, self.key, self.fh, self.meta = cache, key, fh, meta
        self.hash = _hasher()
        self.read_bytes = 0

    def read(self, n: int) -> bytes:
        b = self.fh.read(n)
        self.hash.update(b)
        self.read_bytes += len(b)
        return b

    def chunks(self) -> Iterator[bytes]:
        while True:
            b = self.read(CHUNK * 4)
            if not b:
                return
            yield b

    def read_all(self) -> bytes:
        data = b"".join(self.chunks())
        self.verify()
        return data

    def frames(self, n: int, channels: int) -> np.ndarray:
        """The next ``n`` frames as (channels, n) float64; CacheMiss past the entry's end."""
        b = self.read(n * channels * 8)
        if len(b) != n * channels * 8:
            raise CacheMiss(self.key)
        return np.frombuffer(b, dtype=np.float64).reshape(n, channels).T

    def verify(self) -> None:
        """Whole entry read: is it what was written? (Reads what is left first.)"""
        for _ in self.chunks():
            pass
        if self.read_bytes != self.meta["size"] or self.hash.hexdigest() != self.meta["checksum"]:
            self.cache.remove(self.key)
            raise CacheMiss(self.key)

    def close(self) -> None:
        self.fh.close()

    def __enter__(self) -> StreamReader:
        return self

    def __exit__(self, *_) -> None:
        self.close()


def encode(obj):
    """A JSON-able form of results made of dataclasses, tuples, dicts with any keys and floats
    (inf and nan kept); ``decode`` turns it back, building only the classes it is given."""
    import dataclasses

    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {"__dc__": type(obj).__name__,
                "f": {f.name: encode(getattr(obj, f.name)) for f in dataclasses.fields(obj)}}
    if isinstance(obj, tuple):
        return {"__t__": [encode(v) for v in obj]}
    if isinstance(obj, list):
        return [encode(v) for v in obj]
    if isinstance(obj, dict):
        return {"__d__": [[encode(k), encode(v)] for k, v in obj.items()]}
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def decode(data, classes: dict[str, type]):
    if isinstance(data, list):
        return [decode(v, classes) for v in data]
    if isinstance(data, dict):
        if "__dc__" in data:
            cls = classes.get(data["__dc__"])
            if cls is None:
                raise CacheMiss(f"unknown class {data['__dc__']!r}")
            return cls(**{k: decode(v, classes) for k, v in data["f"].items()})
        if "__t__" in data:
            return tuple(decode(v, classes) for v in data["__t__"])
        if "__d__" in data:
            return {decode(k, classes): decode(v, classes) for k, v in data["__d__"]}
        raise CacheMiss("malformed entry")
    return data
