"""One policy, one generated Python module: the assembly of its parts and the namespace it
runs in.

Receives an IR `Program`. `build(program, trace)` returns the module's source, its listing and
a function `make(overrides)` that runs it (dsl/backends/python/module.py, the one `exec`) and gives the
record function, the params in force, what explanations need of the tables, and the extras of
a multi-period or program-wide policy. The module is a factory `_make(OVR)`:

    def _make(OVR):
        def f_...(a_...):        # the policy's and its modules' `def`s
        p_... = ...              # phase 0, constants: params (with `--set` overrides), module
        c_... = ...              #   params and tables, thresholds, rates, bounds — once per run
        def evaluate(r, H=None, PW=None):   # phase 1: one record
        def pw_inputs(r, H=None):           # pass 1 of a program-wide policy (language §16)
        def evaluate_pw(r, H, PW, K):       # pass 2 from pass 1's values (fast variant)
        return evaluate, params, tables, extras
"""

from __future__ import annotations

import bisect
import decimal
from collections.abc import Callable
from decimal import Decimal
from typing import NamedTuple

from dsl.backends.python import runtime
from dsl.backends.python.generator import Generator
from dsl.backends.python.module import load
from dsl.backends.python.record import pw_inputs, record_body
from dsl.backends.python.writer import Block
from dsl.ir import nodes as ir


def build(program: ir.Program, trace: bool, result_type, table_info):
    """(source, make) of one variant; `result_type` is the named tuple a record's result is,
    `table_info(values)` turns the tables' constants into what explanations read."""
    g = Generator(program, trace)
    defs = program.definitions

    # phase 0, constants: params (with overrides) and module params and tables, once per run
    const_lines: list[str] = []
    cb = Block(const_lines, 1)
    g.scope = "const"
    for name in program.order:
        if isinstance(defs[name], ir.Param):
            g.ensure(name, cb)
    for key in sorted(k for k in defs if isinstance(k, tuple)):
        # a module's tables depend on no input (language §3): constants, like its params
        if isinstance(defs[key], (ir.Param, ir.Table)):
            g.ensure(key, cb)
    g.const_computed = set(cb.computed)
    g.scope = "record"

    record_lines = record_body(g, trace, None)
    pw_lines: list[str] = []
    pw2_lines: list[str] = []
    if program.multi and program.sites:
        pw_lines, pre = pw_inputs(g)
        if not trace:
            state = g.save()
            g.touched, g.needs_init = set(pre[0]) | set(pre[1]), set()
            pw2_lines = ["    def evaluate_pw(r, H, PW, K):"] + record_body(g, False, pre)
            g.restore(state)
    table_entries = _table_consts(g)
    func_lines = _functions(g)

    src = ["def _make(OVR):"]
    if trace:
        src += ["    _at = [None]", "    _trace = []", "    _ev = _trace.append",
                "    def _br(key, value):", "        _ev({'branch': key})", "        return value"]
        if g.uses_brs:
            src += ["    def _brs(keys, value):", "        for key in keys:", "            _ev({'branch': key})",
                    "        return value"]
    extras = []
    if program.multi:
        amounts = [g.const_expr(e.amount) if isinstance(e, ir.Pool) else "None" for e in program.sites]
        budget = g.const_expr(program.budget) if program.budget is not None else "None"
        extras.append(f"'pool_amounts': ({', '.join(amounts)}{',' if amounts else ''})")
        extras.append(f"'budget': {budget}")
        extras.append(f"'pw_inputs': {'pw_inputs' if pw_lines else 'None'}")
        extras.append(f"'evaluate_pw': {'evaluate_pw' if pw2_lines else 'None'}")
    src += func_lines + const_lines + g.tables_code
    src.append("    def evaluate(r, H=None, PW=None):")
    src += record_lines + pw_lines + pw2_lines
    params_out = ", ".join(f"{n!r}: p_{n}" for n in program.order if isinstance(defs[n], ir.Param))
    src.append(f"    return evaluate, {{{params_out}}}, _tables({{{', '.join(table_entries)}}}), "
               f"{{{', '.join(extras)}}}")
    source = "\n".join(src) + "\n"
    namespace = {**helpers(program, result_type, table_info), **g.names.values}
    filename = f"<ipl {program.source.path if program.source else program.name}{' traced' if trace else ''}>"
    make = load(source, filename, namespace)["_make"]

    def run(overrides):
        with decimal.localcontext(runtime.CONTEXT):
            return make(overrides)

    return Built(source, listing(program, trace, source, g.names.values), run)


class Built(NamedTuple):
    """One variant of a policy's module: the source executed, the same with a header naming
    its constants (`ipl compile --emit python`), and `make(overrides)`."""

    source: str
    listing: str
    make: Callable


def listing(program: ir.Program, trace: bool, source: str, constants: dict) -> str:
    """The generated module as people read it: what it is, the constants of its namespace by
    name (`K…` numbers, `S…` texts, ...), then the source as executed."""
    where = program.source.path if program.source else program.name
    head = [f"# The Python module IPL generated for {where} ({'traced' if trace else 'fast'} variant).",
            "# It runs in a namespace holding the policy's constants, by name:"]
    head += [f"#   {name} = {value!r}" for name, value in constants.items()]
    head += ["# and the runtime's helpers, named with a leading underscore (dsl/backends/python/build.py",
             "# `helpers`, dsl/backends/python/runtime.py). `_make(OVR)` is called once per run with",
             "# the `--set` overrides; `evaluate(r)` once per record.", ""]
    return "\n".join(head) + "\n" + source


def helpers(program: ir.Program, result_type, table_info) -> dict:
    """The runtime's helpers a policy's module reads, by the names the module uses (its
    constants, `K…` and `S…`, are added by `build`)."""
    q = runtime.quantum(program.minor_units)
    return {
        "_UNSET": runtime.UNSET, "_ZERO": runtime.ZERO, "_ONE": runtime.ONE, "_Q": q, "_MZERO": q * 0,
        "_Q_PCT": Decimal("0.01"), "_MODE": runtime.ROUNDING_MODES[program.rounding], "_clamp": runtime.clamp,
        "_bisect": bisect.bisect_right, "_flat_steps": runtime.flat_steps, "_marginal_table": runtime.marginal_table,
        "_EvalError": runtime.EvalError, "_DIVERR": (ZeroDivisionError, decimal.InvalidOperation),
        "_not_div": runtime.not_division_by_zero, "_fmt": runtime.fmt_value, "_div": runtime.divide,
        "_ops": runtime.computed, "_arith": runtime.arithmetic_reason, "_tables": table_info,
        "_HistoryMissing": runtime.Missing, "_pwv": runtime.program_wide, "_missing_period": runtime.missing_period,
        "_Dec": Decimal, "_hold_open": runtime.hold_open, "_clawback_due": runtime.clawback_due,
        "_new": tuple.__new__, "_R": result_type,
    }


def _functions(g: Generator) -> list[str]:
    """The user functions (`def`, module defs) the code calls: nested functions of `_make`, so
    that they see the constants."""
    lines_out: list[str] = []
    done: set = set()
    while g.defs_needed - done:
        key = min(g.defs_needed - done, key=str)
        done.add(key)
        fn: ir.Function = g.p.definitions[key]
        fname = f"f_{key[0]}__{key[1]}" if isinstance(key, tuple) else f"f_{key}"
        params = ", ".join(f"a_{name}" for name, _ in fn.params)
        lines: list[str] = []
        fb = Block(lines, 2)
        g.scope = "def"
        g.current = f"def {key[0]}.{key[1]}" if isinstance(key, tuple) else f"def {key}"
        code = g.expr(fn.body, fb)
        fb.emit(f"return {code}")
        lines_out.append(f"    def {fname}({params}):")
        lines_out.extend(lines)
    return lines_out


def _table_consts(g: Generator) -> list[str]:
    """What explanations need of the policy's tables: band bounds and constant values."""
    out = []
    for key, d in g.p.definitions.items():
        if not isinstance(d, ir.Table) or isinstance(key, tuple):
            continue
        refs = [g.const_expr(band.threshold) for band in d.bands]
        vals = [g.const_expr(band.value) if band.value.constant else "None" for band in d.bands]
        out.append(f"{key!r}: (({', '.join(refs)},), ({', '.join(vals)},))")
    return out
