"""Every ```python snippet in README.md and docs/python.md runs as written.

Each file's snippets run in order in one namespace, in a fresh folder that holds a copy of
``examples/`` (snippets use paths relative to the repository root).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = ["README.md", "docs/python.md"]
FENCE = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def snippets(doc: str) -> list[str]:
    return FENCE.findall((REPO / doc).read_text())


@pytest.mark.parametrize("doc", DOCS)
def test_python_snippets_run(doc: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code = snippets(doc)
    assert code, f"{doc} has no python snippet"
    shutil.copytree(REPO / "examples", tmp_path / "examples",
                    ignore=shutil.ignore_patterns("renders", ".mixdown"))
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__snippet__"}
    for k, block in enumerate(code):
        exec(compile(block, f"{doc} snippet {k + 1}", "exec"), namespace)
