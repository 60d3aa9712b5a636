"""Why one record moved: the explanation of a mover, made by diffing its two traces.

Receives the two compiled policies and a `Mover` whose two `Side`s carry their trace events.
Guarantees `explain_change` fills in the mover's `status` (rejects, eligibility flips, `require`
lines that started or stopped failing), its `components` (per component that moved: the gates,
caps and floors that started or stopped binding, a changed definition text, and the operands
whose values differ, old → new, with the band for tables, followed a few definitions down) and
its `adjustments` (settlement lines, total floors and caps). Reads only the traces: evaluates
nothing. Emits nothing.
"""

from __future__ import annotations

from dsl.backends.python.compiled import CompiledPolicy
from dsl.checker.types import Kind
from dsl.tools.diff.outcomes import ZERO, Side
from dsl.tools.diff.report import ComponentChange, Mover, _union
from dsl.tools.diff.show import _label, _reject_text, _Show, _signed


def _events(side: Side) -> tuple[dict[str, dict], dict | None, dict | None]:
    """(definition -> its event, the eligibility event, the total event) of a traced record."""
    defs: dict[str, dict] = {}
    elig = total = None
    for ev in side.events or ():
        if "def" in ev and "kind" in ev:
            defs[ev["def"]] = ev
        elif "eligibility" in ev:
            elig = ev
        elif "total" in ev:
            total = ev
    return defs, elig, total


def _bound(ev: dict) -> tuple[str | None, str | None]:
    """(the floor that bound, the cap that bound) of a component step, as trace.py decides them."""
    if "raw" not in ev:
        return None, None
    value = ev["raw"]
    floor = cap = None
    for text, v in ev.get("floors", ()):
        if v > value:
            value, floor = v, text
    for text, v in ev.get("caps", ()):
        if v < value:
            value, cap = v, text
    return floor, cap


def explain_change(old: CompiledPolicy, new: CompiledPolicy, m: Mover) -> None:
    """Fill in `m.status`, `m.components` and `m.adjustments` by diffing the two traces."""
    so, sn = _Show(old), _Show(new)
    a, b = m.old, m.new
    if not a.accepted:
        m.status.append(f"rejected by the old policy ({_reject_text(a.reject)}), accepted by the new")
    if not b.accepted:
        m.status.append(f"accepted by the old policy, rejected by the new ({_reject_text(b.reject)})")
    if not (a.accepted and b.accepted):
        return
    da, ea, ta = _events(a)
    db, eb, tb = _events(b)
    if a.eligible != b.eligible:
        m.status.append("eligibility flipped: " + ("not eligible → eligible" if b.eligible else "eligible → not eligible"))
    elif not a.eligible:
        m.status.append("not eligible under both policies")
    failed_a = {c for c, ok, _r, _s, _v in (ea or {}).get("eligibility", ()) if not ok}
    failed_b = {c: r for c, ok, r, _s, _v in (eb or {}).get("eligibility", ()) if not ok}
    m.status += [f"`require {c}` now fails: {r}" for c, r in failed_b.items() if c not in failed_a]
    m.status += [f"`require {c}` no longer fails" for c in sorted(failed_a) if c not in failed_b]
    old_comps = [c.name for c in old.components]
    new_comps = [c.name for c in new.components]
    for name in _union(old_comps, new_comps):
        va = a.result.components[old_comps.index(name)] if name in old_comps else None
        vb = b.result.components[new_comps.index(name)] if name in new_comps else None
        if (va or ZERO) == (vb or ZERO):  # unchanged, or added / removed without moving money
            continue
        why: list[str] = []
        if va is None:
            why.append("added in the new policy")
        elif vb is None:
            why.append("removed in the new policy")
        else:
            why = _component_why(so, sn, da, db, name)
        m.components.append(ComponentChange(name, va, vb, why, _label(old, new, name)))
    money = new.money
    if a.settlement is not None and b.settlement is not None:
        sa = dict(a.settlement)
        for name, y in b.settlement:
            x = sa.get(name, ZERO)
            if name not in ("payable", "forfeited") and x != y:
                m.adjustments.append(f"{name.replace('_', ' ')}: {_signed(money, x)} → {_signed(money, y)}")
    if ta is not None and tb is not None:
        for kind, key in (("floor", "floor_adjustment"), ("cap", "cap_adjustment")):
            x, y = ta[key], tb[key]
            if x == y:
                continue
            if not x:
                m.adjustments.append(f"total {_total_bound(tb, kind)} started applying: {_signed(money, y)}")
            elif not y:
                m.adjustments.append(f"total {_total_bound(ta, kind)} stopped applying (was {_signed(money, x)})")
            else:
                m.adjustments.append(f"total {kind}: {_total_bound(ta, kind)} {_signed(money, x)} → "
                                     f"{_total_bound(tb, kind)} {_signed(money, y)}")


def _total_bound(ev: dict, kind: str) -> str:
    """The total floor or cap that set the total (`cap 250_000 USD`), as trace.py and explain.py find it."""
    if kind == "floor":
        value, options = ev["sum"] + ev["floor_adjustment"], ev.get("floors", ())
    else:
        value, options = ev["total"], ev.get("caps", ())
    text = next((t for t, v in options if v == value), None)
    return f"`{kind} {text}`" if text is not None else kind


def _component_why(so: _Show, sn: _Show, da: dict, db: dict, name: str) -> list[str]:
    ea, eb = da.get(name), db.get(name)
    why: list[str] = []
    if ea is None or eb is None:  # not computed on one side: the record was not eligible there
        return ["not computed where the partner is not eligible"]
    if ea["site"][0] != eb["site"][0]:
        why.append(f"definition changed: `{ea['site'][0]}` → `{eb['site'][0]}`")
    failed_a = {c for c, ok, _r, _v in ea.get("gates", ()) if not ok}
    failed_b = {c for c, ok, _r, _v in eb.get("gates", ()) if not ok}
    why += [f"`require {c}` now fails: {r}" for c, ok, r, _v in eb.get("gates", ()) if not ok and c not in failed_a]
    why += [f"`require {c}` no longer fails" for c, ok, _r, _v in ea.get("gates", ()) if not ok and c not in failed_b]
    if "raw" in ea and "raw" in eb:
        fa, ca = _bound(ea)
        fb, cb = _bound(eb)
        t = sn.kind(name)
        if ca != cb:
            if ca is None:
                why.append(f"`cap {cb}` started binding ({sn.value(_cap_value(eb, cb), t)})")
            elif cb is None:
                why.append(f"`cap {ca}` stopped binding (it was {so.value(_cap_value(ea, ca), t)})")
            else:
                why.append(f"the binding cap changed: `cap {ca}` → `cap {cb}` ({sn.value(_cap_value(eb, cb), t)})")
        elif ca is not None and _cap_value(ea, ca) != _cap_value(eb, cb):
            why.append(f"`cap {cb}` binds: {so.value(_cap_value(ea, ca), t)} → {sn.value(_cap_value(eb, cb), t)}")
        if fa != fb:
            if fa is None:
                why.append(f"`floor {fb}` started binding")
            elif fb is None:
                why.append(f"`floor {fa}` stopped binding")
            else:
                why.append(f"the binding floor changed: `floor {fa}` → `floor {fb}`")
        if ea["raw"] != eb["raw"] and (ca is not None or cb is not None or fa is not None or fb is not None):
            why.append(f"before caps and floors: {so.value(ea['raw'], t)} → {sn.value(eb['raw'], t)}")
    if ("failed" in ea) == ("failed" in eb):  # a failed `require` computes nothing to compare
        why.extend(_operand_why(so, sn, da, db, ea, eb, set(), 0))
    return why


def _cap_value(ev: dict, text: str | None):
    return next((v for c, v in ev.get("caps", ()) if c == text), None)


def _operand_why(so: _Show, sn: _Show, da: dict, db: dict, ea: dict, eb: dict, seen: set[str],
                 depth: int) -> list[str]:
    """Operands whose values differ (old → new), following changed definitions a few levels down."""
    out: list[str] = []
    oa, ob = ea.get("operands", {}), eb.get("operands", {})
    indent = "  " * depth
    for op in _union(list(oa), list(ob)):
        if op in seen:
            continue
        if op not in oa or op not in ob:
            out.append(f"{indent}{op}: {'no longer read' if op in oa else 'now read'}")
            seen.add(op)
            continue
        if oa[op] == ob[op]:
            continue
        seen.add(op)
        line = f"{indent}{op}: {so.named(op, oa[op])} → {sn.named(op, ob[op])}"
        xa, xb = da.get(op), db.get(op)
        if xa is not None and xb is not None:
            if xa.get("kind") == "tiers" and "band" in xa and "band" in xb:
                line += _band_move(so, sn, xa, xb, op)
            if xa.get("kind") in ("param",) or (xa.get("site", ("",))[0] != xb.get("site", ("",))[0]):
                line += f" (definition changed: `{xa['site'][0]}` → `{xb['site'][0]}`)"
        out.append(line)
        if xa is not None and xb is not None and depth < 2 and xa.get("kind") not in ("component", "benefit"):
            out.extend(_operand_why(so, sn, da, db, xa, xb, seen, depth + 1))
    return out


def _band_move(so: _Show, sn: _Show, xa: dict, xb: dict, name: str) -> str:
    ba, bb = xa.get("band"), xb.get("band")
    if ba is None or bb is None:
        return ""
    ta, tb = so.c.tables.get(name), sn.c.tables.get(name)
    if ta is None or tb is None:
        return ""
    kt = tb.key_type.kind
    text_a = _bounds(so, ta.bands[ba], ta.key_type.kind)
    text_b = _bounds(sn, tb.bands[bb], kt)
    if ba == bb and text_a == text_b:
        return f" (key {sn.value(xb['key'], kt)} in the same band {text_b}; the band's value changed)"
    return (f" (key {so.value(xa['key'], ta.key_type.kind)} in {text_a} → key {sn.value(xb['key'], kt)} "
            f"in {text_b})")


def _bounds(show: _Show, band, kind: Kind) -> str:
    left = "(-∞" if band.lo is None else f"[{show.value(band.lo, kind)}"
    right = "∞)" if band.hi is None else f"{show.value(band.hi, kind)})"
    return f"{left}, {right}"
