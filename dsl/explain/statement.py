"""Statements: why one partner is paid what it is (spec §1.4, §6.1, §8, §12 `explain`).

Receives a compiled policy and one record's trace tree (dsl/run/trace.py), and the record
itself for the what-if of the next band. Guarantees a `Statement` (dsl/explain/model.py)
whose lines — the components, then the total's floor and cap adjustments as signed lines —
add up exactly to the total (checked: a statement that does not add up is a bug,
`AssertionError`), each with the source it came from, the values it used and what decided it
(band, cap or floor that bound, failed gates); benefits listed apart (not summed); and, for
every flat table the record went through, the distance to the next band and what that band
gives. Emits no diagnostics.

The statement is rendered by render_text.py, render_json.py and render_html.py, and `ipl
explain` is command.py; the renderers and the statement's data are importable from here too,
for the callers that read a statement and print it (dsl/tools/testing/).
"""

from __future__ import annotations

from decimal import Decimal

from dsl.backends.python.compiled import CompiledPolicy
from dsl.backends.python.runtime import fmt_decimal
from dsl.checker.types import Kind, Type
from dsl.explain.display import Display, short, with_values
from dsl.explain.model import Line, PeriodStatement, Statement
from dsl.explain.render_html import render_html
from dsl.explain.render_json import json_dict, render_json
from dsl.explain.render_text import render_period_text, render_text

__all__ = ["Line", "PeriodStatement", "Statement", "build", "json_dict", "next_band_what_if", "render_html",
           "render_json", "render_period_text", "render_text"]

# ------------------------------------------------------------------ building a statement


def build(compiled: CompiledPolicy, tree: dict, record: dict | None = None) -> Statement:
    """The statement of one record's trace tree; with `record`, each next band says what it
    would pay (the record evaluated again with that band's value)."""
    f = Display(compiled)
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


def _line(f: Display, node: dict, kind: str) -> Line:
    name = node["name"]
    t = f.type_of(name)
    why: list[str] = []
    steps = node.get("steps", {})
    ops = node.get("operands", {})
    expr = node.get("expression") or node["source"]
    failed = steps.get("failed")
    if failed:
        why.append("0 because " + "; ".join(f"`{g['condition']}` is false{with_values(f.values(g.get('values', {})))}: "
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


def _why_use(f: Display, node: dict, depth: int = 0) -> list[str]:
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
        text = " + ".join(f"{short(p['width'])} × {f.value(p['rate'], _rate_type(f, node))}" for p in parts) or "0"
        out.append(f"{f.title(name)}: {_key_name(node)} {f.value(node['marginal']['key'], kt)} → {text} = "
                   f"{f.named(name, node['value'])}")
    elif "scorecard" in node:
        # a measure's attainment is named as such: `renewal_rate 110 %` would read as its value
        parts = ", ".join(f"{p['measure']} attainment {short(p['attainment_used'] * 100)}% × weight "
                          f"{short(p['weight'] * 100)}%" for p in node["scorecard"])
        out.append(f"{f.title(name)}: {parts} = {f.named(name, node['value'])}")
    elif node.get("kind") in ("metric",):
        out.append(f"{f.title(name)} = {f.named(name, node['value'])}")
    for use in node.get("uses", ()):
        out.extend(_why_use(f, use, depth + 1))
    return out


def _key_name(node: dict) -> str:
    return node.get("expression") or "key"


def _key_type(f: Display, node: dict) -> Type | None:
    table = f.c.tables.get(node["name"])
    return table.key_type if table else None


def _rate_type(f: Display, node: dict) -> Type | None:
    table = f.c.tables.get(node["name"])
    return table.rate_type if table else None


def _bounds(f: Display, node: dict, lo, hi) -> str:
    kt = _key_type(f, node)
    left = "(-∞" if lo is None else f"[{f.value(lo, kt)}"
    right = "∞)" if hi is None else f"{f.value(hi, kt)})"
    return f"{left}, {right}"


def _lookup_text(f: Display, compiled: CompiledPolicy, node: dict) -> str | None:
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


def _what_if_text(f: Display, compiled: CompiledPolicy, tree: dict, record: dict, table: str, band: int) -> str:
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


def _signed(f: Display, d: Decimal) -> str:
    return ("+" if d >= 0 else "") + f.money.display(d)


def _marginal_next(f: Display, compiled: CompiledPolicy, node: dict) -> str | None:
    m = node["marginal"]
    nxt = m.get("next")
    kt = _key_type(f, node)
    if not nxt:
        return None
    return (f"{f.title(node['name'])}: {_key_name(node)} {f.value(m['key'], kt)} is {f.distance(nxt['distance'], kt)} "
            f"below the next band from {f.value(nxt['lo'], kt)}, where each unit earns "
            f"{f.value(nxt['value'], _rate_type(f, node))}")


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
