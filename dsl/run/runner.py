"""The run: every record of a file through a compiled policy — one pipeline for every policy.

Receives a `CompiledPolicy` (dsl/backends/python/compiled.py) and a records file (or, for a
test, records in memory). A single-period run is a one-period run of the same pipeline
(language §15, §16); per period:

1. the records are validated (language §14): a reject is reported with its row, id, field
   and reason; a duplicate key — the id, or (id, period) — rejects every record with it;
2. program-wide figures (language §16): pass 1 over the period's records (the shares, values
   and `among` conditions of `pool` / `rank` / `percentile`), then the figures;
3. each record is evaluated (pass 2, from pass 1's values); an evaluation error rejects that
   record only, with the reason the traced variant finds (`results.failure`);
4. the program budget over the period's earned totals;
5. each record settles against its partner's ledger (dsl/run/ledger.py), its history is
   kept for later periods (dsl/run/history.py), and the `Row` goes to `on_row`.

What the policy does not have, the run does not do: a policy without periods, history, a
ledger or program-wide figures streams its records one at a time (memory holds one record,
the duplicate-id hashes and the summary), with no settlement; any other is read once,
spilled per period (dsl/run/spill.py) and evaluated period by period in calendar order, with
memory bounded by one period plus, per partner, the history window and the ledger.

Guarantees: every record read ends up exactly once in `on_row` or `on_reject`
(`read = paid + rejected`, checked at the end); rows come period by period, in file order
within a period. Emits no diagnostics: rejects are data.

Why `_Periods` is one class of about 330 lines: it is the pipeline above, one method per
stage in pipeline order (`read_into`, then per period `validated`, `histories`,
`program_wide` with `figures`, `evaluator`, `budget`, `settled`, `account`, and `close` at the
end), over the state of one run (every partner's history and ledger, the summary, the
callbacks). Read top to bottom it is the numbered list; split apart, each stage would take
that state as arguments, and the per-record loops of `settled` and `budget` are the run's hot
path, written inline on purpose.
"""

from __future__ import annotations

import decimal
import gc
from array import array
from collections.abc import Callable, Iterable
from decimal import Decimal

from dsl.backends.python import runtime
from dsl.backends.python.compiled import CompiledPolicy, MultiInfo
from dsl.checker.periods import Period, PeriodError, parse_period
from dsl.checker.types import Kind
from dsl.run import ledger as L
from dsl.run import programwide
from dsl.run.history import History
from dsl.run.records import (
    Reject, Validator, column_of, csv_lists, detect_format, duplicate_ids, exact_duplicates, fast_validator,
    fields_of, raw_records, repeated_hashes,
)
from dsl.run.results import Row, failure
from dsl.run.spill import Spill, spill_folder
from dsl.run.summary import PeriodTotals, Summary

ZERO = runtime.ZERO
add = runtime.add  # sums over records are exact (runtime.SUMS)


class BudgetProblem(Exception):
    """A program-wide figure that cannot be computed (a negative budget or pool amount): the
    CLI exits 2 with the message."""


class DuplicatesFound(Exception):
    """An optimistic single-pass run met repeated ids: run again knowing them (language §14)."""

    def __init__(self, ids: frozenset[str]):
        super().__init__(f"{len(ids)} duplicate ids")
        self.ids = ids


def run(compiled: CompiledPolicy, records_path: str, on_row: Callable[[Row], None] | None,
        on_reject: Callable[[Reject], None], on_event: Callable[[str, L.Event], None] | None = None,
        traced: bool | str = False, progress: Callable[[int], None] | None = None, upto: Period | None = None,
        duplicates: frozenset[str] | None = None, optimistic: bool = False,
        emit: Callable[[str, object], None] | None = None) -> Summary:
    """Run every record of a file; returns the reconciled summary.

    `traced`: True (trace every record) or an id (trace only that partner: `ipl explain`);
    `upto`: stop after that period; `on_event(id, event)`: every ledger event. A streamed run
    finds duplicate ids (language §14) by a first pass over the ids, unless they are given
    (`duplicates`) or the run is `optimistic`: then one pass keeps the ids' hashes and raises
    `DuplicatesFound` at the end if an id repeated, so that the caller — whose outputs are
    atomic and not yet in place — runs again knowing them. `emit(id, result)`, if given,
    replaces `on_row` on a streamed, untraced run (no `Row` is built)."""
    runtime.activate()
    fields = fields_of(compiled.program)
    summary = Summary(settles=compiled.multi is not None)
    if not summary.settles and duplicates is None and not optimistic:
        duplicates = duplicate_ids(records_path, column_of(fields, compiled.id_field))
    validator = Validator(fields, compiled.id_field, duplicates or frozenset())
    header, rows = (None, None)
    if detect_format(records_path) == "csv":
        header, rows = csv_lists(records_path, tick=progress, notes=summary.notes)
    if header is None or rows is None:
        header, rows = None, raw_records(records_path, tick=progress, notes=summary.notes)
    validate = fast_validator(validator, header, notes=summary.notes)
    if summary.settles:
        pcolumn = column_of(fields, compiled.multi.period_field) if compiled.multi.period_field else None
        at = header.index(pcolumn) if header is not None and pcolumn in header else None
        if header is not None:
            def period_of(raw):
                return raw[at] if at is not None and len(raw) > at else None
        else:
            def period_of(raw):
                return raw.get(pcolumn)
        _Periods(compiled, summary, validate, on_row, on_reject, on_event, traced, upto, by_name=False).run(
            rows, period_of, cells=header is not None)
    else:
        repeated = _stream(compiled, summary, rows, validate, on_row, on_reject, traced,
                           track=duplicates is None and optimistic, emit=emit)
        if repeated:
            exact = exact_duplicates(records_path, column_of(fields, compiled.id_field), repeated)
            if exact:
                raise DuplicatesFound(exact)
    if summary.read == 0:
        summary.notes.append(f"{records_path} holds no records")
    if upto is None and not summary.reconciled:  # pragma: no cover - every branch counts a record once
        raise AssertionError("records read do not reconcile with paid + rejected")
    return summary


def run_history(compiled: CompiledPolicy, records: list[dict]) -> list[Row | Reject]:
    """Records given in memory (a test's `given periods`: keyed by input name, values typed),
    traced; every outcome, in period order."""
    validator = Validator(fields_of(compiled.program), compiled.id_field, fixtures=True)
    out: list = []
    pfield = compiled.multi.period_field
    _Periods(compiled, Summary(settles=True), validator.validate, out.append, out.append, None, True, None,
             by_name=True).run(((i + 1, r, None) for i, r in enumerate(records)), lambda raw: raw.get(pfield),
                               cells=False)
    return out


def evaluate_record(compiled: CompiledPolicy, row: int, rid: str, record: dict,
                    traced: bool = False) -> Row | Reject:
    """Evaluate one validated record of a policy that does not settle; an evaluation error
    becomes a reject."""
    try:
        if traced:
            result, events = compiled.traced()(record)
            return Row(row, rid, None, record, result, None, events)
        return Row(row, rid, None, record, compiled.evaluate(record))
    except Exception:  # noqa: BLE001 - the traced re-run below says what failed
        return Reject(row, rid, None, failure(compiled, record))


# ------------------------------------------------------------------ a streamed period


def _stream(compiled: CompiledPolicy, summary: Summary, rows: Iterable, validate, on_row, on_reject, traced,
            track: bool, emit) -> set[int]:
    """A policy that does not settle: each record validated, evaluated and handed on as it is
    read. With `track`, an 8-byte hash per id in 64 arrays (8 MB for a million records) is
    kept; returns the hashes that repeat, for `run` to check."""
    comps = [c.name for c in compiled.components]
    money_bens = [(i, b.name) for i, b in enumerate(compiled.benefits) if b.type.kind is Kind.MONEY]
    level_bens = [(i, b.name) for i, b in enumerate(compiled.benefits) if b.type.kind is Kind.LEVEL]
    comp_totals = [Decimal(0)] * len(comps)
    ben_totals = {name: Decimal(0) for _, name in money_bens}
    levels: dict[str, dict[str, list]] = {name: {} for _, name in level_bens}
    evaluate = compiled.evaluate
    id_field = compiled.id_field
    total = floor_adj = cap_adj = Decimal(0)
    read = paid = rejected = eligible = 0
    buckets = [array("q") for _ in range(64)] if track else []
    pushes = [b.append for b in buckets]
    if traced:
        emit = None
    with decimal.localcontext(runtime.CONTEXT):
        for row, raw, problem in rows:
            read += 1
            rec = validate(row, raw, problem)
            if rec.__class__ is Reject:
                rejected += 1
                on_reject(rec)
                if track and rec.id:
                    h = hash(rec.id)
                    pushes[h & 63](h)
                continue
            rid = rec[id_field]
            if track:
                h = hash(rid)
                pushes[h & 63](h)
            if traced:
                out = evaluate_record(compiled, row, rid, rec, traced=True)
                if out.__class__ is Reject:
                    rejected += 1
                    on_reject(out)
                    continue
                res = out.result
            else:
                try:
                    res = evaluate(rec)
                except Exception:  # noqa: BLE001 - re-run traced for the reason
                    rejected += 1
                    on_reject(Reject(row, rid, None, failure(compiled, rec)))
                    continue
                out = None
            paid += 1
            if res.eligible:
                eligible += 1
                total = add(total, res.total)
                floor_adj = add(floor_adj, res.floor_adjustment)
                cap_adj = add(cap_adj, res.cap_adjustment)
                comp_totals = list(map(add, comp_totals, res.components))
                for i, name in money_bens:
                    ben_totals[name] = add(ben_totals[name], res.benefits[i])
            for i, name in level_bens:
                slot = levels[name].setdefault(res.benefits[i], [0, Decimal(0)])
                slot[0] += 1
                slot[1] = add(slot[1], res.total)
            if emit is not None:
                emit(rid, res)
            else:
                on_row(out if out is not None else Row(row, rid, None, rec, res))
    summary.read, summary.paid, summary.rejected, summary.eligible = read, paid, rejected, eligible
    summary.total, summary.floor_adjustment, summary.cap_adjustment = total, floor_adj, cap_adj
    summary.components = dict(zip(comps, comp_totals))
    summary.benefits = ben_totals
    summary.levels = levels
    return repeated_hashes(buckets)


# ------------------------------------------------------------------ periods


class _Periods:
    """The pipeline of a policy that settles: read once, spill per period, then each period in
    calendar order through the stages of the module docstring."""

    def __init__(self, compiled: CompiledPolicy, summary: Summary, validate, on_row, on_reject, on_event, traced,
                 upto: Period | None, by_name: bool):
        self.c = compiled
        self.info: MultiInfo = compiled.multi
        self.summary = summary
        self.validate = validate
        self.on_row, self.on_reject, self.on_event = on_row, on_reject, on_event
        self.traced, self.upto = traced, upto
        comps = [c.name for c in compiled.components]
        summary.components = dict.fromkeys(comps, ZERO)
        fields = fields_of(compiled.program)
        # rejects name the columns as written in the file (language §4); a test's records are keyed by name
        self.id_column = compiled.id_field if by_name else column_of(fields, compiled.id_field)
        pfield = self.info.period_field
        self.pcolumn = pfield if by_name or pfield is None else column_of(fields, pfield)
        self.partners: dict[str, History] = {}
        # `t`, this run's period, is a class attribute of the run's own subclass: set once per period
        self.History = type("PartnerHistory", (History,), {"__slots__": ()})
        self.settle = L.settler(_terms(compiled), compiled.money, on_event is not None)
        ben_index = {b.name: i for i, b in enumerate(compiled.benefits)}
        self.ben_pools = [ben_index[s.component] for s in self.info.pw_sites if s.component in ben_index]

    def run(self, rows: Iterable, period_of, cells: bool) -> None:
        """The cyclic garbage collector is paused for the run (and restored after): a run makes
        no reference cycles per record, while the collector's passes over a period's held
        results and every partner's history and ledger cost as much as the evaluation."""
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            with spill_folder() as folder, decimal.localcontext(runtime.CONTEXT):
                spill = Spill(folder, cells)
                self.read_into(spill, rows, period_of)
                keys = spill.keys()
                gran = self.info.granularity
                last = Period(keys[-1], gran) if keys and self.info.period_field is not None else None
                for key in keys:
                    period = Period(key, gran) if self.info.period_field is not None else None
                    if self.upto is not None and period is not None and period > self.upto:
                        break
                    self.period(key, period, *spill.read(key))
                if last is not None and self.upto is None:
                    self.close(last)
        finally:
            if was_enabled:
                gc.enable()

    def read_into(self, spill: Spill, rows: Iterable, period_of) -> None:
        """Read every record once: a period of the wrong shape is a reject (the validator says
        what is wrong first); the others are spilled by period key, as read."""
        s = self.summary
        gran, pfield = self.info.granularity, self.info.period_field
        keys: dict[str, int] = {}  # period text -> index, for the well-formed ones
        read = 0
        for row, raw, problem in rows:
            read += 1
            key = 0
            if pfield is not None:
                text = period_of(raw) if problem is None and raw is not None else None
                key = keys.get(text) if text.__class__ is str else None
                if key is None:
                    p = parse_period(text.strip(), gran) if text.__class__ is str else None
                    if p is None or p.__class__ is PeriodError:
                        rec = self.validate(row, raw, problem)
                        if type(rec) is Reject:
                            s.rejected += 1
                            self.on_reject(rec)
                            continue
                        p = parse_period(rec[pfield], gran)
                        if p.__class__ is PeriodError:
                            s.rejected += 1
                            self.on_reject(Reject(row, rec[self.c.id_field], self.pcolumn, p.reason))
                            continue
                    elif len(keys) < 10_000:
                        keys[text] = p.index
                    key = p.index
            elif problem is not None or raw is None:
                s.rejected += 1
                self.on_reject(self.validate(row, raw, problem))
                continue
            spill.add(key, row, raw)
        s.read = read

    def period(self, key: int, period: Period | None, rows: list, raws: list) -> None:
        """One period through the stages."""
        live = self.validated(period, rows, raws)
        self.History.t = key
        hs = self.histories(live)
        pw_of: list = [()] * len(live)
        pool_notes: list = []
        ks = None
        if self.info.pw_sites:
            live, hs, pw_of, pool_notes, ks = self.program_wide(live, hs)
        evaluate_one, trace_events = self.evaluator(live, hs, pw_of, ks)
        results, scalings = self.budget(live, hs, pw_of, ks, evaluate_one)
        sums = self.settled(live, hs, pw_of, results, evaluate_one, scalings, key, period, trace_events)
        self.account(period, sums, pool_notes)

    def validated(self, period: Period | None, rows: list, raws: list) -> list[tuple[int, str, dict]]:
        """Stage 1: the period's records validated (in file order); a duplicate key rejects
        every record with it."""
        s, id_field = self.summary, self.c.id_field
        recs = [self.validate(row, raw, None) for row, raw in zip(rows, raws)]
        if any([rec.__class__ is Reject for rec in recs]):
            live = []
            for row, rec in zip(rows, recs):
                if rec.__class__ is Reject:
                    s.rejected += 1
                    self.on_reject(rec)
                else:
                    live.append((row, rec[id_field], rec))
        else:  # the common case: every record is valid
            live = list(zip(rows, [rec[id_field] for rec in recs], recs))
        ids = [x[1] for x in live]
        if len(set(ids)) == len(ids):
            return live
        seen: dict[str, int] = {}
        for rid in ids:
            seen[rid] = seen.get(rid, 0) + 1
        kept = []
        for row, rid, rec in live:
            if seen[rid] > 1:
                s.rejected += 1
                what = f"duplicate key ({rid!r}, {period})" if period is not None else f"duplicate id {rid!r}"
                self.on_reject(Reject(row, rid, self.id_column, f"{what}: every record with this key is rejected"))
            else:
                kept.append((row, rid, rec))
        return kept

    def histories(self, live: list) -> list[History]:
        """The partners' histories, positioned at this period (new partners get one)."""
        partners = self.partners
        hs = list(map(partners.get, [x[1] for x in live]))
        if None in hs:
            for j, (_, rid, _) in enumerate(live):
                if hs[j] is None:
                    hs[j] = partners[rid] = self.History(self.info.window)
        return hs

    def program_wide(self, live: list, hs: list):
        """Stage 2: pass 1 over the period's records, then pools, ranks and percentiles over them.

        Returns the records kept (a failing pass 1, or a negative pool share, rejects the
        record), their histories, per record the figures of every site — (value, figures) —,
        per pool (name, amount, sum of the shares) and per record what pass 1 computed (`K`)."""
        info = self.info
        pw_inputs = info.pw_inputs
        pool_sites = [(k, site) for k, site in enumerate(info.pw_sites) if site.kind == "pool"]
        try:  # the common case first: no record fails pass 1 and no pool share is negative
            outs = [pw_inputs(x[2], h) for x, h in zip(live, hs)]
        except Exception:  # noqa: BLE001 - the loop below rejects it, in its place
            outs = None
        if outs:
            inputs, ks = map(list, zip(*outs))
            if not any(any([g[k][1] and g[k][0] < 0 for g in inputs]) for k, _ in pool_sites):
                return self.figures(live, hs, inputs, ks)
        elif outs is not None:  # no records
            return self.figures(live, hs, [], [])
        inputs, keep, keep_h, ks = [], [], [], []
        for x, h in zip(live, hs):
            try:
                got, pass1 = pw_inputs(x[2], h)
            except Exception:  # noqa: BLE001 - the traced re-run says what failed
                self.summary.rejected += 1
                self.on_reject(Reject(x[0], x[1], None, failure(self.c, x[2], h, None)))
                continue
            bad = next((site for k, site in pool_sites if got[k][1] and got[k][0] < 0), None)
            if bad is not None:
                self.summary.rejected += 1
                self.on_reject(Reject(x[0], x[1], None, f"a pool share must not be negative: `{bad.text}`"))
                continue
            inputs.append(got)
            keep.append(x)
            keep_h.append(h)
            ks.append(pass1)
        return self.figures(keep, keep_h, inputs, ks)

    def figures(self, keep: list, keep_h: list, inputs: list, ks: list):
        """Pools, ranks and percentiles over the records that passed pass 1 (`inputs`: per
        record, (value, among) per site); returns what `program_wide` returns."""
        ids = [x[1] for x in keep]
        per_site: list[list] = []  # per site, per record: (value, figures)
        notes = []
        minor = self.c.program.minor_units
        for i, site in enumerate(self.info.pw_sites):
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
                    per_site.append(_ranked(site.kind, members, ids, figs))
                case _:
                    raise AssertionError(f"unknown program-wide site {site.kind!r}")
        per_record = list(zip(*per_site)) if per_site else [()] * len(keep)
        return keep, keep_h, per_record, notes, ks

    def evaluator(self, live: list, hs: list, pw_of: list, ks: list | None):
        """Stage 3: `evaluate_one(j)`, the result of the j-th record, or None when it is rejected
        (its trace events, when traced, go to `trace_events[j]`); pass 2 starts from pass 1's
        values (`evaluate_pw`) on the fast path, the traced variant computes all."""
        compiled, traced, s = self.c, self.traced, self.summary
        evaluate = compiled.evaluate
        evaluate_pw = self.info.evaluate_pw if ks is not None else None
        trace_events: dict[int, list] = {}

        def evaluate_one(j: int):
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
                s.rejected += 1
                self.on_reject(Reject(row, rid, None, failure(compiled, rec, h, pw)))
                return None

        return evaluate_one, trace_events

    def budget(self, live: list, hs: list, pw_of: list, ks: list | None, evaluate_one):
        """Stage 4: with a budget, every record is evaluated first and the earned totals scaled
        (language §16); returns (results, per record its budget line or None: no budget binds).
        Without one, (None, None): each record is evaluated as it settles."""
        budget = self.info.budget
        if budget is None:
            return None, None
        evaluate_pw = self.info.evaluate_pw if ks is not None else None
        if self.traced or evaluate_pw is None:
            results = [evaluate_one(j) for j in range(len(live))]
        else:  # the same, without a call per record (evaluating changes nothing: again if one fails)
            try:
                results = [evaluate_pw(x[2], h, pw, k) for x, h, pw, k in zip(live, hs, pw_of, ks)]
            except Exception:  # noqa: BLE001 - evaluate_one fails the same way and rejects
                results = [evaluate_one(j) for j in range(len(live))]
        totals = [(x[1], res.total) for x, res in zip(live, results) if res is not None]
        if not totals:
            return results, None
        got = programwide.scale_to_budget(totals, budget, self.c.program.minor_units, self.c.money.mode,
                                          checked=True)
        if isinstance(got, programwide.ProgramWideError):
            raise BudgetProblem(got.message)
        if not got.binds:
            return results, None
        scalings = got.line_list  # in the order of the records not rejected
        if len(scalings) != len(results):
            lines = iter(scalings)
            scalings = [next(lines) if res is not None else None for res in results]
        return results, scalings

    def settled(self, live, hs, pw_of, results, evaluate_one, scalings, key: int, period, trace_events) -> tuple:
        """Stage 5: each record settled against its partner's ledger, its history kept, the
        period's sums added up and the row handed on. Returns (records settled, eligible,
        earned sum, payable sum, budget scaling sum, per component its sum, per pooled
        benefit its sum, per kind of statement line its sum)."""
        t = period if period is not None else Period(0, "year")
        settle, info, on_event, on_row = self.settle, self.info, self.on_event, self.on_row
        earned_sum = payable_sum = scaling_sum = ZERO
        comp_sums = [ZERO] * len(self.c.components)
        ben_sums = [ZERO] * len(self.ben_pools)
        kind_sums = dict.fromkeys(L.COLUMN_KINDS, ZERO)
        settled = eligible_n = 0
        for j, ((row, rid, rec), h, pw) in enumerate(zip(live, hs, pw_of)):
            res = results[j] if results is not None else evaluate_one(j)
            if res is None:  # rejected
                continue
            earned = res.total
            scaling = scalings[j] if scalings is not None else ZERO
            s, h.ledger, events = settle(h.ledger, t, res.eligible, earned, res.components, res.settlement, scaling)
            for ev in events:
                on_event(rid, ev)
            for ln in s.lines:
                kind_sums[ln.kind] = add(kind_sums[ln.kind], ln.amount)
            h.keep(key, res.history, earned, info)
            settled += 1
            eligible_n += res.eligible
            comp_sums = list(map(add, comp_sums, res.components))
            for i, b in enumerate(self.ben_pools):
                ben_sums[i] = add(ben_sums[i], res.benefits[b])
            earned_sum = add(earned_sum, earned)
            payable_sum = add(payable_sum, s.payable)
            scaling_sum = add(scaling_sum, scaling)
            on_row(Row(row, rid, period, rec, res, s, trace_events.pop(j, None), pw))
        return settled, eligible_n, earned_sum, payable_sum, scaling_sum, comp_sums, ben_sums, kind_sums

    def account(self, period: Period | None, sums: tuple, pool_notes: list) -> None:
        """The period's sums into the summary; a pool's line after its caps, for the pool notes."""
        settled, eligible_n, earned_sum, payable_sum, scaling_sum, comp_sums, ben_sums, kind_sums = sums
        s = self.summary
        s.paid += settled
        s.eligible += eligible_n
        for n, v in zip(s.components, comp_sums):
            s.components[n] = add(s.components[n], v)
        pt = s.periods.setdefault(str(period) if period is not None else "", PeriodTotals())
        pt.records += settled
        pt.earned, pt.budget_scaling, pt.payable = earned_sum, scaling_sum, payable_sum
        (pt.held, pt.released, pt.forfeited, pt.clawback, pt.carried_recovery, pt.carry_forward) = kind_sums.values()
        comp_index = {c.name: i for i, c in enumerate(self.c.components)}
        ben_index = {b.name: i for i, b in enumerate(self.c.benefits)}
        for name, amount, shares in pool_notes:
            # what the pool's own line paid after its caps (and eligibility): the rest is unallocated
            if name in comp_index:
                paid = comp_sums[comp_index[name]]
            elif name in ben_index:
                paid = ben_sums[self.ben_pools.index(ben_index[name])]
            else:
                paid = shares
            s.pools.append((str(period) if period else "", name, amount, shares, paid))

    def close(self, last: Period) -> None:
        """The end of the run: holds whose deadline passed without a release are forfeited;
        what is still held or owed is summed, and every partner's ledger kept."""
        s = self.summary
        for rid, h in self.partners.items():
            h.ledger, events = L.expire(h.ledger, last)
            if self.on_event is not None:
                for ev in events:
                    self.on_event(rid, ev)
            s.still_held = add(s.still_held, L.still_held(h.ledger))
            s.owed = add(s.owed, L.owed(h.ledger))
        s.ledgers = {rid: h.ledger for rid, h in self.partners.items()}
        s.last_period = last


def _terms(compiled: CompiledPolicy) -> L.Terms:
    """The policy's settlement terms, as the ledger reads them."""
    info = compiled.multi
    comp_index = {c.name: i for i, c in enumerate(compiled.components)}
    hold_index = {name: i for i, (name, _) in enumerate(info.hold_components)}
    holds: dict[str, tuple[str, int, int, int]] = {}  # a component's last `hold` is the one in force
    for n, w in info.hold_components:
        holds[n] = (n, comp_index[n], hold_index[n], w)
    windows: dict[str, int] = {}
    for name, within in info.clawbacks:
        windows[name] = max(windows.get(name, 0), within)
    return L.Terms(holds=tuple(holds.values()), until=hold_index, clawbacks=info.clawbacks, windows=windows,
                   window_values=tuple((n, comp_index[n], w) for n, w in windows.items()), draws=info.draws)


def _ranked(kind: str, members: list, ids: list, figs: list) -> list:
    """Per record its rank or percentile among the members, with the figures a trace shows."""
    got = programwide.rank(members) if kind == "rank" else programwide.percentile(members)
    column = []
    for rid, (_, among) in zip(ids, figs):
        value = got.get(rid) if among else None
        if value is None:
            column.append((None, {"count": len(members)}))
        elif kind == "rank":
            column.append((value.rank, {"count": value.count, "value": value.value,
                                        "value_ranked_above": value.above}))
        else:
            column.append((value.percentile, {"count": value.count, "value": value.value,
                                              "smaller": value.smaller}))
    return column
