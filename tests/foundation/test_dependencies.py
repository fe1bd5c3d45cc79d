"""Every third-party import in ``src/`` is declared in ``pyproject.toml``, in the right place.

A module-level import must be satisfied by what installing its part of the package brings: the
core dependencies everywhere, plus ``[server]`` under ``scipix/server/``, ``[train]`` under
``scipix/training/``, ``[mcp]`` under ``scipix/mcp/``. An import inside a function (a lazy,
optional import) may come from any extra. A package that only arrives as another package's
dependency does not count: that is how ``rapidocr`` went missing on a fresh machine.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import re
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "scipix"

#: The extras a module-level import may use, by package folder (besides the core).
AREA_EXTRAS = {"server": {"server"}, "training": {"train"}, "mcp": {"mcp"}}


def requirement_name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
    assert match, requirement
    return canonical(match.group(0))


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared() -> dict[str, set[str]]:
    """``{"core": {dist, ...}, extra: {dist, ...}}`` from pyproject.toml."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    groups = {"core": {requirement_name(r) for r in project["dependencies"]}}
    for extra, requirements in project["optional-dependencies"].items():
        groups[extra] = {requirement_name(r) for r in requirements}
    return groups


@functools.cache
def installed() -> dict[str, list[str]]:
    return dict(importlib.metadata.packages_distributions())


def distributions_of(module: str) -> set[str]:
    """The distributions that provide top-level ``module`` (its own name when none is
    installed: an uninstalled optional package is then matched by name)."""
    found = installed().get(module, [])
    return {canonical(d) for d in found} or {canonical(module)}


def imports(tree: ast.Module) -> Iterator[tuple[str, int, bool]]:
    """(top-level module, line, at module level) for every absolute import."""
    top_level = {id(node) for node in tree.body}
    for node in tree.body:  # imports under `if TYPE_CHECKING:` count as lazy
        if isinstance(node, ast.If):
            top_level.difference_update(id(n) for n in ast.walk(node))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0], node.lineno, id(node) in top_level
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module.split(".")[0], node.lineno, id(node) in top_level


def third_party(module: str) -> bool:
    return module != "scipix" and module not in sys.stdlib_module_names


def undeclared() -> list[str]:
    groups = declared()
    every = set().union(*groups.values())
    problems = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        area = rel.parts[0] if len(rel.parts) > 1 else ""
        allowed = groups["core"].union(*(groups.get(e, set()) for e in AREA_EXTRAS.get(area, ())))
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for module, line, eager in imports(tree):
            if not third_party(module):
                continue
            dists = distributions_of(module)
            pool = allowed if eager else every
            if not dists & pool:
                where = "core" + "".join(f" or [{e}]" for e in AREA_EXTRAS.get(area, ()))
                scope = where if eager else "any extra"
                problems.append(f"src/scipix/{rel}:{line}: import {module} ({scope}: not declared)")
    return problems


def test_every_third_party_import_is_declared_where_it_is_needed() -> None:
    assert undeclared() == []


def test_the_check_sees_eager_and_lazy_imports() -> None:
    tree = ast.parse("import rapidocr\nimport json\n\ndef f():\n    import torch\n")
    found = [(m, eager) for m, _, eager in imports(tree) if third_party(m)]
    assert found == [("rapidocr", True), ("torch", False)]
    assert "rapidocr" in declared()["core"]
    assert "torch" not in declared()["core"] and "torch" in declared()["train"]


def test_the_text_ocr_is_a_core_dependency() -> None:
    # the default pipeline reads prose lines with it: without it, a formula page can fail
    assert distributions_of("rapidocr") & declared()["core"]
