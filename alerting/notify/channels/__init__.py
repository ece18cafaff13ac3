"""Notification channels, one module per channel, found through entry points.

``base`` is the interface (``Channel``, ``Draft``, ``Delivery``, the errors);
``registry.channel_types()`` lists every channel declared in the ``sentinel.channels``
entry-point group, the built-ins (``smtp`` → ``email``, ``chat``) included. A channel
makes its copies of a message when it is queued and sends them as stored.
"""

from __future__ import annotations

from alerting.notify.channels.base import (  # noqa: F401
    Channel,
    Delivery,
    DeliveryError,
    Draft,
    NotConfigured,
    PermanentFailure,
)
from alerting.notify.channels.registry import ChannelError, channel_types  # noqa: F401
