"""The delivery report: one self-contained HTML page, every file against its spec.

No scripts, no external assets: it opens from a folder, an email or an archive.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from mixdown.io.audio import atomic_path

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:64em;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;width:100%;margin:.6em 0}
th,td{text-align:left;padding:.25em .6em;border-bottom:1px solid #eee;vertical-align:top}
th{background:#f6f6f6}.pass{color:#116611;font-weight:600}.fail{color:#b00020;font-weight:600}
.warn{background:#fff4d6;padding:.4em .8em;border-left:4px solid #e0a800;margin:.4em 0}
.small{color:#666;font-size:.9em}code{font-size:.95em}
"""


def _num(value: Any, unit: str = "", digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, float) and math.isinf(value):
        return f"-inf {unit}".strip()
    if isinstance(value, float):
        return f"{value:.{digits}f} {unit}".strip()
    return f"{value} {unit}".strip()


def _verdict(passed: bool) -> str:
    return '<span class="pass">PASS</span>' if passed else '<span class="fail">FAIL</span>'


def _rel(path: Any, base: Path) -> str:
    if path is None:
        return "(not written)"
    p = Path(str(path))
    try:
        return str(p.relative_to(base))
    except ValueError:
        return str(p)


def render_delivery_html(report: Mapping[str, Any], base: Path) -> str:
    """The HTML page for a delivery ``report`` (the dict :func:`deliver_project` returns).

    Parameters
    ----------
    report : mapping
        ``title``, ``artist``, ``targets`` (each with ``target``, ``master`` and
        ``deliverables``), optional ``stems`` (a null test) and ``warnings``.
    base : Path
        Folder the file paths are shown relative to.
    """
    title = str(report.get("title") or "Delivery")
    out = [f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)} — "
           f"delivery report</title><style>{_CSS}</style></head><body>",
           f"<h1>{escape(title)}"
           + (f" — {escape(str(report['artist']))}" if report.get("artist") else "")
           + "</h1>"]
    all_ok = bool(report.get("passed"))
    out.append(f"<p>Overall: {_verdict(all_ok)} &nbsp; <span class='small'>"
               f"{escape(str(report.get('created_by', 'mixdown deliver')))}</span></p>")
    for w in report.get("warnings", []):
        out.append(f"<div class='warn'>{escape(str(w))}</div>")
    for entry in report.get("targets", []):
        out.extend(_target_section(entry, base))
    stems = report.get("stems")
    if stems:
        out.append("<h2>Stems null test</h2>")
        out.append(f"<p>mix − Σ stems: residual peak {_num(stems['residual_peak_dbfs'], 'dBFS')}"
                   f", RMS {_num(stems['residual_rms_dbfs'], 'dBFS')} (must stay below "
                   f"{_num(stems['threshold_dbfs'], 'dBFS', 0)}): {_verdict(stems['passed'])}"
                   "</p><ul>")
        for s in stems.get("stems", []):
            out.append(f"<li><code>{escape(_rel(s, base))}</code></li>")
        out.append("</ul>")
        for n in stems.get("notes", []):
            out.append(f"<div class='warn'>{escape(str(n))}</div>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _target_section(entry: Mapping[str, Any], base: Path) -> list[str]:
    t = entry["target"]
    m = entry["master"]
    out = [f"<h2>{escape(str(t['name']))}: {_num(t['lufs'], 'LUFS')}, ceiling "
           f"{_num(t['ceiling_dbtp'], 'dBTP')}</h2>"]
    if t.get("note"):
        out.append(f"<p class='small'>{escape(str(t['note']))}</p>")
    out.append("<table><tr><th>master</th><th>loudness</th><th>true peak</th><th>gain</th>"
               "<th>peak gain reduction</th><th>target</th></tr>")
    reached = "reached" if m.get("reached") else (
        f"<span class='fail'>not reached</span>, {_num(m.get('shortfall_lu'), 'LU')} short")
    master_file = entry.get("master_file")
    shown = f"<code>{escape(_rel(master_file, base))}</code>" if master_file else "master"
    out.append(f"<tr><td>{shown}</td>"
               f"<td>{_num(m.get('output_lufs'), 'LUFS', 2)}</td>"
               f"<td>{_num(m.get('output_true_peak_dbtp'), 'dBTP', 2)}</td>"
               f"<td>{_num(m.get('gain_db'), 'dB')}</td>"
               f"<td>{_num(m.get('max_gain_reduction_db'), 'dB')}</td><td>{reached}</td></tr>"
               "</table>")
    for w in m.get("warnings", []):
        out.append(f"<div class='warn'>{escape(str(w))}</div>")
    out.append("<table><tr><th>file</th><th>check</th><th>measured</th><th>spec</th>"
               "<th></th></tr>")
    for d in entry.get("deliverables", []):
        checks: Sequence[Mapping[str, Any]] = d.get("checks", [])
        name = f"<code>{escape(_rel(d.get('path'), base))}</code><br><span class='small'>" \
               f"{escape(str(d['deliverable']))}"
        if d.get("remade"):
            name += (f"; re-made {d['attempts'] - 1}x with a "
                     f"{_num(d.get('margin_db'), 'dB', 2)} margin")
        name += f"</span><br>{_verdict(bool(d.get('passed')))}"
        if not checks:
            out.append(f"<tr><td>{name}</td><td colspan='4'>"
                       f"{escape(str(d.get('error') or ''))}</td></tr>")
            continue
        for i, c in enumerate(checks):
            first = f"<td rowspan='{len(checks)}'>{name}</td>" if i == 0 else ""
            out.append(f"<tr>{first}<td>{escape(str(c['name']))}</td>"
                       f"<td>{escape(str(c['measured']))}</td>"
                       f"<td>{escape(str(c['expected']))}</td><td>{_verdict(c['passed'])}</td>"
                       "</tr>")
        if d.get("error"):
            out.append(f"<tr><td colspan='5' class='fail'>{escape(str(d['error']))}</td></tr>")
    out.append("</table>")
    return out


def write_delivery_report(report: Mapping[str, Any], path: str | Path) -> Path:
    """Write the HTML report atomically; returns its path."""
    p = Path(path)
    with atomic_path(p) as tmp:
        tmp.write_text(render_delivery_html(report, p.parent), encoding="utf-8")
    return p
