"""A dry run of one source (``sentinel source test``), as urlwatch and changedetection.io
users expect before they add a watch: fetch and parse exactly as the daemon would,
store nothing, notify no one, and show what would be stored and what the matcher
would say about each post.

The run starts from an empty state (no ETag, no Last-Modified), so a feed is read in
full even when the daemon's last poll was a 304.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from alerting.compose.digest import no_content_hint
from core.errors import SentinelError
from crawler.base import (
    CollectContext,
    CollectResult,
    RawPost,
    SourceConfig,
    SourceState,
    collect_all,
)
from crawler.placeholder import shows_no_text
from crawler.registry import source_types
from sentinel.config import Config, validate_source

PREVIEW_LINES = 3
PREVIEW_CHARS = 240


@dataclass
class TriedPost:
    """One post the source would hand over, and the matcher's verdict on it."""

    post: RawPost
    match: Any  # alerting.matcher.MatchResult

    def preview(self) -> str:
        """The first lines of the text, as a glance shows them."""
        lines = [line.strip() for line in (self.post.text or "").splitlines() if line.strip()]
        text = "\n".join(lines[:PREVIEW_LINES])
        return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS] + "…"

    def to_dict(self) -> dict[str, Any]:
        p = self.post
        return {
            "url": p.url,
            "title": p.title,
            "author": p.author,
            "published_at": p.published_at,
            "replies": p.replies,
            "views": p.views,
            "text_preview": self.preview(),
            "length": len(p.text or ""),
            "match": self.match.to_dict(),
        }


@dataclass
class DryRun:
    """What one source run would store, without storing it."""

    source: SourceConfig
    result: CollectResult
    posts: list[TriedPost] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.result.ok

    def to_dict(self) -> dict[str, Any]:
        r = self.result
        return {
            "source": self.source.name,
            "type": self.source.type,
            "ok": r.ok,
            "requests": r.requests,
            "fetched": r.fetched,
            "error_kind": r.error_kind,
            "error": r.error,
            "warnings": list(r.warnings),
            "seconds": round(self.seconds, 3),
            "counts": {
                "posts": len(self.posts),
                "mentioned": sum(t.match.mentioned for t in self.posts),
                "alerts": sum(t.match.alert for t in self.posts),
            },
            "posts": [t.to_dict() for t in self.posts],
        }


def source_from_options(
    kind: str, urls: list[str], settings: dict[str, Any], name: str = "试采"
) -> SourceConfig:
    """A source written on the command line (``--type site --url U --set list.item=…``)."""
    types = source_types()
    if kind not in types:
        raise SentinelError(f"未知的来源类型 '{kind}'，可选：{'、'.join(types)}")
    model = types[kind].config_model
    doc: dict[str, Any] = {"name": name, "type": kind}
    doc["urls" if "urls" in model.model_fields else "url"] = (
        urls if "urls" in model.model_fields else urls[0]
    )
    for key, value in settings.items():
        node = doc
        *parents, last = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    try:
        return validate_source(doc)
    except ValidationError as e:
        problems = "；".join(
            f"{'.'.join(str(x) for x in err['loc']) or kind}：{err['msg']}" for err in e.errors()
        )
        raise SentinelError(f"来源设置有误：{problems}") from None


def dry_run(config: Config, source: SourceConfig, matcher=None) -> DryRun:
    """Run ``source`` once to its end and match what it found; nothing is written."""
    from alerting.matcher import post_text
    from alerting.sentiment import polarity

    if matcher is None:
        from alerting.matcher import load_matcher

        matcher = load_matcher(config.watchlist_files(), cache_dir=config.cache_dir)
    context = CollectContext(
        user_agent=config.full_user_agent,
        queries=list(matcher.entity_names()),
        timezone=config.timezone,
        browser_path=config.browser_path,
    )
    started = time.monotonic()
    result = collect_all(source_types()[source.type](source, context=context), SourceState())
    run = DryRun(source=source, result=result)
    for post in result.posts:
        verdict = matcher.match(post.text or "", title=post.title or "")
        if verdict.sentiment is None:
            verdict.sentiment = polarity(post_text(post.text or "", post.title or ""))
        run.posts.append(TriedPost(post, verdict))
    run.seconds = time.monotonic() - started
    blank = sum(
        shows_no_text(
            p.title, p.text, title_is_content=source.type == "feed" or "from_list_row" in p.extra
        )
        for p in result.posts
    )
    if blank and blank * 2 > len(result.posts):  # what makes the daemon say 看不到正文
        result.warnings.insert(0, f"{blank} 个页面看不到正文：{no_content_hint(source)}")
    return run
