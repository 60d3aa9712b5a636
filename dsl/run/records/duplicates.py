"""The ids that occur more than once in a records file (spec §13: all their records are
rejected), found in a first pass over the file.

Receives a path and the id input's column as written in the file (`column_of`). Guarantees
exactly the ids of two or more records (an id as `id_text` reads it), in memory that grows by
8 bytes a record: a first pass keeps a 64-bit hash per record, and ids are kept as text only
for the hashes that repeat (a second pass, `exact_duplicates`, since hashes may collide). A
run that skips the first pass (dsl/run/runner.py) hashes the ids as it goes and calls
`repeated_hashes` and `exact_duplicates` itself. Emits nothing.
"""

from __future__ import annotations

from array import array

from dsl.run.records.csv_rows import csv_lists
from dsl.run.records.files import detect_format
from dsl.run.records.raw import raw_records
from dsl.run.records.values import id_text


def duplicate_ids(path: str, id_column: str) -> frozenset[str]:
    """The ids that occur more than once in the file (§13: all their records are rejected).

    `id_column` is the id input's column as written in the file (`column_of`).

    A first pass keeps only a 64-bit hash per record (8 bytes each, so a million records
    cost 8 MB); ids are kept as text only for hashes that repeat.
    """
    # 64 arrays by the hash's low bits: each is checked on its own, so the peak stays small
    buckets = [array("q") for _ in range(64)]
    pushes = [b.append for b in buckets]
    if detect_format(path) == "csv":
        header, rows = csv_lists(path)
        if header is not None and id_column in header:
            at = header.index(id_column)
            for _row, cells, _problem in rows:
                if cells is not None and len(cells) > at:
                    value = cells[at].strip()
                    if value:
                        h = hash(value)
                        pushes[h & 63](h)
        elif header is None:
            for _row, raw, _problem in rows:
                if raw is not None:
                    value = id_text(raw.get(id_column))
                    if value:
                        h = hash(value)
                        pushes[h & 63](h)
    else:
        for _row, raw, _problem in raw_records(path):
            if raw is not None:
                value = id_text(raw.get(id_column))
                if value:
                    h = hash(value)
                    pushes[h & 63](h)
    repeated = repeated_hashes(buckets)
    del buckets, pushes
    return exact_duplicates(path, id_column, repeated) if repeated else frozenset()


def repeated_hashes(buckets) -> set[int]:
    """The hashes that occur more than once; a hash is always in the bucket of its low bits."""
    repeated: set[int] = set()
    for bucket in buckets:
        seen: set[int] = set()
        for h in bucket:
            if h in seen:
                repeated.add(h)
            else:
                seen.add(h)
    return repeated


def exact_duplicates(path: str, id_column: str, hashes: set[int]) -> frozenset[str]:
    """The ids whose hash is in `hashes` that really occur more than once (hashes may collide)."""
    counts: dict[str, int] = {}
    for _row, raw, _problem in raw_records(path):
        if raw is not None:
            value = id_text(raw.get(id_column))
            if value and hash(value) in hashes:
                counts[value] = counts.get(value, 0) + 1
    return frozenset(k for k, n in counts.items() if n > 1)
