"""General MIDI programs and the built-in instruments that stand in for them.

Import picks a built-in instrument for a GM program by its family (the program's
eighth: pianos, chromatic percussion, organs ...); export picks a program for a
built-in instrument by the inverse table. The exact program survives a round trip
because import writes it into the instrument's ``name`` (``"GM program 33: Electric
Bass (finger)"``), which export reads back first. Programs are 0-based, as in the file.
"""

from __future__ import annotations

import re
from typing import Any

from mixdown.dsp.instruments.sf2_check import SoundFontInfo
from mixdown.model.project import Device

DRUM_CHANNEL = 9
"""General MIDI percussion: channel 10, 0-based 9."""

GM_PROGRAMS: tuple[str, ...] = (
    "Acoustic Grand Piano", "Bright Acoustic Piano", "Electric Grand Piano", "Honky-tonk Piano",
    "Electric Piano 1", "Electric Piano 2", "Harpsichord", "Clavinet",
    "Celesta", "Glockenspiel", "Music Box", "Vibraphone", "Marimba", "Xylophone",
    "Tubular Bells", "Dulcimer",
    "Drawbar Organ", "Percussive Organ", "Rock Organ", "Church Organ", "Reed Organ",
    "Accordion", "Harmonica", "Tango Accordion",
    "Acoustic Guitar (nylon)", "Acoustic Guitar (steel)", "Electric Guitar (jazz)",
    "Electric Guitar (clean)", "Electric Guitar (muted)", "Overdriven Guitar",
    "Distortion Guitar", "Guitar Harmonics",
    "Acoustic Bass", "Electric Bass (finger)", "Electric Bass (pick)", "Fretless Bass",
    "Slap Bass 1", "Slap Bass 2", "Synth Bass 1", "Synth Bass 2",
    "Violin", "Viola", "Cello", "Contrabass", "Tremolo Strings", "Pizzicato Strings",
    "Orchestral Harp", "Timpani",
    "String Ensemble 1", "String Ensemble 2", "Synth Strings 1", "Synth Strings 2",
    "Choir Aahs", "Voice Oohs", "Synth Voice", "Orchestra Hit",
    "Trumpet", "Trombone", "Tuba", "Muted Trumpet", "French Horn", "Brass Section",
    "Synth Brass 1", "Synth Brass 2",
    "Soprano Sax", "Alto Sax", "Tenor Sax", "Baritone Sax", "Oboe", "English Horn",
    "Bassoon", "Clarinet",
    "Piccolo", "Flute", "Recorder", "Pan Flute", "Blown Bottle", "Shakuhachi", "Whistle",
    "Ocarina",
    "Lead 1 (square)", "Lead 2 (sawtooth)", "Lead 3 (calliope)", "Lead 4 (chiff)",
    "Lead 5 (charang)", "Lead 6 (voice)", "Lead 7 (fifths)", "Lead 8 (bass + lead)",
    "Pad 1 (new age)", "Pad 2 (warm)", "Pad 3 (polysynth)", "Pad 4 (choir)",
    "Pad 5 (bowed)", "Pad 6 (metallic)", "Pad 7 (halo)", "Pad 8 (sweep)",
    "FX 1 (rain)", "FX 2 (soundtrack)", "FX 3 (crystal)", "FX 4 (atmosphere)",
    "FX 5 (brightness)", "FX 6 (goblins)", "FX 7 (echoes)", "FX 8 (sci-fi)",
    "Sitar", "Banjo", "Shamisen", "Koto", "Kalimba", "Bagpipe", "Fiddle", "Shanai",
    "Tinkle Bell", "Agogo", "Steel Drums", "Woodblock", "Taiko Drum", "Melodic Tom",
    "Synth Drum", "Reverse Cymbal",
    "Guitar Fret Noise", "Breath Noise", "Seashore", "Bird Tweet", "Telephone Ring",
    "Helicopter", "Applause", "Gunshot",
)
"""The 128 General MIDI program names, 0-based."""

FAMILY_INSTRUMENT: tuple[tuple[str, str], ...] = (
    ("synth", "keys"),    # 0-7 piano
    ("fm", "bell"),       # 8-15 chromatic percussion
    ("fm", "organ"),      # 16-23 organ
    ("synth", "pluck"),   # 24-31 guitar
    ("synth", "bass"),    # 32-39 bass
    ("synth", "pad"),     # 40-47 strings
    ("synth", "pad"),     # 48-55 ensemble
    ("fm", "brass"),      # 56-63 brass
    ("synth", "lead"),    # 64-71 reed
    ("synth", "lead"),    # 72-79 pipe
    ("synth", "lead"),    # 80-87 synth lead
    ("synth", "pad"),     # 88-95 synth pad
    ("synth", "pad"),     # 96-103 synth effects
    ("synth", "pluck"),   # 104-111 ethnic
    ("fm", "bell"),       # 112-119 percussive
    ("synth", "init"),    # 120-127 sound effects
)
"""GM program family (program // 8) -> built-in ``(type, preset)``."""

EXCEPTIONS: dict[int, tuple[str, str]] = {4: ("fm", "epiano"), 5: ("fm", "epiano")}
"""Programs that leave their family's instrument for a closer one."""

PROGRAM_OF: dict[tuple[str, str], int] = {
    ("synth", "keys"): 0, ("fm", "epiano"): 4, ("fm", "bell"): 14, ("fm", "organ"): 16,
    ("synth", "pluck"): 24, ("synth", "bass"): 38, ("fm", "bass"): 33, ("synth", "pad"): 89,
    ("fm", "brass"): 61, ("synth", "lead"): 81, ("synth", "init"): 81, ("fm", "init"): 4,
}
"""The inverse: built-in ``(type, preset)`` -> the program export writes (0 otherwise)."""

_PROGRAM_IN_NAME = re.compile(r"\bprogram (\d{1,3})\b")


def instrument_for(program: int | None, channel: int) -> Device:
    """The built-in instrument for a GM ``program`` (None: never set) on ``channel`` (0-based)."""
    if channel == DRUM_CHANNEL:
        name = "GM drums" if program is None else f"GM drums, program {program}"
        return Device(type="drums", name=name, params={"kit": "acoustic"})
    p = 0 if program is None else program
    kind, preset = EXCEPTIONS.get(p) or FAMILY_INSTRUMENT[p // 8]
    return Device(type=kind, name=f"GM program {p}: {GM_PROGRAMS[p]}",
                  params={"preset": preset})


def soundfont_instrument(program: int | None, channel: int, file: str,
                         info: SoundFontInfo) -> tuple[Device, str | None]:
    """The SoundFont preset for a GM ``program`` on ``channel`` (0-based): bank 0, preset =
    program; channel 10 plays the drum kit of bank 128. A program the file lacks falls back
    to the same preset in another melodic bank, then to the bank's first preset; the second
    value says so (None when the program was found)."""
    p = 0 if program is None else program
    drums = channel == DRUM_CHANNEL
    bank = 128 if drums else 0
    name = (("GM drums" if program is None else f"GM drums, program {p}") if drums
            else f"GM program {p}: {GM_PROGRAMS[p]}")
    have = sorted((b, n) for b, n, _ in info.presets)
    choice = (bank, p)
    if choice not in have:
        same = [(b, n) for b, n in have if n == p and (b == 128) == drums]
        in_bank = [(b, n) for b, n in have if b == bank]
        choice = (same or in_bank or have)[0]
    note = None if choice == (bank, p) else (
        f"{'drum kit' if drums else 'program'} {p} is not in {file}; plays bank {choice[0]} "
        f"preset {choice[1]}")
    return Device(type="soundfont", name=name,
                  params={"file": file, "bank": choice[0], "preset": choice[1]}), note


def program_for(instrument: Device) -> int | None:
    """The GM program to write for ``instrument``: from its name, else the inverse table
    (None for drums without one: channel 10 needs no program change)."""
    m = _PROGRAM_IN_NAME.search(instrument.name or "")
    if m and int(m.group(1)) < 128:
        return int(m.group(1))
    if is_drums(instrument):
        return None
    if instrument.type == "soundfont":
        return int(instrument.params.get("preset", 0))
    preset: Any = instrument.params.get("preset", "init")
    return PROGRAM_OF.get((instrument.type, str(preset)), 0)


def is_drums(instrument: Device) -> bool:
    """True for an instrument that plays GM drum notes (channel 10 on export)."""
    return instrument.type == "drums" or (instrument.type == "soundfont"
                                          and instrument.params.get("bank") == 128)
