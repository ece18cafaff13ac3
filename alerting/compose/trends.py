"""The trends in the office's words: spike lines and the per-day chart for the digest and
the weekly report (``alerting.stats`` computes; this only words and draws)."""

from __future__ import annotations

from markupsafe import Markup

from core.times import office_time
from core.vocabulary import Polarity

METRIC_WORDS = {"mentions": "涉校提及", "negative_share": "负面占比"}


def spike_line(s, tz) -> str:
    """One spike as a sentence: when, what, how much against the usual."""
    when = office_time(s.at, tz)
    if s.metric == "negative_share":
        return f"{when} 起一小时内负面占比 {s.value:.0%}，而此前几天同一时段为 {s.baseline:.0%}"
    return f"{when} 起一小时内涉校提及 {s.value:g} 条，此前几天同一时段平均 {s.baseline:g} 条"


# A digest asked for over a long period (a first digest, one run by hand with an early
# --since) shows its last month day by day: a table and a chart of years would bury the rest.
MAX_DAYS = 31


def trends_view(st, tz, labels: dict[str, str] | None = None) -> dict:
    """What the digest and the weekly report show of ``alerting.stats.Stats``; sources by
    their display names (``labels``, from ``views.source_labels``)."""
    labels = labels or {}
    return {
        "days": [
            {
                "date": f"{d.date:%m月%d日}",
                "posts": d.posts,
                "mentioned": d.mentioned,
                "alerts": d.alerts,
                "negative": f"{d.negative:.0%}",
            }
            for d in st.per_day[-MAX_DAYS:]
        ],
        "days_cut": len(st.per_day) > MAX_DAYS,  # a note says only the last month is listed
        "sources": [(labels.get(s.source) or s.source, s.posts) for s in st.top_sources],
        "terms": [(t.term, t.hits) for t in st.top_terms],
        "hot": [
            {
                "title": h.title,
                "posts": h.posts,
                "sites": h.sites,
                "first": office_time(h.first_seen_at, tz),
                "sentiment": Polarity.label_of(h.sentiment["label"]),
            }
            for h in st.hot_topics
        ],
        "spikes": [spike_line(s, tz) for s in st.spikes],
        "chart": trend_chart(st),
    }


def trend_chart(st) -> Markup:
    """Mentions per day as bars, the negative ones darker, as inline SVG (mail clients
    show it in the HTML part; every text in it is ours, escaped)."""
    from xml.sax.saxutils import escape

    days = st.per_day[-MAX_DAYS:]
    w, h, pad_l, pad_b, pad_t = 720, 220, 40, 42, 28
    top = max([d.mentioned for d in days] + [1])
    n = max(len(days), 1)
    bw = (w - pad_l - 10) / n
    ih = h - pad_b - pad_t
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" width="100%" '
            f'style="max-width: {w}px; height: auto" viewBox="0 0 {w} {h}">'
            "<title>每日涉校提及与负面帖文</title>"
        ),
        f'<line x1="{pad_l}" y1="{h - pad_b}" x2="{w - 5}" y2="{h - pad_b}" stroke="#888"/>',
        f'<text x="4" y="{pad_t + 4}" font-size="11">{top}</text>',
        f'<text x="4" y="{h - pad_b}" font-size="11">0</text>',
        (
            f'<rect x="{w - 230}" y="4" width="10" height="10" fill="#f0b27a"/>'
            f'<text x="{w - 216}" y="13" font-size="11">涉校提及</text>'
            f'<rect x="{w - 150}" y="4" width="10" height="10" fill="#c0392b"/>'
            f'<text x="{w - 136}" y="13" font-size="11">其中负面</text>'
        ),
    ]
    every = max(1, n // 10)
    for i, d in enumerate(days):
        x = pad_l + i * bw
        bh = ih * d.mentioned / top
        nh = ih * round(d.negative * d.mentioned) / top
        tip = escape(f"{d.date:%m月%d日}：提及 {d.mentioned} 条，负面占 {d.negative:.0%}")
        parts.append(
            f'<rect class="bar" x="{x + 1:.1f}" y="{h - pad_b - bh:.1f}" '
            f'width="{max(bw - 2, 1):.1f}" height="{bh:.1f}" fill="#f0b27a"><title>{tip}</title></rect>'
            f'<rect x="{x + 1:.1f}" y="{h - pad_b - nh:.1f}" width="{max(bw - 2, 1):.1f}" '
            f'height="{nh:.1f}" fill="#c0392b"><title>{tip}</title></rect>'
        )
        if i % every == 0:
            parts.append(
                f'<text x="{x + 1:.1f}" y="{h - pad_b + 14}" font-size="10">'
                f"{escape(f'{d.date:%m-%d}')}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))


__all__ = ["MAX_DAYS", "METRIC_WORDS", "spike_line", "trend_chart", "trends_view"]
