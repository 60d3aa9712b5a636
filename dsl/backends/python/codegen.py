"""Compile a checked policy to Python: one function that evaluates one record.

Receives a `CheckedPolicy` (dsl/ir.py: resolved names, types, a topological
order of definitions with their dependencies). Guarantees a `CompiledPolicy`
whose `evaluate(record)` computes, for a validated record (input name →
Decimal | str | bool):

- every definition at most once, in dependency order, and on demand: a
  definition is computed where it is first needed; inside a lazy position
  (the matching band's value, `if`/`match` branches, `otherwise`, the right
  operand of `and`/`or`, components of an eligible record only) it is computed
  inside that branch, and a later use elsewhere checks whether it already was
  (§5, §6);
- eligibility with every failing reason (§8, not short-circuited), component
  steps require → floor → cap → round (§8), total floors and caps as signed
  adjustments; money rounded only where §9 says;
- Decimal arithmetic in `runtime.CONTEXT`.

The generated source embeds user text only as `repr()` literals; identifiers
are grammar-checked and still mangled (`v_<name>`, `p_<name>`, `f_<name>`).
Two variants come from the same generator: the untraced fast path (no hooks
at all) and a traced one that records every definition, its operands, bands,
scorecard parts, gates, floors and caps, and the branch taken at every `if`,
`match` and `otherwise` (`{'branch': key}`, for coverage: dsl/coverage.py)
(`trace=True`), and raises
`EvalError` with the definition, location and operand values on a division
by zero.

Size: code and compile time grow linearly with the policy. Each branch is compiled once; an
`if … else if` chain is one flat statement; a table of many bands is a bisection over its
constant thresholds and a `match` of many arms a dict, each followed by a balanced `if` tree
to the chosen value (`_Gen.tiers`, `_Gen.if_chain`, `_Gen.arm_lookup`).

Phases (so that history, §14, and program-wide definitions, §15, slot in):
constants (params, thresholds, rates, weights — once per run, with `--set`
overrides), then per record (inputs, metrics, eligibility, components, benefits),
then settlement (the total). A multi-period or program-wide policy (§14, §15)
gets `multi` (a `settle.MultiInfo`): history calls read the partner's `History`
`H` (`prior`, `trailing_*`, `streak`, `periods_active`), `pool` / `rank` /
`percentile` read the period's figures `PW` computed between a first pass
(`pw_inputs`: the shares, values and `among` conditions) and the evaluation, and
the result carries two more positions: the values history stores and the
`streak` conditions (`R_HIST`, a pair of tuples) and
what the settlement needs (`R_SETTLE`: hold portions, `until` conditions,
clawback conditions and portions, the draw of a recoverable floor and the floor).

Emits no diagnostics: the checker has reported everything a user can fix;
what is left is `Unsupported` (the CLI exits 2) or a bug (`AssertionError`).
"""

from __future__ import annotations

import bisect
import decimal
from dataclasses import dataclass, field
from decimal import Decimal

from dsl.front import ast
from dsl.backends.python import runtime
from dsl.tools.coverage import branch_key
from dsl.checker.checked import CheckedPolicy, Definition
from dsl.run.records import Field
from dsl.backends.python.runtime import Unsupported
from dsl.run.ledger import clawback_due, hold_open
from dsl.run.settle import Missing, MultiInfo, NotRanked, PwSite, missing_period
from dsl.checker.types import Kind, Type

HISTORY_CALLS = frozenset({"prior", "trailing_sum", "trailing_avg", "trailing_min", "trailing_max", "streak"})
# Deeper generated expressions are split into temporaries (Python's parser nests at most 200).
MAX_EXPR_DEPTH = 40
# Tables of more bands are looked up by bisection rather than one test per band (`_Gen.tiers`):
# measured per record, a flat table's inline tests are as fast up to about 12 bands, a marginal
# table's (one multiplication per band reached) only up to 3.
INLINE_BANDS = 12
INLINE_MARGINAL_BANDS = 3
# A `match` of more arms finds its arm in a dict (`_Gen.arm_lookup`) rather than one test per arm.
INLINE_ARMS = 12
# Longer sums (the total of the components, a scorecard's parts) are added in steps (`_Gen.added`).
MAX_SUM_TERMS = 100


class DivByZero(runtime.EvalError, ZeroDivisionError):
    """A division by zero seen by the traced variant; `otherwise` catches it like the fast path's."""


# ------------------------------------------------------------------ the compiled form


@dataclass(frozen=True, slots=True)
class Band:
    """A flat or marginal band for explanations: its bounds and (when constant) its value."""

    lo: Decimal | None  # None: `below`
    hi: Decimal | None  # None: unbounded above
    value: object  # the constant value, a label, or None when computed per record
    text: str  # the source text of the value


@dataclass(frozen=True, slots=True)
class TableInfo:
    name: str
    mode: str
    key_type: Type
    value_type: Type
    bands: tuple[Band, ...]
    rate_type: Type | None = None  # the type of the band values (a marginal table's rates)


@dataclass(frozen=True, slots=True)
class Line:
    """A component or benefit as the outputs list it."""

    name: str
    kind: str  # component | benefit
    type: Type


@dataclass
class CompiledPolicy:
    policy: CheckedPolicy
    fields: tuple[Field, ...]
    components: tuple[Line, ...]
    benefits: tuple[Line, ...]
    params: dict[str, object]  # the values in force (defaults with overrides)
    tables: dict[str, TableInfo]
    evaluate: object  # record -> Result tuple
    source: str  # the generated fast-path source (for review and tests)
    money: runtime.Money
    _overrides: dict = field(default_factory=dict)
    _traced: object = None
    traced_source: str = ""
    multi: object = None  # settle.MultiInfo for a multi-period or program-wide policy

    @property
    def id_field(self) -> str:
        return self.policy.id_input

    def traced(self):
        """record -> (Result tuple, trace events); compiled on first use."""
        if self._traced is None:
            src, make = _build(self.policy, trace=True)
            self.traced_source = src
            self._traced = make(self._overrides)[0]  # (record, H=None, PW=None) -> (result, events)
        return self._traced


# Result tuple positions (a tuple, not an object: the fast path builds one per record).
R_ELIGIBLE, R_REASONS, R_COMPONENTS, R_BENEFITS, R_TOTAL, R_SUM, R_FLOOR_ADJ, R_CAP_ADJ, R_LINE_REASONS = range(9)
# Multi-period and program-wide policies only (`CompiledPolicy.multi`):
R_HIST, R_SETTLE = 9, 10


def compile_policy(policy: CheckedPolicy, overrides: dict[str, object] | None = None) -> CompiledPolicy:
    """Compile `policy`; `overrides` are validated param values (`--set`)."""
    _refuse_unsupported(policy)
    overrides = dict(overrides or {})
    src, make = _build(policy, trace=False)
    evaluate, params, tables, extras = make(overrides)
    digits = policy.minor_units
    money = runtime.Money(policy.currency, digits, runtime.ROUNDING_MODES[policy.rounding])
    defs = policy.definitions
    comps = tuple(Line(n, "component", defs[n].type) for n in policy.components)
    bens = tuple(Line(n, "benefit", defs[n].type) for n in policy.benefits)
    return CompiledPolicy(policy=policy, fields=input_fields(policy), components=comps, benefits=bens,
                          params=params, tables=tables, evaluate=evaluate, source=src, money=money,
                          _overrides=overrides, multi=_multi_info(policy, extras) if extras else None)


def is_multi(policy: CheckedPolicy) -> bool:
    """Whether the policy needs the multi-period runner (dsl/settle.py)."""
    return (policy.period_input is not None or policy.budget is not None or bool(policy.clawbacks)
            or any(d.program_wide for d in policy.definitions.values())
            or any(isinstance(e, (ast.Pool, ast.Rank)) for e in _policy_exprs(policy))
            or any(isinstance(i, ast.Floor) and i.recoverable for i in (policy.total.items if policy.total else ()))
            or any(isinstance(d.decl, ast.Component) and d.decl.holds for d in policy.definitions.values()
                   if d.module is None))


def _policy_exprs(policy: CheckedPolicy):
    for d in policy.definitions.values():
        if d.module is None:
            for root in _decl_exprs(d.decl):
                yield from ast.walk(root)


def _refuse_unsupported(policy: CheckedPolicy) -> None:
    """What `ipl run` cannot evaluate: history or program-wide figures inside a `def` (a
    function sees only its arguments) or inside eligibility conditions that pools filter on."""
    def no(what: str) -> None:
        raise Unsupported(f"{what} is not supported by `ipl run`")

    def walk_defs(decl, where: str) -> None:
        for root in _decl_exprs(decl):
            for e in ast.walk(root):
                match e:
                    case ast.Pool() | ast.Rank():
                        no(f"`pool`, `rank` or `percentile` inside {where}")
                    case ast.Call(func=f, module=None) if f in HISTORY_CALLS:
                        no(f"`{f}` inside {where}")
                    case ast.Name(name="periods_active") if policy.refs.get(id(e)) and \
                            policy.refs[id(e)].kind == "builtin":
                        no(f"`periods_active` inside {where}")

    for d in policy.definitions.values():
        if d.module is None and d.kind == "def":
            walk_defs(d.decl, f"the function `{d.name}`")
    for m in policy.modules.values():
        for d in m.definitions.values():
            walk_defs(d.decl, f"the module `{m.name}`")
    for req in policy.eligibility:
        for e in ast.walk(req.cond):
            if isinstance(e, (ast.Pool, ast.Rank)):
                no("`pool`, `rank` or `percentile` in an eligibility condition")


def _decl_exprs(decl) -> list[ast.Expr]:
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


# ------------------------------------------------------------------ inputs as the reader sees them


def literal_value(expr: ast.Expr | None):
    """The value of a literal (`input` defaults and range bounds)."""
    match expr:
        case None:
            return None
        case ast.Number(value=v) | ast.Percent(value=v):
            return v
        case ast.Money(amount=v):
            return v
        case ast.String(value=v):
            return v
        case ast.Bool(value=v):
            return v
        case ast.Name(name=n):
            return n
        case ast.Unary(op="-", operand=x):
            return -literal_value(x)
        case _:
            raise Unsupported(f"an input default or bound must be a literal: `{expr.span.text}`")


def input_fields(policy: CheckedPolicy) -> tuple[Field, ...]:
    out = []
    for inp in policy.inputs:
        t = policy.definitions[inp.name].type
        kind = t.kind.value
        unit = {Kind.MONEY: policy.currency, Kind.PERCENT: "%"}.get(t.kind, "")
        lo = hi = None
        if inp.range is not None:
            lo, hi = literal_value(inp.range.lo), literal_value(inp.range.hi)
        out.append(Field(name=inp.name, kind=kind, members=tuple(t.members), lo=lo, hi=hi,
                         default=literal_value(inp.default) if inp.default is not None else None,
                         has_default=inp.default is not None, unit=unit,
                         column=inp.column if inp.column is not None else inp.name))
    return tuple(out)


# ------------------------------------------------------------------ code generation


class _Block:
    """Lines at one indentation, and the definitions certainly computed when they run."""

    def __init__(self, lines: list[str], indent: int, computed: set):
        self.lines = lines
        self.indent = indent
        self.computed = computed

    def emit(self, line: str) -> None:
        self.lines.append("    " * self.indent + line)

    def child(self) -> _Block:
        return _Block(self.lines, self.indent + 1, set(self.computed))

    def scratch(self) -> _Block:
        """A child with lines of its own: code for a branch that may still become an inline
        expression; `adopt` keeps its lines when it becomes a statement after all."""
        return _Block([], self.indent + 1, set(self.computed))

    def adopt(self, sub: _Block) -> None:
        self.lines.extend(sub.lines)


class _Gen:
    """Generates the factory `_make(OVR)` of one variant."""

    def __init__(self, policy: CheckedPolicy, trace: bool):
        self.p = policy
        self.trace = trace
        self.consts: dict[str, object] = {}  # names of the execution namespace → values
        self.const_ids: dict[tuple, str] = {}
        self.tmp = 0
        self.touched: set = set()  # definitions computed somewhere already
        self.needs_init: set = set()
        self.current: str | None = None  # definition being compiled (for error sites)
        self.sites: list = []
        self.scope = "record"  # "record" | "const" | "def"
        self.tables_code: list[str] = []  # the constant phase's extra lines (band bounds)
        self.mode = runtime.ROUNDING_MODES[policy.rounding]
        self.const_exprs: dict[int, str] = {}
        self.const_computed: set = set()
        self.table_consts: dict[tuple, tuple] = {}  # (id(table), what) -> names (`table_const`)
        self.rounded: set[str] = set()  # constant money bounds rounded in the constant phase (`bound`)
        self.plan = _history_plan(policy)

    # -- names
    def const(self, value, kind="K") -> str:
        key = (kind, type(value).__name__, str(value))
        name = self.const_ids.get(key)
        if name is None:
            name = f"{kind}{len(self.const_ids)}"
            self.const_ids[key] = name
            self.consts[name] = value
        return name

    def temp(self) -> str:
        self.tmp += 1
        return f"t{self.tmp}"

    @staticmethod
    def var(key) -> str:
        if isinstance(key, tuple):
            mod, name = key
            return f"m_{mod}__{name}"
        return f"v_{key}"

    def definition(self, key) -> Definition:
        if isinstance(key, tuple):
            return self.p.modules[key[0]].definitions[key[1]]
        return self.p.definitions[key]

    def is_const_def(self, key) -> bool:
        d = self.definition(key)
        return d.kind in ("param",) or (isinstance(key, tuple) and d.kind in ("param", "tiers"))

    # -- ensure a definition is computed in `b`
    def ensure(self, key, b: _Block) -> str:
        d = self.definition(key)
        name = self.var(key) if not self.is_const_def(key) else self.cvar(key)
        if d.kind == "input" and not isinstance(key, tuple):
            return name
        if self.is_const_def(key):
            if self.scope == "const":
                return self._ensure_in(key, b, name)
            return name  # computed by the constant phase
        if self.scope != "record":
            raise Unsupported(f"`{self.p.definitions[key].name}` is read outside a record context")
        return self._ensure_in(key, b, name)

    def cvar(self, key) -> str:
        if isinstance(key, tuple):
            return f"m_{key[0]}__{key[1]}"
        return f"p_{key}"

    def _ensure_in(self, key, b: _Block, name: str) -> str:
        if key in b.computed:
            return name
        if key in self.touched:
            self.needs_init.add(key)
            b.emit(f"if {name} is _UNSET:")
            self.compute(key, b.child())
            b.computed.add(key)
            return name
        self.touched.add(key)
        self.compute(key, b)
        b.computed.add(key)
        return name

    # -- definitions
    def compute(self, key, b: _Block) -> None:
        d = self.definition(key)
        saved = self.current
        self.current = key if isinstance(key, str) else f"{key[0]}.{key[1]}"
        target = self.var(key) if not self.is_const_def(key) else self.cvar(key)
        start = len(b.lines)
        if self.trace and self.scope == "record":
            b.emit(f"_at[0] = {self.current!r}")
        match d.decl:
            case ast.Param(name=n, value=v):
                if isinstance(key, str):
                    b.emit(f"if {n!r} in OVR:")
                    b.child().emit(f"{target} = OVR[{n!r}]")
                    b.emit("else:")
                    inner = b.child()
                    inner.emit(f"{target} = {self.expr(v, inner)}")
                else:
                    b.emit(f"{target} = {self.expr(v, b)}")
            case ast.Metric(value=v):
                b.emit(f"{target} = {self.expr(v, b)}")
                self.trace_def(b, key, d, target)
            case ast.Tiers():
                self.tiers(key, d, b, target)
            case ast.Scorecard():
                self.scorecard(key, d, b, target)
            case ast.Component():
                self.component(key, d, b, target)
            case _:
                raise AssertionError(f"unhandled definition {type(d.decl).__name__}")
        if len(b.lines) == start:
            b.emit("pass")
        self.current = saved

    def trace_def(self, b: _Block, key, d: Definition, target: str, extra: str = "") -> None:
        if not self.trace:
            return
        ops = ", ".join(f"{dep!r}: {self.var(dep) if not self._dep_const(dep) else self.cvar(dep)}"
                        for dep in sorted(self._deps(d)))
        site = self.site(d.decl)
        b.emit(f"_ev({{'def': {self.current!r}, 'kind': {d.kind!r}, 'site': {site}, 'value': {target}, "
               f"'operands': _ops({{{ops}}}){extra}}})")

    def values_read(self, expr: ast.Expr) -> str:
        """Code for `{name: value}` of the policy's definitions a condition reads by name (the
        failing value shown beside a gate's reason); those not computed (`_UNSET`) left out."""
        names = []
        if isinstance(expr, ast.Name):
            return "{}"  # `require certified`: the condition's value is the value
        for e in ast.walk(expr):
            ref = self.p.refs.get(id(e)) if isinstance(e, ast.Name) else None
            if ref is None or ref.kind != "definition" or ref.module or ref.name in names:
                continue
            if self.p.definitions[ref.name].kind != "def":
                names.append(ref.name)
        items = ", ".join(f"{n!r}: {self.cvar(n) if self._dep_const(n) else self.var(n)}" for n in names)
        return f"_ops({{{items}}})"

    def _deps(self, d: Definition):
        out = []
        for dep in d.deps:
            if "." in dep:
                continue
            if dep in self.p.definitions and self.p.definitions[dep].kind != "def":
                out.append(dep)
        return out

    def _dep_const(self, dep: str) -> bool:
        return self.p.definitions[dep].kind == "param"

    def site(self, node) -> str:
        span = node.span
        if span is None:
            return "None"
        expr = " ".join(_value_text(node).split())
        return self.const((" ".join(span.text.split()), str(span), expr), "S")

    def tiers(self, key, d: Definition, b: _Block, target: str) -> None:
        """§6. Up to INLINE_BANDS (marginal: INLINE_MARGINAL_BANDS) bands: one test per band,
        inline. More: a bisection over the constant thresholds (`runtime.flat_steps`,
        `runtime.marginal_table`, prepared once per run), so that code and compile time grow
        with the bands, not a chain of thousands of `elif`s too deep for Python's compiler."""
        t: ast.Tiers = d.decl
        k = self.temp()
        b.emit(f"{k} = {self.expr(t.key, b)}")
        bounds = [self.const_expr(band.threshold, b) for band in t.bands]
        if t.mode == "marginal":
            rates = [self.const_expr(band.value, b) for band in t.bands]
            if len(t.bands) > INLINE_MARGINAL_BANDS:
                table = self.table_const(t, "marginal", b, f"_marginal_table({_tup(bounds)}, {_tup(rates)})")
                b.emit(f"{target} = {table}({k})")
                self.trace_def(b, key, d, target, f", 'key': {k}")
                return
            # §6: sum of rate_i * (min(key, T(i+1)) - T(i)) over the bands the key reaches, inline
            acc = self.temp()
            b.emit(f"{acc} = _ZERO")
            for i, (lo, rate) in enumerate(zip(bounds, rates)):
                b.emit(f"if {k} > {lo}:")
                inner = b.child()
                if i + 1 < len(bounds):
                    hi = bounds[i + 1]
                    inner.emit(f"{acc} += {rate} * (({k} if {k} < {hi} else {hi}) - {lo})")
                else:
                    inner.emit(f"{acc} += {rate} * ({k} - {lo})")
            b.emit(f"{target} = {acc}")
            self.trace_def(b, key, d, target, f", 'key': {k}")
            return
        bands = list(t.bands)
        bi = self.temp() if self.trace else None
        if len(bands) > INLINE_BANDS:
            self.flat_lookup(t, b, k, bounds, bi, target)
            self.trace_def(b, key, d, target, f", 'key': {k}, 'band': {bi}")
            return
        first = True
        for i in range(len(bands) - 1, -1, -1):
            band = bands[i]
            if band.kind == "below":
                b.emit("else:")
            else:
                b.emit(f"{'if' if first else 'elif'} {k} >= {bounds[i]}:")
            first = False
            inner = b.child()
            if bi:
                inner.emit(f"{bi} = {i}")
            inner.emit(f"{target} = {self.expr(band.value, inner)}")
        if bands[0].kind != "below":
            b.emit("else:")
            self.no_band(t, b.child(), k)
        self.trace_def(b, key, d, target, f", 'key': {k}, 'band': {bi}")

    def flat_lookup(self, t: ast.Tiers, b: _Block, k: str, bounds: list[str], bi: str | None,
                    target: str) -> None:
        """A flat table of many bands: `p = bisect_right(steps, key)` finds the band (see
        `runtime.flat_steps`); constant values are then read from a tuple, values computed per
        record by a balanced `if` tree on the band's index (§5a: only the chosen band's value is
        evaluated)."""
        below = t.bands[0].kind == "below"
        p = self.temp()
        # a module's table is computed once, in the constant phase: its values stay lazy too
        constant = self.scope != "const" and all(_is_constant(self, band.value) for band in t.bands)
        if constant:
            vals = [self.const_expr(band.value, b) for band in t.bands]
            steps, chosen, values = self.table_const(
                t, "flat", b, f"_flat_steps({_tup(bounds)}, {below}, {_tup(vals)})", 3)
        else:
            steps, chosen = self.table_const(t, "flat", b, f"_flat_steps({_tup(bounds)}, {below})", 2)
        b.emit(f"{p} = _bisect({steps}, {k})")
        if not below:
            b.emit(f"if not {p}:")
            self.no_band(t, b.child(), k)
        if constant:
            if bi:
                b.emit(f"{bi} = {chosen}[{p}]")
            b.emit(f"{target} = {values}[{p}]")
            return
        bi = bi or self.temp()
        b.emit(f"{bi} = {chosen}[{p}]")
        self.dispatch(b, bi, len(t.bands), lambda i, blk: blk.emit(f"{target} = {self.expr(t.bands[i].value, blk)}"))

    def no_band(self, t: ast.Tiers, b: _Block, k: str) -> None:
        """§6: a key below the first threshold of a table without `below` has no band."""
        lo_text = t.bands[0].threshold.span.text
        msg = self.const(f"{self.current} has no band for this key: the first band starts at {lo_text}", "S")
        b.emit(f"raise _EvalError({msg} + ' (key ' + _fmt({k}) + ')', {self.current!r}, {self.site(t)}[1])")

    def table_const(self, t: ast.Tiers, what: str, b: _Block, code: str, names: int = 1):
        """The name(s) of `code`, computed once per run in the constant phase (in `b` when
        compiling the constant phase itself: a module's table)."""
        got = self.table_consts.get((id(t), what))
        if got is None:
            got = tuple(f"c_{self.temp()}" for _ in range(names))
            line = f"{', '.join(got)} = {code}"
            if self.scope == "const":
                b.emit(line)
            else:
                self.tables_code.append(f"    {line}")
            self.table_consts[(id(t), what)] = got
        return got[0] if names == 1 else got

    def scorecard(self, key, d: Definition, b: _Block, target: str) -> None:
        sc: ast.Scorecard = d.decl
        parts = []
        traced = []
        for m in sc.measures:
            v = self.temp()
            b.emit(f"{v} = {self.expr(m.metric, b)}")
            w, tg = self.const_expr(m.weight), self.const_expr(m.target)
            a = self.temp()
            b.emit(f"{a} = {v} / {tg}")
            ca = self.temp()
            if m.cap is not None:
                cap = self.const_expr(m.cap)
                b.emit(f"{ca} = _ZERO if {a} < _ZERO else ({cap} if {a} > {cap} else {a})")
            else:
                b.emit(f"{ca} = _ZERO if {a} < _ZERO else {a}")
            parts.append(f"{w} * {ca}")
            traced.append(f"({m.metric.span.text!r}, {v}, {tg}, {a}, {ca}, {w}, {w} * {ca})")
        b.emit(f"{target} = {self.added(b, parts, '_ZERO')}")
        self.trace_def(b, key, d, target, f", 'parts': ({', '.join(traced)},)")

    def added(self, b: _Block, terms: list[str], zero: str) -> str:
        """`t0 + t1 + …`, added left to right; past MAX_SUM_TERMS terms, the running sum is kept
        in a temporary every MAX_SUM_TERMS terms (the same additions in the same order: a chain
        of thousands of `+` is too deep for Python's compiler)."""
        if not terms:
            return zero
        code = " + ".join(terms[:MAX_SUM_TERMS])
        for i in range(MAX_SUM_TERMS, len(terms), MAX_SUM_TERMS):
            t = self.temp()
            b.emit(f"{t} = {code}")
            code = " + ".join([t, *terms[i:i + MAX_SUM_TERMS]])
        return code

    def component(self, key, d: Definition, b: _Block, target: str) -> None:
        c: ast.Component = d.decl
        kind = d.type.kind
        requires = c.requires
        q = f"q_{key}"
        body = b
        if requires:
            b.emit(f"{q} = []")
            gates = []
            for r in requires:
                cond = self.expr(r.cond, b)
                ok = self.temp()
                b.emit(f"{ok} = {cond}")
                b.emit(f"if not {ok}: {q}.append({self.const(r.reason, 'S')})")
                gates.append(f"({r.cond.span.text!r}, {ok}, {self.const(r.reason, 'S')}, {self.values_read(r.cond)})")
            b.emit(f"if {q}:")
            zero = {Kind.BOOL: "False", Kind.MONEY: "_MZERO"}.get(kind, "_ZERO")
            if kind is Kind.LEVEL:
                # a level keeps its value; the reasons still show
                zero = None
            if zero is not None:
                b.child().emit(f"{target} = {zero}")
                if self.trace:
                    b.child().emit(f"_ev({{'def': {self.current!r}, 'kind': {d.kind!r}, 'site': {self.site(c)}, "
                                   f"'value': {target}, 'operands': {{}}, 'gates': ({', '.join(gates)},), "
                                   f"'failed': tuple({q})}})")
                b.emit("else:")
                body = b.child()
        raw = self.temp()
        body.emit(f"{raw} = {self.expr(c.value, body)}")
        numeric = kind in (Kind.MONEY, Kind.PERCENT, Kind.NUMBER, Kind.COUNT)
        value = raw
        floors_t, caps_t = [], []
        if numeric and (c.floors or c.caps):
            value = self.temp()
            body.emit(f"{value} = {raw}")
            for f in c.floors:
                fv = self.temp()
                body.emit(f"{fv} = {self.bound(f.value, body, kind)}")
                body.emit(f"if {fv} > {value}: {value} = {fv}")
                floors_t.append(f"({f.value.span.text!r}, {fv})")
            for cp in c.caps:
                cv = self.temp()
                body.emit(f"{cv} = {self.bound(cp.value, body, kind)}")
                body.emit(f"if {cv} < {value}: {value} = {cv}")
                caps_t.append(f"({cp.value.span.text!r}, {cv})")
        if kind is Kind.MONEY:
            body.emit(f"{target} = {value}.quantize(_Q, rounding=_MODE)")
        else:
            body.emit(f"{target} = {value}")
        if self.trace:
            gates = ", ".join(f"({r.cond.span.text!r}, True, {self.const(r.reason, 'S')}, {self.values_read(r.cond)})"
                              for r in requires)
            self.trace_def(body, key, d, target,
                           f", 'raw': {raw}, 'floors': ({', '.join(floors_t)}{',' if floors_t else ''}), "
                           f"'caps': ({', '.join(caps_t)}{',' if caps_t else ''}), "
                           f"'gates': ({gates}{',' if gates else ''})")

    def bound(self, expr: ast.Expr, b: _Block, kind: Kind) -> str:
        """A floor or cap value: money bounds are rounded to the minor unit (§9)."""
        if _is_constant(self, expr):
            code = self.const_expr(expr)
            if kind is not Kind.MONEY:
                return code
            rounded = f"{code}_r"
            if rounded not in self.rounded:  # a set: scanning the lines for it was quadratic
                self.rounded.add(rounded)
                self.tables_code.append(f"    {rounded} = {code}.quantize(_Q, rounding=_MODE)")
            return rounded
        code = self.expr(expr, b)
        if kind is Kind.MONEY:
            return f"({code}).quantize(_Q, rounding=_MODE)"
        return code

    # -- constant expressions (thresholds, rates, weights, targets): the constant phase
    def const_expr(self, expr: ast.Expr, b: _Block | None = None) -> str:
        """The name of a constant, computed once per run; `b`: the block being compiled, where
        the computation goes when it is the constant phase itself (a module's table), so that
        it comes before its use."""
        match expr:
            case ast.Number(value=v) | ast.Percent(value=v) | ast.Money(amount=v):
                return self.const(v)
            case ast.Unary(op="-", operand=ast.Number(value=v) | ast.Percent(value=v) | ast.Money(amount=v)):
                return self.const(-v)
            case ast.Name() if self.ref(expr).kind == "label":
                return self.const(expr.name, "S")
        cached = self.const_exprs.get(id(expr))
        if cached is not None:
            return cached
        name = f"c_{self.temp()}"
        if self.scope == "const" and b is not None:
            b.emit(f"{name} = {self.expr(expr, b)}")
            self.const_exprs[id(expr)] = name
            return name
        saved_scope, saved_cur = self.scope, self.current
        self.scope = "const"
        lines: list[str] = []
        blk = _Block(lines, 1, set(self.const_computed))
        code = self.expr(expr, blk)
        blk.emit(f"{name} = {code}")
        self.tables_code.extend(lines)
        self.scope, self.current = saved_scope, saved_cur
        self.const_exprs[id(expr)] = name
        return name

    # -- expressions
    def ref(self, e):
        r = self.p.refs.get(id(e))
        if r is None:
            raise AssertionError(f"unresolved name at {e.span}")
        return r

    def type(self, e) -> Type:
        return self.p.types[id(e)]

    def expr(self, e: ast.Expr, b: _Block, depth: int = 0) -> str:
        code = self._expr(e, b, depth)
        if depth >= MAX_EXPR_DEPTH and not code.isidentifier():
            t = self.temp()
            b.emit(f"{t} = {code}")
            return t
        return code

    def _expr(self, e: ast.Expr, b: _Block, depth: int) -> str:
        d = 0 if depth >= MAX_EXPR_DEPTH else depth + 1
        match e:
            case ast.Number(value=v) | ast.Percent(value=v):
                return self.const(v)
            case ast.Money(amount=v):
                return self.const(v)
            case ast.String(value=v):
                return self.const(v, "S")
            case ast.Bool(value=v):
                return "True" if v else "False"
            case ast.Name(name=n):
                r = self.ref(e)
                match r.kind:
                    case "definition":
                        return self.ensure((r.module, r.name) if r.module else r.name, b)
                    case "local":
                        return f"a_{r.name}"
                    case "member" | "label":
                        return self.const(r.name, "S")
                    case "builtin":
                        if r.name in ("eligible", "reasons"):
                            if self.scope != "record" or self.in_eligibility:
                                raise Unsupported(f"`{r.name}` is used before eligibility is known")
                            return "eligible" if r.name == "eligible" else "reasons"
                        if r.name == "periods_active":
                            return "H.active"
                        raise AssertionError(f"unhandled builtin name {r.name}")
                    case _:
                        raise AssertionError(f"unhandled ref kind {r.kind}")
            case ast.Qualified():
                r = self.ref(e)
                return self.ensure((r.module, r.name), b)
            case ast.Call(func=f, args=args, module=mod):
                return self.call(e, f, args, mod, b, d)
            case ast.Unary(op="-", operand=x):
                return f"(-{self.expr(x, b, d)})"
            case ast.Unary(op="not", operand=x):
                return f"(not {self.expr(x, b, d)})"
            case ast.Binary(op=op, left=l, right=r) if op in ("and", "or"):
                # the right operand is lazy (§5a): compiled once, into a block of its own, and
                # kept as a statement only when it needs statements
                left = self.expr(l, b, d)
                sub = b.scratch()
                right = self.expr(r, sub, d)
                if not sub.lines:
                    return f"({left} {op} {right})"
                t = self.temp()
                b.emit(f"{t} = {left}")
                b.emit(f"if {'' if op == 'and' else 'not '}{t}:")
                sub.emit(f"{t} = {right}")
                b.adopt(sub)
                return t
            case ast.Binary(op="/", left=l, right=r):
                left, right = self.expr(l, b, d), self.expr(r, b, d)
                if self.trace:
                    lt, rt = _operand_text(l), _operand_text(r)
                    site = self.const((self.current, str(e.span), lt, rt, f"{lt} / {rt}"), "S")
                    return f"_div({left}, {right}, {site})"
                return f"({left} / {right})"
            case ast.Binary(op=op, left=l, right=r) if op in ("<", "<=", ">", ">=") and self.type(l).kind is Kind.LEVEL:
                order = self.const({lab: i for i, lab in enumerate(self.p.levels[self.type(l).name])}, "L")
                return f"({order}[{self.expr(l, b, d)}] {op} {order}[{self.expr(r, b, d)}])"
            case ast.Binary(op=op, left=l, right=r):
                return f"({self.expr(l, b, d)} {op} {self.expr(r, b, d)})"
            case ast.Member(operand=x, items=items):
                subject = self.expr(x, b, d)
                values = [self.expr(i, b, d) for i in items]
                return f"({subject} in ({', '.join(values)},))"
            case ast.If():
                return self.if_chain(e, b, depth)
            case ast.Match(subject=s, arms=arms):
                subject = self.expr(s, b, d)
                if not subject.isidentifier():
                    tmp = self.temp()
                    b.emit(f"{tmp} = {subject}")
                    subject = tmp
                cases, default, arm_ids, default_id, names = [], None, [], None, []
                for i, arm in enumerate(arms):
                    tests = []
                    for pat in arm.patterns:
                        match pat.kind:
                            case "else":
                                tests = None
                                break
                            case "true":
                                tests.append(f"{subject} is True")
                            case "false":
                                tests.append(f"{subject} is False")
                            case "name":
                                tests.append(f"{subject} == {self.const(pat.name, 'S')}")
                            case _:
                                raise AssertionError(f"unhandled pattern {pat.kind}")
                    if tests is None:
                        default, default_id = arm.value, i
                        break
                    cases.append((" or ".join(tests), arm.value))
                    arm_ids.append(i)
                    names.append([p.name for p in arm.patterns] if all(p.kind == "name" for p in arm.patterns)
                                 else None)
                if default is None:
                    *cases, (_, default) = cases  # exhaustive (E310): the last arm needs no test
                    default_id = arm_ids.pop()
                    names.pop()
                keys = [branch_key("match", e, i) for i in (*arm_ids, default_id)]
                if len(cases) > INLINE_ARMS and None not in names:
                    return self.arm_lookup(b, subject, names, [v for _, v in cases], default, d, keys)
                return self.branches(b, cases, default, d, keys)
            case ast.Otherwise(expr=x, fallback=fb):
                t = self.temp()
                b.emit("try:")
                sub = b.child()
                sub.emit(f"{t} = {self.expr(x, sub, d)}")
                if self.trace:
                    sub.emit(f"_ev({{'branch': {self.const(branch_key('otherwise', e, 'not taken'), 'S')}}})")
                b.emit("except _DIVERR as _e:")
                sub = b.child()
                sub.emit("if _not_div(_e): raise")
                sub.emit(f"{t} = {self.expr(fb, sub, d)}")
                if self.trace:
                    sub.emit(f"_ev({{'otherwise': {self.site(e)}, 'def': {self.current!r}}})")
                    sub.emit(f"_ev({{'branch': {self.const(branch_key('otherwise', e, 'taken'), 'S')}}})")
                return t
            case ast.Pool() | ast.Rank():
                # §15: the period's figure for this record, computed between the two passes
                if self.pw_pass:
                    raise Unsupported(f"a program-wide figure that depends on another one (`{e.span.text}`) "
                                      "is not supported by `ipl run`")
                if isinstance(e, ast.Pool):  # every record has a share (0 when `among` leaves it out)
                    return f"PW[{self.plan.pw[id(e)]}][0]"
                return f"_pwv(PW, {self.plan.pw[id(e)]})"
            case ast.TotalRef():
                raise Unsupported("`total` as a value is only supported inside `prior(total)`")
            case ast.ListLit():
                raise Unsupported("a list is only a test expectation")
            case _:
                raise AssertionError(f"unhandled {type(e).__name__}")

    def save(self):
        return set(self.touched), set(self.needs_init)

    def restore(self, state) -> None:
        self.touched, self.needs_init = set(state[0]), set(state[1])

    def branches(self, b: _Block, cases: list[tuple[str, ast.Expr]], default: ast.Expr, d: int,
                 keys: list[tuple] | None = None) -> str:
        """Lazy branches: a conditional expression when no branch needs statements.

        `keys` (one per case, then the default): the traced variant records the branch taken
        (`{'branch': key}`, dsl/coverage.py); the fast path is unchanged."""
        hit = self._branch_hit(keys)
        if not cases:
            return hit(0, self.expr(default, b, d))
        # each branch is compiled once (compiling it again after seeing that it needs
        # statements doubled the work at every level of nesting: exponential)
        arms = []
        for i, (cond, value) in enumerate((*cases, (None, default))):
            sub = b.scratch()
            arms.append((cond, sub, hit(i, self.expr(value, sub, d))))
        if len(cases) <= 8 and not any(sub.lines for _, sub, _ in arms):
            code = arms[-1][2]
            for cond, _, value in reversed(arms[:-1]):
                code = f"({value} if {cond} else {code})"
            return code
        t = self.temp()
        for i, (cond, sub, value) in enumerate(arms):
            b.emit("else:" if cond is None else f"{'if' if i == 0 else 'elif'} {cond}:")
            sub.emit(f"{t} = {value}")
            b.adopt(sub)
        return t

    def if_chain(self, e: ast.If, b: _Block, depth: int) -> str:
        """`if c0 then v0 else if c1 then v1 … else w` (a rate ladder), each part compiled once,
        in source order: a conditional expression when no part needs statements, else flat
        statements — nested `else:` blocks, one per rung, would run into Python's 100 levels
        of indentation:

            t = _UNSET              # only when a later condition needs statements
            if c0: t = v0
            elif c1: t = v1         # a condition without statements: an `elif`
            if t is _UNSET:         # c2 needs statements (§5a: only run when c0, c1 fail)
                <statements of c2>
                if c2: t = v2
                else: t = w

        The chain is cut where the nesting reaches MAX_EXPR_DEPTH: the rest is the last
        `else`, an expression of its own (`expr` keeps it in a temporary), so that the
        conditional expression is the one nested `if`s give. In the traced variant an arm
        records the branches nested `if`s record: its `then` and the `else` of every rung
        above it (`_brs`)."""
        rungs: list[tuple[ast.If, int]] = []  # each `if` with the depth of its operands
        node, dep = e, depth
        while True:
            d = 0 if dep >= MAX_EXPR_DEPTH else dep + 1
            rungs.append((node, d))
            if not isinstance(node.otherwise, ast.If) or d >= MAX_EXPR_DEPTH:
                break
            node, dep = node.otherwise, d
        level = b  # the block of the current `if` statement; conditions computed there hold below
        levels: list[tuple[_Block, list]] = [(b, [])]  # (block, [(cond, then block, value, rung)])
        lines = False
        for k, (node, d) in enumerate(rungs):
            if k == 0:
                cond = self.expr(node.cond, b, d)
            else:
                sub = _Block([], b.indent + 1, set(level.computed))
                cond = self.expr(node.cond, sub, d)
                if sub.lines:
                    level, lines = sub, True
                    levels.append((sub, []))
            if self.trace:  # the keys' constants named in source order, as for nested `if`s
                self.const(branch_key("if", node, "then"), "S")
                self.const(branch_key("if", node, "else"), "S")
            sub = level.scratch()
            value = self.expr(node.then, sub, d)
            lines = lines or bool(sub.lines)
            levels[-1][1].append((cond, sub, value, k))
        last, d = rungs[-1]
        other = level.scratch()
        other_value = self.expr(last.otherwise, other, d)
        then_keys = [branch_key("if", n, "then") for n, _ in rungs]
        else_keys = [branch_key("if", n, "else") for n, _ in rungs]
        if not lines and not other.lines:
            code = other_value
            for cond, _, value, k in reversed(levels[0][1]):
                code = f"({self._hit(value, then_keys[k])} if {cond} else {self._hit(code, else_keys[k])})"
            return code
        t = self.temp()
        if len(levels) > 1:
            b.emit(f"{t} = _UNSET")
        for i, (blk, arms) in enumerate(levels):
            for j, (cond, sub, value, k) in enumerate(arms):
                blk.emit(f"{'elif' if j else 'if'} {cond}:")
                sub.emit(f"{t} = {self._hit(value, then_keys[k], *reversed(else_keys[:k]))}")
                blk.adopt(sub)
            if i + 1 == len(levels):
                blk.emit("else:")
                other.emit(f"{t} = {self._hit(other_value, *reversed(else_keys))}")
                blk.adopt(other)
            if i:
                b.emit(f"if {t} is _UNSET:")
                b.adopt(blk)
        return t

    def _hit(self, code: str, *keys: tuple) -> str:
        """`code` that also records the branches `keys` in this order (traced variant only)."""
        if not self.trace or not keys:
            return code
        if len(keys) == 1:
            return f"_br({self.const(keys[0], 'S')}, {code})"
        self.uses_brs = True
        return f"_brs({self.const(tuple(keys), 'S')}, {code})"

    def arm_lookup(self, b: _Block, subject: str, names: list[list[str]], values: list[ast.Expr],
                   default: ast.Expr, d: int, keys: list[tuple]) -> str:
        """A `match` of many arms on names (enum members, levels): the arm from a dict (the
        first arm naming the subject; none: the default), then its value by `dispatch` —
        one `elif` per arm is too deep for Python's compiler past about 3,000 arms."""
        hit = self._branch_hit(keys)
        arm_of: dict[str, int] = {}
        for i, arm_names in enumerate(names):
            for name in arm_names:
                arm_of.setdefault(name, i)
        p, t = self.temp(), self.temp()
        b.emit(f"{p} = {self.const(arm_of, 'L')}.get({subject}, {len(values)})")
        arms = [*values, default]
        self.dispatch(b, p, len(arms), lambda i, blk: blk.emit(f"{t} = {hit(i, self.expr(arms[i], blk, d))}"))
        return t

    def dispatch(self, b: _Block, index: str, count: int, case) -> None:
        """`case(i, block)` for the value i of `index` (0 ≤ i < count): a balanced `if` tree on
        the index, log2(count) tests deep, each case compiled once and evaluated only when chosen."""
        def tree(lo: int, hi: int, blk: _Block) -> None:
            if hi - lo == 1:
                case(lo, blk)
                return
            mid = (lo + hi) // 2
            blk.emit(f"if {index} < {mid}:")
            tree(lo, mid, blk.child())
            blk.emit("else:")
            tree(mid, hi, blk.child())

        tree(0, count, b)

    def _branch_hit(self, keys: list[tuple] | None):
        """code -> code that also records the branch taken (traced variant only)."""
        if not self.trace or keys is None:
            return lambda i, code: code
        names = [self.const(k, "S") for k in keys]
        return lambda i, code: f"_br({names[i]}, {code})"

    def call(self, e: ast.Call, f: str, args, mod, b: _Block, d: int) -> str:
        ref = self.p.refs.get(id(e))
        if mod is None and ref is not None and ref.kind == "definition":
            mod = ref.module  # a module def calling a sibling def, unqualified
        if mod is not None or (f in self.p.definitions and self.p.definitions[f].kind == "def"):
            key = (mod, f) if mod else f
            fname = f"f_{mod}__{f}" if mod else f"f_{f}"
            self.defs_needed.add(key)
            return f"{fname}({', '.join(self.expr(a, b, d) for a in args)})"
        if f in HISTORY_CALLS:
            return self.history_call(e, f, args, b, d)
        vals = [self.expr(a, b, d) for a in args]
        match f:
            case "min" | "max" if self.type(e).kind is Kind.LEVEL:
                # §4a: levels order by band; the lowest / highest label
                order = self.const({lab: i for i, lab in enumerate(self.p.levels[self.type(e).name])}, "L")
                return f"{f}(({', '.join(vals)},), key={order}.__getitem__)"
            case "min" | "max" | "abs":
                return f"{f}({', '.join(vals)})"
            case "clamp":
                return f"_clamp({', '.join(vals)})"
            case "round":
                kind = self.type(args[0]).kind
                if len(args) == 1:
                    q = "_Q" if kind is Kind.MONEY else ("_Q_PCT" if kind is Kind.PERCENT else "_ONE")
                else:
                    places = args[1]
                    n = self.p.constants.get(id(places))
                    if n is None and isinstance(places, ast.Number):
                        n = places.value
                    if n is None:
                        raise Unsupported(f"round(x, places): places must be a constant at {places.span}")
                    shift = 2 if kind is Kind.PERCENT else 0
                    q = self.const(Decimal(1).scaleb(-(int(n) + shift)))
                return f"({vals[0]}).quantize({q}, rounding=_MODE)"
            case _:
                raise AssertionError(f"unhandled builtin {f}")

    def history_call(self, e: ast.Call, f: str, args, b: _Block, d: int) -> str:
        """§14.1: read the partner's History `H` (a missing period raises, `otherwise` catches)."""
        plan = self.plan
        if f == "streak":
            # `History.streak`, inlined: the condition first, then the count that ended in
            # the period just before (no count: the partner's previous period is not that one)
            j = plan.streaks[id(e)]
            return (f"((_Dec(H.streak_at[{j}] + 1) if H.last == H.t - 1 and H.streak_at else _ONE) "
                    f"if {self.expr(args[0], b, d)} else _ZERO)")
        n = int(self.p.constants[id(args[1])]) if len(args) == 2 else 1
        target = args[0]
        if f == "prior":
            if isinstance(target, ast.TotalRef):
                return f"H.prior_total({n})"
            # `H.prior(slot, n)` inlined (the stored tuples are never empty)
            return f"(H.values.get(H.t - {n}) or _missing_period({n}))[{plan.slots[self.ref(target).name]}]"
        if isinstance(target, ast.TotalRef):
            raise Unsupported(f"`{f}(total, ...)` is not supported by `ipl run`: the current total is not known yet")
        current = self.expr(target, b, d)
        return f"H.trailing({plan.slots[self.ref(target).name]}, {n}, {f.removeprefix('trailing_')!r}, {current})"

    uses_brs = False  # an `if` chain's arm records several branches (traced variant)
    in_eligibility = False  # compiling the gates: `eligible` / `reasons` are not known yet
    pw_pass = False  # compiling pass 1 of a program-wide policy (`pw_inputs`)
    defs_needed: set  # user functions called so far (compiled after the record function)


def _build(policy: CheckedPolicy, trace: bool):
    """Generate and execute the factory of one variant; returns (source, make)."""
    g = _Gen(policy, trace)
    g.defs_needed = set()
    defs = policy.definitions

    # phase 0, constants: params (with overrides) and module params, once per run
    const_lines: list[str] = []
    cb = _Block(const_lines, 1, set())
    g.scope = "const"
    for name in policy.order:
        if defs[name].kind == "param" and defs[name].module is None:
            g.ensure(name, cb)
    for mname, m in sorted(policy.modules.items()):
        for dname, dd in sorted(m.definitions.items()):
            # a module's tables depend on no input (§3): constants, computed once like its params
            if dd.kind in ("param", "tiers"):
                g.ensure((mname, dname), cb)
    g.const_computed = set(cb.computed)
    g.scope = "record"

    # phase 1, per record: inputs, eligibility, components and benefits; then settlement
    comps, bens = policy.components, policy.benefits
    multi = is_multi(policy)

    def record_body(pre: tuple | None) -> list[str]:
        """The record function's body; with `pre` (what pass 1 hands on: the keys it
        certainly computed, and those it may have computed), the body of
        `evaluate_pw(r, H, PW, K)`: it starts from pass 1's values and eligibility instead
        of computing them again."""
        return _record_body(g, policy, trace, comps, bens, multi, pre)

    record_lines = record_body(None)

    # pass 1 of a program-wide policy: the shares, values and `among` conditions (§15), and
    # (fast path) pass 2 from pass 1's values
    pw_lines: list[str] = []
    pw2_lines: list[str] = []
    if multi and g.plan.pw_exprs:
        pw_lines, pre = _pw_inputs(g, policy)
        if not trace:
            state = g.save()
            g.touched, g.needs_init = set(pre[0]) | set(pre[1]), set()
            pw2_lines = ["    def evaluate_pw(r, H, PW, K):"] + record_body(pre)
            g.restore(state)

    # what explanations need of the tables: band bounds and constant values
    table_entries = _table_consts(g, policy)

    # user functions (`def`, module defs): nested functions that see the constants
    func_lines: list[str] = []
    done: set = set()
    while g.defs_needed - done:
        key = sorted(g.defs_needed - done, key=str)[0]
        done.add(key)
        decl: ast.Def = g.definition(key).decl
        fname = f"f_{key[0]}__{key[1]}" if isinstance(key, tuple) else f"f_{key}"
        params = ", ".join(f"a_{p.name}" for p in decl.params)
        lines: list[str] = []
        fb = _Block(lines, 2, set())
        g.scope = "def"
        g.current = f"def {key[0]}.{key[1]}" if isinstance(key, tuple) else f"def {key}"
        code = g.expr(decl.body, fb)
        fb.emit(f"return {code}")
        func_lines.append(f"    def {fname}({params}):")
        func_lines.extend(lines)
    src = ["def _make(OVR):"]
    if trace:
        src += ["    _at = [None]", "    _trace = []", "    _ev = _trace.append",
                "    def _br(key, value):", "        _ev({'branch': key})", "        return value"]
        if g.uses_brs:
            src += ["    def _brs(keys, value):", "        for key in keys:", "            _ev({'branch': key})",
                    "        return value"]
    extras = []
    if multi:
        amounts = [g.const_expr(e.amount) if isinstance(e, ast.Pool) else "None" for e in g.plan.pw_exprs]
        budget = g.const_expr(policy.budget.amount) if policy.budget is not None else "None"
        extras.append(f"'pool_amounts': ({', '.join(amounts)}{',' if amounts else ''})")
        extras.append(f"'budget': {budget}")
        extras.append(f"'pw_inputs': {'pw_inputs' if pw_lines else 'None'}")
        extras.append(f"'evaluate_pw': {'evaluate_pw' if pw2_lines else 'None'}")
    src += func_lines
    src += const_lines
    src += g.tables_code
    src.append("    def evaluate(r, H=None, PW=None):")
    src += record_lines
    src += pw_lines
    src += pw2_lines
    params_out = ", ".join(f"{n!r}: p_{n}" for n in policy.order
                           if defs[n].kind == "param" and defs[n].module is None)
    src.append(f"    return evaluate, {{{params_out}}}, _tables({{{', '.join(table_entries)}}}), "
               f"{{{', '.join(extras)}}}")
    source = "\n".join(src) + "\n"
    ns = {
        "_UNSET": _UNSET, "_ZERO": runtime.ZERO, "_ONE": runtime.ONE, "_Q": runtime.quantum(policy.minor_units),
        "_MZERO": runtime.quantum(policy.minor_units) * 0,
        "_Q_PCT": Decimal("0.01"), "_MODE": g.mode, "_clamp": runtime.ipl_clamp,
        "_bisect": bisect.bisect_right, "_flat_steps": runtime.flat_steps, "_marginal_table": runtime.marginal_table,
        "_EvalError": runtime.EvalError, "_DIVERR": (ZeroDivisionError, decimal.InvalidOperation),
        "_not_div": _not_div, "_fmt": runtime.fmt_value, "_div": _div, "_ops": _ops,
        "_arith": _arith, "_tables": lambda values: _table_info(policy, values),
        "_HistoryMissing": Missing, "_pwv": _pwv, "_missing_period": missing_period, "_Dec": Decimal,
        "_hold_open": hold_open, "_clawback_due": clawback_due,
    }
    ns.update(g.consts)
    try:
        code = compile(source, f"<ipl {policy.source.path}{' traced' if trace else ''}>", "exec")
    except (RecursionError, MemoryError, SyntaxError) as err:
        raise Unsupported(_too_deep(err)) from None
    exec(code, ns)
    make = ns["_make"]

    def run(overrides):
        with decimal.localcontext(runtime.CONTEXT):
            return make(overrides)

    return source, run


def _too_deep(err: Exception) -> str:
    """Why Python's compiler refused the generated code, in the policy's terms, with what to
    change. Long expressions are split (MAX_EXPR_DEPTH), `if` chains laid flat, big tables and
    matches bisected: what is left is nesting that the policy's own structure makes, where a
    definition first needed inside a branch or an `otherwise` is computed there."""
    what = "the policy is too deeply nested to compile"
    text = getattr(err, "msg", None) or str(err) or type(err).__name__
    if "statically nested blocks" in text:
        return (f"{what}: more than 20 `otherwise` are evaluated inside one another (Python's limit; an "
                "`otherwise` whose expression reads a definition with an `otherwise` of its own nests it); "
                "help: shorten the chain of definitions guarded by `otherwise`, e.g. guard the division "
                "once, where the chain starts")
    if "indentation" in text:
        return (f"{what}: branches of `if`, `match`, `otherwise` and `and`/`or` nest more than 100 levels "
                "deep (Python's limit; a definition first needed inside a branch is computed there, so its "
                "own branches count too); help: shorten chains of definitions that are each first needed "
                "inside another one's branch")
    return (f"{what}: Python's compiler gave up on the generated code ({type(err).__name__}: {text}); "
            "help: split the longest expressions into named metrics")


class _Unset:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<not computed>"


_UNSET = _Unset()


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


def _tup(items: list[str]) -> str:
    """A tuple display of generated names."""
    return f"({', '.join(items)}{',' if items else ''})"


def _operand_text(e: ast.Expr) -> str:
    text = " ".join(e.span.text.split())
    if isinstance(e, (ast.Binary, ast.Otherwise, ast.If)) and not (text.startswith("(") and text.endswith(")")):
        return f"({text})"
    return text


def _not_div(err: Exception) -> bool:
    """Whether an error inside `otherwise` is something else than a division by zero (0/0 included)."""
    if isinstance(err, ZeroDivisionError):
        return False
    signals = err.args[0] if err.args and isinstance(err.args[0], list) else ()
    return decimal.DivisionUndefined not in signals


def _ops(values: dict) -> dict:
    return {k: v for k, v in values.items() if v is not _UNSET}


def _div(a, b, site):
    if b.is_zero():
        definition, location, left, right, text = site
        raise DivByZero(f"division by zero: `{text}`", definition, location,
                        ((left, a), (right, b)))
    return a / b


def _arith(err: ArithmeticError) -> str:
    if isinstance(err, decimal.InvalidOperation):
        return "a value is too large to be computed exactly (more than 34 digits)"
    if isinstance(err, decimal.Overflow):
        return "a value overflows the decimal range"
    return f"arithmetic error: {type(err).__name__}"


def _table_consts(g: _Gen, policy: CheckedPolicy) -> list[str]:
    out = []
    for name, d in policy.definitions.items():
        if d.kind != "tiers" or d.module is not None:
            continue
        t: ast.Tiers = d.decl
        refs = [g.const_expr(band.threshold) for band in t.bands]
        vals = []
        for band in t.bands:
            vals.append(g.const_expr(band.value) if _is_constant(g, band.value) else "None")
        out.append(f"{name!r}: (({', '.join(refs)},), ({', '.join(vals)},))")
    return out


def _is_constant(g: _Gen, e: ast.Expr) -> bool:
    for x in ast.walk(e):
        match x:
            case ast.Name():
                r = g.p.refs.get(id(x))
                if r is None or r.kind in ("local", "builtin"):
                    return False
                if r.kind == "definition" and not r.module and g.p.definitions[r.name].kind != "param":
                    return False
            case ast.Qualified() | ast.Pool() | ast.Rank() | ast.TotalRef():
                return False
            case ast.Call(module=m, func=f) if m is not None or f not in ("min", "max", "abs", "clamp", "round"):
                return False
            case _:
                pass
    return True


def _table_info(policy: CheckedPolicy, values: dict) -> dict[str, TableInfo]:
    out = {}
    for name, (bounds, vals) in values.items():
        t: ast.Tiers = policy.definitions[name].decl
        bands = []
        for i, band in enumerate(t.bands):
            lo = None if band.kind == "below" else bounds[i]
            hi = bounds[i + 1] if i + 1 < len(bounds) else None
            bands.append(Band(lo=lo, hi=hi, value=vals[i], text=band.value.span.text))
        out[name] = TableInfo(name=name, mode=t.mode, key_type=policy.types.get(id(t.key)),
                              value_type=policy.definitions[name].type, bands=tuple(bands),
                              rate_type=policy.types.get(id(t.bands[0].value)) if t.bands else None)
    return out


# ------------------------------------------------------------------ history and program-wide figures (§14, §15)


@dataclass
class _Plan:
    """Where history and program-wide figures sit: the same for both variants."""

    slots: dict[str, int]  # a name read through prior / trailing_* -> its slot in the stored tuple
    names: tuple[str, ...]
    streaks: dict[int, int]  # id(streak call) -> its index
    streak_exprs: list  # the conditions of the streak calls, by index
    pw: dict[int, int]  # id(pool | rank | percentile) -> its index
    pw_exprs: list
    window: int  # how many earlier periods history reads
    uses_total: bool
    holds: tuple  # (component, Hold) in declaration order


def _history_plan(policy: CheckedPolicy) -> _Plan:
    defs = policy.definitions
    roots: list[ast.Expr] = []
    for name in policy.order:
        d = defs[name]
        if d.module is None and d.kind != "def":
            roots.extend(_decl_exprs(d.decl))
    roots.extend(r.cond for r in policy.eligibility)
    if policy.total:
        roots.extend(i.value for i in policy.total.items)
    for cb in policy.clawbacks:
        roots.extend(x for x in (cb.when, cb.recover) if x is not None)
    names: list[str] = []
    streaks: dict[int, int] = {}
    sexprs: list = []
    pw: dict[int, int] = {}
    pexprs: list = []
    window = 0
    uses_total = False
    for root in roots:
        for e in ast.walk(root):
            match e:
                case ast.Call(func="streak", module=None, args=args) if id(e) not in streaks:
                    streaks[id(e)] = len(sexprs)
                    sexprs.append(args[0])
                case ast.Call(func=f, module=None, args=args) if f in HISTORY_CALLS and f != "streak":
                    n = _int_const(policy, args[1]) if len(args) == 2 else 1
                    window = max(window, n if f == "prior" else n - 1)
                    if isinstance(args[0], ast.TotalRef):
                        uses_total = True
                    else:
                        target = policy.refs[id(args[0])].name
                        if target not in names:
                            names.append(target)
                case ast.Pool() | ast.Rank() if id(e) not in pw:
                    pw[id(e)] = len(pexprs)
                    pexprs.append(e)
                case _:
                    pass
    holds = tuple((n, h) for n in policy.components for h in defs[n].decl.holds)
    return _Plan({n: i for i, n in enumerate(names)}, tuple(names), streaks, sexprs, pw, pexprs, window,
                 uses_total, holds)


def _int_const(policy: CheckedPolicy, e: ast.Expr) -> int:
    v = policy.constants.get(id(e))
    if v is None and isinstance(e, ast.Number):
        v = e.value
    if v is None:
        raise Unsupported(f"`{e.span.text}` must be a constant whole number")
    return int(v)


def _settle_parts(g: _Gen, b: _Block, eligible: bool) -> str:
    """Code for R_HIST and R_SETTLE of one record (eligible or not): the values history
    stores and the `streak` conditions, this period's hold portions, the `until` conditions, the clawbacks' conditions
    and portions (evaluated in every period, like the `until` conditions), the draw and the
    recoverable floor."""
    p, plan, defs = g.p, g.plan, g.p.definitions
    saved = g.current
    g.current = "settlement"
    vals, conds = [], []
    for name in plan.names:
        d = defs[name]
        if not eligible and d.kind in ("component", "benefit") and d.type.kind is not Kind.LEVEL:
            vals.append({Kind.BOOL: "False", Kind.MONEY: "_MZERO"}.get(d.type.kind, "_ZERO"))
        else:
            vals.append(g.ensure(name, b))
    for cond in plan.streak_exprs:
        t = g.temp()
        b.emit(f"{t} = {g.expr(cond, b)}")
        conds.append(t)
    holds, until = [], []
    for comp, hold in plan.holds:
        if eligible:
            t = g.temp()
            b.emit(f"{t} = {g.expr(hold.portion, b)}")
            holds.append(t)
        else:
            holds.append("None")
        # §5a: `until` only while a hold of the component is open
        t = g.temp()
        b.emit(f"{t} = False")
        b.emit(f"if _hold_open(H, {comp!r}):")
        sub = b.child()
        sub.emit(f"{t} = {g.expr(hold.until, sub)}")
        until.append(t)
    claws = []
    for cb in p.clawbacks:
        # §5a, §23.8: `when` only where an origin in the window has money left to recover or
        # still held; `recover` only where `when` holds
        w = g.temp()
        b.emit(f"{w} = False")
        b.emit(f"if _clawback_due(H, {cb.component!r}, {_int_const(p, cb.within)}):")
        sub = b.child()
        sub.emit(f"{w} = {g.expr(cb.when, sub) if cb.when is not None else 'True'}")
        rv = g.temp()
        b.emit(f"{rv} = _ONE")
        if cb.recover is not None:
            b.emit(f"if {w}:")
            sub = b.child()
            sub.emit(f"{rv} = {g.expr(cb.recover, sub)}")
        claws.append(f"({w}, {rv})")
    g.current = saved

    def tup(items: list[str]) -> str:
        return f"({', '.join(items)}{',' if items else ''})"

    draw = "dr, rfl" if eligible else "_MZERO, _MZERO"
    return f"({tup(vals)}, {tup(conds)}), ({tup(holds)}, {tup(until)}, {tup(claws)}, {draw})"


def _record_body(g: _Gen, policy: CheckedPolicy, trace: bool, comps, bens, multi: bool,
                 pre: tuple | None) -> list[str]:
    """Lines of the record function: inputs, eligibility, components and benefits, then the
    settlement. With `pre` (not traced): pass 2 of a program-wide policy, whose eligibility
    and the definitions in `pre` come from pass 1 (`K`, see `_pre_names`): those pass 1
    certainly computed (`pre[0]`) are computed here too; those it may have computed
    (`pre[1]`, `_UNSET` when it did not) are computed when still `_UNSET`, as a definition
    computed on one branch before."""
    defs = policy.definitions
    record_lines: list[str] = []
    body = _Block(record_lines, 2, set())
    for inp in policy.inputs:
        body.emit(f"v_{inp.name} = r[{inp.name!r}]")
    init_at = len(record_lines)
    if trace:
        body.emit("_trace.clear()")
        body.emit("try:")
        body = _Block(record_lines, 3, set())
    if pre is not None:
        body.emit(f"{''.join(n + ', ' for n in _pre_names(g, pre))}reasons, eligible = K")
        body.computed.update(pre[0])
    else:
        # eligibility (§8): every condition, no short-circuit
        body.emit("reasons = []")
        g.in_eligibility = True
        gates = []
        for req in policy.eligibility:
            g.current = "eligibility"
            cond = g.expr(req.cond, body)
            ok = g.temp()
            body.emit(f"{ok} = {cond}")
            reason = g.const(req.reason, "S")
            body.emit(f"if not {ok}: reasons.append({reason})")
            gates.append(f"({req.cond.span.text!r}, {ok}, {reason}, {g.site(req)}, {g.values_read(req.cond)})")
        g.in_eligibility = False
        body.emit("eligible = not reasons")
        body.emit("reasons = tuple(reasons)")
        if trace:
            body.emit(f"_ev({{'eligibility': ({', '.join(gates)}{',' if gates else ''}), 'eligible': eligible}})")
    for n in bens:  # §8: level benefits keep their value for an ineligible record
        if defs[n].type.kind is Kind.LEVEL:
            g.ensure(n, body)
    body.emit("if eligible:")
    yes = body.child()
    for n in comps:
        g.ensure(n, yes)
    for n in bens:
        g.ensure(n, yes)
    # settlement (§8): the sum of the rounded components, floors (eligible only), then caps
    yes.emit(f"s = {g.added(yes, [f'v_{n}' for n in comps], '_MZERO')}")
    yes.emit("t = s")
    items = policy.total.items if policy.total else ()
    g.current = "total"
    floors_t, caps_t = [], []
    if multi:
        yes.emit("rf = None")  # the highest recoverable floor (§14.5)
        yes.emit("nf = s")  # the sum, raised by the non-recoverable floors
    for item in items:
        if isinstance(item, ast.Floor):
            fv = g.temp()
            yes.emit(f"{fv} = {g.bound(item.value, yes, Kind.MONEY)}")
            yes.emit(f"if {fv} > t: t = {fv}")
            if multi and item.recoverable:
                yes.emit(f"if rf is None or {fv} > rf: rf = {fv}")
            elif multi:
                yes.emit(f"if {fv} > nf: nf = {fv}")
            floors_t.append(f"({item.value.span.text!r}, {fv})")
    yes.emit("fa = t - s")
    for item in items:
        if isinstance(item, ast.Cap):
            cv = g.temp()
            yes.emit(f"{cv} = {g.bound(item.value, yes, Kind.MONEY)}")
            yes.emit(f"if {cv} < t: t = {cv}")
            caps_t.append(f"({item.value.span.text!r}, {cv})")
    yes.emit("ca = t - s - fa")
    if multi:
        # a draw: what the recoverable floor added above the sum and the plain floors
        yes.emit("dr = _MZERO if rf is None or min(t, rf) <= nf else min(t, rf) - nf")
        yes.emit("rfl = _MZERO if rf is None else rf")
    yes.emit("lr = ()")
    for n in (*comps, *bens):
        if defs[n].decl.requires:
            yes.emit(f"if q_{n}: lr += (({n!r}, tuple(q_{n})),)")
    ben_vals = ", ".join(f"v_{n}" for n in bens)
    comp_vals = ", ".join(f"v_{n}" for n in comps)
    if trace:
        yes.emit(f"_ev({{'total': t, 'sum': s, 'floor_adjustment': fa, 'cap_adjustment': ca, "
                 f"'floors': ({', '.join(floors_t)}{',' if floors_t else ''}), "
                 f"'caps': ({', '.join(caps_t)}{',' if caps_t else ''})}})")
    result = (f"(True, reasons, ({comp_vals}{',' if comps else ''}), ({ben_vals}{',' if bens else ''}), "
              f"t, s, fa, ca, lr")
    if multi:
        result += ", " + _settle_parts(g, yes, eligible=True)
    result += ")"
    yes.emit(f"return {result}, list(_trace)" if trace else f"return {result}")
    body.emit("else:")
    no = body.child()
    zeros = []
    for n in bens:
        k = defs[n].type.kind
        zeros.append({Kind.LEVEL: f"v_{n}", Kind.BOOL: "False", Kind.MONEY: "_MZERO"}.get(k, "_ZERO"))
    result = (f"(False, reasons, ({', '.join('_MZERO' for _ in comps)}{',' if comps else ''}), "
              f"({', '.join(zeros)}{',' if zeros else ''}), _MZERO, _MZERO, _MZERO, _MZERO, ()")
    if multi:
        result += ", " + _settle_parts(g, no, eligible=False)
    result += ")"
    no.emit(f"return {result}, list(_trace)" if trace else f"return {result}")
    if trace:
        inits = [f"        v_{n} = _UNSET" for n, dd in sorted(defs.items())
                 if dd.kind not in ("input", "param", "def") and dd.module is None]
    else:
        handed = set(pre[1]) if pre is not None else set()  # K sets them (or `_UNSET`)
        inits = [f"        v_{n} = _UNSET" for n in sorted(g.needs_init - handed) if isinstance(n, str)]
    record_lines[init_at:init_at] = inits
    if trace:
        record_lines.append("        except _EvalError:")
        record_lines.append("            raise")
        record_lines.append("        except _HistoryMissing as err:")
        record_lines.append("            raise _EvalError(str(err) + ' (and no `otherwise` gives a fallback)', _at[0]) from None")
        record_lines.append("        except ArithmeticError as err:")
        record_lines.append("            raise _EvalError(_arith(err), _at[0]) from None")

    return record_lines


def _pw_inputs(g: _Gen, policy: CheckedPolicy) -> tuple[list[str], tuple]:
    """`pw_inputs(r, H)`: pass 1 of a program-wide policy — per pool / rank / percentile,
    (value, among): the share or value (None where `among` does not hold) and the condition;
    and `K`, the values pass 2 (`evaluate_pw`) starts from. Returns the lines and the keys
    of the definitions in `K`."""
    state, saved_cur = g.save(), g.current
    g.touched, g.needs_init = set(), set()
    g.pw_pass = True
    lines: list[str] = []
    b = _Block(lines, 2, set())
    for inp in policy.inputs:
        b.emit(f"v_{inp.name} = r[{inp.name!r}]")
    init_at = len(lines)
    b.emit("reasons = []")
    g.in_eligibility = True
    for req in policy.eligibility:
        g.current = "eligibility"
        ok = g.temp()
        b.emit(f"{ok} = {g.expr(req.cond, b)}")
        b.emit(f"if not {ok}: reasons.append({g.const(req.reason, 'S')})")
    g.in_eligibility = False
    b.emit("eligible = not reasons")
    b.emit("reasons = tuple(reasons)")
    items = []
    for e in g.plan.pw_exprs:
        g.current = "program-wide"
        among = g.temp()
        b.emit(f"{among} = {g.expr(e.among, b) if e.among is not None else 'True'}")
        v = g.temp()
        b.emit(f"{v} = None")
        b.emit(f"if {among}:")
        sub = b.child()
        sub.emit(f"{v} = {g.expr(e.share if isinstance(e, ast.Pool) else e.value, sub)}")
        items.append(f"({v}, {among})")
    # what pass 2 starts from (`evaluate_pw`): the definitions pass 1 certainly computed
    certain = tuple(sorted(b.computed, key=str))
    # computed on some branch only (`_UNSET` otherwise); not a component or benefit with
    # requirements, whose requirement list exists only where it was computed
    maybe = tuple(sorted((k for k in g.touched - b.computed if isinstance(k, str)
                          and not (policy.definitions[k].kind in ("component", "benefit")
                                   and policy.definitions[k].decl.requires)), key=str))
    pre = (certain, maybe)
    b.emit(f"return ({', '.join(items)},), ({''.join(n + ', ' for n in _pre_names(g, pre))}reasons, eligible)")
    if g.trace:
        inits = [f"        v_{n} = _UNSET" for n, dd in sorted(policy.definitions.items())
                 if dd.kind not in ("input", "param", "def") and dd.module is None]
    else:
        inits = [f"        v_{n} = _UNSET" for n in sorted(g.needs_init | set(maybe)) if isinstance(n, str)]
    lines[init_at:init_at] = inits
    g.restore(state)
    g.pw_pass = False
    g.current = saved_cur
    return ["    def pw_inputs(r, H=None):"] + lines, pre


def _pre_names(g: _Gen, pre: tuple) -> list[str]:
    """The locals pass 1 hands to pass 2 (`K`, then `reasons, eligible`): the definitions
    it certainly computed, the requirement lists of those that are components and benefits
    (the result's line reasons read them), then the definitions it may have computed."""
    certain, maybe = pre
    names = [g.var(key) for key in certain]
    for key in certain:
        if isinstance(key, str) and g.p.definitions[key].kind in ("component", "benefit") \
                and g.p.definitions[key].decl.requires:
            names.append(f"q_{key}")
    return names + [g.var(key) for key in maybe]


def _pwv(pw, i: int):
    """A program-wide figure of this record; a record left out by `among` has no rank."""
    value = pw[i][0]
    if value is None:
        raise NotRanked("the record is not among the ranked records")
    return value


def _multi_info(policy: CheckedPolicy, extras: dict) -> MultiInfo:
    plan = _history_plan(policy)
    sites = []
    for i, e in enumerate(plan.pw_exprs):
        if isinstance(e, ast.Pool):
            owner = next((n for n in (*policy.components, *policy.benefits)
                          if policy.definitions[n].decl.value is e), None)
            sites.append(PwSite("pool", extras["pool_amounts"][i], owner, " ".join(e.span.text.split())))
        else:
            sites.append(PwSite(e.kind, None, None, " ".join(e.span.text.split())))
    for site in sites:
        if site.kind == "pool" and site.amount is not None and site.amount < 0:
            raise Unsupported(f"a pool amount must not be negative: `{site.text}` is {site.amount}")
    if extras.get("budget") is not None and extras["budget"] < 0:
        raise Unsupported(f"the budget must not be negative: {extras['budget']}")
    return MultiInfo(
        period_field=policy.period_input, granularity=policy.period,
        hist_names=plan.names, streaks=len(plan.streak_exprs), window=plan.window,
        hold_components=tuple((n, _int_const(policy, h.within)) for n, h in plan.holds),
        clawbacks=tuple((cb.component, _int_const(policy, cb.within)) for cb in policy.clawbacks),
        pw_sites=tuple(sites), pw_inputs=extras.get("pw_inputs"), budget=extras.get("budget"),
        uses_total=plan.uses_total, evaluate_pw=extras.get("evaluate_pw"),
        draws=any(isinstance(i, ast.Floor) and i.recoverable for i in (policy.total.items if policy.total else ())))
