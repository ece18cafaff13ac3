"""The spider's child process: Scrapy's reactor cannot be restarted, so every crawl runs
``python -m crawler.spider JOB fd:N`` in a fresh process and reads its records as the
child writes them.

A reader thread drains the pipe into a queue, so the child never waits for us while
the pipeline stores and matches a batch; we only look at the clock when we take the
next record. Leaving the ``with`` block, for whatever reason, kills a child that is
still running.
"""

from __future__ import annotations

import os
import pickle
import queue
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Self

from crawler.reap import MARKER, reap

PROJECT_ROOT = Path(__file__).resolve().parents[1]

Record = tuple[str, dict]  # ("page" | "undecodable" | "error" | "stats", fields)


class CrawlCancelled(Exception):
    """The crawl was stopped from outside (the daemon stops): the child is killed."""


class CrawlChild:
    """One crawl in a child process::

        with CrawlChild(job, timeout=600) as child:
            for kind, record in child:
                ...

    Iterating raises ``subprocess.TimeoutExpired`` when the crawl outlives ``timeout``,
    ``CrawlCancelled`` soon after ``cancel`` is set, and ``RuntimeError`` when the child
    fails before writing anything."""

    def __init__(self, job: dict[str, Any], timeout: float, cancel: threading.Event | None = None):
        self.job = job
        self.timeout = timeout
        self.cancel = cancel
        self._tmp: tempfile.TemporaryDirectory | None = None
        self._proc: subprocess.Popen | None = None
        self._reader: threading.Thread | None = None
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._stderr = None

    def __enter__(self) -> Self:
        self._tmp = tempfile.TemporaryDirectory(prefix="sentinel-crawl-")
        tmp = self._tmp.name
        job_path = os.path.join(tmp, "job.pickle")
        with open(job_path, "wb") as fh:
            pickle.dump(self.job, fh)
        env = dict(os.environ)
        env["PYTHONPATH"] = str(PROJECT_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        env[MARKER] = self._marker = uuid.uuid4().hex  # crawler.reap: no browser left behind
        read_fd, write_fd = os.pipe()
        self._stderr = open(os.path.join(tmp, "stderr.txt"), "w+b")  # closed in __exit__
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "crawler.spider", job_path, f"fd:{write_fd}"],
                env=env,
                cwd=tmp,
                stdout=subprocess.DEVNULL,
                stderr=self._stderr,
                pass_fds=(write_fd,),
            )
        except BaseException:
            os.close(read_fd)
            os.close(write_fd)
            self._cleanup()
            raise
        os.close(write_fd)
        self._reader = threading.Thread(
            target=self._read, args=(read_fd,), name="crawl-reader", daemon=True
        )
        self._reader.start()
        return self

    def _read(self, read_fd: int) -> None:
        with os.fdopen(read_fd, "rb") as pipe:
            while True:
                try:
                    self._inbox.put(pickle.load(pipe))
                except EOFError:
                    break
                except (pickle.UnpicklingError, ValueError, OSError):
                    break  # a child killed mid-write: keep what was complete
        self._inbox.put(None)

    def __iter__(self) -> Iterator[Record]:
        assert self._proc is not None, "use CrawlChild in a with block"
        deadline = time.monotonic() + self.timeout
        got = 0
        while True:
            if self.cancel is not None and self.cancel.is_set():
                raise CrawlCancelled()
            wait = max(0.1, deadline - time.monotonic())
            try:
                item = self._inbox.get(timeout=wait if self.cancel is None else min(wait, 0.25))
            except queue.Empty:
                item = ...
            if item is None:
                break
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(self._proc.args, self.timeout)
            if item is ...:
                continue
            got += 1
            yield item
        returncode = self._proc.wait()
        if returncode != 0 and not got:
            self._stderr.seek(0)
            tail = self._stderr.read().decode("utf-8", "replace").strip().splitlines()[-3:]
            raise RuntimeError(
                f"the crawler process failed (exit {returncode}): {' | '.join(tail)}"
            )

    def __exit__(self, *exc) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()  # a timeout, or the consumer stopped: never leave it running
        if self._proc is not None:
            self._proc.wait()
        if self.job.get("render"):
            reap(self._marker)  # Chromium and Playwright's driver, whatever became of them
        if self._reader is not None:
            self._reader.join(timeout=5)
        self._cleanup()

    def _cleanup(self) -> None:
        if self._stderr is not None:
            self._stderr.close()
        if self._tmp is not None:
            self._tmp.cleanup()
