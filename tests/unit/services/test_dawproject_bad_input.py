"""Hostile and broken DAWproject files: one clear error each, nothing written anywhere."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

from dawproject_files import BITWIG_AUDIO, BITWIG_STATE, bitwig_entries, wav_bytes, write_zip
from mixdown.core.errors import FormatError, MixdownError
from mixdown.io import dawproject_archive
from mixdown.services.dawproject import check_dawproject, import_dawproject

MINIMAL = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Project version="1.0">'
           b'<Application name="t" version="1"/></Project>')


def _files(folder: Path) -> set[Path]:
    return {p.relative_to(folder) for p in folder.rglob("*")}


def assert_refused(tmp_path: Path, src: Path, match: str) -> None:
    """Import and check both refuse ``src`` with one line naming it; nothing is written."""
    before = _files(tmp_path)
    out = tmp_path / "song"
    for call in (lambda: import_dawproject(src, out), lambda: check_dawproject(src)):
        with pytest.raises(MixdownError, match=match) as info:
            call()
        msg = str(info.value)
        assert "\n" not in msg
        assert str(src) in msg
    assert not out.exists()
    assert _files(tmp_path) == before  # no temp folder left, nothing outside either


def test_zip_slip_entry_is_refused(tmp_path: Path, rng: np.random.Generator) -> None:
    entries = bitwig_entries(rng) | {"../evil.txt": b"pwned"}
    src = write_zip(tmp_path / "slip.dawproject", entries)
    assert_refused(tmp_path, src, r"'\.\./evil\.txt' climbs out of the archive")
    assert not (tmp_path.parent / "evil.txt").exists()


def test_absolute_entry_is_refused(tmp_path: Path, rng: np.random.Generator) -> None:
    entries = bitwig_entries(rng) | {"/tmp/mixdown-abs-test.txt": b"pwned"}
    src = write_zip(tmp_path / "abs.dawproject", entries)
    assert_refused(tmp_path, src, "is an absolute path")
    assert not Path("/tmp/mixdown-abs-test.txt").exists()


def test_windows_drive_entry_is_refused(tmp_path: Path, rng: np.random.Generator) -> None:
    src = write_zip(tmp_path / "drive.dawproject", bitwig_entries(rng) | {"C:/x.txt": b"x"})
    assert_refused(tmp_path, src, "is an absolute path")


def test_symlink_entry_is_refused(tmp_path: Path, rng: np.random.Generator) -> None:
    src = write_zip(tmp_path / "link.dawproject", bitwig_entries(rng),
                    symlinks={"audio/passwd.wav": "/etc/passwd"})
    assert_refused(tmp_path, src, "'audio/passwd.wav' is a symlink")


def test_zip_bomb_over_the_declared_cap_is_refused(tmp_path: Path, rng: np.random.Generator,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # 32 MiB of zeros deflate to ~32 KiB; with the cap lowered to 8 MiB the declared sizes
    # already exceed it (the real cap, 4 GiB, works the same way on bigger bombs)
    monkeypatch.setattr(dawproject_archive, "MAX_TOTAL_BYTES", 8 * 1024**2)
    entries = bitwig_entries(rng) | {"audio/bomb.wav": bytes(32 * 1024**2)}
    src = write_zip(tmp_path / "bomb.dawproject", entries)
    assert src.stat().st_size < 2 * 1024**2
    assert_refused(tmp_path, src, "unpacks to more than 8388608 bytes")


def _patch_sizes(path: Path, name: str, declared: int) -> None:
    """Make the local and central headers of ``name`` declare ``declared`` bytes."""
    data = bytearray(path.read_bytes())
    raw = name.encode()
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(name)
    local = info.header_offset
    assert data[local:local + 4] == b"PK\x03\x04"
    struct.pack_into("<I", data, local + 22, declared)
    central = data.find(b"PK\x01\x02")
    while central != -1:
        n = struct.unpack_from("<H", data, central + 28)[0]
        if data[central + 46:central + 46 + n] == raw:
            struct.pack_into("<I", data, central + 24, declared)
            break
        central = data.find(b"PK\x01\x02", central + 4)
    else:
        raise AssertionError("central header not found")
    path.write_bytes(bytes(data))


def test_entry_that_lies_about_its_size_is_refused(tmp_path: Path,
                                                   rng: np.random.Generator) -> None:
    # the header says 1000 bytes, the data inflates to 8 MiB: the stream stops at the
    # declared size and the entry is refused as damaged (CRC) or oversized
    entries = bitwig_entries(rng)
    entries[BITWIG_AUDIO] = wav_bytes(np.zeros((2, 1 << 20), np.float32))
    src = write_zip(tmp_path / "liar.dawproject", entries)
    _patch_sizes(src, BITWIG_AUDIO, 1000)
    before = _files(tmp_path)
    with pytest.raises(FormatError, match=r"Drumfunk3 170bpm\.wav' (is damaged|unpacks)"):
        import_dawproject(src, tmp_path / "song")
    assert not (tmp_path / "song").exists()
    assert _files(tmp_path) == before


def test_not_a_zip_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "text.dawproject"
    src.write_text("this is not a zip\n")
    assert_refused(tmp_path, src, "is not a DAWproject file")


def test_missing_project_xml_is_refused(tmp_path: Path) -> None:
    src = write_zip(tmp_path / "empty.dawproject", {"metadata.xml": b"<MetaData/>"})
    assert_refused(tmp_path, src, "has no project.xml")


def test_xml_that_breaks_the_schema_is_refused(tmp_path: Path) -> None:
    bad = MINIMAL.replace(b"</Project>", b"<Structure><Track><Bogus/></Track></Structure>"
                                         b"</Project>")
    src = write_zip(tmp_path / "schema.dawproject", {"project.xml": bad})
    assert_refused(tmp_path, src, "does not follow the DAWproject schema")


def test_missing_required_element_breaks_the_schema(tmp_path: Path) -> None:
    src = write_zip(tmp_path / "noapp.dawproject",
                    {"project.xml": b'<Project version="1.0"/>'})
    assert_refused(tmp_path, src, "does not follow the DAWproject schema")


def test_malformed_xml_is_refused(tmp_path: Path) -> None:
    src = write_zip(tmp_path / "broken.dawproject", {"project.xml": MINIMAL[:-5]})
    assert_refused(tmp_path, src, "is not well-formed XML")


def test_xxe_is_refused(tmp_path: Path) -> None:
    xxe = (b'<?xml version="1.0"?>\n<!DOCTYPE Project [<!ENTITY x SYSTEM '
           b'"file:///etc/passwd">]>\n<Project version="&x;"><Application name="t" '
           b'version="1"/></Project>')
    src = write_zip(tmp_path / "xxe.dawproject", {"project.xml": xxe})
    assert_refused(tmp_path, src, "DOCTYPE or entity declaration")


def test_entity_expansion_is_refused(tmp_path: Path) -> None:
    lol = b'<!ENTITY a "lollollollollollollollollollol">'
    for i in range(1, 10):
        prev = f"&a{i - 1 if i > 1 else ''};".replace("&a0;", "&a;").encode()
        lol += f'<!ENTITY a{i} "'.encode() + prev * 10 + b'">'
    bomb = (b'<?xml version="1.0"?>\n<!DOCTYPE Project [' + lol + b']>\n'
            b'<Project version="&a9;"><Application name="t" version="1"/></Project>')
    src = write_zip(tmp_path / "laughs.dawproject", {"project.xml": bomb})
    assert_refused(tmp_path, src, "DOCTYPE or entity declaration")


def test_parse_xml_refuses_a_doctype_even_without_entities() -> None:
    with pytest.raises(FormatError, match="DOCTYPE"):
        dawproject_archive.parse_xml(b"<!DOCTYPE Project><Project version='1'/>", "x.xml")


def test_reference_to_a_file_not_in_the_zip_is_refused(tmp_path: Path,
                                                       rng: np.random.Generator) -> None:
    entries = bitwig_entries(rng)
    del entries[BITWIG_AUDIO]
    src = write_zip(tmp_path / "noaudio.dawproject", entries)
    assert_refused(tmp_path, src,
                   r"refers to 'audio/Drumfunk3 170bpm\.wav', which is not in the zip")


def test_missing_plugin_state_is_refused(tmp_path: Path, rng: np.random.Generator) -> None:
    entries = bitwig_entries(rng)
    del entries[BITWIG_STATE]
    src = write_zip(tmp_path / "nostate.dawproject", entries)
    assert_refused(tmp_path, src, "which is not in the zip")


def test_external_file_reference_is_refused(tmp_path: Path, rng: np.random.Generator) -> None:
    entries = bitwig_entries(rng)
    entries["project.xml"] = entries["project.xml"].replace(
        b'<File path="audio/Drumfunk3 170bpm.wav"/>',
        b'<File path="/etc/passwd" external="true"/>')
    src = write_zip(tmp_path / "external.dawproject", entries)
    assert_refused(tmp_path, src, "refers to the external file '/etc/passwd'")


def test_file_reference_climbing_out_is_refused(tmp_path: Path,
                                                rng: np.random.Generator) -> None:
    entries = bitwig_entries(rng)
    entries["project.xml"] = entries["project.xml"].replace(
        b'<File path="audio/Drumfunk3 170bpm.wav"/>', b'<File path="../../etc/passwd"/>')
    src = write_zip(tmp_path / "climb.dawproject", entries)
    assert_refused(tmp_path, src, "climbs out of the archive")


def test_audio_that_does_not_read_is_refused_and_nothing_is_left(
        tmp_path: Path, rng: np.random.Generator) -> None:
    entries = bitwig_entries(rng)
    entries[BITWIG_AUDIO] = b"RIFF garbage, not a wav"
    src = write_zip(tmp_path / "badaudio.dawproject", entries)
    before = _files(tmp_path)
    with pytest.raises(MixdownError, match=r"badaudio\.dawproject: audio/Drumfunk3"):
        import_dawproject(src, tmp_path / "song")
    assert not (tmp_path / "song").exists()
    assert _files(tmp_path) == before


def test_existing_folder_keeps_its_files_when_import_fails(tmp_path: Path,
                                                          rng: np.random.Generator) -> None:
    out = tmp_path / "song"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    entries = bitwig_entries(rng)
    del entries[BITWIG_AUDIO]
    src = write_zip(tmp_path / "noaudio.dawproject", entries)
    with pytest.raises(FormatError):
        import_dawproject(src, out, force=True)
    assert _files(out) == {Path("notes.txt")}
