"""Shared fixtures: golden files with a regenerate switch (`pytest --update-golden`)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite golden files with the actual output instead of comparing")


@pytest.fixture
def golden(request):
    """`golden("dir/name.txt", actual)`: compare with tests/golden/dir/name.txt (or rewrite it)."""
    update = request.config.getoption("--update-golden")

    def compare(relative: str, actual: str) -> None:
        path = GOLDEN / relative
        if update or not path.exists():
            if not update:
                pytest.fail(f"golden file {path} is missing: run pytest --update-golden and review it")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(actual, encoding="utf-8")
            return
        expected = path.read_text(encoding="utf-8")
        assert actual == expected, f"output differs from {path} (pytest --update-golden rewrites it)"

    return compare
