"""The command `ipl diff OLD NEW --records FILE`: compile both, compare, guard, render.

Receives the two policy paths, the records path and the options as dsl/cli.py parsed them.
Guarantees (the report, the exit code, lines for stderr): 0, or 1 when a guard tripped.
Emits no diagnostics: a policy with errors is a `BrokenPolicy` (the CLI prints its diagnostics
and exits 2); a usage problem (a `tests for` file given as a policy, two currencies, an
unreadable records file, a bad percentage) is `UsageProblem` (dsl/run/policy.py: exit 2).
"""

from __future__ import annotations

from pathlib import Path

from dsl.backends.python.compiled import CompiledPolicy
from dsl.front.diagnostics import Diagnostics
from dsl.tools.diff.compare import diff
from dsl.tools.diff.guards import guards, parse_percent
from dsl.tools.diff.render import render_json, render_markdown, render_text


class BrokenPolicy(Exception):
    """OLD or NEW does not check: `diags` says why (the CLI prints them and exits 2)."""

    def __init__(self, which: str, path: str, diags: Diagnostics):
        super().__init__(f"the {which} policy {path} has errors: fix them (ipl check {path}) before diffing")
        self.which, self.path, self.diags = which, path, diags



def _compile(which: str, path: str) -> CompiledPolicy:
    from dsl.run.policy import PolicyErrors, UsageProblem, compile_file, load_policy

    try:
        policy = load_policy(path)
    except PolicyErrors as err:
        raise BrokenPolicy(which, path, err.diags) from None
    if Path(policy.source.path).resolve() != Path(path).resolve():  # a `tests for` file names its policy
        raise UsageProblem(f"{path} is not a policy (it starts with `tests for`): diff the policy it tests, "
                           f"{policy.source.path}")
    try:
        return compile_file(path)
    except PolicyErrors as err:  # pragma: no cover - load_policy above already checked it
        raise BrokenPolicy(which, path, err.diags) from None
    except UsageProblem as err:
        raise UsageProblem(f"{path}: {err}") from None


def diff_command(old_path: str, new_path: str, records: str, fmt: str, top: int,
                 cost_up: str | None, any_decrease: bool) -> tuple[str, int, list[str]]:
    """`ipl diff`: (the report, the exit code, lines for stderr); raises UsageProblem / BrokenPolicy."""
    from dsl.run.policy import UsageProblem
    from dsl.run.records import RecordsUnreadable, detect_format

    limit = None
    if cost_up is not None:
        try:
            limit = parse_percent(cost_up)
        except ValueError as err:
            raise UsageProblem(str(err)) from None
    old = _compile("old", old_path)
    new = _compile("new", new_path)
    if old.program.currency != new.program.currency:
        raise UsageProblem(f"the policies pay in different currencies ({old.program.currency} and "
                           f"{new.program.currency}): their costs cannot be compared")
    try:
        detect_format(records)
        if not Path(records).is_file():
            raise UsageProblem(f"no such records file: {records}")
        rep = diff(old, new, records, old_path, new_path, top=top, keep_lists=fmt == "json")
    except RecordsUnreadable as err:
        raise UsageProblem(str(err)) from None
    checks = guards(rep, limit, any_decrease)
    match fmt:
        case "json":
            render = render_json
        case "markdown":
            render = render_markdown
        case "text":
            render = render_text
        case _:
            raise AssertionError(f"unhandled format {fmt}")
    tripped = [g for g in checks if g.tripped]
    notes = [f"ipl diff: guard --{g.name} tripped: {g.message}" for g in tripped]
    return render(rep, checks), 1 if tripped else 0, notes
