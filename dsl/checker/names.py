"""Names: scopes, references, the dependency graph and its order.

Receives a parsed `PolicyFile` or `ModuleFile` and the modules it `use`s (already
checked by loader.py). Guarantees a `Resolution`: every `Name`, `Qualified` and
`Call` that names something has a `Ref`; each definition's same-period
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
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from dsl.front import ast
from dsl.front.diagnostics import Diagnostics
from dsl.checker.checked import CheckedModule, Ref
from dsl.checker.types import BUILTIN_TYPES

# §4.2 and §14.1: functions called by name. `pool`, `rank`, `percentile` are keywords.
BUILTIN_FUNCTIONS = frozenset({
    "min", "max", "abs", "clamp", "round",
    "prior", "trailing_sum", "trailing_avg", "trailing_min", "trailing_max", "streak",
})
# §14.1, §15: names every definition may read.
BUILTIN_VALUES = frozenset({"eligible", "reasons", "periods_active"})
HISTORY_ONLY = frozenset({"prior"})  # reads only earlier periods: no same-period dependency
HISTORY_FUNCTIONS = frozenset({"prior", "trailing_sum", "trailing_avg", "trailing_min",
                               "trailing_max", "streak"})

ELIGIBILITY = "<eligibility>"
TOTAL = "<total>"

KIND_OF = {
    ast.Input: "input", ast.Param: "param", ast.Metric: "metric", ast.Def: "def",
    ast.Tiers: "tiers", ast.Scorecard: "scorecard",
}


def kind_of(decl) -> str | None:
    if isinstance(decl, ast.Component):
        return decl.kind
    return KIND_OF.get(type(decl))


@dataclass
class Resolution:
    """What names.py found; check.py reads it and fills the types."""

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


def declared_name(decl) -> tuple[str, object] | None:
    """The name a declaration introduces and the span of that name."""
    match decl:
        case ast.Input() | ast.Param() | ast.Metric() | ast.Def() | ast.Tiers() | ast.Scorecard() \
                | ast.Component():
            return decl.name, decl.name_span
        case _:
            return None


def suggest(name: str, candidates) -> str | None:
    """A "did you mean" hint: the closest candidate, if any is close."""
    close = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None


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


class _Resolver:
    def __init__(self, file, modules: dict[str, CheckedModule], diags: Diagnostics,
                 broken: frozenset[str] | set[str] = frozenset()):
        self.file = file
        self.diags = diags
        self.broken = set(broken)
        self.unknown_names = False
        self.r = Resolution(modules=dict(modules))
        self.is_module = isinstance(file, ast.ModuleFile)

    # ------------------------------------------------------------------ declarations
    def collect(self) -> None:
        r = self.r
        seen_use: dict[str, object] = {}
        for decl in self.file.decls:
            if isinstance(decl, ast.Use):
                if decl.name in seen_use:
                    self.diags.error("E201", f"module `{decl.name}` is used twice", decl.span,
                                     help="keep one `use` line")
                seen_use[decl.name] = decl.span
        for decl in self.file.decls:
            named = declared_name(decl)
            if named is None:
                continue
            name, span = named
            if name in r.decls:
                first = r.decls[name]
                self.diags.error("E201", f"`{name}` is defined twice (first at line {first.name_span.line})",
                                 span, help="rename one of them")
                continue
            if name in r.modules or name in seen_use:
                self.diags.error("E201", f"`{name}` has the name of the module `{name}`", span,
                                 help=f"rename it: module names are used as `{name}.NAME`")
            # §2a, §23.6: a builtin function's name may name a value (a call is a name followed by
            # `(`), not a function; the names the language gives values stay reserved
            if name in BUILTIN_VALUES or (name in BUILTIN_FUNCTIONS | {"rank", "percentile"} and isinstance(decl, ast.Def)):
                self.diags.error("E201", f"`{name}` is the name of a builtin", span,
                                 help=f"rename it, e.g. `{name}_value`")
            r.decls[name] = decl
            r.kinds[name] = kind_of(decl)
        # enum members in scope (types written anywhere)
        for decl in self.file.decls:
            for tref in type_refs(decl):
                if tref.name != "enum":
                    continue
                seen: set[str] = set()
                for member in tref.members:
                    if member in seen:
                        self.diags.error("E201", f"enum member `{member}` is listed twice", tref.span)
                    seen.add(member)
                    if tref.members not in r.enum_members.setdefault(member, []):
                        r.enum_members[member].append(tref.members)
        for member in r.enum_members:
            if member in r.decls:
                self.diags.error("E201", f"`{member}` is both an enum member and a definition",
                                 r.decls[member].name_span, help="rename the definition")
            elif member in BUILTIN_VALUES or member in r.modules:
                span = next(t.span for d in self.file.decls for t in type_refs(d)
                            if t.name == "enum" and member in t.members)
                self.diags.error("E201", f"enum member `{member}` has the name of a "
                                 f"{'builtin' if member in BUILTIN_VALUES else 'module'}", span)
        # level tables and their labels
        for name, decl in r.decls.items():
            if not is_level_table(decl, r.decls) or any(b.value.name in r.enum_members for b in decl.bands):
                continue
            labels: list[str] = []
            for band in decl.bands:
                label = band.value.name
                if label in labels:
                    self.diags.error("E311", f"label `{label}` is used by two bands of `{name}`",
                                     band.value.span, help="each band of a level table needs its own label")
                    continue
                owner = r.labels.get(label)
                if owner is not None:
                    self.diags.error("E201", f"label `{label}` is already a label of `{owner}`",
                                     band.value.span, help="labels must be unique in a policy")
                elif label in r.modules:
                    self.diags.error("E201", f"label `{label}` has the name of a module", band.value.span)
                else:
                    r.labels[label] = name
                labels.append(label)
            r.levels[name] = tuple(labels)

    def header_checks(self) -> None:
        if self.is_module:
            return
        r = self.r
        header = self.file.header
        ids = [d for d in self.file.decls if isinstance(d, ast.Input) and d.type.name == "id"]
        periods = [d for d in self.file.decls if isinstance(d, ast.Input) and d.type.name == "period"]
        if not ids:
            self.diags.error("E204", "the policy has no `id` input", header.span,
                             help="add `input partner_id : id`: it names each record in outputs")
        for extra in ids[1:]:
            self.diags.error("E204", f"a second `id` input `{extra.name}` (the first is `{ids[0].name}`)",
                             extra.name_span, help="a policy has exactly one `id` input")
        if ids:
            r.id_input = ids[0].name
        for extra in periods[1:]:
            self.diags.error("E204", f"a second `period` input `{extra.name}` (the first is "
                             f"`{periods[0].name}`)", extra.name_span,
                             help="a multi-period policy has exactly one `period` input")
        if periods:
            r.period_input = periods[0].name
            if header.period is None:
                self.diags.error("E204", "the header has no `period`, but the policy has a `period` input",
                                 header.span, help="add `period quarter` (or month, half, year) to the header")
        # §2a: two inputs may not read one column
        read_by: dict[str, ast.Input] = {}
        for inp in (d for d in self.file.decls if isinstance(d, ast.Input)):
            column = inp.column if inp.column is not None else inp.name
            first = read_by.setdefault(column, inp)
            if first is not inp:
                self.diags.error("E201", f"`{inp.name}` reads the column \"{column}\" that `{first.name}` "
                                 f"reads (line {first.name_span.line})", inp.name_span,
                                 help="give each input its own column: `column \"...\"` names it")
        if header.currency is None:
            self.diags.error("E204", "the header has no `currency`", header.span,
                             help="add `currency USD` (an ISO 4217 code) to the header")

    # ------------------------------------------------------------------ references
    def resolve_all(self) -> None:
        r = self.r
        for decl in self.file.decls:
            if isinstance(decl, ast.Use) and self.is_module:
                self.diags.error("E201", "a module cannot `use` another module", decl.span,
                                 help="modules hold only `def`, `param` and `tiers`")
            named = declared_name(decl)
            owner = named[0] if named else None
            if owner is not None and r.decls.get(owner) is not decl:
                owner = None  # a duplicate: still resolve its names, record nothing
            if isinstance(decl, ast.Eligibility):
                owner = ELIGIBILITY
            elif isinstance(decl, ast.Total):
                owner = TOTAL
            local = {p.name for p in decl.params} if isinstance(decl, ast.Def) else set()
            if isinstance(decl, ast.Def):
                seen: set[str] = set()
                for p in decl.params:
                    if p.name in seen:
                        self.diags.error("E201", f"parameter `{p.name}` is listed twice", p.span)
                    seen.add(p.name)
                    if p.name in BUILTIN_VALUES or p.name in r.modules \
                            or p.name in r.enum_members or p.name in r.labels or p.name in r.decls:
                        self.diags.error("E201", f"parameter `{p.name}` shadows {self._what(p.name)}",
                                         p.span, help="rename the parameter")
            for tref in type_refs(decl):
                self.check_type_ref(tref)
            deps: set[str] = set()
            hist: set[str] = set()
            for expr in decl_exprs(decl):
                self.resolve(expr, local, deps, hist, in_def=isinstance(decl, ast.Def))
            if isinstance(decl, ast.Clawback):
                if decl.component not in r.decls:
                    self.diags.error("E200", f"unknown component `{decl.component}`", decl.name_span,
                                     help=suggest(decl.component, [n for n, k in r.kinds.items()
                                                                   if k == "component"]))
                elif r.kinds[decl.component] != "component":
                    self.diags.error("E300", f"`{decl.component}` is a {r.kinds[decl.component]}; "
                                     "only a component can be clawed back", decl.name_span)
                else:
                    r.used.add(decl.component)
            if owner is not None:
                r.deps.setdefault(owner, set()).update(deps)
                r.history_deps.setdefault(owner, set()).update(hist)
        if not self.is_module:
            comps = {n for n, k in r.kinds.items() if k == "component"}
            r.deps.setdefault(TOTAL, set()).update(comps)
            r.deps.setdefault(ELIGIBILITY, set())
        for name in r.decls:
            r.deps.setdefault(name, set())
            r.history_deps.setdefault(name, set())

    def _what(self, name: str) -> str:
        r = self.r
        if name in BUILTIN_VALUES or name in BUILTIN_FUNCTIONS:
            return f"the builtin `{name}`"
        if name in r.modules:
            return f"the module `{name}`"
        if name in r.enum_members:
            return f"the enum member `{name}`"
        if name in r.decls:
            return f"the {r.kinds[name]} `{name}`"
        return f"the level label `{name}`"

    def check_type_ref(self, tref: ast.TypeRef) -> None:
        if tref.name == "enum" or tref.name in BUILTIN_TYPES:
            return
        if tref.name in self.r.levels:
            self.r.used.add(tref.name)
            return
        names = list(BUILTIN_TYPES) + list(self.r.levels)
        self.diags.error("E200", f"unknown type `{tref.name}`", tref.span,
                         help=suggest(tref.name, names) or
                         "types are money, percent, number, count, bool, text, id, period, "
                         "enum(...) or the name of a level table")

    def resolve(self, root: ast.Expr, local: set[str], deps: set[str], hist: set[str], *,
                in_def: bool) -> None:
        """Resolve every name below `root`; `prior(...)` arguments count as history only."""
        r = self.r
        # (expr, history_only, history_too)
        stack: list[tuple[ast.Expr, bool, bool]] = [(root, False, False)]
        tag_places: set[int] = set()  # bare names that may be enum members or labels (§4a)
        while stack:
            e, hist_only, hist_too = stack.pop()
            match e:
                case ast.Binary(op="==" | "!=", left=a, right=b):
                    tag_places.update(id(x) for x in (a, b) if isinstance(x, ast.Name))
                case ast.Member(items=items):
                    tag_places.update(id(x) for x in items if isinstance(x, ast.Name))

            def add(dep: str) -> None:
                if hist_only or hist_too:
                    hist.add(dep)
                if not hist_only:
                    deps.add(dep)

            match e:
                case ast.Name(name=name):
                    if name in local:
                        r.refs[id(e)] = Ref("local", name)
                    elif name in r.decls:
                        r.refs[id(e)] = Ref("definition", name)
                        r.used.add(name)
                        add(name)
                        if in_def and r.kinds[name] not in ("param", "def", "tiers"):
                            self.diags.error(
                                "E200", f"a def reads only its parameters, params and tables; "
                                f"`{name}` is {_article(r.kinds[name])}", e.span,
                                help=f"pass `{name}` as an argument")
                    elif name in BUILTIN_VALUES:
                        r.refs[id(e)] = Ref("builtin", name)
                        if in_def:
                            self.diags.error("E200", f"a def cannot read `{name}`", e.span,
                                             help=f"pass `{name}` as an argument")
                        if name in ("eligible", "reasons"):
                            add(ELIGIBILITY)
                    elif name in r.labels:
                        r.refs[id(e)] = Ref("label", name, table=r.labels[name])
                        r.used.add(r.labels[name])
                    elif name in r.enum_members:
                        r.refs[id(e)] = Ref("member", name)
                    else:
                        candidates = list(local) + list(r.decls) + list(BUILTIN_VALUES) \
                            + list(r.labels) + list(r.enum_members)
                        if id(e) in tag_places:
                            r.unknown_tags[id(e)] = suggest(name, candidates)
                        else:
                            self.diags.error("E200", f"unknown name `{name}`", e.span,
                                             help=suggest(name, candidates))
                        self.unknown_names = True
                case ast.Qualified(module=mod, name=name):
                    self.resolve_qualified(e, mod, name, add)
                case ast.TotalRef():
                    if in_def:
                        self.diags.error("E200", "a def cannot read `total`", e.span,
                                         help="pass it as an argument")
                    add(TOTAL)
                case ast.Call(func=func, module=mod, args=args):
                    if mod is not None:
                        self.resolve_qualified(e, mod, func, add, call=True)
                    elif func in BUILTIN_FUNCTIONS:
                        r.refs[id(e)] = Ref("builtin", func)
                        if func in HISTORY_FUNCTIONS and in_def:
                            self.diags.error("E303", f"`{func}` reads history; a def cannot use it",
                                             e.span, help="use it in a metric or component")
                    elif func in r.decls and r.kinds[func] == "def":
                        r.refs[id(e)] = Ref("definition", func)
                        r.used.add(func)
                        add(func)
                    elif func in r.decls:
                        self.diags.error("E303", f"`{func}` is {_article(r.kinds[func])}, not a function",
                                         e.span, help=f"write `{func}` without parentheses")
                    elif func in BUILTIN_VALUES:
                        self.diags.error("E303", f"`{func}` is a name, not a function", e.span,
                                         help=f"write `{func}` without parentheses")
                    else:
                        defs = [n for n, k in r.kinds.items() if k == "def"]
                        self.diags.error("E200", f"unknown function `{func}`", e.span,
                                         help=suggest(func, list(BUILTIN_FUNCTIONS) + defs))
                    history = func in HISTORY_FUNCTIONS and mod is None
                    for a in reversed(args):
                        if history and func in HISTORY_ONLY:
                            stack.append((a, True, hist_too))
                        else:
                            stack.append((a, hist_only, hist_too or history))
                    continue
                case ast.Match(subject=subject, arms=arms):
                    stack.extend((a.value, hist_only, hist_too) for a in reversed(arms))
                    stack.append((subject, hist_only, hist_too))
                    continue
                case _:
                    pass
            stack.extend((c, hist_only, hist_too) for c in reversed(ast.children(e)))

    def resolve_qualified(self, e, mod: str, name: str, add, call: bool = False) -> None:
        r = self.r
        module = r.modules.get(mod)
        if module is None and mod in self.broken:
            return  # the module's own errors are already reported
        if module is None:
            self.diags.error("E200", f"unknown module `{mod}`", e.span,
                             help=(f"add `use {mod}`" if not self.is_module else None))
            return
        d = module.definitions.get(name)
        if d is None:
            self.diags.error("E200", f"module `{mod}` has no `{name}`", e.span,
                             help=suggest(name, module.definitions))
            return
        if call and d.kind != "def":
            self.diags.error("E303", f"`{mod}.{name}` is {_article(d.kind)}, not a function", e.span)
            return
        if not call and d.kind == "def":
            self.diags.error("E303", f"`{mod}.{name}` is a function: call it with arguments", e.span)
            return
        r.refs[id(e)] = Ref("definition", name, module=mod)
        add(f"{mod}.{name}")

    # ------------------------------------------------------------------ graph
    def graph(self) -> None:
        r = self.r
        nodes = list(r.decls) + ([ELIGIBILITY, TOTAL] if not self.is_module else [])
        succ = {n: sorted(d for d in r.deps.get(n, ()) if d in r.deps) for n in nodes}
        position = {n: i for i, n in enumerate(nodes)}
        r.visit_order = tuple(n for n in _post_order(nodes, succ) if n in r.decls)
        reported: set[frozenset[str]] = set()
        for comp in _sccs(nodes, succ):
            if len(comp) == 1 and comp[0] not in succ[comp[0]]:
                continue
            members = set(comp)
            r.cyclic |= members
            start = min(comp, key=lambda n: position[n])
            cycle = _cycle_from(start, members, succ)
            key = frozenset(comp)
            if key in reported:
                continue
            reported.add(key)
            shown = " -> ".join(_display(n) for n in cycle)
            span = self._span_of(start)
            if all(r.kinds.get(n) == "def" for n in comp):
                msg = (f"`{start}` calls itself" if len(comp) == 1 else f"recursive functions: {shown}")
                self.diags.error("E203", msg, span, help="IPL is total: a def may not call itself, "
                                 "directly or through other defs")
            else:
                self.diags.error("E202", f"cyclic definitions: {shown}", span,
                                 help="a definition may not depend on itself; to read an earlier "
                                 "period use `prior(...)`")
        if r.cyclic:
            return
        # Kahn, stable by declaration order
        indeg = {n: 0 for n in nodes}
        users: dict[str, list[str]] = {n: [] for n in nodes}
        for n in nodes:
            for d in succ[n]:
                indeg[n] += 1
                users[d].append(n)
        import heapq

        ready = [position[n] for n in nodes if indeg[n] == 0]
        heapq.heapify(ready)
        out: list[str] = []
        while ready:
            n = nodes[heapq.heappop(ready)]
            out.append(n)
            for u in users[n]:
                indeg[u] -= 1
                if indeg[u] == 0:
                    heapq.heappush(ready, position[u])
        r.order = tuple(n for n in out if n in r.decls)

    def _span_of(self, name: str):
        r = self.r
        if name in r.decls:
            return r.decls[name].name_span
        for decl in self.file.decls:
            if (name == ELIGIBILITY and isinstance(decl, ast.Eligibility)) or \
                    (name == TOTAL and isinstance(decl, ast.Total)):
                return decl.span
        return self.file.header.span if not self.is_module else self.file.name_span

    def unused(self) -> None:
        if self.is_module or self.unknown_names:
            return  # a misspelt reference would make its target look unused
        r = self.r
        for name, decl in r.decls.items():
            kind = r.kinds[name]
            if kind not in ("input", "param", "metric", "def", "tiers") or name in r.used:
                continue
            if name in (r.id_input, r.period_input):
                continue
            self.diags.warn("W100", f"{kind if kind != 'tiers' else 'table'} `{name}` is never used",
                            decl.name_span, help="remove it, or use it in a component or benefit")


def _article(kind: str) -> str:
    return ("an " if kind[0] in "aeiou" else "a ") + kind


def _display(node: str) -> str:
    return {ELIGIBILITY: "eligibility", TOTAL: "total"}.get(node, node)


def _sccs(nodes: list[str], succ: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components, iterative (long chains are legal)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on.add(v)
            recurse = False
            for j in range(i, len(succ[v])):
                w = succ[v][j]
                if w not in index:
                    work.append((v, j + 1))
                    work.append((w, 0))
                    recurse = True
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            if recurse:
                continue
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(comp)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
    return out


def _post_order(nodes: list[str], succ: dict[str, list[str]]) -> list[str]:
    """Depth-first post-order (a node after what it reads), iterative; back edges are skipped."""
    done: set[str] = set()
    out: list[str] = []
    for root in nodes:
        if root in done:
            continue
        done.add(root)
        work = [(root, iter(succ[root]))]
        while work:
            node, it = work[-1]
            for w in it:
                if w not in done:
                    done.add(w)
                    work.append((w, iter(succ[w])))
                    break
            else:
                work.pop()
                out.append(node)
    return out


def _cycle_from(start: str, members: set[str], succ: dict[str, list[str]]) -> list[str]:
    """A shortest cycle through `start` inside one strongly connected component."""
    from collections import deque

    prev: dict[str, str] = {}
    queue = deque([start])
    seen = {start}
    while queue:
        v = queue.popleft()
        for w in succ[v]:
            if w not in members:
                continue
            if w == start:
                path = [v]
                while path[-1] != start:
                    path.append(prev[path[-1]])
                return list(reversed(path)) + [start]
            if w not in seen:
                seen.add(w)
                prev[w] = v
                queue.append(w)
    return [start, start]


def resolve(file, modules: dict[str, CheckedModule], diags: Diagnostics,
            broken: frozenset[str] | set[str] = frozenset()) -> Resolution:
    """The names pass over a policy or module file."""
    resolver = _Resolver(file, modules, diags, broken)
    resolver.collect()
    resolver.header_checks()
    resolver.resolve_all()
    resolver.graph()
    resolver.unused()
    return resolver.r
