"""Unit-of-work functions for collected material: snapshots, posts, versions.
(What a run does to its source's health is ``storage.health``.)

Every write is keyed (a snapshot by its content and URL, a post by its canonical URL),
so storing the same collection twice after a crash changes nothing.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crawler.base import FetchResult, RawPost, SourceConfig
from storage.models import Match, Post, PostVersion, Snapshot, Source


def content_hash(title: str, text: str) -> str:
    return hashlib.sha256(f"{title}\n{text}".encode()).hexdigest()


def ensure_source(session: Session, cfg: SourceConfig) -> Source:
    """The Source row for a configured source (created on first sight)."""
    src = session.scalar(select(Source).where(Source.name == cfg.name))
    if src is None:
        try:
            with session.begin_nested():
                src = Source(name=cfg.name, type=cfg.type, state={})
                session.add(src)
        except IntegrityError:  # another worker created it at the same moment: use theirs
            src = session.scalar(select(Source).where(Source.name == cfg.name))
    src.type = cfg.type
    src.robots_obeyed = cfg.obey_robots
    return src


def store_snapshot(session: Session, source: Source | None, fr: FetchResult) -> Snapshot:
    """Keep one response exactly as received (compressed). The same bytes from the same
    URL are stored once; a snapshot is never modified afterwards."""
    return _store_snapshots(session, source, [fr])[(fr.sha256, fr.url)]


def snapshot_bytes(snap: Snapshot) -> bytes:
    """The body exactly as fetched (whose SHA-256 is ``snap.sha256``)."""
    return zlib.decompress(snap.body) if snap.compression == "zlib" else snap.body


@dataclass
class StoreOutcome:
    new: list[StoredPost] = field(default_factory=list)
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
    """Insert new posts, version edited ones, count unchanged ones — in a few statements
    per batch, not per post. A snapshot is kept for every new post and every edit (the
    evidence); re-reading an unchanged post keeps no new copy. ``dedup`` is a
    crawler.dedup.NearDuplicateIndex keyed by post id: a new post whose text is a
    near-copy of an earlier one is linked to the earliest (``duplicate_of_id``)."""
    from crawler.dedup import signature
    from crawler.urls import canonical

    out = StoreOutcome()
    batch: dict[str, RawPost] = {}
    for raw in raw_posts:  # the same post twice in one run (e.g. on two list pages) counts once
        batch.setdefault(canonical(raw.url), raw)
    existing: dict[str, Post] = {}
    urls = list(batch)
    for i in range(0, len(urls), 500):
        for p in session.scalars(select(Post).where(Post.url.in_(urls[i : i + 500]))):
            existing[p.url] = p

    fresh: list[tuple[str, RawPost, str, str, str]] = []  # url, raw, title, text, digest
    for url, raw in batch.items():
        title, text = (raw.title or "").strip(), (raw.text or "").strip()
        digest = content_hash(title, text)
        post = existing.get(url)
        if post is not None:
            _refresh_engagement(post, raw)
            if post.content_hash == digest:
                out.seen += 1
                continue
        fresh.append((url, raw, title, text, digest))
    if not fresh:
        return out

    snaps = _insert_snapshots(
        session, source, [raw.snapshot for _, raw, *_ in fresh if raw.snapshot]
    )
    rows: list[dict] = []  # the new posts, as plain rows: one INSERT … RETURNING for all
    for url, raw, title, text, digest in fresh:
        snap_id = snaps.get((raw.snapshot.sha256, raw.snapshot.url)) if raw.snapshot else None
        post = existing.get(url)
        if post is not None:  # an edited post: keep the old text and snapshot as a version
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
            post.snapshot_id = snap_id or post.snapshot_id
            post.updated_at = post.fetched_at = now
            session.execute(
                Match.__table__.delete().where(Match.post_id == post.id)
            )  # matched again
            out.changed.append(post)
            continue
        rows.append(
            {
                "source_id": source.id,
                "url": url,
                "original_url": raw.url if raw.url != url else None,
                "title": title,
                "text": text,
                "author": raw.author or None,
                "published_at": raw.published_at,
                "fetched_at": now,
                "updated_at": None,
                "version": 1,
                "content_hash": digest,
                "snapshot_id": snap_id,
                "replies": raw.replies,
                "views": raw.views,
                "likes": raw.likes,
                "duplicate_of_id": None,
                "extra": dict(raw.extra or {}),
                "signature": signature(f"{title}\n{text}")
                if dedup is not None and len(text) >= 20
                else None,
            }
        )
    if rows:
        session.flush()  # the edits first: the rows below may be their near-copies
        ids = _insert_returning_ids(session, Post.__table__, rows)
        _link_copies(session, ids, [r["signature"] for r in rows], dedup)
        out.new.extend(StoredPost(pid, r["url"]) for pid, r in zip(ids, rows, strict=True))
    return out


@dataclass(frozen=True)
class StoredPost:
    """A post stored new by ``store_posts`` (a plain row, not an ORM object)."""

    id: int
    url: str


def _insert_returning_ids(session: Session, table, rows: list[dict]) -> list[int]:
    """Insert ``rows`` in one statement (SQLite and PostgreSQL alike); their ids, in order."""
    stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(session.execute(stmt, rows).scalars())


def _link_copies(session: Session, ids: list[int], sigs: list, dedup) -> None:
    """Link each new post that is a near-copy of an earlier one to the earliest (its own
    origin's origin), in order, so a copy within the batch links to its original."""
    if dedup is None:
        return
    table = Post.__table__
    links: dict[int, int | None] = {}  # this batch's posts: their duplicate_of_id
    for pid, sig in zip(ids, sigs, strict=True):
        if sig is None:
            continue
        link = None
        earlier = [x for x in dedup.query(sig) if x != pid]
        if earlier:
            origin = min(earlier)
            if origin in links:
                link = links[origin] or origin
            else:
                row = session.execute(
                    select(table.c.id, table.c.duplicate_of_id).where(table.c.id == origin)
                ).first()
                link = (row.duplicate_of_id or row.id) if row is not None else None
        links[pid] = link
        dedup.add(pid, sig)
    linked = [{"pid": pid, "dup": dup} for pid, dup in links.items() if dup is not None]
    if linked:
        session.execute(
            update(table)
            .where(table.c.id == bindparam("pid"))
            .values(duplicate_of_id=bindparam("dup")),
            linked,
        )


def _insert_snapshots(session: Session, source: Source | None, results: list[FetchResult]) -> dict:
    """``_store_snapshots`` in plain rows: the ids by (content, URL), new ones inserted in
    one statement."""
    table = Snapshot.__table__
    found: dict[tuple[str, str], int] = {}
    keys = {(fr.sha256, fr.url): fr for fr in results}
    digests = list({k[0] for k in keys})
    for i in range(0, len(digests), 500):
        for sid, digest, url in session.execute(
            select(table.c.id, table.c.sha256, table.c.url).where(
                table.c.sha256.in_(digests[i : i + 500])
            )
        ):
            if (digest, url) in keys:
                found[(digest, url)] = sid
    added = [(k, fr) for k, fr in keys.items() if k not in found]
    if added:
        rows = [_snapshot_row(source, fr, digest) for (digest, _), fr in added]
        ids = _insert_returning_ids(session, table, rows)
        found.update((k, sid) for (k, _), sid in zip(added, ids, strict=True))
    return found


def _store_snapshots(session: Session, source: Source | None, results: list[FetchResult]) -> dict:
    """Store responses as fetched, once per (content, URL); returns them by that key."""
    found: dict[tuple[str, str], Snapshot] = {}
    keys = {(fr.sha256, fr.url): fr for fr in results}
    digests = list({k[0] for k in keys})
    for i in range(0, len(digests), 500):
        for snap in session.scalars(
            select(Snapshot).where(Snapshot.sha256.in_(digests[i : i + 500]))
        ):
            if (snap.sha256, snap.url) in keys:
                found[(snap.sha256, snap.url)] = snap
    added = [
        _snapshot(source, fr, digest)
        for (digest, url), fr in keys.items()
        if (digest, url) not in found
    ]
    session.add_all(added)
    session.flush()
    for snap in added:
        found[(snap.sha256, snap.url)] = snap
    return found


def _snapshot_row(source: Source | None, fr: FetchResult, digest: str) -> dict:
    return {
        "source_id": source.id if source else None,
        "url": fr.url,
        "final_url": fr.final_url,
        "status": fr.status,
        "headers": dict(fr.headers),
        "fetched_at": fr.fetched_at,
        "sha256": digest,
        "size": len(fr.body),
        "compression": "zlib",
        "body": zlib.compress(fr.body, 6),
        "truncated": fr.truncated,
        "encoding": fr.encoding,
        "decode_error": fr.decode_error,
    }


def _snapshot(source: Source | None, fr: FetchResult, digest: str) -> Snapshot:
    return Snapshot(**_snapshot_row(source, fr, digest))


def _refresh_engagement(post: Post, raw: RawPost) -> None:
    for attr in ("replies", "views", "likes"):
        value = getattr(raw, attr)
        if value is not None:
            setattr(post, attr, value)


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
