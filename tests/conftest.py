"""Shared fixtures: golden files with a regenerate switch (`pytest --update-golden`)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite golden files with the actual output instead of comparing")


@pytest.fixture
def golden(request):
    """`golden("dir/name.txt", actual)`: compare with tests/golden/dir/name.txt (or rewrite it)."""
    update = request.config.getoption("--update-golden")

    def compare(relative: str, actual: str) -> None:
        path = GOLDEN / relative
        if update or not path.exists():
            if not update:
                pytest.fail(f"golden file {path} is missing: run pytest --update-golden and review it")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(actual, encoding="utf-8")
            return
        expected = path.read_text(encoding="utf-8")
        assert actual == expected, f"output differs from {path} (pytest --update-golden rewrites it)"

    return compare


# The specification's ```ipl blocks, kept in the repository (tests/spec_examples.md) so that no
# test depends on a file outside it. Sections whose constructs are not implemented yet are listed
# here, by heading, and left out; a test checks that the list holds only real headings.
SPEC_EXAMPLES = Path(__file__).resolve().parent / "spec_examples.md"
NOT_YET_IMPLEMENTED = frozenset({"18. Transactions and crediting"})


def spec_blocks() -> list[tuple[str, str]]:
    """(section heading, block text) of every example in tests/spec_examples.md."""
    import re

    text = SPEC_EXAMPLES.read_text(encoding="utf-8")
    return re.findall(r"^## ([^\n]*)\n\n```ipl\n(.*?)```", text, re.S | re.M)


def spec_examples(head: str = 'policy "P" currency USD\n') -> list[str]:
    """The implemented examples as whole files: a fragment gets `head`, the test of §10
    that continues the policy of §3 gets a `tests for` line."""
    out = []
    for heading, block in spec_blocks():
        if heading in NOT_YET_IMPLEMENTED or "NAME" in block:  # NAME: the syntax sketches, not code
            continue
        if block.lstrip().startswith("# the policy"):
            block = 'tests for "x.ipl"\n' + block
        elif not block.lstrip().startswith(("policy", "tests")):
            block = head + block
        out.append(block)
    return out
