"""The small driver that reads files and chains the passes (STYLE.md §1).

parse → (policy) check_policy ; (module) check_module ; (tests) check_tests.
It keeps going inside a stage so that every error is reported, and stops after
a stage that reported errors. It reads files; the passes never do.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dsl.front import ast
from dsl.front.diagnostics import Diagnostics
from dsl.front.source import SourceFile
from dsl.front.syntax import parse_bytes
from dsl.checker.program import check_module, check_policy
from dsl.checker.testfile import check_tests


class UsageError(Exception):
    """A path that does not exist or cannot be read: the CLI exits 2."""


@dataclass
class Loaded:
    path: str
    source: SourceFile
    file: ast.File | None


def collect(paths: list[str]) -> list[Path]:
    """Files named, and every `*.ipl` below folders named, in a stable order."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            out.extend(sorted(q for q in p.rglob("*.ipl") if q.is_file() and ".venv" not in q.parts))
        elif p.exists():
            out.append(p)
        else:
            raise UsageError(f"no such file or folder: {raw}")
    return out


def read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror or err}") from None


def load(path: Path, diags: Diagnostics) -> Loaded:
    """Read and parse one file (E100 on failure)."""
    source, file = parse_bytes(str(path), read(path), diags)
    return Loaded(str(path), source, file)


def check_file(path: Path, diags: Diagnostics):
    """Parse and check one file of any kind; returns the checked result or None.

    A policy gives a `CheckedPolicy`, a module a `CheckedModule`, a test file the
    `CheckedPolicy` of the policy it tests (None on errors)."""
    return check_loaded(load(path, diags), diags)


def check_loaded(loaded: Loaded, diags: Diagnostics):
    """Check a parsed file by its kind: policy, module or test file."""
    file = loaded.file
    path = Path(loaded.path)
    match file:
        case None:
            return None
        case ast.PolicyFile():
            return check_policy(loaded.source, file, diags, path=path)
        case ast.ModuleFile():
            return check_module(loaded.source, file, diags)
        case ast.TestFile():
            return check_tests(loaded.source, file, diags, path=path)
        case _:
            raise AssertionError(f"unhandled {type(file).__name__}")
