"""What a statement is (language §12 `explain`): its lines, the statement of one record, and
the statement of one (id, period) with its settlement (§14.4).

Plain data, built by dsl/explain/statement.py and read by the renderers (render_text.py,
render_json.py, render_html.py). Guarantees `adds_up()`: the lines of a statement add up to
its total; a period's earned total, budget scaling and settlement lines to its payable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass
class Line:
    name: str
    kind: str  # component | floor | cap
    amount: Decimal
    why: list[str] = field(default_factory=list)
    source: str = ""
    location: str = ""
    label: str = ""  # §2a: what people read (the `##` label, else the name)
    description: str = ""

    @property
    def title(self) -> str:
        return self.label or self.name


@dataclass
class Statement:
    policy: str
    version: str | None
    currency: str
    id: str
    row: int
    eligible: bool
    reasons: list[str]
    lines: list[Line]
    total: Decimal
    benefits: list[Line]
    next_bands: list[str]
    tree: dict
    # each failed eligibility gate: its reason and the values its condition read (name -> text)
    failed: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def adds_up(self) -> bool:
        return sum((line.amount for line in self.lines), Decimal(0)) == self.total


@dataclass
class PeriodStatement:
    """One (id, period): the statement of its earned total, then its settlement."""

    period: str | None
    statement: Statement
    settlement: object  # ledger.Settlement
    settlement_json: dict  # the same, as the trace writes it (dsl/run/columns.py)
    program_wide: list = field(default_factory=list)  # the period's figures used (§15)

    def adds_up(self) -> bool:
        s = self.settlement
        return (self.statement.adds_up() and self.statement.total == s.earned
                and s.earned + s.budget_scaling + sum((ln.cash for ln in s.lines), Decimal(0)) == s.payable)
