"""Fixtures for the demo world: a world on a hand-moved clock, and a fetch helper."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass

import pytest

from demo.world import CampusWorld


class HandClock:
    """Real seconds since the world started, moved by the test."""

    def __init__(self, t: float = 0.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


@dataclass
class Fetched:
    status: int
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        for k, v in self.headers.items():
            if k.lower() == name.lower():
                return v
        return None


def fetch(url: str, headers: dict[str, str] | None = None, method: str = "GET") -> Fetched:
    req = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return Fetched(r.status, dict(r.headers.items()), r.read())
    except urllib.error.HTTPError as e:
        return Fetched(e.code, dict(e.headers.items()), e.read())


@pytest.fixture
def clock():
    return HandClock()


@pytest.fixture
def world(clock):
    with CampusWorld(clock=clock) as w:
        yield w
