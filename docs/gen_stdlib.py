"""Generate docs/stdlib.md from the comments of the stdlib modules (stdlib/*.ipl).

    python docs/gen_stdlib.py           # rewrite docs/stdlib.md
    python docs/gen_stdlib.py --check   # exit 1 if docs/stdlib.md is stale

tests/test_stdlib_doc.py runs the check, so the page never drifts from the code.

The comment conventions it reads (tests/test_stdlib.py enforces them):

- the comment lines above `module NAME` introduce the module;
- the block of comment lines right above a `def`, `param` or `tiers` documents
  it: prose, then structured lines
  `formula: EXPR`, `example: CALL = VALUE`, `zero: CALL = VALUE` (what a zero
  denominator gives); a blank `#` line separates paragraphs.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dsl.front import ast  # noqa: E402
from dsl.front.diagnostics import Diagnostics  # noqa: E402
from dsl.front.syntax import parse_bytes  # noqa: E402

STDLIB = ROOT / "stdlib"
PAGE = ROOT / "docs" / "stdlib.md"
STRUCTURED = re.compile(r"^(formula|example|zero):\s*(.*)$")
EXAMPLE = re.compile(r"^(?P<call>(?P<module>[a-z_][a-z0-9_]*)\.(?P<func>[a-z_][a-z0-9_]*)\((?P<args>.*)\))\s*=\s*(?P<value>.+)$")


@dataclass(frozen=True, slots=True)
class Example:
    """`module.func(args) = value`, from an `example:` or `zero:` line."""

    kind: str  # "example" | "zero"
    call: str
    module: str
    func: str
    args: str
    value: str
    line: int


@dataclass(frozen=True, slots=True)
class Entry:
    """One documented declaration of a module."""

    kind: str  # "def" | "param" | "tiers"
    name: str
    signature: str
    prose: tuple[str, ...]
    formula: str | None
    examples: tuple[Example, ...]
    arity: int
    line: int


@dataclass(frozen=True, slots=True)
class ModuleDoc:
    name: str
    path: str
    intro: tuple[str, ...]
    entries: tuple[Entry, ...]


def _type(t: ast.TypeRef) -> str:
    return f"enum({', '.join(t.members)})" if t.name == "enum" else t.name


def _comment_lines(file: ast.File, source) -> dict[int, str]:
    """1-based line -> comment text without `#` and one following space, for whole-line comments."""
    out: dict[int, str] = {}
    for c in file.comments:
        line = c.span.line
        if source.line_text(line).strip().startswith("#"):
            text = c.text[1:]
            out[line] = text[1:] if text.startswith(" ") else text
    return out


def _block_above(lines: dict[int, str], line: int) -> list[tuple[int, str]]:
    block = []
    n = line - 1
    while n in lines:
        block.append((n, lines[n]))
        n -= 1
    return list(reversed(block))


def extract(path: Path) -> ModuleDoc:
    """Read one module and its doc comments; raises ValueError if it does not parse."""
    diags = Diagnostics()
    source, file = parse_bytes(str(path), path.read_bytes(), diags)
    if file is None or not isinstance(file, ast.ModuleFile):
        raise ValueError(f"{path} is not a module that parses: {[d.message for d in diags.sorted()]}")
    lines = _comment_lines(file, source)
    # the intro is every whole-line comment before `module`, blank lines or not
    intro = tuple(lines[n] for n in sorted(lines) if n < file.span.line)
    entries = []
    for decl in file.decls:
        match decl:
            case ast.Def(name=name, params=params, returns=returns):
                sig = f"{file.name}.{name}({', '.join(f'{p.name} : {_type(p.type)}' for p in params)}) -> {_type(returns)}"
                kind, arity = "def", len(params)
            case ast.Param(name=name, type=t):
                sig = f"{file.name}.{name} : {_type(t)} = {decl.value.span.text}"
                kind, arity = "param", 0
            case ast.Tiers(name=name):
                sig = f"{file.name}.{name} (tiers on {decl.key.span.text}, {decl.mode})"
                kind, arity = "tiers", 0
            case ast.Use():
                continue
            case _:
                raise AssertionError(f"unhandled {type(decl).__name__} in a module")
        prose: list[str] = []
        formula = None
        examples: list[Example] = []
        for n, text in _block_above(lines, decl.span.line):
            m = STRUCTURED.match(text)
            if m is None:
                prose.append(text.rstrip())
                continue
            label, rest = m.groups()
            if label == "formula":
                formula = rest.strip()
                continue
            e = EXAMPLE.match(rest.strip())
            if e is None:
                raise ValueError(f"{path}:{n}: `{label}:` line is not `module.func(args) = value`")
            examples.append(Example(kind=label, line=n, **e.groupdict()))
        while prose and not prose[-1]:
            prose.pop()
        while prose and not prose[0]:
            prose.pop(0)
        entries.append(Entry(kind=kind, name=name, signature=sig, prose=tuple(prose), formula=formula,
                             examples=tuple(examples), arity=arity, line=decl.span.line))
    return ModuleDoc(name=file.name, path=path.relative_to(ROOT).as_posix(), intro=intro,
                     entries=tuple(entries))


def modules() -> list[ModuleDoc]:
    return [extract(p) for p in sorted(STDLIB.glob("*.ipl"))]


def _paragraphs(lines: tuple[str, ...]) -> list[str]:
    return [line.rstrip() for line in lines]


def render(docs: list[ModuleDoc]) -> str:
    out = [
        "# The standard library",
        "",
        "<!-- Generated by docs/gen_stdlib.py from the comments of stdlib/*.ipl: do not edit by hand.",
        "     Run `python docs/gen_stdlib.py` after changing a module; tests/test_stdlib_doc.py fails",
        "     when this page is stale. -->",
        "",
        "Modules written in IPL that ship with the toolchain. A policy imports one with",
        "`use NAME` and calls its functions qualified: `use metrics` then",
        "`metrics.growth(joint_revenue, prior_revenue)`. The examples are test cases of",
        "`tests/test_stdlib.py`.",
        "",
    ]
    for doc in docs:
        out.append(f"- [`{doc.name}`](#{doc.name}): " + ", ".join(f"`{e.name}`" for e in doc.entries))
    out.append("")
    for doc in docs:
        out += [f"## {doc.name}", "", f"Source: `{doc.path}`.", ""]
        out += _paragraphs(doc.intro)
        out += ["", "| name | signature |", "| --- | --- |"]
        for e in doc.entries:
            out.append(f"| `{e.name}` | `{e.signature}` |")
        out.append("")
        for e in doc.entries:
            out += [f"### {doc.name}.{e.name}", "", "```ipl", e.signature, "```", ""]
            out += _paragraphs(e.prose)
            out.append("")
            if e.formula:
                out += [f"- formula: `{e.formula}`"]
            for x in e.examples:
                label = "example" if x.kind == "example" else "zero denominator"
                out.append(f"- {label}: `{x.call} = {x.value}`")
            out.append("")
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    text = render(modules())
    if "--check" in argv:
        if not PAGE.exists() or PAGE.read_text(encoding="utf-8") != text:
            print("docs/stdlib.md is stale: run python docs/gen_stdlib.py", file=sys.stderr)
            return 1
        return 0
    tmp = PAGE.with_suffix(".md.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(PAGE)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
