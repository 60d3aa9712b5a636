"""A policy fuzzer (spec §12, §16): mutants of every `.ipl` of the repository, through the
command line.

The corpus is every `.ipl` file of `programs/`, `stdlib/`, `tests/golden/` and `tests/check/`,
and the implemented examples of `tests/spec_examples.md`. A mutant is one to three mutations
of one of them: token-level deletions, duplications, swaps, replacements (by a keyword, another
name of the corpus, a huge number such as `1e999999` or a 1,000-digit literal), deep nesting
(parentheses, `not`, minus signs, `else if` ladders and nested `match`es on both sides of the
legal limits), unbalanced braces, truncation; and byte-level ones: bytes that are not UTF-8,
a BOM, CRLF or CR line ends, NUL bytes, the whole file in UTF-16 or latin-1, odd Unicode.

Each mutant is written, under its file's name, into a copy of its file's folder (the other
`.ipl` files and, for a program, a slice of its `records.csv`), then goes through:

- `ipl check` in the three formats: exit 0 or 1, the same code for each, JSON that parses;
- `ipl fmt --check`: exit 0 or 1;
- if it checks clean: `ipl run` over the slice (exit 0, 1, or 2 with a one-line message; a
  summary that reconciles the records of the slice), `ipl explain` of one id, `ipl test` of
  the test file that targets it (or of the mutant, when it is a test file), and `ipl fmt`:
  the formatted file checks clean, is stable, and pays what the mutant pays.

No call may print a traceback, raise, or take more than the watchdog's 20 s
(tests/robustness/harness.py). A failure names the mutant (its source, the mutations, the
seed) and keeps it under pytest's base temporary folder (`fuzz-failures/`).

`test_hostile_mutant` adds fixed mutants of the programs, each at a known limit (the deepest
legal nesting and one level past it, the largest numbers), and checks what each must give.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from ..conftest import ROOT, spec_examples
from .harness import SEED, Figures, budget, call_or_hang, judge, reconciled, save_input

MUTANTS = budget(60, 3_000)
SLICE_IDS = 10  # a program's records: every record of its first 10 ids

# ---------------------------------------------------------------- the corpus


@dataclass(frozen=True)
class Source:
    """One file of the corpus: its text, where it lives, and what can run with it."""

    name: str  # the file's name in its folder
    label: str  # where it comes from, for messages
    text: str
    folder: Path | None  # the folder whose other .ipl files (and records) it is copied with
    kind: str  # policy, module or tests
    weight: int


def _kind(text: str) -> str:
    body = "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("#"))
    first = body.split(None, 1)[0] if body.split() else ""
    return {"policy": "policy", "module": "module", "tests": "tests"}.get(first, "other")


def corpus() -> list[Source]:
    out = []
    # tests/check's folders hold one small policy per checker rule (tests/check/names/, ...):
    # the files at its top are enough of them as seeds, and keep the programs' share of mutants
    for top, pattern in (("programs", "**/*.ipl"), ("stdlib", "**/*.ipl"), ("tests/golden", "**/*.ipl"),
                         ("tests/check", "*.ipl")):
        for path in sorted((ROOT / top).glob(pattern)):
            text = path.read_text(encoding="utf-8")
            program = top == "programs"
            out.append(Source(path.name, str(path.relative_to(ROOT)), text, path.parent, _kind(text),
                              12 if program else 1))
    head = 'policy "P" currency USD\ninput partner_id : id\n'
    for i, text in enumerate(spec_examples(head)):
        out.append(Source("spec.ipl", f"tests/spec_examples.md block {i + 1}", text, None, _kind(text), 1))
    return out


CORPUS = corpus()
TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|[A-Za-z_][A-Za-z0-9_]*|\d[\d_]*(?:\.\d+)?%?|\.\.|->|[<>=!]=|\s+|.', re.S)
NAMES = sorted({t for s in CORPUS for t in TOKEN.findall(s.text) if re.fullmatch(r"[A-Za-z_]\w*", t)})
KEYWORDS = """policy module use input param metric def tiers scorecard eligibility component benefit clawback total
program budget per period hold until within periods when recover require else if then match otherwise in on below
from marginal flat weight target cap floor recoverable pool by among rank percentile prior trailing_sum trailing_avg
streak periods_active and or not true false tests for test given expect fixture with error version currency
rounding enum money percent number count bool text id eligible reasons column min max""".split()
HUGE = ["1e999999", "-1e999999", "1e-999999", "1" + "0" * 999, "9" * 40, "0." + "0" * 998 + "1",
        "99_999_999_999_999_999_999_999_999_999_999_999", "1" + "0" * 999 + "%", "9" * 40 + " USD",
        "NaN", "Infinity", "-0", "0.0000000000000000000000000000000000000001"]
SMALL = ["0", "0.001", "1", "-1", "1_000_000_000_000", "0.5"]  # zero divisors, empty bands, negative amounts
ODD_TEXT = ["\u2028", "\u00a0", "\u200b", "\ufeff", "１２", "١٢", "\U0001f4b8", "\t", "\x0c", "\x0b", "\\", '"',
            "\u202e", "é", "\r"]
BAD_BYTES = [b"\xff", b"\xfe\xff", b"\xc3(", b"\xed\xa0\x80", b"\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf", b"\x00",
             b"\x00" * 5]

# ---------------------------------------------------------------- mutations


def _pick(rng: random.Random, tokens: list[str]) -> int | None:
    solid = [i for i, t in enumerate(tokens) if not t.isspace()]
    return rng.choice(solid) if solid else None


def _number_indexes(tokens: list[str]) -> list[int]:
    return [i for i, t in enumerate(tokens) if t[:1].isdigit()]


def mutate_tokens(rng: random.Random, tokens: list[str], ops: list[str]) -> None:
    """One token-level mutation, in place; its name appended to `ops`."""
    i = _pick(rng, tokens)
    if i is None:
        tokens.append(rng.choice(KEYWORDS))
        ops.append("append-keyword")
        return
    op = rng.choice(["delete", "duplicate", "swap", "keyword", "name", "huge", "huge", "number", "parens", "prefix",
                     "ladder", "matches", "brace", "odd", "truncate", "long-string"])
    t = tokens[i]
    match op:
        case "delete":
            del tokens[i]
        case "duplicate":
            tokens.insert(i, t)
        case "swap":
            j = _pick(rng, tokens)
            tokens[i], tokens[j] = tokens[j], tokens[i]
        case "keyword":
            tokens[i] = rng.choice(KEYWORDS)
        case "name":
            tokens[i] = rng.choice(NAMES)
        case "huge" | "number":
            numbers = _number_indexes(tokens)
            if numbers:
                i = rng.choice(numbers)
            if op == "huge":
                tokens[i] = rng.choice(HUGE)
            else:  # another number of the file: often a policy that still checks
                tokens[i] = tokens[rng.choice(numbers)] if numbers else "0"
        case "parens":
            k = rng.choice([99, 100, 101, 200, 5_000])
            tokens[i] = "(" * k + t + ")" * k
        case "prefix":
            k = rng.choice([99, 100, 101, 1_000])
            tokens[i] = rng.choice(["not ", "-", "- "]) * k + t
        case "ladder":
            k = rng.choice([94, 95, 96, 97, 300])
            tokens[i] = "if true then 1 USD else " * k + t
        case "matches":
            k = rng.choice([47, 48, 49, 60])
            tokens[i] = "match true { true -> " * k + t + " else -> 0 USD }" * k
        case "brace":
            if rng.random() < 0.5:
                tokens.insert(i, rng.choice("{}()[]") * rng.choice([1, 1, 2, 100]))
            else:
                brackets = [j for j, x in enumerate(tokens) if x in "{}()[]"]
                del tokens[rng.choice(brackets) if brackets else i]
        case "odd":
            tokens.insert(i, rng.choice(ODD_TEXT))
        case "truncate":
            del tokens[i:]
        case "long-string":
            tokens.insert(i, '"' + "x" * rng.choice([10_000, 1_000_000]) + '"')
        case _:
            raise AssertionError(op)
    ops.append(f"{op}@{i}")


def mutate_bytes(rng: random.Random, data: bytes, ops: list[str], op: str | None = None) -> bytes:
    """One byte-level mutation (`op`, or one drawn)."""
    op = op or rng.choice(["bom", "crlf", "cr", "nul", "bad-bytes", "utf16", "latin1", "bom-inside", "cut"])
    at = rng.randrange(len(data) + 1)
    ops.append(op if op in ("bom", "crlf", "cr", "utf16", "latin1") else f"{op}@{at}")
    match op:
        case "bom":
            return b"\xef\xbb\xbf" + data
        case "crlf":
            return data.replace(b"\n", b"\r\n")
        case "cr":
            return data.replace(b"\n", b"\r")
        case "nul":
            return data[:at] + b"\x00" + data[at:]
        case "bad-bytes":
            return data[:at] + rng.choice(BAD_BYTES) + data[at:]
        case "utf16":
            return data.decode("utf-8", errors="replace").encode("utf-16")
        case "latin1":
            return (data.decode("utf-8", errors="replace") + "# café\n").encode("latin-1", errors="replace")
        case "bom-inside":
            return data[:at] + b"\xef\xbb\xbf" + data[at:]
        case "cut":  # possibly inside a character
            return data[:at]
        case _:
            raise AssertionError(op)


@dataclass(frozen=True)
class Mutant:
    index: int
    source: Source
    ops: tuple[str, ...]
    data: bytes

    def describe(self) -> str:
        return (f"mutant {self.index} (IPL_FUZZ_SEED={SEED}) of {self.source.label}: "
                f"{', '.join(self.ops) or 'unchanged'}")


def make_mutant(index: int) -> Mutant:
    rng = random.Random(f"ipl-policy-fuzz-{SEED}-{index}")
    source = rng.choices(CORPUS, weights=[s.weight for s in CORPUS])[0]
    ops: list[str] = []
    gentle = rng.random() < 0.3  # mutations after which the file often still checks, so that it runs
    if gentle:
        tokens = TOKEN.findall(source.text)
        choice = rng.choice(["number", "huge", "small", "bytes"])
        if choice == "bytes":
            data = mutate_bytes(rng, source.text.encode(), ops, rng.choice(["bom", "crlf", "cr"]))
            data = mutate_bytes(rng, data, ops) if rng.random() < 0.2 else data
        else:
            numbers = _number_indexes(tokens)
            if numbers:
                i = rng.choice(numbers)
                tokens[i] = {"huge": rng.choice(HUGE), "small": rng.choice(SMALL),
                             "number": tokens[rng.choice(numbers)]}[choice]
                ops.append(f"{choice}@{i}")
            data = "".join(tokens).encode()
    else:
        tokens = TOKEN.findall(source.text)
        for _ in range(rng.choice([1, 1, 2, 3])):
            mutate_tokens(rng, tokens, ops)
        data = "".join(tokens).encode("utf-8", errors="surrogatepass")
        if rng.random() < 0.25:
            data = mutate_bytes(rng, data, ops)
    return Mutant(index, source, tuple(ops), data)


# ---------------------------------------------------------------- running a mutant


@dataclass
class Setup:
    folder: Path
    path: Path  # the mutant
    records: Path | None
    read: int  # records in the slice
    first_id: str | None
    multi_period: bool
    tests: Path | None  # the test file to run


def _records_slice(folder: Path, out: Path) -> tuple[int, str | None]:
    rows = list(csv.reader(io.StringIO((folder / "records.csv").read_text(encoding="utf-8"))))
    header, body = rows[0], rows[1:]
    ids: list[str] = []
    for row in body:
        if row[0] not in ids and len(ids) < SLICE_IDS:
            ids.append(row[0])
    kept = [row for row in body if row[0] in ids]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([header, *kept])
    out.write_text(buf.getvalue(), encoding="utf-8")
    return len(kept), ids[0] if ids else None


def set_up(tmp: Path, source: Source, data: bytes, name: str = "m") -> Setup:
    folder = tmp / name
    folder.mkdir()
    records, read, first = None, 0, None
    tests = None
    if source.folder is not None:
        for sibling in source.folder.glob("*.ipl"):
            shutil.copy(sibling, folder / sibling.name)
        if (source.folder / "records.csv").exists():
            records = folder / "records.csv"
            read, first = _records_slice(source.folder, records)
        for sibling in sorted(source.folder.glob("*.ipl")):
            text = sibling.read_text(encoding="utf-8")
            if sibling.name != source.name and re.search(r'^tests\s+for\s+"' + re.escape(source.name) + '"',
                                                          text, re.M):
                tests = folder / sibling.name
                break
    path = folder / source.name
    path.write_bytes(data)
    if source.kind == "tests":
        tests = path
    multi = bool(re.search(r"^input\s+\w+\s*:\s*period\b", source.text, re.M))
    return Setup(folder, path, records, read, first, multi, tests)


def exercise(mutant: Mutant, tmp: Path, figures: Figures, explain_format: str = "json") -> None:
    """Every command a mutant can go through, with what each may answer."""
    what = mutant.describe()
    s = set_up(tmp, mutant.source, mutant.data)

    def call(*args):
        return call_or_hang(what, *args, figures=figures)

    codes = set()
    for fmt in ("text", "json", "github"):
        checked = call("check", "--format", fmt, s.path)
        judge(checked, {0, 1}, what, figures)
        codes.add(checked.code)
        if fmt == "json":
            try:
                json.loads(checked.stdout)
            except ValueError:
                pytest.fail(f"{what}: `ipl check --format json` printed what is not JSON\n{checked.show()}")
    assert len(codes) == 1, f"{what}: `ipl check` exits {sorted(codes)} depending on --format"
    judge(call("fmt", "--check", s.path), {0, 1}, what, figures)
    if codes != {0}:
        return
    paid_before = None
    if mutant.source.kind == "policy" and s.records is not None:
        paid_before = _run(call, what, s, figures, s.path, "p.csv")
        if s.first_id is not None:
            judge(call("explain", s.path, "--records", s.records, "--id", s.first_id, "--format", explain_format),
                  {0, 1, 2}, what, figures)
    if s.tests is not None:
        judge(call("test", s.tests), {0, 1, 2}, what, figures)
    # the formatter keeps a clean file clean, is stable, and changes no payout
    formatted = s.folder / ("formatted_" + s.path.name)
    shutil.copy(s.path, formatted)
    judge(call("fmt", formatted), {0}, what, figures)
    judge(call("check", formatted), {0}, what, figures)
    judge(call("fmt", "--check", formatted), {0}, what, figures)
    if paid_before is not None:
        assert _run(call, what, s, figures, formatted, "f.csv") == paid_before, \
            f"{what}: the formatted policy pays differently"


def _run(call, what: str, s: Setup, figures: Figures, policy: Path, out: str) -> tuple | None:
    """`ipl run` over the slice: what it paid (payouts and rejects), or None for an exit 2."""
    args = ["run", policy, "--records", s.records, "-o", s.folder / out, "--rejects", s.folder / ("r-" + out)]
    if s.multi_period:
        args += ["--ledger", s.folder / ("l-" + out)]
    ran = call(*args)
    judge(ran, {0, 1, 2}, what, figures)
    if ran.code == 2:
        return None
    read, paid, rejected = reconciled(ran)
    payouts = list(csv.reader(io.StringIO((s.folder / out).read_text(encoding="utf-8"))))[1:]
    rejects = list(csv.DictReader(io.StringIO((s.folder / ("r-" + out)).read_text(encoding="utf-8"))))
    assert (read, paid, rejected) == (s.read, len(payouts), len(rejects)), f"{what}: the run does not reconcile\n" \
        f"{ran.show()}"
    assert all(r["reason"] for r in rejects), f"{what}: a reject without a reason"
    return tuple(map(tuple, payouts)), tuple(tuple(r.values()) for r in rejects)


# ---------------------------------------------------------------- the tests


@pytest.mark.parametrize("index", range(MUTANTS))
def test_mutant(index, tmp_path, request):
    mutant = make_mutant(index)
    figures = Figures(f"policy-fuzz {index}")
    figures.inputs = 1
    try:
        exercise(mutant, tmp_path, figures, ("text", "json", "html")[index % 3])
    except BaseException:
        saved = save_input(request, f"policy-{SEED}-{index}-{mutant.source.name}", mutant.data)
        print(f"{mutant.describe()}\nkept as {saved}")
        raise
    finally:
        figures.save()


def test_the_corpus_is_every_ipl_file_and_the_spec_examples():
    labels = {s.label for s in CORPUS}
    assert "programs/renewal_quality/renewal_quality.ipl" in labels and "stdlib/metrics.ipl" in labels
    assert sum(1 for s in CORPUS if s.label.startswith("tests/spec_examples.md")) >= 5
    assert len(CORPUS) >= 60


def test_mutants_reach_every_command():
    """The mutants of the default budget check clean often enough that run, explain and test
    are exercised (a corpus or a mutation that always breaks the file would hide them)."""
    kinds = [make_mutant(i) for i in range(MUTANTS)]
    assert sum(1 for m in kinds if m.source.kind == "policy" and m.source.folder is not None
               and (m.source.folder / "records.csv").exists()) >= MUTANTS // 4
    assert any(m.source.kind == "tests" for m in kinds)


# ---------------------------------------------------------------- mutants at known limits

GROWTH = ROOT / "programs/growth/growth.ipl"
QUALITY = ROOT / "programs/renewal_quality/renewal_quality.ipl"
BASE = "component base = joint_revenue * base_rate"  # in growth.ipl


def _growth(change) -> bytes:
    text = GROWTH.read_text(encoding="utf-8")
    assert BASE in text
    changed = change(text)
    return changed if isinstance(changed, bytes) else changed.encode("utf-8")


def _nest_parens(k: int):
    return lambda t: t.replace(BASE, "component base = " + "(" * k + "joint_revenue * base_rate" + ")" * k)


def _ladder(k: int):
    rungs = "".join(f"if joint_revenue > {i + 1}_000 USD then {i} USD else " for i in range(k))
    return lambda t: t.replace(BASE, f"component base = {rungs}0 USD")


def _matches(k: int):
    inner = "joint_revenue"
    for _ in range(k):
        inner = f"match segment {{ enterprise -> {inner} else -> 0 USD }}"
    return lambda t: t.replace(BASE, f"component base = {inner}")


HOSTILE = {
    # name: (policy bytes, `ipl check` exit code)
    # the deepest legal nesting (docs/limits.md) and one level deeper
    "parens-95": (_growth(_nest_parens(95)), 0),
    "parens-96": (_growth(_nest_parens(96)), 1),
    "parens-5000": (_growth(_nest_parens(5_000)), 1),
    "ladder-95": (_growth(_ladder(95)), 0),
    "ladder-96": (_growth(_ladder(96)), 1),
    "ladder-300": (_growth(_ladder(300)), 1),
    "matches-48": (_growth(_matches(48)), 0),
    "matches-49": (_growth(_matches(49)), 1),
    "rate-1e999999": (_growth(lambda t: t.replace(BASE, "component base = joint_revenue * 1e999999")), 1),
    "rate-1000-digits": (_growth(lambda t: t.replace(BASE, "component base = joint_revenue * 1" + "0" * 999)), 1),
    # 32 digits and the cents: IPL's 34 (33 and 34 digits: tests/robustness/test_found.py)
    "cap-32-digits": (_growth(lambda t: t.replace(BASE, BASE + "\n  cap " + "9" * 32 + " USD")), 0),
    "cap-40-digits": (_growth(lambda t: t.replace(BASE, BASE + "\n  cap " + "9" * 40 + " USD")), 1),
    "bom-crlf": (b"\xef\xbb\xbf" + _growth(lambda t: t.replace("\n", "\r\n")), 0),
    "cr-only": (_growth(lambda t: t.replace("\n", "\r")), 0),
    "nul-in-comment": (_growth(lambda t: t.replace("# how the partner sells", "# how\x00the partner")), 1),
    "latin1-comment": (_growth(lambda t: t.replace("# how the partner sells", "# café").encode("latin-1", "replace")),
                       1),
    "utf16": (_growth(lambda t: t.encode("utf-16")), 1),
    "unclosed-brace": (_growth(lambda t: t.replace("eligibility {", "eligibility {{", 1)), 1),
    "empty": (b"", 1),
    "only-a-bom": (b"\xef\xbb\xbf", 1),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_mutant(name, tmp_path, request):
    data, check_code = HOSTILE[name]
    source = next(s for s in CORPUS if s.label == "programs/growth/growth.ipl")
    mutant = Mutant(-1, source, (name,), data)
    figures = Figures(f"policy-fuzz hostile {name}")
    figures.inputs = 1
    try:
        s = set_up(tmp_path, source, data, "alone")
        checked = call_or_hang(mutant.describe(), "check", s.path, figures=figures)
        judge(checked, {check_code}, mutant.describe(), figures)
        if check_code == 1:
            assert "error[E" in checked.output, checked.show()
        exercise(mutant, tmp_path, figures)
    except BaseException:
        save_input(request, f"policy-hostile-{name}.ipl", data)
        raise
    finally:
        figures.save()


def test_a_bom_and_crlf_change_no_payout(tmp_path):
    """The policy as a Windows editor saves it pays what the original pays, to the cent."""
    figures = Figures("policy-fuzz bom-crlf payouts")
    paid = []
    for name, data in [("original", GROWTH.read_bytes()), ("windows", HOSTILE["bom-crlf"][0])]:
        folder = tmp_path / name
        folder.mkdir()
        (folder / "growth.ipl").write_bytes(data)
        out = folder / "p.csv"
        ran = call_or_hang(name, "run", folder / "growth.ipl", "--records", GROWTH.parent / "records.csv",
                           "-o", out, figures=figures)
        judge(ran, {0}, name)
        paid.append(out.read_bytes())
    assert paid[0] == paid[1]
