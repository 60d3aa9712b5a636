"""Decision coverage (dsl/tools/coverage.py): the static inventory, what one traced evaluation
reaches, binding caps and floors, and the exact percentage."""

from __future__ import annotations

import decimal
from decimal import Decimal
from pathlib import Path

import pytest

from dsl.tools import coverage
from dsl.backends.python import runtime
from dsl.run.policy import compile_policy
from dsl.front.diagnostics import Diagnostics
from dsl.checker.driver import check_file

POLICY = '''policy "Coverage" currency USD
input partner_id : id
input kind : enum(a, b, c)
input revenue : money in 0 USD..
input score : number in 0..100
input n : count
param rate : percent = if 1 > 0 then 10% else 5%
metric avg : money = revenue / n otherwise 0 USD
tiers steps on score marginal {
  from 0 -> 1 USD
  from 50 -> 2 USD
}
tiers band on revenue {
  below 100 USD -> 0%
  from 100 USD -> 5%
}
scorecard sc {
  score weight 100% target 50 cap 150%
}
eligibility {
  require score >= 10 else "low score"
}
component base = revenue * rate
  floor 10 USD
  floor 20 USD
  cap 100 USD
  cap 100 USD
component extra = match kind { a -> 1 USD  else -> 2 USD  b -> 3 USD }
  require n > 0 else "no deals"
component curve = steps + revenue * band * (if sc > 100% then 2 else 1)
total {
  cap 500 USD
}
'''


@pytest.fixture(scope="module")
def policy(tmp_path_factory):
    path = tmp_path_factory.mktemp("cov") / "p.ipl"
    path.write_text(POLICY)
    diags = Diagnostics()
    checked = check_file(Path(path), diags)
    assert not diags.has_errors, [d.message for d in diags.items]
    return checked


def test_inventory_lists_every_outcome_in_source_order(policy):
    keys = [d.key for d in coverage.inventory(policy)]
    short = [k if k[0] not in ("if", "match", "otherwise") else (k[0], k[-1]) for k in keys]
    assert short == [
        ("otherwise", "taken"), ("otherwise", "not taken"),  # param `rate`'s `if` is a constant: not counted
        ("band", "steps", 0), ("band", "steps", 1),
        ("band", "band", 0), ("band", "band", 1),
        ("measure", "sc", 0, "capped"), ("measure", "sc", 0, "not capped"),
        ("eligibility", 0, "pass"), ("eligibility", 0, "fail"),
        ("floor", "base", 0, "binding"), ("floor", "base", 0, "not binding"),
        ("floor", "base", 1, "binding"), ("floor", "base", 1, "not binding"),
        ("cap", "base", 0, "binding"), ("cap", "base", 0, "not binding"),
        ("cap", "base", 1, "binding"), ("cap", "base", 1, "not binding"),
        ("match", 0), ("match", 1),  # the arm after `else` is never evaluated
        ("require", "extra", 0, "pass"), ("require", "extra", 0, "fail"),
        ("if", "then"), ("if", "else"),
        ("cap", "total", 0, "binding"), ("cap", "total", 0, "not binding"),
    ]
    where = {d.key: d for d in coverage.inventory(policy)}
    d = where[("cap", "base", 1, "binding")]
    assert (d.where, d.what, d.location) == ("component base", "`cap 100 USD` binding", f"{policy.source.path}:27:3")


def _hits(policy, record: dict) -> set[tuple]:
    compiled = compile_policy(policy)
    runtime.activate()
    rec = {"partner_id": "X", "kind": "a", "revenue": Decimal(0), "score": Decimal(50), "n": Decimal(1), **record}
    with decimal.localcontext(runtime.CONTEXT):
        _result, events = compiled.traced()(rec)
    return coverage.hits(compiled, events)


def test_caps_and_floors_bind_only_when_they_set_the_value(policy):
    # raw 2_000 * 10 % = 200: both floors below (not binding); two equal caps of 100 both bind
    got = _hits(policy, {"revenue": Decimal(2000)})
    assert {("floor", "base", 0, "not binding"), ("floor", "base", 1, "not binding"),
            ("cap", "base", 0, "binding"), ("cap", "base", 1, "binding")} <= got
    # raw 50 * 10 % = 5: floor 20 sets the value and binds; floor 10 raises it too but does not set it
    got = _hits(policy, {"revenue": Decimal(50)})
    assert {("floor", "base", 0, "not binding"), ("floor", "base", 1, "binding"),
            ("cap", "base", 0, "not binding"), ("cap", "base", 1, "not binding")} <= got
    # raw 1_000 * 10 % = 100: a cap equal to the value changes nothing
    got = _hits(policy, {"revenue": Decimal(1000)})
    assert ("cap", "base", 0, "not binding") in got and ("cap", "base", 0, "binding") not in got


def test_bands_gates_measures_and_total(policy):
    got = _hits(policy, {"score": Decimal(80), "revenue": Decimal(20000), "n": Decimal(0)})
    assert ("band", "steps", 1) in got and ("band", "steps", 0) not in got  # marginal: the band the key ends in
    assert ("band", "band", 1) in got
    assert ("measure", "sc", 0, "capped") in got  # 80 / 50 = 160 % > 150 %
    assert ("eligibility", 0, "pass") in got
    assert ("require", "extra", 0, "fail") in got
    assert ("cap", "total", 0, "binding") in got  # 100 + 0 + (30 + 1_000 * 2) > 500
    got = _hits(policy, {"score": Decimal(5)})
    assert ("eligibility", 0, "fail") in got
    assert not any(k[0] in ("cap", "floor") and k[1] == "total" for k in got)  # not eligible: no total bounds


def test_percent_is_exact_and_shown_rounded_down(policy):
    cov = coverage.Coverage("p.ipl", coverage.inventory(policy))
    assert (cov.total, cov.covered, cov.percent) == (26, 0, Decimal(0))
    cov.add({d.key for d in cov.decisions[:24]})
    assert cov.covered == 24
    assert cov.percent == Decimal(24) * 100 / 26
    assert coverage.percent_text(cov.percent) == "92.3 %"
    assert coverage.percent_text(Decimal("89.96")) == "89.9 %"
    assert coverage.Coverage("empty.ipl", []).percent == 100
    text = coverage.render([cov])
    assert "p.ipl: 24 of 26 outcomes reached (92.3 %)" in text
    assert text.count("\n      | ") == 2  # the two outcomes no test reached, each with its source line


BRANCHY = '''policy "Branches" currency USD
input partner_id : id
input kind : enum(a, b, c)
input revenue : money
input n : count
def pick(k : number) -> number = if k > 1 then 2 else 1
metric avg : money = revenue / n otherwise 0 USD
component pay = avg * pick(n) * match kind { a -> 1  b | c -> 2 }
'''


def test_if_match_and_otherwise_are_recorded_by_the_traced_variant_only(tmp_path):
    path = tmp_path / "b.ipl"
    path.write_text(BRANCHY)
    diags = Diagnostics()
    policy = check_file(path, diags)
    assert not diags.has_errors
    inv = coverage.inventory(policy)
    assert [(d.key[0], d.key[-1]) for d in inv] == [
        ("if", "then"), ("if", "else"), ("otherwise", "taken"), ("otherwise", "not taken"), ("match", 0), ("match", 1)]
    got = _hits(policy, {"kind": "c", "revenue": Decimal(10), "n": Decimal(0)})
    assert {(k[0], k[-1]) for k in got if k[0] in ("if", "match", "otherwise")} == {
        ("otherwise", "taken"), ("if", "else"), ("match", 1)}
    got = _hits(policy, {"kind": "a", "revenue": Decimal(10), "n": Decimal(4)})
    assert {(k[0], k[-1]) for k in got if k[0] in ("if", "match", "otherwise")} == {
        ("otherwise", "not taken"), ("if", "then"), ("match", 0)}
    compiled = compile_policy(policy)
    assert "_br(" not in compiled.source and "'branch'" not in compiled.source  # the fast path has no hooks
