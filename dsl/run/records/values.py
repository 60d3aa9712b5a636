"""One input's raw value → its validated value, or the reason it is rejected (spec §9, §13,
§16; v0.2 §2a, §23.4).

Receives an input as the reader needs it (`Field`) and raw values: CSV cells (text) or JSON
values (a `Decimal` for a number, `NAN` for `NaN` / `Infinity`). Guarantees, per kind:

- money, number, percent, count: text must be a plain decimal (`-`, ASCII digits, `.`,
  surrounding spaces trimmed), a JSON number is read as JSON writes it, and either becomes a
  finite `Decimal` of at most 34 significant digits (§9) within the declared range; a percent
  is read as a fraction (`12%` or `0.12`), and without `%` a whole number other than 0, 1, -1
  is rejected as a guess unless the declared range reaches it (the percent rule, §23.4);
- bool: true/false, yes/no, 1/0; enum and level: a member, with a "did you mean" that costs
  the same however many members there are (spelling.py); text, id, period: UTF-8 text (an id
  and a period trimmed, never blank).

A value that does not validate raises `BadValue`, whose message is the reject's reason and
shows the value briefly (at most 40 characters). Emits no diagnostics.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from dsl.run.records.json_rows import NAN
from dsl.run.records.spelling import Spelling

# §9: a value that does not fit 34 significant digits cannot be exact.
MAX_DIGITS = 34
BOOLS = {"true": True, "false": False, "yes": True, "no": False, "1": True, "0": False}


@dataclass(frozen=True, slots=True)
class Field:
    """One `input` as the reader needs it."""

    name: str  # the policy's name: the key of the validated record, and of every output
    kind: str  # money | percent | number | count | bool | text | id | enum | level | period
    members: tuple[str, ...] = ()  # enum members or level labels
    lo: Decimal | None = None
    hi: Decimal | None = None
    default: object = None  # the validated default value, or None when the input is required
    has_default: bool = False
    unit: str = ""  # how a bound is shown: "USD", "%", ""
    # §2a: the CSV column or JSON key the value is read from, exactly as written in the file
    # (`input x : money column "X"`); rejects name it. "" means the same as `name`.
    column: str = ""

    def __post_init__(self) -> None:
        if not self.column:
            object.__setattr__(self, "column", self.name)


class BadValue(Exception):
    """A raw value that does not validate; the message is the reject reason."""


def has_surrogates(text: str) -> bool:
    """Whether `text` holds undecodable bytes (lone surrogates: the readers' surrogateescape)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def id_text(raw) -> str | None:
    """A raw id (a CSV cell or a JSON value) as the text records are told apart by: trimmed, a
    JSON number as its digits; None when there is none (blank, null, NaN, an object, a bool)."""
    if raw is None or raw is NAN or isinstance(raw, (dict, list, bool)):
        return None
    if isinstance(raw, Decimal):
        return format(raw, "f")
    text = str(raw).strip()
    return text or None


def _show(value) -> str:
    if isinstance(value, str):
        if has_surrogates(value):
            return "bytes that are not UTF-8 text"
        return repr(value if len(value) <= 40 else value[:37] + "...")
    if value is NAN:
        return "NaN"
    if isinstance(value, Decimal):
        text = str(value)
        return text if len(text) <= 40 else text[:37] + "..."
    if isinstance(value, dict):
        return "the object " + _brief(value)
    if isinstance(value, list):
        return "the array " + _brief(value)
    return json.dumps(value) if isinstance(value, bool) else str(value)


def _brief(value, width: int = 40) -> str:
    """A JSON value written in at most `width` characters (`...` where it is cut)."""
    parts: list[str] = []
    size = 0

    def put(text: str) -> bool:
        nonlocal size
        parts.append(text)
        size += len(text)
        return size <= width  # each level writes a character first, so the depth stays small

    def walk(v) -> bool:
        if isinstance(v, dict):
            if not put("{"):
                return False
            for i, (k, x) in enumerate(v.items()):
                if (i and not put(", ")) or not put(json.dumps(k[:width]) + ": ") or not walk(x):
                    return False
            return put("}")
        if isinstance(v, list):
            if not put("["):
                return False
            for i, x in enumerate(v):
                if (i and not put(", ")) or not walk(x):
                    return False
            return put("]")
        if v is None or isinstance(v, bool):
            return put(json.dumps(v))
        if isinstance(v, str):
            return put(json.dumps(v[:width]))
        return put("NaN" if v is NAN else str(v))

    walk(value)
    text = "".join(parts)
    return text if len(text) <= width else text[: width - 3] + "..."


# §14 of docs/language.md: the one way a number is written in a record (a CSV cell, a JSON
# string, a `--set` value): an optional `-`, ASCII digits, and a `.` with ASCII digits after it.
_DECIMAL_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?\Z")


def parse_decimal(value) -> Decimal:
    """Text or a JSON number → a finite Decimal of at most 34 significant digits (§9, §16).

    Text must be a plain decimal (`_DECIMAL_TEXT`, surrounding spaces trimmed); a JSON number
    is read as JSON writes it, an exponent included.
    """
    if isinstance(value, Decimal):
        return _exact(value, value)
    if isinstance(value, str):
        text = value.strip()
        if _DECIMAL_TEXT.match(text) is None:
            raise BadValue(_not_decimal(value, text))
        return _exact(Decimal(text), value)
    if value is NAN:
        raise BadValue("NaN is not a number")
    raise BadValue(f"{_show(value)} is not a number")


def _not_decimal(value: str, text: str) -> str:
    """Why `text` is not a plain decimal: not a number at all, not finite, too large, or a
    number written another way (`1e5`, `+5`, `.5`, `1_000`, other scripts' digits)."""
    if not text or has_surrogates(text):
        return f"{_show(value)} is not a number"
    try:
        d = Decimal(text)
    except (InvalidOperation, ValueError):
        return f"{_show(value)} is not a number"
    try:
        d = _exact(d, value)
    except BadValue as bad:
        return str(bad)
    return f"{_show(value)} is not a decimal number: write {format(d, 'f')} (digits with an optional - and .)"


def _exact(d: Decimal, value) -> Decimal:
    """`d` if it is finite and holds in 34 digits (§9), else the reason (`value` is shown)."""
    if not d.is_finite():
        raise BadValue(f"{_show(value)} is not a finite number")
    if d.is_zero():
        return Decimal(0)
    if d.adjusted() >= MAX_DIGITS:
        raise BadValue(f"{_show(value)} is too large (at most {MAX_DIGITS} digits)")
    t = d.as_tuple()
    digits, exponent = t.digits, t.exponent
    if len(digits) > MAX_DIGITS or exponent < -MAX_DIGITS:
        zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
        if exponent + zeros < -MAX_DIGITS:
            raise BadValue(f"{_show(value)} has more than {MAX_DIGITS} decimal places")
        if len(digits) - zeros > MAX_DIGITS:
            raise BadValue(f"{_show(value)} has more than {MAX_DIGITS} significant digits")
    return d


def converter_of(f: Field, typed: bool = False):
    """The function raw value → validated value of one input; `typed`: values of a test file."""
    match f.kind:
        case "money" | "number":
            if f.lo is None and f.hi is None:
                return parse_decimal
            ranged = _ranged(f)
            return lambda v: ranged(parse_decimal(v))
        case "percent":
            return _percent(f, typed)
        case "count":
            return _count(f)
        case "bool":
            return _boolean
        case "enum" | "level":
            return _member(f)
        case "text" | "id" | "period":
            return _text(f.kind)
        case _:
            raise AssertionError(f"unhandled input kind {f.kind}")


def _ranged(f: Field):
    """The check of the input's declared range: the value itself, or the reason."""
    def ranged(d: Decimal) -> Decimal:
        if f.lo is not None and d < f.lo:
            raise BadValue(f"{_num(d, f)} is below the minimum {_num(f.lo, f)}")
        if f.hi is not None and d > f.hi:
            raise BadValue(f"{_num(d, f)} is above the maximum {_num(f.hi, f)}")
        return d
    return ranged


def _percent(f: Field, typed: bool):
    ranged = _ranged(f)

    def percent(v):
        if v.__class__ is str:
            text = v.strip()
            if text.endswith("%"):
                return ranged(parse_decimal(text[:-1]).scaleb(-2))
        d = parse_decimal(v)
        # §2a, §23.4: without `%`, a whole value other than 0, 1, -1 is a guess, unless the
        # declared range reaches it read as a fraction
        if d != d.to_integral_value() or -1 <= d <= 1 or typed or _reaches(f, d):
            return ranged(d)
        raise BadValue(_whole_percent(v, d))
    return percent


def _count(f: Field):
    ranged = _ranged(f)

    def count(v):
        d = parse_decimal(v)
        if d != d.to_integral_value():
            raise BadValue(f"{_show(v)} is not a whole number (a count)")
        if d < 0:
            raise BadValue(f"{_show(v)} is negative (a count is at least 0)")
        return ranged(d.quantize(Decimal(1)))
    return count


def _boolean(v):
    if isinstance(v, bool):
        return v
    if isinstance(v, Decimal) and v in (0, 1):
        return v == 1
    if isinstance(v, str):
        got = BOOLS.get(v.strip().lower())
        if got is not None:
            return got
    raise BadValue(f"{_show(v)} is not a bool (write true/false, yes/no or 1/0)")


def _member(f: Field):
    members = f.members
    member_set = frozenset(members)
    spelling = Spelling(members)
    if len(members) <= 20:
        expected = f" (expected one of {', '.join(members)})"
    else:
        expected = f" (expected one of {', '.join(members[:10])}, ... {len(members):,} members in all)"

    def member(v):
        if isinstance(v, str) and v in member_set:
            return v
        text = v.strip() if isinstance(v, str) else None
        if text in member_set:
            return text
        hint = spelling.closest(text or "")
        raise BadValue(f"{_show(v)} is not a member of {f.name}{f' (did you mean {hint!r}?)' if hint else expected}")
    return member


def _text(kind: str):
    def text(v):
        if isinstance(v, Decimal):
            return format(v, "f")
        if not isinstance(v, str):
            raise BadValue(f"{_show(v)} is not text")
        if has_surrogates(v):
            raise BadValue("the value holds bytes that are not UTF-8 text (is the file UTF-8?)")
        if kind == "text":
            return v
        v = v.strip()
        if not v:
            raise BadValue("blank")  # the validator reports a missing field
        return v
    return text


def _reaches(f: Field, d: Decimal) -> bool:
    """Whether the input declares a range (§23.4: an input without one has no such range) and
    it contains `d` read as a fraction: `in 0%..2000%` and `in 0%..` contain 12 (1200 %),
    `in 0%..100%` does not."""
    if f.lo is None and f.hi is None:
        return False
    return (f.lo is None or f.lo <= d) and (f.hi is None or d <= f.hi)


def _whole_percent(v, d: Decimal) -> str:
    from dsl.backends.python.runtime import fmt_decimal

    shown = v.strip() if isinstance(v, str) else format(d, "f")
    return (f"`{shown}` for a percent would be {fmt_decimal(d.scaleb(2))} %: "
            f"write `{fmt_decimal(d)}%` or `{fmt_decimal(d.scaleb(-2))}`")


def _num(d: Decimal, f: Field) -> str:
    from dsl.backends.python.runtime import fmt_decimal

    if f.unit == "%":
        return f"{fmt_decimal(d.scaleb(2))}%"
    return f"{fmt_decimal(d)} {f.unit}" if f.unit else fmt_decimal(d)
