"""The one place that runs generated Python: compiles a generated source into a module's
namespace, with the file name tracebacks and `ipl compile --emit python` show.

Receives a source made by the code writer (dsl/backends/python/writer.py) and the constants it
names. Guarantees the namespace after execution; a source Python's compiler refuses (too deep,
too long) raises `Unsupported` with the reason in the policy's terms (`too_deep`). Emits nothing.
"""

from __future__ import annotations

import functools

from dsl.ir.lower import Unsupported


@functools.lru_cache(maxsize=128)
def _code(source: str, filename: str):
    return compile(source, filename, "exec")


def load(source: str, filename: str, namespace: dict) -> dict:
    """Run `source` in `namespace` (updated in place and returned). Compiled code is cached by
    source: a policy's tests and every run of a test suite make the same module again."""
    try:
        code = _code(source, filename)
    except (RecursionError, MemoryError, SyntaxError) as err:
        raise Unsupported(too_deep(err)) from None
    exec(code, namespace)  # noqa: S102 - our own generated code: user text only as named constants
    return namespace


def too_deep(err: Exception) -> str:
    """Why Python's compiler refused the generated code, in the policy's terms, with what to
    change. Long expressions are split, `if` chains laid flat, big tables and matches bisected:
    what is left is nesting that the policy's own structure makes, where a definition first
    needed inside a branch or an `otherwise` is computed there."""
    what = "the policy is too deeply nested to compile"
    text = getattr(err, "msg", None) or str(err) or type(err).__name__
    if "statically nested blocks" in text:
        return (f"{what}: more than 20 `otherwise` are evaluated inside one another (Python's limit; an "
                "`otherwise` whose expression reads a definition with an `otherwise` of its own nests it); "
                "help: shorten the chain of definitions guarded by `otherwise`, e.g. guard the division "
                "once, where the chain starts")
    if "indentation" in text:
        return (f"{what}: branches of `if`, `match`, `otherwise` and `and`/`or` nest more than 100 levels "
                "deep (Python's limit; a definition first needed inside a branch is computed there, so its "
                "own branches count too); help: shorten chains of definitions that are each first needed "
                "inside another one's branch")
    return (f"{what}: Python's compiler gave up on the generated code ({type(err).__name__}: {text}); "
            "help: split the longest expressions into named metrics")
