"""Audio to MIDI: basic-pitch's ICASSP 2022 model run on the ONNX runtime.

The model ships inside the basic-pitch wheel (``nmp.onnx``): nothing is downloaded. The
audio is read here (any format mixdown reads), mixed to mono and resampled to the model's
22 050 Hz with soxr; basic-pitch's own windowing and note creation turn the model's
output into notes. basic-pitch prints to stdout and logs warnings about back-ends that are
not installed: both are captured, so a ``--json`` output stays clean.
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soxr

from mixdown.core.audio import AudioArray
from mixdown.core.errors import FormatError, MixdownError, ParameterError
from mixdown.io.audio import read_audio
from mixdown.io.smf_write import meta_tempo, note_events, smf_bytes, track_chunk

MODEL_RATE = 22_050
"""The sample rate basic-pitch's model listens at, in Hz."""

TICKS_PER_BEAT = 480


@dataclass(frozen=True, slots=True)
class TranscribedNote:
    """A note found in audio: seconds from the start, MIDI pitch, velocity 1..127."""

    start_s: float
    end_s: float
    pitch: int
    velocity: int


@dataclass(frozen=True, slots=True)
class TranscribeSettings:
    """basic-pitch's thresholds.

    Parameters
    ----------
    onset_threshold : float
        0..1: how sure the model must be that a note starts (higher: fewer notes).
    frame_threshold : float
        0..1: how sure it must be that a note sounds (higher: shorter notes).
    min_note_ms : float
        Shorter notes are dropped, in ms.
    min_hz, max_hz : float, optional
        Notes outside this range (Hz) are dropped.
    """

    onset_threshold: float = 0.5
    frame_threshold: float = 0.3
    min_note_ms: float = 127.7
    min_hz: float | None = None
    max_hz: float | None = None

    def check(self) -> None:
        """Raise ParameterError for a value out of range."""
        for name in ("onset_threshold", "frame_threshold"):
            v = getattr(self, name)
            if not 0.0 < v < 1.0:
                raise ParameterError(f"{name.replace('_', '-')} must be between 0 and 1, "
                                     f"got {v:g}")
        if not 0.0 <= self.min_note_ms <= 10_000:
            raise ParameterError(f"min-note-ms must be 0..10000, got {self.min_note_ms:g}")
        for name in ("min_hz", "max_hz"):
            v = getattr(self, name)
            if v is not None and not 20.0 <= v <= 12_000.0:
                raise ParameterError(f"{name.replace('_', '-')} must be 20..12000 Hz, "
                                     f"got {v:g}")
        if self.min_hz is not None and self.max_hz is not None and self.min_hz >= self.max_hz:
            raise ParameterError(f"min-hz ({self.min_hz:g}) must be below max-hz "
                                 f"({self.max_hz:g})")


@contextlib.contextmanager
def _quiet() -> Any:
    """Capture basic-pitch's prints, log lines and warnings."""
    out = io.StringIO()
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        with contextlib.redirect_stdout(out), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield out
    finally:
        logging.disable(previous)


def _basic_pitch() -> tuple[Any, Any, Any]:
    """basic-pitch's inference and note modules and its ONNX model, loaded once."""
    global _LOADED
    if _LOADED is None:
        with _quiet():
            try:
                from basic_pitch import (
                    FilenameSuffix,
                    build_icassp_2022_model_path,
                    inference,
                    note_creation,
                )
            except ImportError as exc:
                raise MixdownError(
                    f"transcribe needs basic-pitch and its dependencies ({exc.name} is "
                    "missing); install mixdown with `make install`") from None
            path = build_icassp_2022_model_path(FilenameSuffix.onnx)
            if not Path(path).is_file():
                raise MixdownError(f"basic-pitch's ONNX model is missing ({path}); "
                                   "reinstall basic-pitch")
            model = inference.Model(path)
        _LOADED = (inference, note_creation, model)
    return _LOADED


_LOADED: tuple[Any, Any, Any] | None = None


def transcribe_audio(audio: AudioArray, sample_rate: int,
                     settings: TranscribeSettings | None = None) -> list[TranscribedNote]:
    """The notes played in ``audio``.

    Parameters
    ----------
    audio : ndarray [shape=(channels, frames), float32]
        Any number of channels (mixed to mono).
    sample_rate : int
        Hz.
    settings : TranscribeSettings, optional
        basic-pitch's thresholds.

    Returns
    -------
    list of TranscribedNote
        In time order (then by pitch).
    """
    settings = settings or TranscribeSettings()
    settings.check()
    inference, note_creation, model = _basic_pitch()
    from basic_pitch.constants import AUDIO_N_SAMPLES, FFT_HOP

    mono = np.asarray(audio, np.float32).mean(axis=0)
    if sample_rate != MODEL_RATE:
        mono = soxr.resample(mono, sample_rate, MODEL_RATE, quality="HQ").astype(np.float32)
    overlap_frames = 30  # as basic-pitch's run_inference
    overlap = overlap_frames * FFT_HOP
    hop = AUDIO_N_SAMPLES - overlap
    padded = np.concatenate([np.zeros(overlap // 2, np.float32), mono])
    output: dict[str, list[np.ndarray]] = {"note": [], "onset": [], "contour": []}
    with _quiet():
        for window, _ in inference.window_audio_file(padded, hop):
            for k, v in model.predict(np.expand_dims(window, axis=0)).items():
                output[k].append(v)
        unwrapped = {k: inference.unwrap_output(np.concatenate(v), mono.shape[0],
                                                overlap_frames) for k, v in output.items()}
        min_len = int(np.round(settings.min_note_ms / 1000 * (MODEL_RATE / FFT_HOP)))
        _, events = note_creation.model_output_to_notes(
            unwrapped, onset_thresh=settings.onset_threshold,
            frame_thresh=settings.frame_threshold, min_note_len=min_len,
            min_freq=settings.min_hz, max_freq=settings.max_hz, multiple_pitch_bends=False,
            melodia_trick=True, midi_tempo=120)
    notes = [TranscribedNote(float(s), float(e), int(p),
                             int(np.clip(round(127 * float(a)), 1, 127)))
             for s, e, p, a, *_ in events]
    notes.sort(key=lambda n: (n.start_s, n.pitch))
    return notes


def read_take(path: str | Path) -> tuple[AudioArray, int]:
    """Read an audio file to transcribe.

    Raises
    ------
    FormatError
        If it is not audio mixdown reads, holds no frames, or is silent.
    """
    audio, sr = read_audio(path)
    if not np.any(audio):
        raise FormatError(f"{path}: the audio is silent; there is nothing to transcribe",
                          Path(path))
    return audio, sr


def notes_to_midi(notes: list[TranscribedNote], *, bpm: float = 120.0) -> bytes:
    """A format-0 Standard MIDI File of ``notes`` on channel 1 at ``bpm``."""
    if not 1.0 <= bpm <= 999.0:
        raise ParameterError(f"tempo must be 1..999 bpm, got {bpm:g}")
    ticks_per_s = TICKS_PER_BEAT * bpm / 60.0
    rows = [(round(n.start_s * ticks_per_s), max(round(n.end_s * ticks_per_s),
                                                  round(n.start_s * ticks_per_s) + 1),
             n.pitch, n.velocity) for n in notes]
    arr = np.array(rows, dtype=np.int64).reshape(-1, 4)
    ticks, msgs = note_events(arr, 0)
    chunk = track_chunk([(0, meta_tempo(round(60_000_000 / bpm)))], ticks, msgs)
    return smf_bytes(0, TICKS_PER_BEAT, [chunk])


__all__ = ["MODEL_RATE", "TranscribeSettings", "TranscribedNote", "notes_to_midi",
           "read_take", "transcribe_audio"]
