"""What tests report at the end of the session (the crash trials' seed and tallies); the
terminal-summary hook in tests/conftest.py prints it."""

from __future__ import annotations

SUMMARY_LINES: list[str] = []
