"""Every record of a records file, raw: the one reader of all three formats.

Receives a path (`.csv`, `.json`, `.jsonl`/`.ndjson`: files.py). Guarantees the records in
file order as `(row, raw fields, problem)`: a dict keyed by column (the CSV header or the JSON
keys as written) or, when the record cannot even be read, None and the problem; streamed, one
record at a time. Raises `RecordsUnreadable` only when the file cannot be opened. Emits
nothing: a problem of the file as a whole also goes, once, to the `notes` a caller passes.
"""

from __future__ import annotations

from collections.abc import Iterator

from dsl.run.records.csv_rows import csv_lists
from dsl.run.records.files import detect_format, open_text
from dsl.run.records.json_rows import json_rows, jsonl_rows


def raw_records(path: str, tick=None, notes: list[str] | None = None) -> Iterator[tuple[int, dict | None, str | None]]:
    """Stream `(row, raw fields, problem)`: a problem (text) when the record cannot even be read.

    `tick(bytes_read)` is called every 4,096 records (a progress bar), if given. A problem of
    the file as a whole (an unclosed CSV quote, a JSON array that cannot be read to its end)
    is also said once in `notes`, if given, for the run's summary.
    """
    fmt = detect_format(path)
    if fmt == "csv":
        header, rows = csv_lists(path, tick, notes)
        if header is None:  # the header itself cannot be read: `rows` says so
            yield from rows
            return
        for row, cells, problem in rows:
            yield row, (dict(zip(header, cells)) if cells is not None else None), problem
        return
    handle, text = open_text(path)
    with text:
        rows = jsonl_rows(text) if fmt == "jsonl" else json_rows(text, notes)
        if tick is None:
            yield from rows
            return
        for item in rows:
            if item[0] & 4095 == 0:
                tick(handle.tell())
            yield item
