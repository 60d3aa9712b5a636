"""The renderers of `ipl diff`: text for people, JSON for tools, markdown for a pull request.

Receives a finished `Report` and its guards. Guarantees: text and markdown list at most
`LIST_LIMIT` records per list and say how many more there are; JSON is the document of
docs/diff.md (schema `ipl-diff/1`) with every list in full and amounts as exact decimals;
markdown escapes what a policy or a file name could inject (HTML, table breaks) and keeps
backquoted source as code. Every text ends with a newline. Emits nothing.
"""

from __future__ import annotations

import html
from decimal import Decimal
from pathlib import Path

from dsl.backends.python import runtime
from dsl.tools.diff.guards import Guard
from dsl.tools.diff.outcomes import ZERO, Side
from dsl.tools.diff.report import LIST_LIMIT, Amounts, Entry, Mover, Report
from dsl.tools.diff.show import _money, _sign, _signed, _who

SCHEMA = "ipl-diff/1"


def _pct_text(rep: Report) -> str:
    p = rep.percent
    return "n/a" if p is None else f"{_sign(p)}{p}%"


def _opt(money: runtime.Money, v: Decimal | None) -> str:
    return "—" if v is None else money.display(v)


def _side_text(money: runtime.Money, side: Side) -> str:
    return money.display(side.total) if side.accepted else "rejected"


def _side_json(side: Side) -> Decimal | None:
    return side.total if side.accepted else None


def render_text(rep: Report, checks: list[Guard]) -> str:
    money = _money(rep)
    out = [f"ipl diff: {rep.old_path} → {rep.new_path}, over {rep.records}"]
    if rep.old_name != rep.new_name or rep.old_version != rep.new_version:
        out.append(f"  policy: {rep.old_name} ({rep.old_version or '-'}) → {rep.new_name} ({rep.new_version or '-'})")
    for p in rep.params:
        out.append(f"  param {p.name}: {p.old_text} → {p.new_text}")
    out.append("")
    out.append(f"records: {rep.read:,} read; paid {rep.paid_old:,} → {rep.paid_new:,}; "
               f"rejected {rep.read - rep.paid_old:,} → {rep.read - rep.paid_new:,}; "
               f"eligible {rep.eligible_old:,} → {rep.eligible_new:,}")
    out.append(f"payout changed: {rep.changed:,} ({rep.up:,} up, {rep.down:,} down)")
    out.append("")
    rows = [("old", money.display(rep.total_old)), ("new", money.display(rep.total_new)),
            ("delta", f"{_signed(money, rep.delta)} ({_pct_text(rep)})")]
    out.append("total cost")
    out += [f"  {k.ljust(5)}  {v}" for k, v in rows]
    out += _text_table("per component", rep.components + rep.adjustments, money)
    if rep.benefits:
        out += _text_table("benefits (not in the total)", rep.benefits, money)
    if rep.movers:
        out += ["", f"biggest movers (top {len(rep.movers)} of {rep.changed:,} changed)"]
        for i, m in enumerate(rep.movers, 1):
            out.append(f"  {i}. {_who(m.id, m.period, m.row)}: {_side_text(money, m.old)} → "
                       f"{_side_text(money, m.new)} ({_signed(money, m.delta)})")
            out += [f"       {s}" for s in _mover_lines(m, money)]
    if rep.levels:
        out += ["", "level and tier changes"]
        for lv in rep.levels:
            out.append(f"  {lv.table} ({lv.kind}): {lv.up:,} up, {lv.down:,} down")
            out += [f"    {_who(e.id, e.period, e.row)}: {e.old} → {e.new}" for e in lv.changes[:LIST_LIMIT]]
            more = lv.up + lv.down - min(len(lv.changes), LIST_LIMIT)
            if more > 0:
                out.append(f"    ... and {more:,} more")
    out += ["", "eligibility and rejects"]
    for key, label in _STATUS:
        n = rep.counts.get(key, 0)
        out.append(f"  {label}: {n:,}")
        entries = getattr(rep, key)[:LIST_LIMIT]
        out += [f"    {_who(e.id, e.period, e.row)}" + (f": {e.detail}" if e.detail else "") for e in entries]
        if n > len(entries):
            out.append(f"    ... and {n - len(entries):,} more")
    if checks:
        out += ["", "guards"]
        out += [f"  --{g.name}: {'TRIPPED' if g.tripped else 'ok'}: {g.message}" for g in checks]
    return "\n".join(out) + "\n"


_STATUS = (("newly_rejected", "newly rejected"), ("newly_accepted", "newly accepted"),
           ("newly_ineligible", "newly ineligible"), ("newly_eligible", "newly eligible"))


def _text_table(title: str, lines: list[Amounts], money: runtime.Money) -> list[str]:
    if not lines:
        return []
    w = max(len(x.title) for x in lines)
    cells = [(x.title, _opt(money, x.old), _opt(money, x.new), _signed(money, x.delta), x.status) for x in lines]
    wo = max(len(c[1]) for c in cells + [("", "old", "", "", "")])
    wn = max(len(c[2]) for c in cells + [("", "", "new", "", "")])
    wd = max(len(c[3]) for c in cells + [("", "", "", "delta", "")])
    out = ["", title, f"  {''.ljust(w)}  {'old'.rjust(wo)}  {'new'.rjust(wn)}  {'delta'.rjust(wd)}"]
    for name, o, n, d, status in cells:
        note = f"  {status}" if status in ("added", "removed") else ""
        out.append(f"  {name.ljust(w)}  {o.rjust(wo)}  {n.rjust(wn)}  {d.rjust(wd)}{note}")
    return out


def _mover_lines(m: Mover, money: runtime.Money) -> list[str]:
    out = list(m.status)
    for c in m.components:
        out.append(f"{c.title}: {_opt(money, c.old)} → {_opt(money, c.new)} "
                   f"({_signed(money, (c.new or ZERO) - (c.old or ZERO))})")
        out += [f"  {w}" for w in c.why]
    out += m.adjustments
    return out


def _amounts_json(x: Amounts) -> dict:
    return {"name": x.name, "label": x.title, "status": x.status, "old": x.old, "new": x.new, "delta": x.delta}


def _entry_json(e: Entry, with_values: bool) -> dict:
    out = {"id": e.id, "period": e.period, "row": e.row}
    if with_values:
        out.update({"old": e.old, "new": e.new, "direction": e.detail})
    else:
        out["reason"] = e.detail
    return out


def report_json(rep: Report, checks: list[Guard]) -> dict:
    """The JSON document of docs/diff.md (schema `ipl-diff/1`)."""
    return {
        "schema": SCHEMA,
        "old": {"path": rep.old_path, "policy": rep.old_name, "version": rep.old_version},
        "new": {"path": rep.new_path, "policy": rep.new_name, "version": rep.new_version},
        "records": rep.records,
        "currency": rep.currency,
        "params": [{"name": p.name, "old": p.old, "new": p.new, "old_text": p.old_text, "new_text": p.new_text}
                   for p in rep.params],
        "counts": {"read": rep.read, "paid_old": rep.paid_old, "paid_new": rep.paid_new,
                   "rejected_old": rep.read - rep.paid_old, "rejected_new": rep.read - rep.paid_new,
                   "eligible_old": rep.eligible_old, "eligible_new": rep.eligible_new,
                   "changed": rep.changed, "up": rep.up, "down": rep.down, **rep.counts},
        "total": {"old": rep.total_old, "new": rep.total_new, "delta": rep.delta,
                  "percent": rep.percent},
        "components": [_amounts_json(x) for x in rep.components],
        "adjustments": [_amounts_json(x) for x in rep.adjustments],
        "benefits": [_amounts_json(x) for x in rep.benefits],
        "movers": [{
            "rank": i, "id": m.id, "period": m.period, "row": m.row,
            "old": _side_json(m.old), "new": _side_json(m.new), "delta": m.delta,
            "old_status": _status(m.old), "new_status": _status(m.new),
            "why": m.status,
            "components": [{"name": c.name, "label": c.title, "old": c.old, "new": c.new,
                            "delta": (c.new or ZERO) - (c.old or ZERO), "why": c.why} for c in m.components],
            "adjustments": m.adjustments,
        } for i, m in enumerate(rep.movers, 1)],
        "levels": [{"table": lv.table, "kind": lv.kind, "up": lv.up, "down": lv.down,
                    "changes": [_entry_json(e, True) for e in lv.changes]} for lv in rep.levels],
        "status": {key: [_entry_json(e, False) for e in getattr(rep, key)] for key, _ in _STATUS},
        "guards": [{"guard": g.name, "threshold": g.threshold, "tripped": g.tripped, "message": g.message}
                   for g in checks],
    }


def _status(side: Side) -> str:
    if not side.accepted:
        return "rejected"
    return "eligible" if side.eligible else "not eligible"


def render_json(rep: Report, checks: list[Guard]) -> str:
    from dsl.run.outputs import dumps

    return dumps(report_json(rep, checks), indent=2) + "\n"


def _md(text: str) -> str:
    """Text in a markdown table cell or list: no HTML, no table breaks."""
    return html.escape(text, quote=False).replace("|", "\\|").replace("\n", " ")


def _md_code(text: str) -> str:
    """Backquoted source stays code (escaped), the rest is escaped text."""
    parts = text.split("`")
    return "".join(f"<code>{html.escape(p, quote=False)}</code>" if i % 2 else _md(p) for i, p in enumerate(parts))


def render_markdown(rep: Report, checks: list[Guard]) -> str:
    """A pull-request comment: summary, per component, top movers, `<details>` with the explanations."""
    money = _money(rep)
    tripped = [g for g in checks if g.tripped]
    out = [f"### IPL payout impact: `{_md(Path(rep.new_path).name)}`", ""]
    out.append(f"{_md(rep.old_path)} → {_md(rep.new_path)}, over {rep.read:,} records of {_md(rep.records)}")
    out.append("")
    if tripped:
        out += [f"> **Guard tripped** (`--{g.name}`): {_md(g.message)}" for g in tripped] + [""]
    out += ["| | old | new | delta |", "| --- | ---: | ---: | ---: |",
            f"| **total cost** | {money.display(rep.total_old)} | {money.display(rep.total_new)} | "
            f"**{_signed(money, rep.delta)} ({_pct_text(rep)})** |",
            f"| records paid | {rep.paid_old:,} | {rep.paid_new:,} | {rep.paid_new - rep.paid_old:+,} |",
            f"| rejected | {rep.read - rep.paid_old:,} | {rep.read - rep.paid_new:,} | {rep.paid_old - rep.paid_new:+,} |",
            f"| eligible | {rep.eligible_old:,} | {rep.eligible_new:,} | {rep.eligible_new - rep.eligible_old:+,} |",
            "", f"Payout changed for **{rep.changed:,}** records ({rep.up:,} up, {rep.down:,} down).", ""]
    for p in rep.params:
        out.append(f"- param `{_md(p.name)}`: {_md(p.old_text)} → {_md(p.new_text)}")
    if rep.params:
        out.append("")
    if rep.components or rep.adjustments:
        out += ["#### Per component", "", "| component | old | new | delta | |", "| --- | ---: | ---: | ---: | --- |"]
        for x in rep.components + rep.adjustments:
            note = x.status if x.status in ("added", "removed") else ""
            out.append(f"| {_md(x.title)} | {_opt(money, x.old)} | {_opt(money, x.new)} | {_signed(money, x.delta)} | {note} |")
        for x in rep.benefits:
            note = "benefit" + (f", {x.status}" if x.status in ("added", "removed") else "")
            out.append(f"| {_md(x.title)} | {_opt(money, x.old)} | {_opt(money, x.new)} | {_signed(money, x.delta)} | {note} |")
        out.append("")
    if rep.movers:
        out += [f"#### Biggest movers (top {len(rep.movers)} of {rep.changed:,})", "",
                "| # | record | old | new | delta |", "| ---: | --- | ---: | ---: | ---: |"]
        for i, m in enumerate(rep.movers, 1):
            out.append(f"| {i} | {_md(_who(m.id, m.period, m.row))} | {_side_text(money, m.old)} | "
                       f"{_side_text(money, m.new)} | {_signed(money, m.delta)} |")
        out += ["", "<details><summary>Why they moved</summary>", ""]
        for i, m in enumerate(rep.movers, 1):
            out.append(f"**{i}. {_md(_who(m.id, m.period, m.row))}** ({_signed(money, m.delta)})")
            out.append("")
            for line in _mover_lines(m, money):
                depth = (len(line) - len(line.lstrip(" "))) // 2
                out.append(f"{'  ' * depth}- {_md_code(line.strip())}")
            out.append("")
        out += ["</details>", ""]
    if rep.levels:
        out += ["#### Level and tier changes", "", "| table | kind | up | down |", "| --- | --- | ---: | ---: |"]
        out += [f"| {_md(lv.table)} | {lv.kind} | {lv.up:,} | {lv.down:,} |" for lv in rep.levels]
        out.append("")
    out += ["#### Eligibility and rejects", "", "| | records |", "| --- | ---: |"]
    out += [f"| {label} | {rep.counts.get(key, 0):,} |" for key, label in _STATUS]
    listed = [(label, getattr(rep, key), rep.counts.get(key, 0)) for key, label in _STATUS if getattr(rep, key)]
    if listed:
        out += ["", "<details><summary>Records</summary>", ""]
        for label, entries, n in listed:
            out.append(f"- {label}:")
            out += [f"  - {_md(_who(e.id, e.period, e.row))}" + (f": {_md(e.detail)}" if e.detail else "")
                    for e in entries[:LIST_LIMIT]]
            if n > min(len(entries), LIST_LIMIT):
                out.append(f"  - ... and {n - min(len(entries), LIST_LIMIT):,} more")
        out += ["", "</details>"]
    if checks:
        out += ["", "#### Guards", ""]
        out += [f"- `--{g.name}`: {'**tripped**' if g.tripped else 'ok'}: {_md(g.message)}" for g in checks]
    return "\n".join(out) + "\n"
