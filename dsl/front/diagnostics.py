"""Diagnostics: the code registry of spec §11, the sink, and the renderers.

Every pass reports problems as `Diagnostic` values into a `Diagnostics` sink;
nothing is printed or raised for a user mistake. Rendering (text, JSON, GitHub
annotations) happens here and nowhere else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import Enum

from dsl.front.source import Span


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


# §11: the stable codes. The title is what docs/diagnostics.md lists.
CODES: dict[str, str] = {
    "E100": "syntax error",
    "E200": "unknown name",
    "E201": "duplicate definition or name collision",
    "E202": "cyclic definitions",
    "E203": "recursive function",
    "E204": "missing or duplicate id input; missing header field",
    "E300": "type mismatch in an operator, comparison or condition",
    "E301": "money / number / percent unit confusion",
    "E302": "currency other than the policy's",
    "E303": "call: wrong number or types of arguments",
    "E304": "a declared type disagrees with the expression",
    "E310": "match not exhaustive",
    "E311": "unknown enum member or label",
    "E400": "tier thresholds not strictly ascending",
    "E401": "tier table does not cover its key's reachable range",
    "E402": "tier band values of different types; bad marginal table",
    "E403": "non-constant threshold, target, weight or marginal rate",
    "E500": "scorecard weights do not add up to 100 %",
    "E501": "scorecard target zero or of the wrong type",
    "E600": "constant floor above constant cap; cap/floor of the wrong type",
    "E700": "test file: unknown policy, name or fixture; value of the wrong type",
    "W100": "unused input, param, metric, def or table",
    "W101": "tier band that the key can never reach",
    "W102": "condition that is always true or always false",
    "W103": "redundant match arm",
    "W104": "`prior` or `trailing_*` without an `otherwise` fallback",
}


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    message: str
    span: Span
    help: str | None = None
    label: str | None = None  # short text under the caret

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise AssertionError(f"unregistered diagnostic code {self.code}")

    @property
    def severity(self) -> Severity:
        return Severity.WARNING if self.code.startswith("W") else Severity.ERROR

    def sort_key(self) -> tuple:
        return (self.span.path, self.span.start, self.code, self.message)

    def to_json(self) -> dict:
        s = self.span
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "file": s.path,
            "line": s.line,
            "column": s.column,
            "end_line": s.end_line,
            "end_column": s.end_column,
            "help": self.help,
        }


@dataclass
class Diagnostics:
    """A sink: passes add to it and keep going; the driver decides when to stop."""

    items: list[Diagnostic] = field(default_factory=list)

    def error(self, code: str, message: str, span: Span, help: str | None = None,
              label: str | None = None) -> None:
        self.items.append(Diagnostic(code, message, span, help, label))

    warn = error  # the code's letter decides the severity

    def extend(self, other: Diagnostics) -> None:
        self.items.extend(other.items)

    @property
    def has_errors(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.items)

    def sorted(self) -> list[Diagnostic]:
        seen: set[tuple] = set()
        out = []
        for d in sorted(self.items, key=Diagnostic.sort_key):
            key = (d.code, d.span.path, d.span.start, d.span.end, d.message)
            if key not in seen:
                seen.add(key)
                out.append(d)
        return out

    def __len__(self) -> int:
        return len(self.items)


# Source lines longer than this are shown as a window around the caret (a 10,000-character
# line must not flood the terminal).
MAX_SHOWN = 120
CONTEXT = 40


def render_text(d: Diagnostic) -> str:
    """rustc-like: header, arrow with location, source line, caret underline, help."""
    s = d.span
    line = s.line
    gutter = " " * len(str(line))
    out = [f"{d.severity.value}[{d.code}]: {d.message}", f"{gutter}--> {s.path}:{line}:{s.column}"]
    src = s.source.line_text(line)
    if src or s.source.text:
        width = max(1, (s.end_column - s.column) if s.end_line == line else len(src) - s.column + 1)
        column = s.column
        if len(src) > MAX_SHOWN:
            src, column, width = _window(src, column, width)
        pad = _caret_padding(src, column)
        caret = "^" * width
        out.append(f"{gutter} |")
        out.append(f"{line} | {src}")
        out.append(f"{gutter} | {pad}{caret}" + (f" {d.label}" if d.label else ""))
    if d.help:
        out.append(f"{gutter} = help: {d.help}")
    return "\n".join(out)


def _window(src: str, column: int, width: int) -> tuple[str, int, int]:
    """A slice of a long line around the caret, marked with `...` where it was cut."""
    start = max(0, column - 1 - CONTEXT)
    end = min(len(src), start + MAX_SHOWN)
    if end - start < MAX_SHOWN:
        start = max(0, end - MAX_SHOWN)
    head = "..." if start > 0 else ""
    tail = "..." if end < len(src) else ""
    new_column = column - start + len(head)
    new_width = max(1, min(width, end - (column - 1)))
    return head + src[start:end] + tail, new_column, new_width


def _caret_padding(src: str, column: int) -> str:
    # keep tabs as tabs so the caret lines up in a terminal
    prefix = src[: column - 1]
    return "".join("\t" if ch == "\t" else " " for ch in prefix)


def render_json(diags: list[Diagnostic]) -> str:
    return json.dumps([d.to_json() for d in diags], indent=2, ensure_ascii=False)


def _gh_escape(text: str, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def render_github(d: Diagnostic) -> str:
    s = d.span
    kind = "error" if d.severity is Severity.ERROR else "warning"
    msg = d.message + (f" (help: {d.help})" if d.help else "")
    return (
        f"::{kind} file={_gh_escape(s.path, True)},line={s.line},col={s.column},"
        f"endLine={s.end_line},endColumn={s.end_column},title={_gh_escape(d.code, True)}::{_gh_escape(msg)}"
    )


def summary_line(diags: list[Diagnostic]) -> str:
    errors = sum(1 for d in diags if d.severity is Severity.ERROR)
    warnings = len(diags) - errors
    return f"{errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}"
