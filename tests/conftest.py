"""Shared test helpers: golden files refreshed only by an explicit flag."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
LOUDNESS_DATA = SHARED / "testdata" / "loudness"

# A runner that starts the tests in the background without job control (`cmd &` in a script)
# hands them SIGINT ignored, and `nohup` SIGHUP; every child inherits that, a render then rightly
# keeps ignoring them, and the tests that send them fail. The tests run with the defaults, which
# their children get back.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
if signal.getsignal(signal.SIGHUP) == signal.SIG_IGN:
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def pytest_addoption(parser):
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite golden files from the current output instead of comparing",
    )


@pytest.fixture
def golden(request):
    """``golden(path, text)``: compare ``text`` with the golden file, or rewrite it with --update-golden."""
    update = request.config.getoption("--update-golden")

    def check(path: Path, text: str) -> None:
        path = Path(path)
        if update or not path.exists():
            if not update:
                pytest.fail(f"golden file {path} is missing; run pytest --update-golden and review the diff")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return
        expected = path.read_text(encoding="utf-8")
        assert text == expected, f"output differs from golden file {path} (run --update-golden to refresh)"

    return check
