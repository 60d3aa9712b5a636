"""`ipl explain` never raises: generated policies (with money, bool and level benefits) and records."""

from __future__ import annotations

import csv
import dataclasses
import io
import tempfile
from decimal import Decimal
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsl.front import ast
from dsl.cli import cli
from dsl.tools.fmt import format_file

from .strategies import typed_policies, typed_records


def _with_benefits(policy: ast.PolicyFile) -> ast.PolicyFile:
    """Add a level table and benefits of every kind a statement must show."""
    names = {getattr(d, "name", None) for d in policy.decls}
    usd = lambda n: ast.Money(amount=Decimal(n), currency="USD")  # noqa: E731
    extra: list = [
        ast.Tiers(name="lvl", key=ast.Name(name="in_money_0"), mode="flat", bands=(
            ast.Band(kind="from", threshold=usd(0), value=ast.Name(name="low")),
            ast.Band(kind="from", threshold=usd(1_000), value=ast.Name(name="high")))),
        ast.Component(kind="benefit", name="b_level", value=ast.Name(name="lvl")),
        ast.Component(kind="benefit", name="b_fund", value=ast.Binary(
            op="*", left=ast.Name(name="in_money_0"), right=ast.Percent(value=Decimal("0.02"))),
            modifiers=(ast.Cap(value=usd(500)),)),
    ]
    if "in_flag" in names:
        extra.append(ast.Component(kind="benefit", name="b_flag", value=ast.Name(name="in_flag")))
    return dataclasses.replace(policy, decls=policy.decls + tuple(extra))


@st.composite
def cases(draw):
    policy = _with_benefits(draw(typed_policies()))
    return policy, draw(typed_records(policy))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_explain_never_raises_and_shows_every_benefit(case):
    policy, records = case
    with tempfile.TemporaryDirectory() as tmp:
        pol = Path(tmp) / "p.ipl"
        pol.write_text(format_file(policy), encoding="utf-8")
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)
        rec = Path(tmp) / "r.csv"
        rec.write_text(buf.getvalue(), encoding="utf-8")
        wanted = records[0]["partner_id"]
        for fmt in ("text", "json", "html"):
            result = CliRunner().invoke(cli, ["explain", str(pol), "--records", str(rec), "--id", wanted,
                                              "--format", fmt])
            assert result.exception is None or isinstance(result.exception, SystemExit), result.output
            assert result.exit_code in (0, 1), result.output
            if result.exit_code == 0:
                assert "b_level" in result.output and "b_fund" in result.output
