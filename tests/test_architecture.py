"""The floor plan as a contract (docs/architecture.md).

``lint-imports`` (import-linter, configured in pyproject.toml and run by .ci/run before the tests)
holds the floors and forbids circles; the tests here hold what it cannot see: imports hidden in
functions, private names taken from another module, and that the contract really fails when a
library imports upward.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("yuqing", "alerting", "crawlers", "classifiers", "pipeline")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def ours(module: str | None) -> bool:
    return bool(module) and module.split(".")[0] in PACKAGES


def imported(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    return [("." * node.level) + (node.module or "")]


def function_imports(tree: ast.Module):
    """Every import statement inside a function or method, with its line number."""
    for func in ast.walk(tree):
        if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(func):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    yield node


def deferred_on_purpose(lines: list[str], lineno: int) -> bool:
    """An import in a function passes when a ``# deferred:`` comment says why: on its line, or on
    the comment, blank and import lines just above it (one comment covers a block of imports)."""
    if "# deferred:" in lines[lineno - 1]:
        return True
    at = lineno - 2
    while at >= 0:
        line = lines[at].strip()
        if line.startswith("# deferred:"):
            return True
        if line and not (line.startswith("#") or line.startswith(("import ", "from "))):
            return False
        at -= 1
    return False


def test_imports_are_at_the_top_of_the_module():
    hidden, unexplained = [], []
    for path in modules():
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for node in function_imports(ast.parse(source)):
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            names = imported(node)
            if deferred_on_purpose(lines, node.lineno):
                continue
            if any(ours(name) or name.startswith(".") for name in names):
                hidden.append(f"{where}: {', '.join(names)}")
            else:
                unexplained.append(f"{where}: {', '.join(names)}")
    assert not hidden, ("yuqing's own modules are imported at the top, not in a function (unless one brings "
                        "a heavy dependency, deferred on purpose with a '# deferred:' comment):\n"
                        + "\n".join(hidden))
    assert not unexplained, ("an import in a function is a heavy dependency deferred on purpose; say why in "
                             "a '# deferred:' comment above it, or move it to the top:\n" + "\n".join(unexplained))


def test_no_private_name_crosses_a_module_line():
    crossings = []
    for path in modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases: dict[str, str] = {}  # local name -> our module it stands for
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and ours(node.module):
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        crossings.append(f"{path.relative_to(ROOT)}:{node.lineno}: "
                                         f"from {node.module} import {alias.name}")
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if ours(alias.name):
                        aliases[alias.asname or alias.name.split(".")[0]] = alias.name
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in aliases and node.attr.startswith("_")
                    and not node.attr.startswith("__")):
                crossings.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value.id}.{node.attr}")
    assert not crossings, "a name with a leading underscore stays in its module:\n" + "\n".join(crossings)


def test_every_module_is_in_a_package_the_contract_knows():
    """import-linter sees packages only; a folder of modules without __init__.py would escape it.
    Alembic's migration scripts are loaded by path (env.py next to script.py.mako), not imported."""
    for package in PACKAGES:
        for folder in (ROOT / package).rglob("*"):
            if any((parent / "script.py.mako").exists() for parent in (folder, *folder.parents)):
                continue
            if folder.is_dir() and folder.name != "__pycache__" and any(folder.glob("*.py")):
                assert (folder / "__init__.py").exists(), f"{folder.relative_to(ROOT)} has modules but no __init__.py"


@pytest.fixture(scope="module")
def lint_imports():
    if not LINT_IMPORTS.exists():
        pytest.fail(f"{LINT_IMPORTS} is missing: install the dev dependencies (pip install -e '.[dev]')")
    return str(LINT_IMPORTS)


def run_contract(lint: str, tree: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run([lint, "--no-cache"], cwd=tree, env=env, capture_output=True, text=True, timeout=240)


def copy_of_the_code(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    tree.mkdir(parents=True)
    shutil.copy(ROOT / "pyproject.toml", tree)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tree / package, ignore=shutil.ignore_patterns(
            "__pycache__", "*.jsonl", "*.npz", "*.json", "vendor", "static", "templates", "*.txt"))
    return tree


def test_the_floors_hold_and_an_upward_import_breaks_them(lint_imports, tmp_path):
    tree = copy_of_the_code(tmp_path)
    kept = run_contract(lint_imports, tree)
    assert kept.returncode == 0, kept.stdout + kept.stderr

    records = tree / "pipeline" / "records.py"
    records.write_text(records.read_text(encoding="utf-8") + "\nfrom alerting import audit  # upward\n",
                       encoding="utf-8")
    broken = run_contract(lint_imports, tree)
    assert broken.returncode != 0
    assert "pipeline is not allowed to import alerting" in broken.stdout
    assert "pipeline.records -> alerting.audit" in broken.stdout


def test_crawlers_and_classifiers_stay_apart_and_circles_are_refused(lint_imports, tmp_path):
    tree = copy_of_the_code(tmp_path)
    stage = tree / "classifiers" / "stage.py"
    stage.write_text(stage.read_text(encoding="utf-8") + "\nimport crawlers.fetch  # sideways\n",
                     encoding="utf-8")
    sideways = run_contract(lint_imports, tree)
    assert sideways.returncode != 0 and "classifiers.stage -> crawlers.fetch" in sideways.stdout

    tree = copy_of_the_code(tmp_path / "again")
    audit = tree / "alerting" / "audit.py"  # the intake imports the audit log; now back again
    audit.write_text(audit.read_text(encoding="utf-8") + "\nimport alerting.intake  # a circle\n",
                     encoding="utf-8")
    circle = run_contract(lint_imports, tree)
    assert circle.returncode != 0 and "No circles" in circle.stdout
