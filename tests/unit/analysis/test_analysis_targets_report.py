"""The HTML report: figures, plots and the verdict against a platform target."""

from __future__ import annotations

import base64
import re

import numpy as np

from mixdown.analysis.qc import analyze_array
from mixdown.analysis.report import render_html, write_index, write_report
from mixdown.core.targets import get_target

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _pngs(page: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r"base64,([A-Za-z0-9+/=]+)", page)]


def test_report_page_has_figures_plots_and_verdict(tone, tmp_path) -> None:
    x = tone(-9.0, 5.0)
    result = analyze_array(x, 48_000, series=True).with_file("loud master.wav")
    page = render_html(result, get_target("spotify"))
    assert "loud master.wav" in page and "-9.0 LUFS" in page
    assert "FAIL" in page  # -9 LUFS is 5 LU over Spotify's -14
    pngs = _pngs(page)
    assert len(pngs) == 3 and all(p.startswith(PNG_MAGIC) for p in pngs)
    path = write_report(result, tmp_path / "rep", target=get_target("spotify"))
    assert path == tmp_path / "rep" / "loud master.html" and path.read_text().count("<img") == 3
    assert path.stat().st_mode & 0o044  # readable by the client it is sent to
    index = write_index([(result, path)], tmp_path / "rep")
    assert "loud master.html" in index.read_text()


def test_report_of_silence_and_of_a_short_file(tmp_path) -> None:
    silent = analyze_array(np.zeros((2, 48_000 * 2), np.float32), 48_000, series=True)
    assert len(_pngs(render_html(silent))) == 3
    short = analyze_array(np.zeros((1, 100), np.float32), 48_000, series=True)
    assert len(_pngs(render_html(short))) == 3
