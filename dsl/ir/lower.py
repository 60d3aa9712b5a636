"""Lowering: the checked AST of a policy (dsl/checker/checked.py) → the typed IR (dsl/ir/nodes.py).

Receives a `CheckedPolicy` (a policy without errors: every name resolved, every expression
typed, definitions ordered). Guarantees a `Program` where every expression node carries its
type, constness, folded value and static interval, names are resolved into `Ref` / `Local` /
`Literal`, history calls know their constant `n` and their streak site, `pool` / `rank` /
`percentile` their program-wide site, and money bounds say that they are rounded. Nothing else
reads the checker's side tables after this pass: backends read the `Program` alone.

Emits no diagnostics: what is left to refuse is `Unsupported` (a construct no backend runs).

Two steps: `plan` numbers the program-wide and streak sites and finds what history keeps;
`_Lower` then lowers every expression (one case per node kind), every definition, and the
program.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dsl.checker.checked import CheckedPolicy, Definition
from dsl.checker.types import ERROR, Kind, Type
from dsl.front import ast
from dsl.ir import nodes as ir
from dsl.checker.resolution import HISTORY_FUNCTIONS

HISTORY_CALLS = HISTORY_FUNCTIONS


class Unsupported(Exception):
    """A construct the evaluators do not run (the CLI exits 2 with the message)."""


def lower(policy: CheckedPolicy) -> ir.Program:
    """The IR of a checked policy."""
    return _Lower(policy).program()


@dataclass(slots=True)
class Plan:
    """What lowering numbers before it lowers: the program-wide and streak sites, in source
    order, and what history keeps."""

    sites: dict[int, int] = field(default_factory=dict)  # id(ast pool | rank) -> its site
    site_nodes: list[ast.Expr] = field(default_factory=list)
    streaks: dict[int, int] = field(default_factory=dict)  # id(ast streak call) -> its site
    streak_conds: list[ast.Expr] = field(default_factory=list)
    history_names: list[str] = field(default_factory=list)  # the definitions `prior` / `trailing_*` read
    window: int = 0  # how many earlier periods history keeps
    uses_total: bool = False  # `prior(total)`, `trailing_*(total, n)`


def plan(p: CheckedPolicy) -> Plan:
    """Number the program-wide and streak sites and collect what history keeps, walking the
    policy's expressions in dependency order, then the gates, the total and the clawbacks."""
    out = Plan()
    roots: list[ast.Expr] = []
    for name in p.order:
        d = p.definitions[name]
        if d.module is None and d.kind != "def":
            roots.extend(_decl_exprs(d.decl))
    roots.extend(r.cond for r in p.eligibility)
    if p.total:
        roots.extend(i.value for i in p.total.items)
    for cb in p.clawbacks:
        roots.extend(x for x in (cb.when, cb.recover) if x is not None)
    for root in roots:
        for e in ast.walk(root):
            match e:
                case ast.Call(func="streak", module=None, args=args) if id(e) not in out.streaks:
                    out.streaks[id(e)] = len(out.streak_conds)
                    out.streak_conds.append(args[0])
                case ast.Call(func=f, module=None, args=args) if f in HISTORY_CALLS and f != "streak":
                    n = int_const(p, args[1]) if len(args) == 2 else 1
                    out.window = max(out.window, n if f == "prior" else n - 1)
                    if isinstance(args[0], ast.TotalRef):
                        out.uses_total = True
                    else:
                        target = p.refs[id(args[0])].name
                        if target not in out.history_names:
                            out.history_names.append(target)
                case ast.Pool() | ast.Rank() if id(e) not in out.sites:
                    out.sites[id(e)] = len(out.site_nodes)
                    out.site_nodes.append(e)
                case _:
                    pass
    return out


def int_const(p: CheckedPolicy, e: ast.Expr) -> int:
    """A constant whole number: a history function's `n` or `k`, `round`'s places, `within`."""
    v = p.constants.get(id(e))
    if v is None and isinstance(e, ast.Number):
        v = e.value
    if v is None:
        raise Unsupported(f"`{e.span.text}` must be a constant whole number")
    return int(v)


class _Lower:
    """One policy's lowering: its expressions (memoised), its definitions, the program."""

    def __init__(self, policy: CheckedPolicy):
        self.p = policy
        self.memo: dict[int, ir.Expr] = {}
        self.plan = plan(policy)

    def int_const(self, e: ast.Expr) -> int:
        return int_const(self.p, e)

    # ------------------------------------------------------------------ expressions
    def expr(self, e: ast.Expr) -> ir.Expr:
        got = self.memo.get(id(e))
        if got is None:
            got = self.memo[id(e)] = self._expr(e)
        return got

    def _common(self, e: ast.Expr) -> dict:
        return {"type": self.p.types.get(id(e), ERROR), "interval": self.p.intervals.get(id(e)), "span": e.span}

    def _expr(self, e: ast.Expr) -> ir.Expr:
        p = self.p
        c = self._common(e)
        value = p.constants.get(id(e))
        match e:
            case ast.Number(value=v) | ast.Percent(value=v) | ast.Money(amount=v):
                return ir.Literal(value=v, **c)
            case ast.String(value=v) | ast.Bool(value=v):
                return ir.Literal(value=v, **c)
            case ast.Name(name=n) | ast.Qualified(name=n):
                r = p.refs[id(e)]
                match r.kind:
                    case "definition":
                        key = (r.module, r.name) if r.module else r.name
                        d = self.definition(key)
                        constant = d.kind == "param" or (r.module is not None and d.kind == "tiers")
                        return ir.Ref(key=key, kind=d.kind, constant=constant, value=value, **c)
                    case "local":
                        return ir.Local(name=n, **c)
                    case "member" | "label":
                        return ir.Literal(value=r.name, **c)
                    case "builtin":
                        return ir.Builtin(name=r.name, **c)
                    case _:
                        raise AssertionError(f"unhandled ref kind {r.kind}")
            case ast.TotalRef():
                return ir.Total(**c)
            case ast.Call():
                return self.call(e, c, value)
            case ast.Unary(op=op, operand=x):
                inner = self.expr(x)
                return ir.Unary(op=op, operand=inner, constant=inner.constant, value=value, **c)
            case ast.Binary(op=op, left=a, right=b):
                left, right = self.expr(a), self.expr(b)
                order = None
                if op in ("<", "<=", ">", ">=") and left.type.kind is Kind.LEVEL:
                    order = p.levels[left.type.name]
                return ir.Binary(op=op, left=left, right=right, order=order,
                                 constant=left.constant and right.constant, value=value, **c)
            case ast.Member(operand=x, items=items):
                return ir.Member(operand=self.expr(x), items=tuple(self.expr(i) for i in items), **c)
            case ast.If(cond=cond, then=a, otherwise=b):
                parts = (self.expr(cond), self.expr(a), self.expr(b))
                return ir.If(cond=parts[0], then=parts[1], otherwise=parts[2],
                             constant=all(x.constant for x in parts), **c)
            case ast.Match(subject=s, arms=arms):
                subject = self.expr(s)
                lowered = tuple(ir.Arm(patterns=tuple(ir.Pattern(kind=pt.kind, name=pt.name, span=pt.span)
                                                      for pt in arm.patterns),
                                       value=self.expr(arm.value), span=arm.span) for arm in arms)
                return ir.Match(subject=subject, arms=lowered,
                                constant=subject.constant and all(a.value.constant for a in lowered), **c)
            case ast.Otherwise(expr=a, fallback=b):
                x, fb = self.expr(a), self.expr(b)
                return ir.Otherwise(expr=x, fallback=fb, constant=x.constant and fb.constant, value=value, **c)
            case ast.Pool(amount=a, share=s, among=among):
                return ir.Pool(amount=self.expr(a), share=self.expr(s),
                               among=self.expr(among) if among is not None else None, site=self.plan.sites[id(e)], **c)
            case ast.Rank(kind=kind, value=v, among=among):
                return ir.Rank(kind=kind, operand=self.expr(v), among=self.expr(among) if among is not None else None,
                               site=self.plan.sites[id(e)], **c)
            case _:
                raise AssertionError(f"unhandled {type(e).__name__}")

    def call(self, e: ast.Call, c: dict, value) -> ir.Expr:
        p = self.p
        ref = p.refs.get(id(e))
        args = tuple(self.expr(a) for a in e.args)
        constant = all(a.constant for a in args)
        if ref is not None and ref.kind == "definition":
            key = (ref.module, e.func) if ref.module else e.func
            return ir.FuncCall(key=key, args=args, constant=constant, value=value, **c)
        f = e.func
        if f in HISTORY_CALLS:
            if f == "streak":
                return ir.Call(func=f, args=args, site=self.plan.streaks[id(e)], **c)
            n = self.int_const(e.args[1]) if len(e.args) == 2 else 1
            return ir.Call(func=f, args=args, n=n, **c)
        order = places = None
        if f in ("min", "max") and c["type"].kind is Kind.LEVEL:
            order = p.levels[c["type"].name]
        if f == "round" and len(e.args) == 2:
            places = self.int_const(e.args[1])
        return ir.Call(func=f, args=args, order=order, places=places, constant=constant, value=value, **c)

    # ------------------------------------------------------------------ definitions
    def definition(self, key: ir.Key) -> Definition:
        if isinstance(key, tuple):
            return self.p.modules[key[0]].definitions[key[1]]
        return self.p.definitions[key]

    def lower_definition(self, key: ir.Key, d: Definition) -> ir.Definition:
        decl = d.decl
        doc = ir.Doc(label=d.label, description=d.description)
        reads = tuple(sorted(dep for dep in d.deps if "." not in dep and dep in self.p.definitions
                             and self.p.definitions[dep].kind != "def")) if d.module is None else ()
        text = " ".join(_value_text(decl).split())
        match decl:
            case ast.Param(value=v):
                return ir.Param(key=key, type=d.type, value=self.expr(v), doc=doc, span=decl.span)
            case ast.Metric(value=v):
                return ir.Metric(key=key, type=d.type, value=self.expr(v), reads=reads, text=text, doc=doc,
                                 span=decl.span)
            case ast.Def(params=params, body=body):
                return ir.Function(key=key, params=tuple((prm.name, self.param_type(key, prm.type)) for prm in params),
                                   returns=d.type, body=self.expr(body), span=decl.span)
            case ast.Tiers():
                level = d.type.kind is Kind.LEVEL and d.type.name == decl.name
                bands = tuple(ir.Band(kind=b.kind, threshold=self.expr(b.threshold), value=self.expr(b.value),
                                      doc=_doc(b.doc), span=b.span) for b in decl.bands)
                return ir.Table(key=key, type=d.type, on=self.expr(decl.key), mode=decl.mode, bands=bands,
                                level=level, reads=reads, text=text, doc=doc, span=decl.span)
            case ast.Scorecard():
                measures = tuple(ir.Measure(metric=self.expr(m.metric), weight=self.expr(m.weight),
                                            target=self.expr(m.target),
                                            cap=self.expr(m.cap) if m.cap is not None else None,
                                            text=m.metric.span.text, doc=_doc(m.doc), span=m.span)
                                 for m in decl.measures)
                return ir.Scorecard(key=key, type=d.type, measures=measures, reads=reads, text=text, doc=doc,
                                    span=decl.span)
            case ast.Component():
                money = d.type.kind is Kind.MONEY
                return ir.Component(
                    key=key, kind=decl.kind, type=d.type, value=self.expr(decl.value),
                    requires=tuple(ir.Gate(cond=self.expr(r.cond), reason=r.reason, span=r.span) for r in decl.requires),
                    floors=tuple(ir.Bound(value=self.expr(f.value), rounds=money, span=f.span) for f in decl.floors),
                    caps=tuple(ir.Bound(value=self.expr(x.value), rounds=money, span=x.span) for x in decl.caps),
                    holds=tuple(ir.Hold(portion=self.expr(h.portion), until=self.expr(h.until),
                                        within=self.int_const(h.within), span=h.span) for h in decl.holds),
                    rounds=money, reads=reads, text=text, doc=doc, span=decl.span)
            case _:
                raise AssertionError(f"unhandled definition {type(decl).__name__}")

    def param_type(self, key: ir.Key, tref: ast.TypeRef) -> Type:
        from dsl.checker.types import BUILTIN_TYPES

        if tref.name == "enum":
            return Type(Kind.ENUM, tref.members)
        if tref.name in BUILTIN_TYPES:
            return BUILTIN_TYPES[tref.name]
        if isinstance(key, tuple):
            d = self.p.modules[key[0]].definitions.get(tref.name)
            return d.type if d is not None else ERROR
        return Type(Kind.LEVEL, self.p.levels.get(tref.name, ()), tref.name)

    def inputs(self) -> tuple[ir.Input, ...]:
        out = []
        for inp in self.p.inputs:
            d = self.p.definitions[inp.name]
            lo = hi = None
            if inp.range is not None:
                lo, hi = _literal(inp.range.lo), _literal(inp.range.hi)
            out.append(ir.Input(name=inp.name, type=d.type, column=inp.column if inp.column is not None else inp.name,
                                lo=lo, hi=hi, default=_literal(inp.default) if inp.default is not None else None,
                                has_default=inp.default is not None,
                                doc=ir.Doc(label=d.label, description=d.description), span=inp.span))
        return tuple(out)

    # ------------------------------------------------------------------ the program
    def program(self) -> ir.Program:
        p = self.p
        definitions: dict[ir.Key, ir.Definition] = {}
        inputs = self.inputs()
        for inp in inputs:
            definitions[inp.name] = inp
        for mname, module in sorted(p.modules.items()):
            for dname, d in module.definitions.items():
                definitions[(mname, dname)] = self.lower_definition((mname, dname), d)
        for name in p.order:
            d = p.definitions[name]
            if d.kind != "input":
                definitions[name] = self.lower_definition(name, d)
        for name, d in p.definitions.items():  # defs unreachable from the order still lower
            if name not in definitions:
                definitions[name] = self.lower_definition(name, d)
        total = p.total.items if p.total else ()
        header = p.file.header
        return ir.Program(
            name=header.name, version=header.version, currency=p.currency, minor_units=p.minor_units,
            rounding=p.rounding, granularity=p.period, id_input=p.id_input, period_input=p.period_input,
            inputs=inputs, definitions=definitions, order=tuple(p.order), components=p.components,
            benefits=p.benefits,
            gates=tuple(ir.Gate(cond=self.expr(r.cond), reason=r.reason, span=r.span) for r in p.eligibility),
            floors=tuple(ir.Bound(value=self.expr(i.value), rounds=True, recoverable=i.recoverable, span=i.span)
                         for i in total if isinstance(i, ast.Floor)),
            caps=tuple(ir.Bound(value=self.expr(i.value), rounds=True, span=i.span)
                       for i in total if isinstance(i, ast.Cap)),
            clawbacks=tuple(ir.Clawback(component=cb.component, within=self.int_const(cb.within),
                                        when=self.expr(cb.when) if cb.when is not None else None,
                                        recover=self.expr(cb.recover) if cb.recover is not None else None,
                                        span=cb.span) for cb in p.clawbacks),
            budget=self.expr(p.budget.amount) if p.budget is not None else None,
            levels=dict(p.levels),
            sites=tuple(self.expr(e) for e in self.plan.site_nodes),
            history=ir.History(names=tuple(self.plan.history_names), window=self.plan.window,
                               uses_total=self.plan.uses_total,
                               streaks=tuple(self.expr(c) for c in self.plan.streak_conds)),
            doc=_doc(header.doc),
            source=p.source,
        )


# ------------------------------------------------------------------ helpers


def _doc(doc: ast.Doc | None) -> ir.Doc:
    return ir.Doc(label=doc.label, description=doc.description) if doc is not None else ir.Doc()


def _literal(expr: ast.Expr | None):
    """The value of a literal (an input's default or range bound)."""
    match expr:
        case None:
            return None
        case ast.Number(value=v) | ast.Percent(value=v) | ast.Money(amount=v):
            return v
        case ast.String(value=v) | ast.Bool(value=v):
            return v
        case ast.Name(name=n):
            return n
        case ast.Unary(op="-", operand=x):
            return -_literal(x)
        case _:
            raise Unsupported(f"an input default or bound must be a literal: `{expr.span.text}`")


def _decl_exprs(decl) -> list[ast.Expr]:
    """A definition's expressions, in the order the sites are numbered."""
    match decl:
        case ast.Input():
            return []
        case ast.Param(value=v) | ast.Metric(value=v):
            return [v]
        case ast.Def(body=b):
            return [b]
        case ast.Tiers(key=k, bands=bands):
            return [k, *(b.threshold for b in bands), *(b.value for b in bands)]
        case ast.Scorecard(measures=ms):
            out = []
            for m in ms:
                out += [m.metric, m.weight, m.target] + ([m.cap] if m.cap else [])
            return out
        case ast.Component(value=v, modifiers=mods):
            out = [v]
            for m in mods:
                match m:
                    case ast.Require(cond=c):
                        out.append(c)
                    case ast.Floor(value=x) | ast.Cap(value=x):
                        out.append(x)
                    case ast.Hold(portion=a, until=b, within=c):
                        out += [a, b, c]
                    case _:
                        raise AssertionError(f"unhandled {type(m).__name__}")
            return out
        case _:
            return []


def _value_text(node) -> str:
    """The source of a declaration's expression, from its start to the first modifier (parens kept)."""
    text = node.span.source.text
    match node:
        case ast.Tiers(key=k):
            return k.span.text
        case ast.Component(value=v, modifiers=mods):
            end = mods[0].span.start if mods else node.span.end
            return text[v.span.start:end].strip()
        case ast.Metric(value=v) | ast.Param(value=v):
            return text[v.span.start:node.span.end].strip()
        case _:
            return ""

