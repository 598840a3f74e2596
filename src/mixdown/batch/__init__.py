"""The same jobs over many files: a local process pool or a Dask cluster, with a journal.

``mixdown batch KIND INPUTS... -o OUTDIR`` expands INPUTS (:mod:`.inputs`), plans one
task per input (:mod:`.jobs`), skips what the journal in OUTDIR says is done
(:mod:`.journal`), runs the rest (:mod:`.runner`) and writes a summary (:mod:`.report`).
Every task calls the same service as the single-file command.
"""

from __future__ import annotations
