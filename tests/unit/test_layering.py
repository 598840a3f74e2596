"""Imports point one way (DESIGN.md): a small AST check instead of import-linter.

Imports made by string count too: ``importlib.import_module("mixdown.x")``,
``__import__("mixdown.x")`` and any string constant that names a ``mixdown.`` module
(a registry list of modules to import later).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "mixdown"

# package -> the mixdown packages it may import (besides itself)
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "model": {"core"},
    "dsp": {"core"},
    "analysis": {"core"},
    "io": {"core", "model", "dsp", "analysis"},
    "resolve": {"core", "model", "dsp", "analysis", "io"},
    "engine": {"core", "model", "dsp", "analysis", "resolve"},
    "mastering": {"core", "dsp", "analysis", "io"},
    "delivery": {"core", "model", "dsp", "analysis", "io", "mastering"},
    "db": {"core"},
    "review": {"core", "db", "model", "analysis", "io", "resolve"},
    "ledger": {"core", "db"},
    "services": {"core", "model", "dsp", "analysis", "io", "resolve", "engine", "mastering",
                 "delivery", "db", "review", "ledger"},
    "cli": {"core", "services", "server", "batch"},  # `mixdown serve` starts the server;
    # the `mixdown batch` commands run the batch package
    "server": {"core", "services"},
    "batch": {"core", "services"},
    "templates": set(),
}

# package -> modules (mixdown's or third-party) it must not import even where the package
# above is allowed: the engine reads audio only through the catalog the resolve step gives it.
FORBIDDEN: dict[str, set[str]] = {
    "engine": {"soundfile", "soxr", "mixdown.io"},
    "dsp": {"mixdown.mastering"},
}

# Known string imports that break the arrows, each with the branch that removes it.
KNOWN_EXCEPTIONS: set[tuple[str, str]] = set()

_MODULE_STRING = re.compile(r"^mixdown(\.[A-Za-z_]\w*)+$")


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports: import statements and imports made by string."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and _MODULE_STRING.match(node.value):
            found.add(node.value)  # import_module("mixdown.x"), __import__, registry lists
    return found


def imported_packages(path: Path) -> set[str]:
    """The mixdown packages ``path`` imports (by statement or by string)."""
    return {m.split(".")[1] for m in imported_modules(path)
            if m.startswith("mixdown.") and len(m.split(".")) > 1}


def _violations() -> list[str]:
    bad = []
    for pkg, allowed in ALLOWED.items():
        for path in sorted((SRC / pkg).rglob("*.py")):
            rel = str(path.relative_to(SRC))
            for mod in sorted(imported_modules(path)):
                parts = mod.split(".")
                if (rel, mod) in KNOWN_EXCEPTIONS:
                    continue
                if (parts[0] == "mixdown" and len(parts) > 1 and not parts[1].startswith("__")
                        and parts[1] not in allowed | {pkg}):  # mixdown.__version__: no package
                    bad.append(f"{rel} imports {mod}")
                elif any(mod == f or mod.startswith(f + ".") for f in FORBIDDEN.get(pkg, ())):
                    bad.append(f"{rel} imports {mod} (forbidden for {pkg})")
    return sorted(set(bad))


def test_every_package_is_known() -> None:
    packages = {p.name for p in SRC.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert packages <= set(ALLOWED), packages - set(ALLOWED)


def test_imports_point_one_way() -> None:
    bad = _violations()
    assert not bad, "\n".join(bad)


def test_string_imports_are_seen(tmp_path: Path) -> None:
    """The check is not blind to importlib, __import__ or module lists."""
    f = tmp_path / "m.py"
    f.write_text('import importlib\nimportlib.import_module("mixdown.engine.render")\n'
                 '__import__("mixdown.services")\nMODS = ["mixdown.mastering.limiter"]\n'
                 'import soundfile\n')
    assert imported_packages(f) == {"engine", "services", "mastering"}
    assert "soundfile" in imported_modules(f)


def test_known_exceptions_are_still_needed() -> None:
    """An exception that no longer matches anything must be dropped from the list."""
    for rel, mod in KNOWN_EXCEPTIONS:
        assert mod in imported_modules(SRC / rel), f"drop ({rel}, {mod}) from KNOWN_EXCEPTIONS"
