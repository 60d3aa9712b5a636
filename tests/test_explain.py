"""`ipl explain`: golden statements of programs/growth (text and JSON), and the HTML page."""

from __future__ import annotations

import json
import shutil
import subprocess
from decimal import Decimal

import pytest
from click.testing import CliRunner

from dsl.cli import cli

from .conftest import ROOT

POLICY = "programs/growth/growth.ipl"
RECORDS = "programs/growth/records.csv"
# P-00001: the README's hand-calculated statement; P-00019: a cap on a line and on the total;
# P-00357: the total floor; P-00012: not eligible (CSAT).
IDS = ["P-00001", "P-00019", "P-00357", "P-00012"]


def explain(*args):
    return CliRunner().invoke(cli, ["explain", POLICY, "--records", RECORDS, *args])


@pytest.fixture(autouse=True)
def _at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("pid", IDS)
def test_golden_text(golden, pid):
    result = explain("--id", pid)
    assert result.exit_code == 0, result.output
    golden(f"explain/growth_{pid}.txt", result.output)


@pytest.mark.parametrize("pid", IDS)
def test_golden_json(golden, pid):
    result = explain("--id", pid, "--format", "json")
    assert result.exit_code == 0, result.output
    golden(f"explain/growth_{pid}.json", result.output)


@pytest.mark.parametrize("pid", IDS)
def test_statement_lines_add_up_to_the_total(pid):
    st = json.loads(explain("--id", pid, "--format", "json").output, parse_float=Decimal)
    assert sum((Decimal(str(line["amount"])) for line in st["lines"]), Decimal(0)) == Decimal(str(st["total"]))


def test_readme_statement_of_p00001():
    st = json.loads(explain("--id", "P-00001", "--format", "json").output, parse_float=Decimal)
    amounts = {line["name"]: line["amount"] for line in st["lines"]}
    assert amounts == {"base": Decimal("60425.86"), "renewal_bonus": Decimal("14502.21"),
                       "accelerator": Decimal("15106.46"), "quality_bonus": Decimal("300.00")}
    assert st["total"] == Decimal("90334.53")
    # README: "3 more renewals won ... would move the renewal tier to 4 %, doubling the renewal
    # bonus to 29,004.41"
    assert st["next_bands"][0] == ("Renewal bonus rate: renewal_rate 86.9565% is in [80%, 90%) → 2%; "
                                   "3.0435 points below the next band [90%, ∞) → 4%; in that band, all else "
                                   "equal: Renewal bonus 29,004.41 USD (+14,502.20 USD), total 104,836.73 USD "
                                   "(+14,502.20 USD)")
    # §2a: lines carry the policy's `##` labels; the names stay the machine's keys
    assert [(line["name"], line["label"]) for line in st["lines"]] == [
        ("base", "Revenue share"), ("renewal_bonus", "Renewal bonus"), ("accelerator", "Growth accelerator"),
        ("quality_bonus", "Deployment quality bonus")]
    assert st["lines"][0]["description"] == "10 % of joint revenue."


def test_unknown_id_is_a_usage_error_with_a_suggestion():
    result = explain("--id", "P-0001")
    assert result.exit_code == 2
    assert "no record with partner_id 'P-0001'" in result.output and "did you mean" in result.output


def test_rejected_record_exits_1(tmp_path):
    bad = tmp_path / "r.csv"
    bad.write_text((ROOT / RECORDS).read_text().splitlines()[0] + "\nP-1,digital,1,1,1,1,70,9,true\n")
    result = CliRunner().invoke(cli, ["explain", POLICY, "--records", str(bad), "--id", "P-1"])
    assert result.exit_code == 1
    assert "field csat: 9 is above the maximum 5" in result.output


def test_html_is_one_self_contained_page(tmp_path):
    out = tmp_path / "s.html"
    result = explain("--id", "P-00019", "--format", "html", "-o", str(out))
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    for external in ("http://", "https://", "<script", "<link", "src="):
        assert external not in page
    assert "250,000.00 USD" in page and "-22,262.87 USD" in page


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
def test_html_renders_in_headless_chromium(tmp_path):
    page = tmp_path / "s.html"
    assert explain("--id", "P-00019", "--format", "html", "-o", str(page)).exit_code == 0
    png = tmp_path / "s.png"
    try:
        subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync", "--no-first-run",
                        f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={png}", "--window-size=1000,1200",
                        page.as_uri()], check=True, capture_output=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.skip("chromium took too long")
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000  # a rendered page, not a blank one
