"""The command line (layer 6): the only module that prints or exits.

Each subcommand lives in ``mixgraph/cli/cmd_<name>.py`` and exposes ``HELP``
(one line), ``add_arguments(parser)`` and ``run(args) -> int``.  Command
modules import heavy libraries only inside ``run`` so that ``mixgraph
validate`` starts fast.

Errors: a :class:`~mixgraph.errors.MixgraphError` is printed in the house style
and its exit code returned (1 user/media, 2 invalid session); an error of the
machine around the run (a full disk, a read-only or forbidden folder: see
``ENVIRONMENT_ERRNOS``) is a user's too (exit 1, naming the file); anything else
is reported as a bug (exit 3) with the traceback only under ``--debug``.

Signals: SIGINT, SIGTERM and SIGHUP interrupt a command alike (``Interrupted``,
a KeyboardInterrupt, raised in the main thread), so a render's transaction
aborts and its temporaries go; the exit code is 128 + the signal's number, as
shells expect (130, 143, 129), and the one-line message says what is true: which
sets of files were completely replaced before the signal, or that nothing was.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import gc
import importlib
import signal
import sys
import threading
from collections.abc import Iterator, Sequence

from mixgraph.errors import EXIT_INTERNAL, EXIT_USER, MixgraphError, printable

#: subcommand name -> module; order is the order of ``mixgraph --help``
COMMANDS: dict[str, str] = {
    "validate": "mixgraph.cli.cmd_validate",
    "expand": "mixgraph.cli.cmd_expand",
    "schema": "mixgraph.cli.cmd_schema",
    "plan": "mixgraph.cli.cmd_plan",
    "render": "mixgraph.cli.cmd_render",
    "master": "mixgraph.cli.cmd_master",
    "meter": "mixgraph.cli.cmd_meter",
    "lock": "mixgraph.cli.cmd_lock",
    "verify": "mixgraph.cli.cmd_verify",
    "diff": "mixgraph.cli.cmd_diff",
    "init": "mixgraph.cli.cmd_init",
    "cache": "mixgraph.cli.cmd_cache",
}


def _available() -> dict[str, object]:
    mods = {}
    for name, modname in COMMANDS.items():
        try:
            mods[name] = importlib.import_module(modname)
        except ModuleNotFoundError as exc:
            if exc.name != modname:
                raise
    return mods


def build_parser() -> argparse.ArgumentParser:
    from mixgraph.version import __version__

    parser = argparse.ArgumentParser(
        prog="mixgraph",
        description="Render a whole music mix and master from a YAML session file.",
    )
    parser.add_argument("--version", action="version", version=f"mixgraph {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show tracebacks for every error"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, mod in _available().items():
        p = sub.add_parser(name, help=mod.HELP, description=mod.HELP)
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="show tracebacks for every error")
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def print_error(err: MixgraphError) -> None:
    """The error in the house style, its control characters escaped (see ``cli.output``)."""
    from mixgraph.cli.output import print_diagnostics

    print_diagnostics(err)


#: the commands that stream audio in blocks (see keep_block_buffers)
STREAMING = ("render", "master")


def keep_block_buffers() -> bool:
    """Let glibc's malloc serve block-sized arrays (up to 4 MiB) from its heap instead of a fresh
    mmap each time, and keep up to 8 MiB of freed heap: a render allocates and frees thousands of
    block-sized temporaries, and a fresh mmap costs a page fault per 4 KiB touched.  16x180
    benchmark: 54 000 minor faults instead of 220 000-290 000, 0.4-0.5 s less system time, peak
    RSS +5-10 MB.  The render's threads also share one malloc arena (each thread's own arena
    kept its own freed blocks: 16x180 at 64k-frame blocks, 233 MB peak RSS instead of 242 MB, the
    same speed; a render allocates a few hundred arrays a second, so the lock is not contended).
    The command line owns its process, so it sets this; the library never does.
    A no-op (False) where there is no glibc mallopt."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold, m_arena_max = -1, -3, -8  # glibc's malloc.h
    return (bool(mallopt(m_mmap_threshold, 4 << 20)) and bool(mallopt(m_trim_threshold, 8 << 20))
            and bool(mallopt(m_arena_max, 1)))


def skip_numba_blas_probe() -> bool:
    """Load numba's numpy support without its BLAS probe: numba checks once, when it loads that
    support (at a render's first compiled kernel), whether BLAS is there by importing scipy.linalg,
    and the answer only picks how numba's own ``np.cov``/``np.corrcoef`` sum (BLAS or a loop; a
    ``np.dot`` in a kernel still finds BLAS when it is compiled). No mixgraph kernel uses any of
    them, and the import costs a render 0.12 s of start-up and 13 MB. For the probe's moment only,
    ``scipy.linalg.cython_blas`` is made unimportable; anything may import it afterwards.
    The command line owns its process, so it does this; the library never does. False when
    numba's numpy support or scipy.linalg was loaded already (nothing to save)."""
    if "numba.np.arraymath" in sys.modules or "scipy.linalg.cython_blas" in sys.modules:
        return False
    sys.modules["scipy.linalg.cython_blas"] = None  # type: ignore[assignment]  # import -> ImportError
    try:
        import numba.np.arraymath  # noqa: F401
    finally:
        del sys.modules["scipy.linalg.cython_blas"]
    return True


#: errors of the machine around a run, not of mixgraph: no space, no permission, a read-only or
#: failing disk, too many open files. Reported as a user's (exit 1), naming the file
ENVIRONMENT_ERRNOS = frozenset(getattr(errno, n) for n in (
    "ENOSPC", "EDQUOT", "EFBIG", "EACCES", "EPERM", "EROFS", "EIO", "EMFILE", "ENFILE",
    "ENAMETOOLONG", "ETXTBSY", "ELOOP", "ESTALE") if hasattr(errno, n))

_HINTS = {errno.ENOSPC: "Free some space on that disk, or render elsewhere with --out-dir.",
          errno.EACCES: "Make the folder writable, or render elsewhere with --out-dir.",
          errno.EROFS: "That disk is mounted read-only; render elsewhere with --out-dir."}
_HINTS[getattr(errno, "EDQUOT", errno.ENOSPC)] = _HINTS[errno.ENOSPC]
_HINTS[errno.EPERM] = _HINTS[errno.EACCES]

#: the signals that interrupt a command (those the platform has)
INTERRUPTS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n))


class Interrupted(KeyboardInterrupt):
    """An interrupting signal, raised in the main thread wherever it is (as Ctrl-C's
    KeyboardInterrupt is), so every ``finally`` and ``with`` on the way out cleans up."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def interrupts_raise() -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP raise ``Interrupted`` in the main thread for the duration; a
    second one while the first unwinds is ignored (the clean-up is short, and one cut short
    would leave temporaries). A signal ignored when this starts (``nohup``, a background job's
    SIGINT) stays ignored. Handlers belong to the main thread: elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired: list[int] = []

    def handler(signum, frame) -> None:
        if fired:
            return
        fired.append(signum)
        raise Interrupted(signum)

    saved = {}
    for s in INTERRUPTS:
        old = signal.getsignal(s)
        if old == signal.SIG_IGN or old is None:
            continue
        saved[s] = old
        signal.signal(s, handler)
    try:
        yield
    finally:
        fired.append(0)  # the command is over: a signal from here on has nothing to stop
        for s, old in saved.items():
            signal.signal(s, old)


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def _files_phrase(sets: list[list[str]]) -> str:
    files = [f for s in sets for f in s]
    more = f" and {len(files) - 1} more" if len(files) > 1 else ""
    return f"{len(files)} file{'s' if len(files) != 1 else ''} ({printable(files[0])}{more})"


def interrupted_message(signum: int, sets: list[list[str]]) -> str:
    """What an interrupted command tells: true whether the signal came before, during or after a
    commit (one held back during the renames arrives after them: the new set is then complete)."""
    name = _signal_name(signum)
    if not sets:
        return f"mixgraph: interrupted by {name}; nothing was changed."
    return (f"mixgraph: interrupted by {name} after the new files were written: {_files_phrase(sets)} "
            "replaced, each set complete; nothing else was changed.")


def environment_message(exc: OSError, sets: list[list[str]]) -> str:
    """An error of the machine (a full disk, a read-only folder), naming the file it hit."""
    from mixgraph.atomic import final_of, in_spill

    code = errno.errorcode.get(exc.errno or 0, str(exc.errno))
    where = exc.filename if exc.filename is not None else exc.filename2
    what = f"cannot write {printable(final_of(where))}" if where is not None else "cannot write a file"
    text = f"mixgraph: {what}: {exc.strerror or exc} ({code})"
    if getattr(exc, "journal", None):
        text += ("; the files were partly replaced, and the next render of this session finishes "
                 "replacing them")
    elif sets:
        text += f"; {_files_phrase(sets)} had been replaced, each set complete; nothing else was changed"
    else:
        text += "; nothing was changed"
    hint = _HINTS.get(exc.errno or 0)
    if hint and where is not None and in_spill(str(where)):
        room = exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
        hint = ("That is the render's scratch folder ($TMPDIR): "
                + ("free some space there, or point TMPDIR at a disk with room." if room
                   else "point TMPDIR at a writable folder."))
    return text + "." + (f" {hint}" if hint else "")


#: validate's own options; any other word is a file (see _files_after_options)
_VALIDATE_FLAGS = {"-h", "--help", "--debug"}
_VALIDATE_VALUED = {"--format"}


def _files_after_options(argv: list[str]) -> list[str]:
    """``validate``'s file names, whatever they look like: git hooks and pre-commit pass file names
    as they are, and a file called ``--json.yaml`` must be checked, not taken for an option."""
    if not argv or argv[0] != "validate" or "--" in argv:
        return argv
    opts, files = [], []
    words = iter(argv[1:])
    for w in words:
        if w in _VALIDATE_FLAGS or any(w.startswith(v + "=") for v in _VALIDATE_VALUED):
            opts.append(w)
        elif w in _VALIDATE_VALUED:
            opts += [w, next(words, "")]
        else:
            files.append(w)
    return ["validate", *opts, "--", *files]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(_files_after_options(list(sys.argv[1:] if argv is None else argv)))
    if not getattr(args, "command", None):
        parser.print_help()
        return 0
    warmup = None
    if args.command in STREAMING:
        keep_block_buffers()
        skip_numba_blas_probe()
        if args.command == "render":
            from mixgraph.render import warmup

            warmup.enable()  # a first render: the last kernels it needs compile beside the first
    debug = bool(getattr(args, "debug", False))
    from mixgraph.atomic import recording

    with interrupts_raise(), recording() as sets:
        try:
            return int(args._run(args) or 0)
        except MixgraphError as err:
            if debug:
                import traceback

                traceback.print_exc()
            print_error(err)
            return err.exit_code
        except KeyboardInterrupt as exc:
            signum = getattr(exc, "signum", signal.SIGINT)
            print(interrupted_message(signum, sets), file=sys.stderr)
            return 128 + signum
        except BrokenPipeError:
            return 0
        except OSError as exc:
            if exc.errno not in ENVIRONMENT_ERRNOS:
                return _internal_error(exc, debug)
            if debug:
                import traceback

                traceback.print_exc()
            print(environment_message(exc, sets), file=sys.stderr)
            return EXIT_USER
        except Exception as exc:  # a bug: say so
            return _internal_error(exc, debug)
        finally:
            if warmup is not None:
                warmup.finish()


def _internal_error(exc: BaseException, debug: bool) -> int:
    import traceback

    if debug:
        traceback.print_exception(exc)
    print(
        f"mixgraph: internal error ({type(exc).__name__}: {exc}). This is a bug in "
        "mixgraph; please report it with the output of --debug.",
        file=sys.stderr,
    )
    return EXIT_INTERNAL


#: the collector's thresholds for the command line's own process (the interpreter's: 700, 10, 10)
GC_THRESHOLDS = (100_000, 50, 100)


def entry() -> int:
    """The ``mixgraph`` console script and ``python -m mixgraph``: :func:`main` with the cyclic
    garbage collector tuned for a process that loads a compiler and then streams audio.

    * Its first threshold is raised from 700 to 100 000 allocations: importing numba and the
      session models allocates millions of objects, and the default sets off hundreds of
      collections that walk them (16x180 render: 3.93-3.99 s against 4.15-4.17 s; peak RSS
      +1-3 MB). Garbage in reference cycles is still collected, less often; the render's blocks
      are plain arrays, freed as soon as they are dropped.
    * After main, what is left is frozen out of the interpreter's last collection, which would
      walk every object numba loaded (0.12-0.14 s at the end of a render, 0.02 s frozen); it
      goes with the process, and every file the command wrote was closed before main returned.

    Only for the process's own entry: ``main`` called in a process that goes on (tests, scripts)
    leaves the collector alone."""
    gc.set_threshold(*GC_THRESHOLDS)
    code = main()
    gc.freeze()
    return code
