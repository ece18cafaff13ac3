"""Loopback servers for tests (HTTP with hostile resources), after Scrapy's mockserver."""

from tests.servers.http import LoopbackHTTPServer, Resource

__all__ = ["LoopbackHTTPServer", "Resource"]
