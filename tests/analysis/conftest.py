"""The analysis tests use the notification tests' real SMTP server."""

from tests.notify.conftest import smtp_server  # noqa: F401
