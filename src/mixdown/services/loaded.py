"""Where a loaded project lives: each :class:`Project` object that came from a folder
remembers that folder, so rendering it needs no ``root=``.

The mapping holds no reference to the project (it is dropped with the object). An edited
copy made by :mod:`mixdown.services.edit` keeps its original's folder; a copy made with
pydantic's ``model_copy`` does not (pass ``root=`` or call :func:`remember_root`).
"""

from __future__ import annotations

import weakref
from pathlib import Path

from mixdown.core.errors import MixdownError
from mixdown.model.project import Project

_ROOTS: dict[int, Path] = {}


def remember_root(project: Project, root: str | Path) -> Project:
    """Record ``root`` as the folder ``project``'s relative asset paths resolve against;
    returns ``project``."""
    key = id(project)
    if key not in _ROOTS:
        weakref.finalize(project, _ROOTS.pop, key, None)
    _ROOTS[key] = Path(root)
    return project


def root_of(project: Project) -> Path | None:
    """The folder ``project`` was loaded from or saved to (None: not known)."""
    return _ROOTS.get(id(project))


def open_any(project: str | Path | Project, root: str | Path | None = None
             ) -> tuple[Project, Path]:
    """A project and the folder its assets resolve against.

    A path is loaded (its folder is the root); a :class:`Project` gets the checks a
    song.toml gets, against ``root``, else the folder it was loaded from, else the current
    folder.
    """
    from mixdown.resolve import check_project, open_project

    if isinstance(project, Project):
        known = root_of(project)
        folder = Path(root) if root is not None else (known if known is not None
                                                      else Path.cwd())
        check_project(project, folder, label="project")  # the checks a song.toml gets
        return project, folder
    if not isinstance(project, (str, Path)):
        raise MixdownError(f"expected a project folder, a song.toml or a mixdown.Project, "
                           f"got {type(project).__name__}")
    pf = open_project(project)
    remember_root(pf.project, pf.root)
    return pf.project, pf.root


__all__ = ["open_any", "remember_root", "root_of"]
