"""One way to build a Jinja2 environment for what the office reads.

HTML environments autoescape everything (crawled text is never marked safe); plain-text
ones (text/plain mail parts, chat messages, Markdown) have nothing to escape for. Every
environment has the vocabulary's labels and the office's time as filters, so a template
never prints a stored key or a UTC time::

    {{ incident.status | status }}   {{ post.fetched_at | time }}   {{ cat | category }}
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from jinja2 import Environment, FileSystemLoader

from core import times
from core import vocabulary as v

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#])")


def markdown_text(value: object) -> str:
    """Crawled text made inert for Markdown: HTML tags escaped (a Markdown viewer would
    render them), table pipes and emphasis characters escaped, line breaks folded."""
    text = " ".join(str(value if value is not None else "").split())
    text = html.escape(text, quote=False)
    return _MD_SPECIAL.sub(r"\\\1", text)


def environment(folder: str | Path, *, html: bool) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(folder)),
        autoescape=html,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        time=lambda dt, style="minute": times.office_time(dt, style=style),
        status=v.IncidentStatus.label_of,
        category=v.Category.label_of,
        severity=v.Severity.label_of,
        event=v.EventKind.label_of,
        actor=v.actor_label,
        role=v.Role.label_of,
        outbox=v.OutboxStatus.label_of,
        health=v.SourceHealth.label_of,
        fetch_error=v.FetchErrorKind.label_of,
        polarity=v.Polarity.label_of,
        hit_kind=v.HitKind.label_of,
        md=markdown_text,
    )
    env.globals["zone_name"] = times.zone_name
    return env
