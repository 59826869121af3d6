"""The `bioner` command: the argument parser, the pipeline commands and the model commands."""

from .pipeline import main  # the console script `bioner = "bioner.cli:main"`

__all__ = ["main"]
