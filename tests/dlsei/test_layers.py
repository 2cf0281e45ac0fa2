"""The import contracts (pyproject.toml's [tool.importlinter]) hold on the real tree, and they
really catch an app importing one above it and two modules of an app importing each other."""

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


def tree_with(tmp_path: Path, module: str, line: str) -> Path:
    """A copy of the project's packages (and its contracts) with ``line`` added to ``module``."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "tests").mkdir()
    for name in ("__init__.py", "import_contracts.py"):
        shutil.copy(ROOT / "tests" / name, tmp_path / "tests" / name)
    path = tmp_path.joinpath(*module.split(".")).with_suffix(".py")
    path.write_text(path.read_text() + f"\n{line}  # noqa: E402, F401\n")
    return tmp_path


def test_quotas_importing_registrations_breaks_the_layers(tmp_path):
    result = lint_imports(tree_with(tmp_path, "quotas.services", "from registrations.models import Nomination"))

    assert result.returncode == 1, result.stdout + result.stderr
    assert "Layers: dlsei > portal > fees > registrations > quotas > audit > core BROKEN" in result.stdout
    assert "No import cycle inside an app KEPT" in result.stdout
    assert "quotas.services -> registrations.models" in result.stdout


def test_two_modules_of_an_app_importing_each_other_break_the_acyclic_contract(tmp_path):
    # fees.views_staff imports fees.completions; the other way round closes a loop.
    result = lint_imports(tree_with(tmp_path, "fees.completions", "from fees import views_staff"))

    assert result.returncode == 1, result.stdout + result.stderr
    assert "No import cycle inside an app BROKEN" in result.stdout
    assert "- fees.completions -> fees.views_staff" in result.stdout
    assert "- fees.views_staff -> fees.completions" in result.stdout
