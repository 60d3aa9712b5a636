"""What each declaration declares and holds: the name it introduces, its kind, its top-level
expressions in source order, the types it writes, and whether a table is a level (§6).

Plain functions over the AST, read by the names, types and ranges passes. Emits no
diagnostics.
"""

from __future__ import annotations

from dsl.front import ast
from dsl.checker.resolution import BUILTIN_VALUES

KIND_OF = {
    ast.Input: "input", ast.Param: "param", ast.Metric: "metric", ast.Def: "def",
    ast.Tiers: "tiers", ast.Scorecard: "scorecard",
}


def kind_of(decl) -> str | None:
    if isinstance(decl, ast.Component):
        return decl.kind
    return KIND_OF.get(type(decl))


def declared_name(decl) -> tuple[str, object] | None:
    """The name a declaration introduces and the span of that name."""
    match decl:
        case ast.Input() | ast.Param() | ast.Metric() | ast.Def() | ast.Tiers() | ast.Scorecard() \
                | ast.Component():
            return decl.name, decl.name_span
        case _:
            return None


def decl_exprs(decl) -> list[ast.Expr]:
    """Every top-level expression of a declaration, in source order."""
    match decl:
        case ast.Input():
            out = []
            if decl.range is not None:
                out += [e for e in (decl.range.lo, decl.range.hi) if e is not None]
            if decl.default is not None:
                out.append(decl.default)
            return out
        case ast.Param():
            return [decl.value]
        case ast.Metric():
            return [decl.value]
        case ast.Def():
            return [decl.body]
        case ast.Tiers():
            out = [decl.key]
            for band in decl.bands:
                out += [band.threshold, band.value]
            return out
        case ast.Scorecard():
            out = []
            for m in decl.measures:
                out += [m.metric, m.weight, m.target] + ([m.cap] if m.cap is not None else [])
            return out
        case ast.Component():
            out = [decl.value]
            for mod in decl.modifiers:
                out += modifier_exprs(mod)
            return out
        case ast.Eligibility():
            return [r.cond for r in decl.requires]
        case ast.Total():
            return [i.value for i in decl.items]
        case ast.Clawback():
            return [e for e in (decl.within, decl.when, decl.recover) if e is not None]
        case ast.Program():
            return [b.amount for b in decl.budgets]
        case ast.Use():
            return []
        case _:
            raise AssertionError(f"unhandled {type(decl).__name__}")


def modifier_exprs(mod) -> list[ast.Expr]:
    match mod:
        case ast.Require():
            return [mod.cond]
        case ast.Floor() | ast.Cap():
            return [mod.value]
        case ast.Hold():
            return [mod.portion, mod.until, mod.within]
        case _:
            raise AssertionError(f"unhandled {type(mod).__name__}")


def type_refs(decl) -> list[ast.TypeRef]:
    match decl:
        case ast.Input() | ast.Param():
            return [decl.type]
        case ast.Metric():
            return [decl.type] if decl.type is not None else []
        case ast.Def():
            return [p.type for p in decl.params] + [decl.returns]
        case _:
            return []


def is_level_table(decl, definitions) -> bool:
    """§6: a flat table whose every band value is a bare name that is not a definition,
    a builtin value or an enum member in scope yields labels: it is a level."""
    return (
        isinstance(decl, ast.Tiers)
        and decl.mode == "flat"
        and bool(decl.bands)
        and all(isinstance(b.value, ast.Name) for b in decl.bands)
        and not any(b.value.name in definitions or b.value.name in BUILTIN_VALUES for b in decl.bands)
    )
