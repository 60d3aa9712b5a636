"""Expressions as generated Python (language §6, §7; history §15; program-wide figures §16).

A mixin of `Generator` (dsl/backends/python/generator.py): `expr(node, block)` returns the code
of an IR expression, after emitting into `block` whatever statements it needs first (a
definition computed on demand, an `otherwise`'s `try`, a lazy branch). Reads IR nodes only.
"""

from __future__ import annotations

from decimal import Decimal

from dsl.backends.python import runtime
from dsl.backends.python.writer import Block
from dsl.checker.types import Kind
from dsl.ir import nodes as ir
from dsl.ir.nodes import decision_key
from dsl.checker.resolution import HISTORY_FUNCTIONS

# Deeper generated expressions are split into temporaries (Python's parser nests at most 200).
MAX_EXPR_DEPTH = 40


class Expressions:
    """Code for every kind of expression node (a mixin of `Generator`)."""

    def expr(self, e: ir.Expr, b: Block, depth: int = 0) -> str:
        code = self._expr(e, b, depth)
        if depth >= MAX_EXPR_DEPTH and not code.isidentifier():
            t = self.temp()
            b.emit(f"{t} = {code}")
            return t
        return code

    def _expr(self, e: ir.Expr, b: Block, depth: int) -> str:
        d = 0 if depth >= MAX_EXPR_DEPTH else depth + 1
        match e:
            case ir.Literal(value=v) if isinstance(v, bool):
                return "True" if v else "False"
            case ir.Literal(value=v) if isinstance(v, Decimal):
                return self.const(v)
            case ir.Literal(value=v):
                return self.const(v, "S")  # a string, an enum member or a level label
            case ir.Ref(key=key):
                return self.ensure(key, b)
            case ir.Local(name=n):
                return f"a_{n}"
            case ir.Builtin(name=n):
                if n in ("eligible", "reasons"):
                    if self.scope != "record" or self.in_eligibility:
                        raise runtime.Unsupported(f"`{n}` is used before eligibility is known")
                    return n
                if n == "periods_active":
                    return "H.active"
                raise AssertionError(f"unhandled builtin name {n}")
            case ir.Call() | ir.FuncCall():
                return self.call(e, b, d)
            case ir.Unary(op="-", operand=x):
                return f"(-{self.expr(x, b, d)})"
            case ir.Unary(op="not", operand=x):
                return f"(not {self.expr(x, b, d)})"
            case ir.Binary(op="and" | "or"):
                return self.logic(e, b, d)
            case ir.Binary(op="/", left=l, right=r):
                left, right = self.expr(l, b, d), self.expr(r, b, d)
                if self.trace:
                    lt, rt = _operand_text(l), _operand_text(r)
                    site = self.const((self.current, str(e.span), lt, rt, f"{lt} / {rt}"), "S")
                    return f"_div({left}, {right}, {site})"
                return f"({left} / {right})"
            case ir.Binary(op=op, left=l, right=r, order=order) if order is not None:
                # levels compare by band (language §5)
                rank = self.const({lab: i for i, lab in enumerate(order)}, "L")
                return f"({rank}[{self.expr(l, b, d)}] {op} {rank}[{self.expr(r, b, d)}])"
            case ir.Binary(op=op, left=l, right=r):
                return f"({self.expr(l, b, d)} {op} {self.expr(r, b, d)})"
            case ir.Member(operand=x, items=items):
                subject = self.expr(x, b, d)
                values = [self.expr(i, b, d) for i in items]
                return f"({subject} in ({', '.join(values)},))"
            case ir.If():
                return self.if_chain(e, b, depth)
            case ir.Match():
                return self.match(e, b, d)
            case ir.Otherwise(expr=x, fallback=fb):
                t = self.temp()
                b.emit("try:")
                sub = b.child()
                sub.emit(f"{t} = {self.expr(x, sub, d)}")
                if self.trace:
                    sub.emit(f"_ev({{'branch': {self.const(decision_key('otherwise', e, 'not taken'), 'S')}}})")
                b.emit("except _DIVERR as _e:")
                sub = b.child()
                sub.emit("if _not_div(_e): raise")
                sub.emit(f"{t} = {self.expr(fb, sub, d)}")
                if self.trace:
                    sub.emit(f"_ev({{'otherwise': {self.site(e)}, 'def': {self.current!r}}})")
                    sub.emit(f"_ev({{'branch': {self.const(decision_key('otherwise', e, 'taken'), 'S')}}})")
                return t
            case ir.Pool() | ir.Rank():
                # language §16: the period's figure for this record, computed between the two passes
                if self.pw_pass:
                    raise runtime.Unsupported(f"a program-wide figure that depends on another one "
                                              f"(`{e.span.text}`) is not supported by `ipl run`")
                if isinstance(e, ir.Pool):  # every record has a share (0 when `among` leaves it out)
                    return f"PW[{e.site}][0]"
                return f"_pwv(PW, {e.site})"
            case ir.Total():
                raise runtime.Unsupported("`total` as a value is only supported inside `prior(total)`")
            case _:
                raise AssertionError(f"unhandled {type(e).__name__}")

    def call(self, e: ir.Call | ir.FuncCall, b: Block, d: int) -> str:
        if isinstance(e, ir.FuncCall):
            key = e.key
            self.defs_needed.add(key)
            fname = f"f_{key[0]}__{key[1]}" if isinstance(key, tuple) else f"f_{key}"
            return f"{fname}({', '.join(self.expr(a, b, d) for a in e.args)})"
        f = e.func
        if f in HISTORY_FUNCTIONS:
            return self.history_call(e, b, d)
        vals = [self.expr(a, b, d) for a in e.args]
        match f:
            case "min" | "max" if e.order is not None:
                # levels: the lowest / highest label by band
                rank = self.const({lab: i for i, lab in enumerate(e.order)}, "L")
                return f"{f}(({', '.join(vals)},), key={rank}.__getitem__)"
            case "min" | "max" | "abs":
                return f"{f}({', '.join(vals)})"
            case "clamp":
                return f"_clamp({', '.join(vals)})"
            case "round":
                kind = e.args[0].type.kind
                if e.places is None:
                    q = "_Q" if kind is Kind.MONEY else ("_Q_PCT" if kind is Kind.PERCENT else "_ONE")
                else:
                    shift = 2 if kind is Kind.PERCENT else 0
                    q = self.const(Decimal(1).scaleb(-(e.places + shift)))
                return f"({vals[0]}).quantize({q}, rounding=_MODE)"
            case _:
                raise AssertionError(f"unhandled builtin {f}")

    def history_call(self, e: ir.Call, b: Block, d: int) -> str:
        """Language §15: read the partner's history `H` (a missing period raises, `otherwise`
        catches)."""
        if e.func == "streak":
            # the condition first, then the count that ended in the period just before (no
            # count: the partner's previous period is not that one)
            return (f"((_Dec(H.streak_at[{e.site}] + 1) if H.last == H.t - 1 and H.streak_at else _ONE) "
                    f"if {self.expr(e.args[0], b, d)} else _ZERO)")
        n, target = e.n, e.args[0]
        if e.func == "prior":
            if isinstance(target, ir.Total):
                return f"H.prior_total({n})"
            return f"(H.values.get(H.t - {n}) or _missing_period({n}))[{self.slots[target.key]}]"
        if isinstance(target, ir.Total):
            raise runtime.Unsupported(f"`{e.func}(total, ...)` is not supported by `ipl run`: the current total "
                                      "is not known yet")
        current = self.expr(target, b, d)
        return f"H.trailing({self.slots[target.key]}, {n}, {e.func.removeprefix('trailing_')!r}, {current})"


def _operand_text(e: ir.Expr) -> str:
    text = " ".join(e.span.text.split())
    if isinstance(e, (ir.Binary, ir.Otherwise, ir.If)) and not (text.startswith("(") and text.endswith(")")):
        return f"({text})"
    return text
