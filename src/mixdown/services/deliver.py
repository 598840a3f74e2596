"""Use case: ``mixdown deliver PROJECT --targets spotify,apple-music,cd``.

Renders the project once (the pre-master mix and its stems), proves the stems sum
to the mix, masters the mix to each target by measurement, writes each target's
deliverables (verified after encoding, re-made with a margin if a lossy encode
overshoots), tags them, and writes ``report.html`` and ``delivery.json``.

The delivery folder::

    DIR/
      premaster/mix.wav            the rendered mix, before any loudness target
      premaster/mix.stems/*.wav    one stem per track/bus feeding the master (or, when the
                                   master bus has inserts, master-bus-input.wav and
                                   master-bus-input.stems/, which null against each other)
      spotify/Title [wav-24-48k].wav ...
      cd/Title [wav-16-44k].wav
      report.html                  every file against its spec
      delivery.json
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mixdown.core.errors import ParameterError
from mixdown.core.jsonable import to_jsonable
from mixdown.core.targets import Target, TargetTable
from mixdown.delivery.deliverables import (
    DELIVERABLES,
    DeliverableResult,
    DeliverableSpec,
    get_deliverable,
    make_deliverable,
)
from mixdown.delivery.report import write_delivery_report
from mixdown.delivery.stems import null_test
from mixdown.delivery.tags import Metadata
from mixdown.io.audio import atomic_path
from mixdown.mastering.normalize import DEFAULT_ALLOWANCE_DB, MasterResult
from mixdown.model.project import Project
from mixdown.services.outputs import claim_folder
from mixdown.services.premaster import LoudnessTarget, master_premaster, split_notes

Progress = Callable[[float], None]

STREAMING_FORMATS = ("wav-24-48k", "flac", "mp3-320")
"""What a streaming target gets unless ``formats`` says otherwise."""

__all__ = ["DeliveryReport", "TargetDelivery", "deliver_project", "deliverables_for"]


@dataclass(frozen=True, slots=True)
class TargetDelivery:
    """One target of a delivery: its master (by measurement) and its deliverables."""

    target: Target
    master: MasterResult
    deliverables: tuple[DeliverableResult, ...]

    @property
    def passed(self) -> bool:
        """Every deliverable met its spec."""
        return all(d.passed for d in self.deliverables)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for ``delivery.json``."""
        return {"target": self.target.as_dict(), "master": self.master.as_dict(),
                "master_file": None, "deliverables": [d.as_dict() for d in self.deliverables]}


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What :func:`deliver_project` wrote.

    Attributes
    ----------
    folder : Path
        The delivery folder.
    passed : bool
        Every deliverable met its spec and the stems nulled against the mix.
    premaster : Path
        The rendered mix before any target (``premaster/mix.wav``).
    stems : dict or None
        The stems' null test (None without stems).
    targets : tuple of TargetDelivery
        Per target, in the order asked.
    report : Path
        ``report.html``.
    warnings : tuple of str
        Problems worth a look.
    title, artist, isrc : str or None
        The tags written.
    """

    folder: Path
    passed: bool
    premaster: Path
    stems: dict[str, Any] | None
    targets: tuple[TargetDelivery, ...]
    report: Path
    warnings: tuple[str, ...] = ()
    title: str | None = None
    artist: str | None = None
    isrc: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """What ``delivery.json`` and ``mixdown deliver --json`` hold."""
        return {"title": self.title, "artist": self.artist, "isrc": self.isrc,
                "folder": str(self.folder), "passed": self.passed,
                "premaster": str(self.premaster), "stems": self.stems,
                "targets": [t.as_dict() for t in self.targets],
                "warnings": list(self.warnings), "created_by": "mixdown deliver",
                "report": str(self.report)}


def deliverables_for(target: Target, formats: Sequence[str] | None) -> list[DeliverableSpec]:
    """The deliverables of one target: the target's own PCM spec (CD) or the defaults."""
    if formats:
        return [get_deliverable(f) for f in formats]
    if target.bit_depth == 16 and target.sample_rate == 44_100:
        return [DELIVERABLES["wav-16-44k"]]
    if target.bit_depth is not None or target.sample_rate is not None:
        return [DeliverableSpec(f"wav-{target.bit_depth or 24}-{target.name}", "wav",
                                target.sample_rate, target.bit_depth or 24,
                                "tpdf" if target.bit_depth == 16 else "none")]
    return [DELIVERABLES[f] for f in STREAMING_FORMATS]


def _safe(text: str) -> str:
    return re.sub(r"[^\w\- .()]", "_", text).strip(" .") or "master"


def deliver_project(
    project: str | Path | Project,
    targets: Sequence[str | float],
    out_dir: str | Path | None = None,
    *,
    formats: Sequence[str] | None = None,
    title: str | None = None,
    artist: str | None = None,
    isrc: str | None = None,
    allowance_db: float = DEFAULT_ALLOWANCE_DB,
    stems: bool = True,
    force: bool = False,
    root: str | Path | None = None,
    progress: Progress | None = None,
) -> DeliveryReport:
    """Render, master and deliver ``project`` for each of ``targets``.

    Parameters
    ----------
    project : Path or Project
        A project folder, its song.toml, or a loaded :class:`Project`.
    targets : sequence of str or float
        Preset names (``spotify``, ``cd``...) or LUFS numbers; a project's ``targets.toml``
        may add or change presets.
    out_dir : Path, optional
        The delivery folder (default ``PROJECT/renders/delivery``); must be empty or new
        unless ``force``.
    formats : sequence of str, optional
        Deliverable names for every target (default: per target, see
        :func:`deliverables_for`).
    title, artist, isrc : str, optional
        Tags (title and artist default to the song's).
    allowance_db : float
        Most peak gain reduction (dB) the limiter may use to reach a target.
    stems : bool
        Export the stems and prove they null against the mix.
    force : bool
        Replace the contents of a non-empty ``out_dir``.
    root : Path, optional
        The folder a :class:`Project`'s assets resolve against (default: the folder it was
        loaded from).
    progress : callable, optional
        Called with the fraction done (0..1).

    Returns
    -------
    DeliveryReport
    """
    from mixdown.services.render import load, render_project

    if not targets:
        raise ParameterError("give at least one target: --targets spotify,apple-music,cd")
    proj, project_dir = load(project, root)
    table = TargetTable.from_project(project_dir)
    resolved = [table.resolve(t) for t in targets]
    specs = {t.name: deliverables_for(t, formats) for t in resolved}
    meta = Metadata(title=title or proj.song.title, artist=artist or proj.song.artist or None,
                    isrc=isrc)
    folder = Path(out_dir) if out_dir is not None else project_dir / "renders" / "delivery"
    claim_folder(folder, force=force, what="delivery")
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    steps = 2 + sum(1 + len(v) for v in specs.values())
    done = [0.0]

    def tick() -> None:
        done[0] += 1
        if progress is not None:
            progress(min(1.0, done[0] / steps))

    warnings: list[str] = []
    # 1. the pre-master mix and its stems. The stems are what feeds the master bus; when the
    #    master bus has inserts (a compressor...), they cannot null against the processed
    #    mix, so they are rendered with the master bus's input, and checked against that.
    pre_dir = folder / "premaster"
    pre_dir.mkdir()
    mix = pre_dir / "mix.wav"
    m = proj.master
    master_processing = bool(m.devices or m.automation or m.volume_db != 0.0)
    render = render_project(proj, mix, bit_depth=24, stems=stems and not master_processing,
                            master=False, root=project_dir, qc=False)
    warnings += render.warnings
    tick()
    stems_result = None
    stem_paths, stems_mix = render.stems, mix
    if stems and master_processing:
        bare = proj.model_copy(update={"master": m.model_copy(
            update={"devices": (), "automation": (), "volume_db": 0.0})})
        stems_mix = pre_dir / "master-bus-input.wav"
        stem_paths = render_project(bare, stems_mix, bit_depth=24, stems=True, master=False,
                                    root=project_dir, qc=False).stems
    if stems and stem_paths:
        stems_result = null_test(stems_mix, stem_paths).as_dict()
        if master_processing:
            stems_result["notes"].append(
                f"the master bus has {len(m.devices)} insert(s); the stems are checked against "
                f"the master bus's input ({stems_mix.name}), the mix before them")
        if not stems_result["passed"]:
            warnings.append(f"the stems do not sum to the mix: residual peak "
                            f"{stems_result['residual_peak_dbfs']:.1f} dBFS")
    tick()
    # 2. per target: master by measurement, then every deliverable, verified
    entries: list[TargetDelivery] = []
    base = _safe(meta.title or "master")
    for k, tgt in enumerate(resolved):
        sub = folder / _safe(tgt.name)
        sub.mkdir(exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".mixdown-", dir=folder) as tmp:
            master = Path(tmp) / "master.wav"
            res = master_premaster(mix, master,
                                   target=LoudnessTarget(tgt.lufs, tgt.ceiling_dbtp),
                                   workdir=Path(tmp), sample_rate=render.sample_rate,
                                   channels=render.channels, bit_depth=32,
                                   allowance_db=allowance_db)
            tick()
            made = []
            for spec in specs[tgt.name]:
                dest = sub / f"{base} [{spec.name}]{spec.extension}"
                made.append(make_deliverable(master, spec, dest, ceiling_dbtp=tgt.ceiling_dbtp,
                                             target_lufs=res.output_lufs, metadata=meta,
                                             seed=k + 1))
                tick()
        entries.append(TargetDelivery(tgt, res, tuple(made)))
        warnings += [f"{tgt.name}: {w}" for w in split_notes(res.warnings)[0]]
    passed = all(e.passed for e in entries) and (
        stems_result is None or stems_result["passed"])
    report = DeliveryReport(folder=folder, passed=passed, premaster=mix, stems=stems_result,
                            targets=tuple(entries), report=folder / "report.html",
                            warnings=tuple(warnings), title=meta.title, artist=meta.artist,
                            isrc=meta.isrc)
    data = report.as_dict()
    write_delivery_report(data, report.report)
    with atomic_path(folder / "delivery.json") as tmp_json:
        tmp_json.write_text(json.dumps(to_jsonable(data), indent=2, allow_nan=False) + "\n")
    return report
