"""What `ipl diff` reports: the `Report` and its lines, as the pass (compare.py) fills them in.

Receives nothing: these are the data the pass, the guards (guards.py) and the renderers
(render.py) share. Guarantees exact Decimals throughout; the percent of the total is the exact
ratio rounded half-even to 2 places (None when the old total is 0). Lines present in one policy
only read `added` / `removed`; lines of both policies come in the old policy's order, then the
new policy's own (`_union`). Emits nothing.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

from dsl.backends.python import runtime
from dsl.tools.diff.outcomes import ZERO, Side

LIST_LIMIT = 10  # per-record entries kept for text and markdown (JSON keeps them all)


@dataclass(slots=True)
class Amounts:
    """One line of a table: old and new amounts (None where the line is not in that policy)."""

    name: str
    old: Decimal | None
    new: Decimal | None
    label: str = ""  # §2a: what people read (the new policy's `##` label, else the old one's)

    @property
    def title(self) -> str:
        return self.label or self.name

    @property
    def delta(self) -> Decimal:
        return (self.new or ZERO) - (self.old or ZERO)

    @property
    def status(self) -> str:
        if self.old is None:
            return "added"
        if self.new is None:
            return "removed"
        return "changed" if self.old != self.new else "unchanged"


@dataclass(slots=True)
class Entry:
    """A record in a per-record list (status changes, level changes)."""

    id: str | None
    period: str | None
    row: int
    old: str = ""
    new: str = ""
    detail: str = ""


@dataclass
class LevelChanges:
    """One level or tier table: how many records moved up or down its bands (or labels)."""

    table: str
    kind: str  # "level" (labels) | "tier" (bands of values)
    up: int = 0
    down: int = 0
    changes: list[Entry] = field(default_factory=list)


@dataclass(slots=True)
class ComponentChange:
    name: str
    old: Decimal | None
    new: Decimal | None
    why: list[str]
    label: str = ""

    @property
    def title(self) -> str:
        return self.label or self.name


@dataclass(slots=True)
class Mover:
    """A record whose total changed; `why` is filled in for the ones the report shows."""

    id: str | None
    period: str | None
    row: int
    old: Side
    new: Side
    delta: Decimal
    status: list[str] = field(default_factory=list)
    components: list[ComponentChange] = field(default_factory=list)
    adjustments: list[str] = field(default_factory=list)

    def sort_key(self) -> tuple:
        return (self.id or "", self.period or "", self.row)

    def __lt__(self, other: Mover) -> bool:
        """Less important: a smaller absolute delta, or an equal one with a later id (heap order)."""
        a, b = abs(self.delta), abs(other.delta)
        if a != b:
            return a < b
        return self.sort_key() > other.sort_key()


@dataclass(frozen=True, slots=True)
class ParamChange:
    """A param whose value differs (None: not in that policy), with its display text."""

    name: str
    old: object
    new: object
    old_text: str
    new_text: str


@dataclass
class Report:
    old_path: str
    new_path: str
    records: str
    currency: str
    old_name: str
    new_name: str
    old_version: str | None
    new_version: str | None
    params: list[ParamChange] = field(default_factory=list)  # params whose values differ
    read: int = 0
    paid_old: int = 0
    paid_new: int = 0
    eligible_old: int = 0
    eligible_new: int = 0
    total_old: Decimal = ZERO
    total_new: Decimal = ZERO
    changed: int = 0
    up: int = 0
    down: int = 0
    components: list[Amounts] = field(default_factory=list)
    adjustments: list[Amounts] = field(default_factory=list)
    benefits: list[Amounts] = field(default_factory=list)
    movers: list[Mover] = field(default_factory=list)
    top: int = 5
    levels: list[LevelChanges] = field(default_factory=list)
    newly_rejected: list[Entry] = field(default_factory=list)
    newly_accepted: list[Entry] = field(default_factory=list)
    newly_ineligible: list[Entry] = field(default_factory=list)
    newly_eligible: list[Entry] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # the four lists above, counted in full
    largest_decrease: Mover | None = None

    @property
    def delta(self) -> Decimal:
        return self.total_new - self.total_old

    @property
    def percent(self) -> Decimal | None:
        """delta / |old| in percent, rounded half-even to 2 places; None when the old total is 0."""
        if self.total_old == 0:
            return None
        with decimal.localcontext(runtime.CONTEXT):
            return (self.delta * 100 / abs(self.total_old)).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)



def _union(first: list[str], second: list[str]) -> list[str]:
    return first + [n for n in second if n not in first]
