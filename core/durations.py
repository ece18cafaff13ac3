"""One way to write a length of time in the files the office edits: ``30s``, ``5m``,
``2h``, ``1d`` or a plain number of seconds.

``Duration`` is the pydantic field type for every such setting (one validator, not one
per model); ``OptionalDuration`` allows ``null``; ``DurationOrZero`` allows ``0`` for
"none at all" (a delay between requests, say).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_HINT = "请写成 30s、5m、2h、1d 或秒数"


def parse_duration(value: Any, *, allow_zero: bool = False) -> float:
    """``'30s'``, ``'5m'``, ``'2h'``, ``'1d'`` or a number of seconds → seconds.

    Raises ``ValueError`` with a sentence in the office's words."""
    if isinstance(value, bool):
        raise ValueError(f"应为时长，{_HINT}")  # noqa: TRY004 - pydantic reports ValueError
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        m = _DURATION.match(str(value))
        if not m:
            raise ValueError(f"'{value}' 不是时长，{_HINT}")
        seconds = float(m.group(1)) * _UNITS[m.group(2)]
    if seconds < 0 or (seconds == 0 and not allow_zero):
        raise ValueError("时长必须大于 0")
    return seconds


def format_duration(seconds: float) -> str:
    """Seconds in the office's words: ``90`` → ``1分30秒``, ``7200`` → ``2小时``."""
    s = round(seconds)
    if s <= 0:
        return "0秒"
    parts = []
    for unit, size in (("天", 86400), ("小时", 3600), ("分", 60), ("秒", 1)):
        n, s = divmod(s, size)
        if n:
            parts.append(f"{n}{unit}")
    return "".join(parts[:2])


def _nonzero(v: Any) -> float:
    return parse_duration(v)


def _maybe(v: Any) -> float | None:
    return None if v is None else parse_duration(v)


def _or_zero(v: Any) -> float:
    return parse_duration(v, allow_zero=True)


_SCHEMA = WithJsonSchema({"type": ["string", "number"], "examples": ["30s", "5m", "2h", 300]})

Duration = Annotated[float, BeforeValidator(_nonzero), _SCHEMA]
"""Seconds, written as ``30s``/``5m``/``2h``/``1d`` or a number; must be above zero."""

OptionalDuration = Annotated[float | None, BeforeValidator(_maybe), _SCHEMA]
"""Like ``Duration``, or ``null`` for "not set"."""

DurationOrZero = Annotated[float, BeforeValidator(_or_zero), _SCHEMA]
"""Like ``Duration``, but ``0`` is allowed (for "no wait at all")."""
