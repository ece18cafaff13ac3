"""The cheap first look: could this post name a watched entity at all?

Most posts on the web do not mention the college, so this runs on the raw text
before any normalisation, segmentation or fuzzy matching, and must cost a few
microseconds. It answers "maybe" when:

- an exact surface form occurs (a name in simplified or traditional characters, an
  English name, an initialism, a full pinyin spelling), or
- two different pieces of one name (its character pairs, or the pinyin syllables of
  its characters) lie close together — this catches homophones, pinyin for one
  character, a dropped or swapped character, brackets around part of a name
  (江西井察学院, 江西jing察学院, 江西【警察】学院), or
- three characters of a name stand separated by spaces or symbols (江 西 警*察).

"Maybe" posts go to the full matcher, which decides. The automaton holds only the
entities' pieces (a few dozen strings), never the topic terms: Aho-Corasick slows
down as its vocabulary grows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import ahocorasick

from alerting.normalize import is_cjk, simplified_to_traditional

STRONG = -1  # payload kind of an exact surface form


@dataclass(frozen=True)
class NameForGate:
    name: str  # normalised (simplified, lower case, compact)
    syllables: tuple[str, ...]  # pinyin of each character ('' for non-CJK)


class Prefilter:
    """Built once per watchlist version; ``maybe(text)`` is the gate."""

    def __init__(self, names: list[NameForGate], strong_forms: list[str]):
        self._ac = ahocorasick.Automaton()
        payloads: dict[str, list[tuple[int, int]]] = {}

        def add(key: str, payload: tuple[int, int]) -> None:
            payloads.setdefault(key, []).append(payload)

        for form in strong_forms:
            if form:
                add(form.lower(), (STRONG, 0))
        chars: set[str] = set()
        self._spans: list[int] = []
        for ni, n in enumerate(names):
            self._spans.append(max(len(n.name), sum(map(len, n.syllables))) + 8)
            for k in range(len(n.name) - 1):
                a, b = n.name[k], n.name[k + 1]
                piece_id = k
                for x in _forms(a):
                    for y in _forms(b):
                        add(x + y, (ni, piece_id))
            for k, syl in enumerate(n.syllables):
                if len(syl) >= 3:
                    # Pinyin for one character counts as a piece of its own.
                    add(syl, (ni, 1000 + k))
            for ch in n.name:
                if is_cjk(ch):
                    chars.update(_forms(ch))
        for key, pl in payloads.items():
            self._ac.add_word(key, tuple(pl))
        if payloads:
            self._ac.make_automaton()
        self._empty = not payloads
        cls = "".join(sorted(chars))
        # Three characters of a name, each separated by 1-3 non-word characters.
        self._separated = (
            re.compile(f"[{re.escape(cls)}](?:[\\W_]{{1,3}}[{re.escape(cls)}]){{2}}")
            if cls
            else None
        )

    def maybe(self, text: str) -> bool:
        """True when ``text`` might name a watched entity (cheap, no false negatives
        for the forms listed in the module docstring)."""
        if not text or self._empty:
            return False
        seen: dict[int, list[tuple[int, int]]] = {}
        for end, payloads in self._ac.iter(text.lower()):
            for ni, piece in payloads:
                if ni == STRONG:
                    return True
                hits = seen.setdefault(ni, [])
                span = self._spans[ni]
                for e, p in hits:
                    if p != piece and end - e <= span:
                        return True
                hits.append((end, piece))
        return bool(self._separated is not None and self._separated.search(text))


def _forms(ch: str) -> list[str]:
    """A simplified character and its traditional forms."""
    return [ch, *simplified_to_traditional().get(ch, [])]
