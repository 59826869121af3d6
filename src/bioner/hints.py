"""How a message tells the user to change a setting: in the syntax of the command that was run.

`dvc exp run -S key=value` for a stage run by DVC (DVC sets DVC_STAGE / DVC_ROOT for stage commands),
`--flag value` where the `bioner` subcommand has a flag for the key, `-s key=value` otherwise. The CLI calls
`use_command` once with the subcommand's flags; without it (library use) the DVC syntax is used.
"""

from __future__ import annotations

import os

_flags: dict[str, str] | None = None  # setting key -> flag of the running `bioner` subcommand


def use_command(flags: dict[str, str] | None) -> None:
    """The running `bioner` subcommand's flags ({"backbone": "--backbone"}); its `-s KEY=VALUE` is the rest.
    None: not a command that takes settings (hints then use the `dvc exp run -S` syntax)."""
    global _flags
    _flags = None if flags is None else dict(flags)


def override(key: str, value: str) -> str:
    """`-S backbone=tiny` / `--backbone tiny` / `-s backbone=tiny`, whichever the running command takes."""
    if _flags is None or os.environ.get("DVC_STAGE") or os.environ.get("DVC_ROOT"):
        return f"-S {key}={value}"
    flag = _flags.get(key)
    return f"{flag} {value}" if flag else f"-s {key}={value}"
