"""Decision coverage of a policy by its tests (spec §12 `ipl test --coverage`).

Receives a `CheckedPolicy` (for the inventory) and the events of traced
evaluations (dsl/backends/python/build.py's traced variant, one list per test record).
Guarantees:

- `inventory(policy)`: every decision outcome of the policy file, found
  statically from its AST, in source order — each band of a tier table chosen
  (flat: the band holding the key; marginal: the band the key ends in), both
  branches of every `if`, every arm of every `match` (arms after an `else` arm
  are never evaluated and are not counted), every `otherwise` fallback taken
  and not taken, every `require` (eligibility and component/benefit) passing
  and failing, every cap and floor (component, benefit, total) binding and not
  binding, every scorecard measure cap capping and not capping;
- `hits(compiled, events)`: the outcomes one traced evaluation reached (keys
  comparable with the inventory's);
- `Coverage`: hits accumulated over tests (failing tests count too), the
  percentage and the outcomes no test reached, with file:line:col and source.

What is not counted (decided, docs/testing.md): decisions inside `param`
values and other constant expressions (evaluated once per run, not per
record), inside used modules (their own tests cover them), and `and`/`or`
short circuits. A cap binds when it lowers the value and is the one that sets
it (two equal caps that both lower it both bind); a floor binds when it
raises the value and is the one that sets it. Emits no diagnostics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from dsl.front import ast
from dsl.ir.nodes import decision_key
from dsl.checker.checked import CheckedPolicy
from dsl.front.source import Span
from dsl.checker.resolution import NUMERIC_FUNCTIONS

BRANCH_EVENT = "branch"  # the traced variant's `{'branch': key}` events (if, match, otherwise)


@dataclass(frozen=True, slots=True)
class Decision:
    """One outcome of one decision point."""

    key: tuple  # what the hit events name
    where: str  # "component accelerator", "tiers renewal_tier", "eligibility", ...
    what: str  # "band `from 80% -> 2%` chosen", "`cap base * 50%` binding", ...
    span: Span

    @property
    def location(self) -> str:
        return str(self.span)


# ------------------------------------------------------------------ keys (shared with compile.py)


branch_key = decision_key  # the key of a decision's outcome: dsl/ir/nodes.py


# ------------------------------------------------------------------ the inventory


def inventory(policy: CheckedPolicy) -> list[Decision]:
    """Every decision outcome of the policy file, in source order."""
    out: list[Decision] = []
    for decl in policy.file.decls:
        match decl:
            case ast.Use() | ast.Input() | ast.Param() | ast.Clawback() | ast.Program():
                pass  # no per-record decision (params are constants; §14/§15 come with issue 6)
            case ast.Metric(name=n, value=v):
                _walk(out, f"metric {n}", v)
            case ast.Def(name=n, body=body):
                _walk(out, f"def {n}", body)
            case ast.Tiers():
                _tiers(out, decl)
            case ast.Scorecard(name=n, measures=measures):
                for i, m in enumerate(measures):
                    _walk(out, f"scorecard {n}", m.metric)
                    if m.cap is not None:
                        text = _short(m.metric.span.text)
                        out.append(Decision(("measure", n, i, "capped"), f"scorecard {n}",
                                            f"measure `{text}` capped at `{_short(m.cap.span.text)}`", m.span))
                        out.append(Decision(("measure", n, i, "not capped"), f"scorecard {n}",
                                            f"measure `{text}` under its cap", m.span))
            case ast.Eligibility(requires=reqs):
                for i, r in enumerate(reqs):
                    _require(out, ("eligibility", i), "eligibility", r)
                    _walk(out, "eligibility", r.cond)
            case ast.Component(kind=kind, name=n, value=v):
                where = f"{kind} {n}"
                _walk(out, where, v)
                for i, r in enumerate(decl.requires):
                    _require(out, ("require", n, i), where, r)
                    _walk(out, where, r.cond)
                _bounds(out, policy, n, where, decl.floors, decl.caps)
            case ast.Total(items=items):
                floors = tuple(x for x in items if isinstance(x, ast.Floor))
                caps = tuple(x for x in items if isinstance(x, ast.Cap))
                _bounds(out, policy, "total", "total", floors, caps)
            case _:
                raise AssertionError(f"unhandled {type(decl).__name__}")
    return out


def _short(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def _walk(out: list[Decision], where: str, root: ast.Expr) -> None:
    for e in ast.walk(root):
        match e:
            case ast.If(then=then, otherwise=other):
                cond = _short(e.cond.span.text, 40)
                out.append(Decision(branch_key("if", e, "then"), where, f"`if {cond}`: then branch taken",
                                    then.span))
                out.append(Decision(branch_key("if", e, "else"), where, f"`if {cond}`: else branch taken",
                                    other.span))
            case ast.Match(arms=arms):
                subject = _short(e.subject.span.text, 40)
                for i, arm in enumerate(arms):
                    pats = " | ".join(p.name if p.kind == "name" else p.kind for p in arm.patterns)
                    out.append(Decision(branch_key("match", e, i), where,
                                        f"`match {subject}`: arm `{pats}` taken", arm.span))
                    if any(p.kind == "else" for p in arm.patterns):
                        break  # later arms are never evaluated (W103)
            case ast.Otherwise(fallback=fb):
                out.append(Decision(branch_key("otherwise", e, "taken"), where,
                                    f"fallback `otherwise {_short(fb.span.text, 40)}` taken", e.span))
                out.append(Decision(branch_key("otherwise", e, "not taken"), where,
                                    f"`{_short(e.expr.span.text, 40)}` computed without its fallback", e.span))
            case _:
                pass


def _tiers(out: list[Decision], t: ast.Tiers) -> None:
    where = f"tiers {t.name}"
    _walk(out, where, t.key)
    for i, band in enumerate(t.bands):
        out.append(Decision(("band", t.name, i), where, f"band `{_short(band.span.text)}` reached", band.span))
    if t.mode == "flat":
        for band in t.bands:
            _walk(out, where, band.value)


def _require(out: list[Decision], key: tuple, where: str, r: ast.Require) -> None:
    text = _short(r.cond.span.text)
    out.append(Decision((*key, "pass"), where, f"`require {text}` passing", r.span))
    out.append(Decision((*key, "fail"), where, f"`require {text}` failing", r.span))


def _bounds(out: list[Decision], policy: CheckedPolicy, name: str, where: str,
            floors: tuple[ast.Floor, ...], caps: tuple[ast.Cap, ...]) -> None:
    for kind, items in (("floor", floors), ("cap", caps)):
        for i, item in enumerate(items):
            text = _short(item.value.span.text)
            out.append(Decision((kind, name, i, "binding"), where, f"`{kind} {text}` binding", item.span))
            out.append(Decision((kind, name, i, "not binding"), where, f"`{kind} {text}` not binding", item.span))
            if not _constant(policy, item.value):
                _walk(out, where, item.value)


def _constant(policy: CheckedPolicy, e: ast.Expr) -> bool:
    """Whether compile.py evaluates `e` once per run (params and literals only)."""
    for x in ast.walk(e):
        match x:
            case ast.Name():
                r = policy.refs.get(id(x))
                if r is None or r.kind in ("local", "builtin"):
                    return False
                if r.kind == "definition" and not r.module and policy.definitions[r.name].kind != "param":
                    return False
            case ast.Qualified() | ast.Pool() | ast.Rank() | ast.TotalRef():
                return False
            case ast.Call(module=m, func=f) if m is not None or f not in NUMERIC_FUNCTIONS:
                return False
            case _:
                pass
    return True


# ------------------------------------------------------------------ hits of one evaluation


def hits(compiled, events: list) -> set[tuple]:
    """The decision outcomes one traced evaluation reached (`compiled`: a CompiledPolicy)."""
    out: set[tuple] = set()
    for ev in events:
        if BRANCH_EVENT in ev:
            out.add(ev[BRANCH_EVENT])  # (kind, path, start, end, outcome): see branch_key
        elif "def" in ev and "kind" in ev:
            _definition_hits(compiled, ev, out)
        elif "eligibility" in ev:
            for i, gate in enumerate(ev["eligibility"]):
                out.add(("eligibility", i, "pass" if gate[1] else "fail"))
        elif "total" in ev and "sum" in ev:
            s = ev["sum"]
            after_floors = s + ev["floor_adjustment"]
            _bound_hits(out, "total", s, after_floors, ev["total"], ev.get("floors", ()), ev.get("caps", ()))
    return out


def _definition_hits(compiled, ev: dict, out: set[tuple]) -> None:
    name, kind = ev["def"], ev["kind"]
    if kind == "tiers":
        table = compiled.tables.get(name)
        if "band" in ev and ev["band"] is not None:
            out.add(("band", name, ev["band"]))
        elif table is not None and table.mode == "marginal" and "key" in ev:
            key = ev["key"]
            for i, band in enumerate(table.bands):
                if band.lo <= key and (band.hi is None or key < band.hi):
                    out.add(("band", name, i))
    for i, part in enumerate(ev.get("parts", ())):
        attainment, used = part[3], part[4]
        out.add(("measure", name, i, "capped" if used < attainment else "not capped"))
    if kind in ("component", "benefit"):
        for i, gate in enumerate(ev.get("gates", ())):
            out.add(("require", name, i, "pass" if gate[1] else "fail"))
        if "raw" in ev:
            raw = ev["raw"]
            floors, caps = ev.get("floors", ()), ev.get("caps", ())
            after_floors = max([raw, *(v for _, v in floors)]) if floors else raw
            final = min([after_floors, *(v for _, v in caps)]) if caps else after_floors
            _bound_hits(out, name, raw, after_floors, final, floors, caps)


def _bound_hits(out: set[tuple], name: str, raw: Decimal, after_floors: Decimal, final: Decimal,
                floors, caps) -> None:
    for i, (_text, v) in enumerate(floors):
        out.add(("floor", name, i, "binding" if v > raw and v == after_floors else "not binding"))
    for i, (_text, v) in enumerate(caps):
        out.add(("cap", name, i, "binding" if v < after_floors and v == final else "not binding"))


# ------------------------------------------------------------------ accumulated coverage


@dataclass
class Coverage:
    """One policy's decisions and the outcomes its tests reached."""

    policy: str  # the policy's path
    decisions: list[Decision]
    reached: set[tuple] = field(default_factory=set)

    def add(self, keys: set[tuple]) -> None:
        self.reached |= keys

    @property
    def total(self) -> int:
        return len(self.decisions)

    @property
    def covered(self) -> int:
        return sum(1 for d in self.decisions if d.key in self.reached)

    @property
    def missed(self) -> list[Decision]:
        return [d for d in self.decisions if d.key not in self.reached]

    @property
    def percent(self) -> Decimal:
        """Exact share of outcomes reached, in percent (100 when there is nothing to decide)."""
        if not self.decisions:
            return Decimal(100)
        return Decimal(self.covered) * 100 / Decimal(self.total)


def percent_text(value: Decimal) -> str:
    """`93.548...` → `93.5 %` (one decimal, rounded down so that 89.96 never shows as 90.0)."""
    from decimal import ROUND_DOWN

    return f"{value.quantize(Decimal('0.1'), rounding=ROUND_DOWN)} %"


def render(coverages: list[Coverage]) -> str:
    """The coverage report: per policy, the percentage and every outcome no test reached."""
    lines = ["decision coverage:"]
    for cov in coverages:
        lines.append(f"  {cov.policy}: {cov.covered} of {cov.total} outcomes reached ({percent_text(cov.percent)})")
        missed = cov.missed
        if missed:
            lines.append("  not reached by any test:")
            for d in missed:
                src = d.span.source.line_text(d.span.line).strip()
                lines.append(f"    {d.location}: {d.where}: {d.what}")
                lines.append(f"      | {_short(src, 100)}")
    return "\n".join(lines) + "\n"


__all__ = ["Decision", "Coverage", "inventory", "hits", "render", "percent_text", "branch_key"]
