"""The robustness suites call `ipl` in process (tests/robustness/harness.py)."""

from __future__ import annotations

import sys

import pytest


@pytest.fixture(autouse=True, scope="session")
def _as_main_does():
    """`ipl`'s main() raises the recursion limit before any command (deep but legal policies
    recurse in the passes): the in-process calls get the same limit."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 10_000))
    yield
    sys.setrecursionlimit(old)
