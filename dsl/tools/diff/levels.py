"""Level and tier changes: which band (or level label) a record reached under each policy.

Receives the two compiled policies and a record's two `Side`s (with their trace events).
Guarantees one `LevelChanges` per tier table and level benefit of either policy
(`level_tables`), in the old policy's order then the new one's; a record counts up or down in a
table only when both policies reached it and the band (or label) differs, in band (or label)
order; entries are kept in full for JSON, the first `LIST_LIMIT` otherwise. Emits nothing.
"""

from __future__ import annotations

from dsl.backends.python.compiled import CompiledPolicy
from dsl.checker.types import Kind
from dsl.tools.diff.outcomes import Side
from dsl.tools.diff.report import LIST_LIMIT, Entry, LevelChanges, _union
from dsl.tools.diff.show import _Show


def level_tables(old: CompiledPolicy, new: CompiledPolicy) -> dict[str, LevelChanges]:
    """Every tier table and level benefit of either policy, each with its kind, none moved yet."""
    old_levels = set(old.program.levels)
    levels: dict[str, LevelChanges] = {}
    for name in _union(list(old.tables) + _level_benefits(old), list(new.tables) + _level_benefits(new)):
        is_level = (name in new.program.levels or name in old_levels or name in _level_benefits(new)
                    or name in _level_benefits(old))
        levels[name] = LevelChanges(name, "level" if is_level else "tier")
    return levels


def _tiers(compiled: CompiledPolicy, side: Side) -> dict[str, tuple[int, object]]:
    """table (or level benefit) -> (position in band/label order, value) for what this record reached."""
    out: dict[str, tuple[int, object]] = {}
    if side.events is None:
        return out
    for ev in side.events:
        if ev.get("kind") != "tiers":
            continue
        name = ev["def"]
        table = compiled.tables.get(name)
        if table is None:
            continue
        index = ev.get("band")
        if index is None and "key" in ev:  # marginal: the band that holds the key
            index = max((i for i, b in enumerate(table.bands) if b.lo is None or b.lo <= ev["key"]), default=None)
        if index is not None:
            out[name] = (index, ev["value"])
    if side.result is not None:
        for i, b in enumerate(compiled.benefits):
            if b.type.kind is Kind.LEVEL:
                labels = compiled.program.levels.get(b.type.name or "", ())
                label = side.result.benefits[i]
                if label in labels:
                    out[b.name] = (labels.index(label), label)
    return out


def _level_benefits(compiled: CompiledPolicy) -> list[str]:
    return [b.name for b in compiled.benefits if b.type.kind is Kind.LEVEL]


def _level_changes(old: CompiledPolicy, new: CompiledPolicy, a: Side, b: Side, rid: str | None,
                   period: str | None, levels: dict[str, LevelChanges], keep_lists: bool) -> None:
    ta, tb = _tiers(old, a), _tiers(new, b)
    for name, (ib, vb) in tb.items():
        if name not in ta:
            continue
        ia, va = ta[name]
        lv = levels[name]
        if lv.kind == "level":
            if va == vb:
                continue
            order = new.program.levels.get(_level_type(new, name), ())
            if va not in order or vb not in order:
                order = old.program.levels.get(_level_type(old, name), ())
            up = order.index(vb) > order.index(va) if va in order and vb in order else ib > ia
            old_text, new_text = str(va), str(vb)
        else:
            if ia == ib:
                continue
            up = ib > ia
            old_text, new_text = _band_text(old, name, ia, va), _band_text(new, name, ib, vb)
        if up:
            lv.up += 1
        else:
            lv.down += 1
        if keep_lists or len(lv.changes) < LIST_LIMIT:
            lv.changes.append(Entry(rid, period, b.row, old_text, new_text, "up" if up else "down"))


def _level_type(compiled: CompiledPolicy, name: str) -> str:
    d = compiled.program.definitions.get(name)
    if d is not None and d.kind == "benefit":
        return d.type.name or ""
    return name


def _band_text(compiled: CompiledPolicy, table: str, index: int, value: object) -> str:
    """`[80%, 90%) → 2%`: a band's bounds and its value."""
    info = compiled.tables[table]
    band = info.bands[index]
    show = _Show(compiled)
    kt = info.key_type.kind
    left = "(-∞" if band.lo is None else f"[{show.value(band.lo, kt)}"
    right = "∞)" if band.hi is None else f"{show.value(band.hi, kt)})"
    if info.mode == "marginal":
        return f"{left}, {right} at {show.value(band.value, info.value_type.kind) if band.value is not None else band.text}"
    return f"{left}, {right} → {show.value(value, info.value_type.kind)}"
