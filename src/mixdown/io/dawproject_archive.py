"""A DAWproject file opened safely: the zip checked entry by entry, the XML parsed safely.

A ``.dawproject`` file is a zip holding ``project.xml``, ``metadata.xml`` and the files the
project refers to (audio, plug-in states). Everything here treats it as hostile input:

- the zip: no entry name that is absolute, has a drive, ``..`` or a backslash, no symlink
  or other special entry, no duplicate name, at most :data:`MAX_ENTRIES` entries; the
  declared uncompressed sizes are capped (:data:`MAX_TOTAL_BYTES` together,
  :data:`MAX_XML_BYTES` for the XML), and members are read in blocks with the caps counted
  again on the bytes that actually come out (a header that lies about its size is caught);
- the XML: parsed by lxml with no network, no DTD loading, no entity expansion and no huge
  trees; a document with a DOCTYPE (the way in for entity bombs and XXE) is refused;
  then validated against the DAWproject schema shipped in ``io/dawproject_schema``.

Every problem is a :class:`~mixdown.core.errors.FormatError` whose one-line message names
the file and the entry.
"""

from __future__ import annotations

import stat
import zipfile
from collections.abc import Iterator
from functools import cache
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import IO, Any

from lxml import etree

from mixdown.core.errors import FormatError

PROJECT_XML = "project.xml"
METADATA_XML = "metadata.xml"

MAX_ENTRIES = 10_000
"""Most entries a DAWproject zip may hold."""

MAX_TOTAL_BYTES = 4 * 1024**3
"""Most uncompressed bytes of all entries together (4 GiB: a long multitrack session)."""

MAX_XML_BYTES = 64 * 1024**2
"""Most uncompressed bytes of project.xml or metadata.xml (64 MiB)."""

CHUNK = 1 << 20


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           dtd_validation=False, huge_tree=False, remove_comments=False)


@cache
def _schema(name: str) -> etree.XMLSchema:
    text = resources.files("mixdown.io").joinpath("dawproject_schema", name).read_bytes()
    return etree.XMLSchema(etree.fromstring(text, _parser()))


def project_schema() -> etree.XMLSchema:
    """The DAWproject ``Project.xsd`` schema (loaded once)."""
    return _schema("Project.xsd")


def metadata_schema() -> etree.XMLSchema:
    """The DAWproject ``MetaData.xsd`` schema (loaded once)."""
    return _schema("MetaData.xsd")


def parse_xml(data: bytes, where: str, schema: etree.XMLSchema | None = None) -> Any:
    """Parse ``data`` safely and validate it against ``schema``; return the root element.

    Raises
    ------
    FormatError
        For a DOCTYPE or entity declaration, malformed XML, or a schema violation (the
        first one, with its line).
    """
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise FormatError(f"{where}: has a DOCTYPE or entity declaration; DAWproject XML "
                          "needs none and mixdown refuses them (entity expansion, XXE)")
    if head and not head.startswith(b"<"):
        raise FormatError(f"{where}: is not XML")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise FormatError(f"{where}: is not well-formed XML ({exc})") from None
    if root.getroottree().docinfo.doctype:
        raise FormatError(f"{where}: has a DOCTYPE; mixdown refuses them")
    if schema is not None and not schema.validate(root):
        err = schema.error_log.last_error
        raise FormatError(f"{where}: does not follow the DAWproject schema "
                          f"(line {err.line}: {err.message})")
    return root


def check_member_name(name: str) -> str | None:
    """Why the zip entry name ``name`` is unsafe, or None."""
    if not name or "\x00" in name:
        return "has an empty name or a NUL byte"
    if "\\" in name:
        return "has a backslash in its name"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "is an absolute path"
    parts = PurePosixPath(name).parts
    if ".." in parts:
        return "climbs out of the archive with '..'"
    return None


def check_relative(path: str, where: str) -> str:
    """A file reference inside project.xml, checked like a zip entry name."""
    why = check_member_name(path)
    if why is not None:
        raise FormatError(f"{where}: file reference {path!r} {why}")
    return str(PurePosixPath(path))


class DawprojectArchive:
    """An open, checked DAWproject zip; use as a context manager.

    Parameters
    ----------
    path : str or Path
        The ``.dawproject`` file.
    max_total_bytes : int, optional
        Cap on the declared (and extracted) uncompressed bytes; default
        :data:`MAX_TOTAL_BYTES`.
    """

    def __init__(self, path: str | Path, *, max_total_bytes: int | None = None) -> None:
        self.path = Path(path)
        self.max_total_bytes = MAX_TOTAL_BYTES if max_total_bytes is None else max_total_bytes
        if not self.path.is_file():
            raise FormatError(f"{self.path}: no such file", self.path)
        try:
            self._zip = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise FormatError(f"{self.path}: is not a DAWproject file (not a zip: {exc})",
                              self.path) from None
        try:
            self._infos = self._check_entries()
        except BaseException:
            self._zip.close()
            raise
        self._read_total = 0

    def _fail(self, message: str) -> FormatError:
        return FormatError(f"{self.path}: {message}", self.path)

    def _check_entries(self) -> dict[str, zipfile.ZipInfo]:
        infos = self._zip.infolist()
        if len(infos) > MAX_ENTRIES:
            raise self._fail(f"has {len(infos)} entries (at most {MAX_ENTRIES})")
        out: dict[str, zipfile.ZipInfo] = {}
        total = 0
        for info in infos:
            name = info.filename
            why = check_member_name(name)
            if why is not None:
                raise self._fail(f"entry {name!r} {why}; refusing the archive")
            mode = info.external_attr >> 16
            kind_bits = stat.S_IFMT(mode)
            if info.create_system == 3 and kind_bits and not (
                    stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                kind = "a symlink" if stat.S_ISLNK(mode) else "not a plain file"
                raise self._fail(f"entry {name!r} is {kind}; refusing the archive")
            if info.flag_bits & 0x1:
                raise self._fail(f"entry {name!r} is encrypted")
            key = name.rstrip("/")
            if key in out:
                raise self._fail(f"entry {name!r} appears twice")
            total += info.file_size
            if total > self.max_total_bytes:
                raise self._fail(f"unpacks to more than {self.max_total_bytes} bytes "
                                 "(a zip bomb?); refusing it")
            if not info.is_dir():
                out[key] = info
        return out

    def __enter__(self) -> DawprojectArchive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the zip."""
        self._zip.close()

    def names(self) -> list[str]:
        """The names of the file entries."""
        return list(self._infos)

    def has(self, name: str) -> bool:
        """Whether a file entry ``name`` exists."""
        return str(PurePosixPath(name)) in self._infos

    def size(self, name: str) -> int:
        """The declared uncompressed size of ``name`` in bytes."""
        return self._infos[str(PurePosixPath(name))].file_size

    def _open(self, name: str) -> tuple[zipfile.ZipInfo, IO[bytes]]:
        key = str(PurePosixPath(name))
        info = self._infos.get(key)
        if info is None:
            raise self._fail(f"has no entry {name!r}")
        try:
            return info, self._zip.open(info)
        except (zipfile.BadZipFile, NotImplementedError, OSError, RuntimeError) as exc:
            raise self._fail(f"entry {name!r} cannot be read ({exc})") from None

    def iter_member(self, name: str, *, limit: int) -> Iterator[bytes]:
        """The bytes of entry ``name`` in blocks; more than ``limit`` (or more than the cap
        on the whole archive, or than the entry declares) is a FormatError."""
        info, stream = self._open(name)
        got = 0
        try:
            with stream:
                while True:
                    try:
                        block = stream.read(CHUNK)
                    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:
                        raise self._fail(f"entry {name!r} is damaged ({exc})") from None
                    except Exception as exc:  # zlib.error and friends
                        raise self._fail(f"entry {name!r} is damaged ({exc})") from None
                    if not block:
                        break
                    got += len(block)
                    self._read_total += len(block)
                    if got > limit or got > info.file_size:
                        raise self._fail(f"entry {name!r} unpacks to more than "
                                         f"{min(limit, info.file_size)} bytes; refusing it")
                    if self._read_total > self.max_total_bytes:
                        raise self._fail(f"unpacks to more than {self.max_total_bytes} bytes "
                                         "(a zip bomb?); refusing it")
                    yield block
        finally:
            stream.close()

    def read(self, name: str, *, limit: int = MAX_XML_BYTES) -> bytes:
        """The whole entry ``name`` (at most ``limit`` bytes)."""
        return b"".join(self.iter_member(name, limit=limit))

    def extract(self, name: str, dest: Path) -> None:
        """Copy entry ``name`` to the new file ``dest``, streamed in blocks."""
        with dest.open("xb") as out:
            for block in self.iter_member(name, limit=self.max_total_bytes):
                out.write(block)

    def project_root(self) -> Any:
        """project.xml parsed safely and validated against the schema."""
        if not self.has(PROJECT_XML):
            raise self._fail(f"has no {PROJECT_XML}; is it a DAWproject file?")
        return parse_xml(self.read(PROJECT_XML), f"{self.path}: {PROJECT_XML}",
                         project_schema())

    def metadata_root(self) -> Any | None:
        """metadata.xml parsed safely and validated, or None when the zip has none."""
        if not self.has(METADATA_XML):
            return None
        return parse_xml(self.read(METADATA_XML), f"{self.path}: {METADATA_XML}",
                         metadata_schema())


__all__ = [
    "MAX_ENTRIES",
    "MAX_TOTAL_BYTES",
    "MAX_XML_BYTES",
    "METADATA_XML",
    "PROJECT_XML",
    "DawprojectArchive",
    "check_member_name",
    "check_relative",
    "metadata_schema",
    "parse_xml",
    "project_schema",
]
