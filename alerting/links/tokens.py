"""Signed tokens for one-tap links: issued with a row in ``signed_links``, read back.

The token is itsdangerous' URL-safe signed JSON of ``[nonce, user id, incident id,
action, reply version, expiry (Unix seconds)]``. The signature makes it impossible to
change any of these without the console's secret; the row makes it usable once and lets
the office see what was sent.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import BadData, URLSafeSerializer

from alerting.notify.settings import settings_of
from core.secrets import web_secret
from storage import signed_links
from storage.models import User

SALT = "sentinel.onetap.v1"
ACTIONS = ("ack", "approve")
#: Longer than any token we sign: anything longer is not ours.
MAX_LENGTH = 400


@dataclass(frozen=True)
class Claims:
    """What a token says, once its signature is checked."""

    nonce: str
    user_id: int
    incident_id: int
    action: str
    version: int | None
    expires_at: datetime


def _serializer(config) -> URLSafeSerializer:
    return URLSafeSerializer(web_secret(config.var_path), salt=SALT)


def issue(
    session,
    config,
    *,
    user: User,
    incident_id: int,
    action: str,
    now: datetime,
    version: int | None = None,
    valid_for: float | None = None,
) -> str:
    """A new token for ``user`` to do ``action`` on the incident, stored as a row."""
    if action not in ACTIONS:
        raise ValueError(f"unknown link action {action!r}")
    valid = settings_of(config).link_valid_for if valid_for is None else valid_for
    # Whole seconds: the token carries the expiry as an integer, the row the same time.
    expires = (now + timedelta(seconds=valid)).replace(microsecond=0)
    nonce = secrets.token_urlsafe(12)
    signed_links.add(
        session,
        nonce=nonce,
        user=user,
        incident_id=incident_id,
        action=action,
        reply_version=version,
        issued_at=now,
        expires_at=expires,
    )
    return _serializer(config).dumps(
        [nonce, user.id, incident_id, action, version, int(expires.timestamp())]
    )


def read(config, token: str) -> Claims | None:
    """The claims of a token signed by us, else None (changed, cut short, foreign)."""
    if not token or len(token) > MAX_LENGTH:
        return None
    try:
        data = _serializer(config).loads(token)
    except (BadData, ValueError, UnicodeError):
        return None
    if not isinstance(data, list) or len(data) != 6:
        return None
    nonce, user_id, incident_id, action, version, expires = data
    if not (
        isinstance(nonce, str)
        and isinstance(user_id, int)
        and isinstance(incident_id, int)
        and action in ACTIONS
        and (version is None or isinstance(version, int))
        and isinstance(expires, int)
    ):
        return None
    return Claims(
        nonce, user_id, incident_id, action, version, datetime.fromtimestamp(expires, UTC)
    )
