"""One wall-clock deadline for a block of blocking network code, whatever the server does.

httpx, requests and smtplib only have timeouts per network operation: a server that
sends one byte every few seconds never trips them (encode/httpx#1450), so a fetch, a
webhook or an SMTP exchange can last for ever. ``Deadline`` bounds the whole block:

- code that asks (our httpx transport, see ``deadline_transport``) gets the time left as
  the timeout of each connect, read and write, and an error once it is gone;
- every socket created in the block by this thread (seen through the ``socket.__new__``
  audit event, so it works for libraries we do not control, such as Apprise's requests
  calls) and every socket handed to ``watch`` is shut down when the deadline passes,
  which wakes any call blocked on it, even one inside a TLS handshake.

One reaper thread serves every deadline of the process. Deadlines nest: an inner one
may shorten, never lengthen, an outer one. A deadline may also carry a ``cancel``
event (inner ones inherit it): ``cancel(event)`` ends every open deadline that carries
it at once, so a stopping daemon does not wait for a slow server.
"""

from __future__ import annotations

import contextvars
import heapq
import itertools
import socket
import sys
import threading
import time
from typing import Self

_current: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar(
    "sentinel_deadline", default=None
)
_local = threading.local()  # .active: the deadlines open in this thread, innermost last
_hook_lock = threading.Lock()
_hook_installed = False


def _audit(event: str, args: tuple) -> None:
    # Runs for every audited event of the process: keep it tiny and never raise.
    if event != "socket.__new__":
        return
    try:
        active = getattr(_local, "active", None)
        if active:
            for d in active:
                d.watch(args[0])
    except Exception:
        pass


def _install_hook() -> None:
    global _hook_installed
    with _hook_lock:
        if not _hook_installed:
            sys.addaudithook(_audit)
            _hook_installed = True


class _Reaper:
    """One thread that expires deadlines in order. It sleeps until the earliest deadline
    still open: one closed before its end (nearly all: a fetch takes milliseconds, its
    deadline seconds) is dropped without a wake-up of its own, and the heap is compacted
    when such leftovers crowd it."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Deadline]] = []
        self._cond = threading.Condition()
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        self._compact_at = 1024  # heap size at which closed entries are swept out

    def arm(self, d: Deadline) -> None:
        with self._cond:
            heap = self._heap
            if len(heap) >= self._compact_at:  # amortised: at twice the size left last time
                heap[:] = [e for e in heap if e[2]._open]
                heapq.heapify(heap)
                self._compact_at = max(1024, 2 * len(heap))
            heapq.heappush(heap, (d.end, next(self._seq), d))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="deadline-reaper", daemon=True
                )
                self._thread.start()
            if heap[0][2] is d:
                self._cond.notify()

    def _run(self) -> None:
        heap = self._heap
        while True:
            with self._cond:
                while heap and not heap[0][2]._open:
                    heapq.heappop(heap)  # ended before its time: nothing to reap
                if not heap:
                    self._cond.wait()
                    continue
                end, _, d = heap[0]
                wait = end - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(heap)
            d._expire()

    def expire_cancelled(self, event: threading.Event) -> None:
        with self._cond:
            armed = [d for _, _, d in self._heap if d.cancel is event]
        for d in armed:
            d._expire()


_reaper = _Reaper()


def cancel(event: threading.Event) -> None:
    """Set ``event`` and end every open deadline carrying it; a deadline opened with it
    afterwards has no time at all."""
    event.set()
    _reaper.expire_cancelled(event)


class Deadline:
    """``with Deadline(30): ...`` — the block's network calls end within 30 s.

    After the block, ``expired`` says whether the deadline cut it short (a library may
    have turned the closed socket into its own error, or into a False return)."""

    def __init__(self, seconds: float, cancel: threading.Event | None = None):
        self.seconds = float(seconds)
        self.cancel = cancel
        self.end = 0.0
        self.expired = False
        self._socks: list[socket.socket] = []
        self._lock = threading.Lock()
        self._open = False
        self._token: contextvars.Token | None = None

    # -- the block --------------------------------------------------------------
    def __enter__(self) -> Self:
        _install_hook()
        outer = _current.get()
        self.end = time.monotonic() + self.seconds
        if outer is not None:
            self.end = min(self.end, outer.end)
            self.cancel = self.cancel or outer.cancel
        if self.cancel is not None and self.cancel.is_set():
            self.end = time.monotonic()
        self._open = True
        self._token = _current.set(self)
        active = getattr(_local, "active", None)
        if active is None:
            active = _local.active = []
        active.append(self)
        _reaper.arm(self)
        if self.cancel is not None and self.cancel.is_set():
            self._expire()  # cancelled while it was being armed
        return self

    def __exit__(self, *exc) -> None:
        with self._lock:
            self._open = False
            self._socks.clear()
        _local.active.remove(self)
        if self._token is not None:
            _current.reset(self._token)

    # -- for code inside the block ------------------------------------------------
    def left(self) -> float:
        """Seconds left (negative once passed)."""
        return self.end - time.monotonic()

    def watch(self, sock) -> None:
        """Shut ``sock`` down when the deadline passes (if the block is still open)."""
        with self._lock:
            if not self._open:
                return
            if self.expired:
                _shutdown(sock)
            elif all(s is not sock for s in self._socks):
                self._socks.append(sock)

    def _expire(self) -> None:
        with self._lock:
            if not self._open:
                return
            self.expired = True
            socks, self._socks = self._socks, []
        for s in socks:
            _shutdown(s)


def _shutdown(sock) -> None:
    try:
        if sock.fileno() != -1:
            sock.shutdown(socket.SHUT_RDWR)
    except (OSError, ValueError, AttributeError):
        pass  # already closed, never connected, or detached into an SSLSocket


def current() -> Deadline | None:
    """The innermost open deadline of this context, if any."""
    return _current.get()


def time_left(timeout: float | None, on_passed: type[Exception]) -> float | None:
    """``timeout`` shortened to what the current deadline leaves; raises ``on_passed``
    when nothing is left. Without a deadline, ``timeout`` unchanged."""
    d = _current.get()
    if d is None:
        return timeout
    left = d.left()
    if left <= 0:
        d.expired = True
        raise on_passed("整个请求已超过时限")
    return left if timeout is None else min(timeout, left)
