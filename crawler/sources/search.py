"""Search queries: a URL template with ``{query}`` expanded once per watched entity
name (news-search feeds, a forum's search page, a self-hosted RSSHub route); the
result pages go through the feed or the site path."""

from __future__ import annotations

import builtins
from typing import Literal
from urllib.parse import quote

from pydantic import Field, field_validator, model_validator

from core.vocabulary import FetchErrorKind
from crawler.base import Batches, Collection, Outcome, SourceConfig, SourceState, SourceType
from crawler.options import CrawlOptions
from crawler.sources.feed import collect_feed_url
from crawler.sources.site import crawl


class SearchConfig(CrawlOptions, SourceConfig):
    """A search URL template run once per entity name. The crawl keys (``list``,
    ``fields``, ``encoding``, ``concurrency``, ``max_requests``, ``crawl_timeout``) are
    those of a site and apply with ``format: site``."""

    type: Literal["search"] = Field("search", description="search")
    url: str = Field(
        description="URL template with {query}, e.g. https://s.example.com/rss?q={query}."
    )
    format: Literal["feed", "site"] = Field(
        "feed", description="The result page is a feed, or a site page (then list/fields apply)."
    )
    query_encoding: Literal["utf-8", "gbk"] = Field(
        "utf-8",
        description="How the query is percent-encoded: utf-8, or gbk for older Chinese sites.",
    )
    queries: builtins.list[str] = Field(
        default_factory=builtins.list,
        description="Extra fixed queries, added to the watchlists' entity names.",
    )
    use_entities: bool = Field(
        True,
        description="Search for the watchlists' entity names (false: only the `queries` "
        "listed, e.g. Zhihu topic IDs).",
    )

    @property
    def crawls_pages(self) -> bool:
        return self.format == "site"

    @model_validator(mode="after")
    def _something_to_search(self):
        if not self.use_entities and not self.queries:
            raise ValueError(
                "use_entities: false 时须在 queries 中列出要搜索的词"
                + ("（知乎话题 ID，如 19551137）" if self.preset == "zhihu-topic" else "")
            )
        return self

    @field_validator("url")
    @classmethod
    def _template(cls, v: str) -> str:
        if "{query}" not in v:
            raise ValueError("搜索网址中必须有 {query}，标明搜索词所在的位置")
        return v


def expand(template: str, query: str, encoding: str = "utf-8") -> str:
    """The template with ``{query}`` replaced by the percent-encoded query."""
    codec = "gbk" if encoding == "gbk" else "utf-8"
    return template.replace("{query}", quote(query, safe="", encoding=codec, errors="strict"))


class SearchSource(SourceType):
    """One request (or one crawl) per query; failures of single queries are warnings."""

    name = "search"
    config_model = SearchConfig

    def queries(self) -> list[str]:
        cfg: SearchConfig = self.config  # type: ignore[assignment]
        out: list[str] = []
        for q in [*(self.context.queries if cfg.use_entities else []), *cfg.queries]:
            q = q.strip()
            if q and q not in out:
                out.append(q)
        return out

    def urls(self) -> list[tuple[str, str]]:
        cfg: SearchConfig = self.config  # type: ignore[assignment]
        out = []
        for q in self.queries():
            try:
                out.append((q, expand(cfg.url, q, cfg.query_encoding)))
            except UnicodeEncodeError:
                continue  # a name GBK cannot write (rare characters): skipped, reported below
        return out

    def collect(self, state: SourceState) -> Batches:
        cfg: SearchConfig = self.config  # type: ignore[assignment]
        pairs = self.urls()
        if not pairs:
            return Outcome(state=state, warnings=["没有可搜索的词：监测词表中没有监测对象的名称"])
        if cfg.format == "site":
            outcome = yield from crawl(cfg, self.context, state, [u for _, u in pairs])
        else:
            outcome = yield from self._feeds(cfg, state, pairs)
        skipped = len(self.queries()) - len(pairs)
        if skipped:
            outcome.warnings.append(f"{skipped} 个搜索词无法用 {cfg.query_encoding} 编码，已跳过")
        return outcome

    def _feeds(
        self, cfg: SearchConfig, state: SourceState, pairs: list[tuple[str, str]]
    ) -> Batches:
        """Each query's result feed in turn; the run fails only when every query failed."""
        outcome = Outcome(state=state)
        failures: list[Outcome] = []
        for query, url in pairs:
            with Collection(
                collect_feed_url(url, cfg, self.context, state, conditional=False)
            ) as one:
                for batch in one:
                    for p in batch.posts:
                        p.extra["query"] = query
                    yield batch
            o = one.outcome
            outcome.fetched += o.fetched
            outcome.requests += o.requests
            outcome.warnings += [f"{query}：{w}" for w in o.warnings]
            if o.error:
                failures.append(o)
                outcome.warnings.append(
                    f"{query}：{FetchErrorKind.label_of(o.error_kind)}：{o.error}"
                )
        if failures and len(failures) == len(pairs):
            outcome.error_kind, outcome.error = failures[0].error_kind, failures[0].error
            asked = [o.retry_after for o in failures if o.retry_after]
            outcome.retry_after = max(asked) if asked else None
        return outcome
