"""Lazy branches as generated Python: `if`, `match` and the right side of `and` / `or`.

A mixin of `Generator` (dsl/backends/python/generator.py). Only the branch chosen is evaluated
(language §8), and each branch is compiled once: into a scratch block, kept as statements only
when it needs statements, else inlined as a conditional expression. (Compiling a branch again
after seeing that it needs statements doubled the work at every level of nesting.) In the
traced variant each branch records the decision it took (`ir.decision_key`, for coverage).
"""

from __future__ import annotations

from dsl.backends.python.expressions import MAX_EXPR_DEPTH
from dsl.backends.python.writer import Block
from dsl.ir import nodes as ir
from dsl.ir.nodes import decision_key


# A `match` of more arms finds its arm in a dict (`arm_lookup`) rather than one test per arm.
INLINE_ARMS = 12


class Branches:
    """`and`/`or`, `if` chains and `match` (a mixin of `Generator`)."""

    def logic(self, e: ir.Binary, b: Block, d: int) -> str:
        """`a and b`, `a or b`: the right operand is lazy, compiled once into a block of its own
        and kept as a statement only when it needs statements."""
        left = self.expr(e.left, b, d)
        sub = b.scratch()
        right = self.expr(e.right, sub, d)
        if not sub.lines:
            return f"({left} {e.op} {right})"
        t = self.temp()
        b.emit(f"{t} = {left}")
        b.emit(f"if {'' if e.op == 'and' else 'not '}{t}:")
        sub.emit(f"{t} = {right}")
        b.adopt(sub)
        return t

    def match(self, e: ir.Match, b: Block, d: int) -> str:
        subject = self.expr(e.subject, b, d)
        if not subject.isidentifier():
            tmp = self.temp()
            b.emit(f"{tmp} = {subject}")
            subject = tmp
        cases, default, arm_ids, default_id, names = [], None, [], None, []
        for i, arm in enumerate(e.arms):
            tests: list[str] | None = []
            for pat in arm.patterns:
                match pat.kind:
                    case "else":
                        tests = None
                        break
                    case "true":
                        tests.append(f"{subject} is True")
                    case "false":
                        tests.append(f"{subject} is False")
                    case "name":
                        tests.append(f"{subject} == {self.const(pat.name, 'S')}")
                    case _:
                        raise AssertionError(f"unhandled pattern {pat.kind}")
            if tests is None:
                default, default_id = arm.value, i
                break
            cases.append((" or ".join(tests), arm.value))
            arm_ids.append(i)
            names.append([p.name for p in arm.patterns] if all(p.kind == "name" for p in arm.patterns) else None)
        if default is None:
            *cases, (_, default) = cases  # exhaustive (E310): the last arm needs no test
            default_id = arm_ids.pop()
            names.pop()
        keys = [decision_key("match", e, i) for i in (*arm_ids, default_id)]
        if len(cases) > INLINE_ARMS and None not in names:
            return self.arm_lookup(b, subject, names, [v for _, v in cases], default, d, keys)
        return self.branches(b, cases, default, d, keys)

    def branches(self, b: Block, cases: list[tuple[str, ir.Expr]], default: ir.Expr, d: int,
                 keys: list[tuple] | None = None) -> str:
        """Lazy branches: a conditional expression when no branch needs statements. `keys` (one
        per case, then the default): the traced variant records the branch taken."""
        hit = self._branch_hit(keys)
        if not cases:
            return hit(0, self.expr(default, b, d))
        arms = []
        for i, (cond, value) in enumerate((*cases, (None, default))):
            sub = b.scratch()
            arms.append((cond, sub, hit(i, self.expr(value, sub, d))))
        if len(cases) <= 8 and not any(sub.lines for _, sub, _ in arms):
            code = arms[-1][2]
            for cond, _, value in reversed(arms[:-1]):
                code = f"({value} if {cond} else {code})"
            return code
        t = self.temp()
        for i, (cond, sub, value) in enumerate(arms):
            b.emit("else:" if cond is None else f"{'if' if i == 0 else 'elif'} {cond}:")
            sub.emit(f"{t} = {value}")
            b.adopt(sub)
        return t

    def if_chain(self, e: ir.If, b: Block, depth: int) -> str:
        """`if c0 then v0 else if c1 then v1 … else w` (a rate ladder), each part compiled once,
        in source order: a conditional expression when no part needs statements, else flat
        statements — nested `else:` blocks, one per rung, would run into Python's 100 levels
        of indentation:

            t = _UNSET              # only when a later condition needs statements
            if c0: t = v0
            elif c1: t = v1         # a condition without statements: an `elif`
            if t is _UNSET:         # c2 needs statements (only run when c0, c1 fail)
                <statements of c2>
                if c2: t = v2
                else: t = w

        The chain is cut where the nesting reaches MAX_EXPR_DEPTH: the rest is the last
        `else`, an expression of its own, so that the conditional expression is the one nested
        `if`s give. In the traced variant an arm records the branches nested `if`s record: its
        `then` and the `else` of every rung above it (`_brs`)."""
        rungs: list[tuple[ir.If, int]] = []  # each `if` with the depth of its operands
        node, dep = e, depth
        while True:
            d = 0 if dep >= MAX_EXPR_DEPTH else dep + 1
            rungs.append((node, d))
            if not isinstance(node.otherwise, ir.If) or d >= MAX_EXPR_DEPTH:
                break
            node, dep = node.otherwise, d
        level = b  # the block of the current `if` statement; conditions computed there hold below
        levels: list[tuple[Block, list]] = [(b, [])]  # (block, [(cond, then block, value, rung)])
        lines = False
        for k, (node, d) in enumerate(rungs):
            if k == 0:
                cond = self.expr(node.cond, b, d)
            else:
                sub = Block([], b.indent + 1, set(level.computed))
                cond = self.expr(node.cond, sub, d)
                if sub.lines:
                    level, lines = sub, True
                    levels.append((sub, []))
            if self.trace:  # the keys' constants named in source order, as for nested `if`s
                self.const(decision_key("if", node, "then"), "S")
                self.const(decision_key("if", node, "else"), "S")
            sub = level.scratch()
            value = self.expr(node.then, sub, d)
            lines = lines or bool(sub.lines)
            levels[-1][1].append((cond, sub, value, k))
        last, d = rungs[-1]
        other = level.scratch()
        other_value = self.expr(last.otherwise, other, d)
        then_keys = [decision_key("if", n, "then") for n, _ in rungs]
        else_keys = [decision_key("if", n, "else") for n, _ in rungs]
        if not lines and not other.lines:
            code = other_value
            for cond, _, value, k in reversed(levels[0][1]):
                code = f"({self._hit(value, then_keys[k])} if {cond} else {self._hit(code, else_keys[k])})"
            return code
        t = self.temp()
        if len(levels) > 1:
            b.emit(f"{t} = _UNSET")
        for i, (blk, arms) in enumerate(levels):
            for j, (cond, sub, value, k) in enumerate(arms):
                blk.emit(f"{'elif' if j else 'if'} {cond}:")
                sub.emit(f"{t} = {self._hit(value, then_keys[k], *reversed(else_keys[:k]))}")
                blk.adopt(sub)
            if i + 1 == len(levels):
                blk.emit("else:")
                other.emit(f"{t} = {self._hit(other_value, *reversed(else_keys))}")
                blk.adopt(other)
            if i:
                b.emit(f"if {t} is _UNSET:")
                b.adopt(blk)
        return t

    def _hit(self, code: str, *keys: tuple) -> str:
        """`code` that also records the branches `keys` in this order (traced variant only)."""
        if not self.trace or not keys:
            return code
        if len(keys) == 1:
            return f"_br({self.const(keys[0], 'S')}, {code})"
        self.uses_brs = True
        return f"_brs({self.const(tuple(keys), 'S')}, {code})"

    def arm_lookup(self, b: Block, subject: str, names: list[list[str]], values: list[ir.Expr],
                   default: ir.Expr, d: int, keys: list[tuple]) -> str:
        """A `match` of many arms on names (enum members, levels): the arm from a dict (the
        first arm naming the subject; none: the default), then its value by `dispatch` —
        one `elif` per arm is too deep for Python's compiler past about 3,000 arms."""
        hit = self._branch_hit(keys)
        arm_of: dict[str, int] = {}
        for i, arm_names in enumerate(names):
            for name in arm_names:
                arm_of.setdefault(name, i)
        p, t = self.temp(), self.temp()
        b.emit(f"{p} = {self.const(arm_of, 'L')}.get({subject}, {len(values)})")
        arms = [*values, default]
        self.dispatch(b, p, len(arms), lambda i, blk: blk.emit(f"{t} = {hit(i, self.expr(arms[i], blk, d))}"))
        return t

    def dispatch(self, b: Block, index: str, count: int, case) -> None:
        """`case(i, block)` for the value i of `index` (0 ≤ i < count): a balanced `if` tree on
        the index, log2(count) tests deep, each case compiled once and evaluated only when chosen."""
        def tree(lo: int, hi: int, blk: Block) -> None:
            if hi - lo == 1:
                case(lo, blk)
                return
            mid = (lo + hi) // 2
            blk.emit(f"if {index} < {mid}:")
            tree(lo, mid, blk.child())
            blk.emit("else:")
            tree(mid, hi, blk.child())

        tree(0, count, b)

    def _branch_hit(self, keys: list[tuple] | None):
        """code -> code that also records the branch taken (traced variant only)."""
        if not self.trace or keys is None:
            return lambda i, code: code
        names = [self.const(k, "S") for k in keys]
        return lambda i, code: f"_br({names[i]}, {code})"
