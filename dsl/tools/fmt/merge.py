"""Comments, blank lines and alignment: the printer's lines made into the text of the file.

Receives the printer's `_Line`s (with their source offsets) and the comments the parser
collected. Guarantees every comment survives with its text (trailing spaces aside): a full-line
comment stays before the line of the construct it preceded, a trailing comment at the end of
the line of the construct it followed (one per line; the others become full-line comments
before the next line); at most one blank line where the source had one or more, one after the
header, none after a `{` or before a `}`; runs of consecutive lines with the same tag and
indent aligned at their `ALIGN` points, and the trailing comments of consecutive lines in one
column. The text ends with a newline; no line ends with a space. Emits nothing.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from dsl.front import ast
from dsl.front.source import SourceFile
from dsl.tools.fmt.lines import ALIGN, INDENT, _Line
from dsl.tools.fmt.positions import _Positions

_BLANK_RE = re.compile(r"\n[ \t\f]*\n")


@dataclass(slots=True)
class _Entry:
    """A line of output: a printed line, a full-line comment, or a blank line."""

    kind: str  # "line" | "comment" | "blank"
    indent: int = 0
    line: _Line | None = None
    text: str = ""
    header: bool = False


class _Merger:
    """Puts the comments back, keeps blank-line grouping, aligns runs, renders text."""

    def __init__(self, source: SourceFile | None, comments: tuple[ast.Comment, ...]):
        self.source = source
        self.comments = sorted(comments, key=lambda c: c.span.start) if source is not None else []
        self.pos = _Positions.of(source) if source is not None else None

    def render(self, lines: list[_Line]) -> str:
        entries = self._merge(lines)
        return _render(entries)

    def _merge(self, lines: list[_Line]) -> list[_Entry]:
        if self.pos is None:
            return self._with_blanks(lines, {}, {})
        text = self.pos.text
        # every line needs a start to place comments; inherit when made up
        last = 0
        for line in lines:
            if line.start is None:
                line.start = last
            last = line.start
        # a line that begins a construct begins at the `(`s written around it, and at
        # the keyword that introduces it (`when`, `else`, `otherwise`)
        for i in range(1, len(lines)):
            p = self._back_over_parens(lines[i].start, lines[i - 1].start)
            for word in reversed(lines[i].lead):
                q = self.pos.code_end_before(p)
                if q - len(word) > lines[i - 1].start and text[q - len(word):q] == word:
                    p = self._back_over_parens(q - len(word), lines[i - 1].start)
            lines[i].start = p
        for i in range(1, len(lines)):  # keep starts in source order for the bisections
            lines[i].start = max(lines[i].start, lines[i - 1].start)
        for i, line in enumerate(lines):
            nxt = lines[i + 1].start if i + 1 < len(lines) else len(text)
            line.end = max(line.start, self.pos.code_end_before(max(nxt, line.start)))
        starts = [line.start for line in lines]
        reach = []  # reach[k]: the furthest end among lines[:k + 1]
        for line in lines:
            reach.append(max(line.end, reach[-1]) if reach else line.end)
        before: dict[int, list[ast.Comment]] = {}
        trailing: dict[int, list[ast.Comment]] = {}
        for c in self.comments:
            o = c.span.start
            line_start = text.rfind("\n", 0, o) + 1
            full = not text[line_start:o].strip()
            if not full:
                i = bisect.bisect_right(starts, o) - 1
                if i >= 0:
                    trailing.setdefault(i, []).append(c)
                    continue
            idx = bisect.bisect_right(reach, o)  # the first line that ends after the comment
            before.setdefault(idx, []).append(c)
        # one trailing comment per line; the others become full-line comments before the next line
        for i in sorted(trailing):
            extra = trailing[i][1:]
            trailing[i] = trailing[i][:1]
            if extra:
                before.setdefault(i + 1, [])
                before[i + 1] = sorted(extra + before[i + 1], key=lambda c: c.span.start)
        return self._with_blanks(lines, before, trailing)

    def _back_over_parens(self, p: int, floor: int) -> int:
        text = self.pos.text
        while True:
            q = self.pos.code_end_before(p)
            if q > floor + 1 and text[q - 1] == "(":
                p = q - 1
            else:
                return p

    def _with_blanks(self, lines, before, trailing) -> list[_Entry]:
        text = self.pos.text if self.pos is not None else ""
        out: list[_Entry] = []
        seen_end = 0
        header_done = False

        def blank_before(start: int | None) -> bool:
            if self.pos is None or start is None or start <= seen_end:
                return False
            return _BLANK_RE.search(text, seen_end, start) is not None

        def add_blank(is_header: bool, closes: bool, wanted: bool) -> None:
            nonlocal header_done
            if not out:
                return
            if not is_header and not header_done and any(e.header for e in out):
                header_done = True
                wanted = True  # one blank line after the header
            if not wanted or closes:
                return
            if out[-1].kind == "blank":
                return
            if out[-1].kind == "line" and out[-1].line.opens:
                return
            out.append(_Entry("blank"))

        for i, line in enumerate(lines + [None]):
            for c in before.get(i, []):
                if line is None:
                    indent, header = 0, False
                else:
                    indent, header = line.indent + (1 if line.closes else 0), line.header
                add_blank(header, False, blank_before(c.span.start))
                out.append(_Entry("comment", indent, text=c.text.rstrip(), header=header))
                seen_end = max(seen_end, c.span.end)
            if line is None:
                break
            add_blank(line.header, line.closes, blank_before(line.start))
            line.trailing = [c.text.rstrip() for c in trailing.get(i, [])]
            out.append(_Entry("line", line.indent, line=line, header=line.header))
            if line.end is not None:
                seen_end = max(seen_end, line.end)
            for c in trailing.get(i, []):
                seen_end = max(seen_end, c.span.end)
        return out


def _render(entries: list[_Entry]) -> str:
    # alignment: runs of consecutive lines with the same tag and indent
    i = 0
    texts: list[str] = []
    while i < len(entries):
        e = entries[i]
        if e.kind == "line" and e.line.tag is not None and ALIGN in e.line.parts:
            j = i
            while (j < len(entries) and entries[j].kind == "line" and entries[j].line.tag == e.line.tag
                   and entries[j].indent == e.indent and ALIGN in entries[j].line.parts):
                j += 1
            texts += _align([entries[k].line for k in range(i, j)])
            i = j
            continue
        texts.append(_plain_entry(e))
        i += 1
    code = [INDENT * e.indent + t if e.kind != "blank" else "" for e, t in zip(entries, texts)]
    # trailing comments of consecutive lines start in one column
    i = 0
    while i < len(entries):
        if not (entries[i].kind == "line" and entries[i].line.trailing):
            i += 1
            continue
        j = i
        while j < len(entries) and entries[j].kind == "line" and entries[j].line.trailing:
            j += 1
        width = max(len(code[k].rstrip()) for k in range(i, j))
        for k in range(i, j):
            code[k] = code[k].rstrip().ljust(width) + "  " + entries[k].line.trailing[0]
        i = j
    return "\n".join(line.rstrip() for line in code) + "\n"


def _plain_entry(e: _Entry) -> str:
    if e.kind == "comment":
        return e.text
    if e.kind == "blank":
        return ""
    return _cells_text(_cells(e.line), e.line.sep, None)


def _cells(line: _Line) -> list[str]:
    cells, cur = [], []
    for p in line.parts:
        if p is ALIGN:
            cells.append("".join(cur).rstrip())
            cur = []
        else:
            cur.append(p)
    cells.append("".join(cur))
    return cells


def _cells_text(cells: list[str], sep: str, widths: list[int] | None) -> str:
    out = []
    for k, cell in enumerate(cells):
        if k < len(cells) - 1:
            w = widths[k] if widths is not None and k < len(widths) else len(cell)
            out.append(cell.ljust(w) + sep)
        else:
            out.append(cell)
    return "".join(out)


def _align(lines: list[_Line]) -> list[str]:
    rows = [_cells(line) for line in lines]
    widths: list[int] = []
    for row in rows:
        for k, cell in enumerate(row[:-1]):
            if k == len(widths):
                widths.append(0)
            widths[k] = max(widths[k], len(cell))
    return [_cells_text(row, line.sep, widths) for row, line in zip(rows, lines)]
