"""`ipl compile --emit python`: the generated module, as executed, with its constants named."""

from __future__ import annotations

import decimal
from decimal import Decimal

from click.testing import CliRunner

from dsl.backends.python import runtime
from dsl.backends.python.build import helpers
from dsl.backends.python.compiled import RecordResult
from dsl.cli import cli
from dsl.run.policy import compile_file

from .conftest import ROOT

GROWTH = str(ROOT / "programs/growth/growth.ipl")


def ipl(*args):
    return CliRunner().invoke(cli, ["compile", *args])


def test_the_listing_is_the_executed_source_after_a_header_naming_its_constants():
    result = ipl(GROWTH)
    assert result.exit_code == 0, result.output
    compiled = compile_file(GROWTH)
    assert result.output == compiled.listing
    header, source = result.output.split("\n\n", 1)
    assert source == compiled.source
    assert header.splitlines()[0] == f"# The Python module IPL generated for {GROWTH} (fast variant)."
    assert "#   K0 = Decimal('0.10')" in header  # base_rate = 10%
    assert "#   S2 = 'CSAT must be at least 3.5'" in header
    assert "    def evaluate(r, H=None, PW=None):" in source


def test_set_overrides_are_the_runs_and_traced_prints_the_traced_variant():
    fast = ipl(GROWTH, "--set", "base_rate=12%")
    assert fast.exit_code == 0 and "_trace" not in fast.output
    traced = ipl(GROWTH, "--traced")
    assert traced.exit_code == 0
    assert "(traced variant)" in traced.output.splitlines()[0]
    assert "_trace = []" in traced.output


def test_the_printed_module_runs_and_pays_what_ipl_run_pays():
    """Executed with the constants its header names and the runtime's helpers, the printed
    source gives the compiled policy's result: what runs is what one reads."""
    compiled = compile_file(GROWTH)
    record = {"partner_id": "P-1", "segment": "enterprise", "joint_revenue": Decimal("1000000"),
              "prior_revenue": Decimal("800000"), "renewals_due": Decimal(40), "renewals_won": Decimal(37),
              "deployment_score": Decimal(88), "csat": Decimal("4.6"), "certified": True}
    header = compiled.listing[: -len(compiled.source)]
    namespace = helpers(compiled.program, RecordResult, lambda values: None)
    for line in header.splitlines():
        if line.startswith("#   "):
            name, value = line[4:].split(" = ", 1)
            namespace[name] = eval(value, {"Decimal": Decimal})  # noqa: S307 - the listing's own reprs
    exec(compile(compiled.source, "<listing>", "exec"), namespace)  # noqa: S102
    runtime.activate()
    with decimal.localcontext(runtime.CONTEXT):
        evaluate = namespace["_make"]({})[0]
        assert evaluate(record) == compiled.evaluate(record)
        assert evaluate(record).components[0] == Decimal("100000.00")  # base: 10% of 1,000,000 USD


def test_a_policy_with_errors_exits_1_and_a_missing_file_2(tmp_path):
    bad = tmp_path / "bad.ipl"
    bad.write_text('policy "B" currency USD\ninput pid : id\ncomponent c = nope\n')
    result = ipl(str(bad))
    assert result.exit_code == 1 and "E200" in result.output
    missing = ipl(str(tmp_path / "none.ipl"))
    assert missing.exit_code == 2 and missing.stderr.startswith("ipl: ")
