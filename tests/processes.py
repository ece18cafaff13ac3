"""The crawl processes of this test process (crawler.child names each ``sentinel-crawl``
and forks it from a server process of ours), for the tests that no crawl is left
running. Other worktrees on this machine run crawls too: only our descendants count."""

from __future__ import annotations

import os


def _stat(pid: str) -> tuple[int, str] | None:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return int(fields[1]), fields[0]  # parent, state
    except (OSError, IndexError, ValueError):
        return None


def crawl_children(root: int | None = None) -> set[int]:
    """Live (not zombie) processes named ``sentinel-crawl`` below ``root`` (this one)."""
    root = os.getpid() if root is None else root
    parents: dict[int, int] = {}
    crawls = set()
    for p in os.listdir("/proc"):
        if not p.isdigit() or (st := _stat(p)) is None:
            continue
        parents[int(p)] = st[0]
        try:
            with open(f"/proc/{p}/comm") as fh:
                named = fh.read().strip() == "sentinel-crawl"
        except OSError:
            continue
        if named and st[1] != "Z":
            crawls.add(int(p))
    out = set()
    for pid in crawls:
        up, seen = parents.get(pid), 0
        while up and up != root and seen < 64:
            up, seen = parents.get(up), seen + 1
        if up == root:
            out.add(pid)
    return out
