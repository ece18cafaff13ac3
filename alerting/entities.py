"""Finding the watched entity's names in normalised text: exact names, variants
(traditional, full-width, separators, pinyin for a character), homophones and one
wrong character, and cancelling those that sit inside another school's name."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import ahocorasick
from rapidfuzz.distance import OSA

from alerting.normalize import (
    Normalized,
    is_cjk,
    is_latin,
    normalize_term,
    simplified_to_traditional,
)
from alerting.pinyin import syllable, syllables
from alerting.prefilter import NameForGate, Prefilter
from watchlists.loader import Watchlist

# Kinds of surface form a pattern stands for.
EXACT, PINYIN_SPELLING, PINYIN_PART = "exact", "pinyin", "pinyin-part"


@dataclass(frozen=True)
class NamePattern:
    entity: str  # entity id
    term: str  # the name as written in the watchlist
    norm: str  # what is searched for in normalised text
    form: str  # EXACT | PINYIN_SPELLING | PINYIN_PART
    latin_start: bool
    latin_end: bool


@dataclass
class EntitySpan:
    entity: str
    term: str
    kind: str  # exact | variant | fuzzy | pinyin
    i: int  # compact start
    j: int  # compact end
    start: int  # original start
    end: int  # original end


@dataclass(frozen=True)
class FuzzyName:
    entity: str
    term: str
    norm: str
    fuzzy: bool
    pinyin: bool
    spelled: str


class EntityFinder:
    """Built once per watchlist version."""

    def __init__(self, wl: Watchlist):
        self.patterns: list[NamePattern] = []
        self.names: list[FuzzyName] = []
        gate_names: list[NameForGate] = []
        strong: set[str] = set()
        for e in wl.entities:
            for name, _role, fuzzy, use_pinyin in e.all_names():
                norm = normalize_term(name)
                self._add(e.id, name, norm, EXACT)
                sp = "".join(syllables(norm))
                self.names.append(FuzzyName(e.id, name, norm, fuzzy, use_pinyin, sp))
                gate_names.append(
                    NameForGate(norm, tuple(syllable(c) if is_cjk(c) else "" for c in norm))
                )
                strong.add(name)
                strong.add("".join(simplified_to_traditional().get(c, [c])[0] for c in name))
                if use_pinyin and sum(map(is_cjk, norm)) >= 4:
                    self._add(e.id, name, sp, PINYIN_SPELLING)
                    strong.add(sp)
                    for variant in _pinyin_parts(norm):
                        self._add(e.id, name, variant, PINYIN_PART)
            for eng in e.english:
                self._add(e.id, eng, normalize_term(eng), EXACT)
                strong.add(eng.lower())
                strong.add(" ".join(eng.lower().split()))
                strong.add("".join(eng.lower().split()))
                # Words of an English name are pieces too (odd spacing, line breaks).
                gate_names.append(NameForGate("", tuple(w for w in eng.lower().split())))
            for x in [*e.initials, *e.units]:
                self._add(e.id, x, normalize_term(x), EXACT)
                strong.add(x.lower())
                strong.add(_fullwidth(x.lower()))
        self.prefilter = Prefilter(gate_names, sorted(strong))
        self._ac = ahocorasick.Automaton()
        by_key: dict[str, list[int]] = {}
        for k, p in enumerate(self.patterns):
            by_key.setdefault(p.norm, []).append(k)
        for key, ks in by_key.items():
            self._ac.add_word(key, tuple(ks))
        self._ac.make_automaton()

    def _add(self, entity: str, term: str, norm: str, form: str) -> None:
        if len(norm) < 2:
            return
        self.patterns.append(
            NamePattern(entity, term, norm, form, is_latin(norm[0]), is_latin(norm[-1]))
        )

    # ------------------------------------------------------------------------------
    def find(self, n: Normalized) -> list[EntitySpan]:
        """Every name hit in one field, overlapping duplicates removed."""
        text, orig = n.text, n.original
        found: list[EntitySpan] = []
        for end, ks in self._ac.iter(text):
            for k in ks:
                p = self.patterns[k]
                i, j = end - len(p.norm) + 1, end + 1
                start, stop = n.span(i, j)
                if p.latin_start and start > 0 and is_latin(orig[start - 1]):
                    continue
                if p.latin_end and stop < len(orig) and is_latin(orig[stop]):
                    continue
                surface = orig[start:stop]
                if p.form == EXACT:
                    kind = (
                        "exact"
                        if surface == p.term or surface.lower() == p.term.lower()
                        else "variant"
                    )
                else:
                    kind = "pinyin"
                found.append(EntitySpan(p.entity, p.term, kind, i, j, start, stop))
        found.extend(self._homophones(n, found))
        found.extend(self._fuzzy(n, found))
        return _dedupe([f for f in found if not _split_by_sentence(n, f)])

    def _homophones(self, n: Normalized, found: list[EntitySpan]) -> list[EntitySpan]:
        """Names written with characters that sound the same (江西井察学院)."""
        text = n.text
        out: list[EntitySpan] = []
        for x in self.names:
            if not x.pinyin or len(x.norm) < 5:
                continue
            L = len(x.norm)
            # The province (first two characters) must be written right, as for fuzzy hits.
            i = text.find(x.norm[:2])
            while i != -1:
                sub = text[i : i + L]
                if (
                    len(sub) == L
                    and sub != x.norm
                    and "".join(syllable(c) for c in sub) == x.spelled
                    and sum(a == b for a, b in zip(sub, x.norm)) * 2 >= L
                    and not _covered(found, i, i + L)
                ):
                    start, stop = n.span(i, i + L)
                    out.append(EntitySpan(x.entity, x.term, "pinyin", i, i + L, start, stop))
                i = text.find(x.norm[:2], i + 1)
        return out

    def _fuzzy(self, n: Normalized, found: list[EntitySpan]) -> list[EntitySpan]:
        """One dropped, added, changed or swapped character (江西警学院, 江西察警学院).
        The first two characters (the province) must be right: 浙江警察学院 and 江苏
        警官学院 are other schools, not typos."""
        text = n.text
        out: list[EntitySpan] = []
        for x in self.names:
            if not x.fuzzy or len(x.norm) < 5:
                continue
            head = x.norm[:2]
            L = len(x.norm)
            i = text.find(head)
            while i != -1:
                best = None
                for length in (L, L - 1, L + 1):
                    sub = text[i : i + length]
                    if len(sub) != length or sub == x.norm:
                        continue
                    d = OSA.distance(sub, x.norm, score_cutoff=1)
                    if d <= 1 and (best is None or d < best[0]):
                        best = (d, length)
                if best and not _covered(found + out, i, i + best[1]):
                    start, stop = n.span(i, i + best[1])
                    out.append(EntitySpan(x.entity, x.term, "fuzzy", i, i + best[1], start, stop))
                i = text.find(head, i + 1)
        return out


SENTENCE_BREAKS = set("，。！？；：、,!?;:\n\r")


def _split_by_sentence(n: Normalized, s: EntitySpan) -> bool:
    """True when the name is only pieced together across a sentence break, as in
    我在江西，警察学院的朋友说: evasions put separators between every character
    (江，西，警，察), not one comma where a sentence would naturally break."""
    gaps = []
    for k in range(s.i, s.j - 1):
        a, b = n.offsets[k], n.offsets[k + 1]
        gaps.append(n.original[a + 1 : b])
    broken = [g for g in gaps if any(c in SENTENCE_BREAKS for c in g)]
    return bool(broken) and not all(gaps)


def _covered(spans: list[EntitySpan], i: int, j: int) -> bool:
    return any(s.i < j and i < s.j for s in spans)


_RANK = {"exact": 0, "variant": 1, "pinyin": 2, "fuzzy": 3}


def _dedupe(spans: list[EntitySpan]) -> list[EntitySpan]:
    """Keep the longest, most exact hit where hits overlap."""
    spans.sort(key=lambda s: (-(s.j - s.i), _RANK[s.kind], s.i))
    kept: list[EntitySpan] = []
    for s in spans:
        if not _covered(kept, s.i, s.j):
            kept.append(s)
    kept.sort(key=lambda s: s.i)
    return kept


def _pinyin_parts(norm: str) -> list[str]:
    """The name with one or two of its characters written in pinyin (江西jing察学院)."""
    cjk = [k for k, c in enumerate(norm) if is_cjk(c)]
    out = []
    for r in (1, 2):
        for combo in itertools.combinations(cjk, r):
            chars = list(norm)
            for k in combo:
                chars[k] = syllable(norm[k])
            out.append("".join(chars))
    return out


def _fullwidth(s: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in s)
