"""A message as compose words it: plain values, keyed, not yet rendered or stored."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class LinkRequest:
    """The one-tap link each addressed person gets in a message (alerting/links): the
    action (``ack`` or ``approve``), the reply version an approval is for, and names
    that get no link (the drafter does not approve their own reply)."""

    action: str
    version: int | None = None
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class MessageSpec:
    """One notification to queue. Compose functions return these and touch nothing else;
    ``Outbox.queue`` renders the template once and stores one copy per channel.

    ``key`` makes queueing idempotent: a key is stored once. With ``repeat``, ``key``
    names a family (``escalation-reminder:7:2``) of which one message is stored per
    ``notify.repeat_interval``."""

    key: str
    #: A ``core.vocabulary.MessageKind`` key (``new_incident``, ``reminder`` …).
    kind: str
    #: Recipient groups (``office``, ``leaders`` …) or plain addresses.
    to: tuple[str, ...]
    subject: str
    #: ``alerting/compose/templates/<template>.html.j2`` and ``.txt.j2``.
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    #: The incident it is about: an incident silence holds it, mail threads under the
    #: incident's first alert.
    incident_id: int | None = None
    #: Quiet hours hold back messages of the severities they list.
    severity: str | None = None
    #: The source it is about: a source silence holds it.
    source: str | None = None
    #: This is the incident's first alert: its Message-ID is the root of the thread.
    root: bool = False
    repeat: bool = False
    #: Every post it reports is silenced: stored for the record, never sent.
    silenced: bool = False
    not_before: datetime | None = None
    #: A signed link for each addressed person (needs ``console_url``): their own copy.
    link: LinkRequest | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "to", tuple(self.to))
