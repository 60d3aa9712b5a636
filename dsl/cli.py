"""The `ipl` command line: parses arguments, calls the tools, renders results.

Exit codes (spec §12): 0 success, 1 findings (errors, rejected records, failed
tests, a tripped guard), 2 usage errors, unreadable files and outputs that
cannot be written (a full disk, a read-only folder, an output that is an
input) — always a one-line message, never a traceback. A run ended by a signal
exits 128 + its number (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP) after removing
its temporary files; standard output whose reader has gone (`| head -1`)
ends the run quietly with 141, as a command killed by SIGPIPE would.
"""

from __future__ import annotations

import contextlib
import signal
import sys

import click

from dsl import __version__
from dsl.front.diagnostics import Diagnostics, render_github, render_json, render_text, summary_line
from dsl.checker.driver import UsageError, check_file, collect
from dsl.run.outputs import OutputError, PipeClosed, refuse_overlap, remove_temporaries, silence_stdout

FORMATS = click.Choice(["text", "json", "github"])


class Signalled(BaseException):
    """SIGINT, SIGTERM or SIGHUP arrived: unwind (removing temporary files), then exit 128 + n.

    A BaseException, so that no `except Exception` of an evaluation can swallow it."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextlib.contextmanager
def _faults():
    """Every way a command can end other than by its own exit code, as one line (§12)."""
    try:
        yield
    except OutputError as err:
        _leave(f"ipl: {err}", 2)
    except PipeClosed:
        _leave(None, 141)  # the reader has all it wanted: no message, the code of a SIGPIPE death
    except KeyboardInterrupt:
        _leave("ipl: interrupted", 130)
    except Signalled as sig:
        _leave("ipl: interrupted" if sig.signum == signal.SIGINT else f"ipl: terminated ({sig})", 128 + sig.signum)


def _leave(message: str | None, code: int) -> None:
    remove_temporaries()
    silence_stdout()  # what standard output still holds, if it cannot be written, is dropped
    if message:
        with contextlib.suppress(Exception):
            click.echo(message, err=True)
    sys.exit(code)


class _Commands(click.Group):
    """Runs each command inside `_faults`, and flushes standard output there: a full device or
    a closed pipe found at the last flush is reported like any other, not at exit."""

    def invoke(self, ctx: click.Context):
        with _faults():
            try:
                result = super().invoke(ctx)
            except SystemExit:
                sys.stdout.flush()
                raise
            sys.stdout.flush()
            return result


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
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
    from dsl.checker.driver import read
    from dsl.tools.fmt import format_bytes, rewrite

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
        found = Diagnostics()  # per file: one file's errors do not stop the next one
        result = format_bytes(str(path), data, found)
        diags.extend(found)
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
            except OutputError as err:
                click.echo(f"ipl: {err}", err=True)
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


# `ipl compile --emit`: what a backend generated for a policy, by name
EMITTERS = ("python",)


@cli.command("compile")
@click.argument("policy")
@click.option("--emit", type=click.Choice(EMITTERS), default="python", show_default=True,
              help="the generated code to print: python (the module `ipl run` executes)")
@click.option("--traced", is_flag=True, help="the traced variant (`--trace`, `ipl explain`, `ipl test`)")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help="override a param, as `ipl run` would")
def compile_command(policy: str, emit: str, traced: bool, sets: tuple[str, ...]) -> None:
    """Print the code a backend generates for a policy (what runs is what you read)."""
    from dsl.run.policy import PolicyErrors, UsageProblem, compile_file

    try:
        compiled = compile_file(policy, list(sets))
    except PolicyErrors as err:
        _print_policy_errors(err.diags)
        sys.exit(1)
    except UsageProblem as err:
        _usage(str(err))
    if traced:
        compiled.traced()
    click.echo(compiled.traced_listing if traced else compiled.listing, nl=False)


@cli.command("run")
@click.argument("policy")
@click.option("--records", required=True, help="partner records: .csv, .json (array) or .jsonl")
@click.option("-o", "--out", default=None, help="payouts file (.csv or .json); default: CSV on stdout")
@click.option("--rejects", default=None, help="rejected records: row, id, field, reason (.csv or .json)")
@click.option("--trace", default=None, help="a trace tree per record, as JSON Lines (.jsonl)")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help="override a param (what-if runs)")
@click.option("--ledger", default=None,
              help="multi-period policies: every hold, release, forfeit, clawback and draw, and what is "
                   "still held or owed at the end (.csv or .json)")
@click.option("--summary", default=None, metavar="FILE",
              help="the reconciled summary for tools (.json; docs/schemas/run-summary.schema.json)")
def run_command(policy: str, records: str, out: str | None, rejects: str | None, trace: str | None,
                sets: tuple[str, ...], ledger: str | None, summary: str | None) -> None:
    """Evaluate every record; write payouts, rejects and traces; print a reconciled summary."""
    from dsl.run.command import Outputs, run_command as run_policy
    from dsl.run.policy import PolicyErrors, UsageProblem

    def bar(size: int):
        return _progress(size, enabled=sys.stderr.isatty() and size > 4_000_000)

    refuse_overlap([("the policy", policy), ("--records", records)],
                    [("-o", out), ("--rejects", rejects), ("--trace", trace), ("--ledger", ledger),
                     ("--summary", summary)])
    try:
        code = run_policy(policy, records, Outputs(out, rejects, trace, ledger, summary), list(sets), click.echo,
                          lambda m: click.echo(m, err=True), bar)
    except PolicyErrors as err:
        _print_policy_errors(err.diags)
        sys.exit(1)
    except UsageProblem as err:
        _usage(str(err))
    sys.exit(code)


@cli.command("explain")
@click.argument("policy")
@click.option("--records", required=True, help="partner records: .csv, .json (array) or .jsonl")
@click.option("--id", "wanted", required=True, help="the id of the record to explain")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html"]), default="text", show_default=True)
@click.option("-o", "--out", default=None, help="write the statement to a file instead of stdout")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help="override a param (what-if)")
@click.option("--period", default=None, help="multi-period policies: only this period's statement "
                                             "(default: the partner's whole history)")
def explain_command(policy: str, records: str, wanted: str, fmt: str, out: str | None,
                    sets: tuple[str, ...], period: str | None) -> None:
    """The statement of one record: every line, why, and how far to the next band."""
    from dsl.explain import command as explain
    from dsl.run.policy import PolicyErrors, UsageProblem

    refuse_overlap([("the policy", policy), ("--records", records)], [("-o", out)])
    try:
        text, code = explain.explain_command(policy, records, wanted, fmt, list(sets), period)
        if out:
            from dsl.run.outputs import OutputError, write_text
            try:
                write_text(out, text)
            except OutputError as err:
                _usage(str(err))
        else:
            click.echo(text, nl=not text.endswith("\n"))
    except PolicyErrors as err:
        _print_policy_errors(err.diags)
        sys.exit(1)
    except UsageProblem as err:
        _usage(str(err))
    sys.exit(code)


def _tests_text(report, with_coverage: bool) -> str:
    from dsl.tools import testing

    return testing.render_text(report, with_coverage)


def _tests_json(report, with_coverage: bool) -> str:
    from dsl.run import schemas

    return schemas.document_text(schemas.ipl_test_report(report, with_coverage))


# `ipl test --format`: a renderer per format, (report, with coverage) -> the text on standard output
TEST_FORMATS = {"text": _tests_text, "json": _tests_json}


@cli.command("test")
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(list(TEST_FORMATS)), default="text", show_default=True,
              help="text for people, json for tools (docs/schemas/test.schema.json)")
@click.option("-k", "keyword", default=None, metavar="TEXT", help="run only tests whose name contains TEXT")
@click.option("--junit", default=None, metavar="FILE", help="also write the results as JUnit XML")
@click.option("--coverage", "with_coverage", is_flag=True, help="report decision coverage of each policy")
@click.option("--fail-under", default=None, metavar="PCT",
              help="exit 1 when a policy's decision coverage is below PCT percent (implies --coverage)")
def test_command(paths: tuple[str, ...], fmt: str, keyword: str | None, junit: str | None, with_coverage: bool,
                 fail_under: str | None) -> None:
    """Run test files (`tests for ...`; folders: every test file below); exit 1 unless all pass."""
    from decimal import Decimal, InvalidOperation

    from dsl.tools import testing

    threshold = None
    if fail_under is not None:
        try:
            threshold = Decimal(fail_under.strip().rstrip("%"))
        except InvalidOperation:
            threshold = None
        if threshold is None or not threshold.is_finite() or not 0 <= threshold <= 100:
            _usage(f"--fail-under {fail_under}: give a percentage from 0 to 100")
        with_coverage = True
    try:
        if junit:  # before anything is read: the files named, and every *.ipl below the folders
            refuse_overlap([("the input", str(p)) for p in collect(list(paths))], [("--junit", junit)])
        report = testing.run_paths(list(paths), keyword, with_coverage)
    except (UsageError, testing.NoTests) as err:
        _usage(str(err))
    click.echo(TEST_FORMATS[fmt](report, with_coverage), nl=False)
    code = 0 if report.ok else 1
    if threshold is not None:
        low = [c for c in report.coverage if c.percent < threshold]
        for c in low:
            click.echo(f"ipl: decision coverage of {c.policy} is {testing.coverage.percent_text(c.percent)}, "
                       f"below --fail-under {fail_under}", err=True)
        code = code or (1 if low else 0)
    if junit:
        from dsl.run.outputs import write_text

        # the policies tested may live elsewhere (`tests for "../p.ipl"`)
        refuse_overlap([("the policy", f.policy) for f in report.files if f.policy], [("--junit", junit)])
        try:
            write_text(junit, testing.render_junit(report))
        except OutputError as err:
            _usage(str(err))
    sys.exit(code)


@cli.command("diff")
@click.argument("old")
@click.argument("new")
@click.option("--records", required=True, help="partner records: .csv, .json (array) or .jsonl")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True,
              help="text for people, json for tools, markdown for a pull-request comment")
@click.option("--fail-if-cost-up", "cost_up", default=None, metavar="PCT",
              help="exit 1 when the total cost goes up by more than PCT percent")
@click.option("--fail-if-any-decrease", "any_decrease", is_flag=True,
              help="exit 1 when any record's total goes down")
@click.option("--top", type=click.IntRange(min=0), default=5, show_default=True,
              help="how many of the biggest movers to list and explain")
@click.option("-o", "--out", default=None, help="write the report to a file instead of stdout")
def diff_command(old: str, new: str, records: str, fmt: str, cost_up: str | None, any_decrease: bool,
                 top: int, out: str | None) -> None:
    """Payout impact of a policy change: totals, per component, movers, level changes, guards."""
    from dsl.run.policy import UsageProblem
    from dsl.tools import diff

    refuse_overlap([("the old policy", old), ("the new policy", new), ("--records", records)], [("-o", out)])
    try:
        text, code, notes = diff.diff_command(old, new, records, fmt, top, cost_up, any_decrease)
        if out:
            from dsl.run.outputs import OutputError, write_text
            try:
                write_text(out, text)
            except OutputError as err:
                _usage(str(err))
        else:
            click.echo(text, nl=False)
    except diff.BrokenPolicy as err:
        _print_policy_errors(err.diags)
        _usage(str(err))
    except UsageProblem as err:
        _usage(str(err))
    for note in notes:
        click.echo(note, err=True)
    sys.exit(code)


def _print_policy_errors(diags: Diagnostics) -> None:
    found = diags.sorted()
    for d in found:
        click.echo(render_text(d) + "\n", err=True)
    click.echo(f"the policy has errors: {summary_line(found)}", err=True)


class _progress:
    """A progress bar on a terminal for long runs (by bytes read); nothing otherwise."""

    def __init__(self, size: int, enabled: bool):
        self.size, self.enabled, self.bar = size, enabled, None

    def __enter__(self):
        if not self.enabled:
            return None
        self.bar = click.progressbar(length=self.size, label="evaluating", file=sys.stderr)
        self.bar.__enter__()
        self.done = 0

        def tick(position: int) -> None:
            self.bar.update(position - self.done)
            self.done = position
        return tick

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.update(self.size - self.done)
            self.bar.__exit__(*exc)
        return False


def _usage(message: str) -> None:
    click.echo(f"ipl: {message}", err=True)
    sys.exit(2)


def _on_signal(signum: int, _frame) -> None:
    for s in _SIGNALS:  # the cleanup runs once, and is not itself interrupted
        signal.signal(s, signal.SIG_IGN)
    raise Signalled(signum)


_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


def main() -> None:
    from dsl.run.outputs import guard_standard_streams

    # Deep but legal policies recurse in the passes; the parser caps nesting (syntax.MAX_DEPTH).
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    guard_standard_streams()
    for s in _SIGNALS:
        if signal.getsignal(s) is not signal.SIG_IGN:  # `nohup`, a background job: stay ignored
            signal.signal(s, _on_signal)
    with _faults():  # what happens before a command runs (`ipl --help > /dev/full`)
        try:
            cli.main(standalone_mode=True)
        except SystemExit:
            sys.stdout.flush()
            raise


if __name__ == "__main__":
    main()
