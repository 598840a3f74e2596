"""Plumbing shared by the built-in instruments: parameters, presets, notes and voices.

Not public API. :class:`ParamTable` checks an instrument's keyword arguments against
its :class:`~mixdown.dsp.base.Param` declarations and fills the ones left at
``None`` from a preset. :class:`VoiceInstrument` turns the note list into note-on and
note-off events, allocates voices (stealing the oldest past the polyphony cap),
splits each block at the events and calls the subclass's compiled kernel on the
pieces. Because the kernels carry their state exactly and events fall on absolute
frames, the output is the same for any split of the render into blocks.

:func:`render_notes` renders any instrument offline (for tests and benchmarks).
"""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from mixdown.core.audio import AudioArray
from mixdown.core.errors import ParameterError
from mixdown.core.names import closest
from mixdown.dsp.base import Instrument, NoteEvent, Param
from mixdown.dsp.instruments._kernels import ATTACK, DONE, release_envelopes

KILL_S = 0.003
"""Fade-out time of a stolen voice, in seconds (avoids a click)."""


class ParamTable:
    """An instrument's parameter declarations, with optional presets.

    Parameters
    ----------
    device_type : str
        The registered type name (used in error messages).
    params : sequence of Param
        The declarations. A default of ``None`` means "taken from the preset".
    presets : mapping of str to mapping, optional
        Preset name -> values for every parameter whose default is ``None``.
    preset_param : str, optional
        The choice parameter that names the preset (``"preset"``, ``"kit"``).
    """

    def __init__(self, device_type: str, params: Sequence[Param],
                 presets: Mapping[str, Mapping[str, Any]] | None = None,
                 preset_param: str | None = None) -> None:
        self.device_type = device_type
        self.params = tuple(params)
        self.by_name = {p.name: p for p in self.params}
        self.presets = presets or {}
        self.preset_param = preset_param
        sentinel = {p.name for p in self.params if p.default is None}
        for name, values in self.presets.items():
            missing = sentinel - set(values)
            if missing or set(values) - sentinel:
                raise ParameterError(
                    f"{device_type} preset {name!r} must set exactly the preset parameters; "
                    f"missing {sorted(missing)}, extra {sorted(set(values) - sentinel)}"
                )

    def spec(self, name: str) -> Param:
        """The declaration of ``name``, or a ParameterError suggesting the closest."""
        p = self.by_name.get(name)
        if p is None:
            hint = (closest(name, self.by_name, cutoff=0.5, list_known=False)
                    or f"; see the {self.device_type!r} parameter list")
            raise ParameterError(f"{self.device_type} has no parameter {name!r}{hint}")
        return p

    def resolve(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """Check ``given`` (partial) and return every parameter's value, presets applied."""
        for name in given:
            self.spec(name)
        where = f"{self.device_type}."
        out: dict[str, Any] = {}
        for p in self.params:
            value = given.get(p.name, p.default)
            if value is not None:
                value = p.check(value, where)
            out[p.name] = value
        if self.preset_param is not None:
            preset = self.presets[out[self.preset_param]]
            for name, value in preset.items():
                if out[name] is None:
                    out[name] = self.by_name[name].check(value, where)
        return out

    def check_change(self, name: str, value: Any) -> Any:
        """Check a ``set_param`` call: the value, and that the parameter may change."""
        p = self.spec(name)
        if value is None:
            raise ParameterError(f"{self.device_type}.{name}: a value is required, got None")
        value = p.check(value, f"{self.device_type}.")
        if not p.automatable:
            raise ParameterError(
                f"{self.device_type}.{name} cannot change during a render; set it when the "
                "instrument is created"
            )
        return value


def note_seed(pitch: float, start_frame: int, salt: int = 0) -> int:
    """A 64-bit seed from a note, for repeatable noise and phases (splitmix64)."""
    x = (int(start_frame) * 0x9E3779B97F4A7C15 + round(pitch * 1000) * 0xBF58476D1CE4E5B9
         + salt * 0x94D049BB133111EB + 0x2545F4914F6CDD1D) & 0xFFFFFFFFFFFFFFFF
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    x ^= x >> 31
    return x or 1


def velocity_gain(velocity: int, sensitivity: float) -> float:
    """Level factor for a MIDI velocity: ``(velocity / 127) ** (2 * sensitivity)``.

    Sensitivity 1 gives -12 dB at velocity 64 (a square law); 0 ignores velocity.
    """
    return float((min(max(velocity, 1), 127) / 127.0) ** (2.0 * sensitivity))


class VoiceInstrument(ABC):
    """Base class of the polyphonic instruments: events, voice allocation, blocks.

    Subclasses set :attr:`table` and :attr:`env_count`, and implement
    ``_allocate_voices``, ``_start_voice``, ``_kernel`` and ``_params_changed``.
    The voice state lives in numpy arrays that the compiled kernel updates in
    place: ``_active`` (0 free, 1 sounding), ``_kill`` (frames left of a steal
    fade-out, 0 when not stolen) and the envelope arrays.
    """

    table: ClassVar[ParamTable]
    env_count: ClassVar[int] = 1
    latency_frames: int = 0

    def __init__(self, **params: Any) -> None:
        self._p = self.table.resolve(params)
        self.sample_rate = 0
        self.channels = 2
        self._block = 0
        self._prepared = False
        self.set_notes(())

    # -- parameters -------------------------------------------------------------------------

    @property
    def params(self) -> dict[str, Any]:
        """The current parameter values, presets resolved (a copy)."""
        return dict(self._p)

    @property
    def active_voices(self) -> int:
        """How many voices are sounding (held, releasing or fading out after a steal)."""
        return int(np.count_nonzero(self._active)) if self._prepared else 0

    def set_param(self, name: str, value: Any) -> None:
        """Change a parameter between blocks; raises ParameterError if it cannot change."""
        self._p[name] = self.table.check_change(name, value)
        if self._prepared:
            self._params_changed()

    # -- stream -----------------------------------------------------------------------------

    def _polyphony(self) -> int:
        return int(self._p["polyphony"])

    def _capacity(self) -> int:
        return 2 * self._polyphony() + 4

    def prepare(self, sample_rate: int, channels: int, max_block_frames: int) -> None:
        """Allocate voices and buffers for a stream.

        Parameters
        ----------
        sample_rate : int
            In Hz.
        channels : int >= 1
            Output channels: 1 gets the mono sum, 2 gets left/right, more get
            left/right in the first two and silence in the others.
        max_block_frames : int >= 1
            The largest ``frames`` that :meth:`render` will be asked for (larger
            requests still work, with a reallocation).
        """
        if not (isinstance(sample_rate, int) and 1_000 <= sample_rate <= 768_000):
            raise ParameterError(f"sample_rate must be an int in 1000..768000 Hz, "
                                 f"got {sample_rate!r}")
        if not (isinstance(channels, int) and channels >= 1):
            raise ParameterError(f"channels must be an int >= 1, got {channels!r}")
        if not (isinstance(max_block_frames, int) and max_block_frames >= 1):
            raise ParameterError(f"max_block_frames must be an int >= 1, "
                                 f"got {max_block_frames!r}")
        self.sample_rate = sample_rate
        self.channels = channels
        self._alloc_block(max_block_frames)
        cap = self._capacity()
        self._active = np.zeros(cap, np.int8)
        self._kill = np.zeros(cap, np.int32)
        self._kill_frames = max(1, round(KILL_S * sample_rate))
        self._env_stage = np.full((cap, self.env_count), DONE, np.int8)
        self._env_level = np.zeros((cap, self.env_count))
        self._env_level0 = np.zeros((cap, self.env_count))
        self._v_note = np.full(cap, -1, np.int64)
        self._v_order = np.zeros(cap, np.int64)
        self._v_released = np.zeros(cap, bool)
        self._allocate_voices(cap)
        self._prepared = True
        self._params_changed()
        self.reset()

    def _alloc_block(self, frames: int) -> None:
        self._block = frames
        self._mix = np.zeros((2, frames))
        self._out = np.zeros((self.channels, frames), np.float32)

    def set_notes(self, notes: Sequence[NoteEvent]) -> None:
        """Give the whole note list (absolute frames); rendering restarts from frame 0.

        A note shorter than one frame is held for one frame.
        """
        n = len(notes)
        starts = np.fromiter((nt.start_frame for nt in notes), np.int64, n)
        ends = np.fromiter((nt.end_frame for nt in notes), np.int64, n)
        order = np.argsort(starts, kind="stable")
        self._n_start = starts[order]
        self._n_end = np.maximum(ends[order], self._n_start + 1)
        self._n_pitch = np.fromiter((float(nt.pitch) for nt in notes), np.float64, n)[order]
        self._n_vel = np.fromiter((int(nt.velocity) for nt in notes), np.int64, n)[order]
        frames = np.concatenate([self._n_start, self._n_end])
        kinds = np.concatenate([np.ones(n, np.int8), np.zeros(n, np.int8)])  # off before on
        index = np.concatenate([np.arange(n), np.arange(n)])
        ev = np.lexsort((index, kinds, frames))
        self._ev_frame = frames[ev]
        self._ev_kind = kinds[ev]
        self._ev_note = index[ev]
        self._notes_changed()
        if self._prepared:
            self.reset()

    def reset(self) -> None:
        """Silence every voice and rewind to frame 0 of the note list."""
        self._cursor = 0
        self._next_frame = 0
        self._order_counter = 0
        if self._prepared:
            self._active[:] = 0
            self._kill[:] = 0
            self._env_stage[:] = DONE
            self._env_level[:] = 0.0
            self._v_note[:] = -1
            self._v_released[:] = False
            self._reset_voices()

    def render(self, start_frame: int, frames: int) -> AudioArray:
        """Render frames ``[start_frame, start_frame + frames)``.

        Returns
        -------
        ndarray [shape=(channels, frames), float32]
            A view of an internal buffer, valid until the next call.
        """
        if not self._prepared:
            raise ParameterError(f"{self.table.device_type}: call prepare() before render()")
        if frames < 0 or start_frame < 0:
            raise ParameterError(f"render range must be >= 0, got start_frame={start_frame}, "
                                 f"frames={frames}")
        if frames > self._block:
            self._alloc_block(frames)
        if start_frame != self._next_frame:
            self._seek(start_frame)
        mix = self._mix[:, :frames]
        mix.fill(0.0)
        self._render_range(start_frame, frames, mix)
        self._next_frame = start_frame + frames
        out = self._out[:, :frames]
        if self.channels == 1:
            np.add(mix[0], mix[1], out=out[0], casting="unsafe")
            out[0] *= np.float32(0.5)
        else:
            out[:2] = mix
            out[2:] = 0.0
        return out

    def _seek(self, target: int) -> None:
        """Jump to ``target`` by rendering the gap silently (exact, skips idle time)."""
        if target < self._next_frame:
            self.reset()
        mix = self._mix
        while self._next_frame < target:
            pos = self._next_frame
            if not self._active.any():
                nxt = self._ev_frame[self._cursor] if self._cursor < self._ev_frame.size \
                    else target
                if nxt > pos:
                    self._next_frame = min(target, int(nxt))
                    continue
            n = min(self._block, target - pos)
            mix.fill(0.0)
            self._render_range(pos, n, mix[:, :n])
            self._next_frame = pos + n

    def _render_range(self, start: int, frames: int, mix: NDArray[np.float64]) -> None:
        pos = start
        end = start + frames
        ev = self._ev_frame
        n_ev = ev.size
        c = self._cursor
        while pos < end:
            while c < n_ev and ev[c] <= pos:
                if self._ev_kind[c]:
                    self._note_on(int(self._ev_note[c]), pos)
                else:
                    self._note_off(int(self._ev_note[c]), pos)
                c += 1
            nxt = int(ev[c]) if c < n_ev and ev[c] < end else end
            if self._active.any():
                self._kernel(mix, pos - start, nxt - pos, pos)
            pos = nxt
        self._cursor = c

    # -- voices -----------------------------------------------------------------------------

    def _take_slot(self) -> int:
        """A free voice slot, stealing the oldest voice past the polyphony cap."""
        sounding = np.flatnonzero((self._active != 0) & (self._kill == 0))
        if sounding.size >= self._polyphony():
            released = sounding[self._v_released[sounding]]
            pool = released if released.size else sounding
            victim = int(pool[np.argmin(self._v_order[pool])])
            self._kill[victim] = self._kill_frames
        free = np.flatnonzero(self._active == 0)
        if free.size:
            slot = int(free[0])
        else:  # every slot is fading out: cut the one closest to silence
            slot = int(np.argmin(np.where(self._kill > 0, self._kill, np.iinfo(np.int32).max)))
        self._active[slot] = 1
        self._kill[slot] = 0
        self._v_released[slot] = False
        self._v_order[slot] = self._order_counter
        self._order_counter += 1
        return slot

    def _note_on(self, i: int, frame: int) -> None:
        for request in self._voice_requests(i):
            slot = self._take_slot()
            self._v_note[slot] = i
            self._env_stage[slot] = ATTACK
            self._env_level[slot] = 0.0
            self._env_level0[slot] = 0.0
            self._start_voice(slot, i, frame, request)

    def _note_off(self, i: int, frame: int) -> None:
        for slot in np.flatnonzero((self._v_note == i) & (self._active != 0)):
            self._release_slot(int(slot))

    def _release_slot(self, slot: int) -> None:
        self._v_released[slot] = True
        release_envelopes(self._env_stage, self._env_level, self._env_level0, slot)

    # -- hooks ------------------------------------------------------------------------------

    def _voice_requests(self, i: int) -> Sequence[Any]:
        """What voices note ``i`` needs (one per entry); the default is one voice."""
        return (None,)

    def _notes_changed(self) -> None:  # noqa: B027 - an optional hook
        """Called after :meth:`set_notes` (before any reset)."""

    @abstractmethod
    def _allocate_voices(self, capacity: int) -> None:
        """Allocate per-voice state for ``capacity`` voices."""

    def _reset_voices(self) -> None:  # noqa: B027 - an optional hook
        """Clear subclass voice state (filters, phases)."""

    @abstractmethod
    def _start_voice(self, slot: int, i: int, frame: int, request: Any) -> None:
        """Start note ``i`` in voice ``slot`` at ``frame``."""

    @abstractmethod
    def _params_changed(self) -> None:
        """Recompute derived values after a parameter change."""

    @abstractmethod
    def _kernel(self, mix: NDArray[np.float64], offset: int, frames: int, frame: int) -> None:
        """Add the active voices into ``mix`` for ``frames`` frames from ``frame``."""


def render_notes(instrument: Instrument, notes: Sequence[NoteEvent], frames: int, *,
                 sample_rate: int = 48_000, channels: int = 2, block_frames: int = 8192,
                 splits: Sequence[int] | None = None) -> AudioArray:
    """Render ``notes`` offline, block by block, the way the engine streams.

    Parameters
    ----------
    instrument : Instrument
        Not yet prepared (it is prepared here).
    notes : sequence of NoteEvent
        In absolute frames.
    frames : int
        Length of the render.
    sample_rate, channels : int
        Stream format.
    block_frames : int
        Block size, unless ``splits`` is given.
    splits : sequence of int, optional
        Frames at which to cut the render into blocks instead (any order, any count).

    Returns
    -------
    ndarray [shape=(channels, frames), float32]
    """
    if splits is None:
        cuts = [*range(0, frames, block_frames), frames]
    else:
        cuts = sorted({0, frames, *(s for s in splits if 0 < s < frames)})
    longest = max((b - a for a, b in itertools.pairwise(cuts)), default=1)
    instrument.prepare(sample_rate, channels, max(1, longest))
    instrument.set_notes(notes)
    out = np.zeros((channels, frames), np.float32)
    for a, b in itertools.pairwise(cuts):
        out[:, a:b] = instrument.render(a, b - a)
    return out
