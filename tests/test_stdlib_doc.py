"""docs/stdlib.md is generated from the stdlib modules' comments and must not go stale."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def gen_stdlib():
    """docs/gen_stdlib.py, imported by path (docs/ is not a package)."""
    if "ipl_gen_stdlib" in sys.modules:
        return sys.modules["ipl_gen_stdlib"]
    spec = importlib.util.spec_from_file_location("ipl_gen_stdlib", ROOT / "docs" / "gen_stdlib.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["ipl_gen_stdlib"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_stdlib_page_is_up_to_date():
    gen = gen_stdlib()
    expected = gen.render(gen.modules())
    actual = (ROOT / "docs" / "stdlib.md").read_text(encoding="utf-8")
    assert actual == expected, "docs/stdlib.md is stale: run `python docs/gen_stdlib.py` and commit it"


def test_page_documents_every_def_with_its_signature():
    text = (ROOT / "docs" / "stdlib.md").read_text(encoding="utf-8")
    assert "### metrics.growth\n" in text
    assert "metrics.growth(current : money, previous : money) -> percent" in text
    assert "- example: `metrics.growth(1_200_000 USD, 1_000_000 USD) = 20%`" in text
    assert "- zero denominator: `metrics.growth(5_000 USD, 0 USD) = 0%`" in text
    assert "### curves.accelerated\n" in text


def test_check_mode_detects_a_stale_page(tmp_path, monkeypatch):
    gen = gen_stdlib()
    stale = tmp_path / "stdlib.md"
    stale.write_text("# old\n", encoding="utf-8")
    monkeypatch.setattr(gen, "PAGE", stale)
    assert gen.main(["--check"]) == 1
    assert gen.main([]) == 0
    assert gen.main(["--check"]) == 0
    assert stale.read_text(encoding="utf-8") == gen.render(gen.modules())


def test_generator_runs_as_a_script():
    done = subprocess.run([sys.executable, str(ROOT / "docs" / "gen_stdlib.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
