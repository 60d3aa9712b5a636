"""Constant folding and the zero literal: what the type pass computes of constant expressions.

Receives AST literals and operators; guarantees a value where one can be folded exactly, None
where not (a division by zero, an overflow). Emits nothing.
"""

from __future__ import annotations

from decimal import Decimal, DivisionByZero, InvalidOperation

from dsl.checker.types import Type
from dsl.front import ast


def numeric(t: Type | None) -> bool:
    """Whether `t` is a numeric type."""
    return t is not None and t.is_numeric


def is_zero(e: ast.Expr) -> bool:
    """A literal whose value is zero (`0`, `0.00`, `0%`, `-0`): §2a, it has no unit."""
    match e:
        case ast.Number(value=v) | ast.Percent(value=v):
            return v == 0
        case ast.Unary(op="-", operand=x):
            return is_zero(x)
        case _:
            return False


def fold(op: str, a: Decimal, b: Decimal) -> Decimal | None:
    """`a op b` for the checker's constants; None where it cannot be folded (a division by zero)."""
    try:
        match op:
            case "+":
                return a + b
            case "-":
                return a - b
            case "*":
                return a * b
            case "/":
                return None if b == 0 else a / b
            case _:
                raise AssertionError(f"unhandled operator {op}")
    except (InvalidOperation, DivisionByZero, OverflowError):
        return None


def fold_builtin(f: str, values: list[Decimal]) -> Decimal | None:
    """A builtin of constant arguments, folded."""
    match f:
        case "min":
            return min(values)
        case "max":
            return max(values)
        case "abs":
            return abs(values[0])
        case "clamp":
            x, lo, hi = values
            return min(max(x, lo), hi)
        case _:
            raise AssertionError(f"unhandled builtin {f}")
