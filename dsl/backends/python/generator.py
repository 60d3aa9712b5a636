"""The state of generating one variant of a policy's Python (fast or traced), and where each
definition is computed.

`Generator` combines the four parts of the generator, each a mixin over this state:
`Definitions` (dsl/backends/python/definitions.py: inputs, params, metrics, scorecards,
components, the constant phase), `Tables` (tables.py: flat and marginal lookups), `Expressions`
(expressions.py: every expression node) and `Branches` (branches.py: `if`, `match`,
`and`/`or` — lazy, compiled once each). It reads the IR
(dsl/ir/nodes.py) and nothing else of the policy, and writes through the one code writer
(dsl/backends/python/writer.py).

On demand (language §8): a definition is computed where it is first needed; inside a lazy
position (the chosen band's value, a branch, an `otherwise`, the right side of `and`/`or`, the
components of an eligible record) it is computed inside that branch, and a later use elsewhere
first checks whether it already was (`_UNSET`).
"""

from __future__ import annotations

from dsl.backends.python import runtime
from dsl.backends.python.branches import Branches
from dsl.backends.python.definitions import Definitions
from dsl.backends.python.expressions import Expressions
from dsl.backends.python.tables import Tables
from dsl.backends.python.writer import Block, Names
from dsl.ir import nodes as ir


class Generator(Definitions, Tables, Expressions, Branches):
    """Generates the factory `_make(OVR)` of one variant (dsl/backends/python/build.py)."""

    def __init__(self, program: ir.Program, trace: bool):
        self.p = program
        self.trace = trace
        self.names = Names()
        self.touched: set = set()  # definitions computed somewhere already
        self.needs_init: set = set()  # ... and read again elsewhere: initialised to `_UNSET`
        self.current: str | None = None  # the definition being compiled (error sites, traces)
        self.scope = "record"  # "record" | "const" | "def"
        self.tables_code: list[str] = []  # the constant phase's extra lines (bounds, lookups)
        self.mode = runtime.ROUNDING_MODES[program.rounding]
        self.const_exprs: dict[int, str] = {}
        self.const_computed: set = set()
        self.table_consts: dict[tuple, tuple] = {}  # (id(table), what) -> names (`table_const`)
        self.rounded: set[str] = set()  # constant money bounds rounded in the constant phase
        self.defs_needed: set = set()  # user functions called so far (compiled after the record)
        self.slots = {name: i for i, name in enumerate(program.history.names)}
        self.uses_brs = False  # an `if` chain's arm records several branches (traced variant)
        self.in_eligibility = False  # compiling the gates: `eligible` / `reasons` not known yet
        self.pw_pass = False  # compiling pass 1 of a program-wide policy (`pw_inputs`)

    # -- names
    def const(self, value, prefix: str = "K") -> str:
        return self.names.name(value, prefix)

    def temp(self) -> str:
        return self.names.temp()

    @staticmethod
    def var(key: ir.Key) -> str:
        if isinstance(key, tuple):
            return f"m_{key[0]}__{key[1]}"
        return f"v_{key}"

    @staticmethod
    def cvar(key: ir.Key) -> str:
        if isinstance(key, tuple):
            return f"m_{key[0]}__{key[1]}"
        return f"p_{key}"

    def is_const_def(self, key: ir.Key) -> bool:
        d = self.p.definitions[key]
        return isinstance(d, ir.Param) or (isinstance(key, tuple) and isinstance(d, ir.Table))

    # -- ensure a definition is computed in `b`
    def ensure(self, key: ir.Key, b: Block) -> str:
        d = self.p.definitions[key]
        if isinstance(d, ir.Input):
            return self.var(key)
        if self.is_const_def(key):
            name = self.cvar(key)
            if self.scope == "const":
                return self._ensure_in(key, b, name)
            return name  # computed by the constant phase
        if self.scope != "record":
            raise runtime.Unsupported(f"`{key}` is read outside a record context")
        return self._ensure_in(key, b, self.var(key))

    def _ensure_in(self, key: ir.Key, b: Block, name: str) -> str:
        if key in b.computed:
            return name
        if key in self.touched:
            self.needs_init.add(key)
            b.emit(f"if {name} is _UNSET:")
            self.compute(key, b.child())
            b.computed.add(key)
            return name
        self.touched.add(key)
        self.compute(key, b)
        b.computed.add(key)
        return name

    def save(self):
        return set(self.touched), set(self.needs_init)

    def restore(self, state) -> None:
        self.touched, self.needs_init = set(state[0]), set(state[1])

    def site(self, node, text: str = "") -> str:
        """The name of a node's site for traces and errors: (its source, location, expression)."""
        span = node.span
        if span is None:
            return "None"
        return self.const((" ".join(span.text.split()), str(span), text), "S")
