"""The daemon caps glibc's malloc arenas (core/memory.py); an operator's
MALLOC_ARENA_MAX in the service's environment wins."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CALL = "from core.memory import limit_malloc_arenas; print(limit_malloc_arenas())"


def _run(env: dict[str, str]) -> str:
    clean = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    return subprocess.run(
        [sys.executable, "-c", CALL],
        cwd=ROOT,
        env={**clean, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def test_the_arenas_are_capped_unless_the_environment_chose_a_number():
    assert _run({}) == "True"  # glibc, as on the servers the office runs
    assert _run({"MALLOC_ARENA_MAX": "4"}) == "False"
