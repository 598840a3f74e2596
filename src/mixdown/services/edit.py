"""Edit a project from Python: small helpers that return a changed copy.

A :class:`~mixdown.model.Project` is frozen data; each helper here returns a new, validated
project (the same checks a song.toml gets from the model) and keeps the folder the original
was loaded from, so ``mixdown.render(edited, "out.wav")`` still finds its audio files::

    song = mixdown.load("examples/demo")
    quieter = mixdown.with_track(song, "Bass", volume_db=-3.0, pan=-0.2)
    mixdown.render(quieter, "bass-down.wav")
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from mixdown.core.errors import ModelError
from mixdown.model.project import Bus, Master, Project, Song, Track
from mixdown.services.loaded import remember_root, root_of

__all__ = ["add_track", "remove_track", "replace_track", "with_bus", "with_master",
           "with_song", "with_track"]


def _validated(cls: type[Any], base: BaseModel, changes: dict[str, Any], what: str) -> Any:
    # only the fields set before and the changed ones count as set, so that saving writes
    # just those keys (a default the file never spelt out is not added to it)
    kept = {k: getattr(base, k) for k in base.model_fields_set}
    try:
        return cls.model_validate({**kept, **changes})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise ModelError(f"{what}: {where + ': ' if where else ''}{first.get('msg')}") from None


def _keep_root(old: Project, new: Project) -> Project:
    root = root_of(old)
    return remember_root(new, root) if root is not None else new


def _project(project: Project, **fields: Any) -> Project:
    return _keep_root(project, _validated(Project, project, fields, "project"))


def _index(names: list[str], name: str, kind: str) -> int:
    if name in names:
        return names.index(name)
    import difflib

    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ModelError(f"no {kind} {name!r}{hint}; {kind}s: {', '.join(names) or 'none'}")


def with_track(project: Project, name: str, **changes: Any) -> Project:
    """A copy of ``project`` with the track ``name`` changed.

    Parameters
    ----------
    project : Project
        The song.
    name : str
        The track's name.
    **changes
        Track fields: ``volume_db`` (dB), ``pan`` (-1..1), ``mute``, ``solo``, ``devices``,
        ``sends``, ``clips``, ``output``, ``name``...

    Raises
    ------
    ModelError
        No such track, or a change the model refuses.

    Examples
    --------
    >>> from mixdown import Project, Track
    >>> p = Project(tracks=(Track(name="Bass"),))
    >>> with_track(p, "Bass", volume_db=-3.0).track("Bass").volume_db
    -3.0
    """
    k = _index([t.name for t in project.tracks], name, "track")
    track = _validated(Track, project.tracks[k], changes, f"track {name!r}")
    return replace_track(project, track, name=name)


def replace_track(project: Project, track: Track, *, name: str | None = None) -> Project:
    """A copy of ``project`` with ``track`` in place of the track called ``name`` (default:
    ``track.name``)."""
    k = _index([t.name for t in project.tracks], name or track.name, "track")
    tracks = (*project.tracks[:k], track, *project.tracks[k + 1:])
    return _project(project, tracks=tracks)


def add_track(project: Project, track: Track) -> Project:
    """A copy of ``project`` with ``track`` added after the others."""
    return _project(project, tracks=(*project.tracks, track))


def remove_track(project: Project, name: str) -> Project:
    """A copy of ``project`` without the track ``name``."""
    k = _index([t.name for t in project.tracks], name, "track")
    return _project(project, tracks=project.tracks[:k] + project.tracks[k + 1:])


def with_bus(project: Project, name: str, **changes: Any) -> Project:
    """A copy of ``project`` with the bus ``name`` changed (bus fields, as for tracks)."""
    k = _index([b.name for b in project.buses], name, "bus")
    bus = _validated(Bus, project.buses[k], changes, f"bus {name!r}")
    return _project(project, buses=(*project.buses[:k], bus, *project.buses[k + 1:]))


def with_master(project: Project, **changes: Any) -> Project:
    """A copy of ``project`` with the master changed: ``volume_db``, ``devices``,
    ``target`` (a preset name), ``target_lufs``, ``ceiling_dbtp``..."""
    return _project(project, master=_validated(Master, project.master, changes, "master"))


def with_song(project: Project, **changes: Any) -> Project:
    """A copy of ``project`` with ``[song]`` changed: ``title``, ``tempo`` (BPM),
    ``sample_rate`` (Hz), ``tail_s`` (seconds)..."""
    return _project(project, song=_validated(Song, project.song, changes, "song"))
