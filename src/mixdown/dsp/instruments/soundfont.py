"""The "soundfont" instrument: a preset of a SoundFont (SF2, SF3), played by TinySoundFont.

The SoundFont's bytes come in through the ``soundfont`` parameter (resolving a project reads
the file that ``file`` names; dsp never opens files). They are checked in Python
(:mod:`mixdown.dsp.instruments.sf2_check`) before the C synthesizer sees them, parsed once per
process and cloned for each track (the clones share the sample data).

Sample-exact and block-size independent: TinySoundFont updates envelopes and LFOs every 64
frames counted from the start of each call, so the synth is only ever run between points
fixed by the song, never by the caller's blocks: from one note event to the next, and from
an event to the next multiple of :data:`GRID` frames (counted from frame 0), after which the
64-frame blocks line up with the grid again. Frames rendered past the end of a request (fewer
than :data:`GRID`) are kept for the next one. Parameter changes from the engine's automation
arrive on its 256-frame control grid, where the synth's position always lies.

Where the machine has two or more CPUs (Linux), a forked child renders the stream ahead
(:mod:`mixdown.dsp.instruments.render_ahead`): the binding keeps the GIL while it
synthesizes, so this is how SoundFont tracks overlap each other and the rest of the render.
The child runs this same code from the first frame asked for; anything it cannot follow (a
rewind, a jump, a parameter change) stops it, and the parent carries on from the same state
in-process, so the bits never depend on where the frames were made.

Bank 128 holds the drum kits (General MIDI channel 10). TinySoundFont has no reverb or
chorus: sends to mixdown's own buses give them (``mixdown import --soundfont`` makes them
from CC91/CC93).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mixdown.core.audio import AudioArray
from mixdown.core.errors import ParameterError
from mixdown.dsp.base import NoteEvent, Param, register_device
from mixdown.dsp.instruments import render_ahead
from mixdown.dsp.instruments.sf2_check import SoundFontInfo, check_soundfont

GRID = 64
"""TinySoundFont's envelope block (TSF_RENDER_EFFECTSAMPLEBLOCK), in frames."""

AHEAD_CHUNK = 128 * GRID
"""Frames per chunk a render-ahead child makes (8192)."""

RENDER_AHEAD = True
"""Use a render-ahead child process where :func:`render_ahead.available` (tests compare)."""

BEND_RANGE = 24.0
"""Semitones of the synth's pitch wheel at full deflection (``bend_semitones`` is scaled)."""

PARAMS: list[Param] = [
    Param("file", "", "The SoundFont (.sf2 or .sf3), a file inside the project folder.",
          kind="str", automatable=False),
    Param("bank", 0, "Bank number: 0-127 melodic banks, 128 the drum kits (General MIDI "
          "channel 10).", kind="int", min=0, max=128, automatable=False),
    Param("preset", 0, "Preset (program) number in the bank, 0-127 (General MIDI program "
          "minus one).", kind="int", min=0, max=127, automatable=False),
    Param("polyphony", 64, "Most voices sounding at once (one note may use several); a new "
          "note takes a releasing voice, or does not sound.", kind="int", min=1, max=256,
          automatable=False),
    Param("gain_db", 0.0, "Output gain in dB.", min=-60.0, max=24.0, automatable=False),
    Param("bend_semitones", 0.0, "Pitch bend in semitones (automate it; MIDI import writes "
          "a file's pitch bends here).", min=-BEND_RANGE, max=BEND_RANGE),
    Param("soundfont", None, "From Python: the SoundFont file's bytes (in song.toml, name "
          "the file with file; resolving the project reads it).", kind="any",
          automatable=False),
]

_LOCK = threading.Lock()
_LOADED: dict[int, tuple[bytes, Any, SoundFontInfo]] = {}
_KEEP = 4  # parsed SoundFonts kept per process


def _synth_module() -> Any:
    try:
        import tinysoundfont._tinysoundfont as tsf
    except ImportError as exc:  # pragma: no cover - make install provides it
        raise ParameterError("the soundfont instrument needs tinysoundfont: run make install "
                             "(pip install --no-deps tinysoundfont==0.3.7)") from exc
    return tsf


def load_soundfont(data: bytes, name: str = "SoundFont") -> tuple[Any, SoundFontInfo]:
    """The parsed SoundFont for ``data`` (checked first; parsed once per bytes object).

    Raises
    ------
    FormatError
        The bytes are not a well-formed SoundFont.
    """
    key = id(data)
    with _LOCK:
        kept = _LOADED.get(key)
        if kept is not None and kept[0] is data:
            return kept[1], kept[2]
    info = check_soundfont(data, name)
    master = _synth_module().SoundFont(data)
    with _LOCK:
        while len(_LOADED) >= _KEEP:
            _LOADED.pop(next(iter(_LOADED)))
        _LOADED[key] = (data, master, info)  # holding data keeps id(data) unique
    return master, info


def describe_presets(info: SoundFontInfo, bank: int) -> str:
    numbers = sorted({p for b, p, _ in info.presets if b == bank})
    if not numbers:
        banks = sorted({b for b, _, _ in info.presets})
        return f"; it has banks {', '.join(map(str, banks))}"
    shown = ", ".join(map(str, numbers[:24])) + (" ..." if len(numbers) > 24 else "")
    return f"; bank {bank} has presets {shown}"


@register_device(
    "soundfont", kind="instrument", params=PARAMS,
    doc="Plays a preset of a SoundFont (SF2, SF3) file: General MIDI sounds, drum kits "
        "in bank 128.",
)
class SoundFontSynth:
    """A SoundFont preset as an instrument (device type ``"soundfont"``).

    Parameters
    ----------
    **params
        The parameters in :data:`PARAMS`; ``soundfont`` (the file's bytes) is required.
    """

    latency_frames = 0
    _ahead_proc: render_ahead.RenderAhead | None = None

    def __init__(self, *, file: str = "", bank: int = 0, preset: int = 0, polyphony: int = 64,
                 gain_db: float = 0.0, bend_semitones: float = 0.0,
                 soundfont: Any = None) -> None:
        name = file or "SoundFont"
        if soundfont is None:
            raise ParameterError("soundfont: no SoundFont given; in song.toml name it with "
                                 'file = "sounds/x.sf2", from Python pass its bytes as '
                                 "soundfont")
        if not isinstance(soundfont, bytes):
            raise ParameterError(f"soundfont: must be the file's bytes, got "
                                 f"{type(soundfont).__name__}")
        self._master, self.info = load_soundfont(soundfont, name)
        self._index = int(self._master.get_preset_index(bank, preset))
        if self._index < 0 or not self.info.has_preset(bank, preset):
            raise ParameterError(f"{name}: has no preset {preset} in bank {bank}"
                                 f"{describe_presets(self.info, bank)}")
        self.bank, self.preset = bank, preset
        self._polyphony = polyphony
        self._gain_db = gain_db
        self._bend = bend_semitones
        self.sample_rate = 48_000
        self._channels = 2
        self._frames = np.zeros(0, np.int64)
        self._keys = np.zeros(0, np.int64)
        self._vels = np.zeros(0, np.float64)
        self._ons = np.zeros(0, bool)
        self._synth: Any = None
        self._work = np.zeros((0, 2), np.float32)
        self.reset()

    # -- the protocol ----------------------------------------------------------------------

    def prepare(self, sample_rate: int, channels: int, max_block_frames: int) -> None:
        """Set the rate and channel count (1 or 2) of the stream."""
        self.sample_rate = int(sample_rate)
        self._channels = channels
        self._work = np.zeros((max(max_block_frames, 1) + 2 * GRID, 2), np.float32)
        self.reset()

    def set_notes(self, notes: Sequence[NoteEvent]) -> None:
        """The whole note list: each note becomes a note-on and a note-off event (at one
        frame, note-offs come first, so that a repeated key sounds again)."""
        n = len(notes)
        frames = np.empty(2 * n, np.int64)
        keys = np.empty(2 * n, np.int64)
        vels = np.zeros(2 * n, np.float64)
        ons = np.zeros(2 * n, bool)
        for i, ev in enumerate(notes):
            key = min(127, max(0, round(ev.pitch)))
            frames[2 * i], keys[2 * i], ons[2 * i] = ev.start_frame, key, True
            vels[2 * i] = min(127, max(1, ev.velocity)) / 127.0
            frames[2 * i + 1], keys[2 * i + 1] = max(ev.end_frame, ev.start_frame + 1), key
        order = np.lexsort((keys, ons, frames))  # by frame, offs before ons, then key
        self._frames, self._keys = frames[order], keys[order]
        self._vels, self._ons = vels[order], ons[order]
        self.reset()
        if n and RENDER_AHEAD and render_ahead.available():
            try:
                self._ahead_proc = render_ahead.RenderAhead(self._interleaved, 2, AHEAD_CHUNK)
            except OSError:  # no process or pipe to be had: render in-process
                self._ahead_proc = None

    def render(self, start_frame: int, frames: int) -> AudioArray:
        """Frames ``[start_frame, start_frame + frames)``, float32 (channels, frames)."""
        proc = self._ahead_proc
        out = None
        if proc is not None:
            if not proc.started:
                proc.start(start_frame)
            if start_frame == proc.position:
                out = proc.read(frames)
            if out is None:  # a jump, or the child stopped: carry on in-process
                self._stop_ahead()
        if out is None:
            out = np.ascontiguousarray(self._interleaved(start_frame, frames).T)
        if self._channels == 1:
            return (out.mean(axis=0, keepdims=True)).astype(np.float32)
        return out

    def close(self) -> None:
        """Stop a render-ahead child (the engine calls this when the render ends)."""
        proc, self._ahead_proc = self._ahead_proc, None
        if proc is not None:
            proc.close()

    def __del__(self) -> None:
        self.close()

    def set_param(self, name: str, value: Any) -> None:
        """Change ``bend_semitones`` between blocks (the only automatable parameter)."""
        if name != "bend_semitones":
            raise ParameterError(f"soundfont: {name!r} cannot change during a render")
        self._stop_ahead()
        self._bend = float(value)
        self._apply_bend()

    def reset(self) -> None:
        """Silence every voice and go back to frame 0."""
        self.close()
        tsf = _synth_module()
        synth = tsf.SoundFont(self._master)
        synth.set_output(tsf.OutputMode.StereoInterleaved, self.sample_rate,
                         float(self._gain_db))
        synth.set_max_voices(self._polyphony)
        synth.channel_set_preset_index(0, self._index)
        synth.channel_set_pitch_range(0, BEND_RANGE)
        self._synth = synth
        self._apply_bend()
        self._pos = 0  # frames the synth has made
        self._read = 0  # frames handed out
        self._next = 0  # next event
        self._ahead = np.zeros((0, 2), np.float32)

    # -- internals -------------------------------------------------------------------------

    def _stop_ahead(self) -> None:
        """Stop the render-ahead child; the in-process synth takes over where it was (run
        up to the frames handed out so far with the parameters they were made with)."""
        proc = self._ahead_proc
        if proc is None:
            return
        self.close()
        if proc.started and proc.position > 0:
            self._skip(proc.position)

    def _interleaved(self, start_frame: int, frames: int) -> NDArray[np.float32]:
        """Frames ``[start_frame, start_frame + frames)`` as (frames, 2), a view of a buffer
        the next call reuses."""
        if start_frame < self._read:
            self.reset()
        if start_frame > self._read:
            self._skip(start_frame)
        goal = -(-(start_frame + frames) // GRID) * GRID
        need = goal - start_frame
        if self._work.shape[0] < need:
            self._work = np.zeros((need, 2), np.float32)
        work = self._work
        have = self._ahead.shape[0]
        work[:have] = self._ahead
        self._run(goal, work, have)
        self._ahead = work[frames:need].copy()
        self._read = start_frame + frames
        return work[:frames]

    def _apply_bend(self) -> None:
        wheel = 8192 + round(self._bend / BEND_RANGE * 8192)
        self._synth.channel_set_pitch_wheel(0, min(16383, max(0, wheel)))

    def _fire(self) -> None:
        """Play the events at the synth's position."""
        synth, frames, i, pos = self._synth, self._frames, self._next, self._pos
        while i < len(frames) and frames[i] <= pos:
            if self._ons[i]:
                synth.channel_note_on(0, int(self._keys[i]), float(self._vels[i]))
            else:
                synth.channel_note_off(0, int(self._keys[i]))
            i += 1
        self._next = i

    def _run(self, goal: int, out: NDArray[np.float32], offset: int) -> None:
        """Run the synth from its position to ``goal`` (a multiple of GRID), writing into
        ``out`` from row ``offset``; stops only at events and grid points."""
        frames = self._frames
        while self._pos < goal:
            self._fire()
            pos = self._pos
            nxt = int(frames[self._next]) if self._next < len(frames) else goal
            # Off the grid (just after an event), run to the next grid point first: from
            # there the synth's 64-frame blocks line up with the grid again.
            stop = min(-(-pos // GRID) * GRID if pos % GRID else goal, nxt)
            self._synth.render(out[offset:offset + stop - pos], False)
            offset += stop - pos
            self._pos = stop

    def _skip(self, frame: int) -> None:
        """Run silently up to ``frame`` (a render that starts inside the song)."""
        chunk = np.zeros((1 << 15, 2), np.float32)
        drop = min(self._ahead.shape[0], frame - self._read)
        self._ahead = self._ahead[drop:]
        self._read += drop
        while self._read < frame:
            # Make whole grid cells up to the cell holding ``frame``, then keep the tail.
            goal = min(-(-frame // GRID) * GRID, self._pos + chunk.shape[0])
            start = self._pos
            self._run(goal, chunk, 0)
            made = goal - start
            if goal >= frame:
                self._ahead = chunk[frame - start:made].copy()
                self._read = frame
            else:
                self._read = goal


__all__ = ["BEND_RANGE", "GRID", "PARAMS", "SoundFontSynth", "describe_presets", "load_soundfont"]
