"""Open a project file and check it completely: parse and validate (``io.project``), then
resolve with a dry-run catalog."""

from __future__ import annotations

from pathlib import Path

from mixdown.io import project as project_io
from mixdown.io.project import ProjectFile
from mixdown.resolve.resolve import check_project


def open_project(path: str | Path) -> ProjectFile:
    """Load, validate and check a project (writes nothing).

    Parameters
    ----------
    path : str or Path
        A project folder or its ``song.toml``.

    Raises
    ------
    FormatError, ModelError
        The file cannot be read or parsed, or the model is invalid (the first problem).
    ProjectProblems
        Everything else that is wrong, every problem on its own line.
    """
    pf = project_io.open_project(path)
    check_project(pf.project, pf.root, label=str(project_io.project_file_path(path)),
                  text=pf.text)
    return pf
