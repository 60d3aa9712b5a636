"""The formatter's output before comments: `_Line`s, fragments of them, and alignment points.

Receives text pieces from the printer (printer.py and its mixins). Guarantees: a fragment
(`Frag`) is a list of lines whose first line continues whatever line it is appended to, later
lines carrying indents relative to it (`_cat`, `_join`); a line keeps the source offset of the
construct it begins with (None for a tree made up without spans), for merge.py to put the
comments back; `ALIGN` marks where a run of lines with the same tag lines up. Emits nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dsl.front.source import Span

INDENT = "  "
# A `with { }` block or an inline `given { }` stays on one line up to this width.
INLINE_WIDTH = 100
# A declaration longer than this puts its value on the next lines (see `_valued`, decls.py).
MAX_WIDTH = 100


class _Align:
    """An alignment point inside a line: padded so that a run of lines line up."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "ALIGN"


ALIGN = _Align()


@dataclass(slots=True)
class _Line:
    """One output line before comments are merged in.

    `start` is the source offset of the construct the line begins with (None for
    a tree made up without spans); `indent` is relative while a fragment is built
    and absolute once placed; `tag` names the alignment group (bands of a table,
    arms of a match, a run of inputs, measures) or is None.
    """

    indent: int
    parts: list
    start: int | None = None
    tag: str | None = None
    sep: str = " "
    header: bool = False
    end: int | None = None
    trailing: list[str] = field(default_factory=list)
    lead: tuple[str, ...] = ()  # keywords printed before the construct at `start`

    def text(self) -> str:
        return "".join(p for p in self.parts if p is not ALIGN)

    @property
    def opens(self) -> bool:
        return self.text().endswith("{")

    @property
    def closes(self) -> bool:
        return self.text().startswith("}")


# A fragment: the lines an expression or a clause prints as. The first line
# continues whatever line it is appended to; later lines carry relative indents.
Frag = list[_Line]


def _frag(text: str) -> Frag:
    return [_Line(0, [text])]


def _cat(*frags: Frag | str) -> Frag:
    """Concatenate fragments: each one's first line joins the previous one's last."""
    out: Frag = []
    for f in frags:
        if isinstance(f, str):
            f = _frag(f)
        if not out:
            out = [_Line(line.indent, list(line.parts), line.start, line.tag, line.sep) for line in f]
            continue
        last = out[-1]
        first, *rest = f
        last.parts.extend(first.parts)
        if last.start is None:
            last.start = first.start
        if first.tag is not None and last.tag is None:
            last.tag, last.sep = first.tag, first.sep
        base = last.indent
        out.extend(_Line(base + line.indent, list(line.parts), line.start, line.tag, line.sep) for line in rest)
    return out


def _join(frags: list[Frag], sep: str) -> Frag:
    out: Frag = _frag("")
    for i, f in enumerate(frags):
        out = _cat(out, sep, f) if i else _cat(out, f)
    return out


def _single(frag: Frag) -> bool:
    return len(frag) == 1


def _start(span: Span | None) -> int | None:
    return None if span is None else span.start


def _indent(frag: Frag) -> Frag:
    return [_Line(line.indent + 1, line.parts, line.start, line.tag, line.sep, lead=line.lead) for line in frag]


def _lead(frag: Frag, *words: str) -> Frag:
    frag[0].lead = words
    return frag


def _string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
