"""Writing outputs: atomically, with spreadsheet formulas defused (spec §16).

Receives rows (dicts of already formatted cells) and a path. Guarantees: a
file is written to a temporary file in the same folder and renamed over the
target only when complete, so an interrupted run leaves the previous output
intact; text cells of CSV outputs that start with `=`, `+`, `-` or `@` (or a
tab / carriage return) are prefixed with `'` so that no spreadsheet runs them.
The format (CSV, JSON array, JSON Lines) follows the extension. Emits no
diagnostics; an unwritable path raises `OutputError` (the CLI exits 2).
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class OutputError(Exception):
    """An output file cannot be written."""


def defuse(cell: str) -> str:
    """§16: a text cell a spreadsheet would run as a formula gets a leading `'`."""
    if cell and cell[0] in _FORMULA_START:
        return "'" + cell
    return cell


def output_format(path: str, allowed: tuple[str, ...] = ("csv", "json", "jsonl")) -> str:
    suffix = Path(path).suffix.lower()
    fmt = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}.get(suffix)
    if fmt is None or fmt not in allowed:
        names = ", ".join("." + a for a in allowed)
        raise OutputError(f"cannot tell the format of {path}: use {names}")
    return fmt


@contextlib.contextmanager
def atomic_open(path: str, newline: str | None = None) -> Iterator:
    """Open a text file for writing that appears at `path` only when the block completes."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as err:
        raise OutputError(f"cannot write {path}: {err.strerror or err}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class RowWriter:
    """Writes rows of one table as CSV, a JSON array or JSON Lines, atomically.

    CSV cells: `str` cells are defused; numbers and bools are written as given
    (already formatted by the caller). JSON values: Decimals are written as JSON
    numbers with their exact digits (never through float).
    """

    def __init__(self, path: str, columns: list[str], text_columns: frozenset[str] = frozenset()):
        self.path = path
        self.columns = columns
        self.text_columns = text_columns
        self.format = output_format(path)
        self._cm = atomic_open(path, newline="" if self.format == "csv" else None)
        self._handle = None
        self._first = True

    def __enter__(self) -> RowWriter:
        self._handle = self._cm.__enter__()
        if self.format == "csv":
            self._csv = csv.writer(self._handle, lineterminator="\n")
            self._csv.writerow(self.columns)
        elif self.format == "json":
            self._handle.write("[")
        return self

    def write(self, cells: list) -> None:
        """One row, in the order of `columns`."""
        if self.format == "csv":
            text = self.text_columns
            self._csv.writerow([defuse(c) if i in text else c for i, c in enumerate(cells)]
                               if text else cells)
            return
        obj = dict(zip(self.columns, cells))
        line = dumps(obj)
        if self.format == "json":
            self._handle.write(("\n  " if self._first else ",\n  ") + line)
            self._first = False
        else:
            self._handle.write(line + "\n")

    def write_csv_row(self, cells: list) -> None:
        """A CSV row whose cells the caller has already defused (the fast path of `ipl run`)."""
        self._csv.writerow(cells)

    def __exit__(self, *exc) -> bool:
        if self.format == "json" and exc[0] is None:
            self._handle.write("\n]\n" if not self._first else "]\n")
        return self._cm.__exit__(*exc)


def dumps(obj, indent: int | None = None) -> str:
    """JSON text with Decimals as exact JSON numbers (plain notation, never floats)."""
    out: list[str] = []
    _emit(obj, out, indent, 0)
    return "".join(out)


def _emit(obj, out: list[str], indent: int | None, level: int) -> None:
    if isinstance(obj, bool) or obj is None or isinstance(obj, (int, str)):
        out.append(json.dumps(obj, ensure_ascii=False))
    elif isinstance(obj, Decimal):
        out.append(format(obj.copy_abs() if obj.is_zero() else obj, "f") if obj.is_finite() else "null")
    elif isinstance(obj, dict):
        if not obj:
            out.append("{}")
            return
        pad, sep = _pads(indent, level)
        out.append("{")
        for i, (k, v) in enumerate(obj.items()):
            out.append((_COMMA[indent is None] if i else "") + pad + json.dumps(str(k), ensure_ascii=False) + ": ")
            _emit(v, out, indent, level + 1)
        out.append(sep + "}")
    elif isinstance(obj, (list, tuple)):
        if not obj:
            out.append("[]")
            return
        pad, sep = _pads(indent, level)
        out.append("[")
        for i, v in enumerate(obj):
            out.append((_COMMA[indent is None] if i else "") + pad)
            _emit(v, out, indent, level + 1)
        out.append(sep + "]")
    else:
        raise TypeError(f"not JSON: {type(obj).__name__}")


_COMMA = {True: ", ", False: ","}


def _pads(indent: int | None, level: int) -> tuple[str, str]:
    if indent is None:
        return "", ""
    return "\n" + " " * (indent * (level + 1)), "\n" + " " * (indent * level)


def write_text(path: str, text: str) -> None:
    """Write a whole text file atomically."""
    with atomic_open(path) as handle:
        handle.write(text)
