"""Reading and validating partner records (spec §13, §16; v0.2 §2a, §23.1, §23.4).

Receives a records file (CSV, JSON array of objects, or JSON Lines, chosen by
extension: `.csv`, `.json`, `.jsonl`/`.ndjson`) and the policy's input fields
(`Field`, built by `fields_of` from the IR program's `input` declarations; each is read
from its `column`, the header or key as written in the file). Guarantees:

- records are streamed (one at a time; memory does not grow with the file,
  only with the largest record; a JSON array element costs about twice its
  size to decode, however large);
- numbers go from text straight to `Decimal` (JSON numbers too, never through
  float); text must be a plain decimal (`-`, ASCII digits, `.`), and a percent
  without `%` that is a whole number other than 0, 1, -1 is rejected unless the
  declared range reaches it;
- every record comes out exactly once, either as a validated dict (input name
  → Decimal | str | bool) or as a `Reject` with its row number, id (when there
  is one), field (the column as written in the file) and reason; a problem of
  the file as a whole (an unclosed CSV quote, a JSON array unreadable past some
  point, a required column missing from the header) is also said once in the
  `notes` list a caller passes, for the run's summary;
- a rejected value is shown briefly (at most 40 characters) and an enum's
  "did you mean" costs the same however many members it has.

Nothing here raises on bad data; a file that cannot be opened at all raises
`RecordsUnreadable` (the CLI exits 2). Emits no diagnostics: rejects are data
(`Reject`).

The modules, in the order a record meets them:

    files.py       the format, told by the extension; the file opened as text
    csv_rows.py    a CSV file as lists of cells (the fast path of `ipl run`), unclosed quotes
    json_rows.py   a JSON array or JSON Lines file, streamed; the NaN marker
    raw.py         `raw_records`: any of the three, as dicts keyed by column
    duplicates.py  the ids that occur more than once (a first pass)
    values.py      one raw value → its validated value or the reason (`Field`, the percent rule)
    spelling.py    the "did you mean" of a mistyped member
    validator.py   a whole record → a validated dict or a `Reject` (`Validator`, `fast_validator`)

This module names what the rest of the package uses.
"""

from __future__ import annotations

from dsl.run.records.csv_rows import csv_lists
from dsl.run.records.duplicates import duplicate_ids, exact_duplicates, repeated_hashes
from dsl.run.records.files import RecordsUnreadable, detect_format
from dsl.run.records.raw import raw_records
from dsl.run.records.spelling import closest
from dsl.run.records.validator import Reject, Validator, column_of, fast_validator, fields_of
from dsl.run.records.values import BadValue, Field, converter_of, id_text, parse_decimal

__all__ = [
    "BadValue", "Field", "RecordsUnreadable", "Reject", "Validator", "closest", "column_of", "converter_of",
    "csv_lists", "detect_format", "duplicate_ids", "exact_duplicates", "fast_validator",
    "fields_of", "id_text", "parse_decimal", "raw_records", "repeated_hashes",
]
