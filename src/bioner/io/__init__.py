"""Writing files safely: atomic writes and temp files, locks, JSONL reading."""
