"""The evasions of topic terms, as for the entity's names: pinyin (the whole term, or one
or two characters of it), initials (性骚扰 → xsr), homophones (性骚饶, 地勾油) and English
terms for posts in English.

Spaces, symbols, full-width and traditional forms are already gone after
normalisation; one wrong character is ``TopicFinder._fuzzy_hits``. Everything here runs
only on posts that name the college.
"""

from __future__ import annotations

from bisect import bisect_left
from itertools import accumulate

import ahocorasick

from alerting.normalize import Normalized, is_cjk, is_latin, normalize_term
from alerting.pinyin import syllable

ENGLISH_SUFFIXES = ("", "s", "es", "ed", "d", "ing", "er", "ers")


def spellings(norm: str) -> list[tuple[str, str]]:
    """(form, kind) of the whole-term pinyin and initials of an all-CJK term: the full
    spelling for 2-4 characters when it has at least 6 letters (tiaolou, not shasi), the
    initials for 3-4 characters (xsr)."""
    out: list[tuple[str, str]] = []
    syl = [syllable(c) for c in norm]
    if not all(s.isascii() and s.isalpha() for s in syl):
        return out
    full = "".join(syl)
    if 2 <= len(norm) <= 4 and len(full) >= 6:
        out.append((full, "pinyin"))
    if 3 <= len(norm) <= 4:
        out.append(("".join(s[0] for s in syl), "initials"))
    return out


def touches_cjk(orig: str, s: int, e: int) -> bool:
    """Initials stand among Chinese characters (老师xsr女生), never inside English prose,
    where three letters are just a word."""
    k = s - 1
    while k >= 0 and orig[k] == " ":
        k -= 1
    if k >= 0 and is_cjk(orig[k]):
        return True
    k = e
    while k < len(orig) and orig[k] == " ":
        k += 1
    return k < len(orig) and is_cjk(orig[k])


def english_end_ok(orig: str, e: int) -> int | None:
    """The end of an English term with an inflection (protest → protests, protesting),
    or None when the term is only the beginning of another word."""
    k = e
    while k < len(orig) and is_latin(orig[k]):
        k += 1
    return k if orig[e:k].lower() in ENGLISH_SUFFIXES else None


class Homophones:
    """Terms of 3-6 characters written with characters that sound the same, at least half
    of them as listed (性骚饶 for 性骚扰, 地勾油 for 地沟油)."""

    def __init__(self, terms: list[tuple[int, str, str]]):
        # terms: (topic index, term, normalised term)
        self._ac = ahocorasick.Automaton()
        table: dict[str, list[tuple[int, str, str]]] = {}
        for ti, term, norm in terms:
            if 3 <= len(norm) <= 6 and all(map(is_cjk, norm)):
                key = "|" + "|".join(syllable(c) for c in norm) + "|"
                if key.isascii():
                    table.setdefault(key, []).append((ti, term, norm))
        for key, pl in table.items():
            self._ac.add_word(key, tuple(pl))
        self._empty = not table
        if table:
            self._ac.make_automaton()

    def find(
        self, n: Normalized, a: int = 0, b: int | None = None
    ) -> list[tuple[int, str, int, int]]:
        """(topic, term, compact i, compact j) of each homophone hit in ``text[a:b]``."""
        if self._empty or not n.text:
            return []
        text = n.text
        b = len(text) if b is None else b
        part = text[a:b]
        get = _SPELLED.get
        syls = [get(ch) or _spell(ch) for ch in part]
        spelled = "|" + "|".join(syls) + "|"
        # Offset in ``spelled`` where each character's syllable begins.
        starts = list(accumulate((len(x) + 1 for x in syls), initial=1))
        out = []
        for end, pl in self._ac.iter(spelled):
            for ti, term, norm in pl:
                L = len(norm)
                first = end - sum(len(get(c) or _spell(c)) + 1 for c in norm) + 1
                k = bisect_left(starts, first)
                if k >= len(part) or starts[k] != first:
                    continue
                sub = part[k : k + L]
                same = sum(x == y for x, y in zip(sub, norm))
                if sub != norm and same * 2 >= L:
                    out.append((ti, term, a + k, a + k + L))
        return out


_SPELLED: dict[str, str] = {}


def _spell(ch: str) -> str:
    """A character's syllable for the homophone search (NUL for anything not CJK)."""
    s = syllable(ch) if is_cjk(ch) else "\x00"
    _SPELLED[ch] = s
    return s


def english_keys(terms: list[str]) -> list[tuple[str, str]]:
    """(normalised key, term) of English topic terms (spaces go, as in the text)."""
    return [(normalize_term(t), t) for t in terms if len(normalize_term(t)) >= 3]
