"""The AST builder's rules for expressions: one method per grammar rule (grammar/ipl.lark),
named after it (spec §3, §5, §6, §7, §15).

Receives, like build.py, the children of one node of the parse tree, already built. Guarantees
the expression nodes of dsl/front/ast.py: literals with exact values, names, calls (`rank` and
`percentile` as `ast.Rank`, §15), `if`, `match`, `pool`, unary and binary operators, chains of
`+`, `*`, `and`, `or` and `otherwise` left-associated, a parenthesised expression spanning its
parentheses. Emits: E100 (a reserved word used as a name, a number literal beyond 34
significant digits, an unknown escape, `among` outside `rank` and `percentile`), E303 (`rank`
or `percentile` given other than one value).
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from dsl.front import ast
from dsl.front.build import Rules, Token
from dsl.front.words import RANK_CALLS


class ExpressionRules(Rules):
    """Expressions, from literals up to `otherwise`."""

    def number(self, meta, children):
        tok = children[0]
        return ast.Number(value=self._decimal(tok.value, tok), span=self._tok(tok))

    def percent(self, meta, children):
        tok = children[0]
        return ast.Percent(value=self._decimal(tok.value[:-1], tok).scaleb(-2), span=self._tok(tok))

    def money(self, meta, children):
        num, cur = children
        return ast.Money(amount=self._decimal(num.value, num), currency=str(cur),
                         span=self.source.span(num.start_pos, cur.end_pos))

    def signed_literal(self, meta, children):
        minus, value = children
        if isinstance(value, str):  # a NUMBER or PERCENT token (lark's tokens are str)
            value = self.number(meta, [value]) if value.type == "NUMBER" else self.percent(meta, [value])
        if minus is not None:
            return ast.Unary(op="-", operand=value, span=self._span(meta))
        return value

    def string(self, meta, children):
        return ast.String(value=self._string(children[0]), span=self._tok(children[0]))

    def true(self, meta, children):
        return ast.Bool(value=True, span=self._span(meta))

    def false(self, meta, children):
        return ast.Bool(value=False, span=self._span(meta))

    def name(self, meta, children):
        tok = children[0]
        return ast.Name(name=self._name(tok), span=self._tok(tok))

    def qualified(self, meta, children):
        mod, name = children
        return ast.Qualified(module=self._name(mod), name=self._name(name), span=self._span(meta))

    def total_ref(self, meta, children):
        return ast.TotalRef(span=self._span(meta))

    def call(self, meta, children):
        func, *args = children
        args = tuple(a for a in args if a is not None)
        if func.value in RANK_CALLS:
            return self._rank(meta, func, args, None)
        return ast.Call(func=self._name(func), args=args, span=self._span(meta))

    def call_among(self, meta, children):
        func, value, among = children
        if func.value not in RANK_CALLS:
            self._err(f"`among` belongs to `rank(...)` and `percentile(...)`, not to `{func.value}`",
                      self._tok(func), help=f"write `{func.value}(...)` with its arguments separated by commas")
        return self._rank(meta, func, (value,), among)

    def _rank(self, meta, func: Token, args: tuple, among):
        """`rank(x [among c])`, `percentile(...)` (§15): one value, an optional condition."""
        if len(args) != 1:
            self._err(f"`{func.value}` takes one value, got {len(args)}", self._span(meta), code="E303",
                      help=f"write `{func.value}(VALUE)` or `{func.value}(VALUE among CONDITION)`")
            args = args[:1] or (ast.Number(value=Decimal(0), span=self._span(meta)),)
        return ast.Rank(kind=str(func.value), value=args[0], among=among, span=self._span(meta))

    def pool_name(self, meta, children):
        # `pool` alone is a name (§2a): the keyword only starts `pool AMOUNT by SHARE`
        return ast.Name(name="pool", span=self._span(meta))

    def qualified_call(self, meta, children):
        mod, func, *args = children
        return ast.Call(func=self._name(func), module=self._name(mod),
                        args=tuple(a for a in args if a is not None), span=self._span(meta))

    def paren(self, meta, children):
        # the parentheses belong to the expression's text (explanations quote spans)
        return dataclasses.replace(children[0], span=self._span(meta))

    def list(self, meta, children):
        return ast.ListLit(items=tuple(c for c in children if c is not None), span=self._span(meta))

    def if_expr(self, meta, children):
        cond, then, other = children
        return ast.If(cond=cond, then=then, otherwise=other, span=self._span(meta))

    def match_expr(self, meta, children):
        subject, *arms = children
        return ast.Match(subject=subject, arms=tuple(arms), span=self._span(meta))

    def arm(self, meta, children):
        *patterns, value = children
        return ast.Arm(patterns=tuple(patterns), value=value, span=self._span(meta))

    def pat_name(self, meta, children):
        return ast.Pattern(kind="name", name=self._name(children[0]), span=self._span(meta))

    def pat_true(self, meta, children):
        return ast.Pattern(kind="true", span=self._span(meta))

    def pat_false(self, meta, children):
        return ast.Pattern(kind="false", span=self._span(meta))

    def pat_else(self, meta, children):
        return ast.Pattern(kind="else", span=self._span(meta))

    def pool(self, meta, children):
        amount, share, among = children
        return ast.Pool(amount=amount, share=share, among=among, span=self._span(meta))

    def neg(self, meta, children):
        _minus, operand = children
        return ast.Unary(op="-", operand=operand, span=self._span(meta))

    def not_op(self, meta, children):
        return ast.Unary(op="not", operand=children[0], span=self._span(meta))

    def compare(self, meta, children):
        left, op, right = children
        return ast.Binary(op=str(op), left=left, right=right, op_span=self._tok(op), span=self._span(meta))

    def member(self, meta, children):
        operand, *items = children
        return ast.Member(operand=operand, items=tuple(i for i in items if i is not None),
                          span=self._span(meta))

    def _chain(self, meta, children, ops: str | None):
        result = children[0]
        i = 1
        while i < len(children):
            if ops is None:
                op_tok, right = children[i], children[i + 1]
                op, op_span = str(op_tok), self._tok(op_tok)
                i += 2
            else:
                op, right, op_span = ops, children[i], result.span
                i += 1
            if op == "otherwise":
                result = ast.Otherwise(expr=result, fallback=right, span=result.span.to(right.span))
            else:
                result = ast.Binary(op=op, left=result, right=right, op_span=op_span,
                                    span=result.span.to(right.span))
        return result

    def sum(self, meta, children):
        return self._chain(meta, children, None)

    def product(self, meta, children):
        return self._chain(meta, children, None)

    def or_expr(self, meta, children):
        return self._chain(meta, children, "or")

    def and_expr(self, meta, children):
        return self._chain(meta, children, "and")

    def otherwise(self, meta, children):
        return self._chain(meta, children, "otherwise")
