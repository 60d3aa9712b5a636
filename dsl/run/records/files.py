"""A records file as text: its format, told by its extension, and the file opened.

Receives a path. Guarantees `detect_format` names one of `csv`, `json`, `jsonl` and
`open_text` gives the file as bytes and as text (UTF-8, a BOM dropped, line endings kept for
the csv module; undecodable bytes survive as lone surrogates, which the validator rejects);
otherwise both raise `RecordsUnreadable` (the CLI exits 2). Emits nothing.
"""

from __future__ import annotations

import io
from pathlib import Path

CHUNK = 1 << 16  # characters read at a time where the readers read by chunks


class RecordsUnreadable(Exception):
    """The records file cannot be opened or has an unknown format (exit 2)."""


def detect_format(path: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix == ".json":
        return "json"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    raise RecordsUnreadable(f"cannot tell the format of {path}: use .csv, .json or .jsonl")


def open_text(path: str):
    """The file as bytes and as text (UTF-8, a BOM dropped, line endings kept for the csv module)."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed with the text wrapper
    except OSError as err:
        raise RecordsUnreadable(f"cannot read {path}: {err.strerror or err}") from None
    # Undecodable bytes survive as lone surrogates; the validator rejects the record that holds them.
    return handle, io.TextIOWrapper(handle, encoding="utf-8-sig", errors="surrogateescape", newline="")
