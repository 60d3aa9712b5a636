"""What a run gives per record: a paid `Row` (its result and, multi-period, its settlement),
or a `Reject` (dsl/run/records/validator.py); and the reason an evaluation failed.

Receives nothing of other stages; guarantees the shapes every consumer of a run reads
(outputs, traces, statements, `ipl diff`, `ipl test`). Emits nothing.
"""

from __future__ import annotations

from typing import NamedTuple

from dsl.backends.python import runtime
from dsl.backends.python.compiled import RecordResult
from dsl.checker.periods import Period
from dsl.run.ledger import Settlement


class Row(NamedTuple):
    """One paid record — (id, period) in a multi-period run — evaluated and settled (a named
    tuple: one is made per record)."""

    row: int  # its position in the records file
    id: str
    period: Period | None  # None: a single-period policy
    record: dict  # the validated record (input name -> value)
    result: RecordResult
    settlement: Settlement | None = None  # None: a policy without settlement (language §15)
    events: list | None = None  # the trace, when traced
    pw: tuple = ()  # the program-wide figures this record used (language §16)


def line_reasons(result: RecordResult) -> list[str]:
    """Eligibility reasons, then each failed component or benefit `require` as `name: reason`."""
    reasons = list(result.reasons)
    for name, rs in result.line_reasons:
        reasons.extend(f"{name}: {r}" for r in rs)
    return reasons


def failure(compiled, record: dict, history=None, pw=None) -> str:
    """Why evaluating a record failed: the traced variant re-runs it (the fast path carries no
    bookkeeping) and says in which definition, where, with which operands."""
    try:
        compiled.traced()(record, history, pw)
    except runtime.EvalError as err:
        return err.describe()
    except runtime.Missing as err:
        return f"{err} (and no `otherwise` gives a fallback)"
    except ArithmeticError as err:
        return f"evaluation failed: {type(err).__name__}"
    except RecursionError:
        return "evaluation failed: nested too deeply"
    except Exception as err:  # noqa: BLE001 - a reject must say something
        return f"evaluation failed: {err}"
    return "evaluation failed"  # pragma: no cover - the traced variant fails where the fast one does
