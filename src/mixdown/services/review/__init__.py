"""Use case: the review studio over a folder of songs (what ``mixdown serve`` shows).

A *studio* is a songs folder (every project folder directly under it is a song), the shared
database (:func:`mixdown.db.database_url`: ``--database``, ``$MIXDOWN_DATABASE_URL``, else
``mixdown.db`` in the songs folder) and the versions store: ``.mixdown-studio/`` beside a
SQLite database file (so, by default, in the songs folder), else in the songs folder.

A *version* is an immutable render of a song: audio, QC report, song.toml snapshot, note,
time, and its waveform peaks and short-term loudness curve, measured once. It is written
into a staging folder of the store and renamed into place before its row is committed, so
a failed render leaves nothing behind. Renders from the CLI (``mixdown render PROJECT
--version NOTE``) land in the studio of the project's parent folder.

Comments are pinned to bar:beat and shown at the seconds of *each* version's tempo map, so
a comment keeps its musical place when a later version changes the tempo. Share links
carry a random token (stored as its SHA-256 only). Every error a user can cause is a
:class:`~mixdown.core.errors.MixdownError` with an ``http_status``: unknown names and
traversal attempts 404, missing token 401, wrong or revoked token 403, oversize upload
413, non-audio upload 415, bad values 422.

Every result is a frozen dataclass with ``as_dict()`` (JSON-ready).
"""

from __future__ import annotations

from mixdown.review.diff import Change, diff_projects
from mixdown.review.errors import (
    Forbidden,
    NotFound,
    TokenMissing,
    UnsupportedUpload,
    UploadTooLarge,
)
from mixdown.review.timing import Section, SongTiming
from mixdown.review.waveform import LoudnessCurve, Peaks
from mixdown.services.review._common import MAX_NOTE_CHARS as MAX_NOTE_CHARS
from mixdown.services.review._common import MAX_WHO_CHARS as MAX_WHO_CHARS
from mixdown.services.review._common import STATUS_LABELS, STATUSES
from mixdown.services.review._common import Status as Status
from mixdown.services.review.comments import MAX_COMMENT_CHARS as MAX_COMMENT_CHARS
from mixdown.services.review.comments import Comment, add_comment, list_comments, resolve_comment
from mixdown.services.review.comparison import (
    Comparison,
    PlatformPreview,
    Side,
    compare,
    diff_versions,
    platform_preview_gain,
)
from mixdown.services.review.player import (
    Bar,
    bar_grid,
    loudness_curve,
    peaks,
    peaks_json,
    sections,
    version_timing,
)
from mixdown.services.review.references import (
    MAX_REFERENCE_BYTES,
    Reference,
    add_reference,
    get_reference,
    list_references,
    reference_audio_path,
)
from mixdown.services.review.references import REFERENCE_SUFFIXES as REFERENCE_SUFFIXES
from mixdown.services.review.sharing import OWNER_ACTIONS as OWNER_ACTIONS
from mixdown.services.review.sharing import (
    ROLES,
    Grant,
    ShareLink,
    check_token,
    create_share_link,
    list_share_links,
    revoke_share_link,
)
from mixdown.services.review.sharing import Role as Role
from mixdown.services.review.statuses import StatusChange, set_status, status_history
from mixdown.services.review.studio import (
    SongSummary,
    Studio,
    list_songs,
    open_studio,
    song_project,
    song_summary,
    studio_of_project,
)
from mixdown.services.review.versions import VERSION_AUDIO as VERSION_AUDIO
from mixdown.services.review.versions import RenderProgress as RenderProgress
from mixdown.services.review.versions import (
    Version,
    approved_of_project,
    approved_version,
    get_version,
    keep_version,
    list_versions,
    render_project_version,
    render_version,
    snapshot_text,
    version_audio_path,
    version_qc,
)

__all__ = [
    "MAX_REFERENCE_BYTES", "ROLES", "STATUSES", "STATUS_LABELS", "Bar", "Change", "Comment",
    "Comparison", "Forbidden", "Grant", "LoudnessCurve", "NotFound", "Peaks", "PlatformPreview",
    "Reference", "Section", "ShareLink", "Side", "SongSummary", "SongTiming", "StatusChange",
    "Studio", "TokenMissing", "UnsupportedUpload", "UploadTooLarge", "Version", "add_comment",
    "add_reference", "approved_of_project", "approved_version", "bar_grid", "check_token",
    "compare", "create_share_link", "diff_projects", "diff_versions", "get_reference",
    "get_version", "keep_version", "list_comments", "list_references", "list_share_links",
    "list_songs", "list_versions", "loudness_curve", "open_studio", "peaks", "peaks_json",
    "platform_preview_gain", "reference_audio_path", "render_project_version", "render_version",
    "resolve_comment", "revoke_share_link", "sections", "set_status", "snapshot_text",
    "song_project", "song_summary", "status_history", "studio_of_project", "version_audio_path",
    "version_qc", "version_timing",
]
