"""The dependency graph: cycles and the order definitions are computed in.

The third stage of the names pass (dsl/checker/names.py). Receives a file and the
`Resolution` whose `deps` references.py filled. Guarantees `visit_order` (dependencies first,
even when there are cycles: the type pass visits in it, so that inferring one definition never
recurses down a long chain), `cyclic`, and a topological `order` — stable by declaration order
— when the graph is acyclic. The pseudo-nodes `eligibility` and `total` take part in the graph
but not in `order`. History dependencies (`prior`) are not edges: they read earlier periods.

Emits: E202 (cyclic definitions, the cycle listed `a -> b -> a`), E203 (recursive `def`).
Long chains are legal: every walk here is iterative.
"""

from __future__ import annotations

import heapq
from collections import deque

from dsl.checker.resolution import ELIGIBILITY, TOTAL, Resolution
from dsl.front import ast
from dsl.front.diagnostics import Diagnostics


def order(file, r: Resolution, diags: Diagnostics) -> None:
    """Report every cycle once; set `visit_order`, `cyclic` and, without cycles, `order`."""
    is_module = isinstance(file, ast.ModuleFile)
    nodes = list(r.decls) + ([ELIGIBILITY, TOTAL] if not is_module else [])
    succ = {n: sorted(d for d in r.deps.get(n, ()) if d in r.deps) for n in nodes}
    position = {n: i for i, n in enumerate(nodes)}
    r.visit_order = tuple(n for n in _post_order(nodes, succ) if n in r.decls)
    _cycles(file, r, diags, nodes, succ, position)
    if r.cyclic:
        return
    r.order = tuple(n for n in _topological(nodes, succ, position) if n in r.decls)


def _cycles(file, r: Resolution, diags: Diagnostics, nodes: list[str], succ: dict[str, list[str]],
            position: dict[str, int]) -> None:
    """E202 / E203 for each strongly connected component with a cycle, into `r.cyclic`."""
    reported: set[frozenset[str]] = set()
    for comp in _sccs(nodes, succ):
        if len(comp) == 1 and comp[0] not in succ[comp[0]]:
            continue
        members = set(comp)
        r.cyclic |= members
        start = min(comp, key=lambda n: position[n])
        cycle = _cycle_from(start, members, succ)
        key = frozenset(comp)
        if key in reported:
            continue
        reported.add(key)
        shown = " -> ".join(_display(n) for n in cycle)
        span = _span_of(file, r, start)
        if all(r.kinds.get(n) == "def" for n in comp):
            msg = (f"`{start}` calls itself" if len(comp) == 1 else f"recursive functions: {shown}")
            diags.error("E203", msg, span, help="IPL is total: a def may not call itself, "
                        "directly or through other defs")
        else:
            diags.error("E202", f"cyclic definitions: {shown}", span,
                        help="a definition may not depend on itself; to read an earlier "
                        "period use `prior(...)`")


def _topological(nodes: list[str], succ: dict[str, list[str]], position: dict[str, int]) -> list[str]:
    """Kahn's algorithm, stable by declaration order (an acyclic graph)."""
    indeg = {n: 0 for n in nodes}
    users: dict[str, list[str]] = {n: [] for n in nodes}
    for n in nodes:
        for d in succ[n]:
            indeg[n] += 1
            users[d].append(n)
    ready = [position[n] for n in nodes if indeg[n] == 0]
    heapq.heapify(ready)
    out: list[str] = []
    while ready:
        n = nodes[heapq.heappop(ready)]
        out.append(n)
        for u in users[n]:
            indeg[u] -= 1
            if indeg[u] == 0:
                heapq.heappush(ready, position[u])
    return out


def _span_of(file, r: Resolution, name: str):
    if name in r.decls:
        return r.decls[name].name_span
    for decl in file.decls:
        if (name == ELIGIBILITY and isinstance(decl, ast.Eligibility)) or \
                (name == TOTAL and isinstance(decl, ast.Total)):
            return decl.span
    return file.header.span if not isinstance(file, ast.ModuleFile) else file.name_span


def _display(node: str) -> str:
    return {ELIGIBILITY: "eligibility", TOTAL: "total"}.get(node, node)


def _sccs(nodes: list[str], succ: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components, iterative (long chains are legal)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on.add(v)
            recurse = False
            for j in range(i, len(succ[v])):
                w = succ[v][j]
                if w not in index:
                    work.append((v, j + 1))
                    work.append((w, 0))
                    recurse = True
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            if recurse:
                continue
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(comp)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
    return out


def _post_order(nodes: list[str], succ: dict[str, list[str]]) -> list[str]:
    """Depth-first post-order (a node after what it reads), iterative; back edges are skipped."""
    done: set[str] = set()
    out: list[str] = []
    for root in nodes:
        if root in done:
            continue
        done.add(root)
        work = [(root, iter(succ[root]))]
        while work:
            node, it = work[-1]
            for w in it:
                if w not in done:
                    done.add(w)
                    work.append((w, iter(succ[w])))
                    break
            else:
                work.pop()
                out.append(node)
    return out


def _cycle_from(start: str, members: set[str], succ: dict[str, list[str]]) -> list[str]:
    """A shortest cycle through `start` inside one strongly connected component."""
    prev: dict[str, str] = {}
    queue = deque([start])
    seen = {start}
    while queue:
        v = queue.popleft()
        for w in succ[v]:
            if w not in members:
                continue
            if w == start:
                path = [v]
                while path[-1] != start:
                    path.append(prev[path[-1]])
                return list(reversed(path)) + [start]
            if w not in seen:
                seen.add(w)
                prev[w] = v
                queue.append(w)
    return [start, start]

