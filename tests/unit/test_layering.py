"""Imports point one way (DESIGN.md): a small AST check instead of import-linter."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "mixdown"

# package -> the mixdown packages it may import (besides itself)
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "model": {"core"},
    "dsp": {"core"},
    "analysis": {"core"},
    "io": {"core", "model", "dsp", "analysis"},
    "engine": {"core", "model", "dsp", "analysis", "io"},
    "mastering": {"core", "dsp", "analysis", "io"},
    "delivery": {"core", "model", "dsp", "analysis", "io", "mastering"},
    "services": {"core", "model", "dsp", "analysis", "io", "engine", "mastering", "delivery"},
    "cli": {"core", "services"},
    "templates": set(),
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "mixdown" and len(parts) > 1:
                found.add(parts[1])
    return found


def test_every_package_is_known() -> None:
    packages = {p.name for p in SRC.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert packages <= set(ALLOWED), packages - set(ALLOWED)


def test_imports_point_one_way() -> None:
    bad = []
    for pkg, allowed in ALLOWED.items():
        for path in (SRC / pkg).rglob("*.py"):
            for dep in imported_packages(path) - allowed - {pkg}:
                bad.append(f"{path.relative_to(SRC)} imports mixdown.{dep}")
    assert not bad, "\n".join(bad)
