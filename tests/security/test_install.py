"""What an install brings (issue 16, item 11): every third-party package the product's code imports
is declared in pyproject.toml, not left to what another dependency (or a newer pip resolving an
extra) happens to pull in; test helpers shipped in the packages (``testing.py``) may import the
dev dependencies only."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).parents[2]
PACKAGES = ("yuqing", "alerting", "crawlers", "classifiers", "pipeline")


def declared(kind: str) -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = project["dependencies"] if kind == "main" else project["optional-dependencies"][kind]
    return {normal(re.match(r"[A-Za-z0-9._-]+", r).group(0)) for r in requirements}


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def imported() -> dict[str, set[str]]:
    """Top-level third-party modules imported by the product's code, with the files importing them."""
    found: dict[str, set[str]] = {}
    for package in PACKAGES:
        for file in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in PACKAGES:
                        found.setdefault(top, set()).add(str(file.relative_to(ROOT)))
    return found


def test_every_module_the_code_imports_comes_from_a_declared_distribution():
    main, dev = declared("main"), declared("dev")
    distributions = packages_distributions()
    missing = []
    for module, files in sorted(imported().items()):
        providers = {normal(d) for d in distributions.get(module, [module])}
        allowed = main | dev if all(f.endswith("testing.py") for f in files) else main
        if not providers & allowed:
            missing.append(f"{module} ({', '.join(sorted(providers))}) imported by {sorted(files)[0]}")
    assert not missing, "declare in pyproject.toml: " + "; ".join(missing)


def test_the_cleaner_that_extraction_needs_is_declared_itself():
    # trafilatura's jusText imports lxml.html.clean, which lives in lxml_html_clean and is asked
    # for only through the extra lxml[html_clean]: the pip of Python 3.11 leaves it out
    import lxml.html.clean  # noqa: F401 - the import extraction depends on

    assert "lxml-html-clean" in declared("main")
    assert "hypothesis" in declared("dev")
