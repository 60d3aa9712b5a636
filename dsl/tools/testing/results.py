"""What `ipl test` reports: the outcome of each test, per file, and the report over all files.

Receives nothing: these are the data the runner (runner.py) fills in and the renderers
(render.py; `--format json` in dsl/run/schemas.py) read. Guarantees a test's status is one of
PASS, FAIL, ERROR; a failure carries its mismatches (expected and actual in IPL syntax, with the
§2a label of the target) and the `ipl explain` statement of the record; an error a one-line
reason. Emits nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dsl.front.diagnostics import Diagnostic
from dsl.tools import coverage

PASS, FAIL, ERROR = "pass", "fail", "error"


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One `expect` that did not hold."""

    location: str  # file:line:col of the `expect`
    target: str  # what was expected: `total`, `renewal_tier`, `error`
    expected: str  # in IPL syntax
    actual: str
    label: str = ""  # §2a: the target's `##` label, if it has one


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one test."""

    path: str
    name: str
    status: str  # pass | fail | error
    location: str
    mismatches: tuple[Mismatch, ...] = ()
    message: str | None = None  # why an error (or a failed `expect error`)
    explanation: str | None = None  # the `ipl explain` statement of the record

    @property
    def passed(self) -> bool:
        return self.status == PASS


@dataclass
class FileResult:
    """One test file: its static diagnostics and its tests' outcomes."""

    path: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    policy: str | None = None  # the policy's path, when it checks


@dataclass
class Report:
    files: list[FileResult]
    coverage: list[coverage.Coverage] = field(default_factory=list)

    @property
    def outcomes(self) -> list[Outcome]:
        return [o for f in self.files for o in f.outcomes]

    @property
    def passed(self) -> int:
        return sum(1 for o in self.outcomes if o.passed)

    @property
    def failed(self) -> int:
        return sum(1 for o in self.outcomes if not o.passed)

    @property
    def ok(self) -> bool:
        return self.failed == 0


class NoTests(Exception):
    """Nothing to run: no test files under the paths, or `-k` selects no test (exit 2)."""
