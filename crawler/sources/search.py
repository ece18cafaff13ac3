"""Search queries: a URL template with ``{query}`` expanded once per watched entity
name (news-search feeds, a forum's search page, a self-hosted RSSHub route); the
result pages go through the feed or the site path."""

from __future__ import annotations

import builtins
from typing import Literal
from urllib.parse import quote

from pydantic import Field, field_validator

from crawler.base import CollectResult, SourceConfig, SourceState, SourceType, register
from crawler.sources.feed import collect_feed_url
from crawler.sources.site import FieldSelectors, ListSpec, SiteConfig, collect_site


class SearchConfig(SourceConfig):
    """A search URL template run once per entity name."""

    type: Literal["search"] = Field("search", description="search")
    url: str = Field(description="URL template with {query}, e.g. https://s.example.com/rss?q={query}.")
    format: Literal["feed", "site"] = Field("feed", description="The result page is a feed, or a site page (then list/fields apply).")
    query_encoding: Literal["utf-8", "gbk"] = Field(
        "utf-8", description="How the query is percent-encoded: utf-8, or gbk for older Chinese sites."
    )
    queries: builtins.list[str] = Field(
        default_factory=list,
        description="Extra fixed queries, added to the watchlists' entity names.",
    )
    list: ListSpec | None = Field(None, description="With format: site — result list: item links, pagination, rows.")
    fields: FieldSelectors = Field(
        default_factory=FieldSelectors, description="With format: site — selectors on result pages."
    )
    allowed_domains: builtins.list[str] = Field(
        default_factory=lambda: [],  # noqa: PIE807 - `list` is a field name in this class
        description="Hosts that may be visited or redirected to (host:port for another port than "
        "80/443); the template's host is always allowed."
    )
    encoding: str | None = Field(None, description="With format: site — force a page encoding.")
    concurrency: int = Field(2, ge=1, le=32, description="Requests at once to one host.")
    max_redirects: int = Field(5, ge=0, le=20, description="Most redirects followed per request.")
    max_requests: int = Field(500, ge=1, description="Most pages fetched per run (format: site).")
    crawl_timeout: float = Field(600, description="Longest a whole run may take (format: site).")

    @field_validator("url")
    @classmethod
    def _template(cls, v: str) -> str:
        if "{query}" not in v:
            raise ValueError("the search URL must contain {query} where the search term goes")
        return v


def expand(template: str, query: str, encoding: str = "utf-8") -> str:
    """The template with ``{query}`` replaced by the percent-encoded query."""
    return template.replace("{query}", quote(query, safe="", encoding="gbk" if encoding == "gbk" else "utf-8",
                                             errors="strict"))


@register
class SearchSource(SourceType):
    """One request (or one crawl) per query; failures of single queries are warnings."""

    name = "search"
    config_model = SearchConfig

    def queries(self) -> list[str]:
        cfg: SearchConfig = self.config  # type: ignore[assignment]
        out: list[str] = []
        for q in [*self.context.queries, *cfg.queries]:
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

    def collect(self, state: SourceState) -> CollectResult:
        cfg: SearchConfig = self.config  # type: ignore[assignment]
        pairs = self.urls()
        if not pairs:
            return CollectResult(state=state, warnings=["no queries: the watchlists name no entities"])
        skipped = len(self.queries()) - len(pairs)
        if cfg.format == "site":
            site_cfg = SiteConfig.model_validate({
                "name": cfg.name, "type": "site", "urls": [u for _, u in pairs], "list": cfg.list,
                "fields": cfg.fields,
                "allowed_domains": cfg.allowed_domains, "allow_private": cfg.allow_private,
                "encoding": cfg.encoding, "concurrency": cfg.concurrency, "timeout": cfg.timeout,
                "max_bytes": cfg.max_bytes, "delay": cfg.delay, "obey_robots": cfg.obey_robots,
                "max_redirects": cfg.max_redirects, "max_requests": cfg.max_requests,
                "crawl_timeout": cfg.crawl_timeout,
            })
            result = collect_site(site_cfg, self.context, state)
        else:
            result = CollectResult(state=state)
            failures: list[CollectResult] = []
            for query, url in pairs:
                one = collect_feed_url(url, cfg, self.context, state, conditional=False)
                result.fetched += one.fetched
                result.requests += one.requests
                result.snapshots += one.snapshots
                for p in one.posts:
                    p.extra["query"] = query
                result.posts += one.posts
                result.warnings += [f"{query}: {w}" for w in one.warnings]
                if one.error:
                    failures.append(one)
                    result.warnings.append(f"{query}: {one.error_kind}: {one.error}")
            if failures and len(failures) == len(pairs):
                result.error_kind, result.error = failures[0].error_kind, failures[0].error
        if skipped:
            result.warnings.append(f"{skipped} quer{'y' if skipped == 1 else 'ies'} cannot be written in {cfg.query_encoding}")
        return result
