"""The `ipl` command line: parses arguments, calls the tools, renders results.

Exit codes (spec §12): 0 success, 1 findings (errors, rejected records, failed
tests, a tripped guard), 2 usage errors and unreadable files — always a
one-line message, never a traceback.
"""

from __future__ import annotations

import sys

import click

from dsl import __version__
from dsl.diagnostics import Diagnostics, render_github, render_json, render_text, summary_line
from dsl.driver import UsageError, check_file, collect

FORMATS = click.Choice(["text", "json", "github"])


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ipl")
def cli() -> None:
    """IPL, the Incentive Policy Language."""


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True,
              help="text for people, json for tools, github for workflow annotations")
def check(paths: tuple[str, ...], fmt: str) -> None:
    """Parse and check policies, modules and test files (folders: every *.ipl below)."""
    diags = Diagnostics()
    try:
        files = collect(list(paths))
        for path in files:
            check_file(path, diags)
    except UsageError as err:
        _usage(str(err))
    found = diags.sorted()
    if fmt == "json":
        click.echo(render_json(found))
    elif fmt == "github":
        for d in found:
            click.echo(render_github(d))
    else:
        for d in found:
            click.echo(render_text(d) + "\n")
        click.echo(f"checked {len(files)} file{'s' if len(files) != 1 else ''}: {summary_line(found)}",
                   err=bool(found))
    sys.exit(1 if diags.has_errors else 0)


def _usage(message: str) -> None:
    click.echo(f"ipl: {message}", err=True)
    sys.exit(2)


def main() -> None:
    # Deep but legal policies recurse in the passes; the parser caps nesting (syntax.MAX_DEPTH).
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    try:
        cli.main(standalone_mode=True)
    except KeyboardInterrupt:
        click.echo("ipl: interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
