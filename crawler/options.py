"""The keys of sources that crawl pages, defined once.

``HostOptions`` (where a source may go) is shared by every built-in type;
``CrawlOptions`` (what the spider does and how far) by ``site`` and by ``search`` with
``format: site``. A source type's config model inherits them next to ``SourceConfig``,
so the keys stay flat in ``sentinel.yaml`` and mean the same in every type.
"""

from __future__ import annotations

import builtins
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from core.durations import Duration


class FieldSelectors(BaseModel):
    """Per-field selectors: CSS (``h1::text``, ``a::attr(href)``, ``td.t_f``) or XPath
    (starting with ``/``, ``./`` or ``(``). An element selector yields the element's
    readable text; several matches of ``body`` are joined, other fields take the first."""

    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(None, description="The post's title; default: the page's <title>.")
    body: str | None = Field(
        None, description="The post's text; without it the main text is extracted automatically."
    )
    author: str | None = Field(None, description="The author's name.")
    published: str | None = Field(
        None, description='Publication time text ("2026-11-23 08:15", "3分钟前", "昨天 12:30").'
    )
    replies: str | None = Field(None, description="Reply count text ('22', '1.2万').")
    views: str | None = Field(None, description="View count text.")


class ListSpec(BaseModel):
    """How to walk list pages (a board, a news column, a Tieba list)."""

    model_config = ConfigDict(extra="forbid")
    item: str | None = Field(
        None,
        description='Selector of the links to posts, e.g. "a.s.xst::attr(href)" '
        "(within a row when `row` is set).",
    )
    next: str | None = Field(
        None, description='Selector of the next-page link, e.g. "a.nxt::attr(href)".'
    )
    max_pages: int = Field(
        1, ge=1, le=1000, description="Most list pages walked per run (start page included)."
    )
    row: str | None = Field(
        None,
        description="Selector of one post's row on the list page; each row becomes a post "
        "(its link from `item`, its fields from `fields` below, relative to the row).",
    )
    fields: FieldSelectors = Field(
        default_factory=FieldSelectors, description="Selectors within a row (with `row`)."
    )
    follow: bool | None = Field(
        None,
        description="Also visit each item link as an article page "
        "(default: yes without `row`, no with it).",
    )


class HostOptions(BaseModel):
    """Where a source may go: the hosts it may visit or be redirected to."""

    allowed_domains: builtins.list[str] = Field(
        default_factory=builtins.list,
        description="Hosts that may be visited or redirected to (and their subdomains; "
        "host:port for another port than 80/443); the source's own hosts are always allowed.",
    )
    max_redirects: int = Field(5, ge=0, le=20, description="Most redirects followed per request.")


class CrawlOptions(HostOptions):
    """What the one configured spider does on a source's pages, and its safety stops."""

    list: ListSpec | None = Field(None, description="List pages: item links, pagination, rows.")
    fields: FieldSelectors = Field(
        default_factory=FieldSelectors,
        description="Selectors on article pages; none: automatic extraction.",
    )
    encoding: str | None = Field(
        None,
        description="Force a page encoding (gbk, big5, utf-8) when a site lies about it; "
        "default: detect.",
    )
    concurrency: int = Field(2, ge=1, le=32, description="Requests at once to one host.")
    max_requests: int = Field(500, ge=1, description="Most pages fetched per run (a safety stop).")
    crawl_timeout: Duration = Field(
        600, description="Longest a whole run may take (30s, 10m, ...)."
    )
    preset: str | None = Field(
        None,
        description="A ready-made source for a Chinese platform (baidu-news, sogou-weixin, "
        "tieba-search, tieba, weibo, zhihu-topic, bilibili): fills url, query_encoding, format, "
        "list, fields, encoding and render; keys written in the source win.",
    )
    rsshub: str | None = Field(
        None,
        description="With the weibo, zhihu-topic and bilibili presets: the RSSHub instance, "
        "e.g. http://127.0.0.1:1200 (default https://rsshub.app; a self-hosted one is better).",
    )
    render: bool = Field(
        False,
        description="Render each page in headless Chromium first, for pages whose text "
        "JavaScript writes (the page then shows 加载中 or nothing without it).",
    )
    render_wait: int | str | None = Field(
        None,
        description="With render: what to wait for before reading the page: a CSS selector "
        "that must appear (e.g. div.post-body), or milliseconds (e.g. 1500); default: the "
        "page's load event.",
    )
    render_max_pages: int = Field(
        50, ge=1, le=10000, description="With render: most pages rendered per run."
    )

    @model_validator(mode="before")
    @classmethod
    def _fill_preset(cls, data: Any) -> Any:
        from crawler.presets import apply

        return apply(data)

    @field_validator("preset")
    @classmethod
    def _known_preset(cls, v: str | None, info: ValidationInfo) -> str | None:
        from crawler.presets import problem

        why = problem(v, info.data.get("type")) if v is not None else None
        if why:
            raise ValueError(why)
        return v

    @field_validator("render_wait")
    @classmethod
    def _wait(cls, v: int | str | None) -> int | str | None:
        if isinstance(v, bool):
            raise ValueError("render_wait 应为 CSS 选择器或毫秒数")  # noqa: TRY004
        if isinstance(v, int):
            if not 0 <= v <= 120_000:
                raise ValueError("render_wait 的毫秒数应在 0 到 120000 之间")
            return v
        if isinstance(v, str):
            from cssselect import GenericTranslator, SelectorError

            try:
                GenericTranslator().css_to_xpath(v)
            except SelectorError:
                raise ValueError(f"render_wait 不是有效的 CSS 选择器：{v}") from None
        return v

    @model_validator(mode="after")
    def _wait_needs_render(self):
        if self.render_wait is not None and not self.render:
            raise ValueError("render_wait 只在 render: true 时有效")
        return self

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, v: str | None) -> str | None:
        from crawler.encoding import normalise_label

        if v is not None and normalise_label(v) is None:
            raise ValueError(f"未知的编码 '{v}'（可用 gbk、gb18030、big5、utf-8）")
        return v
