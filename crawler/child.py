"""The spider's child process: Scrapy's reactor cannot be restarted, so every crawl runs
in a fresh process and we read its records as the child writes them.

The fresh process is forked from a server process (multiprocessing's ``forkserver``)
that has imported Scrapy and the spider once (``crawler.preload``): a new Python
importing Scrapy made a small crawl cost about 2 s of CPU, the forked one about 0.25 s. The server is started
with the first crawl, forks nothing but crawls, and exits with this process; a crawl
whose server dies is killed with it (``PR_SET_PDEATHSIG``). Each child is named
``sentinel-crawl`` (``/proc/PID/comm``), runs in a folder of its own with the
environment as it is when the crawl starts, writes its stderr to a file and its
records to a pipe.

A reader thread drains the pipe into a queue, so the child never waits for us while
the pipeline stores and matches a batch; we only look at the clock when we take the
next record. Leaving the ``with`` block, for whatever reason, kills a child that is
still running.
"""

from __future__ import annotations

import io
import multiprocessing.process
import os
import pickle
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from multiprocessing import context as mp_context
from multiprocessing import forkserver, popen_forkserver, spawn, util
from pathlib import Path
from typing import Any, Self

from crawler.reap import MARKER, reap

PROJECT_ROOT = Path(__file__).resolve().parents[1]
NAME = "sentinel-crawl"  # the children's /proc/PID/comm (at most 15 bytes)
# What the fork server imports once, for every crawl it forks.
PRELOAD = ["crawler.preload"]
COMMAND = [sys.executable, "-m", "crawler.spider"]  # what a crawl runs, for messages

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
        self._proc: multiprocessing.process.BaseProcess | None = None
        self._reader: threading.Thread | None = None
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._stderr = None

    def __enter__(self) -> Self:
        self._tmp = tempfile.TemporaryDirectory(prefix="sentinel-crawl-")
        tmp = self._tmp.name
        env = dict(os.environ)
        env["PYTHONPATH"] = str(PROJECT_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        env[MARKER] = self._marker = uuid.uuid4().hex  # crawler.reap: no browser left behind
        stderr_path = os.path.join(tmp, "stderr.txt")
        self._stderr = open(stderr_path, "w+b")  # closed in __exit__
        ctx = _context()
        reader, writer = ctx.Pipe(duplex=False)
        try:
            self._proc = ctx.Process(
                target=_child,
                args=(self.job, writer, stderr_path, tmp, env),
                name=NAME,
                daemon=True,  # killed, not waited for, if this process exits first
            )
            self._proc.start()
        except BaseException:
            reader.close()
            self._proc = None
            self._cleanup()
            raise
        finally:
            writer.close()
        read_fd = os.dup(reader.fileno())
        reader.close()
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
                raise subprocess.TimeoutExpired(COMMAND, self.timeout)
            if item is ...:
                continue
            got += 1
            yield item
        self._proc.join()
        returncode = self._proc.exitcode
        if returncode != 0 and not got:
            self._stderr.seek(0)
            tail = self._stderr.read().decode("utf-8", "replace").strip().splitlines()[-3:]
            raise RuntimeError(
                f"the crawler process failed (exit {returncode}): {' | '.join(tail)}"
            )

    def __exit__(self, *exc) -> None:
        if self._proc is not None and self._proc.is_alive():
            self._proc.kill()  # a timeout, or the consumer stopped: never leave it running
        if self._proc is not None:
            self._proc.join()
            self._proc.close()
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


class _Popen(popen_forkserver.Popen):
    """multiprocessing's forkserver launch, less one step: the child does not run this
    process's main module again (a script, ``sentinel``, pytest) before the crawl."""

    def _launch(self, process_obj) -> None:
        prep = spawn.get_preparation_data(process_obj._name)
        for key in ("init_main_from_name", "init_main_from_path", "dir"):
            prep.pop(key, None)  # ``dir``: the child moves to its own folder itself
        buf = io.BytesIO()
        mp_context.set_spawning_popen(self)
        try:
            mp_context.reduction.dump(prep, buf)
            mp_context.reduction.dump(process_obj, buf)
        finally:
            mp_context.set_spawning_popen(None)
        self.sentinel, w = forkserver.connect_to_new_process(self._fds)
        parent_w = os.dup(w)  # the child's sentinel of this process, as upstream keeps it
        self.finalizer = util.Finalize(self, util.close_fds, (parent_w, self.sentinel))
        with open(w, "wb", closefd=True) as f:
            f.write(buf.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


class _Process(mp_context.ForkServerProcess):
    @staticmethod
    def _Popen(process_obj):
        return _Popen(process_obj)


class _Context(mp_context.ForkServerContext):
    Process = _Process


def _context() -> _Context:
    forkserver.set_forkserver_preload(PRELOAD)
    return _Context()


def _child(job: dict[str, Any], out, stderr_path: str, cwd: str, env: dict[str, str]) -> None:
    """The crawl, in the forked child: as ``python -m crawler.spider`` would run it."""
    _name_and_tie_to_parent()
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    err = os.open(stderr_path, os.O_WRONLY | os.O_APPEND)
    os.dup2(err, 2)
    os.close(err)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.close(null)
    sink = os.dup(out.fileno())
    out.close()
    from crawler.spider import run_job

    run_job(job, f"fd:{sink}")


def _name_and_tie_to_parent() -> None:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(15, NAME.encode(), 0, 0, 0)  # PR_SET_NAME
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
