"""Differential and property tests: the compiled evaluator against tests/oracles/evaluator.py.

Hypothesis generates small, type-correct policies (inputs of every kind, params, metrics
that read each other, flat and marginal tables, a level table, a scorecard, `if`, `match`,
`otherwise`, divisions that may fail, components and benefits with require/floor/cap, a
total with floor and cap) and records; both evaluators must give identical results (or both
reject). Properties on the same policies: lines add up to the total, no capped value above
its cap, floors hold for eligible records, reordering declarations changes nothing,
evaluating twice gives identical outputs.
"""

from __future__ import annotations

import itertools
import random
from decimal import Decimal as D

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from dsl.backends.python import runtime
from dsl.run.policy import compile_policy
from dsl.front.diagnostics import Diagnostics
from dsl.checker.checked import CheckedPolicy
from dsl.front.source import SourceFile
from dsl.front.syntax import parse_source

from .oracles.evaluator import RefError
from .oracles.evaluator import evaluate as reference

INPUTS = """input pid : id
input a : money in 0 USD..
input b : money
input n : number in -50..50
input k : number in 0..100
input p : percent
input c : count
input flag : bool
input seg : enum(red, green, blue)
"""

_counter = itertools.count()


class Gen:
    """Builds type-correct IPL expressions from a random source (hypothesis draws the seed)."""

    def __init__(self, rnd: random.Random, metrics: dict[str, str]):
        self.r = rnd
        self.metrics = metrics  # name -> type, for names already defined

    def pick(self, *xs):
        return self.r.choice(xs)

    def lit(self, kind: str) -> str:
        r = self.r
        if kind == "money":
            return f"{r.choice([0, 1, 5, 100, 250, 1_000, 12.5, 0.01])} USD"
        if kind == "percent":
            return f"{r.choice([0, 1, 2.5, 10, 50, 100, 125])}%"
        return str(r.choice([0, 1, 2, 3, 0.5, 1.2, 10, 60]))

    def names(self, kind: str) -> list[str]:
        base = {"money": ["a", "b"], "number": ["n", "k"], "percent": ["p"]}[kind]
        return base + [m for m, t in self.metrics.items() if t == kind]

    def expr(self, kind: str, depth: int = 0) -> str:
        r = self.r
        if depth > 3 or r.random() < 0.3:
            return r.choice(self.names(kind) + [self.lit(kind)])
        d = depth + 1
        choices = ["add", "if", "match", "minmax", "otherwise"]
        if kind == "money":
            choices += ["mulp", "muln", "div", "round", "clamp"]
        elif kind == "number":
            choices += ["muln", "div", "count", "abs"]
        else:
            choices += ["ratio", "muln"]
        c = r.choice(choices)
        if c == "add":
            return f"({self.expr(kind, d)} {r.choice('+-')} {self.expr(kind, d)})"
        if c == "if":
            return f"(if {self.cond(d)} then {self.expr(kind, d)} else {self.expr(kind, d)})"
        if c == "match":
            return (f"(match seg {{ red -> {self.expr(kind, d)}  green | blue -> {self.expr(kind, d)} }})"
                    if r.random() < 0.5 else
                    f"(match flag {{ true -> {self.expr(kind, d)}  false -> {self.expr(kind, d)} }})")
        if c == "minmax":
            return f"{r.choice(['min', 'max'])}({self.expr(kind, d)}, {self.expr(kind, d)})"
        if c == "otherwise":
            return f"({self.expr(kind, d)} otherwise {self.expr(kind, d)})"
        if c == "mulp":
            return f"({self.expr('money', d)} * {self.expr('percent', d)})"
        if c == "muln":
            return f"({self.expr(kind, d)} * {self.expr('number', d)})"
        if c == "div":
            return f"({self.expr(kind, d)} / {self.expr('number', d)})"
        if c == "round":
            return f"round({self.expr('money', d)})"
        if c == "clamp":
            return f"clamp({self.expr('money', d)}, 0 USD, 500 USD)"
        if c == "count":
            return "c"
        if c == "abs":
            return f"abs({self.expr('number', d)})"
        if c == "ratio":
            return f"({self.expr('money', d)} / {self.expr('money', d)} otherwise {self.lit('percent')})"
        raise AssertionError(c)

    def cond(self, depth: int = 0) -> str:
        r = self.r
        c = r.choice(["cmp", "cmp", "flag", "seg", "not", "and"] if depth < 3 else ["cmp", "flag", "seg"])
        if c == "cmp":
            kind = r.choice(["money", "number", "percent"])
            return f"{self.expr(kind, depth + 2)} {r.choice(['<', '<=', '>', '>=', '==', '!='])} {self.expr(kind, depth + 2)}"
        if c == "flag":
            return "flag"
        if c == "seg":
            return r.choice(["seg == red", "seg != blue", "seg in (red, green)"])
        if c == "not":
            return f"not ({self.cond(depth + 1)})"
        return f"({self.cond(depth + 1)} {r.choice(['and', 'or'])} {self.cond(depth + 1)})"


def make_policy(seed: int) -> tuple[str, list[str]]:
    """A policy's header and its declarations (each a string, in an order that may be shuffled)."""
    r = random.Random(seed)
    metrics: dict[str, str] = {}
    g = Gen(r, metrics)
    decls = ["param rate : percent = 10%", "param bonus : money = 50 USD"]
    for i in range(r.randint(1, 4)):
        kind = r.choice(["money", "number", "percent"])
        decls.append(f"metric m{i} : {kind} = {g.expr(kind)}")
        metrics[f"m{i}"] = kind
    decls.append("tiers band on k {\n  below 10 -> 0%\n  from 10 -> 2%\n  from 50 -> rate\n}")
    metrics["band"] = "percent"
    decls.append("tiers ladder on k marginal {\n  from 0 -> 1 USD\n  from 20 -> 3 USD\n  from 80 -> 10 USD\n}")
    metrics["ladder"] = "money"
    decls.append("tiers level on a {\n  below 100 USD -> bronze\n  from 100 USD -> silver\n  from 1_000 USD -> gold\n}")
    decls.append("scorecard score {\n  k weight 60% target 80 cap 150%\n  p weight 40% target 50%\n}")
    metrics["score"] = "percent"
    decls.append(f"eligibility {{\n  require ({g.cond()}) or seg != blue else \"gate one\"\n"
                 f"  require ({g.cond()}) or flag else \"gate two\"\n}}")
    for i in range(r.randint(1, 3)):
        mods = []
        if r.random() < 0.4:
            mods.append(f'require {g.cond()} else "needs {i}"')
        if r.random() < 0.5:
            mods.append(f"floor {r.choice([0, 1, 10, 25])} USD")
        if r.random() < 0.6:
            mods.append(f"cap {r.choice([100, 500, 1_000])} USD")
        value = r.choice([g.expr("money"), "a * band", "ladder", "b * score", "if level >= silver then bonus else 0 USD"])
        decls.append(f"component c{i} = {value}" + "".join(f"\n  {m}" for m in mods))
    decls.append(f"benefit fund = {g.expr('money')}\n  cap 300 USD")
    decls.append("benefit tier_level = level")
    decls.append("benefit vip = level == gold and flag")
    decls.append(f"total {{\n  floor {r.choice([0, 5, 50])} USD\n  cap {r.choice([400, 2_000])} USD\n}}")
    return 'policy "Generated" currency USD\n' + INPUTS, decls


def check(text: str, name: str = "gen.ipl") -> CheckedPolicy | None:
    from dsl.checker import program as checker

    diags = Diagnostics()
    source = SourceFile(name, text)
    tree = parse_source(source, diags)
    if tree is None:
        return None
    return checker.check_policy(source, tree, diags)


RECORD = st.fixed_dictionaries({
    "pid": st.just("P-1"),
    "a": st.decimals(min_value=0, max_value=5_000, places=2),
    "b": st.decimals(min_value=-500, max_value=5_000, places=2),
    "n": st.sampled_from([D(-50), D(-1), D(0), D("0.5"), D(1), D(3), D(50)]),
    "k": st.sampled_from([D(0), D(9), D(10), D(19.5), D(20), D(50), D(79), D(80), D(100)]),
    "p": st.sampled_from([D(0), D("0.1"), D("0.5"), D("1.25"), D("-0.2")]),
    "c": st.sampled_from([D(0), D(1), D(7)]),
    "flag": st.booleans(),
    "seg": st.sampled_from(["red", "green", "blue"]),
})


def outcome(fn, record):
    try:
        return fn(record)
    except (RefError, ArithmeticError, runtime.EvalError):
        return "rejected"


def compiled_outcome(cp, record):
    runtime.activate()
    try:
        return cp.evaluate(record)
    except Exception:  # noqa: BLE001 - any failure is a reject, like the engine
        return "rejected"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(seed=st.integers(0, 10**9), records=st.lists(RECORD, min_size=1, max_size=6))
def test_compiled_agrees_with_reference_and_properties_hold(seed, records):
    head, decls = make_policy(seed)
    policy = check(head + "\n".join(decls) + "\n")
    assume(policy is not None)
    cp = compile_policy(policy)
    shuffled = decls[:]
    random.Random(seed + 1).shuffle(shuffled)
    policy2 = check(head + "\n".join(shuffled) + "\n")
    assert policy2 is not None
    cp2 = compile_policy(policy2)
    for rec in records:
        got = compiled_outcome(cp, rec)
        want = outcome(lambda r: reference(policy, r), rec)
        assert got == want, (rec, head + "\n".join(decls))
        # reordering the declarations changes no result; evaluating twice gives the same
        assert by_name(policy2, compiled_outcome(cp2, rec)) == by_name(policy, got)
        assert compiled_outcome(cp, rec) == got
        if got == "rejected":
            continue
        _properties(policy, got)


def by_name(policy: CheckedPolicy, res) -> object:
    """A result with its lines keyed by name (declaration order is not part of a result)."""
    if res == "rejected":
        return res
    return (res.eligible, res.reasons, dict(zip(policy.components, res.components)),
            dict(zip(policy.benefits, res.benefits)), res.total, res.sum, res.floor_adjustment,
            res.cap_adjustment, dict(res.line_reasons))


def _properties(policy: CheckedPolicy, res: tuple) -> None:
    from dsl.front import ast

    # lines add up: components + floor adjustment + cap adjustment = total
    assert sum(res.components, D(0)) + res.floor_adjustment + res.cap_adjustment == res.total
    assert res.sum + res.floor_adjustment + res.cap_adjustment == res.total
    items = policy.total.items if policy.total else ()
    caps = [i.value.amount for i in items if isinstance(i, ast.Cap)]
    floors = [i.value.amount for i in items if isinstance(i, ast.Floor)]
    assert all(res.total <= cap for cap in caps)
    if res.eligible:
        # floors hold for eligible records (unless a cap below them wins)
        assert all(res.total >= min(f, *caps) for f in floors)
        for name, value in zip(policy.components, res.components):
            decl = policy.definitions[name].decl
            for cap in decl.caps:
                assert value <= cap.value.amount
            if not decl.requires or value != 0:
                for f in decl.floors:
                    assert value >= min([f.value.amount, *(c.value.amount for c in decl.caps)])
        fund = res.benefits[0]
        assert fund <= 300
    else:
        assert res.total == 0 and all(v == 0 for v in res.components)


def test_generator_produces_checked_policies():
    ok = sum(check(make_policy(s)[0] + "\n".join(make_policy(s)[1]) + "\n") is not None for s in range(40))
    assert ok >= 30, f"only {ok} of 40 generated policies check"
