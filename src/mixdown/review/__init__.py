"""The review studio's library: mix versions, comments at bar:beat, statuses, reference
tracks, share links (tables in the shared database), waveform peaks and musical diffs.

The use cases that join it with rendering live in :mod:`mixdown.services.review`.
"""
