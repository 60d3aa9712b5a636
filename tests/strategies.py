"""Hypothesis strategies: random syntactically valid IPL files, as AST and as text.

Reusable by any test (formatter round trips, parser fuzzing, differential tests):

- `expressions()`, `policies()`, `modules()`, `test_files()`, `files()` draw ASTs
  (dsl/front/ast.py nodes, no spans) that the parser can produce: every tree drawn here
  is what `parse_text` returns for some text;
- `messy_text(file)` draws a text for a tree: random spacing and line breaks,
  redundant parentheses, optional commas, `_` in numbers and comments between
  any two tokens. `parse_text(text) == file` holds (tests/test_fmt_properties.py
  checks it), so the text is a valid file with a known tree and known comments.

The trees above are syntactically valid, not type-checked: names refer to nothing
in particular and operators mix types freely. For tests that run policies:

- `typed_policies()` draws single-period policies that `ipl check` accepts
  (warnings aside): typed inputs with ranges, params, metrics, a tier table,
  eligibility, components with caps and floors, a total;
- `typed_records(policy)` draws valid records for one of them (text cells, unique ids).

Sizes stay small (a few declarations, expressions of a dozen leaves) so that a
hundred examples run in seconds.
"""

from __future__ import annotations

import functools
from decimal import Decimal

from hypothesis import strategies as st

from dsl.front import ast
from dsl.tools.fmt.exprs import _CONTEXTUAL, _leading_name
from dsl.front.syntax import PERIOD_KINDS, RESERVED, ROUNDING_MODES, keywords

TYPE_NAMES = ("money", "percent", "number", "count", "bool", "text", "id", "period")
CURRENCIES = ("USD", "EUR", "JPY")
COMPARE = ("<", "<=", ">", ">=", "==", "!=")
ARITH = ("+", "-", "*", "/")

# ---------------------------------------------------------------- leaves


_FIRST = "abcdefghijklmnopqrstuvwxyz_"
_REST = _FIRST + "0123456789"


def _not_reserved(name: str) -> str:
    return name + "_x" if name in keywords() else name


# §2a: the grammar's other words are names wherever a name fits (`target`, `weight`, `pool`)
CONTEXTUAL_WORDS = tuple(sorted(keywords() - RESERVED - {"eligible", "reasons"}))
_NAMES = st.one_of(
    st.builds(lambda a, b: _not_reserved(a + b), st.sampled_from(_FIRST), st.text(alphabet=_REST, max_size=11)),
    st.sampled_from(CONTEXTUAL_WORDS),
)


def names():
    """A snake_case name that is not a reserved word."""
    return _NAMES


def _module_names():
    # §2a: `pool` starts `pool AMOUNT by SHARE` wherever an expression starts: `pool.x` is not a name
    return _NAMES.filter(lambda n: n != "pool")


def _function_names():
    # `rank(...)` and `percentile(...)` are the builtins of §15 (ast.Rank), `pool(...)` a pool
    return _NAMES.filter(lambda n: n not in ("pool", "rank", "percentile"))


def _digit_text(max_int: int = 7, max_frac: int = 3):
    whole = st.one_of(st.just("0"), st.from_regex(r"[1-9][0-9]{0,%d}" % (max_int - 1), fullmatch=True))
    frac = st.one_of(st.just(""), st.from_regex(r"\.[0-9]{1,%d}" % max_frac, fullmatch=True))
    return st.tuples(whole, frac).map(lambda t: t[0] + t[1])


@functools.cache
def numbers():
    return _digit_text().map(lambda d: ast.Number(value=Decimal(d)))


@functools.cache
def percents():
    return _digit_text(3, 2).map(lambda d: ast.Percent(value=Decimal(d).scaleb(-2)))


@functools.cache
def moneys():
    return st.builds(lambda d, c: ast.Money(amount=Decimal(d), currency=c), _digit_text(), st.sampled_from(CURRENCIES))


@functools.cache
def string_values():
    return st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=12)


@functools.cache
def strings():
    return string_values().map(lambda v: ast.String(value=v))


@functools.cache
def leaves():
    return st.one_of(
        numbers(), percents(), moneys(), strings(),
        st.builds(lambda v: ast.Bool(value=v), st.booleans()),
        names().map(lambda n: ast.Name(name=n)),
        st.builds(lambda m, n: ast.Qualified(module=m, name=n), _module_names(), names()),
        st.just(ast.TotalRef()),
    )


@functools.cache
def patterns():
    return st.one_of(
        names().map(lambda n: ast.Pattern(kind="name", name=n)),
        st.sampled_from([ast.Pattern(kind="true"), ast.Pattern(kind="false"), ast.Pattern(kind="else")]),
    )


def _extend(children):
    small = st.lists(children, min_size=0, max_size=3).map(tuple)
    some = st.lists(children, min_size=1, max_size=3).map(tuple)
    return st.one_of(
        st.builds(lambda op, a, b: ast.Binary(op=op, left=a, right=b),
                  st.sampled_from(ARITH + COMPARE + ("and", "or")), children, children),
        st.builds(lambda op, x: ast.Unary(op=op, operand=x), st.sampled_from(["-", "not"]), children),
        st.builds(lambda a, b: ast.Otherwise(expr=a, fallback=b), children, children),
        st.builds(lambda f, args, m: ast.Call(func=f, args=args, module=m), _function_names(), small,
                  st.one_of(st.none(), _module_names())),
        st.builds(lambda x, items: ast.Member(operand=x, items=items), children, some),
        st.builds(lambda c, a, b: ast.If(cond=c, then=a, otherwise=b), children, children, children),
        st.builds(lambda s, arms: ast.Match(subject=s, arms=arms), children,
                  st.lists(st.builds(lambda ps, v: ast.Arm(patterns=ps, value=v),
                                     st.lists(patterns(), min_size=1, max_size=3).map(tuple), children),
                           min_size=0, max_size=3).map(tuple)),
        st.builds(lambda a, s, c: ast.Pool(amount=a, share=s, among=c), children, children,
                  st.one_of(st.none(), children)),
        st.builds(lambda k, v, c: ast.Rank(kind=k, value=v, among=c), st.sampled_from(["rank", "percentile"]),
                  children, st.one_of(st.none(), children)),
        small.map(lambda items: ast.ListLit(items=items)),
    )


@functools.cache
def expressions(max_leaves: int = 12):
    """Any expression the parser can produce."""
    return st.recursive(leaves(), _extend, max_leaves=max_leaves)


# ---------------------------------------------------------------- declarations


@functools.cache
def type_refs():
    return st.one_of(
        st.sampled_from(TYPE_NAMES).map(lambda n: ast.TypeRef(name=n)),
        names().filter(lambda n: n != "enum").map(lambda n: ast.TypeRef(name=n)),  # `enum` starts `enum(...)`
        st.lists(names(), min_size=1, max_size=4).map(lambda ms: ast.TypeRef(name="enum", members=tuple(ms))),
    )


@functools.cache
def _signed_literals():
    lit = st.one_of(numbers(), percents(), moneys())
    return st.one_of(lit, lit.map(lambda x: ast.Unary(op="-", operand=x)))


@functools.cache
def ranges():
    return st.builds(lambda lo, hi: ast.Range(lo=lo, hi=hi),
                     st.one_of(st.none(), _signed_literals()), st.one_of(st.none(), _signed_literals()))


@functools.cache
def requires():
    return st.builds(lambda c, r: ast.Require(cond=c, reason=r), expressions(6), string_values())


@functools.cache
def floors():
    return st.builds(lambda v, r: ast.Floor(value=v, recoverable=r), expressions(4), st.booleans())


@functools.cache
def caps():
    return st.builds(lambda v: ast.Cap(value=v), expressions(4))


@functools.cache
def modifiers():
    return st.one_of(
        requires(), floors(), caps(),
        st.builds(lambda p, u, w: ast.Hold(portion=p, until=u, within=w), expressions(3), expressions(4),
                  expressions(2)),
    )


def _opt(s):
    return st.one_of(st.none(), s)


@functools.cache
def _tiers():
    def build(name, key, mode, written, bands):
        return ast.Tiers(name=name, key=key, mode=mode if written else "flat", bands=bands, mode_written=written)

    band = st.builds(lambda k, t, v: ast.Band(kind=k, threshold=t, value=v), st.sampled_from(["below", "from"]),
                     expressions(3), expressions(4))
    return st.builds(build, names(), expressions(4), st.sampled_from(["flat", "marginal"]), st.booleans(),
                     st.lists(band, max_size=4).map(tuple))


@functools.cache
def declarations(module: bool = False):
    """One declaration; `module=True`: only what a module may hold (def, param, tiers)."""
    param = st.builds(lambda n, t, v: ast.Param(name=n, type=t, value=v), names(), type_refs(), expressions())
    def_ = st.builds(
        lambda n, ps, r, b: ast.Def(name=n, params=ps, returns=r, body=b), names(),
        st.lists(st.builds(lambda n, t: ast.DefParam(name=n, type=t), names(), type_refs()), max_size=3).map(tuple),
        type_refs(), expressions())
    if module:
        return st.one_of(param, def_, _tiers())
    measure = st.builds(lambda m, w, t, c: ast.Measure(metric=m, weight=w, target=t, cap=c),
                        expressions(3), expressions(2), expressions(2), _opt(expressions(2)))
    return st.one_of(
        names().map(lambda n: ast.Use(name=n)),
        st.builds(lambda n, t, r, d: ast.Input(name=n, type=t, range=r, default=d), names(), type_refs(),
                  _opt(ranges()), _opt(expressions(4))),
        param,
        st.builds(lambda n, t, v: ast.Metric(name=n, type=t, value=v), names(), _opt(type_refs()), expressions()),
        def_,
        _tiers(),
        st.builds(lambda n, ms: ast.Scorecard(name=n, measures=ms), names(),
                  st.lists(measure, max_size=3).map(tuple)),
        st.lists(requires(), max_size=3).map(lambda rs: ast.Eligibility(requires=tuple(rs))),
        st.builds(lambda k, n, v, ms: ast.Component(kind=k, name=n, value=v, modifiers=ms),
                  st.sampled_from(["component", "benefit"]), names(), expressions(),
                  st.lists(modifiers(), max_size=4).map(tuple)),
        st.builds(lambda n, w, c, r: ast.Clawback(component=n, within=w, when=c, recover=r), names(),
                  expressions(2), _opt(expressions(4)), _opt(expressions(4))),
        st.lists(st.one_of(floors(), caps()), max_size=3).map(lambda items: ast.Total(items=tuple(items))),
        st.lists(expressions(3).map(lambda a: ast.Budget(amount=a)), max_size=2).map(
            lambda bs: ast.Program(budgets=tuple(bs))),
    )


@functools.cache
def headers():
    return st.builds(
        lambda n, v, c, p, r: ast.Header(name=n, version=v, currency=c, period=p, rounding=r),
        string_values(), _opt(string_values()), _opt(st.sampled_from(CURRENCIES)),
        _opt(st.sampled_from(PERIOD_KINDS)), _opt(st.sampled_from(ROUNDING_MODES)))


@functools.cache
def policies(max_decls: int = 6):
    return st.builds(lambda h, ds: ast.PolicyFile(header=h, decls=ds), headers(),
                     st.lists(declarations(), max_size=max_decls).map(tuple))


@functools.cache
def modules(max_decls: int = 5):
    return st.builds(lambda n, ds: ast.ModuleFile(name=n, decls=ds), names(),
                     st.lists(declarations(module=True), max_size=max_decls).map(tuple))


@functools.cache
def _assigns(max_size: int = 3):
    return st.lists(st.builds(lambda n, v, p: ast.Assign(name=n, value=v, is_param=p), names(), expressions(4),
                              st.booleans()), max_size=max_size).map(tuple)


@functools.cache
def test_files(max_items: int = 3):
    given = st.one_of(
        st.builds(lambda f, o: ast.Given(fixture=f, overrides=o), names(), _assigns()),
        _assigns().map(lambda o: ast.Given(overrides=o)),
        st.lists(st.builds(lambda p, f, o: ast.PeriodGiven(period=p, fixture=f, overrides=o), string_values(),
                           names(), _assigns(2)), max_size=3).map(lambda ps: ast.Given(periods=tuple(ps))),
    )
    target = st.one_of(names().map(lambda n: (n, False)), st.just(("total", False)), names().map(lambda n: (n, True)))
    expect = st.one_of(
        st.builds(lambda p, t, v: ast.Expect(name=t[0], clawback=t[1], value=v, period=p),
                  _opt(string_values()), target, expressions(4)),
        st.builds(lambda p, e: ast.Expect(name=None, value=None, period=p, error=e), _opt(string_values()),
                  string_values()),
    )
    test = st.builds(lambda n, gs, es: ast.Test(name=n, givens=gs, expects=es), string_values(),
                     st.lists(given, max_size=2).map(tuple), st.lists(expect, max_size=3).map(tuple))
    fixture = st.builds(lambda n, fs: ast.Fixture(name=n, fields=fs), names(), _assigns())
    return st.builds(lambda t, fx, ts: ast.TestFile(target=t, fixtures=fx, tests=ts), string_values(),
                     st.lists(fixture, max_size=max_items).map(tuple), st.lists(test, max_size=max_items).map(tuple))


@functools.cache
def files():
    return st.one_of(policies(), modules(), test_files())


# ---------------------------------------------------------------- messy text


SEPARATORS = (" ", " ", " ", "\n", "  ", "\n  ", "\n\n", "\t", " #c\n", "\n# c\n\n")


class _Messy:
    """Writes a tree as tokens; `text()` joins them with the drawn separators."""

    def __init__(self, seps: list[str], flags: list[bool]):
        self.seps, self.flags = seps, flags
        self.tokens: list[str] = []
        self.k = 0
        self.f = 0
        self.comments: list[str] = []

    def flag(self) -> bool:
        self.f += 1
        return self.flags[self.f % len(self.flags)]

    def text(self) -> str:
        out = []
        for i, tok in enumerate(self.tokens):
            if i:
                sep = self.seps[i % len(self.seps)]
                if "#" in sep:
                    label = f"# note {len(self.comments)} \"quoted\" {{brace}}"
                    self.comments.append(label)
                    sep = sep.replace("#c", label).replace("# c", label)
                out.append(sep)
            out.append(tok)
        return "".join(out) + "\n"

    def t(self, *toks: str) -> None:
        self.tokens.extend(toks)

    def digits(self, value: Decimal) -> str:
        text = format(value, "f")
        out = []
        for i, ch in enumerate(text):
            if i and ch.isdigit() and text[i - 1].isdigit() and self.flag():
                out.append("_")
            out.append(ch)
        return "".join(out)

    def string(self, value: str) -> str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

    def comma(self) -> None:
        if self.flag():
            self.t(",")

    # -- expressions: every compound operand in parentheses, leaves sometimes too
    def sub(self, e: ast.Expr) -> None:
        leaf = isinstance(e, (ast.Number, ast.Percent, ast.Money, ast.String, ast.Bool, ast.Name,
                              ast.Qualified, ast.TotalRef, ast.Call, ast.ListLit, ast.Rank))
        if not leaf or self.flag():
            self.t("(")
            self.expr(e)
            self.t(")")
        else:
            self.expr(e)

    def literal(self, e: ast.Expr) -> None:
        match e:
            case ast.Number(value=v):
                self.t(self.digits(v))
            case ast.Percent(value=v):
                self.t(self.digits(v.scaleb(2)) + "%")
            case ast.Money(amount=v, currency=c):
                self.t(self.digits(v), c)
            case ast.Unary(op="-", operand=x):
                self.t("-")
                self.literal(x)
            case _:
                raise AssertionError(f"unhandled {type(e).__name__}")

    def items(self, items) -> None:
        for i, x in enumerate(items):
            if i:
                self.t(",")
            self.expr(x)
        if items and self.flag():
            self.t(",")

    def expr(self, e: ast.Expr) -> None:
        match e:
            case ast.Number() | ast.Percent() | ast.Money():
                self.literal(e)
            case ast.String(value=v):
                self.t(self.string(v))
            case ast.Bool(value=v):
                self.t("true" if v else "false")
            case ast.Name(name=n):
                self.t(*(("(", n, ")") if n == "pool" else (n,)))  # §2a, as `ipl fmt` writes it
            case ast.Qualified(module=m, name=n):
                self.t(m, ".", n)
            case ast.TotalRef():
                self.t("total")
            case ast.Call(func=f, args=args, module=m):
                if m is not None:
                    self.t(m, ".")
                self.t(f, "(")
                self.items(args)
                self.t(")")
            case ast.Unary(op=op, operand=x):
                self.t(op)
                self.sub(x)
            case ast.Binary(op=op, left=a, right=b):
                self.sub(a)
                self.t(op)
                self.sub(b)
            case ast.Otherwise(expr=a, fallback=b):
                self.sub(a)
                self.t("otherwise")
                self.sub(b)
            case ast.Member(operand=x, items=items):
                self.sub(x)
                self.t("in", "(")
                self.items(items)
                self.t(")")
            case ast.If(cond=c, then=a, otherwise=b):
                self.t("if")
                self.sub(c)
                self.t("then")
                self.sub(a)
                self.t("else")
                self.sub(b)
            case ast.Match(subject=s, arms=arms):
                self.t("match")
                self.sub(s)
                self.t("{")
                for arm in arms:
                    for i, p in enumerate(arm.patterns):
                        if i:
                            self.t("|")
                        self.t(p.name if p.kind == "name" else p.kind)
                    self.t("->")
                    self.sub(arm.value)
                    self.comma()
                self.t("}")
            case ast.Pool(amount=a, share=s, among=c):
                self.t("pool")
                if _leading_name(a) in _CONTEXTUAL:  # as `ipl fmt` writes it
                    self.t("(")
                    self.sub(a)
                    self.t(")")
                else:
                    self.sub(a)
                self.t("by")
                self.sub(s)
                if c is not None:
                    self.t("among")
                    self.sub(c)
            case ast.Rank(kind=k, value=v, among=c):
                self.t(k, "(")
                self.sub(v)
                if c is not None:
                    self.t("among")
                    self.sub(c)
                self.t(")")
            case ast.ListLit(items=items):
                self.t("[")
                self.items(items)
                self.t("]")
            case _:
                raise AssertionError(f"unhandled {type(e).__name__}")

    # -- declarations
    def type_ref(self, t: ast.TypeRef) -> None:
        if t.name == "enum":
            self.t("enum", "(")
            self.items_names(t.members)
            self.t(")")
        else:
            self.t(t.name)

    def items_names(self, names_: tuple[str, ...]) -> None:
        for i, n in enumerate(names_):
            if i:
                self.t(",")
            self.t(n)
        if self.flag():
            self.t(",")

    def modifier(self, m) -> None:
        match m:
            case ast.Require(cond=c, reason=r):
                self.t("require")
                self.sub(c)
                self.t("else", self.string(r))
            case ast.Floor(value=v, recoverable=rec):
                self.t("floor")
                self.sub(v)
                if rec:
                    self.t("recoverable")
            case ast.Cap(value=v):
                self.t("cap")
                self.sub(v)
            case ast.Hold(portion=p, until=u, within=w):
                self.t("hold")
                self.sub(p)
                self.t("until")
                self.sub(u)
                self.t("within")
                self.sub(w)
                self.t("periods" if self.flag() else "period")
            case _:
                raise AssertionError(f"unhandled {type(m).__name__}")

    def decl(self, d: ast.Decl) -> None:
        match d:
            case ast.Use(name=n):
                self.t("use", n)
            case ast.Input(name=n, type=t, range=r, default=dv):
                self.t("input", n, ":")
                self.type_ref(t)
                if r is not None:
                    self.t("in")
                    if r.lo is not None:
                        self.literal(r.lo)
                    self.t("..")
                    if r.hi is not None:
                        self.literal(r.hi)
                if dv is not None:
                    self.t("=")
                    self.sub(dv)
            case ast.Param(name=n, type=t, value=v):
                self.t("param", n, ":")
                self.type_ref(t)
                self.t("=")
                self.sub(v)
            case ast.Metric(name=n, type=t, value=v):
                self.t("metric", n)
                if t is not None:
                    self.t(":")
                    self.type_ref(t)
                self.t("=")
                self.sub(v)
            case ast.Def(name=n, params=ps, returns=r, body=b):
                self.t("def", n, "(")
                for i, p in enumerate(ps):
                    if i:
                        self.t(",")
                    self.t(p.name, ":")
                    self.type_ref(p.type)
                self.t(")", "->")
                self.type_ref(r)
                self.t("=")
                self.sub(b)
            case ast.Tiers(name=n, key=k, mode=mode, bands=bands, mode_written=w):
                self.t("tiers", n, "on")
                self.sub(k)
                if w:
                    self.t(mode)
                self.t("{")
                for b in bands:
                    self.t(b.kind)
                    self.sub(b.threshold)
                    self.t("->")
                    self.sub(b.value)
                    self.comma()
                self.t("}")
            case ast.Scorecard(name=n, measures=ms):
                self.t("scorecard", n, "{")
                for i, m in enumerate(ms):
                    if i:
                        self.t(",")  # a measure may start with `(`: the comma ends the previous one
                    self.sub(m.metric)
                    self.t("weight")
                    self.sub(m.weight)
                    self.t("target")
                    self.sub(m.target)
                    if m.cap is not None:
                        self.t("cap")
                        self.sub(m.cap)
                if ms:
                    self.comma()
                self.t("}")
            case ast.Eligibility(requires=rs):
                self.t("eligibility", "{")
                for r in rs:
                    self.modifier(r)
                self.t("}")
            case ast.Component(kind=k, name=n, value=v, modifiers=ms):
                self.t(k, n, "=")
                self.sub(v)
                for m in ms:
                    self.modifier(m)
            case ast.Clawback(component=n, within=w, when=c, recover=r):
                self.t("clawback", n, "within")
                self.sub(w)
                self.t("periods")
                if c is not None:
                    self.t("when")
                    self.sub(c)
                if r is not None:
                    self.t("recover")
                    self.sub(r)
            case ast.Total(items=items):
                self.t("total", "{")
                for m in items:
                    self.modifier(m)
                self.t("}")
            case ast.Program(budgets=bs):
                self.t("program", "{")
                for b in bs:
                    self.t("budget")
                    self.sub(b.amount)
                    self.t("per", "period")
                self.t("}")
            case _:
                raise AssertionError(f"unhandled {type(d).__name__}")

    def assigns(self, items: tuple[ast.Assign, ...]) -> None:
        for a in items:
            if a.is_param:
                self.t("param")
            self.t(a.name, "=")
            self.sub(a.value)
            self.comma()

    def file(self, f: ast.File) -> None:
        match f:
            case ast.PolicyFile(header=h, decls=ds):
                self.t("policy", self.string(h.name))
                fields = [("version", None if h.version is None else self.string(h.version)), ("currency", h.currency),
                          ("period", h.period), ("rounding", h.rounding)]
                if self.flag():
                    fields.reverse()
                for key, value in fields:
                    if value is not None:
                        self.t(key, value)
                for d in ds:
                    self.decl(d)
            case ast.ModuleFile(name=n, decls=ds):
                self.t("module", n)
                for d in ds:
                    self.decl(d)
            case ast.TestFile(target=target, fixtures=fixtures, tests=tests):
                self.t("tests", "for", self.string(target))
                items = list(fixtures) + list(tests)
                if self.flag():  # interleave: the tree keeps fixtures and tests apart anyway
                    items = [x for pair in zip(tests, fixtures) for x in pair] + list(tests[len(fixtures):]) \
                        + list(fixtures[len(tests):])
                for item in items:
                    if isinstance(item, ast.Fixture):
                        self.t("fixture", item.name, "{")
                        self.assigns(item.fields)
                        self.t("}")
                    else:
                        self.test(item)
            case _:
                raise AssertionError(f"unhandled {type(f).__name__}")

    def test(self, t: ast.Test) -> None:
        self.t("test", self.string(t.name), "{")
        for g in t.givens:
            if g.periods:
                self.t("given", "periods", "{")
                for p in g.periods:
                    self.t(self.string(p.period), "->", p.fixture)
                    if p.overrides:
                        self.t("with", "{")
                        self.assigns(p.overrides)
                        self.t("}")
                    self.comma()
                self.t("}")
            elif g.fixture is not None:
                self.t("given", g.fixture)
                if g.overrides or self.flag():
                    self.t("with", "{")
                    self.assigns(g.overrides)
                    self.t("}")
            else:
                self.t("given", "{")
                self.assigns(g.overrides)
                self.t("}")
        for e in t.expects:
            self.t("expect")
            if e.period is not None:
                self.t("in", self.string(e.period))
            if e.error is not None:
                self.t("error", self.string(e.error))
                continue
            if e.clawback:
                self.t("clawback")
            self.t(e.name, "=")
            self.sub(e.value)
        self.t("}")


@st.composite
def messy_text(draw, file: ast.File) -> tuple[str, list[str]]:
    """A text whose tree is `file`, laid out at random; and the comment texts it holds."""
    seps = draw(st.lists(st.sampled_from(SEPARATORS), min_size=1, max_size=40))
    flags = draw(st.lists(st.booleans(), min_size=1, max_size=40))
    writer = _Messy(seps, flags)
    writer.file(file)
    text = writer.text()
    return text, writer.comments


@st.composite
def messy_files(draw, kinds=None) -> tuple[ast.File, str, list[str]]:
    """A random file: its tree, a messy text of it, and the comments in that text."""
    tree = draw(kinds if kinds is not None else files())
    text, comments = draw(messy_text(tree))
    return tree, text, comments


# ---------------------------------------------------------------- typed policies (they check clean)


class _Typed:
    """Draws well-typed expressions over the names declared so far (§4.1's table, a safe subset)."""

    def __init__(self, draw):
        self.draw = draw
        self.names: dict[str, list[str]] = {"money": [], "percent": [], "number": [], "bool": []}
        self.members: tuple[str, ...] = ()
        self.enum_input: str | None = None

    def lit(self, kind: str) -> ast.Expr:
        d = self.draw
        match kind:
            case "money":
                return ast.Money(amount=Decimal(d(st.sampled_from(["0", "100", "2_500", "10_000", "99.95"])).replace("_", "")),
                                 currency="USD")
            case "percent":
                return ast.Percent(value=Decimal(d(st.sampled_from(["0", "2", "5", "10", "12.5", "50", "100"]))).scaleb(-2))
            case "number":
                return ast.Number(value=Decimal(d(st.sampled_from(["0", "1", "2", "3.5", "10", "60"]))))
            case "bool":
                return ast.Bool(value=d(st.booleans()))
            case _:
                raise AssertionError(kind)

    def leaf(self, kind: str) -> ast.Expr:
        pool = self.names[kind]
        if pool and self.draw(st.integers(0, 2)):
            return ast.Name(name=self.draw(st.sampled_from(pool)))
        return self.lit(kind)

    def expr(self, kind: str, depth: int = 2) -> ast.Expr:
        if depth <= 0:
            return self.leaf(kind)
        d, sub = self.draw, (lambda k: self.expr(k, depth - 1))
        choice = d(st.integers(0, 6))
        match kind, choice:
            case ("money" | "percent" | "number"), 0:
                return ast.Binary(op=d(st.sampled_from(["+", "-"])), left=sub(kind), right=sub(kind))
            case "money", 1:
                return ast.Binary(op="*", left=sub("money"), right=sub(d(st.sampled_from(["percent", "number"]))))
            case ("percent" | "number"), 1:
                return ast.Binary(op="*", left=sub(kind), right=sub("number"))
            case "percent", 2:
                return ast.Otherwise(expr=ast.Binary(op="/", left=sub("money"), right=sub("money")),
                                     fallback=self.lit("percent"))
            case ("money" | "percent" | "number"), 2:
                return ast.Call(func=d(st.sampled_from(["min", "max"])), args=(sub(kind), sub(kind)))
            case ("money" | "percent" | "number"), 3:
                return ast.If(cond=sub("bool"), then=sub(kind), otherwise=sub(kind))
            case ("money" | "percent" | "number"), 4 if self.enum_input is not None:
                a, *rest = self.members
                arms = [ast.Arm(patterns=(ast.Pattern(kind="name", name=a),), value=sub(kind))]
                if rest:
                    arms.append(ast.Arm(patterns=(ast.Pattern(kind="else"),), value=sub(kind)))
                return ast.Match(subject=ast.Name(name=self.enum_input), arms=tuple(arms))
            case "bool", 0 | 1:
                k = d(st.sampled_from(["money", "percent", "number"]))
                return ast.Binary(op=d(st.sampled_from(COMPARE)), left=sub(k), right=sub(k))
            case "bool", 2:
                return ast.Binary(op=d(st.sampled_from(["and", "or"])), left=sub("bool"), right=sub("bool"))
            case "bool", 3:
                return ast.Unary(op="not", operand=sub("bool"))
            case "bool", 4 if self.enum_input is not None:
                return ast.Member(operand=ast.Name(name=self.enum_input),
                                  items=(ast.Name(name=d(st.sampled_from(self.members))),))
            case _:
                return self.leaf(kind)


@st.composite
def typed_policies(draw, max_metrics: int = 4, max_components: int = 3) -> ast.PolicyFile:
    """A single-period policy that `ipl check` accepts (warnings such as W100 aside): an `id`
    input, money/percent/number/bool/enum inputs with ranges, params, metrics, a flat tier table
    with a `below` band, eligibility, components with caps above their floors, a total.
    Names are `in_money_0`, `rate_0`, `m_0`, `tier_0`, `c_0`...: they never collide."""
    t = _Typed(draw)
    decls: list[ast.Decl] = [ast.Input(name="partner_id", type=ast.TypeRef(name="id"))]
    zero_usd = ast.Money(amount=Decimal(0), currency="USD")
    for i in range(draw(st.integers(1, 3))):
        name = f"in_money_{i}"
        decls.append(ast.Input(name=name, type=ast.TypeRef(name="money"), range=ast.Range(lo=zero_usd, hi=None)))
        t.names["money"].append(name)
    if draw(st.booleans()):
        decls.append(ast.Input(name="in_score", type=ast.TypeRef(name="number"),
                               range=ast.Range(lo=ast.Number(value=Decimal(0)), hi=ast.Number(value=Decimal(100)))))
        t.names["number"].append("in_score")
    if draw(st.booleans()):
        decls.append(ast.Input(name="in_share", type=ast.TypeRef(name="percent"),
                               range=ast.Range(lo=ast.Percent(value=Decimal(0)), hi=ast.Percent(value=Decimal(1)))))
        t.names["percent"].append("in_share")
    if draw(st.booleans()):
        decls.append(ast.Input(name="in_flag", type=ast.TypeRef(name="bool"), default=ast.Bool(value=False)))
        t.names["bool"].append("in_flag")
    if draw(st.booleans()):
        t.members = tuple(draw(st.lists(st.sampled_from(["gold", "silver", "bronze", "direct"]), min_size=1,
                                        max_size=3, unique=True)))
        t.enum_input = "in_segment"
        decls.append(ast.Input(name="in_segment", type=ast.TypeRef(name="enum", members=t.members)))
    for i in range(draw(st.integers(0, 2))):
        decls.append(ast.Param(name=f"rate_{i}", type=ast.TypeRef(name="percent"), value=t.lit("percent")))
        t.names["percent"].append(f"rate_{i}")
    for i in range(draw(st.integers(0, max_metrics))):
        kind = draw(st.sampled_from(["money", "percent", "number", "bool"]))
        decls.append(ast.Metric(name=f"m_{i}", type=ast.TypeRef(name=kind), value=t.expr(kind)))
        t.names[kind].append(f"m_{i}")
    if draw(st.booleans()):
        steps = sorted(set(draw(st.lists(st.integers(0, 150), min_size=1, max_size=4))))
        bands = [ast.Band(kind="below", threshold=ast.Percent(value=Decimal(steps[0]).scaleb(-2)),
                          value=ast.Percent(value=Decimal(0)))]
        bands += [ast.Band(kind="from", threshold=ast.Percent(value=Decimal(s).scaleb(-2)),
                           value=ast.Percent(value=Decimal(i + 1).scaleb(-2))) for i, s in enumerate(steps)]
        decls.append(ast.Tiers(name="tier_0", key=t.expr("percent", 1), mode="flat", bands=tuple(bands)))
        t.names["percent"].append("tier_0")
    if draw(st.booleans()):
        decls.append(ast.Eligibility(requires=tuple(
            ast.Require(cond=t.expr("bool", 1), reason=f"reason {i}") for i in range(draw(st.integers(1, 2))))))
    for i in range(draw(st.integers(1, max_components))):
        mods: list = []
        if draw(st.booleans()):
            mods.append(ast.Require(cond=t.expr("bool", 1), reason=f"component {i} gate"))
        if draw(st.booleans()):
            mods.append(ast.Floor(value=ast.Money(amount=Decimal(draw(st.sampled_from([0, 50, 100]))), currency="USD")))
        if draw(st.booleans()):
            mods.append(ast.Cap(value=ast.Money(amount=Decimal(draw(st.sampled_from([1_000, 25_000]))), currency="USD")))
        decls.append(ast.Component(kind="component", name=f"c_{i}", value=t.expr("money"), modifiers=tuple(mods)))
    if draw(st.booleans()):
        decls.append(ast.Total(items=(ast.Floor(value=zero_usd),
                                      ast.Cap(value=ast.Money(amount=Decimal(1_000_000), currency="USD")))))
    header = ast.Header(name="Generated", currency="USD",
                        rounding=draw(st.one_of(st.none(), st.sampled_from(ROUNDING_MODES))))
    return ast.PolicyFile(header=header, decls=tuple(decls))


@st.composite
def typed_records(draw, policy: ast.PolicyFile, max_size: int = 5) -> list[dict[str, str]]:
    """Valid records (text cells, as read from CSV) for a policy of `typed_policies`; unique ids."""
    rows = []
    for n in range(draw(st.integers(1, max_size))):
        row = {}
        for d in policy.decls:
            if not isinstance(d, ast.Input):
                continue
            match d.type.name:
                case "id":
                    row[d.name] = f"P-{n:04d}"
                case "money":
                    row[d.name] = draw(st.sampled_from(["0", "0.01", "150", "2500.50", "40000", "1000000"]))
                case "number":
                    row[d.name] = draw(st.sampled_from(["0", "35", "60", "99.5", "100"]))
                case "percent":
                    row[d.name] = draw(st.sampled_from(["0%", "12.5%", "0.5", "100%"]))
                case "bool":
                    row[d.name] = draw(st.sampled_from(["true", "false"]))
                case "enum":
                    row[d.name] = draw(st.sampled_from(d.type.members))
                case _:
                    raise AssertionError(d.type.name)
        rows.append(row)
    return rows
