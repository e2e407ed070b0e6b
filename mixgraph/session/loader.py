"""Safe YAML loading with a source map (layer 1: PyYAML only).

* Safe only: the node tree is composed by PyYAML's SafeLoader and converted by
  hand; any tag other than the plain YAML core tags (``!!python/object`` and
  friends, custom tags) is a diagnostic, never constructed.
* Duplicate mapping keys are errors (PyYAML would silently keep the last one).
* YAML 1.1 surprises: only ``true``/``false`` are booleans (``no``, ``on``,
  ``yes``, ``off`` stay strings, so a track named ``no`` works); dates stay
  strings.
* Anchors, aliases and ``<<`` merge keys are allowed for reuse; expanding
  aliases is bounded (``MAX_NODES``) so an alias bomb fails fast.
* Every value's position is kept: ``LoadedYaml.source_map`` maps a path tuple
  (``("tracks", "kick", "chain", 1, "ratio")``) to ``(line, col)``, 1-based,
  and ``key_map`` the position of the key itself.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mixgraph.errors import Diagnostic

#: at most this many nodes are constructed (aliases counted each time they expand)
MAX_NODES = 200_000
#: at most this nesting depth
MAX_DEPTH = 64
#: a session or template file larger than this is refused (bytes), before it is parsed. A session
#: at the MAX_NODES limit written in block style (about 12 bytes a value) is about 2.4 MB; 4 MiB
#: leaves room for comments, and anything larger could not hold a valid session anyway.
MAX_BYTES = 4 * 1024 * 1024

Path_ = tuple[str | int, ...]

_CORE = "tag:yaml.org,2002:"
_ALLOWED_TAGS = {_CORE + t for t in ("str", "int", "float", "bool", "null", "map", "seq", "merge")}


class _TooDeep(Exception):
    def __init__(self, mark):
        super().__init__("too deep")
        self.mark = mark


class _TooMany(_TooDeep):
    pass


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2-style booleans, no timestamps and bounded nesting."""

    _depth = 0
    _nodes = 0

    def compose_node(self, parent, index):
        # PyYAML's composer recurses once per level: 10 000 nested '[' would end in a
        # RecursionError, so the depth is bounded here, before any node is built; the count
        # stops a huge document early (the builder counts again with aliases expanded)
        self._depth += 1
        self._nodes += 1
        try:
            if self._depth > MAX_DEPTH + 1:
                raise _TooDeep(self.peek_event().start_mark)
            if self._nodes > MAX_NODES:
                raise _TooMany(self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_Loader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag not in (_CORE + "bool", _CORE + "timestamp")]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _CORE + "bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


@dataclass
class LoadedYaml:
    data: Any
    file: str
    text: str
    source_map: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    key_map: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    #: nodes that came from another file (a template): path -> (file, via); ``via`` is where the
    #: template was used, ((session file, line, col), ...). Paths absent here are in ``file``.
    origins: dict[Path_, tuple[str, tuple[tuple[str, int, int], ...]]] = field(default_factory=dict)

    def position(self, path: Path_, *, key: bool = False) -> tuple[int, int] | None:
        """Position of ``path`` (its key when ``key``), else of the nearest ancestor."""
        found = self._find(path, key)
        return None if found is None else found[1]

    def locate(self, path: Path_, *, key: bool = False) -> tuple[str, int | None, int | None, tuple]:
        """(file, line, col, via) of ``path``: like :meth:`position`, but in the file the node came
        from (a template's nodes are in the template, with ``via`` naming the session line)."""
        found = self._find(path, key)
        if found is None:
            return (self.file, None, None, ())
        p, (line, col) = found
        file, via = self.origins.get(p, (self.file, ()))
        return (file, line, col, via)

    def _find(self, path: Path_, key: bool) -> tuple[Path_, tuple[int, int]] | None:
        p = tuple(path)
        while True:
            if key and p in self.key_map:
                return p, self.key_map[p]
            if p in self.source_map:
                return p, self.source_map[p]
            if not p:
                return None
            p = p[:-1]
            key = False


class YamlProblem(Exception):
    def __init__(self, diagnostics: list[Diagnostic]):
        super().__init__("; ".join(d.message for d in diagnostics))
        self.diagnostics = diagnostics


def format_path(path: Path_) -> str:
    out = ""
    for p in path:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_CORE):] if tag.startswith(_CORE) else tag


def _mark(node_or_mark) -> tuple[int, int]:
    m = getattr(node_or_mark, "start_mark", node_or_mark)
    return (m.line + 1, m.column + 1)


class _Builder:
    def __init__(self, file: str, loader: _Loader):
        self.file = file
        self.loader = loader
        self.count = 0
        self.source_map: dict[Path_, tuple[int, int]] = {}
        self.key_map: dict[Path_, tuple[int, int]] = {}
        self.diags: list[Diagnostic] = []

    def diag(self, node, message: str, path: Path_, hint: str | None = None, code: str = "yaml") -> None:
        line, col = _mark(node)
        self.diags.append(
            Diagnostic(message, self.file, line, col, format_path(path), hint, code=code)
        )

    def build(self, node, path: Path_ = (), depth: int = 0):
        self.count += 1
        if self.count > MAX_NODES:
            raise _Abort(
                Diagnostic(
                    f"The document expands to more than {MAX_NODES} values (an alias bomb?).",
                    self.file, *_mark(node), format_path(path),
                    "Use anchors and aliases for small pieces only.", code="yaml.too-large",
                )
            )
        if depth > MAX_DEPTH:
            raise _Abort(
                Diagnostic(f"Nesting deeper than {MAX_DEPTH} levels.", self.file, *_mark(node),
                           format_path(path), code="yaml.too-deep")
            )
        if path not in self.source_map:
            self.source_map[path] = _mark(node)
        tag = node.tag
        if isinstance(node, yaml.ScalarNode):
            if tag not in _ALLOWED_TAGS:
                self.diag(node, f"The tag '{_short_tag(tag)}' is not allowed in a session.", path,
                          "Remove the tag: sessions hold plain values only.", code="yaml.tag")
                return None
            try:
                return self.loader.construct_object(node, deep=True)
            except yaml.YAMLError as exc:
                self.diag(node, f"Cannot read this value ({getattr(exc, 'problem', exc)}).", path,
                          code="yaml.value")
                return None
        if isinstance(node, yaml.SequenceNode):
            if tag != _CORE + "seq":
                self.diag(node, f"The tag '{_short_tag(tag)}' is not allowed in a session.", path,
                          "Remove the tag: sessions hold plain values only.", code="yaml.tag")
                return None
            return [self.build(item, path + (i,), depth + 1) for i, item in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            if tag != _CORE + "map":
                self.diag(node, f"The tag '{_short_tag(tag)}' is not allowed in a session.", path,
                          "Remove the tag: sessions hold plain values only.", code="yaml.tag")
                return None
            return self._mapping(node, path, depth)
        return None  # pragma: no cover - PyYAML has no other node kinds

    def _mapping(self, node, path: Path_, depth: int) -> dict:
        result: dict = {}
        explicit: dict[Any, Any] = {}  # key -> key node, keys written in this mapping
        merges = []
        for key_node, value_node in node.value:
            if key_node.tag == _CORE + "merge":
                merges.append(value_node)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.diag(key_node, "A key must be a plain name, not a list or mapping.", path,
                          code="yaml.key")
                continue
            key = self.build(key_node, path + ("<key>",), depth + 1)
            self.source_map.pop(path + ("<key>",), None)
            if key is None or isinstance(key, bool | float | list | dict):
                key = str(key_node.value)
            if isinstance(key, int):
                key = str(key_node.value)
            if key in explicit:
                first = explicit[key]
                self.diag(
                    key_node,
                    f"Duplicate key '{key}' (first at line {first.start_mark.line + 1}).",
                    path + (key,),
                    "Remove one of them: YAML would silently keep only the last.",
                    code="yaml.duplicate-key",
                )
                continue
            explicit[key] = key_node
            self.key_map[path + (key,)] = _mark(key_node)
            result[key] = self.build(value_node, path + (key,), depth + 1)
        # merge keys: explicit keys win, then earlier merge sources win over later ones
        for value_node in merges:
            for src in self._merge_sources(value_node, path):
                sub = self.build(src, path, depth + 1)
                if isinstance(sub, dict):
                    for k, v in sub.items():
                        result.setdefault(k, v)
        return result

    def _merge_sources(self, value_node, path: Path_):
        if isinstance(value_node, yaml.MappingNode):
            return [value_node]
        if isinstance(value_node, yaml.SequenceNode) and all(
            isinstance(n, yaml.MappingNode) for n in value_node.value
        ):
            return list(value_node.value)
        self.diag(value_node, "A merge key '<<' takes a mapping or a list of mappings.", path,
                  code="yaml.merge")
        return []


class _Abort(Exception):
    def __init__(self, diagnostic: Diagnostic):
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def _syntax_diagnostic(file: str, exc: yaml.YAMLError, text: str) -> Diagnostic:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    problem = getattr(exc, "problem", None) or str(exc)
    hint = None
    lines = text.splitlines()
    bad_line = lines[line - 1] if 1 <= line <= len(lines) else ""
    if "\t" in problem or "'\\t'" in problem or ("\t" in bad_line[: max(col, 1)]):
        problem = "a tab character where YAML expects spaces"
        hint = "Indent with spaces, not tabs."
    elif "found duplicate anchor" in problem:
        hint = "Give each anchor its own name."
    elif "found undefined alias" in problem:
        hint = "Define the anchor (&name) before using the alias (*name)."
    problem = problem.rstrip(".")
    return Diagnostic(
        f"YAML syntax error: {problem}.", file, line, col, "", hint, code="yaml.syntax"
    )


def _reader_diagnostic(file: str, exc: yaml.YAMLError, text: str) -> Diagnostic:
    pos = getattr(exc, "position", 0) or 0
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    char = getattr(exc, "character", "")
    code = f"U+{ord(char):04X}" if isinstance(char, str) and char else str(char)
    return Diagnostic(f"The file contains a control character ({code}) YAML does not allow.", file, line, col,
                      "", "Remove it; sessions are plain text.", code="yaml.character")


def load_yaml_text(text: str, file: str) -> LoadedYaml:
    """Parse ``text`` as a session document; raises YamlProblem with positioned diagnostics."""
    if "\x00" in text:
        raise YamlProblem([Diagnostic("This is a binary file, not a YAML session.", file, 1, 1,
                                      code="yaml.binary")])
    if not text.strip():
        raise YamlProblem([Diagnostic("The file is empty.", file, 1, 1, "",
                                      "Start a session with 'mixgraph: 1' and a 'name'.",
                                      code="yaml.empty")])
    try:
        loader = _Loader(text)
    except yaml.YAMLError as exc:  # the reader refuses control characters up front
        raise YamlProblem([_reader_diagnostic(file, exc, text)]) from None
    try:
        try:
            node = loader.get_single_node()
        except yaml.reader.ReaderError as exc:
            raise YamlProblem([_reader_diagnostic(file, exc, text)]) from None
        except _TooMany as many:
            raise YamlProblem([Diagnostic(f"The document holds more than {MAX_NODES} values.", file,
                                          *_mark(many.mark), "", "Split the session or drop unused values.",
                                          code="yaml.too-large")]) from None
        except _TooDeep as deep:
            raise YamlProblem([Diagnostic(f"Nesting deeper than {MAX_DEPTH} levels.", file, *_mark(deep.mark),
                                          "", code="yaml.too-deep")]) from None
        except yaml.YAMLError as exc:
            raise YamlProblem([_syntax_diagnostic(file, exc, text)]) from None
        if node is None:
            raise YamlProblem([Diagnostic("The file holds no session (only comments).", file, 1, 1,
                                          code="yaml.empty")])
        builder = _Builder(file, loader)
        try:
            data = builder.build(node)
        except _Abort as abort:
            raise YamlProblem([abort.diagnostic]) from None
        except RecursionError:
            raise YamlProblem([Diagnostic("The document nests too deeply.", file, 1, 1,
                                          code="yaml.too-deep")]) from None
    finally:
        loader.dispose()
    if builder.diags:
        raise YamlProblem(builder.diags)
    if not isinstance(data, dict):
        kind = {list: "a list", str: "a single text value", type(None): "nothing"}.get(
            type(data), f"a single {type(data).__name__} value"
        )
        line, col = _mark(node)
        raise YamlProblem([
            Diagnostic(f"A session must be a mapping of keys to values, but this file holds {kind}.",
                       file, line, col, "", "Start with 'mixgraph: 1' and 'name: my-song'.",
                       code="yaml.not-mapping")
        ])
    return LoadedYaml(data, file, text, builder.source_map, builder.key_map)


def _unreadable(message: str, file: str) -> YamlProblem:
    return YamlProblem([Diagnostic(message, file, None, None, code="file.unreadable")])


def read_bytes(path: str | Path, file: str, what: str = "session file") -> bytes:
    """The bytes of a regular file of at most MAX_BYTES; anything else raises YamlProblem
    (code ``file.missing`` or ``file.unreadable``) naming ``file``, without blocking: a FIFO,
    a device or a socket is refused from its metadata before it is read."""
    p = Path(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise YamlProblem([Diagnostic(f"No such file: {file}.", file, None, None, code="file.missing")]) from None
    except OSError as exc:
        raise _unreadable(f"Cannot read {file}: {exc.strerror}.", file) from None
    if stat.S_ISDIR(st.st_mode):
        raise YamlProblem([Diagnostic(f"{file} is a folder, not a {what}.", file, None, None,
                                      code="file.missing")])
    if not stat.S_ISREG(st.st_mode):
        raise _unreadable(f"{file} is not a regular file (a device, FIFO or socket), not a {what}.", file)
    if st.st_size > MAX_BYTES:
        raise _unreadable(f"{file} is larger than {MAX_BYTES // (1024 * 1024)} MiB ({st.st_size} bytes).", file)
    try:
        # non-blocking: the file may have been swapped for a FIFO since the stat
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise _unreadable(f"Cannot read {file}: {exc.strerror}.", file) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise _unreadable(f"{file} is not a regular file (a device, FIFO or socket), not a {what}.", file)
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_BYTES:
            chunk = os.read(fd, MAX_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise _unreadable(f"Cannot read {file}: {exc.strerror}.", file) from None
    finally:
        os.close(fd)
    if size > MAX_BYTES:  # grew since the stat
        raise _unreadable(f"{file} is larger than {MAX_BYTES // (1024 * 1024)} MiB.", file)
    return b"".join(chunks)


def read_text(path: str | Path, display: str | None = None) -> str:
    """Read a session file as UTF-8; problems become diagnostics."""
    file = display or str(path)
    raw = read_bytes(path, file)
    if b"\x00" in raw:
        raise YamlProblem([Diagnostic("This is a binary file, not a YAML session.", file, 1, 1,
                                      code="yaml.binary")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise YamlProblem([Diagnostic("The file is not UTF-8 text.", file, line, col, "",
                                      "Save the session as UTF-8.", code="yaml.encoding")]) from None
    return text


def load_yaml_file(path: str | Path, display: str | None = None) -> LoadedYaml:
    file = display or str(path)
    return load_yaml_text(read_text(path, file), file)
