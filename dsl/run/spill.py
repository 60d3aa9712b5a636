"""Records spilled to disk by period: a multi-period run reads its file once and evaluates it
period by period, in calendar order (language §15), with memory bounded by one period.

Receives raw records (CSV cells or JSON objects, as read) with their row numbers and period
keys. Guarantees each period's records back in file order, from one temporary file per
period (in batches: CSV cells as one text, JSON objects pickled — JSON's NaN marker pickles by
reference, so it is the same object read back), in a private folder removed at the end, on an
error or a signal. Emits nothing.
"""

from __future__ import annotations

import os
import pickle

from dsl.run.outputs import temporary_folder

BATCH = 2_000

# Spilled CSV rows: one text per batch, cells joined by US and rows by RS (the ASCII unit and
# record separators), which reads back far faster than pickled lists of strings. A batch whose
# cells contain a separator (the count of separators tells), or whose records are not lists
# of strings, is pickled as it is.
_US, _RS = "\x1f", "\x1e"


def _packed(batch: tuple[list, list], cells: bool):
    """What a batch of (row numbers, raw records) is written as."""
    rows, raws = batch
    if cells:
        try:
            text = _RS.join([_US.join(raw) for raw in raws])
        except TypeError:
            text = None
        # one separator between any two cells, and none inside them
        if text is not None and text.count(_US) + text.count(_RS) == sum(map(len, raws)) - 1:
            return rows, text
    return rows, raws


def _unpacked(packed) -> tuple[list, list]:
    """`_packed`, undone: (row numbers, raw records)."""
    rows, raws = packed
    if raws.__class__ is str:
        return rows, [line.split(_US) for line in raws.split(_RS)]
    return rows, raws


def spill_folder():
    """The run's folder for records spilled per period: `ipl-periods-PID-XXXXXXXX` in the
    temporary directory, removed at the end, on an error or a signal; those of dead runs
    (`kill -9`) are removed first."""
    return temporary_folder("ipl-periods")


class Spill:
    """Raw records by period key, written to `folder` in batches as they come."""

    def __init__(self, folder: str, cells: bool):
        self.folder = folder
        self.cells = cells  # every raw record is a list of strings (a CSV row)
        self.buckets: dict[int, tuple[list, list]] = {}
        self.files: dict[int, object] = {}

    def add(self, key: int, row: int, raw) -> None:
        batch = self.buckets.get(key)
        if batch is None:
            batch = self.buckets[key] = ([], [])
        batch[0].append(row)
        batch[1].append(raw)
        if len(batch[0]) >= BATCH:
            self._write(key, batch)
            self.buckets[key] = ([], [])

    def _write(self, key: int, batch: tuple[list, list]) -> None:
        fh = self.files.get(key)
        if fh is None:
            fh = self.files[key] = open(os.path.join(self.folder, f"p{key}.bin"), "wb")  # noqa: SIM115
        pickle.dump(_packed(batch, self.cells), fh, protocol=pickle.HIGHEST_PROTOCOL)

    def keys(self) -> list[int]:
        """Every key spilled, in order, once all records were added (the files are closed)."""
        for key, batch in self.buckets.items():
            if batch[0]:
                self._write(key, batch)
        for fh in self.files.values():
            fh.close()
        self.buckets = {}
        return sorted(self.files)

    def read(self, key: int) -> tuple[list, list]:
        """(row numbers, raw records) of one key, in file order."""
        rows: list = []
        raws: list = []
        with open(os.path.join(self.folder, f"p{key}.bin"), "rb") as fh:
            while True:
                try:
                    got_rows, got_raws = _unpacked(pickle.load(fh))
                except EOFError:
                    break
                rows += got_rows
                raws += got_raws
        return rows, raws
