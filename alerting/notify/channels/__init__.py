"""Notification channels, one module per channel, registered by ``kind`` name.

A channel sends one stored message as it is; it never renders. Built-ins register
through the same ``register`` decorator an outside plug-in would use.
"""

from __future__ import annotations

from alerting.notify.channels.base import (  # noqa: F401
    Channel,
    DeliveryError,
    NotConfigured,
    PermanentFailure,
    channel_types,
    register,
)
