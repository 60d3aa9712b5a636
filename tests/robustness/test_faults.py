"""Faults (spec §12, §16): an output over an input, two outputs on one file, a full device or
file system, a folder that cannot be written, a closed pipe, a signal during a run, what a
killed run left behind, and the modes of the files written.

Each test states the exit code, the one line on standard error, and the files before and
after. Most run in-process; those that need a real process (a signal, standard output on a
device, a file-size limit) start `ipl` with `sys.executable`.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from dsl.cli import cli

from ..conftest import ROOT

GROWTH = ROOT / "programs/growth"
QUALITY = ROOT / "programs/renewal_quality"
IPL = [sys.executable, "-c", "import sys; sys.argv[0] = 'ipl'; from dsl.cli import main; main()"]
SAME_INPUT = "are the same file: an output would destroy the input"
TWO_OUTPUTS = "are the same file: give each output a file of its own"
needs_dev_full = pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")


def ipl(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def files(folder: Path) -> dict[str, tuple[bytes | None, int]]:
    """Every entry of a folder, hidden ones included: (content of a file, mode of the entry)."""
    out = {}
    for p in sorted(folder.iterdir()):
        st = os.lstat(p)
        out[p.name] = (p.read_bytes() if stat.S_ISREG(st.st_mode) else None, st.st_mode)
    return out


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def dead_pid() -> int:
    """A process id no process can have: the kernel hands out ids below pid_max."""
    try:
        return int(Path("/proc/sys/kernel/pid_max").read_text())
    except (OSError, ValueError):
        return 2**22 + 1


@pytest.fixture
def work(tmp_path, monkeypatch):
    """A folder with the growth policy, its tests and its records (as r.csv), made current."""
    for name in ("growth.ipl", "growth_test.ipl"):
        shutil.copy(GROWTH / name, tmp_path / name)
    shutil.copy(GROWTH / "records.csv", tmp_path / "r.csv")
    lines = (GROWTH / "records.csv").read_text().splitlines()
    (tmp_path / "small.csv").write_text("\n".join(lines[:41]) + "\n")  # 40 records, P-00001 first
    monkeypatch.chdir(tmp_path)
    return tmp_path


# ------------------------------------------------------------------ an output over an input


@pytest.mark.parametrize("args, message", [
    (["--rejects", "r.csv"], f"--records r.csv and --rejects r.csv {SAME_INPUT}"),
    (["-o", "r.csv"], f"--records r.csv and -o r.csv {SAME_INPUT}"),
    (["--trace", "records-link.jsonl"], f"--records r.csv and --trace records-link.jsonl {SAME_INPUT}"),
    (["--ledger", "records-hard-link.csv"], f"--records r.csv and --ledger records-hard-link.csv {SAME_INPUT}"),
    (["-o", "policy-link.csv"], f"the policy growth.ipl and -o policy-link.csv {SAME_INPUT}"),
    (["-o", "x.csv", "--rejects", "x.csv"], f"-o x.csv and --rejects x.csv {TWO_OUTPUTS}"),
    (["-o", "x.json", "--trace", "./sub/../x.json"], f"-o x.json and --trace ./sub/../x.json {TWO_OUTPUTS}"),
    (["-o", "old.csv", "--rejects", "old-link.csv"], f"-o old.csv and --rejects old-link.csv {TWO_OUTPUTS}"),
], ids=["rejects-over-records", "payouts-over-records", "trace-over-a-symlink-to-records",
        "ledger-over-a-hard-link-to-records", "payouts-over-a-symlink-to-the-policy", "payouts-and-rejects",
        "two-spellings-of-one-new-file", "an-existing-file-and-a-symlink-to-it"])
def test_run_refuses_an_output_over_an_input_or_another_output(work, args, message):
    os.symlink("r.csv", "records-link.jsonl")
    os.link("r.csv", "records-hard-link.csv")
    os.symlink("growth.ipl", "policy-link.csv")
    (work / "old.csv").write_text("previous payouts\n")
    os.symlink("old.csv", "old-link.csv")
    before = files(work)
    result = ipl("run", "growth.ipl", "--records", "r.csv", *args)
    assert (result.exit_code, result.stderr, result.stdout) == (2, f"ipl: {message}\n", "")
    assert files(work) == before  # nothing written, nothing created


def test_the_overlap_is_refused_before_anything_is_read(work):
    (work / "growth.ipl").write_text("this is not a policy\n")
    result = ipl("run", "growth.ipl", "--records", "r.csv", "--rejects", "r.csv")
    assert (result.exit_code, result.stderr) == (2, f"ipl: --records r.csv and --rejects r.csv {SAME_INPUT}\n")


@pytest.mark.parametrize("out, message", [
    ("r.csv", f"--records r.csv and -o r.csv {SAME_INPUT}"),
    ("growth.ipl", f"the policy growth.ipl and -o growth.ipl {SAME_INPUT}"),
], ids=["records", "policy"])
def test_explain_refuses_an_output_over_an_input(work, out, message):
    before = files(work)
    result = ipl("explain", "growth.ipl", "--records", "r.csv", "--id", "P-00001", "-o", out)
    assert (result.exit_code, result.stderr) == (2, f"ipl: {message}\n")
    assert files(work) == before


@pytest.mark.parametrize("out, message", [
    ("growth.ipl", f"the old policy growth.ipl and -o growth.ipl {SAME_INPUT}"),
    ("new.ipl", f"the new policy new.ipl and -o new.ipl {SAME_INPUT}"),
    ("r.csv", f"--records r.csv and -o r.csv {SAME_INPUT}"),
], ids=["old", "new", "records"])
def test_diff_refuses_an_output_over_an_input(work, out, message):
    shutil.copy("growth.ipl", "new.ipl")
    before = files(work)
    result = ipl("diff", "growth.ipl", "new.ipl", "--records", "r.csv", "-o", out)
    assert (result.exit_code, result.stderr) == (2, f"ipl: {message}\n")
    assert files(work) == before


def test_ipl_test_refuses_a_junit_file_over_a_test_file_or_its_policy(work):
    before = files(work)
    result = ipl("test", ".", "--junit", "growth_test.ipl")  # refused before any test runs
    assert (result.exit_code, result.stderr, result.stdout) == (
        2, f"ipl: the input growth_test.ipl and --junit growth_test.ipl {SAME_INPUT}\n", "")
    # a policy outside the paths given is known once its test file is read: refused before writing
    (work / "sub").mkdir()
    (work / "sub/t.ipl").write_text((work / "growth_test.ipl").read_text().replace(
        'tests for "growth.ipl"', 'tests for "../growth.ipl"', 1))
    before = files(work)
    result = ipl("test", "sub", "--junit", "growth.ipl")
    assert (result.exit_code, result.stderr) == (2, f"ipl: the policy sub/../growth.ipl and --junit growth.ipl {SAME_INPUT}\n")
    assert result.stdout.endswith("13 passed, 0 failed\n")
    assert files(work) == before


# ------------------------------------------------------------------ a full device, a full file system


@needs_dev_full
@pytest.mark.parametrize("args", [
    ["growth.ipl", "--records", "small.csv", "--rejects", "rejects.csv"],
    [QUALITY / "renewal_quality.ipl", "--records", QUALITY / "records.csv", "--rejects", "rejects.csv",
     "--ledger", "ledger.csv"],
], ids=["one-period", "multi-period"])
def test_standard_output_on_a_full_device(work, args):
    (work / "rejects.csv").write_text("previous rejects\n")
    (work / "ledger.csv").write_text("previous ledger\n")
    before = files(work)
    with open("/dev/full", "w") as full:
        proc = subprocess.run([*IPL, "run", *map(str, args)], stdout=full, stderr=subprocess.PIPE, timeout=120)
    # no summary: the payouts could not be written, so the run did not happen
    assert (proc.returncode, proc.stderr) == (2, b"ipl: cannot write standard output: No space left on device\n")
    assert files(work) == before  # the other outputs of a run that failed are not put in place


@needs_dev_full
@pytest.mark.parametrize("args, name", [
    (["run", "growth.ipl", "--records", "small.csv", "-o", "full.csv"], "full.csv"),
    (["run", "growth.ipl", "--records", "small.csv", "-o", "o.csv", "--rejects", "full.csv"], "full.csv"),
    (["run", "growth.ipl", "--records", "small.csv", "-o", "o.csv", "--trace", "full.jsonl"], "full.jsonl"),
    (["explain", "growth.ipl", "--records", "small.csv", "--id", "P-00001", "-o", "/dev/full"], "/dev/full"),
    (["explain", "growth.ipl", "--records", "small.csv", "--id", "P-00001", "--format", "html", "-o", "full.html"],
     "full.html"),
    (["diff", "growth.ipl", "growth.ipl", "--records", "small.csv", "-o", "/dev/full"], "/dev/full"),
    (["test", "growth_test.ipl", "--junit", "/dev/full"], "/dev/full"),
], ids=["run-o", "run-rejects", "run-trace", "explain-o", "explain-html", "diff-o", "test-junit"])
def test_an_output_on_a_full_device(work, args, name):
    for link in ("full.csv", "full.jsonl", "full.html"):
        os.symlink("/dev/full", link)
    (work / "o.csv").write_text("previous payouts\n")
    before = files(work)
    result = ipl(*args)
    assert (result.exit_code, result.stderr) == (2, f"ipl: cannot write {name}: No space left on device\n")
    assert files(work) == before  # the payouts beside a failed output are not put in place either
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)  # written to, never renamed over


def test_a_full_file_system_leaves_the_previous_outputs(work):
    """A file-size limit stands in for a full file system: the write fails in the middle
    ("File too large" rather than "No space left on device"), the same path through the code."""
    (work / "o.csv").write_text("previous payouts\n")
    os.chmod("o.csv", 0o640)
    (work / "rejects.csv").write_text("previous rejects\n")

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (2_000, 2_000))  # the payouts are 3,317 bytes

    before = files(work)
    proc = subprocess.run([*IPL, "run", "growth.ipl", "--records", "small.csv", "-o", "o.csv", "--rejects", "rejects.csv"],
                          capture_output=True, preexec_fn=limit, timeout=120)
    assert (proc.returncode, proc.stderr, proc.stdout) == (2, b"ipl: cannot write o.csv: File too large\n", b"")
    assert files(work) == before  # no temporary file left, previous contents and mode kept


@needs_dev_full
def test_outputs_are_put_in_place_together(work):
    """The trace is complete before the rejects fail at their last flush: it stays as it was."""
    os.symlink("/dev/full", "full.csv")
    (work / "t.jsonl").write_text("previous trace\n")
    (work / "o.csv").write_text("previous payouts\n")
    before = files(work)
    result = ipl("run", "growth.ipl", "--records", "small.csv", "-o", "o.csv", "--rejects", "full.csv",
                 "--trace", "t.jsonl")
    assert (result.exit_code, result.stderr) == (2, "ipl: cannot write full.csv: No space left on device\n")
    assert files(work) == before


# ------------------------------------------------------------------ folders that cannot be written


def test_unwritable_places(work):
    (work / "a-file").write_text("x")
    (work / "a-folder.csv").mkdir()
    before = files(work)
    for out, reason in [("a-file/o.csv", "Not a directory"), ("a-folder.csv", "Is a directory"),
                        ("no-such-folder/o.csv", "No such file or directory")]:
        result = ipl("run", "growth.ipl", "--records", "small.csv", "-o", out)
        assert (result.exit_code, result.stderr) == (2, f"ipl: cannot write {out}: {reason}\n"), out
        result = ipl("explain", "growth.ipl", "--records", "small.csv", "--id", "P-00001", "-o", out)
        assert (result.exit_code, result.stderr) == (2, f"ipl: cannot write {out}: {reason}\n"), out
    assert files(work) == before


def _creation_fails(folder: str) -> str | None:
    """The reason a file cannot be created in `folder`, or None when it can (root ignores modes)."""
    try:
        fd, path = tempfile.mkstemp(dir=folder)
    except OSError as err:
        return err.strerror
    os.close(fd)
    os.unlink(path)
    return None


def test_a_folder_even_root_cannot_write(work):
    """sysfs refuses new files to everyone (read-only in most containers, EACCES elsewhere)."""
    reason = _creation_fails("/sys") if os.path.isdir("/sys") else None
    if reason is None:
        pytest.skip("/sys accepts new files here")
    result = ipl("run", "growth.ipl", "--records", "r.csv", "-o", "/sys/ipl-payouts.csv")
    assert (result.exit_code, result.stderr) == (2, f"ipl: cannot write /sys/ipl-payouts.csv: {reason}\n")


def test_a_read_only_folder(work):
    folder = work / "ro"
    folder.mkdir()
    (folder / "o.csv").write_text("previous payouts\n")
    folder.chmod(0o555)
    try:
        if _creation_fails(str(folder)) is None:
            pytest.skip("running as root: a folder's mode does not stop root")
        before = files(folder)
        result = ipl("run", "growth.ipl", "--records", "r.csv", "-o", "ro/o.csv")
        assert (result.exit_code, result.stderr) == (2, "ipl: cannot write ro/o.csv: Permission denied\n")
        assert files(folder) == before
    finally:
        folder.chmod(0o755)


# ------------------------------------------------------------------ standard output


def _growth_records(tmp: Path, copies: int) -> Path:
    lines = (GROWTH / "records.csv").read_text().splitlines()
    out = [lines[0]] + [ln.replace("P-", f"P{k}-", 1) for k in range(copies) for ln in lines[1:]]
    path = tmp / "big.csv"
    path.write_text("\n".join(out) + "\n")
    return path


def test_a_closed_pipe_ends_the_run_quietly_with_141(tmp_path):
    records = _growth_records(tmp_path, 3)  # 3,600 payouts (300 kB), far more than a pipe holds
    proc = subprocess.Popen([*IPL, "run", str(GROWTH / "growth.ipl"), "--records", str(records)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    first = proc.stdout.readline()
    proc.stdout.close()  # `| head -1`
    err = proc.stderr.read()
    assert (proc.wait(timeout=120), err) == (141, b"")
    assert first.startswith(b"partner_id,base,")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.csv"]


def test_a_closed_standard_output(work):
    proc = subprocess.run([*IPL, "run", "growth.ipl", "--records", "r.csv"], stderr=subprocess.PIPE,
                          preexec_fn=lambda: os.close(1), timeout=120)
    assert (proc.returncode, proc.stderr) == (2, b"ipl: cannot write standard output: Bad file descriptor\n")


# ------------------------------------------------------------------ signals


def _quality_records(tmp: Path, copies: int) -> Path:
    lines = (QUALITY / "records.csv").read_text().splitlines()
    out = [lines[0]] + [ln.replace("RQ-", f"RQ{k}-", 1) for k in range(copies) for ln in lines[1:]]
    path = tmp / "big.csv"
    path.write_text("\n".join(out) + "\n")
    return path


def _as_a_terminal_starts_it(ignored: tuple[int, ...] = ()):
    """For Popen's preexec_fn: the child starts with SIGINT, SIGTERM and SIGHUP at their default
    action, as a command typed at a terminal does — except those in `ignored`, as `nohup` would.

    Without it the child inherits the test's dispositions, and a shell that starts a job in the
    background without job control (`make test &`, a CI step's `cmd &`) starts it with SIGINT
    ignored (POSIX): pytest, then `ipl`, which keeps an ignored signal ignored, as documented —
    Ctrl-C then did nothing, and the SIGINT case of the test below failed in such runs only."""
    def preexec() -> None:
        for s in _SIGNALS:
            signal.signal(s, signal.SIG_IGN if s in ignored else signal.SIG_DFL)
    return preexec


_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _dispositions(pid: int) -> tuple[set[int], set[int]] | None:
    """(caught, ignored) signals of a live process, from /proc; None where there is no /proc."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    masks = dict(line.split(":\t", 1) for line in status.splitlines() if line.startswith(("SigCgt", "SigIgn")))

    def signals(mask: str) -> set[int]:
        bits = int(mask, 16)
        return {n for n in range(1, 65) if bits >> (n - 1) & 1}
    return signals(masks["SigCgt"]), signals(masks["SigIgn"])


def _start_a_long_run(tmp_path: Path, ignored: tuple[int, ...] = ()):
    """A multi-period run of many seconds, its outputs over previous ones, its TMPDIR a folder of
    its own; returned once its spill folder exists (its signal handlers are installed before)."""
    records = _quality_records(tmp_path, 40)  # 37,120 records: many seconds, ended in the first
    temp, out = tmp_path / "tmp", tmp_path / "out"
    temp.mkdir()
    out.mkdir()
    for name in ("payouts.csv", "ledger.csv", "rejects.csv"):
        (out / name).write_text(f"previous {name}\n")
        (out / name).chmod(0o640)
    before = files(out)
    proc = subprocess.Popen([*IPL, "run", str(QUALITY / "renewal_quality.ipl"), "--records", str(records),
                             "-o", "payouts.csv", "--ledger", "ledger.csv", "--rejects", "rejects.csv"],
                            cwd=out, env={**os.environ, "TMPDIR": str(temp)}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, preexec_fn=_as_a_terminal_starts_it(ignored))
    deadline = time.monotonic() + 60
    while not list(temp.glob(f"ipl-periods-{proc.pid}-*")) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    return proc, temp, out, before


@pytest.mark.parametrize("signum, code, line", [
    (signal.SIGTERM, 143, "ipl: terminated (SIGTERM)"),
    (signal.SIGINT, 130, "ipl: interrupted"),
    (signal.SIGHUP, 129, "ipl: terminated (SIGHUP)"),
], ids=["SIGTERM", "SIGINT", "SIGHUP"])
def test_a_signal_during_a_run_leaves_the_previous_outputs_and_no_temporary_files(tmp_path, signum, code, line):
    proc, temp, out, before = _start_a_long_run(tmp_path)
    # mid-run: the spill folder and a temporary file per output exist, and the signal is caught
    assert proc.poll() is None
    assert sorted(p.name.split(".")[1:3] for p in out.glob(".*.tmp")) == [
        ["ledger", "csv"], ["payouts", "csv"], ["rejects", "csv"]]
    assert {p.name.split(".")[3] for p in out.glob(".*.tmp")} == {str(proc.pid)}
    dispositions = _dispositions(proc.pid)
    if dispositions is not None:
        assert signum in dispositions[0], f"ipl does not catch {signal.Signals(signum).name}: {dispositions}"
    proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=60)
    assert (proc.returncode, stderr.decode(), stdout) == (code, line + "\n", b"")
    assert files(out) == before
    assert list(temp.iterdir()) == []


def test_a_signal_ignored_when_ipl_starts_stays_ignored(tmp_path):
    """`nohup ipl run ...`, or a background job of a shell without job control: SIGINT is
    ignored when `ipl` starts, and stays so (docs/outputs.md); SIGTERM still ends the run."""
    proc, temp, out, before = _start_a_long_run(tmp_path, ignored=(signal.SIGINT,))
    assert proc.poll() is None
    dispositions = _dispositions(proc.pid)
    if dispositions is not None:
        caught, ignored = dispositions
        assert signal.SIGINT in ignored and signal.SIGINT not in caught
        assert {signal.SIGTERM, signal.SIGHUP} <= caught
    proc.send_signal(signal.SIGINT)
    time.sleep(0.2)
    assert proc.poll() is None  # ignored: the run goes on
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    assert (proc.returncode, stderr.decode(), stdout) == (143, "ipl: terminated (SIGTERM)\n", b"")
    assert files(out) == before
    assert list(temp.iterdir()) == []


def test_a_run_removes_what_killed_runs_left(work, tmp_path, monkeypatch):
    """`kill -9` runs no handler: the next run removes the temporary files and folders of its
    own naming whose process is dead, and keeps those of a live one (and anything else)."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    dead, alive = dead_pid(), os.getpid()
    planted = [f".payouts.csv.{dead}.k1ll3d_9.tmp", f".payouts.csv.{alive}.runn1ng_.tmp",
               ".payouts.csv.tmp", f".other.csv.{dead}.k1ll3d_9.tmp", f".payouts.csv.{dead}.tmp"]
    for name in planted:
        (work / name).write_text("left behind\n")
    for name in (f"ipl-periods-{dead}-k1ll3d_9", f"ipl-periods-{alive}-runn1ng_", "ipl-periods-a1b2c3d4"):
        (temp / name).mkdir()
        (temp / name / "p0.bin").write_bytes(b"spilled")
    (temp / f"ipl-periods-{dead}-not_mine").write_text("a file, not a folder of ours\n")
    result = ipl("run", QUALITY / "renewal_quality.ipl", "--records", QUALITY / "records.csv", "-o", "payouts.csv")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in work.glob(".*")) == sorted(
        [f".payouts.csv.{alive}.runn1ng_.tmp", ".payouts.csv.tmp", f".other.csv.{dead}.k1ll3d_9.tmp",
         f".payouts.csv.{dead}.tmp"])
    assert sorted(p.name for p in temp.iterdir()) == sorted(
        [f"ipl-periods-{alive}-runn1ng_", "ipl-periods-a1b2c3d4", f"ipl-periods-{dead}-not_mine"])


# ------------------------------------------------------------------ modes


@pytest.fixture(params=[0o022, 0o077], ids=["umask-022", "umask-077"])
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def _write_every_output(work: Path) -> list[str]:
    lines = (work / "small.csv").read_text().splitlines()
    (work / "small.csv").write_text("\n".join(lines[:-1] + [lines[-1].replace(",true", ",perhaps")]) + "\n")
    runs = [
        ["run", "growth.ipl", "--records", "small.csv", "-o", "o.csv", "--rejects", "rejects.csv",
         "--trace", "t.jsonl"],
        ["run", QUALITY / "renewal_quality.ipl", "--records", QUALITY / "records.csv", "-o", "mp.json",
         "--ledger", "ledger.csv"],
        ["explain", "growth.ipl", "--records", "small.csv", "--id", "P-00001", "--format", "html", "-o", "s.html"],
        ["diff", "growth.ipl", "growth.ipl", "--records", "small.csv", "-o", "d.md", "--format", "markdown"],
        ["test", "growth_test.ipl", "--junit", "junit.xml"],
        ["fmt", "messy.ipl"],
    ]
    for args in runs:
        result = ipl(*args)
        assert result.exit_code in (0, 1), (args, result.output)
    return ["o.csv", "rejects.csv", "t.jsonl", "mp.json", "ledger.csv", "s.html", "d.md", "junit.xml"]


MESSY = 'policy "M"   currency USD\ninput pid : id\ninput a : money\ncomponent c = a\n'


def test_new_outputs_get_the_mode_open_would_give(work, umask):
    (work / "messy.ipl").write_text(MESSY)  # created under the umask, as a user's editor would
    made = _write_every_output(work)
    assert {name: oct(mode(name)) for name in made + ["messy.ipl"]} == {
        name: oct(0o666 & ~umask) for name in made + ["messy.ipl"]}
    assert (work / "messy.ipl").read_text() != MESSY


def test_a_replaced_output_keeps_its_mode(work, umask):
    names = ["o.csv", "rejects.csv", "t.jsonl", "mp.json", "ledger.csv", "s.html", "d.md", "junit.xml", "messy.ipl"]
    for i, name in enumerate(names):
        (work / name).write_text(MESSY if name == "messy.ipl" else "previous\n")
        os.chmod(name, (0o640, 0o604, 0o664)[i % 3])
    _write_every_output(work)
    assert {name: oct(mode(name)) for name in names} == {
        name: oct((0o640, 0o604, 0o664)[i % 3]) for i, name in enumerate(names)}
    assert all((work / name).read_text() not in ("previous\n", MESSY) for name in names)
