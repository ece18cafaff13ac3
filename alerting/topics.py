"""Finding topic terms and exclusions in a post that names the entity.

Runs only on candidates. Terms are found with one Aho-Corasick automaton over the
normalised text (so 跳 楼 and 跳lou are found too); short terms (two characters) must
also be whole words for jieba, segmenting a window around them with the
watchlist's terms as its dictionary, so that 打架 does not hit inside 打架子鼓 and
学费 not inside 留学费用-like compounds the dictionary knows better.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import ahocorasick
from rapidfuzz import fuzz

from alerting.entities import EntitySpan, _pinyin_parts
from alerting.normalize import Normalized, is_cjk, is_latin, normalize_term
from alerting.topic_variants import (
    Homophones,
    english_end_ok,
    english_keys,
    spellings,
    touches_cjk,
)
from watchlists.loader import Watchlist

WINDOW = 8  # characters of context jieba sees on each side of a short term
SHORT_REACH = 100  # two-character terms farther than this from a name are not checked, not counted


@dataclass
class TopicSpan:
    topic: int  # index into the watchlist's topics
    term: str
    kind: str  # exact | variant | pinyin | fuzzy
    i: int
    j: int
    start: int
    end: int


@dataclass
class ExclusionSpan:
    exclusion: int
    term: str
    i: int
    j: int
    start: int
    end: int


def make_tokenizer(wl: Watchlist, cache_dir: Path | None):
    """A jieba Tokenizer of its own for this watchlist version, its cache kept in our
    folder (never the package's), initialised now rather than on the first post."""
    import jieba

    logging.getLogger("jieba").setLevel(logging.WARNING)
    tk = jieba.Tokenizer()
    if cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tk.tmp_dir = str(cache_dir)
    tk.cache_file = "sentinel-jieba.cache"
    tk.initialize()
    for t in wl.topics:
        for term in t.terms:
            tk.add_word(normalize_term(term), freq=None)
        for term in t.except_:
            tk.add_word(normalize_term(term), freq=None)
    for e in wl.entities:
        for name, *_ in e.all_names():
            tk.add_word(normalize_term(name), freq=None)
    for x in wl.exclusions:
        for term in x.terms:
            tk.add_word(normalize_term(term), freq=None)
    return tk


class TopicFinder:
    def __init__(self, wl: Watchlist, tokenizer):
        self.wl = wl
        self.tk = tokenizer
        self._terms = ahocorasick.Automaton()
        table: dict[str, list[tuple[int, str, str]]] = {}
        for ti, t in enumerate(wl.topics):
            for term in t.terms:
                norm = normalize_term(term)
                if len(norm) < 2:
                    continue
                table.setdefault(norm, []).append((ti, term, "exact"))
                cjk = sum(map(is_cjk, norm))
                if t.pinyin and cjk == len(norm) and 2 <= cjk <= 4:
                    for v in _pinyin_parts(norm) if cjk > 2 else _one_part(norm):
                        table.setdefault(v, []).append((ti, term, "pinyin"))
                    for v, form in spellings(norm):
                        table.setdefault(v, []).append((ti, term, form))
            for key, term in english_keys(t.english):
                table.setdefault(key, []).append((ti, term, "english"))
        for key, pl in table.items():
            self._terms.add_word(key, tuple((ti, term, form, len(key)) for ti, term, form in pl))
        self._empty = not table
        if table:
            self._terms.make_automaton()
        # Exclusions and per-topic exceptions: a small automaton of their own.
        self._ctx = ahocorasick.Automaton()
        ctx: dict[str, list[tuple[str, int, str]]] = {}
        for xi, x in enumerate(wl.exclusions):
            for term in x.terms:
                ctx.setdefault(normalize_term(term), []).append(("x", xi, term))
        for ti, t in enumerate(wl.topics):
            for term in t.except_:
                ctx.setdefault(normalize_term(term), []).append(("t", ti, term))
        for key, pl in ctx.items():
            if len(key) >= 2:
                self._ctx.add_word(key, tuple(pl))
        self._ctx_empty = not ctx
        if ctx:
            self._ctx.make_automaton()
        self._homophones = Homophones(
            [
                (ti, term, normalize_term(term))
                for ti, t in enumerate(wl.topics)
                if t.pinyin
                for term in t.terms
            ]
        )
        self._fuzzy = [
            (ti, term, normalize_term(term))
            for ti, t in enumerate(wl.topics)
            if t.fuzzy
            for term in t.terms
            if len(normalize_term(term)) >= 5
        ]

    # ------------------------------------------------------------------------------
    def contexts(
        self, n: Normalized
    ) -> tuple[list[ExclusionSpan], dict[int, list[tuple[int, int]]]]:
        """Exclusion hits, and per topic the spans of its exception words."""
        excl: list[ExclusionSpan] = []
        exc: dict[int, list[tuple[int, int]]] = {}
        if self._ctx_empty or not n.text:
            return excl, exc
        for end, pl in self._ctx.iter(n.text):
            for kind, idx, term in pl:
                L = len(normalize_term(term))
                i, j = end - L + 1, end + 1
                if kind == "x":
                    s, e = n.span(i, j)
                    excl.append(ExclusionSpan(idx, term, i, j, s, e))
                else:
                    exc.setdefault(idx, []).append((i, j))
        return excl, exc

    def find(
        self,
        n: Normalized,
        entities: list[EntitySpan],
        blocked: list[tuple[int, int]],
        exceptions: dict[int, list[tuple[int, int]]],
    ) -> list[TopicSpan]:
        """Topic hits in one field. ``blocked`` are compact spans where topic hits do
        not count (inside the entity's names, inside topic-scope exclusions)."""
        text = n.text
        if self._empty or not text:
            return []
        raw: list[TopicSpan] = []
        for end, pl in self._terms.iter(text):
            for ti, term, form, L in pl:
                i, j = end - L + 1, end + 1
                if any(a < j and i < b for a, b in blocked):
                    continue
                if any(a <= i and j <= b for a, b in entities_spans(entities)):
                    continue
                if any(a < j and i < b for a, b in exceptions.get(ti, ())):
                    continue
                s, e = n.span(i, j)
                orig = n.original
                if form == "exact":
                    kind = "exact" if orig[s:e] == term else "variant"
                elif form == "english":
                    if s > 0 and is_latin(orig[s - 1]):
                        continue
                    stop = english_end_ok(orig, e)
                    if stop is None:
                        continue
                    kind = "exact" if orig[s:e].lower() == term.lower() else "variant"
                    e = stop
                elif form == "initials":
                    if (s > 0 and is_latin(orig[s - 1])) or (e < len(orig) and is_latin(orig[e])):
                        continue
                    if not touches_cjk(orig, s, e):
                        continue
                    kind = "pinyin"
                else:
                    # A pinyin part must not be the middle of a longer Latin word.
                    orig = n.original
                    if (s > 0 and is_latin(orig[s]) and is_latin(orig[s - 1])) or (
                        e < len(orig) and is_latin(orig[e - 1]) and is_latin(orig[e])
                    ):
                        continue
                    kind = "pinyin"
                raw.append(TopicSpan(ti, term, kind, i, j, s, e))
        have = {(h.topic, h.i) for h in raw}
        # Homophones only near the names (the search spells every character it reads).
        lo = min((e.i for e in entities), default=0) - SHORT_REACH
        hi = max((e.j for e in entities), default=len(text)) + SHORT_REACH
        for ti, term, i, j in self._homophones.find(n, max(0, lo), min(len(text), hi)):
            if (ti, i) in have or any(a < j and i < b for a, b in blocked):
                continue
            if any(a < j and i < b for a, b in exceptions.get(ti, ())):
                continue
            s, e = n.span(i, j)
            raw.append(TopicSpan(ti, term, "pinyin", i, j, s, e))
        raw = self._whole_words(text, raw, entities)
        raw.extend(self._fuzzy_hits(n, raw, blocked))
        return raw

    def _whole_words(
        self, text: str, hits: list[TopicSpan], entities: list[EntitySpan]
    ) -> list[TopicSpan]:
        """Two-character CJK terms must be words of their own for jieba. They are
        ambiguous, so far from the name (when the name is in this field) they are
        dropped rather than segmented: that keeps long posts cheap."""
        short = [h for h in hits if h.j - h.i <= 2 and all(map(is_cjk, text[h.i : h.j]))]
        if entities and short:
            far = {
                id(h)
                for h in short
                if all(h.i - e.j > SHORT_REACH or e.i - h.j > SHORT_REACH for e in entities)
            }
            if far:
                hits = [h for h in hits if id(h) not in far]
                short = [h for h in short if id(h) not in far]
        if not short:
            return hits
        windows: list[list[int]] = []
        for h in sorted(short, key=lambda h: h.i):
            a, b = max(0, h.i - WINDOW), min(len(text), h.j + WINDOW)
            if windows and a <= windows[-1][1]:
                windows[-1][1] = max(windows[-1][1], b)
            else:
                windows.append([a, b])
        bounds: set[int] = set()
        for a, b in windows:
            pos = a
            bounds.add(pos)
            for tok in self.tk.cut(text[a:b], HMM=False):
                pos += len(tok)
                bounds.add(pos)
        short_ids = {id(h) for h in short}
        return [h for h in hits if id(h) not in short_ids or (h.i in bounds and h.j in bounds)]

    def _fuzzy_hits(self, n: Normalized, hits: list[TopicSpan], blocked) -> list[TopicSpan]:
        out: list[TopicSpan] = []
        have = {h.topic for h in hits}
        for ti, term, norm in self._fuzzy:
            if ti in have:
                continue
            cutoff = 100 * (1 - 1 / len(norm))  # one wrong character
            r = fuzz.partial_ratio_alignment(norm, n.text, score_cutoff=cutoff)
            if r is None:
                continue
            i, j = r.dest_start, r.dest_end
            if any(a < j and i < b for a, b in blocked):
                continue
            s, e = n.span(i, j)
            out.append(TopicSpan(ti, term, "fuzzy", i, j, s, e))
            have.add(ti)
        return out


def entities_spans(entities: list[EntitySpan]) -> list[tuple[int, int]]:
    return [(e.i, e.j) for e in entities]


def _one_part(norm: str) -> list[str]:
    """Two-character terms: only one character in pinyin (跳lou), never both (too short)."""
    from alerting.pinyin import syllable

    return [syllable(norm[0]) + norm[1], norm[0] + syllable(norm[1])]
