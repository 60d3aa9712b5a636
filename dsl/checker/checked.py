"""The checked program: what compile.py reads, and nothing else.

check.py builds a `CheckedPolicy` only for a policy without errors. It
guarantees: every name is resolved (`refs`), every expression has a type
(`types`), definitions are acyclic and `order` is a topological order of
them, tiers are sorted and typed, scorecard weights add to 100 %.

Expression-keyed maps use `id(expr)` (nodes compare by value, so two equal
`Name('x')` nodes in different places are different keys); the AST is kept
alive by `CheckedPolicy.file`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from dsl.front import ast
from dsl.front.source import SourceFile
from dsl.checker.types import Type


@dataclass(frozen=True, slots=True)
class Ref:
    """What a `Name` or `Qualified` refers to.

    kind:
      "definition" – a policy definition (`name`), or with `module` a module's param/tiers/def
      "local"      – a parameter of the enclosing `def` (`name`)
      "member"     – an enum member (`name`) of the subject's enum type
      "label"      – a level label (`name`) of the level table `table`
      "builtin"    – `eligible`, `reasons`, `periods_active`
    """

    kind: str
    name: str
    module: str | None = None
    table: str | None = None


@dataclass(frozen=True, slots=True)
class Definition:
    """One named definition of the policy (or of a used module)."""

    name: str
    kind: str  # "input" | "param" | "metric" | "def" | "tiers" | "scorecard" | "component" | "benefit"
    type: Type  # for a def: its return type
    decl: ast.Decl
    deps: frozenset[str]  # policy definition names read directly (modules: "mod.name")
    module: str | None = None  # set for definitions that come from a module
    program_wide: bool = False  # depends, directly or not, on `pool` / `rank` / `percentile`
    history: bool = False  # uses `prior` / `trailing_*` / `streak` / `periods_active`
    # Added by the checker (additive): names read only through `prior(...)` (an earlier
    # period, so never a cycle); whether it reads `eligible`/`reasons`, or a bare `total`.
    history_deps: frozenset[str] = frozenset()
    uses_eligibility: bool = False
    uses_total: bool = False
    # §2a: the first `##` line above the declaration (shown instead of the name to people) and
    # the lines after it
    label: str | None = None
    description: str = ""

    @property
    def title(self) -> str:
        """What people read: the label, or the name when there is none."""
        return self.label or self.name


@dataclass(frozen=True, slots=True)
class CheckedModule:
    name: str
    file: ast.ModuleFile
    source: SourceFile
    definitions: dict[str, Definition]
    constants: dict[str, Decimal] = field(default_factory=dict)  # param name -> constant value
    # the maps of its expressions (id -> ...), with references qualified by the module's name,
    # which a policy that uses the module merges into its own
    types: dict = field(default_factory=dict)
    refs: dict = field(default_factory=dict)
    expr_constants: dict = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CheckedPolicy:
    file: ast.PolicyFile
    source: SourceFile
    currency: str
    minor_units: int  # digits after the point for the currency (USD 2, JPY 0)
    rounding: str  # "half_even" | "half_up" | "down" | "up"
    period: str | None  # the header's granularity
    id_input: str
    period_input: str | None  # the input of type `period`, if the policy is multi-period
    inputs: tuple[ast.Input, ...]  # in declaration order
    definitions: dict[str, Definition]  # every named definition of the policy
    order: tuple[str, ...]  # topological: a definition after everything it reads
    components: tuple[str, ...]  # declaration order
    benefits: tuple[str, ...]  # declaration order
    eligibility: tuple[ast.Require, ...]
    total: ast.Total | None
    clawbacks: tuple[ast.Clawback, ...]
    budget: ast.Budget | None
    modules: dict[str, CheckedModule] = field(default_factory=dict)
    types: dict[int, Type] = field(default_factory=dict)  # id(expr) -> type, every expression
    refs: dict[int, Ref] = field(default_factory=dict)  # id(Name | Qualified) -> what it names
    constants: dict[int, Decimal] = field(default_factory=dict)  # id(expr) -> value, constant numerics
    # (a constant that reads a param holds the param's declared value, not a what-if override)
    levels: dict[str, tuple[str, ...]] = field(default_factory=dict)  # level table -> labels in order
    intervals: dict = field(default_factory=dict)  # id(expr) -> its static Interval (language §9.3), or None
    # `types`, `refs` and `constants` also cover the expressions of the used modules' files.
    # `refs` also maps id(Call) -> Ref("builtin", func) or Ref("definition", func, module).

    def type_of(self, expr: ast.Expr) -> Type:
        return self.types[id(expr)]
