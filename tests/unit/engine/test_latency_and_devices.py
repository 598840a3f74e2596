"""Plugin latency compensation (null-tested), device automation on the control grid,
and sidechain wiring, with small devices registered the way a third party would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mixdown import AutomationLane, AutomationPoint, Bus, Clip, Device, Project, Song, Track
from mixdown.dsp.base import DEVICES, Param, register_device
from mixdown.engine.graph import CONTROL_FRAMES
from mixdown.services.render import render_audio, render_stems_audio
from signals import sine, write_wav

SR = 48_000


class _Latent:
    """A pure delay that reports its latency, like a lookahead limiter."""

    def __init__(self, frames: int, gain_db: float) -> None:
        self.latency_frames = frames
        self.gain = 10 ** (gain_db / 20)
        self.buf: np.ndarray | None = None

    def prepare(self, sample_rate: int, channels: int, max_block_frames: int) -> None:
        self.buf = np.zeros((channels, self.latency_frames), np.float32)

    def process(self, block: np.ndarray, sidechain: Any = None) -> np.ndarray:
        assert self.buf is not None
        joined = np.concatenate([self.buf, block], axis=1)
        self.buf = joined[:, block.shape[1]:].copy()
        return joined[:, : block.shape[1]] * np.float32(self.gain)

    def set_param(self, name: str, value: Any) -> None:
        assert name == "gain_db"
        self.gain = 10 ** (value / 20)

    def reset(self) -> None:
        """Nothing to do for this test device."""


class _Ducker:
    """Output = input * (1 - |sidechain|): proves the sidechain signal arrives in time."""

    latency_frames = 0

    def __init__(self, sidechain: str) -> None:
        """Nothing to do for this test device."""

    def prepare(self, sample_rate: int, channels: int, max_block_frames: int) -> None:
        """Nothing to do for this test device."""

    def process(self, block: np.ndarray, sidechain: Any = None) -> np.ndarray:
        if sidechain is None:
            return block
        return block * (1 - np.abs(sidechain))

    def set_param(self, name: str, value: Any) -> None:
        """Nothing to do for this test device."""

    def reset(self) -> None:
        """Nothing to do for this test device."""


@pytest.fixture(scope="module", autouse=True)
def extra_devices() -> Any:
    register_device("test_latent", kind="effect", doc="pure delay (test)", params=[
        Param("frames", 0, "latency in frames", kind="int", min=0, max=100_000,
              automatable=False),
        Param("gain_db", 0.0, "gain in dB", min=-60, max=24)])(_Latent)
    register_device("test_ducker", kind="effect", doc="ducker (test)", sidechain=True, params=[
        Param("sidechain", "", "source", kind="str", automatable=False)])(_Ducker)
    yield
    DEVICES.pop("test_latent")
    DEVICES.pop("test_ducker")


def latent(frames: int) -> Device:
    return Device(type="test_latent", params={"frames": frames})


def test_latent_device_keeps_tracks_aligned(tmp_path: Path) -> None:
    write_wav(tmp_path / "s.wav", sine(440.0, 0.5))
    # The same sine on two tracks, one through a 333-frame device, one inverted: the
    # compensated mix must null, and the result must not be shifted in time.
    p = Project(song=Song(tail_s=0.0), tracks=(
        Track(name="A", devices=(latent(333),), clips=(Clip(file="s.wav"),)),
        Track(name="B", phase_invert=True, clips=(Clip(file="s.wav"),)),
        Track(name="C", output="Bus", clips=(Clip(file="s.wav"),)),
    ), buses=(Bus(name="Bus", devices=(latent(1000),)),))
    mix, stems, _ = render_stems_audio(p, root=tmp_path, tail_s=0.0)
    ref = sine(440.0, 0.5)[0]
    # A - B nulls exactly; C arrives through a 1000-frame bus, aligned too.
    np.testing.assert_array_equal(stems["A"] + stems["B"], np.zeros_like(stems["A"]))
    np.testing.assert_allclose(mix[0], ref, atol=1e-6)
    np.testing.assert_allclose(stems["Bus"][0], ref, atol=1e-6)


def test_master_latency_is_removed_from_the_output(tmp_path: Path) -> None:
    write_wav(tmp_path / "s.wav", sine(440.0, 0.2))
    p = Project(song=Song(tail_s=0.0), tracks=(Track(name="A", clips=(Clip(file="s.wav"),)),),
                master={"devices": (latent(4000),)})  # type: ignore[arg-type]
    mix, _ = render_audio(p, root=tmp_path, block_frames=1024)
    np.testing.assert_array_equal(mix[0], sine(440.0, 0.2)[0])


def test_device_automation_steps_on_the_control_grid(tmp_path: Path) -> None:
    write_wav(tmp_path / "one.wav", np.ones((1, SR), np.float32))
    p = Project(song=Song(tempo=120, tail_s=0.0), tracks=(Track(
        name="A", clips=(Clip(file="one.wav"),),
        devices=(Device(type="test_latent", name="g", params={"frames": 0}),),
        automation=(AutomationLane(param="g.gain_db", points=(
            AutomationPoint(at=0, value=-20.0), AutomationPoint(at=1.0, value=0.0))),)),))
    out_a, _ = render_audio(p, root=tmp_path, block_frames=100)
    out_b, _ = render_audio(p, root=tmp_path, block_frames=9999)
    np.testing.assert_array_equal(out_a, out_b)
    # Piecewise constant over each 256-frame grid cell, at the curve's value at the cell start.
    gains_db = 20 * np.log10(out_a[0, : SR // 2])
    for k in range(0, SR // 2 // CONTROL_FRAMES):
        cell = gains_db[k * CONTROL_FRAMES:(k + 1) * CONTROL_FRAMES]
        assert np.ptp(cell) < 1e-5
        expected = -20.0 + 20.0 * min(k * CONTROL_FRAMES / (0.5 * SR), 1.0)
        assert cell[0] == pytest.approx(expected, abs=1e-4)


def test_sidechain_reads_the_key_in_the_same_block(tmp_path: Path) -> None:
    write_wav(tmp_path / "one.wav", np.full((1, 4800), 0.5, np.float32))
    key = np.zeros((1, 4800), np.float32)
    key[0, 1000:2000] = 0.5
    write_wav(tmp_path / "key.wav", key)
    p = Project(song=Song(tail_s=0.0), tracks=(
        Track(name="Pad", clips=(Clip(file="one.wav"),),
              devices=(Device(type="test_ducker", params={"sidechain": "Kick"}),)),
        Track(name="Kick", mute=True, clips=(Clip(file="key.wav"),)),  # a ghost key
    ))
    mix, _ = render_audio(p, root=tmp_path, block_frames=300)
    assert mix[0, 500] == pytest.approx(0.5)
    assert mix[0, 1500] == pytest.approx(0.25)  # ducked by the muted key
