"""Problems found while resolving a project: all of them, each naming its place."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mixdown.core.errors import FormatError, MixdownError, ModelError
from mixdown.io.places import Where, line_of


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a project.

    Attributes
    ----------
    file : str
        The project file as the user named it (``song.toml``), or ``project``.
    place : str
        The key path, as read in the file: ``track "Bass", devices[1].ratio``.
    message : str
        What is wrong and what to do.
    line : int or None
        The line of ``file`` where the place is written, when it can be told.
    error : type
        The kind of error it is on its own (:class:`ModelError` or :class:`FormatError`).
    asset : Path or None
        The asset file at fault, for format problems.
    """

    file: str
    place: str
    message: str
    line: int | None = None
    error: type[MixdownError] = ModelError
    asset: Path | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.place}: {self.message}" if self.place else \
            f"{where}: {self.message}"


class ProjectProblems(ModelError):
    """Every problem found in a project; ``str()`` is one line per problem."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class StopBranch(Exception):
    """Raised inside resolve when a problem makes the rest of one branch meaningless."""


class Problems:
    """Collects problems as resolve finds them."""

    def __init__(self, where: Where, text: str | None = None) -> None:
        self.where = where
        self.text = text
        self.found: list[Problem] = []
        self.warnings: list[str] = []

    def add(self, path: Sequence[str | int], message: str, *,
            error: type[MixdownError] = ModelError, asset: Path | None = None) -> None:
        """Record a problem at ``path`` (``("track", 0, "devices", 1, "ratio")``)."""
        line = line_of(self.text, path) if self.text else None
        self.found.append(Problem(self.where.label, self.where.place(path), message, line,
                                  error, asset))

    def stop(self, path: Sequence[str | int], message: str, *,
             error: type[MixdownError] = ModelError, asset: Path | None = None) -> StopBranch:
        """Record a problem and return the exception that abandons the branch."""
        self.add(path, message, error=error, asset=asset)
        return StopBranch()

    def from_error(self, path: Sequence[str | int], exc: MixdownError,
                   shown: str | None = None) -> None:
        """Record a MixdownError raised by a helper, naming the asset as the user wrote it."""
        text = str(exc)
        asset = exc.path if isinstance(exc, FormatError) else None
        if shown is not None and asset is not None:
            for p in (str(asset), str(asset.resolve())):
                if text.startswith(p + ":"):
                    text = shown + text[len(p):]
                    break
        prefix = self.where.at(path) + ": "
        if text.startswith(prefix):
            text = text[len(prefix):]
        self.add(path, text, error=FormatError if isinstance(exc, FormatError) else ModelError,
                 asset=asset)

    def warn(self, path: Sequence[str | int], message: str) -> None:
        """Record a warning (the project still renders)."""
        self.warnings.append(self.where.message(path, message))

    def raise_if_any(self) -> None:
        """Raise :class:`ProjectProblems` if anything was found."""
        if self.found:
            raise ProjectProblems(self.found)
