"""`python -m bioner.cli` runs the `bioner` command."""

from .pipeline import main

raise SystemExit(main())
