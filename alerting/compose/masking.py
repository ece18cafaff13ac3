"""Masking of personal data in outgoing text: mobile numbers, ID-card numbers, e-mail.

Every mask keeps the text's length, so the matcher's character offsets (used for
highlighting) still point at the same terms after masking.
"""

from __future__ import annotations

import re

# Mainland mobile numbers (optionally +86), not inside a longer run of digits.
_PHONE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?!\d)")
# 18-digit resident ID numbers (last character may be X), and old 15-digit ones.
_ID18 = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3}[0-9Xx])(?![0-9A-Za-z])")
_ID15 = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{6})(\d{3})(?![0-9A-Za-z])")
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])([A-Za-z0-9._%+-]*)(@[A-Za-z0-9.-]+\.[A-Za-z]{2,})")


def _phone(m: re.Match) -> str:
    s = m.group(0)
    # Keep the first three and last four digits; star the middle digits, keep separators.
    digits = [i for i, c in enumerate(s) if c.isdigit()]
    body = digits[-11:]
    hide = set(body[3:7])
    return "".join("*" if i in hide else c for i, c in enumerate(s))


def mask(text: str | None) -> str:
    """``text`` with personal data starred out, same length."""
    if not text:
        return text or ""
    text = _ID18.sub(lambda m: m.group(1) + "*" * 8 + m.group(3), text)
    text = _ID15.sub(lambda m: m.group(1) + "*" * 6 + m.group(3), text)
    text = _PHONE.sub(_phone, text)
    text = _EMAIL.sub(lambda m: m.group(1) + "*" * len(m.group(2)) + m.group(3), text)
    return text
