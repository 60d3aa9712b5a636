"""Reading and validating partner records (spec §13, §16; v0.2 §2a, §23.1, §23.4).

Receives a records file (CSV, JSON array of objects, or JSON Lines, chosen by
extension: `.csv`, `.json`, `.jsonl`/`.ndjson`) and the policy's input fields
(`Field`, built by dsl/compile.py from the `input` declarations; each is read
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
"""
from __future__ import annotations

import bisect
import collections
import copy
import csv
import difflib
import io
import itertools
import json
import re
import sys
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

# §9: a value that does not fit 34 significant digits cannot be exact.
MAX_DIGITS = 34
BOOLS = {"true": True, "false": False, "yes": True, "no": False, "1": True, "0": False}
_CHUNK = 1 << 16


class RecordsUnreadable(Exception):
    """The records file cannot be opened or has an unknown format (exit 2)."""


@dataclass(frozen=True, slots=True)
class Reject:
    """A record that will not be paid, and why (§13)."""

    row: int  # 1-based position of the record in the file (the header is not a record)
    id: str | None
    field: str | None
    reason: str

    def to_json(self) -> dict:
        return {"row": self.row, "id": self.id, "field": self.field, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Field:
    """One `input` as the reader needs it."""

    name: str  # the policy's name: the key of the validated record, and of every output
    kind: str  # money | percent | number | count | bool | text | id | enum | level | period
    members: tuple[str, ...] = ()  # enum members or level labels
    lo: Decimal | None = None
    hi: Decimal | None = None
    default: object = None  # the validated default value, or None when the input is required
    has_default: bool = False
    unit: str = ""  # how a bound is shown: "USD", "%", ""
    # §2a: the CSV column or JSON key the value is read from, exactly as written in the file
    # (`input x : money column "X"`); rejects name it. "" means the same as `name`.
    column: str = ""

    def __post_init__(self) -> None:
        if not self.column:
            object.__setattr__(self, "column", self.name)


def fields_of(program) -> tuple[Field, ...]:
    """The inputs of an IR program (dsl/ir/nodes.py) as the readers validate them."""
    out = []
    for inp in program.inputs:
        t = inp.type
        unit = {"money": program.currency, "percent": "%"}.get(t.kind.value, "")
        out.append(Field(name=inp.name, kind=t.kind.value, members=tuple(t.members), lo=inp.lo, hi=inp.hi,
                         default=inp.default, has_default=inp.has_default, unit=unit, column=inp.column))
    return tuple(out)


def column_of(fields: tuple[Field, ...], name: str) -> str:
    """The column (§2a) that the input `name` is read from; `name` itself if it is no input."""
    for f in fields:
        if f.name == name:
            return f.column
    return name


class BadValue(Exception):
    """A raw value that does not validate; the message is the reject reason."""


class _NaN:
    """JSON's NaN / Infinity constants, which the validator rejects (one instance, `NAN`).

    Raw records of a multi-period run are pickled to disk and read back (dsl/settle.py): the
    instance pickles by reference to `NAN`, so it is the same object after the round trip.
    """

    __slots__ = ()

    def __reduce__(self):
        return "NAN"

    def __repr__(self) -> str:
        return "NaN"


NAN = _NaN()


def _json_constant(text: str):
    return NAN


def _json_loads(text: str):
    return json.loads(text, parse_float=Decimal, parse_int=Decimal, parse_constant=_json_constant)


# ------------------------------------------------------------------ reading


def detect_format(path: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix == ".json":
        return "json"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    raise RecordsUnreadable(f"cannot tell the format of {path}: use .csv, .json or .jsonl")


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
    handle, text = _open(path)
    with text:
        rows = _jsonl_rows(text) if fmt == "jsonl" else _json_rows(text, notes)
        if tick is None:
            yield from rows
            return
        for item in rows:
            if item[0] & 4095 == 0:
                tick(handle.tell())
            yield item


def _open(path: str):
    """The file as bytes and as text (UTF-8, a BOM dropped, line endings kept for the csv module)."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed with the text wrapper
    except OSError as err:
        raise RecordsUnreadable(f"cannot read {path}: {err.strerror or err}") from None
    # Undecodable bytes survive as lone surrogates; the validator rejects the record that holds them.
    return handle, io.TextIOWrapper(handle, encoding="utf-8-sig", errors="surrogateescape", newline="")


def _raise_field_limit() -> None:
    """Cells of any length (the csv module refuses cells over 128 KiB by default): a long cell in
    an ignored column must not reject its record, as it would not in JSON Lines."""
    limit = sys.maxsize
    while True:
        try:
            csv.field_size_limit(limit)
            return
        except OverflowError:  # a C long is 32 bits on some platforms
            limit //= 2


_raise_field_limit()


def csv_lists(path: str, tick=None, notes: list[str] | None = None):
    """A CSV file as (header, iterator of (row, cells, problem)): the fast path of `ipl run`.

    The same rows and problems as `raw_records`, but cells stay a list (no dict per row). When
    the header cannot be read, the header is None and the iterator yields that one problem.
    """
    handle, text = _open(path)
    reader = csv.reader(text)
    try:
        header = next(reader, None)
    except csv.Error as err:
        text.close()
        return None, iter([(1, None, f"unreadable CSV header: {err}")])
    if header is None:
        text.close()
        return [], iter(())
    header = [h.strip() for h in header]
    return header, _csv_cells(path, handle, text, reader, len(header), tick, notes)


def _csv_cells(path: str, handle, text, reader, width: int, tick, notes):
    """The rows of a CSV file after its header, as (row, cells, problem).

    The csv module reads a quote that is never closed as one cell holding the rest of the
    file. So a record spanning lines is held back until the next record shows that it ended
    before the end of the file; the last one, if it spans lines, is checked (`_open_quote`):
    when its quote is still open at the end of the file, it is rejected ("unclosed quote
    starting at row N") and reading goes on at the line after the quote, so that the records
    it swallowed are read one by one.
    """
    row = 0
    skipped = 0  # lines of the file before the current reader's first line
    try:
        while True:
            last = reader.line_num  # the reader's lines read so far
            held = None  # a record spanning lines, and its first line in the file
            while True:
                try:
                    cells = next(reader)
                except StopIteration:
                    break
                except csv.Error as err:
                    if held is not None:
                        yield held[0]
                        held = None
                    row += 1
                    last = reader.line_num
                    yield row, None, f"unreadable CSV row: {err}"
                    continue
                if held is not None:
                    yield held[0]
                    held = None
                line = reader.line_num
                if not cells:  # a blank line is not a record
                    last = line
                    continue
                row += 1
                if tick is not None and row & 4095 == 0:
                    tick(handle.tell())
                if len(cells) > width:
                    item = (row, cells[:width], f"the row has {len(cells)} cells but the header has {width}")
                else:
                    item = (row, cells, None)
                if line - last != 1:
                    held = (item, skipped + last + 1, cells)
                    last = line
                    continue
                last = line
                yield item
            if skipped == 0 and row == 0 and reader.line_num > 1:
                # the header spans lines and no record follows it: is its quote open?
                opened = _open_quote(path, 1)
                if opened is not None:
                    reason = f"unclosed quote in the header (line {opened}): no record of the file can be read"
                    if notes is not None:
                        notes.append(reason)
                    yield 1, None, reason
                return
            if held is None:
                return
            item, first, cells = held
            opened = _open_quote(path, first)
            if opened is None:
                yield item
                return
            reason = f"unclosed quote starting at row {item[0]} (line {opened}); reading goes on at line {opened + 1}"
            if notes is not None:
                notes.append(f"row {item[0]}: a quote opened at line {opened} is never closed; the record is "
                             f"rejected and the lines after it are read as records")
            # the cells before the one the quote swallowed (the id, if it comes first)
            yield item[0], cells[: min(len(cells) - 1, width)], reason
            text.close()
            handle, text = _open(path)
            for _ in itertools.islice(text, opened):
                pass
            reader = csv.reader(text)
            skipped = opened
    finally:
        text.close()


_COMMA_OR_BREAK = re.compile(r"[,\r\n]")


def _open_quote(path: str, first: int) -> int | None:
    """The line of the quote still open at the end of the file, for a record starting at line
    `first` (1-based); None if every quote from there on is closed.

    The csv module's states (default dialect, not strict), over the lines of the file: only the
    quotes and the cell and record ends are looked at.
    """
    START, FIELD, QUOTED, QUOTE_IN_QUOTED = range(4)
    handle, text = _open(path)
    with text:
        state, opened = START, None
        for number, line in enumerate(text, 1):
            if number < first:
                continue
            i, n = 0, len(line)
            while i < n:
                if state == QUOTED:
                    j = line.find('"', i)
                    if j < 0:
                        break
                    state, i = QUOTE_IN_QUOTED, j + 1
                    continue
                c = line[i]
                if state == QUOTE_IN_QUOTED:
                    if c == '"':
                        state = QUOTED
                    elif c == ",":
                        state = START
                    elif c in "\r\n":
                        state = START
                    else:
                        state = FIELD  # not strict: the quote closed, the cell goes on
                    i += 1
                elif state == START and c == '"':
                    state, opened, i = QUOTED, number, i + 1
                else:  # the start of a cell, or inside one: to its end
                    m = _COMMA_OR_BREAK.search(line, i)
                    if m is None:
                        state, i = FIELD, n
                    else:
                        state, i = START, m.end()
        return opened if state == QUOTED else None


def _jsonl_rows(text: io.TextIOBase):
    row = 0
    for line in text:
        if not line.strip():
            continue
        row += 1
        try:
            value = _json_loads(line)
        except (ValueError, RecursionError) as err:
            yield row, None, f"invalid JSON: {_json_reason(err)}"
            continue
        if not isinstance(value, dict):
            yield row, None, f"a record must be a JSON object, not {_json_kind(value)}"
            continue
        yield row, value, None


def _json_rows(text: io.TextIOBase, notes: list[str] | None = None):
    """A JSON array of objects, decoded one element at a time (no whole-file load).

    Each element is decoded where it lies in the buffer. When the buffer ends inside it, the
    buffer grows by as much again as it holds, so that an element of n bytes costs a few
    decodings (about 2n bytes decoded in all), not one per 64 KiB chunk. A syntax error stops
    the reading (where the next element starts cannot be known): its reject, and a summary
    note, say where it is (line and column in the file) and how many bytes were not read.
    """
    decoder = json.JSONDecoder(parse_float=Decimal, parse_int=Decimal, parse_constant=_json_constant)
    buf = ""
    pos = 0
    eof = False
    line0 = col0 = 1  # where buf[0] is in the file

    def fill(size: int = _CHUNK) -> bool:
        """Append `size` more characters (fewer at the end of the file); drop what was read."""
        nonlocal buf, pos, eof, line0, col0
        if eof:
            return False
        chunk = text.read(size)
        if not chunk:
            eof = True
            return False
        lines = buf.count("\n", 0, pos)
        if lines:
            line0 += lines
            col0 = pos - buf.rfind("\n", 0, pos)
        else:
            col0 += pos
        buf = buf[pos:] + chunk
        pos = 0
        return True

    def skip_ws() -> str | None:
        nonlocal pos
        while True:
            while pos < len(buf) and buf[pos] in " \t\r\n":
                pos += 1
            if pos < len(buf):
                return buf[pos]
            if not fill():
                return None

    def stop(row: int, at: int, what: str):
        """The reject (and the note) that ends the reading at buf[at]."""
        lines = buf.count("\n", 0, at)
        line, col = (line0 + lines, at - buf.rfind("\n", 0, at)) if lines else (line0, col0 + at)
        where = f"line {line}, column {col}"
        left, lines_left = _unread(buf[at:], text)
        if not left:
            reason = f"invalid JSON at {where}: {what}"
            note = f"row {row}: invalid JSON at {where}, the end of the file"
        else:
            rest = f"{left:,} byte{'s' * (left != 1)} on {lines_left:,} line{'s' * (lines_left != 1)}"
            reason = f"invalid JSON at {where}: {what}; the rest of the file ({rest}) is not read"
            note = f"row {row}: invalid JSON at {where}; the rest of the file ({rest}) was not read"
        if notes is not None:
            notes.append(note)
        return row, None, reason

    first = skip_ws()
    if first is None:
        return  # an empty file holds no records
    if first != "[":
        yield 1, None, "a .json records file must hold an array of objects (use .jsonl for one object a line)"
        return
    pos += 1
    row = 0
    expect_value = True
    while True:
        ch = skip_ws()
        if ch is None:
            yield stop(row + 1, len(buf), "the file ends before the array is closed")
            return
        if ch == "]" and (expect_value is False or row == 0):
            pos += 1
            if skip_ws() is not None:
                yield stop(row + 1, pos, "more text after the end of the array")
            return
        if not expect_value:
            if ch != ",":
                yield stop(row + 1, pos, "expected `,` or `]` between records")
                return
            pos += 1
            expect_value = True
            continue
        while True:
            try:
                value, end = decoder.raw_decode(buf, pos)
            except RecursionError:
                yield stop(row + 1, pos, "nested too deeply")
                return
            except json.JSONDecodeError as err:
                if _maybe_cut(err, len(buf)) and fill(max(_CHUNK, len(buf) - pos)):
                    continue  # the element goes on in the rest of the file
                yield stop(row + 1, err.pos, err.msg)
                return
            if end == len(buf) and buf[pos] not in "{[\"" and fill():
                continue  # a number could go on in the next chunk
            break
        pos = end
        row += 1
        expect_value = False
        if not isinstance(value, dict):
            yield row, None, f"a record must be a JSON object, not {_json_kind(value)}"
            continue
        yield row, value, None


def _unread(rest: str, text: io.TextIOBase) -> tuple[int, int]:
    """The bytes and lines of `rest` and of what is left to read of `text`."""
    size, breaks, last = 0, 0, ""
    while rest:
        size += len(rest.encode("utf-8", "surrogateescape"))
        breaks += rest.count("\n")
        last = rest[-1]
        rest = text.read(_CHUNK)
    return size, breaks + (size > 0 and last != "\n")


def _maybe_cut(err: json.JSONDecodeError, size: int) -> bool:
    """Whether a decoding error of a buffer of `size` characters may come from the buffer's end
    (the element going on after it) rather than from the text: a string still open, or an error
    within the last few characters (`-Infinit` is the longest prefix of a value)."""
    return err.pos >= size - 10 or err.msg.startswith("Unterminated string")


def _json_reason(err: Exception) -> str:
    if isinstance(err, json.JSONDecodeError):
        return f"{err.msg} (line {err.lineno}, column {err.colno})"
    return str(err)


def _json_kind(value) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return "a number"


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


def id_text(raw) -> str | None:
    """A raw id (a CSV cell or a JSON value) as the text records are told apart by: trimmed, a
    JSON number as its digits; None when there is none (blank, null, NaN, an object, a bool)."""
    if raw is None or raw is NAN or isinstance(raw, (dict, list, bool)):
        return None
    if isinstance(raw, Decimal):
        return format(raw, "f")
    text = str(raw).strip()
    return text or None


# ------------------------------------------------------------------ validation


class Validator:
    """Validates raw records against the policy's inputs (§13).

    A raw record is keyed by column, as read from the file (§2a); the validated record by the
    inputs' names. A reject's `field` is the column. With `fixtures`, raw records are a test
    file's values instead: keyed by name, and already typed (a percent is its fraction).
    """

    def __init__(self, fields: tuple[Field, ...], id_field: str, duplicates: frozenset[str] = frozenset(),
                 *, fixtures: bool = False):
        self.fields = fields
        self.id_field = id_field
        self.id_column = id_field if fixtures else column_of(fields, id_field)
        self.duplicates = duplicates
        self.fixtures = fixtures
        self._converters = tuple((f.name if fixtures else f.column, f.name, f, converter_of(f, typed=fixtures))
                                 for f in fields)
        self.header_faults: dict[str, str] = {}  # column -> the reason that rejects every row
        self.header_notes: list[str] = []  # the same, said once for the summary

    def for_header(self, header: list[str]) -> Validator:
        """This validator for a CSV file with these columns. A column that a required input
        needs and the header lacks, or that the header holds twice (which one to read?), rejects
        every row with a short reason ("no column `segment`"); `header_notes` says it once."""
        v = copy.copy(self)
        v.header_faults, v.header_notes = {}, []
        counts = collections.Counter(header)
        for column, name, f, _ in self._converters:
            n = counts[column]
            if n == 0 and not f.has_default:
                v.header_faults[column] = f"no column `{column}`"
                v.header_notes.append(f"the file has no column `{column}` (required by input `{name}`)")
            elif n > 1:
                v.header_faults[column] = f"{n} columns `{column}`"
                v.header_notes.append(f"the file has {n} columns `{column}` (read by input `{name}`): which one "
                                      "holds the value is not clear, so every record is rejected")
        return v

    def record_id(self, raw: dict | None) -> str | None:
        if raw is None:
            return None
        value = id_text(raw.get(self.id_column))
        if value is not None and _has_surrogates(value):
            return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        return value

    def validate(self, row: int, raw: dict | None, problem: str | None = None) -> dict | Reject:
        """A validated record, or the first reason it is rejected."""
        rid = self.record_id(raw)
        if problem is not None or raw is None:
            return Reject(row, rid, None, problem or "unreadable record")
        if self.header_faults:
            column, reason = next(iter(self.header_faults.items()))
            return Reject(row, rid, column, reason)
        out = {}
        for column, name, f, convert in self._converters:
            value = raw.get(column)
            if value is None or value == "":
                if f.has_default:
                    out[name] = f.default
                    continue
                return Reject(row, rid, column, f"missing field `{column}`")
            try:
                out[name] = convert(value)
            except BadValue as bad:
                if value.__class__ is str and f.kind != "text" and not value.strip():
                    # a blank value is a missing one (a value of spaces, an id above all)
                    if f.has_default:
                        out[name] = f.default
                        continue
                    return Reject(row, rid, column, f"missing field `{column}`")
                return Reject(row, rid, column, str(bad))
        if rid in self.duplicates:
            return Reject(row, rid, self.id_column, f"duplicate id {rid!r}: every record with this id is rejected")
        return out


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _show(value) -> str:
    if isinstance(value, str):
        if _has_surrogates(value):
            return "bytes that are not UTF-8 text"
        return repr(value if len(value) <= 40 else value[:37] + "...")
    if value is NAN:
        return "NaN"
    if isinstance(value, Decimal):
        text = str(value)
        return text if len(text) <= 40 else text[:37] + "..."
    if isinstance(value, dict):
        return "the object " + _brief(value)
    if isinstance(value, list):
        return "the array " + _brief(value)
    return json.dumps(value) if isinstance(value, bool) else str(value)


def _brief(value, width: int = 40) -> str:
    """A JSON value written in at most `width` characters (`...` where it is cut)."""
    parts: list[str] = []
    size = 0

    def put(text: str) -> bool:
        nonlocal size
        parts.append(text)
        size += len(text)
        return size <= width  # each level writes a character first, so the depth stays small

    def walk(v) -> bool:
        if isinstance(v, dict):
            if not put("{"):
                return False
            for i, (k, x) in enumerate(v.items()):
                if (i and not put(", ")) or not put(json.dumps(k[:width]) + ": ") or not walk(x):
                    return False
            return put("}")
        if isinstance(v, list):
            if not put("["):
                return False
            for i, x in enumerate(v):
                if (i and not put(", ")) or not walk(x):
                    return False
            return put("]")
        if v is None or isinstance(v, bool):
            return put(json.dumps(v))
        if isinstance(v, str):
            return put(json.dumps(v[:width]))
        return put("NaN" if v is NAN else str(v))

    walk(value)
    text = "".join(parts)
    return text if len(text) <= width else text[: width - 3] + "..."


# §14 of docs/language.md: the one way a number is written in a record (a CSV cell, a JSON
# string, a `--set` value): an optional `-`, ASCII digits, and a `.` with ASCII digits after it.
_DECIMAL_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?\Z")


def parse_decimal(value) -> Decimal:
    """Text or a JSON number → a finite Decimal of at most 34 significant digits (§9, §16).

    Text must be a plain decimal (`_DECIMAL_TEXT`, surrounding spaces trimmed); a JSON number
    is read as JSON writes it, an exponent included.
    """
    if isinstance(value, Decimal):
        return _exact(value, value)
    if isinstance(value, str):
        text = value.strip()
        if _DECIMAL_TEXT.match(text) is None:
            raise BadValue(_not_decimal(value, text))
        return _exact(Decimal(text), value)
    if value is NAN:
        raise BadValue("NaN is not a number")
    raise BadValue(f"{_show(value)} is not a number")


def _not_decimal(value: str, text: str) -> str:
    """Why `text` is not a plain decimal: not a number at all, not finite, too large, or a
    number written another way (`1e5`, `+5`, `.5`, `1_000`, other scripts' digits)."""
    if not text or _has_surrogates(text):
        return f"{_show(value)} is not a number"
    try:
        d = Decimal(text)
    except (InvalidOperation, ValueError):
        return f"{_show(value)} is not a number"
    try:
        d = _exact(d, value)
    except BadValue as bad:
        return str(bad)
    return f"{_show(value)} is not a decimal number: write {format(d, 'f')} (digits with an optional - and .)"


def _exact(d: Decimal, value) -> Decimal:
    """`d` if it is finite and holds in 34 digits (§9), else the reason (`value` is shown)."""
    if not d.is_finite():
        raise BadValue(f"{_show(value)} is not a finite number")
    if d.is_zero():
        return Decimal(0)
    if d.adjusted() >= MAX_DIGITS:
        raise BadValue(f"{_show(value)} is too large (at most {MAX_DIGITS} digits)")
    t = d.as_tuple()
    digits, exponent = t.digits, t.exponent
    if len(digits) > MAX_DIGITS or exponent < -MAX_DIGITS:
        zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
        if exponent + zeros < -MAX_DIGITS:
            raise BadValue(f"{_show(value)} has more than {MAX_DIGITS} decimal places")
        if len(digits) - zeros > MAX_DIGITS:
            raise BadValue(f"{_show(value)} has more than {MAX_DIGITS} significant digits")
    return d


def converter_of(f: Field, typed: bool = False):
    """The function raw value → validated value of one input; `typed`: values of a test file."""
    kind = f.kind

    def ranged(d: Decimal) -> Decimal:
        if f.lo is not None and d < f.lo:
            raise BadValue(f"{_num(d, f)} is below the minimum {_num(f.lo, f)}")
        if f.hi is not None and d > f.hi:
            raise BadValue(f"{_num(d, f)} is above the maximum {_num(f.hi, f)}")
        return d

    if kind in ("money", "number"):
        if f.lo is None and f.hi is None:
            return parse_decimal
        return lambda v: ranged(parse_decimal(v))
    if kind == "percent":
        def percent(v):
            if v.__class__ is str:
                text = v.strip()
                if text.endswith("%"):
                    return ranged(parse_decimal(text[:-1]).scaleb(-2))
            d = parse_decimal(v)
            # §2a, §23.4: without `%`, a whole value other than 0, 1, -1 is a guess, unless the
            # declared range reaches it read as a fraction
            if d != d.to_integral_value() or -1 <= d <= 1 or typed or _reaches(f, d):
                return ranged(d)
            raise BadValue(_whole_percent(v, d))
        return percent
    if kind == "count":
        def count(v):
            d = parse_decimal(v)
            if d != d.to_integral_value():
                raise BadValue(f"{_show(v)} is not a whole number (a count)")
            if d < 0:
                raise BadValue(f"{_show(v)} is negative (a count is at least 0)")
            return ranged(d.quantize(Decimal(1)))
        return count
    if kind == "bool":
        def boolean(v):
            if isinstance(v, bool):
                return v
            if isinstance(v, Decimal) and v in (0, 1):
                return v == 1
            if isinstance(v, str):
                got = BOOLS.get(v.strip().lower())
                if got is not None:
                    return got
            raise BadValue(f"{_show(v)} is not a bool (write true/false, yes/no or 1/0)")
        return boolean
    if kind in ("enum", "level"):
        members = f.members
        member_set = frozenset(members)
        spelling = Spelling(members)
        if len(members) <= 20:
            expected = f" (expected one of {', '.join(members)})"
        else:
            expected = f" (expected one of {', '.join(members[:10])}, ... {len(members):,} members in all)"

        def member(v):
            if isinstance(v, str) and v in member_set:
                return v
            text = v.strip() if isinstance(v, str) else None
            if text in member_set:
                return text
            hint = spelling.closest(text or "")
            raise BadValue(f"{_show(v)} is not a member of {f.name}{f' (did you mean {hint!r}?)' if hint else expected}")
        return member
    if kind in ("text", "id", "period"):
        def text(v):
            if isinstance(v, Decimal):
                return format(v, "f")
            if not isinstance(v, str):
                raise BadValue(f"{_show(v)} is not text")
            if _has_surrogates(v):
                raise BadValue("the value holds bytes that are not UTF-8 text (is the file UTF-8?)")
            if kind == "text":
                return v
            v = v.strip()
            if not v:
                raise BadValue("blank")  # the validator reports a missing field
            return v
        return text
    raise AssertionError(f"unhandled input kind {kind}")


def _reaches(f: Field, d: Decimal) -> bool:
    """Whether the input declares a range (§23.4: an input without one has no such range) and
    it contains `d` read as a fraction: `in 0%..2000%` and `in 0%..` contain 12 (1200 %),
    `in 0%..100%` does not."""
    if f.lo is None and f.hi is None:
        return False
    return (f.lo is None or f.lo <= d) and (f.hi is None or d <= f.hi)


def _whole_percent(v, d: Decimal) -> str:
    from dsl.backends.python.runtime import fmt_decimal

    shown = v.strip() if isinstance(v, str) else format(d, "f")
    return (f"`{shown}` for a percent would be {fmt_decimal(d.scaleb(2))} %: "
            f"write `{fmt_decimal(d)}%` or `{fmt_decimal(d.scaleb(-2))}`")


def closest(text: str, members: tuple[str, ...]) -> str | None:
    """The member a mistyped value most likely meant: case-insensitive match, then spelling."""
    return Spelling(members).closest(text)


class Spelling:
    """The "did you mean" of a mistyped name among `names`, cheap however many there are.

    A case-insensitive match first (a dict); then difflib's closest spelling (ratio >= 0.6),
    over every name when there are at most `SMALL`, else over the `NEAR` names on either side
    of the text in alphabetical order, and as many in the order of the names written backwards
    (a typo late in a word keeps its start, an early one its end): at most 4 × `NEAR`
    candidates, found by bisection. Answers are remembered (up to 4,096 texts), since a file
    tends to repeat its mistakes.
    """

    SMALL = 100
    NEAR = 8

    def __init__(self, names: tuple[str, ...]):
        self.names = names
        self._lower: dict[str, str] | None = None
        self._ordered: tuple[list[str], list[str], list[str], list[str]] | None = None
        self._seen: dict[str, str | None] = {}

    def closest(self, text: str) -> str | None:
        if text in self._seen:
            return self._seen[text]
        if self._lower is None:
            self._lower = {}
            for name in self.names:
                self._lower.setdefault(name.lower(), name)
        lowered = text.lower()
        found = self._lower.get(lowered)
        if found is None:
            found = self._spelt(lowered)
        if len(self._seen) < 4096 and len(text) <= 256:  # a long value is not kept
            self._seen[text] = found
        return found

    def _spelt(self, lowered: str) -> str | None:
        if len(self.names) <= self.SMALL:
            candidates = self.names
        else:
            if self._ordered is None:
                forward = sorted(self.names, key=str.lower)
                backward = sorted(self.names, key=lambda n: n.lower()[::-1])
                self._ordered = ([n.lower() for n in forward], forward,
                                 [n.lower()[::-1] for n in backward], backward)
            fkeys, forward, bkeys, backward = self._ordered
            i = bisect.bisect(fkeys, lowered)
            j = bisect.bisect(bkeys, lowered[::-1])
            near = self.NEAR
            candidates = forward[max(0, i - near): i + near] + backward[max(0, j - near): j + near]
        return _best_spelling(lowered, candidates)


def _best_spelling(word: str, candidates, cutoff: float = 0.6) -> str | None:
    """`difflib.get_close_matches(word, candidates, n=1, cutoff)`, the same answer (the
    highest ratio, then the greatest candidate), with `ratio()` — the costly part — computed
    only while a candidate's `quick_ratio()`, an upper bound of it, can still win."""
    # real_quick_ratio() bounds ratio() by the lengths alone: against a word much longer than
    # every candidate none can reach the cutoff, and set_seq2 would index every character of
    # it (a 50 MB value took 2 GB and 13 s for no suggestion)
    longest = max(map(len, candidates), default=0)
    if 2 * longest < cutoff * (len(word) + longest):
        return None
    matcher = difflib.SequenceMatcher()
    matcher.set_seq2(word)
    bounded = []
    for x in candidates:
        matcher.set_seq1(x)
        if matcher.real_quick_ratio() >= cutoff:
            bound = matcher.quick_ratio()
            if bound >= cutoff:
                bounded.append((bound, x))
    bounded.sort(reverse=True)
    best: tuple[float, str] | None = None
    for bound, x in bounded:
        if best is not None and bound < best[0]:
            break
        matcher.set_seq1(x)
        score = matcher.ratio()
        if score >= cutoff and (best is None or (score, x) > best):
            best = (score, x)
    return best[1] if best else None


def _num(d: Decimal, f: Field) -> str:
    from dsl.backends.python.runtime import fmt_decimal

    if f.unit == "%":
        return f"{fmt_decimal(d.scaleb(2))}%"
    return f"{fmt_decimal(d)} {f.unit}" if f.unit else fmt_decimal(d)


# ------------------------------------------------------------------ the fast path


def fast_validator(validator: Validator, header: list[str] | None = None, notes: list[str] | None = None):
    """A generated `validate(row, raw, problem)` equal to `validator.validate`, faster
    (dsl/backends/python/rows.py: an inline path for each field's obviously valid spelling,
    this validator for everything else).

    With `header` (a CSV file's columns), `raw` is the row's list of cells, read by position;
    the slow path gets the same dict the generic reader would have built, and validates it
    for that header (`Validator.for_header`: a required column the header lacks rejects every
    row; `notes`, if given, gets the header's problems once). Fields are read by column
    (language §4) and come out by name."""
    from dsl.backends.python.rows import make_validator

    slow = validator.validate
    if header is not None:
        if header:  # (an empty file has no header to find faults in)
            validator = validator.for_header(header)
            if notes is not None:
                notes.extend(validator.header_notes)

        def slow(row, raw, problem):
            return validator.validate(row, dict(zip(header, raw)) if raw is not None else None, problem)
        if validator.header_faults:
            return slow  # every row is rejected
    return make_validator(validator.fields, validator.id_field, validator.duplicates, slow, header,
                          validator.fixtures)
