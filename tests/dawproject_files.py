"""DAWproject zips for the tests (import as ``from dawproject_files import ...``)."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import numpy as np
import soundfile as sf

DATA = Path(__file__).resolve().parent / "data" / "dawproject"
BITWIG_XML = DATA / "bitwig-example.xml"
BITWIG_AUDIO = "audio/Drumfunk3 170bpm.wav"
BITWIG_STATE = "plugins/d19b1f6e-bbb6-42fe-a6c9-54b41d97a05d.clap-preset"
BITWIG_AUDIO_S = 2.823541666666667  # the Audio element's duration


def wav_bytes(audio: np.ndarray, sample_rate: int = 48_000) -> bytes:
    """(channels, frames) float32 as the bytes of a float WAV file."""
    buf = io.BytesIO()
    sf.write(buf, np.asarray(audio, np.float32).T, sample_rate, format="WAV", subtype="FLOAT")
    return buf.getvalue()


def write_zip(path: Path, entries: dict[str, bytes], *,
              symlinks: dict[str, str] | None = None) -> Path:
    """A zip with ``entries`` (name -> bytes) and symlink entries (name -> target)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name)  # as given: ZipFile.write would clean the name
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            z.writestr(info, target)
    return path


def bitwig_entries(rng: np.random.Generator) -> dict[str, bytes]:
    """The real Bitwig project.xml with stand-in audio (noise of the declared length) and a
    stand-in plug-in state."""
    frames = round(BITWIG_AUDIO_S * 48_000)
    noise = rng.uniform(-0.5, 0.5, (2, frames)).astype(np.float32)
    return {"project.xml": BITWIG_XML.read_bytes(), BITWIG_AUDIO: wav_bytes(noise),
            BITWIG_STATE: b"surge xt state (stand-in)"}
