"""Notifications: every message is rendered once, stored in the outbox, then sent.

outbox.py (queue, retries, grouping), email.py (building messages), routing.py (who,
when, silences, quiet hours), masking.py (personal data), channels/ (one module per
channel), templates/ (Jinja2, autoescape on). See docs/notifications.md.
"""
