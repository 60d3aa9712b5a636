"""The formatter (`ipl fmt`): see printer.py (split next)."""

from dsl.tools.fmt.printer import (  # noqa: F401 - the names callers import from `dsl.tools.fmt`
    _CONTEXTUAL, Formatted, _group, _leading_name, format_bytes, format_file, format_source, format_text, rewrite,
)
