"""A CSV records file, row by row, as lists of cells: the fast path of `ipl run`.

Receives a path (files.py opens it). Guarantees the header (names trimmed) and, after it,
every record once as `(row, cells, problem)`: rows are numbered from 1 after the header, blank
lines are not records, a row with more cells than the header is cut to the header and has a
problem, a row the csv module cannot read has a problem and no cells. A quote never closed
does not swallow the rest of the file: the record holding it is rejected ("unclosed quote
starting at row N") and reading goes on at the line after the quote. Cells may be of any
length. Emits nothing: a problem of the file as a whole also goes, once, to the `notes` a
caller passes.
"""

from __future__ import annotations

import csv
import itertools
import re
import sys

from dsl.run.records.files import open_text


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
    handle, text = open_text(path)
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
            handle, text = open_text(path)
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
    handle, text = open_text(path)
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
