"""The printer: a parsed file to its canonical text (`format_file`), and text to text.

Receives a parsed file (`ast.PolicyFile`, `ast.ModuleFile` or `ast.TestFile`) with the comments
the parser collected, and the `SourceFile` it came from (for the written digits of numbers and
the positions of comments and blank lines; an AST made up without spans formats too, from its
values alone). Guarantees the text of the layout of docs/fmt.md (the package docstring lists
what is kept). `_Printer` turns the tree into lines, one mixin per part of the language
(decls.py, testfile.py, exprs.py) over the block helpers here; merge.py puts the comments back.
Emits no diagnostics of its own: `format_source` and `format_text` parse first and pass on the
parser's E100 and E201, and format only a file that parsed without errors.
"""

from __future__ import annotations

from dsl.front import ast
from dsl.front.diagnostics import Diagnostics
from dsl.front.source import SourceFile, Span
from dsl.front.syntax import parse_source
from dsl.tools.fmt.decls import Declarations
from dsl.tools.fmt.exprs import Expressions
from dsl.tools.fmt.lines import Frag, _cat, _Line, _start
from dsl.tools.fmt.merge import _Merger
from dsl.tools.fmt.positions import _Positions
from dsl.tools.fmt.testfile import TestFiles


def format_source(source: SourceFile, diags: Diagnostics) -> str | None:
    """Parse and format one source; None (with diagnostics) when it does not parse cleanly."""
    tree = parse_source(source, diags)
    if tree is None or diags.has_errors:
        return None
    return format_file(tree, source)


def format_text(text: str, path: str = "<text>", diags: Diagnostics | None = None) -> str | None:
    """Convenience for tests and tools: format a string (CRLF and a BOM are accepted)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    source = SourceFile(path, text.replace("\r\n", "\n").replace("\r", "\n"))
    return format_source(source, diags if diags is not None else Diagnostics())


def format_file(file: ast.File, source: SourceFile | None = None) -> str:
    """The canonical text of a parsed file (comments from `file.comments`)."""
    if source is None:
        source = _source_of(file)
    printer = _Printer(source)
    match file:
        case ast.PolicyFile():
            lines = printer.policy(file)
        case ast.ModuleFile():
            lines = printer.module(file)
        case ast.TestFile():
            lines = printer.test_file(file)
        case _:
            raise AssertionError(f"unhandled {type(file).__name__}")
    return _Merger(source, file.comments).render(lines)


def _source_of(file: ast.File) -> SourceFile | None:
    span = getattr(file, "span", None)
    return None if span is None else span.source


class _Printer(Declarations, TestFiles, Expressions):
    """AST → lines (with alignment points and source positions); comments come later."""

    def __init__(self, source: SourceFile | None):
        self.text = source.text if source is not None else None
        self.source = source

    # -- blocks: shared by the mixins
    def _close(self, span: Span | None) -> int | None:
        """The offset of the `}` that closes a block whose span is given."""
        if span is None or self.text is None:
            return None
        return _Positions.of(self.source).closing_brace(span)

    def _block(self, head: Frag | str, span: Span | None, items: list[Frag], start: int | None = None) -> list[_Line]:
        """`HEAD {`, the items one per line indented, `}`; a whole-lines fragment."""
        head_frag = _cat(head) if isinstance(head, str) else head
        if head_frag[0].start is None:
            head_frag[0].start = _start(span) if start is None else start
        out = list(head_frag)
        for item in items:
            out += [_Line(line.indent + 1, line.parts, line.start, line.tag, line.sep) for line in item]
        out.append(_Line(0, ["}"], self._close(span)))
        return out

    @staticmethod
    def _start_at(frag: Frag, start: int | None) -> Frag:
        if frag[0].start is None or (start is not None and frag[0].start > start):
            frag[0].start = start
        return frag
