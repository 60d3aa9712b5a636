"""Doc comments (spec §2a, §23.5): `##` lines attached to what they document.

Receives a parsed file with its comments. Guarantees the same file where each declaration,
tiers band, scorecard measure or policy header that starts on the line right after a run of
`##` lines alone on their lines (no blank line between) has them as its `doc`: the first line
the label, the others the description. Documentation is not part of the meaning (`doc` is left
out of equality). Emits nothing.
"""

from __future__ import annotations

import dataclasses

from dsl.front import ast


def with_docs(file):
    """Attach `##` lines to what they document: the declaration, band or scorecard measure
    that starts on the line right after them (no blank line between), or the header."""
    docs = _doc_lines(file)
    if not docs:
        return file

    def doc_at(span) -> ast.Doc | None:
        if span is None:
            return None
        lines: list[str] = []
        line = span.line - 1
        while line in docs:
            lines.append(docs[line])
            line -= 1
        if not lines:
            return None
        lines.reverse()
        return ast.Doc(label=lines[0].strip(), description="\n".join(t.rstrip() for t in lines[1:]).strip())

    def documented(node):
        doc = doc_at(node.span)
        match node:
            case ast.Tiers():
                node = dataclasses.replace(node, bands=tuple(documented(b) for b in node.bands))
            case ast.Scorecard():
                node = dataclasses.replace(node, measures=tuple(documented(m) for m in node.measures))
        return dataclasses.replace(node, doc=doc) if doc is not None and hasattr(node, "doc") else node

    match file:
        case ast.PolicyFile():
            return dataclasses.replace(file, header=documented(file.header),
                                       decls=tuple(documented(d) for d in file.decls))
        case ast.ModuleFile():
            return dataclasses.replace(file, decls=tuple(documented(d) for d in file.decls))
        case _:
            return file


def _doc_lines(file) -> dict[int, str]:
    """Line number -> text of every `##` comment that is alone on its line."""
    out = {}
    for c in file.comments:
        if c.text.startswith("##") and not c.span.source.line_text(c.span.line)[: c.span.column - 1].strip():
            out[c.span.line] = c.text[2:].removeprefix(" ")
    return out

