"""The layout is the architecture: only flows/ may import Prefect."""

import ast
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("skeleton", "data", "features", "gcn", "scoring", "flows")


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", [p for p in PACKAGES if p != "flows"])
def test_only_flows_imports_prefect(package):
    offenders = [str(path.relative_to(ROOT)) for path in (ROOT / package).rglob("*.py")
                 if imported_modules(path) & {"prefect", "prefect_dask"}]
    assert offenders == []


def test_top_level_is_the_users_layout():
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: cannot tell tracked files from generated ones")
    listing = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    top_level = {line.split("/", 1)[0] for line in listing.stdout.splitlines()}
    allowed = set(PACKAGES) | {"tests", "pyproject.toml", "README.md", "Makefile", "benchmarks",
                               "configs", ".ci", ".gitignore"}
    assert top_level <= allowed, top_level - allowed
