"""Record every output of the example programs, to compare two versions of the toolchain byte
for byte (a refactoring must change none of them).

    python benchmarks/snapshot.py OUT_DIR [--ipl PATH_TO_IPL]
    diff -r OLD_DIR NEW_DIR

For each program of programs/: payouts as CSV and JSON, rejects, traces, the ledger
(multi-period programs), the summary, `ipl explain` as text, JSON and HTML for a few ids (and
one period of a multi-period program), `ipl test` with coverage, `ipl diff` of the program
against itself with a changed param, and `ipl check --format json` of every file.
"""

from __future__ import annotations

import argparse
import csv
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(ipl: list[str], args: list[str], out: Path, name: str) -> None:
    """Run one command; keep its stdout, stderr and exit code under `out/name.*`."""
    proc = subprocess.run([*ipl, *args], cwd=ROOT, capture_output=True)
    (out / f"{name}.stdout").write_bytes(proc.stdout)
    (out / f"{name}.stderr").write_bytes(proc.stderr)
    (out / f"{name}.code").write_text(f"{proc.returncode}\n")


def snapshot(ipl: list[str], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    run(ipl, ["check", "--format", "json", "programs", "stdlib"], out, "check")
    for folder in sorted((ROOT / "programs").iterdir()):
        if not folder.is_dir():
            continue
        name = folder.name
        policy = next(p for p in folder.glob("*.ipl") if not p.stem.endswith("_test"))
        records = folder / "records.csv"
        d = out / name
        d.mkdir(exist_ok=True)
        rel = lambda p: str(p.relative_to(ROOT))  # noqa: E731
        found = re.search(r"^input\s+(\w+)\s*:\s*period\b", policy.read_text(), re.M)
        multi = found is not None
        base = ["run", rel(policy), "--records", rel(records)]
        run(ipl, [*base, "-o", str(d / "payouts.csv"), "--rejects", str(d / "rejects.csv"),
                  "--trace", str(d / "trace.jsonl"), *(["--ledger", str(d / "ledger.csv")] if multi else [])],
            d, "run")
        run(ipl, [*base, "-o", str(d / "payouts.json")], d, "run_json")
        run(ipl, base, d, "run_stdout")
        with records.open(newline="") as fh:
            ids = [row[0] for _, row in zip(range(200), csv.reader(fh))][1::37][:5]
        for rid in ids:
            for fmt in ("text", "json", "html"):
                run(ipl, ["explain", rel(policy), "--records", rel(records), "--id", rid, "--format", fmt],
                    d, f"explain_{rid}_{fmt}")
        if multi:
            value = next(csv.DictReader(records.open(newline="")))[found.group(1)]
            run(ipl, ["explain", rel(policy), "--records", rel(records), "--id", ids[0], "--period", value],
                d, "explain_period")
        tests = [p for p in folder.glob("*_test.ipl")]
        if tests:
            run(ipl, ["test", "--coverage", rel(tests[0])], d, "test")
        # the same path in every snapshot: `ipl diff` prints it
        changed = Path("/tmp/ipl-snapshot") / f"{name}.ipl"
        changed.parent.mkdir(exist_ok=True)
        text = policy.read_text()
        changed.write_text(text.replace("10%", "11%", 1) if "10%" in text else text)
        run(ipl, ["diff", rel(policy), str(changed), "--records", rel(records), "--format", "json"], d, "diff")
        run(ipl, ["diff", rel(policy), str(changed), "--records", rel(records)], d, "diff_text")
        changed.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--ipl", default=str(ROOT / ".venv" / "bin" / "ipl"))
    args = parser.parse_args()
    snapshot([args.ipl], args.out)


if __name__ == "__main__":
    sys.exit(main())
