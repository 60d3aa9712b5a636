"""The names in scope of one file: its definitions, the enum members its types list, the labels
of its level tables (§6), and the header's `id`, `period` and `currency` (§2a, §14).

The first stage of the names pass (dsl/checker/names.py). Receives a parsed `PolicyFile` or
`ModuleFile` and an empty `Resolution` holding the modules it `use`s. Fills `decls` and `kinds`
(the first of two definitions of one name wins), `enum_members`, `levels`, `labels`,
`id_input` and `period_input`.

Emits: E201 (a module used twice; a duplicate definition; a definition named as a module or a
builtin; an enum member listed twice, named as a definition, a builtin or a module; a label
of two tables or named as a module; two inputs reading one column), E311 (a label used by two
bands of one table), E204 (missing or duplicate `id` input, duplicate `period` input, a
`period` input without a header `period`, missing `currency`).
"""

from __future__ import annotations

from dsl.checker.declared import declared_name, is_level_table, kind_of, type_refs
from dsl.checker.resolution import BUILTIN_FUNCTIONS, BUILTIN_VALUES, Resolution
from dsl.front import ast
from dsl.front.diagnostics import Diagnostics


def collect(file, r: Resolution, diags: Diagnostics) -> None:
    """The file's definitions, enum members and level labels, into `r`."""
    seen_use = _uses(file, diags)
    _definitions(file, r, diags, seen_use)
    _enum_members(file, r, diags)
    _levels(r, diags)


def _uses(file, diags: Diagnostics) -> dict[str, object]:
    seen_use: dict[str, object] = {}
    for decl in file.decls:
        if isinstance(decl, ast.Use):
            if decl.name in seen_use:
                diags.error("E201", f"module `{decl.name}` is used twice", decl.span,
                            help="keep one `use` line")
            seen_use[decl.name] = decl.span
    return seen_use


def _definitions(file, r: Resolution, diags: Diagnostics, seen_use: dict[str, object]) -> None:
    for decl in file.decls:
        named = declared_name(decl)
        if named is None:
            continue
        name, span = named
        if name in r.decls:
            first = r.decls[name]
            diags.error("E201", f"`{name}` is defined twice (first at line {first.name_span.line})",
                        span, help="rename one of them")
            continue
        if name in r.modules or name in seen_use:
            diags.error("E201", f"`{name}` has the name of the module `{name}`", span,
                        help=f"rename it: module names are used as `{name}.NAME`")
        # §2a, §23.6: a builtin function's name may name a value (a call is a name followed by
        # `(`), not a function; the names the language gives values stay reserved
        if name in BUILTIN_VALUES or (name in BUILTIN_FUNCTIONS | {"rank", "percentile"} and isinstance(decl, ast.Def)):
            diags.error("E201", f"`{name}` is the name of a builtin", span,
                        help=f"rename it, e.g. `{name}_value`")
        r.decls[name] = decl
        r.kinds[name] = kind_of(decl)


def _enum_members(file, r: Resolution, diags: Diagnostics) -> None:
    """The members of every enum type written anywhere in the file."""
    for decl in file.decls:
        for tref in type_refs(decl):
            if tref.name != "enum":
                continue
            seen: set[str] = set()
            for member in tref.members:
                if member in seen:
                    diags.error("E201", f"enum member `{member}` is listed twice", tref.span)
                seen.add(member)
                if tref.members not in r.enum_members.setdefault(member, []):
                    r.enum_members[member].append(tref.members)
    for member in r.enum_members:
        if member in r.decls:
            diags.error("E201", f"`{member}` is both an enum member and a definition",
                        r.decls[member].name_span, help="rename the definition")
        elif member in BUILTIN_VALUES or member in r.modules:
            span = next(t.span for d in file.decls for t in type_refs(d)
                        if t.name == "enum" and member in t.members)
            diags.error("E201", f"enum member `{member}` has the name of a "
                        f"{'builtin' if member in BUILTIN_VALUES else 'module'}", span)


def _levels(r: Resolution, diags: Diagnostics) -> None:
    """Level tables (§6) and their labels."""
    for name, decl in r.decls.items():
        if not is_level_table(decl, r.decls) or any(b.value.name in r.enum_members for b in decl.bands):
            continue
        labels: list[str] = []
        for band in decl.bands:
            label = band.value.name
            if label in labels:
                diags.error("E311", f"label `{label}` is used by two bands of `{name}`",
                            band.value.span, help="each band of a level table needs its own label")
                continue
            owner = r.labels.get(label)
            if owner is not None:
                diags.error("E201", f"label `{label}` is already a label of `{owner}`",
                            band.value.span, help="labels must be unique in a policy")
            elif label in r.modules:
                diags.error("E201", f"label `{label}` has the name of a module", band.value.span)
            else:
                r.labels[label] = name
            labels.append(label)
        r.levels[name] = tuple(labels)


def check_header(file: ast.PolicyFile, r: Resolution, diags: Diagnostics) -> None:
    """A policy's `id` and `period` inputs, the columns its inputs read and its currency."""
    header = file.header
    ids = [d for d in file.decls if isinstance(d, ast.Input) and d.type.name == "id"]
    periods = [d for d in file.decls if isinstance(d, ast.Input) and d.type.name == "period"]
    if not ids:
        diags.error("E204", "the policy has no `id` input", header.span,
                    help="add `input partner_id : id`: it names each record in outputs")
    for extra in ids[1:]:
        diags.error("E204", f"a second `id` input `{extra.name}` (the first is `{ids[0].name}`)",
                    extra.name_span, help="a policy has exactly one `id` input")
    if ids:
        r.id_input = ids[0].name
    for extra in periods[1:]:
        diags.error("E204", f"a second `period` input `{extra.name}` (the first is "
                    f"`{periods[0].name}`)", extra.name_span,
                    help="a multi-period policy has exactly one `period` input")
    if periods:
        r.period_input = periods[0].name
        if header.period is None:
            diags.error("E204", "the header has no `period`, but the policy has a `period` input",
                        header.span, help="add `period quarter` (or month, half, year) to the header")
    # §2a: two inputs may not read one column
    read_by: dict[str, ast.Input] = {}
    for inp in (d for d in file.decls if isinstance(d, ast.Input)):
        column = inp.column if inp.column is not None else inp.name
        first = read_by.setdefault(column, inp)
        if first is not inp:
            diags.error("E201", f"`{inp.name}` reads the column \"{column}\" that `{first.name}` "
                        f"reads (line {first.name_span.line})", inp.name_span,
                        help="give each input its own column: `column \"...\"` names it")
    if header.currency is None:
        diags.error("E204", "the header has no `currency`", header.span,
                    help="add `currency USD` (an ISO 4217 code) to the header")
