"""The one error base the CLI knows: a problem the user can fix, printed as one line with exit code 2.

Every module's own error class (SettingsError, CorpusError, BackboneError, FetchError, PredictError, ...)
derives from `UserError`, so `bioner` catches them all without importing the modules that define them.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix; the message names the file:line or setting, the value and what is allowed."""
