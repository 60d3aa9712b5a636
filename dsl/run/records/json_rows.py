"""A JSON records file, element by element: a JSON array of objects (`.json`) or JSON Lines
(`.jsonl`, `.ndjson`).

Receives the file as text (files.py `open_text`). Guarantees every record once as `(row,
object, problem)`, in file order, rows numbered from 1: numbers straight to `Decimal` (never
through float), JSON's `NaN` / `Infinity` as the one marker `NAN` (which the validator
rejects), an element that is not an object a problem. Streamed: a JSON Lines file a line at a
time; an array an element at a time, an element of n bytes costing about 2n bytes of
decoding. A syntax error in an array stops the reading (where the next element starts cannot
be known): its problem says where it is and how much of the file is left unread. Emits
nothing: that stop also goes, once, to the `notes` a caller passes.
"""

from __future__ import annotations

import io
import json
from decimal import Decimal

from dsl.run.records.files import CHUNK


class _NaN:
    """JSON's NaN / Infinity constants, which the validator rejects (one instance, `NAN`).

    Raw records of a multi-period run are pickled to disk and read back (dsl/run/spill.py): the
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


def jsonl_rows(text: io.TextIOBase):
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


def json_rows(text: io.TextIOBase, notes: list[str] | None = None):
    """A JSON array of objects, decoded one element at a time (no whole-file load).

    Each element is decoded where it lies in the buffer. When the buffer ends inside it, the
    buffer grows by as much again as it holds, so that an element of n bytes costs a few
    decodings (about 2n bytes decoded in all), not one per 64 KiB chunk. A syntax error stops
    the reading (where the next element starts cannot be known): its reject, and a summary
    note, say where it is (line and column in the file) and how many bytes were not read.
    """
    decoder = json.JSONDecoder(parse_float=Decimal, parse_int=Decimal, parse_constant=_json_constant)
    b = _Buffer(text)
    first = b.skip_ws()
    if first is None:
        return  # an empty file holds no records
    if first != "[":
        yield 1, None, "a .json records file must hold an array of objects (use .jsonl for one object a line)"
        return
    b.pos += 1
    row = 0
    expect_value = True
    while True:
        ch = b.skip_ws()
        if ch is None:
            yield b.stop(row + 1, len(b.buf), "the file ends before the array is closed", notes)
            return
        if ch == "]" and (expect_value is False or row == 0):
            b.pos += 1
            if b.skip_ws() is not None:
                yield b.stop(row + 1, b.pos, "more text after the end of the array", notes)
            return
        if not expect_value:
            if ch != ",":
                yield b.stop(row + 1, b.pos, "expected `,` or `]` between records", notes)
                return
            b.pos += 1
            expect_value = True
            continue
        while True:
            buf, pos = b.buf, b.pos
            try:
                value, end = decoder.raw_decode(buf, pos)
            except RecursionError:
                yield b.stop(row + 1, pos, "nested too deeply", notes)
                return
            except json.JSONDecodeError as err:
                if _maybe_cut(err, len(buf)) and b.fill(max(CHUNK, len(buf) - pos)):
                    continue  # the element goes on in the rest of the file
                yield b.stop(row + 1, err.pos, err.msg, notes)
                return
            if end == len(buf) and buf[pos] not in "{[\"" and b.fill():
                continue  # a number could go on in the next chunk
            break
        b.pos = end
        row += 1
        expect_value = False
        if not isinstance(value, dict):
            yield row, None, f"a record must be a JSON object, not {_json_kind(value)}"
            continue
        yield row, value, None


class _Buffer:
    """What is held of a JSON file being read: `buf[pos:]` is not decoded yet; `buf[0]` is at
    `line0`, `col0` of the file (an error says where it is)."""

    __slots__ = ("text", "buf", "pos", "eof", "line0", "col0")

    def __init__(self, text: io.TextIOBase):
        self.text = text
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.line0 = self.col0 = 1

    def fill(self, size: int = CHUNK) -> bool:
        """Append `size` more characters (fewer at the end of the file); drop what was read."""
        if self.eof:
            return False
        chunk = self.text.read(size)
        if not chunk:
            self.eof = True
            return False
        buf, pos = self.buf, self.pos
        lines = buf.count("\n", 0, pos)
        if lines:
            self.line0 += lines
            self.col0 = pos - buf.rfind("\n", 0, pos)
        else:
            self.col0 += pos
        self.buf = buf[pos:] + chunk
        self.pos = 0
        return True

    def skip_ws(self) -> str | None:
        """The next character that is not white space (`pos` moved to it), or None at the end."""
        while True:
            buf, pos = self.buf, self.pos
            while pos < len(buf) and buf[pos] in " \t\r\n":
                pos += 1
            self.pos = pos
            if pos < len(buf):
                return buf[pos]
            if not self.fill():
                return None

    def stop(self, row: int, at: int, what: str, notes: list[str] | None):
        """The reject (and the note) that ends the reading at buf[at]."""
        buf = self.buf
        lines = buf.count("\n", 0, at)
        line, col = (self.line0 + lines, at - buf.rfind("\n", 0, at)) if lines else (self.line0, self.col0 + at)
        where = f"line {line}, column {col}"
        left, lines_left = _unread(buf[at:], self.text)
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


def _unread(rest: str, text: io.TextIOBase) -> tuple[int, int]:
    """The bytes and lines of `rest` and of what is left to read of `text`."""
    size, breaks, last = 0, 0, ""
    while rest:
        size += len(rest.encode("utf-8", "surrogateescape"))
        breaks += rest.count("\n")
        last = rest[-1]
        rest = text.read(CHUNK)
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
