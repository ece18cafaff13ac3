"""The channel interface: what a channel stores for a message, how it sends it, and
the errors it raises.

A channel is one module with one ``Channel`` subclass and its pydantic config model,
declared as an entry point in the ``sentinel.channels`` group (see ``registry``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel

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


@dataclass(frozen=True)
class PersonalCopy:
    """One addressed person's own rendering of a message (it carries their one-tap
    link): a channel that can reach that address alone sends them this instead."""

    address: str
    html: str
    text: str


@dataclass(frozen=True)
class Draft:
    """A message rendered once, before any channel has made its copy of it."""

    key: str
    kind: str
    #: Recipient groups or plain addresses, as the message was composed.
    groups: tuple[str, ...]
    subject: str
    html: str
    text: str
    message_id: str
    #: Message-IDs this one replies to (the incident's first alert), oldest first.
    thread: tuple[str, ...]
    #: When it was queued, in the office's time zone.
    date: datetime
    incident_id: int | None
    #: Personal copies by address (alerting/links); the others get ``html``/``text``.
    personal: tuple[PersonalCopy, ...] = ()


@dataclass(frozen=True)
class Delivery:
    """One stored copy of a message for one channel: the exact ``body`` it will send and
    the ``recipients`` it sends to. ``suffix`` tells the copies of one message apart
    (its key becomes ``key#suffix``); the empty suffix is the message's own key."""

    recipients: list[str]
    body: bytes
    suffix: str = ""


class Channel:
    """Makes its copies of a message when the message is queued, and sends a stored copy
    as it is (never rendering again). One instance serves one drain: ``close`` ends it,
    so a channel may keep one connection for the batch."""

    #: The name stored with each copy (``outbox.channel``) and the entry point's name.
    kind: ClassVar[str] = ""
    #: What the office calls it (``sentinel outbox``); empty: the kind.
    label: ClassVar[str] = ""
    #: The pydantic model of this channel's settings in sentinel.yaml.
    config_model: ClassVar[type[BaseModel]]
    #: The key under ``notify:`` that holds the settings (empty: the channel's kind); None
    #: when they live elsewhere (the e-mail channel's are the top-level ``smtp:``).
    section: ClassVar[str | None] = ""

    def __init__(self, config, settings: Any):
        self.config = config
        self.settings = settings

    @classmethod
    def settings_of(cls, config) -> BaseModel | None:
        """This channel's settings (an instance of ``config_model``), or None when
        sentinel.yaml has none."""
        from alerting.notify.settings import settings_of

        if cls.section is None:
            return None
        notify = settings_of(config)
        name = cls.section or cls.kind
        if name in type(notify).model_fields:
            return getattr(notify, name)
        return (notify.model_extra or {}).get(name)

    @classmethod
    def deliveries(cls, config, draft: Draft) -> list[Delivery]:
        """The copies to store for ``draft`` (none when this channel does not serve any
        of its groups). Called inside the transaction that queues the message. Every
        channel defines it; one that does not is a programming error, said at once."""
        raise TypeError(f"渠道 {cls.kind} 未实现 deliveries()：不知道要为消息保存哪些副本")

    def send(self, message: OutboxMessage) -> str | None:
        """Deliver ``message``; return a note (e.g. refused addresses) or None.
        Raise DeliveryError (temporary) or PermanentFailure."""
        raise DeliveryError(f"channel {self.kind} cannot send")

    def close(self) -> None:
        """Release connections at the end of a drain."""
