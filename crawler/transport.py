"""An httpx transport whose every connect, read and write is bounded by the current
``crawler.deadline.Deadline``, so one fetch ends by its deadline from the connect to the
last byte, even against a server that trickles its headers one byte a second.

httpx 0.28 has no overall timeout (encode/httpx#1450) and ``HTTPTransport`` takes no
network backend, so the transport's connection pool is rebuilt with one (httpcore's
public ``network_backend`` hook). httpx is pinned; tests/crawler/test_hostile.py fails
if a new version stops honouring this.
"""

from __future__ import annotations

import httpcore
import httpx

from crawler.deadline import current, time_left


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream):
        self._inner = inner
        self._sock = inner.get_extra_info("socket")

    def _watched(self) -> None:
        d = current()
        if d is not None and self._sock is not None:
            d.watch(self._sock)  # a pooled connection: opened under an earlier deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self._watched()
        return self._inner.read(max_bytes, time_left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._watched()
        self._inner.write(buffer, time_left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None) -> httpcore.NetworkStream:
        self._watched()
        return _Stream(
            self._inner.start_tls(
                ssl_context, server_hostname, time_left(timeout, httpcore.ConnectTimeout)
            )
        )

    def get_extra_info(self, info: str):
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        return _Stream(
            self._inner.connect_tcp(
                host,
                port,
                time_left(timeout, httpcore.ConnectTimeout),
                local_address,
                socket_options,
            )
        )

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        return _Stream(
            self._inner.connect_unix_socket(
                path, time_left(timeout, httpcore.ConnectTimeout), socket_options
            )
        )

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def deadline_pool(limits: httpx.Limits, verify: bool = True) -> httpcore.ConnectionPool:
    """A plain HTTP/1.1 connection pool (no proxy) that honours ``crawler.deadline``."""
    return httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        http1=True,
        http2=False,
        network_backend=_Backend(),
    )


def deadline_transport(limits: httpx.Limits, verify: bool = True) -> httpx.HTTPTransport:
    """A plain HTTP/1.1 httpx transport (no proxy) that honours ``crawler.deadline``."""
    transport = httpx.HTTPTransport(limits=limits, verify=verify, trust_env=False)
    transport._pool = deadline_pool(limits, verify)
    return transport
