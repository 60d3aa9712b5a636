"""Names: scopes, references, the dependency graph and its order.

Receives a parsed `PolicyFile` or `ModuleFile` and the modules it `use`s (already
checked by loader.py). Guarantees a `Resolution` (dsl/checker/resolution.py): every `Name`,
`Qualified` and `Call` that names something has a `Ref`; each definition's same-period
dependencies (`deps`) and history dependencies (`history_deps`, read through
`prior`, which looks at an earlier period and so never makes a cycle); the level
tables and their labels; a topological `order` when the graph is acyclic.

Emits: E200 (unknown name or type, with "did you mean"), E201 (duplicate
definition; a name shadowing a module, a builtin, an enum member or a level
label; a label or member that is also a definition), E202 (cyclic definitions,
the cycle listed `a -> b -> a`), E203 (recursive `def`), E204 (missing or
duplicate `id` input, duplicate `period` input, missing `currency`, a period
input without a header `period`), W100 (unused input, param, metric, def or
table).

Two pseudo-nodes take part in the graph but not in `order`: `eligibility`
(the gates, read by the builtins `eligible` and `reasons`) and `total` (read by
a bare `total`); both are spelled so that they cannot clash with a name.

The pass is four stages over one `Resolution`, each in its own module and chained by
`resolve` below: the names in scope (scope.py: definitions, enum members, level labels, the
header's inputs), the references (references.py), the graph (graph.py), and the unused
definitions (here). What a declaration holds is declared.py; the builtins and `suggest` are
resolution.py. Their names are importable from here too.
"""

from __future__ import annotations

from dsl.checker.checked import CheckedModule
from dsl.checker.declared import (  # noqa: F401 - importable from the names pass
    KIND_OF, decl_exprs, declared_name, is_level_table, kind_of, modifier_exprs, type_refs,
)
from dsl.checker.graph import order
from dsl.checker.references import resolve_references
from dsl.checker.resolution import (  # noqa: F401 - importable from the names pass
    BUILTIN_FUNCTIONS, BUILTIN_VALUES, ELIGIBILITY, HISTORY_FUNCTIONS, HISTORY_ONLY, TOTAL, Resolution, suggest,
)
from dsl.checker.scope import check_header, collect
from dsl.front import ast
from dsl.front.diagnostics import Diagnostics


def resolve(file, modules: dict[str, CheckedModule], diags: Diagnostics,
            broken: frozenset[str] | set[str] = frozenset()) -> Resolution:
    """The names pass over a policy or module file (`broken`: the modules used whose own
    errors are reported already: references to them are not reported again)."""
    r = Resolution(modules=dict(modules))
    is_module = isinstance(file, ast.ModuleFile)
    collect(file, r, diags)
    if not is_module:
        check_header(file, r, diags)
    unknown_names = resolve_references(file, r, diags, broken)
    order(file, r, diags)
    if not is_module and not unknown_names:  # a misspelt reference would make its target look unused
        unused(r, diags)
    return r


def unused(r: Resolution, diags: Diagnostics) -> None:
    """W100: an input, param, metric, def or table that nothing reads (the `id` and `period`
    inputs name records)."""
    for name, decl in r.decls.items():
        kind = r.kinds[name]
        if kind not in ("input", "param", "metric", "def", "tiers") or name in r.used:
            continue
        if name in (r.id_input, r.period_input):
            continue
        diags.warn("W100", f"{kind if kind != 'tiers' else 'table'} `{name}` is never used",
                   decl.name_span, help="remove it, or use it in a component or benefit")
