"""`ipl test`: run the tests of `tests for` files against their policies (spec §10, §12).

Receives paths (files and folders). Guarantees:

- collection: every `*.ipl` whose first declaration is `tests for` (files named
  explicitly and files below folders); policies and modules are skipped; a
  test file with static errors (E100, E201, E302, E700 from the checker) gets
  its diagnostics reported and every one of its tests counts as failed;
- one `Outcome` per selected test (`-k`: name contains the text, case
  insensitive): the record is the fixture with the `with` overrides (values are
  IPL constants: money, percent, number, count, bool, text, enum members and
  level labels; the id defaults to the test's name), `param` overrides give a
  what-if compilation, the record is validated like `ipl run` validates a
  record (§13) and evaluated with tracing; every `expect` is compared exactly
  (Decimal equality; money after the engine's rounding; enums and levels by
  label); `expect error "TEXT"` passes when the record is rejected with a
  message containing TEXT;
- a failure carries the expected and actual values and the `ipl explain`
  statement of the record; an error (a rejected record no test expected, a
  policy the evaluator cannot run yet) carries a one-line reason and counts
  as failed;
- coverage (dsl/tools/coverage.py) accumulated over every evaluated test, failing
  ones included;
- renderers: text (pytest-like, closing line `N passed, N failed`) and JUnit XML.

Emits no diagnostics of its own: static problems are the checker's (E700...).

A package because collecting, running, reading actual values, multi-period histories, the
values written in tests and rendering are each a concern of their own; the modules import down
this list:

    results.py  `Outcome`, `Mismatch`, `FileResult`, `Report`
    values.py   values written in tests: `constant`, `same`, `show`
    collect.py  which files are test files
    actuals.py  the type and actual value of what an `expect` names (a mixin)
    periods.py  the test of a multi-period policy (a mixin)
    runner.py   `run_paths`, `run_file`, `Runner`
    render.py   text and JUnit XML

Names with a leading underscore are private to the package (`_ValueProblem` is raised where
tests can see it, and they name it).
"""

from dsl.tools import coverage
from dsl.tools.testing.collect import is_test_file, test_files
from dsl.tools.testing.periods import evaluate_periods
from dsl.tools.testing.render import render_junit, render_text
from dsl.tools.testing.results import ERROR, FAIL, PASS, FileResult, Mismatch, NoTests, Outcome, Report
from dsl.tools.testing.runner import Runner, run_file, run_paths
from dsl.tools.testing.values import NOT_COMPUTED, _ValueProblem, constant, same, show

__all__ = ["run_paths", "run_file", "test_files", "is_test_file", "render_text", "render_junit", "Report",
           "FileResult", "Outcome", "Mismatch", "Runner", "NoTests", "constant", "show", "evaluate_periods",
           "PASS", "FAIL", "ERROR", "NOT_COMPUTED", "same", "coverage", "_ValueProblem"]
