"""Unit-of-work functions for collected material: snapshots, posts, versions, health.

Every write is keyed (a snapshot by its content and URL, a post by its canonical URL),
so storing the same collection twice after a crash changes nothing.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.base import CollectResult, FetchResult, RawPost, SourceConfig
from storage.models import Match, Post, PostVersion, Snapshot, Source


def content_hash(title: str, text: str) -> str:
    return hashlib.sha256(f"{title}\n{text}".encode("utf-8")).hexdigest()


def ensure_source(session: Session, cfg: SourceConfig) -> Source:
    """The Source row for a configured source (created on first sight)."""
    src = session.scalar(select(Source).where(Source.name == cfg.name))
    if src is None:
        src = Source(name=cfg.name, type=cfg.type, state={})
        session.add(src)
        session.flush()
    src.type = cfg.type
    src.robots_obeyed = bool(getattr(cfg, "obey_robots", True))
    return src


def store_snapshot(session: Session, source: Source | None, fr: FetchResult) -> Snapshot:
    """Keep the response exactly as received (compressed). The same bytes from the same
    URL are stored once; a snapshot is never modified afterwards."""
    digest = fr.sha256
    existing = session.scalar(
        select(Snapshot).where(Snapshot.sha256 == digest, Snapshot.url == fr.url).limit(1)
    )
    if existing is not None:
        return existing
    snap = Snapshot(
        source_id=source.id if source else None,
        url=fr.url,
        final_url=fr.final_url,
        status=fr.status,
        headers=dict(fr.headers),
        fetched_at=fr.fetched_at,
        sha256=digest,
        size=len(fr.body),
        compression="zlib",
        body=zlib.compress(fr.body, 6),
        truncated=fr.truncated,
        encoding=fr.encoding,
        decode_error=fr.decode_error,
    )
    session.add(snap)
    session.flush()
    return snap


def snapshot_bytes(snap: Snapshot) -> bytes:
    """The body exactly as fetched (whose SHA-256 is ``snap.sha256``)."""
    return zlib.decompress(snap.body) if snap.compression == "zlib" else snap.body


@dataclass
class StoreOutcome:
    new: list[Post] = field(default_factory=list)
    changed: list[Post] = field(default_factory=list)
    seen: int = 0


def store_posts(
    session: Session,
    source: Source,
    raw_posts: list[RawPost],
    *,
    now: datetime,
    dedup=None,
) -> StoreOutcome:
    """Insert new posts, version edited ones, count unchanged ones. ``dedup`` is a
    crawler.dedup.NearDuplicateIndex keyed by post id: a new post whose text is a
    near-copy of an earlier one is linked to the earliest (``duplicate_of_id``)."""
    from crawler.urls import canonical

    out = StoreOutcome()
    seen_urls: set[str] = set()
    for raw in raw_posts:
        url = canonical(raw.url)
        if url in seen_urls:  # the same post twice in one run (e.g. on two list pages)
            continue
        seen_urls.add(url)
        title, text = (raw.title or "").strip(), (raw.text or "").strip()
        digest = content_hash(title, text)
        post = session.scalar(select(Post).where(Post.url == url))
        snap = store_snapshot(session, source, raw.snapshot) if raw.snapshot else None
        if post is not None:
            _refresh_engagement(post, raw)
            if post.content_hash == digest:
                out.seen += 1
                continue
            # An edited post: keep the old text and snapshot as a version, then update.
            session.add(
                PostVersion(
                    post_id=post.id,
                    version=post.version,
                    title=post.title,
                    text=post.text,
                    content_hash=post.content_hash,
                    snapshot_id=post.snapshot_id,
                    fetched_at=post.fetched_at,
                )
            )
            post.version += 1
            post.title, post.text, post.content_hash = title, text, digest
            post.snapshot_id = snap.id if snap else post.snapshot_id
            post.updated_at = now
            post.fetched_at = now
            # The matcher looks at it again.
            session.execute(Match.__table__.delete().where(Match.post_id == post.id))
            out.changed.append(post)
            continue
        post = Post(
            source_id=source.id,
            url=url,
            original_url=raw.url if raw.url != url else None,
            title=title,
            text=text,
            author=(raw.author or None),
            published_at=raw.published_at,
            fetched_at=now,
            content_hash=digest,
            snapshot_id=snap.id if snap else None,
            replies=raw.replies,
            views=raw.views,
            likes=raw.likes,
            extra=dict(raw.extra or {}),
        )
        if dedup is not None and len(text) >= 20:
            from crawler.dedup import signature

            post.signature = signature(f"{title}\n{text}")
        session.add(post)
        session.flush()
        if dedup is not None and post.signature is not None:
            earlier = [pid for pid in dedup.query(post.signature) if pid != post.id]
            if earlier:
                first = min(earlier)
                origin = session.get(Post, first)
                post.duplicate_of_id = origin.duplicate_of_id or origin.id if origin else None
            dedup.add(post.id, post.signature)
        out.new.append(post)
    return out


def _refresh_engagement(post: Post, raw: RawPost) -> None:
    for attr in ("replies", "views", "likes"):
        value = getattr(raw, attr)
        if value is not None:
            setattr(post, attr, value)


def record_health(
    session: Session, source: Source, result: CollectResult, outcome: StoreOutcome | None, now: datetime
) -> None:
    """Per-source health: last success, last error, consecutive failures, last counts."""
    source.last_run_at = now
    source.last_fetched = result.fetched
    source.last_warning = "; ".join(result.warnings)[:2000] or None
    if result.ok:
        source.last_success_at = now
        source.consecutive_failures = 0
        source.etag = result.state.etag
        source.last_modified = result.state.last_modified
        source.state = dict(result.state.data or {})
        source.last_new = len(outcome.new) + len(outcome.changed) if outcome else 0
        source.last_seen = outcome.seen if outcome else 0
        if source.last_new:
            source.last_new_at = now
    else:
        source.last_error_at = now
        source.last_error_kind = result.error_kind or "error"
        source.last_error = (result.error or "")[:2000]
        source.consecutive_failures += 1
        source.last_new = 0
        source.last_seen = 0


def load_recent_signatures(session: Session, since: datetime, dedup) -> int:
    """Prime a near-duplicate index with the signatures of recent posts."""
    n = 0
    rows = session.execute(
        select(Post.id, Post.signature).where(Post.fetched_at >= since, Post.signature.is_not(None))
    )
    for pid, sig in rows:
        dedup.add(pid, sig)
        n += 1
    return n


def recent(days: int, now: datetime) -> datetime:
    return now - timedelta(days=days)
