"""Test files through the printer: `tests for`, fixtures and tests, in source order.

A mixin of `_Printer` (printer.py). Receives a `TestFile`. Guarantees fixtures and tests in the
order the source interleaves them (the AST holds them apart), a `given` or `with { ... }` on
one line up to `INLINE_WIDTH` unless it has comments inside, one assignment per line
otherwise; `given periods` one period per line. Emits nothing.
"""

from __future__ import annotations

import bisect

from dsl.front import ast
from dsl.front.source import Span
from dsl.tools.fmt.lines import INLINE_WIDTH, Frag, _cat, _frag, _Line, _single, _start, _string
from dsl.tools.fmt.positions import _Positions


class TestFiles:
    """The text of a test file and its fixtures, givens and expects (a mixin of `_Printer`)."""

    def test_file(self, f: ast.TestFile) -> list[_Line]:
        lines = [_Line(0, ["tests for ", _string(f.target)], _start(f.span), header=True)]
        items: list = list(f.fixtures) + list(f.tests)
        if all(i.span is not None for i in items):
            items.sort(key=lambda i: i.span.start)  # the AST splits them; the source interleaves
        for item in items:
            match item:
                case ast.Fixture():
                    lines += self._block(f"fixture {item.name} {{", item.span,
                                         [self._assign(a) for a in item.fields])
                case ast.Test():
                    body = [self._given(g) for g in item.givens] + [self._expect(e) for e in item.expects]
                    lines += self._block(f"test {_string(item.name)} {{", item.span, body)
                case _:
                    raise AssertionError(f"unhandled {type(item).__name__}")
        return lines

    # -- tests
    def _assign(self, a: ast.Assign) -> Frag:
        # the next field may be named `among`, which would join a trailing `pool` (§2a)
        frag = _cat(f"{'param ' if a.is_param else ''}{a.name} = ", self.expr(a.value, among_follows=True))
        return self._start_at(frag, _start(a.span))

    def _overrides(self, head: str, overrides: tuple[ast.Assign, ...], span: Span | None, start: int | None) -> Frag:
        """`HEAD { a = 1, b = 2 }` on one line, or one assignment per line when it has
        comments inside, a `match`, or would pass INLINE_WIDTH."""
        items = [self._assign(a) for a in overrides]
        inline = all(_single(i) for i in items) and not self._has_comment_inside(span)
        if inline:
            body = ", ".join(i[0].text() for i in items)
            text = f"{head} {{ {body} }}" if body else f"{head} {{ }}"
            if len(text) <= INLINE_WIDTH:
                return [_Line(0, [text], start)]
        return self._block(f"{head} {{", span, items, start)

    def _has_comment_inside(self, span: Span | None) -> bool:
        if span is None or self.source is None:
            return False
        pos = _Positions.of(self.source)
        i = bisect.bisect_left(pos.opens, span.start)
        opening = pos.opens[i] if i < len(pos.opens) else span.start
        return pos.comment_between(opening, pos.closing_brace(span))

    def _given(self, g: ast.Given) -> Frag:
        start = _start(g.span)
        if g.periods:
            items = []
            for p in g.periods:
                head = f"{_string(p.period)} -> {p.fixture}"
                if p.overrides:
                    items.append(self._overrides(f"{head} with", p.overrides, p.span, _start(p.span)))
                else:
                    items.append([_Line(0, [head], _start(p.span))])
            return self._block("given periods {", g.span, items, start)
        if g.fixture is not None:
            if g.overrides:
                return self._overrides(f"given {g.fixture} with", g.overrides, g.span, start)
            return [_Line(0, [f"given {g.fixture}"], start)]
        return self._overrides("given", g.overrides, g.span, start)

    def _expect(self, e: ast.Expect) -> Frag:
        head = "expect " + (f"in {_string(e.period)} " if e.period is not None else "")
        if e.error is not None:
            frag = _frag(f"{head}error {_string(e.error)}")
        else:
            frag = _cat(f"{head}{'clawback ' if e.clawback else ''}{e.name} = ", self.expr(e.value))
        return self._start_at(frag, _start(e.span))
