"""The renderers of `ipl test`: text (pytest-like) and JUnit XML.

Receives a `Report`. Guarantees text with a line per test, then each failure in detail (its
mismatches, expected and actual, and the `ipl explain` statement of the record), coverage when
asked, and the closing line `N passed, N failed`; JUnit XML with a testsuite per test file and
a testcase per test, failures and errors with expected and actual, characters XML cannot hold
replaced by U+FFFD. `--format json` is dsl/run/schemas.py's. Emits nothing.
"""

from __future__ import annotations

import re

from dsl.tools import coverage
from dsl.tools.testing.results import ERROR, FAIL, Report


def render_text(report: Report, show_coverage: bool = False) -> str:
    """pytest-like: a line per test, the failures in detail, coverage, then `N passed, N failed`."""
    from dsl.front.diagnostics import render_text as render_diagnostic

    out: list[str] = []
    for f in report.files:
        for d in f.diagnostics:
            out.append(render_diagnostic(d))
            out.append("")
    for o in report.outcomes:
        out.append(f"{o.status.upper():<5} {o.path}::{o.name}")
    bad = [o for o in report.outcomes if not o.passed]
    for o in bad:
        out += ["", f"{'=' * 8} {o.status.upper()} {o.path}::{o.name} ({o.location}) {'=' * 8}"]
        if o.message:
            out.append(o.message)
        for m in o.mismatches:
            out.append(f"{m.location}: expect {m.target}" + (f" ({m.label})" if m.label else ""))
            out.append(f"  expected: {m.expected}")
            out.append(f"  actual:   {m.actual}")
        if o.explanation:
            out.append("why the actual values are what they are (ipl explain):")
            out += [("  " + line).rstrip() for line in o.explanation.rstrip("\n").split("\n")]
    if show_coverage and report.coverage:
        out += ["", coverage.render(report.coverage).rstrip("\n")]
    out += ["", f"{report.passed} passed, {report.failed} failed"]
    return "\n".join(out) + "\n"


_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml(text: str) -> str:
    return _XML_BAD.sub("\ufffd", text)


def render_junit(report: Report) -> str:
    """JUnit XML: a testsuite per test file, a testcase per test; failures with expected and actual."""
    import xml.etree.ElementTree as ET

    root = ET.Element("testsuites", name="ipl test", tests=str(len(report.outcomes)),
                      failures=str(sum(1 for o in report.outcomes if o.status == FAIL)),
                      errors=str(sum(1 for o in report.outcomes if o.status == ERROR)))
    for f in report.files:
        suite = ET.SubElement(root, "testsuite", name=_xml(f.path), tests=str(len(f.outcomes)),
                              failures=str(sum(1 for o in f.outcomes if o.status == FAIL)),
                              errors=str(sum(1 for o in f.outcomes if o.status == ERROR)))
        if f.diagnostics:
            from dsl.front.diagnostics import render_text as render_diagnostic

            err = ET.SubElement(suite, "system-err")
            err.text = _xml("\n\n".join(render_diagnostic(d) for d in f.diagnostics))
        for o in f.outcomes:
            case = ET.SubElement(suite, "testcase", name=_xml(o.name), classname=_xml(f.path), file=_xml(f.path))
            if o.passed:
                continue
            summary = o.message or "; ".join(f"expect {m.target}: expected {m.expected}, actual {m.actual}"
                                             for m in o.mismatches)
            body = "\n".join([*([o.message] if o.message else []),
                              *(f"{m.location}: expect {m.target}\n  expected: {m.expected}\n  actual:   {m.actual}"
                                for m in o.mismatches),
                              *([o.explanation] if o.explanation else [])])
            node = ET.SubElement(case, "failure" if o.status == FAIL else "error", message=_xml(summary),
                                 type=o.status)
            node.text = _xml(body)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
