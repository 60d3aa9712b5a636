"""The functions of a generated policy module: the record function (inputs, eligibility,
components, benefits, the total; language §8, §11), the pass 1 of a program-wide policy
(§16) and what the multi-period settlement needs of a record (§15).

Each function here writes lines through a `Generator` (dsl/backends/python/generator.py);
dsl/backends/python/build.py assembles them into one module.
"""

from __future__ import annotations

from dsl.backends.python.generator import Generator
from dsl.backends.python.writer import Block, tup
from dsl.checker.types import Kind
from dsl.ir import nodes as ir

# What the result of an ineligible record holds for a benefit of each kind (language §11).
_ZERO_OF = {Kind.BOOL: "False", Kind.MONEY: "_MZERO"}


def record_body(g: Generator, trace: bool, pre: tuple | None) -> list[str]:
    """Lines of the record function: inputs, eligibility, components and benefits, the total,
    then (multi-period) the settlement's facts. With `pre` (not traced): pass 2 of a
    program-wide policy, whose eligibility and the definitions in `pre` come from pass 1 (`K`,
    see `pre_names`): those pass 1 certainly computed (`pre[0]`) are computed here too; those
    it may have computed (`pre[1]`, `_UNSET` when it did not) are computed when still
    `_UNSET`, as a definition computed on one branch before."""
    p = g.p
    defs = p.definitions
    comps, bens = p.components, p.benefits
    multi = p.multi
    lines: list[str] = []
    body = Block(lines, 2)
    for inp in p.inputs:
        body.emit(f"v_{inp.name} = r[{inp.name!r}]")
    init_at = len(lines)
    if trace:
        body.emit("_trace.clear()")
        body.emit("try:")
        body = Block(lines, 3)
    if pre is not None:
        body.emit(f"{''.join(n + ', ' for n in pre_names(g, pre))}reasons, eligible = K")
        body.computed.update(pre[0])
    else:
        # eligibility (language §11): every condition, no short-circuit
        body.emit("reasons = []")
        g.in_eligibility = True
        gates = []
        for gate in p.gates:
            g.current = "eligibility"
            cond = g.expr(gate.cond, body)
            ok = g.temp()
            body.emit(f"{ok} = {cond}")
            reason = g.const(gate.reason, "S")
            body.emit(f"if not {ok}: reasons.append({reason})")
            gates.append(f"({gate.cond.span.text!r}, {ok}, {reason}, {g.site(gate)}, {g.values_read(gate.cond)})")
        g.in_eligibility = False
        body.emit("eligible = not reasons")
        body.emit("reasons = tuple(reasons)")
        if trace:
            body.emit(f"_ev({{'eligibility': {tup(gates)}, 'eligible': eligible}})")
    for n in bens:  # an ineligible record's level benefits keep their value
        if defs[n].type.kind is Kind.LEVEL:
            g.ensure(n, body)
    body.emit("if eligible:")
    yes = body.child()
    for n in (*comps, *bens):
        g.ensure(n, yes)
    _total(g, yes, trace, multi)
    yes.emit("lr = ()")
    for n in (*comps, *bens):
        if defs[n].requires:
            yes.emit(f"if q_{n}: lr += (({n!r}, tuple(q_{n})),)")
    result = (f"True, reasons, {tup([f'v_{n}' for n in comps])}, {tup([f'v_{n}' for n in bens])}, "
              f"t, s, fa, ca, lr, " + (settle_parts(g, yes, eligible=True) if multi else "None, None"))
    yes.emit(f"return _new(_R, ({result})), list(_trace)" if trace else f"return _new(_R, ({result}))")
    body.emit("else:")
    no = body.child()
    zeros = [f"v_{n}" if defs[n].type.kind is Kind.LEVEL else _ZERO_OF.get(defs[n].type.kind, "_ZERO") for n in bens]
    result = (f"False, reasons, {tup(['_MZERO'] * len(comps))}, {tup(zeros)}, _MZERO, _MZERO, _MZERO, _MZERO, (), "
              + (settle_parts(g, no, eligible=False) if multi else "None, None"))
    no.emit(f"return _new(_R, ({result})), list(_trace)" if trace else f"return _new(_R, ({result}))")
    lines[init_at:init_at] = _inits(g, trace, set(pre[1]) if pre is not None else set())
    if trace:
        lines += ["        except _EvalError:",
                  "            raise",
                  "        except _HistoryMissing as err:",
                  "            raise _EvalError(str(err) + ' (and no `otherwise` gives a fallback)', _at[0]) from None",
                  "        except ArithmeticError as err:",
                  "            raise _EvalError(_arith(err), _at[0]) from None"]
    return lines


def _total(g: Generator, yes: Block, trace: bool, multi: bool) -> None:
    """The total (language §11): the sum of the rounded components `s`, the floors (an
    eligible record's), then the caps: `t`, with the floors' and caps' adjustments `fa`, `ca`;
    multi-period, what a recoverable floor drew `dr` and that floor `rfl` (language §15)."""
    p = g.p
    yes.emit(f"s = {g.added(yes, [f'v_{n}' for n in p.components], '_MZERO')}")
    yes.emit("t = s")
    g.current = "total"
    floors_t, caps_t = [], []
    if multi:
        yes.emit("rf = None")  # the highest recoverable floor
        yes.emit("nf = s")  # the sum, raised by the non-recoverable floors
    for floor in p.floors:
        fv = g.temp()
        yes.emit(f"{fv} = {g.bound(floor, yes)}")
        yes.emit(f"if {fv} > t: t = {fv}")
        if multi and floor.recoverable:
            yes.emit(f"if rf is None or {fv} > rf: rf = {fv}")
        elif multi:
            yes.emit(f"if {fv} > nf: nf = {fv}")
        floors_t.append(f"({floor.value.span.text!r}, {fv})")
    yes.emit("fa = t - s")
    for cap in p.caps:
        cv = g.temp()
        yes.emit(f"{cv} = {g.bound(cap, yes)}")
        yes.emit(f"if {cv} < t: t = {cv}")
        caps_t.append(f"({cap.value.span.text!r}, {cv})")
    yes.emit("ca = t - s - fa")
    if multi:
        # a draw: what the recoverable floor added above the sum and the plain floors
        yes.emit("dr = _MZERO if rf is None or min(t, rf) <= nf else min(t, rf) - nf")
        yes.emit("rfl = _MZERO if rf is None else rf")
    if trace:
        yes.emit(f"_ev({{'total': t, 'sum': s, 'floor_adjustment': fa, 'cap_adjustment': ca, "
                 f"'floors': {tup(floors_t)}, 'caps': {tup(caps_t)}}})")


def _inits(g: Generator, trace: bool, handed: set) -> list[str]:
    """`v_NAME = _UNSET` for the definitions a record function may read before computing them
    (the traced variant: all, so that a trace names only what was computed); not those that
    pass 1 hands on (`handed`: K sets them, or `_UNSET`)."""
    if trace:
        names = sorted(k for k, d in g.p.definitions.items() if isinstance(k, str)
                       and not isinstance(d, (ir.Input, ir.Param, ir.Function)))
    else:
        names = sorted(n for n in g.needs_init - handed if isinstance(n, str))
    return [f"        v_{n} = _UNSET" for n in names]


def pw_inputs(g: Generator) -> tuple[list[str], tuple]:
    """`pw_inputs(r, H)`: pass 1 of a program-wide policy — per pool / rank / percentile,
    (value, among): the share or value (None where `among` does not hold) and the condition;
    and `K`, the values pass 2 (`evaluate_pw`) starts from. Returns the lines and the keys
    of the definitions in `K`."""
    p = g.p
    state, saved_cur = g.save(), g.current
    g.touched, g.needs_init = set(), set()
    g.pw_pass = True
    lines: list[str] = []
    b = Block(lines, 2)
    for inp in p.inputs:
        b.emit(f"v_{inp.name} = r[{inp.name!r}]")
    init_at = len(lines)
    b.emit("reasons = []")
    g.in_eligibility = True
    for gate in p.gates:
        g.current = "eligibility"
        ok = g.temp()
        b.emit(f"{ok} = {g.expr(gate.cond, b)}")
        b.emit(f"if not {ok}: reasons.append({g.const(gate.reason, 'S')})")
    g.in_eligibility = False
    b.emit("eligible = not reasons")
    b.emit("reasons = tuple(reasons)")
    items = []
    for e in p.sites:
        g.current = "program-wide"
        among = g.temp()
        b.emit(f"{among} = {g.expr(e.among, b) if e.among is not None else 'True'}")
        v = g.temp()
        b.emit(f"{v} = None")
        b.emit(f"if {among}:")
        sub = b.child()
        sub.emit(f"{v} = {g.expr(e.share if isinstance(e, ir.Pool) else e.operand, sub)}")
        items.append(f"({v}, {among})")
    # what pass 2 starts from (`evaluate_pw`): the definitions pass 1 certainly computed
    certain = tuple(sorted(b.computed, key=str))
    # computed on some branch only (`_UNSET` otherwise); not a component or benefit with
    # requirements, whose requirement list exists only where it was computed
    maybe = tuple(sorted((k for k in g.touched - b.computed if isinstance(k, str)
                          and not (isinstance(p.definitions[k], ir.Component) and p.definitions[k].requires)),
                         key=str))
    pre = (certain, maybe)
    b.emit(f"return ({', '.join(items)},), ({''.join(n + ', ' for n in pre_names(g, pre))}reasons, eligible)")
    if g.trace:
        lines[init_at:init_at] = _inits(g, True, set())
    else:
        lines[init_at:init_at] = [f"        v_{n} = _UNSET" for n in sorted(g.needs_init | set(maybe))
                                  if isinstance(n, str)]
    g.restore(state)
    g.pw_pass = False
    g.current = saved_cur
    return ["    def pw_inputs(r, H=None):"] + lines, pre


def pre_names(g: Generator, pre: tuple) -> list[str]:
    """The locals pass 1 hands to pass 2 (`K`, then `reasons, eligible`): the definitions it
    certainly computed, the requirement lists of those that are components and benefits (the
    result's line reasons read them), then the definitions it may have computed."""
    certain, maybe = pre
    names = [g.var(key) for key in certain]
    for key in certain:
        d = g.p.definitions[key]
        if isinstance(key, str) and isinstance(d, ir.Component) and d.requires:
            names.append(f"q_{key}")
    return names + [g.var(key) for key in maybe]


def settle_parts(g: Generator, b: Block, eligible: bool) -> str:
    """Code for the result's `history` and `settlement` of one record (eligible or not): the
    values history stores and the `streak` conditions; this period's hold portions, the
    `until` conditions, the clawbacks' conditions and portions, the draw and the recoverable
    floor (language §15)."""
    p = g.p
    defs = p.definitions
    saved = g.current
    g.current = "settlement"
    vals, conds = [], []
    for name in p.history.names:
        d = defs[name]
        if not eligible and isinstance(d, ir.Component) and d.type.kind is not Kind.LEVEL:
            vals.append(_ZERO_OF.get(d.type.kind, "_ZERO"))
        else:
            vals.append(g.ensure(name, b))
    for cond in p.history.streaks:
        t = g.temp()
        b.emit(f"{t} = {g.expr(cond, b)}")
        conds.append(t)
    holds, until = [], []
    for comp in p.components:
        for hold in defs[comp].holds:
            if eligible:
                t = g.temp()
                b.emit(f"{t} = {g.expr(hold.portion, b)}")
                holds.append(t)
            else:
                holds.append("None")
            # language §8: `until` only while a hold of the component is open
            t = g.temp()
            b.emit(f"{t} = False")
            b.emit(f"if _hold_open(H, {comp!r}):")
            sub = b.child()
            sub.emit(f"{t} = {g.expr(hold.until, sub)}")
            until.append(t)
    claws = []
    for cb in p.clawbacks:
        # `when` only where an origin in the window has money left to recover or still held;
        # `recover` only where `when` holds
        w = g.temp()
        b.emit(f"{w} = False")
        b.emit(f"if _clawback_due(H, {cb.component!r}, {cb.within}):")
        sub = b.child()
        sub.emit(f"{w} = {g.expr(cb.when, sub) if cb.when is not None else 'True'}")
        rv = g.temp()
        b.emit(f"{rv} = _ONE")
        if cb.recover is not None:
            b.emit(f"if {w}:")
            sub = b.child()
            sub.emit(f"{rv} = {g.expr(cb.recover, sub)}")
        claws.append(f"({w}, {rv})")
    g.current = saved
    draw = "dr, rfl" if eligible else "_MZERO, _MZERO"
    return f"({tup(vals)}, {tup(conds)}), ({tup(holds)}, {tup(until)}, {tup(claws)}, {draw})"
