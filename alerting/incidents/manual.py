"""Manual reports (报案): any unit or person who sees a hot, sensitive issue reports it to
the office at once; the report creates or joins an incident, with the reporter recorded.

A report may name a page (``url``): it is fetched through the hardened HTTP layer and
its snapshot kept as evidence, as for a crawled post. It may have no URL at all — a
rumour in a WeChat or QQ group — and carry files instead (screenshots, photos, PDFs,
``files``). The reporter's category is kept as their view beside the matcher's
proposal, never in its place. A unit's information manager brings their unit to the
incident and gets a receipt by mail.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.compose.views import MANUAL_SOURCE  # its label (人工报案) lives there too
from alerting.incidents import evidence, files, roles, units
from alerting.incidents.intake import intake
from alerting.incidents.settings import settings_of
from alerting.incidents.workflow import WorkflowError
from core.vocabulary import Category, FetchErrorKind
from crawler.sanitize import clean_line, clean_text
from crawler.urls import canonical
from storage.models import EvidenceItem, Incident, Match, Post, Source

NO_URL_PREFIX = "report:"  # the key of a post reported without a URL
log = logging.getLogger("sentinel.incidents")


@dataclass
class Report:
    """What a report did: the incident (new or joined), the reported post, the page as
    fetched (``page``: url, status, sha256, size — or ``error``), the files kept."""

    incident: Incident
    opened: bool
    post: Post
    page: dict | None = None
    files: list[EvidenceItem] = field(default_factory=list)


def _source(session: Session) -> Source:
    src = session.scalar(select(Source).where(Source.name == MANUAL_SOURCE))
    if src is None:
        src = Source(name=MANUAL_SOURCE, type="manual", state={})
        session.add(src)
        session.flush()
    return src


def _match(config, post: Post, by: str, now: datetime) -> Match:
    """The matcher's verdict when it is available; a report is an alert either way."""
    m = Match(
        post_id=post.id,
        mentioned=True,
        alert=True,
        score=0,
        matched_at=now,
        reasons=[f"人工报案：{by}"],
        entities=[],
        hits=[],
    )
    try:
        from alerting.matcher import shared_holder

        matcher = shared_holder(config.watchlist_files, config.cache_dir).get()
        r = matcher.match(post.text or "", title=post.title or "")
        m.watchlist_version = matcher.version
        m.mentioned, m.score, m.severity, m.category = r.mentioned, r.score, r.severity, r.category
        m.entities, m.hits = list(r.entities), list(r.to_dict()["hits"])
        m.reasons = list(r.reasons) + m.reasons
        if r.sentiment is not None:
            m.sentiment, m.sentiment_score = r.sentiment.label, round(r.sentiment.score, 3)
    except Exception as e:
        log.warning("manual report %s not matched: %s", post.url, e)
    return m


def needs_fetch(session: Session, url: str | None) -> bool:
    """Whether reporting ``url`` would fetch it: an http(s) URL of no stored post."""
    url = (url or "").strip()
    if not url.startswith(("http://", "https://")):
        return False
    return session.scalar(select(Post.id).where(Post.url == canonical(url))) is None


def fetch_page(url: str, config, client=None):
    """(FetchResult, None) for a page that answered 2xx, else (result or None, why not in
    Chinese). A person asked for this one page, so robots.txt is not consulted; every
    other limit of the HTTP layer holds, and a loopback or private address is refused
    unless ``incidents.reports.allow_private``."""
    from crawler.hosts import private_address
    from crawler.http import FetchError, FetchOptions, shared_client

    s = settings_of(config).reports
    addr = None if s.allow_private else private_address(urlsplit(url).hostname or "")
    if addr is not None:
        return None, (
            f"网址指向本机或内网地址 {addr}，出于安全考虑未抓取"
            "（确需抓取请设置 incidents.reports.allow_private: true）"
        )
    opts = FetchOptions(
        user_agent=config.full_user_agent,
        timeout=float(s.fetch_timeout),
        obey_robots=False,
        allow_private=s.allow_private,
    )
    try:
        fr = (client or shared_client()).fetch(url, opts)
    except FetchError as e:
        return None, f"{FetchErrorKind.label_of(e.kind)}：{e.message}"
    if not 200 <= fr.status < 300:
        return fr, f"网站返回 HTTP {fr.status}"
    return fr, None


def _page_text(fr) -> tuple[str, str, str | None]:
    """(title, main text, author) of a fetched page; empty when it cannot be read."""
    from crawler.encoding import decode
    from crawler.text import collapse, extract_main

    d = decode(fr.body, fr.headers.get("content-type"))
    fr.encoding, fr.decode_error = d.encoding, d.error
    if d.text is None:
        return "", "", None
    if "html" in (fr.headers.get("content-type") or "html").lower() or d.text.lstrip().startswith(
        "<"
    ):
        out = extract_main(d.text, fr.final_url)
        return out["title"], out["text"], out["author"]
    return "", collapse(d.text)[:20000], None


def report(
    session: Session,
    *,
    title: str | None,
    note: str | None,
    by: str,
    config,
    outbox,
    now: datetime,
    url: str | None = None,
    uploads: list[files.Upload] | tuple = (),
    category: str | None = None,
    severity: str | None = None,
    client=None,
    fetched: tuple | None = None,
) -> Report:
    """报案: create or join an incident for what the reporter saw — a page (``url``, fetched
    and kept), or a title and a note with files (``uploads``) when there is no URL. Any
    active user may report. Every check (the reporter, the URL, each file's size and
    type) comes before anything is written. ``fetched`` is ``fetch_page``'s answer
    when the caller fetched the page before opening the transaction (the CLI does, so
    a slow site holds no database lock); without it the page is fetched here."""
    user = roles.require(session, by, "报案", roles=roles.EVERYONE)
    # Typed or pasted text is shown on terminals and in mail headers as crawled text is:
    # no escape sequence or control character gets in (crawler.sanitize).
    title, note = clean_line(title or "").strip(), clean_text(note or "").strip()
    url = clean_line(url or "").strip() or None
    if url is None and not (title and note):
        raise WorkflowError(
            "没有网址的报案须写明 --title 标题 和 --note 情况说明（可附 --file 截图）"
        )
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise WorkflowError(f"'{url}' 不是有效的网址（应以 http:// 或 https:// 开头）")
    view = Category.parse(category).value if category else None
    for u in uploads:
        files.check(u, config)

    page: dict | None = None
    post = session.scalar(select(Post).where(Post.url == canonical(url))) if url else None
    if post is None:
        post, page = _new_post(
            session,
            user,
            url,
            title,
            note,
            view,
            config,
            now,
            fetched or (fetch_page(url, config, client) if url else None),
        )
    elif post.snapshot_id:
        page = {"url": url, "snapshot_id": post.snapshot_id, "stored_before": True}
    match = session.scalar(select(Match).where(Match.post_id == post.id))
    if match is None:
        match = _match(config, post, user.name, now)
        session.add(match)
        session.flush()
    if (
        view and not match.category
    ):  # no proposal of the matcher: the reporter's view starts the checklist
        match.category = view
        match.reasons = [*match.reasons, f"类别取报案人意见：{Category.label_of(view)}"]
    if severity and not match.severity:
        match.severity = severity
    who = f"{user.name}（{user.unit}）" if user.unit else user.name
    said = note or title or url
    details = {
        "reporter_unit": user.unit,
        "reporter_category": view,
        "url": url,
        "page_error": (page or {}).get("error"),
    }
    inc, opened = intake(
        session,
        post,
        match,
        config=config,
        outbox=outbox,
        now=now,
        reporter=user.name,
        note=f"报案人 {who}：{said}" + (f"；报案人认为属{Category.label_of(view)}" if view else ""),
        details=details,
    )
    units.from_reporter(session, inc, user, now)
    if post.snapshot_id:
        evidence.attach_snapshot(session, inc, post, actor=user.name, now=now, note="报案网页快照")
    kept = (
        files.attach(
            session,
            inc,
            list(uploads),
            by=user.name,
            config=config,
            now=now,
            post=post,
            note="报案附件",
            role_checked=True,
        )
        if uploads
        else []
    )
    units.tell_report(
        session, inc, user, opened=opened, report_id=post.id, config=config, outbox=outbox
    )
    return Report(inc, opened, post, page, kept)


def _new_post(
    session, user, url, title, note, view, config, now, fetched
) -> tuple[Post, dict | None]:
    from storage.posts import store_snapshot

    extra = {
        "manual": True,
        "reported_by": user.name,
        "reporter_unit": user.unit,
        "reporter_category": view,
    }
    page: dict | None = None
    text, author, snap = note, None, None
    if url is not None:
        fr, error = fetched
        page = {"url": url, "status": fr.status if fr else None}
        if error:
            page["error"] = error
        else:
            # The page's own words are crawled text: cleaned at intake like a RawPost's.
            page_title, page_text, author = _page_text(fr)
            page_title, page_text = clean_line(page_title), clean_text(page_text)
            author = clean_line(author) or None
            title = title or page_title
            text = page_text or note
            snap = store_snapshot(session, _source(session), fr)
            page.update(
                {
                    "snapshot_id": snap.id,
                    "sha256": snap.sha256,
                    "size": snap.size,
                    "final_url": fr.final_url,
                    "truncated": fr.truncated,
                }
            )
        key = canonical(url)
    else:
        key = f"{NO_URL_PREFIX}{uuid.uuid4().hex}"
        extra["no_url"] = True
    post = Post(
        source_id=_source(session).id,
        url=key,
        original_url=url,
        title=title or key,
        text=text or "",
        author=author,
        fetched_at=now,
        published_at=None,
        snapshot_id=snap.id if snap else None,
        content_hash=hashlib.sha256(f"{title}\n{text}".encode()).hexdigest(),
        extra=extra,
    )
    session.add(post)
    session.flush()
    return post, page
