"""The apps' layers (pyproject.toml's [tool.importlinter]) hold on the real tree, and the contract
really catches an app importing one above it."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
PACKAGES = ("dlsei", "core", "audit", "quotas", "registrations", "fees", "portal")


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    # lint-imports analyses the packages found from its working directory first.
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_the_tree_keeps_its_layers():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_quotas_importing_registrations_breaks_the_contract(tmp_path):
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    services = tmp_path / "quotas" / "services.py"
    services.write_text(services.read_text() + "\nfrom registrations.models import Nomination  # noqa: E402, F401\n")

    result = lint_imports(tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "BROKEN" in result.stdout
    assert "quotas.services -> registrations.models" in result.stdout
