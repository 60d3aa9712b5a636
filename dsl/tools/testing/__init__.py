"""`ipl test`: see runner.py (split next)."""

from dsl.tools import coverage  # noqa: F401 - dsl/cli.py reads `testing.coverage`
from dsl.tools.testing.runner import (  # noqa: F401 - the names callers import from `dsl.tools.testing`
    ERROR, FAIL, NOT_COMPUTED, PASS, FileResult, Mismatch, NoTests, Outcome, Report, Runner, _ValueProblem, constant,
    evaluate_periods, is_test_file, render_junit, render_text, run_file, run_paths, same, show, test_files,
)
