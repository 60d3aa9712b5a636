"""`ipl diff`, the payout impact of changing a policy: see compare.py (split next)."""

from dsl.tools.diff.compare import (  # noqa: F401 - the names callers import from `dsl.tools.diff`
    BrokenPolicy, Guard, Report, diff, diff_command, explain_change, guards, outcomes, parse_percent, render_json,
    render_markdown, render_text, report_json,
)
