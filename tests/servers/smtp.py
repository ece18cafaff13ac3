"""A hostile SMTP server on 127.0.0.1: it greets one byte at a time and never finishes
(smtplib's timeout is per socket read, so only an overall deadline stops a client).

``with TricklingSMTPServer(every=0.5) as srv: srv.port``. ``srv.connections`` counts
the clients that connected; each one is served until it hangs up or the server stops.
"""

from __future__ import annotations

import socket
import threading
from typing import Self


class TricklingSMTPServer:
    def __init__(self, every: float = 1.0):
        self.every = every
        self.connections = 0
        self._stop = threading.Event()
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()

    def _trickle(self, conn: socket.socket) -> None:
        greeting = b"220 " + b"x" * 100_000
        with conn:
            for i in range(len(greeting)):
                if self._stop.wait(self.every):
                    return
                try:
                    conn.sendall(greeting[i : i + 1])
                except OSError:
                    return  # the client hung up

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._sock.close()
        self._thread.join(timeout=5)
