"""The compiler at scale: `if … else if` ladders and nested `match`es as deep as the parser
allows (spec §5a, §16: legal policies run, and lazily).

Compiling once compiled every branch twice past MAX_EXPR_DEPTH (exponential in the depth).
The commands run in a subprocess, compiling in a thread, with a generous timeout, so that a
hang fails the test; nothing here asserts a time.
"""

from __future__ import annotations

import csv
import decimal
import subprocess
import sys
import threading
from decimal import Decimal as D

import pytest

from dsl import compile as compiler
from dsl import runtime
from dsl.compile import compile_policy
from dsl.coverage import BRANCH_EVENT, branch_key
from dsl.diagnostics import Diagnostics
from dsl.engine import load_policy
from dsl.syntax import parse_bytes

from .reference_eval import evaluate as reference

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
    assert n > 2 * compiler.MAX_EXPR_DEPTH  # deep enough to cross the split into temporaries twice
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
    assert n > compiler.MAX_EXPR_DEPTH
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


@pytest.mark.parametrize("n", [12, 2 * compiler.MAX_EXPR_DEPTH + 5])
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
    assert n > compiler.MAX_EXPR_DEPTH // 2
    policy, cp = compiled(tmp_path, and_or(n))  # each level compiled its right operand twice: 2^n
    runtime.activate()
    for x in (D(0), D(n // 2), D(n - 1), D(n), D(n + 10)):
        for y in (D(0), D(-3)):
            record = {"pid": "P", "x": x, "y": y, "m": D(5)}
            assert cp.evaluate(record) == reference(policy, record), (x, y)
