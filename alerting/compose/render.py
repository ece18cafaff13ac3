"""Rendering a message's template with Jinja2 (autoescape on for HTML).

The outbox calls ``render`` once, when it stores a message; a retry sends the stored
bytes and never renders again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, TemplateNotFound

from alerting.compose.inline import inline_css
from alerting.compose.urgency import NEUTRAL
from core import templating
from core.errors import SentinelError

TEMPLATES = Path(__file__).parent / "templates"

# What every template may rely on, so a family only fills in what it shows.
_DEFAULTS: dict[str, Any] = {
    "heading": "",
    "lead": "",
    "foot": "",
    "facts": [],
    "paragraphs": [],
    "posts": [],
    "posts_heading": "相关帖子",
    "more": 0,
    "incident": None,
    "guidance": "",
    "band": NEUTRAL.as_dict(),
    "story": [],
    "measures": [],
    "measures_heading": "拟采取的处置措施",
    "ask": None,
    "report": None,
    "onetap": None,
}


class TemplateError(SentinelError):
    """A notification template is missing or broken."""


_envs: dict[bool, Environment] = {}


def environment(html: bool = True) -> Environment:
    """The HTML environment escapes everything not marked safe; the plain-text one
    (text/plain parts, chat messages) has nothing to escape for."""
    if html not in _envs:
        _envs[html] = templating.environment(TEMPLATES, html=html)
    return _envs[html]


def render(template: str, context: dict[str, Any]) -> tuple[str, str]:
    """(html, text) of ``template`` (``templates/<template>.html.j2`` and ``.txt.j2``);
    the HTML with its styles also inline (for webmail that drops ``<style>``)."""
    context = {**_DEFAULTS, **context}
    try:
        html = environment(True).get_template(f"{template}.html.j2").render(**context)
        text = environment(False).get_template(f"{template}.txt.j2").render(**context)
    except TemplateNotFound as e:
        names = sorted({p.name.split(".")[0] for p in TEMPLATES.glob("*.html.j2")})
        raise TemplateError(f"没有通知模板 {e.name}；可用模板：{', '.join(names)}") from None
    return inline_css(html), text
