"""The install-time warm-up leaves nothing for a first render, master or analysis to compile.

``python -m mixdown.warmup`` runs in a fresh process with an empty numba cache
(``NUMBA_CACHE_DIR`` in a temporary folder); then another fresh process renders a section
of the demo song, masters it and analyses it, and reports numba's own cache statistics:
every kernel it used must have come from the cache (hits), none compiled (misses).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "demo"

CHECK = """
import json, sys
from pathlib import Path
from mixdown.io.measure import analyze_file
from mixdown.services.master import master_file
from mixdown.services.render import render_project
from mixdown.warmup import kernel_stats

demo, out = Path(sys.argv[1]), Path(sys.argv[2])
render_project(demo, out / "chorus.wav", section="Chorus", stems=True, cache=False)
master_file(out / "chorus.wav", out / "master.wav", target="spotify")
analyze_file(out / "master.wav", series=True)
print(json.dumps([[k.name, k.signatures, k.hits, k.misses] for k in kernel_stats()]))
"""


def _env(cache: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["NUMBA_CACHE_DIR"] = str(cache)
    env.pop("NUMBA_DISABLE_JIT", None)
    return env


@pytest.mark.slow
def test_after_the_warm_up_a_first_render_compiles_nothing(tmp_path: Path) -> None:
    cache = tmp_path / "numba-cache"
    cache.mkdir()
    warm = subprocess.run([sys.executable, "-m", "mixdown.warmup"], env=_env(cache),
                          capture_output=True, text=True, check=True)
    assert "signatures compiled" in warm.stdout
    assert "skipped" not in warm.stderr, warm.stderr  # every step ran
    assert any(cache.rglob("*.nbi")), "the warm-up wrote nothing into NUMBA_CACHE_DIR"
    out = tmp_path / "out"
    out.mkdir()
    check = subprocess.run([sys.executable, "-c", CHECK, str(DEMO), str(out)],
                           env=_env(cache), capture_output=True, text=True, check=True)
    stats = json.loads(check.stdout.strip().splitlines()[-1])
    used = [s for s in stats if s[1] > 0]
    assert len(used) >= 10, stats  # the engine, effects, instruments, limiter, meters
    compiled = [s for s in used if s[3] > 0]
    assert not compiled, f"compiled at first use despite the warm-up: {compiled}"
    assert all(s[2] == s[1] for s in used), stats  # every signature came from the cache


def test_kernel_stats_finds_the_kernels_of_loaded_modules() -> None:
    import numpy as np

    from mixdown.analysis.loudness import LoudnessMeter
    from mixdown.warmup import kernel_stats

    meter = LoudnessMeter(48_000, 2)
    meter.push(np.zeros((2, 4800), np.float32))
    stats = {k.name: k for k in kernel_stats()}
    block = stats["mixdown.analysis._kernels.loudness_block"]
    assert block.signatures >= 1
    assert block.hits + block.misses >= 1
    assert all(name.startswith("mixdown.") for name in stats)
