"""Policies and modules through the printer: the header, then each declaration.

A mixin of `_Printer` (printer.py). Receives a `PolicyFile` or `ModuleFile`. Guarantees the
header fields in their source order (else version, currency, period, rounding), declarations in
source order, each in the layout of docs/fmt.md: the runs of inputs, bands and measures marked
for alignment, a block's items one per line, and a value past `MAX_WIDTH` on the next lines
(an `if` chain broken before each `else`, an `otherwise` chain before each `otherwise`). Emits
nothing.

`decl` is one `case` per declaration kind (STYLE.md, dispatch): long because the language has
that many kinds.
"""

from __future__ import annotations

from dsl.front import ast
from dsl.tools.fmt.exprs import OR, OTHERWISE, _leading_name
from dsl.tools.fmt.lines import (
    ALIGN, INDENT, MAX_WIDTH, Frag, _cat, _indent, _lead, _Line, _single, _start, _string,
)


class Declarations:
    """The text of the header and every kind of declaration (a mixin of `_Printer`)."""

    # -- files
    def policy(self, f: ast.PolicyFile) -> list[_Line]:
        h = f.header
        first = _Line(0, ["policy ", _string(h.name)], _start(h.span), header=True)
        lines = [first]
        order = [k for k, _ in h.field_spans] or ["version", "currency", "period", "rounding"]
        for key in order:
            value = getattr(h, key)
            if value is None:
                continue
            shown = _string(value) if key == "version" else value
            span = h.field_span(key) if h.field_spans else None
            lines.append(_Line(1, [f"{key} {shown}"], _start(span), header=True))
        return lines + self.decls(f.decls)

    def module(self, f: ast.ModuleFile) -> list[_Line]:
        return [_Line(0, [f"module {f.name}"], _start(f.span), header=True)] + self.decls(f.decls)

    def decls(self, decls: tuple[ast.Decl, ...]) -> list[_Line]:
        out: list[_Line] = []
        for d in decls:
            out += self.decl(d)
        return out

    # -- declarations
    def decl(self, d: ast.Decl) -> list[_Line]:
        start = _start(d.span)
        match d:
            case ast.Use(name=name):
                return [_Line(0, [f"use {name}"], start)]
            case ast.Input(name=name, type=t, range=rng, default=default, column=column):
                tail: list = [": ", self.type_ref(t)]
                if rng is not None:
                    lo = "" if rng.lo is None else self.flat(rng.lo)
                    hi = "" if rng.hi is None else self.flat(rng.hi)
                    tail.append(f" in {lo}..{hi}")
                frag = _cat([_Line(0, [f"input {name}", ALIGN], start, tag="input")], "".join(tail))
                if default is not None:
                    frag = _cat(frag, " = ", self.expr(default))
                if column is not None:  # §23.2: `column` comes last
                    frag = _cat(frag, f" column {_string(column)}")
                return frag
            case ast.Param(name=name, type=t, value=value):
                return self._valued(f"param {name} : {self.type_ref(t)} =", value, start)
            case ast.Metric(name=name, type=t, value=value):
                typed = "" if t is None else f" : {self.type_ref(t)}"
                return self._valued(f"metric {name}{typed} =", value, start)
            case ast.Def(name=name, params=params, returns=returns, body=body):
                ps = ", ".join(f"{p.name} : {self.type_ref(p.type)}" for p in params)
                return self._valued(f"def {name}({ps}) -> {self.type_ref(returns)} =", body, start)
            case ast.Tiers(name=name, key=key, mode=mode, bands=bands, mode_written=written):
                head = _cat(f"tiers {name} on ", self.expr(key), f" {mode} {{" if written else " {")
                return self._block(head, d.span, [self._band(b) for b in bands], start)
            case ast.Scorecard(name=name, measures=measures):
                items = [self._measure(m) for m in measures]
                for item, nxt in zip(items, items[1:]):
                    # a measure starting with `(` or `-` would continue the previous one's
                    # last expression (a call, a subtraction): the comma ends it
                    if nxt[0].text().startswith(("(", "-")):
                        item[-1].parts.append(",")
                return self._block(f"scorecard {name} {{", d.span, items, start)
            case ast.Eligibility(requires=requires):
                return self._block("eligibility {", d.span, [self._modifier(r) for r in requires], start)
            case ast.Component(kind=kind, name=name, value=value, modifiers=mods):
                lines = self._valued(f"{kind} {name} =", value, start)
                for m in mods:
                    lines += [_Line(line.indent + 1, line.parts, line.start, line.tag, line.sep)
                              for line in self._modifier(m)]
                return lines
            case ast.Clawback(component=name, within=within, when=when, recover=recover):
                lines = self._start_at(_cat(f"clawback {name} within ", self.expr(within),
                                            _periods(within)), start)
                if when is not None:
                    lines += _indent(_lead(self._start_at(_cat("when ", self.expr(when)), _start(when.span)), "when"))
                if recover is not None:
                    lines += _indent(_lead(self._start_at(_cat("recover ", self.expr(recover)), _start(recover.span)),
                                           "recover"))
                return lines
            case ast.Total(items=items):
                return self._block("total {", d.span, [self._modifier(i) for i in items], start)
            case ast.Program(budgets=budgets):
                items = [self._start_at(_cat("budget ", self.expr(b.amount), " per period"), _start(b.span))
                         for b in budgets]
                return self._block("program {", d.span, items, start)
            case _:
                raise AssertionError(f"unhandled {type(d).__name__}")

    def _valued(self, head: str, value: ast.Expr, start: int | None) -> Frag:
        """`HEAD = VALUE` on one line; past MAX_WIDTH the value goes on the next lines,
        indented, with a long `if` chain broken before each `else` and a long
        `otherwise` chain before each `otherwise`."""
        frag = self._start_at(_cat(head + " ", self.expr(value)), start)
        if not _single(frag) or len(frag[0].text()) <= MAX_WIDTH:
            return frag
        body = self._wrapped(value, MAX_WIDTH - len(INDENT))
        return [_Line(0, [head], start)] + _indent(body)

    def _wrapped(self, e: ast.Expr, width: int) -> Frag:
        one = self._start_at(self.expr(e), _start(e.span))
        if not _single(one) or len(one[0].text()) <= width:
            return one
        match e:
            case ast.If():
                out: Frag = []
                prefix = ""
                while isinstance(e, ast.If):
                    line = self._start_at(_cat(f"{prefix}if ", self.expr(e.cond), " then ", self.expr(e.then)),
                                          _start(e.span))
                    out += _lead(line, "else") if prefix else line
                    prefix = "else "
                    e = e.otherwise
                out += _lead(self._start_at(_cat("else ", self.expr(e)), _start(e.span)), "else")
                return out
            case ast.Otherwise():
                chain = []
                while isinstance(e, ast.Otherwise):
                    chain.append(e.fallback)
                    e = e.expr
                out = self._start_at(self._operand(e, OTHERWISE), _start(e.span))
                for fallback in reversed(chain):
                    out += _lead(self._start_at(_cat("otherwise ", self._operand(fallback, OR)),
                                                _start(fallback.span)), "otherwise")
                return out
            case _:
                return one

    def type_ref(self, t: ast.TypeRef) -> str:
        if t.name == "enum" and t.members:
            return "enum(" + ", ".join(t.members) + ")"
        return t.name

    def _band(self, b: ast.Band) -> Frag:
        frag = _cat(f"{b.kind} ", self.expr(b.threshold), " ")
        frag[-1].parts.append(ALIGN)
        frag = _cat(frag, "-> ", self.expr(b.value))
        frag[0].tag = "band"
        return self._start_at(frag, _start(b.span))

    def _measure(self, m: ast.Measure) -> Frag:
        # a measure of a value named `cap` would read as the cap of the measure before it
        metric = _cat("(", self._bare(m.metric), ")") if _leading_name(m.metric) == "cap" else self.expr(m.metric)
        cells = [metric, _cat("weight ", self.expr(m.weight)),
                 _cat("target ", self.expr(m.target, among_follows=m.cap is None))]
        if m.cap is not None:
            cells.append(_cat("cap ", self.expr(m.cap, among_follows=True)))
        frag = cells[0]
        for cell in cells[1:]:
            frag[-1].parts.append(ALIGN)
            frag = _cat(frag, cell)
        frag[0].tag, frag[0].sep = "measure", "  "
        return self._start_at(frag, _start(m.span))

    def _modifier(self, m: ast.Modifier) -> Frag:
        match m:
            case ast.Require(cond=cond, reason=reason):
                frag = _cat("require ", self.expr(cond), f" else {_string(reason)}")
            case ast.Floor(value=value, recoverable=rec):
                frag = _cat("floor ", self.expr(value), " recoverable" if rec else "")
            case ast.Cap(value=value):
                frag = _cat("cap ", self.expr(value))
            case ast.Hold(portion=p, until=u, within=w):
                frag = _cat("hold ", self.expr(p), " until ", self.expr(u), " within ", self.expr(w), _periods(w))
            case _:
                raise AssertionError(f"unhandled {type(m).__name__}")
        return self._start_at(frag, _start(m.span))


def _periods(n: ast.Expr) -> str:
    # `within 1 period` reads as English; any other count says `periods`.
    return " period" if isinstance(n, ast.Number) and n.value == 1 else " periods"
