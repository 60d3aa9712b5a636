"""`ipl diff`: the payout impact of changing a policy (spec §12, issue 5 item 4).

Receives two compiled policies (OLD and NEW) and one records file. Evaluates
both over the same records, in one streaming pass, and matches the two
outcomes of each record by its row in the file (the same record under both
policies; the row is shown as the record's id, and its period when the policy
is multi-period, so that a record keyed by (id, period) is compared per
(id, period)). For a policy that settles (language §15, §16) a record's amount is its
period's payable.
Guarantees a `Report`:

- total cost old / new / delta / percent (exact Decimals; the percent is the
  exact ratio rounded half-even to 2 places, None when the old total is 0);
  `total.delta` equals the sum of the per-record deltas, where a rejected
  record counts 0 on its side;
- per component (by name; `added` / `removed` when only in one policy), the
  total floors and caps as adjustment lines, so that the component lines add
  up to the total on each side (multi-period: with the settlement lines — held,
  released, clawback, ... — so that they add up to the payables); money benefits apart;
- records whose total changed (count, up, down) and the biggest movers (by
  absolute delta, ties by id, period, row), each with an explanation made by
  diffing the two traces of that record: eligibility flips, per component the
  gates, caps and floors that started or stopped binding, a changed
  definition text, and the operands whose values differ (old → new, with the
  band for tables);
- per level or tier table (and level benefit): up / down counts in band (or
  label) order, with the per-record list;
- records newly rejected / accepted, newly ineligible / eligible.

Memory holds the counters, the per-component sums, a heap of the `top`
biggest movers (with their two traces) and the per-record lists the report
shows (all of them for JSON; the first `LIST_LIMIT` otherwise). Emits no
diagnostics: a policy with errors is a `BrokenPolicy` (the CLI prints its
diagnostics and exits 2), a usage problem is `UsageProblem` (dsl/run/policy.py: exit 2).
"""

from __future__ import annotations

import decimal
import heapq
import html
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from itertools import zip_longest
from pathlib import Path

from dsl.backends.python import runtime
from dsl.backends.python.compiled import CompiledPolicy
from dsl.checker.currency import minor_units
from dsl.front.diagnostics import Diagnostics
from dsl.run.records import Reject
from dsl.backends.python.runtime import fmt_decimal
from dsl.checker.types import Kind

ZERO = Decimal(0)
LIST_LIMIT = 10  # per-record entries kept for text and markdown (JSON keeps them all)
SCHEMA = "ipl-diff/1"


class BrokenPolicy(Exception):
    """OLD or NEW does not check: `diags` says why (the CLI prints them and exits 2)."""

    def __init__(self, which: str, path: str, diags: Diagnostics):
        super().__init__(f"the {which} policy {path} has errors: fix them (ipl check {path}) before diffing")
        self.which, self.path, self.diags = which, path, diags


# ------------------------------------------------------------------ one record under one policy


@dataclass(slots=True)
class Side:
    """A record's outcome under one policy: a reject, or the result tuple and its trace events."""

    row: int
    id: str | None
    period: str | None
    reject: Reject | None = None
    result: tuple | None = None
    events: list | None = None
    settlement: tuple | None = None  # multi-period: (name, amount) of each settlement column (§14.4)

    @property
    def accepted(self) -> bool:
        return self.reject is None

    @property
    def eligible(self) -> bool:
        return self.result is not None and bool(self.result.eligible)

    @property
    def total(self) -> Decimal:
        """What the record is paid: its total, or in a multi-period policy its period's payable."""
        if self.settlement is not None:
            return self.settlement[-1][1]
        return self.result.total if self.result is not None else ZERO


def outcomes(compiled: CompiledPolicy, records: str) -> Iterator[Side]:
    """Every record's outcome under `compiled` — one `Side` per record, or per (id, period) for
    a policy that settles — evaluated with the traced variant, as a stream.

    The traced variant is used for every record (about twice the fast path's time) because the
    level and tier changes are read from the trace, and the movers' explanations need it. The
    run (dsl/run/runner.py) calls back per outcome; a thread runs it and hands each outcome
    over through a bounded queue, so that the two policies advance together and memory holds
    what the runner itself holds (one record, or one period), not the run.
    """
    import queue
    import threading

    from dsl.run.columns import SETTLEMENT_COLUMNS
    from dsl.run.runner import run

    handoff: queue.Queue = queue.Queue(maxsize=256)
    done = object()

    def on_row(row) -> None:
        cols = tuple(zip(SETTLEMENT_COLUMNS, row.settlement.columns())) if row.settlement is not None else None
        handoff.put(Side(row.row, row.id, str(row.period) if row.period is not None else None, result=row.result,
                         events=row.events, settlement=cols))

    def on_reject(r: Reject) -> None:
        handoff.put(Side(r.row, r.id, None, reject=r))

    def produce() -> None:
        try:
            run(compiled, records, on_row, on_reject, traced=True)
            handoff.put(done)
        except BaseException as err:  # noqa: BLE001 - re-raised in the consuming thread
            handoff.put(err)

    worker = threading.Thread(target=produce, name="ipl-diff-run", daemon=True)
    worker.start()
    while True:
        item = handoff.get()
        if item is done:
            break
        if isinstance(item, BaseException):
            raise item
        yield item
    worker.join()


def _tiers(compiled: CompiledPolicy, side: Side) -> dict[str, tuple[int, object]]:
    """table (or level benefit) -> (position in band/label order, value) for what this record reached."""
    out: dict[str, tuple[int, object]] = {}
    if side.events is None:
        return out
    for ev in side.events:
        if ev.get("kind") != "tiers":
            continue
        name = ev["def"]
        table = compiled.tables.get(name)
        if table is None:
            continue
        index = ev.get("band")
        if index is None and "key" in ev:  # marginal: the band that holds the key
            index = max((i for i, b in enumerate(table.bands) if b.lo is None or b.lo <= ev["key"]), default=None)
        if index is not None:
            out[name] = (index, ev["value"])
    if side.result is not None:
        for i, b in enumerate(compiled.benefits):
            if b.type.kind is Kind.LEVEL:
                labels = compiled.program.levels.get(b.type.name or "", ())
                label = side.result.benefits[i]
                if label in labels:
                    out[b.name] = (labels.index(label), label)
    return out


# ------------------------------------------------------------------ the report


@dataclass(slots=True)
class Amounts:
    """One line of a table: old and new amounts (None where the line is not in that policy)."""

    name: str
    old: Decimal | None
    new: Decimal | None
    label: str = ""  # §2a: what people read (the new policy's `##` label, else the old one's)

    @property
    def title(self) -> str:
        return self.label or self.name

    @property
    def delta(self) -> Decimal:
        return (self.new or ZERO) - (self.old or ZERO)

    @property
    def status(self) -> str:
        if self.old is None:
            return "added"
        if self.new is None:
            return "removed"
        return "changed" if self.old != self.new else "unchanged"


@dataclass(slots=True)
class Entry:
    """A record in a per-record list (status changes, level changes)."""

    id: str | None
    period: str | None
    row: int
    old: str = ""
    new: str = ""
    detail: str = ""


@dataclass
class LevelChanges:
    """One level or tier table: how many records moved up or down its bands (or labels)."""

    table: str
    kind: str  # "level" (labels) | "tier" (bands of values)
    up: int = 0
    down: int = 0
    changes: list[Entry] = field(default_factory=list)


@dataclass(slots=True)
class ComponentChange:
    name: str
    old: Decimal | None
    new: Decimal | None
    why: list[str]
    label: str = ""

    @property
    def title(self) -> str:
        return self.label or self.name


@dataclass(slots=True)
class Mover:
    """A record whose total changed; `why` is filled in for the ones the report shows."""

    id: str | None
    period: str | None
    row: int
    old: Side
    new: Side
    delta: Decimal
    status: list[str] = field(default_factory=list)
    components: list[ComponentChange] = field(default_factory=list)
    adjustments: list[str] = field(default_factory=list)

    def sort_key(self) -> tuple:
        return (self.id or "", self.period or "", self.row)

    def __lt__(self, other: Mover) -> bool:
        """Less important: a smaller absolute delta, or an equal one with a later id (heap order)."""
        a, b = abs(self.delta), abs(other.delta)
        if a != b:
            return a < b
        return self.sort_key() > other.sort_key()


@dataclass(frozen=True, slots=True)
class ParamChange:
    """A param whose value differs (None: not in that policy), with its display text."""

    name: str
    old: object
    new: object
    old_text: str
    new_text: str


@dataclass
class Report:
    old_path: str
    new_path: str
    records: str
    currency: str
    old_name: str
    new_name: str
    old_version: str | None
    new_version: str | None
    params: list[ParamChange] = field(default_factory=list)  # params whose values differ
    read: int = 0
    paid_old: int = 0
    paid_new: int = 0
    eligible_old: int = 0
    eligible_new: int = 0
    total_old: Decimal = ZERO
    total_new: Decimal = ZERO
    changed: int = 0
    up: int = 0
    down: int = 0
    components: list[Amounts] = field(default_factory=list)
    adjustments: list[Amounts] = field(default_factory=list)
    benefits: list[Amounts] = field(default_factory=list)
    movers: list[Mover] = field(default_factory=list)
    top: int = 5
    levels: list[LevelChanges] = field(default_factory=list)
    newly_rejected: list[Entry] = field(default_factory=list)
    newly_accepted: list[Entry] = field(default_factory=list)
    newly_ineligible: list[Entry] = field(default_factory=list)
    newly_eligible: list[Entry] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # the four lists above, counted in full
    largest_decrease: Mover | None = None

    @property
    def delta(self) -> Decimal:
        return self.total_new - self.total_old

    @property
    def percent(self) -> Decimal | None:
        """delta / |old| in percent, rounded half-even to 2 places; None when the old total is 0."""
        if self.total_old == 0:
            return None
        with decimal.localcontext(runtime.CONTEXT):
            return (self.delta * 100 / abs(self.total_old)).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


# ------------------------------------------------------------------ the pass


def diff(old: CompiledPolicy, new: CompiledPolicy, records: str, old_path: str = "OLD", new_path: str = "NEW",
         top: int = 5, keep_lists: bool = True) -> Report:
    """Evaluate both policies over `records` and compare them record by record."""
    runtime.activate()
    oh, nh = old.program, new.program
    rep = Report(old_path, new_path, records, new.program.currency, oh.name, nh.name, oh.version, nh.version,
                 top=top)
    so, sn = _Show(old), _Show(new)
    rep.params = [ParamChange(n, old.params.get(n), new.params.get(n),
                              so.named(n, old.params[n]) if n in old.params else "—",
                              sn.named(n, new.params[n]) if n in new.params else "—")
                  for n in _union(list(old.params), list(new.params)) if old.params.get(n) != new.params.get(n)]
    old_comps = [c.name for c in old.components]
    new_comps = [c.name for c in new.components]
    old_bens = [(i, b.name) for i, b in enumerate(old.benefits) if b.type.kind is Kind.MONEY]
    new_bens = [(i, b.name) for i, b in enumerate(new.benefits) if b.type.kind is Kind.MONEY]
    sums_old = {"components": [ZERO] * len(old_comps), "floor": ZERO, "cap": ZERO,
                "benefits": {n: ZERO for _, n in old_bens}, "settlement": {}}
    sums_new = {"components": [ZERO] * len(new_comps), "floor": ZERO, "cap": ZERO,
                "benefits": {n: ZERO for _, n in new_bens}, "settlement": {}}
    old_levels = set(old.program.levels)
    levels: dict[str, LevelChanges] = {}
    for name in _union(list(old.tables) + _level_benefits(old), list(new.tables) + _level_benefits(new)):
        is_level = (name in new.program.levels or name in old_levels or name in _level_benefits(new)
                    or name in _level_benefits(old))
        levels[name] = LevelChanges(name, "level" if is_level else "tier")
    lists = {"newly_rejected": rep.newly_rejected, "newly_accepted": rep.newly_accepted,
             "newly_ineligible": rep.newly_ineligible, "newly_eligible": rep.newly_eligible}
    counts = dict.fromkeys(lists, 0)
    heap: list[Mover] = []

    def keep(kind: str, entry: Entry) -> None:
        counts[kind] += 1
        if keep_lists or len(lists[kind]) < LIST_LIMIT:
            lists[kind].append(entry)

    def add(sums: dict, side: Side, bens: list) -> None:
        res = side.result
        for name, amount in side.settlement or ():  # settles earlier periods even when not eligible
            if name not in ("forfeited", "payable"):  # a forfeit line moves no cash (§14.2)
                sums["settlement"][name] = sums["settlement"].get(name, ZERO) + amount
        if res is None or not res.eligible:
            return
        sums["components"] = [a + b for a, b in zip(sums["components"], res.components)]
        sums["floor"] += res.floor_adjustment
        sums["cap"] += res.cap_adjustment
        for i, name in bens:
            sums["benefits"][name] += res.benefits[i]

    def compare(a: Side, b: Side) -> None:
        rep.read += 1
        rid = b.id if b.id is not None else a.id
        period = b.period if b.period is not None else a.period
        if a.accepted:
            rep.paid_old += 1
            rep.eligible_old += a.eligible
            rep.total_old += a.total
            add(sums_old, a, old_bens)
        if b.accepted:
            rep.paid_new += 1
            rep.eligible_new += b.eligible
            rep.total_new += b.total
            add(sums_new, b, new_bens)
        if a.accepted and not b.accepted:
            keep("newly_rejected", Entry(rid, period, b.row, detail=_reject_text(b.reject)))
        elif b.accepted and not a.accepted:
            keep("newly_accepted", Entry(rid, period, b.row, detail=_reject_text(a.reject)))
        elif a.accepted and b.accepted:
            if a.eligible and not b.eligible:
                keep("newly_ineligible", Entry(rid, period, b.row, detail="; ".join(b.result.reasons)))
            elif b.eligible and not a.eligible:
                keep("newly_eligible", Entry(rid, period, b.row, detail="; ".join(a.result.reasons)))
            if levels:
                _level_changes(old, new, a, b, rid, period, levels, keep_lists)
        delta = b.total - a.total
        if delta:
            rep.changed += 1
            if delta > 0:
                rep.up += 1
            else:
                rep.down += 1
            mover = Mover(rid, period, b.row, a, b, delta)
            if delta < 0 and (rep.largest_decrease is None or mover.delta < rep.largest_decrease.delta or (
                    mover.delta == rep.largest_decrease.delta
                    and mover.sort_key() < rep.largest_decrease.sort_key())):
                rep.largest_decrease = Mover(rid, period, b.row, _bare(a), _bare(b), delta)
            if top > 0:
                if len(heap) < top:
                    heapq.heappush(heap, mover)
                elif heap[0] < mover:
                    heapq.heapreplace(heap, mover)

    pending_old: dict[int, Side] = {}
    pending_new: dict[int, Side] = {}
    with decimal.localcontext(runtime.CONTEXT):
        for a, b in zip_longest(outcomes(old, records), outcomes(new, records)):
            if a is not None and b is not None and a.row == b.row:
                compare(a, b)
                continue
            # Not aligned (a multi-period evaluation may yield in another order): match by row.
            if a is not None:
                if a.row in pending_new:
                    compare(a, pending_new.pop(a.row))
                else:
                    pending_old[a.row] = a
            if b is not None:
                if b.row in pending_old:
                    compare(pending_old.pop(b.row), b)
                else:
                    pending_new[b.row] = b
        if pending_old or pending_new:  # pragma: no cover - both read the same file
            raise AssertionError("the two evaluations did not see the same records")
        rep.components = [Amounts(n, _at(sums_old["components"], old_comps, n), _at(sums_new["components"], new_comps, n),
                                  _label(old, new, n)) for n in _union(old_comps, new_comps)]
        rep.adjustments = [Amounts(n, o, w) for n, o, w in (
            ("total floors", sums_old["floor"], sums_new["floor"]), ("total caps", sums_old["cap"], sums_new["cap"]))
            if o or w]
        rep.adjustments += [Amounts(n.replace("_", " "), sums_old["settlement"].get(n), sums_new["settlement"].get(n))
                            for n in _union(list(sums_old["settlement"]), list(sums_new["settlement"]))
                            if sums_old["settlement"].get(n) or sums_new["settlement"].get(n)]
        rep.benefits = [Amounts(n, sums_old["benefits"].get(n), sums_new["benefits"].get(n), _label(old, new, n))
                        for n in _union([n for _, n in old_bens], [n for _, n in new_bens])]
        rep.levels = [lv for lv in levels.values() if lv.up or lv.down]
        rep.counts = counts
        rep.movers = sorted(heap, reverse=True)
        for m in rep.movers:
            explain_change(old, new, m)
    return rep


def _label(old: CompiledPolicy, new: CompiledPolicy, name: str) -> str:
    """§2a: a line's label in the new policy, else in the old one ("" when neither has one)."""
    for compiled in (new, old):
        d = compiled.program.definitions.get(name)
        if d is not None and d.label:
            return d.label
    return ""


def _bare(side: Side) -> Side:
    return Side(side.row, side.id, side.period, side.reject, side.result, None)


def _union(first: list[str], second: list[str]) -> list[str]:
    return first + [n for n in second if n not in first]


def _at(values: list[Decimal], names: list[str], name: str) -> Decimal | None:
    return values[names.index(name)] if name in names else None


def _level_benefits(compiled: CompiledPolicy) -> list[str]:
    return [b.name for b in compiled.benefits if b.type.kind is Kind.LEVEL]


def _reject_text(r: Reject | None) -> str:
    if r is None:
        return ""
    return (f"field {r.field}: " if r.field else "") + r.reason


def _level_changes(old: CompiledPolicy, new: CompiledPolicy, a: Side, b: Side, rid: str | None,
                   period: str | None, levels: dict[str, LevelChanges], keep_lists: bool) -> None:
    ta, tb = _tiers(old, a), _tiers(new, b)
    for name, (ib, vb) in tb.items():
        if name not in ta:
            continue
        ia, va = ta[name]
        lv = levels[name]
        if lv.kind == "level":
            if va == vb:
                continue
            order = new.program.levels.get(_level_type(new, name), ())
            if va not in order or vb not in order:
                order = old.program.levels.get(_level_type(old, name), ())
            up = order.index(vb) > order.index(va) if va in order and vb in order else ib > ia
            old_text, new_text = str(va), str(vb)
        else:
            if ia == ib:
                continue
            up = ib > ia
            old_text, new_text = _band_text(old, name, ia, va), _band_text(new, name, ib, vb)
        if up:
            lv.up += 1
        else:
            lv.down += 1
        if keep_lists or len(lv.changes) < LIST_LIMIT:
            lv.changes.append(Entry(rid, period, b.row, old_text, new_text, "up" if up else "down"))


def _level_type(compiled: CompiledPolicy, name: str) -> str:
    d = compiled.program.definitions.get(name)
    if d is not None and d.kind == "benefit":
        return d.type.name or ""
    return name


def _band_text(compiled: CompiledPolicy, table: str, index: int, value: object) -> str:
    """`[80%, 90%) → 2%`: a band's bounds and its value."""
    info = compiled.tables[table]
    band = info.bands[index]
    show = _Show(compiled)
    kt = info.key_type.kind
    left = "(-∞" if band.lo is None else f"[{show.value(band.lo, kt)}"
    right = "∞)" if band.hi is None else f"{show.value(band.hi, kt)})"
    if info.mode == "marginal":
        return f"{left}, {right} at {show.value(band.value, info.value_type.kind) if band.value is not None else band.text}"
    return f"{left}, {right} → {show.value(value, info.value_type.kind)}"


# ------------------------------------------------------------------ why one record moved


class _Show:
    """Values for people, by type: money with the currency, percents as `12.5%`."""

    def __init__(self, compiled: CompiledPolicy):
        self.c = compiled

    def kind(self, name: str) -> Kind | None:
        d = self.c.program.definitions.get(name)
        return d.type.kind if d is not None else None

    def value(self, v: object, kind: Kind | None) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, Decimal):
            if kind is Kind.MONEY:
                return self.c.money.display(v)
            if kind is Kind.PERCENT:
                return f"{_short(v * 100)}%"
            return _short(v)
        if v is None:
            return "none"
        return str(v)

    def named(self, name: str, v: object) -> str:
        return self.value(v, self.kind(name))


def _short(v: Decimal) -> str:
    """At most 4 decimals for display (explanations only; the totals are exact)."""
    q = v.quantize(Decimal("0.0001")) if v.as_tuple().exponent < -4 and abs(v) < Decimal("1e20") else v
    return fmt_decimal(q)


def _events(side: Side) -> tuple[dict[str, dict], dict | None, dict | None]:
    """(definition -> its event, the eligibility event, the total event) of a traced record."""
    defs: dict[str, dict] = {}
    elig = total = None
    for ev in side.events or ():
        if "def" in ev and "kind" in ev:
            defs[ev["def"]] = ev
        elif "eligibility" in ev:
            elig = ev
        elif "total" in ev:
            total = ev
    return defs, elig, total


def _bound(ev: dict) -> tuple[str | None, str | None]:
    """(the floor that bound, the cap that bound) of a component step, as trace.py decides them."""
    if "raw" not in ev:
        return None, None
    value = ev["raw"]
    floor = cap = None
    for text, v in ev.get("floors", ()):
        if v > value:
            value, floor = v, text
    for text, v in ev.get("caps", ()):
        if v < value:
            value, cap = v, text
    return floor, cap


def explain_change(old: CompiledPolicy, new: CompiledPolicy, m: Mover) -> None:
    """Fill in `m.status`, `m.components` and `m.adjustments` by diffing the two traces."""
    so, sn = _Show(old), _Show(new)
    a, b = m.old, m.new
    if not a.accepted:
        m.status.append(f"rejected by the old policy ({_reject_text(a.reject)}), accepted by the new")
    if not b.accepted:
        m.status.append(f"accepted by the old policy, rejected by the new ({_reject_text(b.reject)})")
    if not (a.accepted and b.accepted):
        return
    da, ea, ta = _events(a)
    db, eb, tb = _events(b)
    if a.eligible != b.eligible:
        m.status.append("eligibility flipped: " + ("not eligible → eligible" if b.eligible else "eligible → not eligible"))
    elif not a.eligible:
        m.status.append("not eligible under both policies")
    failed_a = {c for c, ok, _r, _s, _v in (ea or {}).get("eligibility", ()) if not ok}
    failed_b = {c: r for c, ok, r, _s, _v in (eb or {}).get("eligibility", ()) if not ok}
    m.status += [f"`require {c}` now fails: {r}" for c, r in failed_b.items() if c not in failed_a]
    m.status += [f"`require {c}` no longer fails" for c in sorted(failed_a) if c not in failed_b]
    old_comps = [c.name for c in old.components]
    new_comps = [c.name for c in new.components]
    for name in _union(old_comps, new_comps):
        va = a.result.components[old_comps.index(name)] if name in old_comps else None
        vb = b.result.components[new_comps.index(name)] if name in new_comps else None
        if (va or ZERO) == (vb or ZERO):  # unchanged, or added / removed without moving money
            continue
        why: list[str] = []
        if va is None:
            why.append("added in the new policy")
        elif vb is None:
            why.append("removed in the new policy")
        else:
            why = _component_why(so, sn, da, db, name)
        m.components.append(ComponentChange(name, va, vb, why, _label(old, new, name)))
    money = new.money
    if a.settlement is not None and b.settlement is not None:
        sa = dict(a.settlement)
        for name, y in b.settlement:
            x = sa.get(name, ZERO)
            if name not in ("payable", "forfeited") and x != y:
                m.adjustments.append(f"{name.replace('_', ' ')}: {_signed(money, x)} → {_signed(money, y)}")
    if ta is not None and tb is not None:
        for kind, key in (("floor", "floor_adjustment"), ("cap", "cap_adjustment")):
            x, y = ta[key], tb[key]
            if x == y:
                continue
            if not x:
                m.adjustments.append(f"total {_total_bound(tb, kind)} started applying: {_signed(money, y)}")
            elif not y:
                m.adjustments.append(f"total {_total_bound(ta, kind)} stopped applying (was {_signed(money, x)})")
            else:
                m.adjustments.append(f"total {kind}: {_total_bound(ta, kind)} {_signed(money, x)} → "
                                     f"{_total_bound(tb, kind)} {_signed(money, y)}")


def _total_bound(ev: dict, kind: str) -> str:
    """The total floor or cap that set the total (`cap 250_000 USD`), as trace.py and explain.py find it."""
    if kind == "floor":
        value, options = ev["sum"] + ev["floor_adjustment"], ev.get("floors", ())
    else:
        value, options = ev["total"], ev.get("caps", ())
    text = next((t for t, v in options if v == value), None)
    return f"`{kind} {text}`" if text is not None else kind


def _component_why(so: _Show, sn: _Show, da: dict, db: dict, name: str) -> list[str]:
    ea, eb = da.get(name), db.get(name)
    why: list[str] = []
    if ea is None or eb is None:  # not computed on one side: the record was not eligible there
        return ["not computed where the partner is not eligible"]
    if ea["site"][0] != eb["site"][0]:
        why.append(f"definition changed: `{ea['site'][0]}` → `{eb['site'][0]}`")
    failed_a = {c for c, ok, _r, _v in ea.get("gates", ()) if not ok}
    failed_b = {c for c, ok, _r, _v in eb.get("gates", ()) if not ok}
    why += [f"`require {c}` now fails: {r}" for c, ok, r, _v in eb.get("gates", ()) if not ok and c not in failed_a]
    why += [f"`require {c}` no longer fails" for c, ok, _r, _v in ea.get("gates", ()) if not ok and c not in failed_b]
    if "raw" in ea and "raw" in eb:
        fa, ca = _bound(ea)
        fb, cb = _bound(eb)
        t = sn.kind(name)
        if ca != cb:
            if ca is None:
                why.append(f"`cap {cb}` started binding ({sn.value(_cap_value(eb, cb), t)})")
            elif cb is None:
                why.append(f"`cap {ca}` stopped binding (it was {so.value(_cap_value(ea, ca), t)})")
            else:
                why.append(f"the binding cap changed: `cap {ca}` → `cap {cb}` ({sn.value(_cap_value(eb, cb), t)})")
        elif ca is not None and _cap_value(ea, ca) != _cap_value(eb, cb):
            why.append(f"`cap {cb}` binds: {so.value(_cap_value(ea, ca), t)} → {sn.value(_cap_value(eb, cb), t)}")
        if fa != fb:
            if fa is None:
                why.append(f"`floor {fb}` started binding")
            elif fb is None:
                why.append(f"`floor {fa}` stopped binding")
            else:
                why.append(f"the binding floor changed: `floor {fa}` → `floor {fb}`")
        if ea["raw"] != eb["raw"] and (ca is not None or cb is not None or fa is not None or fb is not None):
            why.append(f"before caps and floors: {so.value(ea['raw'], t)} → {sn.value(eb['raw'], t)}")
    if ("failed" in ea) == ("failed" in eb):  # a failed `require` computes nothing to compare
        why.extend(_operand_why(so, sn, da, db, ea, eb, set(), 0))
    return why


def _cap_value(ev: dict, text: str | None):
    return next((v for c, v in ev.get("caps", ()) if c == text), None)


def _operand_why(so: _Show, sn: _Show, da: dict, db: dict, ea: dict, eb: dict, seen: set[str],
                 depth: int) -> list[str]:
    """Operands whose values differ (old → new), following changed definitions a few levels down."""
    out: list[str] = []
    oa, ob = ea.get("operands", {}), eb.get("operands", {})
    indent = "  " * depth
    for op in _union(list(oa), list(ob)):
        if op in seen:
            continue
        if op not in oa or op not in ob:
            out.append(f"{indent}{op}: {'no longer read' if op in oa else 'now read'}")
            seen.add(op)
            continue
        if oa[op] == ob[op]:
            continue
        seen.add(op)
        line = f"{indent}{op}: {so.named(op, oa[op])} → {sn.named(op, ob[op])}"
        xa, xb = da.get(op), db.get(op)
        if xa is not None and xb is not None:
            if xa.get("kind") == "tiers" and "band" in xa and "band" in xb:
                line += _band_move(so, sn, xa, xb, op)
            if xa.get("kind") in ("param",) or (xa.get("site", ("",))[0] != xb.get("site", ("",))[0]):
                line += f" (definition changed: `{xa['site'][0]}` → `{xb['site'][0]}`)"
        out.append(line)
        if xa is not None and xb is not None and depth < 2 and xa.get("kind") not in ("component", "benefit"):
            out.extend(_operand_why(so, sn, da, db, xa, xb, seen, depth + 1))
    return out


def _band_move(so: _Show, sn: _Show, xa: dict, xb: dict, name: str) -> str:
    ba, bb = xa.get("band"), xb.get("band")
    if ba is None or bb is None:
        return ""
    ta, tb = so.c.tables.get(name), sn.c.tables.get(name)
    if ta is None or tb is None:
        return ""
    kt = tb.key_type.kind
    text_a = _bounds(so, ta.bands[ba], ta.key_type.kind)
    text_b = _bounds(sn, tb.bands[bb], kt)
    if ba == bb and text_a == text_b:
        return f" (key {sn.value(xb['key'], kt)} in the same band {text_b}; the band's value changed)"
    return (f" (key {so.value(xa['key'], ta.key_type.kind)} in {text_a} → key {sn.value(xb['key'], kt)} "
            f"in {text_b})")


def _bounds(show: _Show, band, kind: Kind) -> str:
    left = "(-∞" if band.lo is None else f"[{show.value(band.lo, kind)}"
    right = "∞)" if band.hi is None else f"{show.value(band.hi, kind)})"
    return f"{left}, {right}"


def _signed(money: runtime.Money, v: Decimal) -> str:
    text = money.display(v)
    return f"+{text}" if v > 0 else text


# ------------------------------------------------------------------ guards


@dataclass(frozen=True, slots=True)
class Guard:
    name: str  # the option: "fail-if-cost-up" | "fail-if-any-decrease"
    threshold: Decimal | None
    tripped: bool
    message: str


def parse_percent(text: str) -> Decimal:
    """`--fail-if-cost-up PCT`: `5`, `5%` or `2.5` (percent points), finite and not negative."""
    raw = text.strip().removesuffix("%").strip().replace("_", "")
    try:
        value = Decimal(raw)
    except decimal.InvalidOperation:
        raise ValueError(f"--fail-if-cost-up {text}: write a percentage such as 5 or 2.5%") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"--fail-if-cost-up {text}: write a percentage of 0 or more, such as 5 or 2.5%")
    return value


def guards(rep: Report, cost_up: Decimal | None, any_decrease: bool) -> list[Guard]:
    """The CI guards asked for; a tripped one makes `ipl diff` exit 1."""
    out: list[Guard] = []
    money = _money(rep)
    if cost_up is not None:
        d = rep.delta
        if rep.total_old == 0:
            tripped = d > 0  # any increase on a zero base is above every percentage
        else:
            tripped = d * 100 > cost_up * abs(rep.total_old)
        pct = rep.percent
        pct_text = "n/a" if pct is None else f"{_sign(pct)}{pct}%"
        message = (f"cost change {_signed(money, d)} ({pct_text}), "
                   f"{'above' if tripped else 'within'} the limit of +{fmt_decimal(cost_up)}%")
        out.append(Guard("fail-if-cost-up", cost_up, tripped, message))
    if any_decrease:
        if rep.down:
            worst = rep.largest_decrease
            who = _who(worst.id, worst.period, worst.row) if worst else ""
            message = (f"{rep.down:,} record{'s' if rep.down != 1 else ''} went down"
                       + (f" (largest: {who} {_signed(money, worst.delta)})" if worst else ""))
        else:
            message = "no record went down"
        out.append(Guard("fail-if-any-decrease", None, rep.down > 0, message))
    return out


def _money(rep: Report) -> runtime.Money:
    return runtime.Money(rep.currency, minor_units(rep.currency), _MODE)


_MODE = decimal.ROUND_HALF_EVEN  # display only: every amount shown is already at the minor unit


def _sign(v: Decimal) -> str:
    return "+" if v > 0 else ""


def _who(rid: str | None, period: str | None, row: int) -> str:
    text = rid if rid is not None else f"row {row}"
    return f"{text} ({period})" if period else text


# ------------------------------------------------------------------ rendering


def _pct_text(rep: Report) -> str:
    p = rep.percent
    return "n/a" if p is None else f"{_sign(p)}{p}%"


def _opt(money: runtime.Money, v: Decimal | None) -> str:
    return "—" if v is None else money.display(v)


def _side_text(money: runtime.Money, side: Side) -> str:
    return money.display(side.total) if side.accepted else "rejected"


def _side_json(side: Side) -> Decimal | None:
    return side.total if side.accepted else None


def render_text(rep: Report, checks: list[Guard]) -> str:
    money = _money(rep)
    out = [f"ipl diff: {rep.old_path} → {rep.new_path}, over {rep.records}"]
    if rep.old_name != rep.new_name or rep.old_version != rep.new_version:
        out.append(f"  policy: {rep.old_name} ({rep.old_version or '-'}) → {rep.new_name} ({rep.new_version or '-'})")
    for p in rep.params:
        out.append(f"  param {p.name}: {p.old_text} → {p.new_text}")
    out.append("")
    out.append(f"records: {rep.read:,} read; paid {rep.paid_old:,} → {rep.paid_new:,}; "
               f"rejected {rep.read - rep.paid_old:,} → {rep.read - rep.paid_new:,}; "
               f"eligible {rep.eligible_old:,} → {rep.eligible_new:,}")
    out.append(f"payout changed: {rep.changed:,} ({rep.up:,} up, {rep.down:,} down)")
    out.append("")
    rows = [("old", money.display(rep.total_old)), ("new", money.display(rep.total_new)),
            ("delta", f"{_signed(money, rep.delta)} ({_pct_text(rep)})")]
    out.append("total cost")
    out += [f"  {k.ljust(5)}  {v}" for k, v in rows]
    out += _text_table("per component", rep.components + rep.adjustments, money)
    if rep.benefits:
        out += _text_table("benefits (not in the total)", rep.benefits, money)
    if rep.movers:
        out += ["", f"biggest movers (top {len(rep.movers)} of {rep.changed:,} changed)"]
        for i, m in enumerate(rep.movers, 1):
            out.append(f"  {i}. {_who(m.id, m.period, m.row)}: {_side_text(money, m.old)} → "
                       f"{_side_text(money, m.new)} ({_signed(money, m.delta)})")
            out += [f"       {s}" for s in _mover_lines(m, money)]
    if rep.levels:
        out += ["", "level and tier changes"]
        for lv in rep.levels:
            out.append(f"  {lv.table} ({lv.kind}): {lv.up:,} up, {lv.down:,} down")
            out += [f"    {_who(e.id, e.period, e.row)}: {e.old} → {e.new}" for e in lv.changes[:LIST_LIMIT]]
            more = lv.up + lv.down - min(len(lv.changes), LIST_LIMIT)
            if more > 0:
                out.append(f"    ... and {more:,} more")
    out += ["", "eligibility and rejects"]
    for key, label in _STATUS:
        n = rep.counts.get(key, 0)
        out.append(f"  {label}: {n:,}")
        entries = getattr(rep, key)[:LIST_LIMIT]
        out += [f"    {_who(e.id, e.period, e.row)}" + (f": {e.detail}" if e.detail else "") for e in entries]
        if n > len(entries):
            out.append(f"    ... and {n - len(entries):,} more")
    if checks:
        out += ["", "guards"]
        out += [f"  --{g.name}: {'TRIPPED' if g.tripped else 'ok'}: {g.message}" for g in checks]
    return "\n".join(out) + "\n"


_STATUS = (("newly_rejected", "newly rejected"), ("newly_accepted", "newly accepted"),
           ("newly_ineligible", "newly ineligible"), ("newly_eligible", "newly eligible"))


def _text_table(title: str, lines: list[Amounts], money: runtime.Money) -> list[str]:
    if not lines:
        return []
    w = max(len(x.title) for x in lines)
    cells = [(x.title, _opt(money, x.old), _opt(money, x.new), _signed(money, x.delta), x.status) for x in lines]
    wo = max(len(c[1]) for c in cells + [("", "old", "", "", "")])
    wn = max(len(c[2]) for c in cells + [("", "", "new", "", "")])
    wd = max(len(c[3]) for c in cells + [("", "", "", "delta", "")])
    out = ["", title, f"  {''.ljust(w)}  {'old'.rjust(wo)}  {'new'.rjust(wn)}  {'delta'.rjust(wd)}"]
    for name, o, n, d, status in cells:
        note = f"  {status}" if status in ("added", "removed") else ""
        out.append(f"  {name.ljust(w)}  {o.rjust(wo)}  {n.rjust(wn)}  {d.rjust(wd)}{note}")
    return out


def _mover_lines(m: Mover, money: runtime.Money) -> list[str]:
    out = list(m.status)
    for c in m.components:
        out.append(f"{c.title}: {_opt(money, c.old)} → {_opt(money, c.new)} "
                   f"({_signed(money, (c.new or ZERO) - (c.old or ZERO))})")
        out += [f"  {w}" for w in c.why]
    out += m.adjustments
    return out


def _amounts_json(x: Amounts) -> dict:
    return {"name": x.name, "label": x.title, "status": x.status, "old": x.old, "new": x.new, "delta": x.delta}


def _entry_json(e: Entry, with_values: bool) -> dict:
    out = {"id": e.id, "period": e.period, "row": e.row}
    if with_values:
        out.update({"old": e.old, "new": e.new, "direction": e.detail})
    else:
        out["reason"] = e.detail
    return out


def report_json(rep: Report, checks: list[Guard]) -> dict:
    """The JSON document of docs/diff.md (schema `ipl-diff/1`)."""
    return {
        "schema": SCHEMA,
        "old": {"path": rep.old_path, "policy": rep.old_name, "version": rep.old_version},
        "new": {"path": rep.new_path, "policy": rep.new_name, "version": rep.new_version},
        "records": rep.records,
        "currency": rep.currency,
        "params": [{"name": p.name, "old": p.old, "new": p.new, "old_text": p.old_text, "new_text": p.new_text}
                   for p in rep.params],
        "counts": {"read": rep.read, "paid_old": rep.paid_old, "paid_new": rep.paid_new,
                   "rejected_old": rep.read - rep.paid_old, "rejected_new": rep.read - rep.paid_new,
                   "eligible_old": rep.eligible_old, "eligible_new": rep.eligible_new,
                   "changed": rep.changed, "up": rep.up, "down": rep.down, **rep.counts},
        "total": {"old": rep.total_old, "new": rep.total_new, "delta": rep.delta,
                  "percent": rep.percent},
        "components": [_amounts_json(x) for x in rep.components],
        "adjustments": [_amounts_json(x) for x in rep.adjustments],
        "benefits": [_amounts_json(x) for x in rep.benefits],
        "movers": [{
            "rank": i, "id": m.id, "period": m.period, "row": m.row,
            "old": _side_json(m.old), "new": _side_json(m.new), "delta": m.delta,
            "old_status": _status(m.old), "new_status": _status(m.new),
            "why": m.status,
            "components": [{"name": c.name, "label": c.title, "old": c.old, "new": c.new,
                            "delta": (c.new or ZERO) - (c.old or ZERO), "why": c.why} for c in m.components],
            "adjustments": m.adjustments,
        } for i, m in enumerate(rep.movers, 1)],
        "levels": [{"table": lv.table, "kind": lv.kind, "up": lv.up, "down": lv.down,
                    "changes": [_entry_json(e, True) for e in lv.changes]} for lv in rep.levels],
        "status": {key: [_entry_json(e, False) for e in getattr(rep, key)] for key, _ in _STATUS},
        "guards": [{"guard": g.name, "threshold": g.threshold, "tripped": g.tripped, "message": g.message}
                   for g in checks],
    }


def _status(side: Side) -> str:
    if not side.accepted:
        return "rejected"
    return "eligible" if side.eligible else "not eligible"


def render_json(rep: Report, checks: list[Guard]) -> str:
    from dsl.run.outputs import dumps

    return dumps(report_json(rep, checks), indent=2) + "\n"


def _md(text: str) -> str:
    """Text in a markdown table cell or list: no HTML, no table breaks."""
    return html.escape(text, quote=False).replace("|", "\\|").replace("\n", " ")


def _md_code(text: str) -> str:
    """Backquoted source stays code (escaped), the rest is escaped text."""
    parts = text.split("`")
    return "".join(f"<code>{html.escape(p, quote=False)}</code>" if i % 2 else _md(p) for i, p in enumerate(parts))


def render_markdown(rep: Report, checks: list[Guard]) -> str:
    """A pull-request comment: summary, per component, top movers, `<details>` with the explanations."""
    money = _money(rep)
    tripped = [g for g in checks if g.tripped]
    out = [f"### IPL payout impact: `{_md(Path(rep.new_path).name)}`", ""]
    out.append(f"{_md(rep.old_path)} → {_md(rep.new_path)}, over {rep.read:,} records of {_md(rep.records)}")
    out.append("")
    if tripped:
        out += [f"> **Guard tripped** (`--{g.name}`): {_md(g.message)}" for g in tripped] + [""]
    out += ["| | old | new | delta |", "| --- | ---: | ---: | ---: |",
            f"| **total cost** | {money.display(rep.total_old)} | {money.display(rep.total_new)} | "
            f"**{_signed(money, rep.delta)} ({_pct_text(rep)})** |",
            f"| records paid | {rep.paid_old:,} | {rep.paid_new:,} | {rep.paid_new - rep.paid_old:+,} |",
            f"| rejected | {rep.read - rep.paid_old:,} | {rep.read - rep.paid_new:,} | {rep.paid_old - rep.paid_new:+,} |",
            f"| eligible | {rep.eligible_old:,} | {rep.eligible_new:,} | {rep.eligible_new - rep.eligible_old:+,} |",
            "", f"Payout changed for **{rep.changed:,}** records ({rep.up:,} up, {rep.down:,} down).", ""]
    for p in rep.params:
        out.append(f"- param `{_md(p.name)}`: {_md(p.old_text)} → {_md(p.new_text)}")
    if rep.params:
        out.append("")
    if rep.components or rep.adjustments:
        out += ["#### Per component", "", "| component | old | new | delta | |", "| --- | ---: | ---: | ---: | --- |"]
        for x in rep.components + rep.adjustments:
            note = x.status if x.status in ("added", "removed") else ""
            out.append(f"| {_md(x.title)} | {_opt(money, x.old)} | {_opt(money, x.new)} | {_signed(money, x.delta)} | {note} |")
        for x in rep.benefits:
            note = "benefit" + (f", {x.status}" if x.status in ("added", "removed") else "")
            out.append(f"| {_md(x.title)} | {_opt(money, x.old)} | {_opt(money, x.new)} | {_signed(money, x.delta)} | {note} |")
        out.append("")
    if rep.movers:
        out += [f"#### Biggest movers (top {len(rep.movers)} of {rep.changed:,})", "",
                "| # | record | old | new | delta |", "| ---: | --- | ---: | ---: | ---: |"]
        for i, m in enumerate(rep.movers, 1):
            out.append(f"| {i} | {_md(_who(m.id, m.period, m.row))} | {_side_text(money, m.old)} | "
                       f"{_side_text(money, m.new)} | {_signed(money, m.delta)} |")
        out += ["", "<details><summary>Why they moved</summary>", ""]
        for i, m in enumerate(rep.movers, 1):
            out.append(f"**{i}. {_md(_who(m.id, m.period, m.row))}** ({_signed(money, m.delta)})")
            out.append("")
            for line in _mover_lines(m, money):
                depth = (len(line) - len(line.lstrip(" "))) // 2
                out.append(f"{'  ' * depth}- {_md_code(line.strip())}")
            out.append("")
        out += ["</details>", ""]
    if rep.levels:
        out += ["#### Level and tier changes", "", "| table | kind | up | down |", "| --- | --- | ---: | ---: |"]
        out += [f"| {_md(lv.table)} | {lv.kind} | {lv.up:,} | {lv.down:,} |" for lv in rep.levels]
        out.append("")
    out += ["#### Eligibility and rejects", "", "| | records |", "| --- | ---: |"]
    out += [f"| {label} | {rep.counts.get(key, 0):,} |" for key, label in _STATUS]
    listed = [(label, getattr(rep, key), rep.counts.get(key, 0)) for key, label in _STATUS if getattr(rep, key)]
    if listed:
        out += ["", "<details><summary>Records</summary>", ""]
        for label, entries, n in listed:
            out.append(f"- {label}:")
            out += [f"  - {_md(_who(e.id, e.period, e.row))}" + (f": {_md(e.detail)}" if e.detail else "")
                    for e in entries[:LIST_LIMIT]]
            if n > min(len(entries), LIST_LIMIT):
                out.append(f"  - ... and {n - min(len(entries), LIST_LIMIT):,} more")
        out += ["", "</details>"]
    if checks:
        out += ["", "#### Guards", ""]
        out += [f"- `--{g.name}`: {'**tripped**' if g.tripped else 'ok'}: {_md(g.message)}" for g in checks]
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------ `ipl diff`


def _compile(which: str, path: str) -> CompiledPolicy:
    from dsl.run.policy import PolicyErrors, UsageProblem, compile_file, load_policy

    try:
        policy = load_policy(path)
    except PolicyErrors as err:
        raise BrokenPolicy(which, path, err.diags) from None
    if Path(policy.source.path).resolve() != Path(path).resolve():  # a `tests for` file names its policy
        raise UsageProblem(f"{path} is not a policy (it starts with `tests for`): diff the policy it tests, "
                           f"{policy.source.path}")
    try:
        return compile_file(path)
    except PolicyErrors as err:  # pragma: no cover - load_policy above already checked it
        raise BrokenPolicy(which, path, err.diags) from None
    except UsageProblem as err:
        raise UsageProblem(f"{path}: {err}") from None


def diff_command(old_path: str, new_path: str, records: str, fmt: str, top: int,
                 cost_up: str | None, any_decrease: bool) -> tuple[str, int, list[str]]:
    """`ipl diff`: (the report, the exit code, lines for stderr); raises UsageProblem / BrokenPolicy."""
    from dsl.run.policy import UsageProblem
    from dsl.run.records import RecordsUnreadable, detect_format

    limit = None
    if cost_up is not None:
        try:
            limit = parse_percent(cost_up)
        except ValueError as err:
            raise UsageProblem(str(err)) from None
    old = _compile("old", old_path)
    new = _compile("new", new_path)
    if old.program.currency != new.program.currency:
        raise UsageProblem(f"the policies pay in different currencies ({old.program.currency} and "
                           f"{new.program.currency}): their costs cannot be compared")
    try:
        detect_format(records)
        if not Path(records).is_file():
            raise UsageProblem(f"no such records file: {records}")
        rep = diff(old, new, records, old_path, new_path, top=top, keep_lists=fmt == "json")
    except RecordsUnreadable as err:
        raise UsageProblem(str(err)) from None
    checks = guards(rep, limit, any_decrease)
    match fmt:
        case "json":
            render = render_json
        case "markdown":
            render = render_markdown
        case "text":
            render = render_text
        case _:
            raise AssertionError(f"unhandled format {fmt}")
    tripped = [g for g in checks if g.tripped]
    notes = [f"ipl diff: guard --{g.name} tripped: {g.message}" for g in tripped]
    return render(rep, checks), 1 if tripped else 0, notes
