"""The layers of the package (docs/architecture.md): imports point down the pipeline.

    front → checker → ir → backends → run → explain → tools → cli

A module may import from its own package and from the packages below it, at module level
or inside a function alike; never from a package above it. Inside a package the imports form
no cycle. The generated-code runtime (`dsl/backends/python/runtime.py`) imports neither the
compiler nor the runner; only `dsl/front/syntax.py` imports lark; only one module executes
generated code.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "dsl"
LAYERS = ("front", "checker", "ir", "backends", "run", "explain", "tools", "cli")


def modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = modules()


def imports(name: str) -> set[str]:
    """Every `dsl` module `name` imports, at module level or in a function."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            continue
        found.update(t for t in targets if t in MODULES and t != name and not name.startswith(t + "."))
    return found


def layer(name: str) -> int:
    parts = name.split(".")
    if len(parts) == 1:
        return -1  # `dsl` itself: the version
    return LAYERS.index(parts[1])


def test_every_module_is_in_a_layer():
    assert all(layer(m) >= -1 for m in MODULES)  # LAYERS.index raises for a stray module
    assert {m.split(".")[1] for m in MODULES if m != "dsl"} == set(LAYERS)


def test_imports_point_down():
    upward = sorted(f"{m} -> {t}" for m in MODULES for t in imports(m) if layer(t) > layer(m))
    assert upward == []


def test_no_import_cycles():
    graph = {m: imports(m) for m in MODULES}
    cycles = []
    for start in graph:
        stack, seen = [(start, [start])], set()
        while stack:
            node, path = stack.pop()
            for nxt in graph[node]:
                if nxt == start:
                    cycles.append(" -> ".join(path + [start]))
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, path + [nxt]))
    assert sorted(set(min(c.split(" -> ")[:-1]) for c in cycles)) == []


def test_the_runtime_imports_neither_the_compiler_nor_the_runner():
    runtime = "dsl.backends.python.runtime"
    assert {m for m in imports(runtime) if m.startswith(("dsl.run", "dsl.backends.python.codegen"))} == set()


def test_only_the_parser_imports_lark():
    users = sorted(m for m, p in MODULES.items() if "import lark" in p.read_text() or "from lark" in p.read_text())
    assert users == ["dsl.front.syntax"]


def test_one_module_executes_generated_code():
    execs = defaultdict(int)
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "exec":
                execs[name] += 1
    assert list(execs) == ["dsl.backends.python.module"]
