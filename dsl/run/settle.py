"""The multi-period run (spec §14.4, §15): periods in calendar order, all partners
of a period together, then each partner's settlement.

Receives a `CompiledPolicy` whose `multi` is set (a policy with an input of
type `period`, or with program-wide definitions, or a budget) and a records
file. Guarantees:

- every record read ends up exactly once in the payouts or in the rejects;
  a period value of the wrong shape (§14) and a duplicate key — the pair
  (id, period), or the id of a single-period policy (§13) — are rejects;
- periods are evaluated in calendar order; within a period, every record is
  evaluated up to the program-wide definitions (pass 1: the shares, values and
  `among` conditions of `pool` / `rank` / `percentile`), then those are computed
  over the period (dsl/programwide.py), then every record is evaluated with
  them (pass 2), then the budget scales the earned totals, then each record
  settles against its partner's ledger (dsl/ledger.py);
- history (`prior`, `trailing_*`, `streak`, `periods_active`) reads the
  partner's earlier periods by calendar, never the previous record, so gaps
  are visible; a missing period is a `HistoryMissing` error that `otherwise`
  catches;
- memory: the records are read once and spilled, as read (raw CSV cells or JSON
  objects), to one temporary file per period (in batches: CSV cells as one text,
  JSON objects pickled — JSON's NaN marker by reference, so it is the same object
  read back), and validated when their period comes (rejects name the columns as
  written in the file), so that memory holds one period's records plus,
  per partner, its history window (the largest `k` of `prior` and `n - 1` of
  `trailing_*`), its streak counters and its ledger (open holds, paid amounts
  inside the longest clawback window, the recovery balance);
- output rows come out period by period, in file order within a period.

Emits no diagnostics.
"""

from __future__ import annotations

import decimal
import gc
import os
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from dsl.backends.python.compiled import MultiInfo
from dsl.backends.python.runtime import Missing, missing_period  # noqa: F401
from dsl.run import ledger as L
from dsl.run import programwide
from dsl.backends.python import runtime
from dsl.checker.periods import Period, PeriodError, parse_period
from dsl.run.records import (
    Reject, Validator, column_of, csv_lists, detect_format, fast_validator, fields_of, raw_records,
)

ZERO = runtime.ZERO


class BudgetProblem(Exception):
    """A program-wide figure that cannot be computed (a negative budget or pool amount):
    the CLI exits 2 with the message."""


class History:
    """One partner's history: what its earlier periods computed, bounded by the window."""

    __slots__ = ("values", "totals", "streak_at", "last", "count", "ledger", "window")
    # the current period's index, the same for every partner: a class attribute of the run's own
    # subclass (`_run_rows`), set once per period instead of on each partner
    t = 0

    def __init__(self, window: int):
        self.values: dict[int, tuple] = {}  # period index -> stored slot values
        self.totals: dict[int, Decimal] = {}  # period index -> earned total
        self.streak_at: tuple = ()  # streak counts at `last`
        self.last: int | None = None  # index of the partner's latest evaluated period
        self.count = 0  # periods with a record before the current one
        self.ledger = L.EMPTY
        self.window = window

    # -- read by compiled code: `prior(x, k)` is `(H.values.get(H.t - k) or missing_period(k))[slot]`
    # and `streak(c)` the j-th count of `streak_at` plus 1 when c holds and `last` is the period
    # before `t` (else 1; 0 when c does not hold), both inlined (dsl/compile.py: no call per use)
    def prior_total(self, k: int):
        got = self.totals.get(self.t - k)
        if got is None:
            missing_period(k)
        return got

    def trailing(self, slot: int, n: int, how: str, current):
        values = [current]
        for i in range(1, n):
            got = self.values.get(self.t - i)
            if got is not None:
                values.append(got[slot])
        match how:
            case "sum":
                return sum(values[1:], values[0])
            case "avg":
                return sum(values[1:], values[0]) / len(values)
            case "min":
                return min(values)
            case "max":
                return max(values)
            case _:
                raise AssertionError(f"unknown trailing {how!r}")

    @property
    def active(self) -> Decimal:
        return Decimal(self.count + 1)

    def keep(self, key: int, history: tuple, earned: Decimal, info) -> None:
        """After the partner's record of period `key`: what `prior` and `trailing_*` read later
        (`values`, and `totals` for `prior(total)`), trimmed to the window; the `streak`
        counts; the partner's latest period and the number of its periods."""
        stored, conds = history
        if info.streaks:
            if conds:
                prev = self.streak_at if self.last == key - 1 else ()
                self.streak_at = tuple([p + 1 if c else 0 for p, c in zip(prev, conds)] if prev
                                       else [1 if c else 0 for c in conds])
            elif self.streak_at:
                self.streak_at = ()
        window = info.window
        if window:
            self.values[key] = stored
            if info.uses_total:
                self.totals[key] = earned
            # periods come in calendar order, so the dict's first key is the oldest: the periods
            # before key - window are never read again, and are dropped to bound the memory
            while (oldest := next(iter(self.values))) < key - window:
                del self.values[oldest]
                self.totals.pop(oldest, None)
        self.last = key
        self.count += 1


@dataclass
class PeriodTotals:
    records: int = 0
    earned: Decimal = ZERO
    budget_scaling: Decimal = ZERO
    held: Decimal = ZERO
    released: Decimal = ZERO
    forfeited: Decimal = ZERO
    clawback: Decimal = ZERO
    carried_recovery: Decimal = ZERO
    carry_forward: Decimal = ZERO
    payable: Decimal = ZERO


@dataclass
class MultiSummary:
    read: int = 0
    paid: int = 0
    rejected: int = 0
    eligible: int = 0
    periods: dict[str, PeriodTotals] = field(default_factory=dict)
    components: dict[str, Decimal] = field(default_factory=dict)
    # period, pool, amount, the sum of its shares, what its line paid (after caps): unallocated = amount - paid
    pools: list[tuple[str, str, Decimal, Decimal, Decimal]] = field(default_factory=list)
    still_held: Decimal = ZERO
    owed: Decimal = ZERO
    notes: list[str] = field(default_factory=list)

    @property
    def reconciled(self) -> bool:
        return self.read == self.paid + self.rejected


class PeriodRow(NamedTuple):
    """One evaluated (id, period): the record's result and its settlement (a named tuple:
    one is made per record)."""

    row: int
    id: str
    period: Period | None
    record: dict
    result: tuple
    settlement: L.Settlement
    events: list | None = None  # the trace, when traced
    pw: tuple = ()  # the program-wide figures this record used (for explanations)


BATCH = 2_000


# Spilled CSV rows: one text per batch, cells joined by US and rows by RS (the ASCII unit and
# record separators), which reads back far faster than pickled lists of strings. A batch whose
# cells contain a separator (the count of separators tells), or whose records are not lists
# of strings, is pickled as it is.
_US, _RS = "\x1f", "\x1e"


def _packed(batch: tuple[list, list], cells: bool):
    """What `spill` writes for a batch of (row numbers, raw records)."""
    rows, raws = batch
    if cells:
        try:
            text = _RS.join([_US.join(raw) for raw in raws])
        except TypeError:
            text = None
        # one separator between any two cells, and none inside them
        if text is not None and text.count(_US) + text.count(_RS) == sum(map(len, raws)) - 1:
            return rows, text
    return rows, raws


def _unpacked(packed) -> tuple[list, list]:
    """`_packed`, undone: (row numbers, raw records)."""
    rows, raws = packed
    if raws.__class__ is str:
        return rows, [line.split(_US) for line in raws.split(_RS)]
    return rows, raws


def run_periods(compiled, records_path: str, on_row: Callable[[PeriodRow], None],
                on_reject: Callable[[Reject], None], on_event: Callable[[str, L.Event], None] | None = None,
                traced: bool | str = False, progress=None, upto: Period | None = None) -> MultiSummary:
    """Run every period in calendar order. `traced` is True (trace every record) or an id
    (trace only that partner's records: `ipl explain`); `upto` stops after that period."""
    validator = Validator(fields_of(compiled.program), compiled.id_field)
    header, rows = (None, None)
    notes: list[str] = []  # the reader's, about the file as a whole
    if detect_format(records_path) == "csv":
        header, rows = csv_lists(records_path, tick=progress, notes=notes)
    if header is None or rows is None:
        header, rows = None, raw_records(records_path, tick=progress, notes=notes)
    pfield = compiled.multi.period_field
    pcolumn = column_of(fields_of(compiled.program), pfield) if pfield is not None else None  # as in the file (§2a)
    if header is not None:
        at = header.index(pcolumn) if pcolumn in header else None

        def period_of(raw):
            return raw[at] if at is not None and len(raw) > at else None
    else:
        def period_of(raw):
            return raw.get(pcolumn)
    summary = run_rows(compiled, rows, fast_validator(validator, header, notes), on_row, on_reject, on_event, traced,
                       upto, period_of, cells=header is not None)
    summary.notes.extend(notes)
    if summary.read == 0:
        summary.notes.append(f"{records_path} holds no records")
    return summary


def run_history(compiled, records: list[dict]) -> list[PeriodRow | Reject]:
    """Evaluate raw records given in memory (a test's `given periods`: keyed by input name,
    values typed), traced; every outcome in period order."""
    validator = Validator(fields_of(compiled.program), compiled.id_field, fixtures=True)
    out: list = []
    pfield = compiled.multi.period_field
    run_rows(compiled, ((i + 1, r, None) for i, r in enumerate(records)), validator.validate,
             out.append, out.append, traced=True, period_of=lambda raw: raw.get(pfield), by_name=True)
    return out


def run_rows(compiled, rows, validate, on_row: Callable[[PeriodRow], None],
             on_reject: Callable[[Reject], None], on_event: Callable[[str, L.Event], None] | None = None,
             traced: bool | str = False, upto: Period | None = None, period_of=None,
             cells: bool = False, by_name: bool = False) -> MultiSummary:
    """The run over (row, raw record, problem) triples, validated by `validate` when their
    period comes (`period_of(raw)` reads the period's text to bucket the raw record).
    `cells`: every raw record without a problem is a list of strings (a CSV row), which
    spills as text (`_packed`). `by_name`: raw records are keyed by input name (a test's
    records), not by column (§2a), which rejects otherwise name.

    The cyclic garbage collector is paused for the run (and restored after): a run makes
    no reference cycles per record (what it frees, reference counting frees), while the
    collector's generation-2 passes over a period's held results and every partner's
    history and ledger cost as much as the evaluation itself on large files."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _run_rows(compiled, rows, validate, on_row, on_reject, on_event, traced, upto, period_of, cells,
                         by_name)
    finally:
        if was_enabled:
            gc.enable()


def _run_rows(compiled, rows, validate, on_row, on_reject, on_event, traced, upto, period_of,
              cells, by_name) -> MultiSummary:

    runtime.activate()
    info: MultiInfo = compiled.multi
    summary = MultiSummary()
    comps = [c.name for c in compiled.components]
    summary.components = dict.fromkeys(comps, ZERO)
    money = compiled.money
    id_field = compiled.id_field
    gran = info.granularity
    pfield = info.period_field
    # rejects name the columns as written in the file (§2a); a test's records are keyed by name
    id_column = id_field if by_name else column_of(fields_of(compiled.program), id_field)
    pcolumn = pfield if by_name or pfield is None else column_of(fields_of(compiled.program), pfield)
    hold_index = {name: i for i, (name, _) in enumerate(info.hold_components)}
    windows: dict[str, int] = {}
    for name, within in info.clawbacks:
        windows[name] = max(windows.get(name, 0), within)
    partners: dict[str, History] = {}
    PartnerHistory = type("PartnerHistory", (History,), {"__slots__": ()})  # `t`: this run's period
    comp_index = {n: i for i, n in enumerate(comps)}
    ben_index = {b.name: i for i, b in enumerate(compiled.benefits)}
    ben_pools = [ben_index[site.component] for site in info.pw_sites if site.component in ben_index]
    # one hold per component: a component's last `hold` is the one in force
    holds: dict[str, tuple[str, int, int, int]] = {}
    for n, w in info.hold_components:
        holds[n] = (n, comp_index[n], hold_index[n], w)
    with_events = on_event is not None
    terms = L.Terms(holds=tuple(holds.values()), until=hold_index, clawbacks=info.clawbacks, windows=windows,
                    window_values=tuple((n, comp_index[n], w) for n, w in windows.items()), draws=info.draws)
    settle_row = L.settler(terms, money, with_events)
    evaluate = compiled.evaluate

    with _spill_folder() as tmp, decimal.localcontext(runtime.CONTEXT):
        # read once: check the period's shape, spill per period (validated when it comes)
        buckets: dict[int, list] = {}
        files: dict[int, object] = {}

        def spill(key: int, batch: tuple[list, list]) -> None:
            fh = files.get(key)
            if fh is None:
                fh = files[key] = open(os.path.join(tmp, f"p{key}.bin"), "wb")  # noqa: SIM115
            pickle.dump(_packed(batch, cells), fh, protocol=pickle.HIGHEST_PROTOCOL)

        read = 0
        period_keys: dict[str, int] = {}  # period text -> index, for the well-formed ones
        for row, raw, problem in rows:
            read += 1
            key = 0
            if pfield is not None:
                text = period_of(raw) if problem is None and raw is not None else None
                key = period_keys.get(text) if text.__class__ is str else None
                if key is None:
                    p = parse_period(text.strip(), gran) if text.__class__ is str else None
                    if p is None or p.__class__ is PeriodError:
                        # not a well-formed period: the validator says what is wrong first
                        rec = validate(row, raw, problem)
                        if type(rec) is Reject:
                            summary.rejected += 1
                            on_reject(rec)
                            continue
                        p = parse_period(rec[pfield], gran)
                        if p.__class__ is PeriodError:
                            summary.rejected += 1
                            on_reject(Reject(row, rec[id_field], pcolumn, p.reason))
                            continue
                    elif len(period_keys) < 10_000:
                        period_keys[text] = p.index
                    key = p.index
            elif problem is not None or raw is None:
                summary.rejected += 1
                on_reject(validate(row, raw, problem))
                continue
            batch = buckets.get(key)
            if batch is None:
                batch = buckets[key] = ([], [])
            batch[0].append(row)
            batch[1].append(raw)
            if len(batch[0]) >= BATCH:
                spill(key, batch)
                buckets[key] = ([], [])
        summary.read = read
        for key, batch in buckets.items():
            if batch[0]:
                spill(key, batch)
        for fh in files.values():
            fh.close()

        ordered = sorted(files)
        last_period = Period(ordered[-1], gran) if (ordered and pfield is not None) else None
        for key in ordered:
            period = Period(key, gran) if pfield is not None else None
            if upto is not None and period is not None and period > upto:
                break
            recs_rows: list = []
            recs_raws: list = []
            with open(os.path.join(tmp, f"p{key}.bin"), "rb") as fh:
                while True:
                    try:
                        got_rows, got_raws = _unpacked(pickle.load(fh))
                    except EOFError:
                        break
                    recs_rows += got_rows
                    recs_raws += got_raws
            # (spilled as read, so in file order)
            recs = [validate(row, raw, None) for row, raw in zip(recs_rows, recs_raws)]
            if any([rec.__class__ is Reject for rec in recs]):
                live = []
                for row, rec in zip(recs_rows, recs):
                    if rec.__class__ is Reject:
                        summary.rejected += 1
                        on_reject(rec)
                    else:
                        live.append((row, rec[id_field], rec))
            else:  # the common case: every record is valid
                live = list(zip(recs_rows, [rec[id_field] for rec in recs], recs))
            del recs, recs_rows, recs_raws
            ids = [x[1] for x in live]
            if len(set(ids)) != len(ids):
                # a duplicate key rejects every record with it (§13)
                seen: dict[str, int] = {}
                for rid in ids:
                    seen[rid] = seen.get(rid, 0) + 1
                kept = []
                for row, rid, rec in live:
                    if seen[rid] > 1:
                        summary.rejected += 1
                        what = f"duplicate key ({rid!r}, {period})" if period is not None else f"duplicate id {rid!r}"
                        on_reject(Reject(row, rid, id_column, f"{what}: every record with this key is rejected"))
                    else:
                        kept.append((row, rid, rec))
                live = kept
                ids = [x[1] for x in live]
            # the partners' histories, positioned at this period
            PartnerHistory.t = key
            hs = list(map(partners.get, ids))
            if None in hs:  # partners new in this period
                for j, rid in enumerate(ids):
                    if hs[j] is None:
                        hs[j] = partners[rid] = PartnerHistory(info.window)
            del ids
            # pass 1 and the program-wide figures (§14.4 step 2, §15)
            pw_of: list = [()] * len(live)
            if info.pw_sites:
                live, hs, pw_of, pool_notes, ks = _program_wide(compiled, info, live, hs, on_reject, summary)
            else:
                pool_notes, ks = [], None
            # pass 2: every record with the program-wide figures (§14.4 steps 1-3); the fast
            # path starts from what pass 1 computed (`evaluate_pw`), the traced one computes all
            evaluate_pw = info.evaluate_pw if ks is not None else None

            trace_events: dict[int, list] = {}

            def evaluate_one(j: int, live=live, hs=hs, pw_of=pw_of, ks=ks, evaluate_pw=evaluate_pw,
                             trace_events=trace_events):
                """The result of the j-th record, or None: rejected (its trace events, when
                traced, go to `trace_events`)."""
                row, rid, rec = live[j]
                h, pw = hs[j], pw_of[j]
                try:
                    if traced and (traced is True or traced == rid):
                        res, trace_events[j] = compiled.traced()(rec, h, pw)
                        return res
                    if evaluate_pw is not None:
                        return evaluate_pw(rec, h, pw, ks[j])
                    return evaluate(rec, h, pw)
                except Exception:  # noqa: BLE001 - the traced re-run says what failed
                    summary.rejected += 1
                    on_reject(Reject(row, rid, None, _failure(compiled, rec, h, pw)))
                    return None

            # the budget over the period's earned totals (§14.4 step 4): it needs them all first;
            # without a budget each record settles as soon as it is evaluated
            scalings = None  # per record its budget line, when the budget binds
            results = None
            if info.budget is not None:
                if traced or evaluate_pw is None:
                    results = [evaluate_one(j) for j in range(len(live))]
                else:  # the same, without a call per record (evaluating changes nothing: again if one fails)
                    try:
                        results = [evaluate_pw(x[2], h, pw, k) for x, h, pw, k in zip(live, hs, pw_of, ks)]
                    except Exception:  # noqa: BLE001 - evaluate_one fails the same way and rejects
                        results = [evaluate_one(j) for j in range(len(live))]
                totals = [(x[1], res.total) for x, res in zip(live, results) if res is not None]
                if totals:
                    got = programwide.scale_to_budget(totals, info.budget, compiled.program.minor_units, money.mode,
                                                      checked=True)
                    if isinstance(got, programwide.ProgramWideError):
                        raise BudgetProblem(got.message)
                    if got.binds:
                        scalings = got.line_list  # in the order of the records not rejected
                        if len(scalings) != len(results):
                            lines = iter(scalings)
                            scalings = [next(lines) if res is not None else None for res in results]
                del totals
            # settlement (§14.4 steps 5-6), the history and the period's sums: `_make_settle_loop`
            pt = summary.periods.setdefault(str(period) if period is not None else "", PeriodTotals())
            kind_sums = dict.fromkeys(L.COLUMN_KINDS, ZERO)
            settled, eligible_n, earned_sum, payable_sum, scaling_sum, comp_sums, ben_sums = _settle_period(
                live, hs, pw_of, results, evaluate_one, scalings, key, period,
                period if period is not None else Period(0, "year"), on_row, on_event, trace_events, kind_sums,
                settle_row, info, len(comps), ben_pools)
            summary.paid += settled
            summary.eligible += eligible_n
            for n, v in zip(comps, comp_sums):
                summary.components[n] += v
            pt.records += settled
            pt.earned, pt.budget_scaling, pt.payable = earned_sum, scaling_sum, payable_sum
            (pt.held, pt.released, pt.forfeited, pt.clawback, pt.carried_recovery,
             pt.carry_forward) = kind_sums.values()
            for name, amount, shares, _ in pool_notes:
                # what the pool's own line paid after its caps (and eligibility): the rest is unallocated
                if name in comp_index:
                    paid = comp_sums[comp_index[name]]
                elif name in ben_index:
                    paid = ben_sums[ben_pools.index(ben_index[name])]
                else:
                    paid = shares
                summary.pools.append((str(period) if period else "", name, amount, shares, paid))
            del live, hs, results
        # the end of the run: what deadlines passed without a release, what is still held or owed
        if last_period is not None and upto is None:
            for rid, h in partners.items():
                h.ledger, evs = L.expire(h.ledger, last_period)
                if on_event is not None:
                    for ev in evs:
                        on_event(rid, ev)
                summary.still_held += L.still_held(h.ledger)
                summary.owed += L.owed(h.ledger)
    summary._partners = partners  # type: ignore[attr-defined]  # the end-of-run ledgers (the --ledger output)
    summary._last = last_period  # type: ignore[attr-defined]
    if upto is None and not summary.reconciled:  # pragma: no cover - every branch counts a record once
        raise AssertionError("records read do not reconcile with paid + rejected")
    return summary


def _settle_period(live, hs, pw_of, results, evaluate_one, scalings, key: int, period, t: Period, on_row, on_event,
                   trace_events, kind_sums, settle_row, info: MultiInfo, n_comps: int, ben_pools: list[int]):
    """Settle a period's records (language §15, steps 5-6), keep each partner's history, and add
    up the period's sums. `results[j]` is the j-th record's result when the budget needed them
    all first (else `evaluate_one(j)` evaluates it now); `scalings[j]` its budget line (None:
    no budget binds). Returns (records settled, eligible, earned sum, payable sum, budget
    scaling sum, per component its sum, per pooled benefit its sum); `kind_sums` (per kind of
    statement line) is added to in place."""
    earned_sum = payable_sum = scaling_sum = ZERO
    comp_sums = [ZERO] * n_comps
    ben_sums = [ZERO] * len(ben_pools)
    settled = eligible_n = 0
    for j, ((row, rid, rec), h, pw) in enumerate(zip(live, hs, pw_of)):
        res = results[j] if results is not None else evaluate_one(j)
        if res is None:  # rejected
            continue
        earned = res.total
        scaling = scalings[j] if scalings is not None else ZERO
        s, h.ledger, events = settle_row(h.ledger, t, res.eligible, earned, res.components, res.settlement, scaling)
        for ev in events:
            on_event(rid, ev)
        for ln in s.lines:
            kind_sums[ln.kind] += ln.amount
        h.keep(key, res.history, earned, info)
        settled += 1
        eligible_n += res.eligible
        comp_sums = [a + b for a, b in zip(comp_sums, res.components)]
        for i, b in enumerate(ben_pools):
            ben_sums[i] += res.benefits[b]
        earned_sum += earned
        payable_sum += s.payable
        scaling_sum += scaling
        on_row(PeriodRow(row, rid, period, rec, res, s, trace_events.pop(j, None), pw))
    return settled, eligible_n, earned_sum, payable_sum, scaling_sum, comp_sums, ben_sums


def _program_wide(compiled, info: MultiInfo, live, hs, on_reject, summary):
    """Pass 1 over a period's records, then pools, ranks and percentiles over them.

    Returns the records kept (a failing pass 1, or a negative pool share, rejects the
    record), their histories, per record the figures of every site — (value, figures) —,
    per pool (name, amount, sum of the shares) and per record what pass 1 computed (`K`)."""
    pw_inputs = info.pw_inputs
    pool_sites = [(k, site) for k, site in enumerate(info.pw_sites) if site.kind == "pool"]
    # the common case first: no record fails pass 1 and no pool share is negative
    try:
        outs = [pw_inputs(x[2], h) for x, h in zip(live, hs)]
    except Exception:  # noqa: BLE001 - the loop below rejects it, in its place
        outs = None
    if outs:
        inputs, ks = map(list, zip(*outs))
        del outs
        if not any(any([g[k][1] and g[k][0] < 0 for g in inputs]) for k, _ in pool_sites):
            return _program_wide_figures(compiled, info, live, hs, inputs, ks)
    elif outs is not None:  # no records
        return _program_wide_figures(compiled, info, live, hs, [], [])
    # a record fails pass 1, or a share is negative: each is rejected in its place, in file order
    inputs = []
    keep, keep_h, ks = [], [], []
    for x, h in zip(live, hs):
        try:
            got, pass1 = pw_inputs(x[2], h)
        except Exception:  # noqa: BLE001 - the traced re-run says what failed
            summary.rejected += 1
            on_reject(Reject(x[0], x[1], None, _failure(compiled, x[2], h, None)))
            continue
        bad = None
        for k, site in pool_sites:
            v, among = got[k]
            if among and v < 0:
                bad = site
                break
        if bad is not None:
            summary.rejected += 1
            on_reject(Reject(x[0], x[1], None, f"a pool share must not be negative: `{bad.text}`"))
            continue
        inputs.append(got)
        keep.append(x)
        keep_h.append(h)
        ks.append(pass1)
    return _program_wide_figures(compiled, info, keep, keep_h, inputs, ks)


def _program_wide_figures(compiled, info: MultiInfo, keep: list, keep_h: list, inputs: list, ks: list):
    """Pools, ranks and percentiles over the records that passed pass 1 (`inputs`: per
    record, (value, among) per site); returns what `_program_wide` returns."""
    ids = [x[1] for x in keep]
    per_site: list[list] = []  # per site, per record: (value, figures)
    notes = []
    minor = compiled.program.minor_units
    for i, site in enumerate(info.pw_sites):
        figs = [got[i] for got in inputs]  # (value, among) per record
        members = [(rid, v) for rid, (v, among) in zip(ids, figs) if among]
        match site.kind:
            case "pool":
                got = programwide.allocate_pool(site.amount, members, minor)
                if isinstance(got, programwide.ProgramWideError):  # pragma: no cover - shares checked above
                    raise BudgetProblem(got.message)
                figures = {"amount": site.amount, "sum_of_shares": got.sum_of_shares, "count": got.count}
                nothing, after_cap = got.nothing, iter(got.after_caps).__next__  # the members' shares in order
                per_site.append([(after_cap() if among else nothing, figures) for _, among in figs])
                notes.append((site.component or site.text, site.amount, got.allocated))
            case "rank" | "percentile":
                got = programwide.rank(members) if site.kind == "rank" else programwide.percentile(members)
                column = []
                for rid, (_, among) in zip(ids, figs):
                    value = got.get(rid) if among else None
                    if value is None:
                        column.append((None, {"count": len(members)}))
                    elif site.kind == "rank":
                        column.append((value.rank, {"count": value.count, "value": value.value,
                                                    "value_ranked_above": value.above}))
                    else:
                        column.append((value.percentile, {"count": value.count, "value": value.value,
                                                          "smaller": value.smaller}))
                per_site.append(column)
            case _:
                raise AssertionError(f"unknown program-wide site {site.kind!r}")
    per_record = list(zip(*per_site)) if per_site else [()] * len(keep)
    return keep, keep_h, per_record, [(n, a, s, s) for n, a, s in notes], ks


def _failure(compiled, record: dict, h, pw) -> str:
    try:
        compiled.traced()(record, h, pw)
    except runtime.EvalError as err:
        return err.describe()
    except Missing as err:
        return f"{err} (and no `otherwise` gives a fallback)"
    except ArithmeticError as err:
        return f"evaluation failed: {type(err).__name__}"
    except RecursionError:
        return "evaluation failed: nested too deeply"
    except Exception as err:  # noqa: BLE001
        return f"evaluation failed: {err}"
    return "evaluation failed"


# ------------------------------------------------------------------ outputs (`ipl run`, `ipl explain`)

SETTLEMENT_COLUMNS = ("budget_scaling", "held", "released", "forfeited", "clawback", "carried_recovery",
                      "carry_forward", "payable")
LEDGER_COLUMNS = ["id", "event", "component", "origin_period", "period", "amount"]


def payout_columns(compiled) -> list[str]:
    """id, the period (named as the period input), components, benefits, `total` (earned),
    the settlement columns, `payable`, `eligible`, `reasons`."""
    info: MultiInfo = compiled.multi
    cols = [compiled.id_field] + ([info.period_field] if info.period_field else [])
    cols += [c.name for c in compiled.components] + [b.name for b in compiled.benefits]
    return cols + ["total", *SETTLEMENT_COLUMNS, "eligible", "reasons"]


def settlement_cells(s: L.Settlement) -> tuple[Decimal, ...]:
    """The settlement columns with the sign they have in the statement (`forfeited` is for
    information: positive, not part of the sum)."""
    return s.columns()


def row_writer(compiled, json_like: bool):
    """PeriodRow -> the cells of one payouts row."""
    from dsl.run.engine import cell_formatter, line_reasons
    from dsl.run.outputs import defuse
    from dsl.checker.types import Kind

    has_period = compiled.multi.period_field is not None
    q = compiled.money.q
    ben_fmt = [cell_formatter(b.type.kind) for b in compiled.benefits]
    ben_json = [(lambda v: v) if b.type.kind in (Kind.MONEY, Kind.NUMBER, Kind.PERCENT, Kind.COUNT, Kind.BOOL)
                else str for b in compiled.benefits]

    def cells(pr: PeriodRow) -> list:
        res = pr.result
        head = [pr.id if json_like else defuse(pr.id)] + ([str(pr.period)] if has_period else [])
        fmt = ben_json if json_like else ben_fmt
        bens = [f(v) for f, v in zip(fmt, res.benefits)]
        if not json_like:
            bens = [defuse(b) for b in bens]
        reasons = line_reasons(res)
        settled = [v.quantize(q) + 0 for v in settlement_cells(pr.settlement)]
        return (head + list(res.components) + bens + [res.total] + settled
                + ([res.eligible, reasons] if json_like
                   else ["true" if res.eligible else "false", defuse("; ".join(reasons))]))
    return cells


def ledger_cells(rid: str, ev: L.Event) -> list:
    return [rid, ev.kind, ev.component or "", str(ev.origin), str(ev.period), ev.amount]


def end_of_run_cells(summary: MultiSummary) -> list[list]:
    """What is still held or owed at the end of the run (the ledger's last rows)."""
    out = []
    last = getattr(summary, "_last", None)
    for rid, h in sorted(getattr(summary, "_partners", {}).items()):
        for e in sorted(h.ledger.holds, key=lambda x: (x.origin, x.component)):
            out.append([rid, "still_held", e.component, str(e.origin), str(last) if last else "", e.amount])
        if h.ledger.balance > 0:
            out.append([rid, "owed", "", "", str(last) if last else "", h.ledger.balance])
    return out


def render_summary(compiled, s: MultiSummary) -> str:
    m = compiled.money
    out = [
        f"records read      {s.read:,}",
        f"paid              {s.paid:,} ({s.eligible:,} eligible, {s.paid - s.eligible:,} not eligible)",
        f"rejected          {s.rejected:,}",
        f"reconciled        read {s.read:,} = paid {s.paid:,} + rejected {s.rejected:,}",
    ]
    heads = ["earned", "budget scaling", "held", "released", "clawback", "carried recovery", "carry forward",
             "payable"]
    if s.periods:
        out.append("per period:")
        label_w = max(len(p) for p in s.periods) or 1
        for p, t in s.periods.items():
            vals = [t.earned, t.budget_scaling, t.held, t.released, t.clawback, t.carried_recovery,
                    t.carry_forward, t.payable]
            parts = [f"{h} {m.display(v)}" for h, v in zip(heads, vals) if v or h in ("earned", "payable")]
            out.append(f"  {(p or 'all').ljust(label_w)}  {t.records:,} records; " + "; ".join(parts))
        forfeited = sum((t.forfeited for t in s.periods.values()), ZERO)
        if forfeited:
            out.append(f"forfeited in statements  {m.display(forfeited)}")
    if s.components:
        out.append("per component (own values, before settlement):")
        w = max(len(n) for n in s.components)
        out += [f"  {n.ljust(w)}  {m.display(v).rjust(20)}" for n, v in s.components.items()]
    for period, name, amount, shares, paid in s.pools:
        out.append(f"pool {name} ({period or 'all'}): {m.display(amount)}; shares {m.display(shares)}; "
                   f"paid after caps {m.display(paid)}; unallocated {m.display(amount - paid)}")
    out.append(f"still held at the end  {m.display(s.still_held)}")
    out.append(f"still owed at the end  {m.display(s.owed)}")
    out += [f"note: {n}" for n in s.notes]
    return "\n".join(out)


def _spill_folder():
    """The run's folder for records spilled per period: `ipl-periods-PID-XXXXXXXX` in the
    temporary directory, removed at the end, on an error or a signal; those of dead runs
    (`kill -9`) are removed first."""
    from dsl.run.outputs import temporary_folder

    return temporary_folder("ipl-periods")


def run_command(compiled, records: str, out: str | None, rejects: str | None, trace: str | None,
                ledger: str | None, echo, echo_err, progress_bar, summary_path: str | None = None) -> int:
    """`ipl run` of a multi-period or program-wide policy: returns the exit code."""
    import sys

    from dsl.run.engine import UsageProblem, contextlib_nullable, finish_run
    from dsl.run.outputs import OutputError, RowWriter, atomic_open, dumps, output_format, outputs_together
    from dsl.run.records import RecordsUnreadable

    try:
        for path in (out, rejects, ledger):
            if path is not None:
                output_format(path, ("csv", "json", "jsonl"))
        if trace is not None:
            output_format(trace, ("jsonl",))
        if summary_path is not None:
            output_format(summary_path, ("json",))
    except OutputError as err:
        raise UsageProblem(str(err)) from None
    columns = payout_columns(compiled)
    size = os.path.getsize(records)
    rejected: list[Reject] = []
    try:
        payouts = RowWriter(out, columns) if out else None
        reject_w = RowWriter(rejects, ["row", "id", "field", "reason"], frozenset({1, 2, 3})) if rejects else None
        ledger_w = RowWriter(ledger, LEDGER_COLUMNS, frozenset({0, 1, 2, 3, 4})) if ledger else None
        trace_w = atomic_open(trace) if trace else None
        summary_w = atomic_open(summary_path) if summary_path else None
        with outputs_together(), contextlib_nullable(payouts) as pw, contextlib_nullable(reject_w) as rw, \
                contextlib_nullable(ledger_w) as lw, contextlib_nullable(trace_w) as tw, \
                contextlib_nullable(summary_w) as sw:
            json_like = pw is not None and pw.format != "csv"
            cells = row_writer(compiled, json_like)
            if pw is not None:
                write = pw.write_csv_row if pw.format == "csv" else pw.write
            else:
                import csv as _csv
                stdout_csv = _csv.writer(sys.stdout, lineterminator="\n")
                stdout_csv.writerow(columns)
                write = stdout_csv.writerow

            def on_row(pr: PeriodRow) -> None:
                write(cells(pr))
                if tw is not None:
                    tw.write(dumps(period_tree(compiled, pr)) + "\n")

            def on_reject(r: Reject) -> None:
                if rw is not None:
                    rw.write([r.row, r.id or "", r.field or "", r.reason] if rw.format == "csv"
                             else [r.row, r.id, r.field, r.reason])
                elif len(rejected) < 20:
                    rejected.append(r)
                if tw is not None:
                    tw.write(dumps({"id": r.id, "row": r.row, "rejected": r.reason, "field": r.field}) + "\n")

            on_event = None
            if lw is not None:
                def on_event(rid: str, ev: L.Event) -> None:
                    lw.write(ledger_cells(rid, ev))
            with progress_bar(size) as tick:
                summary = run_periods(compiled, records, on_row, on_reject, on_event, traced=trace is not None,
                                      progress=tick)
            if lw is not None:
                for row in end_of_run_cells(summary):
                    lw.write(row)
            if sw is not None:
                sw.write(summary_json(compiled, summary, records))
            if pw is None:  # the payouts reach standard output before the other outputs are put in place
                sys.stdout.flush()
    except RecordsUnreadable as err:
        raise UsageProblem(str(err)) from None
    except OutputError as err:
        raise UsageProblem(str(err)) from None
    return finish_run(summary.rejected, rejected, render_summary(compiled, summary), out, rejects, echo, echo_err)


def summary_json(compiled, s: MultiSummary, records: str) -> str:
    """The summary for tools (`ipl run --summary FILE`): docs/schemas/run-summary.schema.json."""
    from dsl.run import schemas

    return schemas.document_text(schemas.multi_run_summary(compiled, s, records))


def settlement_json(s: L.Settlement) -> dict:
    return {
        "period": str(s.period), "earned": s.earned, "budget_scaling": s.budget_scaling,
        "lines": [{"line": ln.label(), "kind": ln.kind, "component": ln.component,
                   "origin": str(ln.origin) if ln.origin is not None else None, "amount": ln.amount,
                   "cash": ln.cash} for ln in s.lines],
        "payable": s.payable,
    }


def period_tree(compiled, pr: PeriodRow) -> dict:
    """The trace tree of one (id, period) with its settlement."""
    from dsl.run.trace import record_tree

    tree = record_tree(compiled, pr.row, pr.id, pr.result, pr.events or [])
    if pr.period is not None:
        tree["period"] = str(pr.period)
    tree["settlement"] = settlement_json(pr.settlement)
    if pr.pw:
        tree["program_wide"] = [
            {"expression": site.text, "kind": site.kind, "value": v, "figures": _jsonable(fig)}
            for site, (v, fig) in zip(compiled.multi.pw_sites, pr.pw)]
    return tree


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, bool, int, Decimal)):
        return value
    if hasattr(value, "__dataclass_fields__"):
        return {k: _jsonable(getattr(value, k)) for k in value.__dataclass_fields__}
    return str(value)


def partner_rows(compiled, records: str, wanted: str, period: Period | None) -> tuple[list[PeriodRow], list[Reject]]:
    """`ipl explain`: the partner's evaluated periods (traced), up to `period` when given."""
    rows: list[PeriodRow] = []
    rejects: list[Reject] = []

    def on_row(pr: PeriodRow) -> None:
        if pr.id == wanted:
            rows.append(pr)

    def on_reject(r: Reject) -> None:
        if r.id == wanted:
            rejects.append(r)

    run_periods(compiled, records, on_row, on_reject, traced=wanted, upto=period)
    return rows, rejects
