"""What the fuzz and invariant suites share: calling `ipl` under a watchdog, judging the result,
the budgets, and the figures of a run.

Every call goes through the command line only (`dsl.cli.cli` in process, with click's
`CliRunner`), so that these suites do not depend on how the package is laid out inside.
In process is about ten times faster than a new interpreter per call; what `ipl`'s `main()`
does before the command runs is done once here (the recursion limit it raises).

**Budgets.** `IPL_FUZZ=long` multiplies every fuzzer's number of inputs (about 50 times);
`IPL_FUZZ_SEED` chooses the inputs (default: the same ones in every run of the default budget,
today's date in the long budget, so that each nightly run tries new ones); the seed is in
every failure message. `IPL_FUZZ_REPORT=FILE` appends one JSON line per test with the figures
(inputs tried, calls per command, exit codes, the slowest call).

**Watchdog.** Each call runs under `signal.setitimer`: past `CALL_SECONDS` a `Hang` is raised in
the main thread, where the call runs, and the test fails naming the input. A hang in code that
never returns to the interpreter cannot be interrupted that way: `faulthandler` then dumps every
thread's stack and ends the whole process a little later, so the suite itself never hangs.
"""

from __future__ import annotations

import collections
import datetime
import faulthandler
import json
import os
import re
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from dsl.cli import cli

from ..conftest import ROOT

LONG = os.environ.get("IPL_FUZZ", "").strip().lower() == "long"
SEED = os.environ.get("IPL_FUZZ_SEED") or (datetime.date.today().strftime("%Y%m%d") if LONG else "0")
CALL_SECONDS = float(os.environ.get("IPL_FUZZ_CALL_SECONDS", "20"))
LAST_RESORT_SECONDS = 60  # past the watchdog: faulthandler dumps the stacks and ends the process

TRACEBACK = re.compile(r"Traceback \(most recent call last\)")
RECONCILED = re.compile(r"^reconciled\s+read ([\d,]+) = paid ([\d,]+) \+ rejected ([\d,]+)$", re.M)


def budget(default: int, long: int) -> int:
    """How many inputs a fuzzer tries: `default` in `make test`, `long` under IPL_FUZZ=long."""
    return long if LONG else default


class Hang(BaseException):
    """A call ran past the watchdog. A BaseException, like a signal's, so that no
    `except Exception` of the code under test can swallow it."""


def _on_alarm(signum, frame):
    raise Hang()


@dataclass
class Call:
    """One `ipl` command, as the command line ended it."""

    args: list[str]
    code: int
    stdout: str
    stderr: str
    exception: BaseException | None
    seconds: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def show(self) -> str:
        out = self.output
        if len(out) > 3_000:
            out = out[:1_500] + f"\n[... {len(out) - 3_000:,} characters ...]\n" + out[-1_500:]
        return f"ipl {' '.join(_short(a) for a in self.args)}\nexit {self.code} in {self.seconds:.2f} s\n{out}"


def _short(arg: str) -> str:
    return arg if len(arg) < 120 else arg[:60] + "..." + arg[-40:]


class Figures:
    """What one test tried: inputs, calls per command, exit codes, the slowest call."""

    def __init__(self, name: str):
        self.name = name
        self.inputs = 0
        self.calls: collections.Counter = collections.Counter()
        self.codes: collections.Counter = collections.Counter()
        self.slowest = (0.0, "")
        self.tracebacks = 0
        self.hangs = 0

    def add(self, call: Call) -> None:
        command = call.args[0] if call.args else ""
        self.calls[command] += 1
        self.codes[f"{command} {call.code}"] += 1
        if call.seconds > self.slowest[0]:
            self.slowest = (call.seconds, " ".join(_short(a) for a in call.args))

    def save(self) -> None:
        path = os.environ.get("IPL_FUZZ_REPORT")
        if not path:
            return
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps({
                "test": self.name, "budget": "long" if LONG else "default", "seed": SEED, "inputs": self.inputs,
                "calls": dict(self.calls), "exit_codes": dict(self.codes), "tracebacks": self.tracebacks,
                "hangs": self.hangs, "slowest_seconds": round(self.slowest[0], 3),
                "slowest_call": self.slowest[1]}) + "\n")


def ipl(*args, figures: Figures | None = None, seconds: float = CALL_SECONDS) -> Call:
    """Run one `ipl` command in process under the watchdog. A hang raises `Hang`."""
    argv = [str(a) for a in args]
    old = signal.signal(signal.SIGALRM, _on_alarm)
    faulthandler.dump_traceback_later(seconds + LAST_RESORT_SECONDS, exit=True)
    start = time.perf_counter()
    try:
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            result = CliRunner().invoke(cli, argv)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except Hang:
        if figures is not None:
            figures.hangs += 1
        raise
    finally:
        faulthandler.cancel_dump_traceback_later()
        signal.signal(signal.SIGALRM, old)
    call = Call(argv, result.exit_code, result.stdout, result.stderr, result.exception,
                time.perf_counter() - start)
    if isinstance(call.exception, Hang):  # raised where click caught it
        if figures is not None:
            figures.hangs += 1
        raise Hang()
    if figures is not None:
        figures.add(call)
    return call


def judge(call: Call, allowed: set[int] | frozenset[int], what: str, figures: Figures | None = None) -> None:
    """No traceback, no uncaught exception, an exit code in `allowed`, and a one-line message
    for exit 2 (§12)."""
    crashed = TRACEBACK.search(call.output) is not None or not (
        call.exception is None or isinstance(call.exception, SystemExit))
    if crashed and figures is not None:
        figures.tracebacks += 1
    detail = ""
    if call.exception is not None and not isinstance(call.exception, SystemExit):
        import traceback

        detail = "".join(traceback.format_exception(call.exception))[-4_000:]
    assert not crashed, f"{what}: a traceback or an uncaught exception\n{call.show()}\n{detail}"
    assert call.code in allowed, f"{what}: exit {call.code}, expected one of {sorted(allowed)}\n{call.show()}"
    if call.code == 2:
        lines = [ln for ln in call.stderr.splitlines() if ln.strip()]
        assert lines and lines[-1].startswith("ipl: "), f"{what}: exit 2 without an `ipl: ` message\n{call.show()}"


def call_or_hang(what: str, *args, figures: Figures | None = None) -> Call:
    """`ipl(*args)`, a hang turned into a test failure that names the input."""
    try:
        return ipl(*args, figures=figures)
    except Hang:
        command = " ".join(_short(str(a)) for a in args)
        pytest.fail(f"{what}: no answer within {CALL_SECONDS:g} s (a hang)\nipl {command}", pytrace=False)


def reconciled(call: Call) -> tuple[int, int, int]:
    """(read, paid, rejected) from the run's summary."""
    found = RECONCILED.findall(call.output)
    assert len(found) == 1, f"no single `reconciled` line in the summary\n{call.show()}"
    return tuple(int(x.replace(",", "")) for x in found[0])


def save_input(request, name: str, data: bytes) -> Path:
    """Keep an input that failed, for a reproduction: under pytest's base temporary folder."""
    folder = request.config._tmp_path_factory.getbasetemp() / "fuzz-failures"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


__all__ = ["LONG", "SEED", "CALL_SECONDS", "ROOT", "budget", "Hang", "Call", "Figures", "ipl", "judge",
           "call_or_hang", "reconciled", "save_input"]
