"""The daemon's memory over months: fewer malloc arenas.

glibc gives each thread that allocates an arena of its own, up to eight per core; the
daemon's pools (feed polls, crawls, housekeeping, the scheduler, the heartbeat, the
metrics server) each touch the allocator, and memory freed in one arena is not reused
by another, so the RSS of a daemon with a thousand sources crept upward by tens of MB
while its Python objects stayed flat (tracemalloc: about 1 MB a minute, all of it work
queued for the pools). Two arenas keep the same work in less memory (bench/bench_daemon.py).
``MALLOC_ARENA_MAX`` in the environment, when set, wins.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

M_ARENA_MAX = -8  # glibc's malloc.h
ARENAS = 2


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Cap glibc's malloc arenas for the threads started from now on; False where it
    cannot be done (another C library, or ``MALLOC_ARENA_MAX`` already chosen)."""
    if os.environ.get("MALLOC_ARENA_MAX"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(M_ARENA_MAX, int(arenas)))
    except (OSError, AttributeError):
        return False
