"""`ipl test` (dsl/tools/testing/): golden outputs (pass, fail, error, static errors, coverage),
JUnit XML read back, `-k`, exit codes, and the units (test values, display, comparisons)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from click.testing import CliRunner

from dsl.front import ast
from dsl.tools import testing
from dsl.cli import cli
from dsl.front.syntax import parse_text
from dsl.checker.types import BOOL, LIST, MONEY, NUMBER, PERCENT, TEXT, Kind, Type

from .conftest import ROOT

CASES = "tests/golden/testing/cases"


@pytest.fixture(autouse=True)
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)  # paths in the outputs are as the user wrote them: keep them relative


def ipl(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


# ------------------------------------------------------------------ golden outputs


def test_all_pass(golden):
    r = ipl("test", f"{CASES}/shop_pass_test.ipl")
    assert r.exit_code == 0, r.output
    assert r.output.rstrip("\n").split("\n")[-1] == "4 passed, 0 failed"
    golden("testing/pass.txt", r.output)


def test_failures_and_errors(golden):
    r = ipl("test", f"{CASES}/shop_fail_test.ipl")
    assert r.exit_code == 1
    assert r.output.rstrip("\n").split("\n")[-1] == "0 passed, 4 failed"  # the error counts as failed
    assert "ERROR tests/golden/testing/cases/shop_fail_test.ipl::an unexpected reject is an error" in r.output
    assert "  expected: 31 USD\n  actual:   30 USD" in r.output
    assert "why the actual values are what they are (ipl explain):" in r.output
    golden("testing/fail.txt", r.output)


def test_static_errors_fail_every_test_of_the_file(golden):
    r = ipl("test", f"{CASES}/broken_test.ipl")
    assert r.exit_code == 1
    assert "error[E700]: the policy has no `bonuss`" in r.output
    assert r.output.rstrip("\n").split("\n")[-1] == "0 passed, 2 failed"
    golden("testing/broken.txt", r.output)


def test_coverage_report(golden):
    r = ipl("test", f"{CASES}/shop_pass_test.ipl", f"{CASES}/shop_fail_test.ipl", "--coverage")
    assert r.exit_code == 1
    assert "decision coverage:" in r.output
    golden("testing/coverage.txt", r.output)


def test_folder_skips_policies_and_runs_every_test_file():
    r = ipl("test", CASES)
    assert r.exit_code == 1
    assert r.output.rstrip("\n").split("\n")[-1] == "4 passed, 6 failed"
    assert "shop.ipl::" not in r.output


# ------------------------------------------------------------------ options and exit codes


def test_k_selects_by_name_case_insensitively():
    r = ipl("test", f"{CASES}/shop_pass_test.ipl", f"{CASES}/shop_fail_test.ipl", "-k", "CERTIFIED gold")
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[0] == f"PASS  {CASES}/shop_pass_test.ipl::a certified gold partner doubles the bonus"
    assert r.output.rstrip("\n").split("\n")[-1] == "1 passed, 0 failed"


def test_k_matching_nothing_is_a_usage_error():
    r = ipl("test", f"{CASES}/shop_pass_test.ipl", "-k", "no such test")
    assert r.exit_code == 2
    assert "no test name contains 'no such test'" in r.output


def test_missing_path_and_no_test_files_are_usage_errors(tmp_path):
    r = ipl("test", "does/not/exist")
    assert r.exit_code == 2 and "no such file or folder: does/not/exist" in r.output
    r = ipl("test", f"{CASES}/shop.ipl")
    assert r.exit_code == 2 and "no test files" in r.output


def test_fail_under(golden):
    r = ipl("test", f"{CASES}/shop_pass_test.ipl", "--fail-under", "40")
    assert r.exit_code == 0, r.output
    r = ipl("test", f"{CASES}/shop_pass_test.ipl", "--fail-under", "100")
    assert r.exit_code == 1
    assert "below --fail-under 100" in r.output
    assert "decision coverage:" in r.output  # --fail-under implies --coverage
    for bad in ("abc", "101", "-1", "nan"):
        r = ipl("test", f"{CASES}/shop_pass_test.ipl", "--fail-under", bad)
        assert r.exit_code == 2, bad
        assert "give a percentage from 0 to 100" in r.output


def test_junit_xml_reads_back(tmp_path):
    out = tmp_path / "junit.xml"
    r = ipl("test", CASES, "--junit", str(out))
    assert r.exit_code == 1
    root = ET.parse(out).getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("10", "3", "3")
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {f"{CASES}/broken_test.ipl", f"{CASES}/shop_fail_test.ipl", f"{CASES}/shop_pass_test.ipl"}
    passing = suites[f"{CASES}/shop_pass_test.ipl"]
    assert [c.get("name") for c in passing.findall("testcase")] == [
        "a certified gold partner doubles the bonus", "no deals: not eligible", "what if the rate were 30 %",
        "a negative revenue is rejected"]
    assert all(not list(c) for c in passing.findall("testcase"))
    failing = {c.get("name"): c for c in suites[f"{CASES}/shop_fail_test.ipl"].findall("testcase")}
    failure = failing["a wrong expectation fails"].find("failure")
    assert failure.get("message") == ("expect base: expected 31 USD, actual 30 USD; "
                                      "expect segment: expected gold, actual silver")
    assert "Statement: Test runner cases (1)" in failure.text
    error = failing["an unexpected reject is an error"].find("error")
    assert error.get("message") == "the record is rejected: field `revenue`: missing field `revenue`"
    assert "E700" in suites[f"{CASES}/broken_test.ipl"].find("system-err").text


def test_junit_unwritable_is_a_usage_error(tmp_path):
    r = ipl("test", f"{CASES}/shop_pass_test.ipl", "--junit", str(tmp_path / "no" / "such" / "dir.xml"))
    assert r.exit_code == 2


def test_junit_escapes_what_xml_cannot_hold(tmp_path):
    (tmp_path / "p.ipl").write_text((ROOT / CASES / "shop.ipl").read_text())
    (tmp_path / "p_test.ipl").write_text(
        'tests for "p.ipl"\n'
        'test "odd \x0c name <&> \\"quoted\\"" {\n'
        '  given { partner_id = "X" segment = gold revenue = 1 USD deals = 1 }\n'
        '  expect total = 51 USD\n}\n')
    out = tmp_path / "j.xml"
    r = ipl("test", str(tmp_path), "--junit", str(out))
    assert r.exit_code == 1, r.output
    case = ET.parse(out).getroot().find("testsuite/testcase")
    assert case.get("name") == 'odd \ufffd name <&> "quoted"'
    assert case.find("failure").get("message") == "expect total: expected 51 USD, actual 100.10 USD"


def test_growth_program_passes_with_coverage():
    r = ipl("test", "programs/growth", "--coverage", "--fail-under", "90")
    assert r.exit_code == 0, r.output
    assert r.output.rstrip("\n").split("\n")[-1] == "13 passed, 0 failed"


# ------------------------------------------------------------------ collection and multi-period


def test_is_test_file(tmp_path):
    cases = {
        "a.ipl": '# comment\n\n   # another\ntests for "x.ipl"\n',
        "b.ipl": '\ufefftests\n  for "x.ipl"\n',
        "c.ipl": 'policy "tests for"\n',
        "d.ipl": "# tests for x\nmodule m\n",
        "e.ipl": "",
    }
    for name, text in cases.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert [n for n in sorted(cases) if testing.is_test_file(tmp_path / n)] == ["a.ipl", "b.ipl"]


def test_is_test_file_is_linear_on_long_comment_runs(tmp_path):
    p = tmp_path / "long.ipl"
    p.write_text("#\n \n" * 20_000 + "policy \"P\"\n")
    assert testing.is_test_file(p) is False


def test_multi_period_tests_are_errors_until_the_engine_runs_them(tmp_path):
    (tmp_path / "m.ipl").write_text(
        'policy "M" currency USD period quarter\n'
        "input partner_id : id\ninput quarter : period\ninput revenue : money\n"
        "component base = revenue * 10%\n")
    (tmp_path / "m_test.ipl").write_text(
        'tests for "m.ipl"\nfixture f { partner_id = "P" revenue = 100 USD }\n'
        'test "two quarters" {\n  given periods {\n    "2026-Q1" -> f\n    "2026-Q2" -> f\n  }\n'
        '  expect in "2026-Q2" base = 10 USD\n}\n')
    report = testing.run_paths([str(tmp_path)])
    [outcome] = report.outcomes
    if outcome.status == testing.ERROR:  # until issue 6 plugs in (testing.evaluate_periods)
        assert "multi-period" in outcome.message
    assert report.failed == (0 if outcome.passed else 1)


# ------------------------------------------------------------------ units


def _value(text: str) -> ast.Expr:
    file = parse_text(f'tests for "p.ipl"\nfixture f {{ x = {text} }}\n')
    return file.fixtures[0].fields[0].value


@pytest.mark.parametrize("text, t, expected", [
    ("1_000 USD", MONEY, Decimal("1000")),
    ("-2.50 USD", MONEY, Decimal("-2.50")),
    ("12.5%", PERCENT, Decimal("0.125")),
    ("100 USD * 3", MONEY, Decimal("300")),
    ("10 USD / 4", MONEY, Decimal("2.5")),
    ("1 - 3", NUMBER, Decimal("-2")),
    ("true", BOOL, True),
    ('"P-1"', TEXT, "P-1"),
    ("gold", Type(Kind.ENUM, ("gold", "silver")), "gold"),
    ('["a", "b"]', LIST, ("a", "b")),
    ("[]", LIST, ()),
])
def test_constant(text, t, expected):
    got = testing.constant(_value(text), t)
    assert got == expected and type(got) is type(expected)


def test_constant_division_by_zero_is_a_problem_not_a_crash():
    with pytest.raises(testing._ValueProblem, match="division by zero"):
        testing.constant(_value("1 USD / 0"), MONEY)


@pytest.mark.parametrize("value, t, shown", [
    (Decimal("48000"), MONEY, "48_000 USD"),
    (Decimal("1234567.5"), MONEY, "1_234_567.50 USD"),
    (Decimal("0.125"), MONEY, "0.125 USD"),
    (Decimal("-9600.00"), MONEY, "-9_600 USD"),
    (Decimal("0.925"), PERCENT, "92.5%"),
    (Decimal("0.00"), MONEY, "0 USD"),
    (Decimal("999"), NUMBER, "999"),
    (True, BOOL, "true"),
    ("gold", Type(Kind.ENUM, ("gold",)), "gold"),
    ('say "hi"', TEXT, '"say \\"hi\\""'),
    (("a", "b"), LIST, '["a", "b"]'),
])
def test_show(value, t, shown):
    assert testing.show(value, t, "USD") == shown


def test_same_is_exact():
    assert testing.same(Decimal("0.1"), Decimal("0.10"))
    assert not testing.same(Decimal("0.1"), Decimal("0.1000000001"))
    assert not testing.same(True, Decimal(1))
    assert not testing.same(Decimal(0), False)
    assert testing.same(("a",), ("a",))
    assert not testing.same(("a", "b"), ("b", "a"))
    assert not testing.same(Decimal(0), testing.NOT_COMPUTED)


def test_runner_outcomes_in_detail():
    report = testing.run_paths([f"{CASES}/shop_fail_test.ipl"])
    by_name = {o.name: o for o in report.outcomes}
    wrong = by_name["a wrong expectation fails"]
    assert wrong.status == testing.FAIL
    assert [(m.target, m.expected, m.actual) for m in wrong.mismatches] == [
        ("base", "31 USD", "30 USD"), ("segment", "gold", "silver")]
    assert wrong.mismatches[0].location == f"{CASES}/shop_fail_test.ipl:11:3"
    assert wrong.explanation.startswith("Statement: Test runner cases (1)\n")
    text = by_name["the wrong error text fails"]
    assert text.status == testing.FAIL
    assert text.mismatches[0].actual == "field `revenue`: -5 USD is below the minimum 0 USD"
    assert by_name["an expected error that does not happen fails"].mismatches[0].actual == \
        "the record was evaluated, not rejected"
    assert by_name["an unexpected reject is an error"].status == testing.ERROR
    assert (report.passed, report.failed) == (0, 4)


def test_id_defaults_to_the_test_name():
    report = testing.run_paths([f"{CASES}/shop_fail_test.ipl"], keyword="wrong expectation")
    [o] = report.outcomes
    assert "Partner a wrong expectation fails (record 1)" in o.explanation


def test_failing_tests_count_toward_coverage():
    only_fail = testing.run_paths([f"{CASES}/shop_fail_test.ipl"], with_coverage=True)
    [cov] = only_fail.coverage
    assert only_fail.passed == 0
    assert ("floor", "total", 0, "binding") in cov.reached  # reached by the failing test
    assert cov.covered > 0


# ------------------------------------------------------------------ hostile inputs: a message, never a traceback


@pytest.mark.parametrize("name, data, code, says", [
    ("empty_test.ipl", b"tests for", 1, "does not parse"),
    ("binary_test.ipl", b"tests for \"p.ipl\"\n\x00\xff\xfe", 1, "does not parse"),
    ("nopolicy_test.ipl", b'tests for "missing.ipl"\ntest "t" { given { x = 1 } expect total = 0 USD }\n', 1,
     "unknown policy file"),
    ("module_test.ipl", b'tests for "mod.ipl"\ntest "t" { given { x = 1 } expect total = 0 USD }\n', 1,
     "is not a policy"),
    ("bad_policy_test.ipl", b'tests for "bad.ipl"\ntest "t" { given { x = 1 } expect total = 0 USD }\n', 1,
     "has errors"),
    ("nogiven_test.ipl", b'tests for "p.ipl"\ntest "t" { expect total = 0 USD }\n', 1,
     "the test has no `given`"),
    ("twogivens_test.ipl", b'tests for "p.ipl"\ntest "t" {\n given { partner_id = "A" segment = gold revenue = 1 USD'
     b' deals = 1 }\n given { partner_id = "B" segment = gold revenue = 1 USD deals = 1 }\n expect total = 0 USD }\n',
     1, "exactly one record"),
    ("zerodiv_test.ipl", b'tests for "p.ipl"\ntest "t" {\n given { partner_id = "A" segment = gold revenue = 1 USD'
     b' deals = 1 }\n expect total = 1 USD / 0 }\n', 1, "division by zero in the test value"),
    ("notests_test.ipl", b'tests for "p.ipl"\n', 2, "hold no tests"),
])
def test_hostile_test_files(tmp_path, name, data, code, says):
    (tmp_path / "p.ipl").write_text((ROOT / CASES / "shop.ipl").read_text())
    (tmp_path / "mod.ipl").write_text("module mod\nparam x : number = 1\n")
    (tmp_path / "bad.ipl").write_text('policy "B" currency USD\ninput partner_id : id\ncomponent c = nope\n')
    (tmp_path / name).write_bytes(data)
    r = CliRunner().invoke(cli, ["test", str(tmp_path / name)])
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    assert "Traceback" not in r.output
    assert r.exit_code == code, r.output
    assert says in r.output


def test_evaluation_error_is_a_test_error_or_an_expected_error(tmp_path):
    (tmp_path / "p.ipl").write_text(
        'policy "Z" currency USD\ninput partner_id : id\ninput a : money\ninput n : count\n'
        "component c = a / n\n")
    (tmp_path / "p_test.ipl").write_text(
        'tests for "p.ipl"\n'
        'test "unexpected" { given { a = 10 USD n = 0 } expect c = 0 USD }\n'
        'test "expected" { given { a = 10 USD n = 0 } expect error "division by zero" }\n'
        'test "fine" { given { a = 10 USD n = 4 } expect c = 2.50 USD }\n')
    report = testing.run_paths([str(tmp_path)])
    by = {o.name: o for o in report.outcomes}
    assert by["unexpected"].status == testing.ERROR
    assert "division by zero" in by["unexpected"].message and "in c" in by["unexpected"].message
    assert by["expected"].passed and by["fine"].passed


def test_multi_period_failure_shows_the_period_statement(tmp_path):
    (tmp_path / "m.ipl").write_text(
        'policy "M" currency USD period quarter\n'
        "input partner_id : id\ninput quarter : period\ninput revenue : money\n"
        "component base = revenue * 10%\n")
    (tmp_path / "m_test.ipl").write_text(
        'tests for "m.ipl"\nfixture f { partner_id = "P" revenue = 100 USD }\n'
        'test "two quarters" {\n  given periods {\n    "2026-Q1" -> f\n    "2026-Q2" -> f with { revenue = 300 USD }\n'
        '  }\n  expect in "2026-Q1" base = 10 USD\n  expect in "2026-Q2" payable = 31 USD\n}\n')
    [outcome] = testing.run_paths([str(tmp_path)]).outcomes
    assert outcome.status == testing.FAIL
    assert [(m.target, m.expected, m.actual) for m in outcome.mismatches] == [
        ("payable in 2026-Q2", "31 USD", "30 USD")]
    assert "Period 2026-Q2" in outcome.explanation and "Period 2026-Q1" not in outcome.explanation
    assert "payable" in outcome.explanation


def test_growth_coverage_report(golden):
    r = ipl("test", "programs/growth", "--coverage")
    assert r.exit_code == 0, r.output
    assert "programs/growth/growth.ipl: 29 of 31 outcomes reached (93.5 %)" in r.output
    golden("testing/growth_coverage.txt", r.output)
