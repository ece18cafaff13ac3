"""Summary and evaluation (总结评估): the review report of one incident and the weekly
report of all of them, as HTML (with an inline SVG volume chart) or Markdown."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

from jinja2 import Environment
from markupsafe import Markup
from sqlalchemy.orm import Session

from alerting.compose.views import source_label
from alerting.incidents import views
from alerting.incidents.workflow import WorkflowError
from core import templating
from core.times import office_time
from storage.models import Incident

TEMPLATES = Path(__file__).with_name("templates")
MAX_BARS = 96


def _env(html: bool) -> Environment:
    return templating.environment(TEMPLATES, html=html)


def volume(posts: list[dict], tz, now: datetime) -> list[tuple[datetime, int]]:
    """Posts per hour (or per a few hours for long incidents) from the first post on."""
    times = sorted((p["published_at"] or p["fetched_at"]) for p in posts)
    if not times:
        return []
    start = times[0].astimezone(tz).replace(minute=0, second=0, microsecond=0)
    end = times[-1].astimezone(tz)
    hours = int((end - start).total_seconds() // 3600) + 1
    step = max(1, -(-hours // MAX_BARS))
    bins = Counter(int((t.astimezone(tz) - start).total_seconds() // 3600) // step for t in times)
    return [(start + timedelta(hours=i * step), bins.get(i, 0)) for i in range(-(-hours // step))]


def svg_chart(
    series: list[tuple[datetime, int]],
    *,
    title: str = "每小时帖文量",
    tick: str = "%d日%H时",
    tip: str = "%m-%d %H:00",
) -> Markup:
    """A bar chart as inline SVG; every text in it is escaped."""
    w, h, pad_l, pad_b, pad_t = 720, 220, 36, 42, 24
    if not series:
        return Markup(
            f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{w}" height="60">'
            '<text x="10" y="35">暂无帖文</text></svg>'
        )
    top = max(c for _, c in series) or 1
    n = len(series)
    bw = (w - pad_l - 10) / n
    ih = h - pad_b - pad_t
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" width="{w}" height="{h}" '
            f'viewBox="0 0 {w} {h}"><title>{xml_escape(title)}</title>'
        ),
        f'<line x1="{pad_l}" y1="{h - pad_b}" x2="{w - 5}" y2="{h - pad_b}" stroke="#888"/>',
        f'<text x="4" y="{pad_t + 4}" font-size="11">{top}</text>',
        f'<text x="4" y="{h - pad_b}" font-size="11">0</text>',
    ]
    label_every = max(1, n // 8)
    for i, (t, c) in enumerate(series):
        bh = ih * c / top
        x = pad_l + i * bw
        parts.append(
            f'<rect class="bar" x="{x + 1:.1f}" y="{h - pad_b - bh:.1f}" width="{max(bw - 2, 1):.1f}" '
            f'height="{bh:.1f}" fill="#c0392b"><title>{xml_escape(t.strftime(tip))}：{c} 条</title></rect>'
        )
        if i % label_every == 0 and x + 60 <= w:  # a label at the right edge would be cut
            parts.append(
                f'<text x="{x + 1:.1f}" y="{h - pad_b + 14}" font-size="10">{xml_escape(t.strftime(tick))}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def _timeline(d: dict) -> list[dict]:
    rows = [
        {
            "at": p["published_at"] or p["fetched_at"],
            "who": p["site"],
            "what": "帖文",
            "text": p["title"],
            "url": p["url"],
        }
        for p in d["posts"]
    ]
    rows += [
        {
            "at": e["at"],
            "who": e["actor_label"],
            "what": e["label"],
            "text": e["note"] or "",
            "url": None,
        }
        for e in d["events"]
    ]
    return sorted(rows, key=lambda r: r["at"])


def context(session: Session, incident: Incident, config, now: datetime, viewer=None) -> dict:
    tz = config.tz
    d = views.detail(session, incident, now, config=config, viewer=viewer)
    for p in d["posts"]:
        p["source_label"] = source_label(config, p["source"])
    series = volume(d["posts"], tz, now)
    acks = [e for e in d["escalations"] if e["acked_at"]]
    return {
        "i": d,
        "now": now,
        "tz": tz,
        "timeline": _timeline(d),
        "series": series,
        "chart": svg_chart(series),
        "peak": max(series, key=lambda s: s[1]) if series else None,
        "notes": [e for e in d["events"] if e["kind"] == "note"],
        "acks": acks,
        "fmt": lambda t: office_time(t, tz),
        **_naming(config),
    }


def _naming(config) -> dict:
    """How reports name groups and sources (their labels) and quote titles."""
    return {
        "groups": lambda names: "、".join(config.group_label(g) for g in names or ()),
        "source_label": lambda name: source_label(config, name),
        "quoted": quoted_title,
    }


def quoted_title(title: str | None) -> str:
    """《title》, or the title as it is when it already opens with a bracket of its own
    (【曝光】…), so no title is wrapped twice."""
    t = " ".join((title or "").split()) or "（无标题）"
    return t if t[0] in "【《「『〔[" else f"《{t}》"


def render(
    session: Session, incident: Incident, config, now: datetime, fmt: str = "html", *, viewer=None
) -> str:
    """The review report; with ``viewer`` only when that person may see the incident."""
    if fmt not in ("html", "md"):
        raise WorkflowError("报告格式只能是 .html 或 .md")
    ctx = context(session, incident, config, now, viewer=viewer)
    return _env(fmt == "html").get_template(f"review.{fmt}.j2").render(**ctx)


def write(path: str | Path, text: str) -> Path:
    from core.errors import write_output

    return write_output(path, text)


def format_of(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix in (".html", ".htm"):
        return "html"
    if suffix in (".md", ".markdown"):
        return "md"
    raise WorkflowError(f"不支持的报告格式 '{suffix or '(无扩展名)'}'：请用 .html 或 .md")


def render_weekly(session: Session, config, now: datetime, fmt: str = "html", days: int = 7) -> str:
    """The weekly report (网络舆情周报): see ``alerting.incidents.weekly``."""
    from alerting.incidents import weekly

    return weekly.render(session, config, now, fmt, days=days)
