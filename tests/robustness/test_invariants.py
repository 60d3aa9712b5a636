"""Invariants of a multi-period run (spec §14.4, §14.5, §15), as hypothesis properties over
GENERATED policies and records, read back from the outputs of the command line.

A scenario is a small random policy — one to three components over a partner's revenue, units,
score and churn, with optional caps and floors, `hold P until C within N periods`,
`clawback C within N periods when ... recover ...`, `total { floor X [recoverable] cap Y }`, a
`pool` component and `program { budget B per period }` — and random records of two to five
partners over several quarters, with gaps. It goes through `ipl check` (it must check clean),
`ipl run -o payouts.csv --ledger ledger.csv --rejects rejects.csv` (every record paid) and
`ipl explain --format json` of a few records. From those files:

- each row adds up: payable = total + budget_scaling + held + released + clawback +
  carried_recovery + carry_forward; payable >= 0; every line has its sign;
- a component never exceeds its constant cap;
- a pool's amounts add up exactly to the pool when the eligible shares are positive (none is
  capped), and are all 0 otherwise;
- when the budget binds, the period's scaled totals add up exactly to it; otherwise nothing is
  scaled;
- the ledger balances: for each hold, held = released + forfeited + still held at the end;
  the payouts' columns are the ledger's events;
- a clawback never recovers more than was paid for its origin (paid now + released);
- what is owed at the end is reported: draws + carried forward - recovered = owed;
- an ineligible record earns nothing;
- `ipl explain --format json`: the lines add up to the total, the settlement lines to the
  payable, and both are the payouts row's;
- (any policy) the records of the last quarter change no statement of an earlier one.

The default budget keeps each property to a few seconds; `IPL_FUZZ=long` draws 50 times more.
"""

from __future__ import annotations

import collections
import csv
import io
import json
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal as D
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import event as reached
from hypothesis import strategies as st

from .harness import LONG, Figures, budget, call_or_hang, judge, reconciled

EXAMPLES = budget(12, 600)
QUARTERS = ["2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=not LONG, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
LINES = ("total", "budget_scaling", "held", "released", "clawback", "carried_recovery", "carry_forward")


@dataclass
class Component:
    name: str
    expr: str
    cap: D | None = None
    floor: D | None = None
    hold: str | None = None  # the hold clause
    pool: tuple[D, str] | None = None  # (amount, share input)


@dataclass
class Scenario:
    components: list[Component]
    clawbacks: list[str]  # the clawback declarations
    clawed: set[str]
    eligibility: str | None
    total: str | None
    draw: bool
    budget: D | None
    rounding: str | None
    records: list[dict] = field(default_factory=list)

    def policy(self) -> str:
        out = ['policy "Generated"', "  currency USD", "  period quarter"]
        if self.rounding:
            out.append(f"  rounding {self.rounding}")
        out += ["", "input pid : id", "input q : period", "input revenue : money in 0 USD..", "input units : count",
                "input score : number in 0..100", "input churn : money in 0 USD..", ""]
        if self.eligibility:
            out += ["eligibility {", f'  require {self.eligibility} else "not eligible"', "}", ""]
        for c in self.components:
            if c.pool:
                out.append(f"component {c.name} = pool {c.pool[0]} USD by {c.pool[1]} among eligible")
            else:
                out.append(f"component {c.name} = {c.expr}")
            if c.floor is not None:
                out.append(f"  floor {c.floor} USD")
            if c.cap is not None:
                out.append(f"  cap {c.cap} USD")
            if c.hold:
                out.append(f"  {c.hold}")
            out.append("")
        out += self.clawbacks
        if self.total:
            out += ["", self.total]
        if self.budget is not None:
            out += ["", "program {", f"  budget {self.budget} USD per period", "}"]
        return "\n".join(out) + "\n"

    def records_csv(self) -> str:
        lines = ["pid,q,revenue,units,score,churn"]
        lines += [f"{r['pid']},{r['q']},{r['revenue']},{r['units']},{r['score']},{r['churn']}" for r in self.records]
        return "\n".join(lines) + "\n"


MONEY_EXPRS = ["revenue * {r}%", "units * {k} USD", "min(revenue * {r}%, {k}0 USD)", "max(revenue * {r}%, {k} USD)",
               "if score >= 50 then revenue * {r}% else {k} USD", "(prior(revenue) otherwise 0 USD) * {r}%",
               "trailing_sum(revenue, 2) * {r}%", "revenue * {r}% + churn * 1%"]
CONDITIONS = ["score >= 60", "units > 2", "revenue >= 1_000 USD", "streak(score >= 40) >= 2", "churn == 0 USD"]


@st.composite
def scenarios(draw, force: frozenset[str] = frozenset()) -> Scenario:
    def want(feature: str, p: bool = True) -> bool:
        return feature in force or draw(st.booleans()) and p

    comps: list[Component] = []
    for i in range(draw(st.integers(1, 3))):
        expr = draw(st.sampled_from(MONEY_EXPRS)).format(r=draw(st.sampled_from(["2", "5", "10", "12.5", "33"])),
                                                         k=draw(st.sampled_from(["7", "150", "999.99"])))
        c = Component(f"c{i}", expr)
        if draw(st.booleans()):
            c.cap = D(draw(st.sampled_from(["500", "2500", "10000.01"])))
        if draw(st.booleans()):
            c.floor = D(draw(st.sampled_from(["0", "25", "100"])))
        if (i == 0 and "hold" in force) or draw(st.booleans()):
            portion = draw(st.sampled_from(["10%", "25%", "50%", "100%"]))
            c.hold = (f"hold {portion} until {draw(st.sampled_from(CONDITIONS))} "
                      f"within {draw(st.integers(1, 3))} periods")
        comps.append(c)
    clawbacks, clawed = [], set()
    for c in comps:
        if (c is comps[0] and "clawback" in force) or draw(st.booleans()):
            recover = draw(st.sampled_from([None, "50%", "100%", "min(100%, churn / revenue otherwise 100%)", "150%"]))
            when = draw(st.sampled_from(["churn > 0 USD", "score < 30", "churn > revenue * 10%"]))
            clawbacks.append(f"clawback {c.name} within {draw(st.integers(1, 3))} periods\n  when {when}"
                             + (f"\n  recover {recover}" if recover else ""))
            clawed.add(c.name)
    if want("pool"):
        amount = D(draw(st.sampled_from(["1000", "333.33", "10000", "0.05"])))
        comps.append(Component("fund", "", pool=(amount, draw(st.sampled_from(["revenue", "units", "score"])))))
    eligibility = draw(st.sampled_from([None, "score >= 20", "revenue > 0 USD"]))
    draw_floor = want("draw")
    total = None
    if draw_floor or draw(st.booleans()):
        items = []
        if draw_floor:
            items.append(f"floor {draw(st.sampled_from(['100', '750', '2000']))} USD recoverable")
        elif draw(st.booleans()):
            items.append(f"floor {draw(st.sampled_from(['50', '300']))} USD")
        if draw(st.booleans()):
            items.append(f"cap {draw(st.sampled_from(['3000', '20000']))} USD")
        total = "total {\n" + "".join(f"  {x}\n" for x in items) + "}" if items else None
    budget_ = D(draw(st.sampled_from(["500", "4000", "50000", "0.03"]))) if want("budget") else None
    s = Scenario(comps, clawbacks, clawed, eligibility, total, draw_floor, budget_,
                 draw(st.sampled_from([None, "half_even", "half_up", "down"])))
    for p in range(draw(st.integers(2, 5))):
        periods = draw(st.lists(st.sampled_from(QUARTERS), min_size=1, max_size=5, unique=True))
        for q in sorted(periods):
            s.records.append({
                "pid": f"P{p}", "q": q,
                "revenue": draw(st.sampled_from(["0", "0.01", "950", "1000", "12345.67", "80000"])),
                "units": draw(st.integers(0, 6)),
                "score": draw(st.sampled_from(["0", "25", "40", "59.5", "60", "100"])),
                "churn": draw(st.sampled_from(["0", "0", "10", "5000", "99999"])),
            })
    draw(st.randoms()).shuffle(s.records)  # records come in any order
    return s


# ---------------------------------------------------------------- checking the outputs


def read(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def money(text: str) -> D:
    return D(text)


def check_scenario(s: Scenario, figures: Figures, later_periods: bool = False) -> None:
    with tempfile.TemporaryDirectory(prefix="ipl-invariants-") as tmp:
        folder = Path(tmp)
        policy, records = folder / "p.ipl", folder / "r.csv"
        policy.write_text(s.policy(), encoding="utf-8")
        records.write_text(s.records_csv(), encoding="utf-8")
        what = f"generated scenario\n--- p.ipl\n{s.policy()}--- r.csv\n{s.records_csv()}"
        figures.inputs += 1
        judge(call_or_hang(what, "check", policy, figures=figures), {0}, what, figures)
        out, ledger, rejects = folder / "payouts.csv", folder / "ledger.csv", folder / "rejects.csv"
        ran = call_or_hang(what, "run", policy, "--records", records, "-o", out, "--ledger", ledger,
                           "--rejects", rejects, figures=figures)
        judge(ran, {0}, what, figures)
        assert reconciled(ran) == (len(s.records), len(s.records), 0), what
        rows, events = read(out), read(ledger)
        assert len(rows) == len(s.records)
        for kind in sorted({e["event"] for e in events}):
            reached(f"ledger has {kind}")  # what the examples reached: pytest --hypothesis-show-statistics
        if any(money(r["budget_scaling"]) for r in rows):
            reached("the budget binds")
        if any(money(r[c.name]) for c in s.components if c.pool for r in rows):
            reached("a pool pays")
        check_rows(s, rows, what)
        check_ledger(s, rows, events, what)
        for row in rows[:: max(1, len(rows) // 2)]:
            check_explain(s, policy, records, row, what, figures)
        if later_periods:
            check_earlier_periods_stay(s, policy, rows, folder, what, figures)


def check_earlier_periods_stay(s: Scenario, policy: Path, rows: list[dict], folder: Path, what: str,
                               figures: Figures) -> None:
    """§14.4: adding a later period's records never changes an earlier period's statement."""
    last = max(r["q"] for r in s.records)
    earlier = Scenario(**{**s.__dict__, "records": [r for r in s.records if r["q"] < last]})
    if not earlier.records:
        return
    records, out = folder / "earlier.csv", folder / "earlier-payouts.csv"
    records.write_text(earlier.records_csv(), encoding="utf-8")
    judge(call_or_hang(what, "run", policy, "--records", records, "-o", out, figures=figures), {0}, what, figures)
    before = sorted(tuple(r.values()) for r in read(out))
    after = sorted(tuple(r.values()) for r in rows if r["q"] < last)
    assert before == after, f"{what}\nthe records of {last} changed the statements of earlier periods"


def check_rows(s: Scenario, rows: list[dict], what: str) -> None:
    by_period: dict[str, list[dict]] = collections.defaultdict(list)
    for row in rows:
        v = {k: money(row[k]) for k in (*LINES, "forfeited", "payable")}
        key = f"{row['pid']} {row['q']}"
        assert v["payable"] == sum(v[k] for k in LINES), f"{what}\n{key}: the lines do not add up to payable: {row}"
        assert v["payable"] >= 0, f"{what}\n{key}: payable < 0"
        for k in ("budget_scaling", "held", "clawback", "carried_recovery"):
            assert v[k] <= 0, f"{what}\n{key}: {k} > 0"
        for k in ("released", "carry_forward", "forfeited"):
            assert v[k] >= 0, f"{what}\n{key}: {k} < 0"
        if row["eligible"] == "false":
            assert all(money(row[c.name]) == 0 for c in s.components) and v["total"] == 0, \
                f"{what}\n{key}: an ineligible record earns"
        for c in s.components:
            if c.cap is not None:
                assert money(row[c.name]) <= c.cap, f"{what}\n{key}: {c.name} {row[c.name]} above its cap {c.cap}"
        by_period[row["q"]].append(row)
    inputs = {(r["pid"], r["q"]): r for r in s.records}
    for q, period_rows in by_period.items():
        for c in s.components:
            if not c.pool:
                continue
            amount, share = c.pool
            shares = sum(D(str(inputs[r["pid"], q][share])) for r in period_rows if r["eligible"] == "true")
            paid = sum(money(r[c.name]) for r in period_rows)
            expected = amount if shares > 0 else D(0)
            assert paid == expected, f"{what}\n{q}: pool {c.name} pays {paid}, not {expected} (shares {shares})"
        if s.budget is not None:
            earned = sum(money(r["total"]) for r in period_rows)
            scaled = sum(money(r["total"]) + money(r["budget_scaling"]) for r in period_rows)
            if earned > s.budget:
                assert scaled == s.budget, f"{what}\n{q}: earned {earned}, scaled to {scaled}, budget {s.budget}"
            else:
                assert scaled == earned, f"{what}\n{q}: scaled although earned {earned} <= budget {s.budget}"


def check_ledger(s: Scenario, rows: list[dict], events: list[dict], what: str) -> None:
    per: dict[tuple, D] = collections.Counter()  # (event, id, component, origin) -> amount; 0 when absent
    by_id: dict[tuple, D] = collections.Counter()  # (event, id) -> amount
    for e in events:
        amount = money(e["amount"])
        assert amount >= 0, f"{what}\nledger amounts are magnitudes: {e}"
        key = (e["event"], e["id"], e["component"], e["origin_period"])
        per[key] = per.get(key, D(0)) + amount
        by_id[key[:2]] = by_id.get(key[:2], D(0)) + amount
    kinds = {e["event"] for e in events}
    assert kinds <= {"hold", "release", "forfeit", "clawback", "draw", "recovery", "carry_forward", "still_held",
                     "owed"}, f"{what}\nunknown ledger events {kinds}"
    # holds: held = released + forfeited + still held, hold by hold
    for (event, pid, comp, origin), amount in per.items():
        if event == "hold":
            rest = per["release", pid, comp, origin] + per["forfeit", pid, comp, origin] + \
                per["still_held", pid, comp, origin]
            assert amount == rest, f"{what}\n{pid} {comp} from {origin}: held {amount}, released + forfeited + " \
                                   f"still held {rest}"
    # the payouts' columns are the ledger's events
    for pid in {r["pid"] for r in rows}:
        mine = [r for r in rows if r["pid"] == pid]
        for column, event, sign in [("held", "hold", -1), ("released", "release", 1), ("clawback", "clawback", -1),
                                    ("carried_recovery", "recovery", -1), ("carry_forward", "carry_forward", 1)]:
            total = sum(money(r[column]) for r in mine)
            assert total == sign * by_id[event, pid], \
                f"{what}\n{pid}: column {column} adds up to {total}, the ledger's {event} events to {by_id[event, pid]}"
        # draws: what is owed at the end is reported
        owed = by_id["draw", pid] + by_id["carry_forward", pid] - by_id["recovery", pid]
        assert owed == by_id["owed", pid], f"{what}\n{pid}: owes {owed}, the ledger reports {by_id['owed', pid]}"
        if not s.draw:
            assert by_id["draw", pid] == 0, f"{what}\n{pid}: a draw without a recoverable floor"
    # clawbacks: never more than was paid for the origin (paid now + released)
    value = {(r["pid"], r["q"], c.name): money(r[c.name]) for r in rows for c in s.components}
    for (event, pid, comp, origin), amount in per.items():
        if event != "clawback":
            continue
        assert comp in s.clawed, f"{what}\na clawback of {comp}, which has none"
        paid = value[pid, origin, comp] - per["hold", pid, comp, origin] + per["release", pid, comp, origin]
        assert amount <= paid, f"{what}\n{pid} {comp} from {origin}: {amount} clawed back, {paid} was paid"


def check_explain(s: Scenario, policy: Path, records: Path, row: dict, what: str, figures: Figures) -> None:
    explained = call_or_hang(what, "explain", policy, "--records", records, "--id", row["pid"], "--period", row["q"],
                             "--format", "json", figures=figures)
    judge(explained, {0}, what, figures)
    doc = json.loads(explained.stdout, parse_float=D)
    (statement,) = doc["periods"]
    assert sum((D(str(ln["amount"])) for ln in statement["lines"]), D(0)) == D(str(statement["total"])), \
        f"{what}\nexplain {row['pid']} {row['q']}: the lines do not add up to the total"
    settlement = statement["settlement"]
    payable = D(str(settlement["earned"])) + D(str(settlement["budget_scaling"])) + sum(
        (D(str(ln["cash"])) for ln in settlement["lines"]), D(0))
    assert payable == D(str(settlement["payable"])) == money(row["payable"]), \
        f"{what}\nexplain {row['pid']} {row['q']}: settlement lines add up to {payable}, payable " \
        f"{settlement['payable']}, the payouts say {row['payable']}"
    assert D(str(statement["total"])) == money(row["total"])


# ---------------------------------------------------------------- the properties

FIGURES: dict[str, Figures] = {}


def figures_of(name: str) -> Figures:
    return FIGURES.setdefault(name, Figures(f"invariants {name}"))


@pytest.fixture(autouse=True, scope="module")
def _save_figures():
    yield
    for f in FIGURES.values():
        f.save()



@SETTINGS
@given(scenarios(force=frozenset({"hold", "clawback"})))
def test_holds_and_clawbacks_balance(scenario):
    check_scenario(scenario, figures_of("holds-clawbacks"))


@SETTINGS
@given(scenarios(force=frozenset({"pool", "budget"})))
def test_pools_and_budgets_add_up(scenario):
    check_scenario(scenario, figures_of("pools-budgets"))


@SETTINGS
@given(scenarios(force=frozenset({"draw"})))
def test_draws_are_owed_until_recovered(scenario):
    check_scenario(scenario, figures_of("draws"))


@SETTINGS
@given(scenarios())
def test_any_generated_policy(scenario):
    check_scenario(scenario, figures_of("any"), later_periods=True)
