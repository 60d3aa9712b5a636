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


@cli.command("fmt")
@click.argument("paths", nargs=-1, required=True)
@click.option("--check", is_flag=True, help="write nothing; list the files that would change; exit 1 if any")
@click.option("--diff", "show_diff", is_flag=True, help="write nothing; print a unified diff of the changes")
def fmt_command(paths: tuple[str, ...], check: bool, show_diff: bool) -> None:
    """Rewrite policies, modules and test files in the canonical layout (folders: every *.ipl below)."""
    from dsl.driver import read
    from dsl.fmt import format_bytes, rewrite

    try:
        files = collect(list(paths))
    except UsageError as err:
        _usage(str(err))
    diags = Diagnostics()
    unreadable = changed = 0
    for path in files:
        try:
            data = read(path)
        except UsageError as err:
            click.echo(f"ipl: {err}", err=True)
            unreadable += 1
            continue
        result = format_bytes(str(path), data, diags)
        if not result.changed:
            continue
        changed += 1
        if show_diff:
            click.echo(result.diff(), nl=False)
        if check:
            click.echo(f"would reformat {path}", err=show_diff)
        elif not show_diff:
            try:
                rewrite(str(path), result.text)
            except OSError as err:
                click.echo(f"ipl: cannot write {path}: {err.strerror or err}", err=True)
                unreadable += 1
                continue
            click.echo(f"reformatted {path}")
    for d in diags.sorted():
        click.echo(render_text(d) + "\n", err=True)
    failed = len({d.span.path for d in diags.items if d.severity.value == "error"})
    verb = "would be reformatted" if check or show_diff else "reformatted"
    click.echo(f"{changed} file{'s' if changed != 1 else ''} {verb}, {len(files) - changed - failed - unreadable} "
               f"unchanged" + (f", {failed} not formatted (errors)" if failed else ""), err=True)
    if unreadable:
        sys.exit(2)
    sys.exit(1 if failed or (check and changed) else 0)


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
