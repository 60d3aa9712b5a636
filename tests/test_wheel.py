"""The built wheel works on its own: grammar/ and stdlib/ ship inside the package (§17).

Builds the wheel, installs it NON-editable into a fresh virtual environment in a temporary
folder, and runs that environment's `ipl check` on a policy that does `use metrics`, from a
folder outside the checkout. The fresh environment borrows only the third-party
dependencies (lark, click, pydantic) from the project's environment, through a .pth line:
nested .pth files are not processed, so the editable install of `dsl` stays invisible.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from .conftest import ROOT

POLICY = """policy "Wheel" currency USD
use metrics
input partner_id : id
input revenue : money in 0 USD..
input prior_revenue : money in 0 USD..
metric growth = metrics.growth(revenue, prior_revenue)
component bonus = revenue * (if growth >= 10% then 2% else 1%)
"""


def _run(args, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=300, **kw)


@pytest.mark.slow
def test_the_installed_wheel_checks_a_policy_that_uses_the_stdlib(tmp_path):
    dist = tmp_path / "dist"
    build = _run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(dist)])
    if build.returncode != 0:  # no index to fetch build requirements from: build with what we have
        build = _run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation",
                      "-q", "-w", str(dist)])
    assert build.returncode == 0, build.stderr
    [wheel] = dist.glob("ipl-*.whl")

    env_dir = tmp_path / "env"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    install = _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
                    "--no-index", "-q", str(wheel)])
    assert install.returncode == 0, install.stderr
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
                .stdout.strip())
    (site / "borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    work = tmp_path / "work"
    work.mkdir()
    (work / "policy.ipl").write_text(POLICY)
    where = _run([str(python), "-c", "import dsl; print(dsl.__file__)"], cwd=work)
    assert Path(where.stdout.strip()).is_relative_to(env_dir), where.stdout + where.stderr
    ipl = env_dir / ("Scripts/ipl.exe" if os.name == "nt" else "bin/ipl")
    result = _run([str(ipl), "check", "policy.ipl"], cwd=work)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr.strip() == "checked 1 file: 0 errors, 0 warnings" or \
        result.stdout.strip() == "checked 1 file: 0 errors, 0 warnings"
    bad = _run([str(ipl), "check", "missing.ipl"], cwd=work)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
