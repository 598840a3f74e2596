"""The asset catalog: every file a project uses, checked and decoded once.

The catalog owns what the rest of mixdown needs from a project's files: their
headers, decoding with one format and NaN check per file, the notes of MIDI clips,
the audio of sampler zones, and the cache of clips resampled to the render's rate
(``<root>/.mixdown/cache``). Results are kept per file (path, size and modification
time), for the whole process: a ``check`` and the ``render`` after it decode each file
once. A dry-run catalog (for ``check``) writes nothing.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from mixdown.core.audio import AudioArray
from mixdown.core.errors import FormatError
from mixdown.dsp.instruments.sf2_check import SoundFontInfo, check_soundfont
from mixdown.io.assets import resolve_asset
from mixdown.io.audio import AudioInfo, AudioWriter, audio_info, iter_blocks
from mixdown.io.clip_edit import ClipEdit, apply_edit, edit_key
from mixdown.io.wav_stream import open_pcm_wav
from mixdown.model.project import Note

KEEP_SAMPLES = 4 * 1024 * 1024
"""Files up to this many samples (16 MB as float32) are kept decoded after their check."""

KEEP_BYTES = 512 * 1024 * 1024
"""At most this much decoded audio is kept for the whole process (oldest dropped first)."""

SOUNDFONT_MAX_BYTES = 2 * 1024**3
"""The largest SoundFont read (the synthesizer keeps the whole file in memory)."""

CACHE_FOLDER = Path(".mixdown") / "cache"
"""Where resampled clips are kept, inside the project folder."""

_Key = tuple[str, int, int]


def _key(path: Path) -> _Key:
    st = path.stat()
    return (str(path.resolve()), st.st_size, st.st_mtime_ns)


class _Memo:
    """Process-wide results per file version; decoded audio bounded by :data:`KEEP_BYTES`."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.checked: dict[_Key, AudioInfo] = {}
        self.audio: OrderedDict[_Key, AudioArray] = OrderedDict()
        self.audio_bytes = 0
        self.midi: dict[_Key, tuple[Note, ...]] = {}
        self.soundfonts: dict[_Key, tuple[bytes, SoundFontInfo]] = {}
        self.decodes = 0  # how many full decodes ran (for tests)

    def keep(self, key: _Key, audio: AudioArray) -> None:
        with self.lock:
            if key in self.audio or audio.nbytes > KEEP_BYTES:
                return
            self.audio[key] = audio
            self.audio_bytes += audio.nbytes
            while self.audio_bytes > KEEP_BYTES:
                _, old = self.audio.popitem(last=False)
                self.audio_bytes -= old.nbytes


_MEMO = _Memo()


@dataclass(frozen=True, slots=True)
class AudioReader:
    """Reads one checked audio file for the engine (float32, channels first)."""

    path: Path
    info: AudioInfo

    def read_all(self) -> AudioArray:
        """The whole file, (channels, frames) float32; decoded once per process if small."""
        return _decoded(self.path, self.info)

    def open(self) -> Any:
        """A stream with ``seek(frame)`` and ``read(frames, dtype=, always_2d=)`` (frames
        first), for files too long to keep; close it when done. Plain 16/24-bit PCM WAV
        files get the compiled :class:`~mixdown.io.wav_stream.PcmWavStream`; the rest
        libsndfile's ``SoundFile``."""
        if self.info.format == "WAV":
            stream = open_pcm_wav(self.path)
            if stream is not None:
                return stream
        try:
            return sf.SoundFile(str(self.path))
        except Exception as exc:
            raise FormatError(f"{self.path}: cannot open ({exc})", self.path) from exc


def _decode(path: Path, info: AudioInfo) -> AudioArray:
    _MEMO.decodes += 1
    if info.format == "AAC":
        blocks = list(iter_blocks(path, check_finite=False))
        return (np.concatenate(blocks, axis=1) if blocks
                else np.zeros((info.channels, 0), np.float32))
    try:
        data = sf.read(str(path), dtype="float32", always_2d=True)[0]
    except Exception as exc:
        raise FormatError(f"{path}: cannot decode audio ({exc})", path) from exc
    return np.ascontiguousarray(data.T)


def _decoded(path: Path, info: AudioInfo) -> AudioArray:
    key = _key(path)
    kept = _MEMO.audio.get(key)
    if kept is not None:
        return kept
    audio = _decode(path, info)
    if not np.isfinite(audio).all():
        raise FormatError(f"{path}: holds NaN or infinite samples", path)
    audio.flags.writeable = False
    if audio.size <= KEEP_SAMPLES:
        _MEMO.keep(key, audio)
    return audio


class AssetCatalog:
    """The files of the project in ``root``.

    Parameters
    ----------
    root : Path
        The project folder; every asset path is relative to it and must stay inside.
    dry_run : bool
        Write nothing: :meth:`at_rate` returns the original file instead of a resampled copy.
    """

    def __init__(self, root: str | Path, *, dry_run: bool = False) -> None:
        self.root = Path(root)
        self.dry_run = dry_run

    def path(self, relative: str, where: str) -> Path:
        """The file ``relative`` names (inside the project folder, existing)."""
        return resolve_asset(self.root, relative, where)

    def audio(self, path: Path) -> AudioInfo:
        """The header of an audio file, after one full decode checking every sample.

        Raises
        ------
        FormatError
            Unreadable, undecodable, empty, or holding NaN or infinite samples.
        """
        key = _key(path)
        info = _MEMO.checked.get(key)
        if info is not None:
            return info
        info = audio_info(path)
        # Integers in an uncompressed file need no scan: every frame reads, none is NaN.
        if not _plain_pcm(info):
            if info.frames * info.channels <= KEEP_SAMPLES:
                _decoded(path, info)
            else:
                _MEMO.decodes += 1
                for _ in iter_blocks(path, 1 << 16):  # streams and checks every sample
                    continue
        if info.frames == 0:
            raise FormatError(f"{path}: the file holds no audio (0 frames)", path)
        _MEMO.checked[key] = info
        return info

    def reader(self, path: Path) -> AudioReader:
        """A reader of a checked audio file, for the engine."""
        return AudioReader(path, self.audio(path))

    def decoded(self, path: Path) -> tuple[AudioArray, int]:
        """A whole audio file (read-only float32, (channels, frames)) and its rate in Hz."""
        info = self.audio(path)
        return _decoded(path, info), info.sample_rate

    def midi_notes(self, path: Path) -> tuple[Note, ...]:
        """The notes of a MIDI file (beats from the file start)."""
        from mixdown.io.midi import read_midi_notes

        key = _key(path)
        notes = _MEMO.midi.get(key)
        if notes is None:
            notes = read_midi_notes(path)
            _MEMO.midi[key] = notes
        return notes

    def soundfont(self, path: Path) -> tuple[bytes, SoundFontInfo]:
        """A SoundFont's bytes, checked (RIFF ``sfbk`` structure, sizes, indices) before any C
        code parses them; read and checked once per file version per process.

        Raises
        ------
        FormatError
            Not a SoundFont, truncated, inconsistent or larger than SOUNDFONT_MAX_BYTES.
        """
        key = _key(path)
        kept = _MEMO.soundfonts.get(key)
        if kept is not None:
            return kept
        if key[1] > SOUNDFONT_MAX_BYTES:
            raise FormatError(f"{path}: {key[1] / 1024**3:.1f} GiB is larger than the "
                              f"{SOUNDFONT_MAX_BYTES // 1024**3} GiB a SoundFont may have", path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise FormatError(f"{path}: cannot read ({exc.strerror})", path) from exc
        try:
            info = check_soundfont(data, str(path))
        except FormatError as exc:
            raise FormatError(str(exc), path) from None
        with _MEMO.lock:
            if len(_MEMO.soundfonts) >= 8:
                _MEMO.soundfonts.pop(next(iter(_MEMO.soundfonts)))
            _MEMO.soundfonts[key] = (data, info)
        return data, info

    def at_rate(self, path: Path, rate: int) -> Path:
        """``path`` at ``rate`` Hz: the file itself, or a cached resampled copy (soxr, HQ,
        streamed, written atomically). A dry-run catalog returns ``path``."""
        info = self.audio(path)
        if info.sample_rate == rate or self.dry_run:
            return path
        import soxr

        key = hashlib.sha1(f"{path.resolve()}|{info.path.stat().st_size}|"
                           f"{info.path.stat().st_mtime_ns}|{rate}".encode())
        cache = self.root / CACHE_FOLDER
        out = cache / f"{path.stem}-{key.hexdigest()[:12]}-{rate}.wav"
        if out.exists():
            return out
        cache.mkdir(parents=True, exist_ok=True)
        rs = soxr.ResampleStream(info.sample_rate, rate, info.channels, dtype="float32",
                                 quality="HQ")
        with AudioWriter(out, rate, info.channels, fmt="wav", bit_depth=32) as w:  # atomic
            for block in iter_blocks(path):
                y = rs.resample_chunk(np.ascontiguousarray(block.T))
                if y.shape[0]:
                    w.write(np.ascontiguousarray(y.T))
            y = rs.resample_chunk(np.zeros((0, info.channels), np.float32), last=True)
            if y.shape[0]:
                w.write(np.ascontiguousarray(y.T))
        return out


    def edited(self, path: Path, edit: ClipEdit) -> Path:
        """``path`` (at the render rate) with ``edit`` applied: a cached processed copy,
        made once per (file content, rate, edit) and written atomically. A dry-run catalog,
        or an edit that changes nothing, returns ``path``."""
        if self.dry_run or edit.identity:
            return path
        info = self.audio(path)
        cache = self.root / CACHE_FOLDER
        out = cache / f"{path.stem}-edit-{edit_key(path, info.sample_rate, edit)}.wav"
        if out.exists():
            return out
        cache.mkdir(parents=True, exist_ok=True)
        audio, rate = self.decoded(path)
        processed = apply_edit(audio, rate, edit)
        with AudioWriter(out, rate, info.channels, fmt="wav", bit_depth=32) as w:  # atomic
            w.write(processed)
        return out


_PLAIN_CONTAINERS = frozenset({"WAV", "WAVEX", "AIFF", "W64", "RF64"})


def _plain_pcm(info: AudioInfo) -> bool:
    """Uncompressed integer PCM: decoding cannot fail and no sample can be NaN or infinite,
    so the full scan is skipped (a session's stems are checked in no time)."""
    return info.format in _PLAIN_CONTAINERS and info.subtype.startswith("PCM_")


def decode_count() -> int:
    """How many full decodes this process ran (tests use it to prove 'once per file')."""
    return _MEMO.decodes
