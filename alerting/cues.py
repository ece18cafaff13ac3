"""Built-in cue words for what a watchlist does not list: the kinds of language that
describe a harm, a complaint or a demand, that make a suggestion, or that mark a post as
an event report (a ceremony, an award, an agreement, a campaign).

They are deliberately *general* (the way people write about any harm or grievance, not
the words of one story), are matched on normalised text (so traditional characters,
full-width forms and separators between characters are handled as for names), and are
used only on posts that already name the college and are not alerts by their topics:
``alerting.negative`` decides a negative mention (负面提及) with them, and
``alerting.category`` uses them to tell the handling categories apart. The office's own
vocabulary stays in the watchlist; these are the fallback for its gaps.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import ahocorasick

from alerting.normalize import Normalized, normalize_term

HARM = "harm"
COMPLAINT = "complaint"
DEMAND = "demand"
SUGGESTION = "suggestion"
EVENT = "event"

CUES_FILE = Path(__file__).with_name("cues.txt")


def read_cues(path: Path = CUES_FILE) -> dict[str, list[str]]:
    """The word lists of ``cues.txt`` by section (harm, complaint, demand, suggestion,
    event, and the subsets grave and strong_suggestion)."""
    out: dict[str, list[str]] = {}
    section = None
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            out.setdefault(section, [])
        elif section is not None:
            out[section].extend(line.split())
    return out


LISTS = read_cues()
_KINDS = {k: LISTS[k] for k in (HARM, COMPLAINT, DEMAND, SUGGESTION, EVENT)}


@dataclass(frozen=True)
class Cue:
    kind: str  # harm | complaint | demand | suggestion | event
    word: str
    i: int  # compact start
    j: int  # compact end
    start: int  # original start
    end: int  # original end
    surface: str  # as written


class CueFinder:
    """One automaton over every cue word (a few hundred short strings); built once."""

    def __init__(self) -> None:
        self._ac = ahocorasick.Automaton()
        table: dict[str, list[tuple[str, str]]] = {}
        for kind, words in _KINDS.items():
            for w in words:
                table.setdefault(normalize_term(w), []).append((kind, w))
        for key, pl in table.items():
            self._ac.add_word(key, (len(key), tuple(pl)))
        self._ac.make_automaton()

    def find(self, n: Normalized) -> list[Cue]:
        """Every cue in one field; where cues overlap, the longest of each kind."""
        out: list[Cue] = []
        if not n.text:
            return out
        for end, (length, pl) in self._ac.iter(n.text):
            i, j = end - length + 1, end + 1
            s, e = n.span(i, j)
            for kind, word in pl:
                out.append(Cue(kind, word, i, j, s, e, n.original[s:e]))
        out.sort(key=lambda c: (c.kind, c.i, -(c.j - c.i)))
        kept: list[Cue] = []
        for c in out:
            if kept and kept[-1].kind == c.kind and c.i < kept[-1].j:
                continue
            kept.append(c)
        return kept


_finder: CueFinder | None = None


def cue_finder() -> CueFinder:
    """The shared finder (read-only after it is built)."""
    global _finder
    if _finder is None:
        _finder = CueFinder()
    return _finder
