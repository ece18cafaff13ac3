"""The demo's console takes 8080 when it is free and another port when it is taken."""

from __future__ import annotations

import socket

from demo.console import free_port


def test_a_taken_port_gives_way_to_a_free_one():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        other = free_port(busy)
        assert other != busy and other > 0
        with socket.socket() as s:
            s.bind(("127.0.0.1", other))  # really free
