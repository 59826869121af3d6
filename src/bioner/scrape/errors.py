"""The corpus stage's error: one line naming the file:line, batch or setting; exit code 2 from the CLI."""

from __future__ import annotations

from ..errors import UserError


class ScrapeError(UserError, RuntimeError):
    """A source that cannot be read or fetched; the message says what and how to fix it."""
