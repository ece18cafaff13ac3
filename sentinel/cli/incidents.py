"""Commands of this family register on the ``cli`` group from sentinel.cli.base."""

from sentinel.cli.base import cli  # noqa: F401
