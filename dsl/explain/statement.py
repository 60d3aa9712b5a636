"""Statements: why one partner is paid what it is (spec §1.4, §6.1, §8, §12 `explain`).

Receives a compiled policy and one record's trace tree (dsl/trace.py).
Guarantees a `Statement` whose lines — the components, then the total's floor
and cap adjustments as signed lines — add up exactly to the total (checked:
a statement that does not add up is a bug, `AssertionError`), each with the
source it came from, the values it used and what decided it (band, cap or
floor that bound, failed gates); benefits listed apart (not summed); and, for
every flat table the record went through, the distance to the next band and
what that band gives. Renders text, JSON and one self-contained HTML page
(inline CSS, no external assets, no scripts). Emits no diagnostics.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from decimal import Decimal

from dsl.backends.python.compiled import CompiledPolicy
from dsl.backends.python.runtime import fmt_decimal
from dsl.checker.types import Kind, Type


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


# ------------------------------------------------------------------ values for people


class _Fmt:
    def __init__(self, compiled: CompiledPolicy):
        self.c = compiled
        self.money = compiled.money

    def type_of(self, name: str) -> Type | None:
        d = self.c.program.definitions.get(name)
        return d.type if d is not None else None

    def value(self, v, t: Type | None) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, Decimal):
            kind = t.kind if t is not None else Kind.NUMBER
            if kind is Kind.MONEY:
                return self.money.display(v)
            if kind is Kind.PERCENT:
                return f"{_short(v * 100)}%"
            return _short(v)
        if v is None:
            return "∞"
        return str(v)

    def named(self, name: str, v) -> str:
        return self.value(v, self.type_of(name))

    def title(self, name: str) -> str:
        """§2a: a definition's label, or its name."""
        d = self.c.program.definitions.get(name)
        return d.title if d is not None else name

    def description(self, name: str) -> str:
        d = self.c.program.definitions.get(name)
        return d.description if d is not None else ""

    def values(self, values: dict) -> dict[str, str]:
        """The values a condition read, for people: `{"csat": "3"}`."""
        return {k: self.named(k, v) for k, v in values.items()}

    def distance(self, d: Decimal, t: Type | None) -> str:
        kind = t.kind if t is not None else Kind.NUMBER
        if kind is Kind.PERCENT:
            pts = _short(d * 100)
            return f"{pts} point{'s' if pts != '1' else ''}"
        if kind is Kind.MONEY:
            return self.money.display(d)
        return _short(d)


def _short(v: Decimal) -> str:
    """A display value: at most 4 decimals for intermediates (§9: the JSON keeps every digit)."""
    q = v.quantize(Decimal("0.0001")) if v.as_tuple().exponent < -4 and abs(v) < Decimal("1e20") else v
    return fmt_decimal(q)


# ------------------------------------------------------------------ building a statement


def build(compiled: CompiledPolicy, tree: dict, record: dict | None = None) -> Statement:
    """The statement of one record's trace tree; with `record`, each next band says what it
    would pay (the record evaluated again with that band's value)."""
    f = _Fmt(compiled)
    header = compiled.program
    lines: list[Line] = []
    next_bands: list[str] = []
    seen_tables: set[str] = set()

    def collect_bands(node: dict) -> None:
        name = node.get("name")
        if "lookup" in node and name not in seen_tables:
            seen_tables.add(name)
            text = _lookup_text(f, compiled, node)
            if text and record is not None and node["lookup"].get("next"):
                text += _what_if_text(f, compiled, tree, record, name, node["lookup"]["band"])
            if text:
                next_bands.append(text)
        if "marginal" in node and name not in seen_tables:
            seen_tables.add(name)
            text = _marginal_next(f, compiled, node)
            if text:
                next_bands.append(text)
        for child in node.get("uses", ()):
            collect_bands(child)

    for node in tree["components"]:
        lines.append(_line(f, node, "component"))
        collect_bands(node)
    if not tree["components"] and not tree["eligible"]:
        for c in compiled.components:
            lines.append(Line(c.name, "component", Decimal(0).quantize(compiled.money.q),
                              ["not computed: the partner is not eligible"], label=f.title(c.name),
                              description=f.description(c.name)))
    t = tree["total"]
    if t["floor_adjustment"] != 0:
        bound = next((x for x in t["floors"] if x["value"] == t["sum"] + t["floor_adjustment"]), None)
        lines.append(Line("total floor", "floor", t["floor_adjustment"],
                          [f"the components add up to {f.money.display(t['sum'])}; `floor {bound['floor'] if bound else ''}` "
                           f"raises the total to {f.money.display(t['sum'] + t['floor_adjustment'])}"]))
    if t["cap_adjustment"] != 0:
        before = t["sum"] + t["floor_adjustment"]
        bound = next((x for x in t["caps"] if x["value"] == t["total"]), None)
        lines.append(Line("total cap", "cap", t["cap_adjustment"],
                          [f"the lines above add up to {f.money.display(before)}; `cap {bound['cap'] if bound else ''}` "
                           f"limits the total to {f.money.display(t['total'])}"]))
    computed = {node["name"]: _line(f, node, "benefit") for node in tree["benefits"]}
    benefits = []
    for b in compiled.benefits:  # declaration order
        if b.name in computed:
            benefits.append(computed[b.name])
        elif not tree["eligible"]:  # §8: money 0, bool false (levels are computed and kept)
            value = {Kind.BOOL: False, Kind.MONEY: Decimal(0).quantize(compiled.money.q)}.get(b.type.kind, Decimal(0))
            benefits.append(Line(b.name, "benefit", value, ["not computed: the partner is not eligible"],
                                 label=f.title(b.name), description=f.description(b.name)))
    for node in tree["benefits"]:
        collect_bands(node)
    for node in tree.get("other", ()):
        collect_bands(node)
    st = Statement(policy=header.name, version=header.version, currency=compiled.program.currency, id=tree["id"],
                   row=tree["row"], eligible=tree["eligible"], reasons=list(tree["reasons"]), lines=lines,
                   total=t["total"], benefits=benefits, next_bands=next_bands, tree=tree,
                   failed=[(g["reason"], f.values(g.get("values", {}))) for g in tree.get("eligibility", ())
                           if not g["passed"]])
    if not st.adds_up():
        raise AssertionError(f"statement of {st.id} does not add up")
    return st


def _line(f: _Fmt, node: dict, kind: str) -> Line:
    name = node["name"]
    t = f.type_of(name)
    why: list[str] = []
    steps = node.get("steps", {})
    ops = node.get("operands", {})
    expr = node.get("expression") or node["source"]
    failed = steps.get("failed")
    if failed:
        why.append("0 because " + "; ".join(f"`{g['condition']}` is false{_with_values(f.values(g.get('values', {})))}: "
                                             f"{g['reason']}" for g in steps["gates"] if not g["passed"]))
    else:
        if ops:
            why.append(f"{expr}, with " + ", ".join(f"{k} = {f.named(k, v)}" for k, v in ops.items()))
        else:
            why.append(expr)
        for use in node.get("uses", ()):
            why.extend(_why_use(f, use))
        if "raw" in steps:
            raw, before = steps["raw"], steps["before_rounding"]
            if steps.get("cap_bound"):
                why.append(f"{f.value(raw, t)} is capped by `cap {steps['cap_bound']}` at {f.value(before, t)}")
            elif steps.get("floor_bound"):
                why.append(f"{f.value(raw, t)} is raised by `floor {steps['floor_bound']}` to {f.value(before, t)}")
            else:
                for c in steps.get("caps", ()):
                    why.append(f"`cap {c['cap']}` ({f.value(c['value'], t)}) does not bind")
            if t is not None and t.kind is Kind.MONEY and before != node["value"]:
                why.append(f"{fmt_decimal(before)} rounded to {f.value(node['value'], t)}")
    return Line(name, kind, node["value"], why, node["source"], node["location"], label=f.title(name),
                description=f.description(name))


def _with_values(values: dict[str, str]) -> str:
    """` (csat = 3, min_csat = 3.5)`: the values a failed condition read."""
    return f" ({', '.join(f'{k} = {v}' for k, v in values.items())})" if values else ""


def _why_use(f: _Fmt, node: dict, depth: int = 0) -> list[str]:
    """One line per definition read: metrics and tables explain themselves."""
    if "ref" in node or depth > 3:
        return []
    name = node["name"]
    out = []
    if "lookup" in node:
        lk = node["lookup"]
        if lk:
            out.append(f"{f.title(name)}: {_key_name(node)} {f.value(lk['key'], _key_type(f, node))} is in "
                       f"{_bounds(f, node, lk['lo'], lk['hi'])} → {f.named(name, node['value'])}")
    elif "marginal" in node:
        parts = [p for p in node["marginal"]["parts"] if p["width"] != 0]
        kt = _key_type(f, node)
        text = " + ".join(f"{_short(p['width'])} × {f.value(p['rate'], _rate_type(f, node))}" for p in parts) or "0"
        out.append(f"{f.title(name)}: {_key_name(node)} {f.value(node['marginal']['key'], kt)} → {text} = "
                   f"{f.named(name, node['value'])}")
    elif "scorecard" in node:
        # a measure's attainment is named as such: `renewal_rate 110 %` would read as its value
        parts = ", ".join(f"{p['measure']} attainment {_short(p['attainment_used'] * 100)}% × weight "
                          f"{_short(p['weight'] * 100)}%" for p in node["scorecard"])
        out.append(f"{f.title(name)}: {parts} = {f.named(name, node['value'])}")
    elif node.get("kind") in ("metric",):
        out.append(f"{f.title(name)} = {f.named(name, node['value'])}")
    for use in node.get("uses", ()):
        out.extend(_why_use(f, use, depth + 1))
    return out


def _key_name(node: dict) -> str:
    return node.get("expression") or "key"


def _key_type(f: _Fmt, node: dict) -> Type | None:
    table = f.c.tables.get(node["name"])
    return table.key_type if table else None


def _rate_type(f: _Fmt, node: dict) -> Type | None:
    table = f.c.tables.get(node["name"])
    return table.rate_type if table else None


def _bounds(f: _Fmt, node: dict, lo, hi) -> str:
    kt = _key_type(f, node)
    left = "(-∞" if lo is None else f"[{f.value(lo, kt)}"
    right = "∞)" if hi is None else f"{f.value(hi, kt)})"
    return f"{left}, {right}"


def _lookup_text(f: _Fmt, compiled: CompiledPolicy, node: dict) -> str | None:
    lk = node.get("lookup")
    if not lk:
        return None
    name = node["name"]
    kt = _key_type(f, node)
    here = (f"{f.title(name)}: {_key_name(node)} {f.value(lk['key'], kt)} is in {_bounds(f, node, lk['lo'], lk['hi'])}"
            f" → {f.named(name, node['value'])}")
    nxt = lk.get("next")
    if not nxt:
        return here + "; this is the top band"
    value = f.named(name, nxt["value"]) if nxt["value"] is not None else f"`{nxt['value_text']}`"
    return (f"{here}; {f.distance(nxt['distance'], kt)} below the next band "
            f"{_bounds(f, node, nxt['lo'], nxt['hi'])} → {value}")


def _what_if_text(f: _Fmt, compiled: CompiledPolicy, tree: dict, record: dict, table: str, band: int) -> str:
    res = next_band_what_if(compiled, record, table, band)
    if res is None or not res.eligible or not tree["eligible"]:
        return ""
    now = {n["name"]: n["value"] for n in tree["components"]}
    moved = []
    for c, value in zip(compiled.components, res.components):
        if c.name in now and value != now[c.name]:
            moved.append(f"{f.title(c.name)} {f.money.display(value)} ({_signed(f, value - now[c.name])})")
    total = tree["total"]["total"]
    if not moved and res.total == total:
        return "; in that band, all else equal, the payout would not change"
    moved.append(f"total {f.money.display(res.total)} ({_signed(f, res.total - total)})")
    return "; in that band, all else equal: " + ", ".join(moved)


def _signed(f: _Fmt, d: Decimal) -> str:
    return ("+" if d >= 0 else "") + f.money.display(d)


def _marginal_next(f: _Fmt, compiled: CompiledPolicy, node: dict) -> str | None:
    m = node["marginal"]
    nxt = m.get("next")
    kt = _key_type(f, node)
    if not nxt:
        return None
    return (f"{f.title(node['name'])}: {_key_name(node)} {f.value(m['key'], kt)} is {f.distance(nxt['distance'], kt)} "
            f"below the next band from {f.value(nxt['lo'], kt)}, where each unit earns "
            f"{f.value(nxt['value'], _rate_type(f, node))}")


# ------------------------------------------------------------------ rendering


def render_text(st: Statement, compiled: CompiledPolicy) -> str:
    m = compiled.money
    width = max([len(line.title) for line in st.lines + st.benefits] + [len("total")])
    amt = max([len(m.display(x.amount)) for x in st.lines] + [len(m.display(st.total))]
              + [len(_benefit_value(compiled, x)) for x in st.benefits])  # a level or a flag is no amount
    title = f"Statement: {st.policy}" + (f" ({st.version})" if st.version else "")
    out = [title, f"Partner {st.id} (record {st.row}): {'eligible' if st.eligible else 'NOT eligible'}"]
    if not st.eligible:
        out.append("Not paid because:")
        out += [f"  - {r}{_with_values(values)}" for r, values in st.failed] or [f"  - {r}" for r in st.reasons]
    out.append("")
    for line in st.lines:
        out.append(f"  {line.title.ljust(width)}  {m.display(line.amount).rjust(amt)}")
        out += [f"  {'':{width}}    {w}" for w in line.why]
    out.append(f"  {'-' * (width + amt + 2)}")
    out.append(f"  {'total'.ljust(width)}  {m.display(st.total).rjust(amt)}")
    if st.benefits:
        out += ["", "Benefits (not part of the total):"]
        for line in st.benefits:
            out.append(f"  {line.title.ljust(width)}  {_benefit_value(compiled, line).rjust(amt)}")
            out += [f"  {'':{width}}    {w}" for w in line.why]
    if st.next_bands:
        out += ["", "What would move the partner into the next band:"]
        out += [f"  - {t}" for t in st.next_bands]
    return "\n".join(out) + "\n"


def _benefit_value(compiled: CompiledPolicy, line: Line) -> str:
    f = _Fmt(compiled)
    return f.named(line.name, line.amount)


def render_json(st: Statement, compiled: CompiledPolicy) -> str:
    from dsl.run.outputs import dumps

    def line_json(line: Line) -> dict:
        return {"name": line.name, "label": line.title, "description": line.description, "kind": line.kind,
                "amount": line.amount, "why": line.why, "source": line.source, "location": line.location}

    return dumps({
        "policy": st.policy, "version": st.version, "currency": st.currency, "id": st.id, "row": st.row,
        "eligible": st.eligible, "reasons": st.reasons,
        "failed_gates": [{"reason": r, "values": v} for r, v in st.failed],
        "lines": [line_json(x) for x in st.lines], "total": st.total,
        "benefits": [line_json(x) for x in st.benefits],
        "next_bands": st.next_bands,
        "trace": st.tree,
    }, indent=2) + "\n"


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1d2733;
background:#f4f6f9;margin:0;padding:32px}
main{max-width:860px;margin:0 auto;background:#fff;border-radius:10px;box-shadow:0 1px 4px rgba(0,0,0,.12);
padding:32px 40px}
h1{font-size:22px;margin:0 0 4px}
.sub{color:#5b6b7c;margin:0 0 24px}
.badge{display:inline-block;padding:2px 10px;border-radius:12px;font-size:13px;font-weight:600}
.ok{background:#e3f4e8;color:#1c6b34}.no{background:#fbe4e4;color:#9b1c1c}
table{width:100%;border-collapse:collapse;margin:8px 0 24px}
th{text-align:left;font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:#5b6b7c;
border-bottom:2px solid #d8dee6;padding:6px 8px}
td{padding:10px 8px;border-bottom:1px solid #e8ecf1;vertical-align:top}
td.amt,th.amt{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
td.name{width:100%}
.lname{font-weight:600;white-space:nowrap}
.desc{color:#45556a;font-size:13px;margin:2px 0}
td.amt{font-weight:600}
.why{color:#45556a;font-size:13px;font-weight:400;margin:2px 0 0;padding-left:18px;overflow-wrap:anywhere}
div.why{padding-left:0}
.why li{margin:2px 0}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;background:#f1f3f6;
padding:1px 4px;border-radius:3px;white-space:pre-wrap;overflow-wrap:anywhere}
tr.total td{border-top:2px solid #1d2733;border-bottom:none;font-weight:700;font-size:17px}
tr.adj .lname{color:#8a5a00}
h2{font-size:16px;margin:24px 0 4px}
ul.next{padding-left:20px}ul.next li{margin:4px 0}
footer{color:#8593a3;font-size:12px;margin-top:24px}
"""


def render_html(st: Statement, compiled: CompiledPolicy) -> str:
    m = compiled.money
    e = html.escape

    def rows(lines: list[Line], benefit: bool = False) -> str:
        out = []
        for line in lines:
            amount = _benefit_value(compiled, line) if benefit else m.display(line.amount)
            why = "".join(f"<li>{_code(e(w))}</li>" for w in line.why)
            cls = ' class="adj"' if line.kind in ("floor", "cap") else ""
            src = f'<div class="why"><code>{e(line.source)}</code></div>' if line.source else ""
            desc = f'<div class="desc">{e(line.description)}</div>' if line.description else ""
            out.append(f'<tr{cls}><td class="name"><div class="lname" title="{e(line.name)}">{e(line.title)}</div>{desc}'
                       f'{src}<ul class="why">{why}</ul></td>'
                       f'<td class="amt">{e(amount)}</td></tr>')
        return "\n".join(out)

    status = ('<span class="badge ok">eligible</span>' if st.eligible
              else '<span class="badge no">not eligible</span>')
    reasons = ""
    if not st.eligible:
        shown = [f"{r}{_with_values(values)}" for r, values in st.failed] or st.reasons
        reasons = "<h2>Not paid because</h2><ul>" + "".join(f"<li>{e(r)}</li>" for r in shown) + "</ul>"
    benefits = ""
    if st.benefits:
        benefits = ('<h2>Benefits (not part of the total)</h2><table><tr><th>Benefit</th><th class="amt">Value</th>'
                    f"</tr>{rows(st.benefits, True)}</table>")
    nxt = ""
    if st.next_bands:
        nxt = ('<h2>What would move the partner into the next band</h2><ul class="next">'
               + "".join(f"<li>{_code(e(t))}</li>" for t in st.next_bands) + "</ul>")
    title = e(st.policy) + (f" <small>({e(st.version)})</small>" if st.version else "")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Statement {e(st.id)}: {e(st.policy)}</title>
<style>{_CSS}</style></head>
<body><main>
<h1>{title}</h1>
<p class="sub">Statement for partner <strong>{e(st.id)}</strong> &middot; {status} &middot; amounts in {e(st.currency)}</p>
{reasons}
<table>
<tr><th>Line</th><th class="amt">Amount</th></tr>
{rows(st.lines)}
<tr class="total"><td class="name"><div class="lname">Total</div></td><td class="amt">{e(m.display(st.total))}</td></tr>
</table>
{benefits}
{nxt}
<footer>The lines above add up exactly to the total. Generated by ipl explain from record {st.row} of the
records file.</footer>
</main></body></html>
"""


def _code(text: str) -> str:
    """Backquoted source in an (already escaped) line becomes <code>."""
    parts = text.split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


# ------------------------------------------------------------------ `ipl explain`


def explain_command(policy_path: str, records: str, wanted: str, fmt: str, sets: list[str],
                    period: str | None = None) -> tuple[str, int]:
    """The rendered statement and the exit code (1 when the record is rejected)."""
    from pathlib import Path

    from dsl.run.lookup import find_record, ids_like
    from dsl.run.policy import UsageProblem, compile_file
    from dsl.run.records import RecordsUnreadable, Reject, column_of, detect_format, fields_of
    from dsl.run.trace import row_tree

    compiled = compile_file(policy_path, sets)
    if compiled.multi is None and period is not None:
        raise UsageProblem("--period: this policy has no periods (it has no input of type `period`)")
    try:
        detect_format(records)
        if not Path(records).is_file():
            raise UsageProblem(f"no such records file: {records}")
        if compiled.multi is not None:
            return explain_periods(compiled, records, wanted, fmt, period)
        found = find_record(compiled, records, wanted)
    except RecordsUnreadable as err:
        raise UsageProblem(str(err)) from None
    if found is None:
        hint = ids_like(records, column_of(fields_of(compiled.program), compiled.id_field), wanted)
        raise UsageProblem(f"no record with {compiled.id_field} {wanted!r} in {records}"
                           + (f" (did you mean {hint!r}?)" if hint else ""))
    if isinstance(found, Reject):
        text = (f"record {found.row} ({wanted}) is rejected"
                + (f": field {found.field}" if found.field else "") + f": {found.reason}")
        if fmt == "json":
            from dsl.run.outputs import dumps
            return dumps({"id": wanted, "rejected": found.to_json()}, indent=2) + "\n", 1
        if fmt == "html":
            return f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>rejected</title></head>" \
                   f"<body><p>{html.escape(text)}</p></body></html>\n", 1
        return text + "\n", 1
    st = build(compiled, row_tree(compiled, found), found.record)
    if fmt == "json":
        return render_json(st, compiled), 0
    if fmt == "html":
        return render_html(st, compiled), 0
    return render_text(st, compiled), 0


# ------------------------------------------------------------------ multi-period statements (§14.4)


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


def explain_periods(compiled: CompiledPolicy, records: str, wanted: str, fmt: str,
                    period_text: str | None) -> tuple[str, int]:
    """`ipl explain` of a multi-period policy: one period's statement (`--period`) or the
    partner's whole history, each period with its settlement lines."""
    from dsl.checker.periods import PeriodError, parse_period
    from dsl.run.lookup import ids_like, partner_rows
    from dsl.run.policy import UsageProblem
    from dsl.run.records import column_of, fields_of
    from dsl.run.trace import row_tree

    info = compiled.multi
    period = None
    if period_text is not None:
        if info.period_field is None:
            raise UsageProblem("--period: this policy has no periods (it has no input of type `period`)")
        period = parse_period(period_text, info.granularity)
        if isinstance(period, PeriodError):
            raise UsageProblem(f"--period: {period.reason}")
    rows, rejects = partner_rows(compiled, records, wanted, period)
    if period is not None:
        rows = [r for r in rows if r.period == period]
        if rows:  # the period was evaluated: rejects of the partner's other periods are not about it
            rejects = []
    if not rows and not rejects:
        if period is not None:
            raise UsageProblem(f"no record with {compiled.id_field} {wanted!r} in period {period} in {records}")
        hint = ids_like(records, column_of(fields_of(compiled.program), compiled.id_field), wanted)
        raise UsageProblem(f"no record with {compiled.id_field} {wanted!r} in {records}"
                           + (f" (did you mean {hint!r}?)" if hint else ""))
    statements = []
    for pr in rows:
        tree = row_tree(compiled, pr)
        ps = PeriodStatement(str(pr.period) if pr.period is not None else None, build(compiled, tree), pr.settlement,
                             tree["settlement"], tree.get("program_wide", []))
        if not ps.adds_up():
            raise AssertionError(f"statement of {wanted} in {ps.period} does not add up")
        statements.append(ps)
    code = 1 if rejects else 0
    match fmt:
        case "json":
            from dsl.run.outputs import dumps
            out = {"id": wanted, "periods": [
                {**json_dict(ps.statement), "period": ps.period, "settlement": ps.settlement_json,
                 **({"program_wide": ps.program_wide} if ps.program_wide else {})}
                for ps in statements],
                "rejected": [r.to_json() for r in rejects]}
            return dumps(out, indent=2) + "\n", code
        case "html":
            pages = [render_html(ps.statement, compiled) for ps in statements]
            bodies = []
            for ps, page in zip(statements, pages):
                inner = page[page.index("<main>") + 6:page.index("</main>")]
                bodies.append(f"<section><h2>Period {html.escape(ps.period or '')}</h2>{inner}"
                              f"{_settlement_html(ps, compiled)}</section>")
            head = pages[0][:pages[0].index("<main>") + 6] if pages else "<!DOCTYPE html><html><body><main>"
            rej = "".join(f"<p>record {r.row} is rejected: {html.escape(r.reason)}</p>" for r in rejects)
            return head + "".join(bodies) + rej + "</main></body></html>\n", code
        case _:
            parts = [render_period_text(ps, compiled) for ps in statements]
            parts += [f"record {r.row} ({wanted}) is rejected" + (f": field {r.field}" if r.field else "")
                      + f": {r.reason}\n" for r in rejects]
            return "\n".join(parts), code


def json_dict(st: Statement) -> dict:
    """A statement as JSON values (Decimals stay Decimals: `dumps` writes their digits)."""
    def line_json(line: Line) -> dict:
        return {"name": line.name, "label": line.title, "description": line.description, "kind": line.kind,
                "amount": line.amount, "why": line.why, "source": line.source, "location": line.location}

    return {
        "policy": st.policy, "version": st.version, "currency": st.currency, "id": st.id, "row": st.row,
        "eligible": st.eligible, "reasons": st.reasons,
        "failed_gates": [{"reason": r, "values": v} for r, v in st.failed], "lines": [line_json(x) for x in st.lines],
        "total": st.total, "benefits": [line_json(x) for x in st.benefits], "next_bands": st.next_bands,
    }


def settlement_text(ps: PeriodStatement, compiled: CompiledPolicy) -> list[str]:
    m = compiled.money
    s = ps.settlement
    rows = [("earned total", m.display(s.earned), "")]
    if s.budget_scaling:
        rows.append(("budget scaling", m.display(s.budget_scaling), "the period's earned totals exceed the budget"))
    for ln in s.lines:
        note = "no cash effect" if ln.kind == "forfeit" else ""
        rows.append((ln.label(_Fmt(compiled).title), m.display(ln.amount), note))
    width = max(len(r[0]) for r in rows + [("payable", "", "")])
    amt = max(len(r[1]) for r in rows + [("", m.display(s.payable), "")])
    out = [f"Settlement of {ps.period}:" if ps.period else "Settlement:"]
    for name, value, note in rows:
        out.append(f"  {name.ljust(width)}  {value.rjust(amt)}" + (f"  ({note})" if note else ""))
    out.append(f"  {'-' * (width + amt + 2)}")
    out.append(f"  {'payable'.ljust(width)}  {m.display(s.payable).rjust(amt)}")
    return out


def render_period_text(ps: PeriodStatement, compiled: CompiledPolicy) -> str:
    text = render_text(ps.statement, compiled)
    if ps.period:
        lines = text.split("\n")
        lines.insert(1, f"Period {ps.period}")
        text = "\n".join(lines)
    return text + "\n" + "\n".join(program_wide_text(ps, compiled) + settlement_text(ps, compiled)) + "\n"


def program_wide_text(ps: PeriodStatement, compiled: CompiledPolicy) -> list[str]:
    """§15: the figures of the whole period that a pool, rank or percentile used."""
    m = compiled.money
    out = []
    for item in ps.program_wide:
        fig = item.get("figures") or {}
        value = item.get("value")
        match item["kind"]:
            case "pool":
                if value is None:
                    continue
                out.append(f"  `{item['expression']}`: {m.display(value)} of {m.display(fig['amount'])} "
                           f"(shares add up to {fmt_decimal(fig['sum_of_shares'])} over {fig['count']} records)")
            case "rank" | "percentile":
                if value is None:
                    out.append(f"  `{item['expression']}`: not among the {fig.get('count', 0)} records ranked")
                    continue
                shown = fmt_decimal(value) if item["kind"] == "rank" else \
                    f"{fmt_decimal((value * 100).quantize(Decimal('0.01')))} %"  # display only (§9)
                above = fig.get("value_ranked_above")
                out.append(f"  `{item['expression']}` = {shown} of {fig.get('count')} records"
                           + (f" (value {fmt_decimal(fig['value'])}; ranked just above: {fmt_decimal(above)})"
                              if above is not None else f" (value {fmt_decimal(fig['value'])})"))
            case _:
                raise AssertionError(f"unknown program-wide kind {item['kind']!r}")
    return (["Program-wide figures of the period:"] + out + [""]) if out else []


def _settlement_html(ps: PeriodStatement, compiled: CompiledPolicy) -> str:
    e, m, st = html.escape, compiled.money, ps.settlement
    rows = [("earned total", st.earned, "")]
    if st.budget_scaling:
        rows.append(("budget scaling", st.budget_scaling, ""))
    title = _Fmt(compiled).title
    rows += [(ln.label(title), ln.amount, "no cash effect" if ln.kind == "forfeit" else "") for ln in st.lines]
    body = "".join(f'<tr><td class="name">{e(name)}' + (f" <small>({e(note)})</small>" if note else "")
                   + f'</td><td class="amt">{e(m.display(v))}</td></tr>' for name, v, note in rows)
    body += (f'<tr class="total"><td class="name"><div class="lname">Payable</div></td>'
             f'<td class="amt">{e(m.display(st.payable))}</td></tr>')
    return f"<h2>Settlement</h2><table><tr><th>Line</th><th class=\"amt\">Amount</th></tr>{body}</table>"


def next_band_what_if(compiled: CompiledPolicy, record: dict, table: str, band: int):
    """What the record would be paid if table `table` gave the value of band `band + 1`
    (language §9.1): the program with the table replaced by a metric of that band's value,
    the record evaluated with it; None when that evaluation fails. For explanations only: one
    compilation per table asked about."""
    import dataclasses
    import decimal

    from dsl.backends.python import runtime
    from dsl.backends.python.compiled import compile_program
    from dsl.ir import nodes as ir

    program = compiled.program
    t = program.definitions.get(table)
    if not isinstance(t, ir.Table) or band + 1 >= len(t.bands):
        return None
    metric = ir.Metric(key=t.key, type=t.type, value=t.bands[band + 1].value, reads=t.reads, text=t.text,
                       doc=t.doc, span=t.span)
    alt = dataclasses.replace(program, definitions={**program.definitions, table: metric})
    try:
        other = compile_program(alt, compiled._overrides)
        with decimal.localcontext(runtime.CONTEXT):
            return other.evaluate(record)
    except Exception:  # noqa: BLE001 - an explanation without the what-if is still right
        return None
