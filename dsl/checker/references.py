"""References: every name, qualified name, call and type a file writes, resolved; what each
definition reads, in the same period and through history.

The second stage of the names pass (dsl/checker/names.py). Receives a file and the
`Resolution` that scope.py filled. Fills `refs` (a `Ref` for every `Name`, `Qualified` and `Call`
that names something), `deps` and `history_deps` (`prior(...)` looks at an earlier period and so
never makes a cycle; the other history functions read the current period too), `used` and
`unknown_tags` (§4a: an unknown bare name beside `==`/`!=` or in `in (...)`, left to the type
pass, which knows whether the other side is an enum or a level).

Emits: E200 (unknown name, module, function or type, with "did you mean"; what a `def` may not
read), E201 (a module's `use`; a parameter listed twice or shadowing a name), E300 (a clawback
of what is not a component), E303 (a call of what is not a function, a function not called, a
history function in a `def`).
"""

from __future__ import annotations

from dsl.checker.checked import Ref
from dsl.checker.declared import decl_exprs, declared_name, type_refs
from dsl.checker.resolution import (
    BUILTIN_FUNCTIONS, BUILTIN_VALUES, ELIGIBILITY, HISTORY_FUNCTIONS, HISTORY_ONLY, TOTAL, Resolution, suggest,
)
from dsl.checker.types import BUILTIN_TYPES
from dsl.front import ast
from dsl.front.diagnostics import Diagnostics


def resolve_references(file, r: Resolution, diags: Diagnostics, broken: frozenset[str] | set[str]) -> bool:
    """Resolve every reference of `file` into `r`; True when a name was unknown (a misspelt
    reference would make its target look unused: names.py then skips W100)."""
    refs = _References(file, r, diags, broken)
    refs.resolve_all()
    return refs.unknown_names


class _References:
    def __init__(self, file, r: Resolution, diags: Diagnostics, broken: frozenset[str] | set[str]):
        self.file = file
        self.diags = diags
        self.broken = set(broken)
        self.unknown_names = False
        self.r = r
        self.is_module = isinstance(file, ast.ModuleFile)

    def resolve_all(self) -> None:
        """Each declaration's references and what it reads; every component is read by the
        total, and every definition has an entry in the graph."""
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
            local = self.params(decl) if isinstance(decl, ast.Def) else set()
            for tref in type_refs(decl):
                self.check_type_ref(tref)
            deps: set[str] = set()
            hist: set[str] = set()
            for expr in decl_exprs(decl):
                self.resolve(expr, local, deps, hist, in_def=isinstance(decl, ast.Def))
            if isinstance(decl, ast.Clawback):
                self.clawed_back(decl)
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

    def params(self, decl: ast.Def) -> set[str]:
        """A def's parameters: its local names."""
        r = self.r
        seen: set[str] = set()
        for p in decl.params:
            if p.name in seen:
                self.diags.error("E201", f"parameter `{p.name}` is listed twice", p.span)
            seen.add(p.name)
            if p.name in BUILTIN_VALUES or p.name in r.modules \
                    or p.name in r.enum_members or p.name in r.labels or p.name in r.decls:
                self.diags.error("E201", f"parameter `{p.name}` shadows {self._what(p.name)}",
                                 p.span, help="rename the parameter")
        return {p.name for p in decl.params}

    def clawed_back(self, decl: ast.Clawback) -> None:
        r = self.r
        if decl.component not in r.decls:
            self.diags.error("E200", f"unknown component `{decl.component}`", decl.name_span,
                             help=suggest(decl.component, [n for n, k in r.kinds.items()
                                                           if k == "component"]))
        elif r.kinds[decl.component] != "component":
            self.diags.error("E300", f"`{decl.component}` is a {r.kinds[decl.component]}; "
                             "only a component can be clawed back", decl.name_span)
        else:
            r.used.add(decl.component)

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
                case ast.Name():
                    self.name(e, local, add, in_def, id(e) in tag_places)
                case ast.Qualified(module=mod, name=name):
                    self.resolve_qualified(e, mod, name, add)
                case ast.TotalRef():
                    if in_def:
                        self.diags.error("E200", "a def cannot read `total`", e.span,
                                         help="pass it as an argument")
                    add(TOTAL)
                case ast.Call(func=func, module=mod, args=args):
                    self.call(e, add, in_def)
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

    def name(self, e: ast.Name, local: set[str], add, in_def: bool, tag_place: bool) -> None:
        """A bare name: a parameter, a definition, a builtin value, a label or an enum member."""
        r = self.r
        name = e.name
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
            if tag_place:
                r.unknown_tags[id(e)] = suggest(name, candidates)
            else:
                self.diags.error("E200", f"unknown name `{name}`", e.span,
                                 help=suggest(name, candidates))
            self.unknown_names = True

    def call(self, e: ast.Call, add, in_def: bool) -> None:
        """What a call calls: a module's def, a builtin function or a def of the file."""
        r = self.r
        func, mod = e.func, e.module
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


def _article(kind: str) -> str:
    return ("an " if kind[0] in "aeiou" else "a ") + kind

