"""Platform targets, the pass/fail check and the HTML report."""

from __future__ import annotations

import base64
import re

import numpy as np
import pytest

from mixdown.analysis.qc import analyze_array
from mixdown.analysis.report import render_html, write_index, write_report
from mixdown.analysis.targets import TARGETS, evaluate, resolve_target
from mixdown.core.errors import ParameterError

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_platform_table() -> None:
    assert (TARGETS["spotify"].lufs, TARGETS["spotify"].ceiling_dbtp) == (-14.0, -1.0)
    assert (TARGETS["apple-music"].lufs, TARGETS["apple-music"].ceiling_dbtp) == (-16.0, -1.0)
    assert (TARGETS["amazon-music"].ceiling_dbtp, TARGETS["ebu-r128"].lufs) == (-2.0, -23.0)
    assert (TARGETS["atsc-a85"].lufs, TARGETS["cd"].ceiling_dbtp) == (-24.0, -0.3)


@pytest.mark.parametrize(("spec", "lufs"), [("Spotify", -14.0), ("-16", -16.0),
                                            ("-9.5 LUFS", -9.5), (-20, -20.0)])
def test_resolve_target_names_and_numbers(spec, lufs: float) -> None:
    assert resolve_target(spec).lufs == lufs


@pytest.mark.parametrize("spec", ["spotfy", "+3", "nan"])
def test_resolve_target_refuses_unknown(spec: str) -> None:
    with pytest.raises(ParameterError, match="spotify"):
        resolve_target(spec)


def test_evaluate_pass_and_fail_at_the_limits() -> None:
    t = TARGETS["spotify"]
    ok = evaluate(-14.9, -1.0, t)
    assert [c.passed for c in ok] == [True, True]
    bad = evaluate(-15.2, -0.9, t)
    assert [c.passed for c in bad] == [False, False]
    assert not evaluate(float("-inf"), float("-inf"), t)[0].passed


def _pngs(page: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r"base64,([A-Za-z0-9+/=]+)", page)]


def test_report_page_has_figures_plots_and_verdict(tone, tmp_path) -> None:
    x = tone(-9.0, 5.0)
    result = analyze_array(x, 48_000, series=True).with_file("loud master.wav")
    page = render_html(result, TARGETS["spotify"])
    assert "loud master.wav" in page and "-9.0 LUFS" in page
    assert "FAIL" in page  # -9 LUFS is 5 LU over Spotify's -14
    pngs = _pngs(page)
    assert len(pngs) == 3 and all(p.startswith(PNG_MAGIC) for p in pngs)
    path = write_report(result, tmp_path / "rep", target=TARGETS["spotify"])
    assert path == tmp_path / "rep" / "loud master.html" and path.read_text().count("<img") == 3
    assert path.stat().st_mode & 0o044  # readable by the client it is sent to
    index = write_index([(result, path)], tmp_path / "rep")
    assert "loud master.html" in index.read_text()


def test_report_of_silence_and_of_a_short_file(tmp_path) -> None:
    silent = analyze_array(np.zeros((2, 48_000 * 2), np.float32), 48_000, series=True)
    assert len(_pngs(render_html(silent))) == 3
    short = analyze_array(np.zeros((1, 100), np.float32), 48_000, series=True)
    assert len(_pngs(render_html(short))) == 3
