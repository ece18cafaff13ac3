"""The built-in source types; importing this package registers them."""

from crawler.sources import feed, search, site  # noqa: F401
