"""Collection: which files are test files (`tests for ...`), among paths and below folders.

Receives paths (files and folders). Guarantees every `*.ipl` whose first declaration is `tests
for` (comments and blank lines skipped), among the files named and the files below the folders;
policies and modules are skipped; a file that cannot be read counts as a test file, so that the
run reports it. A missing path is `UsageError` (dsl/checker/driver.py).
"""

from __future__ import annotations

import re
from pathlib import Path

_TESTS_FOR = re.compile(r"tests[ \t\f\r\n]+for\b")


def is_test_file(path: Path) -> bool:
    """Whether the file's first declaration is `tests for` (comments and blank lines skipped)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(1 << 16)
    except OSError:
        return True  # let the run report it as unreadable
    text = head.decode("utf-8", "replace").lstrip("\ufeff")
    for line in text.splitlines():
        line = line.strip(" \t\f\r")
        if not line or line.startswith("#"):
            continue
        return bool(_TESTS_FOR.match(text, text.find(line)))
    return False


def test_files(paths: list[str]) -> list[Path]:
    """The test files among the paths (folders: every `*.ipl` below); `UsageError` for a missing path."""
    from dsl.checker.driver import collect

    return [p for p in collect(paths) if is_test_file(p)]
