"""The batch summary in OUTDIR: ``batch-report.csv``, ``batch-report.json`` and
``batch-report.html`` (a table, a loudness histogram and the files out of spec, as inline
SVG). Each is written atomically; a re-run rewrites them for all of its inputs.
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mixdown.core.files import atomic_path

COLUMNS = ("input", "output", "status", "skipped", "integrated_lufs", "true_peak_dbtp",
           "loudness_range_lu", "duration_s", "in_spec", "spec", "seconds", "attempts",
           "error")


@dataclass(frozen=True, slots=True)
class ReportFiles:
    """The three summary files."""

    csv: Path
    json: Path
    html: Path


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}" if math.isfinite(value) else ""
    if isinstance(value, list):
        return "; ".join(map(str, value))
    return str(value)


def _svg(fig: Any) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    text = buf.getvalue()
    return text[text.find("<svg"):]  # inline: drop the XML prolog and doctype


def prepare_charts() -> None:
    """Import what the charts need (matplotlib's figure and SVG backend: about a second),
    so that a batch can do it on a thread while its tasks run."""
    import contextlib

    with contextlib.suppress(Exception):  # the report itself says what went wrong
        import matplotlib.backends.backend_svg  # noqa: F401
        from matplotlib.figure import Figure

        Figure(figsize=(1, 1)).subplots()


def _histogram(rows: Sequence[dict[str, Any]]) -> str:
    """Integrated loudness of the files done, as an inline SVG histogram (LUFS)."""
    from matplotlib.figure import Figure

    values = [r["integrated_lufs"] for r in rows
              if r["status"] == "done" and isinstance(r.get("integrated_lufs"), float | int)]
    if not values:
        return "<p>No loudness figures.</p>"
    fig = Figure(figsize=(6.4, 2.8))
    ax = fig.subplots()
    lo, hi = math.floor(min(values)) - 1, math.ceil(max(values)) + 1
    ax.hist(values, bins=max(1, min(40, int((hi - lo) * 2))), range=(lo, hi),
            color="#4a78b0", edgecolor="white")
    ax.set_xlabel("integrated loudness (LUFS)")
    ax.set_ylabel("files")
    ax.set_title(f"loudness of {len(values)} files")
    return _svg(fig)


def _out_of_spec(rows: Sequence[dict[str, Any]]) -> str:
    """The files out of spec (and failed), as an inline SVG bar chart of their true peaks."""
    from matplotlib.figure import Figure

    bad = [r for r in rows if r["status"] == "done" and r.get("in_spec") is False]
    checked = [r for r in rows if r["status"] == "done" and r.get("in_spec") is not None]
    if not checked:
        return "<p>No spec was checked (give a --target).</p>"
    fig = Figure(figsize=(6.4, 2.4))
    ax = fig.subplots()
    failed = sum(1 for r in rows if r["status"] == "failed")
    labels = ["in spec", "out of spec", "failed"]
    counts = [len(checked) - len(bad), len(bad), failed]
    ax.barh(labels, counts, color=["#5a9e5a", "#d08a2c", "#c04040"])
    for y, c in enumerate(counts):
        ax.text(c, y, f" {c}", va="center")
    ax.set_xlabel("files")
    ax.invert_yaxis()
    return _svg(fig)


def report_paths(outdir: Path) -> tuple[Path, Path, Path]:
    """``batch-report.csv``, ``.json`` and ``.html`` in ``outdir``."""
    return (outdir / "batch-report.csv", outdir / "batch-report.json",
            outdir / "batch-report.html")


def summary_rows(entries: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One flat row per input from its journal entry (``row`` figures merged in)."""
    rows = []
    for e in entries:
        row = {k: e.get(k) for k in COLUMNS}
        row.update({k: v for k, v in (e.get("row") or {}).items() if k in COLUMNS})
        row["warnings"] = (e.get("row") or {}).get("warnings", [])
        rows.append(row)
    return rows


def write_report(outdir: Path, kind: str, entries: Sequence[dict[str, Any]],
                 totals: dict[str, Any]) -> ReportFiles:
    """Write the CSV, JSON and HTML summaries of a batch into ``outdir``.

    Parameters
    ----------
    entries : sequence of dict
        Per input, its journal entry plus ``skipped`` (bool).
    totals : dict
        ``total``, ``done``, ``skipped``, ``failed``, ``seconds``, ``workers``...
    """
    rows = summary_rows(entries)
    files = ReportFiles(*report_paths(outdir))
    with atomic_path(files.csv) as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for r in rows:
            writer.writerow({k: _cell(r.get(k)) for k in COLUMNS})
    with atomic_path(files.json) as tmp, open(tmp, "w", encoding="utf-8") as f:
        json.dump({"kind": kind, "totals": totals, "files": rows}, f, indent=1,
                  allow_nan=False, default=str)
    with atomic_path(files.html) as tmp:
        tmp.write_text(_html(kind, rows, totals), encoding="utf-8")
    return files


def _html(kind: str, rows: Sequence[dict[str, Any]], totals: dict[str, Any]) -> str:
    esc = html.escape
    head = "".join(f"<th>{esc(c)}</th>" for c in COLUMNS)
    body = []
    for r in rows:
        cls = ("failed" if r["status"] == "failed" else
               "out" if r.get("in_spec") is False else "")
        cells = "".join(f"<td>{esc(_cell(r.get(c)))}</td>" for c in COLUMNS)
        body.append(f"<tr class=\"{cls}\">{cells}</tr>")
    facts = ", ".join(f"{esc(str(k))} {esc(_cell(v))}" for k, v in totals.items())
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mixdown batch {esc(kind)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; font-size: 0.85em; }}
td, th {{ border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: left; }}
tr.failed td {{ background: #f6d6d6; }}
tr.out td {{ background: #f8e8c8; }}
figure {{ display: inline-block; margin: 0 2em 1em 0; }}
</style></head><body>
<h1>mixdown batch {esc(kind)}</h1>
<p>{facts}</p>
<figure>{_histogram(rows)}<figcaption>Loudness distribution</figcaption></figure>
<figure>{_out_of_spec(rows)}<figcaption>Files out of spec</figcaption></figure>
<table><thead><tr>{head}</tr></thead><tbody>
{chr(10).join(body)}
</tbody></table>
</body></html>
"""


__all__ = ["COLUMNS", "ReportFiles", "report_paths", "summary_rows", "write_report"]
