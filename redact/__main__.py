"""``python -m redact``: the same command as ``redact`` (where the venv's scripts are not on PATH)."""

from redact.cli import main

main()
