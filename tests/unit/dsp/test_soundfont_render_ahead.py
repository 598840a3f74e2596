"""The soundfont instrument's render-ahead child: the same bits as in-process, whatever the
caller does (blocks, jumps, rewinds, bends, a child that dies), and no child left behind."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np
import pytest

from mixdown import Clip, Device, Note, Project, Song, Track
from mixdown.dsp.base import NoteEvent, create_device
from mixdown.dsp.instruments import render_ahead
from mixdown.dsp.instruments import soundfont as sfmod
from mixdown.services.render import render_audio
from soundfonts import GM_SF2, gm_bytes

SR = 48_000
GM = gm_bytes()
NOTES = [NoteEvent(700 * i + (i * 37) % 300, 700 * i + 6_000 + (i * 911) % 20_000,
                   36 + (i * 7) % 50, 40 + (i * 13) % 87) for i in range(120)]



@pytest.fixture(autouse=True)
def _ahead_everywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    """The child is used on one CPU too (it only pays off on two or more); a ring of three
    chunks, so that the tests go round it many times."""
    monkeypatch.setattr(render_ahead, "available", lambda: True)
    monkeypatch.setattr(render_ahead, "RING_BYTES", 3 * sfmod.AHEAD_CHUNK * 2 * 4)


def synth(preset: int = 48) -> object:
    return create_device("soundfont", {"soundfont": GM, "file": "gm.sf2", "preset": preset})


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def run(inst: object, calls: list[tuple[int, int]], bends: dict[int, float] | None = None
        ) -> list[np.ndarray]:
    """Prepare, set the notes, then render each (start, frames) in turn."""
    inst.prepare(SR, 2, 1 << 16)  # type: ignore[attr-defined]
    inst.set_notes(NOTES)  # type: ignore[attr-defined]
    out = []
    for start, frames in calls:
        if bends and start in bends:
            inst.set_param("bend_semitones", bends[start])  # type: ignore[attr-defined]
        out.append(inst.render(start, frames).copy())  # type: ignore[attr-defined]
    inst.close()  # type: ignore[attr-defined]
    return out


def in_process(calls: list[tuple[int, int]], bends: dict[int, float] | None = None,
               monkeypatch: pytest.MonkeyPatch | None = None) -> list[np.ndarray]:
    assert monkeypatch is not None
    with monkeypatch.context() as m:
        m.setattr(sfmod, "RENDER_AHEAD", False)
        inst = synth()
        out = run(inst, calls, bends)
        assert inst._ahead_proc is None  # type: ignore[attr-defined]
    return out


def consecutive(sizes: list[int], total: int, start: int = 0) -> list[tuple[int, int]]:
    calls, pos, k = [], start, 0
    while pos < total:
        n = min(sizes[k % len(sizes)], total - pos)
        calls.append((pos, n))
        pos, k = pos + n, k + 1
    return calls


def test_the_child_makes_the_same_bits_for_any_blocks(monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    ref = np.concatenate(in_process(consecutive([4_096], 200_000), monkeypatch=monkeypatch),
                         axis=1)
    assert np.abs(ref).max() > 0.05
    for sizes in ([4_096], [1, 17, 65_536, 3_000], [32_768]):
        inst = synth()
        pids: list[int] = []
        inst.prepare(SR, 2, 1 << 16)  # type: ignore[attr-defined]
        inst.set_notes(NOTES)  # type: ignore[attr-defined]
        proc = inst._ahead_proc  # type: ignore[attr-defined]
        assert proc is not None and alive(proc._pid)  # a child really does the work
        pids.append(proc._pid)
        out = np.concatenate([inst.render(a, n).copy()  # type: ignore[attr-defined]
                              for a, n in consecutive(sizes, 200_000)], axis=1)
        assert inst._ahead_proc is proc  # never fell back
        np.testing.assert_array_equal(out, ref)
        inst.close()  # type: ignore[attr-defined]
        assert not any(alive(p) for p in pids)


def test_a_late_start_a_jump_and_a_rewind_match_in_process(monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    calls = [(12_345, 10_000), (22_345, 5_000), (90_001, 7_000), (3_000, 40_000),
             (43_000, 1)]
    ref = in_process(calls, monkeypatch=monkeypatch)
    out = run(synth(), calls)
    for a, b in zip(out, ref, strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_bend_mid_stream_hands_over_to_the_parent_exactly(monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    calls = consecutive([2_560], 120_000)
    bends = {25_600: 1.5, 76_800: -3.0}
    ref = in_process(calls, bends, monkeypatch=monkeypatch)
    inst = synth()
    inst.prepare(SR, 2, 1 << 16)  # type: ignore[attr-defined]
    inst.set_notes(NOTES)  # type: ignore[attr-defined]
    pid = inst._ahead_proc._pid  # type: ignore[attr-defined]
    out = []
    for start, frames in calls:
        if start in bends:
            inst.set_param("bend_semitones", bends[start])  # type: ignore[attr-defined]
            assert inst._ahead_proc is None and not alive(pid)  # type: ignore[attr-defined]
        out.append(inst.render(start, frames).copy())  # type: ignore[attr-defined]
    np.testing.assert_array_equal(np.concatenate(out, axis=1), np.concatenate(ref, axis=1))


def test_a_child_that_dies_is_replaced_by_the_parent(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = consecutive([10_000], 150_000)
    ref = in_process(calls, monkeypatch=monkeypatch)
    inst = synth()
    inst.prepare(SR, 2, 1 << 16)  # type: ignore[attr-defined]
    inst.set_notes(NOTES)  # type: ignore[attr-defined]
    out = []
    for k, (start, frames) in enumerate(calls):
        if k == 4:
            proc = inst._ahead_proc  # type: ignore[attr-defined]
            os.kill(proc._pid, signal.SIGKILL)
            os.waitpid(proc._pid, 0)  # the chunks it had made are read, then the parent's
        out.append(inst.render(start, frames).copy())  # type: ignore[attr-defined]
    assert inst._ahead_proc is None  # type: ignore[attr-defined]
    np.testing.assert_array_equal(np.concatenate(out, axis=1), np.concatenate(ref, axis=1))


def test_no_child_without_notes_or_when_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    inst = synth()
    inst.prepare(SR, 2, 1 << 16)  # type: ignore[attr-defined]
    inst.set_notes([])  # type: ignore[attr-defined]
    assert inst._ahead_proc is None  # type: ignore[attr-defined]
    assert not inst.render(0, 1_000).any()  # type: ignore[attr-defined]
    monkeypatch.setattr(sfmod, "RENDER_AHEAD", False)
    inst.set_notes(NOTES)  # type: ignore[attr-defined]
    assert inst._ahead_proc is None  # type: ignore[attr-defined]


def test_no_process_to_be_had_means_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = consecutive([8_000], 60_000)
    ref = in_process(calls, monkeypatch=monkeypatch)
    opened: list[int] = []
    real_pipe = os.pipe

    def pipe() -> tuple[int, int]:
        fds = real_pipe()
        opened.extend(fds)
        return fds

    def no_fork() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "pipe", pipe)
    monkeypatch.setattr(os, "fork", no_fork)
    inst = synth()
    inst.prepare(SR, 2, 1 << 16)  # type: ignore[attr-defined]
    inst.set_notes(NOTES)  # type: ignore[attr-defined]
    assert inst._ahead_proc is None  # type: ignore[attr-defined]
    assert len(opened) == 6
    for fd in opened:  # the pipes made before the failure are closed again
        with pytest.raises(OSError):
            os.fstat(fd)
    out = [inst.render(a, n).copy() for a, n in calls]  # type: ignore[attr-defined]
    np.testing.assert_array_equal(np.concatenate(out, axis=1), np.concatenate(ref, axis=1))


def test_a_project_render_leaves_no_child_behind(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "sounds").mkdir()
    (tmp_path / "sounds" / "gm.sf2").write_bytes(GM_SF2.read_bytes())
    notes = tuple(Note(pitch=48 + i % 24, start=i * 0.25, length=0.5) for i in range(24))
    project = Project(song=Song(tempo=120, tail_s=0.5), tracks=tuple(
        Track(name=f"T{p}", instrument=Device(type="soundfont", params={
            "file": "sounds/gm.sf2", "preset": p}), clips=(Clip(start=0, notes=notes),))
        for p in (0, 48, 73)))
    pids: list[int] = []
    real = render_ahead.RenderAhead.__init__

    def spy(self: render_ahead.RenderAhead, *args: object) -> None:
        real(self, *args)  # type: ignore[arg-type]
        pids.append(self._pid)  # type: ignore[arg-type]

    monkeypatch.setattr(render_ahead.RenderAhead, "__init__", spy)
    out, _ = render_audio(project, root=tmp_path)
    assert len(pids) == 3 and not any(alive(p) for p in pids)
    monkeypatch.setattr(sfmod, "RENDER_AHEAD", False)
    ref, _ = render_audio(project, root=tmp_path)
    np.testing.assert_array_equal(out, ref)
    assert np.abs(ref).max() > 0.05
