"""Source files and spans.

Receives raw bytes (or text) and guarantees a `SourceFile` whose text has no BOM
and only `\\n` line endings. Undecodable bytes and NUL bytes are not errors
here: `decode` reports them as a `DecodeProblem` and the caller turns it into a
diagnostic (E100), so that no input ever raises.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class DecodeProblem:
    """Why a file's bytes are not policy text, and where (byte offset)."""

    message: str
    offset: int


@dataclass(eq=False, slots=True)
class SourceFile:
    """The text of one file, with its path as the user named it."""

    path: str
    text: str
    _line_starts: list[int] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        starts = [0]
        find = self.text.find
        at = find("\n")
        while at >= 0:
            starts.append(at + 1)
            at = find("\n", at + 1)
        self._line_starts = starts

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based line and column of a character offset."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self._line_starts, offset) - 1
        return line + 1, offset - self._line_starts[line] + 1

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its newline."""
        if line < 1 or line > len(self._line_starts):
            return ""
        start = self._line_starts[line - 1]
        end = self.text.find("\n", start)
        return self.text[start:] if end < 0 else self.text[start:end]

    def span(self, start: int, end: int) -> Span:
        return Span(source=self, start=start, end=end)

    def whole(self) -> Span:
        return Span(source=self, start=0, end=0)


@dataclass(frozen=True, slots=True)
class Span:
    """A range of characters in a source file; line and column on demand."""

    source: SourceFile = field(compare=False, repr=False)
    start: int
    end: int

    @property
    def path(self) -> str:
        return self.source.path

    @property
    def line(self) -> int:
        return self.source.line_col(self.start)[0]

    @property
    def column(self) -> int:
        return self.source.line_col(self.start)[1]

    @property
    def end_line(self) -> int:
        return self.source.line_col(max(self.start, self.end))[0]

    @property
    def end_column(self) -> int:
        return self.source.line_col(max(self.start, self.end))[1]

    @property
    def text(self) -> str:
        return self.source.text[self.start:self.end]

    def to(self, other: Span) -> Span:
        """The span from the start of this one to the end of `other`."""
        return Span(source=self.source, start=self.start, end=max(self.end, other.end))

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


def decode(path: str, data: bytes) -> tuple[SourceFile, DecodeProblem | None]:
    """Decode policy bytes: UTF-8 with or without BOM; CRLF and CR become LF."""
    problem: DecodeProblem | None = None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        good = data[: err.start].decode("utf-8")
        problem = DecodeProblem(
            f"the file is not UTF-8 text (byte 0x{data[err.start]:02x} at byte offset {err.start})",
            len(good),
        )
        text = good
    nul = text.find("\x00")
    if problem is None and nul >= 0:
        problem = DecodeProblem("the file holds a NUL byte: it looks like a binary file, not IPL text", nul)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if problem is not None:
        # keep offsets meaningful for the caret: cut at the first bad character
        text = text[: min(problem.offset, len(text))]
    return SourceFile(path, text), problem
