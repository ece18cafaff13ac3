"""The web console (``sentinel web``): server-rendered pages and a JSON API over the
same domain functions the CLI calls. ``create_app(config)`` builds the application."""

from sentinel.web.app import create_app

__all__ = ["create_app"]
