"""What a message shows of an incident and of its posts: cleaned, masked, highlighted.

Post text is never marked safe: it is escaped piece by piece, and only the ``<mark>``
tags around matched terms are ours. Links are shown only for http(s) URLs. Views are
built from records already loaded; nothing here writes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from alerting.compose.masking import mask as mask_text
from alerting.compose.text import clean_line
from core.times import office_time
from core.vocabulary import Category, IncidentStatus, Polarity, Severity

# One code point in, one code point out: offsets of matched terms stay valid.
_BLANK = re.compile(
    r"[\s\x00-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]"
)


def safe_url(url: str | None) -> str | None:
    """The URL when it is http(s) and one line; otherwise None (no javascript: links)."""
    if not url:
        return None
    u = str(url).strip()
    if re.match(r"(?i)^https?://[^\s<>\"'\\]+$", u):
        return u
    return None


def join_url(base: str | None, path: str) -> str | None:
    b = safe_url(base)
    return None if b is None else b.rstrip("/") + "/" + path.lstrip("/")


# The source that holds what people report (报案), which is no configured source.
MANUAL_SOURCE = "manual-report"
BUILT_IN_LABELS = {MANUAL_SOURCE: "人工报案"}


def source_labels(config) -> dict[str, str]:
    """Each configured source's display name (``label:``, else its name), by name; and
    the built-in manual-report source's (人工报案)."""
    return dict(BUILT_IN_LABELS) | {
        c.name: clean_line(getattr(c, "label", None) or c.name, 60)
        for c in getattr(config, "sources", None) or ()
    }


def source_label(config, name: str | None) -> str:
    """What the office calls a source: its ``label:`` (校园论坛), else its name."""
    if not name:
        return ""
    for c in getattr(config, "sources", None) or ():  # one source: not a table of all of them
        if c.name == name:
            return clean_line(getattr(c, "label", None) or c.name, 60)
    return BUILT_IN_LABELS.get(name) or clean_line(name, 60)


def _bracketed(text: str, s: int, e: int) -> bool:
    """The span already stands inside 【…】 (a title such as 【曝光】…): marking it again
    would print 【【曝光】】."""
    opening, closing = text.rfind("【", 0, s + 1), text.rfind("】", 0, s)
    if opening < 0 or closing > opening:
        return False
    after_open, after_close = text.find("【", e), text.find("】", e - 1)
    return after_close >= 0 and (after_open < 0 or after_close < after_open)


@dataclass
class Excerpt:
    """A piece of post text with matched terms: as HTML (escaped, terms in <mark>) and as
    plain text (terms in 【】)."""

    html: Markup
    text: str


def excerpt(text: str, spans: list[tuple[int, int]], cap: int = 240) -> Excerpt:
    """At most ``cap`` characters of ``text`` around the first matched term."""
    text = _BLANK.sub(" ", text or "")
    n = len(text)
    spans = sorted((max(0, s), min(n, e)) for s, e in spans if e > s and s < n)
    merged: list[list[int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    a = 0 if not merged else max(0, merged[0][0] - cap // 3)
    b = min(n, a + cap)
    html_parts: list[str] = ["…"] if a > 0 else []
    text_parts: list[str] = ["…"] if a > 0 else []
    pos = a
    for s, e in merged:
        s, e = max(s, a), min(e, b)
        if s >= e:
            continue
        html_parts.append(str(escape(text[pos:s])))
        html_parts.append(f"<mark>{escape(text[s:e])}</mark>")
        if _bracketed(text, s, e):
            text_parts.append(text[pos:e])
        else:
            text_parts.append(text[pos:s] + "【" + text[s:e] + "】")
        pos = e
    html_parts.append(str(escape(text[pos:b])))
    text_parts.append(text[pos:b])
    if b < n:
        html_parts.append("…")
        text_parts.append("…")
    return Excerpt(Markup("".join(html_parts)), "".join(text_parts))


@dataclass
class PostView:
    """What a template shows of one matched post (all strings already cleaned)."""

    id: int
    title: Excerpt
    excerpt: Excerpt
    source: str
    author: str
    when: str
    url: str | None
    snapshot: str | None
    snapshot_url: str | None
    console_url: str | None
    terms: list[str] = field(default_factory=list)
    score: int = 0
    severity: str = ""
    category: str = ""
    sentiment: str = ""  # 负面 / 中性 / 正面, empty when not known
    sentiment_key: str = ""  # the Polarity key, for styling (negative is shown in red)
    why: str = ""  # why a post with no listed topic is an alert (负面提及, 建设性意见)


def local_time(dt: datetime | None, tz: ZoneInfo) -> str:
    return office_time(dt, tz, empty="")


def post_view(
    post,
    match,
    *,
    tz: ZoneInfo,
    console_url: str | None,
    masked: bool,
    cap: int = 240,
    labels: dict[str, str] | None = None,
) -> PostView:
    """A template's view of a post and its match: cleaned, optionally masked, highlighted;
    its source by the display name in ``labels`` (``source_labels``)."""
    hits = list((match.hits if match is not None else None) or [])
    m = mask_text if masked else (lambda s: s or "")
    title_spans = [(h.get("start", 0), h.get("end", 0)) for h in hits if h.get("field") == "title"]
    text_spans = [
        (h.get("start", 0), h.get("end", 0)) for h in hits if h.get("field", "text") == "text"
    ]
    raw_title = m(post.title or "")
    title = (
        excerpt(raw_title, title_spans, cap=120)
        if raw_title.strip()
        else Excerpt(Markup("（无标题）"), "（无标题）")
    )
    terms: list[str] = []
    for h in hits:
        t = clean_line(h.get("term", ""), 30)
        if t and t not in terms:
            terms.append(t)
    snap = getattr(post, "snapshot", None)
    return PostView(
        id=post.id,
        title=title,
        excerpt=excerpt(m(post.text or ""), text_spans, cap=cap),
        source=_source_name(post, labels or {}),
        author=clean_line(m(post.author or ""), 40),
        when=local_time(post.published_at or post.fetched_at, tz),
        url=safe_url(post.url),
        snapshot=(f"#{snap.id} SHA-256 {snap.sha256[:16]}…" if snap is not None else None),
        snapshot_url=join_url(console_url, f"snapshots/{snap.id}") if snap is not None else None,
        console_url=join_url(console_url, f"posts/{post.id}"),
        terms=terms,
        score=match.score if match is not None else 0,
        severity=Severity.label_of(match.severity) if match is not None and match.severity else "",
        category=Category.label_of(match.category) if match is not None and match.category else "",
        sentiment=_polarity_label(match),
        why=_why(match),
        sentiment_key=(getattr(match, "sentiment", None) or "") if _polarity_label(match) else "",
    )


# Reason lines of alerting.negative that tell the office why the language made the verdict.
_WHY = ("负面提及", "建设性意见", "处置类别改为")


def _why(match) -> str:
    for r in (getattr(match, "reasons", None) or []) if match is not None else []:
        if isinstance(r, str) and r.startswith(_WHY):
            return clean_line(r, 200)
    return ""


def _polarity_label(match) -> str:
    key = getattr(match, "sentiment", None) if match is not None else None
    if key not in {p.value for p in Polarity}:
        return ""
    return Polarity.label_of(key)


def _source_name(post, labels: dict[str, str]) -> str:
    name = post.source.name if getattr(post, "source", None) else ""
    return labels.get(name) or clean_line(name, 60)


def post_views(posts: list, config, *, masked: bool | None = None) -> tuple[list[PostView], int]:
    """(views of at most ``notify.max_posts_per_mail`` of ``(post, match)`` pairs, how many
    more were left out). Masked when ``notify.mask_alerts`` says so, unless ``masked``."""
    s = config.notify
    masked = s.mask_alerts if masked is None else masked
    shown = list(posts)[: s.max_posts_per_mail]
    labels = source_labels(config)
    views = [
        post_view(p, m, tz=config.tz, console_url=config.console_url, masked=masked, labels=labels)
        for p, m in shown
    ]
    return views, len(posts) - len(shown)


def incident_view(incident, config) -> dict[str, Any]:
    """What every message about an incident shows of it (labels, office times, a link)."""
    terms = [clean_line(t, 30) for t in (incident.terms or []) if isinstance(t, str)]
    return {
        "id": incident.id,
        "title": clean_line(incident.title, 120) or f"事件 #{incident.id}",
        "severity": Severity.label_of(incident.severity),
        "category": Category.label_of(incident.category),
        "opened_at": local_time(incident.opened_at, config.tz),
        "status": IncidentStatus.label_of(incident.status),
        "post_count": incident.post_count,
        "site_count": incident.site_count,
        "terms": [t for t in terms if t][:12],
        "console_url": join_url(config.console_url, f"incidents/{incident.id}"),
        "related_to": getattr(incident, "related_to_id", None),
    }
