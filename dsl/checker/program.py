"""Checking a policy or a module: the stages chained, and their results put together.

Receives a parsed file, its source and path. For a policy the stages are: modules (loader.py,
which checks each module used with `check_module`), names (names.py), types (typecheck.py),
ranges (ranges.py). Every stage keeps going so that all its errors are reported; the range
stage runs only when the earlier stages found no errors (intervals over ill-typed code would
only add noise). Expressions whose type could not be found get the ERROR type, which is
silently compatible with everything so that one mistake is reported once.

Guarantees: `check_policy` returns a `CheckedPolicy` (dsl/checker/checked.py) exactly when the
policy has no errors (warnings allowed), with `types` for every expression node, `refs` for
every name and call, `constants` for every constant numeric expression, `intervals` for every
numeric one. Emits, through the stages, E200–E204, W100 (names), E300–E600, W103, W104
(types), E401, W101, W102 (ranges).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from dsl.checker import ranges
from dsl.checker.checked import CheckedModule, CheckedPolicy, Definition
from dsl.checker.currency import minor_units
from dsl.checker.loader import load_modules
from dsl.checker.names import resolve
from dsl.checker.resolution import ELIGIBILITY, TOTAL, Resolution
from dsl.checker.typecheck import Typer
from dsl.front import ast
from dsl.front.diagnostics import Diagnostics
from dsl.front.source import SourceFile


def _definitions(res: Resolution, types: Typer, module: str | None) -> dict[str, Definition]:
    reaches = _reaches_program_wide(res.deps, types.direct_program_wide)
    out: dict[str, Definition] = {}
    for name, decl in res.decls.items():
        deps = res.deps.get(name, set())
        out[name] = Definition(
            name=name,
            kind=res.kinds[name],
            type=types.decl_types.get(name, types.decl_type(name)),
            decl=decl,
            deps=frozenset(d for d in deps if d not in (ELIGIBILITY, TOTAL)),
            module=module,
            program_wide=name in reaches,
            history=name in types.direct_history,
            history_deps=frozenset(res.history_deps.get(name, set()) - {ELIGIBILITY, TOTAL}),
            uses_eligibility=ELIGIBILITY in deps,
            uses_total=TOTAL in deps,
            label=decl.doc.label if getattr(decl, "doc", None) else None,
            description=decl.doc.description if getattr(decl, "doc", None) else "",
        )
    return out


def _reaches_program_wide(deps: dict[str, set[str]], direct: set[str]) -> set[str]:
    """Nodes that depend, directly or not, on a program-wide one; iterative (long chains)."""
    users: dict[str, list[str]] = {}
    for node, ds in deps.items():
        for d in ds:
            users.setdefault(d, []).append(node)
    out = set(direct)
    stack = list(direct)
    while stack:
        for user in users.get(stack.pop(), ()):
            if user not in out:
                out.add(user)
                stack.append(user)
    return out


def check_module(source: SourceFile, file: ast.ModuleFile, diags: Diagnostics, *,
                 currency: str | None = None) -> CheckedModule | None:
    """A module: only `def`, `param` and `tiers` (no input exists in a module, so none is read)."""
    first = len(diags.items)
    for decl in file.decls:
        if not isinstance(decl, (ast.Def, ast.Param, ast.Tiers, ast.Use)):
            what = type(decl).__name__.lower() if not isinstance(decl, ast.Component) else decl.kind
            diags.error("E201", f"a module may hold only `def`, `param` and `tiers`, not `{what}`",
                        decl.span, help="move it into a policy")
    res = resolve(file, {}, diags)
    types = Typer(source, file, res, diags, currency)
    types.run()
    if errors_since(diags, first):
        return None
    definitions = _definitions(res, types, file.name)
    constants = {n: v for n, v in types.param_values.items() if "." not in n}
    # Inside the module a sibling is named bare; seen from a policy it is the module's own, so
    # qualify it here, once, for every consumer (ranges, lowering) of the merged maps.
    refs = {key: (dataclasses.replace(r, module=file.name) if r.kind == "definition" and r.module is None else r)
            for key, r in res.refs.items()}
    return CheckedModule(name=file.name, file=file, source=source, definitions=definitions, constants=constants,
                         types=types.types, refs=refs, expr_constants=types.constants)


def check_policy(source: SourceFile, file: ast.PolicyFile, diags: Diagnostics, *,
                 path: Path | None = None) -> CheckedPolicy | None:
    """Check a policy; the `CheckedPolicy` when it has no errors (warnings allowed), else None."""
    first = len(diags.items)
    header = file.header
    currency = header.currency
    modules, broken = load_modules(file, path, currency, diags, check_module)
    res = resolve(file, modules, diags, broken)
    types = Typer(source, file, res, diags, currency)
    types.run()
    if errors_since(diags, first):
        return None
    all_types, all_refs, all_constants = dict(types.types), dict(res.refs), dict(types.constants)
    for mod in modules.values():  # the modules' expressions, seen from the policy
        all_types.update(mod.types)
        all_refs.update(mod.refs)
        all_constants.update(mod.expr_constants)
    definitions = _definitions(res, types, None)
    before = len(diags.items)
    intervals = ranges.analyse(file, res, all_types, all_refs, all_constants, modules, diags)
    if any(d.severity.value == "error" for d in diags.items[before:]):
        return None
    budget = next((b for d in file.decls if isinstance(d, ast.Program) for b in d.budgets), None)
    return CheckedPolicy(
        file=file,
        source=source,
        currency=currency,
        minor_units=minor_units(currency),
        rounding=header.rounding or "half_even",
        period=header.period,
        id_input=res.id_input,
        period_input=res.period_input,
        inputs=tuple(d for d in file.decls if isinstance(d, ast.Input)),
        definitions=definitions,
        order=res.order or (),
        components=tuple(n for n, k in res.kinds.items() if k == "component"),
        benefits=tuple(n for n, k in res.kinds.items() if k == "benefit"),
        eligibility=tuple(r for d in file.decls if isinstance(d, ast.Eligibility) for r in d.requires),
        total=next((d for d in file.decls if isinstance(d, ast.Total)), None),
        clawbacks=tuple(d for d in file.decls if isinstance(d, ast.Clawback)),
        budget=budget,
        modules=modules,
        types=all_types,
        refs=all_refs,
        constants=all_constants,
        levels=dict(res.levels),
        intervals=intervals,
    )


def errors_since(diags: Diagnostics, first: int) -> bool:
    """Whether an error was reported since the sink held `first` diagnostics."""
    return any(d.severity.value == "error" for d in diags.items[first:])
