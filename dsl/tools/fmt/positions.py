"""Where the comments and the real `{` `}` tokens are in one source text.

Receives a `SourceFile`. Guarantees one scan per source (`_Positions.of` caches the last few):
the spans of the comments and the offsets of the braces that are code (not in a comment or a
string), and the questions the printer and the comment merger ask of them (the `}` that closes
a block, a comment inside a span, the end of the code before an offset). Emits nothing.
"""

from __future__ import annotations

import bisect

from dsl.front.source import SourceFile, Span


class _Positions:
    """Where the comments and the real `{` `}` tokens are in one source text."""

    _cache: dict[int, tuple[SourceFile, _Positions]] = {}

    def __init__(self, source: SourceFile):
        self.text = source.text
        comments: list[tuple[int, int]] = []
        opens: list[int] = []
        closes: list[int] = []
        text = self.text
        i, n = 0, len(text)
        while i < n:
            ch = text[i]
            if ch == "#":
                j = text.find("\n", i)
                j = n if j < 0 else j
                comments.append((i, j))
                i = j
            elif ch == '"':
                j = i + 1
                while j < n and text[j] != '"' and text[j] != "\n":
                    j += 2 if text[j] == "\\" else 1
                i = j + 1
            else:
                if ch == "}":
                    closes.append(i)
                elif ch == "{":
                    opens.append(i)
                i += 1
        self.comments = comments
        self.comment_starts = [c[0] for c in comments]
        self.closes = closes
        self.opens = opens

    @classmethod
    def of(cls, source: SourceFile) -> _Positions:
        hit = cls._cache.get(id(source))
        if hit is not None and hit[0] is source:
            return hit[1]
        pos = cls(source)
        if len(cls._cache) > 64:
            cls._cache.clear()
        cls._cache[id(source)] = (source, pos)
        return pos

    def closing_brace(self, span: Span) -> int:
        i = bisect.bisect_left(self.closes, span.end) - 1
        if i >= 0 and self.closes[i] >= span.start:
            return self.closes[i]
        return max(span.start, span.end - 1)

    def comment_between(self, start: int, end: int) -> bool:
        i = bisect.bisect_left(self.comment_starts, start)
        return i < len(self.comment_starts) and self.comment_starts[i] < end

    def code_end_before(self, pos: int) -> int:
        """The end of the last code character before `pos` (skipping blanks and comments)."""
        text = self.text
        p = min(pos, len(text))
        while p > 0:
            if text[p - 1] in " \t\f\n":
                p -= 1
                continue
            i = bisect.bisect_right(self.comment_starts, p - 1) - 1
            if i >= 0 and self.comments[i][0] <= p - 1 < self.comments[i][1]:
                p = self.comments[i][0]
                continue
            break
        return p
