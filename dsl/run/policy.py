"""Loading a policy for a run: parse and check it, lower it to the IR, compile it.

Receives a policy path (or a checked policy) and `--set NAME=VALUE` overrides. Guarantees a
`CompiledPolicy` (dsl/backends/python/compiled.py) from the IR of a policy without errors;
raises `PolicyErrors` (the checker's diagnostics: the CLI prints them, exit 1) or
`UsageProblem` (a bad `--set`, an unreadable file, a construct no evaluator runs: exit 2).
"""

from __future__ import annotations

import re
from pathlib import Path

from dsl.backends.python.compiled import CompiledPolicy, compile_program
from dsl.checker.checked import CheckedPolicy
from dsl.checker.types import Kind
from dsl.front.diagnostics import Diagnostics
from dsl.ir.lower import Unsupported, lower
from dsl.run.records import BadValue, Field, closest, converter_of


class PolicyErrors(Exception):
    """The policy does not check; `diags` says why (the CLI prints them and exits 1)."""

    def __init__(self, diags: Diagnostics):
        super().__init__("the policy has errors")
        self.diags = diags


class UsageProblem(Exception):
    """A bad `--set`, an unreadable file, an unsupported feature: exit 2 with this one line."""


def load_policy(path: str, diags: Diagnostics | None = None) -> CheckedPolicy:
    """Parse and check a policy. A `tests for` file gives the policy it tests (callers that
    need the file itself to be a policy compare `source.path`, as `compile_file` does)."""
    from dsl.checker.driver import UsageError, check_file

    diags = diags if diags is not None else Diagnostics()
    p = Path(path)
    if not p.is_file():
        raise UsageProblem(f"no such policy file: {path}")
    try:
        checked = check_file(p, diags)
    except UsageError as err:
        raise UsageProblem(str(err)) from None
    if diags.has_errors or checked is None:
        raise PolicyErrors(diags)
    if not isinstance(checked, CheckedPolicy):
        raise UsageProblem(f"{path} is not a policy (it starts with `module` or `tests for`)")
    return checked


# A number as the policy writes one: digits grouped by `_` (`1_000`), as in `param x = 1_000 USD`.
_GROUPED = re.compile(r"-?[0-9](?:_?[0-9])*(?:\.[0-9](?:_?[0-9])*)?\s*%?")


def parse_overrides(policy: CheckedPolicy, pairs: list[str]) -> dict[str, object]:
    """`--set NAME=VALUE`: VALUE parsed by the param's type, like a record field (the plain
    decimal syntax, §2a's rule for percents without `%`), except that money may end with the
    policy's currency code and digits may be grouped with `_` as in the policy's own numbers."""
    params = {n: d for n, d in policy.definitions.items() if d.kind == "param" and d.module is None}
    out: dict[str, object] = {}
    for pair in pairs:
        name, eq, text = pair.partition("=")
        name = name.strip()
        if not eq:
            raise UsageProblem(f"--set {pair}: write NAME=VALUE")
        if name not in params:
            hint = closest(name, tuple(params))
            extra = f" (did you mean `{hint}`?)" if hint else (
                f" (params: {', '.join(params)})" if params else " (the policy has no params)")
            raise UsageProblem(f"--set {pair}: unknown param `{name}`{extra}")
        t = params[name].type
        f = Field(name=name, kind=t.kind.value, members=tuple(t.members))
        try:
            value = text.strip()
            if t.kind is Kind.MONEY and value.upper().endswith(policy.currency):
                value = value[: -len(policy.currency)].strip()
            if t.kind in (Kind.MONEY, Kind.NUMBER, Kind.PERCENT, Kind.COUNT) and _GROUPED.fullmatch(value):
                value = value.replace("_", "")
            out[name] = converter_of(f)(value)
        except BadValue as bad:
            raise UsageProblem(f"--set {pair}: {bad}") from None
    return out


def compile_policy(policy: CheckedPolicy, overrides: dict[str, object] | None = None) -> CompiledPolicy:
    """A checked policy, lowered to the IR and compiled; `overrides` are validated values."""
    return compile_program(lower(policy), overrides)


def compile_file(path: str, overrides: list[str] = ()) -> CompiledPolicy:
    policy = load_policy(path)
    if Path(policy.source.path).resolve() != Path(path).resolve():
        raise UsageProblem(f"{path} is not a policy (it starts with `tests for`): use the policy it tests, "
                           f"{policy.source.path}")
    try:
        values = parse_overrides(policy, list(overrides))
        return compile_policy(policy, values)
    except Unsupported as err:
        raise UsageProblem(str(err)) from None
