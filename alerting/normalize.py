"""Normalise text for matching without losing positions.

``normalize(text)`` returns the compact form the matcher searches (full-width to
half-width, traditional to simplified, lower case, and every space, punctuation
mark, bracket, symbol and emoji removed, because people put them between
characters to escape filters: 江 西 警*察 学 院, 江西【警察】学院) together with
``offsets``: for each character of the compact form, its index in the original
string. A hit at compact ``[i, j)`` is ``[offsets[i], offsets[j-1] + 1)`` in the
original.

Traditional to simplified uses the character table of OpenCC
(``opencc-python-reimplemented``) one character at a time: phrase conversion may
change the length and would break the offset map, and names and terms are
matched character by character anyway.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path


@functools.lru_cache(maxsize=1)
def char_table() -> dict[str, str]:
    """Map of single characters to their normalised form ('' = drop)."""
    import opencc

    table: dict[str, str] = {}
    path = Path(opencc.__file__).parent / "dictionary" / "TSCharacters.txt"
    with path.open(encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 2:
                target = parts[1].split(" ")[0]
                if len(target) == 1 and target != parts[0]:
                    table[parts[0]] = target
    for cp in range(0xFF01, 0xFF5F):  # full-width ASCII; its punctuation is dropped like ASCII's
        half = chr(cp - 0xFEE0)
        table[chr(cp)] = half.lower() if half.isalnum() else ""
    for cp in range(ord("A"), ord("Z") + 1):
        table[chr(cp)] = chr(cp + 32)
    table["\u3000"] = ""
    table["_"] = ""
    # Characters that are "alphanumeric" for Python but are decoration in posts.
    for ch in "〇":
        table[ch] = ch
    return table


@functools.lru_cache(maxsize=1)
def simplified_to_traditional() -> dict[str, list[str]]:
    """Inverse of the table for CJK characters: the traditional forms of a simplified one."""
    inv: dict[str, list[str]] = {}
    for t, s in char_table().items():
        if "\u3400" <= s <= "\u9fff":
            inv.setdefault(s, []).append(t)
    return inv


@dataclass(frozen=True)
class Normalized:
    """A compact, normalised string and the original index of each of its characters."""

    text: str
    offsets: list[int]
    original: str

    def span(self, i: int, j: int) -> tuple[int, int]:
        """Original ``[start, end)`` of the compact ``[i, j)``."""
        if j <= i:
            k = self.offsets[i] if i < len(self.offsets) else len(self.original)
            return k, k
        return self.offsets[i], self.offsets[j - 1] + 1


def normalize_char(ch: str) -> str:
    """The normalised form of one character ('' when it is dropped)."""
    m = char_table().get(ch)
    if m is not None:
        return m
    return ch if ch.isalnum() else ""


def normalize(text: str) -> Normalized:
    """Compact normalised form of ``text`` with its offset map."""
    table = char_table()
    get = table.get
    out: list[str] = []
    offs: list[int] = []
    append, oappend = out.append, offs.append
    for i, ch in enumerate(text):
        m = get(ch)
        if m is None:
            if not ch.isalnum():
                continue
            m = ch
        elif not m:
            continue
        append(m)
        oappend(i)
    return Normalized("".join(out), offs, text)


def normalize_term(term: str) -> str:
    """How a watchlist term looks after normalisation (what is searched for)."""
    return "".join(normalize_char(c) for c in term)


def is_cjk(ch: str) -> bool:
    return (
        "\u3400" <= ch <= "\u9fff"
        or "\uf900" <= ch <= "\ufaff"
        or "\U00020000" <= ch <= "\U0002ffff"
    )


def is_latin(ch: str) -> bool:
    return (
        ("a" <= ch <= "z")
        or ("A" <= ch <= "Z")
        or ("\uff21" <= ch <= "\uff3a")
        or ("\uff41" <= ch <= "\uff5a")
    )
