"""Comparisons through the type pass (language §6.1; §4a): `<`, `<=`, `>`, `>=`, `==`, `!=`,
and the items of `x in (...)`; enum members and level labels beside an enum or a level.

A mixin of `Typer` (dsl/checker/typecheck.py). Emits E300 (incomparable types; enum members
are unordered), E301 (unit confusion, with the fix of `types.unit_hint`), E311 (not a member
or label of the other side), E200 for an unknown name beside `==`/`!=`/`in` that is not an
enum member (names.py left it to this pass, which knows the other side's type).
"""

from __future__ import annotations

from dsl.checker.fold import is_zero
from dsl.checker.resolution import suggest
from dsl.checker.text import article
from dsl.checker.types import BOOL, ERROR, TEXT, Kind, Type, comparable, is_unit_confusion, unit_hint
from dsl.front import ast


class Comparisons:
    """The type of a comparison and of the items of a membership test (a mixin of `Typer`)."""

    def compare(self, e: ast.Binary, env) -> Type:
        tags = [x for x in (e.left, e.right) if isinstance(x, ast.Name) and id(x) in self.res.unknown_tags]
        if tags:  # §4a: an unknown name beside an enum or a level is E311, else E200
            other = e.right if e.left is tags[0] else e.left
            ot = self.infer(other, env, None) if len(tags) == 1 else TEXT
            for tag in tags:
                self.types[id(tag)] = ERROR
                self.unknown_tag(tag, ot)
            return BOOL
        if is_zero(e.left) and not is_zero(e.right):
            rt, lt = self.branches(e.right, e.left, env, None)
            return self.compared(e, lt, rt)
        left_first = not self._is_tag(e.left) or self._is_tag(e.right)
        if left_first:
            lt = self.infer(e.left, env, None)
            rt = self.infer(e.right, env, lt)
        else:
            rt = self.infer(e.right, env, None)
            lt = self.infer(e.left, env, rt)
        return self.compared(e, lt, rt)

    def compared(self, e: ast.Binary, lt: Type, rt: Type) -> Type:
        if lt is ERROR or rt is ERROR:
            return BOOL
        if lt.kind in (Kind.ENUM, Kind.LEVEL) and isinstance(e.right, ast.Name) and \
                self._is_tag(e.right) and e.op in ("==", "!="):
            self.member_of(e.right, rt, lt)
            return BOOL
        if rt.kind in (Kind.ENUM, Kind.LEVEL) and isinstance(e.left, ast.Name) and \
                self._is_tag(e.left) and e.op in ("==", "!="):
            self.member_of(e.left, lt, rt)
            return BOOL
        if comparable(e.op, lt, rt):
            return BOOL
        if is_unit_confusion(lt.kind, rt.kind):
            culprit, ct = self.culprit(e, lt, rt)
            self.err("E301", f"cannot compare {lt} with {rt}", culprit.span, label=f"this is {article(ct)}",
                     help=unit_hint(e.op, lt.kind, rt.kind, e.left.span.text, e.right.span.text,
                                    self.currency or "USD"))
        elif lt.kind is Kind.ENUM and rt.kind is Kind.ENUM and lt.members == rt.members:
            self.err("E300", f"enum members are unordered: `{e.op}` cannot compare them", e.op_span,
                     help="use `==`, `!=`, `in (...)` or `match`; a tiers table of labels is ordered")
        else:
            hint = None
            for tagged, other in ((lt, e.right), (rt, e.left)):
                if tagged.kind in (Kind.ENUM, Kind.LEVEL) and isinstance(other, ast.String) \
                        and other.value in tagged.members:
                    hint = f"members and labels are written without quotes: `{other.value}`"
            self.err("E300", f"cannot compare {lt} with {rt}", e.op_span, help=hint)
        return BOOL

    def _is_tag(self, e: ast.Expr) -> bool:
        ref = self.refs.get(id(e)) if isinstance(e, ast.Name) else None
        return ref is not None and ref.kind in ("member", "label")

    def unknown_tag(self, item: ast.Expr, t: Type) -> bool:
        """§4a: an unknown name compared with an enum or level is E311, else E200 (names.py
        left it to this pass, which knows the other side's type). True when it was one."""
        if not isinstance(item, ast.Name) or id(item) not in self.res.unknown_tags:
            return False
        if t.kind in (Kind.ENUM, Kind.LEVEL):
            what = "a member of " if t.kind is Kind.ENUM else "a label of "
            self.err("E311", f"`{item.name}` is not {what}{t}", item.span, help=suggest(item.name, t.members))
        elif t is not ERROR:
            self.err("E200", f"unknown name `{item.name}`", item.span, help=self.res.unknown_tags[id(item)])
        return True

    def member_of(self, item: ast.Expr, it: Type, t: Type) -> None:
        """An item of `x in (...)` or the right side of `x == item` for an enum or level x."""
        if self.unknown_tag(item, t):
            return
        if t is ERROR or it is ERROR:
            return
        if t.kind in (Kind.ENUM, Kind.LEVEL) and isinstance(item, ast.Name):
            ref = self.refs.get(id(item))
            if ref is not None and ref.kind in ("member", "label") and ref.name not in t.members:
                self.err("E311", f"`{ref.name}` is not {'a member of ' + str(t) if t.kind is Kind.ENUM else 'a label of ' + str(t)}",
                         item.span, help=suggest(ref.name, t.members))
                return
        if not comparable("==", t, it):
            self.err("E300", f"cannot compare {t} with {it}", item.span)
