"""What the names pass finds (`Resolution`), and the vocabulary it is written in: the builtin
functions and values (language §4.2, §14.1, §15), the two pseudo-nodes of the dependency
graph, and the "did you mean" hint.

Read by every stage of the names pass (dsl/checker/names.py) and by the later ones (types,
ranges, program). Emits no diagnostics.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from dsl.front import ast
from dsl.checker.checked import CheckedModule, Ref

# The builtin functions, the one list every stage reads (language §7, §15). `pool`, `rank`,
# `percentile` are keywords.
NUMERIC_FUNCTIONS = frozenset({"min", "max", "abs", "clamp", "round"})  # of their arguments only
HISTORY_FUNCTIONS = frozenset({"prior", "trailing_sum", "trailing_avg", "trailing_min",
                               "trailing_max", "streak"})  # of the partner's earlier periods
BUILTIN_FUNCTIONS = NUMERIC_FUNCTIONS | HISTORY_FUNCTIONS
# §14.1, §15: names every definition may read.
BUILTIN_VALUES = frozenset({"eligible", "reasons", "periods_active"})
HISTORY_ONLY = frozenset({"prior"})  # reads only earlier periods: no same-period dependency

# the pseudo-nodes of the graph (names.py): the gates, read by `eligible` and `reasons`, and a
# bare `total`; spelled so that they cannot clash with a name
ELIGIBILITY = "<eligibility>"
TOTAL = "<total>"


@dataclass
class Resolution:
    """What the names pass (names.py) found; the type pass (typecheck.py) reads it and fills the types."""

    decls: dict[str, ast.Decl] = field(default_factory=dict)  # named definitions, declaration order
    kinds: dict[str, str] = field(default_factory=dict)
    modules: dict[str, CheckedModule] = field(default_factory=dict)
    enum_members: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)  # member -> enums
    levels: dict[str, tuple[str, ...]] = field(default_factory=dict)  # level table -> labels
    labels: dict[str, str] = field(default_factory=dict)  # label -> its level table
    refs: dict[int, Ref] = field(default_factory=dict)
    deps: dict[str, set[str]] = field(default_factory=dict)
    history_deps: dict[str, set[str]] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)
    order: tuple[str, ...] | None = None
    cyclic: set[str] = field(default_factory=set)
    visit_order: tuple[str, ...] = ()  # dependencies first, even when there are cycles
    id_input: str | None = None
    period_input: str | None = None
    # §4a: an unknown bare name beside `==` / `!=` or in an `in (...)` list: E311 when the other
    # side is an enum or a level, else E200; the type pass decides and reports (id -> help)
    unknown_tags: dict[int, str | None] = field(default_factory=dict)


def suggest(name: str, candidates) -> str | None:
    """A "did you mean" hint: the closest candidate, if any is close."""
    close = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None

