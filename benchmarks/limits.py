"""Measure the limits of docs/limits.md: the largest inputs IPL is tested with, and the time
and memory each takes. A script, not a test (it takes minutes and writes about 300 MB of
temporary files):

    .venv/bin/python benchmarks/limits.py            # every case
    .venv/bin/python benchmarks/limits.py enum file  # the cases whose name starts with these

Every case runs `ipl` as a process (`dsl.cli.main`, as the `ipl` script does), as a user
would, and reports the wall time, the CPU time (`os.wait4`) and the peak resident memory (its
VmHWM) of that process, its exit code, and the lines of its output that say what happened.
Only the command line is used, so the script keeps working whatever the package's layout.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GROWTH = ROOT / "programs/growth"
# The peak memory is the child's own high-water mark (VmHWM), written at its exit: the rusage of
# a child (`os.wait4`, `getrusage`) starts from the RSS of the process that forked it, the
# script's, which builds large inputs in memory.
IPL = [sys.executable, "-c", "import atexit, sys; atexit.register(lambda: sys.stderr.write(next("
       "ln for ln in open('/proc/self/status') if ln.startswith('VmHWM')))); sys.argv[0] = 'ipl'; "
       "from dsl.cli import main; main()"]

HEAD = '''policy "Limits"
  currency USD

input partner_id : id
input score : number in 0..1_000_000
input revenue : money in 0 USD..
'''


def measured(label: str, args: list, cwd: Path) -> None:
    start = time.perf_counter()
    proc = subprocess.Popen([*IPL, *map(str, args)], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # read the pipes without reaping the child, then reap it with wait4 to get its resource usage
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    text = (out + err).decode("utf-8", "replace")
    peak = next((int(ln.split()[1]) for ln in text.splitlines() if ln.startswith("VmHWM:")), 0)
    says = [ln.strip() for ln in text.splitlines()
            if ln.startswith(("reconciled", "checked", "ipl:", "error[", "record ", "note:"))][:2]
    flag = "  TRACEBACK" if "Traceback" in text else ""
    print(f"  {label:<58} exit {proc.returncode}  {wall:7.2f} s wall  {usage.ru_utime + usage.ru_stime:7.2f} s cpu  "
          f"{peak / 1024:7.0f} MB peak{flag}")
    for line in says:
        print(f"      {line[:150]}")
    sys.stdout.flush()


def growth_records(n: int, path: Path) -> None:
    """`n` growth records: programs/growth/records.csv repeated with fresh ids."""
    lines = (GROWTH / "records.csv").read_text().splitlines()
    header, body = lines[0], lines[1:]
    with path.open("w") as out:
        out.write(header + "\n")
        for i in range(n):
            row = body[i % len(body)]
            out.write(f"P{i:07d}" + row[row.index(","):] + "\n")


def scored_records(n: int, path: Path, extra=None) -> None:
    with path.open("w") as out:
        out.write("partner_id,score,revenue" + (",seg" if extra else "") + "\n")
        for i in range(n):
            out.write(f"P{i},{(i * 7919) % 1_000_000},{1000 + i % 5000}.50" + (f",{extra(i)}" if extra else "") + "\n")


# ---------------------------------------------------------------- the cases


def case_table(tmp: Path) -> None:
    for bands in (10_000, 100_000):
        policy = tmp / f"table{bands}.ipl"
        rows = "\n".join(f"  from {i * (1_000_000 // bands)} -> {i % 100}%" for i in range(bands))
        policy.write_text(HEAD + f"tiers rate on score {{\n  below 0 -> 0%\n{rows}\n}}\n"
                          "component c = revenue * rate\n")
        records = tmp / "scored.csv"
        scored_records(10_000, records)
        measured(f"a table of {bands:,} bands: ipl check", ["check", policy], tmp)
        measured(f"a table of {bands:,} bands: ipl run, 10,000 records", ["run", policy, "--records", records,
                                                                            "-o", tmp / "o.csv"], tmp)


def case_enum(tmp: Path) -> None:
    members = 100_000
    policy = tmp / "enum.ipl"
    names = ", ".join(f"member_{i}" for i in range(members))
    policy.write_text(HEAD + f"input seg : enum({names})\n"
                      "component c = if seg == member_7 then revenue * 10% else revenue * 1%\n")
    records = tmp / "enum.csv"
    scored_records(10_000, records, extra=lambda i: f"member_{i * 7 % members}" if i % 5 else f"membr_{i}")
    measured(f"an enum of {members:,} members: ipl check", ["check", policy], tmp)
    measured(f"an enum of {members:,} members: ipl run, 10,000 records, 2,000 bad values",
             ["run", policy, "--records", records, "-o", tmp / "o.csv", "--rejects", tmp / "rej.csv"], tmp)


def case_nesting(tmp: Path) -> None:
    base = "component base = joint_revenue * base_rate"
    text = (GROWTH / "growth.ipl").read_text()
    records = tmp / "g10k.csv"
    growth_records(10_000, records)

    def parens(k):
        return "component base = " + "(" * k + "joint_revenue * base_rate" + ")" * k

    def ladder(k):
        return "component base = " + "".join(f"if joint_revenue > {i + 1}_000 USD then {i} USD else "
                                             for i in range(k)) + "0 USD"

    def matches(k):
        inner = "joint_revenue"
        for _ in range(k):
            inner = f"match segment {{ enterprise -> {inner} else -> 0 USD }}"
        return "component base = " + inner

    for label, code in [("95 nested parentheses (the deepest legal)", parens(95)),
                        ("96 nested parentheses (refused)", parens(96)),
                        ("100,000 nested parentheses (refused)", parens(100_000)),
                        ("a ladder of 95 else-if rungs (the deepest legal)", ladder(95)),
                        ("a ladder of 96 else-if rungs (refused)", ladder(96)),
                        ("48 nested matches (the deepest legal)", matches(48)),
                        ("49 nested matches (refused)", matches(49))]:
        policy = tmp / "nested.ipl"
        policy.write_text(text.replace(base, code))
        measured(f"{label}: ipl check", ["check", policy], tmp)
        if "legal" in label:
            measured(f"{label}: ipl run, 10,000 records", ["run", policy, "--records", records,
                                                           "-o", tmp / "o.csv"], tmp)


def case_record(tmp: Path) -> None:
    lines = (GROWTH / "records.csv").read_text().splitlines()
    header = lines[0].split(",")
    first = dict(zip(header, lines[1].split(",")))
    big = "x" * 50_000_000
    for fmt in ("json", "jsonl", "csv"):
        path = tmp / f"big.{fmt}"
        if fmt == "csv":
            buf = io.StringIO()
            w = csv.writer(buf, lineterminator="\n")
            w.writerow([*header, "notes"])
            w.writerow([*first.values(), big])
            w.writerow([*lines[2].split(","), "short"])
            path.write_text(buf.getvalue())
        else:
            records = [{**first, "notes": big}, {**dict(zip(header, lines[2].split(","))), "notes": "short"}]
            path.write_text(json.dumps(records) if fmt == "json" else "".join(json.dumps(r) + "\n" for r in records))
        size = path.stat().st_size / 1e6
        measured(f"one 50 MB record ({fmt}, {size:.0f} MB): ipl run", ["run", GROWTH / "growth.ipl", "--records", path,
                                                                      "-o", tmp / "o.csv"], tmp)
        measured(f"one 50 MB record ({fmt}): ipl explain", ["explain", GROWTH / "growth.ipl", "--records", path,
                                                             "--id", first["partner_id"]], tmp)
        path.unlink()
    # a 50 MB value in a column the policy reads: rejected (too long for its type), not kept
    path = tmp / "bigcell.jsonl"
    path.write_text(json.dumps({**first, "segment": "e" * 50_000_000}) + "\n")
    measured("one 50 MB cell in a column the policy reads (jsonl): ipl run",
             ["run", GROWTH / "growth.ipl", "--records", path, "-o", tmp / "o.csv", "--rejects", tmp / "r.csv"], tmp)
    path.unlink()


def case_file(tmp: Path) -> None:
    path = tmp / "million.csv"
    growth_records(1_000_000, path)
    size = path.stat().st_size / 1e6
    measured(f"1,000,000 records (CSV, {size:.0f} MB): ipl run growth", ["run", GROWTH / "growth.ipl", "--records",
                                                                          path, "-o", tmp / "o.csv"], tmp)
    measured("1,000,000 records (CSV): ipl explain of the last one",
             ["explain", GROWTH / "growth.ipl", "--records", path, "--id", "P0999999"], tmp)
    jsonl = tmp / "million.jsonl"
    with path.open() as src, jsonl.open("w") as out:
        for row in csv.DictReader(src):
            out.write(json.dumps(row) + "\n")
    path.unlink()
    size = jsonl.stat().st_size / 1e6
    measured(f"1,000,000 records (JSON Lines, {size:.0f} MB): ipl run growth",
             ["run", GROWTH / "growth.ipl", "--records", jsonl, "-o", tmp / "o.csv"], tmp)
    jsonl.unlink()
    quality = ROOT / "programs/renewal_quality"
    lines = (quality / "records.csv").read_text().splitlines()
    path = tmp / "quality.csv"
    with path.open("w") as out:
        out.write(lines[0] + "\n")
        for k in range(108):  # 928 records a copy: about 100,000 records, 4 quarters
            for ln in lines[1:]:
                out.write(ln.replace("RQ-", f"RQ{k}-", 1) + "\n")
    measured("100,224 records of renewal_quality (4 quarters, holds, clawbacks, draws): ipl run --ledger",
             ["run", quality / "renewal_quality.ipl", "--records", path, "-o", tmp / "o.csv",
              "--ledger", tmp / "l.csv"], tmp)


CASES = {"table": case_table, "enum": case_enum, "nesting": case_nesting, "record": case_record, "file": case_file}


def main() -> None:
    wanted = sys.argv[1:] or list(CASES)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load average "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    for name, case in CASES.items():
        if not any(name.startswith(w) for w in wanted):
            continue
        print(name)
        with tempfile.TemporaryDirectory(prefix="ipl-limits-") as tmp:
            case(Path(tmp))


if __name__ == "__main__":
    main()
