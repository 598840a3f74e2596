"""The QC report: one self-contained HTML page per file, with PNG plots embedded.

Plots (matplotlib, Agg backend, no pyplot state): the waveform with true-peak overs
marked, loudness over time (momentary, short-term, the integrated line and the target
band), and the 1/3-octave spectrum over a smoothed long-term average spectrum. The page
also holds the figures, a pass/fail table against a platform target and the warnings,
so it can go to a client as it is.
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from mixdown.core.targets import Target, evaluate, get_target

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from mixdown.analysis.qc import QCResult

DEFAULT_TARGET = get_target("spotify")
LUFS_FLOOR = -60.0
_INK = "#1f2430"
_MUTED = "#8a90a0"
_ACCENT = "#2b6cb0"
_MOMENTARY = "#9fb8d8"
_SHORT = "#1f4e8c"
_BAD = "#c53030"
_GOOD = "#2f855a"
_BAND = "#c6f6d5"


def _figure(height_in: float) -> tuple[Figure, Axes]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11.0, height_in), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    _style(ax)
    return fig, ax


def _style(ax: Axes) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(_MUTED)
    ax.tick_params(colors=_INK, labelsize=9)
    ax.grid(True, color="#e3e6ee", linewidth=0.8)
    ax.set_axisbelow(True)


def _legend(ax: Axes, columns: int) -> None:
    """Legend above the plot, right-aligned, so it never hides data."""
    if not ax.get_legend_handles_labels()[0]:
        return
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False,
              ncol=columns, borderaxespad=0.2)


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", facecolor="white")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _time_axis(ax: Axes, duration_s: float) -> None:
    ax.set_xlim(0.0, max(duration_s, 1e-3))
    if duration_s >= 120:
        from matplotlib.ticker import FuncFormatter, MultipleLocator

        step = 30 if duration_s <= 600 else 60 * max(1, round(duration_s / 600))
        ax.xaxis.set_major_locator(MultipleLocator(step))
        ax.xaxis.set_major_formatter(FuncFormatter(
            lambda v, _pos: f"{int(v // 60)}:{int(v % 60):02d}"))
        ax.set_xlabel("time (min:s)", color=_INK, fontsize=9)
    else:
        ax.set_xlabel("time (s)", color=_INK, fontsize=9)


def plot_waveform(result: QCResult, target: Target) -> str:
    """Base64 PNG: min/max waveform per channel pair, true-peak overs of the ceiling marked."""
    wave = result.waveform
    hop = result.series_hop_s
    fig, ax = _figure(2.6)
    if wave is None or wave.shape[2] == 0:
        ax.text(0.5, 0.5, "too short to draw", ha="center", va="center", color=_MUTED,
                transform=ax.transAxes)
        return _png(fig)
    t = (np.arange(wave.shape[2]) + 0.5) * hop
    if result.channels == 2:
        # left above the axis, right below: a producer reads balance at a glance
        for ch, (sign, colour, label) in enumerate(((1, _ACCENT, "L"), (-1, "#5a8fd0", "R"))):
            lo = np.clip(wave[0, ch], -1.0, 1.0)
            hi = np.clip(wave[1, ch], -1.0, 1.0)
            peak = np.maximum(np.abs(lo), np.abs(hi)) if sign > 0 else \
                -np.maximum(np.abs(lo), np.abs(hi))
            ax.fill_between(t, 0, peak, color=colour, linewidth=0, alpha=0.85, label=label)
        ax.set_ylim(-1.05, 1.05)
        ax.set_yticks([-1, -0.5, 0, 0.5, 1], ["R 0 dB", "-6", "0", "-6", "L 0 dB"])
        ax.axhline(0, color="white", linewidth=0.6)
    else:
        lo = np.clip(wave[0].min(axis=0), -1.0, 1.0)
        hi = np.clip(wave[1].max(axis=0), -1.0, 1.0)
        ax.fill_between(t, lo, hi, color=_ACCENT, linewidth=0)
        ax.set_ylim(-1.05, 1.05)
        ax.set_yticks([-1, -0.5, 0, 0.5, 1], ["-0 dB", "-6", "", "-6", "0 dB"])
    ceiling = 10.0 ** (target.ceiling_dbtp / 20.0)
    title = "Waveform and true peak"
    env = result.true_peak_envelope
    if env is not None and len(env):
        over = np.flatnonzero(env > ceiling)
        if len(over):
            ax.plot(t[over], np.full(len(over), 1.02), linestyle="none", marker="v",
                    markersize=5, color=_BAD,
                    label=f"true peak over {target.ceiling_dbtp:g} dBTP")
        k = int(np.argmax(env))
        peak = float(env[k])
        if peak > 0:
            ax.plot([t[k]], [min(peak, 1.0)], linestyle="none", marker="o", markersize=6,
                    markerfacecolor="none", markeredgecolor=_INK, label="largest true peak")
            minutes, seconds = divmod(t[k], 60)
            title = (f"Waveform and true peak (max {20 * math.log10(peak):+.1f} dBTP at "
                     f"{int(minutes)}:{seconds:04.1f})")
    _time_axis(ax, result.duration_s)
    _legend(ax, 4)
    ax.set_title(title, loc="left", fontsize=11, color=_INK)
    return _png(fig)


def plot_loudness(result: QCResult, target: Target) -> str:
    """Base64 PNG: momentary and short-term loudness, integrated line and target band."""
    fig, ax = _figure(3.2)
    lo_band = target.lufs - target.tolerance_lu
    hi_band = target.lufs + target.tolerance_lu
    ax.axhspan(lo_band, hi_band, color=_BAND, alpha=0.7, linewidth=0,
               label=f"target {target.name} ({target.lufs:g} \u00b1 {target.tolerance_lu:g})")
    lows = [lo_band]
    highs = [hi_band]
    for series, colour, width, label in ((result.momentary, _MOMENTARY, 0.8, "momentary"),
                                         (result.short_term, _SHORT, 1.6, "short-term")):
        if series is not None and len(series):
            lufs = series.lufs
            y = np.where(np.isfinite(lufs), lufs, LUFS_FLOOR - 5)
            ax.plot(series.times(), y, color=colour, linewidth=width, label=label)
            finite = lufs[np.isfinite(lufs)]
            if len(finite):
                lows.append(float(np.percentile(finite, 2)))
                highs.append(float(finite.max()))
    if math.isfinite(result.integrated_lufs):
        ax.axhline(result.integrated_lufs, color=_INK, linestyle="--", linewidth=1.2,
                   label=f"integrated {result.integrated_lufs:.1f} LUFS")
    ymin = max(LUFS_FLOOR, math.floor(min(lows) / 3.0) * 3.0 - 3.0)
    ymax = min(6.0, math.ceil(max(highs) / 3.0) * 3.0 + 3.0)
    ax.set_ylim(ymin, ymax)
    ax.set_ylabel("LUFS", color=_INK, fontsize=9)
    _time_axis(ax, result.duration_s)
    _legend(ax, 4)
    ax.set_title("Loudness over time", loc="left", fontsize=11, color=_INK)
    return _png(fig)


def _smoothed(freqs: NDArray[np.float64], power: NDArray[np.float64],
              fraction: float = 6.0) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Power spectrum smoothed over 1/``fraction`` octave, on a log grid, in dB re FS sine."""
    nyq = float(freqs[-1])
    grid = np.geomspace(20.0, min(20000.0, nyq * 0.98), 240)
    csum = np.concatenate([[0.0], np.cumsum(power)])
    half = 2.0 ** (1.0 / (2.0 * fraction))
    lo = np.searchsorted(freqs, grid / half)
    hi = np.maximum(np.searchsorted(freqs, grid * half), lo + 1)
    hi = np.minimum(hi, len(power))
    bins = np.maximum(hi - lo, 1)
    mean = (csum[hi] - csum[lo]) / bins
    # level per 1/3 octave: mean density times the bins a third-octave holds there
    width_bins = grid * (2 ** (1 / 6) - 2 ** (-1 / 6)) / max(freqs[1] - freqs[0], 1e-9)
    level = 2.0 * mean * np.maximum(width_bins, 1.0)
    with np.errstate(divide="ignore"):
        return grid, 10.0 * np.log10(np.maximum(level, 1e-30))


def plot_spectrum(result: QCResult) -> str:
    """Base64 PNG: 1/3-octave band levels with a 1/6-octave smoothed spectrum over them."""
    fig, ax = _figure(3.0)
    hz = np.array(result.spectrum_hz)
    db = np.array(result.spectrum_db)
    finite = np.isfinite(db)
    floor = -100.0
    if finite.any():
        floor = max(-120.0, math.floor(float(db[finite].min()) / 10.0) * 10.0 - 10.0)
        heights = np.where(finite, db, floor) - floor
        widths = hz * (2 ** (1 / 6) - 2 ** (-1 / 6)) * 0.85
        ax.bar(hz, heights, width=widths, bottom=floor, color=_MOMENTARY, edgecolor="none",
               label="1/3-octave bands")
        top = float(db[finite].max())
        ax.set_ylim(floor, math.ceil(top / 10.0) * 10.0 + 5.0)
    if result.ltas is not None and np.any(result.ltas[1] > 0):
        f, smooth = _smoothed(*result.ltas)
        ax.plot(f, smooth, color=_SHORT, linewidth=1.4, label="smoothed (1/6 octave)")
    ax.set_xscale("log")
    ax.set_xlim(18, min(22000, result.sample_rate / 2))
    ticks = [t for t in (20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000)
             if t < result.sample_rate / 2]
    ax.set_xticks(ticks, [f"{t // 1000}k" if t >= 1000 else str(t) for t in ticks])
    ax.set_xlabel("frequency (Hz)", color=_INK, fontsize=9)
    ax.set_ylabel("dB re full-scale sine", color=_INK, fontsize=9)
    _legend(ax, 2)
    ax.set_title("Spectrum (average over the whole file)", loc="left", fontsize=11, color=_INK)
    return _png(fig)


def _cell(value: float | None, fmt: str, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, float) and math.isinf(value):
        return f"-\u221e {unit}" if value < 0 else f"+\u221e {unit}"
    return f"{format(value, fmt)} {unit}".strip()


_CSS = """
body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;color:#1f2430;
max-width:1200px;margin:32px auto;padding:0 24px;background:#fafbfc}
h1{font-size:22px;margin:0 0 4px}h2{font-size:15px;margin:28px 0 8px;color:#3a4150}
.sub{color:#8a90a0;font-size:13px;margin-bottom:20px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px}
.card{background:#fff;border:1px solid #e3e6ee;border-radius:8px;padding:12px 14px}
.card .k{font-size:11px;color:#8a90a0;text-transform:uppercase;letter-spacing:.04em}
.card .v{font-size:22px;font-weight:600;margin-top:2px}
table{border-collapse:collapse;background:#fff;border:1px solid #e3e6ee;border-radius:8px;
font-size:13px;min-width:520px}td,th{padding:7px 14px;border-bottom:1px solid #eef0f5;
text-align:left}th{color:#8a90a0;font-weight:500}
.pass{color:#2f855a;font-weight:600}.fail{color:#c53030;font-weight:600}
.warn{background:#fffaf0;border:1px solid #f6e05e;border-radius:8px;padding:10px 14px;
font-size:13px}.warn li{margin:3px 0}
img{width:100%;background:#fff;border:1px solid #e3e6ee;border-radius:8px;margin:6px 0}
.foot{color:#8a90a0;font-size:11px;margin-top:28px}
"""


def render_html(result: QCResult, target: Target | None = None, *,
                title: str | None = None) -> str:
    """The report page for ``result`` as an HTML string (plots embedded as PNG)."""
    tgt = target or DEFAULT_TARGET
    name = title or (Path(result.file).name if result.file else "audio")
    checks = evaluate(result.integrated_lufs, result.true_peak_dbtp, tgt)
    verdict = all(c.passed for c in checks)
    cards = [
        ("Integrated", _cell(result.integrated_lufs, ".1f", "LUFS")),
        ("Loudness range", _cell(result.loudness_range_lu, ".1f", "LU")),
        ("True peak", _cell(result.true_peak_dbtp, ".1f", "dBTP")),
        ("PLR", _cell(result.plr_db, ".1f", "dB")),
        ("Max momentary", _cell(result.max_momentary_lufs, ".1f", "LUFS")),
        ("Max short-term", _cell(result.max_short_term_lufs, ".1f", "LUFS")),
    ]
    rows = "".join(
        f"<tr><td>{html.escape(c.name)}</td><td>{_cell(c.measured, '.1f', '')}</td>"
        f"<td>{html.escape(c.limit)}</td><td class='{'pass' if c.passed else 'fail'}'>"
        f"{'PASS' if c.passed else 'FAIL'}</td></tr>" for c in checks)
    details: list[tuple[str, str]] = [
        ("Sample peak", _cell(result.sample_peak_dbfs, ".2f", "dBFS")),
        ("True peak per channel", ", ".join(_cell(v, ".2f", "dBTP")
                                            for v in result.true_peak_per_channel_dbtp)),
        ("RMS / crest factor", f"{_cell(result.rms_dbfs, '.1f', 'dBFS')} / "
                               f"{_cell(result.crest_factor_db, '.1f', 'dB')}"),
        ("DC offset", ", ".join(f"{v:+.5f}" for v in result.dc_offset)),
        ("Clipped samples", f"{result.clipped_samples} in {result.clip_runs} runs"),
    ]
    if result.correlation is not None:
        details.append(("Phase correlation", f"{result.correlation:+.2f}"))
    if result.width is not None:
        details.append(("Stereo width (side / total)", f"{result.width:.2f}"))
    details.append(("True-peak method", f"BS.1770-4 Annex 2 FIR, "
                                        f"{result.true_peak_oversampling}x oversampling"))
    detail_rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>"
                          for k, v in details)
    warnings = ""
    if result.warnings:
        items = "".join(f"<li>{html.escape(w)}</li>" for w in result.warnings)
        warnings = f"<h2>Warnings</h2><div class='warn'><ul>{items}</ul></div>"
    minutes, seconds = divmod(result.duration_s, 60)
    sub = (f"{int(minutes)}:{seconds:04.1f} · {result.sample_rate} Hz · "
           f"{result.channels} channel{'s' if result.channels != 1 else ''}")
    images = "".join(
        f"<img alt='{alt}' src='data:image/png;base64,{data}'>"
        for alt, data in (("waveform and true peak", plot_waveform(result, tgt)),
                          ("loudness over time", plot_loudness(result, tgt)),
                          ("spectrum", plot_spectrum(result))))
    card_html = "".join(f"<div class='card'><div class='k'>{k}</div><div class='v'>{v}</div>"
                        "</div>" for k, v in cards)
    verdict_html = (f"<span class='{'pass' if verdict else 'fail'}'>"
                    f"{'PASS' if verdict else 'FAIL'}</span>")
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(name)}: loudness report</title><style>{_CSS}</style></head><body>"
        f"<h1>{html.escape(name)}</h1><div class='sub'>{html.escape(sub)}</div>"
        f"<div class='cards'>{card_html}</div>"
        f"<h2>Delivery check: {html.escape(tgt.name)} ({tgt.lufs:g} LUFS, "
        f"{tgt.ceiling_dbtp:g} dBTP) {verdict_html}</h2>"
        "<table><tr><th>measure</th><th>measured</th><th>required</th><th></th></tr>"
        f"{rows}</table>{warnings}<h2>Plots</h2>{images}"
        f"<h2>Details</h2><table>{detail_rows}</table>"
        "<div class='foot'>Loudness per ITU-R BS.1770-4 with EBU R 128 gating; loudness range "
        "per EBU Tech 3342; true peak per BS.1770-4 Annex 2. Generated by mixdown.</div>"
        "</body></html>"
    )


def write_report(result: QCResult, folder: str | Path, *, target: Target | None = None,
                 name: str | None = None) -> Path:
    """Write ``<folder>/<name>.html`` (default name: the file's stem) and return its path."""
    from mixdown.core.files import atomic_path

    out_dir = Path(folder)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = name or (Path(result.file).stem if result.file else "audio")
    page = out_dir / f"{stem}.html"
    with atomic_path(page) as tmp:
        tmp.write_text(render_html(result, target), encoding="utf-8")
    _readable(page)
    return page


def write_index(pages: Sequence[tuple[QCResult, Path]], folder: str | Path, *,
                target: Target | None = None) -> Path:
    """Write ``<folder>/index.html``: one row per analysed file, linking its page."""
    from mixdown.core.files import atomic_path

    tgt = target or DEFAULT_TARGET
    rows: list[str] = []
    for result, page in pages:
        checks = evaluate(result.integrated_lufs, result.true_peak_dbtp, tgt)
        ok = all(c.passed for c in checks)
        label = Path(result.file).name if result.file else page.stem
        cells: list[Any] = [
            f"<a href='{html.escape(page.name)}'>{html.escape(label)}</a>",
            _cell(result.integrated_lufs, ".1f", "LUFS"),
            _cell(result.loudness_range_lu, ".1f", "LU"),
            _cell(result.true_peak_dbtp, ".1f", "dBTP"),
            f"<span class='{'pass' if ok else 'fail'}'>{'PASS' if ok else 'FAIL'}</span>",
            str(len(result.warnings)),
        ]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    body = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Loudness reports"
        f"</title><style>{_CSS}</style></head><body><h1>Loudness reports</h1>"
        f"<div class='sub'>target {html.escape(tgt.name)}: {tgt.lufs:g} LUFS, "
        f"{tgt.ceiling_dbtp:g} dBTP</div><table><tr><th>file</th><th>integrated</th>"
        "<th>LRA</th><th>true peak</th><th>target</th><th>warnings</th></tr>"
        + "".join(rows) + "</table></body></html>"
    )
    index = Path(folder) / "index.html"
    with atomic_path(index) as tmp:
        tmp.write_text(body, encoding="utf-8")
    _readable(index)
    return index


def _readable(path: Path) -> None:
    """Give a page the mode a plain write would (temp files are created owner-only)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)
