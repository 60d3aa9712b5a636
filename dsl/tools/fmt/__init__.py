"""The formatter: one canonical layout for policies, modules and test files (`ipl fmt`).

Receives a parsed file (`ast.PolicyFile`, `ast.ModuleFile` or `ast.TestFile`) with
the comments the parser collected, and the `SourceFile` it came from (for the
written digits of numbers and the positions of comments and blank lines; an AST
made up without spans formats too, from its values alone). Returns the text.

Guarantees (tests/test_fmt_properties.py checks them over every `.ipl` in the
repository and over generated policies):
- `parse(format(s)) == parse(s)`: the same tree, ignoring spans; a value is never
  changed, and the digits of a number are kept as written (only `_` grouping
  changes);
- `format(format(s)) == format(s)`: idempotent;
- every comment survives, with its text (trailing spaces aside): a full-line
  comment stays before the declaration, band, arm, field or modifier it preceded,
  a trailing comment at the end of the line of the construct it followed;
- declarations, header fields, fixtures and tests keep their source order; at
  most one blank line is kept where the source had one or more.

The layout is described in docs/fmt.md. Emits no diagnostics of its own:
`format_source`, `format_text` and `format_bytes` parse first and pass on the
parser's E100 and E201, and format only a file that parsed without errors.
`format_bytes` and `rewrite` are the file side of `ipl fmt` (dsl/cli.py renders).

A package because the printer has three parts of the language to print and the comments to
put back, each readable alone; the modules import down this list:

    lines.py      the output before comments: lines, fragments, alignment points
    positions.py  where the comments and braces are in the source
    exprs.py      expressions: precedence, parentheses, written digits (a mixin)
    decls.py      policies and modules: header, declarations (a mixin)
    testfile.py   test files: fixtures, tests, givens, expects (a mixin)
    merge.py      comments and blank lines put back, runs aligned, the text
    printer.py    `_Printer` (the mixins over the block helpers); `format_file`, `format_text`
    files.py      a file's bytes through the formatter (`Formatted`), `rewrite`

Names with a leading underscore are private to the package.
"""

from dsl.tools.fmt.files import Formatted, format_bytes, rewrite
from dsl.tools.fmt.printer import format_file, format_source, format_text

__all__ = ["Formatted", "format_bytes", "format_file", "format_source", "format_text", "rewrite"]
