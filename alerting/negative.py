"""Negative mentions (负面提及) and the handling category beyond keyword weights.

A watchlist lists the words the office knows; posts about a harm are often written in
other words ("宿舍半夜闯进一个陌生男子", "新生三天联系不上了"). Once the topics have been
scored (``alerting.score``), ``refine`` looks at the language of a post that names the
college (``alerting.cues``: harm, complaint, demand, suggestion, event-report words near
the name) and at its polarity:

- **Negative mention**: not an alert by its topics, clearly negative (polarity score at
  most ``CLEARLY_NEGATIVE``) and describing a harm, a complaint or a demand near the name,
  and not an event report (a ceremony, an award, an agreement, a campaign against fraud)
  without any complaint or demand → an alert at the alert line (plus a few points when
  it does more than one of these), reason 负面提及, with a proposed category.
- **A suggestion without complaint** (如果能…就好了, 可以考虑…, 建议…) and no harm,
  complaint or demand → constructive, and an alert, since it needs a reply.
- **A complaint or demand that ends in a suggestion** stays an inquiry.

Every decision adds a reason line in the office's words.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from alerting.cues import COMPLAINT, DEMAND, EVENT, HARM, LISTS, SUGGESTION, Cue, cue_finder
from alerting.normalize import Normalized
from alerting.score import Located, Verdict, distance, severity_for
from core.vocabulary import Category, Polarity, Severity
from watchlists.schema import Thresholds

CLEARLY_NEGATIVE = -0.3  # negativity at or below which a post is "clearly negative"
# The review-trained model reads flat reports of a harm as mild ("腿骨折了" -0.08): each
# distinct cue word of harm, complaint or demand near the name pushes the negativity down
# by CUE_WEIGHT, a grave harm (injury, a person missing, a death) by GRAVE_WEIGHT; at most
# three words count. The stored polarity is the model's own score, untouched.
CUE_WEIGHT = 0.25
GRAVE_WEIGHT = 0.5
GRAVE_HARM = set(LISTS["grave"])
REACH = 80  # characters: cues farther than this from a name (in the same field) do not count
# Suggestion words that make a proposal by themselves; the others (增加, 开放...) only support.
STRONG_SUGGESTION = set(LISTS["strong_suggestion"])
_KIND_WORDS = {HARM: "伤害", COMPLAINT: "不满", DEMAND: "诉求", SUGGESTION: "建议"}


@dataclass
class Language:
    """The cue words of a post near its names, by kind."""

    cues: dict[str, list[Cue]] = field(default_factory=dict)

    def has(self, kind: str) -> bool:
        return bool(self.cues.get(kind))

    def words(self, kind: str, limit: int = 3) -> list[str]:
        out: list[str] = []
        for c in self.cues.get(kind, ()):
            if c.surface not in out:
                out.append(c.surface)
        return out[:limit]

    @property
    def grievance(self) -> bool:
        return self.has(HARM) or self.has(COMPLAINT) or self.has(DEMAND)

    @property
    def described(self) -> bool:
        """A harm or a demand, or a complaint of two different words: one word of
        displeasure alone (受不了, 失望) is a mood, not a grievance described."""
        complaints = {c.word for c in self.cues.get(COMPLAINT, ())}
        return self.has(HARM) or self.has(DEMAND) or len(complaints) >= 2

    @property
    def proposal(self) -> bool:
        return any(c.word in STRONG_SUGGESTION for c in self.cues.get(SUGGESTION, ()))


def language(fields: list[tuple[str, Normalized]], names: list[Located]) -> Language:
    """The cues of each field that lie within ``REACH`` of a name (a name in the title
    reaches the whole post)."""
    lang = Language()
    finder = cue_finder()
    for fname, n in fields:
        for c in finder.find(n):
            loc = Located(fname, c.start, c.end)
            if any(distance(loc, e) <= REACH for e in names):
                lang.cues.setdefault(c.kind, []).append(c)
    return lang


def negativity(score: float, lang: Language) -> float:
    """The polarity score pushed down by the grievance words near the name."""
    words = sorted(
        {c.word for k in (HARM, COMPLAINT, DEMAND) for c in lang.cues.get(k, ())},
        key=lambda w: w not in GRAVE_HARM,
    )[:3]
    return score - sum(GRAVE_WEIGHT if w in GRAVE_HARM else CUE_WEIGHT for w in words)


def refine(
    v: Verdict,
    lang: Language,
    mood,
    th: Thresholds,
    *,
    excluded: bool,
    signals: set[str],
    use_language: bool = True,
) -> Verdict:
    """Apply the negative-mention and category rules to a scored post (in place).
    ``signals`` are the categories whose vocabulary topics (``signal: true``) hit;
    ``mood`` is the post's Sentiment. ``use_language=False`` keeps keyword weights alone
    (for measuring what the rules add)."""
    if not use_language or excluded:
        return v
    if v.alert:
        _recategorise(v, lang, signals)
        return v
    score = mood.score if mood is not None else 0.0
    kinds = [k for k in (HARM, COMPLAINT, DEMAND) if lang.has(k)]
    if (
        kinds
        and lang.described
        and negativity(score, lang) <= CLEARLY_NEGATIVE
        and not (lang.has(EVENT) and not (lang.has(COMPLAINT) or lang.has(DEMAND)))
    ):
        cat = "inquiry"  # a harm, a complaint or a demand: the plan's category 1
        _raise(v, th, min(th.alert + 5 * (len(kinds) - 1), th.alert + 10), cat)
        said = "；".join(f"{_KIND_WORDS[k]}：{'、'.join(lang.words(k))}" for k in kinds)
        v.reasons.append(
            f"负面提及：未命中监测话题，但描述了{said}，情感倾向{Polarity.label_of('negative')}"
            f"（模型{score:+.2f}，计入这些用语后{negativity(score, lang):+.2f}），按负面提及预警，拟定处置类别："
            f"{Category.label_of(cat)}",
        )
        _close(v)
        return v
    if lang.proposal and not lang.grievance and score > CLEARLY_NEGATIVE:
        _raise(v, th, th.alert, "constructive")
        v.reasons.append(
            f"建设性意见：提出了建议（{'、'.join(lang.words(SUGGESTION))}），没有投诉或诉求，"
            f"需要答复，处置类别：{Category.label_of('constructive')}",
        )
        _close(v)
    return v


def _recategorise(v: Verdict, lang: Language, signals: set[str]) -> None:
    """Keyword weights chose ``v.category``; the post's language may correct it."""
    if signals & {"illegal", "hype"}:
        return  # the explicit vocabulary of fabrication or hype decides
    before = v.category
    if before == "constructive" and lang.grievance:
        v.category = "inquiry"
        said = "、".join(lang.words(HARM) + lang.words(COMPLAINT) + lang.words(DEMAND))
        v.reasons.append(
            f"处置类别改为{Category.label_of('inquiry')}：先有投诉或诉求（{said}），"
            "后面的建议不改变当日答复的要求",
        )
    elif before == "inquiry" and lang.proposal and not lang.grievance and "inquiry" not in signals:
        v.category = "constructive"
        v.reasons.append(
            f"处置类别改为{Category.label_of('constructive')}：只提建议（"
            f"{'、'.join(lang.words(SUGGESTION))}），没有投诉或诉求",
        )
    if v.category != before:
        _close(v)


def _raise(v: Verdict, th: Thresholds, to: int, category: str) -> None:
    old = v.score
    v.score = max(v.score, to)
    v.alert = True
    v.category = category
    v.severity = severity_for(v.score, th) or "IV"
    # The closing "not an alert" line no longer holds.
    v.reasons[:] = [r for r in v.reasons if not r.startswith("未达预警线")]
    if v.score != old:
        # Replace the topic arithmetic, which no longer gives the score.
        v.reasons[:] = [r for r in v.reasons if not r.startswith("评分")]
        v.reasons.append(f"评分{v.score}分（按语义判断：预警线{th.alert}分起，原{old}分）")


def _close(v: Verdict) -> None:
    """The last reason line states the outcome: rewrite it for the new verdict."""
    v.reasons[:] = [r for r in v.reasons if not r.startswith("预警：")]
    v.reasons.append(
        f"预警：{Severity.label_of(v.severity)}，处置类别：{Category.label_of(v.category)}"
    )
