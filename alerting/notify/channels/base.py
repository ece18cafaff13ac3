"""The channel interface, its errors and the registry."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from storage.models import OutboxMessage


class DeliveryError(Exception):
    """Sending failed and may work later (server down, timeout, 4xx)."""

    permanent = False
    #: The server was not reachable at all: later messages of the batch would fail too.
    unreachable = False


class PermanentFailure(DeliveryError):
    """Sending can never work as the message stands (e.g. 550: address refused)."""

    permanent = True


class NotConfigured(DeliveryError):
    """The channel has no configuration (no ``smtp:``, no webhook for the group): the
    message waits in the outbox until there is one."""

    unreachable = True


class Channel:
    """Sends stored messages. ``open``/``close`` bracket one drain, so a channel may
    keep one connection for a batch."""

    kind: ClassVar[str] = ""

    def __init__(self, config, settings):
        self.config = config
        self.settings = settings

    def send(self, message: OutboxMessage) -> str | None:
        """Deliver ``message``; return a note (e.g. refused addresses) or None.
        Raise DeliveryError (temporary) or PermanentFailure."""
        raise DeliveryError(f"channel {self.kind} cannot send")

    def close(self) -> None:
        """Release connections at the end of a drain."""


_registry: dict[str, type[Channel]] = {}


def register(cls: type[Channel]) -> type[Channel]:
    """Class decorator: make a channel available under its ``kind``."""
    _registry[cls.kind] = cls
    return cls


def channel_types() -> dict[str, type[Channel]]:
    """Every registered channel by kind (built-ins loaded on first use)."""
    from alerting.notify.channels import chat, smtp  # noqa: F401  (register themselves)

    return dict(_registry)
