"""The Python backend's product: a compiled policy, and the named result of one record.

Receives an IR `Program` (dsl/ir/nodes.py) — the only thing the backend reads — and `--set`
overrides (validated param values). `compile_program` guarantees a `CompiledPolicy` whose
`evaluate(record)` computes, for a validated record (input name → Decimal | str | bool), the
record's `RecordResult`: every definition at most once and on demand, eligibility with every
failing reason, component steps require → floor → cap → round, total floors and caps as
signed adjustments, money rounded only where the language says, in `runtime.CONTEXT`. Two
variants come from the same generator: the untraced fast path and, compiled on first use, a
traced one (`traced()`) that records every definition, its operands, bands, scorecard parts,
gates, floors and caps, and the branch taken at every decision.

Emits no diagnostics: what no evaluator runs is `Unsupported` (the CLI exits 2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable, NamedTuple

from dsl.backends.python import runtime
from dsl.backends.python.build import build
from dsl.checker.types import Type
from dsl.ir import nodes as ir
from dsl.ir.lower import Unsupported
from dsl.checker.resolution import HISTORY_FUNCTIONS


class RecordResult(NamedTuple):
    """What one record's evaluation gives (a named tuple: the fast path makes one per record)."""

    eligible: bool
    reasons: tuple[str, ...]  # the failing eligibility gates' reasons
    components: tuple[Decimal, ...]  # in declaration order, rounded
    benefits: tuple  # in declaration order
    total: Decimal  # after floors and caps (0 for an ineligible record)
    sum: Decimal  # of the components
    floor_adjustment: Decimal
    cap_adjustment: Decimal
    line_reasons: tuple  # ((component or benefit, its failing `require` reasons), ...)
    # multi-period and program-wide policies only (`CompiledPolicy.multi`):
    history: tuple | None = None  # (values kept for `prior` / `trailing_*`, `streak` conditions)
    settlement: tuple | None = None  # (hold portions, until, ((when, recover), ...), draw, recoverable floor)


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


@dataclass(frozen=True, slots=True)
class PwSite:
    """A `pool`, `rank` or `percentile` expression of the policy (language §16)."""

    kind: str  # pool | rank | percentile
    amount: Decimal | None = None  # pool: the amount (a constant)
    component: str | None = None  # pool: the component whose value is the pool itself (for unallocated)
    text: str = ""


@dataclass(frozen=True, slots=True)
class MultiInfo:
    """What the runner needs of a multi-period or program-wide policy (language §15, §16)."""

    period_field: str | None
    granularity: str | None
    hist_names: tuple[str, ...]  # names read through prior/trailing (slots of the stored tuple)
    streaks: int  # number of `streak` call sites (their conditions follow the names)
    window: int  # how many earlier periods history reads
    hold_components: tuple[tuple[str, int], ...]  # (component, within)
    clawbacks: tuple[tuple[str, int], ...]  # (component, within), declaration order
    pw_sites: tuple[PwSite, ...]
    pw_inputs: Callable | None  # (record, H) -> (((value, among), ...) per site, K)
    budget: Decimal | None
    uses_total: bool  # `prior(total)`
    # (record, H, PW, K) -> result: pass 2 from pass 1's values K (the fast path; None: `evaluate`)
    evaluate_pw: Callable | None = None
    draws: bool = True  # a recoverable floor: a record can draw (else the draw is always 0)


@dataclass
class CompiledPolicy:
    program: ir.Program
    components: tuple[Line, ...]
    benefits: tuple[Line, ...]
    params: dict[str, object]  # the values in force (defaults with overrides)
    tables: dict[str, TableInfo]
    evaluate: Callable  # record -> RecordResult
    source: str  # the generated fast-path source, as executed
    listing: str  # the same with its constants named (`ipl compile --emit python`)
    money: runtime.Money
    _overrides: dict = field(default_factory=dict)
    _traced: Callable | None = None
    traced_source: str = ""
    traced_listing: str = ""
    multi: MultiInfo | None = None  # for a multi-period or program-wide policy

    @property
    def id_field(self) -> str:
        return self.program.id_input

    def traced(self):
        """record -> (RecordResult, trace events); compiled on first use."""
        if self._traced is None:
            built = build(self.program, True, RecordResult, lambda values: _table_info(self.program, values))
            self.traced_source, self.traced_listing = built.source, built.listing
            self._traced = built.make(self._overrides)[0]  # (record, H=None, PW=None) -> (result, events)
        return self._traced


def compile_program(program: ir.Program, overrides: dict[str, object] | None = None) -> CompiledPolicy:
    """Compile `program`; `overrides` are validated param values (`--set`)."""
    refuse_unsupported(program)
    overrides = dict(overrides or {})
    built = build(program, False, RecordResult, lambda values: _table_info(program, values))
    evaluate, params, tables, extras = built.make(overrides)
    money = runtime.Money(program.currency, program.minor_units, runtime.ROUNDING_MODES[program.rounding])
    defs = program.definitions
    comps = tuple(Line(n, "component", defs[n].type) for n in program.components)
    bens = tuple(Line(n, "benefit", defs[n].type) for n in program.benefits)
    return CompiledPolicy(program=program, components=comps, benefits=bens, params=params, tables=tables,
                          evaluate=evaluate, source=built.source, listing=built.listing, money=money, _overrides=overrides,
                          multi=_multi_info(program, extras) if extras else None)


def refuse_unsupported(program: ir.Program) -> None:
    """What the evaluator cannot run: history or program-wide figures inside a `def` (a
    function sees only its arguments) or inside the eligibility conditions pools filter on."""
    def no(what: str) -> None:
        raise Unsupported(f"{what} is not supported by `ipl run`")

    for key, d in program.definitions.items():
        if isinstance(d, ir.Function):
            where = f"the function `{key}`" if isinstance(key, str) else f"the module `{key[0]}`"
            roots = [d.body]
        elif isinstance(key, tuple) and isinstance(d, (ir.Param, ir.Table)):
            where = f"the module `{key[0]}`"
            roots = [d.value] if isinstance(d, ir.Param) else \
                [d.on, *(b.threshold for b in d.bands), *(b.value for b in d.bands)]
        else:
            continue
        for root in roots:
            for e in ir.walk(root):
                match e:
                    case ir.Pool() | ir.Rank():
                        no(f"`pool`, `rank` or `percentile` inside {where}")
                    case ir.Call(func=f) if f in HISTORY_FUNCTIONS:
                        no(f"`{f}` inside {where}")
                    case ir.Builtin(name="periods_active"):
                        no(f"`periods_active` inside {where}")
    for gate in program.gates:
        for e in ir.walk(gate.cond):
            if isinstance(e, (ir.Pool, ir.Rank)):
                no("`pool`, `rank` or `percentile` in an eligibility condition")


def _table_info(program: ir.Program, values: dict) -> dict[str, TableInfo]:
    out = {}
    for name, (bounds, vals) in values.items():
        t: ir.Table = program.definitions[name]
        bands = []
        for i, band in enumerate(t.bands):
            lo = None if band.kind == "below" else bounds[i]
            hi = bounds[i + 1] if i + 1 < len(bounds) else None
            bands.append(Band(lo=lo, hi=hi, value=vals[i], text=band.value.span.text))
        out[name] = TableInfo(name=name, mode=t.mode, key_type=t.on.type, value_type=t.type, bands=tuple(bands),
                              rate_type=t.bands[0].value.type if t.bands else None)
    return out


def _multi_info(program: ir.Program, extras: dict) -> MultiInfo:
    sites = []
    for i, e in enumerate(program.sites):
        text = " ".join(e.span.text.split())
        if isinstance(e, ir.Pool):
            owner = next((n for n in (*program.components, *program.benefits) if program.definitions[n].value is e),
                         None)
            sites.append(PwSite("pool", extras["pool_amounts"][i], owner, text))
        else:
            sites.append(PwSite(e.kind, None, None, text))
    for site in sites:
        if site.kind == "pool" and site.amount is not None and site.amount < 0:
            raise Unsupported(f"a pool amount must not be negative: `{site.text}` is {site.amount}")
    if extras.get("budget") is not None and extras["budget"] < 0:
        raise Unsupported(f"the budget must not be negative: {extras['budget']}")
    holds = tuple((n, h.within) for n in program.components for h in program.definitions[n].holds)
    return MultiInfo(
        period_field=program.period_input, granularity=program.granularity,
        hist_names=program.history.names, streaks=len(program.history.streaks), window=program.history.window,
        hold_components=holds, clawbacks=tuple((cb.component, cb.within) for cb in program.clawbacks),
        pw_sites=tuple(sites), pw_inputs=extras.get("pw_inputs"), budget=extras.get("budget"),
        uses_total=program.history.uses_total, evaluate_pw=extras.get("evaluate_pw"),
        draws=any(f.recoverable for f in program.floors))
