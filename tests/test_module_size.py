"""Modules stay small: none outside tests and migrations has more than 450 lines."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 450


def test_no_module_is_longer_than_450_lines():
    long = {}
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith((".venv/", "tests/", "build/")) or "/migrations/" in rel:
            continue
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > LIMIT:
            long[rel] = n
    assert not long, f"modules over {LIMIT} lines: {long}"
