"""What the crawl fork server (``crawler.child``) imports once for every crawl it forks:
the spider, Scrapy, and the module of each component Scrapy loads for a crawl (the
middlewares, extensions, download handlers, scheduler queues...), which a crawl would
otherwise import again in each child. Components that fail to load are left to the
crawl, which reports them as it always has."""

from __future__ import annotations

import contextlib
import sys

import scrapy.crawler  # noqa: F401
from scrapy.settings import Settings
from scrapy.utils.misc import load_object

import crawler.child
import crawler.hosts  # noqa: F401
from crawler.spider import settings_for

_DICTS = ("DOWNLOADER_MIDDLEWARES", "SPIDER_MIDDLEWARES", "EXTENSIONS", "DOWNLOAD_HANDLERS")
_CLASSES = (
    "SCHEDULER",
    "DUPEFILTER_CLASS",
    "STATS_CLASS",
    "LOG_FORMATTER",
    "TWISTED_DNS_RESOLVER",
    "ROBOTSTXT_PARSER",
    "SCHEDULER_PRIORITY_QUEUE",
    "SCHEDULER_DISK_QUEUE",
    "SCHEDULER_MEMORY_QUEUE",
    "REQUEST_FINGERPRINTER_CLASS",
    "SCHEDULER_START_DISK_QUEUE",
    "SCHEDULER_START_MEMORY_QUEUE",
    "DOWNLOADER",
    "DOWNLOADER_HTTPCLIENTFACTORY",
    "DOWNLOADER_CLIENTCONTEXTFACTORY",
    "HTTPCACHE_STORAGE",
    "HTTPCACHE_POLICY",
    "ITEM_PROCESSOR",
    "SPIDER_LOADER_CLASS",
)


def _load_components() -> None:
    settings = Settings(settings_for({}))
    paths = [
        (v if key == "DOWNLOAD_HANDLERS" else p)  # that one maps a scheme to its class
        for key in _DICTS
        for p, v in settings.getwithbase(key).items()
        if v is not None
    ]
    paths += [v for key in _CLASSES if isinstance(v := settings.get(key), str) and "." in v]
    for path in paths:
        with contextlib.suppress(Exception):
            load_object(path)


_load_components()
# Each crawl installs its own reactor (the asyncio one): none may be installed here.
if "twisted.internet.reactor" in sys.modules:
    raise RuntimeError("a Twisted reactor was installed while preloading the crawl server")
