"""`match` through the type pass: its subject (an enum, a level or a bool), its
arms' patterns — exhaustive, none repeated or unreachable — and the one type of its arms
(a zero arm takes the type of the others, §2a).

A mixin of `Typer` (dsl/checker/typecheck.py). Emits E300 (subject or arm types), E310 (not
exhaustive), E311 (not a member or label of the subject), W103 (an arm never used).
"""

from __future__ import annotations

from dsl.checker.fold import is_zero
from dsl.checker.resolution import suggest
from dsl.checker.types import ERROR, Kind, Type, unify
from dsl.front import ast


class Matches:
    """The type of a `match` (a mixin of `Typer`)."""

    def match(self, e: ast.Match, env, expected: Type | None) -> Type:
        st = self.infer(e.subject, env, None)
        if st is not ERROR and st.kind not in (Kind.ENUM, Kind.LEVEL, Kind.BOOL):
            self.err("E300", f"`match` works on an enum, a level or a bool, but this is {st}", e.subject.span,
                     help="for numbers use a tiers table or `if`")
            st = ERROR
        universe: tuple[str, ...] | None = None
        if st.kind in (Kind.ENUM, Kind.LEVEL):
            universe = st.members
        elif st.kind is Kind.BOOL:
            universe = ("true", "false")
        covered: list[str] = []
        has_else = False
        zeros: list[ast.Expr] = []
        unknown = False  # an unknown member (E311) is most likely the missing one: no E310 too
        result: Type | None = None
        first_arm = None
        for arm in e.arms:
            for pat in arm.patterns:
                if pat.kind == "else":
                    if has_else or (universe is not None and set(covered) >= set(universe)):
                        self.err("W103", "this `else` arm is never used: every case is already covered",
                                 pat.span, help="remove it")
                    has_else = True
                    continue
                label = pat.name if pat.kind == "name" else pat.kind
                if has_else:
                    self.err("W103", f"`{label}` comes after `else` and is never used", pat.span,
                             help="put `else` last")
                    continue
                if universe is None:
                    continue
                if label not in universe:
                    what = "true or false" if st.kind is Kind.BOOL else \
                        ("a member of " if st.kind is Kind.ENUM else "a label of ") + str(st)
                    self.err("E311", f"`{label}` is not {what}", pat.span, help=suggest(label, universe))
                    unknown = True
                    continue
                if label in covered:
                    self.err("W103", f"`{label}` is already covered by an earlier arm", pat.span,
                             help="remove the repeated pattern")
                    continue
                covered.append(label)
            if is_zero(arm.value):
                zeros.append(arm.value)  # §2a: typed by the other arms, below
                continue
            vt = self.infer(arm.value, env, expected if result in (None, ERROR) else result)
            if result is None or result is ERROR:
                result, first_arm = vt, arm
                continue
            u = unify(result, vt)
            if u is None:
                self.err("E300", f"the arms of `match` have different types: {result} (line "
                         f"{first_arm.value.span.line}) and {vt}", arm.value.span,
                         help=self.branch_hint(result, vt, arm.value))
            else:
                result = u
        for z in zeros:
            zt = self.infer(z, env, expected if result in (None, ERROR) else result)
            result = zt if result is None or result is ERROR else result
        if universe is not None and not has_else and not unknown:
            missing = [m for m in universe if m not in covered]
            if missing:
                self.err("E310", f"`match` is not exhaustive: missing {', '.join(f'`{m}`' for m in missing)}",
                         e.subject.span, help="add an arm for each, or an `else -> ...` arm")
        return result if result is not None else ERROR
