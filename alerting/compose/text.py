"""Crawled text made fit for one line: a mail header, a title, a subject."""

from __future__ import annotations

import re

# Everything that could end a header line or confuse a mail client: C0/C1 controls,
# the Unicode line and paragraph separators, and other whitespace runs.
_CONTROL = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]+"
)
_SPACE = re.compile(r"\s+")


def clean_line(value: object, cap: int = 80) -> str:
    """One line of crawled text fit for a header or a title: control characters and
    line breaks removed, whitespace collapsed, at most ``cap`` characters."""
    s = _CONTROL.sub(" ", str(value or ""))
    s = _SPACE.sub(" ", s).strip()
    if len(s) > cap:
        s = s[: cap - 1].rstrip() + "…"
    return s
