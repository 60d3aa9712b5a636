"""The file side of `ipl fmt`: a file's bytes through the formatter, and the atomic rewrite.

Receives a path and the file's bytes. Guarantees a `Formatted` (the canonical text, None when
the file does not parse: E100, E201 into `diags`), whether it changed (byte for byte: line
endings and a byte order mark count) and its unified diff; `rewrite` replaces a file atomically
(dsl/run/outputs.py). dsl/cli.py renders the results.
"""

from __future__ import annotations

from dataclasses import dataclass

from dsl.front.diagnostics import Diagnostics
from dsl.tools.fmt.printer import format_file


@dataclass(frozen=True, slots=True)
class Formatted:
    """One file through the formatter: its bytes, its canonical text (None if it did not parse)."""

    path: str
    original: bytes
    text: str | None

    @property
    def changed(self) -> bool:
        return self.text is not None and self.text.encode("utf-8") != self.original

    def diff(self) -> str:
        """A unified diff from the file as it is to the canonical text."""
        import difflib

        old = self.original.decode("utf-8", errors="replace").lstrip("\ufeff")
        old = old.replace("\r\n", "\n").replace("\r", "\n")
        new = self.text or ""
        lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                     fromfile=self.path, tofile=f"{self.path} (formatted)")
        out = []
        for line in lines:
            out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
        if not out and self.changed:  # only line endings or a BOM differ
            out.append(f"--- {self.path}\n+++ {self.path} (formatted)\n# line endings or byte order mark only\n")
        return "".join(out)


def format_bytes(path: str, data: bytes, diags: Diagnostics) -> Formatted:
    """Decode, parse and format a file's bytes (E100 into `diags` when it does not parse)."""
    from dsl.front.syntax import parse_bytes

    source, tree = parse_bytes(path, data, diags)
    if tree is None or diags.has_errors:
        return Formatted(path, data, None)
    return Formatted(path, data, format_file(tree, source))


def rewrite(path: str, text: str) -> None:
    """Replace a file's content atomically (dsl/output.py: temporary file + rename, the file's
    own mode kept, a killed run's temporary file swept by the next), through a symlink to its
    target. Raises `output.OutputError` when it cannot be written."""
    from dsl.run.outputs import atomic_open

    with atomic_open(path, newline="\n") as handle:
        handle.write(text)
