"""`use NAME`: find, parse and check the modules a policy imports.

Receives the `use` declarations of a policy (or module) and the path of the file
that holds them. A module `NAME` is `NAME.ipl` in the policy's own folder if
there is one (a program's own module wins over the standard library), else
`stdlib/NAME.ipl` loaded with `importlib.resources` (so that it ships in the
wheel). A resolved path must stay inside the policy's folder: `..`, absolute
paths and symlinks that lead out are refused (§16).

Guarantees a `CheckedModule` per module that parsed and checked cleanly; a
module with errors reports them in its own file and is left out (names.py then
stays silent about it: the error is already shown).

Emits: E200 (no such module, a file that is not a module, a module whose
`module NAME` differs from its file name, a path that leaves the folder), plus
whatever parsing and checking the module file emits.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

from dsl.front import ast
from dsl.front.diagnostics import Diagnostic, Diagnostics
from dsl.checker.checked import CheckedModule
from dsl.checker.resolution import suggest
from dsl.front.syntax import parse_bytes

# (display path, text, currency) -> (module or None, its diagnostics); modules are checked once.
_CACHE: dict[tuple[str, str, str | None], tuple[CheckedModule | None, list[Diagnostic]]] = {}


def stdlib_names() -> list[str]:
    try:
        root = importlib.resources.files("dsl.stdlib")
        return sorted(p.name[:-4] for p in root.iterdir() if p.name.endswith(".ipl"))
    except (OSError, ModuleNotFoundError):  # pragma: no cover - a broken install
        return []


def _stdlib_text(name: str) -> str | None:
    try:
        res = importlib.resources.files("dsl.stdlib").joinpath(f"{name}.ipl")
        if not res.is_file():
            return None
        return res.read_bytes().decode("utf-8", errors="replace")
    except (OSError, ModuleNotFoundError):  # pragma: no cover
        return None


def _local(folder: Path, name: str) -> tuple[Path | None, str | None]:
    """`folder/NAME.ipl` if it exists and stays inside the folder; else a refusal reason."""
    if "/" in name or "\\" in name or name.startswith(".") or Path(name).is_absolute():
        return None, f"module names are plain names: `{name}` leaves the policy's folder"
    candidate = folder / f"{name}.ipl"
    if not candidate.is_file():
        return None, None
    try:
        real = candidate.resolve()
        if not real.is_relative_to(folder.resolve()):
            return None, f"`{candidate}` leads outside the policy's folder"
    except OSError:
        return None, None
    return candidate, None


def load_modules(file: ast.PolicyFile | ast.ModuleFile, path: Path | None, currency: str | None,
                 diags: Diagnostics, check_module) -> tuple[dict[str, CheckedModule], set[str]]:
    """The checked modules a file uses, and the names of those that had errors;
    `check_module(source, file, diags, currency=...)` checks one (dsl/checker/program.py)."""
    modules: dict[str, CheckedModule] = {}
    broken: set[str] = set()
    if isinstance(file, ast.ModuleFile):
        return modules, broken
    folder = (path.parent if path is not None else Path("."))
    for decl in file.decls:
        if not isinstance(decl, ast.Use) or decl.name in modules or decl.name in broken:
            continue
        name = decl.name
        local, refusal = _local(folder, name)
        if refusal is not None:
            diags.error("E200", refusal, decl.span, help="modules live next to the policy or in the stdlib")
            broken.add(name)
            continue
        if local is not None:
            display = str(local)
            try:
                data = local.read_bytes()
            except OSError as err:
                diags.error("E200", f"cannot read module `{display}`: {err.strerror or err}", decl.span)
                broken.add(name)
                continue
        else:
            text = _stdlib_text(name)
            if text is None:
                candidates = stdlib_names() + [p.stem for p in folder.glob("*.ipl")]
                diags.error("E200", f"unknown module `{name}`", decl.span,
                            help=suggest(name, candidates) or
                            f"put `{name}.ipl` next to the policy, or use a stdlib module "
                            f"({', '.join(stdlib_names()) or 'none'})")
                broken.add(name)
                continue
            display = f"stdlib/{name}.ipl"
            data = text.encode("utf-8")
        key = (display, data.decode("utf-8", errors="replace"), currency)
        if key not in _CACHE:
            sink = Diagnostics()
            source, parsed = parse_bytes(display, data, sink)
            checked = None
            if parsed is not None and not sink.has_errors:
                if not isinstance(parsed, ast.ModuleFile):
                    sink.error("E200", f"`{display}` is not a module: it must start with `module {name}`",
                               decl.span)
                elif parsed.name != name:
                    sink.error("E200", f"`{display}` declares `module {parsed.name}`, not `module {name}`",
                               decl.span, help=f"write `module {name}` in it, or `use {parsed.name}`")
                else:
                    checked = check_module(source, parsed, sink, currency=currency)
            if sink.has_errors:
                checked = None
            _CACHE[key] = (checked, list(sink.items))
        checked, found = _CACHE[key]
        diags.items.extend(found)
        if checked is None:
            broken.add(name)
        else:
            modules[name] = checked
    return modules, broken
