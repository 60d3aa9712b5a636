"""What a record's outcome says about the name an `expect` names: its type and its value.

A mixin of `Runner` (runner.py). Receives an expectation's target name, the compiled policy
and an evaluated record (`Row`). Guarantees the value as the evaluator holds it: `total`,
`eligible`, `reasons`, an input, a param, a component, a benefit; a metric, table or scorecard
from the record's trace, and when the evaluation did not need it (§5: on demand) from a variant
compiled to compute it (`forced`), which never changes the record's outcome, explanation or
coverage; `NOT_COMPUTED` when it has no value for this record. Emits nothing.
"""

from __future__ import annotations

import decimal

from dsl.backends.python import runtime
from dsl.checker.types import Type
from dsl.tools.testing.values import NOT_COMPUTED


class Actuals:
    """The type and the actual value of an expectation's target (a mixin of `Runner`)."""

    def expect_type(self, name: str | None) -> Type:
        """The type of what `expect NAME` names (`total`, `held`, ... are money unless defined)."""
        from dsl.checker.types import BOOL, LIST, MONEY

        if name == "total" or name in ("held", "released", "payable"):
            return self.policy.definitions[name].type if name in self.policy.definitions else MONEY
        if name == "eligible":
            return BOOL
        if name == "reasons":
            return LIST
        return self.policy.definitions[name].type

    def actual(self, name: str, compiled, out):
        """The value of NAME in the evaluated record `out`."""
        result = out.result
        if name == "total":
            return result.total
        if name == "eligible":
            return result.eligible
        if name == "reasons":
            return tuple(result.reasons)
        d = self.policy.definitions[name]
        match d.kind:
            case "input":
                return out.record[name]
            case "param":
                return compiled.params[name]
            case "component":
                return result.components[[c.name for c in compiled.components].index(name)]
            case "benefit":
                return result.benefits[[b.name for b in compiled.benefits].index(name)]
            case "metric" | "tiers" | "scorecard":
                found = _traced_value(out.events, name)
                if found is NOT_COMPUTED:
                    found = self.forced(name, compiled, out)
                return found
            case _:
                raise AssertionError(f"unhandled expectation kind {d.kind}")

    def forced(self, name: str, compiled, out):
        """The value of a definition the evaluation did not need (§5: on demand), computed for
        the test alone: the policy compiled with one more gate, `require NAME == NAME`, which
        always passes and makes the evaluator compute NAME first. The record's outcome, its
        explanation and coverage come from the normal evaluation, never from this one."""
        import dataclasses

        from dsl.backends.python.compiled import compile_program
        from dsl.checker.types import BOOL
        from dsl.ir import nodes as ir
        from dsl.ir.lower import lower

        program = compiled.program if compiled.program is not None else lower(self.policy)
        d = program.definitions[name]
        ref = ir.Ref(key=name, kind=ir.kind_of(d), type=d.type, span=d.span)
        gate = ir.Gate(cond=ir.Binary(op="==", left=ref, right=ref, type=BOOL, span=d.span), reason="", span=d.span)
        try:
            variant = compile_program(dataclasses.replace(program, gates=(*program.gates, gate)), compiled._overrides)
            if out.settlement is not None:  # a row of a policy that settles: its history matters
                return self._forced_in_history(variant, name, out)
            with decimal.localcontext(runtime.CONTEXT):
                _result, events = variant.traced()(out.record)
        except Exception:  # noqa: BLE001 - e.g. a division by zero: the definition has no value here
            return NOT_COMPUTED
        return _traced_value(events, name)


    def _forced_in_history(self, variant, name: str, out):
        """Multi-period: the forced variant over the test's whole history; its value in the
        period of `out`, provided that forcing rejected no record up to that period (a
        history that differs would give a different value)."""
        from dsl.run.results import Row
        from dsl.run.runner import run_history

        for row in run_history(variant, list(self.history)):
            if not isinstance(row, Row):
                return NOT_COMPUTED
            if row.period == out.period:
                return _traced_value(row.events, name)
        return NOT_COMPUTED


def _traced_value(events, name: str):
    found = NOT_COMPUTED
    for ev in events or ():
        if ev.get("def") == name and "kind" in ev:
            found = ev["value"]
    return found
