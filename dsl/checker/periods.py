"""Period values of a multi-period policy (spec §14).

Receives: the header's granularity (`month | quarter | half | year`) and the
text of a `period` value. Guarantees: `parse_period` accepts exactly one
shape per granularity and returns a `Period` whose `index` counts periods
since year 0, so that periods order, subtract and shift by plain integer
arithmetic; any other text is a `PeriodError` (data, with the reason and the
expected shape) — never an exception that escapes to the user.

Shapes (four-digit year 0001–9999, no spaces, upper-case letters):

    year     "2026"
    half     "2026-H1", "2026-H2"
    quarter  "2026-Q1" .. "2026-Q4"
    month    "2026-01" .. "2026-12"

Emits no diagnostic codes: a bad value becomes a record reject (§13) in
the runner (dsl/run/runner.py), with `PeriodError.reason` as its reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

# granularity -> (periods per year, regular expression, example)
GRANULARITIES: dict[str, tuple[int, re.Pattern[str], str]] = {
    "year": (1, re.compile(r"(?P<y>[0-9]{4})"), "2026"),
    "half": (2, re.compile(r"(?P<y>[0-9]{4})-H(?P<n>[12])"), "2026-H1"),
    "quarter": (4, re.compile(r"(?P<y>[0-9]{4})-Q(?P<n>[1-4])"), "2026-Q1"),
    "month": (12, re.compile(r"(?P<y>[0-9]{4})-(?P<n>0[1-9]|1[0-2])"), "2026-03"),
}


class Period(NamedTuple):
    """One calendar period. Orders by `index`; equal granularity is assumed. (A named
    tuple rather than a frozen dataclass: the settlement makes and compares many.)"""

    index: int  # year * per_year + (n - 1)
    granularity: str

    @property
    def per_year(self) -> int:
        return GRANULARITIES[self.granularity][0]

    @property
    def year(self) -> int:
        return self.index // self.per_year

    @property
    def number(self) -> int:
        """1-based position in the year (the quarter, month or half)."""
        return self.index % self.per_year + 1

    def __add__(self, k: int) -> Period:  # type: ignore[override]
        """`p + k` is k periods later (k may be negative)."""
        if k.__class__ is not int:
            return NotImplemented
        return Period(self.index + k, self.granularity)

    def __sub__(self, other: Period | int) -> int | Period:  # type: ignore[override]
        """`p - q` is the number of periods from q to p; `p - k` shifts back."""
        match other:
            case Period():
                if other.granularity != self.granularity:
                    raise AssertionError(f"periods of different granularity: {self} - {other}")
                return self.index - other.index
            case int():
                return Period(self.index - other, self.granularity)
            case _:
                raise AssertionError(f"cannot subtract {other!r} from a period")

    def __str__(self) -> str:
        year, n = self.year, self.number
        match self.granularity:
            case "year":
                return f"{year:04d}"
            case "half":
                return f"{year:04d}-H{n}"
            case "quarter":
                return f"{year:04d}-Q{n}"
            case "month":
                return f"{year:04d}-{n:02d}"
            case _:
                raise AssertionError(f"unknown granularity {self.granularity!r}")


@dataclass(frozen=True, slots=True)
class PeriodError:
    """Why a text is not a period of the granularity."""

    text: str
    reason: str


def parse_period(text: str, granularity: str) -> Period | PeriodError:
    """Parse `text` as a period of `granularity`, or say why it is not one."""
    if granularity not in GRANULARITIES:
        raise AssertionError(f"unknown granularity {granularity!r}")
    per_year, pattern, example = GRANULARITIES[granularity]
    match = pattern.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        shown = text if len(text) <= 40 else text[:37] + "..."
        other = [g for g, (_, p, _) in GRANULARITIES.items() if g != granularity and p.fullmatch(text)]
        hint = f" (that is a {other[0]}; the policy's period is {granularity})" if other else ""
        return PeriodError(text, f"{shown!r} is not a {granularity}: write it like \"{example}\"{hint}")
    year = int(match["y"])
    if year == 0:
        return PeriodError(text, f"{text!r}: year 0000 is not a year (write 0001 to 9999)")
    n = int(match["n"]) if granularity != "year" else 1
    return Period(year * per_year + n - 1, granularity)


def period(text: str, granularity: str) -> Period:
    """Parse a period known to be well formed (tests, test files); raise ValueError if not."""
    result = parse_period(text, granularity)
    if isinstance(result, PeriodError):
        raise ValueError(result.reason)
    return result
