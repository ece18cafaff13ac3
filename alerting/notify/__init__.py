"""Notifications: every message is rendered once, stored in the outbox, then sent.

outbox.py (store idempotently by key, claim with a lease, retry with backoff, drain),
incident_alerts.py (an incident's first alert and its grouped follow-ups), email.py
(building mails, Message-IDs), routing.py (who, when, silences, quiet hours),
settings.py (``notify:``), channels/ (one module per channel, found through the
``sentinel.channels`` entry points). What the messages say is ``alerting.compose``'s.
See docs/notifications.md.
"""
