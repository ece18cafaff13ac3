"""Pinyin of single characters, cached. Used on names and terms when a matcher is
built, and on short candidate texts only: never on whole posts of the stream."""

from __future__ import annotations

import functools

from alerting.normalize import is_cjk


@functools.lru_cache(maxsize=65536)
def syllable(ch: str) -> str:
    """The most common toneless reading of a CJK character; other characters as they are."""
    if not is_cjk(ch):
        return ch
    from pypinyin import Style, pinyin

    r = pinyin(ch, style=Style.NORMAL, heteronym=False, errors="default")
    s = r[0][0] if r and r[0] else ch
    return s if s.isascii() else ch


def syllables(text: str) -> list[str]:
    return [syllable(c) for c in text]


def spelled(text: str) -> str:
    """The whole text in toneless pinyin, no spaces (江西警院 -> jiangxijingyuan)."""
    return "".join(syllables(text))
