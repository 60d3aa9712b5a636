"""The one code writer of the Python backend: every line of generated Python goes through it.

Generated code is indented blocks of lines (`Block`); values the code needs — numbers, user
text, tables — are never spelled into it but declared once, by name, in the namespace it runs
in (`Names`): user text reaches generated code only as a constant of that namespace, and an
identifier only as a grammar-checked name behind a fixed prefix (`v_`, `p_`, `f_`, `a_`).
Receives nothing from other passes; emits nothing.
"""

from __future__ import annotations


class Block:
    """Lines at one indentation, and the definitions certainly computed when they run (the
    generator's bookkeeping for on-demand evaluation, language §8)."""

    def __init__(self, lines: list[str], indent: int, computed: set | None = None):
        self.lines = lines
        self.indent = indent
        self.computed = set() if computed is None else computed

    def emit(self, line: str) -> None:
        self.lines.append("    " * self.indent + line)

    def child(self) -> Block:
        """The block of a statement's body: one level deeper, in the same lines."""
        return Block(self.lines, self.indent + 1, set(self.computed))

    def scratch(self) -> Block:
        """A child with lines of its own: code for a branch that may still become an inline
        expression; `adopt` keeps its lines when it becomes a statement after all."""
        return Block([], self.indent + 1, set(self.computed))

    def adopt(self, sub: Block) -> None:
        self.lines.extend(sub.lines)


class Names:
    """The constants of a generated module, each declared once: `name(value)` gives the name
    that holds `value` in the namespace (`K0`, `S1`, ...; the prefix says what it is)."""

    def __init__(self):
        self.values: dict[str, object] = {}
        self._ids: dict[tuple, str] = {}
        self._temps = 0

    def name(self, value, prefix: str = "K") -> str:
        key = (prefix, type(value).__name__, str(value))
        got = self._ids.get(key)
        if got is None:
            got = f"{prefix}{len(self._ids)}"
            self._ids[key] = got
            self.values[got] = value
        return got

    def temp(self) -> str:
        """A fresh local name."""
        self._temps += 1
        return f"t{self._temps}"


def tup(items: list[str]) -> str:
    """A tuple display of generated names."""
    return f"({', '.join(items)}{',' if items else ''})"


def function(name: str, params: str, body: list[str], indent: int = 0) -> list[str]:
    """`def name(params):` and its (already indented) body."""
    return ["    " * indent + f"def {name}({params}):", *body]
