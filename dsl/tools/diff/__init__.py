"""`ipl diff`: the payout impact of changing a policy (spec §12, issue 5 item 4).

Receives two compiled policies (OLD and NEW) and one records file; evaluates both over the same
records in one streaming pass and compares them record by record. Guarantees a `Report`: the
total cost old / new / delta / percent, per component (with the total floors, caps and
settlement lines, so that the lines add up to the total), the records that changed and the
biggest movers each explained from its two traces, level and tier changes, and the records
newly rejected / accepted / ineligible / eligible; rendered as text, JSON or markdown, with the
CI guards. Emits no diagnostics: a policy with errors is a `BrokenPolicy`, a usage problem is
`UsageProblem` (dsl/run/policy.py); both make the CLI exit 2.

A package because the command is several passes over one report, each readable alone; the
modules import down this list, and each states what it receives and guarantees:

    outcomes.py  one record under one policy (`Side`), the stream of them over a file
    report.py    the `Report` and its lines
    show.py      values and names for people (money, percents, a record's id, labels)
    levels.py    the band or level a record reached, and the tables that moved
    why.py       why one record moved: its two traces diffed
    compare.py   the pass: pairs the outcomes and fills in the report (`diff`)
    guards.py    `--fail-if-cost-up`, `--fail-if-any-decrease`
    render.py    text, JSON (`ipl-diff/1`, docs/diff.md), markdown
    command.py   `ipl diff` itself (`diff_command`, `BrokenPolicy`)

Names with a leading underscore are private to the package (shared between its modules, not
used outside it). The names below are what callers import from `dsl.tools.diff`.
"""

from dsl.tools.diff.command import BrokenPolicy, diff_command
from dsl.tools.diff.compare import diff, matched
from dsl.tools.diff.guards import Guard, guards, parse_percent
from dsl.tools.diff.outcomes import ZERO, Side, outcomes
from dsl.tools.diff.render import SCHEMA, render_json, render_markdown, render_text, report_json
from dsl.tools.diff.report import (
    LIST_LIMIT, Amounts, ComponentChange, Entry, LevelChanges, Mover, ParamChange, Report,
)
from dsl.tools.diff.why import explain_change

__all__ = [
    "LIST_LIMIT", "SCHEMA", "ZERO", "Amounts", "BrokenPolicy", "ComponentChange", "Entry", "Guard", "LevelChanges",
    "Mover", "ParamChange", "Report", "Side", "diff", "diff_command", "explain_change", "guards", "matched",
    "outcomes", "parse_percent", "render_json", "render_markdown", "render_text", "report_json",
]
