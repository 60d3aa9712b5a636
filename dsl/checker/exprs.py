"""Expressions through the type pass: literals, names, operators and their units (language §6.1,
the table of dsl/checker/types.py), branches, `otherwise`, program-wide figures; zero has no
unit (§2a).

A mixin of `Typer` (dsl/checker/typecheck.py): `infer` is the one entry, one case per kind
of expression; comparisons are compare.py, `match` matches.py, calls calls.py. Emits E300,
E301 (unit confusion, with the fix of `types.unit_hint`), E302 (currency), E303 (a def not
called; history in a single-period policy), E403 (a pool's amount not constant).
"""

from __future__ import annotations

from dsl.checker.currency import minor_units
from dsl.checker.fold import fold, is_zero, numeric
from dsl.checker.text import article, fmt_number
from dsl.checker.types import (
    BOOL, COUNT, ERROR, LIST, MEMBERSHIP, MONEY, NEGATION, NUMBER, PERCENT, TEXT,
    Kind, Type, arithmetic, unify, unit_hint,
)
from dsl.front import ast
from dsl.front.build import MAX_DIGITS

COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")
_VERBS = {"+": ("add", "to"), "-": ("subtract", "from"), "*": ("multiply", "by"), "/": ("divide", "by")}


class Expressions:
    """The type of every kind of expression (a mixin of `Typer`)."""

    def infer(self, e: ast.Expr, env: dict[str, Type], expected: Type | None) -> Type:
        t = self._infer(e, env, expected)
        self.types[id(e)] = t
        return t

    def _infer(self, e: ast.Expr, env: dict[str, Type], expected: Type | None) -> Type:
        match e:
            case ast.Number(value=v):
                self.constants[id(e)] = v
                return expected if v == 0 and numeric(expected) else NUMBER  # §2a: zero has no unit
            case ast.Percent(value=v):
                self.constants[id(e)] = v
                return expected if v == 0 and numeric(expected) else PERCENT
            case ast.Money(amount=v, currency=cur):
                if self.currency is not None and cur != self.currency:
                    self.err("E302", f"money in {cur}, but the policy's currency is {self.currency}", e.span,
                             help=f"write `{e.span.text[: -len(cur)].strip()} {self.currency}`")
                self.money_digits(e, v, cur)
                self.constants[id(e)] = v
                return MONEY
            case ast.String():
                return TEXT
            case ast.Bool():
                return BOOL
            case ast.Name():
                return self.name(e, env, expected)
            case ast.Qualified():
                return self.qualified(e)
            case ast.TotalRef():
                return MONEY
            case ast.Call():
                return self.call(e, env, expected)
            case ast.Unary(op="-"):
                return self.negate(e, env, expected)
            case ast.Unary(op="not", operand=x):
                self.condition(x, env, "the operand of `not`")
                return BOOL
            case ast.Binary(op=op) if op in ("and", "or"):
                self.condition(e.left, env, f"the left side of `{op}`")
                self.condition(e.right, env, f"the right side of `{op}`")
                return BOOL
            case ast.Binary(op=op) if op in COMPARISONS:
                return self.compare(e, env)
            case ast.Binary():
                return self.arith(e, env)
            case ast.Member():
                return self.member(e, env)
            case ast.If(cond=c, then=a, otherwise=b):
                self.condition(c, env, "an `if` condition")
                at, bt = self.branches(a, b, env, expected)
                u = unify(at, bt)
                if u is None:
                    self.err("E300", f"the branches of `if` have different types: {at} and {bt}", b.span,
                             help=self.branch_hint(at, bt, b))
                    return ERROR
                return u  # never folded: which branch runs depends on data
            case ast.Match():
                return self.match(e, env, expected)
            case ast.Otherwise():
                return self.otherwise(e, env, expected)
            case ast.Pool():
                return self.pool(e, env)
            case ast.Rank(kind=kind, value=v, among=among):
                self.mark_program_wide()
                vt = self.infer(v, env, None)
                if vt is not ERROR and not vt.is_numeric:
                    self.err("E300", f"`{kind}` orders numbers, but this is {vt}", v.span)
                if among is not None:
                    self.condition(among, env, "an `among` condition")
                return COUNT if kind == "rank" else PERCENT
            case ast.ListLit(items=items):
                for item in items:
                    self.infer(item, env, TEXT)
                self.err("E300", "a list is only meaningful as the expected `reasons` of a test", e.span)
                return ERROR
            case _:
                raise AssertionError(f"unhandled {type(e).__name__}")

    def money_digits(self, e: ast.Money, v, cur: str) -> None:
        """E100: a money literal must fit IPL's 34 significant digits once rounded to its
        currency's minor unit (`999…9 USD` of 33 nines is 35 digits as `999…9.00`)."""
        minor = minor_units(cur)
        digits = max(v.adjusted() + 1, 1) + minor if v else 0
        if digits > MAX_DIGITS:
            self.err("E100", f"money literal has {digits} significant digits at {cur}'s minor unit "
                             f"({minor} after the point); IPL computes with {MAX_DIGITS}", e.span,
                     help="write a smaller amount")

    def qualified(self, e: ast.Qualified) -> Type:
        """A module's definition: `growth.rate`."""
        ref = self.refs.get(id(e))
        if ref is None:
            return ERROR
        d = self.res.modules[ref.module].definitions[ref.name]
        key = f"{ref.module}.{ref.name}"
        if key in self.param_values:
            self.constants[id(e)] = self.param_values[key]
        return d.type

    def negate(self, e: ast.Unary, env, expected: Type | None) -> Type:
        x = e.operand
        t = self.infer(x, env, expected)
        if t is ERROR:
            return ERROR
        if not t.is_numeric:
            self.err("E300", f"cannot negate {article(t)}", e.span)
            return ERROR
        if id(x) in self.constants:
            self.constants[id(e)] = -self.constants[id(x)]
        return Type(NEGATION[t.kind])

    def member(self, e: ast.Member, env) -> Type:
        """`x in (a, b)`: x an enum, a level, text or an id; each item of its type."""
        x = e.operand
        t = self.infer(x, env, None)
        if t is not ERROR and t.kind not in MEMBERSHIP:
            self.err("E300", f"`in (...)` needs an enum, level, text or id, but this is {t}", x.span,
                     help="for numbers compare with `>=` and `<=`")
            t = ERROR
        for item in e.items:
            it = self.infer(item, env, t)
            self.member_of(item, it, t)
        return BOOL

    def otherwise(self, e: ast.Otherwise, env, expected: Type | None) -> Type:
        a, b = e.expr, e.fallback
        at, bt = self.branches(a, b, env, expected)
        u = unify(at, bt)
        if u is None:
            self.err("E300", f"`otherwise` must give the same type as the expression before it: "
                     f"{at}, not {bt}", b.span, help=self.branch_hint(at, bt, b))
            return ERROR
        if id(a) in self.constants:
            self.constants[id(e)] = self.constants[id(a)]
        return u

    def pool(self, e: ast.Pool, env) -> Type:
        """`pool AMOUNT by SHARE among COND` (language §16): a constant amount of money shared."""
        amount, share, among = e.amount, e.share, e.among
        self.mark_program_wide()
        at = self.infer(amount, env, MONEY)
        if at is not ERROR and not at.is_numeric:
            self.err("E300", f"a pool's amount must be money, not {at}", amount.span)
            at = ERROR
        elif not self.is_constant(amount):
            self.err("E403", "a pool's amount must be constant", amount.span,
                     help="use a literal or a param")
        st = self.infer(share, env, None)
        if st is not ERROR and st.kind not in (Kind.MONEY, Kind.NUMBER, Kind.COUNT):
            self.err("E300", f"a pool's share must be money, number or count, not {st}", share.span)
        if among is not None:
            self.condition(among, env, "an `among` condition")
        return at

    def mark_program_wide(self) -> None:
        if self.current is not None:
            self.direct_program_wide.add(self.current)

    def branch_hint(self, a: Type, b: Type, expr: ast.Expr) -> str | None:
        if a.kind is Kind.MONEY and b.kind in (Kind.NUMBER, Kind.COUNT) and isinstance(expr, ast.Number):
            return f"write `{expr.span.text} {self.currency or 'USD'}`"
        if a.kind is Kind.PERCENT and isinstance(expr, ast.Number):
            return f"write `{fmt_number(expr.value * 100)}%`"
        return None

    def name(self, e: ast.Name, env, expected: Type | None) -> Type:
        ref = self.refs.get(id(e))
        if ref is None:
            return ERROR
        match ref.kind:
            case "local":
                return env.get(ref.name, ERROR)
            case "definition":
                kind = self.res.kinds[ref.name]
                if kind == "def":
                    self.err("E303", f"`{ref.name}` is a function: call it with arguments", e.span)
                    return ERROR
                if kind == "param" and ref.name not in self.param_values:
                    self.check_decl(ref.name)
                if ref.name in self.param_values:
                    self.constants[id(e)] = self.param_values[ref.name]
                return self.decl_type(ref.name)
            case "member":
                if expected is not None and expected.kind is Kind.ENUM and ref.name in expected.members:
                    return expected
                enums = self.res.enum_members[ref.name]
                return Type(Kind.ENUM, enums[0])
            case "label":
                return Type(Kind.LEVEL, self.res.levels[ref.table], ref.table)
            case "builtin":
                if ref.name == "periods_active":
                    self.history_use(e, "periods_active")
                    return COUNT
                return BOOL if ref.name == "eligible" else LIST
            case _:
                raise AssertionError(f"unhandled ref kind {ref.kind}")

    def history_use(self, e, what: str) -> None:
        if self.current is not None:
            self.direct_history.add(self.current)
        if not self.multi_period and not self.is_module:
            self.err("E303", f"`{what}` reads earlier periods, but this policy has a single period",
                     e.span, help="add an input of type `period` to make the policy multi-period")

    def branches(self, a: ast.Expr, b: ast.Expr, env, expected: Type | None) -> tuple[Type, Type]:
        """The types of two expressions that must agree (branches, fallbacks, the operands of a
        comparison or a sum): each is inferred knowing the other's, and a zero literal (§2a)
        takes the type of the other side."""
        if is_zero(a) and not is_zero(b):
            bt = self.infer(b, env, expected)
            return self.infer(a, env, bt if bt is not ERROR else expected), bt
        at = self.infer(a, env, expected)
        return at, self.infer(b, env, expected if at is ERROR else at)

    def culprit(self, e: ast.Binary, lt: Type, rt: Type) -> tuple[ast.Expr, Type]:
        """The operand to rewrite: the bare number beside money or a percent."""
        loose = (Kind.NUMBER, Kind.COUNT)
        if lt.kind in loose and rt.kind in (Kind.MONEY, Kind.PERCENT):
            return e.left, lt
        return e.right, rt

    def arith(self, e: ast.Binary, env) -> Type:
        if e.op in "+-":  # §2a: `revenue - 0` is money
            lt, rt = self.branches(e.left, e.right, env, None)
        else:
            lt = self.infer(e.left, env, None)
            rt = self.infer(e.right, env, None)
        if lt is ERROR or rt is ERROR:
            return ERROR
        verb, prep = _VERBS[e.op]
        if not lt.is_numeric or not rt.is_numeric:
            bad, bt = (e.left, lt) if not lt.is_numeric else (e.right, rt)
            self.err("E300", f"cannot {verb} {rt} {prep} {lt}" if e.op in "+-" else
                     f"cannot {verb} {lt} {prep} {rt}", bad.span, label=f"this is {article(bt)}")
            return ERROR
        kind = arithmetic(e.op, lt.kind, rt.kind)
        if kind is None:
            msg = (f"cannot {verb} {rt} {prep} {lt}" if e.op in "+-" else f"cannot {verb} {lt} {prep} {rt}")
            culprit, ct = self.culprit(e, lt, rt)
            if e.op in "*/":
                culprit, ct = e.right, rt
            self.err("E301", msg, culprit.span, label=f"this is {article(ct)}",
                     help=unit_hint(e.op, lt.kind, rt.kind, e.left.span.text, e.right.span.text,
                                    self.currency or "USD"))
            return ERROR
        a, b = self.constants.get(id(e.left)), self.constants.get(id(e.right))
        if a is not None and b is not None:
            value = fold(e.op, a, b)
            if value is not None:
                self.constants[id(e)] = value
        return Type(kind)
