"""One record under one policy: its `Side`, and the stream of them a policy yields over a file.

Receives a compiled policy and a records file. Guarantees one `Side` per record (per (id,
period) for a policy that settles, language §15, §16), in the order the run yields them, each
with its trace events (the traced variant runs every record) and, for a policy that settles,
its settlement lines. Emits no diagnostics: the run's errors (`RecordsUnreadable`, a failing
evaluation) are raised in the consuming thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from dsl.backends.python.compiled import CompiledPolicy
from dsl.run.records import Reject

ZERO = Decimal(0)

@dataclass(slots=True)
class Side:
    """A record's outcome under one policy: a reject, or the result tuple and its trace events."""

    row: int
    id: str | None
    period: str | None
    reject: Reject | None = None
    result: tuple | None = None
    events: list | None = None
    settlement: tuple | None = None  # multi-period: (name, amount) of each settlement column (§14.4)

    @property
    def accepted(self) -> bool:
        return self.reject is None

    @property
    def eligible(self) -> bool:
        return self.result is not None and bool(self.result.eligible)

    @property
    def total(self) -> Decimal:
        """What the record is paid: its total, or in a multi-period policy its period's payable."""
        if self.settlement is not None:
            return self.settlement[-1][1]
        return self.result.total if self.result is not None else ZERO


def outcomes(compiled: CompiledPolicy, records: str) -> Iterator[Side]:
    """Every record's outcome under `compiled` — one `Side` per record, or per (id, period) for
    a policy that settles — evaluated with the traced variant, as a stream.

    The traced variant is used for every record (about twice the fast path's time) because the
    level and tier changes are read from the trace, and the movers' explanations need it. The
    run (dsl/run/runner.py) calls back per outcome; a thread runs it and hands each outcome
    over through a bounded queue, so that the two policies advance together and memory holds
    what the runner itself holds (one record, or one period), not the run.
    """
    import queue
    import threading

    from dsl.run.columns import SETTLEMENT_COLUMNS
    from dsl.run.runner import run

    handoff: queue.Queue = queue.Queue(maxsize=256)
    done = object()

    def on_row(row) -> None:
        cols = tuple(zip(SETTLEMENT_COLUMNS, row.settlement.columns())) if row.settlement is not None else None
        handoff.put(Side(row.row, row.id, str(row.period) if row.period is not None else None, result=row.result,
                         events=row.events, settlement=cols))

    def on_reject(r: Reject) -> None:
        handoff.put(Side(r.row, r.id, None, reject=r))

    def produce() -> None:
        try:
            run(compiled, records, on_row, on_reject, traced=True)
            handoff.put(done)
        except BaseException as err:  # noqa: BLE001 - re-raised in the consuming thread
            handoff.put(err)

    worker = threading.Thread(target=produce, name="ipl-diff-run", daemon=True)
    worker.start()
    while True:
        item = handoff.get()
        if item is done:
            break
        if isinstance(item, BaseException):
            raise item
        yield item
    worker.join()
