"""Writing outputs: atomically, with spreadsheet formulas defused (spec §16).

Receives rows (dicts of already formatted cells) and a path. Guarantees: a
file is written to a temporary file in the same folder (`.NAME.PID.XXXXXXXX.tmp`)
and renamed over the target only when complete, so an interrupted run leaves
the previous output intact; the file gets the mode a plain `open()` would give
(`0o666 & ~umask`), or keeps the mode of the file it replaces; text cells of
CSV outputs that start with `=`, `+`, `-` or `@` (or a tab / carriage return)
are prefixed with `'` so that no spreadsheet runs them. The format (CSV, JSON
array, JSON Lines) follows the extension. Emits no diagnostics: a write that
fails — at the open, at any write, at the rename — raises `OutputError` with
one line naming the output (the CLI exits 2); standard output whose reader went
away raises `PipeClosed`. `refuse_overlap` refuses an output that is an input
or another output, before anything is read.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import io
import json
import os
import re
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class OutputError(Exception):
    """An output file cannot be written (one line: `cannot write PATH: reason`)."""


class PipeClosed(Exception):
    """Standard output is a pipe whose reader has gone (`ipl run ... | head -1`)."""


def _reason(err: OSError) -> str:
    return err.strerror or str(err)


# ------------------------------------------------------------------ where bytes are written


class _Sink(io.FileIO):
    """The raw file under an output's buffers: a failed write raises `OutputError` naming the
    output (or `PipeClosed` on standard output), from wherever the buffers happen to flush.

    The failure is raised once; the output is dead after it and later writes are dropped, so
    that closing it, or the interpreter's last flush of standard output, raises nothing more.
    """

    label: str
    standard: bool
    failed: BaseException | None

    def write(self, data) -> int:
        if self.failed is not None:
            return len(data)
        try:
            return super().write(data)
        except BrokenPipeError:
            if not self.standard:
                self.failed = OutputError(f"cannot write {self.label}: {os.strerror(errno.EPIPE)}")
                raise self.failed from None
            self.failed = PipeClosed()
            raise self.failed from None
        except OSError as err:
            self.failed = OutputError(f"cannot write {self.label}: {_reason(err)}")
            raise self.failed from None


def _sink(fd: int, label: str, standard: bool = False, closefd: bool = True) -> _Sink:
    sink = _Sink(fd, "w", closefd=closefd)
    sink.label, sink.standard, sink.failed = label, standard, None
    return sink


def _text(sink: _Sink, newline: str | None, encoding: str = "utf-8", errors: str = "strict",
          line_buffering: bool = False) -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BufferedWriter(sink, buffer_size=1 << 16), encoding=encoding, errors=errors,
                            newline=newline, line_buffering=line_buffering)


def guard_standard_streams() -> None:
    """Standard output and error as outputs like the others: a full device or a closed pipe
    raises `OutputError` / `PipeClosed` where it happens, not a traceback at exit. A closed
    file descriptor 1 (`ipl run ... >&-`) fails its first write ("Bad file descriptor")."""
    for fd, name, label in ((1, "stdout", "standard output"), (2, "stderr", "standard error")):
        old = getattr(sys, name)
        try:
            os.fstat(fd)
        except OSError:
            # nothing open there: hold the number (no file opened later may take it), and let a
            # write fail, as writing a closed descriptor would
            held = os.open(os.devnull, os.O_RDONLY if fd == 1 else os.O_WRONLY)
            if held != fd:
                os.dup2(held, fd)
                os.close(held)
            old = None
        if old is not None:
            with contextlib.suppress(Exception):
                old.flush()
        stream = _text(_sink(fd, label, standard=True, closefd=False), newline=None,
                       encoding=getattr(old, "encoding", None) or "utf-8",
                       errors=getattr(old, "errors", None) or ("backslashreplace" if fd == 2 else "strict"),
                       line_buffering=fd == 2 or bool(getattr(old, "line_buffering", False)))
        setattr(sys, name, stream)


def silence_stdout() -> None:
    """After a failure: what standard output still holds is written if it can be, else dropped
    (its descriptor pointed at the null device), so that the interpreter's last flush at exit
    finds nothing to complain about."""
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        return
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not a file (a test's captured output)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


# ------------------------------------------------------------------ outputs over inputs


def _identity(path: str):
    """What makes two paths one file: device and inode for an existing file (symlinks and hard
    links included), else the absolute path with its folders' links resolved. None for devices
    and pipes (`/dev/null` twice is no clash)."""
    try:
        st = os.stat(path)
    except OSError:
        return ("path", os.path.normcase(os.path.realpath(os.path.abspath(path))))
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
        return None
    return ("file", st.st_dev, st.st_ino)


def refuse_overlap(inputs: Iterable[tuple[str, str | None]], outputs: Iterable[tuple[str, str | None]]) -> None:
    """`OutputError` when an output is one of the inputs or two outputs are one file (§16).

    `inputs` and `outputs` are (option, path) pairs, a path None when the option is not given.
    Called before anything is read: writing the rejects over the records, or the payouts over
    the rejects, must fail at once rather than destroy one of them.
    """
    seen: dict = {}
    for option, path in inputs:
        if path:
            key = _identity(path)
            if key is not None:
                seen.setdefault(key, (option, path, True))
    for option, path in outputs:
        if not path:
            continue
        key = _identity(path)
        if key is None:
            continue
        if key in seen:
            other, other_path, is_input = seen[key]
            why = "an output would destroy the input" if is_input else "give each output a file of its own"
            raise OutputError(f"{other} {other_path} and {option} {path} are the same file: {why}")
        seen[key] = (option, path, False)


# ------------------------------------------------------------------ what a killed run left


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (another user's counts: it may be running)."""
    if pid <= 0:
        return True  # not a process id: leave it alone
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (OverflowError, ValueError, OSError):
        return False
    return True


def sweep_stale(folder: str, pattern: re.Pattern, folders: bool = False) -> list[str]:
    """Remove the files (or, with `folders`, the folders and what they hold) of `folder` whose
    names `pattern` matches whole and whose owning process — the pattern's first group, a pid —
    no longer exists: `kill -9` runs no handler and leaves them behind. Returns the names
    removed; one that cannot be removed is left (another run may be removing it)."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        m = pattern.fullmatch(entry.name)
        if m is None:
            continue
        try:
            if entry.is_dir(follow_symlinks=False) != folders or (not folders and entry.is_symlink()):
                continue
            if pid_alive(int(m.group(1))):
                continue
            if folders:
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
        except OSError:
            continue
        removed.append(entry.name)
    return removed


def temp_pattern(name: str) -> re.Pattern:
    """The temporary files of an output named `name`: `.NAME.PID.XXXXXXXX.tmp`."""
    return re.compile(re.escape(f".{name}.") + r"(\d+)\.[a-z0-9_]+\.tmp")


_TEMPORARIES: set[str] = set()


@contextlib.contextmanager
def temporary_folder(prefix: str) -> Iterator[str]:
    """A private folder in the temporary directory, `PREFIX-PID-XXXXXXXX`, removed at the end;
    folders of this prefix left by dead processes are removed first. It is also removed by
    `remove_temporaries` (a signal's exit), should it belong to a thread that is not unwound."""
    sweep_stale(tempfile.gettempdir(), re.compile(re.escape(prefix) + r"-(\d+)-[a-z0-9_]+"), folders=True)
    with tempfile.TemporaryDirectory(prefix=f"{prefix}-{os.getpid()}-") as path:
        _TEMPORARIES.add(path)
        try:
            yield path
        finally:
            _TEMPORARIES.discard(path)


def remove_temporaries() -> None:
    """Remove the temporary folders still in use (the run is being ended by a signal)."""
    for path in list(_TEMPORARIES):
        shutil.rmtree(path, ignore_errors=True)
        _TEMPORARIES.discard(path)


# ------------------------------------------------------------------ atomic outputs


def current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def defuse(cell: str) -> str:
    """§16: a text cell a spreadsheet would run as a formula gets a leading `'`."""
    if cell and cell[0] in _FORMULA_START:
        return "'" + cell
    return cell


def output_format(path: str, allowed: tuple[str, ...] = ("csv", "json", "jsonl")) -> str:
    suffix = Path(path).suffix.lower()
    fmt = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}.get(suffix)
    if fmt is None or fmt not in allowed:
        names = ", ".join("." + a for a in allowed)
        raise OutputError(f"cannot tell the format of {path}: use {names}")
    return fmt


@contextlib.contextmanager
def atomic_open(path: str, newline: str | None = None) -> Iterator:
    """Open a text file for writing that appears at `path` only when the block completes.

    Through a symlink, the file it points to is replaced (as `open()` would write it). A device
    or a pipe (`/dev/stdout`, a FIFO) is written directly: it cannot be renamed over. A new file
    gets `0o666 & ~umask`; a file replaced keeps its mode; a file `open()` could not write
    (read-only, for a user other than root) is not replaced either.
    """
    target = os.path.realpath(path)
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as err:  # e.g. a folder in the path is a file
        raise OutputError(f"cannot write {path}: {_reason(err)}") from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise OutputError(f"cannot write {path}: {os.strerror(errno.EISDIR)}")
    if st is not None and not stat.S_ISREG(st.st_mode):
        try:
            fd = os.open(target, os.O_WRONLY | os.O_TRUNC)
        except OSError as err:
            raise OutputError(f"cannot write {path}: {_reason(err)}") from None
        with _text(_sink(fd, path), newline) as handle:
            yield handle
        return
    if st is not None:  # what open() would say of this file: read-only, on a read-only file system
        try:
            os.close(os.open(target, os.O_WRONLY))
        except OSError as err:
            raise OutputError(f"cannot write {path}: {_reason(err)}") from None
    folder, name = os.path.split(target)
    sweep_stale(folder, temp_pattern(name))
    mode = stat.S_IMODE(st.st_mode) if st is not None else 0o666 & ~current_umask()
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.{os.getpid()}.", suffix=".tmp", dir=folder)
    except OSError as err:
        raise OutputError(f"cannot write {path}: {_reason(err)}") from None
    try:
        sink = _sink(fd, path)
        with _text(sink, newline) as handle:
            try:
                os.fchmod(fd, mode)  # mkstemp made it 0600
            except OSError as err:
                raise OutputError(f"cannot write {path}: {_reason(err)}") from None
            yield handle
            handle.flush()
            if sink.failed is not None:  # raised once already, and caught by someone: never put it in place
                raise sink.failed
            try:
                os.fsync(fd)
            except OSError as err:
                raise OutputError(f"cannot write {path}: {_reason(err)}") from None
        if _TOGETHER:  # put in place with the run's other outputs, when all are written
            _TOGETHER[-1].append((tmp, target, path))
            return
        _put_in_place(tmp, target, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _put_in_place(tmp: str, target: str, path: str) -> None:
    try:
        os.replace(tmp, target)
    except OSError as err:
        raise OutputError(f"cannot write {path}: {_reason(err)}") from None


_TOGETHER: list[list[tuple[str, str, str]]] = []


@contextlib.contextmanager
def outputs_together() -> Iterator[None]:
    """The outputs completed in this block are renamed into place together at its end, and
    only if the block completes: a run whose rejects cannot be written (a full disk at the
    last flush) does not leave a new trace beside the old payouts."""
    written: list[tuple[str, str, str]] = []
    _TOGETHER.append(written)
    try:
        yield
    except BaseException:
        for tmp, _target, _path in written:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise
    finally:
        _TOGETHER.pop()
    for i, (tmp, target, path) in enumerate(written):
        try:
            _put_in_place(tmp, target, path)
        except BaseException:
            for later, _target, _path in written[i + 1:]:
                with contextlib.suppress(OSError):
                    os.unlink(later)
            raise


class _LineFeeds:
    """A text handle seen by `csv.writer` through rows ending in CRLF, written ending in LF."""

    __slots__ = ("write",)

    def __init__(self, handle):
        put = handle.write
        self.write = lambda row: put(row[:-2] + "\n")


def csv_writer(handle):
    """A `csv.writer` whose rows end in LF and whose cells holding a line break of either kind
    are quoted. Python's writer quotes a cell that holds a character of its line terminator, so
    with LF alone a cell holding a lone CR would go out bare and read back as two rows: the
    writer is given CRLF, and the CR taken off each row's end as it is written."""
    return csv.writer(_LineFeeds(handle), lineterminator="\r\n")


class RowWriter:
    """Writes rows of one table as CSV, a JSON array or JSON Lines, atomically.

    CSV cells: `str` cells are defused; numbers and bools are written as given
    (already formatted by the caller). JSON values: Decimals are written as JSON
    numbers with their exact digits (never through float).
    """

    def __init__(self, path: str, columns: list[str], text_columns: frozenset[str] = frozenset()):
        self.path = path
        self.columns = columns
        self.text_columns = text_columns
        self.format = output_format(path)
        self._cm = atomic_open(path, newline="" if self.format == "csv" else None)
        self._handle = None
        self._first = True

    def __enter__(self) -> RowWriter:
        self._handle = self._cm.__enter__()
        if self.format == "csv":
            self._csv = csv_writer(self._handle)
            self._csv.writerow(self.columns)
        elif self.format == "json":
            self._handle.write("[")
        return self

    def write(self, cells: list) -> None:
        """One row, in the order of `columns`."""
        if self.format == "csv":
            text = self.text_columns
            self._csv.writerow([defuse(c) if i in text else c for i, c in enumerate(cells)]
                               if text else cells)
            return
        obj = dict(zip(self.columns, cells))
        line = dumps(obj)
        if self.format == "json":
            self._handle.write(("\n  " if self._first else ",\n  ") + line)
            self._first = False
        else:
            self._handle.write(line + "\n")

    def write_csv_row(self, cells: list) -> None:
        """A CSV row whose cells the caller has already defused (the fast path of `ipl run`)."""
        self._csv.writerow(cells)

    def __exit__(self, *exc) -> bool:
        if self.format == "json" and exc[0] is None:
            self._handle.write("\n]\n" if not self._first else "]\n")
        return self._cm.__exit__(*exc)


def dumps(obj, indent: int | None = None) -> str:
    """JSON text with Decimals as exact JSON numbers (plain notation, never floats)."""
    out: list[str] = []
    _emit(obj, out, indent, 0)
    return "".join(out)


def _emit(obj, out: list[str], indent: int | None, level: int) -> None:
    if isinstance(obj, bool) or obj is None or isinstance(obj, (int, str)):
        out.append(json.dumps(obj, ensure_ascii=False))
    elif isinstance(obj, Decimal):
        out.append(format(obj.copy_abs() if obj.is_zero() else obj, "f") if obj.is_finite() else "null")
    elif isinstance(obj, dict):
        if not obj:
            out.append("{}")
            return
        pad, sep = _pads(indent, level)
        out.append("{")
        for i, (k, v) in enumerate(obj.items()):
            out.append((_COMMA[indent is None] if i else "") + pad + json.dumps(str(k), ensure_ascii=False) + ": ")
            _emit(v, out, indent, level + 1)
        out.append(sep + "}")
    elif isinstance(obj, (list, tuple)):
        if not obj:
            out.append("[]")
            return
        pad, sep = _pads(indent, level)
        out.append("[")
        for i, v in enumerate(obj):
            out.append((_COMMA[indent is None] if i else "") + pad)
            _emit(v, out, indent, level + 1)
        out.append(sep + "]")
    else:
        raise TypeError(f"not JSON: {type(obj).__name__}")


_COMMA = {True: ", ", False: ","}


def _pads(indent: int | None, level: int) -> tuple[str, str]:
    if indent is None:
        return "", ""
    return "\n" + " " * (indent * (level + 1)), "\n" + " " * (indent * level)


def write_text(path: str, text: str) -> None:
    """Write a whole text file atomically."""
    with atomic_open(path) as handle:
        handle.write(text)
