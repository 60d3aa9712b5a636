"""Generated fast paths around the record function: validating a record's cells, writing a
payouts row. Both are per-policy straight-line code from the one code writer (writer.py),
run by the one `exec` (module.py).

Receives the policy's inputs (`fields`: name, kind, members, lo, hi, default, has_default,
column — dsl/run/records/values.py `Field`) or its output lines, and the run's callables (the slow
validator, the writer of a row). Guarantees `validate(row, raw, problem)` equal to the slow
validator it is given, faster: each field has an inline path for the common, obviously valid
spelling (a plain decimal, an exact enum member, `true`/`false`); anything else — and every
reject — goes to the slow validator, which gives the same value or the reason. Field names
reach the code only as `repr()` literals. Emits nothing.
"""

from __future__ import annotations

import re
from decimal import Decimal

from dsl.backends.python.module import load
from dsl.backends.python.writer import Block, Names

# Plain decimals of at most 34 digits (17 + 17) need none of the slow path's checks.
_PLAIN_DECIMAL = r"-?[0-9]{1,17}(?:\.[0-9]{1,17})?"
_PLAIN_COUNT = r"[0-9]{1,17}"
# A percent's fraction that is plainly not a whole number other than 0, 1, -1 (language §14): 0
# or 1 with any decimals, or decimals ending in a digit other than 0. `12`, `12.0`, `-3` go to
# the slow path, which rejects them (or lets the declared range have them).
_PLAIN_PERCENT = r"-?(?:[01](?:\.[0-9]{1,17})?|[0-9]{1,17}\.[0-9]{0,16}[1-9])"
_BOOLS = {"true": True, "false": False, "yes": True, "no": False, "1": True, "0": False,
          "True": True, "False": False, "TRUE": True, "FALSE": False}


def make_validator(fields, id_field: str, duplicates, slow, header: list[str] | None, by_name: bool):
    """`validate(row, raw, problem)`: `raw` is a dict (JSON) or, with `header`, a CSV row's list
    of cells read by position; `by_name`: fields are read by name, not by column (a test's
    records); `slow(row, raw, problem)` is the validator that gives the reason."""
    names = Names()
    lines: list[str] = []
    b = Block(lines, 1)
    if header is None:
        b.emit("if problem is not None or raw is None:")
        b.child().emit("return _slow(row, raw, problem)")
        b.emit("g = raw.get")
    else:
        b.emit(f"if problem is not None or raw is None or len(raw) != {len(header)}:")
        b.child().emit("return _slow(row, raw, problem)")
    where = {column: i for i, column in reversed(list(enumerate(header or ())))}
    out = []
    for i, f in enumerate(fields):
        x, v = f"x{i}", f"v{i}"
        col = f.name if by_name else f.column
        if header is None:
            b.emit(f"{x} = g({col!r})")
        else:
            b.emit(f"{x} = raw[{where[col]}]" if col in where else f"{x} = None")
        test, conv = _fast_test(f, x, names)
        b.emit(f"if {test}:")
        b.child().emit(f"{v} = {conv}")
        checks = []
        if f.lo is not None:
            checks.append(f"{v} < {names.name(f.lo, '_LO')}")
        if f.hi is not None:
            checks.append(f"{v} > {names.name(f.hi, '_HI')}")
        if checks:
            b.child().emit(f"if {' or '.join(checks)}: return _slow(row, raw, problem)")
        if f.has_default:
            b.emit(f"elif {x} is None or {x} == '':")
            b.child().emit(f"{v} = {names.name(f.default, '_DEF')}")
        b.emit("else:")
        b.child().emit("return _slow(row, raw, problem)")
        out.append(f"{f.name!r}: {v}")
        if f.name == id_field:
            b.emit(f"if {v} in _DUPS: return _slow(row, raw, problem)")
    b.emit(f"return {{{', '.join(out)}}}")
    source = "def validate(row, raw, problem):\n" + "\n".join(lines) + "\n"
    ns = {"_slow": slow, "_D": Decimal, "_DUPS": duplicates, "_BOOLS": _BOOLS,
          "_PLAIN": re.compile(_PLAIN_DECIMAL + r"\Z").match, "_COUNT": re.compile(_PLAIN_COUNT + r"\Z").match,
          "_PERCENT": re.compile(_PLAIN_PERCENT + r"\Z").match, **names.values}
    return load(source, "<ipl validator>", ns)["validate"]


def _fast_test(f, x: str, names: Names) -> tuple[str, str]:
    """(the test that a raw value is plainly valid, the code of its value) for one field."""
    match f.kind:
        case "money" | "number":
            return f"{x}.__class__ is str and _PLAIN({x})", f"_D({x})"
        case "percent":
            return f"{x}.__class__ is str and _PERCENT({x})", f"_D({x})"
        case "count":
            return f"{x}.__class__ is str and _COUNT({x})", f"_D({x})"
        case "enum" | "level":
            return f"{x}.__class__ is str and {x} in {names.name(frozenset(f.members), '_M')}", x
        case "bool":
            return f"{x}.__class__ is str and {x} in _BOOLS", f"_BOOLS[{x}]"
        case "id" | "period":
            return (f"{x}.__class__ is str and {x}.isascii() and {x} and not {x}[0].isspace() "
                    f"and not {x}[-1].isspace()"), x
        case "text":
            return f"{x}.__class__ is str and {x}.isascii() and {x}", x
        case _:
            raise AssertionError(f"unhandled input kind {f.kind}")


def make_csv_row(benefit_kinds: list[str], n_components: int, write, helpers: dict):
    """`emit(rid, res)`: one payouts CSV row of a single-period run written with `write`: the
    id (defused), the components (already rounded: their text has no exponent), the benefits
    by kind, the total, `eligible`, the reasons. `helpers`: `defuse`, `reasons`, `fmt`."""
    cells = ["_defuse(rid) if rid[0] in _F else rid"]
    cells += [f"c[{i}]" for i in range(n_components)]
    for i, kind in enumerate(benefit_kinds):
        match kind:
            case "money":
                cells.append(f"b[{i}]")
            case "bool":
                cells.append(f"('true' if b[{i}] else 'false')")
            case "number" | "percent" | "count":
                cells.append(f"_fmt(b[{i}])")
            case _:
                cells.append(f"_defuse(str(b[{i}]))")
    cells += ["res.total", "('true' if res.eligible else 'false')",
              "(_defuse('; '.join(_reasons(res))) if (res.reasons or res.line_reasons) else '')"]
    source = ("def emit(rid, res):\n    c = res.components\n    b = res.benefits\n"
              f"    _write([{', '.join(cells)}])\n")
    ns = {"_write": write, "_defuse": helpers["defuse"], "_F": frozenset("=+-@\t\r"), "_reasons": helpers["reasons"],
          "_fmt": helpers["fmt"]}
    return load(source, "<ipl payout row>", ns)["emit"]
