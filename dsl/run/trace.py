"""Trace trees: the events of the traced variant, arranged per record (spec §1.4, §6.1, §7, §8).

Receives the events a traced evaluation recorded (dsl/backends/python/build.py: one per
definition computed, with its source text, location, value and operands,
plus the band, scorecard parts, gates, floors and caps) and the compiled
policy's table bounds. Guarantees a JSON-ready tree per record:

    record → eligibility gates; components and benefits (declaration order),
    each with its steps (raw, require, floor, cap, round) and the definitions
    it read, nested (a definition seen before is a `{"ref": name}`); total.

Values are exact (Decimals written as JSON numbers with all their digits).
Emits no diagnostics.
"""

from __future__ import annotations

from decimal import Decimal

from dsl.backends.python.compiled import CompiledPolicy, TableInfo
from dsl.checker.types import Kind


def band_detail(table: TableInfo, key: Decimal, index: int | None) -> dict:
    """§6.1: the band chosen with its bounds, and the distance to the next band and its value."""
    if index is None:
        return {}
    band = table.bands[index]
    out = {"band": index, "lo": band.lo, "hi": band.hi, "key": key}
    if index + 1 < len(table.bands):
        nxt = table.bands[index + 1]
        out["next"] = {"band": index + 1, "lo": nxt.lo, "hi": nxt.hi, "distance": nxt.lo - key,
                       "value": nxt.value, "value_text": nxt.text}
    return out


def marginal_detail(table: TableInfo, key: Decimal) -> dict:
    """Each band's part of a graduated table: `rate * max(0, min(key, hi) - lo)`."""
    parts = []
    for band in table.bands:
        lo, hi, rate = band.lo, band.hi, band.value
        if key <= lo:
            width = Decimal(0)
        else:
            width = (key if hi is None or key < hi else hi) - lo
        parts.append({"lo": lo, "hi": hi, "rate": rate, "width": width, "part": rate * width})
    out = {"key": key, "parts": parts}
    for band in table.bands:
        if key < band.lo:
            out["next"] = {"lo": band.lo, "distance": band.lo - key, "value": band.value,
                           "value_text": band.text}
            break
    return out


def _node(compiled: CompiledPolicy, ev: dict) -> dict:
    name = ev["def"]
    text, location, expr = ev["site"]
    node = {"name": name, "kind": ev["kind"], "source": text, "expression": expr, "location": location,
            "value": ev["value"], "operands": dict(ev.get("operands", {}))}
    table = compiled.tables.get(name)
    if ev["kind"] == "tiers" and table is not None:
        if table.mode == "marginal":
            node["marginal"] = marginal_detail(table, ev["key"])
        else:
            node["lookup"] = band_detail(table, ev["key"], ev.get("band"))
    if "parts" in ev:
        node["scorecard"] = [
            {"measure": m, "value": v, "target": t, "attainment": a, "capped": ca != a, "attainment_used": ca,
             "weight": w, "part": part}
            for (m, v, t, a, ca, w, part) in ev["parts"]
        ]
    if ev["kind"] in ("component", "benefit"):
        steps = {"gates": [{"condition": c, "passed": bool(ok), "reason": r, "values": values}
                           for c, ok, r, values in ev.get("gates", ())]}
        if "failed" in ev:
            steps["failed"] = list(ev["failed"])
        if "raw" in ev:
            steps["raw"] = ev["raw"]
            floors = [{"floor": f, "value": v} for f, v in ev.get("floors", ())]
            caps = [{"cap": c, "value": v} for c, v in ev.get("caps", ())]
            value = ev["raw"]
            bound_floor = None
            for f in floors:
                if f["value"] > value:
                    value, bound_floor = f["value"], f["floor"]
            bound_cap = None
            for c in caps:
                if c["value"] < value:
                    value, bound_cap = c["value"], c["cap"]
            steps.update({"floors": floors, "caps": caps, "floor_bound": bound_floor, "cap_bound": bound_cap,
                          "before_rounding": value})
        node["steps"] = steps
    return node


def record_tree(compiled: CompiledPolicy, row: int, rid: str, result: tuple, events: list) -> dict:
    """The trace of one record as a tree (JSON-ready; Decimals stay exact)."""
    nodes: dict[str, dict] = {}
    eligibility = []
    total = None
    otherwise = []
    for ev in events:
        if "def" in ev and "kind" in ev:
            nodes[ev["def"]] = _node(compiled, ev)
        elif "eligibility" in ev:
            eligibility = [{"condition": c, "passed": bool(ok), "reason": r, "location": site[1], "values": values}
                           for c, ok, r, site, values in ev["eligibility"]]
        elif "total" in ev:
            total = ev
        elif "otherwise" in ev:
            otherwise.append({"definition": ev["def"], "fallback_at": ev["otherwise"][1]})
    seen: set[str] = set()

    def nest(name: str) -> dict:
        node = nodes.get(name)
        if node is None:
            return {"ref": name}
        if name in seen:
            return {"ref": name, "value": node["value"]}
        seen.add(name)
        out = dict(node)
        uses = [nest(dep) for dep in node["operands"] if dep in nodes]
        if uses:
            out["uses"] = uses
        return out

    lines = [nest(c.name) for c in compiled.components if c.name in nodes]
    benefits = [nest(b.name) for b in compiled.benefits if b.name in nodes]
    tree = {
        "id": rid,
        "row": row,
        "eligible": result.eligible,
        "reasons": list(result.reasons),
        "eligibility": eligibility,
        "components": lines,
        "benefits": benefits,
        "total": {
            "sum": result.sum, "floor_adjustment": result.floor_adjustment, "cap_adjustment": result.cap_adjustment,
            "total": result.total,
            "floors": [{"floor": f, "value": v} for f, v in (total or {}).get("floors", ())],
            "caps": [{"cap": c, "value": v} for c, v in (total or {}).get("caps", ())],
        },
    }
    if otherwise:
        tree["fallbacks"] = otherwise
    other = [nest(n) for n in nodes if n not in seen]
    if other:
        tree["other"] = other
    return tree


def is_money(compiled: CompiledPolicy, name: str) -> bool:
    d = compiled.program.definitions.get(name)
    return d is not None and d.type.kind is Kind.MONEY


def row_tree(compiled: CompiledPolicy, row) -> dict:
    """The trace tree of one paid `Row` (dsl/run/results.py): its record's tree and, for a
    policy that settles, its period, its settlement and the program-wide figures it used."""
    from dsl.run.columns import settlement_json

    tree = record_tree(compiled, row.row, row.id, row.result, row.events or [])
    if row.settlement is None:
        return tree
    if row.period is not None:
        tree["period"] = str(row.period)
    tree["settlement"] = settlement_json(row)
    if row.pw:
        tree["program_wide"] = [
            {"expression": site.text, "kind": site.kind, "value": v, "figures": _jsonable(fig)}
            for site, (v, fig) in zip(compiled.multi.pw_sites, row.pw)]
    return tree


def reject_tree(reject) -> dict:
    """A rejected record's line in a trace file."""
    return {"id": reject.id, "row": reject.row, "rejected": reject.reason, "field": reject.field}


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, bool, int, Decimal)):
        return value
    if hasattr(value, "__dataclass_fields__"):
        return {k: _jsonable(getattr(value, k)) for k in value.__dataclass_fields__}
    return str(value)
