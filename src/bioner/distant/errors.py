"""The one error type of distant-supervision labelling."""

from __future__ import annotations

from ..data.corpus import CorpusError


class DistantError(CorpusError):
    """A dictionary, stop list, corpus or distant setting that cannot be used.

    The message is one line naming `file:line` (or the setting), the bad value and what is allowed. A
    CorpusError subclass, so the CLI prints it as one line with exit code 2 like every bad input file.
    """
