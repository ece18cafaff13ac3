"""No browser outlives its crawl. Chromium is started by Playwright's driver in a session
of its own (so killing the crawl's child process, or its process group, does not reach
it), and it keeps running when the driver dies first. Every crawl child therefore
carries a marker of its own in its environment, which the driver and each browser
process inherit; when the crawl ends, whatever still carries that marker is killed.
Only processes with this crawl's marker are ever touched."""

from __future__ import annotations

import os
import signal
import time

MARKER = "SENTINEL_CRAWL_ID"


def marked(marker: str) -> list[int]:
    """The pids of the processes whose environment carries ``MARKER=marker``."""
    needle = f"{MARKER}={marker}".encode()
    me = os.getpid()
    found = []
    try:
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return []
    for pid in pids:
        if pid == me:
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as fh:
                env = fh.read()
        except OSError:
            continue  # gone, or not ours to read
        if needle in env.split(b"\0"):
            found.append(pid)
    return found


def reap(marker: str, rounds: int = 3) -> int:
    """Kill every process carrying ``marker`` (a browser may start a helper while its
    parent is being killed: a few rounds). Returns how many were killed."""
    killed = 0
    for _ in range(rounds):
        pids = marked(marker)
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except OSError:
                pass
        time.sleep(0.05)
    return killed
