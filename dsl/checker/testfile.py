"""Test files (language §13): E700 for a test file against the policy it names.

Receives a parsed `tests for "POLICY"` file and its path; reads and checks that policy (with
dsl/checker/program.py). Guarantees that every fixture field, param override and expectation
names something of the policy, with a value of its type (zero for any numeric type, a bare
number for a percent read as a fraction unless whole, language §5, §14). Emits E700, E201 (a
fixture or a test given twice), E302 (money in another currency).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from dsl.checker.checked import CheckedPolicy
from dsl.checker.resolution import suggest
from dsl.checker.periods import GRANULARITIES
from dsl.checker.program import check_policy, errors_since
from dsl.checker.text import article, fmt_number
from dsl.checker.fold import fold
from dsl.checker.types import BOOL, LIST, MONEY, NEGATION, NUMBER, PERCENT, TEXT, Kind, Type, arithmetic, assignable
from dsl.front import ast
from dsl.front.diagnostics import Diagnostics
from dsl.front.source import SourceFile

_VERBS = {"+": ("add", "to"), "-": ("subtract", "from"), "*": ("multiply", "by"), "/": ("divide", "by")}


EXPECT_KINDS = ("input", "param", "metric", "tiers", "scorecard", "component", "benefit")
SETTLEMENT = ("held", "released", "payable")


class _Tests:
    """E700: a test file against the policy it names (§10)."""

    def __init__(self, file: ast.TestFile, policy: CheckedPolicy, diags: Diagnostics):
        self.file = file
        self.policy = policy
        self.diags = diags
        self.multi = policy.period_input is not None
        self.inputs = {i.name: policy.definitions[i.name].type for i in policy.inputs}
        self.ranges = {i.name: (policy.constants.get(id(i.range.lo)) if i.range.lo is not None else None,
                                policy.constants.get(id(i.range.hi)) if i.range.hi is not None else None)
                       for i in policy.inputs if i.range is not None}
        self.params = {n: d.type for n, d in policy.definitions.items() if d.kind == "param"}
        self.fixtures: dict[str, ast.Fixture] = {}

    def err(self, message: str, span, help: str | None = None, code: str = "E700") -> None:
        self.diags.error(code, message, span, help=help)

    def run(self) -> None:
        for fx in self.file.fixtures:
            if fx.name in self.fixtures:
                self.err(f"fixture `{fx.name}` is defined twice (first at line "
                         f"{self.fixtures[fx.name].name_span.line})", fx.name_span, code="E201")
                continue
            self.fixtures[fx.name] = fx
            self.assigns(fx.fields)
        names = set()
        for test in self.file.tests:
            if test.name in names:
                self.err(f"two tests are named \"{test.name}\"", test.span, code="E201",
                         help="give each test its own name")
            names.add(test.name)
            periods: list[str] = []
            for given in test.givens:
                if given.periods:
                    if not self.multi:
                        self.err("`given periods` needs a multi-period policy (an input of type `period`)",
                                 given.span)
                    for pg in given.periods:
                        self.period_value(pg.period, pg.span)
                        if pg.period in periods:
                            self.err(f"period \"{pg.period}\" is given twice", pg.span, code="E201")
                        periods.append(pg.period)
                        self.fixture_ref(pg.fixture, pg.span)
                        self.assigns(pg.overrides)
                    continue
                if given.fixture is not None:
                    self.fixture_ref(given.fixture, given.span)
                self.assigns(given.overrides)
                # a plain `given` is one record, in the period its fields name
                fields = list(self.fixtures[given.fixture].fields) if given.fixture in self.fixtures else []
                for a in fields + list(given.overrides):
                    if a.name == self.policy.period_input and isinstance(a.value, ast.String):
                        periods.append(a.value.value)
            for ex in test.expects:
                self.expect(ex, periods)

    def fixture_ref(self, name: str, span) -> None:
        if name not in self.fixtures:
            self.err(f"unknown fixture `{name}`", span, help=suggest(name, self.fixtures))

    def period_value(self, text: str, span) -> None:
        shape = GRANULARITIES.get(self.policy.period or "")
        if shape is not None and not shape[1].fullmatch(text):
            self.err(f"\"{text}\" is not a {self.policy.period} period", span,
                     help=f"write it like \"{shape[2]}\"")

    def assigns(self, assigns) -> None:
        seen: set[tuple[bool, str]] = set()
        for a in assigns:
            key = (a.is_param, a.name)
            if key in seen:
                self.err(f"`{a.name}` is given twice", a.span, code="E201")
            seen.add(key)
            if a.is_param:
                t = self.params.get(a.name)
                if t is None:
                    self.err(f"the policy has no param `{a.name}`", a.span, help=suggest(a.name, self.params))
                    continue
                self.value(a.value, t, f"param `{a.name}`")
                continue
            t = self.inputs.get(a.name)
            if t is None:
                hint = suggest(a.name, self.inputs)
                if a.name in self.params:
                    hint = f"to override a param write `param {a.name} = ...`"
                self.err(f"the policy has no input `{a.name}`", a.span, help=hint)
                continue
            self.value(a.value, t, f"input `{a.name}`", self.ranges.get(a.name))
            if t.kind is Kind.PERIOD and isinstance(a.value, ast.String):
                self.period_value(a.value.value, a.value.span)

    def expect(self, ex: ast.Expect, periods: list[str]) -> None:
        if ex.period is not None:
            if not self.multi:
                self.err("`expect in \"...\"` needs a multi-period policy", ex.span)
            elif ex.period not in periods:
                self.err(f"period \"{ex.period}\" is not given in this test", ex.span,
                         help=suggest(ex.period, periods) or "list it in `given periods { ... }`")
        if ex.error is not None or ex.name is None:
            return
        defs = self.policy.definitions
        if ex.clawback:
            d = defs.get(ex.name)
            if d is None or d.kind != "component":
                self.err(f"the policy has no component `{ex.name}`", ex.span,
                         help=suggest(ex.name, [n for n, x in defs.items() if x.kind == "component"]))
                return
            if not any(c.component == ex.name for c in self.policy.clawbacks):
                self.err(f"`{ex.name}` has no clawback in the policy", ex.span)
                return
            self.value(ex.value, MONEY, f"clawback {ex.name}")
            return
        name = ex.name
        if name == "total":
            t = MONEY
        elif name == "eligible":
            t = BOOL
        elif name == "reasons":
            t = LIST
        elif name in SETTLEMENT and name not in defs:
            if not self.multi:
                self.err(f"`{name}` exists only in a multi-period policy", ex.span)
                return
            t = MONEY
        elif name in defs and defs[name].kind in EXPECT_KINDS:
            t = defs[name].type
        else:
            if name in defs:
                self.err(f"`{name}` is a def: a test can expect only named values", ex.span)
                return
            candidates = [n for n, d in defs.items() if d.kind in EXPECT_KINDS] + \
                ["total", "eligible", "reasons"] + (list(SETTLEMENT) if self.multi else [])
            self.err(f"the policy has no `{name}`", ex.span, help=suggest(name, candidates))
            return
        self.value(ex.value, t, f"`{name}`")

    def value(self, e: ast.Expr, t: Type, what: str, rng: tuple | None = None) -> None:
        """A test value of type `t`; `rng`, an input's declared (lo, hi) bounds (§23.4)."""
        actual, constant = self.literal(e, t)
        if actual is None:
            return
        if t.is_numeric and constant == 0:
            return  # §2a: zero has no unit
        if t.kind is Kind.PERCENT and actual.kind in (Kind.NUMBER, Kind.COUNT) and constant is not None:
            # §2a, §23.4: a bare number is a fraction, but a whole one other than 0, 1, -1 is a
            # guess unless the input's declared range contains it
            lo, hi = rng if rng is not None else (None, None)
            declared = (lo is not None or hi is not None) and (lo is None or lo <= constant) \
                and (hi is None or constant <= hi)
            if constant == constant.to_integral_value() and abs(constant) > 1 and not declared:
                self.err(f"`{e.span.text}` for a percent would be {fmt_number(constant * 100)} %: write "
                         f"`{fmt_number(constant)}%` or `{fmt_number(constant / 100)}`", e.span)
            return
        if t.kind is Kind.LIST:
            ok = actual.kind is Kind.LIST
        elif t.kind in (Kind.ID, Kind.PERIOD):
            ok = actual.kind is Kind.TEXT
        else:
            ok = assignable(actual, t, constant)
        if not ok:
            hint = None
            if t.kind is Kind.MONEY and actual.kind in (Kind.NUMBER, Kind.COUNT):
                hint = f"write `{e.span.text} {self.policy.currency}`"
            elif t.kind is Kind.PERCENT and actual.kind in (Kind.NUMBER, Kind.COUNT) and constant is not None:
                hint = f"write `{fmt_number(constant * 100)}%`"
            elif t.kind in (Kind.ID, Kind.PERIOD, Kind.TEXT):
                hint = 'write it in double quotes: "..."'
            elif t.kind is Kind.COUNT:
                hint = "a count is a whole number >= 0"
            self.err(f"{what} is {t}, but this value is {actual}", e.span, help=hint)

    def literal(self, e: ast.Expr, expected: Type) -> tuple[Type | None, Decimal | None]:
        """The type of a value written in a test file (literals and arithmetic on them)."""
        match e:
            case ast.Number(value=v):
                return NUMBER, v
            case ast.Percent(value=v):
                return PERCENT, v
            case ast.Money(amount=v, currency=cur):
                if cur != self.policy.currency:
                    self.err(f"money in {cur}, but the policy's currency is {self.policy.currency}", e.span,
                             code="E302", help=f"write `{fmt_number(v)} {self.policy.currency}`")
                    return None, None
                return MONEY, v
            case ast.String():
                return TEXT, None
            case ast.Bool():
                return BOOL, None
            case ast.ListLit(items=items):
                for item in items:
                    if not isinstance(item, ast.String):
                        self.err("`reasons` is a list of strings", item.span)
                        return None, None
                return LIST, None
            case ast.Unary(op="-", operand=x):
                t, v = self.literal(x, expected)
                if t is None:
                    return None, None
                if not t.is_numeric:
                    self.err(f"cannot negate {article(t)}", e.span)
                    return None, None
                return Type(NEGATION[t.kind]), (-v if v is not None else None)
            case ast.Binary(op=op) if op in _VERBS:
                lt, lv = self.literal(e.left, expected)
                rt, rv = self.literal(e.right, expected)
                if lt is None or rt is None:
                    return None, None
                kind = arithmetic(op, lt.kind, rt.kind) if lt.is_numeric and rt.is_numeric else None
                if kind is None:
                    self.err(f"cannot {_VERBS[op][0]} {lt} and {rt}", e.span)
                    return None, None
                return Type(kind), (fold(op, lv, rv) if lv is not None and rv is not None else None)
            case ast.Name(name=n):
                if expected.kind in (Kind.ENUM, Kind.LEVEL):
                    if n in expected.members:
                        return expected, None
                    what = "a member of " if expected.kind is Kind.ENUM else "a label of "
                    self.err(f"`{n}` is not {what}{expected}", e.span, help=suggest(n, expected.members))
                    return None, None
                self.err(f"a test value must be a literal; `{n}` is a name", e.span,
                         help='write a string in double quotes' if expected.kind in
                         (Kind.TEXT, Kind.ID, Kind.PERIOD) else None)
                return None, None
            case _:
                self.err("a test value must be a literal", e.span)
                return None, None


def check_tests(source: SourceFile, file: ast.TestFile, diags: Diagnostics, *,
                path: Path | None = None) -> CheckedPolicy | None:
    """A test file: its policy (relative to the test file) must exist and check; every
    fixture field, param override and expectation must name something of the policy, with
    a value of its type. Returns the policy's `CheckedPolicy` (None on errors)."""
    from dsl.front.syntax import parse_bytes

    folder = path.parent if path is not None else Path(".")
    target = folder / file.target
    if not file.target.endswith(".ipl") or not target.is_file():
        near = [p.name for p in folder.glob("*.ipl") if p.name != (path.name if path else "")]
        diags.error("E700", f"unknown policy file \"{file.target}\" (looked for {target})", file.target_span,
                    help=suggest(file.target, near) or "the path is relative to the test file")
        return None
    try:
        data = target.read_bytes()
    except OSError as err:
        diags.error("E700", f"cannot read the policy {target}: {err.strerror or err}", file.target_span)
        return None
    sink = Diagnostics()
    psource, parsed = parse_bytes(str(target), data, sink)
    if parsed is None or not isinstance(parsed, ast.PolicyFile):
        diags.error("E700", f"\"{file.target}\" is not a policy" if parsed is not None else
                    f"the policy \"{file.target}\" does not parse", file.target_span,
                    help=f"run `ipl check {target}`")
        return None
    policy = check_policy(psource, parsed, sink, path=target)
    if policy is None:
        diags.error("E700", f"the policy \"{file.target}\" has errors", file.target_span,
                    help=f"run `ipl check {target}`")
        return None
    first = len(diags.items)
    _Tests(file, policy, diags).run()
    return None if errors_since(diags, first) else policy


__all__ = ["check_tests"]
