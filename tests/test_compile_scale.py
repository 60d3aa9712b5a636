"""The compiler at scale: `if … else if` ladders and nested `match`es as deep as the parser
allows, tables of 10,000 bands, matches of thousands of arms (spec §5a, §6, §16: legal
policies run, and lazily), and what Python's compiler still refuses, explained.

Compiling once compiled every branch twice past MAX_EXPR_DEPTH (exponential in the depth), a
table was one `elif` per band and a match one per arm (too deep for Python's compiler past
about 3,000). The commands run in a subprocess, compiling in a thread, with a generous
timeout, so that a hang fails the test; nothing here asserts a time.
"""

from __future__ import annotations

import csv
import decimal
import subprocess
import sys
import threading
from decimal import Decimal as D

import pytest

from dsl.backends.python import branches, definitions, expressions, module, tables
from dsl.backends.python import runtime
from dsl.run.policy import compile_policy
from dsl.tools.coverage import BRANCH_EVENT, branch_key
from dsl.front.diagnostics import Diagnostics
from dsl.run.policy import load_policy
from dsl.front.syntax import parse_bytes

from .oracles.evaluator import evaluate as reference

HANG = 60  # seconds: a hang guard; compiling takes well under one


def ipl(*args: str, cwd, timeout: int = HANG) -> subprocess.CompletedProcess:
    try:
        return subprocess.run([sys.executable, "-m", "dsl.cli", *args], cwd=cwd, capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`ipl {' '.join(args)}` did not finish in {timeout} s")


def payouts(path) -> dict[str, dict[str, str]]:
    return {row["pid"]: row for row in csv.DictReader(path.open())}


def deepest(make) -> int:
    """The largest n for which `make(n)` parses (deeper is E100: nested too deeply)."""
    lo, hi = 1, 400
    while lo < hi:
        mid = (lo + hi + 1) // 2
        diags = Diagnostics()
        parse_bytes("depth.ipl", make(mid).encode(), diags)
        if any(d.code == "E100" for d in diags.items):
            hi = mid - 1
        else:
            lo = mid
    return lo


def compiled(tmp_path, text: str, overrides=None):
    """The checked policy and both variants compiled, in a thread that must finish in HANG s."""
    path = tmp_path / "p.ipl"
    path.write_text(text)
    policy = load_policy(str(path))
    out = []

    def work():
        cp = compile_policy(policy, overrides)
        cp.traced()
        out.append(cp)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(HANG)
    if thread.is_alive():
        pytest.fail(f"compiling did not finish in {HANG} s")
    assert out, "compiling failed (see the thread's exception above)"
    return policy, out[0]


# ------------------------------------------------------------------ ladders and nested matches

HEAD = 'policy "Deep" currency USD\ninput pid : id\ninput x : number\ninput m : money\n'


def ladder(n: int) -> str:
    """Rung i (from the top) pays (n - i) % of m from x >= (n - i) * 10 up; below 10: nothing."""
    rungs = "".join(f"if x >= {(n - i) * 10} then {n - i} * 1% else " for i in range(n))
    return HEAD + f"metric rate : percent = {rungs}0%\ncomponent pay = m * rate\n"


def nested_match(n: int) -> str:
    """Level i pays i + 1 USD when k is i; no level matches: 0 USD. The subjects (`k == i`)
    are kept in temporaries: statements at every level."""
    expr = "0 USD"
    for i in reversed(range(n)):
        expr = f"match k == {i} {{ true -> {i + 1} USD  false -> {expr} }}"
    return 'policy "Deep" currency USD\ninput pid : id\ninput k : number\n' + f"component pay = {expr}\n"


def test_the_longest_legal_ladder_runs_explains_tests_and_diffs(tmp_path):
    n = deepest(ladder)
    assert n > 2 * expressions.MAX_EXPR_DEPTH  # deep enough to cross the split into temporaries twice
    (tmp_path / "ladder.ipl").write_text(ladder(n))
    top, middle = n * 10 + 5, (n // 2) * 10
    (tmp_path / "r.csv").write_text(f"pid,x,m\nTOP,{top},100\nMID,{middle},100\nLOW,10,100\nNONE,9.99,100\n")
    done = ipl("run", "ladder.ipl", "--records", "r.csv", "-o", "out.csv", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    pay = {pid: row["pay"] for pid, row in payouts(tmp_path / "out.csv").items()}
    # 100 USD * n %, * (n // 2) % (x on the rung's threshold), * 1 %, and nothing below 10
    assert pay == {"TOP": f"{n}.00", "MID": f"{n // 2}.00", "LOW": "1.00", "NONE": "0.00"}
    done = ipl("explain", "ladder.ipl", "--records", "r.csv", "--id", "MID", cwd=tmp_path)
    assert done.returncode == 0 and f"{n // 2}.00" in done.stdout, done.stderr
    (tmp_path / "ladder_test.ipl").write_text(
        f'tests for "ladder.ipl"\n\nfixture mid {{\n  pid = "T"  x = {middle}  m = 200 USD\n}}\n\n'
        f'test "the middle rung" {{\n  given mid\n  expect pay = {2 * (n // 2)} USD\n}}\n')
    done = ipl("test", "ladder_test.ipl", cwd=tmp_path)
    assert done.returncode == 0 and "1 passed, 0 failed" in done.stdout, done.stdout + done.stderr
    (tmp_path / "richer.ipl").write_text(ladder(n).replace("0%\ncomponent", "1%\ncomponent"))
    done = ipl("diff", "ladder.ipl", "richer.ipl", "--records", "r.csv", "--format", "json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert '"NONE"' in done.stdout  # the one record below 10: 0 USD → 1 USD


def test_the_deepest_legal_nested_match_runs(tmp_path):
    n = deepest(nested_match)
    assert n > expressions.MAX_EXPR_DEPTH
    (tmp_path / "match.ipl").write_text(nested_match(n))
    (tmp_path / "r.csv").write_text(f"pid,k\nFIRST,0\nMID,{n // 2}\nLAST,{n - 1}\nNONE,{n}\n")
    done = ipl("run", "match.ipl", "--records", "r.csv", "-o", "out.csv", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    pay = {pid: row["pay"] for pid, row in payouts(tmp_path / "out.csv").items()}
    assert pay == {"FIRST": "1.00", "MID": f"{n // 2 + 1}.00", "LAST": f"{n}.00", "NONE": "0.00"}


def then_ladder(n: int) -> str:
    """Nested in the `then` branches: rung i (from the outside) is x >= (i + 1) * 10."""
    expr = f"{n} * 1%"
    for i in reversed(range(n)):
        expr = f"if x >= {(i + 1) * 10} then {expr} else {i} * 1%"
    return HEAD + f"metric rate : percent = {expr}\ncomponent pay = m * rate\n"


def metric_ladder(n: int) -> str:
    """Each rung's condition reads a metric of its own, first computed there: every condition
    needs statements, and runs only when the rungs above it are not taken (§5a)."""
    metrics = "".join(f"metric t{i} : number = y * {n - i}\n" for i in range(n))
    rungs = "".join(f"if x >= t{i} and (x / y otherwise 0) > 0 then {n - i} * 1% else " for i in range(n))
    return (HEAD + "input y : number\n" + metrics + f"metric rate : percent = {rungs}0%\n"
            "component pay = m * rate\n")


@pytest.mark.parametrize("make, n", [
    (ladder, None), (then_ladder, None), (metric_ladder, 60), (nested_match, None)])
def test_deep_branches_agree_with_the_reference_evaluator(tmp_path, make, n):
    n = n or deepest(make)
    policy, cp = compiled(tmp_path, make(n))
    runtime.activate()
    keys = [D(v) for v in (0, 5, 10, 15, 20, 95, 100, 333, 399.5, 400, 595, 600, 601, 955, 10_000)]
    keys += [D(i) for i in range(0, n + 2)]
    for x in keys:
        for y in (D(0), D(10), D(3)):
            record = {"pid": "P", "x": x, "k": x, "y": y, "m": D(100)}
            got = cp.evaluate(record)
            assert got == reference(policy, record), (x, y)
            result, _events = cp.traced()(record)
            assert result == got


def branch_events(cp, record) -> list[tuple]:
    runtime.activate()
    with decimal.localcontext(runtime.CONTEXT):
        _result, events = cp.traced()(record)
    return [(key[-1], key[2]) for ev in events if BRANCH_EVENT in ev for key in [ev[BRANCH_EVENT]]]


@pytest.mark.parametrize("n", [12, 2 * expressions.MAX_EXPR_DEPTH + 5])
def test_the_traced_ladder_records_the_branches_nested_ifs_take(tmp_path, n):
    policy, cp = compiled(tmp_path, ladder(n))
    rungs = []  # the `if` nodes, outermost first
    node = policy.definitions["rate"].decl.value
    while hasattr(node, "otherwise"):
        rungs.append(node)
        node = node.otherwise
    assert len(rungs) == n

    def key(node, outcome):
        k = branch_key("if", node, outcome)
        return (k[-1], k[2])

    for taken in (0, 1, n // 2, n - 1):  # rung `taken` (from the top): x on its threshold
        got = branch_events(cp, {"pid": "P", "x": D((n - taken) * 10), "m": D(100)})
        # the value's `then`, then the `else` of every rung above it, innermost first
        assert got == [key(rungs[taken], "then"), *(key(r, "else") for r in reversed(rungs[:taken]))]
    got = branch_events(cp, {"pid": "P", "x": D(0), "m": D(100)})
    assert got == [key(r, "else") for r in reversed(rungs)]


def and_or(n: int) -> str:
    """`x > t(n-1) and (x > t(n-2) or (… x > t0))`: every right operand reads a metric of its
    own, first computed there (statements), nested n deep."""
    metrics = "".join(f"metric t{i} : number = y + {i}\n" for i in range(n))
    cond = "x > t0"
    for i in range(1, n):
        cond = f"x > t{i} {'and' if i % 2 else 'or'} ({cond})"
    return HEAD + "input y : number\n" + metrics + f"component pay = if {cond} then m else 0 USD\n"


def test_nested_and_or_compile_each_operand_once(tmp_path):
    n = deepest(and_or)
    assert n > expressions.MAX_EXPR_DEPTH // 2
    policy, cp = compiled(tmp_path, and_or(n))  # each level compiled its right operand twice: 2^n
    runtime.activate()
    for x in (D(0), D(n // 2), D(n - 1), D(n), D(n + 10)):
        for y in (D(0), D(-3)):
            record = {"pid": "P", "x": x, "y": y, "m": D(5)}
            assert cp.evaluate(record) == reference(policy, record), (x, y)


# ------------------------------------------------------------------ tables of 10,000 bands

BANDS = 10_000


def big_tables() -> str:
    """Three tables of 10,000 bands on x (from 0, one band every 10): flat with constant
    values (band i: i USD), flat with values computed per record (band i: m * i; band 7_777
    divides by z), and marginal (band i: i USD per unit of x)."""
    flat = "".join(f"  from {i * 10} -> {i} USD\n" for i in range(BANDS))
    computed = "".join(f"  from {i * 10} -> {'m / z' if i == 7_777 else f'm * {i}'}\n" for i in range(BANDS))
    return ('policy "Big" currency USD\ninput pid : id\ninput x : number in 0..\ninput m : money\n'
            "input z : number\n"
            f"tiers steps on x {{\n{flat}}}\ntiers computed on x {{\n{computed}}}\n"
            f"tiers graduated on x marginal {{\n{flat}}}\n"
            "component a = steps\ncomponent b = computed\ncomponent c = graduated\n")


def test_tables_of_ten_thousand_bands_run(tmp_path):
    (tmp_path / "big.ipl").write_text(big_tables())
    (tmp_path / "r.csv").write_text("pid,x,m,z\n"
                                    "ZERO,0,2,0\n"         # band 0
                                    "LOW,7,2,0\n"          # band 0, inside it
                                    "MID,12345,2,0\n"      # band 1_234
                                    "EDGE,5000,2,0\n"      # on band 500's threshold
                                    "TOP,99995,2,0\n"      # the last band (9_999), unbounded above
                                    "DIV,77775,2,4\n"      # band 7_777: m / z
                                    "DIV0,77775,2,0\n")    # band 7_777 with z = 0: rejected
    # a few seconds, most of them checking 30,000 bands: a generous guard
    done = ipl("run", "big.ipl", "--records", "r.csv", "-o", "out.csv", "--rejects", "rej.csv", cwd=tmp_path,
               timeout=5 * HANG)
    assert done.returncode in (0, 1), done.stderr
    rows = payouts(tmp_path / "out.csv")
    got = {pid: (row["a"], row["b"], row["c"]) for pid, row in rows.items()}
    # marginal, x in band b (10b < x <= 10(b + 1)): sum of j * 10 over j < b, plus b * (x - 10b)
    assert got == {
        "ZERO": ("0.00", "0.00", "0.00"),
        "LOW": ("0.00", "0.00", "0.00"),             # band 0 pays 0 per unit
        "MID": ("1234.00", "2468.00", "7613780.00"),  # 5 * 1234 * 1233 + 1234 * 5
        "EDGE": ("500.00", "1000.00", "1247500.00"),  # 5 * 500 * 499 + 0
        "TOP": ("9999.00", "19998.00", "499900005.00"),  # 5 * 9999 * 9998 + 9999 * 5
        "DIV": ("7777.00", "0.50", "302408645.00"),   # 2 / 4; 5 * 7777 * 7776 + 7777 * 5
    }
    rejects = (tmp_path / "rej.csv").read_text()
    assert "DIV0" in rejects and "division by zero" in rejects  # only the chosen band's value runs


def table(n: int, mode: str = "", values=lambda i: f"{i} USD", below: bool = False, key: str = "x") -> str:
    bands = "".join(f"  from {threshold(i)} -> {values(i)}\n" for i in range(n))
    first = f"  below {threshold(0)} -> 1_000 USD\n" if below else ""
    return f"tiers t on {key}{mode} {{\n{first}{bands}}}\n"


def threshold(i: int) -> str:
    return "p" if i == 3 else str(i * 10)  # band 3's threshold is a param (30 unless `--set`)


TABLE_HEAD = ('policy "T" currency USD\ninput pid : id\ninput x : number\ninput m : money\n'
              "param p : number = 30\n")


@pytest.mark.parametrize("text", [
    table(40, below=True),
    table(40, values=lambda i: f"m * {i} + 1 USD" if i % 3 else f"{i} USD", below=True),
    table(40, " marginal"),
], ids=["flat", "flat computed", "marginal"])
@pytest.mark.parametrize("p", [None, D(30), D(25), D(300), D(-5)])  # 300, -5: not ascending
def test_bisection_agrees_with_one_test_per_band(tmp_path, monkeypatch, text, p):
    """The same table, inline (one test per band) and by bisection: the same results and the
    same trace events (the band chosen), also when `--set` breaks the ascending order."""
    path = tmp_path / "t.ipl"
    path.write_text(TABLE_HEAD + text + "component c = t\n")
    policy = load_policy(str(path))
    overrides = {} if p is None else {"p": p}
    monkeypatch.setattr(tables, "INLINE_BANDS", 1_000)
    monkeypatch.setattr(tables, "INLINE_MARGINAL_BANDS", 1_000)
    inline = compile_policy(policy, overrides)
    monkeypatch.setattr(tables, "INLINE_BANDS", 0)
    monkeypatch.setattr(tables, "INLINE_MARGINAL_BANDS", 0)
    bisected = compile_policy(policy, overrides)
    assert "_bisect" in bisected.source or "_marginal_table" in bisected.source
    assert "_bisect" not in inline.source and "_marginal_table" not in inline.source
    runtime.activate()
    for x in [D(-20), D(-0.5), D(0), D(5), D(29.99), D(30), D(35), D("100.0"), D(101), D(399), D(400), D(10**6)]:
        record = {"pid": "P", "x": x, "m": D(2)}
        for variant in (lambda cp: cp.evaluate, lambda cp: cp.traced()):
            want, got = _outcome(variant(inline), record), _outcome(variant(bisected), record)
            assert got == want, x


def _outcome(fn, record):
    with decimal.localcontext(runtime.CONTEXT):
        try:
            return fn(record)
        except runtime.EvalError as err:
            return ("error", err.describe())


def test_a_key_under_the_first_band_of_a_table_without_below_is_an_error(tmp_path, monkeypatch):
    # x >= 0 reaches the first band (E401 otherwise), until `--set q=50` moves it up
    text = ('policy "T" currency USD\ninput pid : id\ninput x : number in 0..\nparam q : number = 0\n'
            "tiers t on x {\n  from q -> 0 USD\n" + "".join(f"  from {i * 100} -> {i} USD\n" for i in range(1, 20))
            + "}\ncomponent c = t\n")
    monkeypatch.setattr(tables, "INLINE_BANDS", 0)
    _policy, cp = compiled(tmp_path, text, {"q": D(50)})
    runtime.activate()
    assert cp.evaluate({"pid": "P", "x": D(1950)}).components == (D("19.00"),)
    assert cp.evaluate({"pid": "P", "x": D(50)}).components == (D("0.00"),)
    for fn in (cp.evaluate, cp.traced()):
        message = r"t has no band for this key: the first band starts at q \(key 49\)"
        with pytest.raises(runtime.EvalError, match=message):
            fn({"pid": "P", "x": D(49)})


def test_flat_steps_keeps_the_last_band_a_key_reaches():
    # thresholds 0, 50, 20, 30 (a `--set` param broke the order): band 1 is never chosen
    steps, bands = runtime.flat_steps((D(0), D(50), D(20), D(30)), below=False)
    assert steps == (D(0), D(20), D(30)) and bands == (-1, 0, 2, 3)
    steps, bands, values = runtime.flat_steps((D(5), D(5), D(9)), below=True, values=("b", "f5", "f9"))
    assert steps == (D(5), D(9)) and bands == (0, 1, 2) and values == ("b", "f5", "f9")


def test_marginal_table_adds_the_bands_in_order():
    thresholds, rates = (D(0), D(60), D(80)), (D(0), D(100), D(250))
    at = runtime.marginal_table(thresholds, rates)
    assert at(D(90)) == D(4_500)  # §6 worked example: 20 * 100 + 10 * 250
    assert [at(D(v)) for v in (-1, 0, 60, 61, 80, 100)] == [0, 0, 0, 100, 2_000, 7_000]
    unsorted = runtime.marginal_table((D(0), D(80), D(60)), rates)  # every band tried, as inline
    assert unsorted(D(90)) == D(0) * 80 + D(100) * (D(60) - D(80)) + D(250) * (D(90) - D(60))


# ------------------------------------------------------------------ matches of many arms

def big_match(n: int) -> str:
    """A match on an enum of n members: s(i) pays i USD; s1 and s2 share an arm; the last arm is
    `else`; plus a level benefit that reads the member's arm (a computed value)."""
    members = ", ".join(f"s{i}" for i in range(n))
    arms = "".join(f"  s{i} -> {i} USD\n" for i in range(3, n - 1))
    return ('policy "M" currency USD\ninput pid : id\ninput m : money\n'
            f"input seg : enum({members})\n"
            f"component pay = match seg {{\n  s0 -> 0 USD\n  s1 | s2 -> m * 2\n{arms}  else -> 1 USD\n}}\n")


def test_a_match_of_eight_thousand_arms_runs(tmp_path):
    n = 8_000  # one `elif` per arm: Python's compiler gives up past about 3,000
    (tmp_path / "m.ipl").write_text(big_match(n))
    (tmp_path / "r.csv").write_text("pid,m,seg\nA,5,s0\nB,5,s2\nC,5,s4321\nD,5,s7998\nE,5,s7999\n")
    done = ipl("run", "m.ipl", "--records", "r.csv", "-o", "out.csv", cwd=tmp_path, timeout=5 * HANG)
    assert done.returncode == 0, done.stderr
    pay = {pid: row["pay"] for pid, row in payouts(tmp_path / "out.csv").items()}
    assert pay == {"A": "0.00", "B": "10.00", "C": "4321.00", "D": "7998.00", "E": "1.00"}


@pytest.mark.parametrize("n", [20, 200])
def test_a_dict_dispatched_match_agrees_with_one_test_per_arm(tmp_path, monkeypatch, n):
    """Results and the arm recorded by the traced variant, both ways."""
    path = tmp_path / "m.ipl"
    path.write_text(big_match(n))
    policy = load_policy(str(path))
    monkeypatch.setattr(branches, "INLINE_ARMS", 10_000)
    chain = compile_policy(policy)
    monkeypatch.setattr(branches, "INLINE_ARMS", 0)
    lookup = compile_policy(policy)
    assert ".get(" in lookup.source and ".get(" not in chain.source
    runtime.activate()
    for i in range(n):
        record = {"pid": "P", "m": D(3), "seg": f"s{i}"}
        assert lookup.evaluate(record) == chain.evaluate(record), i
        assert branch_events(lookup, record) == branch_events(chain, record), i
    assert branch_events(lookup, {"pid": "P", "m": D(3), "seg": "s2"})[0][0] == 1  # the arm `s1 | s2`


# ------------------------------------------------------------------ what Python's compiler still refuses

def chained(n: int, link: str) -> str:
    """n metrics, each reading the previous one first inside its own `otherwise` or branch."""
    metrics = "".join(f"metric m{i} : number = {link.format(prev=f'm{i - 1}', i=i)}\n" for i in range(1, n))
    return HEAD + "input y : number\nmetric m0 : number = x\n" + metrics + f"component pay = m * m{n - 1}\n"


@pytest.mark.parametrize("link, n, why", [
    ("{prev} / y otherwise {i}", 22, "more than 20 `otherwise` are evaluated inside one another"),
    ("if x > {i} then {prev} + 1 else 0", 120, "branches of `if`, `match`, `otherwise` and `and`/`or` nest more"),
])
def test_nesting_python_refuses_is_explained(tmp_path, link, n, why):
    (tmp_path / "p.ipl").write_text(chained(n, link))
    (tmp_path / "r.csv").write_text("pid,x,y,m\nA,1,1,1\n")
    done = ipl("run", "p.ipl", "--records", "r.csv", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith(f"ipl: the policy is too deeply nested to compile: {why}"), done.stderr
    assert "help: shorten" in done.stderr and "Traceback" not in done.stderr


def test_a_compiler_error_without_a_message_still_says_what_happened():
    text = module.too_deep(MemoryError())
    assert text == ("the policy is too deeply nested to compile: Python's compiler gave up on the generated "
                    "code (MemoryError: MemoryError); help: split the longest expressions into named metrics")


# ------------------------------------------------------------------ many components, many measures

def test_thousands_of_components_and_measures_compile(tmp_path):
    """The total of 2,000 components and a scorecard of 1,000 measures: sums added in steps of
    MAX_SUM_TERMS (one chain of 2,000 `+` is too deep for Python's compiler at its default
    recursion limit); 2,000 constant floors and caps, each rounded once (found by scanning the
    constant lines for it: quadratic)."""
    n, measures = 2_000, 1_000
    comps = "".join(f"component c{i} = m * {i}\n  floor p\n  cap 1_000 USD\n" for i in range(n))
    card = "".join("  x weight 0.1% target 1\n" for _ in range(measures))
    text = (HEAD + "param p : money = 1 USD\n" + comps + f"scorecard sc {{\n{card}}}\n"
            "component pay = m * sc\n")
    _policy, cp = compiled(tmp_path, text)
    for source in (cp.source, cp.traced_source):
        assert max(line.count(" + ") for line in source.splitlines()) <= definitions.MAX_SUM_TERMS
        rounded = [line.split(" = ")[0].strip() for line in source.splitlines() if "_r = " in line]
        assert len(rounded) == len(set(rounded)) == n + 1  # each `p`, and 1_000 USD once
    runtime.activate()
    result = cp.evaluate({"pid": "P", "x": D("0.5"), "m": D(1)})
    # c0 floored to 1; c1..c1000 = 1..1000; c1001..c1999 capped at 1000; pay = 1 * 50 %
    assert result.components[:3] == (D("1.00"), D("1.00"), D("2.00")) and result.components[-1] == D("0.50")
    assert result.total == 1 + 500_500 + 999 * 1_000 + D("0.50")
