"""Scoring: from hits to a score (0-100), a severity (Ⅳ-Ⅰ), a handling category and
whether the office must act, with every step written down in Chinese.

The score is explainable on purpose:

    score = mention + (100 - mention) x (1 - (1 - w1/100)(1 - w2/100)...)  + rule points

where ``mention`` is the base for a post that names the college and ``w`` is each
topic's weight (its best hit only; a hit farther than ``near`` characters from the
name keeps ``far_factor`` of its weight). Several topics raise the score without
ever passing 100. Severity follows the score by the thresholds, and rises with
spread (``apply_spread``), which the incident stage supplies.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.vocabulary import Category, HitKind, Severity, severity_rank
from watchlists.loader import Watchlist
from watchlists.schema import Thresholds

CATEGORY_PRIORITY = ["illegal", "hype", "inquiry", "constructive"]  # ties go to the first


@dataclass
class Located:
    """A hit as the scorer sees it: what, where (field and original offsets)."""

    field: str
    start: int
    end: int
    topic: int | None = None  # index of the topic; None for the entity's names
    term: str = ""
    kind: str = "exact"


@dataclass
class Verdict:
    score: int = 0
    severity: str | None = None
    category: str | None = None
    alert: bool = False
    reasons: list[str] = field(default_factory=list)
    weights: dict[int, int] = field(default_factory=dict)  # topic index -> points counted


def severity_for(score: int, th: Thresholds | None = None) -> str | None:
    """The severity level a score reaches, or None below level Ⅳ."""
    s = (th or Thresholds()).severity
    for level in ("I", "II", "III", "IV"):
        if score >= getattr(s, level):
            return level
    return None


def max_severity(a: str | None, b: str | None) -> str | None:
    if a is None:
        return b
    if b is None:
        return a
    return a if severity_rank(a) >= severity_rank(b) else b


def distance(a: Located, b: Located) -> int:
    if a.field != b.field:
        return 0 if "title" in (a.field, b.field) else 10**9
    if a.end <= b.start:
        return b.start - a.end
    if b.end <= a.start:
        return a.start - b.end
    return 0


def _near(h: Located, names: list[Located], limit: int) -> bool:
    return any(distance(h, e) <= limit for e in names)


def score(
    wl: Watchlist,
    names: list[Located],
    topics: list[Located],
    words: dict[str, list[Located]],
    post_exclusions: list[str],
) -> Verdict:
    """Score a post that names the entity. ``words`` holds the hits of plain words
    that rules refer to; ``post_exclusions`` the names of post-scope exclusions hit."""
    th = wl.thresholds
    v = Verdict()
    reasons = v.reasons
    first = min(names, key=lambda h: (h.field != "title", h.start))
    where = "标题" if first.field == "title" else "正文"
    reasons.append(
        f"点名：{first.term}（{where}第{first.start + 1}字，{HitKind.label_of(first.kind)}）"
    )
    for h in names:
        if h is not first and h.kind != "exact":
            reasons.append(
                f"另见{HitKind.label_of(h.kind)}：{h.term}（{'标题' if h.field == 'title' else '正文'}第{h.start + 1}字）"
            )

    # Best hit of each topic.
    best: dict[int, tuple[float, Located, bool]] = {}
    for h in topics:
        t = wl.topics[h.topic]
        near = _near(h, names, th.near)
        pts = t.weight * (1.0 if near else th.far_factor)
        if h.topic not in best or pts > best[h.topic][0]:
            best[h.topic] = (pts, h, near)
    combined = 1.0
    for ti, (pts, h, near) in sorted(best.items(), key=lambda kv: -kv[1][0]):
        t = wl.topics[ti]
        combined *= 1 - pts / 100
        v.weights[ti] = round(pts)
        dist = "距校名" + (
            f"{min(distance(h, e) for e in names)}字"
            if near
            else f"超过{th.near}字，按{th.far_factor:g}计"
        )
        reasons.append(
            f"话题「{t.name}」：“{h.term}”（{HitKind.label_of(h.kind)}，权重{t.weight}，{dist}，计{round(pts)}分）"
        )
    raw = th.mention + (100 - th.mention) * (1 - combined)

    # Category: the vocabulary of the categories first, then the subjects.
    category = _category(wl, best)

    # Rules.
    forced_alert: bool | None = None
    floor: str | None = None
    add = 0
    for rule in wl.rules:
        if not _holds(rule, wl, names, topics, words, th):
            continue
        parts = []
        if rule.add:
            add += rule.add
            parts.append(f"{rule.add:+d}分")
        if rule.category:
            category = rule.category
            parts.append(f"类别定为{Category.label_of(rule.category)}")
        if rule.severity:
            floor = max_severity(floor, rule.severity)
            parts.append(f"至少{Severity.label_of(rule.severity)}")
        if rule.alert is not None:
            forced_alert = rule.alert if forced_alert is None else (forced_alert and rule.alert)
            parts.append("须处置" if rule.alert else "不预警")
        reasons.append(f"规则「{rule.name}」成立：{'，'.join(parts)}")
    v.score = max(0, min(100, round(raw + add)))
    v.category = category
    alert = v.score >= th.alert
    if forced_alert is not None:
        alert = forced_alert
    if post_exclusions and alert and forced_alert is not True:
        alert = False
        reasons.append(f"排除：{'、'.join(post_exclusions)}，不预警")
    v.alert = alert
    reasons.append(
        f"评分{v.score}分 = 提及{th.mention}分 + 话题{round(raw - th.mention)}分"
        + (f" + 规则{add:+d}分" if add else "")
    )
    if alert:
        v.severity = max_severity(severity_for(v.score, th) or "IV", floor)
        reasons.append(
            f"预警：{Severity.label_of(v.severity)}"
            + (f"，处置类别：{Category.label_of(category)}" if category else "")
        )
    else:
        v.severity = None
        if not post_exclusions:
            reasons.append(f"未达预警线（{th.alert}分），仅作提及记录，无需处置")
    return v


def _category(wl: Watchlist, best: dict[int, tuple[float, Located, bool]]) -> str | None:
    signal: dict[str, float] = {}
    subject: dict[str, float] = {}
    for ti, (pts, _h, _n) in best.items():
        t = wl.topics[ti]
        bucket = signal if t.signal else subject
        bucket[t.category] = bucket.get(t.category, 0) + pts
    for bucket in (signal, subject):
        if not bucket:
            continue
        # Fabrication and hype outrank a question about the same story; a complaint or
        # demand outranks the suggestion it ends with (it keeps the same-day clock).
        for cat in ("illegal", "hype", "inquiry"):
            if bucket is signal and cat in bucket:
                return cat
        return max(bucket, key=lambda c: (bucket[c], -CATEGORY_PRIORITY.index(c)))
    return None


def _present(ref: str, wl, names, topics, words, near: int | None) -> bool:
    if ref == "entity":
        return bool(names)
    if ref.startswith("topic:"):
        tid = ref[6:]
        hits = [h for h in topics if wl.topics[h.topic].id == tid]
    elif ref.startswith("category:"):
        cat = ref[9:]
        hits = [h for h in topics if wl.topics[h.topic].category == cat]
    else:
        hits = words.get(ref, [])
    if near is not None:
        hits = [h for h in hits if _near(h, names, near)]
    return bool(hits)


def _holds(rule, wl, names, topics, words, th) -> bool:
    if not all(_present(r, wl, names, topics, words, rule.near) for r in rule.all):
        return False
    if rule.any and not any(_present(r, wl, names, topics, words, rule.near) for r in rule.any):
        return False
    return not any(_present(r, wl, names, topics, words, None) for r in rule.none)


# Spread ---------------------------------------------------------------------------------
SPREAD_STEPS = {
    # (threshold, points): posts per hour, distinct sites, engagement (replies+views+likes)
    "rate": [(5, 5), (20, 10), (100, 20)],
    "sites": [(3, 5), (5, 10), (10, 20)],
    "engagement": [(1_000, 5), (10_000, 10), (100_000, 20)],
}


def spread_points(posts_per_hour: float, sites: int, engagement: int) -> int:
    """Points spread adds: the larger step reached on each measure, summed."""
    total = 0
    for value, steps in (
        (posts_per_hour, SPREAD_STEPS["rate"]),
        (sites, SPREAD_STEPS["sites"]),
        (engagement, SPREAD_STEPS["engagement"]),
    ):
        pts = 0
        for threshold, p in steps:
            if value >= threshold:
                pts = p
        total += pts
    return total


def apply_spread(
    score: int,
    severity: str | None,
    posts_per_hour: float,
    sites: int,
    engagement: int,
    thresholds: Thresholds | None = None,
) -> tuple[int, str | None]:
    """Raise a score and its severity with spread: posts per hour, distinct sites and
    engagement each add up to 20 points. The severity never goes down; a post that was
    no alert (severity None) stays without severity, only its score rises."""
    new = max(0, min(100, int(score) + spread_points(posts_per_hour, sites, engagement)))
    if severity is None:
        return new, None
    return new, max_severity(severity, severity_for(new, thresholds))


def describe_spread(posts_per_hour: float, sites: int, engagement: int) -> str:
    """The reason line for the spread points, in the office's words."""
    return (
        f"传播：每小时{posts_per_hour:g}帖，{sites}个站点，互动{engagement}次，"
        f"加{spread_points(posts_per_hour, sites, engagement)}分"
    )
