"""The type vocabulary of IPL and the operator table of spec §4.1, as data.

Passes look types up here; nothing here walks a tree. The fix hints of §4.1
live beside the table they explain (`unit_hint`). tests/test_types.py walks
`ARITHMETIC` row by row.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Kind(str, Enum):
    MONEY = "money"
    PERCENT = "percent"
    NUMBER = "number"
    COUNT = "count"
    BOOL = "bool"
    TEXT = "text"
    ID = "id"
    PERIOD = "period"
    ENUM = "enum"
    LEVEL = "level"
    LIST = "list"  # `reasons`, a list of text
    ERROR = "error"  # an expression whose type could not be found; suppresses cascades


@dataclass(frozen=True, slots=True)
class Type:
    kind: Kind
    members: tuple[str, ...] = ()  # enum members, or level labels in band order
    name: str | None = None  # the level table's name

    def __str__(self) -> str:
        if self.kind is Kind.ENUM:
            return f"enum({', '.join(self.members)})"
        if self.kind is Kind.LEVEL:
            return f"level {self.name}"
        if self.kind is Kind.LIST:
            return "list of text"
        return self.kind.value

    @property
    def is_numeric(self) -> bool:
        return self.kind in NUMERIC


MONEY = Type(Kind.MONEY)
PERCENT = Type(Kind.PERCENT)
NUMBER = Type(Kind.NUMBER)
COUNT = Type(Kind.COUNT)
BOOL = Type(Kind.BOOL)
TEXT = Type(Kind.TEXT)
ID = Type(Kind.ID)
PERIOD = Type(Kind.PERIOD)
LIST = Type(Kind.LIST)
ERROR = Type(Kind.ERROR)

NUMERIC = frozenset({Kind.MONEY, Kind.PERCENT, Kind.NUMBER, Kind.COUNT})

# Type names a declaration may write (`input x : money`); a level is written by its table's name.
BUILTIN_TYPES: dict[str, Type] = {
    "money": MONEY, "percent": PERCENT, "number": NUMBER, "count": COUNT, "bool": BOOL,
    "text": TEXT, "id": ID, "period": PERIOD,
}

M, P, N, C = Kind.MONEY, Kind.PERCENT, Kind.NUMBER, Kind.COUNT

# §4.1, one row per allowed (operator, left, right) → result. Every pair not here is an error.
ARITHMETIC: dict[tuple[str, Kind, Kind], Kind] = {
    ("+", M, M): M, ("-", M, M): M,
    ("+", P, P): P, ("-", P, P): P,
    ("+", N, N): N, ("-", N, N): N, ("+", N, C): N, ("-", N, C): N, ("+", C, N): N, ("-", C, N): N,
    ("+", C, C): C, ("-", C, C): N,
    ("*", M, P): M, ("*", P, M): M, ("*", M, N): M, ("*", N, M): M, ("*", M, C): M, ("*", C, M): M,
    ("*", P, P): P, ("*", P, N): P, ("*", N, P): P, ("*", P, C): P, ("*", C, P): P,
    ("*", N, N): N, ("*", N, C): N, ("*", C, N): N, ("*", C, C): C,
    ("/", M, M): P, ("/", P, P): P, ("/", C, C): P,
    ("/", N, N): N, ("/", N, C): N, ("/", C, N): N,
    ("/", M, N): M, ("/", M, C): M, ("/", P, N): P, ("/", P, C): P,
}

# `-x`: same type, a count becomes a number.
NEGATION: dict[Kind, Kind] = {M: M, P: P, N: N, C: N}

ORDERED = frozenset({M, P, N, C, Kind.LEVEL, Kind.PERIOD})
EQUATABLE = frozenset({M, P, N, C, Kind.LEVEL, Kind.PERIOD, Kind.BOOL, Kind.TEXT, Kind.ID, Kind.ENUM})
MEMBERSHIP = frozenset({Kind.ENUM, Kind.LEVEL, Kind.TEXT, Kind.ID})


def arithmetic(op: str, left: Kind, right: Kind) -> Kind | None:
    """The result kind of `left op right`, or None when §4.1 has no such row."""
    return ARITHMETIC.get((op, left, right))


def comparable(op: str, left: Type, right: Type) -> bool:
    """§4.1: operands of the same type, where number and count mix; levels are ordered."""
    if Kind.ERROR in (left.kind, right.kind):
        return True
    ordering = op in ("<", "<=", ">", ">=")
    if {left.kind, right.kind} <= {N, C}:
        return True
    if left.kind != right.kind:
        return False
    if left.kind is Kind.LEVEL:
        return left.name == right.name
    if left.kind is Kind.ENUM:
        return not ordering and left.members == right.members
    return left.kind in (ORDERED if ordering else EQUATABLE)


def unify(a: Type, b: Type) -> Type | None:
    """The one type of two branches (`if`, `match`, `otherwise`, bands), or None.

    Number and count unify to number; an ERROR branch takes the other's type.
    """
    if a.kind is Kind.ERROR:
        return b
    if b.kind is Kind.ERROR:
        return a
    if a == b:
        return a
    if {a.kind, b.kind} <= {N, C}:
        return NUMBER
    return None


UNIT_KINDS = frozenset({M, P, N, C})


def is_unit_confusion(left: Kind, right: Kind) -> bool:
    """Both operands numeric but of units that do not combine this way: E301, not E300."""
    return left in UNIT_KINDS and right in UNIT_KINDS


def unit_hint(op: str, left: Kind, right: Kind, left_text: str, right_text: str,
              currency: str) -> str | None:
    """The suggested fix of §4.1 for a unit mistake, in the user's own words."""
    if op in ("+", "-"):
        if left is M and right is P:
            return f"did you mean `{left_text} * (100% {op} {right_text})`?"
        if left is P and right is M:
            return f"did you mean `{right_text} * (100% {op} {left_text})`?"
        if left is M and right in (N, C):
            return f"add money to money: write `{_as_money(right_text, currency)}`"
        if right is M and left in (N, C):
            return f"add money to money: write `{_as_money(left_text, currency)}`"
        if left in (N, C) and right is P:
            return f"add percent to percent: write `{_as_percent(left_text)} {op} {right_text}`"
        if left is P and right in (N, C):
            return f"add percent to percent: write `{left_text} {op} {_as_percent(right_text)}`"
    if op in ("<", "<=", ">", ">=", "==", "!="):
        if left is M and right in (N, C):
            return f"compare money with money: write `{_as_money(right_text, currency)}`"
        if right is M and left in (N, C):
            return f"compare money with money: write `{_as_money(left_text, currency)}`"
        if left is P and right in (N, C):
            return f"compare percent with percent: write `{_as_percent(right_text)}`"
        if right is P and left in (N, C):
            return f"compare percent with percent: write `{_as_percent(left_text)}`"
        if {left, right} == {M, P}:
            return "a percent is a rate: multiply it by an amount to get money"
    if op == "*" and left is M and right is M:
        return "money times money has no meaning: multiply money by a percent or a number"
    if op == "/" and right is M and left is not M:
        return "only money divides by money (giving a percent ratio)"
    return None


def _as_money(text: str, currency: str) -> str:
    digits = text.replace("_", "")
    try:
        whole, _, frac = digits.partition(".")
        grouped = f"{int(whole):_}" if whole.isdigit() else whole
        return f"{grouped}{'.' + frac if frac else ''} {currency}"
    except ValueError:
        return f"{text} {currency}"


def _as_percent(text: str) -> str:
    from decimal import Decimal, InvalidOperation

    try:
        value = Decimal(text.replace("_", "")) * 100
    except InvalidOperation:
        return f"{text}%"
    return f"{value.normalize():f}%"


def assignable(actual: Type, expected: Type, constant=None) -> bool:
    """May a value of `actual` stand where `expected` is declared (E304, E303, E700)?

    Equal types; a count where a number is declared; a constant whole number >= 0
    (a literal like `3`) where a count is declared. ERROR is compatible with all.
    """
    if Kind.ERROR in (actual.kind, expected.kind):
        return True
    if actual == expected:
        return True
    if expected.kind is Kind.NUMBER and actual.kind is Kind.COUNT:
        return True
    if expected.kind is Kind.COUNT and actual.kind is Kind.NUMBER and constant is not None:
        return constant >= 0 and constant == constant.to_integral_value()
    return False
